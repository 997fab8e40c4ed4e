"""The route inventory: one row per (route, method, full path), as `routes` prints it."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from fastapi_architect.model.apps import Mount, Route
from fastapi_architect.model.apps import status_code_value as status_code_value
from fastapi_architect.model.astutil import const_str, is_false
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.dependencies import DepSite, param_sites
from fastapi_architect.model.project import Function, Project
from fastapi_architect.model.types import annotation_type


@dataclass(frozen=True)
class RouteRow:
    method: str
    path: str
    name: str
    handler: str
    file: str
    line: int
    is_async: bool
    authenticated: bool
    auth: list[str] | None
    response_model: str | None
    status_code: int | None
    tags: list[str]
    include_in_schema: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "name": self.name,
            "handler": self.handler,
            "file": self.file,
            "line": self.line,
            "is_async": self.is_async,
            "authenticated": self.authenticated,
            "auth": self.auth,
            "response_model": self.response_model,
            "status_code": self.status_code,
            "tags": self.tags,
            "include_in_schema": self.include_in_schema,
        }


def inventory(model: AppModel) -> list[RouteRow]:
    """One row per method of every place a route is served, sorted by path and method."""
    rows: dict[str, RouteRow] = {}
    for route in model.routes:
        params = param_sites(model.project, route.handler)
        model_name = response_model(route, model.project)
        for mount in route.mounts:
            for row in _rows(model, route, mount, params, model_name):
                rows.setdefault(repr(row), row)  # the same row twice: one app, two equal includes
    return sorted(rows.values(), key=lambda r: (r.path, _METHOD_ORDER.get(r.method, 99), r.handler))


def _rows(
    model: AppModel, route: Route, mount: Mount, params: list[DepSite], model_name: str | None
) -> list[RouteRow]:
    chain = model.auth_chain(route, mount, params)
    websocket = route.kind == "websocket"
    return [
        RouteRow(
            method=method,
            path=mount.path,
            name=const_str(route.keywords.get("name")) or route.handler.name,
            handler=route.handler.qualname,
            file=route.handler.module.relpath,
            line=route.handler.node.lineno,
            is_async=route.handler.is_async,
            authenticated=chain is not None,
            auth=chain,
            response_model=None if websocket else model_name,
            status_code=None if websocket else route.status_code,
            # WebSocket routes have no OpenAPI operation: no tags, never in the schema.
            tags=[] if websocket else _dedupe([*mount.tags, *route.tags]),
            include_in_schema=not websocket
            and _include_in_schema(route)
            and mount.include_in_schema,
        )
        for method in route.methods
    ]


_METHOD_ORDER = {
    m: i
    for i, m in enumerate(
        ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "WEBSOCKET"]
    )
}

# Return annotations FastAPI does not turn into a response model (`-> JSONResponse`).
RESPONSE_CLASSES = frozenset(
    {
        "fastapi.Response",
        "fastapi.responses.Response",
        "starlette.responses.Response",
    }
)


def response_model(route: Route, project: Project | None = None) -> str | None:
    """`response_model=` as written, else the return annotation (as FastAPI does); None
    for `response_model=None` and, when `project` is given, for a `Response` subclass."""
    expr = route.keywords.get("response_model")
    if expr is not None:
        if isinstance(expr, ast.Constant) and expr.value is None:
            return None
        return ast.unparse(expr)
    returns = route.handler.node.returns
    if returns is None or (isinstance(returns, ast.Constant) and returns.value is None):
        return None
    if project is not None and _is_response_class(project, route.handler, returns):
        return None
    return ast.unparse(returns)


def _is_response_class(project: Project, handler: Function, returns: ast.expr) -> bool:
    name = annotation_type(project, handler.module, returns, handler.parent)
    if name is None:
        return False
    for base in project.mro(name):
        if base in RESPONSE_CLASSES:
            return True
        if base.startswith(("fastapi.responses.", "starlette.responses.")) and base.endswith(
            "Response"
        ):
            return True
    return False


def _include_in_schema(route: Route) -> bool:
    return not is_false(route.keywords.get("include_in_schema"))


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
