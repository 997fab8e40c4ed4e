"""FAA704-FAA711: OpenAPI documentation quality and REST shape of the path operations.

What a client and a generated SDK learn about an API comes from its OpenAPI document:
the error statuses it lists, the summaries, tags and operation ids, and the methods and
paths themselves. These rules read the route table of the static app model (full paths,
decorator keywords, router and `include_router` settings) and the dependency graph.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import cast

from fastapi_architect.model.apps import (
    APP_CLASSES,
    HTTP_METHODS,
    Include,
    Mount,
    Route,
    RouterObj,
    status_code_value,
)
from fastapi_architect.model.astutil import (
    argument,
    assignment_targets,
    body_nodes,
    child_nodes,
    const_str,
    dotted,
    is_false,
    keyword,
    last_name,
    parameters,
    statements,
    walk,
    walk_nodes,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.constants import DYNAMIC, class_attribute
from fastapi_architect.model.dependencies import (
    DepSite,
    param_sites,
    resolve_target,
    target_key,
    walk_dependencies,
)
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.pydantic_names import is_pydantic_model
from fastapi_architect.model.types import unwrap_annotation
from fastapi_architect.review.context import FileContext, ProjectContext
from fastapi_architect.review.index import FunctionCache, ModelCache, nodes_of, project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._orm import is_test_module
from fastapi_architect.review.rules._status_style import status_style
from fastapi_architect.review.rules._worker_apps import internal_only, serving_apps
from fastapi_architect.review.rules.async_io import FILE_OPEN_CALLS
from fastapi_architect.review.rules.errors import HTTP_EXCEPTIONS, leak_state
from fastapi_architect.review.rules.rest import (
    NOT_RESOURCE_WORDS,
    SESSION_NAMES,
    SESSION_OWNERS,
    path_words,
)
from fastapi_architect.review.rules.validation import (
    PROBE_SEGMENTS,
    function_label,
    has_keyword_splat,
    is_response_class,
    param_marker,
    returned_values,
    route_label,
    site_order,
)
from fastapi_architect.review.status_names import suggested_name

_MAX_FOLLOW = 6


def _status(expr: ast.expr | None) -> int | None:
    """`404`, `status.HTTP_404_NOT_FOUND`, `HTTPStatus.NOT_FOUND` (also `.value`)."""
    if isinstance(expr, ast.Attribute) and expr.attr == "value":
        expr = expr.value
    value = status_code_value(expr)
    if value is not None:
        return value
    if isinstance(expr, ast.Attribute):
        member = getattr(HTTPStatus, expr.attr, None)
        if isinstance(member, HTTPStatus):
            return int(member)
    return None


# ------------------------------------------------------------------ published schema

# Code that builds or replaces the OpenAPI document itself (`get_openapi(...)`,
# `app.openapi()`, `app.openapi = custom_openapi`): it may serve it on a route of its own.
_BUILDS_SCHEMA = re.compile(r"\bget_openapi\b|\.openapi\s*(?:\(|=[^=])")


def _builds_schema(source: str) -> bool:
    # The plain substring tests are what every match of the pattern contains: they
    # settle almost every file at a fraction of the regex's cost (it has no literal
    # prefix to scan for).
    return ("get_openapi" in source or ".openapi" in source) and bool(_BUILDS_SCHEMA.search(source))


def _project_builds_schema(model: AppModel) -> bool:
    return any(_builds_schema(m.source) for m in model.project.module_list if not is_test_module(m))


def _schema_built(model: AppModel) -> bool:
    """Does code of the project (not its tests) build or replace the OpenAPI document?
    Read once per run (FAA704 and FAA705 both ask)."""
    built: bool = project_index(model, _project_builds_schema)
    return built


def _init_default(project: Project, app: RouterObj, kwarg: str) -> ast.expr | None:
    """The value a project subclass of `FastAPI` gives `kwarg` in its `__init__`
    (`kwargs.setdefault("docs_url", None)`, `super().__init__(docs_url=None, ...)`)."""
    cls = project.resolve(app.module, app.node.func, app.scope)
    init = project.method(cls, "__init__") if cls is not None else None
    if init is None:
        return None
    for node in body_nodes(init.node):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        value: ast.expr | None = None
        if node.func.attr == "setdefault" and len(node.args) == 2:
            if const_str(node.args[0]) == kwarg:
                value = node.args[1]
        elif node.func.attr == "__init__":
            value = keyword(node, kwarg)
        if value is not None:
            return value
    return None


def _is_none(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _disables_schema(project: Project, app: RouterObj) -> bool:
    """`FastAPI(openapi_url=None)` as a literal, or a project subclass whose `__init__`
    disables it (`kwargs.setdefault("openapi_url", None)`,
    `super().__init__(openapi_url=None, ...)`) when the call does not pass its own."""
    passed = keyword(app.node, "openapi_url")
    if passed is not None:
        return _is_none(passed)
    if any(kw.arg is None for kw in app.node.keywords):
        return False  # `FastAPI(**settings)` may pass one
    return _is_none(_init_default(project, app, "openapi_url"))


def _disables_docs_ui(project: Project, app: RouterObj, kwarg: str) -> bool:
    """`FastAPI(docs_url=None)`, or a project subclass that turns the UI off by default.
    A `**kwargs` splat in the call does not count against the subclass's default: the
    project chose to serve no docs page unless a caller asks for one."""
    passed = keyword(app.node, kwarg)
    if passed is not None:
        return _is_none(passed)
    return _is_none(_init_default(project, app, kwarg))


def _unpublished_apps(model: AppModel) -> frozenset[int]:
    """Ids of the apps that publish no OpenAPI document: created with
    `openapi_url=None`, in a project whose code never builds the document itself."""
    project = model.project
    # The apps first: most projects have none to check the sources for.
    apps = frozenset(
        id(app)
        for app in model.routers.values()
        if app.kind == "app" and _disables_schema(project, app)
    )
    if apps and _schema_built(model):
        return frozenset()
    return apps


_UNPUBLISHED: ModelCache[frozenset[int]] = ModelCache()


def _schema_unpublished(model: AppModel, route: Route) -> bool:
    """Is the route in no OpenAPI document: every app serving it (the innermost one, as
    a mounted sub-application has a document of its own) publishes none?"""
    unpublished = _UNPUBLISHED.get(model, lambda: _unpublished_apps(model))
    if not unpublished or not route.mounts:
        return False
    for mount in route.mounts:
        app = next((r for r in reversed(mount.chain) if r.kind == "app"), None)
        if app is None or id(app) not in unpublished:
            return False
    return True


# ------------------------------------------------------------------ paths a custom document leaves out

# `app.openapi = custom_openapi` (or `app.openapi_schema = build_schema()`): the project
# builds the published document itself, and may keep only some of the paths in it.
_OVERRIDES_SCHEMA = re.compile(r"\.openapi(?:_schema)?\s*=[^=]")
_PATH_CONVERTER = re.compile(r"{(\w+):[^}]*}")
# Calls that pass the paths through unchanged on the way to a loop or a comprehension.
_PATH_WRAPPERS = frozenset({"list", "tuple", "sorted"})
_PATH_VIEWS = frozenset({"items", "keys", "copy"})


@dataclass
class _PathFilter:
    """One step of a custom `openapi()` that removes paths from the document. A path
    bound to `var` is removed when `cond` is false (`keep`: the `if` of a comprehension
    that rebuilds `schema["paths"]`) or when it is true (a loop that deletes the paths
    it matches); `exact`: paths deleted by their literal (`del schema["paths"]["/x"]`)."""

    fn: Function
    var: str = ""
    cond: ast.expr | None = None
    keep: bool = True
    exact: frozenset[str] = frozenset()


def _is_paths_item(expr: ast.expr | None) -> bool:
    """`schema["paths"]` or `schema.get("paths", {})`."""
    if isinstance(expr, ast.Subscript):
        return const_str(expr.slice) == "paths"
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and bool(expr.args)
        and const_str(expr.args[0]) == "paths"
    )


def _paths_dict(fn: Function, expr: ast.expr) -> bool:
    """The document's paths: `schema["paths"]`, or a local bound to it."""
    if isinstance(expr, ast.Name):
        return _is_paths_item(fn.local_values.get(expr.id))
    return _is_paths_item(expr)


def _iterates_paths(fn: Function, expr: ast.expr) -> bool:
    """`schema["paths"].items()`, `list(schema["paths"])`, `sorted(paths.keys())`..."""
    for _ in range(4):
        if not isinstance(expr, ast.Call):
            break
        func = expr.func
        if isinstance(func, ast.Name) and func.id in _PATH_WRAPPERS and len(expr.args) == 1:
            expr = expr.args[0]
        elif isinstance(func, ast.Attribute) and func.attr in _PATH_VIEWS and not expr.args:
            expr = func.value
        else:
            break
    return _paths_dict(fn, expr)


def _loop_name(target: ast.expr) -> str:
    """The name a loop binds the path to: `path` in `for path in ...` or in
    `for path, ops in ....items()`."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
        return target.elts[0].id
    return ""


def _deleted_key(fn: Function, stmt: ast.stmt) -> ast.expr | None:
    """The key `del paths[key]` or `paths.pop(key, ...)` removes from the document."""
    if isinstance(stmt, ast.Delete) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if isinstance(target, ast.Subscript) and _paths_dict(fn, target.value):
            return target.slice
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "pop"
            and call.args
            and _paths_dict(fn, func.value)
        ):
            return call.args[0]
    return None


def _deletes(fn: Function, stmt: ast.stmt, var: str) -> bool:
    key = _deleted_key(fn, stmt)
    return isinstance(key, ast.Name) and key.id == var


def _jumps(stmt: ast.stmt) -> bool:
    return any(isinstance(n, (ast.Continue, ast.Break, ast.Return)) for n in walk_nodes([stmt]))


def _loop_filter(fn: Function, var: str, body: list[ast.stmt]) -> list[_PathFilter]:
    """`for path in list(schema["paths"]): if not path.startswith("/v1"): del
    schema["paths"][path]`, also after `if ...: continue` guards."""
    skips: list[ast.expr] = []  # the guards of `if cond: continue` seen so far
    out: list[_PathFilter] = []
    for stmt in body:
        if (
            isinstance(stmt, ast.If)
            and not stmt.orelse
            and len(stmt.body) == 1
            and isinstance(stmt.body[0], ast.Continue)
        ):
            skips.append(stmt.test)
            continue
        parts: list[ast.expr] = [ast.UnaryOp(op=ast.Not(), operand=s) for s in skips]
        if _deletes(fn, stmt, var):
            pass
        elif (
            isinstance(stmt, ast.If)
            and any(_deletes(fn, s, var) for s in stmt.body)
            and not any(_jumps(s) for s in stmt.body)
        ):
            parts.append(stmt.test)
        elif _jumps(stmt):
            break  # which paths get past it is not known
        else:
            continue
        cond: ast.expr = (
            ast.BoolOp(op=ast.And(), values=parts)
            if len(parts) > 1
            else parts[0]
            if parts
            else ast.Constant(value=True)
        )
        out.append(_PathFilter(fn, var, cond, keep=False))
    return out


def _cached_schema(node: ast.Return) -> bool:
    """`return app.openapi_schema`: the document built on an earlier call."""
    return isinstance(node.value, ast.Attribute) and node.value.attr == "openapi_schema"


def _path_filters(fn: Function) -> list[_PathFilter]:
    """The steps of a document builder that remove paths, among the statements it always
    runs (not under an `if`, and before any `return` other than of a cached document)."""
    out: list[_PathFilter] = []
    body = list(fn.node.body)
    while body:
        stmt = body.pop(0)
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            body[:0] = stmt.body
            continue
        if any(isinstance(n, ast.Return) and not _cached_schema(n) for n in walk_nodes([stmt])):
            break  # later steps may not run
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            value = stmt.value
            if isinstance(value, ast.Name):
                value = fn.local_values.get(value.id) or value
            if (
                _is_paths_item(stmt.targets[0])
                and isinstance(value, ast.DictComp)
                and len(value.generators) == 1
            ):
                loop = value.generators[0]
                var = _loop_name(loop.target)
                if var and loop.ifs and _iterates_paths(fn, loop.iter):
                    cond = (
                        loop.ifs[0]
                        if len(loop.ifs) == 1
                        else ast.BoolOp(op=ast.And(), values=list(loop.ifs))
                    )
                    out.append(_PathFilter(fn, var, cond))
        elif isinstance(stmt, ast.For) and _iterates_paths(fn, stmt.iter):
            var = _loop_name(stmt.target)
            if var:
                out.extend(_loop_filter(fn, var, stmt.body))
        else:
            key = const_str(_deleted_key(fn, stmt))
            if key is not None:
                out.append(_PathFilter(fn, exact=frozenset({key})))
    return out


def _assigned(body: list[ast.stmt], name: str) -> list[ast.expr] | None:
    """Every value a block assigns to `name` (in any branch); None when the name is also
    bound some other way (unpacked, a loop variable, augmented)."""
    values: list[ast.expr] = []
    for stmt in statements(body):
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    values.append(stmt.value)
                elif _binds(target, name):
                    return None
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.target.id == name and stmt.value is not None:
                values.append(stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            if isinstance(stmt.target, ast.Name) and stmt.target.id == name:
                return None
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
            targets = (
                [stmt.target]
                if isinstance(stmt, (ast.For, ast.AsyncFor))
                else [i.optional_vars for i in stmt.items if i.optional_vars is not None]
            )
            if any(_binds(target, name) for target in targets):
                return None
    return values


def _binds(target: ast.expr, name: str) -> bool:
    """Does an assignment target bind `name` (`a, name = ...`; not `name.attr = ...`)?"""
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
        for n in walk(target)
    )


def _bound_values(
    project: Project, module: Module, scope: Function | None, name: str
) -> list[tuple[Module, Function | None, ast.expr]] | None:
    """Every value `name` may hold where it is read: the assignments of the function or
    module that binds it."""
    fn = scope
    while fn is not None:
        if name in fn.param_names:
            return None
        if name in fn.local_values:
            found = _assigned(list(fn.node.body), name)
            return None if found is None else [(module, fn, value) for value in found]
        fn = fn.parent
    qualname = project.resolve_name(module, name, None)
    owner, rest = project.split(project.canonical(qualname)) if qualname else (None, "")
    if owner is None or not rest or "." in rest or rest not in owner.assignments:
        return None
    found = _assigned(list(owner.tree.body), rest)
    return None if found is None else [(owner, None, value) for value in found]


def _prefix_options(
    project: Project, module: Module, scope: Function | None, expr: ast.expr, depth: int = 0
) -> list[tuple[str, ...]] | None:
    """The prefixes a `startswith` argument may hold, one tuple per way it can be
    built: `"/v1"`, `("/v1", "/agents")`, a name bound to one, or `a if dev else b`
    (both)."""
    if depth > _MAX_FOLLOW:
        return None
    text = const_str(expr)
    if text is not None:
        return [(text,)]
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        items = [const_str(element) for element in expr.elts]
        strings = [item for item in items if item is not None]
        return [tuple(strings)] if len(strings) == len(items) else None
    if isinstance(expr, ast.IfExp):
        body = _prefix_options(project, module, scope, expr.body, depth + 1)
        orelse = _prefix_options(project, module, scope, expr.orelse, depth + 1)
        return None if body is None or orelse is None else body + orelse
    if isinstance(expr, ast.Name):
        values = _bound_values(project, module, scope, expr.id)
        if not values:
            return None
        out: list[tuple[str, ...]] = []
        for owner, owner_scope, value in values:
            found = _prefix_options(project, owner, owner_scope, value, depth + 1)
            if found is None:
                return None
            out += found
        return out
    return None


def _starts_with(path: str, prefixes: tuple[str, ...]) -> bool | None:
    """`path.startswith(prefixes)`, None when an unknown part of the path decides."""
    known, dynamic, _rest = path.partition(DYNAMIC)
    if any(known.startswith(prefix) for prefix in prefixes):
        return True
    if dynamic and any(prefix.startswith(known) for prefix in prefixes):
        return None
    return False


def _path_truth(project: Project, step: _PathFilter, expr: ast.expr, path: str) -> bool | None:
    """The value of a path filter's condition for `path`: True, False, or None when it
    cannot be told (`and`/`or`/`not` of `path.startswith(...)`; anything else is unknown).
    A prefix built two ways (`a if dev else b`) is true or false only when both agree."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, bool):
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        inner = _path_truth(project, step, expr.operand, path)
        return None if inner is None else not inner
    if isinstance(expr, ast.BoolOp):
        values = [_path_truth(project, step, value, path) for value in expr.values]
        decisive = isinstance(expr.op, ast.Or)  # `or`: one True decides, `and`: one False
        if any(value is decisive for value in values):
            return decisive
        return (not decisive) if all(value is not None for value in values) else None
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "startswith"
        and isinstance(expr.func.value, ast.Name)
        and expr.func.value.id == step.var
        and len(expr.args) == 1
        and not expr.keywords
    ):
        options = _prefix_options(project, step.fn.module, step.fn, expr.args[0])
        if not options:
            return None
        answers = {_starts_with(path, prefixes) for prefixes in options}
        return answers.pop() if len(answers) == 1 else None
    return None


def _drops(project: Project, step: _PathFilter, path: str) -> bool:
    if path in step.exact:
        return True
    if step.cond is None:
        return False
    truth = _path_truth(project, step, step.cond, path)
    return truth is not None and truth is not step.keep


def _schema_builder(
    project: Project, module: Module, scope: Function | None, attr: str, value: ast.expr
) -> Function | None:
    """The project function that builds the document: `app.openapi = custom_openapi`,
    `app.openapi = lambda: custom_openapi(app)`, `app.openapi_schema = build(app)`."""
    if attr == "openapi" and isinstance(value, ast.Lambda):
        value = value.body
        if not isinstance(value, ast.Call):
            return None
    if isinstance(value, ast.Call):
        value = value.func
    return project.function(project.resolve(module, value, scope))


