"""FAA3xx (injection): SQL assembled from strings instead of bound parameters."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi_architect.model.astutil import argument, body_nodes, last_name, parameters
from fastapi_architect.model.callgraph import CallSite
from fastapi_architect.model.calls import passed_arguments, spreads
from fastapi_architect.model.dependencies import param_sites, resolve_target
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.types import infer_type, resolve_callee, unwrap_annotation
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.index import FunctionCache
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._callsites import callers_of
from fastapi_architect.review.rules._orm import (
    TEXT_FUNCTIONS,
    FunctionFacts,
    OrmState,
    is_test_module,
    state,
)

# Methods that run the SQL string they get. For most of them the string must also look
# like SQL (the receiver's type is often unknown); `exec_driver_sql`/`executescript`
# only ever take SQL.
_METHOD_SINKS = frozenset(
    {
        "execute",
        "executemany",
        "execute_many",
        "exec_driver_sql",
        "executescript",
        "fetch",
        "fetchrow",
        "fetchval",
        "fetch_all",
        "fetch_one",
        "fetch_val",
        "iterate",
    }
)
_RAW_SQL_METHODS = frozenset({"exec_driver_sql", "executescript"})
_FUNCTION_SINKS = frozenset(
    {
        "pandas.read_sql",
        "pandas.read_sql_query",
        "pandas.io.sql.read_sql",
        "pandas.io.sql.read_sql_query",
    }
)
_SINK_NAMES = frozenset({"text", "read_sql", "read_sql_query"})
_SQL_START = re.compile(
    r"^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER|TRUNCATE|MERGE|REPLACE|"
    r"UPSERT|GRANT|REVOKE|CALL|EXEC|EXECUTE|EXPLAIN|PRAGMA|SET|SHOW|DESCRIBE|VACUUM|ANALYZE|"
    r"COPY|LOCK|REFRESH|COMMENT)\b",
    re.IGNORECASE,
)
_SQL_INSIDE = re.compile(
    r"\b(SELECT\b[\s\S]+\bFROM|INSERT\s+INTO|UPDATE\b[\s\S]+\bSET|DELETE\s+FROM|"
    r"WHERE\b|ORDER\s+BY|GROUP\s+BY|VALUES\s*\(|JOIN\b)",
    re.IGNORECASE,
)
# Values that cannot carry SQL: numbers, booleans, dates, UUIDs, enums, literals.
_SAFE_TYPES = frozenset(
    {
        "int",
        "float",
        "bool",
        "complex",
        "decimal.Decimal",
        "uuid.UUID",
        "datetime.datetime",
        "datetime.date",
        "datetime.time",
        "datetime.timedelta",
        "pydantic.PositiveInt",
        "pydantic.NegativeInt",
        "pydantic.NonNegativeInt",
        "pydantic.NonPositiveInt",
        "pydantic.PositiveFloat",
        "pydantic.NonNegativeFloat",
        "pydantic.StrictInt",
        "pydantic.StrictFloat",
        "pydantic.StrictBool",
        "pydantic.UUID1",
        "pydantic.UUID3",
        "pydantic.UUID4",
        "pydantic.UUID5",
        "pydantic.types.PositiveInt",
        "pydantic.types.NonNegativeInt",
        "pydantic.types.StrictInt",
        "pydantic.types.UUID4",
    }
)
_ENUMS = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})
_LITERAL = frozenset({"typing.Literal", "typing_extensions.Literal"})
_MAPPED = frozenset({"sqlalchemy.orm.Mapped", "sqlalchemy.orm.base.Mapped"})
_SAFE_COLLECTIONS = frozenset(
    {
        "list",
        "set",
        "frozenset",
        "tuple",
        "typing.List",
        "typing.Set",
        "typing.Tuple",
        "typing.FrozenSet",
        "typing.Sequence",
        "typing.Iterable",
        "collections.abc.Sequence",
        "collections.abc.Iterable",
        "collections.abc.Set",
    }
)
# Calls whose result cannot carry SQL whatever their argument.
_CASTS = frozenset(
    {"int", "float", "len", "bool", "abs", "round", "hash", "ord", "id", "hex", "oct", "bin"}
)
# Quoting helpers: their job is to make the value safe in SQL.
_QUOTERS = frozenset(
    {
        "quote",
        "quote_identifier",
        "quote_ident",
        "quote_name",
        "quote_literal",
        "escape",
        "escape_string",
        "escape_identifier",
        "literal",
    }
)
# Methods of SQLAlchemy's `dialect.identifier_preparer` that return the name of a schema
# object (a `Table`, a `Column`, ...) quoted for the dialect: `preparer.format_table(t)`.
_PREPARER_QUOTERS = frozenset(
    {
        "format_table",
        "format_column",
        "format_schema",
        "format_index",
        "format_constraint",
        "format_sequence",
        "format_alias",
        "format_label",
        "quote_schema",
    }
)
# str methods that keep a safe value safe.
_STR_METHODS = frozenset(
    {
        "upper",
        "lower",
        "strip",
        "lstrip",
        "rstrip",
        "title",
        "casefold",
        "capitalize",
        "isoformat",
        "hex",
    }
)
_SPEC_TYPES = frozenset("bcdeEfFgGnoxX%")
# Identifiers that come from the code's own schema, not from data.
_SCHEMA_DUNDERS = frozenset({"__tablename__", "__name__", "__qualname__"})
# SQLAlchemy schema classes (by last name): the names of their objects are identifiers
# the code, or the database's own catalog, defines.
_SCHEMA_CLASSES = frozenset(
    {
        "Table",
        "TableClause",
        "FromClause",
        "Column",
        "ColumnClause",
        "ColumnElement",
        "KeyedColumnElement",
        "NamedColumn",
        "InstrumentedAttribute",
        "QueryableAttribute",
        "MetaData",
        "Mapper",
        "SchemaItem",
        "Constraint",
        "ColumnCollectionConstraint",
        "ForeignKeyConstraint",
        "PrimaryKeyConstraint",
        "UniqueConstraint",
        "CheckConstraint",
        "ForeignKey",
        "Index",
        "Sequence",
        "Identity",
        "Computed",
    }
)
# Attributes of a schema object that give schema objects, or collections of them:
# `fk.referred_table`, `table.columns`, `table.primary_key.columns`, `metadata.tables`.
_SCHEMA_LINKS = frozenset(
    {
        "table",
        "referred_table",
        "parent",
        "column",
        "columns",
        "c",
        "primary_key",
        "foreign_keys",
        "foreign_key_constraints",
        "constraints",
        "indexes",
        "elements",
        "tables",
        "sorted_tables",
        "metadata",
    }
)
# Attributes of a schema object that give one of its names.
_SCHEMA_NAMES = frozenset({"name", "key", "fullname", "schema"})
# Annotations of collections whose (last) type argument is the element (or value) type.
_CONTAINERS = _SAFE_COLLECTIONS | frozenset(
    {
        "dict",
        "typing.Dict",
        "typing.Mapping",
        "typing.MutableMapping",
        "typing.Iterator",
        "typing.Collection",
        "collections.abc.Mapping",
        "collections.abc.MutableMapping",
        "collections.abc.Iterator",
        "collections.abc.Collection",
    }
)
# Builtins that give the elements of their one argument, reordered or copied.
_SAME_ELEMENTS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed"})
_MAX_DEPTH = 12
_MAX_KEY_DEPTH = 30


@dataclass
class _Built:
    """What the analysis of a string expression found."""

    literal: list[str] = field(default_factory=list)  # text of the constant parts
    unsafe: list[ast.expr] = field(default_factory=list)  # interpolated values
    how: list[str] = field(default_factory=list)  # "an f-string", "`%` formatting", ...
    via: tuple[str, int] | None = None  # (variable, line) when built in a variable first

    def add(self, other: _Built) -> None:
        self.literal.extend(other.literal)
        self.unsafe.extend(other.unsafe)
        for how in other.how:
            if how not in self.how:
                self.how.append(how)
        if self.via is None:
            self.via = other.via


@dataclass
class _Keys:
    """Where `key_only` found keys and identifiers pasted into SQL."""

    kinds: list[str] = field(default_factory=list)  # "a key in a quoted JSON path", ...
    names: list[str] = field(default_factory=list)  # the pasted values, as shown
    ok: bool = True  # for a memoized helper: are its returns keys only?

    def merge(self, other: _Keys) -> None:
        for kind in other.kinds:
            if kind not in self.kinds:
                self.kinds.append(kind)
        for name in other.names:
            if name not in self.names:
                self.names.append(name)


@dataclass
class _Stores:
    """What a function puts into its local containers, by the container's name."""

    values: dict[str, list[ast.expr]] = field(default_factory=dict)  # stored keys and values
    replaced: set[str] = field(default_factory=set)  # stored other than by `.append()` & co
    unknown: set[str] = field(default_factory=set)  # stored by unpacking, as a loop target...
    lines: dict[str, list[int]] = field(default_factory=dict)  # where each store is

    def add(self, name: str, stored: list[ast.expr], replaced: bool, line: int) -> None:
        self.values.setdefault(name, []).extend(stored)
        self.lines.setdefault(name, []).append(line)
        if replaced:
            self.replaced.add(name)

    def forget(self, name: str, line: int) -> None:
        """A store into `name` that cannot be told."""
        self.unknown.add(name)
        self.lines.setdefault(name, []).append(line)


# Per-function tables of the analysis, kept with the run's model (`review/index.py`).
_COMPREHENSIONS: FunctionCache[dict[str, list[ast.comprehension]]] = FunctionCache()
_PATTERN_CHECKED: FunctionCache[frozenset[str]] = FunctionCache()
_SHARED_NAMES: FunctionCache[frozenset[str]] = FunctionCache()


