"""Apps, routers and `include_router`/`mount` edges: full paths, tags, dependencies and
schema visibility added up along every way a route is reached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fastapi_architect.config import Config
from fastapi_architect.model.apps import Route
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.inventory import inventory
from fastapi_architect.review.engine import load_model

Rows = Callable[[str], list[dict[str, object]]]
Row = Callable[[str, str, str], dict[str, object]]
Models = Callable[[str], AppModel]


def _paths(rows: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(r["method"], r["path"], r["handler"]) for r in rows]


def _route(model: AppModel, handler_name: str) -> Route:
    found = [r for r in model.routes if r.handler.name == handler_name]
    assert len(found) == 1
    return found[0]


def _dep_names(model: AppModel, route: Route, mount_index: int) -> list[str]:
    mount = route.mounts[mount_index]
    names = []
    for site in [*mount.dependencies, *route.dependencies]:
        target = (
            model.project.resolve(site.module, site.target, site.scope) if site.target else None
        )
        names.append((target or "?").rsplit(".", 1)[-1])
    return names


# ------------------------------------------------------------------ nesting


def test_three_levels_across_three_modules_and_a_router_included_twice(rows_of: Rows) -> None:
    items = "app.api.v1.items."
    assert _paths(rows_of("nesting")) == [
        # app -> api_router (app/api/api.py) -> v1_router (app/api/v1/router.py) -> items
        ("GET", "/api/v1/items/", items + "list_items"),
        ("GET", "/api/v1/items/{item_id}", items + "get_item"),
        # the same items router included by the app a second time, under /legacy
        ("GET", "/legacy/items/", items + "list_items"),
        ("GET", "/legacy/items/{item_id}", items + "get_item"),
    ]


def test_tags_merged_from_includes_routers_and_route(row_of: Row) -> None:
    # include(tags=api) + api_router(tags=root) + include(tags=v1) + include(tags=inc)
    # + items router(tags=items) + route(tags=list): the order FastAPI gives.
    assert row_of("nesting", "GET", "/api/v1/items/")["tags"] == [
        "api",
        "root",
        "v1",
        "inc",
        "items",
        "list",
    ]
    assert row_of("nesting", "GET", "/legacy/items/")["tags"] == ["legacy", "items", "list"]


def test_dependencies_per_mount(model_of: Models) -> None:
    model = model_of("nesting")
    route = _route(model, "list_items")
    assert [m.path for m in route.mounts] == ["/api/v1/items/", "/legacy/items/"]
    # app dependencies, then the v1 router's; the legacy include adds its own instead.
    assert _dep_names(model, route, 0) == ["audit", "per_router"]
    assert _dep_names(model, route, 1) == ["audit", "verify_api_key"]
    assert [r.name for r in route.mounts[0].chain] == ["app", "api_router", "v1_router", "router"]
    assert route.mounts[0].app is model.routers["app.main.app"]


def test_self_including_router_is_ignored(model_of: Models) -> None:
    model = model_of("nesting")
    loop = model.routers["app.api.v1.router.loop_router"]
    assert [i.child for i in loop.includes] == [loop]
    assert loop.routes == []


def test_router_objects(model_of: Models) -> None:
    model = model_of("nesting")
    assert {k: (r.kind, r.prefix) for k, r in model.routers.items()} == {
        "app.main.app": ("app", ""),
        "app.api.api.api_router": ("router", ""),
        "app.api.v1.router.v1_router": ("router", ""),
        "app.api.v1.router.loop_router": ("router", "/loop"),
        "app.api.v1.items.router": ("router", "/items"),
    }
    items = model.routers["app.api.v1.items.router"]
    assert [(i.parent.name, i.prefix, i.tags) for i in items.included_by] == [
        ("v1_router", "", ["inc"]),
        ("app", "/legacy", ["legacy"]),
    ]
    assert model.unresolved_includes == 0


# ------------------------------------------------------------------ app factories


def test_app_factory_lazy_imports_loop_and_mount(rows_of: Rows) -> None:
    assert _paths(rows_of("factory")) == [
        ("DELETE", "/admin/cache", "app.routers.admin.clear_cache"),
        # @app.get on `app = create_app()`: the app built inside the factory
        ("GET", "/health", "app.main.health"),
        # `for r in (users.router, orders.router): app.include_router(r)`
        ("GET", "/orders/", "app.routers.orders.list_orders"),
        ("GET", "/users/", "app.routers.users.list_users"),
        # `app.mount("/v2", v2)`
        ("GET", "/v2/ping", "app.subapp.ping"),
    ]


def test_factory_app_is_the_one_app(model_of: Models) -> None:
    model = model_of("factory")
    apps = [r for r in model.routers.values() if r.kind == "app"]
    assert sorted(r.key for r in apps) == ["app.main.create_app.app", "app.subapp.v2"]
    health = _route(model, "health")
    assert health.router.key == "app.main.create_app.app"
    ping = _route(model, "ping")
    assert [r.key for r in ping.mounts[0].chain] == ["app.main.create_app.app", "app.subapp.v2"]
    assert ping.mounts[0].app is model.routers["app.main.create_app.app"]
    mount = model.routers["app.subapp.v2"].included_by[0]
    assert (mount.kind, mount.prefix) == ("mount", "/v2")


# ------------------------------------------------------------------ loops, constants, factories


def test_includes_driven_by_loops_constants_and_factories(rows_of: Rows) -> None:
    assert _paths(rows_of("includes")) == [
        # app.include_router(factory.build_router()): a router built and returned by a function
        ("GET", "/built/one", "app.routers.factory.build_router.built_one"),
        ("GET", "/internal/state", "app.routers.hidden.state"),
        # module-level `for router in (books.router, authors.router)`
        ("GET", "/loop/authors/", "app.routers.authors.list_authors"),
        ("GET", "/loop/books/", "app.routers.books.list_books"),
        ("GET", "/quiet/books/", "app.routers.books.list_books"),
        # `for versioned_router, version in VERSIONED` over [(router, "/v1"), ...]
        ("GET", "/v1/reviews/", "app.routers.reviews.list_reviews"),
        ("GET", "/v2/stats/", "app.routers.stats.list_stats"),
    ]


def test_tags_from_constants_and_str_enums(row_of: Row) -> None:
    # APIRouter(tags=COMMON_TAGS) + @router.get(tags=[Tags.books])
    assert row_of("includes", "GET", "/built/one")["tags"] == ["catalog", "books"]
    # include_router(tags=[Tags.authors]) inside the loop
    assert row_of("includes", "GET", "/v1/reviews/")["tags"] == ["authors"]


def test_include_in_schema_false_on_router_and_include(row_of: Row) -> None:
    assert row_of("includes", "GET", "/internal/state")["include_in_schema"] is False
    assert row_of("includes", "GET", "/quiet/books/")["include_in_schema"] is False
    assert row_of("includes", "GET", "/loop/books/")["include_in_schema"] is True


def test_dependency_lists_held_by_constants(model_of: Models, row_of: Row) -> None:
    model = model_of("includes")
    app = model.routers["app.main.app"]
    assert [s.level for s in app.dependencies] == ["app"]  # FastAPI(dependencies=COMMON_DEPS)
    built = _route(model, "built_one")
    # SECURE_DEPS = [*COMMON_DEPS, Depends(check_key)] on the include
    assert _dep_names(model, built, 0) == ["request_id", "request_id", "check_key"]
    assert row_of("includes", "GET", "/built/one")["auth"] == [
        "check_key",
        "api_key (APIKeyHeader)",
    ]


# ------------------------------------------------------------------ prefixes


@pytest.mark.parametrize(
    "path",
    [
        "/literal/ping",  # prefix="/literal"
        "/api/ping",  # a module constant, imported
        "/api/v1/plus/ping",  # f"{API_PREFIX}/{VERSION}" + "/plus"
        "/api/v1/ping",  # settings.API_V1_STR: the class default
        "/admin/ping",  # config.settings.ADMIN_PREFIX: a default inherited from a base class
        "/reports/ping",  # Field(default="/reports")
        "/legacy/ping",  # Field("/legacy")
        "/api/v1/called/ping",  # get_settings().API_V1_STR: the function's return annotation
        "/api/v1/cached/ping",  # cached = get_settings(); config.cached.API_V1_STR
        "/api/v1/fstring/ping",  # f"{settings.API_V1_STR}/fstring"
        "/local/ping",  # a local variable of the factory
        "/admin/factory/ping",  # local_settings = get_settings() in the factory
        "{?}/ping",  # os.environ.get(...) default, and a missing attribute: unknown
    ],
)
def test_prefix_forms(path: str, row_of: Row) -> None:
    assert row_of("prefixes", "GET", path)["handler"] == "app.routes.ping"


def test_unknown_prefixes_give_one_row(rows_of: Rows) -> None:
    rows = rows_of("prefixes")
    assert len(rows) == 13
    assert [r["path"] for r in rows].count("{?}/ping") == 1


# ------------------------------------------------------------------ cycles


def test_include_cycles_terminate(rows_of: Rows) -> None:
    # a includes b, b includes a, a includes itself.
    assert _paths(rows_of("cycles")) == [
        ("GET", "/a/b/ping", "app.b.ping_b"),
        ("GET", "/a/ping", "app.a.ping_a"),
        ("GET", "/loop", "app.alias_loop.loop"),
    ]


def test_names_bound_to_each_other_do_not_resolve(model_of: Models) -> None:
    model = model_of("cycles")
    # `first = second; second = first`, and an include of a re-export cycle
    assert model.unresolved_includes == 2


def test_loop_elements_are_read_where_they_are_written(tmp_path: Path) -> None:
    """`for r in all_routers()` (or an imported `ROUTERS`): each element names a router
    in the module that lists it, not in the module with the loop (whose own
    `users_router` is another router)."""
    package = tmp_path / "app"
    (package / "routers").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "routers" / "__init__.py").write_text(
        "from app.routers.users import users_router\n"
        "def all_routers():\n"
        "    return [users_router]\n"
        "ROUTERS = [(users_router, '/v2')]\n"
    )
    (package / "routers" / "users.py").write_text(
        "from fastapi import APIRouter\n"
        "users_router = APIRouter(prefix='/users')\n"
        "@users_router.post('/')\n"
        "def create_user() -> None: ...\n"
    )
    (package / "main.py").write_text(
        "from fastapi import APIRouter, FastAPI\n"
        "from app.routers import ROUTERS, all_routers\n"
        "app = FastAPI()\n"
        "users_router = APIRouter(prefix='/internal')\n"
        "@users_router.post('/x')\n"
        "def internal() -> None: ...\n"
        "for r in all_routers():\n"
        "    app.include_router(r, prefix='/api')\n"
        "for router, version in ROUTERS:\n"
        "    app.include_router(router, prefix=version)\n"
    )
    rows = inventory(load_model([tmp_path], Config(), root=tmp_path))
    assert sorted((r.method, r.path) for r in rows) == [
        ("POST", "/api/users/"),
        ("POST", "/internal/x"),
        ("POST", "/v2/users/"),
    ]


def test_a_router_in_two_returns_of_a_router_list_is_included_once(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(
        "import os\n"
        "from fastapi import APIRouter, FastAPI\n"
        "users = APIRouter(prefix='/users')\n"
        "@users.post('/')\n"
        "def create_user() -> None: ...\n"
        "admin = APIRouter(prefix='/admin')\n"
        "@admin.delete('/cache')\n"
        "def clear_cache() -> None: ...\n"
        "def get_routers() -> list[APIRouter]:\n"
        "    if os.environ.get('ADMIN'):\n"
        "        return [users, admin]\n"
        "    return [users]\n"
        "app = FastAPI()\n"
        "for router in get_routers():\n"
        "    app.include_router(router, prefix='/api')\n"
        "for r, version in [(users, '/v1'), (users, '/v2')]:\n"
        "    app.include_router(r, prefix=version)\n"
    )
    model = load_model([tmp_path], Config(), root=tmp_path)
    assert {r.handler.name: sorted(r.full_paths) for r in model.routes} == {
        "create_user": ["/api/users/", "/v1/users/", "/v2/users/"],
        "clear_cache": ["/api/admin/cache"],
    }
