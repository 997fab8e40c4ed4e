"""SQL normalization: one text per query shape, so repeated statements group together.

`normalize` replaces every literal (strings, numbers, dollar-quoted strings) and
every placeholder of the DB-API paramstyles (`?`, `%s`, `%(name)s`, `:name`,
`:1`, `$1`) with `?`, collapses `IN (?, ?, ...)` lists and repeated row groups
(`VALUES (?, ?), (?, ?)`) to one, drops the type casts dialects put on
placeholders (`%(x)s::INTEGER`), drops comments, folds whitespace, writes
keywords upper-case and other unquoted names lower-case (quoted names are kept
as written). The same query with other values, another IN-list length or another
layout gives the same text. Results are cached: the hooks call it per statement.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<string>[Ee]'(?:[^'\\]|\\.|'')*(?:'|\Z)|[NnBbXx]?'(?:[^']|'')*(?:'|\Z))
    | (?P<dollar>\$(?P<tag>(?:[^\W\d]\w*)?)\$.*?\$(?P=tag)\$)
    | (?P<param>\?\d*|%\([^)]*\)s|%s|\$\d+|:\d+|:[^\W\d]\w*)
    | (?P<number>0[xX][0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<quoted>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
    | (?P<word>[^\W\d][\w$]*)
    | (?P<op>::|<=|>=|<>|!=|\|\||->>|->|%%|\S)
    """,
    re.VERBOSE | re.DOTALL,
)

_KEYWORD_LIST = """
    ADD ALL ALTER AND ANALYZE ANY AS ASC BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE
    COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT_DATE CURRENT_TIME
    CURRENT_TIMESTAMP DEFAULT DELETE DESC DISTINCT DROP ELSE END ESCAPE EXCEPT EXISTS
    EXPLAIN FALSE FETCH FOR FOREIGN FROM FULL GROUP HAVING ILIKE IN INNER INSERT INTERSECT
    INTO IS ISNULL JOIN LATERAL LEFT LIKE LIMIT NATURAL NOT NOTNULL NOWAIT NULL NULLS
    OFFSET ON OR ORDER OUTER OVER PARTITION PRAGMA PRIMARY RECURSIVE REFERENCES RELEASE
    RETURNING RIGHT ROLLBACK SAVEPOINT SELECT SET TABLE THEN TRANSACTION TRUE UNION UNIQUE
    UPDATE USING VALUES WHEN WHERE WINDOW WITH
"""
KEYWORDS = frozenset(_KEYWORD_LIST.split())

# a `(` after these tokens is a list or a subquery, not a function call: keep a space
_SPACE_BEFORE_PAREN_AFTER = frozenset({"INTO", "TABLE"})
_NO_SPACE_BEFORE = frozenset({")", ",", ".", ";", "[", "]", "::"})
_NO_SPACE_AFTER = frozenset({"(", ".", "[", "::"})
# the sign of a number after these is unary (`= -5`, `(-5`, `, +5`), not arithmetic
_NOT_AN_OPERAND = frozenset({")", "]"})

# a type cast the driver's dialect puts on a placeholder (psycopg: `%(x)s::INTEGER`)
_VALUE_CAST = re.compile(
    r"\?::[\w.\"]+(?: (?:WITH|without) time zone| precision| varying)?(?:\([^)]*\))?(?:\[\])*"
)
_ROW_GROUPS = re.compile(r"\((\?(?:, \?)*)\)(?:, \(\1\))+")
_IN_LIST = re.compile(r"\bIN \(\?(?:, \?)+\)")

_VALUE_KINDS = frozenset({"string", "dollar", "param", "number"})


@lru_cache(maxsize=8192)
def normalize(statement: str) -> str:
    """The statement with values replaced by `?` and layout and case folded."""
    out: list[str] = []  # normalized tokens
    kinds: list[str] = []  # "value", "keyword", "name", "op" per token of `out`
    for match in _TOKEN.finditer(statement):
        kind = match.lastgroup
        text = match.group()
        if kind in ("space", "comment"):
            continue
        if kind in _VALUE_KINDS:
            _drop_unary_sign(out, kinds)
            out.append("?")
            kinds.append("value")
        elif kind == "word":
            upper = text.upper()
            if upper in KEYWORDS:
                out.append(upper)
                kinds.append("keyword")
            else:
                out.append(text.lower())
                kinds.append("name")
        elif kind == "quoted":
            out.append(text)
            kinds.append("name")
        else:  # op ("tag" never is the last group: "dollar" encloses it)
            out.append("%" if text == "%%" else text)
            kinds.append("op")
    while out and out[-1] == ";":
        out.pop()
        kinds.pop()
    text = _VALUE_CAST.sub("?", _join(out, kinds))
    text = _ROW_GROUPS.sub(r"(\1)", text)
    return _IN_LIST.sub("IN (?)", text)


def _drop_unary_sign(out: list[str], kinds: list[str]) -> None:
    if not out or out[-1] not in ("-", "+"):
        return
    before = len(out) - 2
    if (
        before < 0
        or kinds[before] == "keyword"
        or (kinds[before] == "op" and out[before] not in _NOT_AN_OPERAND)
    ):
        out.pop()
        kinds.pop()


def _join(tokens: list[str], kinds: list[str]) -> str:
    parts: list[str] = []
    for index, token in enumerate(tokens):
        if index:
            previous = tokens[index - 1]
            if not (
                token in _NO_SPACE_BEFORE
                or previous in _NO_SPACE_AFTER
                or (token == "(" and _is_call(tokens, kinds, index))
            ):
                parts.append(" ")
        parts.append(token)
    return "".join(parts)


def _is_call(tokens: list[str], kinds: list[str], paren: int) -> bool:
    """`name(`: a function call (no space), unless the (dotted) name follows INTO or TABLE."""
    start = paren - 1
    if kinds[start] != "name":
        return False
    while start >= 2 and tokens[start - 1] == "." and kinds[start - 2] == "name":
        start -= 2
    return start == 0 or tokens[start - 1] not in _SPACE_BEFORE_PAREN_AFTER


def is_select(normalized: str) -> bool:
    """Whether a normalized statement reads rows (a SELECT, or a WITH ending in one)."""
    head = normalized.lstrip("(").split(" ", 1)[0]
    if head == "SELECT":
        return True
    if head == "WITH":
        return not any(verb in normalized for verb in ("INSERT INTO ", "UPDATE ", "DELETE FROM "))
    return False
