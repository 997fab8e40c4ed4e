"""FAA1xx: validation and contracts. What goes into a path operation must be validated by
Pydantic, and what comes out must be declared, so that FastAPI validates, filters and
documents both sides."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast

from fastapi_architect.model.apps import Route, RouterObj
from fastapi_architect.model.astutil import (
    body_nodes,
    const_str,
    dotted,
    keyword,
    last_name,
    parameters,
    walk,
    walk_scope,
    without_docstring,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.calls import passed_arguments
from fastapi_architect.model.dependencies import resolve_target, walk_dependencies
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.pydantic_names import MODEL_BASES, is_pydantic_model
from fastapi_architect.model.types import annotation_type, resolve_callee, unwrap_annotation
from fastapi_architect.review.context import FileContext, ProjectContext
from fastapi_architect.review.finding import Severity
from fastapi_architect.review.index import FunctionCache, ModelCache, project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._http import REQUEST, UPLOAD_FILE
from fastapi_architect.review.rules._webhooks import SDK_DELIVERY_CALLS
from fastapi_architect.review.rules.concurrency import TO_THREAD
from fastapi_architect.review.rules.injection import argument_for

# ------------------------------------------------------------------ shared type helpers

# Containers whose *values* FastAPI validates only as far as their parameters say.
_MAPPING_TYPES = frozenset(
    {
        "dict",
        "typing.Dict",
        "typing.Mapping",
        "typing.MutableMapping",
        "typing_extensions.Mapping",
        "collections.abc.Mapping",
        "collections.abc.MutableMapping",
        "collections.OrderedDict",
        "collections.defaultdict",
        "typing.OrderedDict",
        "typing.DefaultDict",
    }
)
SEQUENCE_TYPES = frozenset(
    {
        "list",
        "set",
        "frozenset",
        "typing.List",
        "typing.Set",
        "typing.FrozenSet",
        "typing.Sequence",
        "typing.MutableSequence",
        "collections.abc.Sequence",
        "collections.abc.MutableSequence",
        "collections.abc.Set",
    }
)
_ANY_TYPES = frozenset({"typing.Any", "typing_extensions.Any", "object"})
_RESPONSE_PACKAGES = ("fastapi.", "starlette.", "sse_starlette.")
_JSON_RESPONSES = frozenset({"JSONResponse", "ORJSONResponse", "UJSONResponse"})


def is_raw_type(
    project: Project,
    module: Module,
    annotation: ast.expr | None,
    scope: Function | None,
    *,
    any_is_raw: bool,
    depth: int = 0,
) -> bool:
    """Is this annotation a schema-less JSON shape: `dict`, `dict[str, Any]`, `Mapping`,
    `list[dict]`, bare `list`, or (when `any_is_raw`) `Any`/`object`?

    Typed containers (`dict[str, float]`, `list[Item]`) are not raw: FastAPI validates
    their values and documents them (the FastAPI docs show `dict[int, float]` bodies)."""
    if depth > 6 or annotation is None:
        return False
    base, _meta, base_module = unwrap_annotation(project, module, annotation, scope)
    if base is None:
        return False
    base_scope = scope if base_module is module else None
    if isinstance(base, ast.Subscript):
        origin = project.resolve(base_module, base.value, base_scope)
        elements = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
        if origin in _MAPPING_TYPES:
            return len(elements) < 2 or is_raw_type(
                project, base_module, elements[-1], base_scope, any_is_raw=True, depth=depth + 1
            )
        if origin in SEQUENCE_TYPES:
            # `list[()]` names no element type: a list of anything.
            return not elements or is_raw_type(
                project, base_module, elements[0], base_scope, any_is_raw=True, depth=depth + 1
            )
        return False
    if not isinstance(base, (ast.Name, ast.Attribute)):
        return False
    qualname = project.resolve(base_module, base, base_scope)
    if qualname in _MAPPING_TYPES or qualname in SEQUENCE_TYPES:
        return True
    if qualname in _ANY_TYPES:
        return any_is_raw
    # `Payload = dict`: a plain-name alias, which `unwrap_annotation` does not follow.
    alias = project.module_value(qualname)
    if alias is not None and isinstance(alias[1], (ast.Name, ast.Attribute)):
        return is_raw_type(
            project, alias[0], alias[1], None, any_is_raw=any_is_raw, depth=depth + 1
        )
    return False


def is_response_class(project: Project, qualname: str | None) -> bool:
    """A Starlette/FastAPI `Response` class (any of `fastapi.responses`, `sse_starlette`)
    or a project subclass of one."""
    if qualname is None:
        return False
    for name in project.mro(qualname):
        if project.class_(name) is not None:
            continue
        if name.startswith(_RESPONSE_PACKAGES) and last_name(name).endswith("Response"):
            return True
    return False


def _is_json_response_class(project: Project, qualname: str | None) -> bool:
    if qualname is None:
        return False
    return any(last_name(name) in _JSON_RESPONSES for name in project.mro(qualname))


def annotation_mentions_response(
    project: Project, module: Module, annotation: ast.expr, scope: Function | None
) -> bool:
    """Does a return annotation name a `Response` class anywhere (`Response`,
    `StreamingResponse`, `RedirectResponse | dict`, aliases of them)?"""
    base, _meta, base_module = unwrap_annotation(project, module, annotation, scope)
    roots: list[tuple[ast.expr, Module]] = [(annotation, module)]
    if base is not None:
        roots.append((base, base_module))
    for root, owner in roots:
        for node in walk(root):
            if isinstance(node, (ast.Name, ast.Attribute)):
                name = project.resolve(owner, node, scope if owner is module else None)
                if is_response_class(project, name):
                    return True
    return False


def is_response_expr(project: Project, fn: Function, expr: ast.expr, depth: int = 0) -> bool:
    """Does this expression build a `Response` object: `JSONResponse(...)`,
    `templates.TemplateResponse(...)`, a helper annotated `-> Response`, or a local bound
    to one of those, or an unannotated project helper whose every `return` builds one?"""
    if depth > 4:
        return False
    if isinstance(expr, ast.Await):
        return is_response_expr(project, fn, expr.value, depth + 1)
    if isinstance(expr, ast.Name):
        value = fn.local_values.get(expr.id)
        return value is not None and is_response_expr(project, fn, value, depth + 1)
    if not isinstance(expr, ast.Call):
        return False
    callee = resolve_callee(project, fn.module, expr.func, fn)
    if callee is None:
        return _builds_redirect(expr)
    if project.class_(callee) is not None:
        return is_response_class(project, project.canonical(callee))
    helper = project.function(callee)
    if helper is not None:
        returns = helper.node.returns
        if returns is None:
            # An unannotated project helper: a Response when every return builds one.
            values = returned_values(helper)
            return bool(values) and all(
                is_response_expr(project, helper, v, depth + 1) for v in values
            )
        return annotation_mentions_response(project, helper.module, returns, helper.parent)
    # Outside code: `JSONResponse(...)`, `templates.TemplateResponse(...)`.
    if callee.startswith(_RESPONSE_PACKAGES) and last_name(callee).endswith("Response"):
        return True
    return _builds_redirect(expr)


# Predicates about redirects (`response.is_redirect()`), not builders of one.
_PREDICATE_PREFIXES = ("is_", "has_", "should_", "can_", "needs_", "allow")


def _builds_redirect(call: ast.Call) -> bool:
    """A method of outside code named like a redirect builder: authlib's
    `client.authorize_redirect(request, uri)` (Starlette integration), fastapi-sso's
    `sso.get_login_redirect()`, `oauth.create_authorization_redirect(...)`. These
    integrations answer the browser with a `RedirectResponse` to the identity provider.
    Only methods: a bare `redirect(...)` may be anything, and the caller has checked that
    the callee is not a project function."""
    if not isinstance(call.func, ast.Attribute):
        return False
    name = call.func.attr.lower()
    return name.endswith("redirect") and not name.startswith(_PREDICATE_PREFIXES)


def returned_values(fn: Function) -> list[ast.expr]:
    """The values of the function's own `return` statements (bare `return` left out).
    Computed once per function: do not change the list."""
    found = fn.derived.get(returned_values)
    if found is None:
        found = fn.derived[returned_values] = [
            node.value
            for node in body_nodes(fn.node)
            if isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ]
    return cast(list[ast.expr], found)


def function_label(fn: Function) -> str:
    """`get_db`, or the class for a class dependency (`Pager`, `RoleChecker.__call__`)."""
    if fn.class_qualname is not None:
        owner = last_name(fn.class_qualname)
        return owner if fn.name == "__init__" else f"{owner}.{fn.name}"
    return fn.name


def has_keyword_splat(route: Route) -> bool:
    """`@router.post("/x", **common)`: any keyword may be hidden in the splat."""
    node = route.node
    return isinstance(node, ast.Call) and any(kw.arg is None for kw in node.keywords)


def route_label(route: Route) -> str:
    path = route.full_paths[0] if route.full_paths else route.path
    return f"{'/'.join(route.methods)} `{path or '/'}`"


# ------------------------------------------------------------------ FAA101

_PARAM_MARKERS = frozenset(
    {"Body", "Query", "Path", "Header", "Cookie", "Form", "File", "Depends", "Security"}
)
_PARAM_MODULES = frozenset({"fastapi", "fastapi.params", "fastapi.param_functions"})
# Dependency-injection helpers of DI libraries used with FastAPI (fastapi-injector,
# dependency-injector, wireup...).
_INJECTOR_NAMES = ("Inject", "Provide", "Depends", "Security")
_PATH_PARAM = re.compile(r"{\s*(\w+)\s*(?::[^}]*)?}")


def param_marker(
    project: Project, module: Module, expr: ast.expr | None, scope: Function | None
) -> str | None:
    """`Body`, `Query`, `Depends`... for a FastAPI parameter function call, else None."""
    if not isinstance(expr, ast.Call):
        return None
    name = project.resolve(module, expr.func, scope)
    if name is None:
        return None
    owner, _, last = name.rpartition(".")
    if owner in _PARAM_MODULES and last in _PARAM_MARKERS:
        return last
    if last.startswith(_INJECTOR_NAMES) or _returns_depends(project, project.function(name)):
        # A wrapper that hands FastAPI a dependency (`Inject(get_config)`, `Injected(X)`).
        return "Depends"
    return None


def _returns_depends(project: Project, fn: Function | None) -> bool:
    if fn is None:
        return False
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            name = project.resolve(fn.module, node.value.func, fn) or ""
            owner, _, last = name.rpartition(".")
            if owner in _PARAM_MODULES and last in ("Depends", "Security"):
                return True
    return False


def _is_webhook(route: Route) -> bool:
    return any("webhook" in path.lower() for path in route.full_paths)


@dataclass
class _WebhookScope:
    """Handlers registered only on webhook paths, and dependencies only they use."""

    handlers: set[int] = field(default_factory=set)
    dependencies: set[int] = field(default_factory=set)

    def allows(self, fn: Function) -> bool:
        key = id(fn.node)
        return key in self.handlers or key in self.dependencies


_WEBHOOKS: ModelCache[_WebhookScope] = ModelCache()


def _webhook_scope(model: AppModel) -> _WebhookScope:
    out = _WebhookScope()
    if not any(_is_webhook(r) for r in model.routes):
        return out
    only: dict[int, bool] = {}
    for route in model.routes:
        key = id(route.handler.node)
        only[key] = only.get(key, True) and _is_webhook(route)
    out.handlers = {key for key, ok in only.items() if ok}
    from_webhooks: set[int] = set()
    from_others: set[int] = set()
    for route in model.routes:
        sites = model.route_sites(route)
        for mount in route.mounts[1:]:
            sites.extend(mount.dependencies)
        found = from_webhooks if _is_webhook(route) else from_others
        for _site, target in walk_dependencies(model.project, sites):
            if target.function is not None:
                found.add(id(target.function.node))
    out.dependencies = from_webhooks - from_others
    return out


def _body_candidates(model: AppModel) -> list[tuple[Function, set[str], str]]:
    """Path operations and dependencies, each once: (function, path parameter names, kind)."""
    webhooks = _WEBHOOKS.get(model, lambda: _webhook_scope(model))
    out: dict[int, tuple[Function, set[str], str]] = {}
    for route in model.routes:
        if route.kind != "http" or webhooks.allows(route.handler):
            continue
        entry = out.setdefault(id(route.handler.node), (route.handler, set(), "route"))
        for path in (route.path, *route.full_paths):  # router prefixes hold parameters too
            entry[1].update(_PATH_PARAM.findall(path))
    for fn in model.project.functions.values():
        if id(fn.node) in out or webhooks.allows(fn) or model.routes_of(fn):
            continue
        if model.is_dependency(fn):
            out[id(fn.node)] = (fn, set(), "dependency")
    return list(out.values())


def _declared_free_form(default: ast.expr | None, metadata: list[ast.expr]) -> bool:
    """`Body(json_schema_extra={"additionalProperties": True})`: the author declares the
    body free-form, and the OpenAPI schema says so."""
    for call in (default, *metadata):
        if not isinstance(call, ast.Call):
            continue
        for kw in call.keywords:
            if kw.arg == "json_schema_extra" and isinstance(kw.value, ast.Dict):
                for key, value in zip(kw.value.keys, kw.value.values, strict=True):
                    if (
                        key is not None
                        and const_str(key) == "additionalProperties"
                        and isinstance(value, ast.Constant)
                        and value.value is True
                    ):
                        return True
    return False


def _raw_body_params(
    project: Project, fn: Function, path_params: set[str]
) -> Iterator[tuple[ast.arg, str]]:
    """Body parameters without a schema, with a short description of their type."""
    scope = fn.parent
    params = parameters(fn.node)
    for index, (param, default) in enumerate(params):
        if index == 0 and fn.class_qualname is not None and param.arg in ("self", "cls"):
            continue
        _base, metadata, meta_module = unwrap_annotation(
            project, fn.module, param.annotation, scope
        )
        marker = param_marker(project, fn.module, default, scope)
        if marker is None:
            meta_scope = scope if meta_module is fn.module else None
            for meta in metadata:
                marker = param_marker(project, meta_module, meta, meta_scope)
                if marker is not None:
                    break
        if marker is not None and marker != "Body":
            continue
        if marker == "Body" and _declared_free_form(default, metadata):
            continue
        if marker is None and param.arg in path_params:
            continue
        if param.annotation is None:
            # Unannotated: a `str` query parameter (FAA103), unless `Body()` makes it a body
            # of anything.
            if marker == "Body":
                yield param, "`Body()` without a type"
            continue
        # A bare `Any` is a scalar to FastAPI, so without `Body()` it is a query parameter.
        if is_raw_type(project, fn.module, param.annotation, scope, any_is_raw=marker == "Body"):
            yield param, f"`{ast.unparse(param.annotation)}`"


_MODEL_PARSERS = frozenset({"model_validate", "parse_obj"})
_SCHEMA_CHECKS = frozenset({"validate", "is_valid", "iter_errors"})
_SCHEMA_LIBRARIES = ("jsonschema.", "fastjsonschema.", "jsonschema_rs.")


def _is_name(expr: ast.expr | None, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def _pydantic_class(project: Project, fn: Function, expr: ast.expr) -> str | None:
    """The project Pydantic model an expression names, as written."""
    qualname = project.resolve(fn.module, expr, fn)
    if not is_pydantic_model(project, qualname):
        return None
    return ast.unparse(expr)


def _schema_validation(project: Project, fn: Function, call: ast.Call, name: str) -> bool:
    """`validate(body, schema)` / `jsonschema.validate(instance=body, schema=...)` /
    `validator.iter_errors(body)`: the body checked against a JSON Schema."""
    first = call.args[0] if call.args else keyword(call, "instance")
    if not _is_name(first, name):
        return False
    callee = resolve_callee(project, fn.module, call.func, fn) or ""
    if callee.startswith(_SCHEMA_LIBRARIES):
        return True
    if last_name(callee) not in _SCHEMA_CHECKS:
        return False
    second = call.args[1] if len(call.args) > 1 else keyword(call, "schema")
    return second is not None and "schema" in ast.unparse(second).lower()


def _model_validation(project: Project, fn: Function, call: ast.Call, name: str) -> str | None:
    """`Model(**body)`, `Model.model_validate(body)`, `TypeAdapter(Model).validate_python(body)`:
    the Pydantic model the body is validated with, as written."""
    func = call.func
    if any(kw.arg is None and _is_name(kw.value, name) for kw in call.keywords):
        return _pydantic_class(project, fn, func)
    if not (call.args and _is_name(call.args[0], name) and isinstance(func, ast.Attribute)):
        return None
    if func.attr in _MODEL_PARSERS:
        return _pydantic_class(project, fn, func.value)
    if (
        func.attr == "validate_python"
        and isinstance(func.value, ast.Call)
        and func.value.args
        and project.resolve(fn.module, func.value.func, fn) == "pydantic.TypeAdapter"
    ):
        return ast.unparse(func.value.args[0])
    return None


# Calls that create or import a module at run time: a plugin's code, loaded from the
# database or a file (`module = types.ModuleType(name); exec(source, module.__dict__)`).
_MODULE_LOADERS = frozenset(
    {
        "types.ModuleType",
        "importlib.import_module",
        "importlib.reload",
        "importlib.util.module_from_spec",
        "__import__",
        "builtins.__import__",
    }
)


_LOADS_MODULES: FunctionCache[bool] = FunctionCache()


def _loads_modules(model: AppModel, fn: Function) -> bool:
    """Does a project function load a module at run time, itself or through the project
    functions it calls, up to three calls away (`get_plugin_from_cache` ->
    `load_plugin_by_id`)?"""
    return _LOADS_MODULES.get(model, fn, lambda: _reaches_loader(model, fn))


def _reaches_loader(model: AppModel, fn: Function) -> bool:
    # Breadth first, so that each function is read once, at its shortest distance.
    project = model.project
    seen = {id(fn.node)}
    frontier = [fn]
    for depth in range(4):
        following: list[Function] = []
        for current in frontier:
            for site in model.callgraph.calls_of(current):
                if site.target in _MODULE_LOADERS:
                    return True
                helper = project.function(site.target)
                if helper is not None and depth < 3 and id(helper.node) not in seen:
                    seen.add(id(helper.node))
                    following.append(helper)
        frontier = following
    return False


def _loaded_at_run_time(model: AppModel, fn: Function, expr: ast.expr, depth: int = 0) -> bool:
    """Is this value (an object of) a module loaded at run time: the result of a module
    loader, or of a project function that loads one, or a local bound to one (tuple
    unpacking included: `plugin, meta = await load_plugin(id)`)?"""
    if depth > 4:
        return False
    if isinstance(expr, ast.Await):
        return _loaded_at_run_time(model, fn, expr.value, depth + 1)
    if isinstance(expr, ast.Name):
        for node in body_nodes(fn.node):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(
                    isinstance(t, ast.Name) and t.id == expr.id
                    for target in targets
                    for t in walk(target)
                ) and _loaded_at_run_time(model, fn, node.value, depth + 1):
                    return True
        return False
    if not isinstance(expr, ast.Call):
        return False
    project = model.project
    callee = resolve_callee(project, fn.module, expr.func, fn)
    if callee in _MODULE_LOADERS:
        return True
    helper = project.function(callee)
    return helper is not None and _loads_modules(model, helper)


def _run_time_model(model: AppModel, fn: Function, func: ast.expr, depth: int = 0) -> bool:
    """Is the callee of `Model(**body)` a class taken from a module loaded at run time
    (`Valves = plugin.Valves`, `getattr(plugin, "Valves")`): a model whose schema exists
    only at run time? Only class-like names count: `plugin.run(**body)` is a call, not
    a validation."""
    if depth > 4:
        return False
    if isinstance(func, ast.Name):
        value = fn.local_values.get(func.id)
        return value is not None and _run_time_model(model, fn, value, depth + 1)
    if isinstance(func, ast.Attribute):
        owner, attr = func.value, func.attr
    elif isinstance(func, ast.Call) and _is_name(func.func, "getattr") and len(func.args) >= 2:
        owner, attr = func.args[0], const_str(func.args[1]) or ""
    else:
        return False
    return attr[:1].isupper() and _loaded_at_run_time(model, fn, owner)


@dataclass(frozen=True)
class _BodyValidation:
    """How a body parameter is validated: with `model` (as written; None when the schema
    exists only at run time), by the handler itself or by the project function `by` it
    hands the body to."""

    model: str | None
    by: Function | None = None


def _validated_in_handler(model: AppModel, fn: Function, name: str) -> _BodyValidation | None:
    """Does the function validate the body parameter `name`, itself or in a project
    function it passes the body to whole (one call away: `expand(data)` whose first line
    is `Compact(**data)`)? None when it does not."""
    found = _validated_in(model, fn, name)
    if found is not None:
        return found
    for helper, param in _helpers_given(model.project, fn, name):
        found = _validated_in(model, helper, param)
        if found is not None:
            return _BodyValidation(found.model, helper)
    return None


def _validated_in(model: AppModel, fn: Function, name: str) -> _BodyValidation | None:
    """Does the function validate its local `name` itself? With no model when it checks
    it against a JSON Schema or a model known only at run time (a schema loaded from the
    database, a plugin's model class); with the model when it is a fixed Pydantic one."""
    project = model.project
    found: str | None = None
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call):
            continue
        if _schema_validation(project, fn, node, name):
            return _BodyValidation(None)
        if any(
            kw.arg is None and _is_name(kw.value, name) for kw in node.keywords
        ) and _run_time_model(model, fn, node.func):
            return _BodyValidation(None)
        found = found or _model_validation(project, fn, node, name)
    return _BodyValidation(found) if found is not None else None