def _model_app(
    model: AppModel, module: Module, scope: Function | None, expr: ast.expr
) -> RouterObj | None:
    """The app of the model an expression names."""
    key = model.project.resolve(module, expr, scope)
    if key is None:
        return None
    found = model.routers.get(key) or model.routers.get(model.project.canonical(key))
    return found if found is not None and found.kind == "app" else None


def _schema_overrides(model: AppModel) -> dict[int, list[list[_PathFilter]]]:
    """id(app) -> the path-removing steps of each document builder the project gives the
    app (an empty list for one the tool cannot read: it may publish every path)."""
    project = model.project
    apps = list({id(r): r for r in model.routers.values() if r.kind == "app"}.values())
    out: dict[int, list[list[_PathFilter]]] = {}
    for module in project.module_list:
        if is_test_module(module) or not _OVERRIDES_SCHEMA.search(module.source):
            continue
        scopes: list[tuple[Function | None, list[ast.stmt]]] = [(None, module.tree.body)]
        scopes += [(fn, fn.node.body) for fn in module.functions.values()]
        for scope, body in scopes:
            for stmt in statements(body):
                if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
                    continue
                target = stmt.targets[0]
                if not isinstance(target, ast.Attribute) or target.attr not in (
                    "openapi",
                    "openapi_schema",
                ):
                    continue
                if target.attr == "openapi_schema" and not isinstance(stmt.value, ast.Call):
                    continue  # `app.openapi_schema = schema`: caching what is built here
                app = _model_app(model, module, scope, target.value)
                if app is None and len(apps) == 1:
                    app = apps[0]
                if app is None:
                    continue
                builder = _schema_builder(project, module, scope, target.attr, stmt.value)
                steps = _path_filters(builder) if builder is not None else []
                out.setdefault(id(app), []).append(steps)
    return out


_OVERRIDES: ModelCache[dict[int, list[list[_PathFilter]]]] = ModelCache()


def _dropped(model: AppModel, route: Route, mount: Mount) -> bool:
    """Does every document builder the project gives the app serving the route here
    leave its path out (`schema["paths"] = {p: o for p, o in schema["paths"].items() if
    p.startswith("/v1")}`)?"""
    overrides = _OVERRIDES.get(model, lambda: _schema_overrides(model))
    if not overrides:
        return False
    app = next((r for r in reversed(mount.chain) if r.kind == "app"), None)
    builders = overrides.get(id(app)) if app is not None else None
    if not builders:
        return False
    path = _PATH_CONVERTER.sub(r"{\1}", _path_in_app(route, mount))
    return all(any(_drops(model.project, step, path) for step in steps) for steps in builders)


def _published_mounts(model: AppModel, route: Route) -> list[Mount]:
    """The places the route is served at that its app's OpenAPI document lists: not
    hidden with `include_in_schema=False` on the way, nor left out by a custom document.
    A router that no app includes (a standalone `APIRouter` gathering the others for a
    script) serves nothing when an app serves the route."""
    mounts = route.mounts
    if any(m.app is not None for m in mounts):
        mounts = [m for m in mounts if m.app is not None]
    return [m for m in mounts if m.include_in_schema and not _dropped(model, route, m)]


def _left_out(model: AppModel, route: Route) -> bool:
    """Is the route in no OpenAPI document: every place it is served at is hidden or
    left out by a custom `app.openapi`?"""
    return bool(route.mounts) and not _published_mounts(model, route)


# Code that serves a docs page of its own (self-hosted Swagger UI, ReDoc or Scalar
# assets behind `docs_url=None`): the operations are shown there.
_RENDERS_DOCS = re.compile(r"\bget_swagger_ui_html\b|\bget_redoc_html\b|\bscalar_fastapi\b")


def _renders_docs(source: str) -> bool:
    # Substring tests first, as in `_builds_schema`.
    return (
        "get_swagger_ui_html" in source or "get_redoc_html" in source or "scalar_fastapi" in source
    ) and bool(_RENDERS_DOCS.search(source))


def _docs_ui_apps(model: AppModel) -> frozenset[int]:
    """Ids of the apps with both docs UIs (`docs_url`, `redoc_url`) turned off; none
    when the project renders a docs page itself, or builds the document itself (to
    serve it elsewhere, where its readers see the summaries and tags)."""
    project = model.project
    # The apps first: most projects have none to check the sources for.
    apps = frozenset(
        id(app)
        for app in model.routers.values()
        if app.kind == "app"
        and (
            _disables_schema(project, app)
            or (
                _disables_docs_ui(project, app, "docs_url")
                and _disables_docs_ui(project, app, "redoc_url")
            )
        )
    )
    if apps and (
        _schema_built(model)
        or any(_renders_docs(m.source) for m in project.module_list if not is_test_module(m))
    ):
        return frozenset()
    return apps


_NO_DOCS_UI: ModelCache[frozenset[int]] = ModelCache()


def _no_docs_ui(model: AppModel, route: Route) -> bool:
    """Is the route on no docs page: every app serving it turns off both Swagger UI
    and ReDoc, and the project serves no docs page of its own?"""
    off = _NO_DOCS_UI.get(model, lambda: _docs_ui_apps(model))
    if not off:
        return False
    apps = serving_apps(route)
    return apps is not None and all(id(app) in off for app in apps)


def _report_order(route: Route) -> tuple[bool, tuple[str, int, int]]:
    """The order in which a handler's registrations claim a finding: a GET before its
    HEAD twin (`@app.head(...)` stacked above `@app.get(...)`), then by position."""
    return (set(route.methods) == {"HEAD"}, site_order(route))


def _own_document(model: AppModel) -> bool:
    """Does a route serve an OpenAPI document the project writes by hand (a dict literal
    with `"openapi": "3.0.2"` and `"paths"`)? That document, not FastAPI's generated
    one, is the contract the project publishes."""
    for route in model.routes:
        if is_test_module(route.module):
            continue
        for node in body_nodes(route.handler.node):
            if isinstance(node, ast.Dict):
                keys = {const_str(k) for k in node.keys if k is not None}
                if {"openapi", "paths"} <= keys:
                    return True
    return False


_OWN_DOCUMENT: ModelCache[bool] = ModelCache()


def _also(count: int) -> str:
    """The note on a finding reported once for a handler registered several times."""
    if not count:
        return ""
    return f" (and {count} more registration{'s' if count > 1 else ''} of the handler)"


# ------------------------------------------------------------------ FAA704


def _handled_classes(model: AppModel) -> frozenset[str]:
    """Exception classes some exception handler of the project is registered for."""
    handlers = leak_state(model).handlers
    return frozenset(name for names in handlers.values() for name in names)


_HANDLED: ModelCache[frozenset[str]] = ModelCache()


def _class_status(project: Project, cls_name: str) -> int | None:
    """The status a project exception class carries: a `status_code` class attribute,
    or the one its `__init__` passes to `super().__init__(status_code=...)`."""
    for name in project.mro(cls_name):
        cls = project.class_(name)
        if cls is None:
            continue
        value = class_attribute(cls, "status_code")
        if value is not None:
            return _status(value)
        init = cls.methods.get("__init__")
        if init is None:
            continue
        for node in body_nodes(init.node):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "__init__"
            ):
                found = argument(node, 0, "status_code")
                if found is not None:
                    return _status(found)
    return None


def _exception_status(
    model: AppModel, fn: Function, expr: ast.expr | None, depth: int = 0
) -> int | None:
    """The HTTP status of a raised exception: `HTTPException(404)`, a name bound to one
    (`raise credentials_exception`), a project subclass with a fixed status, or a project
    exception with a `status_code` that an exception handler is registered for."""
    if expr is None or depth > _MAX_FOLLOW:
        return None
    project = model.project
    if isinstance(expr, ast.Name):
        if expr.id in fn.local_values:
            return _exception_status(model, fn, fn.local_values[expr.id], depth + 1)
        found = project.module_value(project.resolve(fn.module, expr, fn))
        if found is not None and isinstance(found[1], ast.Call):
            # A module-level exception instance (`CREDENTIALS_ERROR = HTTPException(401)`).
            return _call_status(model, found[0], None, found[1])
        return None
    if isinstance(expr, ast.Call):
        return _call_status(model, fn.module, fn, expr)
    return None


def _call_status(
    model: AppModel, module: Module, scope: Function | None, call: ast.Call
) -> int | None:
    project = model.project
    name = project.resolve(module, call.func, scope)
    if name is None:
        return None
    name = project.canonical(name)
    if name in HTTP_EXCEPTIONS:
        return _status(argument(call, 0, "status_code"))
    if project.class_(name) is None:
        return None
    if project.is_subclass(name, HTTP_EXCEPTIONS):
        # `raise NotFound()` with `super().__init__(status_code=404)`, unless the call
        # passes its own status.
        passed = keyword(call, "status_code")
        return _status(passed) if passed is not None else _class_status(project, name)
    handled = _HANDLED.get(model, lambda: _handled_classes(model))
    if any(ancestor in handled for ancestor in project.mro(name)):
        return _class_status(project, name)
    return None


# status -> the function that raises it (first one)
_RAISES: FunctionCache[dict[int, str]] = FunctionCache()
# Statuses no route has to list: FastAPI documents 422 itself, and any route can answer
# 500 (an unhandled exception does), which gives a client nothing to act on.
_IMPLIED_STATUSES = (HTTPStatus.UNPROCESSABLE_ENTITY, HTTPStatus.INTERNAL_SERVER_ERROR)


def _raised(model: AppModel, fn: Function) -> dict[int, str]:
    out: dict[int, str] = {}
    # A `raise` is a statement: the statements of the body (in the order a walk of its
    # nodes meets them, nested functions and classes not entered) hold all of them.
    for node in statements(fn.node.body):
        if isinstance(node, ast.Raise) and node.exc is not None:
            code = _exception_status(model, fn, node.exc)
            if code is not None and code >= 400:
                out.setdefault(code, function_label(fn))
    return out


def _raised_by(model: AppModel, fn: Function) -> dict[int, str]:
    return _RAISES.get(model, fn, lambda: _raised(model, fn))


_RAISES_WITH_HELPERS: FunctionCache[dict[int, str]] = FunctionCache()


def _in_reach(caller: Function, callee: Function) -> bool:
    """Can `caller` call `callee` by its name? A nested `def` is only visible inside the
    function that defines it: two handlers that each define their own `sse_stream` call
    their own, not the other's."""
    if callee.parent is None:
        return True
    scope: Function | None = caller
    while scope is not None:
        if scope is callee.parent:
            return True
        scope = scope.parent
    return False


def _raised_with_helpers(model: AppModel, fn: Function) -> dict[int, str]:
    """What `fn` raises itself, and what the plain project functions it calls directly
    raise in their own bodies (`item = get_item_or_404(db, item_id)`), one level deep.
    Methods (a service layer's `BookService.create`) are not followed: services often
    raise domain errors that the route layer translates or documents its own way."""

    def compute() -> dict[int, str]:
        out = dict(_raised_by(model, fn))
        for callee in model.callgraph.callees(model.project, fn):
            if callee is fn or callee.class_qualname is not None or model.routes_of(callee):
                continue
            if not _in_reach(fn, callee):
                continue
            for code, where in _raised_by(model, callee).items():
                out.setdefault(code, where)
        return out

    return _RAISES_WITH_HELPERS.get(model, fn, compute)


# A set of documented statuses; `"4XX"` ranges; None when it cannot be known statically
# (then everything counts as documented).
Documented = set[object]


def _documented(
    project: Project, module: Module, scope: Function | None, expr: ast.expr | None, depth: int = 0
) -> Documented | None:
    if expr is None:
        return set()
    if depth > _MAX_FOLLOW:
        return None
    if isinstance(expr, ast.Dict):
        out: Documented = set()
        for key, value in zip(expr.keys, expr.values, strict=True):
            if key is None:  # `{**common, 404: ...}`
                spread = _documented(project, module, scope, value, depth + 1)
                if spread is None:
                    return None
                out |= spread
                continue
            text = const_str(key)
            if text is not None:
                if text.isdigit():
                    out.add(int(text))
                elif len(text) == 3 and text[0].isdigit() and text[1:].upper() == "XX":
                    out.add(f"{text[0]}XX")
                else:
                    return None  # "default" documents every other status
                continue
            code = _status(key)
            if code is None:
                return None
            out.add(code)
        return out
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        left = _documented(project, module, scope, expr.left, depth + 1)
        right = _documented(project, module, scope, expr.right, depth + 1)
        return None if left is None or right is None else left | right
    if isinstance(expr, ast.Name) and scope is not None and expr.id in scope.local_values:
        return _documented(project, module, scope, scope.local_values[expr.id], depth + 1)
    if isinstance(expr, (ast.Name, ast.Attribute)):
        found = project.module_value(project.resolve(module, expr, scope))
        if found is None:
            return None
        return _documented(project, found[0], None, found[1], depth + 1)
    if isinstance(expr, ast.Call):
        return _documented_by_call(project, module, scope, expr, depth)
    return None


def _documented_by_call(
    project: Project, module: Module, scope: Function | None, call: ast.Call, depth: int
) -> Documented | None:
    """`problem_responses(401, 404)`: a project helper building the `responses=` dict
    from the statuses it is given, plus whatever fixed entries its `return` holds."""
    helper = project.function(project.resolve(module, call.func, scope))
    if helper is None or call.keywords:
        return None
    out: Documented = set()
    for arg in call.args:
        code = _status(arg)
        if code is None:
            return None
        out.add(code)
    returns = [
        node.value
        for node in body_nodes(helper.node)
        if isinstance(node, ast.Return) and node.value is not None
    ]
    if not returns:
        return None
    for value in returns:
        if isinstance(value, ast.DictComp):
            if not call.args:
                return None
            continue  # built from the statuses passed
        found = _documented(project, helper.module, helper, value, depth + 1)
        if found is None:
            return None
        out |= found
    return out


def _mount_documented(project: Project, route: Route, mount: Mount | None) -> Documented | None:
    """Statuses documented for a route where it is served: its decorator's `responses=`,
    and those of every router, `include_router` call and app on the way."""
    out: Documented = set()
    parts: list[tuple[Module, Function | None, ast.expr | None]] = [
        (route.module, None, route.keywords.get("responses"))
    ]
    chain = mount.chain if mount is not None else [route.router]
    for index, router in enumerate(chain):
        parts.append((router.module, router.scope, keyword(router.node, "responses")))
        if index:
            for include in router.included_by:
                if include.parent is chain[index - 1]:
                    parts.append((include.module, None, keyword(include.node, "responses")))
    for module, scope, expr in parts:
        found = _documented(project, module, scope, expr)
        if found is None:
            return None
        out |= found
    return out


def _covers(documented: Documented, code: int) -> bool:
    return code in documented or f"{code // 100}XX" in documented


def _unique_functions(model: AppModel) -> bool:
    """Does each function qualname stand for one function of the project (as the key of
    a dependency, `target_key`, then stands for one dependency tree)? Dependencies are
    the functions of the modules and the methods of their classes."""
    seen: dict[str, Function] = {}
    for module in model.project.module_list:
        functions = [*module.functions.values()]
        for cls in module.classes.values():
            functions += cls.methods.values()
        for fn in functions:
            if seen.setdefault(fn.qualname, fn) is not fn:
                return False
    return True


# Dependency key -> what the dependency tree under it raises (status -> where, first
# one in the walk), from `walk_dependencies` of a single site resolving to it.
_TREE_RAISES: ModelCache[dict[str, dict[int, str]]] = ModelCache()


def _sites_raise(model: AppModel, sites: list[DepSite], out: dict[int, str]) -> None:
    """What the dependency trees of `sites` raise, added to `out` (first one wins, in
    `walk_dependencies(sites)` order).

    The walk of several sites meets each dependency once, depth first: what it meets is
    what the walks of the sites one by one meet, in the same order, once the dependencies
    an earlier site's walk already met (and everything below them, met then too) are left
    out. Those repeat only statuses already taken. So each site's tree is walked alone,
    once per run for the dependency it resolves to (its walk depends on nothing else),
    and the sites are merged in order; routes share most of their dependencies. This
    needs a dependency's key to name one tree: with two functions of one qualname, the
    sites are walked together, every time."""
    project = model.project
    if not project_index(model, _unique_functions):
        _walk_raises(model, sites, out)
        return
    trees = _TREE_RAISES.get(model, dict)
    for site in sites:
        target = resolve_target(project, site)
        if target is None:
            continue
        key = target_key(target) if target.qualname else None
        raised = trees.get(key) if key is not None else None
        if raised is None:
            raised = {}
            _walk_raises(model, [site], raised)
            if key is not None:
                trees[key] = raised
        for code, where in raised.items():
            out.setdefault(code, where)


def _walk_raises(model: AppModel, sites: list[DepSite], out: dict[int, str]) -> None:
    """Add to `out` the statuses the dependency trees of `sites` raise, first met first."""
    for _site, met in walk_dependencies(model.project, sites):
        if met.function is not None:
            for code, where in _raised_with_helpers(model, met.function).items():
                out.setdefault(code, where)


# Who attaches a dependency to a whole group of routes: an `include_router(...,
# dependencies=...)` call, or a router (or app) built with `dependencies=[...]`.
_Owner = Include | RouterObj


def _shared_sites(route: Route, mount: Mount | None) -> dict[int, _Owner]:
    """Dependency sites that reach the route from a whole router, not the route itself:
    those of each `include_router(..., dependencies=...)` call on the way and those each
    router or app on the way was built with (`APIRouter(dependencies=[...])`). Id of each
    site -> the call or router that attaches it."""
    out: dict[int, _Owner] = {}
    if mount is None:
        for site in route.router.dependencies:
            out[id(site)] = route.router
        return out
    on_the_way = {id(site) for site in mount.dependencies}
    for index, router in enumerate(mount.chain):
        for site in router.dependencies:
            if id(site) in on_the_way:
                out.setdefault(id(site), router)
        if not index:
            continue
        for include in router.included_by:
            if include.parent is mount.chain[index - 1] and include.kind == "include":
                for site in include.dependencies:
                    if id(site) in on_the_way:
                        out.setdefault(id(site), include)
    return out