class Analysis:
    def __init__(self, st: OrmState, module: Module, fn: Function | None) -> None:
        self.st = st
        self.project: Project = st.project
        self.module = module
        self.fn = fn
        self.facts: FunctionFacts | None = st.facts_of(fn) if fn is not None else None

    # ----------------------------------------------------------- string building

    def built(
        self,
        expr: ast.expr,
        depth: int = 0,
        seen: frozenset[str] = frozenset(),
        safe_names: frozenset[str] = frozenset(),
    ) -> _Built | None:
        """How a string expression is put together, or None when it is not a string
        we can see being built (a parameter, a call result...)."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Constant):
            return _Built(literal=[expr.value]) if isinstance(expr.value, str) else None
        if isinstance(expr, ast.JoinedStr):
            out = _Built(how=["an f-string"])
            for part in expr.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    out.literal.append(part.value)
                elif (
                    isinstance(part, ast.FormattedValue)
                    and not self.safe_formatted(part, depth, safe_names)
                    and not (
                        part.conversion in (-1, ord("s"))
                        and part.format_spec is None
                        and self.escaped_literal(part.value, "".join(out.literal), depth)
                    )
                ):
                    out.unsafe.append(part.value)
            return out
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
            left = self.built(expr.left, depth + 1, seen, safe_names)
            if left is None:
                return None
            out = _Built()
            out.add(left)
            out.how.append("`%` formatting")
            values: list[ast.expr]
            if isinstance(expr.right, ast.Tuple):
                values = list(expr.right.elts)
            elif isinstance(expr.right, ast.Dict):
                values = list(expr.right.values)
            else:
                values = [expr.right]
            out.unsafe.extend(v for v in values if not self.safe(v, depth + 1, safe_names))
            return out
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            parts = flatten_add(expr)
            pieces = [self.built(p, depth + 1, seen, safe_names) for p in parts]
            if all(piece is None for piece in pieces):
                return None
            out = _Built(how=["`+` concatenation"])
            for part, piece in zip(parts, pieces, strict=True):
                if piece is not None:
                    out.add(piece)
                elif not self.safe(part, depth + 1, safe_names) and not self.escaped_literal(
                    part, "".join(out.literal), depth
                ):
                    out.unsafe.append(part)
            return out
        if isinstance(expr, ast.IfExp):
            out = _Built()
            found = False
            for branch in (expr.body, expr.orelse):
                piece = self.built(branch, depth + 1, seen, safe_names)
                if piece is not None:
                    out.add(piece)
                    found = True
                elif not self.safe(branch, depth + 1, safe_names):
                    out.unsafe.append(branch)
            return out if found else None
        if isinstance(expr, ast.Call):
            return self._built_call(expr, depth, seen, safe_names)
        if isinstance(expr, ast.Name):
            return self._built_name(expr, depth, seen, safe_names)
        return None

    def _built_call(
        self, call: ast.Call, depth: int, seen: frozenset[str], safe_names: frozenset[str]
    ) -> _Built | None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        if func.attr == "format":
            template = self.built(func.value, depth + 1, seen, safe_names)
            if template is None:
                return None
            out = _Built()
            out.add(template)
            out.how.append("`.format()`")
            values = [*call.args, *(kw.value for kw in call.keywords)]
            out.unsafe.extend(v for v in values if not self.safe(v, depth + 1, safe_names))
            return out
        if func.attr == "join" and isinstance(func.value, ast.Constant) and call.args:
            separator = func.value.value
            if not isinstance(separator, str):
                return None
            out = _Built(literal=[separator])
            iterable = call.args[0]
            elements, inner_safe = self._elements(iterable, depth, seen, safe_names)
            if elements is None:
                if not self.safe(iterable, depth + 1, safe_names):
                    out.unsafe.append(iterable)
                    out.how.append("`str.join()`")
                return out
            for element in elements:
                piece = self.built(element, depth + 1, seen, inner_safe)
                if piece is not None:
                    out.add(piece)
                elif not self.safe(element, depth + 1, inner_safe):
                    out.unsafe.append(element)
            return out
        return None

    def _elements(
        self, iterable: ast.expr, depth: int, seen: frozenset[str], safe_names: frozenset[str]
    ) -> tuple[list[ast.expr] | None, frozenset[str]]:
        """The pieces a `sep.join(...)` joins, when they are visible."""
        if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):
            return list(iterable.elts), safe_names
        if isinstance(iterable, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return [iterable.elt], self._comprehension_names(iterable, depth, safe_names)
        if (
            isinstance(iterable, ast.Name)
            and self.facts is not None
            and iterable.id in self.facts.assigns
            and iterable.id not in seen
        ):
            if iterable.id in self._stores().replaced:
                return None, safe_names  # `parts[0] = ...`: `safe` checks the stores
            out: list[ast.expr] = []
            for _node, value in self.facts.assigns[iterable.id]:
                if value is None:
                    return None, safe_names
                inner, _ = self._elements(value, depth + 1, seen | {iterable.id}, safe_names)
                if inner is None:
                    return None, safe_names
                out.extend(inner)
            out.extend(self.facts.appends.get(iterable.id, []))
            return out, safe_names
        return None, safe_names

    def _built_name(
        self, use: ast.Name, depth: int, seen: frozenset[str], safe_names: frozenset[str]
    ) -> _Built | None:
        facts = self.facts
        name = use.id
        if facts is None or name in seen:
            return None
        bindings = facts.reaching(name, use)
        if not bindings or name in facts.params:
            return None
        out = _Built()
        found = False
        for node, value in bindings:
            if isinstance(node, ast.AugAssign):
                if not isinstance(node.op, ast.Add):
                    continue
                piece = self.built(node.value, depth + 1, seen | {name}, safe_names)
                if piece is None:
                    piece = _Built(how=["`+=` concatenation"])
                    if not self.safe(node.value, depth + 1, safe_names):
                        piece.unsafe.append(node.value)
            elif value is None:
                return None
            else:
                piece = self.built(value, depth + 1, seen | {name}, safe_names)
                if piece is None:
                    # Bound to something we cannot see into: not a string built here.
                    return None
            if piece.unsafe and out.via is None:
                out.via = (name, getattr(node, "lineno", 0))
            out.add(piece)
            found = True
        return out if found else None

    # ----------------------------------------------------------- keys and identifiers

    def key_only(
        self,
        expr: ast.expr,
        keys: _Keys,
        dropped: frozenset[int] = frozenset(),
        depth: int = 0,
        seen: frozenset[str] = frozenset(),
        safe_names: frozenset[str] = frozenset(),
    ) -> bool:
        """Is every unsafe part of the string `expr` builds pasted where only a key or
        an identifier can go: a key in a quoted JSON path (`'$.{key}'`, `->>'{key}'`),
        the name of a bind parameter (`:{name}`, `%({name})s`) or a table or column
        name (`FROM {table}`)? Then no value is pasted, and bound parameters cannot help
        (a database binds values only). Parts in `dropped` (node ids) are known to be
        safe. Followed like `built`: through locals, joined lists and project helpers
        that return the string (or one element of a returned tuple). The keys found
        are added to `keys`."""
        if depth > _MAX_KEY_DEPTH:
            return False
        if id(expr) in dropped or self.safe(expr, depth, safe_names):
            return True
        if isinstance(expr, ast.IfExp):
            return all(
                self.key_only(branch, keys, dropped, depth + 1, seen, safe_names)
                for branch in (expr.body, expr.orelse)
            )
        if isinstance(expr, ast.Name):
            return self._key_name(expr, keys, dropped, depth, seen, safe_names)
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute) and func.attr == "join" and expr.args:
                if not (isinstance(func.value, ast.Constant) and isinstance(func.value.value, str)):
                    return False
                elements, inner_safe = self._elements(expr.args[0], depth, seen, safe_names)
                return elements is not None and all(
                    self.key_only(e, keys, dropped, depth + 1, seen, inner_safe) for e in elements
                )
            return self._key_return(expr, None, 0, keys, depth)
        pieces = self._pieces(expr, depth, safe_names)
        if pieces is None:
            return False
        for index, piece in enumerate(pieces):
            if isinstance(piece, str):
                continue
            hole, plain = piece
            if id(hole) in dropped:
                continue
            before = "".join(p if isinstance(p, str) else "_" for p in pieces[:index])
            after = "".join(p if isinstance(p, str) else "_" for p in pieces[index + 1 :])
            kind = self._hole_kind(hole, before, after) if plain else None
            if kind is not None:
                if kind not in keys.kinds:
                    keys.kinds.append(kind)
                if _short(hole) not in keys.names:
                    keys.names.append(_short(hole))
            elif not self.key_only(hole, keys, dropped, depth + 1, seen, safe_names):
                return False
        return True

    def _hole_kind(self, hole: ast.expr, before: str, after: str) -> str | None:
        """`_key_position`, and a column on the right of `SET col = ` (`SET {column} =
        {copy_from}`) when the pasted name says it is one or the function changes the
        schema: the values of a migration helper are bound, its names cannot be."""
        kind = _key_position(before, after)
        if (
            kind is None
            and _open_quote(before) is None
            and _SET_VALUE_BEFORE.search(before)
            and _SET_VALUE_AFTER.match(after)
        ):
            name = hole.id if isinstance(hole, ast.Name) else getattr(hole, "attr", "")
            if _COLUMN_NAME.search(name) or self._runs_ddl():
                return "a table or column name"
        return kind

    def _runs_ddl(self) -> bool:
        """Does the function hold a DDL statement (`ALTER TABLE ...`): a migration
        helper? Memoized per function."""
        fn = self.fn
        if fn is None:
            return False
        key = ("FAA307-ddl", id(fn.node))
        found = self.st.memo.get(key)
        if isinstance(found, bool):
            return found
        result = any(
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _DDL.match(node.value) is not None
            for node in body_nodes(fn.node)
        )
        self.st.memo[key] = result
        return result

    def _pieces(
        self, expr: ast.expr, depth: int, safe_names: frozenset[str]
    ) -> list[str | tuple[ast.expr, bool]] | None:
        """The parts of an f-string or a `+` concatenation in order: literal text, or
        an unsafe interpolated value with whether it is pasted as is (no `!r`, no format
        spec). Safe values read as `_`. None for any other expression."""
        out: list[str | tuple[ast.expr, bool]] = []
        literal = ""
        if isinstance(expr, ast.JoinedStr):
            for part in expr.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    out.append(part.value)
                    literal += part.value
                elif isinstance(part, ast.FormattedValue):
                    plain = part.conversion in (-1, ord("s")) and part.format_spec is None
                    if self.safe_formatted(part, depth, safe_names) or (
                        plain and self.escaped_literal(part.value, literal, depth)
                    ):
                        out.append("_")
                    else:
                        out.append((part.value, plain))
            return out
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            for part in flatten_add(expr):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    out.append(part.value)
                    literal += part.value
                elif isinstance(part, ast.JoinedStr):
                    inner = self._pieces(part, depth + 1, safe_names)
                    if inner is None:
                        return None
                    out.extend(inner)
                    literal += "".join(p for p in inner if isinstance(p, str))
                elif self.safe(part, depth + 1, safe_names) or self.escaped_literal(
                    part, literal, depth
                ):
                    out.append("_")
                else:
                    out.append((part, True))
            return out
        return None

    def _key_name(
        self,
        use: ast.Name,
        keys: _Keys,
        dropped: frozenset[int],
        depth: int,
        seen: frozenset[str],
        safe_names: frozenset[str],
    ) -> bool:
        facts = self.facts
        name = use.id
        if facts is None or name in seen or name in facts.params:
            return False
        bindings = facts.reaching(name, use)
        if not bindings:
            return False
        inner = seen | {name}
        for node, value in bindings:
            if isinstance(node, ast.AugAssign):
                if not isinstance(node.op, ast.Add) or not self.key_only(
                    node.value, keys, dropped, depth + 1, inner, safe_names
                ):
                    return False
            elif value is None:
                # `where, params = build_where(filters)`: the helper's returned string.
                unpacked = _unpacked_call(node, name)
                if unpacked is None or not self._key_return(*unpacked, keys, depth):
                    return False
            elif not self.key_only(value, keys, dropped, depth + 1, inner, safe_names):
                return False
        return True

    def _key_return(
        self, call: ast.Call, index: int | None, size: int, keys: _Keys, depth: int
    ) -> bool:
        """Does every `return` of the project function `call` runs give a string (the
        element `index` of a tuple of `size`) whose unsafe parts are keys only? A
        helper that calls itself (`$and`/`$or` filters) is assumed to while it is being
        checked."""
        fn = self.project.function(resolve_callee(self.project, self.module, call.func, self.fn))
        if fn is None:
            return False
        memo = ("FAA307-keys", index, size)
        key = (" ".join(str(m) for m in memo), id(fn.node))
        found = self.st.memo.get(key)
        if isinstance(found, _Keys):
            keys.merge(found)
            return found.ok
        progress = _Keys()
        self.st.memo[key] = progress  # in progress: a recursive call counts as keys only
        returns = [
            n for n in body_nodes(fn.node) if isinstance(n, ast.Return) and n.value is not None
        ]
        inner = Analysis(self.st, fn.module, fn)
        ok = bool(returns)
        for ret in returns:
            value = ret.value
            assert value is not None
            if index is not None:
                if not (isinstance(value, ast.Tuple) and len(value.elts) == size):
                    ok = False
                    break
                value = value.elts[index]
            if not inner.key_only(value, progress, depth=depth + 1):
                ok = False
                break
        progress.ok = ok
        keys.merge(progress)
        return ok

    # ----------------------------------------------------------- escaped literals

    def escaped_literal(self, value: ast.expr, before: str, depth: int = 0) -> bool:
        """Is `value` pasted inside a `'...'` SQL string literal (`before`, the SQL text
        up to it, leaves a literal open) after the standard SQL escape, every `'`
        doubled (`value.replace("'", "''")`)? Then it cannot end the literal, as
        `NOTIFY channel, '<payload>'`, which takes no bind parameters, relies on. A
        backslash can still escape a quote where backslash escapes are on: in
        `E'...'` strings, and by default on MySQL/MariaDB. There the value must have its
        backslashes doubled first, or be JSON (whose backslashes come in pairs)."""
        opening = _open_quote(before)
        if opening is None:
            return False
        backslash_escapes = (
            opening > 0
            and before[opening - 1] in "Ee"
            and (opening == 1 or not (before[opening - 2].isalnum() or before[opening - 2] == "_"))
        )
        inners = self._quote_doubled(value, depth, frozenset())
        if inners is None:
            return False
        if backslash_escapes or self._mysql():
            return all(self._backslash_free(inner) for inner in inners)
        return True

    def _quote_doubled(
        self, expr: ast.expr, depth: int, seen: frozenset[str]
    ) -> list[ast.expr] | None:
        """The strings `expr` doubles the quotes of (`text.replace("'", "''")`, directly
        or in a local every reaching binding of which does so), or None."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            facts = self.facts
            if facts is None or expr.id in seen or expr.id in facts.params:
                return None
            bindings = facts.reaching(expr.id, expr)
            out: list[ast.expr] = []
            for node, value in bindings:
                found = (
                    self._quote_doubled(value, depth + 1, seen | {expr.id})
                    if value is not None and not isinstance(node, ast.AugAssign)
                    else None
                )
                if found is None:
                    return None
                out.extend(found)
            return out or None
        if _is_replace(expr, "'", "''"):
            assert isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
            return [expr.func.value]
        return None

    def _backslash_free(self, expr: ast.expr) -> bool:
        """Can no lone backslash in `expr` precede a quote? Every backslash doubled
        first (a `.replace()` of one backslash by two), or JSON output (`json.dumps(...)`,
        `orjson.dumps(...).decode()`), whose escapes pair every backslash."""
        while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            if _is_replace(expr, "\\", "\\\\"):
                return True
            if expr.func.attr not in ("decode", "replace"):
                break
            expr = expr.func.value
        if isinstance(expr, ast.Call):
            callee = self.project.resolve(self.module, expr.func, self.fn) or ""
            return callee in _JSON_DUMPS
        return False

    def _mysql(self) -> bool:
        """Does any module of the project name MySQL or MariaDB (backslash escapes in
        string literals are on there by default)? Memoized per run."""
        key = ("FAA307-mysql", 0)
        found = self.st.memo.get(key)
        if isinstance(found, bool):
            return found
        result = any(
            word in module.source.lower()
            for module in self.project.module_list
            for word in ("mysql", "mariadb")
        )
        self.st.memo[key] = result
        return result

    # ----------------------------------------------------------- narrowing

    def _narrowed(self, name: str, use: ast.AST | None) -> bool:
        """Is `name` narrowed to literals before `use` by an `if name == "a": ...
        elif name == "b": ... else: return` chain (every test compares it with
        constants, the `else` leaves), in a block that runs on to the use, and never
        rebound?"""
        facts = self.facts
        line = getattr(use, "lineno", None)
        if facts is None or line is None or name in facts.assigns or name in facts.loop_targets:
            return False
        for chain in self._narrowing_chains().get(name, []):
            place = facts.places.get(id(chain))
            if place is not None and any(_spans(later, line) for later in place[0][place[1] + 1 :]):
                return True
        return False

    def _narrowing_chains(self) -> dict[str, list[ast.If]]:
        """The `if`/`elif` chains of the function that narrow a name to constants, by
        name (memoized per function)."""
        fn = self.fn
        if fn is None:
            return {}
        key = ("FAA307-narrowing", id(fn.node))
        found = self.st.memo.get(key)
        if isinstance(found, dict):
            return found
        ifs = [n for n in body_nodes(fn.node) if isinstance(n, ast.If)]
        elifs = {
            id(n.orelse[0]) for n in ifs if len(n.orelse) == 1 and isinstance(n.orelse[0], ast.If)
        }
        out: dict[str, list[ast.If]] = {}
        for head in ifs:
            if id(head) in elifs:
                continue
            name = _narrowing_chain(head)
            if name is not None:
                out.setdefault(name, []).append(head)
        self.st.memo[key] = out
        return out

    # ----------------------------------------------------------- allowlist checks

    def _checked(self, name: str, use: ast.AST | None) -> bool:
        """Is `name` (a value, or a list of values) checked against a fixed collection
        before `use`, by a statement that raises (or returns) otherwise, in a block that
        runs on to the use, and not rebound after the check? The statement checks it
        itself (`if f not in COLUMNS: raise`, a loop doing so for each element, `unknown
        = [f for f in fields if f not in COLUMNS]` then `if unknown: raise`) or calls a
        project function that does (`validate_fields(fields)`). Nothing may be stored
        into it after the check either (`fields.append(q)`), nor may it be rebound after
        the list of unknown elements a check tests is computed."""
        facts = self.facts
        line = getattr(use, "lineno", None)
        if facts is None or line is None or name in facts.loop_targets:
            return False
        if name not in facts.params and name not in facts.assigns:
            return False
        changed = [int(getattr(node, "lineno", 0)) for node, _value in facts.assigns.get(name, [])]
        changed += self._stores().lines.get(name, [])
        for check in self._checks().get(name, []):
            place = facts.places.get(id(check))
            start = self._check_start(check, name)
            if (
                place is not None
                and all(at < start for at in changed)
                and any(_spans(later, line) for later in place[0][place[1] + 1 :])
            ):
                return True
        return False

    def _check_start(self, check: ast.stmt, name: str) -> int:
        """The line from which `check` holds for `name`: where the locals its test reads
        (`unknown = [f for f in fields if ...]` for `if unknown: raise`) are bound."""
        facts = self.facts
        start = check.lineno
        if facts is None or not isinstance(check, ast.If):
            return start
        for node in ast.walk(check.test):
            if isinstance(node, ast.Name) and node.id != name:
                for binding, _value in facts.assigns.get(node.id, []):
                    start = min(start, int(getattr(binding, "lineno", start)))
        return start

    def _checks(self) -> dict[str, list[ast.stmt]]:
        """The statements of the function that check a name against a fixed collection,
        by name (memoized per function)."""
        fn = self.fn
        if fn is None:
            return {}
        key = ("FAA307-checks", id(fn.node))
        found = self.st.memo.get(key)
        if isinstance(found, dict):
            return found
        out: dict[str, list[ast.stmt]] = {}
        self.st.memo[key] = out  # telling a fixed collection may ask about its names
        for node in body_nodes(fn.node):
            if isinstance(node, ast.stmt):
                for name in self._checked_by(node, helper=False):
                    out.setdefault(name, []).append(node)
        return out

    def _checked_by(self, stmt: ast.stmt, helper: bool) -> set[str]:
        """The names `stmt` checks against a fixed collection: it raises unless the
        value (or every element of the list) is in it. Leaving by `return` counts too,
        unless the statement is in a `helper` (its caller would run on)."""
        if isinstance(stmt, ast.If):
            if _leaves(stmt.body, helper):
                return self._failing(stmt.test)
            return set()
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            # `for f in fields: if f not in COLUMNS: raise`, the check first in the loop:
            # nothing before it skips an element (`continue`) or rebinds it.
            # A `break` stops checking the rest of the list.
            first = stmt.body[0]
            if (
                isinstance(stmt.target, ast.Name)
                and isinstance(stmt.iter, ast.Name)
                and isinstance(first, ast.If)
                and not stmt.orelse
                and not _breaks(stmt.body)
                and stmt.target.id in self._checked_by(first, helper)
            ):
                return {stmt.iter.id}
            return set()
        if isinstance(stmt, ast.Expr):
            awaited = isinstance(stmt.value, ast.Await)
            call = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
            if isinstance(call, ast.Call):
                return self._checked_by_helper(call, awaited)
        return set()

    def _failing(self, test: ast.expr) -> set[str]:
        """The names whose check fails when `test` is true: `x not in ALLOWED`,
        `not set(xs) <= set(ALLOWED)`, `not all(x in ALLOWED for x in xs)`, `any(x not
        in ALLOWED for x in xs)`, a list of the unknown elements (`unknown`, `len(unknown)
        > 0`), either of them joined by `or`."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
            return {name for value in test.values for name in self._failing(value)}
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return self._passing(test.operand)
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if (
                isinstance(op, ast.NotIn)
                and isinstance(left, ast.Name)
                and self._fixed(right, left.id)
            ):
                return {left.id}
            if (
                isinstance(op, (ast.Gt, ast.NotEq))
                and isinstance(right, ast.Constant)
                and right.value == 0
                and isinstance(left, ast.Call)
                and _is_len(left)
            ):
                return self._failing(left.args[0])  # `len(unknown) > 0`
            return set()
        if isinstance(test, ast.Call) and _is_len(test):
            return self._failing(test.args[0])
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "any":
            return self._each(test, ast.NotIn)
        unknown = self._unknown_of(test)
        if unknown is None and isinstance(test, ast.Name) and self.facts is not None:
            bindings = self.facts.assigns.get(test.id, [])
            if len(bindings) == 1 and bindings[0][1] is not None:
                unknown = self._unknown_of(bindings[0][1])
        return {unknown} if unknown is not None else set()

    def _passing(self, test: ast.expr) -> set[str]:
        """The names whose check passes when `test` is true: `x in ALLOWED`,
        `set(xs) <= set(ALLOWED)`, `set(xs).issubset(ALLOWED)`, `all(x in ALLOWED for x
        in xs)`."""
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if (
                isinstance(op, ast.In)
                and isinstance(left, ast.Name)
                and self._fixed(right, left.id)
            ):
                return {left.id}
            if isinstance(op, ast.LtE) and self._fixed(right, None):
                name = _set_of_name(left)
                return {name} if name is not None else set()
            return set()
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Attribute)
            and test.func.attr == "issubset"
            and len(test.args) == 1
            and self._fixed(test.args[0], None)
        ):
            name = _set_of_name(test.func.value)
            return {name} if name is not None else set()
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "all":
            return self._each(test, ast.In)
        return set()

    def _each(self, call: ast.Call, op: type[ast.cmpop]) -> set[str]:
        """`all(x in ALLOWED for x in xs)` (`op` In) or `any(x not in ALLOWED for x in
        xs)` (`op` NotIn): the list `xs`."""
        if len(call.args) != 1 or not isinstance(call.args[0], ast.GeneratorExp):
            return set()
        name = self._each_element(call.args[0], call.args[0].elt, op)
        return {name} if name is not None else set()

    def _each_element(
        self,
        expr: ast.ListComp | ast.SetComp | ast.GeneratorExp,
        test: ast.expr,
        op: type[ast.cmpop],
    ) -> str | None:
        """The list a one-loop comprehension over a name tests each element of with
        `element <op> ALLOWED`."""
        if len(expr.generators) != 1:
            return None
        loop = expr.generators[0]
        if not (
            isinstance(loop.target, ast.Name)
            and isinstance(loop.iter, ast.Name)
            and isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], op)
            and isinstance(test.left, ast.Name)
            and test.left.id == loop.target.id
            and self._fixed(test.comparators[0], loop.target.id)
        ):
            return None
        return loop.iter.id

    def _unknown_of(self, expr: ast.expr) -> str | None:
        """The list whose elements outside a fixed collection `expr` gives: `[f for f
        in fields if f not in ALLOWED]`, `set(fields) - set(ALLOWED)`,
        `set(fields).difference(ALLOWED)`."""
        if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            ifs = expr.generators[0].ifs if len(expr.generators) == 1 else []
            return self._each_element(expr, ifs[0], ast.NotIn) if len(ifs) == 1 else None
        if (
            isinstance(expr, ast.BinOp)
            and isinstance(expr.op, ast.Sub)
            and self._fixed(expr.right, None)
        ):
            return _set_of_name(expr.left)
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "difference"
            and len(expr.args) == 1
            and self._fixed(expr.args[0], None)
        ):
            return _set_of_name(expr.func.value)
        return None

    def _fixed(self, expr: ast.expr, element: str | None) -> bool:
        """Is `expr`, which `element` (a name, or None) is tested against, a fixed
        collection: a literal of constants (or `set(...)`, `.keys()` of one), a constant
        (`COLUMNS`, `Model.__table__.c`), or a module-level collection the function's
        facts already take as fixed for `element` (bound once at import, never
        changed)?"""
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return all(isinstance(e, ast.Constant) for e in expr.elts)
        if isinstance(expr, ast.Dict):
            return all(isinstance(k, ast.Constant) for k in expr.keys)
        if isinstance(expr, ast.Call):
            func = expr.func
            if (
                isinstance(func, ast.Name)
                and func.id in ("set", "frozenset")
                and len(expr.args) == 1
            ):
                return self._fixed(expr.args[0], element)
            if isinstance(func, ast.Attribute) and func.attr == "keys" and not expr.args:
                return self._fixed(func.value, element)
            return False
        if not isinstance(expr, (ast.Name, ast.Attribute)) or self._local_root(expr):
            return False
        root: ast.expr = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id[:1].isupper():
            return True
        return element is not None and self.facts is not None and element in self.facts.guarded

    def _checked_by_helper(self, call: ast.Call, awaited: bool) -> set[str]:
        """The names a call of a project function that returns nothing passes for the
        parameters it checks on every path (`validate_field(field)`; an `async def` one
        only runs its check when awaited)."""
        fn = self.project.function(resolve_callee(self.project, self.module, call.func, self.fn))
        if fn is None or fn is self.fn:
            return set()
        if isinstance(fn.node, ast.AsyncFunctionDef) and not awaited:
            return set()
        out: set[str] = set()
        for param in Analysis(self.st, fn.module, fn).checked_params():
            arg = argument_for(fn, call, param)
            if isinstance(arg, ast.Name):
                out.add(arg.id)
        return out

    def checked_params(self) -> frozenset[str]:
        """The parameters this function (returning nothing) checks against a fixed
        collection in a statement of its body that runs on every call: any `return`
        before it leaves only when the parameter is empty (`if not fields: return`).
        Memoized per function."""
        fn = self.fn
        facts = self.facts
        if fn is None or facts is None:
            return frozenset()
        key = ("FAA307-checked-params", id(fn.node))
        found = self.st.memo.get(key)
        if isinstance(found, frozenset):
            return found
        self.st.memo[key] = frozenset()  # a helper that calls itself checks nothing more
        result = frozenset(self._checked_on_every_call(fn, facts))
        self.st.memo[key] = result
        return result

    def _checked_on_every_call(self, fn: Function, facts: FunctionFacts) -> set[str]:
        out: set[str] = set()
        eligible = {name for name in facts.params if name not in facts.assigns}
        if any(
            isinstance(n, (ast.Yield, ast.YieldFrom))
            or (
                isinstance(n, ast.Return)
                and not _returns_none(n)
                # `return name` after the check: the checked value itself comes back
                and not (isinstance(n.value, ast.Name) and n.value.id in eligible)
            )
            for n in body_nodes(fn.node)
        ):
            return out  # it returns something: its caller may use that, not the raise
        for stmt in fn.node.body:
            out |= self._checked_by(stmt, helper=True) & eligible
            emptied = _returns_if_empty(stmt)
            if emptied is not None:
                # `if not fields: return`: the checks after it still run for `fields`
                # (an empty list has nothing to check), not for the other parameters.
                eligible &= {emptied}
            elif any(isinstance(n, ast.Return) for n in ast.walk(stmt)):
                break  # a path that leaves before the later checks
        return out

    # ----------------------------------------------------------- safe values

    def safe_formatted(
        self, part: ast.FormattedValue, depth: int, safe_names: frozenset[str]
    ) -> bool:
        spec = part.format_spec
        if isinstance(spec, ast.JoinedStr) and spec.values:
            last = spec.values[-1]
            if (
                isinstance(last, ast.Constant)
                and isinstance(last.value, str)
                and last.value[-1:] in _SPEC_TYPES
                and part.conversion == -1
            ):
                return True  # `{limit:d}`, `{price:.2f}`: formatted as a number
        return self.safe(part.value, depth + 1, safe_names)

    def safe(
        self, expr: ast.expr, depth: int = 0, safe_names: frozenset[str] = frozenset()
    ) -> bool:
        """Can this value not carry attacker-controlled SQL? Constants, module-level
        configuration, numbers and enums by annotation, allowlist lookups and names
        checked against an allowlist are safe."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, ast.Constant):
            return True
        if isinstance(expr, ast.JoinedStr):
            return all(
                self.safe_formatted(v, depth + 1, safe_names)
                for v in expr.values
                if isinstance(v, ast.FormattedValue)
            )
        if isinstance(expr, ast.Name):
            return self._safe_name(expr.id, depth, safe_names, expr)
        if isinstance(expr, ast.Attribute):
            return self._safe_attribute(expr, depth, safe_names)
        if isinstance(expr, ast.Subscript):
            # `ALLOWED_COLUMNS[sort]`: a lookup in a fixed table gives one of its values;
            # so does `selected[key]` of a local dict whose every binding and store is
            # safe (`safe` of the name checks them). An attribute of a local may have
            # been filled with anything.
            if self._local_root(expr.value) and not _local_container(expr.value):
                return False
            return self.safe(expr.value, depth + 1, safe_names)
        if isinstance(expr, ast.Call):
            return self._safe_call(expr, depth, safe_names)
        if isinstance(expr, ast.BinOp):
            return self.safe(expr.left, depth + 1, safe_names) and self.safe(
                expr.right, depth + 1, safe_names
            )
        if isinstance(expr, ast.IfExp):
            return self.safe(expr.body, depth + 1, safe_names) and self.safe(
                expr.orelse, depth + 1, safe_names
            )
        if isinstance(expr, ast.BoolOp):
            return all(self.safe(v, depth + 1, safe_names) for v in expr.values)
        if isinstance(expr, ast.UnaryOp):
            return self.safe(expr.operand, depth + 1, safe_names)
        if isinstance(expr, ast.Compare):
            return True
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return all(self.safe(e, depth + 1, safe_names) for e in expr.elts)
        if isinstance(expr, ast.Dict):
            # `{"id": str(item.id), "kind": kind}` (then `json.dumps`-ed): its keys and values.
            return all(
                self.safe(e, depth + 1, safe_names)
                for e in (*expr.keys, *expr.values)
                if e is not None
            )
        if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            # `[f"id_{i}" for i in range(n)]`: the elements, with the loop variables.
            inner = self._comprehension_names(expr, depth, safe_names)
            return self.safe(expr.elt, depth + 1, inner)
        if isinstance(expr, ast.DictComp):
            # `{name: f'"{name}"' for name in names}`: its keys and values.
            inner = self._comprehension_names(expr, depth, safe_names)
            return self.safe(expr.key, depth + 1, inner) and self.safe(expr.value, depth + 1, inner)
        return False

    def _comprehension_names(
        self,
        expr: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
        depth: int,
        safe_names: frozenset[str],
    ) -> frozenset[str]:
        """`safe_names` plus the loop variables of a comprehension that cannot carry
        SQL: every variable over a safe iterable, the counters of `range()` and the
        index of `enumerate()`."""
        names = set(safe_names)
        for generator in expr.generators:
            if self.safe(generator.iter, depth + 1, frozenset(names)):
                names |= _target_names(generator.target)
            else:
                names |= _int_targets(generator.target, generator.iter)
        return frozenset(names)

    def _safe_name(
        self,
        name: str,
        depth: int,
        safe_names: frozenset[str],
        use: ast.AST | None = None,
    ) -> bool:
        if name in safe_names:
            return True
        fn = self.fn
        facts = self.facts
        if fn is None or facts is None:
            return True  # module level: configuration, not request data
        if name in facts.guarded or name in self._pattern_checked():
            return True
        if self._narrowed(name, use) or self._checked(name, use):
            return True
        if self._schema_name(name, use, depth):
            return True  # a table, a column, a constraint: its name is the code's own
        if name in facts.params:
            param = facts.params[name]
            return self._safe_annotation(fn.module, param.annotation, fn.parent)
        bindings = facts.assigns.get(name)
        if bindings is not None or name in facts.loop_targets:
            if use is not None and getattr(use, "lineno", None) is not None:
                # Only the bindings that can reach this use: a loop further down that
                # reuses the name (`for chat_id, author_id in rows`) does not.
                bindings = facts.reaching(name, use)
            for loop in self._loops_binding(name, use):
                if name in _int_targets(loop.target, loop.iter):
                    continue  # `for i, row in enumerate(rows)`: `i` is a number
                # `for column in COLUMNS`: elements of a fixed collection; so are those of
                # a local list (not a parameter) whose every binding and store is safe
                # (`indexes = ["id", "user"]`, then `for index in indexes`), which `safe`
                # of the name checks. Other local roots (`row.items`) may hold anything.
                own_list = (
                    isinstance(loop.iter, ast.Name)
                    and loop.iter.id not in facts.params
                    and not self._shared_list(loop.iter.id)
                )
                if (self._local_root(loop.iter) and not own_list) or not self.safe(
                    loop.iter, depth + 1, safe_names
                ):
                    return False
            # A rebinding that reads the name itself (`template = f"NOT {template}"`) is
            # safe when every binding is, assuming the name is.
            inductive = safe_names | {name}
            for node, value in bindings or []:
                checked = node.value if isinstance(node, ast.AugAssign) else value
                if checked is None:
                    # `method, options = self._config()`: one element of what it returns;
                    # `parent_column, key_column = parent`: one of a safe value.
                    if self._safe_unpacked(node, name, depth) or (
                        isinstance(node, ast.Assign) and self.safe(node.value, depth + 1, inductive)
                    ):
                        continue
                    return False
                if not self.safe(checked, depth + 1, inductive):
                    return False
            # What is put into the container anywhere in the function (`selected[key] =
            # value`, `names.append(name)`), whatever the order: also its content.
            stores = self._stores()
            if name in stores.unknown:
                return False
            return all(
                self.safe(stored, depth + 1, inductive) for stored in stores.values.get(name, [])
            )
        generators = self._comprehensions().get(name)
        if generators is not None:
            # A comprehension variable: the elements of its iterable, or a counter.
            return all(
                name in _int_targets(g.target, g.iter) or self.safe(g.iter, depth + 1, safe_names)
                for g in generators
            )
        outer = fn.parent
        while outer is not None:
            outer_facts = self.st.facts_of(outer)
            if name in outer_facts.params or name in outer_facts.assigns:
                return False  # a closure over the outer function's data: unknown
            outer = outer.parent
        return True  # a module-level name, an import or a builtin

    # ----------------------------------------------------------- schema objects

    def schema(
        self,
        expr: ast.expr,
        depth: int = 0,
        seen: frozenset[str] = frozenset(),
        keyed: bool = False,
    ) -> bool:
        """Is `expr` a SQLAlchemy schema object (a table, a column, a constraint...) or a
        collection of them, so that its names are identifiers the code defines? A
        parameter annotated so (`table: sa.Table`, `models: Mapping[str, sa.Table]`),
        what a project function annotated so returns, the links between schema objects
        (`fk.referred_table`, `table.columns`, `metadata.sorted_tables`), lookups and
        `.values()` of their collections, and variables bound only to such values or
        looping over such collections. An object built from a name (`sa.Table(name,
        metadata)`) is not: its name is whatever was passed. A mapping annotated so
        (`Mapping[str, sa.Table]`) counts only when `keyed`, where its values are taken
        (`models[k]`, `.values()`, `.get()`): iterating it gives its keys, any strings."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, ast.Name):
            return self._schema_name(expr.id, expr, depth, seen, keyed)
        if isinstance(expr, ast.Attribute):
            if isinstance(expr.value, ast.Attribute) and expr.value.attr in ("c", "columns"):
                return self.schema(expr.value, depth + 1, seen)  # `table.c.id`
            return expr.attr in _SCHEMA_LINKS and self.schema(expr.value, depth + 1, seen)
        if isinstance(expr, ast.Subscript):
            return self.schema(expr.value, depth + 1, seen, keyed=True)
        if not isinstance(expr, ast.Call):
            return False
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr in ("values", "get"):
            # `models.values()`; `models.get(name)` (an element, None or the default).
            defaults = expr.args[1:] if func.attr == "get" else expr.args
            return all(
                isinstance(d, ast.Constant) or self.schema(d, depth + 1, seen) for d in defaults
            ) and self.schema(func.value, depth + 1, seen, keyed=True)
        if (
            isinstance(func, ast.Name)
            and func.id in _SAME_ELEMENTS
            and not self._is_local(func.id)
            and len(expr.args) == 1
        ):
            return self.schema(expr.args[0], depth + 1, seen)
        fn = self.project.function(resolve_callee(self.project, self.module, func, self.fn))
        return fn is not None and self._schema_annotation(
            fn.module, fn.node.returns, fn.parent, keyed=keyed
        )

    def _schema_name(
        self,
        name: str,
        use: ast.AST | None,
        depth: int,
        seen: frozenset[str] = frozenset(),
        keyed: bool = False,
    ) -> bool:
        """`schema` for a variable of the function (see there); memoized per use."""
        fn = self.fn
        facts = self.facts
        if fn is None or facts is None or name in seen:
            return False
        if name in facts.params:
            if name in facts.assigns or name in facts.loop_targets:
                return False  # `table = raw`: no longer what the annotation says
            return self._schema_annotation(
                fn.module, facts.params[name].annotation, fn.parent, keyed=keyed
            )
        if (
            name not in facts.assigns
            and name not in facts.loop_targets
            and name not in self._comprehensions()
        ):
            return False
        key = (f"FAA307-schema {name} {getattr(use, 'lineno', None)} {keyed}", id(fn.node))
        found = self.st.memo.get(key)
        if isinstance(found, bool):
            return found
        self.st.memo[key] = False  # a binding that reads the name itself proves nothing
        result = self._schema_bindings(name, use, depth, seen | {name}, keyed)
        self.st.memo[key] = result
        return result

    def _schema_bindings(
        self, name: str, use: ast.AST | None, depth: int, seen: frozenset[str], keyed: bool
    ) -> bool:
        facts = self.facts
        assert facts is not None
        found = False
        for loop in self._loops_binding(name, use):
            if not (isinstance(loop.target, ast.Name) and self.schema(loop.iter, depth + 1, seen)):
                return False
            found = True
        if name in facts.assigns:
            bindings = facts.reaching(name, use) if use is not None else facts.assigns[name]
            for node, value in bindings:
                if value is None or isinstance(node, ast.AugAssign):
                    return False
                if not self.schema(value, depth + 1, seen, keyed):
                    return False
                found = True
            # `tables.append(extra)`: what is stored into it must be schema objects too.
            stores = self._stores()
            if name in stores.unknown or not all(
                isinstance(v, ast.Constant) or self.schema(v, depth + 1, seen)
                for v in stores.values.get(name, [])
            ):
                return False
        if found:
            return True
        generators = self._comprehensions().get(name, [])
        return bool(generators) and all(
            isinstance(g.target, ast.Name) and self.schema(g.iter, depth + 1, seen)
            for g in generators
        )

    def _schema_annotation(
        self,
        module: Module,
        annotation: ast.expr | None,
        scope: Function | None,
        depth: int = 0,
        keyed: bool = False,
    ) -> bool:
        """Does the annotation name a SQLAlchemy schema class, or a collection of its
        objects (`list[sa.Table]`; a mapping, `Mapping[str, sa.Table]`, only when
        `keyed`: its values are taken, not its keys)?"""
        if annotation is None or depth > 4:
            return False
        base, _, base_module = unwrap_annotation(self.project, module, annotation, scope)
        if base is None:
            return False
        if isinstance(base, ast.Subscript):
            origin = self.project.resolve(base_module, base.value) or ""
            elements = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
            elements = [e for e in elements if not (isinstance(e, ast.Constant) and e.value is ...)]
            if origin not in _SAFE_COLLECTIONS and not keyed:
                return False  # iterating a mapping gives its keys
            return (
                origin in _CONTAINERS
                and bool(elements)
                and self._schema_annotation(base_module, elements[-1], None, depth + 1)
            )
        qualname = self.project.resolve(base_module, base, scope if base_module is module else None)
        return (
            qualname is not None
            and qualname.startswith("sqlalchemy.")
            and last_name(qualname) in _SCHEMA_CLASSES
        )

    def _shared_list(self, name: str) -> bool:
        """Can the local list `name` be filled other than by the function's own
        statements, which `safe` of the name checks? It can unless every read of it is
        a loop over it, a test (`if cols`, `"c" in cols`), an item (`cols[0]`), a method
        call other than a dunder (`cols.append(x)`, a store `_stores` follows) or an
        argument of a read-only builtin (`len(cols)`, `", ".join(cols)`): passed to a
        helper (`add_extra(cols, extra)`), kept in a container (`{"c": cols}`), bound
        to another name (`add = cols.append`) or used by a nested function, it may be
        filled there (memoized per function)."""
        fn = self.fn
        if fn is None:
            return True
        return name in _SHARED_NAMES.get(self.st.model, fn, lambda: _shared_names(fn))

    def _loops_binding(self, name: str, use: ast.AST | None) -> list[ast.For | ast.AsyncFor]:
        """The `for` loops of the function that bind `name` and can reach `use`: those
        that start before it, or around it, or after it inside a loop around both."""
        facts = self.facts
        if facts is None or name not in facts.loop_targets:
            return []
        loops = [
            loop
            for loop in facts.loops
            if isinstance(loop, (ast.For, ast.AsyncFor)) and name in _target_names(loop.target)
        ]
        line = getattr(use, "lineno", None)
        if line is None:
            return loops
        return [
            loop
            for loop in loops
            if loop.lineno <= line
            or any(_spans(outer, line) and _spans(outer, loop.lineno) for outer in facts.loops)
        ]

    def _comprehensions(self) -> dict[str, list[ast.comprehension]]:
        """The comprehension loops of the function, by the variables they bind
        (memoized per function)."""
        fn = self.fn
        if fn is None:
            return {}

        def build() -> dict[str, list[ast.comprehension]]:
            out: dict[str, list[ast.comprehension]] = {}
            for node in body_nodes(fn.node):
                if isinstance(node, ast.comprehension):
                    for name in _target_names(node.target):
                        out.setdefault(name, []).append(node)
            return out

        return _COMPREHENSIONS.get(self.st.model, fn, build)

    def _stores(self) -> _Stores:
        """What the function stores into its locals' content: item and attribute
        assignments (`selected[key] = value`, also `parts["where"][0] = ...`) and the
        arguments of methods that add (`.append()`, `.update()`, `.setdefault()`...);
        a store that cannot be told (an unpacking or loop target) marks the name
        unknown. Memoized per function."""
        fn = self.fn
        if fn is None:
            return _Stores()
        key = ("FAA307-stores", id(fn.node))
        found = self.st.memo.get(key)
        if isinstance(found, _Stores):
            return found
        out = _Stores()
        told: set[int] = set()
        for node in body_nodes(fn.node):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    root = _container_root(target)
                    if root is not None and node.value is not None:
                        told.add(id(target))
                        out.add(root, [*_slices(target), node.value], True, node.lineno)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _ADDING_METHODS
            ):
                receiver = node.func.value
                # `parts.setdefault("where", []).append(x)` fills `parts` too.
                root = _store_root(receiver)
                if root is not None:
                    stored = [*_slices(receiver), *node.args, *(k.value for k in node.keywords)]
                    # `_elements` follows a plain `name.append(x)` itself (facts.appends).
                    plain = isinstance(receiver, ast.Name) and node.func.attr in _APPENDS
                    out.add(root, stored, not plain, node.lineno)
        for node in body_nodes(fn.node):
            if (
                isinstance(node, (ast.Subscript, ast.Attribute))
                and isinstance(node.ctx, ast.Store)
                and id(node) not in told
            ):
                root = _container_root(node)
                if root is not None:
                    out.forget(root, node.lineno)
        self._aliases_filled(out)
        self.st.memo[key] = out
        return out

    def _aliases_filled(self, stores: _Stores) -> None:
        """A local bound to another local's container, or to an item of it (`alias =
        clauses`, `where = parts["where"]`), shares its content: a store into the alias
        fills the other one in a way `_stores` cannot follow, so its content is unknown."""
        facts = self.facts
        if facts is None:
            return
        for _ in range(3):  # an alias of an alias
            changed = False
            for alias, bindings in facts.assigns.items():
                filled = stores.lines.get(alias) or facts.appends.get(alias)
                if not filled:
                    continue
                for node, value in bindings:
                    root = _store_root(value) if value is not None else None
                    if root is None or root == alias or not self._is_local(root):
                        continue
                    if root not in stores.unknown:
                        changed = True
                    for line in stores.lines.get(alias) or [getattr(node, "lineno", 0)]:
                        stores.forget(root, line)
            if not changed:
                return

    def _pattern_checked(self) -> frozenset[str]:
        """Names the function checks against a strict pattern of identifier characters
        (`if not KEY_RE.fullmatch(key): raise ...`), like an allowlist (memoized)."""
        fn = self.fn
        if fn is None:
            return frozenset()

        def build() -> frozenset[str]:
            names: set[str] = set()
            for node in body_nodes(fn.node):
                if isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)):
                    for inner in ast.walk(node.test):
                        if isinstance(inner, ast.Call):
                            checked = self._strict_match(inner)
                            if checked is not None:
                                names.add(checked)
            return frozenset(names)

        return _PATTERN_CHECKED.get(self.st.model, fn, build)

    def _strict_match(self, call: ast.Call) -> str | None:
        """The name `PATTERN.fullmatch(name)` / `re.fullmatch(r"...", name)` (or an
        anchored `match`/`search`) checks, when the pattern admits only letters, digits,
        `_` and `.`: nothing that can end a literal or add to a statement."""
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in ("fullmatch", "match", "search"):
            return None
        resolved = self.project.resolve(self.module, func, self.fn)
        pattern: ast.expr | None
        if resolved in ("re.fullmatch", "re.match", "re.search"):
            if len(call.args) < 2:
                return None
            pattern, subject = call.args[0], call.args[1]
        elif len(call.args) == 1:
            pattern, subject = self._compiled_pattern(func.value), call.args[0]
        else:
            return None
        if not isinstance(subject, ast.Name):
            return None
        text = self._pattern_text(pattern)
        if text is None or not _strict_pattern(text, func.attr):
            return None
        return subject.id

    def _compiled_pattern(self, expr: ast.expr) -> ast.expr | None:
        """The pattern argument of the `re.compile(...)` a module-level name is bound to."""
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return None
        if isinstance(expr, ast.Name) and self._is_local(expr.id):
            return None
        found = self.project.module_value(self.project.resolve(self.module, expr, self.fn))
        if found is None:
            return None
        module, value = found
        if (
            isinstance(value, ast.Call)
            and value.args
            and self.project.resolve(module, value.func) == "re.compile"
        ):
            return value.args[0]
        return None

    def _pattern_text(self, expr: ast.expr | None) -> str | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        if isinstance(expr, ast.Name) and not self._is_local(expr.id):
            found = self.project.module_value(self.project.resolve(self.module, expr, self.fn))
            if found is not None:
                value = found[1]
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return value.value
        return None

    def _safe_attribute(self, expr: ast.Attribute, depth: int, safe_names: frozenset[str]) -> bool:
        if expr.attr in _SCHEMA_DUNDERS:
            return True  # `column.class_.__tablename__`: a name the code defines
        root: ast.expr = expr
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if (
            isinstance(root, ast.Name)
            and root.id not in safe_names
            and self._is_local(root.id)
            and self._schema_name(root.id, root, depth + 1, keyed=True)
        ):
            # Of a schema object only its names are the code's own: not `expr.value` of
            # a column element, nor a column's `comment`.
            return expr.attr in _SCHEMA_NAMES and self.schema(expr.value, depth + 1)
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            # `copy_order(metadata)[0].name`: a name of a schema object a helper returns.
            return self.safe(root, depth + 1, safe_names) or (
                expr.attr in _SCHEMA_NAMES and self.schema(expr.value, depth + 1)
            )
        if root.id in ("self", "cls"):
            return True  # the object's own configuration (table names and the like)
        if self._safe_name(root.id, depth + 1, safe_names, root):
            # Module-level configuration (`settings.SCHEMA`, `Book.__tablename__`), or an
            # attribute of a safe local (`direction.value` of an enum parameter).
            return True
        if isinstance(expr.value, ast.Name):
            owner = infer_type(self.project, self.module, expr.value, self.fn)
            return self._safe_field(owner, expr.attr) or _literal_property(
                self.project, owner, expr.attr
            )
        return False

    def _local_root(self, expr: ast.expr) -> bool:
        while isinstance(expr, (ast.Attribute, ast.Subscript)):
            expr = expr.value
        return isinstance(expr, ast.Name) and self._is_local(expr.id)

    def _is_local(self, name: str) -> bool:
        facts = self.facts
        return facts is not None and (
            name in facts.params or name in facts.assigns or name in facts.loop_targets
        )

    def _safe_unpacked(self, node: ast.AST, name: str, depth: int) -> bool:
        """`a, b = self._config()`: is the element bound to `name` safe in every
        `return` of the called project function?"""
        unpacked = _unpacked_call(node, name)
        return unpacked is not None and self._safe_return(*unpacked, depth)

    def _safe_return(
        self,
        call: ast.Call,
        index: int | None,
        size: int,
        depth: int,
        safe_names: frozenset[str] = frozenset(),
    ) -> bool:
        """A call of a project function (or method) whose every `return` gives a safe
        value (the element `index` of a returned tuple of `size` elements), its
        parameters being safe where this call passes safe arguments: the result cannot
        carry caller data (`where, params = build_where(filters)` when the helper puts
        only validated keys and placeholder names in `where`)."""
        if depth > _MAX_DEPTH:
            return False
        if any(isinstance(a, ast.Starred) for a in call.args) or any(
            kw.arg is None for kw in call.keywords
        ):
            return False
        fn = self.project.function(resolve_callee(self.project, self.module, call.func, self.fn))
        if fn is None or fn is self.fn:
            return False
        passed: set[str] = set()
        for param, _default in parameters(fn.node):
            arg = argument_for(fn, call, param.arg)
            if arg is not None and self.safe(arg, depth + 1, safe_names):
                passed.add(param.arg)
        key = (f"FAA307-return {index} {size} {depth} {' '.join(sorted(passed))}", id(fn.node))
        found = self.st.memo.get(key)
        if isinstance(found, bool):
            return found
        self.st.memo[key] = False  # a recursive helper is not followed into itself
        result = self._returns_safe(fn, index, size, depth, frozenset(passed))
        self.st.memo[key] = result
        return result

    def _returns_safe(
        self, fn: Function, index: int | None, size: int, depth: int, passed: frozenset[str]
    ) -> bool:
        returns = [
            n for n in body_nodes(fn.node) if isinstance(n, ast.Return) and n.value is not None
        ]
        if not returns:
            return False
        inner = Analysis(self.st, fn.module, fn)
        for ret in returns:
            value = ret.value
            assert value is not None
            if index is not None:
                if not (isinstance(value, ast.Tuple) and len(value.elts) == size):
                    return False
                value = value.elts[index]
            if not inner.safe(value, depth + 1, passed):
                return False
        return True

    def _safe_call(self, call: ast.Call, depth: int, safe_names: frozenset[str]) -> bool:
        func = call.func
        if self._safe_return(call, None, 0, depth, safe_names):
            return True  # `self._method()` built from literals, configuration and arguments
        if isinstance(func, ast.Name) and func.id in _CASTS and not self._is_local(func.id):
            return True
        if isinstance(func, (ast.Name, ast.Attribute)):
            name = last_name(self.project.resolve(self.module, func, self.fn) or "")
            if name in _QUOTERS or (isinstance(func, ast.Attribute) and func.attr in _QUOTERS):
                return True
        if isinstance(func, ast.Attribute) and func.attr in _PREPARER_QUOTERS:
            callee = resolve_callee(self.project, self.module, func, self.fn)
            if self.project.function(callee) is None:
                return True  # `preparer.format_table(table)`: a quoted identifier
        if isinstance(func, ast.Attribute):
            if func.attr == "join" and isinstance(func.value, ast.Constant) and call.args:
                elements, inner_safe = self._elements(call.args[0], depth, frozenset(), safe_names)
                if elements is None:
                    return self.safe(call.args[0], depth + 1, safe_names)
                return all(self.safe(e, depth + 1, inner_safe) for e in elements)
            if not self.safe(func.value, depth + 1, safe_names):
                return False
            if (
                func.attr == "get"
                and call.args
                and (not self._local_root(func.value) or _local_container(func.value))
            ):
                # `SORT_COLUMNS.get(sort, "title")`: a value of a fixed table (or of a
                # safe local dict), or the default; the key only selects.
                return all(self.safe(a, depth + 1, safe_names) for a in call.args[1:])
        args = [*call.args, *(kw.value for kw in call.keywords)]
        return all(
            self.safe(a, depth + 1, safe_names) for a in args if not isinstance(a, ast.Starred)
        )

    def _safe_annotation(
        self, module: Module, annotation: ast.expr | None, scope: Function | None, depth: int = 0
    ) -> bool:
        if annotation is None or depth > 4:
            return False
        base, _, base_module = unwrap_annotation(self.project, module, annotation, scope)
        if base is None:
            return False
        if isinstance(base, ast.Subscript):
            origin = self.project.resolve(base_module, base.value) or ""
            elements = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
            if origin in _LITERAL:
                return True
            if origin in _MAPPED or origin in _SAFE_COLLECTIONS:
                return all(
                    self._safe_annotation(base_module, e, None, depth + 1)
                    for e in elements
                    if not (isinstance(e, ast.Constant) and e.value is ...)
                )
            return False
        qualname = self.project.resolve(base_module, base)
        return self._safe_type(qualname)

    def _safe_type(self, qualname: str | None) -> bool:
        if qualname is None:
            return False
        if qualname in _SAFE_TYPES:
            return True
        if self.project.class_(qualname) is not None:
            return any(name in _ENUMS for name in self.project.mro(qualname))
        return False

    def _safe_field(self, owner: str | None, attr: str) -> bool:
        """`payload.limit` where the model declares `limit: int`."""
        if owner is None or self.project.class_(owner) is None:
            return False
        for cls_name in self.project.mro(owner):
            cls = self.project.class_(cls_name)
            if cls is None:
                continue
            for stmt in cls.node.body:
                if (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and stmt.target.id == attr
                ):
                    return self._safe_annotation(cls.module, stmt.annotation, None)
        return False

    # ----------------------------------------------------------- route parameters

    def route_params(self, values: list[ast.expr]) -> list[str]:
        """Request parameters of the enclosing path operation (or dependency) that flow
        into `values`, directly or through its locals. Parameters filled by dependency
        functions (the current user, a session) are not request data."""
        fn = self.fn
        if fn is None or self.facts is None:
            return []
        if not self.st.model.routes_of(fn) and not self.st.model.is_dependency(fn):
            return []
        params = set(self.facts.params)
        for site in param_sites(self.project, fn):
            target = resolve_target(self.project, site)
            if (
                target is not None
                and target.function is not None
                and (self.project.class_(target.qualname) is None)
            ):
                params.discard(site.param or "")
        found: list[str] = []
        todo = list(values)
        seen: set[str] = set()
        while todo:
            expr = todo.pop()
            for node in ast.walk(expr):
                if not isinstance(node, ast.Name) or node.id in seen:
                    continue
                seen.add(node.id)
                if node.id in params:
                    found.append(node.id)
                for binding, value in self.facts.assigns.get(node.id, []):
                    if isinstance(binding, ast.AugAssign):
                        todo.append(binding.value)
                    elif value is not None:
                        todo.append(value)
                todo.extend(g.iter for g in self._comprehensions().get(node.id, []))
        return sorted(found)

    # ----------------------------------------------------------- callers

    def param_roots(self, expr: ast.expr) -> set[str]:
        """The parameters of the function a value is computed from (through locals)."""
        facts = self.facts
        if facts is None:
            return set()
        found: set[str] = set()
        todo = [expr]
        seen: set[str] = set()
        while todo:
            for node in ast.walk(todo.pop()):
                if not isinstance(node, ast.Name) or node.id in seen:
                    continue
                seen.add(node.id)
                if node.id in facts.params:
                    found.add(node.id)
                for binding, value in facts.assigns.get(node.id, []):
                    if isinstance(binding, ast.AugAssign):
                        todo.append(binding.value)
                    elif value is not None:
                        todo.append(value)
                todo.extend(facts.loop_iters.get(node.id, []))
                todo.extend(g.iter for g in self._comprehensions().get(node.id, []))
        return found

    def through_callers(self, values: list[ast.expr]) -> tuple[list[ast.expr], list[str]]:
        """Follow values computed only from this function's parameters to its call
        sites (one hop): values every caller fills safely are dropped; callers that
        pass request parameters are returned as `"name (route)"` labels."""
        fn = self.fn
        if fn is None or self.st.model.routes_of(fn) or self.st.model.is_dependency(fn):
            return values, []
        sites = callers_of(self.st.model).get(id(fn.node), [])
        if not sites:
            return values, []
        kept: list[ast.expr] = []
        tainted: list[str] = []
        verdicts: dict[str, bool] = {}
        for value in values:
            params = self.param_roots(value)
            if not params or not self.safe(value, safe_names=frozenset(params)):
                kept.append(value)
                continue
            safe = True
            for name in sorted(params):
                if name not in verdicts:
                    verdicts[name] = self._callers_pass_safe(fn, name, sites, tainted)
                safe = safe and verdicts[name]
            if not safe:
                kept.append(value)
        return kept, dedupe(tainted)

    def _callers_pass_safe(
        self,
        fn: Function,
        name: str,
        sites: list[tuple[Function | None, Module, CallSite]],
        tainted: list[str],
    ) -> bool:
        safe = True
        for caller, module, site in sites:
            arg = argument_for(fn, site.node, name)
            if arg is None:
                safe = False
                continue
            caller_analysis = Analysis(self.st, module, caller)
            if caller_analysis.safe(arg):
                continue
            safe = False
            if caller is not None:
                for param in caller_analysis.route_params([arg]):
                    tainted.append(f"`{param}` of `{caller.name}`")
        return safe


_PROPERTY_DECORATORS = frozenset({"property", "cached_property"})
_MAX_PROPERTY_DEPTH = 3


def _literal_property(project: Project, owner: str | None, attr: str, depth: int = 0) -> bool:
    """Is `attr` of an instance of the project class `owner` a property (of the first
    class of its MRO that defines the name) whose every `return` gives a string literal
    or another such property of `self` (lnbits' dialect switch `db.timestamp_now`:
    `return "now()"` or `return "(strftime('%s', 'now'))"`)? Read as an attribute it is
    constant SQL. A property returning a field (`self.name`) or anything else is not."""
    if owner is None or depth > _MAX_PROPERTY_DEPTH or project.class_(owner) is None:
        return False
    for cls_name in project.mro(owner):
        cls = project.class_(cls_name)
        if cls is None:
            continue
        fn = cls.methods.get(attr)
        if fn is None:
            if any(attr in _assignment_names(stmt) for stmt in cls.node.body):
                return False  # a class attribute or field of that name
            continue
        node = fn.node
        if fn.is_async or not any(
            last_name(ast.unparse(d)) in _PROPERTY_DECORATORS for d in node.decorator_list
        ):
            return False
        params = [*node.args.posonlyargs, *node.args.args]
        own = params[0].arg if params else None
        returns = [n for n in body_nodes(node) if isinstance(n, ast.Return)]
        if not returns or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in body_nodes(node)):
            return False
        for ret in returns:
            value = ret.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                continue
            if (
                isinstance(value, ast.Attribute)
                and isinstance(value.value, ast.Name)
                and value.value.id == own
                and value.attr != attr
                and _literal_property(project, owner, value.attr, depth + 1)
            ):
                continue  # `return self.timestamp_now`
            return False
        return True
    return False


def _assignment_names(stmt: ast.stmt) -> set[str]:
    """The plain names a class-body statement binds (`name: str`, `name = "x"`)."""
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return {stmt.target.id}
    if isinstance(stmt, ast.Assign):
        return {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    return set()


def argument_for(fn: Function, call: ast.Call, name: str) -> ast.expr | None:
    """The expression a call passes for parameter `name` (its default when omitted),
    or None when it cannot be told (`*args`, `**kwargs`, no default)."""
    passed = passed_arguments(fn, call).get(name)
    if passed is not None:
        return passed
    if spreads(call):
        return None
    for param, default in parameters(fn.node):
        if param.arg == name:
            return default
    return None


_JSON_DUMPS = frozenset({"json.dumps", "orjson.dumps", "ujson.dumps", "simplejson.dumps"})


def _is_replace(expr: ast.expr, old: str, new: str) -> bool:
    """`value.replace(old, new)` with those two constants."""
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "replace"
        and len(expr.args) == 2
        and not expr.keywords
        and all(isinstance(a, ast.Constant) for a in expr.args)
        and [a.value for a in expr.args if isinstance(a, ast.Constant)] == [old, new]
    )


def _open_quote(sql: str) -> int | None:
    """The index of the `'` that opens the string literal `sql` ends inside, or None
    when it ends outside one (a doubled `''` inside a literal toggles twice)."""
    opening: int | None = None
    for index, char in enumerate(sql):
        if char == "'":
            opening = index if opening is None else None
    return opening


def _narrowing_chain(head: ast.If) -> str | None:
    """The name an `if`/`elif` chain narrows: every test compares the same name with
    constants (`x == "a"`, `x in ("b", "c")`, joined by `or`) and the final `else`
    ends in `return`, `raise`, `continue` or `break`."""
    name: str | None = None
    node = head
    while True:
        tested = _compared_name(node.test)
        if tested is None or (name is not None and tested != name):
            return None
        name = tested
        if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
            node = node.orelse[0]
            continue
        if node.orelse and isinstance(
            node.orelse[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break)
        ):
            return name
        return None


def _compared_name(test: ast.expr) -> str | None:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        names = {_compared_name(v) for v in test.values}
        return names.pop() if len(names) == 1 else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, right = test.left, test.comparators[0]
    if isinstance(test.ops[0], ast.Eq):
        if isinstance(right, ast.Name) and isinstance(left, ast.Constant):
            left, right = right, left
        if isinstance(left, ast.Name) and isinstance(right, ast.Constant):
            return left.id
        return None
    if (
        isinstance(test.ops[0], ast.In)
        and isinstance(left, ast.Name)
        and isinstance(right, (ast.Tuple, ast.List, ast.Set))
        and all(isinstance(e, ast.Constant) for e in right.elts)
    ):
        return left.id
    return None


# What may stand around a key inside a quoted JSON path: `'$.{key}'`, `'lax $.a.{key}[0]'`,
# `'$."{key}"'`; `->>'{key}'`, `->'{key}'` in PostgreSQL and SQLite.
_PATH_BEFORE = re.compile(r"^(?:(?:lax|strict)\s+)?\$[\w.\[\]\"*$-]*$", re.IGNORECASE)
_PATH_AFTER = re.compile(r"^[\w.\[\]\"*$-]*'")
_ARROW_BEFORE = re.compile(r"->>?\s*'[\w-]*$")
_ARROW_AFTER = re.compile(r"^[\w-]*'")
# A bind parameter's name: `:{name}`, `:value_{i}` (not a `::` cast), `%({name})s`.
_BIND_NAME = re.compile(r"(?:(?<![:\w]):[A-Za-z_]\w*|(?<![:\w]):)$")
_PYFORMAT_NAME = re.compile(r"%\([A-Za-z_]?\w*$")
# A table or column name: right after the keyword that takes it, or in the column list
# of a `SELECT` (after a qualifier `schema.`, in identifier quotes `"..."`, `` `...` ``,
# `[...]` or not).
_QUALIFIED = r"(?:[\"`\[]?\w+[\"`\]]?\.)?(?P<quote>[\"`\[]?)\w*$"
_IDENTIFIER_BEFORE = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?:\s+IF(?:\s+NOT)?\s+EXISTS)?|ORDER\s+BY|GROUP\s+BY|"
    r"(?:ADD|DROP|ALTER|RENAME)\s+COLUMN(?:\s+IF(?:\s+NOT)?\s+EXISTS)?)\s+" + _QUALIFIED,
    re.IGNORECASE,
)
_SELECT_LIST_BEFORE = re.compile(
    r"\bSELECT\s+(?:DISTINCT\s+)?(?:[\w.\"`\[\]*]+\s*,\s*)*" + _QUALIFIED, re.IGNORECASE
)
_SELECT_LIST_AFTER = re.compile(r"\s*(?:,|FROM\b)", re.IGNORECASE)
# A column name on the left of a comparison or a predicate (`WHERE {col} = :v`, `AND
# {col} IS NULL`, `OR ({col} IN ...`), or set by an `UPDATE` (`SET {col} = `, `SET a =
# :a, {col} = `).
_PREDICATE_BEFORE = re.compile(
    r"(?:\b(?:WHERE|AND|OR|ON|HAVING|WHEN|NOT)\s+\(*\s*|\bSET\s+(?:[^;]*,\s*)?)" + _QUALIFIED,
    re.IGNORECASE,
)
_PREDICATE_AFTER = re.compile(
    r"\s*(?:=|<>|!=|<=|>=|<|>|IS\b|IN\b|LIKE\b|ILIKE\b|BETWEEN\b|"
    r"NOT\s+(?:IN|LIKE|ILIKE|BETWEEN)\b)",
    re.IGNORECASE,
)
# The right of `SET col = ` standing alone (up to `,`, `WHERE`, the end...): a column
# when the name says so or the function changes the schema (`SET {col} = {copy_from}`).
_SET_VALUE_BEFORE = re.compile(
    r"\bSET\s+(?:[^;]*,\s*)?(?:[\"`\[]?\w+[\"`\]]?\.)?[\"`\[]?\w+[\"`\]]?\s*=\s*$",
    re.IGNORECASE,
)
_SET_VALUE_AFTER = re.compile(r"\s*(?:$|[,;)]|(?:WHERE|FROM|RETURNING)\b)", re.IGNORECASE)
_COLUMN_NAME = re.compile(
    r"^(?:col|column)s?(?:_\w+)?$|_col(?:umn)?s?(?:_name)?$|^copy_from$", re.IGNORECASE
)
# A statement that changes the schema: it takes no bound parameters at all (PostgreSQL
# and SQLite bind values only in queries and DML), so its names, types and clauses are
# pasted whatever is done.
_DDL = re.compile(
    r"^\s*(?:(?:CREATE|ALTER|DROP)\s+(?:(?:OR\s+REPLACE|UNIQUE|TEMP|TEMPORARY|"
    r"MATERIALIZED|IF\s+NOT\s+EXISTS)\s+)*(?:TABLE|INDEX|VIEW|SCHEMA|SEQUENCE|TYPE|"
    r"TRIGGER|COLUMN|EXTENSION|DATABASE)\b|TRUNCATE\b|COMMENT\s+ON\b|RENAME\b)",
    re.IGNORECASE,
)
# Where a DDL statement still takes a value: a default, a comparison in a `CHECK`.
_DDL_VALUE_BEFORE = re.compile(r"(?:\bDEFAULT|[=<>])\s*$", re.IGNORECASE)
_DDL_PART = "a part of a DDL statement"
_CLOSING_QUOTES = {'"': '"', "`": "`", "[": "]"}


def _key_position(before: str, after: str) -> str | None:
    """What kind of key or identifier a value pasted between the SQL text `before`
    and `after` (other pasted values read as `_`) is: a key in a quoted JSON path, a
    bind parameter's name, a table or column name, or None (a value)."""
    opening = _open_quote(before)
    if opening is not None:
        inside = before[opening + 1 :]
        if _PATH_BEFORE.match(inside) and _PATH_AFTER.match(after):
            return "a key in a quoted JSON path"
        if _ARROW_BEFORE.search(before) and _ARROW_AFTER.match(after):
            return "a quoted JSON key"
        return None
    if _BIND_NAME.search(before) and not re.match(r"\w*'", after):
        return "a bind parameter name"
    if _PYFORMAT_NAME.search(before) and re.match(r"\w*\)s", after):
        return "a bind parameter name"
    if _identifier(before, after):
        return "a table or column name"
    if _DDL.match(before) and not _DDL_VALUE_BEFORE.search(before):
        return _DDL_PART
    return None


