"""Which parameter each argument of a call goes to (`model.calls`), for the method
shapes that used to be mapped one position off."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from fastapi_architect.config import Config
from fastapi_architect.model.calls import passed_arguments, receiver_count, spreads
from fastapi_architect.model.project import Function
from fastapi_architect.review.engine import load_model

SOURCE = """
class Store:
    def write(self, key, value=None):
        pass

    @staticmethod
    def clean(key, value=None):
        pass

    @classmethod
    def build(cls, key, value=None):
        pass


def helper(key, value=None, *, flag=False):
    pass
"""


@pytest.fixture(scope="module")
def functions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Function]:
    root: Path = tmp_path_factory.mktemp("calls")
    (root / "store.py").write_text(textwrap.dedent(SOURCE))
    model = load_model([root], Config())
    out = {}
    for name in ("Store.write", "Store.clean", "Store.build", "helper"):
        fn = model.project.function(f"store.{name}")
        assert fn is not None, name
        out[name] = fn
    return out


def _call(source: str) -> ast.Call:
    node = ast.parse(source, mode="eval").body
    assert isinstance(node, ast.Call)
    return node


def _mapped(fn: Function, source: str, unbound: bool | None = None) -> dict[str, str]:
    return {
        name: ast.unparse(arg)
        for name, arg in passed_arguments(fn, _call(source), unbound).items()
    }


@pytest.mark.parametrize(
    ("callee", "source", "expected"),
    [
        # An instance fills `self`: the first argument is `key`.
        ("Store.write", "store.write(k, v)", {"key": "k", "value": "v"}),
        ("Store.write", "self.write(k, value=v)", {"key": "k", "value": "v"}),
        ("Store.write", "super().write(k)", {"key": "k"}),
        # The class itself does not: the first argument is `self`.
        ("Store.write", "Store.write(store, k, v)", {"self": "store", "key": "k", "value": "v"}),
        ("Store.write", "models.Store.write(store, k)", {"self": "store", "key": "k"}),
        # A staticmethod has no receiver, a classmethod always has one.
        ("Store.clean", "Store.clean(k, v)", {"key": "k", "value": "v"}),
        ("Store.clean", "store.clean(k)", {"key": "k"}),
        ("Store.build", "Store.build(k, v)", {"key": "k", "value": "v"}),
        ("Store.build", "store.build(k)", {"key": "k"}),
        # A plain function; keywords and keyword-only parameters.
        ("helper", "helper(k, flag=True)", {"key": "k", "flag": "True"}),
        ("helper", "mod.helper(k, v)", {"key": "k", "value": "v"}),
        # Nothing is guessed from a spread or past the positional parameters.
        ("helper", "helper(*args, value=v)", {"value": "v"}),
        ("helper", "helper(k, **options)", {"key": "k"}),
        ("helper", "helper(k, v, extra)", {"key": "k", "value": "v"}),
    ],
)
def test_passed_arguments(
    functions: dict[str, Function], callee: str, source: str, expected: dict[str, str]
) -> None:
    assert _mapped(functions[callee], source) == expected


def test_a_resolved_receiver_overrides_the_spelling(functions: dict[str, Function]) -> None:
    # `Alias.write(store, k)`, where the caller resolved `Alias` to the class.
    write = functions["Store.write"]
    assert _mapped(write, "Alias.write(store, k)") == {"key": "store", "value": "k"}
    assert _mapped(write, "Alias.write(store, k)", unbound=True) == {"self": "store", "key": "k"}
    assert receiver_count(functions["Store.build"], _call("Alias.build(k)"), True) == 1


def test_spreads() -> None:
    assert spreads(_call("f(*a)"))
    assert spreads(_call("f(x, **kw)"))
    assert not spreads(_call("f(x, y=1)"))