def _helpers_given(project: Project, fn: Function, name: str) -> Iterator[tuple[Function, str]]:
    """The project functions `fn` passes its local `name` to as a whole argument
    (`expand(data, types)`, `importer.load(payload=data)`), each with the parameter that
    receives it. `expand(data["nodes"])` or `expand({**data})` pass something else."""
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call):
            continue
        passed = {
            id(arg)
            for arg in (*node.args, *(kw.value for kw in node.keywords if kw.arg is not None))
            if _is_name(arg, name)
        }
        if not passed:
            continue
        helper = project.function(resolve_callee(project, fn.module, node.func, fn))
        if helper is None or helper.node is fn.node:
            continue
        for param, _default in parameters(helper.node):
            if id(argument_for(helper, node, param.arg)) in passed:
                yield helper, param.arg


# Keywords that carry the body of an outgoing HTTP call (httpx, requests, aiohttp).
_PAYLOAD_KEYWORDS = frozenset({"json", "data", "content"})


def _forwarded_whole(expr: ast.expr, name: str) -> ast.Name | None:
    """`json=body` or `json={**body, "stream": False}`: the occurrence of `body` that is
    passed on whole."""
    if isinstance(expr, ast.Name):
        return expr if expr.id == name else None
    if isinstance(expr, ast.Dict):
        for key, value in zip(expr.keys, expr.values, strict=True):
            if key is None and isinstance(value, ast.Name) and value.id == name:
                return value
    return None


