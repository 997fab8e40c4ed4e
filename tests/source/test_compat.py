"""parse_python: newer syntax on older interpreters, with exact line numbers."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fastapi_architect.source import compat
from fastapi_architect.source.compat import parse_python

PY311 = sys.version_info >= (3, 11)
PY312 = sys.version_info >= (3, 12)
PY314 = sys.version_info >= (3, 14)

needs_t_string_rewrite = pytest.mark.skipif(PY314, reason="t-strings are native on 3.14+")
needs_type_param_rewrite = pytest.mark.skipif(PY312, reason="PEP 695 is native on 3.12+")


def shape(tree: ast.AST) -> tuple[str, list[tuple[str, int, int]]]:
    """Structure plus the line span of every located node, in a fixed walk order.

    The pieces of an f-string are left out of the spans: 3.12+ locate each of them, older
    versions (and the rewrite) give them the span of the whole string."""
    pieces = {
        id(piece)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for piece in node.values
    }
    lines = [
        (type(node).__name__, node.lineno, node.end_lineno or 0)
        for node in ast.walk(tree)
        if isinstance(node, (ast.expr, ast.stmt, ast.arg, ast.keyword, ast.excepthandler))
        and id(node) not in pieces
    ]
    # 3.12 ends a format spec on an empty constant the other versions leave out.
    return ast.dump(tree).replace(", Constant(value='')]", "]"), lines


def assert_same_as(source: str, oracle: str) -> ast.Module:
    """`source` must parse like `oracle`, old syntax with the same line layout."""
    tree = parse_python(source)
    assert shape(tree) == shape(ast.parse(oracle))
    return tree


def assert_names_in_place(source: str, tree: ast.AST, exact: bool = True) -> None:
    """Every name sits on the line it came from (and, if `exact`, at the same columns)."""
    lines = source.splitlines()
    located = [node for node in ast.walk(tree) if isinstance(node, (ast.Name, ast.arg))]
    assert located
    for node in located:
        name = node.id if isinstance(node, ast.Name) else node.arg
        assert node.lineno == node.end_lineno
        line = lines[node.lineno - 1]
        if exact:
            text = line.encode()[node.col_offset : node.end_col_offset].decode()
            # An argument's span runs on over its annotation.
            assert text == name or text.startswith(name + ":"), (name, node.lineno, line)
        else:
            assert name in line, (name, node.lineno, line)


def statement_lines(tree: ast.AST) -> list[tuple[str, int, int]]:
    return [
        (type(node).__name__, node.lineno, node.end_lineno or 0)
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt)
    ]


# --- the fast path ---------------------------------------------------------------------


def test_plain_source_is_parsed_by_ast_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "import os\n\n\ndef f(x: int) -> str:\n    return f'{x!r:>10}'\n"
    monkeypatch.setitem(sys.modules, "libcst", None)  # any import of it would now fail
    tree = parse_python(source, "plain.py")
    expected = ast.parse(source, "plain.py")
    assert ast.dump(tree, include_attributes=True) == ast.dump(expected, include_attributes=True)


def test_importing_and_plain_parsing_leave_libcst_unloaded() -> None:
    src = str(Path(compat.__file__).resolve().parents[2])
    script = (
        "import sys\n"
        "from fastapi_architect.source.compat import parse_python\n"
        "parse_python('async def f():\\n    return [x async for x in y]\\n')\n"
        "print('libcst' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": src}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "False"


def test_syntax_error_is_the_original_ast_error() -> None:
    source = "x = 1\ndef f(:\n    pass\n"
    with pytest.raises(SyntaxError) as expected:
        ast.parse(source, "bad.py")
    with pytest.raises(SyntaxError) as raised:
        parse_python(source, "bad.py")
    error, original = raised.value, expected.value
    assert (error.msg, error.lineno, error.offset, error.filename) == (
        original.msg,
        original.lineno,
        original.offset,
        "bad.py",
    )


def test_error_next_to_newer_syntax_is_still_the_original_error() -> None:
    source = "type X = int\nclass C[T]:\n    pass\nx = (\n"
    with pytest.raises(SyntaxError) as expected:
        ast.parse(source)
    with pytest.raises(SyntaxError) as raised:
        parse_python(source)
    assert (raised.value.msg, raised.value.lineno, raised.value.offset) == (
        expected.value.msg,
        expected.value.lineno,
        expected.value.offset,
    )


def test_without_libcst_the_original_error_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "libcst", None)
    with pytest.raises(SyntaxError):
        parse_python("x = t'{y}'\n" if not PY314 else "x = (\n")


# --- PEP 758: except A, B --------------------------------------------------------------


def test_unparenthesized_except_list() -> None:
    source = "try:\n    pass\nexcept A, B:\n    handle()\nexcept C, D, E: pass\n"
    oracle = "try:\n    pass\nexcept (A, B):\n    handle()\nexcept (C, D, E): pass\n"
    tree = assert_same_as(source, oracle)
    assert_names_in_place(source, tree, exact=False)


def test_unparenthesized_except_star_list() -> None:
    source = "try:\n    pass\nexcept* A, B:\n    pass\nexcept *C:\n    pass\n"
    star = "*" if PY311 else ""  # 3.10 has no except*: it reads as a plain except
    oracle = f"try:\n    pass\nexcept{star} (A, B):\n    pass\nexcept {star}C:\n    pass\n"
    tree = assert_same_as(source, oracle)
    assert_names_in_place(source, tree, exact=False)


# --- PEP 695: type parameters and type aliases -----------------------------------------

GENERIC_DEFS = """\
def f[T: int = str, *Ts, **P](x: T, *args: P.args) -> T:
    return x