def _route_raises(
    model: AppModel, route: Route, mount: Mount | None
) -> tuple[dict[int, str], dict[int, tuple[_Owner, str]]]:
    """What the route can raise through its handler and its own dependencies; and, apart,
    what only a dependency shared by a whole router raises, one that an `include_router(
    dependencies=...)` call or a router or app built with `dependencies=` attaches (status
    -> the call or router, the raising function)."""
    own: dict[int, str] = dict(_raised_with_helpers(model, route.handler))
    mount_deps = mount.dependencies if mount is not None else list(route.router.dependencies)
    shared = _shared_sites(route, mount)
    sites = [
        *(site for site in mount_deps if id(site) not in shared),
        *route.dependencies,
        *param_sites(model.project, route.handler),
    ]
    _sites_raise(model, sites, own)
    by_owner: dict[int, tuple[_Owner, str]] = {}
    for site in mount_deps:
        owner = shared.get(id(site))
        if owner is None:
            continue
        raised: dict[int, str] = {}
        _sites_raise(model, [site], raised)
        for code, where in raised.items():
            if code not in own:
                by_owner.setdefault(code, (owner, where))
    return own, by_owner


@dataclass
class _Undocumented:
    """FAA704 for one route: the statuses to report on it, and the include calls and
    routers whose dependencies raise undocumented statuses (reported once, there)."""

    missing: dict[int, str] = field(default_factory=dict)
    shared: list[tuple[_Owner, int, str]] = field(default_factory=list)


def _undocumented(model: AppModel, route: Route) -> _Undocumented:
    out = _Undocumented()
    if route.kind != "http" or has_keyword_splat(route) or _starlette_route(route):
        return out
    if _schema_unpublished(model, route) or internal_only(model, route):
        return out
    if _no_docs_ui(model, route) and _OWN_DOCUMENT.get(model, lambda: _own_document(model)):
        return out  # no docs page shows the generated document, the project's own is the contract
    include = route.keywords.get("include_in_schema")
    if isinstance(include, ast.Constant) and include.value is False:
        return out
    mounts: list[Mount | None] = [*_published_mounts(model, route)]
    if not route.mounts:
        mounts = [None]
    missing: dict[int, str] | None = None
    from_shared: list[tuple[_Owner, int, str]] = []
    for mount in mounts:
        raised, by_owner = _route_raises(model, route, mount)
        for implied in _IMPLIED_STATUSES:
            raised.pop(implied, None)
            by_owner.pop(implied, None)
        if not raised and not by_owner:
            return out
        documented = _mount_documented(model.project, route, mount)
        if documented is None:
            return out
        for code, (owner, where) in by_owner.items():
            if not _covers(documented, code):
                from_shared.append((owner, code, where))
        here = {code: where for code, where in raised.items() if not _covers(documented, code)}
        if missing is None:
            missing = here
        else:
            missing = {code: where for code, where in missing.items() if code in here}
    out.missing = missing or {}
    out.shared = from_shared
    return out


@dataclass
class _SharedFinding:
    """Undocumented statuses raised by the dependencies an `include_router` call or a
    router attaches, on two or more of its routes: reported once, at the call or router."""

    owner: _Owner
    first_route: int  # id of the route that reports it (the first one in the model)
    statuses: dict[int, str] = field(default_factory=dict)
    routes: set[int] = field(default_factory=set)


@dataclass
class _Undocumenteds:
    routes: dict[int, _Undocumented] = field(default_factory=dict)
    shared: dict[int, _SharedFinding] = field(default_factory=dict)
    # Other registrations of the same handler (HEAD + GET, `/x` + `/x/`) missing a status
    # that this route reports for all of them: id(route) -> how many.
    repeats: dict[int, int] = field(default_factory=dict)


_UNDOCUMENTED: ModelCache[_Undocumenteds] = ModelCache()


def _all_undocumented(model: AppModel) -> _Undocumenteds:
    out = _Undocumenteds()
    for route in model.routes:
        found = _undocumented(model, route)
        out.routes[id(route)] = found
        for owner, code, where in found.shared:
            finding = out.shared.setdefault(id(owner.node), _SharedFinding(owner, id(route)))
            finding.statuses.setdefault(code, where)
            finding.routes.add(id(route))
    # One route behind the include or router: nothing is repeated, report it on the route.
    for key, finding in list(out.shared.items()):
        if len(finding.routes) < 2:
            del out.shared[key]
            for route_id in finding.routes:
                missing = out.routes[route_id].missing
                for code, where in finding.statuses.items():
                    missing.setdefault(code, where)
    # A handler registered several times: each status once, on its first registration.
    first: dict[tuple[int, int], int] = {}  # (handler, status) -> reporting route
    for route in sorted(model.routes, key=_report_order):
        missing = out.routes[id(route)].missing
        repeated = set()
        for code in list(missing):
            reporter = first.setdefault((id(route.handler), code), id(route))
            if reporter != id(route):
                del missing[code]
                repeated.add(reporter)
        for reporter in repeated:
            out.repeats[reporter] = out.repeats.get(reporter, 0) + 1
    return out


def _include_label(include: Include) -> str:
    func = include.node.func
    name = func.attr if isinstance(func, ast.Attribute) else "include_router"
    child = include.node.args[0] if include.node.args else None
    return f"{name}({dotted(child) or '...'}, ...)" if child is not None else f"{name}(...)"


def _shared_report(finding: _SharedFinding) -> Report:
    statuses = ", ".join(
        f"{code} (raised in `{where}`)" for code, where in sorted(finding.statuses.items())
    )
    owner = finding.owner
    if isinstance(owner, Include):
        return Report(
            owner.node,
            f"`{_include_label(owner)}` adds dependencies that can answer "
            f"{statuses} on its {len(finding.routes)} routes, not documented in "
            "`responses=`: declare it once on this call",
            module=owner.module,
        )
    kind = "app" if owner.kind == "app" else "router"
    built = last_name(dotted(owner.node.func) or kind)
    return Report(
        owner.node,
        f"{kind.capitalize()} `{owner.name}` (`{built}(dependencies=...)`) adds dependencies "
        f"that can answer {statuses} on {len(finding.routes)} routes it serves, not "
        f"documented in `responses=`: declare it once on this {kind}",
        module=owner.module,
    )


@rule(
    code="FAA704",
    name="undocumented-error-response",
    summary=(
        "A path operation raises an error status, in its handler or a dependency, that "
        "its `responses=` does not document"
    ),
    severity="warning",
    scope="route",
    fix_title="Document the status in `responses=` on the route, its router or `include_router`",
    references=(
        "https://fastapi.tiangolo.com/advanced/additional-responses/",
        "https://fastapi.tiangolo.com/tutorial/handling-errors/",
    ),
)
def undocumented_error_response(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operations that can answer an error status the OpenAPI document does not
    list. The statuses come from `raise HTTPException(status_code=...)` in the handler
    **and in every dependency that reaches it**, followed through the dependency graph:
    a `401` raised in `get_current_user` counts for every route that depends on it,
    whether through a parameter, an `Annotated` alias, decorator `dependencies=`,
    `APIRouter(dependencies=)`, `include_router(dependencies=)` or the app. Also
    counted: a name bound to an `HTTPException` (`raise credentials_exception`), a
    project subclass of `HTTPException` with a fixed status, and a project exception
    with a `status_code` attribute that an exception handler
    (`app.add_exception_handler`, `@app.exception_handler`) turns into a response.

    A status is documented by `responses=` on the decorator, on the `APIRouter`, on the
    `include_router` call or on `FastAPI(...)`, as a dict literal, a constant holding
    one, a `{**common, 404: ...}` merge, or a project helper called with the statuses
    (`responses=problem_responses(401, 404)`). A `"4XX"` range covers its statuses.

    ## Why is this bad?
    FastAPI documents only the success response and `422`. A `401` or `404` the client
    will certainly receive is missing from the schema, so generated SDKs have no type
    for it, API explorers do not show it, and consumers learn about it in production.

    ## Known problems
    Raises count in the handler, in every dependency function, and in the plain
    functions these call directly (`get_item_or_404(db, item_id)`), one level deep. An
    exception raised deeper, or in a method (a service class the handler calls), is
    not seen. A status that is not a
    constant (`HTTPException(status_code=code)`) is skipped, and a `responses=` the tool
    cannot evaluate (a `"default"` entry, a dynamic helper) counts as documenting
    everything. `422` is never reported (FastAPI documents it), nor is `500`: any route
    can answer it (an unhandled exception does), and it gives a client nothing to act
    on, so `raise HTTPException(500, ...)` in a handler or a dependency's "not
    initialized" guard is left out (`503` and the other 5xx are reported). The `401`/`403` that a
    `fastapi.security` scheme raises by itself (`auto_error=True`) is not counted, as
    its status depends on the FastAPI version. Routes hidden with
    `include_in_schema=False` are skipped, and so are the paths a custom document leaves
    out: `app.openapi = custom_openapi` (or `app.openapi_schema = build(...)`) with a
    function that rebuilds `schema["paths"]` keeping only the paths that
    `startswith(...)` literal prefixes (a string, a tuple, a name bound to one, or `a if
    dev else b`: a path is published when any branch keeps it), or that deletes paths
    in a loop over `schema["paths"]` or by their literal, among the statements it
    always runs. A standalone `APIRouter` that no app includes (one gathering the
    routers for a script) does not count as a place an app's route is served. A status
    raised only by a dependency that
    `include_router(..., dependencies=...)` attaches, or that a router or app is built
    with (`APIRouter(dependencies=[Security(require_auth)])`, a project or library
    subclass such as cadwyn's `VersionedAPIRouter`, `FastAPI(dependencies=...)`), is
    reported once, at that call or router, when it is undocumented on two or more of
    the routes it serves, its own and those of the routers it includes (one
    `responses=` there documents it for all of them), and on the route when only one
    misses it. A handler registered several times (HEAD next to GET, `/x` next to `/x/`)
    is reported once per status, on its first registration (a GET before its HEAD twin).
    Routes served only by
    apps created with `openapi_url=None` are skipped (they publish no OpenAPI document),
    unless the project builds the document itself (`get_openapi(...)`, `app.openapi()`);
    turning off only `docs_url`/`redoc_url` still publishes `/openapi.json`, unless the
    project also serves an OpenAPI document it writes by hand (a dict literal with
    `"openapi"` and `"paths"` keys returned by a route): that one is its contract. Also
    skipped: internal worker apps, built by a factory called only in functions started as
    `multiprocessing.Process(target=...)` that run the app with `uvicorn.run(app,
    host="127.0.0.1")`.

    ## Example
    ```python
    async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
        user = await users.by_token(token)
        if user is None:
            raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED)
        return user


    @router.get("/me", response_model=UserOut)
    async def read_me(user: Annotated[User, Depends(get_current_user)]) -> User:
        return user
    ```

    ## Use instead
    ```python
    @router.get(
        "/me",
        response_model=UserOut,
        responses={status.HTTP_401_UNAUTHORIZED: {"model": Problem}},
    )
    async def read_me(user: Annotated[User, Depends(get_current_user)]) -> User:
        return user
    ```
    Statuses shared by a whole router are best declared once, on
    `APIRouter(responses=...)` or `include_router(..., responses=...)`.

    ## Fix safety
    Documentation only: adding a `responses=` entry changes the OpenAPI document, not
    the behaviour. No automatic fix (the error model to document is the project's choice).
    """
    found = _UNDOCUMENTED.get(ctx.model, lambda: _all_undocumented(ctx.model))
    for finding in found.shared.values():
        if finding.first_route == id(route):
            yield _shared_report(finding)
    missing = found.routes.get(id(route), _Undocumented()).missing
    if not missing:
        return
    parts = []
    for code in sorted(missing):
        where = missing[code]
        source = "the handler" if where == function_label(route.handler) else f"`{where}`"
        parts.append(f"{code} (raised in {source})")
    yield Report(
        route.node,
        f"`{route.handler.name}` ({route_label(route)}) can answer {', '.join(parts)}, "
        f"not documented in `responses=`{_also(found.repeats.get(id(route), 0))}",
    )


# ------------------------------------------------------------------ FAA706

_ROUTE_NODES: ModelCache[frozenset[int]] = ModelCache()


def _route_nodes(model: AppModel) -> frozenset[int]:
    return frozenset(id(route.node) for route in model.routes)


def _literal_status(expr: ast.expr | None) -> int | None:
    if (
        isinstance(expr, ast.Constant)
        and type(expr.value) is int
        and expr.value in HTTPStatus._value2member_map_
    ):
        return expr.value
    return None


def _status_literal_arg(ctx: FileContext, call: ast.Call) -> tuple[ast.expr, str] | None:
    """The literal status a call passes, and what the call is, when it is a route
    registration, an `HTTPException` or a FastAPI/Starlette response."""
    # Runs on every call of the project: the literal is looked for inline first (it
    # settles almost every call), before anything is resolved.
    by_keyword: ast.expr | None = None
    for kw in call.keywords:
        if kw.arg == "status_code":
            by_keyword = kw.value
            break
    if by_keyword is not None:
        if _literal_status(by_keyword) is None:
            return None
    else:
        args = call.args
        if not args or (
            _literal_status(args[0]) is None and (len(args) < 2 or _literal_status(args[1]) is None)
        ):
            return None
    if isinstance(call.func, ast.Attribute) and id(call) in _ROUTE_NODES.get(
        ctx.model, lambda: _route_nodes(ctx.model)
    ):
        if by_keyword is not None:
            return by_keyword, f"`.{call.func.attr}(status_code=...)`"
        return None
    name = ctx.resolve(call.func)
    if name is None:
        return None
    name = ctx.project.canonical(name)
    label = f"`{last_name(name)}`"
    if name in HTTP_EXCEPTIONS or ctx.project.is_subclass(name, HTTP_EXCEPTIONS):
        found = argument(call, 0, "status_code")
        return (found, label) if found is not None else None
    if is_response_class(ctx.project, name):
        # `Response(content, status_code)`, `JSONResponse(content, status_code)`,
        # `RedirectResponse(url, status_code)`: the status is the second argument.
        found = argument(call, 1, "status_code")
        return (found, label) if found is not None else None
    return None


@rule(
    code="FAA706",
    name="numeric-status-literal",
    summary="An HTTP status is written as a bare number instead of a `status.HTTP_*` constant",
    severity="info",
    nodes=(ast.Call,),
    fix_title="Use the named constant (`status.HTTP_*`, or `HTTPStatus.*` where the code uses it)",
    references=(
        "https://fastapi.tiangolo.com/tutorial/response-status-code/#shortcut-to-remember-the-names",
    ),
)
def numeric_status_literal(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds HTTP statuses written as integer literals where FastAPI code takes a status:
    `status_code=` of a path operation decorator or `add_api_route`,
    `HTTPException(404)` / `HTTPException(status_code=404)` (and project subclasses),
    and the FastAPI/Starlette response classes (`JSONResponse(..., status_code=400)`,
    `RedirectResponse(url, 302)`).

    ## Why is this bad?
    `status.HTTP_404_NOT_FOUND` says what the number means, editors complete it, and a
    typo (`status_code=402` for `403`) is much harder to make with a name. A codebase
    that mixes both styles is harder to search for "which routes answer 409".

    ## Known problems
    Only integer literals that are real HTTP statuses are reported; comparisons in
    tests (`assert response.status_code == 200`) and `httpx`/`requests` responses are
    not FastAPI's, and are left alone. `HTTPStatus.NOT_FOUND` is accepted as well, and
    is the name suggested in a module that imports `http.HTTPStatus` and not `status`,
    or, in a module that imports neither, when more modules of the project import
    `HTTPStatus` alone than import `status`. For 413, 414, 416 and 422, whose `status`
    names Starlette 0.48 changed (`HTTP_422_UNPROCESSABLE_ENTITY` became
    `HTTP_422_UNPROCESSABLE_CONTENT`; the old name warns from then on, the new one is
    missing before), the message suggests the standard library's name, which works
    with every version (`HTTPStatus.UNPROCESSABLE_ENTITY`, also a name in Python 3.13,
    which added `UNPROCESSABLE_CONTENT`).

    ## Example
    ```python
    @router.post("", status_code=201)
    def create_book(payload: BookCreate) -> BookOut:
        if exists(payload.isbn):
            raise HTTPException(409, "This ISBN is already registered")
        ...
    ```

    ## Use instead
    ```python
    from fastapi import status


    @router.post("", status_code=status.HTTP_201_CREATED)
    def create_book(payload: BookCreate) -> BookOut:
        if exists(payload.isbn):
            raise HTTPException(status.HTTP_409_CONFLICT, "This ISBN is already registered")
        ...
    ```

    ## Fix safety
    Safe, applied by `--fix`: the constant has the same value, behaviour and OpenAPI
    document are unchanged. It writes the name the message suggests: `status.HTTP_*`,
    importing `status` from `fastapi` when missing, or `HTTPStatus.*`, importing it from
    `http` when missing. It declines where that name already means something else, and,
    when it would write `status`, for 413, 414, 416 and 422, whose constant names changed
    in Starlette 0.48 (no `status` name works on every version).
    """
    found = _status_literal_arg(ctx, node)
    if found is None:
        return
    expr, label = found
    code = _literal_status(expr)
    if code is None:
        return
    yield Report(
        expr,
        f"{label} takes the bare status `{code}`: use "
        f"`{suggested_name(status_style(ctx.model, ctx.module), code)}",
    )


# ------------------------------------------------------------------ FAA708

_PATH_PARAM = re.compile(r"{\s*\w+\s*(:[^}]*)?}")
_CONDITIONAL = (ast.If, ast.Try, ast.Match, ast.IfExp)


def _normalized_path(path: str) -> str:
    """`/items/{item_id}` and `/items/{id}` match the same requests."""
    return _PATH_PARAM.sub(lambda m: "{" + (m.group(1) or "").strip() + "}", path)


def _conditional_nodes(module: Module) -> frozenset[int]:
    """Ids of the nodes under an `if`/`try`/`match` branch anywhere in the module: two
    registrations of one path in different branches are alternatives, not duplicates.
    Kept with the module (it reads only the module's own tree)."""
    known = module.derived.get(_conditional_nodes)
    if known is not None:
        return cast(frozenset[int], known)
    ids: set[int] = set()
    # One pass: a node is conditional when an ancestor is (nested branches are not
    # walked again for each branch around them).
    todo: list[tuple[ast.AST, bool]] = [(module.tree, False)]
    while todo:
        node, inside = todo.pop()
        if inside:
            ids.add(id(node))
        below = inside or isinstance(node, _CONDITIONAL)
        todo.extend((child, below) for child in child_nodes(node))
    found = module.derived[_conditional_nodes] = frozenset(ids)
    return found


def _is_conditional(route: Route) -> bool:
    nodes = _conditional_nodes(route.module)
    if id(route.node) in nodes:
        return True
    handler = route.handler
    return handler.module is route.module and id(handler.node) in nodes


def _registrar(route: Route) -> Function | None:
    """The function a decorator registration is written in, when the app or router it
    registers on is that function's parameter (`def _add_routes(app): @app.get(...)`)."""
    node, registrar = route.node, route.handler.parent
    if registrar is None or route.handler.module is not route.module:
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Name) and owner.id in registrar.param_names):
        return None
    if node not in route.handler.node.decorator_list:
        return None
    return registrar


def _branches(node: ast.AST) -> list[list[ast.AST]]:
    """The statements of each mutually exclusive branch of an `if`/`try`/`match`."""
    if isinstance(node, ast.If):
        return [list(node.body), list(node.orelse)]
    if isinstance(node, ast.Try):
        branches: list[list[ast.AST]] = [list(node.body)]
        for handler in node.handlers:
            branches.append([handler])
        return branches
    if isinstance(node, ast.Match):
        return [list(case.body) for case in node.cases]
    return []


def _exclusive(root: ast.AST, first: ast.AST, second: ast.AST) -> bool:
    """Are the two nodes in different branches of one `if`/`try`/`match` under `root`?"""
    for node in walk(root):
        first_in: set[int] = set()
        second_in: set[int] = set()
        for index, branch in enumerate(_branches(node)):
            ids = {id(n) for stmt in branch for n in walk(stmt)}
            if id(first) in ids:
                first_in.add(index)
            if id(second) in ids:
                second_in.add(index)
        if first_in and second_in and not first_in & second_in:
            return True
    return False


def _call_root(project: Project, caller: str) -> ast.AST | None:
    fn = project.function(caller)
    if fn is not None:
        return fn.node
    module = project.modules.get(caller)
    return module.tree if module is not None else None


def _alternative_registrars(model: AppModel, first: Route, second: Route) -> bool:
    """Registrations in two functions that take the app as a parameter, each called only
    from the other's alternative branch (`if on_space: _add_routes(app) else:
    _add_mocked_routes(app)`): only one of them ever runs."""
    one, two = _registrar(first), _registrar(second)
    if one is None or two is None or one is two:
        return False
    calls_one = model.callgraph.callers(one.qualname)
    calls_two = model.callgraph.callers(two.qualname)
    if not calls_one or not calls_two:
        return False
    for caller_one, site_one in calls_one:
        for caller_two, site_two in calls_two:
            root = _call_root(model.project, caller_one)
            if caller_one != caller_two or root is None:
                return False
            if not _exclusive(root, site_one.node, site_two.node):
                return False
    return True


def _where(route: Route) -> str:
    return f"`{route.handler.name}` ({_site(route)})"


def _site(route: Route) -> str:
    return f"{route.module.relpath}:{getattr(route.node, 'lineno', 0)}"


def _keyword_layers(
    route: Route, mount: Mount | None, name: str
) -> tuple[ast.expr, Module, Function | None] | None:
    """The innermost `name=` keyword (route, router, `include_router`, app) and where it
    is written."""
    found = route.keywords.get(name)
    if found is not None:
        return found, route.module, None
    chain = mount.chain if mount is not None else [route.router]
    for index in range(len(chain) - 1, -1, -1):
        router = chain[index]
        value = keyword(router.node, name)
        if value is not None:
            return value, router.module, router.scope
        if index:
            for include in router.included_by:
                if include.parent is chain[index - 1]:
                    value = keyword(include.node, name)
                    if value is not None:
                        return value, include.module, None
    return None


def _id_function_fields(
    project: Project, module: Module, scope: Function | None, expr: ast.expr
) -> frozenset[str] | None:
    """The `route.<attr>` fields a `generate_unique_id_function` builds the id from,
    when it is a lambda or a project function returning one expression of them."""
    if isinstance(expr, ast.Lambda):
        args, body = expr.args.args, [expr.body]
    else:
        fn = project.function(project.resolve(module, expr, scope))
        if fn is None:
            return None
        args = fn.node.args.args
        body = [
            node.value
            for node in body_nodes(fn.node)
            if isinstance(node, ast.Return) and node.value is not None
        ]
    if len(args) != 1 or not body:
        return None
    param = args[0].arg
    fields: set[str] = set()
    for value in body:
        for node in walk(value):
            if isinstance(node, ast.Name) and node.id == param:
                continue
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == param
            ):
                fields.add(node.attr)
    # Any other use of the route (`str(route)`, `route.endpoint.__qualname__`) is unknown.
    uses = sum(1 for v in body for n in walk(v) if isinstance(n, ast.Name) and n.id == param)
    attrs = sum(
        1
        for v in body
        for n in walk(v)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == param
    )
    if uses != attrs or not fields:
        return None
    return frozenset(fields)