def _proxied_only(project: Project, fn: Function, name: str) -> bool:
    """Is the body parameter `name` used only as the payload of outgoing HTTP calls
    (`session.post(url, json={**form_data})`), never read or rebound? Then the handler
    is a proxy: the upstream service owns and validates the schema."""
    forwarded: set[int] = set()
    flow = _DocumentFlow(project)
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call) or _http_response(flow, fn, {}, node) is not True:
            continue
        for kw in node.keywords:
            if kw.arg in _PAYLOAD_KEYWORDS:
                found = _forwarded_whole(kw.value, name)
                if found is not None:
                    forwarded.add(id(found))
    if not forwarded:
        return False
    # Every occurrence, nested functions included, must be one of those payloads.
    return all(
        id(node) in forwarded
        for stmt in fn.node.body
        for node in ast.walk(stmt)
        if isinstance(node, ast.Name) and node.id == name
    )


def _undocumented_route(model: AppModel, handler: Function) -> bool:
    """Is every registration of the handler left out of the OpenAPI schema
    (`include_in_schema=False` on it, its router or the `include_router` call)?"""
    routes = model.routes_of(handler)
    return bool(routes) and all(_hidden_from_schema(route) for route in routes)


@rule(
    code="FAA101",
    name="raw-dict-body",
    summary="A request body parameter is a raw `dict`/`Any`/`list[dict]`, so it is not validated",
    severity="warning",
    scope="project",
    fix_title="Declare a Pydantic model for the request body",
    references=(
        "https://fastapi.tiangolo.com/tutorial/body/",
        "https://fastapi.tiangolo.com/tutorial/body-nested-models/#bodies-of-arbitrary-dicts",
    ),
)
def raw_dict_body(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds request body parameters of path operations and of their dependencies (at any
    depth) that are typed as a schema-less JSON shape: `dict`, `Dict`, `dict[str, Any]`,
    `Mapping`, `list[dict]`, a bare `list`, or `Any`/no type with an explicit `Body()`.
    A parameter is a body parameter when FastAPI would make it one: a non-scalar type
    that is not a path parameter and not declared with `Query()`, `Header()`,
    `Cookie()`, `Path()`, `Form()`, `File()` or `Depends()`, or any parameter declared
    with `Body()` (also inside `Annotated`, also through module-level aliases).

    ## Why is this bad?
    FastAPI validates a request body against the parameter's type. A `dict` accepts
    any JSON object: missing fields, wrong types and unexpected keys reach the handler,
    which then fails with a `KeyError` (a 500) or, worse, writes unchecked values to the
    database. The OpenAPI schema shows an empty object, so clients get no contract.

    ## Known problems
    Typed mappings such as `dict[str, float]` are not flagged: FastAPI validates their
    values and documents them. A bare `Any` parameter without `Body()` is a query
    parameter to FastAPI, not a body, so it is not flagged here. A parameter whose
    default or `Annotated` metadata is a project wrapper returning `Depends(...)`, or a
    DI library's `Inject`/`Provide`/`Injected`, is a dependency and is not flagged. A
    `Body(json_schema_extra={"additionalProperties": True})` parameter is declared
    free-form on purpose (a JSON Schema document, say), and its OpenAPI schema says so:
    not flagged. A body the handler checks against a JSON Schema
    (`validate(body, schema)`, `jsonschema.validate(instance=body, ...)`), typically one
    known only at run time, or validates with a model class taken from a module loaded
    at run time (a plugin's `Valves = plugin.Valves; Valves(**body)`), is not flagged
    either: no static model can describe it. A body the handler validates with a fixed
    Pydantic model (`Model(**body)`, `Model.model_validate(body)`,
    `TypeAdapter(...).validate_python(body)`) is validated but still undocumented: it is
    reported at `info` severity, naming the model, and not at all when every
    registration of the path operation is left out of the OpenAPI schema
    (`include_in_schema=False`), which documents nothing of it. These checks also look
    one call away: a body the handler passes whole to a project function
    (`expand(body, types)`, `importer.load(payload=body)`) counts as validated when that
    function validates its parameter in one of these ways (the handler typically turns
    the `ValidationError`, a `ValueError`, into a 400). A body passed in pieces
    (`expand(body["nodes"])`) or to a function that only reads it is reported.

    ## Example
    ```python
    @router.patch("/books/{book_id}")
    def update_book(book_id: int, payload: dict, service: BookServiceDep) -> BookOut:
        return service.update(book_id, payload)
    ```

    ## Use instead
    ```python
    class BookUpdate(BaseModel):
        title: str | None = Field(default=None, max_length=500)
        price: Decimal | None = Field(default=None, gt=0)

    @router.patch("/books/{book_id}")
    def update_book(book_id: int, payload: BookUpdate, service: BookServiceDep) -> BookOut:
        return service.update(book_id, payload.model_dump(exclude_unset=True))
    ```

    ## Fix safety
    There is no automatic fix: the model has to describe the expected body.

    ## Options
    Webhook receivers and proxies legitimately accept arbitrary JSON. There is no
    configuration key for this yet: path operations whose full path contains `webhook`
    (and dependencies used only by them) are not flagged, and neither is a body used
    only as the payload of outgoing HTTP calls (`json=body`, `json={**body}`,
    `data=`/`content=` of an `httpx`/`requests`/`aiohttp` call), never read or changed
    by the handler: a proxy, whose upstream service owns and validates the schema. Use
    `# noqa: FAA101` for a proxy that also reads the body.
    """
    project = ctx.project
    for fn, path_params, kind in _body_candidates(ctx.model):
        for param, described in _raw_body_params(project, fn, path_params):
            where = f"`{fn.name}`" if kind == "route" else f"dependency `{function_label(fn)}`"
            validation = _validated_in_handler(ctx.model, fn, param.arg)
            if validation is not None and validation.model is None:
                continue  # its schema exists only at run time: no model can describe it
            if _proxied_only(project, fn, param.arg):
                continue  # a proxy: the upstream service owns the schema
            if validation is not None:
                if kind == "route" and _undocumented_route(ctx.model, fn):
                    continue  # validated, and OpenAPI documents nothing of the route
                by = (
                    "in the handler"
                    if validation.by is None
                    else f"by `{function_label(validation.by)}`"
                )
                yield Report(
                    param,
                    f"Body parameter `{param.arg}` of {where} is {described}, validated {by} "
                    f"with `{validation.model}`: OpenAPI shows no fields for it; "
                    f"declare `{validation.model}` as its type",
                    fn.module,
                    severity="info",
                )
                continue
            yield Report(
                param,
                f"Body parameter `{param.arg}` of {where} is {described}: FastAPI does not "
                "validate or document its fields",
                fn.module,
            )


# ------------------------------------------------------------------ FAA102

_BODY_READS = frozenset({"json", "body", "form"})
_JSON_PARSERS = frozenset(
    {
        "json.loads",
        "orjson.loads",
        "ujson.loads",
        "simplejson.loads",
        "rapidjson.loads",
        "msgspec.json.decode",
        "urllib.parse.parse_qs",
        "urllib.parse.parse_qsl",
    }
)
_VALIDATE_METHODS = frozenset({"model_validate_json", "parse_raw", "validate_json"})
_FORM_ITERATION = frozenset({"items", "keys", "values", "multi_items"})


@dataclass
class _ReadFacts:
    """What a route or dependency does with the body it reads, from one walk of its body."""

    request_params: set[str] = field(default_factory=set)
    # Locals holding the raw bytes (`raw = await request.body()`, `text = raw.decode()`).
    raw_vars: set[str] = field(default_factory=set)
    # Locals derived from any body read, the parsed ones included (`token = form["csrf"]`).
    carriers: set[str] = field(default_factory=set)
    # Call nodes that parse JSON or form text (`json.loads`, `Model.model_validate_json`).
    parse_calls: set[int] = field(default_factory=set)
    # Locals that appear in the arguments of such a parse call.
    parsed_names: set[str] = field(default_factory=set)
    # The body is checked against a signature or a token, or read per content type:
    # a typed parameter cannot replace the read.
    deliberate: bool = False
    # Form field names or file counts that are not known in advance.
    dynamic_form: bool = False
    # A Pydantic model parameter that FastAPI reads from the body: any read is a peek.
    body_model: bool = False


_READ_FACTS: FunctionCache[_ReadFacts] = FunctionCache()


def _body_read_kind(expr: ast.AST | None, requests: set[str]) -> str:
    """`json`, `body` or `form` for `await request.<kind>()` on a `Request` parameter."""
    if not isinstance(expr, ast.Await):
        return ""
    call = expr.value
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in _BODY_READS
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id in requests
    ):
        return call.func.attr
    return ""


def _contains_read(expr: ast.AST, requests: set[str], kinds: frozenset[str] = _BODY_READS) -> bool:
    return any(_body_read_kind(node, requests) in kinds for node in walk(expr))


def _names_in(expr: ast.AST) -> set[str]:
    return {n.id for n in walk(expr) if isinstance(n, ast.Name)}


def _call_args(call: ast.Call) -> list[ast.expr]:
    return [*call.args, *(kw.value for kw in call.keywords)]


def _header_name(node: ast.AST) -> str:
    """The literal header name in `request.headers.get("x")` / `request.headers["x"]`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "headers"
        and node.args
    ):
        return (const_str(node.args[0]) or "").lower()
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "headers"
    ):
        return (const_str(node.slice) or "").lower()
    return ""


