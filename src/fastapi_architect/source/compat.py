"""Parse Python of any recent version into an `ast` tree of the running interpreter.

The analyzers walk `ast` trees, but a project may use syntax newer than the interpreter that
runs the tool: PEP 695 generics and `type` aliases, PEP 701 f-strings, PEP 750 t-strings,
PEP 758 unparenthesized `except` lists, PEP 810 lazy imports, PEP 798 unpacking in
comprehensions (and, on 3.10, PEP 654 `except*` and PEP 646 star unpacking).

`parse_python` tries `ast.parse` first.  Only when that fails does it import libcst (which
knows the grammar up to 3.15), locate the new constructs with libcst positions, and make
minimal text edits on the original source so the running `ast` accepts it.  Every edit keeps
each remaining token on its original line, so `lineno`/`end_lineno` in the returned tree
match the file; columns may shift only on an edited line.

String literals that the running interpreter cannot read (t-strings, PEP 701 f-strings) are
parsed as a placeholder that keeps every interpolated expression exactly where it was, and
the placeholder is turned back into an `ast.JoinedStr` afterwards.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import sys
import tokenize
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias, TypeVar

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import CodeRange

    _Content: TypeAlias = cst.BaseFormattedStringContent | cst.BaseTemplatedStringContent

__all__ = ["parse_python"]

# Limits no CPython version lifts: libcst cannot help, and such input may crash it.
_HOPELESS_MESSAGES = (
    "too many nested parentheses",
    "too many levels of indentation",
    "cannot contain null bytes",
)
_TOO_COMPLEX = "source is too deeply nested to parse"
# libcst's Rust parser overflows the native stack (a crash, not an exception) a few thousand
# levels deep, and its Python side takes seconds well before that: keep deep input away.
_LIBCST_MAX_RUN = 1000
# libcst needs tens of seconds per megabyte; past this the original error is reported.
_LIBCST_MAX_CHARS = 1_000_000
# 3.11+ refuse to build `ast` trees about this deep; 3.10 builds them and leaves every
# recursive visitor to crash later, so the same limit is checked there.
_AST_MAX_DEPTH = 3000
# Statements libcst accepts but no rewrite covers become `...`, up to this many per file.
_MAX_NEUTRALIZED = 50

_NATIVE_EXCEPT_STAR = sys.version_info >= (3, 11)
_NATIVE_STAR_SUBSCRIPT = sys.version_info >= (3, 11)
_NATIVE_TYPE_PARAMS = sys.version_info >= (3, 12)
_NATIVE_TYPE_PARAM_DEFAULTS = sys.version_info >= (3, 13)  # PEP 696: `[T = int]`
_NATIVE_315 = sys.version_info >= (3, 15)  # PEP 810 lazy imports, PEP 798 `[*a for a in b]`

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")
_SPLIT_LINES = re.compile(r"(\r\n|\r|\n)")
_CRUDE_TOKEN = re.compile(r"([(\[{])|([)\]}])|([,;])|(\r\n|\r|\n)|\w+|\S")
_STRING_PREFIX = re.compile(r"[A-Za-z]*")

_NodeT = TypeVar("_NodeT", bound=ast.expr)


def parse_python(source: str, filename: str = "<unknown>") -> ast.Module:
    """Parse with `ast`; if the running interpreter rejects newer syntax, parse with libcst
    (which knows the grammar up to 3.15), rewrite only the new constructs into older
    equivalents, and parse the rewritten text with `ast`. Raises SyntaxError (with
    lineno/offset/msg of the ORIGINAL ast error) when neither can parse it. Also raise
    SyntaxError (not RecursionError/MemoryError) for pathologically deep expressions."""
    if "\x00" in source:
        raise _null_byte_error(source, filename)
    try:
        tree = _ast_parse(source, filename)
    except SyntaxError as original:
        tree = _parse_newer_syntax(source, filename, original)
    _check_depth(tree, source, filename)
    return tree


def _ast_parse(source: str, filename: str) -> ast.Module:
    """`ast.parse`, with every way of rejecting the input turned into a SyntaxError."""
    try:
        return ast.parse(source, filename)
    except (RecursionError, MemoryError):
        raise SyntaxError(_TOO_COMPLEX, (filename, None, None, None)) from None
    except ValueError as exc:  # before 3.12 some invalid input is a ValueError
        raise SyntaxError(str(exc), (filename, None, None, None)) from None


def _null_byte_error(source: str, filename: str) -> SyntaxError:
    index = source.index("\x00")
    line_start = source.rfind("\n", 0, index) + 1
    line_end = source.find("\n", index)
    text = source[line_start : len(source) if line_end < 0 else line_end]
    lineno = source.count("\n", 0, index) + 1
    message = "source code string cannot contain null bytes"
    return SyntaxError(message, (filename, lineno, index - line_start + 1, text))


def _parse_newer_syntax(source: str, filename: str, original: SyntaxError) -> ast.Module:
    hopeless = original.msg == _TOO_COMPLEX or any(
        message in (original.msg or "") for message in _HOPELESS_MESSAGES
    )
    if hopeless or len(source) > _LIBCST_MAX_CHARS or _too_deep_for_libcst(source):
        raise original
    plan = _plan_rewrite(source)
    tree = plan.parse(filename) if plan is not None else None
    if tree is None:
        raise original
    return tree


# --- guarding libcst against deep input -------------------------------------------------


def _too_deep_for_libcst(source: str) -> bool:
    """Estimate nesting from tokens: a run of tokens not broken by a comma or a statement
    end bounds the depth of the expression it forms (brackets add their own level)."""
    if len(source) <= _LIBCST_MAX_RUN:
        return False
    try:
        return _max_run(_python_tokens(source)) > _LIBCST_MAX_RUN
    except (tokenize.TokenError, SyntaxError):
        # The interpreter's tokenizer gave up on newer syntax: count without knowing strings.
        return _max_run(_crude_tokens(source)) > _LIBCST_MAX_RUN


def _max_run(tokens: Iterable[tuple[str, int]]) -> int:
    """Longest run; each token is a kind ("(", ")", ",", "\\n" or "nl", atom "a") and the
    extra depth hidden inside it. Stops counting once past the limit."""
    bases: list[int] = []
    run = longest = 0
    for kind, extra in tokens:
        if kind == "(":
            bases.append(run)
            run += 1
        elif kind == ")":
            run = bases.pop() + 1 if bases else 0
        elif kind == ",":
            run = bases[-1] + 1 if bases else 0
        elif kind == "\n":
            bases.clear()
            run = 0
        elif kind == "nl":
            run = run if bases else 0
        else:
            run += 1
        longest = max(longest, run + extra)
        if longest > _LIBCST_MAX_RUN:
            break
    return longest


_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")
_SKIPPED = frozenset(
    {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
)


def _python_tokens(source: str) -> Iterator[tuple[str, int]]:
    previous: tokenize.TokenInfo | None = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind, text = token.type, token.string
        if kind in _SKIPPED:
            continue
        # Before 3.14 `t"..."` reads as the name `t` touching a plain string.
        prefix = previous.string if previous and previous.end == token.start else ""
        previous = token
        if kind == tokenize.NEWLINE:
            yield "\n", 0
        elif kind == tokenize.OP and text in _OPEN:
            yield "(", 0
        elif kind == tokenize.OP and text in _CLOSE:
            yield ")", 0
        elif kind == tokenize.OP and text in {",", ";"}:
            yield ",", 0
        elif kind == tokenize.STRING and _is_template_token(prefix + text):
            # Before 3.12 an f-string is one token, but its fields can hold deep code.
            yield "a", _max_run(_crude_tokens(text))
        else:
            yield "a", 0


def _is_template_token(text: str) -> bool:
    prefix = _STRING_PREFIX.match(text)
    letters = prefix.group().lower() if prefix else ""
    return "f" in letters or "t" in letters


def _crude_tokens(text: str) -> Iterator[tuple[str, int]]:
    kinds = {1: "(", 2: ")", 3: ",", 4: "nl"}
    for match in _CRUDE_TOKEN.finditer(text):
        yield kinds.get(match.lastindex or 0, "a"), 0


# --- the depth limit 3.10 does not enforce ----------------------------------------------


def _check_depth(tree: ast.Module, source: str, filename: str) -> None:
    if sys.version_info >= (3, 11) or len(source) < _AST_MAX_DEPTH // 2:
        return
    line_starts = _line_byte_starts(source)
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _AST_MAX_DEPTH:
            raise SyntaxError(_TOO_COMPLEX, (filename, getattr(node, "lineno", None), None, None))
        for child in ast.iter_child_nodes(node):
            size = _byte_size(child, line_starts)
            # A subtree cannot be deeper than (about) twice its length in bytes.
            if size is None or depth + 2 * size + 8 >= _AST_MAX_DEPTH:
                stack.append((child, depth + 1))


def _line_byte_starts(source: str) -> list[int]:
    data = source.encode("utf-8", "surrogatepass")
    return [0] + [match.end() for match in _LINE_BREAK_BYTES.finditer(data)]


def _byte_size(node: ast.AST, line_starts: list[int]) -> int | None:
    lineno = getattr(node, "lineno", None)
    end_lineno = getattr(node, "end_lineno", None)
    if lineno is None or end_lineno is None or not 0 < lineno <= end_lineno <= len(line_starts):
        return None
    start = line_starts[lineno - 1] + getattr(node, "col_offset", 0)
    size: int = line_starts[end_lineno - 1] + getattr(node, "end_col_offset", 0) - start
    return size if size >= 0 else None


# --- the rewrite plan ---------------------------------------------------------------------


class _Unsupported(Exception):
    """A construct the rewrite cannot express for the running interpreter."""


@dataclass
class _Edit:
    start: int
    end: int
    text: str
    out_start: int = 0  # where `text` landed in the rewritten source


@dataclass
class _Field:
    """One `{expression!conversion:spec}` of an f-string or t-string."""

    conversion: int
    debug: str | None  # the `expr=` text shown before the value
    is_tuple: bool  # `{a, b}`: several call arguments in the placeholder form one tuple
    spec: list[_Piece] | None = None


_Piece: TypeAlias = str | _Field


@dataclass
class _Group:
    """A string literal (or implicit concatenation) parsed as a placeholder expression.

    The placeholder keeps each field's expression text in place and blanks the rest, so
    `f"a{x}b{y:{w}}"` reads `(  (x) (y) (w) )`: a chain of calls the tree walk undoes."""

    start: int
    end: int
    pieces: list[_Piece]
    fields: list[_Field]
    edits: list[_Edit]
    span: tuple[int, int, int, int] = (0, 0, 0, 0)  # lineno, col, end_lineno, end_col


@dataclass(frozen=True, eq=False)  # compared by identity
class _Statement:
    """A simple statement, which the last-resort fallback can turn into `...`."""

    start: int
    end: int
    first_line: int
    last_line: int
    node: cst.BaseSmallStatement


@dataclass
class _Plan:
    """The edits that make a source parse on the running interpreter."""

    source: str
    module: cst.Module
    edits: list[_Edit]
    groups: list[_Group]
    statements: list[_Statement]
    neutralized: list[_Statement] = field(default_factory=list)

    def parse(self, filename: str) -> ast.Module | None:
        for _ in range(_MAX_NEUTRALIZED + 1):
            groups = [group for group in self.groups if not self._dropped(group.start)]
            edits = [edit for edit in self.edits if not self._dropped(edit.start)]
            edits += [edit for group in groups for edit in group.edits]
            edits += [
                _Edit(stmt.start, stmt.end, _as_ellipsis(self.source[stmt.start : stmt.end]))
                for stmt in self.neutralized
            ]
            try:
                text = _apply(self.source, edits)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the first parse has warned already
                    tree = _ast_parse(text, filename)
            except _Unsupported:
                return None
            except IndentationError:
                return None  # never a matter of newer syntax
            except SyntaxError as err:
                if not self._neutralize(err.lineno):
                    return None
                continue
            try:
                _restore_strings(tree, groups, text)
            except _Unsupported:
                return None
            return tree
        return None

    def _dropped(self, offset: int) -> bool:
        return any(stmt.start <= offset < stmt.end for stmt in self.neutralized)

    def _neutralize(self, lineno: int | None) -> bool:
        """Turn the simple statements on the failing line into `...` (a generic answer
        to syntax libcst reads but no rewrite covers), keeping their line breaks."""
        found = [
            stmt
            for stmt in self.statements
            if lineno is not None
            and stmt.first_line <= lineno <= stmt.last_line
            and stmt not in self.neutralized
        ]
        for stmt in found:
            # libcst can misplace nodes after text it does not reproduce exactly.
            code = _squeeze(self.module.code_for_node(stmt.node))
            if not code.startswith(_squeeze(self.source[stmt.start : stmt.end])):
                return False
        self.neutralized += found
        return bool(found)


def _as_ellipsis(text: str) -> str:
    """`(...)` over the same lines as `text`: a statement that does nothing."""
    return "(..." + "".join(_LINE_BREAK.findall(text)) + ")"


def _apply(source: str, edits: list[_Edit]) -> str:
    out: list[str] = []
    cursor = length = 0
    for edit in sorted(edits, key=lambda edit: (edit.start, edit.end)):
        if edit.start < cursor:
            raise _Unsupported("overlapping edits")
        out.append(source[cursor : edit.start])
        length += edit.start - cursor
        edit.out_start = length
        out.append(edit.text)
        length += len(edit.text)
        cursor = edit.end
    out.append(source[cursor:])
    return "".join(out)


def _blank(text: str) -> str:
    """Spaces in place of `text`, its line breaks kept as backslash continuations so every
    later token stays on its line (and, `ast` columns being UTF-8 offsets, in its column)."""
    pieces = _SPLIT_LINES.split(text)
    out: list[str] = []
    for index in range(0, len(pieces) - 1, 2):
        segment, brk = pieces[index], pieces[index + 1]
        out.append(" " * (_utf8_length(segment) - 1) + "\\" if segment else "\\")
        out.append(brk)
    out.append(" " * _utf8_length(pieces[-1]))
    return "".join(out)


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _plan_rewrite(source: str) -> _Plan | None:
    try:
        import libcst
        from libcst.metadata import MetadataWrapper, PositionProvider
    except ImportError:
        return None
    try:
        # libcst's default parser configuration accepts the newest grammar it knows.
        module = libcst.parse_module(source)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
        return _Planner(source, module, positions).plan()
    except Exception:  # parse errors, recursion limits, anything we cannot express
        return None


class _Planner:
    """Finds the constructs the running interpreter cannot parse and plans their edits.

    Each position libcst reports is checked against the source text before it is used:
    libcst rebuilds positions from regenerated code, which in rare cases is not the same
    text (and then the rewrite is abandoned)."""

    def __init__(
        self, source: str, module: cst.Module, positions: Mapping[cst.CSTNode, CodeRange]
    ) -> None:
        self.source = source
        self.module = module
        self.positions = positions
        self.line_starts = [0] + [match.end() for match in _LINE_BREAK.finditer(source)]
        self.edits: list[_Edit] = []
        self.groups: list[_Group] = []
        self.statements: list[_Statement] = []

    def plan(self) -> _Plan:
        import libcst as cst

        relevant = _relevant_node_types()
        is_relevant: dict[type, bool] = {}
        strings: list[cst.BaseString] = []
        nested: set[cst.CSTNode] = set()
        for node in self.positions:
            kind = type(node)
            # isinstance on libcst's ABC-based classes is slow: decide once per class.
            if not is_relevant.setdefault(kind, issubclass(kind, relevant)):
                continue
            if isinstance(node, cst.ConcatenatedString):
                nested.update((node.left, node.right))
            if isinstance(node, (cst.ConcatenatedString, cst.FormattedString, cst.TemplatedString)):
                strings.append(node)
            if isinstance(node, cst.BaseSmallStatement):
                where = self.positions[node]
                start, end = self.span(node)
                self.statements.append(
                    _Statement(start, end, where.start.line, where.end.line, node)
                )
            self._plan_node(node)
        for string in strings:
            if string not in nested:
                self._plan_string(string)
        return _Plan(self.source, self.module, self.edits, self.groups, self.statements)

    def _plan_node(self, node: cst.CSTNode) -> None:
        import libcst as cst

        if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)):
            self._plan_except(node)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)) and not _NATIVE_TYPE_PARAMS:
            if node.type_parameters is not None:
                start, end = self.checked_span(node.type_parameters)
                self.edits.append(_Edit(start, end, _blank(self.source[start:end])))
        elif isinstance(node, cst.TypeAlias) and not _NATIVE_TYPE_PARAMS:
            self._plan_type_alias(node)
        elif isinstance(node, cst.TypeParam) and _NATIVE_TYPE_PARAMS:
            self._plan_type_param_default(node)
        elif isinstance(node, (cst.LazyImport, cst.LazyImportFrom)) and not _NATIVE_315:
            start = self.offset(node)
            self.expect(start, "lazy")
            end = self.span(node.whitespace_after_lazy)[1]
            self.edits.append(_Edit(start, end, "".join(_continuations(self.source[start:end]))))
        elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            if isinstance(node.elt, cst.StarredElement) and not _NATIVE_315:
                self._blank_at(self.offset(node.elt), "*")  # PEP 798: `[*a for a in b]`
        elif isinstance(node, cst.StarredDictComp) and not _NATIVE_315:
            self._blank_at(self.span(node.lbrace)[1], "**")
        elif isinstance(node, cst.Index) and node.star and not _NATIVE_STAR_SUBSCRIPT:
            self._blank_at(self.offset(node), "*")  # PEP 646: `tuple[*Ts]`
        elif isinstance(node, cst.Annotation) and not _NATIVE_STAR_SUBSCRIPT:
            self._plan_star_annotation(node)

    def _plan_star_annotation(self, annotation: cst.Annotation) -> None:
        import libcst as cst

        if isinstance(annotation.annotation, cst.StarredElement):  # PEP 646: `*args: *Ts`
            self._blank_at(self.offset(annotation.annotation), "*")

    def _plan_except(self, handler: cst.ExceptHandler | cst.ExceptStarHandler) -> None:
        import libcst as cst

        kind = handler.type
        if isinstance(kind, cst.Tuple) and not kind.lpar:  # PEP 758: `except A, B:`
            start, end = self.checked_span(kind)
            self.edits += [_Edit(start, start, "("), _Edit(end, end, ")")]
        if isinstance(handler, cst.ExceptStarHandler) and not _NATIVE_EXCEPT_STAR:
            self.expect(self.offset(handler), "except")
            self._blank_at(self.span(handler.whitespace_after_except)[1], "*")

    def _plan_type_param_default(self, param: cst.TypeParam) -> None:
        import libcst as cst

        default, equal = param.default, param.equal
        if default is None or not isinstance(equal, cst.AssignEqual):
            return
        if _NATIVE_TYPE_PARAM_DEFAULTS:
            return
        start = self.offset(equal)  # the `=` itself, its whitespace aside
        self.expect(start, "=")
        end = self.span(default.rpar[-1] if default.rpar else default)[1]
        self.edits.append(_Edit(start, end, _blank(self.source[start:end])))

    def _plan_type_alias(self, alias: cst.TypeAlias) -> None:
        # `(X) = value` is a plain assignment whose statement still starts where `type` did,
        # with the name in its original column.
        start = self.offset(alias)
        self.expect(start, "type")
        name_start, name_end = self.checked_span(alias.name)
        self.edits.append(
            _Edit(start, name_start, "(" + _blank(self.source[start + 1 : name_start]))
        )
        if alias.type_parameters is None:
            # Over the space after the name, if any, so the value keeps its columns.
            spaced = self.source[name_end : name_end + 1] in {" ", "\t"}
            self.edits.append(_Edit(name_end, name_end + spaced, ")"))
            return
        params_start, params_end = self.checked_span(alias.type_parameters)
        rest = _blank(self.source[params_start + 1 : params_end])
        self.edits.append(_Edit(params_start, params_end, ")" + rest))

    def _blank_at(self, offset: int, token: str) -> None:
        self.edits.append(_Edit(offset, self.expect(offset, token), " " * len(token)))

    # --- string literals ---------------------------------------------------------------

    def _plan_string(self, string: cst.BaseString) -> None:
        import libcst as cst

        leaves = _string_leaves(string)
        if not any(isinstance(leaf, (cst.FormattedString, cst.TemplatedString)) for leaf in leaves):
            return
        start, end = self.span(string)
        if _parses_alone(self.source[start:end]):
            return
        pieces: list[_Piece] = []
        fields: list[_Field] = []
        kept: list[tuple[int, int]] = []
        marks = {start: "(", end - 1: ")"}
        for leaf in leaves:
            self.checked_span(leaf)
            if isinstance(leaf, cst.SimpleString):
                pieces.append(_string_value(leaf.value))
            elif isinstance(leaf, (cst.FormattedString, cst.TemplatedString)):
                raw = "r" in leaf.start[: -len(leaf.end)].lower()
                parts: Sequence[_Content] = leaf.parts
                pieces += self._pieces(parts, raw, leaf.end, fields, kept, marks)
        edits = self._gap_edits(start, end, kept, marks)
        self.groups.append(_Group(start, end, pieces, fields, edits))

    def _pieces(
        self,
        parts: Sequence[_Content],
        raw: bool,
        quote: str,
        fields: list[_Field],
        kept: list[tuple[int, int]],
        marks: dict[int, str],
    ) -> list[_Piece]:
        import libcst as cst

        pieces: list[_Piece] = []
        for part in parts:
            if isinstance(part, (cst.FormattedStringText, cst.TemplatedStringText)):
                pieces.append(_text_value(part.value, raw, quote))
                continue
            assert isinstance(part, (cst.FormattedStringExpression, cst.TemplatedStringExpression))
            brace = self.offset(part)
            self.expect(brace, "{")
            after = part.equal.whitespace_before if part.equal else part.whitespace_after_expression
            expr_end = self.offset(after)
            expression = self.module.code_for_node(part.whitespace_before_expression)
            expression += self.module.code_for_node(part.expression)
            if _squeeze(self.source[brace + 1 : expr_end]) != _squeeze(expression):
                raise _Unsupported("libcst positions do not match the source")
            kept.append((brace + 1, expr_end))
            close = expr_end
            while self.source[close] in "\r\n":  # a line break must stay one; `}` is ahead
                close += 1
            marks.update({brace: "(", close: ")"})
            debug = None
            if part.equal is not None:
                debug_end = self.span(part.whitespace_after_expression)[1]
                debug = _without_comments(self.source[brace + 1 : debug_end])
            conversion = ord(part.conversion) if part.conversion else -1
            if debug is not None and part.conversion is None and part.format_spec is None:
                conversion = ord("r")  # `{x=}` shows the repr, as in CPython
            is_tuple = isinstance(part.expression, cst.Tuple) and not part.expression.lpar
            entry = _Field(conversion, debug, is_tuple)
            fields.append(entry)  # before the spec's own fields: the placeholder's order
            if part.format_spec is not None:
                entry.spec = self._pieces(part.format_spec, raw, quote, fields, kept, marks)
            pieces.append(entry)
        return pieces

    def _gap_edits(
        self, start: int, end: int, kept: list[tuple[int, int]], marks: dict[int, str]
    ) -> list[_Edit]:
        """Edits for everything outside the kept expressions: blanks of the same UTF-8
        width, line breaks (legal, the placeholder being parenthesized) and the brackets."""
        edits: list[_Edit] = []
        cursor = start
        for kept_start, kept_end in [*sorted(kept), (end, end)]:
            if cursor < kept_start:
                text = "".join(
                    marks.get(index, char if char in "\r\n" else " " * _utf8_length(char))
                    for index, char in enumerate(self.source[cursor:kept_start], cursor)
                )
                edits.append(_Edit(cursor, kept_start, text))
            cursor = kept_end
        return edits

    # --- positions -----------------------------------------------------------------------

    def offset(self, node: cst.CSTNode) -> int:
        where = self.positions[node].start
        return self.line_starts[where.line - 1] + where.column

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        where = self.positions[node]
        start = self.line_starts[where.start.line - 1] + where.start.column
        return start, self.line_starts[where.end.line - 1] + where.end.column

    def checked_span(self, node: cst.CSTNode) -> tuple[int, int]:
        """The span of a node, provided the source there reads as the node's code."""
        start, end = self.span(node)
        code = _squeeze(self.module.code_for_node(node))
        # Positions leave out a node's own parentheses; its code does not.
        lpar: Sequence[cst.CSTNode] = getattr(node, "lpar", ())
        rpar: Sequence[cst.CSTNode] = getattr(node, "rpar", ())
        before = "".join(_squeeze(self.module.code_for_node(paren)) for paren in lpar)
        after = "".join(_squeeze(self.module.code_for_node(paren)) for paren in rpar)
        inner = code[len(before) : len(code) - len(after)]
        if f"{before}{_squeeze(self.source[start:end])}{after}" != code or not inner:
            raise _Unsupported("libcst positions do not match the source")
        return start, end

    def expect(self, offset: int, text: str) -> int:
        """The offset after `text`, which the source must have at `offset`."""
        if not self.source.startswith(text, offset):
            raise _Unsupported("libcst positions do not match the source")
        return offset + len(text)


