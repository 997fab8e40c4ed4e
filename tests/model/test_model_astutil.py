"""The walking helpers every scan of the model (and many rules) relies on."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from fastapi_architect.model.astutil import (
    assignment_targets,
    body_nodes,
    child_nodes,
    statements,
    walk_nodes,
    without_docstring,
)
from fastapi_architect.model.project import top_level_statements

SOURCE = """
import a
if TYPE_CHECKING:
    import b
try:
    import c
except ImportError:
    import d
else:
    import e
finally:
    import f
def fn(x=default()):
    y = call()
    for i in range(3):
        while True:
            z = 1
    with ctx() as w:
        match w:
            case 1:
                v = 2
    def inner():
        hidden()
    lam = lambda q=qdefault(): body()
"""


def _names(nodes: Iterable[ast.AST]) -> list[str]:
    out = []
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            out.append(node.func.id)
    return out


def test_top_level_statements_look_into_if_try_blocks_in_order() -> None:
    tree = ast.parse(SOURCE)
    imports = [
        s.names[0].name for s in top_level_statements(tree.body) if isinstance(s, ast.Import)
    ]
    assert imports == ["a", "b", "c", "d", "e", "f"]


def test_statements_visit_nested_blocks_in_order_but_not_nested_functions() -> None:
    fn = ast.parse(SOURCE).body[-1]
    assert isinstance(fn, ast.FunctionDef)
    assigned = [
        s.targets[0].id
        for s in statements(fn.body)
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
    ]
    assert assigned == ["y", "z", "v", "lam"]


def test_body_nodes_stay_in_the_function_scope() -> None:
    fn = ast.parse(SOURCE).body[-1]
    assert isinstance(fn, ast.FunctionDef)
    # inner() and the lambda body run elsewhere; the lambda's default runs here
    assert _names(body_nodes(fn)) == ["call", "range", "ctx", "qdefault"]
    # the function's own default runs in the enclosing scope
    assert _names(walk_nodes([fn])) == ["default"]


def test_child_nodes_match_ast_without_context_markers() -> None:
    tree = ast.parse("x.y[0] = f(a, *b, k=c)")
    for node in ast.walk(tree):
        expected = [n for n in ast.iter_child_nodes(node) if not isinstance(n, ast.expr_context)]
        assert child_nodes(node) == expected


def test_assignment_targets() -> None:
    body = ast.parse("a = b.c = 1\nd: int = 2\ne += 3\nf()\nfor g in h: pass\n").body
    assert [[ast.unparse(t) for t in assignment_targets(s)] for s in body] == [
        ["a", "b.c"],
        ["d"],
        ["e"],
        [],
        [],
    ]


def test_without_docstring() -> None:
    documented, plain, constant = (
        ast.parse(src).body[0]
        for src in (
            'def f():\n    "Doc."\n    return 1\n',
            "def g():\n    return 2\n",
            "def h():\n    ...\n",
        )
    )
    assert [ast.unparse(s) for s in without_docstring(documented.body)] == ["return 1"]  # type: ignore[attr-defined]
    assert [ast.unparse(s) for s in without_docstring(plain.body)] == ["return 2"]  # type: ignore[attr-defined]
    assert [ast.unparse(s) for s in without_docstring(constant.body)] == ["..."]  # type: ignore[attr-defined]