def _dynamic_key(node: ast.AST, form_vars: set[str]) -> bool:
    """`form.get(f"cat_{sid}")`, `form.getlist(name)`, `form[key]` on a read form."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner, args = node.func.value, node.args
        if node.func.attr not in ("get", "getlist"):
            return False
    elif isinstance(node, ast.Subscript):
        owner, args = node.value, [node.slice]
    else:
        return False
    return (
        isinstance(owner, ast.Name)
        and owner.id in form_vars
        and bool(args)
        and not isinstance(args[0], ast.Constant)
    )


def _read_facts(ctx: FileContext, fn: Function) -> _ReadFacts:
    project = ctx.project
    facts = _ReadFacts()
    for param, _default in parameters(fn.node):
        if "signature" in param.arg.lower():
            facts.deliberate = True  # `x_signature: str = Header()`
        if project.is_subclass(
            annotation_type(project, fn.module, param.annotation, fn.parent), REQUEST
        ):
            facts.request_params.add(param.arg)
    facts.body_model = _has_body_model(project, fn)
    requests = facts.request_params
    locals_ = [(n, v) for n, v in fn.local_values.items() if v is not None]
    form_vars = {n for n, v in locals_ if _body_read_kind(v, requests) == "form"}
    facts.raw_vars = {n for n, v in locals_ if _body_read_kind(v, requests) == "body"}
    facts.carriers = {n for n, v in locals_ if _contains_read(v, requests)}
    for _round in range(3):
        for name, value in locals_:
            names = _names_in(value)
            if names & facts.carriers:
                facts.carriers.add(name)
            # `text = raw.decode()` still holds the raw body.
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "decode"
                and names & facts.raw_vars
            ):
                facts.raw_vars.add(name)

    # Checks over the raw bytes (`hmac.new(key, raw, ...)`, `verify_hmac(raw, header)`),
    # over anything read (`hmac.compare_digest(expected, form["csrf_token"])`) or over the
    # whole request (`check_signature(request)`).
    checks: list[tuple[ast.Call, set[str], frozenset[str]]] = []
    uses_hmac = False
    updates: list[ast.Call] = []
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            # A signature header (`X-Hub-Signature-256`) or "Invalid signature" error.
            if "signature" in node.value.lower():
                facts.deliberate = True
        elif isinstance(node, ast.Call):
            name = project.resolve(fn.module, node.func, fn) or dotted(node.func) or ""
            short = last_name(name).lower()
            if name.startswith("hmac."):
                uses_hmac = True
                checks.append((node, facts.carriers, _BODY_READS))
            elif (
                "signature" in short
                or "webhook" in short
                or short == "construct_event"
                or resolve_callee(project, fn.module, node.func, fn) in SDK_DELIVERY_CALLS
            ):
                # The Bot Framework's `adapter.process_activity(activity, auth_header, ...)`
                # checks the caller and takes the provider's payload as it comes.
                checks.append((node, facts.carriers | requests, _BODY_READS))
            elif "verify" in short:
                # `verify_password(form["password"], ...)` is a login: raw bytes only.
                checks.append((node, facts.raw_vars, frozenset({"body"})))
            elif short == "update":
                updates.append(node)
            if name in _JSON_PARSERS or last_name(name) in _VALIDATE_METHODS:
                facts.parse_calls.add(id(node))
                for arg in _call_args(node):
                    facts.parsed_names |= _names_in(arg)
        elif isinstance(node, (ast.Name, ast.Attribute)) and not facts.dynamic_form:
            if project.resolve(fn.module, node, fn) in UPLOAD_FILE:
                facts.dynamic_form = True
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and form_vars:
            # Field names not known in advance: `for key, value in form.multi_items()`.
            source = node.iter
            if (
                isinstance(source, ast.Call)
                and isinstance(source.func, ast.Attribute)
                and source.func.attr in _FORM_ITERATION
            ):
                source = source.func.value
            if isinstance(source, ast.Name) and source.id in form_vars:
                facts.dynamic_form = True
        if _header_name(node) == "content-type":
            facts.deliberate = True  # the body is parsed per content type
        if form_vars and _dynamic_key(node, form_vars):
            facts.dynamic_form = True
    read_kinds = {_body_read_kind(node, requests) for node in body_nodes(fn.node)}
    if {"json", "form"} <= read_kinds:
        facts.deliberate = True  # JSON or form, chosen per request: content negotiation
    if uses_hmac:
        checks.extend((call, facts.raw_vars, frozenset({"body"})) for call in updates)
    for call, carriers, kinds in checks:
        for arg in _call_args(call):
            if _names_in(arg) & carriers or _contains_read(arg, requests, kinds):
                facts.deliberate = True
    return facts


def _route_checks_signature(ctx: FileContext, routes: list[Route]) -> bool:
    """A route with a dependency that verifies a signature
    (`dependencies=[Depends(verify_signature)]`)."""
    for route in routes:
        for site in ctx.model.route_sites(route):
            target = resolve_target(ctx.project, site)
            if target is not None and "signature" in target.name.lower():
                return True
    return False


def _openapi_documents_body(route: Route) -> bool:
    """`openapi_extra={"requestBody": ...}`: the body is documented by hand, on purpose
    (the FastAPI docs' pattern for non-JSON content types)."""
    extra = route.keywords.get("openapi_extra")
    if extra is None:
        return False
    if not isinstance(extra, ast.Dict):
        return True  # built elsewhere: assume it documents the body
    return any(const_str(key) == "requestBody" for key in extra.keys)


def _imports_fastapi(module: Module) -> bool:
    """FAA102's module guard: only a module that imports FastAPI or Starlette handles a
    request."""
    return module.imports_anything("fastapi", "starlette")


@rule(
    code="FAA102",
    name="manual-request-body-parsing",
    summary=(
        "A route or dependency parses the request body by hand instead of taking a typed parameter"
    ),
    severity="warning",
    nodes=(ast.Await,),
    applies=_imports_fastapi,
    fix_title="Declare a Pydantic model (or `Form()`) parameter instead of reading `request`",
    references=(
        "https://fastapi.tiangolo.com/tutorial/body/",
        "https://fastapi.tiangolo.com/tutorial/request-form-models/",
    ),
)
def manual_request_body_parsing(node: ast.Await, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds path operations and dependencies that read the request body by hand:
    `await request.json()`, `await request.form()`, or `await request.body()` whose bytes
    are then parsed as JSON (`json.loads(await request.body())`,
    `Model.model_validate_json(raw)`), where `request` is a `Request` parameter.

    ## Why is this bad?
    FastAPI validates a declared body parameter and answers a malformed body with a 422
    that lists every problem. A hand-parsed body skips all of that: a missing key
    becomes a `KeyError` (a 500), wrong types flow into the code, and the OpenAPI schema
    shows no request body, so clients and generated SDKs have no contract.

    ## Known problems
    Reading the body by hand is legitimate in a few cases, which are not flagged:
    - a signature or token check: the raw bytes (or anything read from the body, or the
      request itself for functions named like `check_signature`) reach `hmac`,
      `stripe.Webhook.construct_event`, a provider SDK that checks the delivery and
      parses its payload (Slack Bolt, Svix, the Bot Framework's
      `adapter.process_activity(activity, auth_header, ...)`), or a function whose name
      contains `signature`, `webhook` or (raw bytes only) `verify`; the function reads a signature header or
      mentions a signature at all (`X-Hub-Signature-256`, `"Invalid signature"`, an
      `x_signature` parameter); or the route has a dependency named like
      `verify_signature`;
    - content negotiation: the function reads the `Content-Type` header and parses the
      body accordingly, or reads both `request.json()` and `request.form()` (JSON or
      form, one per request: FastAPI cannot declare both for one route);
    - an optional peek: the read sits in `with suppress(JSONDecodeError):` (or
      `ValueError`, `Exception`) or in a `try` whose handler for such an error does not
      raise, so a missing or malformed body is ignored (an authorization dependency
      looking for one key while the route declares the body itself);
    - `request.body()` whose bytes are not parsed as JSON (proxies, raw uploads, YAML
      or protobuf bodies);
    - `request.form()` when the function handles `UploadFile` objects, iterates over
      the form's fields or looks fields up by computed names: field names or file
      counts that are not known in advance cannot be declared as parameters;
    - a route with `openapi_extra={"requestBody": ...}`, which documents its body by
      hand (the FastAPI docs' pattern for other content types);
    - a function that also takes a Pydantic model parameter read from the body (no
      marker, `Body()` or `Form()`): FastAPI has validated and documented the body, and
      the read only peeks at the raw payload (a legacy key the model drops);
    - a body parsed by a Pydantic model (`Model.model_validate_json(await
      request.body())`, `Model.model_validate(await request.json())`, `Model(**data)`)
      in a `try` whose `except ValidationError` (or `ValueError`) returns a value or
      raises a new, non-5xx error: the input is validated, and the function answers with
      its protocol's error shape (RFC 7591's `invalid_client_metadata`) instead of
      FastAPI's 422. Malformed JSON must be answered too: a `request.json()` read, or a
      model that does not decode JSON itself, must sit in that `try` and the clause must
      cover `ValueError`/`JSONDecodeError`. A model parse left unhandled or re-raised
      (a 500) is still reported.

    Functions that are neither path operations nor dependencies (middleware, exception
    handlers, helpers) are not checked.

    ## Example
    ```python
    @router.post("/books/import")
    async def import_books(request: Request, session: AsyncSessionDep) -> list[BookOut]:
        data = await request.json()
        items = [BookCreate.model_validate(entry) for entry in data["books"]]
        ...
    ```

    ## Use instead
    ```python
    class BookImport(BaseModel):
        books: list[BookCreate] = Field(max_length=500)

    @router.post("/books/import")
    async def import_books(payload: BookImport, session: AsyncSessionDep) -> list[BookOut]:
        ...
    ```

    ## Fix safety
    There is no automatic fix: the model has to describe the expected body.

    ## Options
    Webhook receivers take whatever JSON a third party sends. As for FAA101, there is
    no configuration key for this yet: path operations whose full path contains
    `webhook` (and dependencies used only by them) are not flagged.
    """
    call = node.value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in _BODY_READS
        and isinstance(call.func.value, ast.Name)
    ):
        return
    fn = ctx.function()
    if fn is None:
        return
    routes = ctx.routes()
    if not routes and not ctx.model.is_dependency(fn):
        return
    if _WEBHOOKS.get(ctx.model, lambda: _webhook_scope(ctx.model)).allows(fn):
        return
    facts = _READ_FACTS.get(ctx.model, fn, lambda: _read_facts(ctx, fn))
    receiver = call.func.value.id
    if receiver not in facts.request_params or facts.deliberate:
        return
    kind = call.func.attr
    if kind == "form" and facts.dynamic_form:
        return
    if kind == "body" and not _body_is_parsed(node, ctx, facts):
        return
    if facts.body_model or _decode_error_swallowed(node, ctx):
        return
    if _validated_by_model(node, ctx, fn, facts, kind):
        return
    if _route_checks_signature(ctx, routes) or any(_openapi_documents_body(r) for r in routes):
        return
    where = f"`{fn.name}`" if routes else f"dependency `{function_label(fn)}`"
    if kind == "body":
        what = f"parses `await {receiver}.body()` as JSON"
    else:
        what = f"reads the body with `await {receiver}.{kind}()`"
    instead = "`Form()` parameters" if kind == "form" else "a Pydantic model parameter"
    yield Report(node, f"{where} {what}: declare {instead} so FastAPI validates it")


_DECODE_ERRORS = frozenset({"JSONDecodeError", "ValueError", "Exception", "BaseException"})


def _names_decode_error(expr: ast.expr | None) -> bool:
    if expr is None:
        return True  # bare `except:`
    items = expr.elts if isinstance(expr, ast.Tuple) else [expr]
    return any(last_name(dotted(item) or "") in _DECODE_ERRORS for item in items)


def _decode_error_swallowed(node: ast.Await, ctx: FileContext) -> bool:
    """An optional peek: the read sits in `with suppress(JSONDecodeError):` or in a `try`
    whose decode-error handler goes on without raising, so a bad or missing body is
    ignored (an authorization dependency looking for one key; the route declares the
    body itself)."""
    for ancestor in reversed(ctx.stack):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        if isinstance(ancestor, (ast.With, ast.AsyncWith)):
            for item in ancestor.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and last_name(dotted(call.func) or "") == "suppress"
                    and any(_names_decode_error(arg) for arg in call.args)
                ):
                    return True
        if isinstance(ancestor, ast.Try) and any(
            any(n is node for n in walk(stmt)) for stmt in ancestor.body
        ):
            for handler in ancestor.handlers:
                if _names_decode_error(handler.type) and not any(
                    isinstance(n, ast.Raise) for n in walk(handler)
                ):
                    return True
    return False


def _has_body_model(project: Project, fn: Function) -> bool:
    """Does the function take a Pydantic model parameter that FastAPI reads from the body
    (no marker, `Body()` or `Form()`)? Then FastAPI has already validated the body, and
    a read of `request` next to it only peeks at the raw payload (a legacy key)."""
    scope = fn.parent
    for index, (param, default) in enumerate(parameters(fn.node)):
        if index == 0 and fn.class_qualname is not None and param.arg in ("self", "cls"):
            continue
        if param.annotation is None:
            continue
        _base, metadata, meta_module = unwrap_annotation(
            project, fn.module, param.annotation, scope
        )
        marker = param_marker(project, fn.module, default, scope)
        meta_scope = scope if meta_module is fn.module else None
        for meta in metadata:
            marker = marker or param_marker(project, meta_module, meta, meta_scope)
        if marker not in (None, "Body", "Form"):
            continue
        qualname = annotation_type(project, fn.module, param.annotation, scope)
        if is_pydantic_model(project, qualname):
            return True
    return False


# Pydantic parsers of a read body: `Model.model_validate_json(raw)`,
# `Model.model_validate(data)`, `TypeAdapter(Model).validate_json(raw)`. The first group
# decodes the JSON text itself, so a malformed body is a `ValidationError` too.
_JSON_MODEL_PARSERS = frozenset({"model_validate_json", "parse_raw", "validate_json"})
_OBJECT_MODEL_PARSERS = frozenset({"model_validate", "parse_obj", "validate_python"})
_VALIDATION_ERRORS = frozenset({"ValidationError", "ValueError", "Exception", "BaseException"})


def _model_parse_method(project: Project, fn: Function, call: ast.Call) -> str | None:
    """The Pydantic method of `Model.<method>(...)` / `TypeAdapter(...).<method>(...)`, or
    `__init__` for `Model(**data)` of a project Pydantic model."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in (
        _JSON_MODEL_PARSERS | _OBJECT_MODEL_PARSERS
    ):
        return func.attr
    if any(kw.arg is None for kw in call.keywords):
        qualname = project.resolve(fn.module, func, fn)
        if is_pydantic_model(project, qualname):
            return "__init__"
    return None


def _answers_client_error(handler: ast.ExceptHandler) -> bool:
    """Does an `except` clause answer the client: return a value or raise a new error
    (`HTTPException(400)`, a protocol error), not re-raise and not a 5xx?"""
    answers = False
    for node in walk(handler):
        if isinstance(node, ast.Raise):
            if node.exc is None:
                return False  # `raise`: the error goes on, a 500
            answers = True
        elif isinstance(node, ast.Return) and node.value is not None:
            answers = True
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
            and 500 <= node.value < 600
        ):
            return False
    return answers