def _identifier(before: str, after: str) -> bool:
    """Is a value pasted between `before` and `after` (outside quotes) a table or
    column name: after the keyword that takes one (`FROM {table}`), in the column list
    of a `SELECT`, or on the left of a comparison or of `=` in `SET`?"""
    keyword = _IDENTIFIER_BEFORE.search(before)
    patterns = (
        (keyword, lambda rest: not re.match(r"\s*\(", rest)),  # not a function in `FROM`
        (_SELECT_LIST_BEFORE.search(before), _SELECT_LIST_AFTER.match),
        (_PREDICATE_BEFORE.search(before), _PREDICATE_AFTER.match),
    )
    for found, fits in patterns:
        if found is None:
            continue
        rest = re.sub(r"^\w*", "", after)
        quote = found.group("quote")
        if quote:
            if not rest.startswith(_CLOSING_QUOTES[quote]):
                continue
            rest = rest[1:]
        if fits(rest):
            return True
    return False


# Methods that put their arguments into the container they are called on; the first
# three are also followed by `FunctionFacts.appends`.
_APPENDS = frozenset({"append", "extend", "insert"})

_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)

# Builtins that read a list without keeping or changing it (`len(cols)`, `sorted(cols)`).
_READ_ONLY_BUILTINS = frozenset(
    {
        "all",
        "any",
        "enumerate",
        "frozenset",
        "len",
        "list",
        "max",
        "min",
        "print",
        "reversed",
        "set",
        "sorted",
        "str",
        "tuple",
        "zip",
    }
)


