"""`ArchitectMiddleware`: the request scope of the runtime profiler, as pure ASGI.

    app.add_middleware(ArchitectMiddleware)   # FastAPI or Starlette

For each HTTP request it sets `current_request` (the SQLAlchemy hooks add the
statements to it, the watchdog its blocking steps), notes the status, the
duration and the route template, then hands the finished request to the
recorder. Pure ASGI rather than `BaseHTTPMiddleware`: the app's own task runs the
request, so streaming responses, background tasks and context variables behave
as without it, and the cost is a few attribute reads per request.

- The route template is the matched route's `path_format` ("/authors/{author_id}"
  for "/authors/7"), read from `scope["route"]` after the app ran (Starlette and
  FastAPI set it on a match), with the prefixes of the routers it was included
  through. Below a `Mount` the template is prefixed with the
  mount paths ("/v1/{org}/items/{item_id}"), found in the app's route tree once
  per route.
- A request no route matched (404, the trailing-slash redirect, also below a
  mount whose routes did not match) or that matched
  a route's path but not its methods (405) is not recorded: it is no endpoint of
  the app, and keying it by its concrete URL would let any probe of unknown URLs
  add endpoints to the report. Its statements still count for
  `assert_max_queries`.
- The duration runs until the last body message is sent (the latency the client
  sees); statements and blocking steps of background tasks the request runs after
  its response still count for the request.
- Websocket and lifespan scopes pass through untouched, and a request already in
  a scope (the middleware added to an app and to a sub-app mounted in it) is left
  to the outer one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi_architect.runtime import sqlalchemy_hooks
from fastapi_architect.runtime.recorder import recorder
from fastapi_architect.runtime.scope import RequestScope, current_request
from fastapi_architect.runtime.watchdog import watchdog

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_FINAL_MESSAGES = frozenset({"http.response.body", "http.response.pathsend"})


class ArchitectMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # id(key) -> (key, what was found for it in the route tree): see `_cached`
        self._found: dict[int, tuple[object, Any]] = {}
        self._install_hooks()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or current_request.get() is not None:
            await self.app(scope, receive, send)
            return
        watch = watchdog.enter()
        if not sqlalchemy_hooks.is_installed():
            self._install_hooks()
        root_path = scope.get("root_path", "")
        app = scope.get("app")  # the app we were added to; a mounted app replaces it
        # the watchdog finds the request of a blocked step in this local: keep its name
        request_scope = RequestScope(method=scope["method"], path=scope["path"])
        token = current_request.set(request_scope)

        async def send_and_note(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                request_scope.status = message["status"]
                await send(message)
                return
            await send(message)
            if (
                kind in _FINAL_MESSAGES
                and not message.get("more_body", False)
                and not request_scope.duration_ms
            ):
                request_scope.duration_ms = (time.perf_counter() - request_scope.started) * 1000.0

        try:
            await self.app(scope, receive, send_and_note)
        except Exception:
            if request_scope.status is None:
                request_scope.status = 500
            raise
        finally:
            current_request.reset(token)
            if watch is not None:
                watch.in_flight -= 1
            if not request_scope.duration_ms:
                request_scope.duration_ms = (time.perf_counter() - request_scope.started) * 1000.0
            if request_scope.blocking:
                watchdog.settle(request_scope)
            route = self._route_template(scope, root_path, app)
            if route is not None:
                request_scope.route = route
                recorder.record(request_scope)

    def _route_template(self, scope: Scope, root_path: str, app: object) -> str | None:
        """The matched route's template, with the paths of the mounts above it."""
        inner_root_path = scope.get("root_path", "")
        mounted = inner_root_path != root_path
        route = scope.get("route")
        if route is None:
            # FastAPI's router does not name a matched `Mount`; below a mount of an
            # app without routes (StaticFiles, any ASGI app) that mount is the route
            if not mounted:
                return None
            route = self._cached(scope.get("endpoint"), lambda endpoint: _app_mount(app, endpoint))
            if route is None:
                return None
        methods = getattr(route, "methods", None)
        if methods and scope["method"] not in methods:  # 405: the path matched, not the method
            return None
        if getattr(route, "routes", None):  # Starlette's `Mount` of routes none of which matched
            return None
        template = _included_template(scope, route)
        if template is None:
            template = getattr(route, "path_format", None)
        if not isinstance(template, str):
            template = getattr(route, "path", None)
            if not isinstance(template, str):
                return None
        if not mounted:
            return template
        prefix: str | None = self._cached(route, lambda target: _mount_prefix(app, target))
        if prefix is None:  # not found in the route tree: the concrete mount path
            prefix = inner_root_path[len(root_path) :]
        return prefix.rstrip("/") + template

    def _cached(self, key: object, find: Callable[[object], Any]) -> Any:
        """`find(key)`, once per key object: the route tree does not change once serving."""
        cached = self._found.get(id(key))
        if cached is None or cached[0] is not key:
            cached = self._found[id(key)] = (key, find(key))
        return cached[1]

    @staticmethod
    def _install_hooks() -> None:
        # only for an app that uses SQLAlchemy: never import it for one that does not
        if "sqlalchemy" in sys.modules:
            sqlalchemy_hooks.install()


def _included_template(scope: Scope, route: object) -> str | None:
    """The full template of a route below `include_router`, on FastAPI 0.165 and later.

    Those versions no longer copy included routes into the app with their prefixes:
    `scope["route"]` is the route as its own router declared it ("/products/{id}"), and
    the template with every prefix ("/api/v1/products/{id}") is on the route context
    FastAPI selected for the request. Older versions leave no context: the route's own
    template is already the full one there.
    """
    fastapi_scope = scope.get("fastapi")
    if not isinstance(fastapi_scope, dict):
        return None
    context = fastapi_scope.get("effective_route_context")
    if context is None or getattr(context, "original_route", None) is not route:
        return None
    template = getattr(context, "path_format", None)
    return template if isinstance(template, str) else None


def _mount_prefix(app: object, target: object) -> str | None:
    """The joined paths of the mounts from `app`'s routes down to `target`, if found."""
    found = _find(app, lambda route: route is target)
    return found[1] if found is not None else None


def _app_mount(app: object, endpoint: object) -> object | None:
    """The `Mount` of `endpoint`, an app without routes of its own, if found."""
    try:
        from starlette.routing import Mount
    except ImportError:
        return None
    found = _find(
        app,
        lambda route: isinstance(route, Mount) and route.app is endpoint and not route.routes,
    )
    return found[0] if found is not None else None


def _find(app: object, wanted: Callable[[object], bool]) -> tuple[object, str] | None:
    """The first route of `app`'s route tree that is `wanted`, with its mount prefix."""
    try:
        from starlette.routing import Mount
    except ImportError:
        return None

    def search(routes: list[Any], prefix: str) -> tuple[object, str] | None:
        for route in routes:
            if wanted(route):
                return route, prefix
            children = getattr(route, "routes", None)
            if not children:
                continue
            inner = prefix
            if isinstance(route, Mount):
                inner = prefix + route.path_format.removesuffix("/{path}")
            found = search(list(children), inner)
            if found is not None:
                return found
        return None

    routes = getattr(app, "routes", None)
    return search(list(routes), "") if routes is not None else None


watchdog.register_scope_code(ArchitectMiddleware.__call__.__code__, "request_scope")