def _handled_errors(try_: ast.Try) -> set[str]:
    """What the `try`'s answering handlers cover: `validation` (a Pydantic
    `ValidationError`) and `decode` (malformed JSON)."""
    covered: set[str] = set()
    for handler in try_.handlers:
        if not _answers_client_error(handler):
            continue
        if _names_decode_error(handler.type):
            covered.add("decode")
        items = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if handler.type is None or any(
            last_name(dotted(item) or "") in _VALIDATION_ERRORS
            for item in items
            if item is not None
        ):
            covered.add("validation")
    return covered


def _validated_by_model(
    node: ast.Await, ctx: FileContext, fn: Function, facts: _ReadFacts, kind: str
) -> bool:
    """Is the read body parsed by a Pydantic model whose `ValidationError` the function
    answers with a 4xx of its own (`try: reg = Reg.model_validate_json(await
    request.body()) except ValidationError: return _error(400, ...)`): a protocol's error
    shape instead of FastAPI's 422, but validated input all the same. Malformed JSON must
    be answered too: a `json()` read (or a model that does not decode JSON itself) must
    sit in a `try` that also handles `ValueError`/`JSONDecodeError`."""
    project = ctx.project
    parses: list[ast.Call] = []
    for ancestor in reversed(ctx.stack):
        if isinstance(ancestor, ast.Call) and _model_parse_method(project, fn, ancestor):
            parses.append(ancestor)
            break
        if isinstance(ancestor, ast.stmt):
            if isinstance(ancestor, (ast.Assign, ast.AnnAssign)) and ancestor.value is node:
                targets = (
                    ancestor.targets if isinstance(ancestor, ast.Assign) else [ancestor.target]
                )
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                if kind == "body":
                    names |= facts.raw_vars
                parses = [
                    call
                    for call in body_nodes(fn.node)
                    if isinstance(call, ast.Call)
                    and _model_parse_method(project, fn, call)
                    and any(_names_in(arg) & names for arg in _call_args(call))
                ]
            break
    if not parses:
        return False
    for call in parses:
        method = _model_parse_method(project, fn, call)
        needs_decode = kind == "json" or (kind == "body" and method not in _JSON_MODEL_PARSERS)
        guarded = node if needs_decode else call
        covered = False
        for try_ in body_nodes(fn.node):
            if not isinstance(try_, ast.Try) or not any(
                any(n is guarded for n in walk(stmt)) for stmt in try_.body
            ):
                continue
            handled = _handled_errors(try_)
            if "validation" in handled and (not needs_decode or "decode" in handled):
                covered = True
                break
        if not covered:
            return False
    return True


def _body_is_parsed(node: ast.Await, ctx: FileContext, facts: _ReadFacts) -> bool:
    for ancestor in reversed(ctx.stack):
        if id(ancestor) in facts.parse_calls:
            return True  # inline: `json.loads(await request.body())`
        if isinstance(ancestor, ast.stmt):
            # Bound to a local, then parsed: `raw = await request.body(); json.loads(raw)`
            # (or `json.loads(raw.decode())`, `text = raw.decode(); json.loads(text)`).
            if isinstance(ancestor, (ast.Assign, ast.AnnAssign)) and ancestor.value is node:
                targets = (
                    ancestor.targets if isinstance(ancestor, ast.Assign) else [ancestor.target]
                )
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                return bool(names & facts.raw_vars) and bool(facts.raw_vars & facts.parsed_names)
            return False
    return False


# ------------------------------------------------------------------ FAA104

_NO_BODY_STATUSES = frozenset({204, 205, 304})
# Probes are read by load balancers and orchestrators, not by API clients (FAA104 and
# FAA705 both leave them alone).
PROBE_SEGMENTS = frozenset(
    {
        "health",
        "healthz",
        "health-check",
        "healthcheck",
        "ready",
        "readyz",
        "readiness",
        "live",
        "livez",
        "liveness",
        "ping",
    }
)


def _is_probe(route: Route) -> bool:
    for path in route.full_paths or [route.path]:
        segments = [s for s in path.split("/") if s]
        if segments and segments[-1].lower() in PROBE_SEGMENTS:
            return True
    return False


def _keyword_of(call: ast.AST, name: str) -> ast.expr | None:
    if isinstance(call, ast.Call):
        for kw in call.keywords:
            if kw.arg == name:
                return kw.value
    return None


def _hidden_from_schema(route: Route) -> bool:
    """`include_in_schema=False` on the route, its router, or an `include_router` call on
    the way to every place it is served."""
    if _is_false(route.keywords.get("include_in_schema")):
        return True
    if not route.mounts:
        return _is_false(_keyword_of(route.router.node, "include_in_schema"))
    return all(_mount_hidden(mount.chain) for mount in route.mounts)


def _mount_hidden(chain: list[RouterObj]) -> bool:
    for index, router in enumerate(chain):
        if _is_false(_keyword_of(router.node, "include_in_schema")):
            return True
        if index == 0:
            continue
        parent = chain[index - 1]
        for include in router.included_by:
            if include.parent is parent and _is_false(
                _keyword_of(include.node, "include_in_schema")
            ):
                return True
    return False


def _is_false(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is False


def _response_class(route: Route) -> tuple[ast.expr, Module] | None:
    """The `response_class=` that applies: on the route, else the closest router or app
    `default_response_class=` (an `include_router` one included)."""
    found = route.keywords.get("response_class")
    if found is not None:
        return found, route.module
    chains = [m.chain for m in route.mounts] or [[route.router]]
    for chain in chains:
        for index in range(len(chain) - 1, -1, -1):
            router = chain[index]
            value = _keyword_of(router.node, "default_response_class")
            if value is not None:
                return value, router.module
            if index > 0:
                for include in router.included_by:
                    if include.parent is chain[index - 1]:
                        value = _keyword_of(include.node, "default_response_class")
                        if value is not None:
                            return value, include.module
    return None


# A handler that serves a document whose shape it does not own: the JSON body of an
# upstream service it proxies (`return await r.json()` after `session.get(url)`), or a
# generated OpenAPI/JSON Schema document (`app.openapi()`, `Model.model_json_schema()`,
# a dict with an `"openapi"` key). A response model would only cut fields out of them.
_HTTP_LIBRARIES = ("aiohttp", "httpx", "requests", "urllib3")
_HTTP_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "send"}
)
_SCHEMA_METHODS = frozenset({"model_json_schema", "schema", "json_schema", "openapi"})
_OPENAPI_BUILDERS = frozenset({"fastapi.openapi.utils.get_openapi"})
_DOCUMENT_KEYS = frozenset({"openapi", "swagger", "$schema"})
_COPIES = frozenset({"dict", "copy.copy", "copy.deepcopy"})
_JSON_DECODERS = frozenset({"json.loads", "json.load", "orjson.loads", "ujson.loads", "ujson.load"})
_FILE_READS = frozenset({"read_text", "read_bytes"})
_FLOW_DEPTH = 12