def _shared_names(fn: Function) -> frozenset[str]:
    """The names `Analysis._shared_list` calls shared: read in `fn` other than by a
    `_read_only_use`, or at all inside a nested function, lambda or class."""
    shared: set[str] = set()
    todo: list[tuple[ast.AST, ast.AST | None, bool]] = [(s, None, False) for s in fn.node.body]
    while todo:
        node, up, nested = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Name) and (nested or not _read_only_use(node, child, up)):
                shared.add(child.id)
            todo.append((child, node, nested or isinstance(child, _SCOPE_NODES)))
    return frozenset(shared)


def _read_only_use(parent: ast.AST, name: ast.Name, grandparent: ast.AST | None) -> bool:
    """Is this use of a local list one that cannot fill it from elsewhere (see
    `Analysis._shared_list`)? A store or deletion of the name itself is a binding,
    which `safe` checks."""
    if not isinstance(name.ctx, ast.Load):
        return True
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)):
        return name is parent.iter
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)):
        return name is parent.test
    if isinstance(parent, (ast.Compare, ast.BoolOp, ast.UnaryOp)):
        return True  # `"c" in cols`, `not cols`
    if isinstance(parent, ast.Subscript):
        return name is parent.value  # `cols[0]`: an element, not the list
    if isinstance(parent, ast.Attribute):
        # `cols.append(x)` (followed by `_stores`), `cols.copy()`; not `cols.__iadd__(x)`
        # nor a bound method kept for later (`add = cols.append`).
        return (
            not parent.attr.startswith("__")
            and isinstance(grandparent, ast.Call)
            and grandparent.func is parent
        )
    if isinstance(parent, ast.Call) and any(name is a for a in parent.args):
        func = parent.func
        if isinstance(func, ast.Name):
            return func.id in _READ_ONLY_BUILTINS
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "join"
            and isinstance(func.value, ast.Constant)
            and isinstance(func.value.value, str)
        )
    return False


