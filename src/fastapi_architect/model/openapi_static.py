"""The HTTP API the code declares, read statically: for each app, the operations FastAPI
would put in its OpenAPI document (method and path), their query/header/cookie
parameters, request bodies and success responses, as far as the source makes them
certain.

Nothing here imports user code. Every fact is either known or marked unknown, because
the contract check (FAA712) compares these facts with a committed OpenAPI document and
a guess would be a false "breaking change":

- `Param.required`, `Prop.required`, `Body.required` are None when they cannot be known;
- `Operation.params_complete` is false when a dependency or parameter could not be
  followed (then a parameter missing here may still exist);
- `ObjectShape.complete` is false when some field names are unknown;
- `StaticApi.unknown` lists the operations that may exist although they cannot be seen
  (dynamic paths, routers included from outside code, routes registered by hand on
  objects that do not resolve), and `StaticApi.opaque` says outside code receives the
  app (it may register routes anywhere).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from fastapi_architect.model.apps import (
    APP_CLASSES,
    HTTP_METHODS,
    ROUTE_DECORATORS,
    ROUTER_CLASSES,
    AppScanner,
    Include,
    Route,
    RouterObj,
    status_code_value,
)
from fastapi_architect.model.astutil import const_str, dotted, keyword, last_name, parameters, walk
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.callgraph import CallSite
from fastapi_architect.model.constants import DYNAMIC, sequence_elements
from fastapi_architect.model.dependencies import (
    DepSite,
    depends_call,
    resolve_target,
    site_from_call,
)
from fastapi_architect.model.project import ClassInfo, Function, Module, Project
from fastapi_architect.model.pydantic_names import (
    CLASSVAR,
    FIELD_FUNCTIONS,
    MODEL_BASES,
    NOT_FIELDS,
)
from fastapi_architect.model.types import unwrap_annotation

Mode = Literal["validation", "serialization"]  # request bodies / responses (Pydantic's modes)

_PARAM_FUNCTIONS = {
    f"{module}.{name}": kind
    for module in ("fastapi", "fastapi.param_functions", "fastapi.params")
    for name, kind in (
        ("Query", "query"),
        ("Path", "path"),
        ("Header", "header"),
        ("Cookie", "cookie"),
        ("Body", "body"),
        ("Form", "form"),
        ("File", "file"),
    )
}
# Parameter types FastAPI fills itself: they are not part of the request's contract.
_SPECIAL_TYPES = frozenset(
    {"Request", "Response", "BackgroundTasks", "WebSocket", "HTTPConnection", "SecurityScopes"}
)
_UPLOAD_TYPES = frozenset({"fastapi.UploadFile", "fastapi.datastructures.UploadFile"})
_SCALARS = frozenset(
    {
        "int",
        "str",
        "float",
        "bool",
        "bytes",
        "typing.Any",
        "datetime.date",
        "datetime.datetime",
        "datetime.time",
        "datetime.timedelta",
        "uuid.UUID",
        "decimal.Decimal",
        *(
            f"pydantic.{module}{name}"
            for module in ("", "networks.", "types.")
            for name in (
                "EmailStr",
                "NameEmail",
                "AnyUrl",
                "AnyHttpUrl",
                "HttpUrl",
                "SecretStr",
                "StrictStr",
                "StrictInt",
                "StrictFloat",
                "StrictBool",
                "PositiveInt",
                "NegativeInt",
                "NonNegativeInt",
                "NonPositiveInt",
                "PositiveFloat",
                "NegativeFloat",
                "NonNegativeFloat",
                "UUID1",
                "UUID4",
                "PastDate",
                "FutureDate",
                "IPvAnyAddress",
            )
        ),
    }
)
_SEQUENCES = frozenset(
    {
        "list",
        "set",
        "frozenset",
        "tuple",
        "typing.List",
        "typing.Set",
        "typing.FrozenSet",
        "typing.Tuple",
        "typing.Sequence",
        "collections.abc.Sequence",
    }
)
_MAPPINGS = frozenset({"dict", "typing.Dict", "typing.Mapping", "collections.abc.Mapping"})
_ARRAYS = frozenset(
    {
        "list",
        "set",
        "frozenset",
        "typing.List",
        "typing.Set",
        "typing.FrozenSet",
        "typing.Sequence",
        "collections.abc.Sequence",
    }
)
_COMPUTED = frozenset({"pydantic.computed_field", "pydantic.fields.computed_field"})
_MODEL_SERIALIZER = frozenset(
    {"pydantic.model_serializer", "pydantic.functional_serializers.model_serializer"}
)
_ENUM_BASES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})
_LITERAL = frozenset({"typing.Literal", "typing_extensions.Literal"})
# Outside code that receives an app without adding routes to it.
_HARMLESS_CALLEES = frozenset(
    {
        "uvicorn.run",
        "fastapi.testclient.TestClient",
        "starlette.testclient.TestClient",
        "httpx.ASGITransport",
        "httpx.AsyncClient",
        "httpx.Client",
        "mangum.Mangum",
        "fastapi_pagination.add_pagination",
        "asgi_lifespan.LifespanManager",
        "isinstance",
        "id",
        "print",
        "repr",
        "str",
        "type",
        "getattr",
        "hasattr",
        "len",
    }
)
_MAX_DEPTH = 6
_OPENAPI_CUSTOMIZED = re.compile(r"\.openapi(?:_schema)?\s*=[^=]")
_CONVERTER = re.compile(r"\{([^{}:]+):[^{}]*\}")


# ------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Param:
    """A query, header or cookie parameter (path parameters come with the path)."""

    location: str
    name: str  # as in OpenAPI: the alias; headers with dashes
    required: bool | None

    @property
    def key(self) -> str:
        return param_key(self.location, self.name)


def param_key(location: str, name: str) -> str:
    """How parameters are matched: location and name, headers case-insensitively."""
    return f"{location}:{name.lower() if location == 'header' else name}"


@dataclass(frozen=True)
class Prop:
    required: bool | None
    shape: Shape | None
    read_only: bool = False


@dataclass(frozen=True)
class ObjectShape:
    """A Pydantic model as a JSON object: its properties as the given mode names them."""

    model: str
    properties: dict[str, Prop]
    complete: bool  # no property whose name is unknown
    skip: frozenset[str] = frozenset()  # names that may or may not be there


@dataclass(frozen=True)
class ArrayShape:
    items: Shape


Shape = ObjectShape | ArrayShape


@dataclass(frozen=True)
class Body:
    kind: Literal["none", "json", "form", "unknown"]
    required: bool | None = None
    shape: Shape | None = None


@dataclass
class Operation:
    method: str
    path: str  # the OpenAPI path template
    route: Route
    params: dict[str, Param]
    params_complete: bool
    body: Body
    status: str | None  # the main success status code, when known
    statuses: set[str]  # every 2xx status code known to be documented
    statuses_complete: bool
    response: Shape | None  # the main response's `application/json` schema, when known


@dataclass(frozen=True)
class Region:
    """Operations that may exist without being seen: `method` (None: any) and a path
    pattern matched against OpenAPI path templates."""

    method: str | None
    pattern: re.Pattern[str]

    def covers(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.pattern.fullmatch(path))


@dataclass
class StaticApi:
    app: RouterObj
    operations: dict[tuple[str, str], Operation]  # (METHOD, path template)
    ambiguous: set[tuple[str, str]]  # registered twice, or maybe hidden from the schema
    unknown: list[Region]
    opaque: bool  # outside code receives the app and may add routes anywhere
    customized: bool  # the project rewrites its OpenAPI document (`app.openapi = ...`)
    prefixes: list[tuple[str, RouterObj]]  # where each router's routes are served

    def may_exist(self, method: str, path: str) -> bool:
        """Could the code serve this operation although no route for it is seen?"""
        if any(region.covers(method, path) for region in self.unknown):
            return True
        return self.opaque and self.router_for(path) is None

    def router_for(self, path: str) -> RouterObj | None:
        """The router with the longest non-empty prefix `path` is under."""
        best: tuple[int, RouterObj] | None = None
        for prefix, router in self.prefixes:
            if not prefix or prefix == "/" or DYNAMIC in prefix:
                continue
            under = path == prefix or path.startswith(prefix.rstrip("/") + "/")
            if under and (best is None or len(prefix) > best[0]):
                best = (len(prefix), router)
        return best[1] if best else None


def openapi_path(path: str) -> str:
    """`/files/{name:path}` as OpenAPI writes it: `/files/{name}`."""
    return _CONVERTER.sub(r"{\1}", path)


def path_key(template: str) -> str:
    """Paths that are the same operation to a client: parameter names and a trailing
    slash do not matter (as in the contract differ)."""
    return re.sub(r"\{[^}/]*\}", "{}", template.rstrip("/") or "/")


# ------------------------------------------------------------------- the walk


def static_apis(model: AppModel) -> list[StaticApi]:
    """One `StaticApi` per app (`FastAPI()` object) of the project."""
    builder = _Builder(model)
    return [builder.api(app) for app in model.routers.values() if app.kind == "app"]


@dataclass
class _Level:
    """What a router, include or app adds to the routes below it."""

    sites: list[DepSite]
    sites_certain: bool
    custom_response_class: bool
    responses: list[tuple[Module, ast.expr]]


@dataclass
class _Mount:
    prefix: str
    levels: list[_Level]
    in_schema: bool | None  # None: cannot be known


class _Builder:
    def __init__(self, model: AppModel) -> None:
        self.model = model
        self.project = model.project
        # The scanner's resolution of router expressions, over the finished model.
        self.scanner = AppScanner(self.project)
        self.scanner.routers = model.routers
        self.scanner.graph = model.callgraph
        self.shapes = _Shapes(self.project)
        self.customized = any(
            _OPENAPI_CUSTOMIZED.search(m.source) for m in self.project.module_list
        )
        self.reached_by_apps = _reached_from_apps(model)
        self.response_mode: Mode | None = "serialization"

    def api(self, app: RouterObj) -> StaticApi:
        # `FastAPI(separate_input_output_schemas=False)` documents responses as inputs.
        separate = _flag(app.node, "separate_input_output_schemas")
        self.response_mode = (
            "serialization" if separate else ("validation" if separate is False else None)
        )
        api = StaticApi(app, {}, set(), [], False, self.customized, [])
        reached: set[str] = set()
        self._walk(api, app, _Mount("", [self._router_level(app)], True), reached, [app])
        self._unseen_routes(api)
        self._unresolved_registrations(api, reached)
        api.opaque = self._receives_outside(api, reached)
        return api

    # -- routers and includes ------------------------------------------------

    def _walk(
        self,
        api: StaticApi,
        router: RouterObj,
        at: _Mount,
        reached: set[str],
        chain: list[RouterObj],
    ) -> None:
        reached.add(router.key)
        api.prefixes.append((at.prefix, router))
        for route in router.routes:
            self._route(api, route, at)
        for include in router.includes:
            child = include.child
            if include.kind != "include" or child in chain:
                continue  # a mounted application has its own OpenAPI document
            in_schema = _and(at.in_schema, _flag(include.node, "include_in_schema"))
            in_schema = _and(in_schema, _flag(child.node, "include_in_schema"))
            mount = _Mount(
                at.prefix + include.prefix + child.prefix,
                [*at.levels, self._include_level(include), self._router_level(child)],
                in_schema,
            )
            self._walk(api, child, mount, reached, [*chain, child])

    def _router_level(self, router: RouterObj) -> _Level:
        call = router.node
        plain = self.project.resolve(router.module, call.func, router.scope) in (
            APP_CLASSES | ROUTER_CLASSES
        )
        certain = plain and _sites_certain(
            self.project, router.module, keyword(call, "dependencies"), router.dependencies
        )
        return _Level(
            router.dependencies,
            certain,
            keyword(call, "default_response_class") is not None,
            _responses(router.module, call),
        )

    def _include_level(self, include: Include) -> _Level:
        call = include.node
        return _Level(
            include.dependencies,
            _sites_certain(
                self.project, include.module, keyword(call, "dependencies"), include.dependencies
            ),
            keyword(call, "default_response_class") is not None,
            _responses(include.module, call),
        )

    # -- one route -----------------------------------------------------------

    def _route(self, api: StaticApi, route: Route, at: _Mount) -> None:
        if route.kind != "http":
            return
        in_schema = _and(at.in_schema, _flag(route.node, "include_in_schema"))
        if in_schema is False:
            return
        path = openapi_path(at.prefix + route.path)
        methods = self._methods(route)
        if DYNAMIC in path or methods is None:
            for method in methods or (None,):
                api.unknown.append(Region(method, _pattern(path)))
            return
        for method in methods:
            key = (method, path)
            if in_schema is None or key in api.operations or key in api.ambiguous:
                api.operations.pop(key, None)
                api.ambiguous.add(key)
                continue
            api.operations[key] = self._operation(route, method, path, at)

    def _methods(self, route: Route) -> tuple[str, ...] | None:
        """The methods, or None when `methods=` cannot be read."""
        expr = route.keywords.get("methods")
        if expr is None:
            return route.methods
        listed = sequence_elements(self.project, route.module, expr, route.handler.parent)
        if not listed or any(const_str(e) is None for _m, e, _s in listed):
            return None
        return route.methods

    def _operation(self, route: Route, method: str, path: str, at: _Mount) -> Operation:
        path_names = frozenset(re.findall(r"\{([^{}]+)\}", path))
        params = _Params(self.project, self.shapes, path_names)
        for level in at.levels:
            params.complete &= level.sites_certain
            for site in level.sites:
                params.dependency(site)
        params.complete &= _sites_certain(
            self.project, route.module, route.keywords.get("dependencies"), route.dependencies
        )
        for site in route.dependencies:
            params.dependency(site)
        handler = route.handler
        if handler.class_qualname is not None:
            params.complete = False  # class-based views rewrite the signature
        params.signature(handler, skip_first=handler.class_qualname is not None)
        status, statuses, statuses_complete, content_known = self._statuses(route, at)
        mode = self.response_mode
        response = (
            self._response_shape(route, mode)
            if content_known and status is not None and mode is not None
            else None
        )
        if self.customized or "openapi_extra" in route.keywords:
            # The document is rewritten (or merged with what the route spells out):
            # only the operation's existence is certain.
            return Operation(
                method, path, route, {}, False, Body("unknown"), None, set(), False, None
            )
        return Operation(
            method=method,
            path=path,
            route=route,
            params=params.params,
            params_complete=params.complete,
            body=params.body(),
            status=status,
            statuses=statuses,
            statuses_complete=statuses_complete,
            response=response,
        )

    def _statuses(self, route: Route, at: _Mount) -> tuple[str | None, set[str], bool, bool]:
        """The main success status, every documented 2xx status, whether that set is
        complete, and whether the main response's content is FastAPI's default."""
        custom_class = route.keywords.get("response_class") is not None or any(
            level.custom_response_class for level in at.levels
        )
        status: str | None
        if "status_code" in route.keywords:
            code = status_code_value(route.keywords["status_code"])
            status = str(code) if code is not None else None
        else:
            status = None if custom_class else "200"
        declared: set[str] = set()
        complete = status is not None
        sources = [resp for level in at.levels for resp in level.responses]
        if "responses" in route.keywords:
            sources.append((route.module, route.keywords["responses"]))
        for module, expr in sources:
            keys = _dict_keys(module, expr)
            if keys is None:
                complete = False
            else:
                declared.update(keys)
        statuses = {s for s in {*declared, *([status] if status else [])} if s.startswith("2")}
        content_known = (
            status is not None
            and not custom_class
            and complete
            and status not in declared
            and status.isdigit()
            and int(status) >= 200
            and int(status) not in (204, 205, 304)
        )
        return status, statuses, complete, content_known

    def _response_shape(self, route: Route, mode: Mode) -> Shape | None:
        scope = route.handler.parent
        expr = route.keywords.get("response_model")
        module = route.module
        if expr is None:
            expr = route.handler.node.returns
            module = route.handler.module
        elif isinstance(expr, ast.Constant) and expr.value is None:
            return None
        if expr is None or any(
            k in route.keywords
            for k in ("response_model_include", "response_model_exclude", "response_model_by_alias")
        ):
            return None
        return self.shapes.of(module, expr, scope, mode)

    # -- what cannot be seen -------------------------------------------------

    def _unseen_routes(self, api: StaticApi) -> None:
        """Routes of routers that no app reaches: included in a way the model cannot
        follow, so served under an unknown prefix."""
        for router in self.model.routers.values():
            if router.key in self.reached_by_apps or router.kind == "app":
                continue
            for route in router.routes:
                if route.kind != "http":
                    continue
                tail = _pattern(openapi_path(router.prefix + route.path)).pattern
                pattern = re.compile(".*" + tail)
                methods = self._methods(route)
                for method in methods or (None,):
                    api.unknown.append(Region(method, pattern))

    def _unresolved_registrations(self, api: StaticApi, reached: set[str]) -> None:
        """`include_router`/`add_api_route` calls and route decorators the model could
        not resolve to a router or a handler."""
        known_includes = {
            id(inc.node) for router in self.model.routers.values() for inc in router.includes
        }
        known_routes = {id(route.node) for route in self.model.routes}
        for module, scope, site in self._calls():
            call = site.node
            func = call.func
            if not isinstance(func, ast.Attribute):
                continue
            if func.attr == "include_router" and id(call) not in known_includes:
                self._unknown_include(api, module, scope, call, reached)
            elif func.attr in ("add_api_route", "api_route") and id(call) not in known_routes:
                self._unknown_route(api, module, scope, call, None)
        for fn in self.project.functions.values():
            for decorator in fn.node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in ROUTE_DECORATORS
                    and id(decorator) not in known_routes
                    and _looks_like_path(decorator)
                ):
                    method = decorator.func.attr.upper()
                    self._unknown_route(
                        api,
                        fn.module,
                        fn.parent,
                        decorator,
                        method if method.lower() in HTTP_METHODS else None,
                    )

    def _unknown_include(
        self,
        api: StaticApi,
        module: Module,
        scope: Function | None,
        call: ast.Call,
        reached: set[str],
    ) -> None:
        assert isinstance(call.func, ast.Attribute)
        parent = self.scanner.router_of(module, call.func.value, scope)
        if parent is not None and parent.key not in reached:
            return  # it adds to another app
        prefix_expr = keyword(call, "prefix")
        prefix = (
            self.scanner.eval_str(module, prefix_expr, scope) if prefix_expr is not None else ""
        )
        if parent is None:
            api.unknown.append(Region(None, re.compile(".*")))
            return
        for at, router in api.prefixes:
            if router is parent:
                api.unknown.append(Region(None, re.compile(_pattern(at + prefix).pattern + ".*")))

    def _unknown_route(
        self,
        api: StaticApi,
        module: Module,
        scope: Function | None,
        call: ast.Call,
        method: str | None,
    ) -> None:
        path_expr = call.args[0] if call.args else keyword(call, "path")
        path = self.scanner.eval_str(module, path_expr, scope) if path_expr is not None else ""
        if not path.startswith("/") and path != "":
            path = DYNAMIC
        api.unknown.append(Region(method, re.compile(".*" + _pattern(openapi_path(path)).pattern)))

    def _receives_outside(self, api: StaticApi, reached: set[str]) -> bool:
        """Does outside code receive the app or one of its routers (`Instrumentator()
        .instrument(app).expose(app)`), and so may add routes the model cannot see?"""
        routers: dict[tuple[int, str], RouterObj | None] = {}

        def router(module: Module, scope: Function | None, expr: ast.expr) -> RouterObj | None:
            # The same name in the same scope is the same object: resolve it once.
            text = dotted(expr)
            if text is None:
                return self.scanner.router_of(module, expr, scope)
            key = (id(scope) if scope is not None else id(module), text)
            if key not in routers:
                routers[key] = self.scanner.router_of(module, expr, scope)
            return routers[key]

        for module, scope, site in self._calls():
            call = site.node
            args = [
                arg
                for arg in [*call.args, *(kw.value for kw in call.keywords)]
                if isinstance(arg, (ast.Name, ast.Attribute))
            ]
            if not args:
                continue
            target = site.target or ""
            if target in _HARMLESS_CALLEES:
                continue
            if self.project.function(target) is not None or self.project.class_(target):
                continue  # project code: the model follows registrations into it
            if isinstance(call.func, ast.Attribute) and router(module, scope, call.func.value):
                continue  # a method of a router or app: the model reads those
            for arg in args:
                found = router(module, scope, arg)
                if found is not None and found.key in reached:
                    return True
        return False

    def _calls(self) -> Iterator[tuple[Module, Function | None, CallSite]]:
        for key, sites in self.model.callgraph.calls.items():
            fn = self.project.functions.get(key)
            if fn is not None:
                module, scope = fn.module, fn
            else:
                owner = self.project.modules.get(key)
                if owner is None:
                    cls = self.project.classes.get(key)
                    if cls is None:
                        continue
                    owner = cls.module
                module, scope = owner, None
            yield from ((module, scope, site) for site in sites)


# ------------------------------------------------------------------- parameters


@dataclass
class _BodyParam:
    name: str
    kind: str  # body | form | file
    required: bool | None
    annotation: ast.expr | None
    module: Module
    scope: Function | None
    plain: bool  # no `embed=`, `media_type=`, `alias=`: FastAPI may use it as the whole body


class _Params:
    """The request parameters of one operation, gathered as FastAPI flattens them:
    the handler's signature and every dependency's, at any depth."""

    def __init__(self, project: Project, shapes: _Shapes, path_names: frozenset[str]) -> None:
        self.project = project
        self.shapes = shapes
        self.path_names = path_names
        self.params: dict[str, Param] = {}
        self.bodies: list[_BodyParam] = []
        self.complete = True
        self._seen: set[str] = set()

    def body(self) -> Body:
        if not self.complete:
            return Body("unknown")
        if not self.bodies:
            return Body("none")
        required = _any_required([b.required for b in self.bodies])
        if any(b.kind != "body" for b in self.bodies):
            return Body("form", required)
        if len(self.bodies) == 1 and self.bodies[0].plain:
            only = self.bodies[0]
            shape = self.shapes.of(only.module, only.annotation, only.scope, "validation")
            return Body("json", required, shape)
        if any(not b.plain for b in self.bodies):
            return Body("json", required)  # aliases or embedding: names not certain
        properties = {
            b.name: Prop(b.required, self.shapes.of(b.module, b.annotation, b.scope, "validation"))
            for b in self.bodies
        }
        return Body("json", required, ObjectShape("body", properties, True))

    def dependency(self, site: DepSite, depth: int = 0) -> None:
        target = resolve_target(self.project, site)
        if target is None:
            self.complete = False
            return
        if target.scheme is not None:
            return  # security schemes are requirements, not parameters
        key = f"{target.qualname}|{target.function.qualname if target.function else ''}"
        if key in self._seen:
            return
        self._seen.add(key)
        if depth > _MAX_DEPTH:
            self.complete = False
            return
        cls = self.project.class_(target.qualname)
        if target.function is not None:
            generated = (
                cls is not None
                and target.function.name == "__init__"
                and not _plain_class(self.project, cls)
            )
            if generated:
                self.complete = False
                return
            self.signature(
                target.function, skip_first=target.function.class_qualname is not None, depth=depth
            )
        elif cls is None or not _plain_class(self.project, cls):
            self.complete = False  # outside code, or a class whose signature is generated

    def signature(self, fn: Function, *, skip_first: bool, depth: int = 0) -> None:
        args = fn.node.args
        if args.vararg is not None or args.kwarg is not None:
            self.complete = False
        scope = fn.parent
        for index, (param, default) in enumerate(parameters(fn.node)):
            if index == 0 and skip_first:
                continue
            self._parameter(fn, scope, param, default, depth)

    def _parameter(
        self,
        fn: Function,
        scope: Function | None,
        param: ast.arg,
        default: ast.expr | None,
        depth: int,
    ) -> None:
        project = self.project
        base, metadata, meta_module = unwrap_annotation(project, fn.module, param.annotation, scope)
        base_scope = scope if meta_module is fn.module else None
        # `Depends(...)` as the default or in `Annotated[...]`.
        for module, expr, expr_scope in [
            *([(fn.module, default, scope)] if default is not None else []),
            *((meta_module, meta, base_scope) for meta in metadata),
        ]:
            if depends_call(project, module, expr, expr_scope):
                site = site_from_call(
                    project, module, expr, expr_scope, "parameter", base, param.arg, fn
                )
                if site is not None:
                    self.dependency(site, depth + 1)
                return
        if self._special(meta_module, base, base_scope):
            return
        marker: ast.Call | None = None
        kind = ""
        for module, expr, expr_scope in [
            *([(fn.module, default, scope)] if default is not None else []),
            *((meta_module, meta, base_scope) for meta in metadata),
        ]:
            if isinstance(expr, ast.Call):
                found = _PARAM_FUNCTIONS.get(project.resolve(module, expr.func, expr_scope) or "")
                if found:
                    marker, kind = expr, found
                    break
        if marker is not None and marker is default:
            required = _call_required(marker)
        else:
            required = default is None or _is_ellipsis(default)
        name = param.arg
        if not kind:
            if name in self.path_names:
                return
            kind = self._kind_of(meta_module, base, base_scope)
            if kind == "":
                self.complete = False
                return
        if kind == "path":
            return
        if kind in ("body", "form", "file"):
            if marker is not None and keyword(marker, "media_type") is not None:
                self.complete = False  # a media type of its own: the body is not plain JSON
            plain = marker is None or not any(
                keyword(marker, k) is not None for k in ("embed", "alias")
            )
            self.bodies.append(
                _BodyParam(name, kind, required, base, meta_module, base_scope, plain)
            )
            return
        assert marker is None or kind in ("query", "header", "cookie")
        if marker is not None:
            if keyword(marker, "validation_alias") is not None:
                self.complete = False
                return
            alias = keyword(marker, "alias")
            if alias is not None:
                literal = const_str(alias)
                if literal is None:
                    self.complete = False
                    return
                name = literal
            elif kind == "header":
                convert = _flag(marker, "convert_underscores")
                if convert is None:
                    self.complete = False
                    return
                if convert:
                    name = name.replace("_", "-")
            if self._is_model(meta_module, base, base_scope):
                self._model_params(kind, meta_module, base, base_scope)
                return
        self._add(Param(kind, name, required))

    def _add(self, param: Param) -> None:
        current = self.params.get(param.key)
        if current is not None and current.required != param.required:
            # The same parameter declared twice: FastAPI keeps one of them.
            self.params[param.key] = Param(param.location, param.name, None)
            return
        self.params.setdefault(param.key, param)

    def _model_params(
        self, kind: str, module: Module, base: ast.expr | None, scope: Function | None
    ) -> None:
        """`Annotated[FilterParams, Query()]`: the model's fields are the parameters."""
        shape = self.shapes.of(module, base, scope, "validation")
        if kind != "query" or not isinstance(shape, ObjectShape) or not shape.complete:
            self.complete = False
            return
        for prop_name, prop in shape.properties.items():
            self._add(Param("query", prop_name, prop.required))

    def _special(self, module: Module, base: ast.expr | None, scope: Function | None) -> bool:
        if base is None or not isinstance(base, (ast.Name, ast.Attribute)):
            return False
        qualname = self.project.resolve(module, base, scope)
        if qualname is None:
            return False
        for name in self.project.mro(qualname):
            if name.startswith(("fastapi.", "starlette.")) and last_name(name) in _SPECIAL_TYPES:
                return True
        return False

    def _is_model(self, module: Module, base: ast.expr | None, scope: Function | None) -> bool:
        if not isinstance(base, (ast.Name, ast.Attribute)):
            return False
        return self.shapes.is_model(self.project.resolve(module, base, scope))

    def _kind_of(self, module: Module, base: ast.expr | None, scope: Function | None) -> str:
        """Where FastAPI takes an undeclared parameter from: "query" for scalars, "body"
        for models and containers, "file" for uploads, "" when it cannot be known."""
        if base is None:
            return "query"  # no annotation: a query parameter of any type
        verdict = self._complexity(module, base, scope)
        return {"scalar": "query", "complex": "body", "file": "file"}.get(verdict, "")

    def _complexity(self, module: Module, expr: ast.expr, scope: Function | None) -> str:
        project = self.project
        if isinstance(expr, ast.Constant) and expr.value is None:
            return "scalar"
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            parts = {
                self._complexity(module, expr.left, scope),
                self._complexity(module, expr.right, scope),
            }
            if "complex" in parts:
                return "complex"
            return "scalar" if parts == {"scalar"} else ""
        if isinstance(expr, ast.Subscript):
            origin = project.resolve(module, expr.value, scope)
            if origin in _LITERAL:
                return "scalar"
            if origin in _SEQUENCES or origin in _MAPPINGS:
                inner = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
                if (
                    origin in _SEQUENCES
                    and inner
                    and self._complexity(module, inner[0], scope) == "file"
                ):
                    return "file"
                return "complex"
            return ""
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return ""
        qualname = project.resolve(module, expr, scope)
        if qualname is None:
            return ""
        if qualname in _SCALARS:
            return "scalar"
        if qualname in _SEQUENCES or qualname in _MAPPINGS:
            return "complex"
        if qualname in _UPLOAD_TYPES:
            return "file"
        if self.shapes.is_model(qualname):
            return "complex"
        if _is_enum(project, qualname):
            return "scalar"
        return ""