# A value's verdict: True (a foreign document), False (anything else), None (no
# evidence either way: `None`, a value still being evaluated further up).
_Verdict = bool | None
# The arguments a project helper was called with: parameter -> (caller, its
# arguments, the argument expression).
_Arguments = dict[str, tuple[Function, "_Arguments", ast.expr]]


def _combine(verdicts: list[_Verdict]) -> _Verdict:
    if False in verdicts:
        return False
    return True if True in verdicts else None


@dataclass
class _DocumentFlow:
    project: Project
    active: set[tuple[int, str]] = field(default_factory=set)
    depth: int = 0


def _bindings(fn: Function, name: str) -> list[ast.expr | None]:
    """Every value `name` is bound to in `fn`'s own scope (assignments, `with ... as`,
    `:=`), None for a binding of unknown value (loop variables, unpacking, `except`
    names, augmented assignments, imports, definitions)."""
    table = fn.derived.get(_bindings)
    if table is None:
        table = fn.derived[_bindings] = _binding_table(fn)
    return cast(dict[str, list[ast.expr | None]], table).get(name, [])


def _binding_table(fn: Function) -> dict[str, list[ast.expr | None]]:
    """`_bindings` for every name of the function, from one walk."""
    out: dict[str, list[ast.expr | None]] = {}

    def bind(target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            out.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List, ast.Starred)):
            inner = target.elts if not isinstance(target, ast.Starred) else [target.value]
            for element in inner:
                bind(element, None)

    for node in body_nodes(fn.node):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            bind(node.target, node.value)
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor)):
            bind(node.target, None)
        elif isinstance(node, ast.NamedExpr):
            bind(node.target, node.value)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            bind(node.optional_vars, node.context_expr)
        elif isinstance(node, ast.ExceptHandler):
            if node.name is not None:
                out.setdefault(node.name, []).append(None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.setdefault(node.name, []).append(None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out.setdefault(alias.asname or alias.name.partition(".")[0], []).append(None)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for declared in node.names:
                out.setdefault(declared, []).append(None)
    return out


def _call_arguments(
    caller: Function, args: _Arguments, callee: Function, call: ast.Call
) -> _Arguments:
    return {name: (caller, args, arg) for name, arg in passed_arguments(callee, call).items()}


def _name_values(
    flow: _DocumentFlow,
    fn: Function,
    args: _Arguments,
    name: str,
    judge: Callable[[_DocumentFlow, Function, _Arguments, ast.expr], _Verdict],
) -> _Verdict:
    """Judge every value a local or parameter may hold; a `None` initializer and a
    binding already being judged (a loop through the flow) say nothing."""
    key = (id(fn.node), name)
    if key in flow.active:
        return None
    flow.active.add(key)
    try:
        verdicts: list[_Verdict] = []
        if name in fn.param_names:
            if name not in args:
                return False
            caller, caller_args, expr = args[name]
            verdicts.append(judge(flow, caller, caller_args, expr))
        for value in _bindings(fn, name):
            if value is None:
                return False
            if isinstance(value, ast.Constant) and value.value is None:
                continue
            verdicts.append(judge(flow, fn, args, value))
        if not verdicts and name not in fn.param_names:
            return False
        return _combine(verdicts)
    finally:
        flow.active.discard(key)


def _http_response(flow: _DocumentFlow, fn: Function, args: _Arguments, expr: ast.expr) -> _Verdict:
    """Is this the response of an outgoing HTTP call (`await session.get(url)`,
    `async with client.post(url, ...) as r`, `requests.get(url)`), in a module that
    uses an HTTP client library?"""
    if isinstance(expr, ast.Await):
        return _http_response(flow, fn, args, expr.value)
    if isinstance(expr, ast.Name):
        return _name_values(flow, fn, args, expr.id, _http_response)
    if not (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in _HTTP_METHODS
        and (expr.args or any(kw.arg == "url" for kw in expr.keywords))
        and fn.module.imports_anything(*_HTTP_LIBRARIES)
    ):
        return False
    project = flow.project
    return project.function(resolve_callee(project, fn.module, expr.func, fn)) is None


def _opened_file(flow: _DocumentFlow, fn: Function, args: _Arguments, expr: ast.expr) -> _Verdict:
    """Is this a file opened for reading (`open(path)`, `path.open()`, `aiofiles.open`)?"""
    if isinstance(expr, ast.Await):
        return _opened_file(flow, fn, args, expr.value)
    if isinstance(expr, ast.Name):
        return _name_values(flow, fn, args, expr.id, _opened_file)
    if not isinstance(expr, ast.Call):
        return False
    if isinstance(expr.func, ast.Name) and expr.func.id == "open":
        return not fn.binds("open") and "open" not in fn.module.functions
    return (
        isinstance(expr.func, ast.Attribute)
        and expr.func.attr in ("open", "open_file")
        and flow.project.function(resolve_callee(flow.project, fn.module, expr.func, fn)) is None
    )


def _document_text(flow: _DocumentFlow, fn: Function, args: _Arguments, expr: ast.expr) -> _Verdict:
    """Is this the whole text of a file (`path.read_text()`, `f.read()` of an opened
    file) or of an upstream HTTP response (`r.text`, `r.content`, `await r.read()`)?"""
    if isinstance(expr, ast.Await):
        return _document_text(flow, fn, args, expr.value)
    if isinstance(expr, ast.Name):
        return _name_values(flow, fn, args, expr.id, _document_text)
    if isinstance(expr, ast.Attribute) and expr.attr in ("text", "content"):
        return _http_response(flow, fn, args, expr.value) is True
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)) or expr.args:
        return False
    func = expr.func
    if flow.project.function(resolve_callee(flow.project, fn.module, func, fn)) is not None:
        return False
    if func.attr in _FILE_READS:
        return True
    if func.attr in ("text", "read") and _http_response(flow, fn, args, func.value) is True:
        return True
    return func.attr == "read" and _opened_file(flow, fn, args, func.value) is True


def _module_store(fn: Function, expr: ast.expr) -> tuple[Module, str] | None:
    """The module-level container a name in `fn` refers to (`CACHE` assigned `{}`,
    `dict()` or a cache object such as `TTLCache(...)`), when no enclosing function
    binds the name itself."""
    if not isinstance(expr, ast.Name):
        return None
    scope: Function | None = fn
    while scope is not None:
        if scope.binds(expr.id):
            return None
        scope = scope.parent
    value = fn.module.assignments.get(expr.id)
    if (isinstance(value, ast.Dict) and not value.keys) or isinstance(value, ast.Call):
        return fn.module, expr.id
    return None


def _cached_document(
    flow: _DocumentFlow, fn: Function, args: _Arguments, store: tuple[Module, str]
) -> _Verdict:
    """A read from a module-level cache (`CACHE[key]`, `CACHE.get(key)`) holds what the
    module's functions put in it (`CACHE[key] = value`): judge every value stored, in
    its own function (with the current arguments when it is `fn` itself). Any other
    way of filling the container, or none at all, says it is not a document."""
    module, name = store
    key = (id(module), f"{name}[]")
    if key in flow.active:
        return None
    flow.active.add(key)
    try:
        verdicts: list[_Verdict] = []
        if not isinstance(module.assignments[name], ast.Dict):
            call = module.assignments[name]
            if isinstance(call, ast.Call) and flow.project.function(
                resolve_callee(flow.project, module, call.func, None)
            ):
                return False  # a project function's result, not an empty container
        for node in walk_scope(module.tree):
            if isinstance(node, ast.Assign) and _stores_into(node.targets, name):
                return False  # filled at import time: the module's own data
        for owner in module.functions.values():
            if _module_store(owner, ast.Name(id=name)) is None:
                continue
            for node in body_nodes(owner.node):
                if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                    targets: list[ast.expr] = (
                        node.targets if isinstance(node, ast.Assign) else [node.target]
                    )
                    if not _stores_into(targets, name):
                        continue
                    if not isinstance(node, ast.Assign) or node.value is None:
                        return False
                    owner_args = args if owner is fn else {}
                    verdicts.append(_foreign_document(flow, owner, owner_args, node.value))
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == name
                    and node.func.attr in ("update", "setdefault", "__setitem__")
                ):
                    return False
        return _combine(verdicts) if verdicts else False
    finally:
        flow.active.discard(key)


def _stores_into(targets: list[ast.expr], name: str) -> bool:
    return any(
        isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name
        for t in targets
    )


def _computed_name(fn: Function, expr: ast.expr) -> bool:
    """An attribute name not fixed in the code: not a literal, nor a module constant."""
    if isinstance(expr, ast.Constant):
        return False
    if isinstance(expr, ast.Name) and not fn.binds(expr.id):
        return not isinstance(fn.module.assignments.get(expr.id), ast.Constant)
    return True


def _dispatched(flow: _DocumentFlow, fn: Function, args: _Arguments, expr: ast.expr) -> _Verdict:
    """Is this a callable looked up at run time by a computed name
    (`getattr(block, body.fn_name)`), or a wrapper of one (`fn = wrap(fn, ...)`)?"""
    if isinstance(expr, ast.Name):
        return _name_values(flow, fn, args, expr.id, _dispatched)
    if not isinstance(expr, ast.Call):
        return False
    if _is_name(expr.func, "getattr") and not fn.binds("getattr") and len(expr.args) >= 2:
        return _computed_name(fn, expr.args[1])
    # A wrapper around the looked-up callable (`fn = get_function_with_locals(fn, ...)`).
    return _dispatched(flow, fn, args, expr.args[0]) if expr.args else False


def _dispatched_result(
    flow: _DocumentFlow, fn: Function, args: _Arguments, call: ast.Call, callee: str | None
) -> bool:
    """The result of a callable looked up by a computed name, typically one sent in the
    request: a generic dispatcher (`getattr(component, body.fn_name)(*data)`, also run in a worker thread),
    whose response shape belongs to each target, not to the route."""
    if _dispatched(flow, fn, args, call.func) is True:
        return True
    target: ast.expr | None = None
    if callee in TO_THREAD and call.args:
        target = call.args[0]
    elif isinstance(call.func, ast.Attribute) and call.func.attr == "run_in_executor":
        target = call.args[1] if len(call.args) > 1 else None
    return target is not None and _dispatched(flow, fn, args, target) is True


def _foreign_document(
    flow: _DocumentFlow, fn: Function, args: _Arguments, expr: ast.expr
) -> _Verdict:
    """Is this value (in `fn`, called with `args`) a document the app does not shape:
    an upstream JSON body passed through whole, or a generated OpenAPI/JSON Schema?"""
    if flow.depth > _FLOW_DEPTH:
        return False
    flow.depth += 1
    try:
        return _judge_document(flow, fn, args, expr)
    finally:
        flow.depth -= 1