def _operation_id(project: Project, route: Route, mount: Mount | None) -> str | None:
    """The operationId FastAPI gives this operation when it is known statically: an
    explicit `operation_id=` string, or a `generate_unique_id_function` that uses only
    the route's name (and tags)."""
    explicit = route.keywords.get("operation_id")
    if explicit is not None:
        return const_str(explicit)
    layer = _keyword_layers(route, mount, "generate_unique_id_function")
    if layer is None:
        return None
    fields = _id_function_fields(project, layer[1], layer[2], layer[0])
    if fields is None or not fields <= {"name", "tags"}:
        return None
    name = const_str(route.keywords.get("name")) if "name" in route.keywords else None
    if "name" in route.keywords and name is None:
        return None
    name = name or route.handler.name
    if "tags" in fields:
        tags = [*(mount.tags if mount is not None else route.router.tags), *route.tags]
        return f"{tags!r}:{name}"
    return name


def _decorator_keys(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
) -> list[tuple[str, str, str, ast.Call]]:
    """(router expression, method, literal path, decorator) for each `@x.get("/p")`."""
    out: list[tuple[str, str, str, ast.Call]] = []
    for decorator in node.decorator_list:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            continue
        method = decorator.func.attr
        owner = dotted(decorator.func.value)
        path = const_str(decorator.args[0]) if decorator.args else None
        if method in HTTP_METHODS and owner and path is not None:
            out.append((owner, method.upper(), _normalized_path(path), decorator))
    return out


