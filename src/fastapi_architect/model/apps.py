"""Apps, routers, routes and `include_router` edges, and the full paths they add up to."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Literal

from fastapi_architect.model.astutil import const_int, const_str, keyword, last_name
from fastapi_architect.model.dependencies import DepSite, list_sites
from fastapi_architect.model.project import ClassInfo, Function, Module, Project

APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "options", "head", "trace")
ROUTE_DECORATORS = frozenset({*HTTP_METHODS, "api_route", "route", "websocket", "websocket_route"})
DYNAMIC = "{?}"
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


@dataclass(eq=False)
class Mount:
    """One place a route is reachable: the app, the full path, what protects it on the way."""

    app: RouterObj | None
    path: str
    dependencies: list[DepSite]  # app, include and router levels, outermost first
    tags: list[str]
    chain: list[RouterObj]


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

    @property
    def full_paths(self) -> list[str]:
        return [m.path for m in self.mounts] or [self.router.prefix + self.path]

    @property
    def status_code(self) -> int | None:
        return status_code_value(self.keywords.get("status_code"))

    @property
    def is_async(self) -> bool:
        return self.handler.is_async


def status_code_value(expr: ast.expr | None) -> int | None:
    """`201`, `status.HTTP_201_CREATED` or `HTTPStatus.CREATED`-free forms as an int."""
    value = const_int(expr)
    if value is not None:
        return value
    if isinstance(expr, ast.Attribute):
        match = _STATUS_RE.match(expr.attr)
        if match:
            return int(match.group(1))
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
        self._pending: list[tuple[str, Module, Function | None, ast.AST]] = []

    # Routers must all be known before registrations are resolved, so the walk only
    # records candidates; `finish` resolves them.
    def collect_router_bindings(self) -> None:
        for module in self.project.module_list:
            for name, value in module.assignments.items():
                self._maybe_router(f"{module.name}.{name}", module, None, value)
            for fn in module.functions.values():
                for name, local_value in fn.local_values.items():
                    if local_value is not None:
                        self._maybe_router(f"{fn.qualname}.{name}", module, fn, local_value)

    def _maybe_router(
        self, key: str, module: Module, scope: Function | None, value: ast.expr
    ) -> None:
        if not isinstance(value, ast.Call):
            return
        cls_name = self.project.resolve(module, value.func, scope)
        if cls_name is None:
            return
        if self.project.is_subclass(cls_name, APP_CLASSES):
            kind: Literal["app", "router"] = "app"
        elif self.project.is_subclass(cls_name, ROUTER_CLASSES):
            kind = "router"
        else:
            return
        router = RouterObj(
            key=key,
            kind=kind,
            module=module,
            node=value,
            scope=scope,
            prefix=self.eval_str(module, keyword(value, "prefix"), scope) if kind == "router" else "",
            dependencies=list_sites(
                self.project, module, keyword(value, "dependencies"), scope, kind if kind == "app" else "router"
            ),
            tags=self.str_list(module, keyword(value, "tags"), scope),
        )
        self._apply_subclass_defaults(router, cls_name)
        self.routers[key] = router

    def _apply_subclass_defaults(self, router: RouterObj, cls_name: str) -> None:
        # `class UserAPIRouter(APIRouter): def __init__(...): super().__init__(dependencies=[...])`
        for name in self.project.mro(cls_name):
            cls: ClassInfo | None = self.project.class_(name)
            if cls is None or "__init__" not in cls.methods:
                continue
            init = cls.methods["__init__"]
            for node in ast.walk(init.node):
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
        if isinstance(func, ast.Attribute) and func.attr in (
            "include_router",
            "add_api_route",
            "add_api_websocket_route",
            "add_middleware",
            "mount",
        ):
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

    def finish(self) -> None:
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
        self._pending.clear()
        compute_mounts(self.routers.values())

    # ---------------------------------------------------------------- registrations

    def router_of(
        self, module: Module, expr: ast.expr, scope: Function | None, depth: int = 0
    ) -> RouterObj | None:
        if depth > 6:
            return None
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
        owner_module, owner_scope = module, scope
        if value is None:
            local = self.project.local_value(canonical)
            if local is None:
                return None
            owner_scope, value_expr = local
            owner_module = owner_scope.module
        else:
            owner_module, value_expr = value
            owner_scope = None
        if isinstance(value_expr, (ast.Name, ast.Attribute)):
            return self.router_of(owner_module, value_expr, owner_scope, depth + 1)
        if isinstance(value_expr, ast.Call):
            factory = self.project.function(
                self.project.resolve(owner_module, value_expr.func, owner_scope)
            )
            if factory is not None:
                for node in ast.walk(factory.node):
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
            router = self.router_of(module, decorator.func.value, scope)
            if router is None:
                continue
            self._add_route(router, module, scope, handler, method, decorator, decorator.args)

    def _decorator_call(self, module: Module, scope: Function | None, call: ast.Call) -> None:
        decorator = call.func
        assert isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
        router = self.router_of(module, decorator.func.value, scope)
        if router is None or not call.args:
            return
        handler = self.project.function(self.project.resolve(module, call.args[0], scope))
        if handler is None:
            return
        self._add_route(
            router, module, scope, handler, decorator.func.attr, decorator, decorator.args
        )

    def _add_route(
        self,
        router: RouterObj,
        module: Module,
        scope: Function | None,
        handler: Function,
        method: str,
        call: ast.Call,
        args: list[ast.expr],
    ) -> None:
        path_expr = args[0] if args else keyword(call, "path")
        path = self.eval_str(module, path_expr, scope)
        kinds: Literal["http", "websocket"] = "http"
        if method in HTTP_METHODS:
            methods: tuple[str, ...] = (method.upper(),)
        elif method in ("websocket", "websocket_route", "add_api_websocket_route"):
            methods, kinds = ("WEBSOCKET",), "websocket"
        else:
            methods = tuple(m.upper() for m in self.str_list(module, keyword(call, "methods"), scope))
            methods = methods or ("GET",)
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
        )
        router.routes.append(route)
        self.routes.append(route)

    def _method_call(self, kind: str, module: Module, scope: Function | None, call: ast.Call) -> None:
        assert isinstance(call.func, ast.Attribute)
        owner = self.router_of(module, call.func.value, scope)
        if owner is None:
            if kind == "include_router":
                self.unresolved_includes += 1
            return
        if kind in ("add_api_route", "add_api_websocket_route"):
            endpoint = call.args[1] if len(call.args) > 1 else keyword(call, "endpoint")
            handler = self.project.function(
                self.project.resolve(module, endpoint, scope) if endpoint is not None else None
            )
            if handler is not None:
                self._add_route(owner, module, scope, handler, kind, call, call.args[:1])
        elif kind == "include_router" or kind == "mount":
            self._include(kind, owner, module, scope, call)
        elif kind == "add_middleware" and call.args:
            name = self.project.resolve(module, call.args[0], scope) or ""
            owner.middleware.append((name, call))

    def _include(
        self, kind: str, parent: RouterObj, module: Module, scope: Function | None, call: ast.Call
    ) -> None:
        index = 1 if kind == "mount" else 0
        child_expr = call.args[index] if len(call.args) > index else keyword(
            call, "app" if kind == "mount" else "router"
        )
        children: list[RouterObj] = []
        if child_expr is not None:
            for expr in self._loop_values(scope, child_expr):
                child = self.router_of(module, expr, scope)
                if child is not None:
                    children.append(child)
        if not children:
            self.unresolved_includes += 1
            return
        if kind == "mount":
            prefix_expr = call.args[0] if call.args else keyword(call, "path")
            prefix, deps, tags = self.eval_str(module, prefix_expr, scope), [], []
        else:
            prefix = self.eval_str(module, keyword(call, "prefix"), scope) if keyword(call, "prefix") is not None else ""
            deps = list_sites(self.project, module, keyword(call, "dependencies"), scope, "include")
            tags = self.str_list(module, keyword(call, "tags"), scope)
        for child in children:
            include = Include(parent, child, prefix, deps, tags, call, module)
            parent.includes.append(include)
            child.included_by.append(include)

    def _loop_values(self, scope: Function | None, expr: ast.expr) -> list[ast.expr]:
        """`for r in (a.router, b.router): app.include_router(r)` → both routers."""
        if not isinstance(expr, ast.Name):
            return [expr]
        holder = scope.node if scope is not None else None
        trees: list[ast.AST] = [holder] if holder is not None else []
        for tree in trees:
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.For)
                    and isinstance(node.target, ast.Name)
                    and node.target.id == expr.id
                    and isinstance(node.iter, (ast.List, ast.Tuple))
                ):
                    return list(node.iter.elts)
        return [expr]

    # ---------------------------------------------------------------- constants

    def eval_str(self, module: Module, expr: ast.expr | None, scope: Function | None, depth: int = 0) -> str:
        """A string the code builds from literals, constants and settings defaults;
        `{?}` for the parts that cannot be known statically."""
        if expr is None:
            return ""
        value = self._eval(module, expr, scope, depth)
        return DYNAMIC if value is None else value

    def _eval(self, module: Module, expr: ast.expr, scope: Function | None, depth: int) -> str | None:
        if depth > 8:
            return None
        literal = const_str(expr)
        if literal is not None:
            return literal
        if isinstance(expr, ast.JoinedStr):
            parts: list[str] = []
            for value in expr.values:
                if isinstance(value, ast.FormattedValue):
                    part = self._eval(module, value.value, scope, depth + 1)
                    parts.append(DYNAMIC if part is None else part)
                else:
                    parts.append(const_str(value) or "")
            return "".join(parts)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self._eval(module, expr.left, scope, depth + 1)
            right = self._eval(module, expr.right, scope, depth + 1)
            if left is None or right is None:
                return None
            return left + right
        if isinstance(expr, (ast.Name, ast.Attribute)):
            qualname = self.project.resolve(module, expr, scope)
            found = self.project.module_value(qualname)
            if found is not None:
                return self._eval(found[0], found[1], None, depth + 1)
            if isinstance(expr, ast.Attribute):
                return self._settings_default(module, expr, scope, depth)
        return None

    def _settings_default(
        self, module: Module, expr: ast.Attribute, scope: Function | None, depth: int
    ) -> str | None:
        # `settings.API_V1_STR` where `settings = Settings()` and the class has a literal default.
        owner = expr.value
        cls_name: str | None = None
        if isinstance(owner, ast.Call):
            fn = self.project.function(self.project.resolve(module, owner.func, scope))
            if fn is not None and fn.node.returns is not None:
                cls_name = self.project.resolve(fn.module, fn.node.returns)
        else:
            found = self.project.module_value(self.project.resolve(module, owner, scope))
            if found is not None and isinstance(found[1], ast.Call):
                cls_name = self.project.resolve(found[0], found[1].func)
        cls = self.project.class_(cls_name)
        if cls is None:
            return None
        for name in self.project.mro(cls.qualname):
            info = self.project.class_(name)
            if info is None:
                continue
            for stmt in info.node.body:
                target = stmt.target if isinstance(stmt, ast.AnnAssign) else None
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                    target = stmt.targets[0]
                value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
                if isinstance(target, ast.Name) and target.id == expr.attr and value is not None:
                    return self._eval(info.module, value, None, depth + 1)
        return None

    def str_list(self, module: Module, expr: ast.expr | None, scope: Function | None) -> list[str]:
        if not isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return []
        out: list[str] = []
        for element in expr.elts:
            value = self._eval(module, element, scope, 0)
            if value is not None:
                out.append(value)
        return out


# ------------------------------------------------------------------- full paths

_MAX_MOUNTS = 32


def compute_mounts(routers: object) -> None:
    """Give every route the full paths it is served at, from every app that reaches it."""
    all_routers = list(routers)  # type: ignore[call-overload]
    roots = [r for r in all_routers if r.kind == "app" and not r.included_by]
    reached: set[str] = set()
    for root in roots:
        _descend(root, root, root.prefix, list(root.dependencies), list(root.tags), [root], reached)
    for router in all_routers:
        if router.key in reached:
            continue
        # Never included anywhere we can see: its own prefix and dependencies only.
        for route in router.routes:
            route.mounts.append(
                Mount(None, router.prefix + route.path, list(router.dependencies), list(router.tags), [router])
            )


def _descend(
    app: RouterObj,
    router: RouterObj,
    prefix: str,
    deps: list[DepSite],
    tags: list[str],
    chain: list[RouterObj],
    reached: set[str],
) -> None:
    reached.add(router.key)
    for route in router.routes:
        if len(route.mounts) < _MAX_MOUNTS:
            route.mounts.append(Mount(app, prefix + route.path, deps, tags, chain))
    for include in router.includes:
        child = include.child
        if child in chain:
            continue
        _descend(
            app,
            child,
            prefix + include.prefix + child.prefix,
            [*deps, *include.dependencies, *child.dependencies],
            [*tags, *include.tags, *child.tags],
            [*chain, child],
            reached,
        )
