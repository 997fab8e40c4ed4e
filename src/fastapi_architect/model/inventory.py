"""The route inventory: one row per (route, method, full path), as `routes` prints it."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from fastapi_architect.model.apps import Route, status_code_value
from fastapi_architect.model.astutil import const_str, is_true
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.dependencies import param_sites


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
    rows: list[RouteRow] = []
    for route in model.routes:
        params = param_sites(model.project, route.handler)
        mounts = route.mounts
        for mount in mounts:
            chain = model.auth_chain(route, mount, params)
            tags = _dedupe([*mount.tags, *_tags(route)])
            for method in route.methods:
                rows.append(
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
                        response_model=response_model(route),
                        status_code=status_code_value(route.keywords.get("status_code")),
                        tags=tags,
                        include_in_schema=_include_in_schema(route),
                    )
                )
    rows.sort(key=lambda r: (r.path, _METHOD_ORDER.get(r.method, 99), r.handler))
    return rows


_METHOD_ORDER = {m: i for i, m in enumerate(
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "WEBSOCKET"]
)}

def response_model(route: Route) -> str | None:
    expr = route.keywords.get("response_model")
    if expr is not None:
        if isinstance(expr, ast.Constant) and expr.value is None:
            return None
        return ast.unparse(expr)
    returns = route.handler.node.returns
    if returns is None or (isinstance(returns, ast.Constant) and returns.value is None):
        return None
    return ast.unparse(returns)


def _tags(route: Route) -> list[str]:
    expr = route.keywords.get("tags")
    if isinstance(expr, (ast.List, ast.Tuple)):
        return [v for v in (const_str(e) for e in expr.elts) if v is not None]
    return []


def _include_in_schema(route: Route) -> bool:
    expr = route.keywords.get("include_in_schema")
    return expr is None or is_true(expr)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
