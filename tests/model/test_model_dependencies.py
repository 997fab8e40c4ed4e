"""Dependencies at every level, resolved to their definitions and followed transitively,
and the authentication verdict with the chain that shows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fastapi_architect.config import Config
from fastapi_architect.model.apps import Route
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.dependencies import (
    param_sites,
    resolve_target,
    walk_dependencies,
)
from fastapi_architect.review.engine import load_model

Row = Callable[[str, str, str], dict[str, object]]
Rows = Callable[[str], list[dict[str, object]]]
Models = Callable[[str], AppModel]

USER = ["get_current_user", "oauth2_scheme (OAuth2PasswordBearer)"]


def _route(model: AppModel, handler_name: str) -> Route:
    found = [r for r in model.routes if r.handler.name == handler_name]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("path", "chain"),
    [
        ("/default", USER),  # user: User = Depends(get_current_user)
        ("/annotated", USER),  # Annotated[User, Depends(get_current_user)]
        # CurrentUser = Annotated[User, Depends(get_current_active_user)], imported
        ("/alias", ["get_current_active_user", *USER]),
        ("/attribute", USER),  # Depends(deps.get_current_user), `from app import security as deps`
        ("/decorator", USER),  # @router.get(dependencies=[Depends(get_current_user)])
        ("/scopes", ["oauth2_scheme (OAuth2PasswordBearer)"]),  # Security(scheme, scopes=[...])
        ("/role-checker", ["RoleChecker", *USER]),  # Depends(RoleChecker("admin")): __call__
        # Depends(require_role("admin")): the function the factory returns
        ("/role-factory", ["require_role", "get_current_active_user", *USER]),
        ("/bearer-direct", ["HTTPBearer"]),  # Depends(HTTPBearer())
        ("/bearer-nested", ["check_token", "bearer (HTTPBearer)"]),
        ("/api-key-subclass", ["tenant_key (APIKeyHeader)"]),  # a project APIKeyHeader subclass
        ("/configured", ["verify_token"]),  # no scheme: the configured auth-dependency name
        # svc: OwnerService = Depends(): the class's __init__ takes CurrentUser
        ("/owner-service", ["OwnerService", "get_current_active_user", *USER]),
        # Depends(auth_handler.auth_wrapper): a bound method; its default Security(security)
        # names a class attribute `security = HTTPBearer()`
        ("/bound-method", ["auth_wrapper", "security (HTTPBearer)"]),
        ("/function-alias", USER),  # current = get_current_user: the same dependency
        ("/protected/router-level", USER),  # APIRouter(dependencies=[...])
        ("/me/subclass", USER),  # UserAPIRouter.__init__ passes dependencies= to super()
        ("/admin/grand-subclass", USER),  # a subclass of that subclass
        ("/team/members", USER),  # super().__init__(dependencies=merged), a local list
        ("/guarded/public", USER),  # include_router(..., dependencies=[...])
        ("/everything/public", USER),  # FastAPI(dependencies=[...])
    ],
)
def test_authenticated_routes(path: str, chain: list[str], row_of: Row) -> None:
    row = row_of("auth", "GET" if path not in _POSTS else "POST", path)
    assert row["authenticated"] is True
    assert row["auth"] == chain


_POSTS = {"/owner-service", "/service", "/everything/service"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/public"),  # Depends(pagination): not auth
        ("POST", "/service"),  # Annotated[BookService, Depends()]: BookService needs get_db only
        ("GET", "/public/open"),  # mounted on secured_app: its dependencies do not apply
        ("GET", "/role-class"),  # Depends(RoleChecker): its __init__, not its __call__
    ],
)
def test_unauthenticated_routes(method: str, path: str, row_of: Row) -> None:
    row = row_of("auth", method, path)
    assert row["authenticated"] is False
    assert row["auth"] is None


def test_the_same_route_differs_per_mount(rows_of: Rows) -> None:
    verdicts = {
        r["path"]: r["authenticated"] for r in rows_of("auth") if r["handler"].endswith(".public")
    }
    assert verdicts == {"/public": False, "/guarded/public": True, "/everything/public": True}


def test_dependency_levels(model_of: Models) -> None:
    model = model_of("auth")
    route = _route(model, "by_router_subclass")
    assert [s.level for s in model.route_sites(route)] == ["router"]
    decorated = _route(model, "by_decorator")
    assert [s.level for s in model.route_sites(decorated)] == ["decorator"]
    guarded = _route(model, "public")
    levels = {m.path: [s.level for s in m.dependencies] for m in guarded.mounts}
    assert levels == {"/public": [], "/guarded/public": ["include"], "/everything/public": ["app"]}


def test_parameter_sites(model_of: Models) -> None:
    model = model_of("auth")
    project = model.project
    scopes = param_sites(project, _route(model, "by_scopes").handler)
    assert [(s.param, s.security, s.level) for s in scopes] == [("token", True, "parameter")]
    alias = param_sites(project, _route(model, "by_alias").handler)
    # declared in app/security.py, through the alias
    assert alias[0].module.name == "app.security"
    service = param_sites(project, _route(model, "by_service_class").handler)
    target = resolve_target(project, service[0])
    assert target is not None
    assert target.qualname == "app.services.BookService"
    assert target.function is not None and target.function.name == "__init__"


def test_dependency_targets_resolve_to_definitions(model_of: Models) -> None:
    model = model_of("auth")
    project = model.project

    def target_of(handler: str) -> tuple[str | None, str | None, str | None]:
        route = _route(model, handler)
        site = model.route_sites(route)[0]
        target = resolve_target(project, site)
        assert target is not None
        fn = target.function.qualname if target.function else None
        return target.qualname, fn, target.scheme

    assert target_of("by_attribute") == (
        "app.security.get_current_user",
        "app.security.get_current_user",
        None,
    )
    assert target_of("by_role_checker") == (
        "app.security.RoleChecker",
        "app.security.RoleChecker.__call__",
        None,
    )
    assert target_of("by_role_factory") == (
        "app.security.require_role",
        "app.security.require_role.checker",
        None,
    )
    assert target_of("by_bearer") == ("fastapi.security.HTTPBearer", None, "HTTPBearer")
    assert target_of("by_api_key") == ("app.security.tenant_key", None, "APIKeyHeader")


def test_dependencies_are_followed_transitively(model_of: Models) -> None:
    model = model_of("auth")
    route = _route(model, "by_alias")
    names = [t.name for _s, t in walk_dependencies(model.project, model.route_sites(route))]
    assert names == ["get_current_active_user", "get_current_user", "oauth2_scheme"]
    for fn_name in ("get_current_user", "get_current_active_user", "checker", "__call__"):
        fn = next(f for f in model.project.functions.values() if f.name == fn_name)
        assert model.is_dependency(fn), fn_name
    assert not model.is_dependency(_route(model, "by_alias").handler)


def test_a_class_used_two_ways_is_two_dependencies(model_of: Models) -> None:
    # Depends(RoleChecker) calls __init__(role); Depends(RoleChecker("admin")) calls
    # __call__(user=Depends(get_current_user)). The first must not hide the second.
    model = model_of("auth")
    as_class = model.route_sites(_route(model, "by_role_class"))[0]
    as_instance = model.route_sites(_route(model, "by_role_checker"))[0]
    assert model.auth.chain(as_class) is None
    assert model.auth.chain(as_instance) == ["RoleChecker", *USER]
    walked = walk_dependencies(model.project, [as_class, as_instance])
    functions = [t.function.name for _s, t in walked if t.function is not None]
    assert functions == ["__init__", "__call__", "get_current_user"]


def test_a_module_level_name_bound_to_depends_is_a_dependency(tmp_path: Path) -> None:
    """`token: TIToken = CurrentToken`, with `CurrentToken = Depends(require_auth)` in
    another module (airflow's execution API): the default is followed to the call."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "security.py").write_text(
        "from fastapi import Depends\n"
        "from fastapi.security import HTTPBearer\n\n"
        "bearer = HTTPBearer()\n\n\n"
        "def require_auth(creds=Depends(bearer)) -> str:\n"
        "    return creds.credentials\n\n\n"
        "CurrentToken = Depends(require_auth)\n"
        "NotADependency = 3\n"
    )
    (tmp_path / "app" / "main.py").write_text(
        "from fastapi import FastAPI\n\n"
        "from app.security import CurrentToken, NotADependency\n\n"
        "app = FastAPI()\n\n\n"
        '@app.post("/items")\n'
        "def create(token: str = CurrentToken, limit: int = NotADependency) -> str:\n"
        "    return token\n"
    )
    model = load_model([tmp_path], Config())
    route = _route(model, "create")
    sites = param_sites(model.project, route.handler)
    assert [(s.param, s.module.name) for s in sites] == [("token", "app.security")]
    target = resolve_target(model.project, sites[0])
    assert target is not None and target.qualname == "app.security.require_auth"
    assert model.auth_chain(route, route.mounts[0]) == ["require_auth", "bearer (HTTPBearer)"]