def _without_comments(text: str) -> str:
    """`{x = }` shows the expression's text, as CPython does: comments left out."""
    if "#" not in text:
        return text
    lines = io.StringIO(text).readlines()  # the rows tokenize counts
    cuts: list[tuple[int, int, int]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                cuts.append((token.start[0] - 1, token.start[1], token.end[1]))
    except (tokenize.TokenError, SyntaxError):
        return text
    for row, start, end in reversed(cuts):
        lines[row] = lines[row][:start] + lines[row][end:]
    return "".join(lines)


def _squeeze(code: str) -> str:
    # `code_for_node` renders a node outside its block, so the indentation inside it can
    # differ from the source: code is compared without any whitespace.
    return "".join(code.split())


def _relevant_node_types() -> tuple[type, ...]:
    import libcst as cst

    types: list[type] = [
        cst.BaseSmallStatement,  # `type X = ...`, lazy imports, the last-resort fallback
        cst.ConcatenatedString,
        cst.FormattedString,
        cst.TemplatedString,
        cst.ExceptHandler,
        cst.ExceptStarHandler,
        cst.ListComp,
        cst.SetComp,
        cst.GeneratorExp,
        cst.StarredDictComp,
        cst.FunctionDef,
        cst.ClassDef,
        cst.TypeParam,
    ]
    if not _NATIVE_STAR_SUBSCRIPT:
        types += [cst.Index, cst.Annotation]
    return tuple(types)


def _continuations(text: str) -> Iterator[str]:
    return ("\\" + brk for brk in _LINE_BREAK.findall(text))


def _string_leaves(string: cst.BaseString) -> list[cst.BaseString]:
    import libcst as cst

    leaves: list[cst.BaseString] = []
    while isinstance(string, cst.ConcatenatedString):
        leaves.append(string.left)
        string = string.right
    leaves.append(string)
    return leaves


def _parses_alone(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse("(" + text + ")", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _literal(text: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes: warned about by the real parse
        try:
            return ast.literal_eval(text)
        except (SyntaxError, ValueError) as exc:
            raise _Unsupported(str(exc)) from None


def _string_value(literal: str) -> str:
    value = _literal(literal)
    if not isinstance(value, str):
        raise _Unsupported("bytes in a concatenation with an f-string")
    return value


def _text_value(text: str, raw: bool, quote: str) -> str:
    """The value of the literal text of an f-string or t-string."""
    text = text.replace("{{", "{").replace("}}", "}")
    # The trailing marker keeps a final backslash or quote from touching the closing quote.
    value = _literal(("r" if raw else "") + quote + text + "X" + quote)
    assert isinstance(value, str)
    return value[:-1]


# --- turning placeholders back into JoinedStr ------------------------------------------


def _restore_strings(tree: ast.Module, groups: list[_Group], text: str) -> None:
    if not groups:
        return
    coordinates = _Coordinates(text)
    by_line: dict[int, list[_Group]] = {}
    for group in groups:
        first, last = group.edits[0], group.edits[-1]
        start = coordinates.at(first.out_start)
        end = coordinates.at(last.out_start + len(last.text))
        group.span = (*start, *end)
        for lineno in range(start[0], end[0] + 1):
            by_line.setdefault(lineno, []).append(group)
    restorer = _Restorer(by_line)
    restorer.walk(tree)
    if len(restorer.claimed) != len(groups):
        raise _Unsupported("a string placeholder was not found in the tree")


class _Coordinates:
    """Offsets in a text as `ast` locations: 1-based line, UTF-8 byte column."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]

    def at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        prefix = self.text[self.starts[index] : offset]
        return index + 1, _utf8_length(prefix)


class _Restorer:
    def __init__(self, by_line: dict[int, list[_Group]]) -> None:
        self.by_line = by_line
        self.claimed: set[int] = set()

    def walk(self, tree: ast.AST) -> None:
        # Iterative: the tree can be as deep as the interpreter allows.
        stack = [tree]
        while stack:
            node = stack.pop()
            for name, value in ast.iter_fields(node):
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        if isinstance(item, ast.expr):
                            value[index] = item = self.restore(item)
                        if isinstance(item, ast.AST):
                            stack.append(item)
                elif isinstance(value, ast.AST):
                    if isinstance(value, ast.expr):
                        value = self.restore(value)
                        setattr(node, name, value)
                    stack.append(value)

    def restore(self, node: ast.expr) -> ast.expr:
        """The outermost node inside a placeholder's span is that placeholder's root."""
        location = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
        containing = [
            group
            for group in self.by_line.get(node.lineno, ())
            if id(group) not in self.claimed and _contains(group.span, location)
        ]
        # Nested placeholders can share a root (`f"{f'{x}'}"`): the innermost comes first.
        for group in sorted(containing, key=lambda group: group.start, reverse=True):
            self.claimed.add(id(group))
            node = _joined_str(group, _unchain(node, group.fields))
        return node


def _contains(
    span: tuple[int, int, int, int], location: tuple[int, int, int | None, int | None]
) -> bool:
    lineno, col, end_lineno, end_col = location
    if end_lineno is None or end_col is None:
        return False
    return (span[0], span[1]) <= (lineno, col) and (end_lineno, end_col) <= (span[2], span[3])


def _unchain(root: ast.expr, fields: list[_Field]) -> list[ast.expr]:
    """The field expressions of a placeholder `((e0) (e1) (e2))`: calls `e0(e1)(e2)`."""
    if not fields:
        if isinstance(root, ast.Tuple) and not root.elts:
            return []
        raise _Unsupported("unexpected placeholder")
    values: list[ast.expr] = []
    node = root
    for entry in reversed(fields[1:]):
        if not isinstance(node, ast.Call) or node.keywords or not node.args:
            raise _Unsupported("unexpected placeholder")
        values.append(_call_argument(node, entry.is_tuple))
        node = node.func
    if fields[0].is_tuple and isinstance(node, ast.Tuple) and node.elts:
        node = _tuple_of(node.elts)  # located like `{a, b}` in CPython: without the parens
    values.append(node)
    values.reverse()
    return values


def _call_argument(call: ast.Call, is_tuple: bool) -> ast.expr:
    args = call.args
    if len(args) == 1 and not is_tuple and not isinstance(args[0], ast.Starred):
        return args[0]
    return _tuple_of(args)


def _tuple_of(elements: list[ast.expr]) -> ast.Tuple:
    result = ast.Tuple(elts=elements, ctx=ast.Load())
    first, last = elements[0], elements[-1]
    result.lineno, result.col_offset = first.lineno, first.col_offset
    result.end_lineno, result.end_col_offset = last.end_lineno, last.end_col_offset
    return result


def _joined_str(group: _Group, values: list[ast.expr]) -> ast.JoinedStr:
    lineno, col, end_lineno, end_col = group.span

    def located(node: _NodeT) -> _NodeT:
        node.lineno, node.col_offset = lineno, col
        node.end_lineno, node.end_col_offset = end_lineno, end_col
        return node

    def joined(pieces: list[_Piece], exprs: Iterator[ast.expr]) -> ast.JoinedStr:
        parts: list[ast.expr] = []
        pending = ""
        for piece in pieces:
            if isinstance(piece, str):
                pending += piece
                continue
            pending += piece.debug or ""
            if pending:
                parts.append(located(ast.Constant(value=pending)))
                pending = ""
            value = next(exprs)
            spec = joined(piece.spec, exprs) if piece.spec is not None else None
            formatted = ast.FormattedValue(
                value=value, conversion=piece.conversion, format_spec=spec
            )
            parts.append(located(formatted))
        if pending:
            parts.append(located(ast.Constant(value=pending)))
        return located(ast.JoinedStr(values=parts))

    return joined(group.pieces, iter(values))