def _shadowed_duplicates(module: Module) -> Iterator[tuple[ast.Call, str, str, int]]:
    """A handler copied under the same name in one module: the model keeps only the last
    definition of a name, so the first registration is found here, syntactically. Two
    decorators of one definition are one handler registered twice (reported with the
    model's routes), not two definitions."""
    seen: dict[tuple[str, str, str], tuple[int, ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for stmt in module.tree.body:  # top-level: never under a branch
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for owner, method, path, decorator in _decorator_keys(stmt):
            key = (owner, method, path)
            earlier = seen.get(key)
            if earlier is None:
                seen[key] = (decorator.lineno, stmt)
            elif earlier[1].name == stmt.name and earlier[1] is not stmt:
                yield decorator, method, stmt.name, earlier[0]


@rule(
    code="FAA708",
    name="duplicate-route-or-operation-id",
    summary="The same method and path, or the same operationId, is registered twice in one app",
    severity="warning",
    scope="project",
    fix_title="Remove or rename one of the two path operations",
    references=(
        "https://fastapi.tiangolo.com/advanced/path-operation-advanced-configuration/",
        "https://fastapi.tiangolo.com/tutorial/path-params/#order-matters",
    ),
)
def duplicate_route_or_operation_id(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds two path operations of one app that answer the same method and full path
    (router prefixes and `include_router` prefixes applied, path parameter names
    ignored: `/items/{id}` and `/items/{item_id}` are the same route), including a router
    included twice with the same prefix; and two operations of one app with the same
    operationId, given by `operation_id=` or by a `generate_unique_id_function` that
    builds the id from the handler name (`lambda route: route.name`) so repeated handler
    names collide.

    ## Why is this bad?
    Starlette serves the first matching route: the second registration is dead code
    that still appears in the OpenAPI document, and whoever edits it sees no effect.
    A duplicate operationId makes FastAPI warn "Duplicate Operation ID" and breaks
    generated clients, whose method names come from it (one method overwrites the other).

    ## Known problems
    A handler registered twice at one path is reported as redundant, on the registration
    that never answers (of stacked decorators, the upper one: they register bottom-up),
    not when the two differ only in that one is hidden from the schema
    (`include_in_schema=False`: an old alias whose path came out the same; a difference
    in `dependencies=` or anything else is reported). When the one that answers is hidden
    and the other differs in documentation alone, the advice is to remove the hidden one.
    Registrations on two routers are reported without naming the one that answers (the
    order of the `include_router`/`add_api_route` calls decides it). One registration of
    a helper that runs for two routers serving the same path is not reported (usually
    alternatives: `if v2: add_items(r2) else: add_items(r1)`). Registrations in different branches of an
    `if`/`try` are alternatives and are not compared, and so are registrations written in two functions that take the app or
    router as a parameter and are called from different branches of one `if`/`try`
    (`if on_space: _add_routes(app) else: _add_mocked_routes(app)`; the call sites are
    followed one level up). Paths with a part the tool cannot evaluate are skipped. FastAPI's default
    operationId includes the path and method, so handler names only matter with a custom
    `generate_unique_id_function`.

    ## Example
    ```python
    @router.get("/{item_id}")
    def read_item(item_id: int) -> Item: ...


    @router.get("/{id}")
    def get_item(id: int) -> Item: ...
    ```

    ## Use instead
    ```python
    @router.get("/{item_id}")
    def read_item(item_id: int) -> Item: ...
    ```

    ## Fix safety
    No automatic fix: which of the two registrations is the intended one is a human
    decision.
    """
    project = ctx.project
    by_route: dict[tuple[str, str, str], list[tuple[Route, str]]] = {}
    by_id: dict[tuple[str, str], list[tuple[Route, Mount | None]]] = {}
    for route in ctx.model.routes:
        if route.kind != "http" or is_test_module(route.module):
            continue
        mounts: list[Mount | None] = list(route.mounts) or [None]
        for mount in mounts:
            root = mount.chain[0].key if mount is not None else route.router.key
            path = mount.path if mount is not None else route.router.prefix + route.path
            if "{?}" not in path:
                for method in route.methods:
                    key = (root, method, _normalized_path(path))
                    by_route.setdefault(key, []).append((route, path))
            op_id = _operation_id(project, route, mount)
            if op_id:
                by_id.setdefault((root, op_id), []).append((route, mount))
    reported: set[int] = set()
    unused: set[int] = set()  # the registrations already reported as never used
    for (_root, method, _path), entries in by_route.items():
        entries.sort(key=lambda entry: site_order(entry[0]))
        first = entries[0][0]
        for route, path in entries[1:]:
            if id(route) in reported or _is_conditional(route) or _is_conditional(first):
                continue
            if _alternative_registrars(ctx.model, first, route):
                continue
            same_handler = route is not first and route.handler is first.handler
            if same_handler and _alias_registration(route, first):
                continue  # an alias that came out equal: one answer, one operation
            reported.add(id(route))
            if route is first:
                message = (
                    f"`{route.handler.name}` ({method} `{path}`) is registered twice: "
                    "its router is included twice under the same prefix"
                )
            elif same_handler:
                yield from _same_handler_reports(first, route, entries, method, path, unused)
                continue
            else:
                message = (
                    f"{method} `{path}` is already registered by {_where(first)}: "
                    f"`{route.handler.name}` is never reached"
                )
            yield Report(route.node, message, module=route.module)
    for module in ctx.project.module_list:
        if is_test_module(module) or not module.imports_anything("fastapi"):
            continue
        for decorator, method, name, line in _shadowed_duplicates(module):
            yield Report(
                decorator,
                f"`{name}` is defined twice with the same route ({method}, line {line} "
                "first): the second definition is never reached",
                module=module,
            )
    for id_entries in by_id.values():
        routes = list({id(route): route for route, _mount in id_entries}.values())
        routes.sort(key=site_order)
        for route in routes[1:]:
            if id(route) in reported or _is_conditional(route) or _is_conditional(routes[0]):
                continue
            if _alternative_registrars(ctx.model, routes[0], route):
                continue
            reported.add(id(route))
            explicit = const_str(route.keywords.get("operation_id"))
            if explicit:
                message = (
                    f"operationId `{explicit}` of `{route.handler.name}` ({route_label(route)}) "
                    f"is already used by {_where(routes[0])}"
                )
            else:
                message = (
                    f"`{route.handler.name}` ({route_label(route)}) gets the same operationId "
                    f"as {_where(routes[0])}: `generate_unique_id_function` builds it from "
                    "the route name"
                )
            yield Report(route.node, message, module=route.module)


def _alias_registration(one: Route, other: Route) -> bool:
    """Two registrations of one handler that differ only in that one is hidden from the
    schema (`@app.get(OLD_PATH, include_in_schema=False)` over the same path): the same
    answer, one operation in the document."""
    first, second = one.node, other.node
    if not (_hidden(one) or _hidden(other)) or one.methods != other.methods:
        return False
    if not isinstance(first, ast.Call) or not isinstance(second, ast.Call):
        return False
    if len(first.args) != len(second.args):
        return False
    skip = frozenset({"include_in_schema"})
    return _keyword_dumps(((k.arg, k.value) for k in first.keywords), skip) == _keyword_dumps(
        ((k.arg, k.value) for k in second.keywords), skip
    )


def _same_handler_reports(
    first: Route,
    route: Route,
    entries: list[tuple[Route, str]],
    method: str,
    path: str,
    reported: set[int],
) -> Iterator[Report]:
    """One handler registered twice at one route: Starlette serves the registration made
    first (stacked decorators register bottom-up); every other one is never used. Each
    registration is reported once (`reported`: their node ids)."""
    if route.node is first.node:
        # One registration of a helper run for two routers that end up at the same path:
        # usually alternatives (`if ...: add(r1) else: add(r2)`), which the call sites
        # would have to tell.
        return
    group = [r for r, _ in entries if r.handler is route.handler]
    if any(r.router is not first.router for r in group):
        # Across routers, the order of the `include_router` calls decides which one
        # answers: not told here.
        if id(route.node) not in reported:
            reported.add(id(route.node))
            yield Report(
                route.node,
                f"`{route.handler.name}` is registered twice for {method} `{path}` (also at "
                f"{_site(first)}): only one of the two answers; keep the one with the "
                "dependencies the route needs",
                module=route.module,
            )
        return
    answers = min(group, key=_registration_order)
    for unused in (first, route):
        if unused is not answers and id(unused.node) not in reported:
            reported.add(id(unused.node))
            yield Report(
                unused.node, _unused_message(unused, answers, method, path), module=unused.module
            )


def _keyword_dumps(
    keywords: Iterable[tuple[str | None, ast.expr]], skip: frozenset[str]
) -> dict[str | None, str]:
    """A registration's keywords but `skip`, comparable across registrations."""
    return {name: ast.dump(value) for name, value in keywords if name not in skip}


def _registration_order(route: Route) -> tuple[str, int, int]:
    """When a registration runs: a decorator when its function is defined, the lowest
    first; a call (`add_api_route`) where it stands."""
    decorators = [id(d) for d in route.handler.node.decorator_list]
    if id(route.node) in decorators:
        line = route.handler.node.lineno
        return (route.module.relpath, line, -decorators.index(id(route.node)))
    return (route.module.relpath, getattr(route.node, "lineno", 0), 0)


# Keywords that change only the OpenAPI document, not what the registration answers.
_DOC_KEYWORDS = frozenset(
    {
        "include_in_schema",
        "tags",
        "summary",
        "description",
        "response_description",
        "operation_id",
        "openapi_extra",
        "deprecated",
        "name",
    }
)


def _unused_message(unused: Route, answers: Route, method: str, path: str) -> str:
    """The advice for a registration of a handler that another registration shadows. When
    the one that answers is hidden from the schema and differs from the shadowed one in
    nothing else, removing the shadowed one would drop the operation from the schema:
    the hidden one is the one to remove."""
    head = f"`{unused.handler.name}` is registered twice for {method} `{path}`: "
    if (
        is_false(answers.keywords.get("include_in_schema"))
        and not is_false(unused.keywords.get("include_in_schema"))
        and _keyword_dumps(answers.keywords.items(), _DOC_KEYWORDS)
        == _keyword_dumps(unused.keywords.items(), _DOC_KEYWORDS)
    ):
        return (
            head + "this registration, the one in the OpenAPI schema, is never used "
            "(the hidden one answers); remove the hidden one"
        )
    return head + "this registration is never used (the other one answers); remove it"


# ------------------------------------------------------------------ FAA705


def _starlette_route(route: Route) -> bool:
    """`@app.route(...)`: a Starlette route, never in the OpenAPI document."""
    node = route.node
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "route"
    )


def _hidden(route: Route) -> bool:
    if _starlette_route(route):
        return True
    include = route.keywords.get("include_in_schema")
    if isinstance(include, ast.Constant) and include.value is False:
        return True
    return bool(route.mounts) and not any(m.include_in_schema for m in route.mounts)


def _tagged(route: Route, mount: Mount | None) -> bool:
    """Tags from the route, a router or an `include_router` on the way (a `tags=` the
    tool cannot evaluate, such as a list of enum members, counts as tags)."""
    if route.tags or "tags" in route.keywords:
        return True
    if mount is None:
        if route.listed:
            return False
        return bool(route.router.tags) or keyword(route.router.node, "tags") is not None
    if mount.tags:
        return True
    for index, router in enumerate(mount.chain):
        # A route given to its router's constructor gets no tags from that router.
        own = route.listed and index == len(mount.chain) - 1
        if not own and keyword(router.node, "tags") is not None:
            return True
        if index:
            for include in router.included_by:
                if include.parent is mount.chain[index - 1] and keyword(include.node, "tags"):
                    return True
    return False


# Operational routes whose name says everything: the probes, the version, the
# Prometheus scrape.
_OPERATIONAL = PROBE_SEGMENTS | {"version", "metrics"}
# Words a handler name adds around one (`health_check`, `get_server_version`).
_OPERATIONAL_FILLER = frozenset({"get", "read", "check", "server", "api", "app", "service"})
_REQUEST_TYPES = frozenset({"Request", "Response", "HTTPConnection", "BackgroundTasks"})
# Files a browser or crawler fetches by a fixed name: a web-app manifest, the favicon,
# the crawler files. Resources for the browser, not API operations (and so is anything
# under `/.well-known/`, RFC 8615).
_BROWSER_FILES = frozenset(
    {
        "favicon.ico",
        "robots.txt",
        "sitemap.xml",
        "humans.txt",
        "security.txt",
        "manifest.json",
        "manifest.webmanifest",
        "site.webmanifest",
        "browserconfig.xml",
        "apple-touch-icon.png",
    }
)


def _request_param(project: Project, fn: Function, param: ast.arg) -> bool:
    """A `Request`/`Response`/`BackgroundTasks` parameter of FastAPI or Starlette."""
    name = project.resolve(fn.module, param.annotation, fn.parent) if param.annotation else None
    if not name:
        return False
    return last_name(name) in _REQUEST_TYPES and name.startswith(("fastapi.", "starlette."))


# (Dependency key, id of its function's node) -> `_silent_tree` of a site resolving to it.
_SILENT: ModelCache[dict[tuple[str, int | None], bool]] = ModelCache()


def _silent_dependency(model: AppModel, param: ast.arg, sites: list[DepSite]) -> bool:
    """A dependency parameter whose whole dependency tree takes nothing from the request
    but the connection itself (`db = Depends(provide_database)`): it adds no parameter
    to the operation. A security scheme or a callable the review cannot read may."""
    site = next((s for s in sites if s.param == param.arg), None)
    if site is None:
        return False
    project = model.project
    target = resolve_target(project, site)
    if target is None or not target.qualname:
        return _silent_tree(project, site)
    # The walk from a site is decided by what it resolves to: the dependency's key and
    # its function (whose parameters are the next sites). Handlers share dependencies.
    key = (target_key(target), id(target.function.node) if target.function else None)
    trees = _SILENT.get(model, dict)
    found = trees.get(key)
    if found is None:
        found = _silent_tree(project, site)
        trees[key] = found
    return found


def _silent_tree(project: Project, site: DepSite) -> bool:
    for _site, target in walk_dependencies(project, [site]):
        dep = target.function
        if dep is None or dep.node.args.vararg or dep.node.args.kwarg:
            return False
        own = parameters(dep.node)
        if dep.class_qualname is not None and own:
            own = own[1:]  # `self` of a class dependency's `__init__` or `__call__`
        nested = {s.param for s in param_sites(project, dep)}
        for sub, _default in own:
            if sub.arg not in nested and not _request_param(project, dep, sub):
                return False
    return True


def _operational(model: AppModel, route: Route) -> bool:
    """`GET /health`, `/readyz`, `/version`, `/metrics`, `/manifest.json`,
    `/robots.txt` taking no parameter: the path explains itself. When the path is a
    variable (`@app.get(health_check_path)`), the handler's name is read instead
    (`health_check`, `server_version`)."""
    fn = route.handler
    if fn.node.args.vararg or fn.node.args.kwarg:
        return False
    project = model.project
    sites = param_sites(model.project, fn)
    for param, _default in parameters(fn.node):
        if not _request_param(project, fn, param) and not _silent_dependency(model, param, sites):
            return False
    for path in (route.path, *route.full_paths):
        if "{" in path.replace("{?}", ""):
            return False  # a path parameter
    last = route.path.rstrip("/").rsplit("/", 1)[-1]
    if last.lower() in _BROWSER_FILES or any(
        "/.well-known/" in path for path in (route.path, *route.full_paths)
    ):
        return True
    if "{" not in last:
        return "".join(path_words(last)) in _OPERATIONAL
    if last.replace("{?}", ""):
        return False
    words = [w for w in path_words(fn.name) if w not in _OPERATIONAL_FILLER]
    return len(words) == 1 and words[0] in _OPERATIONAL


_FILE_PARAM = re.compile(r"{\s*(\w+)\s*:\s*path\s*}")


# Responses that send a file's bytes: whole, streamed, or a byte range of it.
_FILE_RESPONSES = frozenset({"FileResponse", "StreamingResponse"})


def _file_response(
    project: Project, module: Module, scope: Function | None, expr: ast.expr | None, depth: int = 0
) -> bool:
    """`FileResponse(...)`, `StreamingResponse(...)`, a project response class named for
    a file (`RangedFileResponse`), or a call to a project helper whose every `return` is
    one (`return file_response(BUILD_DIR, path)`, `return await stream_url(url)`)."""
    if isinstance(expr, ast.Await):
        expr = expr.value
    if not isinstance(expr, ast.Call) or depth > 2:
        return False
    name = project.resolve(module, expr.func, scope)
    if name is not None and is_response_class(project, name):
        return any(
            last_name(n) in _FILE_RESPONSES or last_name(n).endswith("FileResponse")
            for n in project.mro(name)
        )
    helper = project.function(name)
    return helper is not None and _returns_files(project, helper, depth + 1)


def _returns_files(project: Project, fn: Function, depth: int = 0) -> bool:
    returns = [node for node in body_nodes(fn.node) if isinstance(node, ast.Return)]
    return bool(returns) and all(
        _file_response(project, fn.module, fn, node.value, depth) for node in returns
    )


def _serves_files(project: Project, route: Route) -> bool:
    """`GET /assets/{path:path}` answering every request with a file: the route serves
    static files (what `StaticFiles` does), it is not an API operation. It takes nothing
    but the file path (and `Request`)."""
    if not set(route.methods) <= _SAFE_METHODS:
        return False
    fn = route.handler
    files = set(_FILE_PARAM.findall(route.path))
    if not files or fn.node.args.vararg or fn.node.args.kwarg:
        return False
    for param, _default in parameters(fn.node):
        if param.arg not in files and not _request_param(project, fn, param):
            return False
    return _returns_files(project, fn)


@rule(
    code="FAA705",
    name="route-docs-incomplete",
    summary="A path operation has no summary, description or docstring, or no tags",
    severity="info",
    scope="route",
    fix_title="Add `summary=` (or a docstring) and `tags=` on the route or its router",
    references=(
        "https://fastapi.tiangolo.com/tutorial/path-operation-configuration/",
        "https://fastapi.tiangolo.com/tutorial/metadata/#metadata-for-tags",
    ),
)
def route_docs_incomplete(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operations that the OpenAPI document describes poorly: no `summary=`, no
    `description=` and no docstring on the handler, or no `tags` on the route, on its
    `APIRouter`, or on the `include_router` calls that lead to it.

    ## Why is this bad?
    Without a summary or description, the docs page shows only a title made from the
    function name ("Read Items Legacy V2"), and API consumers have to guess what the
    operation does. Without tags, the operation lands in the "default" group of the docs
    UI, and generated clients put it in a catch-all service class.

    ## Known problems
    Routes hidden with `include_in_schema=False` and WebSocket routes (not in the
    OpenAPI document) are skipped, and so is a decorator with a `**kwargs` splat; so
    are the paths a custom `app.openapi` leaves out of the document (it keeps only the
    paths that `startswith(...)` literal prefixes, or deletes some, as FAA704 reads it).
    A
    `tags=` the tool cannot evaluate (a list of enum members, a settings value) counts
    as tagged. Operational routes that explain themselves are skipped when they take no
    parameter (other than `Request`/`Response`, and dependencies that take nothing from
    the request themselves, such as a database handle): a path ending in `health`, `healthz`,
    `healthcheck`, `ready`, `readyz`, `live`, `livez`, `version`, `metrics` or `ping`
    (or, when the path is a variable, a handler named so: `health_check`,
    `server_version`). So are the files a browser or crawler fetches by a fixed name
    (`/manifest.json`, `/robots.txt`, `/favicon.ico`, `/sitemap.xml`, anything under
    `/.well-known/`) and static-file routes: a GET with a `{name:path}` parameter,
    taking nothing else but `Request`, whose every `return` is a `FileResponse`, a
    `StreamingResponse` or a project response class named `...FileResponse` (or a
    project helper returning one, awaited or not). A handler registered several times
    (HEAD next to GET, `/x` next to `/x/`) is reported once, on its first registration
    (a GET before its HEAD twin). Routes served only by apps that show no docs page are
    skipped: apps created with `openapi_url=None`, or with both `docs_url=None` and
    `redoc_url=None` (also as the default of a project subclass of `FastAPI`), unless
    the project builds the document itself (`get_openapi(...)`, `app.openapi()`) or
    serves its own docs page (`get_swagger_ui_html`, `get_redoc_html`, Scalar). So are
    internal worker apps: built by a factory called only in functions started as
    `multiprocessing.Process(target=...)` that run the app with `uvicorn.run(app,
    host="127.0.0.1")` (or `localhost`), reached only from the same machine.

    ## Example
    ```python
    router = APIRouter(prefix="/books")


    @router.get("/{book_id}")
    def read_book(book_id: int) -> BookOut: ...
    ```

    ## Use instead
    ```python
    router = APIRouter(prefix="/books", tags=["books"])


    @router.get("/{book_id}", summary="Get a book")
    def read_book(book_id: int) -> BookOut:
        \"\"\"The book with this id, with its author.\"\"\"
    ```

    ## Fix safety
    Documentation only; no automatic fix (the text has to be written).
    """
    found = _DOCS_GAPS.get(ctx.model, lambda: _all_docs_gaps(ctx.model)).get(id(route))
    if found is not None:
        missing, repeats = found
        yield Report(
            route.node,
            f"`{route.handler.name}` ({route_label(route)}) has {' and '.join(missing)}"
            f"{_also(repeats)}",
        )


def _docs_gaps(model: AppModel, route: Route) -> list[str]:
    """What the route's entry in the OpenAPI document lacks."""
    if route.kind != "http" or has_keyword_splat(route) or _hidden(route):
        return []
    published = _published_mounts(model, route)
    if route.mounts and not published:
        return []  # left out of every document (`_left_out`)
    if _operational(model, route) or _serves_files(model.project, route):
        return []
    if _schema_unpublished(model, route) or _no_docs_ui(model, route):
        return []
    if internal_only(model, route):
        return []
    missing: list[str] = []
    if not (
        "summary" in route.keywords
        or "description" in route.keywords
        or ast.get_docstring(route.handler.node)
    ):
        missing.append("no summary, description or docstring")
    mounts: list[Mount | None] = [*published] or [None]
    if not all(_tagged(route, mount) for mount in mounts):
        missing.append("no tags on the route or its routers")
    return missing


def _all_docs_gaps(model: AppModel) -> dict[int, tuple[list[str], int]]:
    """id(route) -> its gaps and how many other registrations of its handler share
    them. A handler registered several times (HEAD + GET, `/x` + `/x/`) is reported
    once per gap, on its first registration."""
    out: dict[int, tuple[list[str], int]] = {}
    first: dict[tuple[int, str], int] = {}  # (handler, gap) -> reporting route
    for route in sorted(model.routes, key=_report_order):
        fresh: list[str] = []
        repeated: set[int] = set()
        for gap in _docs_gaps(model, route):
            reporter = first.setdefault((id(route.handler), gap), id(route))
            if reporter == id(route):
                fresh.append(gap)
            else:
                repeated.add(reporter)
        if fresh:
            out[id(route)] = (fresh, 0)
        for reporter in repeated:
            gaps, count = out[reporter]
            out[reporter] = (gaps, count + 1)
    return out


_DOCS_GAPS: ModelCache[dict[int, tuple[list[str], int]]] = ModelCache()


# ------------------------------------------------------------------ FAA709

_BODYLESS = frozenset({"GET", "HEAD", "DELETE"})


def _model_in(project: Project, module: Module, scope: Function | None, expr: ast.expr) -> str:
    """The Pydantic model class an annotation names (also in `list[...]`), or ""."""
    for node in walk(expr):
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = project.resolve(module, node, scope)
            if name and is_pydantic_model(project, name):
                return last_name(name)
    return ""


def _body_params(project: Project, fn: Function) -> Iterator[tuple[ast.arg, str]]:
    """Parameters FastAPI reads from the request body: `Body()`/`Form()`/`File()`, or an
    unmarked Pydantic model."""
    scope = fn.parent
    for param, default in parameters(fn.node):
        base, metadata, meta_module = unwrap_annotation(project, fn.module, param.annotation, scope)
        marker = param_marker(project, fn.module, default, scope)
        for meta in metadata:
            marker = marker or param_marker(
                project, meta_module, meta, scope if meta_module is fn.module else None
            )
        if marker in ("Body", "Form", "File"):
            yield param, f"`{marker}()`"
        elif marker is None and base is not None:
            model = _model_in(
                project, meta_module, scope if meta_module is fn.module else None, base
            )
            if model:
                yield param, f"the model `{model}`"


# Methods that turn a Pydantic body into a dict or JSON text, whole.
_DUMPS = frozenset({"model_dump", "model_dump_json", "dict", "json"})
_TRAILING_PARAM = re.compile(r"(?:/{[^}]*})+/?$")


def _url_tail(expr: ast.expr) -> str | None:
    """The path an outgoing URL adds to its base: `/api/delete` for
    `f"{base}/api/delete"` or `base + "/api/delete"` (a value inside it is `{}`)."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return const_str(expr.right)
    if not isinstance(expr, ast.JoinedStr) or not expr.values:
        return None
    if not isinstance(expr.values[0], ast.FormattedValue):
        return None
    return "".join(
        v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
        for v in expr.values[1:]
    )


def _whole_body(fn: Function, expr: ast.expr, param: str, depth: int = 0) -> bool:
    """Does `expr` carry the body parameter whole: `form_data`, `{**form_data}`,
    `form_data.model_dump()`, `json.dumps(payload)` after `payload = form_data.dict()`?
    A field of it (`{"id": form_data.id}`) is not the body."""
    if depth > 3:
        return False
    owners: set[int] = set()  # names read for an attribute: `form_data.id`
    for node in walk(expr):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == param and node.attr in _DUMPS:
                return True
            owners.add(id(node.value))
    for node in walk(expr):
        if not isinstance(node, ast.Name):
            continue
        if node.id == param and id(node) not in owners:
            return True
        bound = fn.local_values.get(node.id) if node.id != param else None
        if bound is not None and _whole_body(fn, bound, param, depth + 1):
            return True
    return False


def _forwards_as_is(route: Route, param: str) -> bool:
    """Does the handler pass the body on, whole, to an upstream service with the same
    method and path (`send_request(f"{url}/api/delete", "DELETE", payload=body)`
    behind `DELETE /api/delete`)? The route copies the upstream's API (a
    protocol-compatible proxy), whose method and body shape are not the project's."""
    own = _TRAILING_PARAM.sub("", _PATH_PARAM.sub("{}", route.path)).rstrip("/")
    if not own.strip("/{}"):
        return False
    methods = {m.lower() for m in route.methods}
    fn = route.handler
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        values = [*node.args, *(kw.value for kw in node.keywords)]
        same_method = (isinstance(func, ast.Attribute) and func.attr in methods) or any(
            (const_str(v) or "").lower() in methods for v in values
        )
        if not same_method:
            continue
        tails = [_url_tail(v) for v in values]
        if not any(tail is not None and tail.rstrip("/") == own for tail in tails):
            continue
        if any(_whole_body(fn, v, param) for v in values):
            return True
    return False


@rule(
    code="FAA709",
    name="body-on-get-or-delete",
    summary="A GET, HEAD or DELETE path operation reads a request body",
    severity="warning",
    scope="route",
    fix_title="Take query parameters (a `Query()` model) or move the operation to POST",
    references=(
        "https://www.rfc-editor.org/rfc/rfc9110#name-get",
        "https://fastapi.tiangolo.com/tutorial/query-param-models/",
    ),
)
def body_on_get_or_delete(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds GET, HEAD and DELETE path operations whose handler takes a request body: a
    parameter typed with a Pydantic model and no `Query()`/`Depends()` marker (FastAPI
    reads those from the body), or an explicit `Body()`, `Form()` or `File()`.

    ## Why is this bad?
    A body on GET, HEAD or DELETE has no defined meaning (RFC 9110): browsers' `fetch`
    refuses to send one with GET, many HTTP clients, proxies, CDNs and API gateways drop
    it, and caches ignore it when they key responses. Swagger UI cannot send it either,
    so the operation cannot be tried from the docs.

    ## Known problems
    Only the handler's own parameters are read; a body taken by a dependency is not
    seen. A model parameter with `Query()` (FastAPI's query parameter models) or
    `Depends()` is not a body and is not reported. Registrations for several methods
    including a body method (`api_route(methods=["GET", "POST"])`) are skipped, and so
    are protocol-compatible proxies: a handler that passes the body on whole
    (`body`, `body.model_dump()`) in an outgoing call with the route's own method and
    path (`send_request(f"{url}/api/delete", "DELETE", ...)` behind `DELETE
    /api/delete`), as the upstream API defines them.

    ## Example
    ```python
    @router.get("/books/search")
    def search_books(filters: BookFilters) -> list[BookOut]: ...
    ```

    ## Use instead
    ```python
    @router.get("/books/search")
    def search_books(filters: Annotated[BookFilters, Query()]) -> list[BookOut]: ...
    ```

    ## Fix safety
    No automatic fix: moving the data to the query string or the operation to POST
    changes the API contract.
    """
    if route.kind != "http" or not route.methods or not set(route.methods) <= _BODYLESS:
        return
    for param, what in _body_params(ctx.project, route.handler):
        if _forwards_as_is(route, param.arg):
            return
        yield Report(
            route.node,
            f"`{route.handler.name}` ({route_label(route)}) reads the request body: "
            f"`{param.arg}` is {what}",
        )
        return


# ------------------------------------------------------------------ FAA710

_SAFE_METHODS = frozenset({"GET", "HEAD"})
_SESSION_WRITES = frozenset({"add", "add_all", "delete", "merge", "commit", "bulk_save_objects"})
_SQL_WRITES = frozenset(
    {
        "sqlalchemy.insert",
        "sqlalchemy.update",
        "sqlalchemy.delete",
        "sqlalchemy.sql.expression.insert",
        "sqlalchemy.sql.expression.update",
        "sqlalchemy.sql.expression.delete",
        "sqlmodel.insert",
        "sqlmodel.update",
        "sqlmodel.delete",
        "sqlalchemy.dialects.postgresql.insert",
        "sqlalchemy.dialects.sqlite.insert",
        "sqlalchemy.dialects.mysql.insert",
    }
)
_MUTATING_VERBS = frozenset(
    {"create", "update", "delete", "remove", "insert", "upsert", "save", "destroy", "purge"}
)
# GET routes that must change state by protocol: OAuth/SSO callbacks, links in e-mails
# (verify, confirm, unsubscribe, magic login), and login/logout redirects.
_LINK_WORDS = frozenset(
    {
        "callback",
        "callbacks",
        "oauth",
        "oauth2",
        "sso",
        "authorize",
        "login",
        "logout",
        "signin",
        "signout",
        "verify",
        "verification",
        "confirm",
        "confirmation",
        "activate",
        "activation",
        "unsubscribe",
        "magic",
        "invite",
        "invitation",
        "webhook",
        "webhooks",
        "redirect",
    }
)


def _is_link_route(route: Route) -> bool:
    words = set(path_words(route.handler.name))
    for path in (route.path, *route.full_paths):
        for segment in path.split("/"):
            if segment and not segment.startswith("{"):
                words |= set(path_words(segment))
    return bool(words & _LINK_WORDS)


def _mutation(project: Project, fn: Function, call: ast.Call, target: str | None) -> str:
    """What a call in a GET handler changes, or ""."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _SESSION_WRITES:
        on_session = bool(target and target.startswith(SESSION_OWNERS))
        receiver = func.value
        if on_session or (isinstance(receiver, ast.Name) and receiver.id in SESSION_NAMES):
            return f"`{dotted(func) or func.attr}()`"
    if target is None:
        return ""
    if project.canonical(target) in _SQL_WRITES:
        return f"an SQL `{last_name(target)}()` statement"
    callee = project.function(target)
    if callee is None:
        return ""
    words = path_words(callee.name)
    if words and words[0] in _MUTATING_VERBS and not set(words) & NOT_RESOURCE_WORDS:
        return f"`{callee.display}()`"
    return ""


_IN_PLACE_METHODS = frozenset(
    {"update", "append", "extend", "add", "insert", "pop", "clear", "setdefault", "remove"}
)


def _root_name(expr: ast.expr) -> ast.Name | None:
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return expr if isinstance(expr, ast.Name) else None


def _stores(fn: Function) -> Iterator[tuple[str, ast.expr | None]]:
    """What `fn`'s body writes to: `("global", None)` for a `global`/`nonlocal`
    declaration, `("call", receiver)` for an in-place method call (`items.append(x)`)
    and `("store", target)` for each assignment target (a tuple's elements one by one)
    and each `del` target (`del LINKS[key]` changes `LINKS`)."""
    for node in body_nodes(fn.node):
        yield from _node_stores(node)


def _node_stores(node: ast.AST) -> Iterator[tuple[str, ast.expr | None]]:
    """What one node writes to, as `_stores` tells it (`del items[key]` stores too)."""
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        yield "global", None
        return
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _IN_PLACE_METHODS
    ):
        yield "call", node.func.value
    targets = node.targets if isinstance(node, ast.Delete) else assignment_targets(node)
    for target in targets:
        for part in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
            yield "store", part


def _outside_writes(fn: Function) -> bool:
    """Does a plain function write outside its own parameters and locals: a `global`, a
    store into or an in-place method call on a module-level object?"""
    module_names = fn.module.assignments
    for kind, expr in _stores(fn):
        if expr is None:
            return True
        if isinstance(expr, ast.Name) and kind == "store":
            continue
        root = _root_name(expr)
        if kind == "call":
            if root is not None and root.id in module_names and not fn.binds(root.id):
                return True
        elif root is None or not fn.binds(root.id):
            return True
    return False


def _rebinds_local_copy(model: AppModel, fn: Function, call: ast.Call, target: str | None) -> bool:
    """`config = update_root(config, root)`: the handler's own local (not a parameter or
    a global) goes through a plain project function that only rewrites and returns it
    (also passed by keyword, awaited, or given back with more: `data, fid = await
    rewrite(data=data)`)."""
    callee = model.project.function(target)
    if callee is None or callee.class_qualname is not None:
        return False
    if call.args:
        first: ast.expr | None = call.args[0]
    else:
        params = parameters(callee.node)
        name = params[0][0].arg if params else None
        first = next((kw.value for kw in call.keywords if name and kw.arg == name), None)
    if not isinstance(first, ast.Name) or first.id in fn.param_names:
        return False
    rebound = False
    for node in body_nodes(fn.node):
        if isinstance(node, (ast.Global, ast.Nonlocal)) and first.id in node.names:
            return False
        if (
            isinstance(node, ast.Assign)
            and (
                node.value is call
                or (isinstance(node.value, ast.Await) and node.value.value is call)
            )
            and len(node.targets) == 1
            and _binds_name(node.targets[0], first.id)
        ):
            rebound = True
    if not rebound or _outside_writes(callee):
        return False
    return not any(
        _mutation(model.project, callee, site.node, site.target)
        for site in model.callgraph.calls_of(callee)
    )


def _binds_name(target: ast.expr, name: str) -> bool:
    """`name = ...` or `name, other = ...`."""
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(isinstance(el, ast.Name) and el.id == name for el in target.elts)
    return False


# Temporary files: a helper that writes only into one it makes (a tar of an artifact
# for a `FileResponse`, removed after sending) changes nothing the app keeps.
_TEMP_MAKERS = frozenset(
    {
        "tempfile.NamedTemporaryFile",
        "tempfile.TemporaryFile",
        "tempfile.SpooledTemporaryFile",
        "tempfile.TemporaryDirectory",
        "tempfile.mkstemp",
        "tempfile.mkdtemp",
    }
)
# Calls that open a file, writing when their mode says so (`"w"`, `"a"`, `"x"`, `"+"`).
_OPENERS = FILE_OPEN_CALLS | frozenset({"tarfile.open", "zipfile.ZipFile", "aiofiles.open"})
# Calls that change the file system at the path given as their argument of this index.
_PATH_CHANGES = {
    "os.open": 0,
    "os.remove": 0,
    "os.unlink": 0,
    "os.rmdir": 0,
    "os.removedirs": 0,
    "os.mkdir": 0,
    "os.makedirs": 0,
    "os.truncate": 0,
    "os.chmod": 0,
    "os.rename": 1,
    "os.replace": 1,
    "os.symlink": 1,
    "os.link": 1,
    "shutil.copy": 1,
    "shutil.copy2": 1,
    "shutil.copyfile": 1,
    "shutil.copytree": 1,
    "shutil.move": 1,
    "shutil.rmtree": 0,
    "shutil.make_archive": 0,
    "shutil.unpack_archive": 1,
}
# Path methods that change the file at their receiver (`rename`/`replace`: at their
# one argument too; `str.replace` takes two).
_PATH_METHOD_CHANGES = frozenset(
    {"write_text", "write_bytes", "touch", "mkdir", "unlink", "rmdir", "rename", "replace"}
)


def _temp_names(project: Project, fn: Function) -> set[str]:
    """The locals of `fn` that hold a temporary file or directory it makes, or a path
    built from one (`archive = os.path.join(tmpdir, "out.tar")`)."""
    bindings: list[tuple[list[str], ast.expr]] = []
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Assign):
            names = [n.id for t in node.targets for n in walk(t) if isinstance(n, ast.Name)]
            bindings.append((names, node.value))
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            if isinstance(node.target, ast.Name):
                bindings.append(([node.target.id], node.value))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    names = [n.id for n in walk(item.optional_vars) if isinstance(n, ast.Name)]
                    bindings.append((names, item.context_expr))
    temps: set[str] = set()
    changed = True
    while changed:
        changed = False
        for names, value in bindings:
            if set(names) <= temps:
                continue
            for node in walk(value):
                if (isinstance(node, ast.Name) and node.id in temps) or (
                    isinstance(node, ast.Call)
                    and project.canonical(project.resolve(fn.module, node.func, fn) or "")
                    in _TEMP_MAKERS
                ):
                    temps.update(names)
                    changed = True
                    break
    return temps


def _mentions_any(exprs: list[ast.expr], names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for e in exprs for n in walk(e))


_MODE = re.compile(r"[rwxabtU+]{1,4}(:\w*)?")


def _opens_for_writing(call: ast.Call, name: str) -> bool:
    """The mode of `open(path, "wb")`, `tarfile.open(fileobj=f, mode="w:gz")` or
    `path.open("w")` asks to write (an unknown mode counts as writing)."""
    mode = keyword(call, "mode")
    if mode is None and name in _OPENERS:
        mode = call.args[1] if len(call.args) > 1 else None
    elif mode is None:  # `path.open("w")`, `store.open(uri, "rb")`
        mode = next((a for a in call.args if _MODE.fullmatch(const_str(a) or "")), None)
    if mode is None:
        return False
    text = const_str(mode)
    return text is None or any(flag in text for flag in "wax+")


def _untemp_file_change(call: ast.Call, name: str, temps: set[str]) -> bool:
    """Does `call` open for writing, or change, a file that is not one of `temps`?"""
    func = call.func
    args = [*call.args, *(kw.value for kw in call.keywords)]
    if name in _OPENERS or (isinstance(func, ast.Attribute) and func.attr == "open"):
        if not _opens_for_writing(call, name):
            return False
        receiver = [func.value] if isinstance(func, ast.Attribute) else []
        return not _mentions_any([*receiver, *args], temps)
    if name in _PATH_CHANGES:
        path = argument(call, _PATH_CHANGES[name], "dst" if _PATH_CHANGES[name] else "path")
        return path is None or not _mentions_any([path], temps)
    if isinstance(func, ast.Attribute) and func.attr in _PATH_METHOD_CHANGES:
        if func.attr in ("rename", "replace") and len(args) != 1:
            return False
        return not _mentions_any([func.value, *args], temps)
    return False


def _writes_only_locals(fn: Function) -> bool:
    """Does `fn` store only into names it binds itself (not into its parameters, which
    belong to the caller, nor into module-level objects)?"""
    for kind, expr in _stores(fn):
        if expr is None:
            return False
        if isinstance(expr, ast.Name) and kind == "store":
            continue
        root = _root_name(expr)
        if root is None or root.id not in fn.local_values or root.id in fn.param_names:
            return False
    return True


def _helper_check(
    cache: FunctionCache[bool],
    check: Callable[[AppModel, Function, int], bool],
    model: AppModel,
    target: str | None,
    depth: int,
) -> bool:
    """`check` of the project function `target`, at most two helpers deep; cached for the
    function a route calls, not for a helper's helper, so a cycle cannot recurse for ever."""
    callee = model.project.function(target)
    if callee is None or depth > 2:
        return False
    if depth:
        return check(model, callee, depth)
    return cache.get(model, callee, lambda: check(model, callee, 0))


_TEMP_BUILDERS: FunctionCache[bool] = FunctionCache()


def _builds_temp_file(model: AppModel, target: str | None, depth: int = 0) -> bool:
    """`create_artifact_archive(artifact)`: a project function named like a write whose
    only writes go to a temporary file or directory it makes (a tar written into a
    `NamedTemporaryFile` for a `FileResponse`): it changes nothing the app keeps."""
    return _helper_check(_TEMP_BUILDERS, _temp_only, model, target, depth)


def _temp_only(model: AppModel, fn: Function, depth: int) -> bool:
    project = model.project
    temps = _temp_names(project, fn)
    if not temps or not _writes_only_locals(fn):
        return False
    for site in model.callgraph.calls_of(fn):
        name = project.canonical(site.target) if site.target else ""
        if name in _TEMP_MAKERS:
            continue
        if _untemp_file_change(site.node, name, temps):
            return False
        if _mutation(project, fn, site.node, site.target):
            if not _builds_temp_file(model, site.target, depth + 1):
                return False
        elif project.function(site.target) is None:
            # `store.delete_object(key)`, `client.create_bucket()`: a write elsewhere.
            words = path_words(last_name(name or dotted(site.node.func) or ""))
            if words and words[0] in _MUTATING_VERBS:
                return False
    return True


# Outside calls that only compute a value from their arguments (builtins, URL and text
# builders, the clock): a helper that makes no other call changes nothing.
_PURE_CALLS = frozenset(
    {
        "str",
        "int",
        "float",
        "bool",
        "len",
        "round",
        "abs",
        "min",
        "max",
        "sorted",
        "list",
        "tuple",
        "dict",
        "repr",
        "format",
        "hasattr",
        "isinstance",
        "urllib.parse.urlencode",
        "urllib.parse.quote",
        "urllib.parse.quote_plus",
        "urllib.parse.unquote",
        "urllib.parse.unquote_plus",
        "urllib.parse.urljoin",
        "urllib.parse.urlparse",
        "urllib.parse.urlunparse",
        "urllib.parse.urlsplit",
        "urllib.parse.urlunsplit",
        "textwrap.dedent",
        "textwrap.indent",
        "html.escape",
        "json.dumps",
        "time.time",
        "time.monotonic",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
    }
)
# Values a local may be bound to that belong to the function alone: a literal string,
# container or comprehension it builds itself.
_LITERAL_VALUES = (
    ast.Dict,
    ast.List,
    ast.Set,
    ast.ListComp,
    ast.DictComp,
    ast.SetComp,
    ast.JoinedStr,
)


def _pure_call(project: Project, target: str | None) -> bool:
    name = project.canonical(target) if target else ""
    return name in _PURE_CALLS or name.startswith("str.")


def _all_bindings(fn: Function) -> dict[str, list[ast.expr | None]]:
    """Every value each local of `fn` is bound to (None for one bound some other way: a
    loop variable, an unpacking, a `with ... as`); `local_values` keeps only the last."""
    out: dict[str, list[ast.expr | None]] = {}
    direct: set[int] = set()
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
                    direct.add(id(target))
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name):
            if node.value is not None:
                out.setdefault(node.target.id, []).append(node.value)
            direct.add(id(node.target))
        elif isinstance(node, ast.AugAssign):
            direct.add(id(node.target))  # `text += "..."`: the same local, grown
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            if id(node) not in direct:
                out.setdefault(node.id, []).append(None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.setdefault(node.name, []).append(None)
    return out


def _own_literal(fn: Function, name: str) -> bool:
    """Is `name` a local that `fn` only ever binds to a literal of its own (a string, a
    container or a comprehension it builds), never to a parameter or a global?"""
    if name in fn.param_names:
        return False
    table = fn.derived.get(_all_bindings)
    if table is None:
        table = fn.derived[_all_bindings] = _all_bindings(fn)
    values = cast(dict[str, list[ast.expr | None]], table).get(name)
    return bool(values) and all(
        isinstance(value, _LITERAL_VALUES)
        or (isinstance(value, ast.Constant) and isinstance(value.value, str))
        for value in values or []
    )


def _on_local_literal(fn: Function, call: ast.Call) -> bool:
    """`params.update(extra)`, `parts.append(x)`, `text.strip()`: a method of a local
    that `fn` binds only to literals of its own (not a parameter, not a global)."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return False
    return _own_literal(fn, func.value.id)


def _own_store(fn: Function, kind: str, expr: ast.expr | None) -> bool:
    """Is a store of `_stores` one into `fn`'s own literals: a local name rebound, or an
    item, attribute or in-place method of a local bound only to literals
    (`params["k"] = v`, `del parts[0]`, `parts.append(x)`; not `links[0].append(x)`)?"""
    if expr is None:
        return False
    if isinstance(expr, ast.Name):
        return kind == "store" or _own_literal(fn, expr.id)
    return (
        kind == "store"
        and isinstance(expr, (ast.Attribute, ast.Subscript))
        and isinstance(expr.value, ast.Name)
        and _own_literal(fn, expr.value.id)
    )


def _writes_only_own_literals(fn: Function) -> bool:
    return all(_own_store(fn, kind, expr) for kind, expr in _stores(fn))


def _text_value(fn: Function, expr: ast.expr, depth: int = 0) -> bool:
    """A string the function builds: an f-string, a literal, a concatenation or `%`
    format, a call (judged with the other calls), or a local bound to one."""
    if isinstance(expr, (ast.JoinedStr, ast.Call)):
        return True
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, str)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Mod)):
        return _text_value(fn, expr.left, depth + 1)
    if isinstance(expr, ast.Name) and depth < _MAX_FOLLOW and expr.id not in fn.param_names:
        bound = fn.local_values.get(expr.id)
        return bound is not None and _text_value(fn, bound, depth + 1)
    return False


_TEXT_BUILDERS: FunctionCache[bool] = FunctionCache()


def _builds_text(model: AppModel, target: str | None, depth: int = 0) -> bool:
    """`create_image_link(user_name, ...)`: a project function named like a write that
    only builds a string from its arguments (a CDN URL with `urlencode`, an HTML page):
    it returns text, stores only into its own locals, and calls nothing but pure
    builders (`_PURE_CALLS`, methods of its own literals, other such functions)."""
    return _helper_check(_TEXT_BUILDERS, _text_only, model, target, depth)


def _text_only(model: AppModel, fn: Function, depth: int) -> bool:
    values = returned_values(fn)
    if not values or not all(_text_value(fn, v) for v in values):
        return False
    if not _writes_only_own_literals(fn):
        return False
    return all(
        _pure_call(model.project, site.target)
        or _on_local_literal(fn, site.node)
        or _builds_text(model, site.target, depth + 1)
        for site in model.callgraph.calls_of(fn)
    )


def _pure_helper(model: AppModel, fn: Function, depth: int) -> bool:
    """A project function that stores only into its own literals and calls only pure
    builders, methods of its own literals and other such functions (followed two steps):
    `log_telemetry(api, properties)` building a dict to record."""
    if depth > 2 or not _writes_only_own_literals(fn):
        return False
    for site in model.callgraph.calls_of(fn):
        if _pure_call(model.project, site.target) or _on_local_literal(fn, site.node):
            continue
        callee = model.project.function(site.target)
        if callee is None or not _pure_helper(model, callee, depth + 1):
            return False
    return True


# In-memory usage records: a helper whose only effect is adding to a module-level list
# named for them (`telemetry`, `metrics`, `analytics`) records how the API is used,
# which a safe method may do; the API serves nothing from it.
_TELEMETRY_WORDS = frozenset({"telemetry", "metrics", "analytics"})
_LIST_GROWERS = frozenset({"append", "extend", "appendleft", "insert"})
_LIST_MAKERS = frozenset({"list", "collections.deque"})


def _telemetry_list(model: AppModel, fn: Function, expr: ast.expr) -> bool:
    """Is `expr` a module-level list (or deque) of the project named for telemetry:
    `telemetry` assigned `[]` in this module, `state.telemetry` in another, that the API
    does not serve (`_served_telemetry`)?"""
    project = model.project
    qualname = project.resolve(fn.module, expr, fn)
    found = project.module_value(qualname)
    if qualname is None or found is None:
        return False
    if not set(path_words(last_name(qualname))) & _TELEMETRY_WORDS:
        return False
    if qualname in project_index(model, _served_telemetry):
        return False  # `GET /metrics` answers with it: the records are the API's data
    module, value = found
    if isinstance(value, ast.List):
        return True
    if not isinstance(value, ast.Call):
        return False
    maker = project.resolve(module, value.func, None)
    return maker is not None and project.canonical(maker) in _LIST_MAKERS


def _growth_receiver(node: ast.AST) -> ast.expr | None:
    """The list that `x.append(record)` or `x += [record]` grows."""
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
        return node.target
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _LIST_GROWERS
    ):
        return node.func.value
    return None


def _telemetry_growth(model: AppModel, fn: Function, node: ast.AST) -> bool:
    """`telemetry.append(record)`, `state.telemetry += [record]`."""
    receiver = _growth_receiver(node)
    return receiver is not None and _telemetry_list(model, fn, receiver)


def _served_telemetry(model: AppModel) -> set[str]:
    """Module-level objects named for telemetry that the API may serve: one a function
    returns or yields (`return metrics`, `return {"items": metrics[-10:]}`), a lambda
    gives, or a route handler reads other than by growing it. A job that uploads the
    records elsewhere (`for log in state.telemetry`) serves nothing."""
    project = model.project
    served: set[str] = set()

    def mentions(
        module: Module, scope: Function | None, exprs: list[ast.AST], skip: set[int]
    ) -> None:
        for expr in exprs:
            for node in walk(expr):
                if id(node) in skip or not isinstance(node, (ast.Name, ast.Attribute)):
                    continue
                word = node.id if isinstance(node, ast.Name) else node.attr
                if set(path_words(word)) & _TELEMETRY_WORDS:
                    qualname = project.resolve(module, node, scope)
                    if qualname is not None:
                        served.add(qualname)

    for module in project.module_list:
        values: list[ast.AST] = [node.body for node in nodes_of(model, module, ast.Lambda)]
        values += [n.value for n in nodes_of(model, module, ast.Return) if n.value is not None]
        values += [n.value for n in nodes_of(model, module, ast.Yield) if n.value is not None]
        values += [n.value for n in nodes_of(model, module, ast.YieldFrom)]
        mentions(module, None, values, set())
    for route in model.routes:
        handler = route.handler
        grown = {id(r) for n in body_nodes(handler.node) if (r := _growth_receiver(n)) is not None}
        mentions(handler.module, handler, list(handler.node.body), grown)
    return served


_TELEMETRY_RECORDERS: FunctionCache[bool] = FunctionCache()


def _records_telemetry(model: AppModel, target: str | None, depth: int = 0) -> bool:
    """`update_telemetry_state(request, api=...)`: a project function named like a
    write whose only effect is adding records to an in-memory telemetry list."""
    return _helper_check(_TELEMETRY_RECORDERS, _telemetry_only, model, target, depth)


def _telemetry_only(model: AppModel, fn: Function, depth: int) -> bool:
    """Every write of `fn` grows a telemetry list or goes into its own literals, and
    every call is a pure builder, a method of its own literal, or a project function
    that is itself a pure helper (`_pure_helper`), a text builder or a telemetry-only
    helper (followed two steps)."""
    project = model.project
    recorded = False
    for node in body_nodes(fn.node):
        if _telemetry_growth(model, fn, node):
            recorded = True
            continue
        if not all(_own_store(fn, kind, expr) for kind, expr in _node_stores(node)):
            return False
    if not recorded:
        return False
    for site in model.callgraph.calls_of(fn):
        if _telemetry_growth(model, fn, site.node):
            continue
        if _pure_call(project, site.target) or _on_local_literal(fn, site.node):
            continue
        callee = project.function(site.target)
        if callee is None:
            return False  # outside code: a session, a file, a client, a cache
        if not (
            _pure_helper(model, callee, depth + 1)
            or _builds_text(model, site.target, depth + 1)
            or _records_telemetry(model, site.target, depth + 1)
        ):
            return False  # `_flush(db)`: a helper that commits, whatever its name
    return True


@rule(
    code="FAA710",
    name="get-route-mutates-state",
    summary="A GET or HEAD path operation writes: it commits, adds or deletes, or calls a "
    "create/update/delete function",
    severity="warning",
    scope="route",
    fix_title="Move the change to a POST, PUT, PATCH or DELETE operation",
    references=(
        "https://www.rfc-editor.org/rfc/rfc9110#name-safe-methods",
        "https://fastapi.tiangolo.com/tutorial/first-steps/#operation",
    ),
)
def get_route_mutates_state(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds GET and HEAD path operations whose handler changes state: it calls
    `session.add()`, `add_all()`, `delete()`, `merge()` or `commit()` on a database
    session, executes an SQL `insert`/`update`/`delete` statement, or calls a project
    function or method named `create*`, `update*`, `delete*`, `remove*`, `insert*`,
    `upsert*` or `save*`.

    ## Why is this bad?
    GET and HEAD are *safe* methods (RFC 9110): clients, crawlers, link previews,
    browsers' prefetching and caches call them freely and repeat them. A GET that
    writes is triggered by a bot or a preview, changes data twice on a retry, and
    cannot be protected by CSRF defences, which only cover unsafe methods.

    ## Known problems
    Only the handler's own calls are read (not the services it calls, nor dependencies,
    where a session dependency's `commit()` is normal). Routes that must write on GET by
    protocol are skipped by a word in the handler name or path: OAuth/SSO `callback`,
    `authorize`, `login`/`logout`, and e-mail links (`verify`, `confirm`, `activate`,
    `unsubscribe`, `magic`, `invite`). Helpers that make a token, a session or a URL
    (`create_access_token`, `create_presigned_url`) are not counted as writes, nor is
    `config = update_root(config, root)` on a local of the handler (not a parameter or a
    global) when the plain function called stores only into its own parameters and
    locals (no `global`, no module-level store or in-place update, no session or
    create/update/delete call of its own): it rewrites a copy made for the request.
    Nor is a create/update/delete function whose only writes go to a temporary file or
    directory it makes (`tempfile.NamedTemporaryFile`, `mkstemp`, `mkdtemp`,
    `TemporaryDirectory`), such as a tar of an artifact built for a `FileResponse`: it
    stores only into its own locals, opens for writing, moves or copies only into the
    temporary path (or paths built from it), and calls no session write, no
    create/update/delete helper of its own that does more, and no outside
    `delete_*`/`create_*` method.
    Nor is a create/update/delete function that only builds text from its arguments
    (`create_image_link(user_name)` returning a CDN URL made with `urlencode`, an HTML
    page made with `textwrap.dedent`): every `return` is a string (an f-string, a
    literal, a concatenation, a call, or a local bound to one), it stores (assigns,
    `del`s, calls `append`/`update`...) only into locals that every one of its
    bindings makes a literal of its own (`links = SHARED if shared else []` is not
    one), and it calls nothing but builtins, `urllib.parse`/`textwrap`/`html`/
    `json.dumps` builders, methods of such literals and other such functions. Nor is
    one whose only effect is recording usage in memory
    (`update_telemetry_state(request, api=...)`): it adds to a module-level list or
    deque named `telemetry`, `metrics` or `analytics` (`append`, `extend`, `+=`) that
    the API does not serve (no function returns or yields it, no lambda gives it, no
    route handler reads it other than by growing it; a job that uploads it elsewhere
    is fine), stores nothing else but such literals of its own, and calls only pure
    builders and project functions that are themselves pure (followed two steps:
    `log_telemetry(...)` building a dict), text builders or such recorders (an outside
    call, such as a session, a file or an HTTP client, or a project helper that
    commits, whatever its name, makes it a write); a list with another name may be one
    the API serves (`ITEMS.append(item)`), and stays a write. A recorder whose record
    builder reads the platform, the package version or a server id kept in a file it
    may create (khoj's `log_telemetry` via `get_server_id()`) is not seen as pure and
    stays reported; a helper that copies the list into another container a route then
    returns is not seen as serving it.

    ## Example
    ```python
    @router.get("/articles/{article_id}")
    def read_article(article_id: int, db: SessionDep) -> ArticleOut:
        article = db.get(Article, article_id)
        article.views += 1
        db.commit()
        return article
    ```

    ## Use instead
    ```python
    @router.get("/articles/{article_id}")
    def read_article(article_id: int, db: SessionDep) -> ArticleOut:
        return db.get(Article, article_id)


    @router.post("/articles/{article_id}/views", status_code=status.HTTP_204_NO_CONTENT)
    def count_view(article_id: int, db: SessionDep) -> None:
        articles_service.count_view(db, article_id)
    ```

    ## Fix safety
    No automatic fix: changing the method changes the API contract.
    """
    if route.kind != "http" or not route.methods or not set(route.methods) <= _SAFE_METHODS:
        return
    if _is_link_route(route):
        return
    fn = route.handler
    for site in ctx.model.callgraph.calls_of(fn):
        what = _mutation(ctx.project, fn, site.node, site.target)
        if (
            what
            and not _rebinds_local_copy(ctx.model, fn, site.node, site.target)
            and not _builds_temp_file(ctx.model, site.target)
            and not _builds_text(ctx.model, site.target)
            and not _records_telemetry(ctx.model, site.target)
        ):
            yield Report(
                route.node,
                f"`{fn.name}` ({route_label(route)}) changes state: it calls {what}",
            )
            return


# ------------------------------------------------------------------ FAA707


def _literal_methods(expr: ast.expr | None) -> list[str] | None:
    if not isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return None
    out: list[str] = []
    for element in expr.elts:
        text = const_str(element)
        if text is None:
            return None
        out.append(text.upper())
    return list(dict.fromkeys(out))


@rule(
    code="FAA707",
    name="flask-style-route",
    summary="A route is registered Flask-style, with `route()` or a single-method `api_route()`",
    severity="info",
    scope="route",
    fix_title="Use the method decorator (`@router.get(...)`, `@router.post(...)`)",
    references=(
        "https://fastapi.tiangolo.com/tutorial/first-steps/#define-a-path-operation-decorator",
    ),
)
def flask_style_route(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds routes registered with `@app.route(...)` (Starlette's low-level decorator,
    familiar from Flask) or with `@router.api_route(...)` for a single method, where the
    method decorator (`@router.get`, `@router.post`...) says the same thing.

    ## Why is this bad?
    `app.route()` is Starlette's: the handler gets the raw `Request`, with no parameter
    parsing, no validation, no dependency injection and no `response_model`, and the
    operation is missing from the OpenAPI document. `api_route(methods=["POST"])` works,
    but hides the method in a keyword and reads as ported Flask code; the method
    decorators are what FastAPI users expect to search for.

    ## Known problems
    `api_route()` for several methods (`methods=["GET", "HEAD"]`) is the right tool and
    is not reported, nor is `add_api_route()` (programmatic registration), nor an
    `api_route()` whose `methods=` is not a literal list.

    ## Example
    ```python
    @app.route("/items", methods=["GET"])
    async def list_items(request: Request) -> JSONResponse: ...


    @router.api_route("/items", methods=["POST"])
    def create_item(item: ItemIn) -> ItemOut: ...
    ```

    ## Use instead
    ```python
    @app.get("/items")
    async def list_items() -> list[ItemOut]: ...


    @router.post("/items", status_code=status.HTTP_201_CREATED)
    def create_item(item: ItemIn) -> ItemOut: ...
    ```

    ## Fix safety
    No automatic fix: moving from `route()` to a method decorator changes how the
    handler's parameters are read.
    """
    node = route.node
    if route.kind != "http" or not isinstance(node, ast.Call):
        return
    if not isinstance(node.func, ast.Attribute) or has_keyword_splat(route):
        return
    kind = node.func.attr
    if kind == "route":
        yield Report(
            node,
            f"`{route.handler.name}` is registered with Starlette's `.route()`: no "
            "validation, no dependencies, not in the OpenAPI document",
        )
        return
    if kind != "api_route":
        return
    listed = keyword(node, "methods")
    methods = ["GET"] if listed is None else _literal_methods(listed)  # GET: the default
    if methods is None or len(methods) != 1:
        return
    yield Report(
        node,
        f"`{route.handler.name}` uses `.api_route()` for {methods[0]} only: use "
        f"`.{methods[0].lower()}()`",
    )


# ------------------------------------------------------------------ FAA711

_PATH_VERBS = frozenset(
    {
        "get",
        "fetch",
        "retrieve",
        "list",
        "create",
        "add",
        "insert",
        "update",
        "edit",
        "modify",
        "delete",
        "remove",
        "destroy",
    }
)
# Nouns that start with a verb: `/add-ons`, `/update-logs` are resources.
_NOUN_TAILS = frozenset({"on", "ons", "in", "ins", "log", "logs", "history", "able"})
_CAMEL = re.compile(r"[a-z0-9][A-Z]")
_SEGMENT_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _literal_segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s and "{" not in s and "}" not in s]


def _named_segments(path: str) -> list[str]:
    """The literal segments the project names: not `/.well-known/` and the name
    registered after it (`openid-configuration`, RFC 8615), which a protocol fixes."""
    out: list[str] = []
    after_well_known = False
    for segment in path.split("/"):
        if segment == ".well-known":
            after_well_known = True
            continue
        if after_well_known:
            after_well_known = False
            continue
        if segment and "{" not in segment and "}" not in segment:
            out.append(segment)
    return out


def _case_style(segment: str) -> str:
    """kebab-case, snake_case, camelCase, or "" for a one-word segment."""
    if "-" in segment and "_" not in segment:
        return "kebab-case"
    if "_" in segment and "-" not in segment:
        return "snake_case"
    if _CAMEL.search(segment) and "-" not in segment and "_" not in segment:
        return "camelCase"
    return ""


def _segment_verb(segment: str) -> str:
    words = [w.lower() for w in _SEGMENT_WORDS.findall(segment)]
    if not words or words[0] not in _PATH_VERBS:
        return ""
    if len(words) == 1:
        return "" if words[0] == "list" else words[0]
    return "" if words[1] in _NOUN_TAILS else words[0]


# The key under which routers that no known app serves vote together (agno builds each
# router in a factory and includes them in a loop the model does not follow): they are
# the parts of the app built nearest to them, and a router alone is no sample of its
# conventions.
_UNMOUNTED = "<routers of no known app in {}>"


def _app_packages(model: AppModel) -> tuple[str, ...]:
    """The packages of the modules that build an app, deepest first: a bound app, or a
    `FastAPI(...)` call anywhere (`self.app = FastAPI()` in a server class)."""
    project = model.project
    found = [r.module for r in model.routers.values() if r.kind == "app"]
    for key, sites in model.callgraph.calls.items():
        if any(site.target in APP_CLASSES for site in sites):
            owner = project.functions.get(key) or project.class_(key)
            module = owner.module if owner is not None else project.modules.get(key)
            if module is not None:
                found.append(module)
    # Not an app a test or a conftest builds for itself.
    packages = {m.name.rpartition(".")[0] for m in found if not is_test_module(m)}
    return tuple(sorted(packages, key=lambda p: (-p.count("."), -len(p), p)))


def _unmounted(route: Route, app_packages: tuple[str, ...]) -> str:
    """The pool of a router no known app serves: the deepest package around it that
    builds an app (two services of one repository keep apart), the whole project when
    only its root builds one, else its top-level package (services built by a shared
    factory), else the whole project."""
    name = route.module.name
    package = next(
        (
            p
            for p in app_packages
            if (not p and app_packages == ("",)) or (p and (name == p or name.startswith(p + ".")))
        ),
        name.split(".", 1)[0] if "." in name else "",
    )
    return _UNMOUNTED.format(package)


def _served_paths(route: Route, app_packages: tuple[str, ...]) -> list[tuple[str, str]]:
    """(app key, full path) for each place the route is served. The key is the
    innermost app on the way: a sub-application mounted under another (airflow's
    kebab-case execution API in its camelCase core API) keeps its own conventions."""
    if not route.mounts:
        if route.router.kind == "app":
            return [(route.router.key, route.router.prefix + route.path)]
        return [(_unmounted(route, app_packages), route.router.prefix + route.path)]
    return [
        (
            next(
                (r.key for r in reversed(m.chain) if r.kind == "app"),
                _unmounted(route, app_packages),
            ),
            m.path,
        )
        for m in route.mounts
    ]


# Paths an outside protocol fixes, which clients call as they are: the OpenAI-compatible
# API (`POST /v1/chat/completions`), whatever slash style the rest of the app has.
_PROTOCOL_PATH = re.compile(
    r"/v1/(?:chat/completions|completions|embeddings|responses|moderations"
    r"|images/generations|audio/(?:speech|transcriptions|translations))/?$"
)


# ... and its model list, when the app serves that API (else `/models` is its own).
_MODELS_PATH = re.compile(r"/v1/models/?$")


def _slash_kind(route: Route, openai_app: bool = False) -> str:
    """Whether the route's own path ends with `/` ("with"/"without"), for paths that end
    with a literal segment. `@router.get("/")` (the router's root, `/items/` once
    prefixed, FastAPI's documented idiom), `/items/{item_id}` and the paths of the
    OpenAI-compatible API (`/v1/models` in an app that serves it) are not counted."""
    path = route.path
    if not path.strip("/") or path.rstrip("/").endswith("}"):
        return ""
    paths = (path, *route.full_paths)
    if any(_PROTOCOL_PATH.search(p) or (openai_app and _MODELS_PATH.search(p)) for p in paths):
        return ""
    return "with" if path.endswith("/") else "without"


def _slash_twins(routes: list[Route]) -> set[int]:
    """Routes registered at both `/x` and `/x/` on one handler, method and router: the
    standard way to answer both forms without FastAPI's `307` redirect."""
    seen: dict[tuple[int, int, str, str], list[Route]] = {}
    for route in routes:
        for method in route.methods:
            key = (id(route.handler), id(route.router), method, route.path.rstrip("/"))
            seen.setdefault(key, []).append(route)
    out: set[int] = set()
    for group in seen.values():
        if {r.path.endswith("/") for r in group} == {True, False}:
            out.update(id(r) for r in group)
    return out


_ID_WORDS = frozenset({"id", "ids", "name", "key", "slug", "uuid", "pk"})
# `/groups/id/{id}/users`: a "by id" lookup qualifier before the key, not a collection
# named `id` (a route's `/ids` does not make it a singular of that collection).
_LOOKUP_QUALIFIERS = frozenset({"id", "uuid", "pk"})


def _names_other_resource(segment: str, param: str, resources: set[str]) -> bool:
    """`/run/{api_name}`: the parameter after the segment identifies another resource
    (`api`), so the segment is a verb or a namespace, not a singular collection name.
    A one-word key (`{username}`) counts when the word before the key's name is a
    resource the app names in its paths (`user`, `users`; not `host` of `{hostname}`)."""
    words = path_words(param.strip("{}").split(":", 1)[0])
    if len(words) == 1:
        words = next(
            (
                [words[0][: -len(key)], key]
                for key in _ID_WORDS_LONGEST_FIRST
                if words[0].endswith(key)
                and len(words[0]) > len(key)
                and words[0][: -len(key)] in resources
            ),
            words,
        )
    if len(words) < 2 or words[-1] not in _ID_WORDS:
        return False
    return words[:-1] != path_words(segment)


# `{useruuid}` ends with `id` too: the longer key name is the one meant.
_ID_WORDS_LONGEST_FIRST = sorted(_ID_WORDS, key=lambda word: (-len(word), word))


def _in_schema(model: AppModel, route: Route) -> bool:
    """Whether the route is in the app's OpenAPI schema (its public contract)."""
    return not _hidden(route) and route.router.include_in_schema and not _left_out(model, route)


def _majority(counts: dict[str, int], ratio: int = 1) -> str | None:
    """The style most votes go to, when there is a clear one: more votes than the
    runner-up, and at least `ratio` times as many."""
    if len(counts) < 2:
        return None
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    (style, top), (_other, second) = ranked[0], ranked[1]
    return style if top > second and top >= ratio * second else None


# A case style is the app's convention when its distinct segments outnumber the next
# style's at least two to one: 11 against 10 is a mixed app, not one with strays.
_CASE_RATIO = 2
# An app names actions by design (an RPC-style API, `POST /runs/delete`) when at least
# half of its routes do, or a third when most of its routes have the shape of an RPC call,
# and at least this many: then it is told once, not per route.
_RPC_MIN_ROUTES = 5
# Commands an RPC-style API names in its paths besides CRUD (skypilot's `POST /launch`,
# `/stop`, `/down`): they vote for the app's convention, never reported themselves.
_COMMAND_VERBS = frozenset(
    {
        "launch",
        "exec",
        "execute",
        "run",
        "rerun",
        "start",
        "restart",
        "stop",
        "up",
        "down",
        "cancel",
        "abort",
        "terminate",
        "kill",
        "pause",
        "resume",
        "retry",
        "apply",
        "validate",
        "verify",
        "check",
        "upload",
        "download",
        "import",
        "export",
        "rotate",
        "refresh",
        "sync",
        "reset",
        "revoke",
        "approve",
        "reject",
        "archive",
        "unarchive",
        "publish",
        "unpublish",
        "deploy",
        "undeploy",
        "trigger",
        "submit",
        "send",
        "clear",
        "clone",
        "copy",
        "duplicate",
        "move",
        "rename",
        "merge",
        "pin",
        "unpin",
        "optimize",
        "wait",
        "install",
        "uninstall",
        "enable",
        "disable",
        "activate",
        "deactivate",
        "authorize",
        "schedule",
        "dump",
    }
)
_ACTION_VERBS = _PATH_VERBS | _COMMAND_VERBS


@dataclass
class _AppPaths:
    """What one app's routes show of its paths, for deciding which conventions can be
    judged: a vote taken over a minority of the routes (the rest built from constants
    imported from outside the reviewed folder, `{?}`) says nothing about the app."""

    routes: int = 0
    unresolved: int = 0  # paths with an unknown part under the app (`{?}/current-user`)
    own_unresolved: int = 0  # routes whose own path is unknown (`@router.get(USERS)`)
    actions: int = 0  # routes whose path names an action (`/runs/delete`, `/launch`)
    calls: int = 0  # POSTs to a path without parameters: the arguments are in the body

    def hidden(self, count: int) -> bool:
        """Whether most of the app's routes are hidden from a vote: more than half."""
        return 2 * count > self.routes

    @property
    def rpc(self) -> bool:
        """Whether the app names actions by design: in half of its routes, or in a third
        when most of them are POSTs with no path parameter, an RPC API's shape (REST
        names each resource in the path, and a POST creates in a collection)."""
        if self.actions < _RPC_MIN_ROUTES:
            return False
        return 2 * self.actions >= self.routes or (
            3 * self.actions >= self.routes and 2 * self.calls > self.routes
        )


def _path_verb(path: str) -> tuple[str, str] | None:
    """The first literal segment of a route's own path that names an action, and the verb."""
    for segment in _literal_segments(path):
        verb = _segment_verb(segment)
        if verb:
            return segment, verb
    return None


def _path_in_app(route: Route, mount: Mount | None) -> str:
    """The part of a served path that the app it is served in adds: the prefixes of the
    routers and includes under that app, and the route's own path. A prefix the app is
    mounted under (prefect's API base path from the settings) names no resource."""
    if mount is None:
        return ("" if route.listed else route.router.prefix) + route.path
    chain = mount.chain
    start = max((i for i, r in enumerate(chain) if r.kind == "app"), default=0)
    parts = [chain[start].prefix]
    for parent, child in zip(chain[start:], chain[start + 1 :], strict=False):
        prefixes = [i.prefix for i in parent.includes if i.child is child]
        parts.append(next((p for p in prefixes if DYNAMIC in p), prefixes[0] if prefixes else ""))
        parts.append(child.prefix)
    if route.listed and chain[-1].prefix:
        parts.pop()  # a route given to its router's constructor gets no prefix from it
    return "".join(parts) + route.path


def _names_command(path: str) -> bool:
    """Whether the path ends with a segment naming a command (`/launch`, `/pool_apply`,
    `/runs/delete`) called on a fixed path. After a parameter (`/jobs/{job_id}/start`)
    it is a custom method of the resource the path names, which is REST's way."""
    parts = [p for p in path.split("/") if p]
    if not parts or "{" in parts[-1]:
        return False
    if len(parts) > 1 and "{" in parts[-2] and DYNAMIC not in parts[-2]:
        return False
    words = [w.lower() for w in _SEGMENT_WORDS.findall(parts[-1])]
    return bool(words) and (words[0] in _ACTION_VERBS or words[-1] in _ACTION_VERBS)


def _has_parameter(path: str) -> bool:
    """Whether the path has a path parameter (an unknown prefix `{?}` is not one)."""
    return "{" in path.replace(DYNAMIC, "")


def _app_paths(routes: list[Route], app_packages: tuple[str, ...]) -> dict[str, _AppPaths]:
    out: dict[str, _AppPaths] = {}
    for route in routes:
        mounts: list[Mount | None] = [*route.mounts] or [None]
        for (root, _path), mount in zip(_served_paths(route, app_packages), mounts, strict=True):
            app = out.setdefault(root, _AppPaths())
            in_app = _path_in_app(route, mount)
            app.routes += 1
            app.unresolved += DYNAMIC in in_app
            app.own_unresolved += DYNAMIC in route.path
            app.actions += DYNAMIC not in route.path and (
                _path_verb(route.path) is not None or _names_command(in_app)
            )
            app.calls += route.methods == ("POST",) and not _has_parameter(in_app)
    return out


@rule(
    code="FAA711",
    name="non-restful-path",
    summary="A path names an action (`/getUser`, `/create-item`), or the app mixes case "
    "styles, singular and plural collections, or trailing slashes",
    severity="info",
    scope="project",
    fix_title="Name resources with plural nouns and let the HTTP method say the action",
    references=(
        "https://learn.microsoft.com/en-us/azure/architecture/best-practices/api-design",
        "https://google.aip.dev/122",
    ),
)
def non_restful_path(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operations whose own path names a CRUD action (`/getUser`,
    `/create-item`, `/items/{item_id}/delete`), and, across each app, paths that break
    the app's own conventions: a segment in another case style than most of the app's
    multi-word segments (`/orderItems` in a kebab-case API), a singular collection name
    where the app uses the plural (`/user/{user_id}` next to `/users`), and a trailing
    slash where most routes have none (or the reverse).

    ## Why is this bad?
    In a REST API the method is the verb and the path names the resource:
    `GET /users/{id}`, `DELETE /items/{id}`. Verbs in paths multiply endpoints, hide
    the method's semantics from caches and clients, and make the API hard to guess.
    Mixed conventions make every client call a lookup in the docs, and with FastAPI a
    trailing-slash mismatch costs a `307` redirect on each call (and breaks clients that
    do not follow redirects on POST).

    ## Known problems
    Actions that are not CRUD (`/login`, `/search`, `/items/{id}/publish`) are fine and
    not reported. A singleton resource next to a collection (`/user` for the current
    user, `/users/{username}` for others, as in GitHub's API) is not reported: a
    singular counts only when a path parameter follows it. Conventions are counted per
    app (routers no known app serves, such as factory-built routers included in a loop,
    count with the others of the package that builds an app), and only a clear majority
    is enforced: for case styles, each distinct segment
    votes once (a name repeated on many routes is one vote, router and app prefixes
    vote too) and a style must have at least twice the distinct segments of the next
    one; for trailing slashes, routes vote and a tie reports nothing. A handler
    registered at both `/x` and `/x/` (to answer both without a redirect) is not reported
    for its trailing slash, and such twins do not vote for the app's slash style; a
    problem repeated on several registrations of one handler is reported once. A
    singular segment followed by a parameter naming another resource (`/run/{api_name}`,
    `/wallet/{username}`)
    is not a collection name, and neither is a "by id" qualifier (`/groups/id/{id}`).
    Case styles are compared separately for routes kept out of
    the schema (`include_in_schema=False`, such as a private UI API, or paths a custom
    `app.openapi` leaves out of the document, as FAA704 reads it), which may follow
    their own convention. The paths of the OpenAI-compatible API (`/v1/chat/completions`,
    `/v1/embeddings`, `/v1/completions`...) are called as that API spells them: they do not
    vote for the app's slash style and are not reported for it. `/.well-known/` and the
    name registered after it
    (`openid-configuration`, RFC 8615) are fixed by a protocol: they neither vote nor
    are reported. An app where more than half of the routes have a part that
    cannot be known statically in the path the app gives them (a router prefix or a
    path imported from a package outside the reviewed folder; a base path the whole app
    is mounted under does not count) is not held to a case style: the few spelled-out
    segments are no sample of its names; likewise for trailing slashes when more than
    half of the routes' own paths cannot be known. A singular collection name is still
    reported, since the plural it is compared with is spelled out in the app. An app
    whose routes name an action in at least half of them (and at least five) follows an
    RPC-style convention on purpose (`POST /runs/delete`, `/runs/list`): it is
    reported once, on its first such route, with the count, instead of on each. For
    this count a route names an action when its path has a CRUD verb, or ends with a
    command (`/launch`, `/stop`, `/pool_apply`) called on a fixed path; a command after
    a path parameter (`/jobs/{job_id}/start`) is a custom method of a resource, REST's
    way, and does not count. A third of the routes is enough when most of them are POSTs
    with no path parameter (the arguments in the body, as in skypilot's
    `POST /launch`, `/status`, `/logs`), the shape of an RPC API rather than of a REST
    one, which names its resources in the path.
    Test modules are skipped.

    ## Example
    ```python
    @router.post("/createBook")
    def create_book(payload: BookIn) -> BookOut: ...


    @router.get("/book/{book_id}")
    def read_book(book_id: int) -> BookOut: ...


    @router.get("/books")
    def list_books() -> list[BookOut]: ...
    ```

    ## Use instead
    ```python
    @router.post("/books", status_code=status.HTTP_201_CREATED)
    def create_book(payload: BookIn) -> BookOut: ...


    @router.get("/books/{book_id}")
    def read_book(book_id: int) -> BookOut: ...
    ```

    ## Fix safety
    No automatic fix: a path is part of the API contract.
    """
    served = [r for r in ctx.model.routes if r.kind == "http" and not is_test_module(r.module)]
    packages = _app_packages(ctx.model)
    apps = _app_paths(served, packages)
    routes = [r for r in served if DYNAMIC not in r.path]
    twins = _slash_twins(routes)
    served_at = {id(route): _served_paths(route, packages) for route in routes}
    # Apps that serve the OpenAI-compatible API: their `/v1/models` is that API's too.
    openai_apps = {
        root for paths in served_at.values() for root, path in paths if _PROTOCOL_PATH.search(path)
    }
    # Case styles vote per app and per audience: a private API kept out of the schema
    # (`APIRouter(prefix="/ui", include_in_schema=False)`) may follow its own convention.
    # Each distinct segment votes once, prefixes included: `run-history` on four routes
    # is one kebab-case name, and the `api_v1` prefix on every route is one snake_case one.
    styles: dict[tuple[str, bool], dict[str, set[str]]] = {}
    slashes: dict[str, dict[str, int]] = {}
    plural_segments: dict[str, set[str]] = {}
    # The resources each app names in its paths, singular and plural (`users` → `user`).
    resources: dict[str, set[str]] = {}
    in_schema_of = {id(route): _in_schema(ctx.model, route) for route in routes}
    for route in routes:
        for root, path in served_at[id(route)]:
            for segment in _named_segments(path):
                style = _case_style(segment)
                if style:
                    voters = styles.setdefault((root, in_schema_of[id(route)]), {})
                    voters.setdefault(style, set()).add(segment)
            kind = "" if id(route) in twins else _slash_kind(route, root in openai_apps)
            if kind:
                counts = slashes.setdefault(root, {})
                counts[kind] = counts.get(kind, 0) + 1
            plural_segments.setdefault(root, set()).update(
                s.lower() for s in _literal_segments(path) if s.lower().endswith("s")
            )
            for segment in _literal_segments(path):
                lower = segment.lower()
                resources.setdefault(root, set()).update((lower, lower.removesuffix("s")))
    reported: dict[int, set[str]] = {}  # handler -> problems already reported
    told_rpc: set[str] = set()  # apps whose RPC-style paths were reported
    for route in sorted(routes, key=site_order):
        problems: list[str] = []
        root = served_at[id(route)][0][0]
        app = apps[root]
        action = _path_verb(route.path)
        if action and not app.rpc:
            problems.append(f"`{action[0]}` names an action (`{action[1]}`)")
        elif action and root not in told_rpc:
            told_rpc.add(root)
            problems.append(
                f"`{action[0]}` names an action (`{action[1]}`); the app names actions in "
                f"{app.actions} of its {app.routes} routes, an RPC-style API (reported "
                "once for the app)"
            )
        in_schema = in_schema_of[id(route)]
        voters = styles.get((root, in_schema), {})
        usual = _majority({k: len(v) for k, v in voters.items()}, _CASE_RATIO)
        if app.hidden(app.unresolved):
            usual = None  # most paths are unknown: the visible few are no vote
        whose = "the app uses" if in_schema else "the app's routes outside the schema use"
        for segment in _named_segments(route.path):
            style = _case_style(segment)
            if usual and style and style != usual:
                problems.append(f"`{segment}` is {style} where {whose} {usual}")
                break
        usual_slash = None if app.hidden(app.own_unresolved) else _majority(slashes.get(root, {}))
        kind = "" if id(route) in twins else _slash_kind(route, root in openai_apps)
        if usual_slash and kind and kind != usual_slash:
            problems.append(
                "it ends with `/` where the app's paths do not"
                if kind == "with"
                else "it has no trailing `/` where the app's paths do"
            )
        parts = [s for s in route.path.split("/") if s]
        for index, segment in enumerate(parts[:-1]):
            follows_param = parts[index + 1].startswith("{")
            lower = segment.lower()
            if (
                follows_param
                and "{" not in segment
                and lower not in _LOOKUP_QUALIFIERS
                and not lower.endswith("s")
                and f"{lower}s" in plural_segments.get(root, set())
                and not _names_other_resource(segment, parts[index + 1], resources.get(root, set()))
            ):
                problems.append(f"`{segment}` is singular where the app uses `{segment}s`")
                break
        # The same handler at several paths (`/x` and `/x/`): each problem once.
        seen = reported.setdefault(id(route.handler), set())
        problems = [p for p in problems if p not in seen]
        seen.update(problems)
        if problems:
            yield Report(
                route.node,
                f"`{route.handler.name}` ({route_label(route)}): {'; '.join(problems)}",
                module=route.module,
            )