_ADDING_METHODS = _APPENDS | frozenset(
    {"add", "update", "setdefault", "__setitem__", "appendleft", "extendleft"}
)


# Methods that give a container's own element (not a copy): filling it fills the container.
_ALIASING_METHODS = frozenset({"setdefault", "get", "pop", "__getitem__"})


def _local_container(expr: ast.expr) -> bool:
    """A name, or an item of one (`selected`, `parts["where"]`): its content is what
    the function binds and stores into the name (`Analysis._stores`)."""
    while isinstance(expr, ast.Subscript):
        expr = expr.value
    return isinstance(expr, ast.Name)


def _container_root(target: ast.expr) -> str | None:
    """The name whose content an item or attribute target (`selected[key]`,
    `parts["where"][0]`, `row.name`) is part of."""
    if not isinstance(target, (ast.Subscript, ast.Attribute)):
        return None
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def _store_root(expr: ast.expr) -> str | None:
    """The name whose content `expr` (a receiver of `.append()`, a value an alias is
    bound to) is: itself, an item or attribute of it, or what a method of it gives
    (`parts.setdefault("where", [])`, `parts.get("where")`)."""
    while True:
        if isinstance(expr, (ast.Subscript, ast.Attribute)):
            expr = expr.value
        elif (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in _ALIASING_METHODS
        ):
            expr = expr.func.value
        else:
            return expr.id if isinstance(expr, ast.Name) else None


