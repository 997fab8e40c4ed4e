"""Every way to register a path operation, and what the inventory says about each.

The expected values were checked against FastAPI itself (the fixture app imported, its
`app.routes` listed): paths, methods, names, status codes, tags, include_in_schema and
response models agree, except that the inventory lists each tag once.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from fastapi_architect.model.apps import status_code_value
from fastapi_architect.model.build import AppModel

Rows = Callable[[str], list[dict[str, object]]]
Row = Callable[[str, str, str], dict[str, object]]

FIELDS = ("method", "path", "name", "handler", "is_async", "status_code", "response_model")


def _short(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [tuple(r[f] for f in FIELDS) for r in rows]


def test_all_registration_forms(rows_of: Rows) -> None:
    h = "app.routes."
    assert _short(rows_of("registration")) == [
        ("GET", "/", "root", "app.main.root", False, None, "dict[str, str]"),
        # add_api_route(path, fn, methods=[...]): one row per method
        ("PUT", "/r/added", "op_added", h + "op_added", False, 200, "Item"),
        ("DELETE", "/r/added", "op_added", h + "op_added", False, 200, "Item"),
        ("DELETE", "/r/delete", "op_delete", h + "op_delete", False, 204, None),
        ("GET", "/r/get", "op_get", h + "op_get", True, None, "Item"),
        ("HEAD", "/r/head", "op_head", h + "op_head", False, None, None),
        ("GET", "/r/hidden", "op_hidden", h + "op_hidden", False, None, None),
        ("GET", "/r/kw-path", "op_kw_path", h + "op_kw_path", True, None, "list[Item]"),
        # router.get(path)(manual) at module level, router.post(path)(manual) inside an if
        ("GET", "/r/manual", "manual", h + "manual", False, None, None),
        ("POST", "/r/manual", "manual", h + "manual", False, None, None),
        # api_route(methods=["GET", "post"])
        ("GET", "/r/multi", "op_multi", h + "op_multi", False, None, None),
        ("POST", "/r/multi", "op_multi", h + "op_multi", False, None, None),
        # name= overrides the function name; `-> JSONResponse` is not a response model
        ("GET", "/r/named", "custom-name", h + "op_named", False, None, None),
        ("OPTIONS", "/r/options", "op_options", h + "op_options", False, None, None),
        # response_model=None wins over the return annotation
        ("PATCH", "/r/patch", "op_patch", h + "op_patch", False, None, None),
        # status.HTTP_201_CREATED; response_model= wins over `-> dict[str, str]`
        ("POST", "/r/post", "op_post", h + "op_post", False, 201, "Item"),
        ("PUT", "/r/put", "op_put", h + "op_put", False, 202, None),
        # an unrelated decorator stacked above the route decorator
        ("GET", "/r/stacked", "op_stacked", h + "op_stacked", False, None, None),
        ("TRACE", "/r/trace", "op_trace", h + "op_trace", False, None, None),
        ("WEBSOCKET", "/r/ws", "ws_endpoint", h + "ws_endpoint", True, None, None),
        ("WEBSOCKET", "/r/ws-added", "ws_added", h + "ws_added", True, None, None),
        # @app.router.post(...): the app's own router; HTTPStatus.CREATED
        ("POST", "/via-app-router", "via_app_router", "app.main.via_app_router", False, 201, None),
    ]


def test_include_in_schema_false_on_the_route(row_of: Row) -> None:
    assert row_of("registration", "GET", "/r/hidden")["include_in_schema"] is False
    assert row_of("registration", "GET", "/r/get")["include_in_schema"] is True


def test_websocket_rows_have_no_openapi_operation(row_of: Row) -> None:
    row = row_of("registration", "WEBSOCKET", "/r/ws")
    assert row["tags"] == []
    assert row["include_in_schema"] is False
    assert row["response_model"] is None and row["status_code"] is None


def test_route_tags_follow_router_tags_once_each(row_of: Row) -> None:
    # APIRouter(tags=["reg"]) + @router.get(tags=["extra", "reg"]): FastAPI says
    # ["reg", "extra", "reg"]; the inventory lists each tag once, in that order.
    assert row_of("registration", "GET", "/r/named")["tags"] == ["reg", "extra"]
    assert row_of("registration", "GET", "/r/get")["tags"] == ["reg"]


def test_row_points_at_the_handler_definition(row_of: Row) -> None:
    row = row_of("registration", "GET", "/r/get")
    assert row["file"] == "app/routes.py"
    assert row["line"] == 29  # the `def` line, under the decorator
    stacked = row_of("registration", "GET", "/r/stacked")
    assert stacked["line"] == 99


def test_route_objects(model_of: Callable[[str], AppModel]) -> None:
    model = model_of("registration")
    by_name = {r.handler.name: r for r in model.routes}
    assert by_name["ws_endpoint"].kind == "websocket"
    assert by_name["op_multi"].methods == ("GET", "POST")
    assert by_name["op_added"].methods == ("PUT", "DELETE")
    assert by_name["op_post"].status_code == 201
    assert by_name["op_get"].is_async
    assert by_name["op_get"].full_paths == ["/r/get"]
    # `manual` is registered twice, by two hand-applied decorator calls.
    assert [r.methods for r in model.routes if r.handler.name == "manual"] == [
        ("POST",),
        ("GET",),
    ]
    assert model.routes_of(by_name["op_get"].handler) == [by_name["op_get"]]


def test_bound_method_endpoints_and_constructor_routes(rows_of: Rows) -> None:
    """Endpoints that are methods of an instance (`add_api_route("/", self.plane.live)`,
    `endpoints.infer` with `endpoints = Endpoints(plane)`), and `APIRoute` objects given
    to `FastAPI(routes=...)`/`APIRouter(routes=...)`, also a project subclass of
    `APIRoute` and a list grown with `+=`. Checked against FastAPI 0.165 (the app
    imported and requested with its TestClient): a listed route gets neither its
    router's prefix nor its dependencies."""
    e = "app.endpoints."
    rows = {(r["method"], r["path"]): (r["handler"], r["auth"]) for r in rows_of("bound_endpoints")}
    assert rows == {
        ("GET", "/"): (e + "DataPlane.live", None),
        ("GET", "/metrics"): ("app.main.metrics", None),
        ("GET", "/v1/models"): (e + "V1Endpoints.models", None),
        ("POST", "/v2/models/{name}/infer"): (e + "Endpoints.infer", None),
        ("GET", "/v2/health/live"): (e + "Endpoints.live", None),
        ("WEBSOCKET", "/v2/stream"): (e + "Endpoints.stream", None),
        ("HEAD", "/ping"): (e + "Endpoints.live", None),
        ("GET", "/open"): (e + "Endpoints.live", None),
        ("GET", "/secure/closed"): (e + "Endpoints.live", ["require_token"]),
        # `EXTRA_PREFIX = f"/{EXTRA_PREFIX}"` under an `if`: unknown, not read in a loop
        ("GET", "/{?}/echo"): (e + "Endpoints.live", None),
        # `from app.paths import USERS as PREFIX`, `USERS = f"{PREFIX}/users"` there: the
        # other module's PREFIX, not a self-reference; `UserViews.user = Depends(...)`
        # is no dependency of a plain class's bound method (only `@cbv` classes)
        ("GET", "/api/users/{user_id}"): ("app.users.UserViews.read_user", None),
    }


def test_status_codes_in_every_spelling() -> None:
    def value(text: str) -> int | None:
        return status_code_value(ast.parse(text, mode="eval").body)

    assert value("201") == 201
    assert value("status.HTTP_201_CREATED") == 201
    assert value("HTTPStatus.CREATED") == 201
    # `from starlette.status import HTTP_500_INTERNAL_SERVER_ERROR`
    assert value("HTTP_500_INTERNAL_SERVER_ERROR") == 500
    assert value("HTTP_STATUS") is None
    assert value("code") is None