def _plain_class(project: Project, cls: ClassInfo) -> bool:
    """A project class whose signature is its own `__init__` (not generated by Pydantic,
    dataclasses or an outside base)."""
    if cls.node.decorator_list or len(cls.bases) != len(cls.node.bases):
        return False
    for name in project.mro(cls.qualname)[1:]:
        base = project.class_(name)
        if base is None and name not in ("object", "builtins.object"):
            return False
        if base is not None and base.node.decorator_list:
            return False
    return True


def _is_enum(project: Project, qualname: str) -> bool:
    return any(name in _ENUM_BASES for name in project.mro(qualname))


def _call_required(call: ast.Call) -> bool:
    """`Query()` and `Query(...)` are required; `Query(None)`, `Query(default=3)` and
    `Query(default_factory=list)` are not."""
    default = call.args[0] if call.args else keyword(call, "default")
    if default is None:
        return keyword(call, "default_factory") is None
    return _is_ellipsis(default)


def _mentions_none(annotation: ast.expr) -> bool:
    """`X | None`, `Optional[X]`, `Union[X, None]` (or an alias that may be one)."""
    text = ast.unparse(annotation)
    return (
        "None" in text
        or "Optional" in text
        or not isinstance(annotation, ast.Subscript | ast.Name | ast.Attribute | ast.BinOp)
    )