def _slices(target: ast.expr) -> list[ast.expr]:
    """The keys and indexes of an item target (`parts["where"][0]`): they become keys
    of the container too."""
    out: list[ast.expr] = []
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        if isinstance(target, ast.Subscript):
            key = target.slice
            if isinstance(key, ast.Slice):
                out.extend(e for e in (key.lower, key.upper, key.step) if e is not None)
            else:
                out.append(key)
        target = target.value
    return out


def flatten_add(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return [*flatten_add(expr.left), *flatten_add(expr.right)]
    return [expr]


def _leaves(body: list[ast.stmt], helper: bool) -> bool:
    """Does the block end by raising (or, outside a helper, returning)?"""
    return bool(body) and isinstance(body[-1], ast.Raise if helper else (ast.Raise, ast.Return))


def _breaks(body: list[ast.stmt]) -> bool:
    """Does a `break` of this loop body (not of a loop inside it) occur?"""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Break):
            return True
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            todo.extend(node.orelse)  # a `break` in the inner loop's `else:` is ours
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return False


def _is_len(expr: ast.expr) -> bool:
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "len"
        and len(expr.args) == 1
    )


def _set_of_name(expr: ast.expr) -> str | None:
    """`xs` for `set(xs)` / `frozenset(xs)`."""
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id in ("set", "frozenset")
        and len(expr.args) == 1
        and isinstance(expr.args[0], ast.Name)
    ):
        return expr.args[0].id
    return None


