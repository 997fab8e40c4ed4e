"""The call graph of project functions, across modules, through aliases, methods and
injected services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Function
from fastapi_architect.review.engine import load_model

Models = Callable[[str], AppModel]


def _fn(model: AppModel, qualname: str) -> Function:
    fn = model.project.function(qualname)
    assert fn is not None, qualname
    return fn


def _targets(model: AppModel, qualname: str) -> list[str | None]:
    return [site.target for site in model.callgraph.calls_of(_fn(model, qualname))]


def test_module_alias_calls(model_of: Models) -> None:
    # `from app.services import pricing as p; p.convert(...); p.get_rate(...)`
    model = model_of("callgraph")
    assert _targets(model, "app.services.books.BookService.price") == [
        "app.services.pricing.convert",
        "app.services.pricing.get_rate",
    ]


def test_imported_function_alias(model_of: Models) -> None:
    # `from app.services.pricing import convert as to_eur`; svc via a module-level alias
    # `BookServiceDep = Annotated[BookService, Depends()]`
    model = model_of("callgraph")
    assert _targets(model, "app.api.books.book_price") == [
        "app.services.books.BookService.price",
        "app.services.pricing.convert",
    ]


def test_self_attribute_method_calls(model_of: Models) -> None:
    # `self.repo = Repo()` in __init__, then `self.repo.save()` / `self.repo.get()`
    model = model_of("callgraph")
    assert _targets(model, "app.services.books.BookService.create") == [
        "app.repo.Repo.save",
        "app.repo.Repo.get",
    ]
    # `self.repo = repo` where `repo: Repo = Depends(get_repo)` is an __init__ parameter
    assert _targets(model, "app.services.books.InjectedService.find") == ["app.repo.Repo.get"]


def test_injected_service_method_calls(model_of: Models) -> None:
    model = model_of("callgraph")
    # `svc: Annotated[BookService, Depends()]` then `svc.create(...)`
    assert _targets(model, "app.api.books.create_book") == ["app.services.books.BookService.create"]
    # `svc: InjectedService = Depends()` then `svc.find(...)`
    assert _targets(model, "app.api.books.find_book") == ["app.services.books.InjectedService.find"]
    # a local `service = BookService()`
    assert _targets(model, "app.api.books.helper") == [
        "app.services.books.BookService",
        "app.services.books.BookService.create",
    ]


def test_outside_calls_keep_their_dotted_name(model_of: Models) -> None:
    model = model_of("callgraph")
    assert "requests.get" in _targets(model, "app.services.pricing.get_rate")


def test_awaited_calls_are_marked(model_of: Models) -> None:
    model = model_of("factory")
    # nothing awaited there; the `ping` handler in the mounted app is async but calls nothing
    assert model.callgraph.calls_of(_fn(model, "app.subapp.ping")) == []
    auth = model_of("auth")
    sites = auth.callgraph.calls_of(_fn(auth, "app.security.TenantKey.__call__"))
    # `return await super().__call__(request)` in a subclass of APIKeyHeader
    assert [(s.target, s.awaited) for s in sites] == [
        ("fastapi.security.APIKeyHeader.__call__", True),
        ("super", False),
    ]


def test_callees_and_callers(model_of: Models) -> None:
    model = model_of("callgraph")
    graph = model.callgraph
    price = _fn(model, "app.services.books.BookService.price")
    assert [f.qualname for f in graph.callees(model.project, price)] == [
        "app.services.pricing.convert",
        "app.services.pricing.get_rate",
    ]
    helper = _fn(model, "app.api.books.helper")
    # `BookService()` calls its __init__
    assert [f.qualname for f in graph.callees(model.project, helper)] == [
        "app.services.books.BookService.__init__",
        "app.services.books.BookService.create",
    ]
    callers = sorted(c for c, _site in graph.callers("app.services.pricing.get_rate"))
    assert callers == ["app.services.books.BookService.price", "app.services.pricing.convert"]
    assert [c for c, _ in graph.callers("requests.get")] == ["app.services.pricing.get_rate"]


def test_find_chain_across_modules(model_of: Models) -> None:
    model = model_of("callgraph")
    start = _fn(model, "app.api.books.book_price")
    chain = model.callgraph.find_chain(
        model.project,
        start,
        lambda site: site.target == "requests.get",
        "requests",
        lambda _f: True,
    )
    assert chain is not None
    assert [name for _site, name in chain] == [
        "books.BookService.price",
        "pricing.get_rate",  # the shortest way: `price` also calls `get_rate` directly
        "requests.get",
    ]


def test_call_cycles_terminate(model_of: Models) -> None:
    # helper_a -> helper_b -> helper_a -> ...
    model = model_of("cycles")
    start = _fn(model, "app.a.helper_a")
    assert (
        model.callgraph.find_chain(
            model.project, start, lambda site: site.target == "time.sleep", "s", lambda _f: True
        )
        is None
    )
    assert _targets(model, "app.a.helper_a") == ["app.b.helper_b"]
    assert _targets(model, "app.b.helper_b") == ["app.a.helper_a"]


def test_find_chain_prefers_the_shortest_path(tmp_path: Path) -> None:
    # `entry` reaches `time.sleep` through a long chain (declared first) and a short one.
    (tmp_path / "m.py").write_text(
        "import time\n"
        "def deep3(): time.sleep(1)\n"
        "def deep2(): deep3()\n"
        "def deep1(): deep2()\n"
        "def near(): time.sleep(1)\n"
        "def entry():\n    deep1()\n    near()\n",
        encoding="utf-8",
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    entry = model.project.function("m.entry")
    assert entry is not None
    chain = model.callgraph.find_chain(
        model.project, entry, lambda site: site.target == "time.sleep", "sleep", lambda _f: True
    )
    assert chain is not None
    assert [name for _site, name in chain] == ["m.near", "time.sleep"]
    assert chain[0][0].node.lineno == 8


def test_find_chain_only_passes_through_followed_functions(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import time\nasync def coro(): time.sleep(1)\ndef entry(): coro()\n",
        encoding="utf-8",
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    entry = model.project.function("m.entry")
    assert entry is not None

    def sync_only(fn: Function) -> bool:
        return not fn.is_async

    assert (
        model.callgraph.find_chain(
            model.project, entry, lambda site: site.target == "time.sleep", "sync", sync_only
        )
        is None
    )


def test_nested_functions_of_the_same_name_resolve_to_their_own_scope(tmp_path: Path) -> None:
    # Two handlers each define their own `helper`: each call reaches its own definition.
    (tmp_path / "m.py").write_text(
        "def a():\n"
        "    def helper():\n        raise KeyError\n"
        "    return helper()\n"
        "def b():\n"
        "    def helper():\n        return 1\n"
        "    return helper()\n"
        "def helper():\n    return 2\n"
        "def c():\n    return helper()\n",
        encoding="utf-8",
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    targets = {
        name: [site.target for site in model.callgraph.calls_of(fn)]
        for name in ("m.a", "m.b", "m.c")
        if (fn := model.project.function(name)) is not None
    }
    assert targets == {"m.a": ["m.a.helper"], "m.b": ["m.b.helper"], "m.c": ["m.helper"]}
