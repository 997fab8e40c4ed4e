"""Module names and import resolution across a project: flat, `src/`, `backend/app`,
namespace packages, every import style, re-exports, cycles of imports."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

from fastapi_architect.model.build import AppModel, imported_roots, module_names
from fastapi_architect.model.project import Module

Rows = Callable[[str], list[dict[str, object]]]


def _paths(rows: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(r["method"], r["path"], r["handler"]) for r in rows]


def _module(model: AppModel, name: str) -> Module:
    module = model.project.modules[name]
    assert module.name == name
    return module


# ------------------------------------------------------------------ module names


def test_module_names_of_a_regular_package(fixtures_dir: Path) -> None:
    root = fixtures_dir / "imports"
    assert module_names(root / "shop/api/routes/items.py", root) == (
        "shop.api.routes.items",
        [],
        False,
    )
    assert module_names(root / "shop/api/__init__.py", root) == ("shop.api", [], True)


def test_module_names_of_a_namespace_package_use_the_path(fixtures_dir: Path) -> None:
    root = fixtures_dir / "namespace"
    name, aliases, is_package = module_names(root / "app/api/routes.py", root, {"app"})
    assert (name, aliases, is_package) == ("app.api.routes", [], False)
    # not also `routes`: a bare stem would shadow outside modules of the same name


def test_module_names_in_src_layout(fixtures_dir: Path) -> None:
    root = fixtures_dir / "srclayout"
    name, aliases, _ = module_names(root / "src/mypkg/routers/items.py", root, {"mypkg"})
    assert name == "mypkg.routers.items"
    assert "src.mypkg.routers.items" in aliases


def test_module_names_of_backend_app_reviewed_from_the_repository_root(
    fixtures_dir: Path,
) -> None:
    root = fixtures_dir / "fullstack"
    name, aliases, _ = module_names(root / "backend/app/api/deps.py", root, {"app"})
    assert name == "app.api.deps"
    assert aliases == ["backend.app.api.deps"]


def test_imported_roots_reads_module_level_and_guarded_imports() -> None:
    tree = ast.parse(
        "import os.path\n"
        "from app.api import deps\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n    from models.user import User\n"
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n"
        "def f():\n    import lazy\n"
    )
    assert imported_roots([tree]) == {"os", "app", "models", "ujson", "json"}


# ------------------------------------------------------------------ layouts


def test_namespace_packages_without_init_files(
    rows_of: Rows, model_of: Callable[[str], AppModel]
) -> None:
    assert _paths(rows_of("namespace")) == [
        ("GET", "/api/me", "app.api.routes.me"),
        ("GET", "/v1/items", "app.v1.routes.list_items_v1"),
        ("GET", "/v2/items", "app.v2.routes.list_items_v2"),
    ]
    model = model_of("namespace")
    # Two files named routes.py stay two modules.
    assert _module(model, "app.v1.routes").relpath == "app/v1/routes.py"
    assert _module(model, "app.v2.routes").relpath == "app/v2/routes.py"
    # `from ..settings import PREFIX` inside the namespace package resolves.
    assert model.routers["app.api.routes.router"].prefix == "/api"


def test_namespace_relative_import_from_a_regular_subpackage(
    row_of: Callable[[str, str, str], dict[str, object]],
) -> None:
    # app/core/ has an __init__.py, app/ has none: `from ..settings import TOKEN_URL` in
    # app/core/security.py and `from ..core.security import ...` in app/api/deps.py.
    assert row_of("namespace", "GET", "/api/me")["auth"] == ["oauth2_scheme (OAuth2PasswordBearer)"]


def test_src_layout(rows_of: Rows) -> None:
    assert rows_of("srclayout") == [
        {
            "method": "GET",
            "path": "/api/items/",
            "name": "list_items",
            "handler": "mypkg.routers.items.list_items",
            "file": "src/mypkg/routers/items.py",
            "line": 9,
            "is_async": True,
            "authenticated": True,
            "auth": ["require_user", "bearer (HTTPBearer)"],
            "response_model": "list[str]",
            "status_code": None,
            "tags": [],
            "include_in_schema": True,
        }
    ]


@pytest.mark.parametrize("reviewed", ["fullstack/backend", "fullstack"])
def test_backend_app_layout_from_backend_or_repository_root(
    reviewed: str, rows_of: Rows, model_of: Callable[[str], AppModel]
) -> None:
    rows = rows_of(reviewed)
    prefix = "backend/" if reviewed == "fullstack" else ""
    assert len(rows) == 23
    me = next(r for r in rows if r["path"] == "/api/v1/users/me" and r["method"] == "GET")
    assert me["handler"] == "app.api.routes.users.read_user_me"
    assert me["file"] == f"{prefix}app/api/routes/users.py"
    assert _module(model_of(reviewed), "app.api.deps").relpath == f"{prefix}app/api/deps.py"


# ------------------------------------------------------------------ import styles


def test_every_import_style_reaches_its_router(rows_of: Rows) -> None:
    assert _paths(rows_of("imports")) == [
        # `from .routes import router as items_router`, the router re-exported by
        # routes/__init__.py, prefix from `..core.constants`
        ("GET", "/api/items/", "shop.api.routes.items.list_items"),
        # `from shop.api.routes import orders` then `orders.router`
        ("GET", "/api/orders/", "shop.api.routes.orders.list_orders"),
        # `from . import users` then `users.router`
        ("GET", "/api/users/", "shop.api.users.list_users"),
        ("GET", "/order", "shop.main.sample_order"),
        # `import shop.api.v2 as v2` then `v2.router`
        ("GET", "/v2/status", "shop.api.v2.status"),
    ]


def test_reexports_resolve_to_the_definition(model_of: Callable[[str], AppModel]) -> None:
    project = model_of("imports").project
    assert project.canonical("shop.api.api_router") == "shop.api.router.api_router"
    assert project.canonical("shop.api.routes.router") == "shop.api.routes.items.router"
    router_module = _module(model_of("imports"), "shop.api.router")
    assert project.resolve_name(router_module, "items_router") == "shop.api.routes.items.router"
    assert project.resolve_name(router_module, "users") == "shop.api.users"
    assert project.resolve_name(router_module, "constants") == "shop.core.constants"


def test_import_as_alias_of_a_submodule(model_of: Callable[[str], AppModel]) -> None:
    model = model_of("imports")
    main = _module(model, "shop.main")
    assert main.imports["v2"] == "shop.api.v2"
    assert model.project.resolve(main, ast.parse("v2.router", mode="eval").body) == (
        "shop.api.v2.router"
    )


def test_type_checking_imports_are_resolved(model_of: Callable[[str], AppModel]) -> None:
    model = model_of("imports")
    main = _module(model, "shop.main")
    assert model.project.resolve_name(main, "Order") == "shop.core.models.Order"
    assert model.project.class_("shop.core.models.Order") is not None


def test_relative_import_beyond_top_level_is_ignored(model_of: Callable[[str], AppModel]) -> None:
    orders = _module(model_of("imports"), "shop.api.routes.orders")
    assert "nothing" not in orders.imports
    assert "router" in orders.assignments  # the rest of the module is still indexed


def test_lazy_imports_inside_a_function_are_resolved(model_of: Callable[[str], AppModel]) -> None:
    model = model_of("factory")
    main = _module(model, "app.main")
    assert main.imports["admin_router"] == "app.routers.admin.router"
    assert model.project.resolve_name(main, "users") == "app.routers.users"


def test_mutual_import_cycle_and_reexport_cycle_terminate(
    model_of: Callable[[str], AppModel],
) -> None:
    project = model_of("cycles").project
    a = _module(model_of("cycles"), "app.a")
    assert project.resolve_name(a, "b") == "app.b"
    assert project.resolve_name(a, "B_PREFIX") == "app.b.B_PREFIX"
    # reexport_a.thing -> reexport_b.thing -> reexport_a.thing -> ...: gives up, returns a name.
    assert project.canonical("app.reexport_a.thing") in {
        "app.reexport_a.thing",
        "app.reexport_b.thing",
    }
    assert project.function("app.reexport_a.thing") is None


def test_a_namespace_module_does_not_shadow_an_outside_module(
    model_of: Callable[[str], AppModel],
) -> None:
    # app/services/requests.py exists; `import requests` is still the library.
    model = model_of("namespace")
    fetch = model.project.function("app.services.client.fetch")
    assert fetch is not None
    assert [s.target for s in model.callgraph.calls_of(fetch)] == [
        "requests.get",
        "app.services.requests.build_request",
    ]


def test_a_package_shadows_the_module_file_beside_it(tmp_path: Path) -> None:
    # `pkg/utils.py` next to `pkg/utils/`: Python imports the package, never the file
    # (argilla-server ships both). The package must get the name, or calls resolve into
    # dead code (discovery lists a folder's packages before its files).
    from fastapi_architect.config import Config
    from fastapi_architect.review.engine import load_model

    pkg = tmp_path / "pkg"
    (pkg / "utils").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "utils.py").write_text("def parse(x):\n    return int(x)\n")
    (pkg / "utils" / "__init__.py").write_text("from .params import parse\n")
    (pkg / "utils" / "params.py").write_text("def parse(x):\n    return int(x)\n")
    (pkg / "main.py").write_text(
        "from pkg.utils import parse\n\ndef handler(v):\n    return parse(v)\n"
    )
    model = load_model([tmp_path], Config())
    assert model.project.modules["pkg.utils"].relpath == "pkg/utils/__init__.py"
    handler = model.project.function("pkg.main.handler")
    assert handler is not None
    targets = [site.target for site in model.callgraph.calls_of(handler)]
    assert targets == ["pkg.utils.params.parse"]
    # The shadowed file is still reviewed, under a name of its own.
    shadowed = [m for m in model.project.module_list if m.relpath == "pkg/utils.py"]
    assert len(shadowed) == 1