def _returns_none(node: ast.Return) -> bool:
    return node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None)


def _returns_if_empty(stmt: ast.stmt) -> str | None:
    """`x` for `if not x: return` (also `if x is None: return`): leaving when there is
    nothing to check."""
    if not (
        isinstance(stmt, ast.If)
        and not stmt.orelse
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], ast.Return)
        and _returns_none(stmt.body[0])
    ):
        return None
    test = stmt.test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    elif (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Is)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        test = test.left
    else:
        return None
    return test.id if isinstance(test, ast.Name) else None


def _target_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


# One piece of a regular expression that can only match identifier characters: a class
# of letters, digits, `_` and `.` (ranges too, `\w`, `\d`), such a character, a
# quantifier, a group or an alternation.
_PATTERN_TOKEN = (
    r"\[(?:[A-Za-z0-9]-[A-Za-z0-9]|[A-Za-z0-9_.]|\\[wd.])+\]"
    r"|\\[wd.]|[A-Za-z0-9_]|(?:[*+?]|\{\d*(?:,\d*)?\})[?+]?|\(\?:|[()|]"
)
_STRICT_PATTERN = re.compile(rf"(?:{_PATTERN_TOKEN})+")


def _strict_pattern(text: str, method: str) -> bool:
    """Does the pattern (used with `method`) accept only whole strings of letters,
    digits, `_` and `.`?"""
    start = text.startswith(("^", "\\A"))
    body = text[2:] if text.startswith("\\A") else text[1:] if start else text
    end = body.endswith(("$", "\\Z", "\\z")) and not body.endswith("\\$")
    if end:
        body = body[:-1] if body.endswith("$") else body[:-2]
    if method != "fullmatch" and (not end or (method == "search" and not start) or "|" in body):
        return False  # a prefix (or a part) of the value would do
    return _STRICT_PATTERN.fullmatch(body) is not None


def _spans(stmt: ast.AST, line: int) -> bool:
    first = int(getattr(stmt, "lineno", 0))
    return first <= line <= int(getattr(stmt, "end_lineno", None) or first)


def _int_targets(target: ast.AST, iterable: ast.expr) -> set[str]:
    """The loop variables that `for target in iterable` binds to integers: every one
    over `range(...)`, the index of `enumerate(...)` (`for i, value in ...`)."""
    if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name)):
        return set()
    if iterable.func.id == "range" and isinstance(target, ast.Name):
        return {target.id}
    if (
        iterable.func.id == "enumerate"
        and isinstance(target, (ast.Tuple, ast.List))
        and target.elts
        and isinstance(target.elts[0], ast.Name)
    ):
        return {target.elts[0].id}
    return set()


# Constant SQL around one interpolated *whole statement*: a plan request in front of it
# (`EXPLAIN `, `EXPLAIN ANALYZE `, `EXPLAIN (FORMAT JSON) `, `EXPLAIN QUERY PLAN `,
# `EXPLAIN PLAN FOR `), or nothing, or a derived table around it (`SELECT count(*) FROM
# (` ... `) AS t`), then at most a row limit and a `;`.
_PLAN_PREFIX = re.compile(
    r"\s*EXPLAIN(?:\s*\([^()'\";]*\)|\s+(?:ANALY[SZ]E|VERBOSE|EXTENDED|PARTITIONS|"
    r"FORMAT\s*=\s*\w+|QUERY\s+PLAN|PLAN\s+FOR))*\s+",
    re.IGNORECASE,
)
_DERIVED_PREFIX = re.compile(r"\s*SELECT\s+[\w\s,.*()]*?\bFROM\s*\(\s*", re.IGNORECASE)
_ROW_LIMIT = r"(?:\s+LIMIT\s+\d+(?:\s+OFFSET\s+\d+)?)?\s*;?\s*"
_PLAN_SUFFIX = re.compile(_ROW_LIMIT, re.IGNORECASE)
_DERIVED_SUFFIX = re.compile(r"\s*\)(?:\s+(?:AS\s+)?[A-Za-z_]\w*)?" + _ROW_LIMIT, re.IGNORECASE)


def _single_hole(expr: ast.expr) -> tuple[str, ast.expr, str] | None:
    """Constant text, one interpolated value pasted as is, constant text: an f-string,
    a `+` concatenation, `"...{}...".format(x)` or `"...%s..." % x`."""
    parts: list[str | ast.expr] = []
    if isinstance(expr, ast.JoinedStr):
        for part in expr.values:
            if isinstance(part, ast.FormattedValue):
                if part.conversion not in (-1, ord("s")) or part.format_spec is not None:
                    return None  # `!r` quotes it, a format spec reshapes it
                parts.append(part.value)
            elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
            else:
                return None
    elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        for part in flatten_add(expr):
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
            elif isinstance(part, ast.JoinedStr):
                inner = _single_hole(part)
                if inner is None:
                    return None
                parts.extend(inner)
            else:
                parts.append(part)
    elif (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "format"
        and isinstance(expr.func.value, ast.Constant)
        and isinstance(expr.func.value.value, str)
        and len(expr.args) == 1
        and not expr.keywords
        and not isinstance(expr.args[0], ast.Starred)
    ):
        before, marker, after = _split_once(expr.func.value.value, ("{}", "{0}"))
        if not marker or "{" in before + after or "}" in before + after:
            return None
        parts = [before, expr.args[0], after]
    elif (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Mod)
        and isinstance(expr.left, ast.Constant)
        and isinstance(expr.left.value, str)
        and not isinstance(expr.right, (ast.Tuple, ast.Dict))
    ):
        before, marker, after = _split_once(expr.left.value, ("%s",))
        if not marker or "%" in (before + after).replace("%%", ""):
            return None
        parts = [before.replace("%%", "%"), expr.right, after.replace("%%", "%")]
    else:
        return None
    holes = [i for i, p in enumerate(parts) if not isinstance(p, str)]
    if len(holes) != 1:
        return None
    hole = parts[holes[0]]
    assert isinstance(hole, ast.expr)
    before = "".join(p for p in parts[: holes[0]] if isinstance(p, str))
    after = "".join(p for p in parts[holes[0] + 1 :] if isinstance(p, str))
    return before, hole, after


def _split_once(text: str, markers: tuple[str, ...]) -> tuple[str, str, str]:
    for marker in markers:
        if text.count(marker) == 1:
            before, _, after = text.partition(marker)
            return before, marker, after
    return text, "", ""


def whole_statement(expr: ast.expr) -> ast.expr | None:
    """The statement `expr` wraps in constant SQL (`f"EXPLAIN {sql}"`,
    `"SELECT count(*) FROM (" + sql + ") AS t"`): the interpolated part is a whole
    statement, not a value put into one. None when `expr` is not such a wrapper."""
    found = _single_hole(expr)
    if found is None:
        return None
    before, hole, after = found
    if (not before.strip() or _PLAN_PREFIX.fullmatch(before)) and _PLAN_SUFFIX.fullmatch(after):
        return hole
    if _DERIVED_PREFIX.fullmatch(before) and _DERIVED_SUFFIX.fullmatch(after):
        return hole
    return None