def test_a_security_dependency_built_at_run_time_authenticates(tmp_path: Path) -> None:
    """`Security(authorize)` with `authorize = get_authorization_provider()` (zenml): what
    it calls is only known at run time, but `Security()` declares it a security
    dependency; `Depends()` of the same unknown callable does not."""
    (tmp_path / "main.py").write_text(
        "from fastapi import Depends, FastAPI, Security\n\n"
        "from providers import get_authorization_provider, get_session_provider\n\n"
        "authorize = get_authorization_provider()\n"
        "session = get_session_provider()\n"
        "app = FastAPI()\n\n\n"
        '@app.delete("/stacks/{stack_id}")\n'
        "def delete_stack(stack_id: int, _: object = Security(authorize)) -> None:\n"
        "    return None\n\n\n"
        '@app.delete("/runs/{run_id}")\n'
        "def delete_run(run_id: int, db: object = Depends(session)) -> None:\n"
        "    return None\n"
    )
    model = load_model([tmp_path], Config())
    secured = _route(model, "delete_stack")
    assert model.auth_chain(secured, secured.mounts[0]) == ["authorize (Security)"]
    plain = _route(model, "delete_run")
    assert model.auth_chain(plain, plain.mounts[0]) is None


def test_dependencies_a_factory_adds_to_its_list_may_apply(tmp_path: Path) -> None:
    """`deps = [...]`, then `if settings.auth: deps.append(Depends(...))` (phoenix), or
    `[Depends(auth)] if enabled else []`: the dependency applies when the setting is on,
    so it is one of the route's dependencies; a list built elsewhere is not touched."""
    (tmp_path / "main.py").write_text(
        "from fastapi import APIRouter, Depends, FastAPI\n"
        "from fastapi.security import APIKeyHeader\n\n"
        "header = APIKeyHeader(name='X-Key')\n\n\n"
        "def read_only() -> None: ...\n\n\n"
        "def make_router(auth: bool) -> APIRouter:\n"
        "    deps = [Depends(read_only)]\n"
        "    if auth:\n"
        "        deps.append(Depends(header))\n"
        "    router = APIRouter(dependencies=deps)\n\n"
        '    @router.delete("/items/{item_id}")\n'
        "    def delete_item(item_id: int) -> None: ...\n\n"
        "    return router\n\n\n"
        "def make_other(auth: bool) -> APIRouter:\n"
        "    other = APIRouter(dependencies=[Depends(header)] if auth else [])\n\n"
        '    @other.delete("/tags/{tag_id}")\n'
        "    def delete_tag(tag_id: int) -> None: ...\n\n"
        "    return other\n\n\n"
        "def make_plain() -> APIRouter:\n"
        "    deps = [Depends(read_only)]\n"
        "    plain = APIRouter(dependencies=deps)\n\n"
        '    @plain.delete("/notes/{note_id}")\n'
        "    def delete_note(note_id: int) -> None: ...\n\n"
        "    return plain\n\n\n"
        "app = FastAPI()\n"
        "app.include_router(make_router(True))\n"
        "app.include_router(make_other(True))\n"
        "app.include_router(make_plain())\n"
    )
    model = load_model([tmp_path], Config())
    for handler in ("delete_item", "delete_tag"):
        route = _route(model, handler)
        assert model.auth_chain(route, route.mounts[0]) == ["header (APIKeyHeader)"], handler
    plain = _route(model, "delete_note")
    assert model.auth_chain(plain, plain.mounts[0]) is None


def test_an_app_handed_to_a_helper_and_rebound_keeps_its_routes(tmp_path: Path) -> None:
    """`app = FastAPI()`, routes, then `app = add_extras(app=app)` (phoenix's factory):
    the name's last binding is the helper's answer, but the routes are the app's."""
    (tmp_path / "main.py").write_text(
        "from fastapi import FastAPI\n\n\n"
        "def add_extras(app: FastAPI) -> FastAPI:\n"
        "    return app\n\n\n"
        "def create_app() -> FastAPI:\n"
        "    app = FastAPI()\n\n"
        '    @app.get("/health")\n'
        "    def health() -> dict[str, str]:\n"
        '        return {"ok": "yes"}\n\n'
        "    app = add_extras(app=app)\n"
        "    return app\n\n\n"
        "api = FastAPI()\n"
        "api = add_extras(api)\n\n\n"
        '@api.get("/ping")\n'
        "def ping() -> str:\n"
        '    return "pong"\n'
    )
    model = load_model([tmp_path], Config())
    for handler, path in (("health", "/health"), ("ping", "/ping")):
        route = _route(model, handler)
        assert route.router.kind == "app", handler
        assert [m.path for m in route.mounts] == [path]
