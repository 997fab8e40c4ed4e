"""Apps, routers, routes and `include_router` edges, and the full paths they add up to."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal

from fastapi_architect.model.astutil import (
    argument,
    body_nodes,
    const_int,
    dotted,
    is_false,
    keyword,
    last_name,
    parameters,
    statements,
    walk_nodes,
)
from fastapi_architect.model.callgraph import CallGraph
from fastapi_architect.model.calls import passed_arguments
from fastapi_architect.model.constants import DYNAMIC as DYNAMIC
from fastapi_architect.model.constants import ConstEvaluator, sequence_elements
from fastapi_architect.model.dependencies import DepSite, list_sites
from fastapi_architect.model.project import ClassInfo, Function, Module, Project
from fastapi_architect.model.types import infer_type

# Third-party subclasses of `FastAPI` we know by name (their source is not in the project):
# cadwyn's versioned application.
APP_CLASSES = frozenset(
    {
        "fastapi.FastAPI",
        "fastapi.applications.FastAPI",
        "cadwyn.Cadwyn",
        "cadwyn.applications.Cadwyn",
    }
)
ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})
# Route objects listed in `FastAPI(routes=[...])` or `APIRouter(routes=[...])` (also of a
# project subclass: mlserver's `APIRoute` with its own request class).
ROUTE_CLASSES = frozenset({"fastapi.routing.APIRoute", "fastapi.APIRoute"})
WEBSOCKET_ROUTE_CLASSES = frozenset({"fastapi.routing.APIWebSocketRoute"})
# Methods of an app or router that include every router passed positionally, like
# `include_router` without a prefix (`Cadwyn.generate_and_include_versioned_routers(*routers)`).
INCLUDE_ALL_METHODS = frozenset({"generate_and_include_versioned_routers"})
# Packages whose `*Router` classes are not FastAPI routers (Starlette's `Router` holds
# plain Starlette routes).
_NOT_API_ROUTER_PACKAGES = frozenset({"starlette"})
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "options", "head", "trace")
ROUTE_DECORATORS = frozenset({*HTTP_METHODS, "api_route", "route", "websocket", "websocket_route"})
# The methods whose calls `AppScanner.visit_call` records (besides a decorator applied by
# hand, `router.get("/x")(handler)`).
REGISTRATION_METHODS = frozenset(
    {
        "include_router",
        "add_api_route",
        "add_api_websocket_route",
        "add_middleware",
        "mount",
        *INCLUDE_ALL_METHODS,
    }
)
_STATUS_RE = re.compile(r"^HTTP_(\d{3})(?:_|$)")


@dataclass(eq=False)
class RouterObj:
    """A `FastAPI()` or `APIRouter()` (or project subclass) instance bound to a name."""

    key: str
    kind: Literal["app", "router"]
    module: Module
    node: ast.Call
    scope: Function | None
    prefix: str
    dependencies: list[DepSite] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    included_by: list[Include] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    middleware: list[tuple[str, ast.AST]] = field(default_factory=list)
    include_in_schema: bool = True  # `APIRouter(include_in_schema=False)`

    @property
    def name(self) -> str:
        return last_name(self.key)


@dataclass(eq=False)
class Include:
    parent: RouterObj
    child: RouterObj
    prefix: str
    dependencies: list[DepSite]
    tags: list[str]
    node: ast.Call
    module: Module
    kind: Literal["include", "mount"] = "include"  # `include_router` or `mount`
    include_in_schema: bool = True  # `include_router(..., include_in_schema=False)`


@dataclass(eq=False)
class Mount:
    """One place a route is reachable: the app, the full path, what protects it on the way."""

    app: RouterObj | None
    path: str
    dependencies: list[DepSite]  # app, include and router levels, outermost first
    tags: list[str]
    chain: list[RouterObj]
    include_in_schema: bool = True  # False when a router or include on the way hides it
    # The same, without the last router's own `include_in_schema=False`, which FastAPI
    # does not apply to the routes given to that router's constructor.
    outer_in_schema: bool = True


@dataclass(eq=False)
class Route:
    handler: Function
    router: RouterObj
    methods: tuple[str, ...]
    path: str
    node: ast.AST  # the decorator call, or the add_api_route call
    module: Module  # where it is registered
    keywords: dict[str, ast.expr]
    dependencies: list[DepSite]  # decorator `dependencies=`
    kind: Literal["http", "websocket"] = "http"
    mounts: list[Mount] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # the decorator's own `tags=`
    # Given to the router's constructor (`APIRouter(routes=[APIRoute(...)])`): FastAPI
    # applies the router's own prefix, dependencies and tags only in `add_api_route`.
    listed: bool = False

    @property
    def full_paths(self) -> list[str]:
        own = "" if self.listed else self.router.prefix
        return [m.path for m in self.mounts] or [own + self.path]

    @property
    def status_code(self) -> int | None:
        return status_code_value(self.keywords.get("status_code"))

    @property
    def is_async(self) -> bool:
        return self.handler.is_async


def status_code_value(expr: ast.expr | None) -> int | None:
    """`201`, `status.HTTP_201_CREATED` or `HTTPStatus.CREATED` as an int."""
    value = const_int(expr)
    if value is not None:
        return value
    if isinstance(expr, ast.Name):
        # `from starlette.status import HTTP_500_INTERNAL_SERVER_ERROR`
        match = _STATUS_RE.match(expr.id)
        if match:
            return int(match.group(1))
    if isinstance(expr, ast.Attribute):
        match = _STATUS_RE.match(expr.attr)
        if match:
            return int(match.group(1))
        if last_name(dotted(expr.value)) == "HTTPStatus" and expr.attr in HTTPStatus.__members__:
            return HTTPStatus[expr.attr].value
    return None


# ------------------------------------------------------------------- discovery


class AppScanner:
    """Finds routers and registrations. `visit_call`/`visit_function` are fed by the
    model builder's single walk of each scope."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.routers: dict[str, RouterObj] = {}
        self.routes: list[Route] = []
        self.unresolved_includes = 0
        self.constants = ConstEvaluator(project)
        self.graph: CallGraph | None = None
        self._pending: list[tuple[str, Module, Function | None, ast.AST]] = []
        # Routers built in the argument of a helper that gives them back (`tenant_router =
        # include_routers(APIRouter(prefix=...))`), by the id of the constructor call.
        self._by_call: dict[int, RouterObj] = {}
        self._loops: dict[int, dict[str, list[ast.For]]] = {}
        # Routers of an outside `*Router` class, kept only once an `include_router` ties
        # them to a FastAPI app or router (see `_confirm_outside_routers`).
        self._unconfirmed: set[str] = set()

    # Routers must all be known before registrations are resolved, so the walk only
    # records candidates; `finish` resolves them.
    def collect_router_bindings(self) -> None:
        for module in self.project.module_list:
            for name, value in module.assignments.items():
                value = _constructed(module.tree.body, name, value)
                self._maybe_router(f"{module.name}.{name}", module, None, value)
            for fn in module.functions.values():
                for name, local_value in fn.local_values.items():
                    if local_value is not None:
                        local_value = _constructed(fn.node.body, name, local_value)
                        self._maybe_router(f"{fn.qualname}.{name}", module, fn, local_value)

    def _maybe_router(
        self, key: str, module: Module, scope: Function | None, value: ast.expr
    ) -> None:
        if not isinstance(value, ast.Call):
            return
        cls_name = self.project.resolve(module, value.func, scope)
        if cls_name is None:
            return
        helper = self.project.function(cls_name)
        if helper is not None:
            built = _given_back(helper, value)
            if isinstance(built, ast.Call):
                self._maybe_router(key, module, scope, built)
                if key in self.routers:
                    self._by_call[id(built)] = self.routers[key]
            return
        if self.project.is_subclass(cls_name, APP_CLASSES):
            kind: Literal["app", "router"] = "app"
        elif self.project.is_subclass(cls_name, ROUTER_CLASSES):
            kind = "router"
        else:
            outside = self._outside_router_class(cls_name)
            if outside is None:
                return
            kind = "router"
            if not outside.endswith("APIRouter"):
                self._unconfirmed.add(key)
        router = RouterObj(
            key=key,
            kind=kind,
            module=module,
            node=value,
            scope=scope,
            prefix=self.eval_str(module, keyword(value, "prefix"), scope)
            if kind == "router"
            else "",
            dependencies=list_sites(
                self.project, module, keyword(value, "dependencies"), scope, kind
            ),
            tags=self.str_list(module, keyword(value, "tags"), scope),
            include_in_schema=not is_false(keyword(value, "include_in_schema")),
        )
        if kind == "app":
            router.middleware.extend(self._constructor_middleware(module, value, scope))
        self._apply_subclass_defaults(router, cls_name)
        self.routers[key] = router

    def _outside_router_class(self, cls_name: str) -> str | None:
        """The name of a class from outside the project (its source unseen) in the class's
        ancestry that is named like a router: `cadwyn.VersionedAPIRouter`,
        `fastapi_utils.inferring_router.InferringRouter`. A `*APIRouter` is an `APIRouter`
        subclass by that name alone; a plain `*Router` (aiogram's, Django Ninja's, DRF's ...)
        is only a candidate until `include_router` joins it to a FastAPI router."""
        for name in self.project.mro(cls_name):
            if self.project.class_(name) is not None or self.project.split(name)[0] is not None:
                continue  # a project class (its own bases decide), or a project variable
            if name.partition(".")[0] in _NOT_API_ROUTER_PACKAGES:
                continue
            last = last_name(name)
            if last.endswith("Router") and last[:1].isupper():
                return last
        return None

    def _constructor_middleware(
        self, module: Module, call: ast.Call, scope: Function | None
    ) -> list[tuple[str, ast.AST]]:
        """`FastAPI(middleware=[Middleware(AuthMiddleware, ...)])`."""
        listed = keyword(call, "middleware")
        if not isinstance(listed, (ast.List, ast.Tuple)):
            return []
        out: list[tuple[str, ast.AST]] = []
        for element in listed.elts:
            if isinstance(element, ast.Call) and element.args:
                name = self.project.resolve(module, element.args[0], scope)
                if name is not None:
                    out.append((name, element))
        return out

    def _apply_subclass_defaults(self, router: RouterObj, cls_name: str) -> None:
        # `class UserAPIRouter(APIRouter): def __init__(...): super().__init__(dependencies=[...])`
        for name in self.project.mro(cls_name):
            cls: ClassInfo | None = self.project.class_(name)
            if cls is None or "__init__" not in cls.methods:
                continue
            init = cls.methods["__init__"]
            for node in body_nodes(init.node):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr != "__init__":
                    continue
                deps = list_sites(
                    self.project, init.module, keyword(node, "dependencies"), init, "router"
                )
                router.dependencies.extend(deps)
                prefix = keyword(node, "prefix")
                if prefix is not None and not router.prefix:
                    router.prefix = self.eval_str(init.module, prefix, init)
                router.tags.extend(self.str_list(init.module, keyword(node, "tags"), init))

    def visit_call(self, module: Module, scope: Function | None, call: ast.Call) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in REGISTRATION_METHODS:
            self._pending.append((func.attr, module, scope, call))
        elif (
            isinstance(func, ast.Call)
            and isinstance(func.func, ast.Attribute)
            and func.func.attr in ROUTE_DECORATORS
            and call.args
        ):
            # `router.post("/x")(handler)`: the decorator applied by hand.
            self._pending.append(("decorator-call", module, scope, call))

    def visit_function(self, module: Module, scope: Function | None, node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.decorator_list:
            self._pending.append(("decorated", module, scope, node))

    def finish(self, graph: CallGraph | None = None) -> None:
        """Resolve the recorded registrations. With the call graph, an app or router
        passed to a helper (`def setup_routes(app: FastAPI): app.include_router(...)`)
        is found through the helper's callers."""
        self.graph = graph
        self._confirm_outside_routers()
        for kind, module, scope, node in self._pending:
            if kind == "decorated":
                assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                self._decorated(module, scope, node)
            elif kind == "decorator-call":
                assert isinstance(node, ast.Call)
                self._decorator_call(module, scope, node)
            else:
                assert isinstance(node, ast.Call)
                self._method_call(kind, module, scope, node)
        for router in list(self.routers.values()):
            self._listed_routes(router)
        self._pending.clear()
        self._loops.clear()
        compute_mounts(self.routers.values())

    def _listed_routes(self, router: RouterObj) -> None:
        """`FastAPI(routes=[APIRoute("/live", endpoints.live), ...])`: route objects given
        to the constructor, the list spelled out or built in a local (`routes += [...]`)."""
        if not isinstance(router.node, ast.Call):
            return
        listed = keyword(router.node, "routes")
        if listed is None:
            return
        for module, element, scope in sequence_elements(
            self.project, router.module, listed, router.scope
        ):
            if not isinstance(element, ast.Call):
                continue
            cls_name = self.project.resolve(module, element.func, scope)
            if cls_name is None:
                continue
            if self.project.is_subclass(cls_name, ROUTE_CLASSES):
                kind = "add_api_route"
            elif self.project.is_subclass(cls_name, WEBSOCKET_ROUTE_CLASSES):
                kind = "add_api_websocket_route"
            else:
                continue  # a Starlette `Route`: no validation, no OpenAPI entry
            endpoint = element.args[1] if len(element.args) > 1 else keyword(element, "endpoint")
            handler = self._endpoint(module, endpoint, scope)
            if handler is not None:
                self._add_route(
                    router,
                    module,
                    scope,
                    handler,
                    kind,
                    element,
                    element.args[:1],
                    constructed=True,
                )

    def _confirm_outside_routers(self) -> None:
        """Keep an outside `*Router` only when an `include_router` joins it to a FastAPI
        app or router (as the included router or as the one including); `include_router`
        takes nothing but an `APIRouter`. Repeated so a chain of them is confirmed link by
        link; the rest are dropped."""
        if not self._unconfirmed:
            return
        includes = [
            (module, scope, node)
            for kind, module, scope, node in self._pending
            if kind == "include_router" or kind in INCLUDE_ALL_METHODS
        ]
        changed = True
        while changed and self._unconfirmed:
            changed = False
            for module, scope, call in includes:
                assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                parent = self.router_of(module, call.func.value, scope)
                if parent is None:
                    continue
                children = [child for child, _ in self._included_routers(module, scope, call)]
                if parent.key in self._unconfirmed:
                    if any(c.key not in self._unconfirmed for c in children):
                        self._unconfirmed.discard(parent.key)
                        changed = True
                    continue
                for child in children:
                    if child.key in self._unconfirmed:
                        self._unconfirmed.discard(child.key)
                        changed = True
        for key in self._unconfirmed:
            del self.routers[key]
        self._unconfirmed.clear()

    def _included_routers(
        self, module: Module, scope: Function | None, call: ast.Call
    ) -> list[tuple[RouterObj, Substitution]]:
        """The routers an include call adds, each with the loop substitution it was found
        under (`for r, p in ROUTERS: app.include_router(r, prefix=p)`)."""
        out: list[tuple[RouterObj, Substitution]] = []
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        for child_expr in _included_exprs(call):
            loop_name = child_expr.id if isinstance(child_expr, ast.Name) else None
            for subst in self._iterations(module, scope, child_expr):
                child = self.router_of(*_substitute(child_expr, subst, module, scope))
                if child is None:
                    continue
                # The same router in two `return`s of `get_routers()` (one per branch) is
                # one include; the same router with two prefixes (`(r, "/v1"), (r,
                # "/v2")`) is two.
                others = tuple(
                    sorted(
                        (name, ast.dump(value))
                        for name, (value, _m, _s) in subst.items()
                        if name != loop_name
                    )
                )
                if (child.key, others) in seen:
                    continue
                seen.add((child.key, others))
                out.append((child, subst))
        return out

    # ---------------------------------------------------------------- registrations

    def router_of(
        self, module: Module, expr: ast.expr, scope: Function | None, depth: int = 0
    ) -> RouterObj | None:
        """The router or app an expression evaluates to: a name bound to `APIRouter()`,
        an alias of one, or the result of a factory (`create_app()`, `get_router()`)."""
        if depth > 6:
            return None
        if isinstance(expr, ast.Call):
            built = self._by_call.get(id(expr))
            if built is not None:
                return built
            helper = self.project.function(self.project.resolve(module, expr.func, scope))
            if helper is None:
                return None
            # `include_routers(r2)`, `setup_cors(get_application())`: the router this call
            # passes, not the first caller's. (A router built in the call and bound to no
            # name is no router of ours: left unresolved.)
            given = _given_back(helper, expr)
            if given is not None:
                return self.router_of(module, given, scope, depth + 1)
            return self._returned_router(helper, depth)
        if isinstance(expr, ast.Attribute) and expr.attr == "router":
            # `app.router.add_api_route(...)`: an app's own router is the app.
            owner = self.router_of(module, expr.value, scope, depth + 1)
            if owner is not None and owner.kind == "app":
                return owner
        key = self.project.resolve(module, expr, scope)
        if key is None:
            return None
        if key in self.routers:
            return self.routers[key]
        canonical = self.project.canonical(key)
        if canonical in self.routers:
            return self.routers[canonical]
        # `app = create_app()` or `app = other_name`: follow to the object it names.
        value = self.project.module_value(canonical)
        if value is not None:
            owner_module, value_expr = value
            owner_scope: Function | None = None
        else:
            local = self.project.local_value(canonical)
            if local is None:
                return self._passed_router(canonical, depth)
            owner_scope, value_expr = local
            owner_module = owner_scope.module
        if isinstance(value_expr, (ast.Name, ast.Attribute, ast.Call)):
            return self.router_of(owner_module, value_expr, owner_scope, depth + 1)
        return None

    def _passed_router(self, qualname: str, depth: int) -> RouterObj | None:
        """The router passed as argument `name` of a plain function, by its first caller."""
        owner, _, name = qualname.rpartition(".")
        fn = self.project.functions.get(owner)
        if fn is None:
            return None
        found = self._passed_routers(fn, name, depth, first_only=True)
        return found[0] if found else None

    def _passed_routers(
        self, fn: Function, name: str, depth: int, first_only: bool = False
    ) -> list[RouterObj]:
        """The routers passed as argument `name` of a plain function, by its callers, each
        once (`include_routers(APIRouter())` and `include_routers(APIRouter(prefix=...))`)."""
        if self.graph is None or fn.class_qualname or name not in fn.param_names:
            return []
        positions = [param.arg for param, _ in parameters(fn.node)]
        if name not in positions:
            return []  # `*args` / `**kwargs`
        index = positions.index(name)
        out: list[RouterObj] = []
        for caller, site in self.graph.callers(fn.qualname):
            arg = argument(site.node, index, name)
            if arg is None:
                continue
            scope = self.project.functions.get(caller)
            module = scope.module if scope is not None else self.project.modules.get(caller)
            if module is None:
                continue
            found = self.router_of(module, arg, scope, depth + 1)
            if found is not None and found not in out:
                out.append(found)
                if first_only:
                    break
        return out

    def _owners(self, module: Module, expr: ast.expr, scope: Function | None) -> list[RouterObj]:
        """The routers a registration on `expr` stands for: the one it names, or, for the
        one parameter of a helper that configures the router it is given and gives it back
        (`def include_routers(router): ...; return router`), every router its callers
        pass. A helper with other parameters is read for its first caller, as any other:
        what it registers may depend on them (`configure(router, admin=False)`,
        `attach(parent, child, prefix)`)."""
        if (
            isinstance(expr, ast.Name)
            and scope is not None
            and scope.param_names == {expr.id}
            and _gives_back(scope) == expr.id
        ):
            # (None passed: nothing else names the parameter, which is never rebound.)
            return self._passed_routers(scope, expr.id, 0)
        found = self.router_of(module, expr, scope)
        return [found] if found is not None else []

    def _returned_router(self, factory: Function, depth: int) -> RouterObj | None:
        for node in body_nodes(factory.node):
            if isinstance(node, ast.Return) and node.value is not None:
                found = self.router_of(factory.module, node.value, factory, depth + 1)
                if found is not None:
                    return found
        return None

    def _decorated(
        self, module: Module, scope: Function | None, node: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> None:
        handler = self.project.function_by_node.get(id(node))
        if handler is None:
            return
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
                continue
            method = decorator.func.attr
            if method == "middleware":
                owner = self.router_of(module, decorator.func.value, scope)
                if owner is not None:
                    owner.middleware.append((handler.qualname, decorator))
                continue
            if method not in ROUTE_DECORATORS:
                continue
            for router in self._owners(module, decorator.func.value, scope):
                self._add_route(router, module, scope, handler, method, decorator, decorator.args)

    def _decorator_call(self, module: Module, scope: Function | None, call: ast.Call) -> None:
        decorator = call.func
        assert isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
        if not call.args:
            return
        handler = self._endpoint(module, call.args[0], scope)
        if handler is None:
            return
        for router in self._owners(module, decorator.func.value, scope):
            self._add_route(
                router, module, scope, handler, decorator.func.attr, decorator, decorator.args
            )

    def _endpoint(
        self, module: Module, expr: ast.expr | None, scope: Function | None
    ) -> Function | None:
        """The project function an endpoint expression names: a function, or a method of
        an instance (`add_api_route("/live", endpoints.live)` with `endpoints =
        Endpoints(plane)`, or `self.dataplane.live`), which FastAPI calls bound."""
        if expr is None:
            return None
        found = self.project.function(self.project.resolve(module, expr, scope))
        if found is None and isinstance(expr, ast.Attribute):
            cls = self.project.class_(infer_type(self.project, module, expr.value, scope))
            found = self.project.method(cls.qualname, expr.attr) if cls is not None else None
        return found

    def _add_route(
        self,
        router: RouterObj,
        module: Module,
        scope: Function | None,
        handler: Function,
        method: str,
        call: ast.Call,
        args: list[ast.expr],
        *,
        constructed: bool = False,
    ) -> None:
        path_expr = args[0] if args else keyword(call, "path")
        path = self.eval_str(module, path_expr, scope)
        kinds: Literal["http", "websocket"] = "http"
        if method in HTTP_METHODS:
            methods: tuple[str, ...] = (method.upper(),)
        elif method in ("websocket", "websocket_route", "add_api_websocket_route"):
            methods, kinds = ("WEBSOCKET",), "websocket"
        else:
            listed = self.str_list(module, keyword(call, "methods"), scope)
            methods = tuple(dict.fromkeys(m.upper() for m in listed)) or ("GET",)
        keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        route = Route(
            handler=handler,
            router=router,
            methods=methods,
            path=path,
            node=call,
            module=module,
            keywords=keywords,
            dependencies=list_sites(
                self.project, module, keywords.get("dependencies"), scope, "decorator"
            ),
            kind=kinds,
            tags=self.str_list(module, keywords.get("tags"), scope),
            listed=constructed,
        )
        router.routes.append(route)
        self.routes.append(route)

    def _method_call(
        self, kind: str, module: Module, scope: Function | None, call: ast.Call
    ) -> None:
        assert isinstance(call.func, ast.Attribute)
        owners = self._owners(module, call.func.value, scope)
        if not owners and kind == "include_router":
            self.unresolved_includes += 1
        for owner in owners:
            self._registration(kind, owner, module, scope, call)

    def _registration(
        self, kind: str, owner: RouterObj, module: Module, scope: Function | None, call: ast.Call
    ) -> None:
        if kind in ("add_api_route", "add_api_websocket_route"):
            endpoint = call.args[1] if len(call.args) > 1 else keyword(call, "endpoint")
            handler = self._endpoint(module, endpoint, scope)
            if handler is not None:
                self._add_route(owner, module, scope, handler, kind, call, call.args[:1])
        elif kind == "include_router" or kind in INCLUDE_ALL_METHODS:
            self._include(owner, module, scope, call)
        elif kind == "mount":
            self._mount(owner, module, scope, call)
        elif kind == "add_middleware" and call.args:
            name = self.project.resolve(module, call.args[0], scope) or ""
            owner.middleware.append((name, call))

    def _include(
        self, parent: RouterObj, module: Module, scope: Function | None, call: ast.Call
    ) -> None:
        """`include_router(router, prefix=, dependencies=, tags=)`; a router given by a loop
        variable (`for r in (a.router, b.router)`) is included once per element."""
        if not _included_exprs(call):
            return
        found = False
        for child, subst in self._included_routers(module, scope, call):
            found = True
            prefix_expr = keyword(call, "prefix")
            include = Include(
                parent,
                child,
                self.eval_str(*_substitute(prefix_expr, subst, module, scope))
                if prefix_expr is not None
                else "",
                list_sites(self.project, module, keyword(call, "dependencies"), scope, "include"),
                self.str_list(module, keyword(call, "tags"), scope),
                call,
                module,
                "include",
                not is_false(keyword(call, "include_in_schema")),
            )
            parent.includes.append(include)
            child.included_by.append(include)
        if not found:
            self.unresolved_includes += 1

    def _mount(
        self, parent: RouterObj, module: Module, scope: Function | None, call: ast.Call
    ) -> None:
        """`app.mount("/v2", subapp)`: a sub-application (or router) served under a path."""
        child_expr = call.args[1] if len(call.args) > 1 else keyword(call, "app")
        child = self.router_of(module, child_expr, scope) if child_expr is not None else None
        if child is None:
            return  # StaticFiles, a WSGI app, ...: no routes of ours
        path_expr = call.args[0] if call.args else keyword(call, "path")
        # Starlette's `Mount` drops a trailing slash: `app.mount("/", auth_app)` serves
        # `/token`, not `//token`.
        path = self.eval_str(module, path_expr, scope).rstrip("/")
        include = Include(parent, child, path, [], [], call, module, "mount")
        parent.includes.append(include)
        child.included_by.append(include)

    def _iterations(
        self, module: Module, scope: Function | None, expr: ast.expr
    ) -> list[Substitution]:
        """One name -> value map per iteration when `expr` is the variable of a `for` loop
        over a list the code spells out (`for r in (a.router, b.router)`, `for r, p in
        ROUTERS`); `[{}]` (no substitution) otherwise. Each value keeps the module and
        scope it is written in (`ROUTERS` of another module names its routers there)."""
        if not isinstance(expr, ast.Name) or self.router_of(module, expr, scope) is not None:
            return [{}]
        for loop in self._loops_of(module, scope).get(expr.id, []):
            out: list[Substitution] = []
            elements = sequence_elements(self.project, module, loop.iter, scope)
            for el_module, element, el_scope in elements:
                names = _unpack(loop.target, element)
                if names:
                    out.append({n: (v, el_module, el_scope) for n, v in names.items()})
            if out:
                return out
        return [{}]

    def _loops_of(self, module: Module, scope: Function | None) -> dict[str, list[ast.For]]:
        """The `for` loops of a scope by the names they bind (built once per scope)."""
        key = id(scope.node) if scope is not None else id(module.tree)
        cached = self._loops.get(key)
        if cached is not None:
            return cached
        nodes = body_nodes(scope.node) if scope is not None else walk_nodes(list(module.tree.body))
        loops: dict[str, list[ast.For]] = {}
        for node in nodes:
            if isinstance(node, ast.For):
                for target in ast.walk(node.target):
                    if isinstance(target, ast.Name):
                        loops.setdefault(target.id, []).append(node)
        self._loops[key] = loops
        return loops

    # ---------------------------------------------------------------- constants

    def eval_str(
        self, module: Module, expr: ast.expr | None, scope: Function | None, depth: int = 0
    ) -> str:
        """A string the code builds from literals, constants and settings defaults;
        `{?}` for the parts that cannot be known statically."""
        return self.constants.eval_str(module, expr, scope, depth)

    def str_list(self, module: Module, expr: ast.expr | None, scope: Function | None) -> list[str]:
        return self.constants.str_list(module, expr, scope)


def _included_exprs(call: ast.Call) -> list[ast.expr]:
    """The routers an include call names: `include_router(router, ...)`, or every
    positional argument of an include-all method."""
    assert isinstance(call.func, ast.Attribute)
    if call.func.attr in INCLUDE_ALL_METHODS:
        return [arg for arg in call.args if not isinstance(arg, ast.Starred)]
    child = call.args[0] if call.args else keyword(call, "router")
    return [] if child is None else [child]


# A loop variable's name -> the element it stands for, with its module and scope.
Substitution = dict[str, tuple[ast.expr, Module, Function | None]]


def _unpack(target: ast.expr, value: ast.expr) -> dict[str, ast.expr]:
    """`r` <- `a.router`; `(r, p)` <- `(a.router, "/a")`: what each loop name stands for."""
    if isinstance(target, ast.Name):
        return {target.id: value}
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
        if len(target.elts) != len(value.elts):
            return {}
        out: dict[str, ast.expr] = {}
        for sub_target, sub_value in zip(target.elts, value.elts, strict=True):
            out.update(_unpack(sub_target, sub_value))
        return out
    return {}


def _substitute(
    expr: ast.expr, subst: Substitution, module: Module, scope: Function | None
) -> tuple[Module, ast.expr, Function | None]:
    """What to evaluate for `expr` (written in `module` and `scope`) under a loop's
    substitution, and where: a loop variable stands for an element where it is written."""
    if isinstance(expr, ast.Name) and expr.id in subst:
        value, value_module, value_scope = subst[expr.id]
        return value_module, value, value_scope
    return module, expr, scope


# ------------------------------------------------------------------- full paths

_MAX_MOUNTS = 32
_MAX_DESCENTS = 20_000  # bounds the walk of pathological include graphs (a deep diamond)


@dataclass
class _Walk:
    reached: set[str] = field(default_factory=set)
    budget: int = _MAX_DESCENTS


def compute_mounts(routers: Iterable[RouterObj]) -> None:
    """Give every route the full paths it is served at, from every app that reaches it.

    The walk starts at every app or router that nothing includes (apps first); a router
    in a cycle that no such root reaches is served at its own prefix only."""
    all_routers = list(routers)
    roots = sorted((r for r in all_routers if not r.included_by), key=lambda r: r.kind != "app")
    walk = _Walk()
    for root in roots:
        app = root if root.kind == "app" else None
        mount = Mount(
            app,
            root.prefix,
            list(root.dependencies),
            list(root.tags),
            [root],
            root.include_in_schema,
        )
        _descend(root, mount, walk)
    for router in all_routers:
        if router.key in walk.reached:
            continue
        own = Mount(
            None,
            router.prefix,
            list(router.dependencies),
            list(router.tags),
            [router],
            router.include_in_schema,
        )
        for route in router.routes:
            route.mounts.append(_route_mount(own, router, route))


def _descend(router: RouterObj, at: Mount, walk: _Walk) -> None:
    """`at` is where `router` is served: its path prefix, dependencies, tags and chain."""
    walk.reached.add(router.key)
    walk.budget -= 1
    for route in router.routes:
        if len(route.mounts) < _MAX_MOUNTS:
            route.mounts.append(_route_mount(at, router, route))
    for include in router.includes:
        child = include.child
        if child in at.chain or walk.budget <= 0:
            continue
        _descend(child, _child_mount(at, include), walk)


def _route_mount(at: Mount, router: RouterObj, route: Route) -> Mount:
    """Where a route of `router` is served when the router is served at `at`, which ends
    with the router's own prefix, dependencies and tags (a listed route has none of them)."""
    if not route.listed:
        return Mount(
            at.app, at.path + route.path, at.dependencies, at.tags, at.chain, at.include_in_schema
        )
    path = at.path
    if router.prefix and path.endswith(router.prefix):
        path = path[: len(path) - len(router.prefix)]
    dependencies = at.dependencies[: len(at.dependencies) - len(router.dependencies)]
    tags = at.tags[: len(at.tags) - len(router.tags)]
    return Mount(at.app, path + route.path, dependencies, tags, at.chain, at.outer_in_schema)


def _child_mount(at: Mount, include: Include) -> Mount:
    child = include.child
    path = at.path + include.prefix + child.prefix
    chain = [*at.chain, child]
    if include.kind == "mount":
        # A mounted application is its own app: the parent's dependencies and tags do not
        # reach it (its middleware does, through the chain).
        return Mount(
            at.app,
            path,
            list(child.dependencies),
            list(child.tags),
            chain,
            at.include_in_schema,
            at.include_in_schema,
        )
    outer = at.include_in_schema and include.include_in_schema
    return Mount(
        at.app,
        path,
        [*at.dependencies, *include.dependencies, *child.dependencies],
        [*at.tags, *include.tags, *child.tags],
        chain,
        outer and child.include_in_schema,
        outer,
    )


def _passes_itself(name: str, value: ast.expr) -> bool:
    """`f(app)`, `f(app=app)`: a call that is handed the object the name holds."""
    return isinstance(value, ast.Call) and any(
        isinstance(arg, ast.Name) and arg.id == name
        for arg in [*value.args, *(kw.value for kw in value.keywords)]
    )


def _gives_back(helper: Function) -> str | None:
    """The parameter a helper always returns, never rebinding it (`def
    include_routers(router): ...; return router`), or None."""
    found = helper.derived.get(_gives_back, False)
    if found is False:
        names = {
            stmt.value.id if isinstance(stmt.value, ast.Name) else None
            for stmt in statements(helper.node.body)
            if isinstance(stmt, ast.Return)
        }
        name = names.pop() if len(names) == 1 else None
        if name is not None and (name not in helper.param_names or name in helper.local_values):
            name = None  # a rebound parameter is another router
        found = helper.derived[_gives_back] = name
    return found if isinstance(found, str) else None


def _given_back(helper: Function, call: ast.Call) -> ast.expr | None:
    """What a call passes for the parameter the helper gives back, or None."""
    name = _gives_back(helper)
    return passed_arguments(helper, call).get(name) if name is not None else None


def _constructed(body: list[ast.stmt], name: str, value: ast.expr) -> ast.expr:
    """What `name` was built by, when its last binding only hands it to a helper that
    gives it back: `app = FastAPI(...)`, then `app = add_secrets(app=app)`. The helper
    returns the app it was given (or wraps it, which serves the same routes), so the
    routes registered on the name are the constructed app's."""
    if not _passes_itself(name, value):
        return value
    found = value
    for stmt in statements(body):
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        else:
            continue
        if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
            continue
        assert stmt.value is not None
        if stmt.value is value:
            break
        if not _passes_itself(name, stmt.value):
            found = stmt.value
    return found