def looks_like_sql(fragments: list[str]) -> bool:
    text = "".join(fragments)
    return bool(_SQL_START.search(text) or _SQL_INSIDE.search(text))


def _is_text_call(ctx: FileContext, expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and ctx.resolve(expr.func) in TEXT_FUNCTIONS


@rule(
    code="FAA307",
    name="sql-string-formatting",
    summary="SQL is built by string formatting and executed, instead of using bound parameters",
    severity="warning",
    nodes=(ast.Call,),
    fix_title='Pass values as bound parameters (`text("... WHERE id = :id")`, `{"id": id}`)',
    cwe=("CWE-89",),
    owasp=("A03:2021", "API8:2023"),
    references=(
        "https://fastapi.tiangolo.com/tutorial/sql-databases/",
        "https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.text",
        "https://cwe.mitre.org/data/definitions/89.html",
    ),
)
def sql_string_formatting(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds SQL strings built with an f-string, `%` formatting, `.format()` or `+`
    concatenation (directly or first in a local variable, also through `+=` and lists
    of clauses joined later) that reach something that runs them: SQLAlchemy `text()`,
    `session.execute`/`connection.exec_driver_sql`, DB-API `cursor.execute`/
    `executemany`, asyncpg `fetch`/`fetchrow`/`fetchval`/`execute`, `databases`
    `fetch_all`/`fetch_one`/`execute`, and pandas `read_sql`.

    The finding is an error when a request parameter of the enclosing path operation
    flows into the string; otherwise (the value comes from a function parameter of a
    service, say) it is a warning.

    When the only pasted parts are keys or identifiers, with every value bound: a key
    inside a quoted JSON path (`'$.{key}'`, `->>'{key}'`), a bind parameter's name
    (`:{name}`) or a table or column name (`FROM {table}`, `FROM "{table}"`, `ORDER BY
    {column}`, `ADD COLUMN {column}`, the column list of `SELECT {columns} FROM`, the
    left of a comparison or predicate `WHERE {column} IS NULL`, `AND {column} = :v`,
    `SET {column} = :v`, and the right of `SET {column} = {other}` when the pasted name
    says it is a column, `copy_from`, `source_column`, or the function also runs DDL),
    or an unquoted part of a DDL statement (`ALTER TABLE t ADD COLUMN c {type}`; DDL
    takes no bound parameters, except where it holds a value: after `DEFAULT` or a
    comparison), directly or through a helper that returns the clause, the message says
    so and advises checking the key against an allowlist or an identifier pattern,
    since a database cannot bind keys. Such a finding is a warning unless request data
    reaches the key. A value in quotes (`'{x}'`), or on the right of a comparison in a
    `WHERE`, keeps the bound-parameter advice.

    ## Why is this bad?
    A value pasted into SQL is parsed as SQL: `q = "x' OR '1'='1"` turns a search
    into a dump of the table, and worse statements are one quote away (CWE-89).
    Bound parameters send values separately from the statement, so they are never
    parsed, and the database can reuse the query plan.

    ## Known problems
    Interpolations that cannot carry SQL are not reported: constants, module-level
    configuration, values annotated as numbers, dates, UUIDs, enums or `Literal`,
    `int(...)`/`len(...)`, loop counters (`range()`, the index of `enumerate()`, as in
    placeholder names `f":id_{i}"` whose values are bound), lookups in a fixed table
    (`SORT_COLUMNS[sort]`), names checked against a fixed collection (`if sort not in
    ALLOWED: raise ...`, also a module-level collection bound once at import that no
    function changes), lists whose every element is checked so before the use, the check
    raising otherwise (`for f in fields: if f not in COLUMNS: raise`, `unknown = [f for
    f in fields if f not in COLUMNS]` then `if unknown: raise`, `if set(fields) -
    set(COLUMNS): raise`, `if not all(f in COLUMNS for f in fields): raise`), values and
    lists passed first to a project function that returns nothing and runs such a check
    on every call (`validate_fields(fields)`; only an `if not fields: return` may come
    before it; an `async def` one only when awaited), a check holding only while nothing
    is stored into the list after it (`fields.append(q)`) and the list is not rebound
    after its unknown elements are computed, and a checking loop with no `break` or
    `else:`, narrowed to constants by an `if x == "a": ... elif x == "b": ... else:
    return` chain, or checked against a pattern of letters, digits, `_` and `.` only
    (`if not KEY_RE.fullmatch(key): raise ...`), values put inside a `'...'` literal of
    an f-string or `+` concatenation with every quote doubled (`.replace("'", "''")`,
    the standard SQL escape, which `NOTIFY channel, '...'` needs as it takes no bind
    parameters; in `E'...'` strings and in projects that name MySQL/MariaDB, where a
    backslash escapes a quote, the value must also have its backslashes doubled or be
    `json.dumps` output), identifiers from the code's own schema (`Model.__tablename__`,
    the `name`/`key`/`fullname`/`schema` of SQLAlchemy schema objects: tables, columns,
    constraints, given as parameters annotated so and not rebound, or reached from them
    or from the app's metadata by iteration: `for table in metadata.sorted_tables`, `for
    table in models.values()` or `models[key]` with `models: Mapping[str, sa.Table]`,
    `table.columns`, `fk.referred_table`; not the keys of such a mapping (`for name in
    models`, `sorted(models)`), nor other attributes (`col.comment`), nor an ORM row's
    attributes, nor a `Table` built from a name passed in, nor a local list of them
    something else is stored into), local lists and
    dicts whose every binding and every store anywhere in the function (`selected[key]
    = value`, keys included, `.append()`, `.add()`, `.update()`, `.setdefault()`) is
    safe, and their items, `.values()`, `.keys()`, `.get()` and joins (`{name:
    f'"{name}"' for name in names}` over the names of schema objects; a store that
    cannot be told, as an unpacking target, makes the content unknown; a call the
    container is passed to is assumed not to fill it; `parts.setdefault(k, []).append(x)`
    stores into `parts`, and a store through another local bound to the container or
    one of its items, `alias = clauses` or `where = parts["where"]`, makes the content
    unknown), the elements unpacked from a safe
    value (`parent_column, key_column = parent`), names quoted by
    the dialect (`dialect.identifier_preparer.format_table(table)`), and what a project
    function returns when every `return` is built from such values and from the safe
    arguments of the call (`where, params = build_where(filters)`), and a `@property`
    of a project class read on an instance of it whose every `return` is a string
    literal or another such property of `self` (a dialect switch, `db.timestamp_now`
    giving `now()` or `strftime(...)`; not one returning a field). A whole statement
    wrapped in constant SQL (`f"EXPLAIN {sql}"`, also `EXPLAIN ANALYZE`, `EXPLAIN
    (FORMAT JSON)`, `EXPLAIN QUERY PLAN`, a derived table `f"SELECT count(*) FROM
    ({sql}) AS t"`, a trailing `LIMIT 10` or `;`) is judged as that statement run bare:
    it is reported only when the statement itself is built from unsafe values, so a
    statement that arrives whole (a parameter, a helper's result) is not. Strings passed
    to `execute`-like methods must look like SQL; strings given to `text()` need not.
    Values are followed inside one function (only the assignments that reach the use),
    one hop to callers and into helpers. Test modules (`tests/`, `test_*.py`,
    `conftest.py` and any module defining pytest fixtures) are skipped. Request
    parameters that come from a dependency function (the current user, a session) do not
    raise the severity.

    ## Example
    ```python
    @router.get("/books/search")
    def search_books(q: str, db: SessionDep) -> list[BookOut]:
        rows = db.execute(text(f"SELECT * FROM books WHERE title LIKE '%{q}%'"))
        return [BookOut.model_validate(r) for r in rows.mappings()]
    ```

    ## Use instead
    ```python
        rows = db.execute(
            text("SELECT * FROM books WHERE title LIKE :pattern"), {"pattern": f"%{q}%"}
        )
    ```
    or the ORM: `select(Book).where(Book.title.contains(q))`. Identifiers (table or
    column names) cannot be bound: pick them from a fixed mapping.

    ## Fix safety
    There is no automatic fix.
    """
    func = node.func
    raw_only = False
    if isinstance(func, ast.Attribute) and func.attr in _METHOD_SINKS:
        sink = f"{_short(func.value)}.{func.attr}"
        raw_only = func.attr in _RAW_SQL_METHODS
    elif isinstance(func, (ast.Name, ast.Attribute)):
        short = func.id if isinstance(func, ast.Name) else func.attr
        if short not in _SINK_NAMES:
            return  # cheap filter before name resolution
        name = ctx.resolve(func)
        if name in TEXT_FUNCTIONS:
            sink = "text()"
            raw_only = True
        elif name in _FUNCTION_SINKS:
            sink = f"{last_name(name)}()"
        else:
            return
    else:
        return
    if is_test_module(ctx.module):
        return
    sql = argument(node, 0, "sql")
    if sql is None:
        sql = argument(node, 0, "query") or argument(node, 0, "statement")
    # `f"EXPLAIN {sql}"`: the wrapped statement is judged as if it ran bare.
    for _ in range(3):
        inner = whole_statement(sql) if sql is not None else None
        if inner is None:
            break
        sql = inner
    if sql is None or _is_text_call(ctx, sql):
        return
    st = state(ctx.model)
    fn = ctx.function()
    analysis = Analysis(st, ctx.module, fn)
    if isinstance(sql, ast.Name) and analysis.facts is not None:
        bindings = analysis.facts.assigns.get(sql.id, [])
        if bindings and all(v is not None and _is_text_call(ctx, v) for _n, v in bindings):
            return  # `stmt = text(...)`: reported at `text()`
    built = analysis.built(sql)
    if built is None or not built.unsafe:
        return
    if not raw_only and not looks_like_sql(built.literal):
        return
    unsafe, callers = analysis.through_callers(built.unsafe)
    if not unsafe:
        return  # every caller passes constants or validated values
    values = dedupe([_short(v) for v in unsafe])
    params = analysis.route_params(unsafe)
    how = " and ".join(built.how) if built.how else "string building"
    where = f" in `{built.via[0]}` (line {built.via[1]})" if built.via else ""
    keys = _Keys()
    dropped = frozenset(id(v) for v in built.unsafe) - frozenset(id(v) for v in unsafe)
    if analysis.key_only(sql, keys, dropped) and keys.names:
        yield _key_report(node, sink, how, where, values, params, callers, keys)
        return
    if params:
        names = ", ".join(f"`{p}`" for p in params)
        label = "request parameter" if len(params) == 1 else "request parameters"
        message = (
            f"`{sink}` runs SQL built with {how}{where} from {label} {names}: "
            "SQL injection; use bound parameters"
        )
        yield Report(node, message, severity="error")
        return
    if callers:
        shown = ", ".join(f"`{v}`" for v in values[:3])
        passed = ", ".join(callers[:2])
        message = (
            f"`{sink}` runs SQL built with {how}{where} from {shown}, which receives "
            f"request data ({passed}): SQL injection; use bound parameters"
        )
        yield Report(node, message, severity="error")
        return
    shown = ", ".join(f"`{v}`" for v in values[:3]) + (", ..." if len(values) > 3 else "")
    yield Report(
        node, f"`{sink}` runs SQL built with {how}{where} from {shown}: use bound parameters"
    )


def _key_report(
    node: ast.Call,
    sink: str,
    how: str,
    where: str,
    values: list[str],
    params: list[str],
    callers: list[str],
    keys: _Keys,
) -> Report:
    """The finding for SQL whose only pasted parts are keys or identifiers: binding
    cannot help there, checking the key can."""
    pasted = ", ".join(f"`{k}`" for k in keys.names[:3]) + (", ..." if len(keys.names) > 3 else "")
    shown = ", ".join(f"`{v}`" for v in values[:3]) + (", ..." if len(values) > 3 else "")
    source = shown if keys.names == values else f"{shown}, which pastes {pasted}"
    note = (
        "a DDL statement takes no bound parameters"
        if _DDL_PART in keys.kinds
        else "no value is pasted"
    )
    text = (
        f"`{sink}` runs SQL built with {how}{where} from {source} only as "
        f"{' or '.join(keys.kinds)} ({note})"
    )
    advice = (
        "keys and identifiers cannot be bound, so check each against an allowlist or an "
        'identifier pattern (`re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)`)'
    )
    if params or callers:
        if params:
            label = "request parameter" if len(params) == 1 else "request parameters"
            origin = f"{label} " + ", ".join(f"`{p}`" for p in params)
        else:
            origin = f"request data ({', '.join(callers[:2])})"
        return Report(
            node,
            f"{text}; {origin} reaches it: SQL injection through the key; {advice}",
            severity="error",
        )
    return Report(
        node,
        f"{text}: {advice}; an unchecked key can end the quoting or add SQL",
        severity="warning",
    )


def _short(expr: ast.expr) -> str:
    text = ast.unparse(expr)
    return text if len(text) <= 30 else text[:27] + "..."


def dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _unpacked_call(node: ast.AST, name: str) -> tuple[ast.Call, int, int] | None:
    """For `a, b = helper(...)` binding `name`: the call, the index of `name` among the
    targets, and how many there are."""
    if not (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Tuple)
        and isinstance(node.value, ast.Call)
    ):
        return None
    names = [e.id if isinstance(e, ast.Name) else None for e in node.targets[0].elts]
    if name not in names:
        return None
    return node.value, names.index(name), len(names)