def _judge_document(
    flow: _DocumentFlow, fn: Function, args: _Arguments, expr: ast.expr
) -> _Verdict:
    project = flow.project
    if isinstance(expr, ast.Await):
        return _foreign_document(flow, fn, args, expr.value)
    if isinstance(expr, ast.Constant):
        return None if expr.value is None else False
    if isinstance(expr, ast.IfExp):
        return _combine(
            [
                _foreign_document(flow, fn, args, expr.body),
                _foreign_document(flow, fn, args, expr.orelse),
            ]
        )
    if isinstance(expr, ast.Name):
        return _name_values(flow, fn, args, expr.id, _foreign_document)
    if isinstance(expr, ast.Attribute) and expr.attr == "text":  # httpx, requests
        return _http_response(flow, fn, args, expr.value) is True
    if isinstance(expr, ast.Subscript):  # a read from a module-level cache
        store = _module_store(fn, expr.value)
        return False if store is None else _cached_document(flow, fn, args, store)
    if isinstance(expr, ast.Dict):
        if any(const_str(k) in _DOCUMENT_KEYS for k in expr.keys if k is not None):
            return True
        if expr.values and all(k is None for k in expr.keys):  # `{**upstream}`
            return _combine([_foreign_document(flow, fn, args, v) for v in expr.values])
        return False
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    callee = resolve_callee(project, fn.module, func, fn)
    helper = project.function(callee)
    if helper is None:
        if isinstance(func, ast.Attribute) and not expr.args:
            if func.attr in ("json", "text"):  # aiohttp's `text()` is a method
                return _http_response(flow, fn, args, func.value) is True
            if func.attr in _SCHEMA_METHODS:
                return True
            if func.attr == "copy" and not expr.keywords:
                return _foreign_document(flow, fn, args, func.value)
        if callee in _OPENAPI_BUILDERS:
            return True
        if callee in _JSON_DECODERS and len(expr.args) == 1 and not expr.keywords:
            # A JSON document decoded whole: an upstream body, or a file (a bundled copy).
            if callee.endswith(".load"):
                return _opened_file(flow, fn, args, expr.args[0]) is True
            return _document_text(flow, fn, args, expr.args[0]) is True
        if isinstance(func, ast.Attribute) and func.attr == "get" and len(expr.args) in (1, 2):
            store = _module_store(fn, func.value)
            default = expr.args[1] if len(expr.args) == 2 else None
            if store is not None and not expr.keywords:
                verdict = _cached_document(flow, fn, args, store)
                if default is None:
                    return verdict
                return _combine([verdict, _foreign_document(flow, fn, args, default)])
        if callee in _COPIES and len(expr.args) == 1 and not expr.keywords:
            return _foreign_document(flow, fn, args, expr.args[0])
        return _dispatched_result(flow, fn, args, expr, callee)
    helper_args = _call_arguments(fn, args, helper, expr)
    verdicts: list[_Verdict] = []
    for value in returned_values(helper):
        if is_response_expr(project, helper, value):
            continue
        verdicts.append(_foreign_document(flow, helper, helper_args, value))
    return _combine(verdicts)


def _serves_foreign_document(project: Project, handler: Function) -> bool:
    """Does every `return` of the handler pass on an upstream JSON body or a generated
    schema document (or build a `Response`, or return nothing)?"""
    flow = _DocumentFlow(project)
    verdicts: list[_Verdict] = []
    for value in returned_values(handler):
        if is_response_expr(project, handler, value):
            continue
        verdicts.append(_foreign_document(flow, handler, {}, value))
    return _combine(verdicts) is True


def _registration_scope(route: Route) -> Function | None:
    handler = route.handler
    return handler.parent if handler.module is route.module else None


@rule(
    code="FAA104",
    name="missing-response-model",
    summary="A path operation declares no response model, or declares it as `dict`/`Any`",
    severity="warning",
    scope="route",
    fix_title="Declare a Pydantic response model (`response_model=` or a return annotation)",
    references=(
        "https://fastapi.tiangolo.com/tutorial/response-model/",
        "https://fastapi.tiangolo.com/advanced/custom-response/",
    ),
)
def missing_response_model(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operations whose response has no contract: no `response_model=` and no
    return annotation, or a contract that is a schema-less shape (`dict`,
    `dict[str, Any]`, `Any`, `list[dict]`). Reported at the decorator (or
    `add_api_route` call); a handler registered several times (`/reset` next to
    `/reset/`) is reported once, on its first registration.

    ## Why is this bad?
    The response model is what FastAPI validates and *filters* the returned data with,
    and what the OpenAPI schema shows clients. Without one, whatever the handler returns
    is serialized as is: a field added to an ORM model or a dict (a password hash, an
    internal flag) reaches clients silently, and generated SDKs get an untyped response.

    ## Known problems
    Not flagged, because they have no JSON body to model or opted out on purpose:
    - websocket routes, Starlette-style `app.route(...)` handlers, HEAD/OPTIONS-only
      routes, and routes with `include_in_schema=False` (on the route, its router or
      the `include_router` call);
    - a non-JSON `response_class=` (or router/app `default_response_class=`) such as
      `HTMLResponse`, `PlainTextResponse`, `FileResponse`, `StreamingResponse` or
      `RedirectResponse`; `status_code` 204, 205, 304, 1xx and 3xx;
    - a return annotation naming a `Response` class, handlers whose every `return`
      builds a `Response` (directly, through a helper annotated `-> Response`, or
      through an unannotated project helper whose every `return` builds one), and
      handlers that return nothing, also by returning what a project function that
      returns nothing gives (`return await delete_row(user, token)`, one hop: no
      `return <value>`, no `yield`, no annotation but `-> None`, not a stub whose body
      is `...`; an async one must be awaited; no decorator but `@staticmethod`,
      `@classmethod`, its own route registration or a project decorator whose wrapper
      returns `[await] func(*args, **kwargs)`: another may return anything; not a
      method a project subclass overrides). A method of outside code named like a
      redirect builder (authlib's `client.authorize_redirect(...)`, fastapi-sso's
      `get_login_redirect()`) counts as building a `RedirectResponse`;
    - `response_model=None`, FastAPI's documented opt-out: the author decided, and a
      decorator with a `**kwargs` splat, which may hold the response model;
    - probes (`/health`, `/healthz`, `/ready`, `/live`, `/ping`...), read by load
      balancers rather than API clients;
    - handlers serving a document whose shape they do not own, in every `return`: the
      JSON body of an upstream service passed on whole (`return await r.json()` after
      `session.get(url)`, `{**data}`, or through a project helper that returns one or
      a `Response`; edited in place and kept in a module-level cache on the way, or
      read back from that cache), a JSON file decoded whole (`json.loads(path.read_text())`,
      `json.load(f)`: a bundled copy of such a document), or a generated
      OpenAPI/JSON Schema document (`app.openapi()`, `get_openapi(...)`,
      `Model.model_json_schema()`, a dict with an `"openapi"` key), or the result of a
      function looked up by a computed name (`getattr(component, body.fn_name)(...)`,
      also run in a worker thread): a generic dispatcher. A dict the handler
      builds itself, even from upstream data, is reported, and so is a cache that
      holds one.

    Reported at `info` severity, as a documentation gap only:
    - a handler whose every body is a constant dict (`{"ok": True}`,
      `{"message": "Variable set"}`), also through a project function whose result it
      returns and whose every body is one (`return await api_update_settings(...)`,
      one hop, the same helpers as above; one that returns nothing answers `null`, as a
      bare `return` does): there is nothing to validate, filter or leak;
    - a handler without a contract whose every `return` is a validated Pydantic model
      (`Model(...)`, `Model.model_validate(obj)`, or a project function annotated
      `-> Model`): FastAPI serializes the model as is, but OpenAPI shows no schema.
      A SQLModel `table=True` row is not such a model.

    Typed containers such as `dict[str, str]` are contracts and are not flagged.

    ## Example
    ```python
    @router.get("/stats")
    def store_stats(current_user: CurrentUser, db: SessionDep):
        return {"users": count_users(db), "books": count_books(db)}
    ```

    ## Use instead
    ```python
    class StoreStats(BaseModel):
        users: int
        books: int

    @router.get("/stats")
    def store_stats(current_user: CurrentUser, db: SessionDep) -> StoreStats:
        return StoreStats(users=count_users(db), books=count_books(db))
    ```

    ## Fix safety
    There is no automatic fix: the model has to describe the response.
    """
    found = _CONTRACT_FINDINGS.get(ctx.model, lambda: _contract_findings(ctx.model)).get(id(route))
    if found is not None:
        message, severity = found
        yield Report(route.node, message, severity=severity)


# What FAA104 says about one registration: the message after the handler's label, and
# a severity that overrides the rule's (None: the rule's own).
_Contract = tuple[str, Severity | None]
_CONTRACT_FINDINGS: ModelCache[dict[int, _Contract]] = ModelCache()


def site_order(route: Route) -> tuple[str, int, int]:
    """Where a registration stands in the project, for reporting in source order."""
    return (
        route.module.relpath,
        getattr(route.node, "lineno", 0),
        getattr(route.node, "col_offset", 0),
    )


def _contract_findings(model: AppModel) -> dict[int, _Contract]:
    """Every reported registration's message (by `id(route)`). A handler registered
    several times (`/reset` next to `/reset/`, HEAD next to GET) is one finding, on its
    first registration, as for FAA704/FAA705."""
    out: dict[int, _Contract] = {}
    first: dict[tuple[int, str], Route] = {}
    repeats: dict[int, int] = {}
    for route in sorted(model.routes, key=site_order):
        found = _contract_gap(model, route)
        if found is None:
            continue
        reporter = first.setdefault((id(route.handler), found[0]), route)
        if reporter is route:
            out[id(route)] = (f"`{route.handler.name}` ({route_label(route)}) {found[0]}", found[1])
        else:
            repeats[id(reporter)] = repeats.get(id(reporter), 0) + 1
    for key, count in repeats.items():
        message, severity = out[key]
        more = f"{count} more registration{'s' if count > 1 else ''} of the handler"
        out[key] = (f"{message} (and {more})", severity)
    return out


def _contract_gap(model: AppModel, route: Route) -> _Contract | None:
    """What one registration's response contract lacks, or None when it is fine."""
    project = model.project
    if route.kind != "http" or not set(route.methods) - {"HEAD", "OPTIONS"}:
        return None
    node = route.node
    # Starlette-style `app.route(...)` handlers return a `Response` themselves.
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("route", "add_route")
    ):
        return None
    status = route.status_code
    if status is not None and (status in _NO_BODY_STATUSES or status < 200 or 300 <= status < 400):
        return None
    if _hidden_from_schema(route) or _is_probe(route) or has_keyword_splat(route):
        return None
    scope = _registration_scope(route)
    response_class = _response_class(route)
    if response_class is not None:
        expr, module = response_class
        name = project.resolve(module, expr, scope if module is route.module else None)
        if not _is_json_response_class(project, name):
            return None

    handler = route.handler
    if "response_model" in route.keywords:
        declared = route.keywords["response_model"]
        if isinstance(declared, ast.Constant) and declared.value is None:
            return None
        if not is_raw_type(project, route.module, declared, scope, any_is_raw=True):
            return None
        if _serves_foreign_document(project, handler):
            return None
        contract = f"declares `response_model={ast.unparse(declared)}`"
        return _constant_gap(model, route, contract) or (
            f"{contract}: the response is neither filtered nor documented",
            None,
        )

    returns = handler.node.returns
    if returns is None:
        values = returned_values(handler)
        if all(
            is_response_expr(project, handler, v) or _returns_nothing(model, handler, v)
            for v in values
        ):
            return None
        if _serves_foreign_document(project, handler):
            return None
        contract = "has no `response_model=` and no return annotation"
        found = _constant_gap(model, route, contract)
        if found is not None:
            return found
        models = _returned_models(model, handler)
        if models:
            return (
                f"{contract}, but returns `{models}`: the response is validated, yet OpenAPI "
                f"shows no schema for it; annotate the handler `-> {models}`",
                "info",
            )
        return (
            f"{contract}: the response is neither validated, filtered nor documented",
            None,
        )
    if isinstance(returns, ast.Constant) and returns.value is None:
        return None
    if annotation_mentions_response(project, handler.module, returns, handler.parent):
        return None
    if not is_raw_type(project, handler.module, returns, handler.parent, any_is_raw=True):
        return None
    if _serves_foreign_document(project, handler):
        return None
    contract = f"returns `{ast.unparse(returns)}`"
    return _constant_gap(model, route, contract) or (
        f"{contract}, which has no schema: the response is neither filtered nor documented",
        None,
    )


