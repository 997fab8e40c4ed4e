"""What rules receive for the file being walked: `FileContext.resolve` keeps its answers,
and an answer depends on the function the walk is in, not only on the expression."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.engine import load_model

SOURCE = """
import json


def shadows(json):
    return json.dumps({})


def uses_module():
    return json.dumps({})
"""


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_resolve_answers_per_function(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SOURCE)
    model = load_model([tmp_path], Config(), root=tmp_path)
    module = model.project.modules["app"]
    ctx = FileContext(module, model, Config())
    functions = _functions(module.tree)
    call = functions["uses_module"].body[0].value
    assert isinstance(call, ast.Call)

    ctx.stack[:] = [functions["uses_module"], functions["uses_module"].body[0]]
    assert ctx.resolve(call.func) == "json.dumps"
    assert ctx.resolve(call.func) == "json.dumps"  # kept, same answer

    # The same expression seen from the function whose parameter shadows the import:
    # the kept answer for `uses_module` must not be reused there.
    ctx.stack[:] = [functions["shadows"], functions["shadows"].body[0]]
    assert ctx.resolve(call.func) == "app.shadows.json.dumps"  # the parameter's


def test_resolve_does_not_confuse_a_new_node_with_a_freed_one(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SOURCE)
    model = load_model([tmp_path], Config(), root=tmp_path)
    module = model.project.modules["app"]
    ctx = FileContext(module, model, Config())
    fn = _functions(module.tree)["uses_module"]
    ctx.stack[:] = [fn, fn.body[0]]
    load = ast.Load()
    addresses: set[int] = set()
    for name, expected in [("json", "json"), ("missing", "missing")] * 50:
        # Nodes built and dropped one after another: CPython hands a new node the
        # address of the last one; the kept answer must not be returned for it.
        node = ast.Name(id=name, ctx=load)
        addresses.add(id(node))
        assert ctx.resolve(node) == expected
        del node
    assert len(addresses) == 100  # no node was freed while its answer was kept
