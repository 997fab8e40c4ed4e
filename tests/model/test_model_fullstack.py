"""The official full-stack FastAPI template's backend (fixture `fullstack/backend`),
modelled statically: the whole inventory, row by row.

Paths, methods, names, status codes, tags and response models were checked against
FastAPI itself (the fixture app imported with FastAPI 0.115 and its routes listed).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from fastapi_architect.model.apps import AppScanner
from fastapi_architect.model.build import AppModel

Rows = Callable[[str], list[dict[str, object]]]
Models = Callable[[str], AppModel]

USER = ["get_current_user", "reusable_oauth2 (OAuth2PasswordBearer)"]
SUPERUSER = ["get_current_active_superuser", *USER]

# (method, path, module.handler, line, response_model, status_code, auth)
EXPECTED = [
    ("GET", "/api/v1/items/", "items.read_items", 13, "ItemsPublic", None, USER),
    ("POST", "/api/v1/items/", "items.create_item", 27, "ItemPublic", None, USER),
    ("GET", "/api/v1/items/{id}", "items.read_item", 21, "ItemPublic", None, USER),
    ("PUT", "/api/v1/items/{id}", "items.update_item", 35, "ItemPublic", None, USER),
    ("DELETE", "/api/v1/items/{id}", "items.delete_item", 47, "Message", None, USER),
    ("POST", "/api/v1/login/access-token", "login.login_access_token", 17, "Token", None, None),
    ("POST", "/api/v1/login/test-token", "login.test_token", 30, "UserPublic", None, USER),
    (
        "POST",
        "/api/v1/password-recovery-html-content/{email}",
        "login.recover_password_html_content",
        52,
        "Any",  # `-> Any` and response_class=HTMLResponse: FastAPI's response model is Any
        None,
        SUPERUSER,
    ),
    (
        "POST",
        "/api/v1/password-recovery/{email}",
        "login.recover_password",
        36,
        "Message",
        None,
        None,
    ),
    # included only `if settings.ENVIRONMENT == "local"`: statically, it is served
    ("POST", "/api/v1/private/users/", "private.create_user", 21, "UserPublic", None, None),
    ("POST", "/api/v1/reset-password/", "login.reset_password", 42, "Message", None, None),
    ("GET", "/api/v1/users/", "users.read_users", 26, "UsersPublic", None, SUPERUSER),
    ("POST", "/api/v1/users/", "users.create_user", 34, "UserPublic", None, SUPERUSER),
    ("GET", "/api/v1/users/me", "users.read_user_me", 56, "UserPublic", None, USER),
    ("PATCH", "/api/v1/users/me", "users.update_user_me", 40, "UserPublic", None, USER),
    ("DELETE", "/api/v1/users/me", "users.delete_user_me", 62, "Message", None, USER),
    ("PATCH", "/api/v1/users/me/password", "users.update_password_me", 48, "Message", None, USER),
    ("POST", "/api/v1/users/signup", "users.register_user", 70, "UserPublic", None, None),
    ("GET", "/api/v1/users/{user_id}", "users.read_user_by_id", 76, "UserPublic", None, USER),
    ("PATCH", "/api/v1/users/{user_id}", "users.update_user", 88, "UserPublic", None, SUPERUSER),
    ("DELETE", "/api/v1/users/{user_id}", "users.delete_user", 99, "Message", None, SUPERUSER),
    ("GET", "/api/v1/utils/health-check/", "utils.health_check", 21, "bool", None, None),
    ("POST", "/api/v1/utils/test-email/", "utils.test_email", 15, "Message", 201, SUPERUSER),
]


def _expected_row(entry: tuple[object, ...]) -> dict[str, object]:
    method, path, handler, line, model, status, auth = entry
    module, _, name = str(handler).partition(".")
    return {
        "method": method,
        "path": path,
        "name": name,
        "handler": f"app.api.routes.{handler}",
        "file": f"app/api/routes/{module}.py",
        "line": line,
        "is_async": name == "health_check",
        "authenticated": auth is not None,
        "auth": auth,
        "response_model": model,
        "status_code": status,
        "tags": [module],
        "include_in_schema": True,
    }


def test_full_inventory(rows_of: Rows) -> None:
    assert rows_of("fullstack/backend") == [_expected_row(e) for e in EXPECTED]


def test_api_router_prefix_from_settings(model_of: Models) -> None:
    model = model_of("fullstack/backend")
    api_router = model.routers["app.api.main.api_router"]
    [include] = api_router.included_by
    assert include.parent.key == "app.main.app"
    assert include.prefix == "/api/v1"  # settings.API_V1_STR, `API_V1_STR: str = "/api/v1"`
    assert [i.child.module.name for i in api_router.includes] == [
        "app.api.routes.login",
        "app.api.routes.users",
        "app.api.routes.utils",
        "app.api.routes.items",
        "app.api.routes.private",
    ]
    assert model.unresolved_includes == 0


def test_token_url_is_evaluated(model_of: Models) -> None:
    model = model_of("fullstack/backend")
    deps = model.project.modules["app.api.deps"]
    scheme = deps.assignments["reusable_oauth2"]
    assert isinstance(scheme, ast.Call)
    token_url = scheme.keywords[0].value
    scanner = AppScanner(model.project)
    assert scanner.eval_str(deps, token_url, None) == "/api/v1/login/access-token"


def test_session_dependency_is_not_auth(model_of: Models) -> None:
    model = model_of("fullstack/backend")
    route = next(r for r in model.routes if r.handler.name == "register_user")
    sites = model.route_sites(route)
    assert [(s.param, s.level) for s in sites] == [("session", "parameter")]
    assert model.auth.first_chain(sites) is None
    get_db = model.project.function("app.api.deps.get_db")
    assert get_db is not None and model.is_dependency(get_db)


def test_cors_middleware_is_not_auth(model_of: Models) -> None:
    model = model_of("fullstack/backend")
    app = model.routers["app.main.app"]
    assert [name for name, _node in app.middleware] == ["starlette.middleware.cors.CORSMiddleware"]