_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _constant_body(expr: ast.expr) -> bool:
    """A literal dict of constants: `{"ok": True}`, `{"message": "Variable set"}`."""
    if not isinstance(expr, ast.Dict):
        return False
    try:
        ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


# Decorators that leave what a method returns as its body says.
_PLAIN_METHOD_DECORATORS = frozenset({"staticmethod", "classmethod"})


def _passes_through(project: Project, helper: Function, decorator: ast.expr) -> bool:
    """`@arequire_valid_user` (khoj): a project decorator `deco(func)` that returns a
    wrapper defined in it whose every `return` is `[await] func(*args, **kwargs)`: a
    call of the decorated function answers what its body returns."""
    deco = project.function(project.resolve(helper.module, decorator, helper.parent))
    if deco is None or len(deco.node.args.args) != 1:
        return False
    wrapped = deco.node.args.args[0].arg
    outer = [n for n in body_nodes(deco.node) if isinstance(n, ast.Return)]
    if len(outer) != 1 or not isinstance(outer[0].value, ast.Name):
        return False
    name = outer[0].value.id
    wrappers = [
        n
        for n in deco.node.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
    ]
    if len(wrappers) != 1:
        return False
    returns = [n for n in body_nodes(wrappers[0]) if isinstance(n, ast.Return)]
    for node in returns:
        value = node.value.value if isinstance(node.value, ast.Await) else node.value
        if not (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == wrapped
        ):
            return False
    return bool(returns)


def _decided_by_body(model: AppModel, helper: Function) -> bool:
    """Does `helper`'s own body say what a call of it returns? Not when a decorator
    wraps it (`@audit` may return anything), other than `@staticmethod`,
    `@classmethod`, a route registration of `helper` (FastAPI's `@router.put(...)`
    hands the function back) or a project decorator whose wrapper returns what the
    function does (`_passes_through`); nor for a method a project subclass overrides
    (the call may reach the override)."""
    project = model.project
    registrations = {id(r.node) for r in model.routes_of(helper)}
    for decorator in helper.node.decorator_list:
        if not (
            id(decorator) in registrations
            or dotted(decorator) in _PLAIN_METHOD_DECORATORS
            or _passes_through(project, helper, decorator)
        ):
            return False
    owner = helper.class_qualname
    return owner is None or (owner, helper.name) not in project_index(model, _overridden)


def _overridden(model: AppModel) -> frozenset[tuple[str, str]]:
    """`(class, method)` for every method a project subclass defines again."""
    project = model.project
    return frozenset(
        (base, name)
        for cls in project.classes.values()
        for base in project.mro(cls.qualname)
        if base != cls.qualname
        for name in cls.methods
    )


def _delegate(model: AppModel, fn: Function, expr: ast.expr) -> Function | None:
    """The project function whose result a returned value is (`return await
    helper(...)` for an async one, `return helper(...)` for a plain one), one hop, when
    its own body decides what it returns (`_decided_by_body`)."""
    project = model.project
    awaited = isinstance(expr, ast.Await)
    call = expr.value if isinstance(expr, ast.Await) else expr
    if not isinstance(call, ast.Call):
        return None
    helper = project.function(resolve_callee(project, fn.module, call.func, fn))
    if helper is None or helper is fn or helper.is_async != awaited:
        return None  # an async helper not awaited answers with a coroutine
    return helper if _decided_by_body(model, helper) else None


def _is_stub(fn: Function) -> bool:
    """A body that says nothing of what the function returns: `...`, `pass` or only
    `raise` (an abstract method, a protocol)."""
    body = without_docstring(fn.node.body)
    return all(
        isinstance(s, (ast.Pass, ast.Raise))
        or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


def _nothing_returned(helper: Function) -> bool:
    """No `return <value>`, no `yield`, no annotation but `-> None`, not a stub."""
    if returned_values(helper) or _is_stub(helper):
        return False
    returns = helper.node.returns
    if returns is not None and not (isinstance(returns, ast.Constant) and returns.value is None):
        return False
    return not any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in body_nodes(helper.node))


def _returns_nothing(model: AppModel, fn: Function, expr: ast.expr) -> bool:
    """`return await delete_row(user, token)` where the project function called
    returns nothing (`_nothing_returned`): the handler answers `null`, as one that
    returns nothing itself does."""
    helper = _delegate(model, fn, expr)
    return helper is not None and _nothing_returned(helper)


def _constant_gap(model: AppModel, route: Route, contract: str) -> _Contract | None:
    """A handler whose every body is a constant acknowledgement (`return {"ok": True}`;
    `Response`s and `null` aside), also through a project function whose result it
    returns (`return await api_update_settings(...)`, one hop; one that returns nothing
    answers `null`): nothing to validate, filter or leak, only the OpenAPI schema is
    missing. Reported at info severity. The message names the function a constant shown
    comes from when the handler does not return it itself."""
    project = model.project
    handler = route.handler
    values: list[ast.expr] = []
    origins: dict[str, set[str]] = {}  # constant text -> helper names, "" for the handler
    for value in returned_values(handler):
        if is_response_expr(project, handler, value):
            continue
        if _constant_body(value):
            values.append(value)
            origins.setdefault(ast.unparse(value), set()).add("")
            continue
        helper = _delegate(model, handler, value)
        if helper is None:
            return None
        if _nothing_returned(helper):
            continue  # answers `null`, as a bare `return` does
        inner = [v for v in returned_values(helper) if not is_response_expr(project, helper, v)]
        if not inner or not all(_constant_body(v) for v in inner):
            return None
        values.extend(inner)
        for v in inner:
            origins.setdefault(ast.unparse(v), set()).add(helper.name)
    if not values:
        return None
    texts = list(dict.fromkeys(ast.unparse(v) for v in values))
    named = texts[:1]
    if len(texts[0]) > 60:
        shown = "constant dicts" if len(texts) > 1 else "a constant dict"
        named = texts
    elif len(texts) > 1:
        shown = f"a constant such as `{texts[0]}`"
    else:
        shown = f"the constant `{texts[0]}`"
    sources = [origins[t] for t in named]
    if all("" not in source for source in sources):
        helpers = sorted(set().union(*sources))
        shown += f" (what {', '.join(f'`{h}`' for h in helpers)} returns)"
    no_body = ", or answer 204 with no body" if set(route.methods) & _WRITE_METHODS else ""
    return (
        f"{contract}, and its only body is {shown}: nothing to validate or filter, but "
        f"OpenAPI shows no schema for it; declare a small model{no_body}",
        "info",
    )


# Class methods that build a validated instance of the model.
_VALIDATING_CONSTRUCTORS = frozenset(
    {"model_validate", "model_validate_json", "model_validate_strings", "parse_obj", "parse_raw"}
)


def _validating_model(project: Project, qualname: str | None) -> bool:
    """A project Pydantic model that validates its data; a SQLModel `table=True` class is
    an ORM row (not validated, and it serializes every column)."""
    if qualname is None or project.class_(qualname) is None:
        return False
    mro = project.mro(qualname)
    if not any(base in MODEL_BASES for base in mro):
        return False
    for name in mro:
        cls = project.class_(name)
        if cls is not None and any(
            kw.arg == "table" and isinstance(kw.value, ast.Constant) and kw.value.value is True
            for kw in cls.node.keywords
        ):
            return False
    return True


def _returned_models(model: AppModel, handler: Function) -> str:
    """`AssetAliasResponse` when every body the handler returns (`Response`s aside) is an
    instance of a Pydantic model built and validated on the way, as the annotation to
    declare; "" otherwise."""
    project = model.project
    names: list[str] = []
    for value in returned_values(handler):
        if is_response_expr(project, handler, value):
            continue
        found = _model_instance(model, handler, value, 0)
        if found is None:
            return ""
        if found not in names:
            names.append(found)
    return " | ".join(names)


def _model_instance(model: AppModel, fn: Function, expr: ast.expr, depth: int) -> str | None:
    """The model (as an annotation to write) a value is a validated instance of:
    `Model(...)`, `Model.model_validate(obj)`, a local bound only to those, or a call to a
    project function annotated `-> Model` (`-> Model | None`), or an unannotated one
    whose every return is one. A path operation called directly gets no help from
    FastAPI: its annotation counts only when its returns build the model themselves."""
    project = model.project
    if depth > 4:
        return None
    if isinstance(expr, ast.Await):
        return _model_instance(model, fn, expr.value, depth + 1)
    if isinstance(expr, ast.Name):
        if expr.id in fn.param_names:
            return None
        bound = _bindings(fn, expr.id)
        if not bound or any(v is None for v in bound):
            return None
        found = {_model_instance(model, fn, v, depth + 1) for v in bound if v is not None}
        return found.pop() if len(found) == 1 else None
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    if isinstance(func, ast.Attribute) and func.attr in _VALIDATING_CONSTRUCTORS:
        if _validating_model(project, project.resolve(fn.module, func.value, fn)):
            return ast.unparse(func.value)
        return None
    callee = resolve_callee(project, fn.module, func, fn)
    if callee is None:
        return None
    if project.class_(callee) is not None:
        return ast.unparse(func) if _validating_model(project, project.canonical(callee)) else None
    helper = project.function(callee)
    if helper is None:
        return None
    returns = helper.node.returns
    values = returned_values(helper)
    if returns is None or model.routes_of(helper):
        found = {_model_instance(model, helper, v, depth + 1) for v in values}
        if not values or len(found) != 1 or None in found:
            return None
        if returns is None:
            return found.pop()
    declared = annotation_type(project, helper.module, returns, helper.parent)
    return ast.unparse(returns) if _validating_model(project, declared) else None