async def g[T](x: T) -> T:
    return x


class C[K, V: (int, str)](Base, metaclass=Meta):
    def method[M](self, m: M) -> M:
        return m
"""


@needs_type_param_rewrite
def test_type_parameter_lists_are_dropped() -> None:
    oracle = GENERIC_DEFS.replace("[T: int = str, *Ts, **P]", "").replace("[T]", "")
    oracle = oracle.replace("[K, V: (int, str)]", "").replace("[M]", "")
    tree = assert_same_as(GENERIC_DEFS, oracle)
    assert_names_in_place(GENERIC_DEFS, tree)


def test_type_parameter_lines_and_columns() -> None:
    tree = parse_python(GENERIC_DEFS)
    assert_names_in_place(GENERIC_DEFS, tree)
    defs = [
        (node.name, node.lineno, node.end_lineno)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    assert defs == [("f", 1, 2), ("g", 5, 6), ("C", 9, 11), ("method", 10, 11)]


def test_multi_line_type_parameters_keep_every_line() -> None:
    source = (
        "@decorator\n"
        "class C[\n"
        "    T,  # a comment\n"
        "\n"
        "    U: int = str,\n"
        "](Base):\n"
        "    def m[\n"
        "        X\n"
        "    ](\n"
        "        self, x: X\n"
        "    ) -> X: return x\n"
        "y = C\n"
    )
    tree = parse_python(source)
    assert_names_in_place(source, tree)
    assert statement_lines(tree) == [
        ("ClassDef", 2, 11),
        ("Assign", 12, 12),
        ("FunctionDef", 7, 11),
        ("Return", 11, 11),
    ]
    decorator = tree.body[0].decorator_list[0]  # type: ignore[attr-defined]
    assert (decorator.lineno, decorator.col_offset) == (1, 1)
    if not PY312:
        assert ast.dump(tree) == ast.dump(
            ast.parse("@decorator\nclass C(Base):\n    def m(self, x: X) -> X: return x\ny = C\n")
        )


@needs_type_param_rewrite
def test_type_alias_becomes_an_assignment() -> None:
    source = (
        "type Alias = int | None\n"
        "if True:\n"
        "    type Pair[T: str = str] = tuple[T, T]; other = Pair\n"
        "type Multi[\n"
        "    K,\n"
        "    V,\n"
        "] = dict[\n"
        "    K, V]\n"
        "type \\\n"
        "    Split = int\n"
    )
    oracle = (
        "Alias = int | None\n"
        "if True:\n"
        "    Pair = tuple[T, T]; other = Pair\n"
        "(Multi\n"
        "\n"
        "\n"
        ") = dict[\n"
        "    K, V]\n"
        "( \\\n"
        "    Split) = int\n"
    )
    tree = assert_same_as(source, oracle)
    assert_names_in_place(source, tree)
    assert [(node.lineno, node.col_offset) for node in tree.body] == [
        (1, 0),
        (2, 0),
        (4, 0),
        (9, 0),
    ]


def test_type_parameters_stay_where_the_interpreter_has_them() -> None:
    # A t-string forces the fallback; 3.12+ must still report the type parameters.
    source = "def f[T](x: T) -> T:\n    return t'{x}'\n" if not PY314 else "def f[T](): pass\n"
    tree = parse_python(source)
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert bool(getattr(function, "type_params", [])) == PY312
    assert_names_in_place(source, tree)


# --- PEP 750: template strings ---------------------------------------------------------


@needs_t_string_rewrite
@pytest.mark.parametrize(
    ("source", "oracle"),
    [
        ("x = t'hello {name}'\n", "x = f'hello {name}'\n"),
        ('x = t"{a!r:>{width}} {b=} {c = !s}"\n', 'x = f"{a!r:>{width}} {b=} {c = !s}"\n'),
        ("x = rt'\\d+{pattern}\\n'\n", "x = rf'\\d+{pattern}\\n'\n"),
        ("x = Rt'{a}' 'tail'\n", "x = Rf'{a}' 'tail'\n"),
        ("x = t''\ny = t'no fields'\n", "x = f''\ny = f'no fields'\n"),
        ("x = (t'{a}'  # comment\n     'tail')\n", "x = (f'{a}'  # comment\n     'tail')\n"),
        ("x = t'{a, b}{ c }{d:{e}.{f}}'\n", "x = f'{a, b}{ c }{d:{e}.{f}}'\n"),
    ],
)
def test_template_strings_read_as_f_strings(source: str, oracle: str) -> None:
    tree = assert_same_as(source, oracle)
    assert_names_in_place(source, tree)


@needs_t_string_rewrite
def test_multi_line_template_string_keeps_lines() -> None:
    source = (
        "query = t'''\n"
        "    SELECT {columns}\n"
        "    FROM {table}\n"
        "    WHERE id = {\n"
        "        ident\n"
        "    }'''\n"
        "after = 1\n"
    )
    tree = parse_python(source)
    assert_names_in_place(source, tree)
    joined = tree.body[0].value  # type: ignore[attr-defined]
    assert isinstance(joined, ast.JoinedStr)
    assert (joined.lineno, joined.end_lineno) == (1, 6)
    values = [part.value for part in joined.values if isinstance(part, ast.FormattedValue)]
    assert [ast.unparse(value) for value in values] == ["columns", "table", "ident"]
    constants = [part.value for part in joined.values if isinstance(part, ast.Constant)]
    assert constants == ["\n    SELECT ", "\n    FROM ", "\n    WHERE id = "]
    assert statement_lines(tree) == [("Assign", 1, 6), ("Assign", 7, 7)]


# --- PEP 701: f-strings of 3.12 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "oracle"),
    [
        ('x = f"{d["key"]}"\n', "x = f\"{d['key']}\"\n"),
        ('x = f"{", ".join(items)}!"\n', "x = f\"{', '.join(items)}!\"\n"),
        ('x = f"{f"{f"{v["k"]}"}"}"\n', "x = f'''{f\"\"\"{f\"{v['k']}\"}\"\"\"}'''\n"),
        ('x = f"{a["x"]:>{w["y"]}}" "tail"\n', "x = f\"{a['x']:>{w['y']}}\" \"tail\"\n"),
        ('x = f"{a["x"]!r}" + g(f"{b["y"]=}")\n', "x = f\"{a['x']!r}\" + g(f\"{b['y']=}\")\n"),
    ],
)
def test_pep_701_f_strings(source: str, oracle: str) -> None:
    tree = parse_python(source)
    # `=` shows the expression text, which differs from the oracle in its quotes.
    dump = ast.dump(tree).replace("'b[\"y\"]='", "\"b['y']=\"")
    assert dump == ast.dump(ast.parse(oracle))
    assert shape(tree)[1] == shape(ast.parse(oracle))[1]
    assert_names_in_place(source, tree)


def test_backslashes_in_f_string_fields() -> None:
    source = "x = f'{'\\n'.join(lines)}\\t{'\\\\'}'\n"
    tree = parse_python(source)
    joined = tree.body[0].value  # type: ignore[attr-defined]
    assert isinstance(joined, ast.JoinedStr)
    join, tab, backslash = joined.values
    assert isinstance(join, ast.FormattedValue) and isinstance(backslash, ast.FormattedValue)
    assert ast.literal_eval(join.value.func.value) == "\n"  # type: ignore[attr-defined]
    assert isinstance(tab, ast.Constant) and tab.value == "\t"
    assert ast.literal_eval(backslash.value) == "\\"
    assert_names_in_place(source, tree)


def test_multi_line_f_string_with_comments_keeps_lines_and_columns() -> None:
    source = (
        'message = f"total: {sum(\n'
        "    item['price']  # the \"price\" key\n"
        "    for item in items\n"
        ')} for {user["name"]}"\n'
        "done = True\n"
    )
    tree = parse_python(source)
    assert_names_in_place(source, tree)
    assert statement_lines(tree) == [("Assign", 1, 4), ("Assign", 5, 5)]
    joined = tree.body[0].value  # type: ignore[attr-defined]
    assert isinstance(joined, ast.JoinedStr)
    assert [type(part).__name__ for part in joined.values] == [
        "Constant",
        "FormattedValue",
        "Constant",
        "FormattedValue",
    ]


def test_f_string_in_an_indented_block() -> None:
    # libcst renders nodes without their block's indentation: positions must still match.
    source = (
        "class Report:\n"
        "    def render(self, rows):\n"
        '        return f"{", ".join(\n'
        '            row["name"]\n'
        "            for row in rows\n"
        "        )}: {self.total = # the sum\n"
        '        }"\n'
    )
    tree = parse_python(source)
    assert_names_in_place(source, tree)
    joined = tree.body[0].body[0].body[0].value  # type: ignore[attr-defined]
    assert isinstance(joined, ast.JoinedStr)
    assert (joined.lineno, joined.end_lineno) == (3, 7)
    constants = [part.value for part in joined.values if isinstance(part, ast.Constant)]
    # As in CPython, the text shown by `=` leaves the comment out.
    assert constants == [": self.total = \n        "]


@pytest.mark.skipif(PY312, reason="native on 3.12+")
def test_text_libcst_does_not_reproduce_is_not_guessed_at() -> None:
    # libcst drops the blanks after `!s`, so its positions would be off: the original
    # error is reported instead of a wrong tree.
    with pytest.raises(SyntaxError):
        parse_python('x = f"{3!s  }"\ny = f"{d["k"]}"\n')


def test_non_ascii_text_keeps_byte_columns() -> None:
    source = 'x = "é€" + f"é{d["€"]}€{ e }"; y = f"{ü}" if t"{é}" else 0\n'
    if PY314:
        source = source.replace('t"', 'f"')
    tree = parse_python(source)
    assert_names_in_place(source, tree)


def test_strings_that_old_interpreters_read_are_left_alone() -> None:
    source = "x = t'{a}' + f'{b!r}' + 'c' f'{d}'\n" if not PY314 else "x = f'{b!r}'\n"
    tree = parse_python(source)
    assert_names_in_place(source, tree)


# --- other syntax libcst knows ------------------------------------------------------------


def test_lazy_imports_and_unpacking_comprehensions() -> None:
    source = (
        "lazy import os\n"
        "lazy from a.b import (\n"
        "    c,\n"
        ")\n"
        "flat = [*row for row in rows]\n"
        "merged = {**d for d in dicts}\n"
    )
    tree = parse_python(source)
    assert_names_in_place(source, tree, exact=False)
    assert statement_lines(tree) == [
        ("Import", 1, 1),
        ("ImportFrom", 2, 4),
        ("Assign", 5, 5),
        ("Assign", 6, 6),
    ]


def test_unknown_statements_become_ellipsis_and_keep_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend there is no rewrite for lazy imports: the generic fallback must still give a
    # tree in which everything else is where it was.
    monkeypatch.setattr(compat, "_NATIVE_315", True)
    source = "import a\nlazy import os\nx = [\n    a,\n]; lazy import sys\ny = t'{x}'\n"
    if PY314:
        source = source.replace("t'", "f'")
    tree = parse_python(source)
    assert statement_lines(tree) == [
        ("Import", 1, 1),
        ("Expr", 2, 2),
        ("Expr", 3, 5),
        ("Expr", 5, 5),
        ("Assign", 6, 6),
    ]
    assert ast.dump(tree.body[1]) == "Expr(value=Constant(value=Ellipsis))"
    assert_names_in_place(source, tree)


def test_crlf_line_endings() -> None:
    source = "def f[T](x: T) -> T:\r\n    return t'{x}'\r\n\r\ntype A = int\r\nz = A\r\n"
    tree = parse_python(source.replace("t'", "f'") if PY314 else source)
    alias = "TypeAlias" if PY312 else "Assign"
    assert statement_lines(tree)[:3] == [("FunctionDef", 1, 2), (alias, 4, 4), ("Assign", 5, 5)]
    assert_names_in_place(source, tree)


@pytest.mark.skipif(PY311, reason="3.10 only: PEP 646 star unpacking")
def test_star_unpacking_in_subscripts_on_3_10() -> None:
    source = "def f(*args: *Ts) -> tuple[*Ts, int]:\n    return args\n"
    tree = parse_python(source)
    assert_names_in_place(source, tree)


# --- input that must fail fast -----------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 200_000 + ")" * 200_000,
        "x = " + " + ".join(["a"] * 100_000),
        "x = " + "-" * 100_000 + "a",
        "x = a" + ".b" * 100_000,
        "type X = int\nx = " + "-" * 100_000 + "a\n",
        "type X = int\nx = " + "+".join(["a"] * 100_000) + "\n",
        "type X = int\nx = " + "[" * 5_000 + "]" * 5_000 + "\n",
        "type X = int\nx = f'{" + "(" * 5_000 + "a" + ")" * 5_000 + "}'\n",
        "type X = int\nx = t'{" + "-" * 100_000 + "a}'\n",
    ],
    ids=[
        "parens",
        "plus",
        "unary",
        "attributes",
        "unary-after-new-syntax",
        "plus-after-new-syntax",
        "lists-after-new-syntax",
        "deep-f-string-field",
        "deep-t-string-field",
    ],
)
def test_pathologically_deep_input_raises_syntax_error_quickly(source: str) -> None:
    started = time.perf_counter()
    with pytest.raises(SyntaxError):
        parse_python(source, "deep.py")
    # A guard against work that grows without bound (a retry per nesting level), not a
    # speed measurement: it finishes in about a second, and a busy two-core machine once
    # took 7 s on Python 3.10, so the bound leaves room for load.
    assert time.perf_counter() - started < 30


def test_null_byte_is_a_syntax_error() -> None:
    with pytest.raises(SyntaxError) as raised:
        parse_python("x = 1\ny = '\x00'\n", "nul.py")
    assert (raised.value.lineno, raised.value.offset, raised.value.filename) == (2, 6, "nul.py")


def test_long_flat_literals_still_reach_the_fallback() -> None:
    # Thousands of elements are wide, not deep: the depth guard must let them through.
    items = ", ".join(f"'k{i}': [{i}, {i} + 1]" for i in range(1500))
    source = "type X = int\ndata = {" + items + "}\nafter = data\n"
    tree = parse_python(source)
    assert statement_lines(tree)[-1] == ("Assign", 3, 3)