def _is_ellipsis(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is Ellipsis


def _any_required(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


# ------------------------------------------------------------------- models


class _Shapes:
    """JSON shapes of Pydantic models, per mode, cached."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._cache: dict[tuple[str, str], ObjectShape | None] = {}
        self._classes: dict[str, list[ClassInfo] | None] = {}

    def is_model(self, qualname: str | None) -> bool:
        return qualname is not None and self._model_classes(qualname) is not None

    def of(
        self,
        module: Module,
        annotation: ast.expr | None,
        scope: Function | None,
        mode: Mode,
        stack: tuple[str, ...] = (),
    ) -> Shape | None:
        """The shape of an annotation: a project model, or a list of them."""
        if annotation is None or len(stack) > _MAX_DEPTH:
            return None
        base, _metadata, base_module = unwrap_annotation(self.project, module, annotation, scope)
        if base is None:
            return None
        base_scope = scope if base_module is module else None
        if isinstance(base, ast.Subscript):
            origin = self.project.resolve(base_module, base.value, base_scope)
            if origin in _ARRAYS and not isinstance(base.slice, ast.Tuple):
                items = self.of(base_module, base.slice, base_scope, mode, stack)
                return ArrayShape(items) if items is not None else None
            return None
        if not isinstance(base, (ast.Name, ast.Attribute)):
            return None
        qualname = self.project.resolve(base_module, base, base_scope)
        if qualname is None:
            return None
        return self.model(self.project.canonical(qualname), mode, stack)

    def model(self, qualname: str, mode: Mode, stack: tuple[str, ...] = ()) -> ObjectShape | None:
        if qualname in stack:
            return None  # a recursive model: compared down to here
        # Cached whatever the depth: a shape cut short by recursion or depth only
        # compares less, never differently.
        key = (qualname, mode)
        if key not in self._cache:
            self._cache[key] = self._model(qualname, mode, (*stack, qualname))
        return self._cache[key]

    def _model_classes(self, qualname: str) -> list[ClassInfo] | None:
        """The project classes of a Pydantic model, most basic first; None when it is
        not one, or when something outside the project shapes it."""
        if qualname in self._classes:
            return self._classes[qualname]
        out: list[ClassInfo] | None = []
        is_model = False
        for name in self.project.mro(qualname):
            cls = self.project.class_(name)
            if cls is None:
                if name in MODEL_BASES:
                    is_model = True
                    continue
                out = None
                break
            if len(cls.bases) != len(cls.node.bases) or any(
                kw.arg in ("table", "metaclass") for kw in cls.node.keywords
            ):
                out = None
                break
            assert out is not None
            out.append(cls)
        result = list(reversed(out)) if out is not None and is_model else None
        self._classes[qualname] = result
        return result

    def _model(self, qualname: str, mode: Mode, stack: tuple[str, ...]) -> ObjectShape | None:
        classes = self._model_classes(qualname)
        if classes is None:
            return None
        properties: dict[str, Prop] = {}
        complete = True
        skip: set[str] = set()
        for cls in classes:
            if _config_renames(cls):
                return None
            for stmt in cls.node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if self._decorated(cls, stmt, _MODEL_SERIALIZER) and mode == "serialization":
                        return None
                    computed = self._computed(cls, stmt)
                    if computed is not None and mode == "serialization":
                        name = computed
                        if name == "":
                            complete = False
                            continue
                        shape = self.of(cls.module, stmt.returns, None, mode, stack)
                        properties[name] = Prop(True, shape, read_only=True)
                    continue
                if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                    continue
                name = stmt.target.id
                if name.startswith("_") or name == "model_config":
                    continue
                outcome = self._field(cls, stmt, mode, stack)
                if outcome is None:
                    continue
                field_name, prop = outcome
                if field_name == "":
                    complete = False
                    continue
                if prop is None:
                    skip.add(field_name)
                    properties.pop(field_name, None)
                    continue
                properties[field_name] = prop
        return ObjectShape(qualname, properties, complete, frozenset(skip))

    def _field(
        self, cls: ClassInfo, stmt: ast.AnnAssign, mode: Mode, stack: tuple[str, ...]
    ) -> tuple[str, Prop | None] | None:
        """(name as the mode writes it, or "" when unknown; the property, or None when it
        may or may not be in the schema); None for what is not a field."""
        project = self.project
        module = cls.module
        annotation = stmt.annotation
        head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
        if project.resolve(module, head) in CLASSVAR:
            return None
        _base, metadata, meta_module = unwrap_annotation(project, module, annotation)
        field_calls: list[ast.Call] = []
        value = stmt.value
        if isinstance(value, ast.Call):
            callee = project.resolve(module, value.func)
            if callee in NOT_FIELDS:
                return None
            if callee in FIELD_FUNCTIONS:
                field_calls.append(value)
        for meta in metadata:
            if isinstance(meta, ast.Call) and project.resolve(meta_module, meta.func) in (
                FIELD_FUNCTIONS
            ):
                field_calls.append(meta)
        name = stmt.target.id if isinstance(stmt.target, ast.Name) else ""
        required: bool = value is None or _is_ellipsis(value)
        for call in field_calls:
            if call is value:
                required = _call_required(call)
            elif call.args or keyword(call, "default") or keyword(call, "default_factory"):
                required = False
        # Pydantic 1 gives an `Optional[X]` field without a default the default None;
        # Pydantic 2 requires it. Which one the snapshot came from is not in the source.
        maybe_none = required and _mentions_none(annotation)
        for call in field_calls:
            mode_alias = "validation_alias" if mode == "validation" else "serialization_alias"
            for alias_key in ("alias", mode_alias):
                alias = keyword(call, alias_key)
                if alias is not None:
                    literal = const_str(alias)
                    if literal is None:
                        return "", None
                    name = literal
            if mode == "serialization" and keyword(call, "exclude") is not None:
                return name, None
        shape = self.of(module, annotation, None, mode, stack)
        return name, Prop(None if maybe_none else required, shape)

    def _computed(self, cls: ClassInfo, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
        """The name of a `@computed_field` ("" when its alias is not a literal)."""
        for decorator in fn.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            if self.project.resolve(cls.module, target) not in _COMPUTED:
                continue
            alias = keyword(call, "alias") if call is not None else None
            if alias is None:
                return fn.name
            return const_str(alias) or ""
        return None

    def _decorated(
        self, cls: ClassInfo, fn: ast.FunctionDef | ast.AsyncFunctionDef, names: frozenset[str]
    ) -> bool:
        for decorator in fn.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self.project.resolve(cls.module, target) in names:
                return True
        return False


# Model settings that change the names or the required fields of a schema.
_RENAMING_CONFIG = frozenset(
    {
        "alias_generator",
        "json_schema_serialization_defaults_required",
        "json_schema_mode_override",
    }
)


def _config_renames(cls: ClassInfo) -> bool:
    """`model_config = ConfigDict(alias_generator=...)` (or a `class Config`) renames
    every field; a `json_schema_extra` that is not a literal dict may rewrite the schema."""
    for stmt in cls.node.body:
        config: list[ast.AST] = []
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                config = [stmt]
        elif isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
            config = list(stmt.body)
        for node in config:
            for sub in walk(node):
                if isinstance(sub, ast.keyword) and sub.arg in _RENAMING_CONFIG:
                    return True
                if (
                    isinstance(sub, ast.keyword)
                    and sub.arg == "json_schema_extra"
                    and not isinstance(sub.value, ast.Dict)
                ):
                    return True
                if isinstance(sub, ast.Name) and sub.id in _RENAMING_CONFIG:
                    return True
                if (
                    isinstance(sub, ast.Assign)
                    and any(
                        isinstance(t, ast.Name) and t.id == "json_schema_extra" for t in sub.targets
                    )
                    and not isinstance(sub.value, ast.Dict)
                ):
                    return True
                if isinstance(sub, ast.Dict):
                    for key, value in zip(sub.keys, sub.values, strict=True):
                        text = const_str(key)
                        if text in _RENAMING_CONFIG or (
                            text == "json_schema_extra" and not isinstance(value, ast.Dict)
                        ):
                            return True
    return False


# ------------------------------------------------------------------- helpers


def _reached_from_apps(model: AppModel) -> set[str]:
    """The routers some app includes (at any depth)."""
    todo = [r for r in model.routers.values() if r.kind == "app"]
    seen: set[str] = set()
    while todo:
        router = todo.pop()
        if router.key in seen:
            continue
        seen.add(router.key)
        todo.extend(include.child for include in router.includes)
    return seen


def _flag(call: ast.AST, name: str) -> bool | None:
    """A boolean keyword that defaults to true: True, False, or None when not literal."""
    if not isinstance(call, ast.Call):
        return True
    value = keyword(call, name)
    if value is None:
        return True
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value.value
    return None


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _sites_certain(
    project: Project, module: Module, expr: ast.expr | None, sites: list[DepSite]
) -> bool:
    """Were all the dependencies of a `dependencies=[...]` argument found?"""
    if expr is None:
        return True
    if isinstance(expr, (ast.List, ast.Tuple)) and not any(
        isinstance(e, ast.Starred) for e in expr.elts
    ):
        return len(expr.elts) == len(sites)
    return bool(sites) and len(sequence_elements(project, module, expr, None)) == len(sites)


def _responses(module: Module, call: ast.Call) -> list[tuple[Module, ast.expr]]:
    value = keyword(call, "responses")
    return [(module, value)] if value is not None else []


def _dict_keys(module: Module, expr: ast.expr) -> set[str] | None:
    """The status codes of a literal `responses={404: ..., "2XX": ...}`; None if unknown."""
    del module
    if not isinstance(expr, ast.Dict):
        return None
    out: set[str] = set()
    for key in expr.keys:
        if key is None:
            return None  # `**other`
        code = status_code_value(key)
        if code is not None:
            out.add(str(code))
            continue
        text = const_str(key)
        if text is None:
            return None
        out.add(text)
    return out


def _looks_like_path(call: ast.Call) -> bool:
    """`@something.get("/items")`: a route decorator on an object that did not resolve
    (a dict's `.get("key")` has no leading slash)."""
    first = call.args[0] if call.args else keyword(call, "path")
    text = const_str(first)
    return text is None or text == "" or text.startswith("/")


def _pattern(path: str) -> re.Pattern[str]:
    """A path with `{?}` parts (unknown text) as a pattern over OpenAPI templates."""
    parts = path.rstrip("/").split(DYNAMIC)
    body = ".*".join(re.sub(r"\\\{[^}]*\\\}", r"\\{[^}/]*\\}", re.escape(p)) for p in parts)
    return re.compile(body + "/?")


__all__ = [
    "ArrayShape",
    "Body",
    "ObjectShape",
    "Operation",
    "Param",
    "Prop",
    "Region",
    "Shape",
    "StaticApi",
    "openapi_path",
    "param_key",
    "path_key",
    "static_apis",
]
