"""FAA5xx: layering. Which layer a module belongs to (routes, services, repositories,
models, schemas: by module path, and by role for modules that register routes), and the
rules that keep HTTP in the transport layer: import direction, HTTP exceptions and
request objects in services, fat handlers, module-level state, scattered environment
reads and dependencies called by hand.

Layer detection is conservative on purpose: a module belongs to a layer only when its
path says so (`app/services/...`, `service.py`, `*_repository.py`, `crud.py`, ...) or
when it registers routes (a `models` module of data-access functions is a repository);
a router-layer module must import `fastapi` or `starlette` (a client library's `api/`
package is not HTTP code); test modules and Alembic revisions have no layer. A
project with no recognisable layers gets no findings from the path-based rules
(FAA503, FAA504, FAA505, FAA507). FAA502, FAA506 and FAA508 work on route handlers and
dependencies wherever they are.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from fastapi_architect.model.apps import Route, RouterObj
from fastapi_architect.model.astutil import (
    argument,
    assignment_targets,
    body_nodes,
    child_nodes,
    const_str,
    dotted,
    last_name,
    parameters,
    walk,
    walk_nodes,
    without_docstring,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.dependencies import param_sites, walk_dependencies
from fastapi_architect.model.project import ClassInfo, Function, Module, Project
from fastapi_architect.model.pydantic_names import BASE_MODEL, is_pydantic_model
from fastapi_architect.model.types import annotation_type, unwrap_annotation
from fastapi_architect.review.context import ProjectContext
from fastapi_architect.review.index import may_resolve_to, project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._http import (
    BACKGROUND_TASKS,
    REQUEST,
    RESPONSE,
    UPLOAD_FILE,
    WEBSOCKET,
)
from fastapi_architect.review.rules._orm import function_query, is_test_module, type_kind
from fastapi_architect.review.rules._orm import state as orm_state
from fastapi_architect.review.rules.auth import body_authenticates, credential_param
from fastapi_architect.review.rules.validation import (
    is_response_expr,
    param_marker,
    returned_values,
)

Layer = Literal["route", "service", "repository", "model", "schema"]

# Package (directory) names, anywhere in the module path; the deepest one wins. A top
# package called `api` does not count (the whole project is not a router package), and a
# router-layer module that imports neither `fastapi` nor `starlette` has no layer.
_DIR_LAYERS: dict[str, Layer] = {
    "routers": "route",
    "routes": "route",
    "endpoints": "route",
    "api": "route",
    "views": "route",
    "controllers": "route",
    "services": "service",
    "service": "service",
    "repositories": "repository",
    "repository": "repository",
    "repos": "repository",
    "crud": "repository",
    "models": "model",
    "schemas": "schema",
}
# File (module) names.
_FILE_LAYERS: dict[str, Layer] = {
    "router": "route",
    "routers": "route",
    "routes": "route",
    "endpoints": "route",
    "views": "route",
    "service": "service",
    "services": "service",
    "repository": "repository",
    "repositories": "repository",
    "crud": "repository",
    "models": "model",
    "schemas": "schema",
}
_FILE_SUFFIXES: tuple[tuple[str, Layer], ...] = (
    ("_router", "route"),
    ("_routes", "route"),
    ("_service", "service"),
    ("_services", "service"),
    ("_repository", "repository"),
    ("_repo", "repository"),
    ("_crud", "repository"),
    ("_models", "model"),
    ("_schemas", "schema"),
)
# Lower value = closer to HTTP. Imports must go from a lower value to a higher one.
_RANK: dict[Layer, int] = {"route": 0, "service": 1, "repository": 2, "model": 3}
_LAYER_NAMES: dict[Layer, str] = {
    "route": "router",
    "service": "service",
    "repository": "repository",
    "model": "model",
    "schema": "schema",
}


@dataclass
class _LayerState:
    model: AppModel
    by_module: dict[int, Layer | None] = field(default_factory=dict)
    route_modules: set[int] = field(default_factory=set)
    handlers: set[int] = field(default_factory=set)
    reported: set[tuple[str, int]] = field(default_factory=set)
    hooks: set[int] | None = None  # functions registered as exception handlers


def _state(model: AppModel) -> _LayerState:
    """The layer of each module (the project index's layer part)."""
    return project_index(model, _new_layer_state)


def _new_layer_state(model: AppModel) -> _LayerState:
    st = _LayerState(model)
    for route in model.routes:
        if not _in_method(route.handler):
            st.route_modules.add(id(route.handler.module))
        st.handlers.add(id(route.handler.node))
    return st


def _in_method(fn: Function) -> bool:
    """A handler nested in a method that builds a sub-app (airflow's
    `SimpleAuthManager.get_fastapi_app`): it does not make the class's module a
    router module."""
    outer = fn.parent
    while outer is not None:
        if outer.class_qualname is not None:
            return True
        outer = outer.parent
    return False


def path_layer(module: Module) -> Layer | None:
    """The layer a module's dotted name puts it in (the deepest recognised part wins)."""
    parts = module.name.split(".")
    packages = parts if module.is_package else parts[:-1]
    # The packages that hold the whole reviewed folder (`fides.api` when `fides/api` is
    # reviewed) name the project, not a layer: an `api` there is not its router package.
    below = len(PurePosixPath(module.relpath).parts) - (1 if module.is_package else 0)
    above = max(len(parts) - below, 1)
    found: Layer | None = None
    for index, part in enumerate(packages):
        layer = _DIR_LAYERS.get(part)
        if layer is not None and (index >= above or layer != "route" or part != "api"):
            found = layer
    if not module.is_package:
        last = parts[-1]
        layer = _FILE_LAYERS.get(last)
        if layer is None and found is None:
            # `book_service.py` names its layer; `models/block_schemas.py` stays a model.
            for suffix, candidate in _FILE_SUFFIXES:
                if last.endswith(suffix):
                    layer = candidate
                    break
        if layer is not None:
            found = layer
    if found == "route" and not module.imports_anything("fastapi", "starlette"):
        return None  # an `api/` package of a client library, not HTTP handlers
    return found


def layer_of(model: AppModel, module: Module) -> Layer | None:
    """The module's layer: a module that registers route handlers is a router module
    whatever its name (not for handlers nested in a method that builds a sub-app);
    otherwise its path decides. Test modules have no layer."""
    st = _state(model)
    key = id(module)
    if key in st.by_module:
        return st.by_module[key]
    layer: Layer | None
    if is_test_module(module) or _is_migration(module):
        layer = None
    elif key in st.route_modules:
        layer = "route"
    else:
        layer = path_layer(module)
        if layer == "model" and _data_access_module(model, module):
            layer = "repository"
        elif layer in ("model", "schema") and _utility_namesake(model, module):
            layer = None
    st.by_module[key] = layer
    return layer


# Packages of shared helpers, which belong to no layer (`utils/`, `core/`, ...).
_UTILITY_PACKAGES = frozenset(
    {"utils", "util", "utilities", "helpers", "helper", "common", "core", "lib", "shared", "misc"}
)


def _file_layer(name: str) -> Layer | None:
    layer = _FILE_LAYERS.get(name)
    if layer is None:
        layer = next((c for suffix, c in _FILE_SUFFIXES if name.endswith(suffix)), None)
    return layer


def _utility_namesake(model: AppModel, module: Module) -> bool:
    """A helper module whose file name only sounds like a layer: `utils/models.py` of
    an LLM app (fetching and filtering the provider's model list), `core/schemas.py` of
    JSON-schema helpers. It sits directly in a helper package, its name is what made it
    a model or schema module, and it declares no ORM or Pydantic class."""
    parts = module.name.split(".")
    if module.is_package or len(parts) < 2 or parts[-2] not in _UTILITY_PACKAGES:
        return False
    if _file_layer(parts[-1]) is None:
        return False
    project = model.project
    orm_models = orm_state(model).index.models
    return not any(
        cls.qualname in orm_models or is_pydantic_model(project, cls.qualname)
        for cls in module.classes.values()
    )


def _only_schema_extensions(model: AppModel, module: Module) -> bool:
    """A `models` module that holds schemas by content: it maps no ORM class, defines
    no top-level function, and every class it defines is a Pydantic model that directly
    extends a class of the schema layer (argilla's `models/suggestions.py`: `class
    SuggestionCreateWithRecordId(SuggestionCreate)` adds the field the service fills in
    to a request schema). Its imports of schema modules are schema-to-schema imports.
    A Pydantic class of its own (`class MongoModel(BaseModel)`, the base of Motor
    documents) makes it a model module."""
    if module.is_package or not module.classes:
        return False
    if any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) for s in module.tree.body):
        return False
    project = model.project
    orm_models = orm_state(model).index.models

    def schema_class(qualname: str) -> bool:
        base = project.class_(qualname)
        return base is not None and layer_of(model, base.module) == "schema"

    return all(
        cls.qualname not in orm_models
        and any(n in BASE_MODEL for n in project.mro(cls.qualname))
        and any(schema_class(b) for b in cls.bases)
        for local, cls in module.classes.items()
        if "." not in local  # a nested `class Config:` belongs to its model
    )


def _is_migration(module: Module) -> bool:
    """An Alembic revision (module-level `revision` and `down_revision`), whatever its
    file is called (`..._automations_models.py` is not a model module)."""
    if "down_revision" not in module.source:
        return False
    names: set[str] = set()
    for stmt in module.tree.body:
        targets = (
            stmt.targets
            if isinstance(stmt, ast.Assign)
            else [stmt.target]
            if isinstance(stmt, ast.AnnAssign)
            else []
        )
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {"revision", "down_revision"} <= names


def _data_access_module(model: AppModel, module: Module) -> bool:
    """A `models` module that is a repository by role: its top-level functions take a
    database session or run queries (prefect's `models/flows.py`), it maps no ORM
    class, and those functions outnumber its classes (a small result type or exception
    next to them is fine; a module of Pydantic models with a helper stays a model)."""
    if module.is_package:
        return False
    st = orm_state(model)
    classes = 0
    queries = 0
    for stmt in module.tree.body:
        if isinstance(stmt, ast.ClassDef):
            qualname = f"{module.name}.{stmt.name}"
            if qualname in st.index.models:
                return False
            classes += 1
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fn = model.project.function_by_node.get(id(stmt))
            if fn is not None and (_takes_session(model, fn) or function_query(st, fn)):
                queries += 1
    return queries > classes


def _takes_session(model: AppModel, fn: Function) -> bool:
    """A parameter annotated with a database session type (`session: AsyncSession`)."""
    project = model.project
    for param, _ in parameters(fn.node):
        if param.annotation is not None:
            qualname = annotation_type(project, fn.module, param.annotation)
            if qualname is not None and type_kind(project, qualname) is not None:
                return True
    return False


def is_transport_function(model: AppModel, fn: Function) -> bool:
    """A route handler, a FastAPI dependency (by use, or by its `Depends()` or request
    parameters),
    an exception handler or an HTTP middleware: HTTP-facing code, wherever it lives."""
    st = _state(model)
    if id(fn.node) in st.handlers or model.is_dependency(fn):
        return True
    if any(_is_http_hook(d) for d in fn.node.decorator_list):
        return True
    if st.hooks is None:
        st.hooks = _registered_hooks(model)
    if id(fn.node) in st.hooks:
        return True
    # `Depends()` parameters, or parameters FastAPI reads from the request (`Header()`,
    # `Query()`...), make a function a dependency only if project code does not call it
    # by hand: a service helper taking `session: SessionDep` that the routes call
    # directly is service code (FastAPI resolves nothing for it).
    project = model.project
    return (
        bool(param_sites(project, fn)) or _request_parameters(project, fn)
    ) and not _called_directly(model, fn)


# FastAPI's request parameter functions (`Depends()` is `param_sites`' part).
_REQUEST_MARKERS = frozenset({"Body", "Query", "Path", "Header", "Cookie", "Form", "File"})


def _request_parameters(project: Project, fn: Function) -> bool:
    """Does the function declare a parameter FastAPI fills from the request
    (`x_api_key: Annotated[str | None, Header()] = None`, `page: int = Query(1)`)?"""
    for param, default in parameters(fn.node):
        if param_marker(project, fn.module, default, fn.parent) in _REQUEST_MARKERS:
            return True
        _base, metadata, meta_module = unwrap_annotation(
            project, fn.module, param.annotation, fn.parent
        )
        if any(param_marker(project, meta_module, m, None) in _REQUEST_MARKERS for m in metadata):
            return True
    return False


def _called_directly(model: AppModel, fn: Function) -> bool:
    """Is `fn` called by the project's own (non-test) code?"""
    project = model.project
    for caller, _site in model.callgraph.callers(fn.qualname):
        owner = project.function(caller)
        module = owner.module if owner is not None else project.modules.get(caller)
        if module is None or not is_test_module(module):
            return True
    return False


_HOOK_DECORATORS = frozenset({"exception_handler", "middleware"})
_HOOK_REGISTRARS = frozenset({"add_exception_handler", "add_middleware"})


def _is_http_hook(decorator: ast.expr) -> bool:
    """`@app.exception_handler(X)`, `@app.middleware("http")`."""
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in _HOOK_DECORATORS
    )


def _registered_hooks(model: AppModel) -> set[int]:
    """Functions passed to `app.add_exception_handler(X, handler)`."""
    project = model.project
    out: set[int] = set()
    for module in project.module_list:
        if "add_exception_handler" not in module.source:
            continue
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _HOOK_REGISTRARS
            ):
                for arg in node.args[1:]:
                    fn = project.function(project.resolve(module, arg))
                    if fn is not None:
                        out.add(id(fn.node))
    return out


def _enclosing(model: AppModel, module: Module, stack: list[ast.AST]) -> Function | None:
    for node in reversed(stack):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return model.project.function_by_node.get(id(node))
    return None


def _walk_with_stack(node: ast.AST) -> Iterator[tuple[ast.AST, list[ast.AST]]]:
    """Every node below `node` in pre-order, with its ancestors (outermost first, `node`
    excluded). The list is reused: read it before the next step. Iterative, so each step
    costs the same at any depth (a recursive `yield from` pays for every level)."""
    path: list[ast.AST] = []
    todo: list[tuple[ast.AST, int]] = [(child, 0) for child in reversed(child_nodes(node))]
    while todo:
        current, depth = todo.pop()
        del path[depth:]
        yield current, path
        children = child_nodes(current)
        if children:
            path.append(current)
            todo.extend((child, depth + 1) for child in reversed(children))


_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
# What `_import_statements` keeps of a block: the imports, and the nodes that have a
# block of their own (the only ones an import can be found in). Simple statements (most
# of them) have neither, and are not even pushed.
_IMPORT_HOLDERS = frozenset(
    {ast.Import, ast.ImportFrom}
    | {
        kind
        for kind in vars(ast).values()
        if isinstance(kind, type)
        and issubclass(kind, ast.AST)
        and any(name in kind._fields for name in _BLOCK_FIELDS)
    }
)


def _import_statements(
    tree: ast.Module,
) -> Iterator[tuple[ast.Import | ast.ImportFrom, list[ast.AST]]]:
    """Every import with the statements around it, outermost first. Imports are
    statements, so only statement blocks are entered (never an expression), which makes
    this a small fraction of a whole-tree walk."""
    holders = _IMPORT_HOLDERS
    todo: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [
        (s, ()) for s in reversed(tree.body) if type(s) in holders
    ]
    while todo:
        node, outer = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, list(outer)
            continue
        inner = (*outer, node)
        for name in _BLOCK_FIELDS:
            block = getattr(node, name, None)
            if type(block) is list:
                todo.extend((child, inner) for child in reversed(block) if type(child) in holders)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _in_type_checking(stack: list[ast.AST]) -> bool:
    return any(isinstance(n, ast.If) and _is_type_checking(n.test) for n in stack)


def _service_like(model: AppModel, module: Module) -> Layer | None:
    layer = layer_of(model, module)
    return layer if layer in ("service", "repository") else None


def _checked_module(model: AppModel, module: Module) -> Layer | None:
    """The layer of a service or repository module that FAA504/FAA505 read: one that
    imports FastAPI or Starlette (no HTTP object can come from elsewhere)."""
    layer = _service_like(model, module)
    if layer is None or not module.imports_anything("fastapi", "starlette"):
        return None
    return layer


# ===================================================================== FAA503


def _import_base(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.package.split(".") if module.package else []
    if node.level > 1:
        package = package[: len(package) - (node.level - 1)]
    base = ".".join(package)
    if node.module:
        base = f"{base}.{node.module}" if base else node.module
    return base


def _imported_modules(ctx: ProjectContext, module: Module, node: ast.AST) -> list[Module]:
    """The project modules an import statement loads (a `from pkg import mod` names the
    submodule, `from mod import name` the module)."""
    modules = ctx.project.modules
    out: list[Module] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = modules.get(alias.name)
            if target is not None:
                out.append(target)
    elif isinstance(node, ast.ImportFrom):
        base = _import_base(module, node)
        for alias in node.names:
            sub = modules.get(f"{base}.{alias.name}")
            target = sub if sub is not None else modules.get(base)
            if target is not None and target not in out:
                out.append(target)
    return out


def _same_package(importer: Module, target: Module) -> bool:
    """A package's own modules (`models/__init__.py` re-exporting `models/tag.py`)."""
    return importer.is_package and target.name.startswith(importer.name + ".")


_ENUM_BASES = frozenset(
    {"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag", "enum.ReprEnum"}
)
_LITERAL_TYPES = frozenset({"typing.Literal", "typing_extensions.Literal"})
_BUILTIN_CONTAINERS = frozenset({"frozenset", "set", "tuple", "list", "dict"})
_MAX_CONSTANT_DEPTH = 6


def _is_enum(project: Project, class_qualname: str) -> bool:
    """An `Enum` subclass: a standard enum base in its ancestry, or a base from outside
    the project named like one (prefect's `AutoEnum`, the `strenum` package)."""
    for name in project.mro(class_qualname):
        if name in _ENUM_BASES:
            return True
        if (
            project.class_(name) is None
            and project.split(name)[0] is None
            and last_name(name).endswith("Enum")
        ):
            return True
    return False


def _is_vocabulary(project: Project, qualname: str, depth: int = 0) -> bool:
    """Shared vocabulary rather than a schema: an enum class or one of its members
    (`StateType`, `StateType.RUNNING.value`), or a module-level constant built from
    literals and such names (`TERMINAL_STATES = {StateType.COMPLETED, ...}`)."""
    if depth > _MAX_CONSTANT_DEPTH:
        return False
    module, rest = project.split(project.canonical(qualname))
    if module is None or not rest:
        return False
    head, _, tail = rest.partition(".")
    owner = f"{module.name}.{head}"
    if project.class_(owner) is not None:
        return _is_enum(project, owner)
    if tail or head not in module.assignments:
        return False
    return _is_constant(project, module, module.assignments[head], depth + 1)


def _is_constant(project: Project, module: Module, expr: ast.expr, depth: int) -> bool:
    if depth > _MAX_CONSTANT_DEPTH:
        return False
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(project, module, e, depth + 1) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(
            key is not None
            and _is_constant(project, module, key, depth + 1)
            and _is_constant(project, module, value, depth + 1)
            for key, value in zip(expr.keys, expr.values, strict=True)
        )
    if isinstance(expr, ast.UnaryOp):
        return _is_constant(project, module, expr.operand, depth + 1)
    if isinstance(expr, ast.BinOp):
        return _is_constant(project, module, expr.left, depth + 1) and _is_constant(
            project, module, expr.right, depth + 1
        )
    if isinstance(expr, ast.Call):  # `frozenset({...})`
        return (
            project.resolve(module, expr.func) in _BUILTIN_CONTAINERS
            and not expr.keywords
            and all(_is_constant(project, module, a, depth + 1) for a in expr.args)
        )
    if isinstance(expr, ast.Subscript):  # `Literal["asc", "desc"]`
        return project.resolve(module, expr.value) in _LITERAL_TYPES
    if isinstance(expr, (ast.Name, ast.Attribute)):
        name = project.resolve(module, expr)
        return name is not None and _is_vocabulary(project, name, depth + 1)
    return False


def _uses_through(module: Module, prefix: str) -> list[tuple[ast.AST, str]] | None:
    """Every use of an imported module bound to `prefix` (`schemas`, or `app.schemas`
    for `import app.schemas`): the longest `prefix.a.b` chain and its `.a.b` part. None
    when the module object itself is used (passed on, assigned, re-exported)."""
    # The values of attributes (`a` and `a.b` in `a.b.c`), as the walk meets them: it is
    # breadth-first, so an attribute comes before its value.
    inner: set[int] = set()
    out: list[tuple[ast.AST, str]] = []
    for node in walk(module.tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
        elif not isinstance(node, ast.Name):
            continue
        if id(node) in inner:
            continue  # not the longest chain
        chain = dotted(node)
        if chain is None or not (chain == prefix or chain.startswith(prefix + ".")):
            continue
        if chain == prefix or not isinstance(getattr(node, "ctx", None), ast.Load):
            return None
        out.append((node, chain[len(prefix) :]))
    return out


_COLUMN_CALLS = frozenset({"mapped_column", "Column"})
_ORM_ROOTS = frozenset({"sqlalchemy", "sqlmodel", "flask_sqlalchemy"})
_COLUMN_DEFAULTS = frozenset({"default", "insert_default"})


def _is_column_call(project: Project, module: Module, expr: ast.AST) -> bool:
    """`mapped_column(...)`, `sa.Column(...)`, or Flask-SQLAlchemy's `db.Column(...)`."""
    if not isinstance(expr, ast.Call):
        return False
    callee = project.resolve(module, expr.func)
    if callee is None or last_name(callee) not in _COLUMN_CALLS:
        return False
    if callee.split(".")[0] in _ORM_ROOTS:
        return True
    value = project.module_value(callee.rpartition(".")[0])  # `db = SQLAlchemy()`
    if value is None or not isinstance(value[1], ast.Call):
        return False
    return (project.resolve(value[0], value[1].func) or "").startswith("flask_sqlalchemy")


def _names_in(expr: ast.AST) -> Iterator[ast.AST]:
    return (n for n in walk(expr) if isinstance(n, (ast.Name, ast.Attribute)))


def _stored_type_names(project: Project, module: Module) -> set[int]:
    """The name nodes that spell the value type of a typed column: the arguments of a
    column-type constructor (`mapped_column(PydanticJSON(Event))`,
    `Column(ARRAY(PydanticType(Tag)))`), that type again as the column's default factory
    (`default=Event`), and the annotation of an attribute assigned such a column
    (`last_event: Mapped[Event | None] = ...`). A schema class named only there is the
    stored document's type: the model stores it, it does not depend on the HTTP layer."""
    out: set[int] = set()
    for node in walk(module.tree):
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            if any(_is_column_call(project, module, n) for n in walk(node.value)):
                out.update(id(n) for n in _names_in(node.annotation))
            continue
        if not (isinstance(node, ast.Call) and _is_column_call(project, module, node)):
            continue
        spelled: set[str] = set()
        for ctor in [*node.args, *(k.value for k in node.keywords if k.arg == "type_")]:
            if not isinstance(ctor, ast.Call):
                continue  # `mapped_column(sa.JSON)`, `Column("name", ...)`
            for arg in [*ctor.args, *(k.value for k in ctor.keywords)]:
                for name in _names_in(arg):
                    out.add(id(name))
                    spelled.add(dotted(name) or "")
        for kw in node.keywords:
            # `default=Event`: the stored type's own constructor as the default factory.
            if kw.arg in _COLUMN_DEFAULTS and (dotted(kw.value) or "") in spelled - {""}:
                out.update(id(n) for n in _names_in(kw.value))
    _follow_type_aliases(module, out)
    return out


def _follow_type_aliases(module: Module, stored: set[int]) -> None:
    """Add the names a module-level type alias is built from when every use of the alias
    spells a stored type (`_Inputs = dict[str, list[_Input]]` used only in
    `mapped_column(PydanticJSON(_Inputs))` and `Mapped[_Inputs]`), through aliases of
    aliases. An alias also used any other way (`TypeAdapter(_Inputs)`) is not followed."""
    uses: dict[str, list[ast.Name]] = {}
    for node in walk(module.tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            value = module.assignments.get(node.id)
            if isinstance(value, (ast.Name, ast.Attribute, ast.Subscript, ast.BinOp)):
                uses.setdefault(node.id, []).append(node)
    followed: set[str] = set()
    while True:
        ready = [
            alias
            for alias, names in uses.items()
            if alias not in followed and all(id(n) in stored for n in names)
        ]
        if not ready:
            return
        for alias in ready:
            followed.add(alias)
            stored.update(id(n) for n in _names_in(module.assignments[alias]))


_ROW_VALIDATORS = frozenset({"model_validate", "from_orm"})


def _stored_columns(
    project: Project, module: Module, cls: ClassInfo, stored: set[int]
) -> dict[str, set[str]]:
    """The typed columns of an ORM class (its own and those of its bases in the module):
    attribute name -> the project classes it stores (`state_details` -> `StateDetails`),
    enums left out."""
    columns: dict[str, set[str]] = {}
    for name in project.mro(cls.qualname):
        info = project.class_(name)
        if info is None or info.module is not module:
            continue
        for stmt in info.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                targets = [stmt.target.id]
            elif isinstance(stmt, ast.Assign):
                targets = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            else:
                continue
            types = {
                q
                for n in _names_in(stmt)
                if id(n) in stored
                and (q := project.resolve(module, n)) is not None
                and project.class_(q) is not None
                and not _is_vocabulary(project, q)
            }
            for target in targets if types else []:
                columns.setdefault(target, set()).update(types)
    return columns


def _holds_row_data(project: Project, target: str, columns: dict[str, set[str]]) -> bool:
    """Is `target` the schema class whose data the row stores: one of its fields has the
    name of a typed column and that column's document type, defined in `target`'s own
    module (prefect's `State.state_details: StateDetails`, both in `schemas.states`)? A
    request or response model embeds such documents from another module."""
    home = project.split(target)[0]
    if home is None:
        return False
    for name in project.mro(target):
        info = project.class_(name)
        if info is None:
            continue
        for stmt in info.node.body:
            if not (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.target.id in columns
            ):
                continue
            for n in _names_in(stmt.annotation):
                q = project.resolve(info.module, n)
                if q in columns[stmt.target.id] and project.split(q)[0] is home:
                    return True
    return False


def _row_mapping_names(project: Project, module: Module, stored: set[int]) -> set[int]:
    """The name nodes of a method of an ORM class that validates the row itself into the
    schema class whose data the row stores (`def as_state(self) -> State: return
    State.model_validate(self, from_attributes=True)`), in the call and the return
    annotation. That maps the row to the domain object it persists, from the module the
    row already takes its column types from: no new dependency on the HTTP layer."""
    out: set[int] = set()
    for cls in module.classes.values():
        columns = _stored_columns(project, module, cls, stored)
        if not columns:
            continue
        for fn in cls.methods.values():
            params = [*fn.node.args.posonlyargs, *fn.node.args.args]
            if not params:
                continue
            for call in walk(fn.node):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr in _ROW_VALIDATORS
                    and call.args
                    and isinstance(call.args[0], ast.Name)
                    and call.args[0].id == params[0].arg
                ):
                    continue
                target = project.resolve(module, call.func.value, fn)
                if target is None or not _holds_row_data(project, target, columns):
                    continue
                out.update(id(n) for n in _names_in(call.func))
                if fn.node.returns is not None:
                    out.update(
                        id(n)
                        for n in _names_in(fn.node.returns)
                        if project.resolve(module, n, fn) == target
                    )
    return out


class _Uses:
    """How an importing module uses what it imports from a schema module; the stored
    column types and the names the module reads are computed on first need, once for
    all its imports."""

    def __init__(self, project: Project, module: Module) -> None:
        self.project = project
        self.module = module
        self._stored: set[int] | None = None
        self._loads: dict[str, list[ast.Name]] | None = None

    def stored(self, node: ast.AST) -> bool:
        """A stored column type, or the row's own schema class in a method that maps the
        row to it."""
        if self._stored is None:
            self._stored = _stored_type_names(self.project, self.module)
            self._stored |= _row_mapping_names(self.project, self.module, self._stored)
        return id(node) in self._stored

    def name_only_stored(self, name: str) -> bool:
        """Every use of the imported name `name` spells a stored column type."""
        if self._loads is None:
            self._loads = {}
            for n in walk(self.module.tree):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                    self._loads.setdefault(n.id, []).append(n)
        uses = self._loads.get(name, [])
        return bool(uses) and all(self.stored(n) for n in uses)

    def module_for_vocabulary(self, prefix: str, target: Module) -> bool:
        """Every use of the imported module `prefix` names an enum, a constant or a
        stored column type."""
        uses = _uses_through(self.module, prefix)
        return bool(uses) and all(
            _is_vocabulary(self.project, target.name + rest) or self.stored(node)
            for node, rest in (uses or [])
        )


def _imports_only_vocabulary(
    project: Project,
    module: Module,
    node: ast.Import | ast.ImportFrom,
    target: Module,
    uses: _Uses,
) -> bool:
    """Does the import take nothing but shared vocabulary from `target`? Enums and
    constants (`from app.schemas import OrderStatus`, or `import app.schemas as
    schemas` used only as `sa.Enum(schemas.OrderStatus)`: an ORM model storing the enum
    its API exposes), and classes named only as the value type of a typed column
    (`mapped_column(PydanticJSON(Event))`: the document the column stores). Any other
    use of a Pydantic class, a function or an unresolved name makes it a schema import.
    (`uses`: the importing module's, shared by its imports.)"""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if project.modules.get(alias.name) is target and not uses.module_for_vocabulary(
                alias.asname or alias.name, target
            ):
                return False
        return True
    base = _import_base(module, node)
    for alias in node.names:
        sub = project.modules.get(f"{base}.{alias.name}")
        if sub is not None:
            if sub is target and not uses.module_for_vocabulary(alias.asname or alias.name, sub):
                return False
        elif (
            project.modules.get(base) is target
            and not _is_vocabulary(project, f"{base}.{alias.name}")
            and not uses.name_only_stored(alias.asname or alias.name)
        ):
            return False
    return True


def _violation(importer: Layer, imported: Layer) -> bool:
    if importer == "model":
        return imported in ("route", "service", "repository", "schema")
    if importer == "schema":
        return imported in ("route", "service")
    if imported == "schema":
        return False
    return _RANK[imported] < _RANK[importer] if importer in _RANK else False


@rule(
    code="FAA503",
    name="layer-dependency-violation",
    summary="An import goes against the layer direction routes → services → repositories → models",
    severity="warning",
    scope="project",
    fix_title="Move the shared code down a layer, or invert the dependency",
    references=(
        "https://fastapi.tiangolo.com/tutorial/bigger-applications/",
        "https://github.com/zhanymkanov/fastapi-best-practices#project-structure",
    ),
)
def layer_dependency_violation(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Checks the imports between the layers of a project: routers (`routers/`, `api/`,
    `routes.py`, or any module that registers route handlers, except handlers nested
    in a method that builds a sub-app), services (`services/`,
    `service.py`, `*_service.py`), repositories (`repositories/`, `repository.py`,
    `crud.py`, `*_repository.py`), models (`models/`, `models.py`) and schemas
    (`schemas/`, `schemas.py`). It reports an import that points back towards HTTP: a
    service or repository importing a router module, a repository importing a service,
    a model importing a service, repository, router or schema, a schema importing a
    router or service.

    ## Why is this bad?
    Layers are only useful if dependencies point one way: routers call services,
    services call repositories, repositories use models. An import the other way makes
    a lower layer depend on HTTP details (or on a use case) and creates import cycles,
    so services cannot be reused from a worker or a CLI and cannot be tested without
    the web stack.

    ## Known problems
    Layers are inferred from module names; modules outside the recognised names
    (`core/`, `db/`, `utils/`...) belong to no layer and are never reported. A `models`
    module whose top-level functions take a database session or run queries, and that
    maps no ORM class, is a repository by role (prefect's `models/flows.py`), and an
    Alembic revision (`revision`/`down_revision`) has no layer whatever its file name. Imports
    under `if TYPE_CHECKING:` are ignored (they do not run). A model that takes only
    enums and constants from a schema module (`sa.Enum(OrderStatus)`: shared vocabulary)
    is not reported, nor one that names a schema class only as the value type of a typed
    column (`mapped_column(PydanticJSON(Event))` and its `Mapped[...]` annotation, also
    through a module-level type alias: the stored document's type), or in a method that
    validates the row itself into the class whose data it stores
    (`State.model_validate(self)`, where `State` has the row's typed column
    `state_details: StateDetails` from its own module: the domain object the row
    persists); one that otherwise uses a Pydantic schema class is (a `to_response()`
    building a response model that lives elsewhere). A `models` module that maps no
    ORM class, has no top-level function and defines only Pydantic classes that each
    directly extend a schema-layer class (a request schema extended with a field the
    service fills in) holds schemas: its schema
    imports are not reported. A module
    directly in a helper package (`utils/`, `core/`, `helpers/`...) whose file name sounds
    like a layer (`utils/models.py`) but that declares no ORM or Pydantic class has no
    layer. Imports of `fastapi` itself in services are reported by FAA504 and FAA505
    where they matter, not here. Imports between sibling domains through deep paths are
    not checked yet, and the layer names cannot be configured yet.

    ## Example
    ```python
    # app/services/orders.py
    from app.api.deps import get_settings  # a service importing the router layer
    ```

    ## Use instead
    ```python
    # app/services/orders.py
    from app.core.config import Settings  # shared code lives below the routers


    class OrderService:
        def __init__(self, settings: Settings) -> None:
            self.settings = settings
    ```

    ## Fix safety
    There is no automatic fix.
    """
    model = ctx.model
    for module in ctx.project.module_list:
        importer = layer_of(model, module)
        if importer is None:
            continue
        uses = _Uses(ctx.project, module)
        for node, stack in _import_statements(module.tree):
            if _in_type_checking(stack):
                continue
            for target in _imported_modules(ctx, module, node):
                if target is module or _same_package(module, target):
                    continue
                imported = layer_of(model, target)
                if imported is None or not _violation(importer, imported):
                    continue
                if imported == "schema" and (
                    _imports_only_vocabulary(ctx.project, module, node, target, uses)
                    or (importer == "model" and _only_schema_extensions(model, module))
                ):
                    continue
                yield Report(
                    node,
                    f"{_LAYER_NAMES[importer]} module `{module.name}` imports "
                    f"{_LAYER_NAMES[imported]} module `{target.name}`: dependencies must "
                    "point from routers to services to repositories to models",
                    module,
                )
                break


# ===================================================================== FAA504

_HTTP_EXCEPTIONS = frozenset(
    {
        "fastapi.HTTPException",
        "fastapi.exceptions.HTTPException",
        "starlette.exceptions.HTTPException",
    }
)
_JSON_RESPONSES = frozenset(
    {
        "fastapi.responses.JSONResponse",
        "fastapi.responses.ORJSONResponse",
        "fastapi.responses.UJSONResponse",
        "starlette.responses.JSONResponse",
    }
)
_STATUS_MODULES = ("fastapi.status.", "starlette.status.")


def _http_object(name: str | None) -> str | None:
    """The label of an HTTP-layer object a resolved name refers to, or None."""
    if name is None:
        return None
    if name in _HTTP_EXCEPTIONS:
        return "HTTPException"
    if name in _JSON_RESPONSES:
        return name.rsplit(".", 1)[1]
    for prefix in _STATUS_MODULES:
        if name.startswith(prefix) and name[len(prefix) :].startswith(("HTTP_", "WS_")):
            return f"status.{name[len(prefix) :]}"
    return None


@rule(
    code="FAA504",
    name="http-exception-in-service-layer",
    summary="`HTTPException`, `status.HTTP_*` or `JSONResponse` used in a service or "
    "repository module",
    severity="warning",
    scope="project",
    fix_title="Raise a domain exception and map it to a response in an exception handler",
    references=(
        "https://fastapi.tiangolo.com/tutorial/handling-errors/#install-custom-exception-handlers",
        "https://github.com/zhanymkanov/fastapi-best-practices",
    ),
)
def http_exception_in_service_layer(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds HTTP objects in the service and repository layers (`services/`, `service.py`,
    `*_service.py`, `repositories/`, `crud.py`, ...): `HTTPException` (FastAPI's or
    Starlette's), `status.HTTP_*` constants and `JSONResponse`-like response classes.
    One finding per statement.

    ## Why is this bad?
    A service decides *what* went wrong ("the book does not exist", "the email is
    taken"); the transport layer decides *how* that is said over HTTP. A service that
    raises `HTTPException(404)` can only be used behind FastAPI: a background job, a
    CLI command or a message consumer calling it gets an HTTP exception it cannot
    handle, and the HTTP contract (status codes, error bodies) is scattered over the
    business code instead of being defined once.

    ## Known problems
    Functions in those modules that are themselves FastAPI dependencies, route
    handlers, exception handlers or HTTP middleware (a `get_current_user` with
    `Depends()` parameters kept in `services/auth.py`, or one whose parameters FastAPI
    reads from the request, `x_api_key: Annotated[str | None, Header()]`) are transport
    code and are not reported; such a function that project code calls directly (a
    helper taking `session: SessionDep`) is not a dependency and is reported. A
    `status.HTTP_*` constant that is a value of a dict literal
    (`{"error": ..., "status_code": status.HTTP_400_BAD_REQUEST}`, a per-item result of
    a bulk endpoint) is data of the response body and is not reported either, nor is an
    `HTTPException` raised inside a `try` of the same function whose `except` catches it
    without re-raising (it never reaches a caller), nor that `except` clause. A
    request-to-response adapter is HTTP code wherever it lives and is not reported: a
    function that takes the `Request` and whose every `return` gives a `Response` it
    builds (a reverse proxy's `proxy(request, ...)` answering with a
    `StreamingResponse`, kept in `services/proxy/`), and a helper in its module that it
    hands the request to and that nothing else calls. Its status codes are what it
    answers, and a domain exception would not make it usable outside HTTP. A function
    that only builds a response (`return JSONResponse(..., status_code=201)`) or only
    reads the request is still reported. The price: a path operation's whole body
    moved into a service module, `Request` and all, is not reported either. Modules
    outside the recognised layer names are never reported.

    ## Example
    ```python
    # app/services/books.py
    from fastapi import HTTPException, status


    async def get_book(session: AsyncSession, book_id: int) -> Book:
        book = await session.get(Book, book_id)
        if book is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Book not found")
        return book
    ```

    ## Use instead
    ```python
    # app/services/books.py
    class BookNotFound(Exception):
        pass


    async def get_book(session: AsyncSession, book_id: int) -> Book:
        book = await session.get(Book, book_id)
        if book is None:
            raise BookNotFound(book_id)
        return book


    # app/main.py
    @app.exception_handler(BookNotFound)
    async def book_not_found(request: Request, exc: BookNotFound) -> JSONResponse:
        return JSONResponse({"detail": "Book not found"}, status_code=404)
    ```

    ## Fix safety
    There is no automatic fix.
    """
    model = ctx.model
    for module in ctx.project.module_list:
        layer = _checked_module(model, module)
        if layer is None:
            continue
        local: _LocalCatches | None = None  # built on the first HTTP object found
        seen: set[int] = set()  # one finding per statement
        for node, stack in _walk_with_stack(module.tree):
            if not isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(
                node.ctx, ast.Load
            ):
                continue
            statement = next((n for n in reversed(stack) if isinstance(n, ast.stmt)), node)
            if id(statement) in seen:
                continue
            fn = _enclosing(model, module, stack)
            label = _http_object(ctx.project.resolve(module, node, fn))
            if label is None:
                continue
            if fn is not None and _in_http_code(model, fn):
                continue
            if label.startswith("status.") and _body_field(node, stack):
                continue
            if local is None:
                local = _local_catches(ctx.project, model, module)
            if id(statement) in local.swallowed or _handler_of(node, stack, local.reached):
                continue
            seen.add(id(statement))
            yield Report(
                node,
                f"`{label}` in {_LAYER_NAMES[layer]} module `{module.name}`: raise a domain "
                "exception and let an exception handler turn it into a response",
                module,
            )


def _body_field(node: ast.AST, stack: list[ast.AST]) -> bool:
    """A `status.HTTP_*` constant stored as a value of a dict literal (airflow's bulk
    results: `results.errors.append({"error": ..., "status_code": status.HTTP_400_...})`):
    the status is data of the response body, not raised or sent by the service. A dict
    passed to an HTTP exception or response is reported by that call; a table keyed by
    exception classes (`{BookNotFound: status.HTTP_404_NOT_FOUND}`) is still an HTTP
    mapping, so the key must be a field name."""
    parent = stack[-1] if stack else None
    return isinstance(parent, ast.Dict) and any(
        v is node and const_str(k) is not None
        for k, v in zip(parent.keys, parent.values, strict=True)
    )


@dataclass
class _LocalCatches:
    """`raise HTTPException(...)` statements caught by their own function.

    airflow's bulk services raise `HTTPException(404)` inside a `try` whose
    `except HTTPException as e` turns it into a per-item result
    (`{"error": e.detail, "status_code": e.status_code}`): the exception never leaves the
    function, so neither the raise (`swallowed`) nor that handler (`reached`) couples a
    caller to HTTP. A handler that no local raise reaches catches HTTP errors of the code
    it calls and is still reported, as is a raise that a handler lets through (`raise`)."""

    swallowed: set[int] = field(default_factory=set)  # ids of ast.Raise
    reached: set[int] = field(default_factory=set)  # ids of ast.ExceptHandler


_BROAD_EXCEPTIONS = frozenset(
    {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
)


def _local_catches(project: Project, model: AppModel, module: Module) -> _LocalCatches:
    out = _LocalCatches()
    for node, stack in _walk_with_stack(module.tree):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        fn = _enclosing(model, module, stack)
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        raised = project.resolve(module, exc, fn)
        if raised not in _HTTP_EXCEPTIONS:
            continue
        child: ast.AST = node
        for parent in reversed(stack):
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                break  # the function's caller gets it
            if isinstance(parent, ast.Try) and any(child is s for s in parent.body):
                handler = next(
                    (h for h in parent.handlers if _catches(project, module, fn, h.type, raised)),
                    None,
                )
                if handler is not None:
                    out.reached.add(id(handler))
                    if not _reraises(handler):
                        out.swallowed.add(id(node))
                        break
            child = parent
    return out


def _catches(
    project: Project, module: Module, fn: Function | None, caught: ast.expr | None, raised: str
) -> bool:
    """Whether an `except` clause of type `caught` catches a raised HTTP exception
    (FastAPI's is a subclass of Starlette's, not the reverse)."""
    if caught is None:
        return True
    if isinstance(caught, ast.Tuple):
        return any(_catches(project, module, fn, elt, raised) for elt in caught.elts)
    name = project.resolve(module, caught, fn)
    if name in _BROAD_EXCEPTIONS or name == raised:
        return True
    return name in _HTTP_EXCEPTIONS and (
        name.startswith("starlette.") or not raised.startswith("starlette.")
    )


def _reraises(handler: ast.ExceptHandler) -> bool:
    """A bare `raise` or `raise e` in the handler lets the caught exception go on."""
    return any(
        isinstance(n, ast.Raise)
        and (
            n.exc is None
            or (
                isinstance(n.exc, ast.Name)
                and handler.name is not None
                and n.exc.id == handler.name
            )
        )
        for n in walk_nodes(list(handler.body))
    )


def _handler_of(node: ast.AST, stack: list[ast.AST], handlers: set[int]) -> bool:
    """`node` is (in) the type of an `except` clause in `handlers`."""
    for i in range(len(stack) - 1, -1, -1):
        parent = stack[i]
        if isinstance(parent, ast.ExceptHandler):
            inner = stack[i + 1] if i + 1 < len(stack) else node
            return inner is parent.type and id(parent) in handlers
        if isinstance(parent, ast.stmt):
            return False
    return False


def _in_transport(model: AppModel, fn: Function) -> bool:
    current: Function | None = fn
    while current is not None:
        if is_transport_function(model, current):
            return True
        current = current.parent
    return False


def _declared_by(model: AppModel, fn: Function) -> dict[str, list[str]] | None:
    """The HTTP objects the base declaration of a method takes, by parameter name, when
    that declaration is reported itself or is HTTP code: an override takes the request
    because its base does (a dependency-injection base's `inject(self, request)`), and
    the signature is fixed there, once. None for a function that overrides nothing so
    declared."""
    if fn.class_qualname is None or fn.parent is not None:
        return None
    project = model.project
    for ancestor in project.mro(fn.class_qualname)[1:]:
        cls = project.class_(ancestor)
        base = cls.methods.get(fn.name) if cls is not None else None
        if base is None:
            continue
        # Reported at the base: a module this rule reads, unless the base is HTTP code.
        # A base that is neither passes the question up its own ancestors.
        if _checked_module(model, base.module) is not None or _in_http_code(model, base):
            return {
                param.arg: _annotation_objects(project, base.module, base, param.annotation)
                for param, _default in parameters(base.node)
            }
    return None


def _in_http_code(model: AppModel, fn: Function) -> bool:
    """In transport code (FAA504 and FAA505): a route handler, dependency or hook, or an
    HTTP adapter or a piece of one, or a function nested in one of those."""
    current: Function | None = fn
    while current is not None:
        if is_transport_function(model, current) or _adapter_part(model, current):
            return True
        current = current.parent
    return False


def _takes_request(project: Project, fn: Function) -> bool:
    """A parameter annotated with FastAPI's or Starlette's `Request`."""
    return any(
        "Request" in _annotation_objects(project, fn.module, fn, param.annotation)
        for param, _default in parameters(fn.node)
    )


def _is_http_adapter(project: Project, fn: Function) -> bool:
    """A request-to-response adapter: the function takes the `Request` and every `return`
    gives a `Response` it builds (dstack's reverse proxy `proxy(..., request) ->
    StreamingResponse`, kept in `services/proxy/services/`). It does a path operation's
    whole job, so it is HTTP code by its signature, wherever it lives: its status codes
    are its output, and no domain exception or plain parameter would make it usable
    outside HTTP."""
    found = fn.derived.get(_is_http_adapter)
    if found is None:
        values = returned_values(fn)
        found = fn.derived[_is_http_adapter] = (
            bool(values)
            and _takes_request(project, fn)
            and all(is_response_expr(project, fn, value) for value in values)
        )
    return bool(found)


def _adapter_part(model: AppModel, fn: Function) -> bool:
    """An HTTP adapter, or a helper of adapters in its own module that they hand the
    `Request` to and that nothing else calls (the proxy's `build_upstream_request(request,
    ...)`): a piece of the adapter. A helper not taking the request (a lookup raising
    `HTTPException(404)`) is service code the adapter calls and is still reported."""
    project = model.project
    if _is_http_adapter(project, fn):
        return True
    if not _takes_request(project, fn):
        return False
    callers = [
        (caller, project.function(caller)) for caller, _site in model.callgraph.callers(fn.qualname)
    ]
    found = False
    for name, caller in callers:
        module = caller.module if caller is not None else project.modules.get(name)
        if module is not None and is_test_module(module):
            continue
        if caller is None or caller.module is not fn.module:
            return False
        if not _is_http_adapter(project, caller):
            return False
        found = True
    return found


# ===================================================================== FAA505

_HTTP_PARAMS: dict[str, str] = {}
for _label, _names in (
    ("Request", REQUEST),
    ("Response", RESPONSE),
    ("BackgroundTasks", BACKGROUND_TASKS),
    ("UploadFile", UPLOAD_FILE),
):
    for _name in _names:
        _HTTP_PARAMS[_name] = _label


def _annotation_objects(
    project: Project, module: Module, fn: Function, annotation: ast.expr | None
) -> list[str]:
    if annotation is None:
        return []
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return []
    found: list[str] = []
    for node in ast.walk(annotation):
        if isinstance(node, (ast.Name, ast.Attribute)):
            label = _HTTP_PARAMS.get(project.resolve(module, node, fn.parent) or "")
            if label is not None and label not in found:
                found.append(label)
    return found


@rule(
    code="FAA505",
    name="http-objects-in-service",
    summary="A service or repository function takes `Request`, `Response`, "
    "`BackgroundTasks` or `UploadFile`",
    severity="warning",
    scope="project",
    fix_title="Pass the plain values the function needs instead of the HTTP object",
    references=("https://fastapi.tiangolo.com/tutorial/bigger-applications/",),
)
def http_objects_in_service(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds functions and methods of the service and repository layers (`services/`,
    `service.py`, `repositories/`, `crud.py`, ...) with a parameter annotated
    `Request`, `Response`, `BackgroundTasks` or `UploadFile` (FastAPI's or Starlette's,
    also inside `Optional[...]` or `X | None`).

    ## Why is this bad?
    Those objects exist only while an HTTP request is being served. A service that
    needs one cannot be called from a background worker, a CLI command or a test
    without faking a request, and it hides what it really uses (a header, the client
    address, the uploaded bytes) behind a wide interface. An `UploadFile` is closed when
    the request ends, so a service keeping it for later reads a closed file.

    ## Known problems
    Functions in those modules that are FastAPI dependencies (used in `Depends()`, or
    with `Depends()` parameters or parameters FastAPI reads from the request, such as
    `Header()`, and never called directly), route handlers, exception
    handlers or HTTP middleware are transport code and are not reported, and so is a
    request-to-response adapter: a function that takes the `Request` and whose every
    `return` gives a `Response` it builds (a reverse proxy forwarding the request and
    streaming the answer back), with a helper in its module that it hands the request to
    and that nothing else calls. A helper taking a `Response` only to set a cookie on it
    builds no response and is reported. Unannotated parameters are not reported, nor
    is the parameter of a method override that its project base declaration takes too
    (a dependency-injection base's `inject(self, request)`, overridden by each service's
    injector): it is reported once, at the base, when the base is in a service or
    repository module that imports FastAPI or Starlette (and not at all when the base is
    HTTP code). The first base found is that of a breadth-first walk of the ancestors,
    not Python's method order: in a diamond it may be another class's.
    `WebSocket` is not reported: a connection manager (FastAPI's documented
    `ConnectionManager`) is transport code by nature, wherever it is kept.

    ## Example
    ```python
    # app/services/audit.py
    def record_login(request: Request, user: User) -> None:
        log.info("login", user=user.id, ip=request.client.host)
    ```

    ## Use instead
    ```python
    # app/services/audit.py
    def record_login(user: User, client_ip: str | None) -> None:
        log.info("login", user=user.id, ip=client_ip)


    # app/api/auth.py: record_login(user, request.client.host if request.client else None)
    ```

    ## Fix safety
    There is no automatic fix.
    """
    model = ctx.model
    for module in ctx.project.module_list:
        layer = _checked_module(model, module)
        if layer is None:
            continue
        for fn in module.functions.values():
            if _in_http_code(model, fn):
                continue
            base: dict[str, list[str]] | None = None
            looked_up = False  # the base declaration, looked up at the first HTTP object
            for param, _default in parameters(fn.node):
                labels = _annotation_objects(ctx.project, module, fn, param.annotation)
                if not labels:
                    continue
                if not looked_up:
                    base, looked_up = _declared_by(model, fn), True
                if base is not None and labels[0] in base.get(param.arg, ()):
                    continue
                yield Report(
                    param,
                    f"{_LAYER_NAMES[layer]} function `{fn.display}` takes `{param.arg}: "
                    f"{labels[0]}`: pass the values it needs, not the HTTP object",
                    module,
                )


# ===================================================================== FAA502

MAX_ROUTE_STATEMENTS = 30
MAX_ROUTE_BRANCHES = 8
MAX_ROUTE_LOOP_DEPTH = 2
_LOOP_TYPES = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass
class _Size:
    statements: int = 0
    branches: int = 0
    loop_depth: int = 0
    deepest: ast.AST | None = None


def _measure(
    body: list[ast.stmt], size: _Size, depth: int = 0, sockets: frozenset[str] = frozenset()
) -> None:
    for stmt in body:
        if isinstance(stmt, _SCOPES):
            size.statements += 1  # a nested def counts once; its body is its own affair
            continue
        size.statements += 1
        inner = depth
        if isinstance(stmt, _LOOP_TYPES):
            size.branches += 1
            # `while True:` is a websocket's or a stream's receive loop, not nesting.
            forever = isinstance(stmt, ast.While) and _is_true_constant(stmt.test)
            inner = depth if forever else depth + 1
            if inner > size.loop_depth:
                size.loop_depth = inner
                size.deepest = stmt
        elif isinstance(stmt, ast.If) and not _is_guard(stmt, sockets):
            size.branches += 1
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            size.branches += len(getattr(stmt, "handlers", []))
        elif isinstance(stmt, ast.Match):
            size.branches += len(stmt.cases)
            for case in stmt.cases:
                _measure(case.body, size, inner, sockets)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(stmt, name, None)
            if isinstance(block, list):
                _measure([s for s in block if isinstance(s, ast.stmt)], size, inner, sockets)
        for handler in getattr(stmt, "handlers", []) or []:
            _measure(handler.body, size, inner, sockets)


# What a websocket handler may do to the client before it gives up on a failed check.
_SOCKET_REJECTS = frozenset({"close", "send", "send_json", "send_text", "send_bytes"})


def _is_guard(stmt: ast.If, sockets: frozenset[str] = frozenset()) -> bool:
    """`if not found: raise HTTPException(404)`: a guard clause, the handler's own job.
    In a websocket handler (`sockets` holds its `WebSocket` parameters) the same check
    ends the connection instead: `if ...: await ws.close(code=4003); return`, `return
    await ws.close(...)`, or a bare `return` after a helper that closed it."""
    if stmt.orelse or not stmt.body:
        return False
    if len(stmt.body) == 1 and isinstance(stmt.body[0], ast.Raise):
        return True
    if not sockets:
        return False
    *before, last = stmt.body
    if not isinstance(last, ast.Return):
        return False
    value = last.value
    if isinstance(value, ast.Await):
        if not _is_socket_call(value.value, sockets, frozenset({"close"})):
            return False
    elif not (value is None or (isinstance(value, ast.Constant) and value.value is None)):
        return False
    return all(
        isinstance(s, ast.Expr)
        and isinstance(s.value, ast.Await)
        and _is_socket_call(s.value.value, sockets, _SOCKET_REJECTS)
        for s in before
    )


def _is_socket_call(expr: ast.expr, sockets: frozenset[str], methods: frozenset[str]) -> bool:
    """`ws.close(...)` (one of `methods`) on one of the handler's `WebSocket` parameters."""
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in methods
        and isinstance(expr.func.value, ast.Name)
        and expr.func.value.id in sockets
    )


def _websocket_params(project: Project, route: Route) -> frozenset[str]:
    """The names of a websocket handler's `WebSocket` parameters (FastAPI injects the
    connection by that annotation, also through `Annotated` and aliases)."""
    if route.kind != "websocket":
        return frozenset()
    fn = route.handler
    return frozenset(
        arg.arg
        for arg, _ in parameters(fn.node)
        if annotation_type(project, fn.module, arg.annotation, fn) in WEBSOCKET
    )


def _is_true_constant(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value in (True, 1)


@rule(
    code="FAA502",
    name="fat-route-handler",
    summary="A path operation function is too long or too branchy: business logic in the "
    "transport layer",
    severity="info",
    scope="route",
    fix_title="Move the logic into a service function and keep the handler thin",
    references=(
        "https://fastapi.tiangolo.com/tutorial/bigger-applications/",
        "https://docs.astral.sh/ruff/rules/too-many-statements/",
    ),
)
def fat_route_handler(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Measures each path operation function: it is reported when its body has more than
    30 statements, more than 8 branches (`if`/`elif`, loops, `except` clauses, `match`
    cases; a guard clause `if ...: raise ...` is not a branch: turning a failed check
    into an HTTP error is the handler's job, and neither is its websocket form, `if
    ...: await ws.close(code=4003); return`, `return await ws.close(...)` or a bare
    `return`), or loops nested three deep (a `while True:` receive loop of a websocket
    or a stream does not count as a level). Nested functions count as one statement.

    ## Why is this bad?
    A handler should parse the request, call the application, and shape the response.
    A long or branchy handler holds business rules that cannot be reused by another
    endpoint, a worker or a CLI command, and can only be tested through HTTP. The
    limits are stricter than the usual complexity limits (ruff's `PLR0915` allows 50
    statements, `PLR0912` 12 branches) because a handler should have almost no logic of
    its own.

    ## Known problems
    The limits cannot be configured yet. Two nested loops are not reported: shaping a
    nested response (`for author in authors: for book in author.books: ...`) is
    ordinary handler work. Handlers in test modules are not reported. A handler
    registered on several routes is reported once.

    ## Example
    ```python
    @router.post("/orders", status_code=201)
    async def create_order(payload: OrderIn, db: SessionDep) -> OrderOut:
        total = Decimal(0)
        for item in payload.items:
            book = await db.get(Book, item.book_id)
            if book is None:
                raise HTTPException(404)
            if book.stock < item.quantity:
                raise HTTPException(409)
            for discount in book.discounts:
                if discount.applies_to(item):
                    ...  # pricing rules, stock updates, 30 more lines
    ```

    ## Use instead
    ```python
    @router.post("/orders", status_code=201)
    async def create_order(payload: OrderIn, orders: OrderServiceDep) -> OrderOut:
        return await orders.place(payload)
    ```

    ## Fix safety
    There is no automatic fix.
    """
    handler = route.handler
    if is_test_module(handler.module):
        return
    st = _state(ctx.model)
    key = ("FAA502", id(handler.node))
    if key in st.reported:
        return  # one handler registered on several routes is reported once
    st.reported.add(key)
    size = _Size()
    _measure(
        without_docstring(handler.node.body), size, sockets=_websocket_params(ctx.project, route)
    )
    reasons: list[str] = []
    if size.statements > MAX_ROUTE_STATEMENTS:
        reasons.append(f"{size.statements} statements (limit {MAX_ROUTE_STATEMENTS})")
    if size.branches > MAX_ROUTE_BRANCHES:
        reasons.append(f"{size.branches} branches (limit {MAX_ROUTE_BRANCHES})")
    if size.loop_depth > MAX_ROUTE_LOOP_DEPTH:
        reasons.append(f"loops nested {size.loop_depth} deep (limit {MAX_ROUTE_LOOP_DEPTH})")
    if not reasons:
        return
    yield Report(
        handler.node,
        f"route handler `{handler.name}` has {', '.join(reasons)}: move the logic into a service",
        handler.module,
    )


# ===================================================================== FAA506

_CONTAINER_CALLS = frozenset(
    {
        "dict",
        "list",
        "set",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
    }
)
_MUTATORS = frozenset(
    {
        "append",
        "appendleft",
        "extend",
        "extendleft",
        "insert",
        "pop",
        "popleft",
        "popitem",
        "update",
        "setdefault",
        "clear",
        "remove",
        "add",
        "discard",
    }
)


def _container_kind(ctx: ProjectContext, module: Module, value: ast.expr) -> str | None:
    if isinstance(value, (ast.Dict, ast.DictComp)):
        return "dict"
    if isinstance(value, (ast.List, ast.ListComp)):
        return "list"
    if isinstance(value, (ast.Set, ast.SetComp)):
        return "set"
    if isinstance(value, ast.Call):
        name = ctx.project.resolve(module, value.func)
        if name in _CONTAINER_CALLS:
            return name.rsplit(".", 1)[-1]
    return None


def _mutated_target(node: ast.AST) -> ast.expr | None:
    """The container expression a statement or call mutates in place, if any."""
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript):
                return target.value
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _MUTATORS
    ):
        return node.func.value
    return None


def _global_rebinds(body: list[ast.AST]) -> dict[str, ast.AST]:
    """Names a function (whose body nodes are `body`) declares `global` and assigns:
    rebinding module state."""
    declared: set[str] = set()
    for node in body:
        if isinstance(node, ast.Global):
            declared.update(node.names)
    out: dict[str, ast.AST] = {}
    if not declared:
        return out
    for node in body:
        for target in assignment_targets(node):
            if isinstance(target, ast.Name) and target.id in declared:
                out.setdefault(target.id, node)
    return out


def _task_sets(ctx: ProjectContext, handler: Function, body: list[ast.AST]) -> dict[str, set[str]]:
    """The containers a handler empties as its tasks finish, with the names of those
    tasks: `task.add_done_callback(TASKS.discard)` (asyncio's documented way to keep a
    reference to a running task, so that it is not collected mid-run). Adding such a
    task holds running work, not data; adding anything else is still a store."""
    out: dict[str, set[str]] = {}
    for node in body:
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_done_callback"
            and isinstance(node.func.value, ast.Name)
            and len(node.args) == 1
        ):
            continue
        callback = node.args[0]
        if isinstance(callback, ast.Attribute) and callback.attr in ("discard", "remove"):
            name = ctx.project.resolve(handler.module, callback.value, handler)
            if name is not None:
                out.setdefault(name, set()).add(node.func.value.id)
    return out


def _adds_task(node: ast.AST, tasks: set[str]) -> bool:
    """`TASKS.add(task)` of one of these tasks."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id in tasks
    )


def _lazy_init_nodes(body: list[ast.AST]) -> set[int]:
    """Ids of the nodes inside one-time initialisation blocks of a function (whose body
    nodes are `body`): `if not <flag>:` whose body also sets `<flag> = True` (gradio's
    `if not app.monitoring_enabled: ...; app.monitoring_enabled = True`). They run once
    per worker, not per request."""
    out: set[int] = set()
    for node in body:
        if not (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.UnaryOp)
            and isinstance(node.test.op, ast.Not)
        ):
            continue
        flag = dotted(node.test.operand)
        if flag is None:
            continue
        sets_flag = any(
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Constant)
            and stmt.value.value is True
            and any(dotted(t) == flag for t in stmt.targets)
            for stmt in node.body
        )
        if sets_flag:
            out.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return out


@rule(
    code="FAA506",
    name="module-level-mutable-state",
    summary="A module-level `dict`, `list` or `set` is mutated in a route handler, as a "
    "data store or cache",
    severity="warning",
    scope="route",
    fix_title="Keep the data in a database or cache service, or in `app.state` set up by "
    "the lifespan",
    references=(
        "https://fastapi.tiangolo.com/deployment/server-workers/",
        "https://fastapi.tiangolo.com/advanced/events/#lifespan",
    ),
)
def module_level_mutable_state(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operation functions that change a module-level container in place:
    `ITEMS[key] = value`, `del CACHE[key]`, `ITEMS.append(...)`, `.update()`,
    `.setdefault()`, `.pop()`..., or rebind it through `global`. The container is a
    `dict`, `list` or `set` literal (or comprehension), or `dict()`, `list()`, `set()`,
    `defaultdict()`, `OrderedDict()`, `Counter()` or `deque()`, defined in the same or
    another module of the project.

    ## Why is this bad?
    Module state lives in one worker process. With several workers (`uvicorn
    --workers`, gunicorn, several containers) each has its own copy, so a client sees
    data appear and vanish depending on which process answers; everything is lost on
    restart; nothing bounds its growth; and concurrent requests (threadpool handlers,
    or `await` between a read and a write) race on it.

    ## Known problems
    Only the handler's own body is checked (a helper called from it is not). A
    container filled at startup (in the lifespan) and only read by handlers is fine and
    is not reported, nor is a store made once, under a guard flag (`if not
    app.state.ready: CACHE["x"] = ...; app.state.ready = True`), nor are websocket
    routes keeping their open connections, nor a set of running tasks the handler empties
    as they finish (`TASKS.add(task)` with `task.add_done_callback(TASKS.discard)`,
    asyncio's documented way to keep a task alive), nor test modules. FastAPI's tutorials use
    module-level dictionaries as a fake database: they are reported when a handler
    writes to them, by design.

    ## Example
    ```python
    items: dict[int, Item] = {}


    @app.post("/items")
    async def create_item(item: Item) -> Item:
        items[item.id] = item
        return item
    ```

    ## Use instead
    ```python
    @app.post("/items")
    async def create_item(item: Item, repo: ItemRepositoryDep) -> Item:
        return await repo.add(item)
    ```

    ## Fix safety
    There is no automatic fix.
    """
    handler = route.handler
    if route.kind != "http" or is_test_module(handler.module):
        return
    st = _state(ctx.model)
    key = ("FAA506", id(handler.node))
    if key in st.reported:
        return
    st.reported.add(key)
    module = handler.module
    project = ctx.project
    reported: set[str] = set()
    body = list(body_nodes(handler.node))  # read three times below
    globals_ = _global_rebinds(body)
    for name, node in globals_.items():
        value = project.module_value(f"{module.name}.{name}")
        kind = _container_kind(ctx, value[0], value[1]) if value is not None else None
        if kind is None:
            continue
        reported.add(f"{module.name}.{name}")
        yield Report(
            node,
            f"route handler `{handler.name}` rebinds module-level {kind} `{name}`: module "
            "state is per worker and lost on restart",
            module,
        )
    once = _lazy_init_nodes(body)
    released = _task_sets(ctx, handler, body)
    for node in body:
        target = _mutated_target(node)
        if target is None or not isinstance(target, (ast.Name, ast.Attribute)):
            continue
        if id(node) in once:
            continue
        if isinstance(target, ast.Name) and target.id in globals_:
            qualname: str | None = f"{module.name}.{target.id}"
        else:
            qualname = project.resolve(module, target, handler)
        if qualname is None or qualname in reported:
            continue
        if qualname in released and _adds_task(node, released[qualname]):
            continue
        value = project.module_value(qualname)
        if value is None:
            continue
        kind = _container_kind(ctx, value[0], value[1])
        if kind is None:
            continue
        reported.add(qualname)
        label = qualname.rsplit(".", 1)[-1]
        yield Report(
            node,
            f"route handler `{handler.name}` mutates module-level {kind} `{label}`: module "
            "state is per worker, lost on restart and shared by concurrent requests",
            module,
        )


# ===================================================================== FAA507

_ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.getenvb", "os.environb.get"})
_ENV_MAPPINGS = frozenset({"os.environ", "os.environb"})
_SETTINGS_BASES = frozenset(
    {"pydantic_settings.BaseSettings", "pydantic.BaseSettings", "pydantic.v1.BaseSettings"}
)


def _may_read_env(model: AppModel, node: ast.AST) -> bool:
    """False when `_env_read` cannot find a read in `node`, whatever the scope: the names
    it would resolve cannot reach the environment (`may_resolve_to`)."""
    if isinstance(node, ast.Call):
        return may_resolve_to(model, node.func, _ENV_GETTERS)
    if isinstance(node, ast.Subscript):
        return isinstance(node.ctx, ast.Load) and may_resolve_to(model, node.value, _ENV_MAPPINGS)
    return (
        isinstance(node, ast.Compare)
        and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
        and any(may_resolve_to(model, c, _ENV_MAPPINGS) for c in node.comparators)
    )


def _env_read(
    ctx: ProjectContext, module: Module, node: ast.AST, fn: Function | None
) -> str | None:
    """`os.getenv(...)`, `os.environ.get(...)`, `os.environ[...]`, `... in os.environ`."""
    project = ctx.project
    if isinstance(node, ast.Call):
        name = project.resolve(module, node.func, fn)
        if name in _ENV_GETTERS:
            return f"{name}()"
    elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        if project.resolve(module, node.value, fn) in _ENV_MAPPINGS:
            return "os.environ[...]"
    elif (
        isinstance(node, ast.Compare)
        and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
        and any(project.resolve(module, c, fn) in _ENV_MAPPINGS for c in node.comparators)
    ):
        return "... in os.environ"
    return None


# Variables the OS, the container platform or another tool owns: a read of one reports
# what that tool or the process sees (a diagnostic endpoint echoing `KUBECONFIG`, an
# "are we in a pod?" check), not a setting of this app that belongs on its `Settings`.
# Only names whose owner is well known and reads them itself are listed.
_FOREIGN_ENV_VARIABLES = frozenset(
    {
        # POSIX login and shell environment.
        *("HOME", "PATH", "USER", "LOGNAME", "SHELL", "PWD", "TMPDIR", "HOSTNAME"),
        # The Python interpreter and virtualenv activation.
        *("PYTHONPATH", "VIRTUAL_ENV"),
        # kubectl and the kubernetes client; the kubelet sets the service host and port
        # in every pod.
        *("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"),
        # Cloud SDKs resolve the profile, region and credentials file themselves.
        *("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "GOOGLE_APPLICATION_CREDENTIALS"),
        # The CUDA runtime (set by the GPU scheduler); prometheus_client's multiprocess
        # switch, which the app must mirror rather than configure.
        *("CUDA_VISIBLE_DEVICES", "PROMETHEUS_MULTIPROC_DIR"),
    }
)


def _env_variable(node: ast.AST) -> str | None:
    """The literal name an environment read asks for (`os.getenv("HOME")` -> `HOME`)."""
    if isinstance(node, ast.Call):
        return const_str(argument(node, 0, "key"))
    if isinstance(node, ast.Subscript):
        return const_str(node.slice)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return const_str(node.left)
    return None


def _module_kind(model: AppModel, module: Module, layer: Layer) -> str:
    """`router`, `service`...; `app` for a route module that creates a `FastAPI()` app
    and no `APIRouter()`."""
    if layer == "route" and {r.kind for r in _built_in(model, module)} == {"app"}:
        return "app"
    return _LAYER_NAMES[layer]


def _builds_root_app(model: AppModel, module: Module) -> bool:
    """Does the module build `FastAPI()` apps, no `APIRouter()`, and none that another
    app mounts or includes (a sub-app is served by the composition root, not one)?"""
    built = _built_in(model, module)
    return bool(built) and all(r.kind == "app" and not r.included_by for r in built)


def _built_in(model: AppModel, module: Module) -> list[RouterObj]:
    """The apps and routers the module builds."""
    return [r for r in model.routers.values() if r.module is module]


def _defines_settings(ctx: ProjectContext, module: Module) -> bool:
    return any(
        ctx.project.is_subclass(cls.qualname, _SETTINGS_BASES) for cls in module.classes.values()
    )


def _is_main_guard(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


@rule(
    code="FAA507",
    name="scattered-env-config",
    summary="Environment variables read in routers, services or repositories instead of "
    "through a `BaseSettings` object",
    severity="warning",
    scope="project",
    fix_title="Declare the value on the `BaseSettings` class and inject the settings",
    references=(
        "https://fastapi.tiangolo.com/advanced/settings/",
        "https://docs.pydantic.dev/latest/concepts/pydantic_settings/",
    ),
)
def scattered_env_config(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds environment reads (`os.getenv()`, `os.environ.get()`, `os.environ[...]`,
    `"X" in os.environ`) in service and repository modules (by path: `services/`,
    `repositories/`, `crud.py`...), and in route handlers and dependencies. In a router
    module named so (`routers/`, `api/`, `routes.py`), module-level reads are reported
    too; functions of a router module that are neither handlers nor dependencies (an app
    factory, a `mount_app()` helper) are wiring and are not reported, nor is the module
    level of a module that is a router only because it registers routes (a single
    `main.py`: the composition root), nor that of a module in a router folder that
    builds the `FastAPI()` app, no `APIRouter()` and no app that another mounts
    (`api/server.py`).

    ## Why is this bad?
    Configuration read wherever it is needed has no single list of the variables the
    service needs, no validation or type conversion (`"false"` is truthy), no defaults
    in one place, and fails late: at the first request that reaches the read instead of
    at startup. Tests must patch the process environment instead of overriding one
    settings dependency. A `pydantic-settings` `BaseSettings` class read once and
    injected with `Depends()` fixes all of these.

    ## Known problems
    Modules that define a `BaseSettings` subclass, modules outside the recognised
    layers (`core/config.py`, `settings.py`, `db/session.py`...), test modules and
    `if __name__ == "__main__":` blocks are not reported. Nor are reads of well-known
    variables the OS, the platform or another tool owns (`HOME`, `PATH`, `KUBECONFIG`,
    `KUBERNETES_SERVICE_HOST`, `AWS_PROFILE`, `CUDA_VISIBLE_DEVICES`...): they report
    what that tool or the process sees (a diagnostic endpoint, an "in a pod?" check),
    not this app's configuration.

    ## Example
    ```python
    # app/services/mail.py
    import os


    def send_welcome(to: str) -> None:
        host = os.getenv("SMTP_HOST", "localhost")
        ...
    ```

    ## Use instead
    ```python
    # app/core/config.py
    class Settings(BaseSettings):
        smtp_host: str = "localhost"


    # app/services/mail.py
    def send_welcome(to: str, settings: Settings) -> None:
        host = settings.smtp_host
        ...
    ```

    ## Fix safety
    There is no automatic fix.
    """
    model = ctx.model
    for module in ctx.project.module_list:
        layer = layer_of(model, module)
        if layer not in ("route", "service", "repository") or not module.imports_anything("os"):
            continue
        if _defines_settings(ctx, module):
            continue
        # The module level of a router module named so is reported, but not that of the
        # composition root: a module in a router folder that only builds the application
        # (`api/server.py`), mounted nowhere, is wiring.
        by_path = path_layer(module)
        wiring_level = by_path not in ("route", "service", "repository") or (
            by_path == "route" and _builds_root_app(model, module)
        )
        assert layer is not None
        seen: set[int] = set()
        for node, stack in _walk_with_stack(module.tree):
            if not isinstance(node, (ast.Call, ast.Subscript, ast.Compare)):
                continue
            if not _may_read_env(model, node):
                continue  # (syntax only: spares most nodes the checks of their ancestors)
            line = getattr(node, "lineno", 0)
            if line in seen or any(_is_main_guard(n) for n in stack):
                continue
            fn = _enclosing(model, module, stack)
            if layer == "route" and (
                (fn is None and wiring_level) or (fn is not None and not _in_transport(model, fn))
            ):
                continue  # app factories and helpers of a router module: its wiring
            label = _env_read(ctx, module, node, fn)
            if label is None or _env_variable(node) in _FOREIGN_ENV_VARIABLES:
                continue
            seen.add(line)
            yield Report(
                node,
                f"`{label}` in {_module_kind(model, module, layer)} module `{module.name}`: read "
                "configuration once through a `BaseSettings` object and inject it",
                module,
            )


# ===================================================================== FAA508

_CACHES = frozenset({"functools.lru_cache", "functools.cache"})
_DEPENDS = frozenset(
    {"fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security"}
)


def _authenticates(model: AppModel, fn: Function) -> bool:
    """Does the dependency check credentials, itself or through its own dependencies (the
    tutorial's `get_active_user` → `get_current_user` → `oauth2_scheme`): a credential
    header parameter, a security scheme, or a body that refuses with 401/403 or reads the
    `Authorization` header? (Not a name pattern alone: a `require_feature` flag is no
    authentication.)"""
    found = fn.derived.get(_authenticates)
    if found is None:
        project = model.project

        def checks(dependency: Function) -> bool:
            return credential_param(project, dependency) or body_authenticates(
                project, dependency, ()
            )

        found = fn.derived[_authenticates] = checks(fn) or any(
            target.scheme is not None or (target.function is not None and checks(target.function))
            for _site, target in walk_dependencies(project, param_sites(project, fn))
        )
    return bool(found)


def _is_cached(ctx: ProjectContext, fn: Function) -> bool:
    for decorator in fn.node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ctx.project.resolve(fn.module, target, fn.parent) in _CACHES:
            return True
    return False


def _inside_depends(ctx: ProjectContext, fn: Function, stack: list[ast.AST]) -> bool:
    return any(
        isinstance(n, ast.Call) and ctx.project.resolve(fn.module, n.func, fn) in _DEPENDS
        for n in stack
    )


def _calls_with_stack(fn: Function) -> Iterator[tuple[ast.Call, list[ast.AST]]]:
    # (`child_nodes` rather than `ast.iter_child_nodes`: the same children but the
    # `ctx` markers, which hold no call, at a fraction of the cost.)
    def walk(node: ast.AST, stack: list[ast.AST]) -> Iterator[tuple[ast.Call, list[ast.AST]]]:
        for child in child_nodes(node):
            if isinstance(child, _SCOPES):
                continue
            if isinstance(child, ast.Call):
                yield child, stack
            stack.append(child)
            yield from walk(child, stack)
            stack.pop()

    for stmt in fn.node.body:
        if isinstance(stmt, _SCOPES):
            continue
        yield from walk(stmt, [stmt])


_CATCH_HTTP = _HTTP_EXCEPTIONS | frozenset(
    {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
)


def _optional_call(ctx: ProjectContext, fn: Function, stack: list[ast.AST]) -> bool:
    """Is the call in the body of a `try` whose `except HTTPException` (or a base of
    it) swallows the error (`return None`, no `raise`)? That is how a dependency makes
    a raising dependency optional (`get_optional_user`): a `Depends()` parameter would
    fail the request before the wrapper runs."""
    for i, node in enumerate(stack[:-1]):
        if not (isinstance(node, ast.Try) and stack[i + 1] in node.body):
            continue
        for handler in node.handlers:
            caught = handler.type
            elements = (
                [] if caught is None else caught.elts if isinstance(caught, ast.Tuple) else [caught]
            )
            if caught is not None and not any(
                ctx.project.resolve(fn.module, e, fn) in _CATCH_HTTP for e in elements
            ):
                continue
            if not any(isinstance(n, ast.Raise) for st in handler.body for n in walk(st)):
                return True
    return False


def _request_names(ctx: ProjectContext, fn: Function) -> frozenset[str]:
    """The names of `fn` that hold request data: its parameters not declared with
    `Depends()`/`Security()` (the body, the query, `request`), and the locals assigned
    from an expression that reads one (`body = await request.json()`, `auth =
    route["auth"]`), to a fixed point. A dependency's value (settings, a session) is not
    request data, nor is the application's configuration reached from the request
    (`request.app.state.settings`, see `_reads`), nor what a dependency called
    directly returns (`user = await require_user(request, token)`)."""
    injected = {site.param for site in param_sites(ctx.project, fn)}
    args = fn.node.args
    names = {
        a.arg
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
        if a is not None and a.arg not in injected
    }
    bindings: list[tuple[ast.AST, ast.AST]] = []
    todo: list[ast.AST] = [s for s in fn.node.body if not isinstance(s, _SCOPES)]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Assign):
            bindings.extend((t, node.value) for t in node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            if node.value is not None:
                bindings.append((node.target, node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            bindings.append((node.target, node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            bindings.append((node.optional_vars, node.context_expr))
        todo.extend(c for c in child_nodes(node) if not isinstance(c, _SCOPES))
    bindings = [(t, v) for t, v in bindings if not _calls_dependency(ctx, fn, v)]
    changed = True
    while changed:
        changed = False
        for target, value in bindings:
            if not _reads(value, names):
                continue
            for n in walk(target):
                if isinstance(n, ast.Name) and n.id not in names:
                    names.add(n.id)
                    changed = True
    return frozenset(names)


def _calls_dependency(ctx: ProjectContext, fn: Function, expr: ast.AST) -> bool:
    """Does the expression call a dependency (`await require_user(request, token)`)?"""
    project = ctx.project
    for node in walk(expr):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            callee = project.function(project.resolve(fn.module, node.func, fn))
            if callee is not None and ctx.model.is_dependency(callee):
                return True
    return False


def _reads(expr: ast.AST, names: set[str] | frozenset[str]) -> bool:
    """Does the expression read one of `names`, other than to reach the application's
    configuration (`request.app`, `request.state`, `request.scope["app"]`)?"""
    todo = [expr]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if _app_config(node, names):
            continue
        todo.extend(child_nodes(node))
    return False


def _app_config(node: ast.AST, names: set[str] | frozenset[str]) -> bool:
    """`request.app`, `request.state`, `request.scope["app"]` of a request name."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == "app"
    ):
        node = node.value
        attrs: tuple[str, ...] = ("scope",)
    else:
        attrs = ("app", "state")
    return (
        isinstance(node, ast.Attribute)
        and node.attr in attrs
        and isinstance(node.value, ast.Name)
        and node.value.id in names
    )


def _conditional(stack: list[ast.AST]) -> bool:
    """Is the last node of `stack` in a branch of an `if` (or conditional expression)
    rather than outside any, or in its test?"""
    for node, child in itertools.pairwise(stack):
        if isinstance(node, ast.If) and any(child is b for b in (*node.body, *node.orelse)):
            return True
        if isinstance(node, ast.IfExp) and (child is node.body or child is node.orelse):
            return True
    return False


def _calls_of(ctx: ProjectContext, fn: Function, nodes: list[ast.AST], callee: Function) -> bool:
    project = ctx.project
    for top in nodes:
        for node in walk(top):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, (ast.Name, ast.Attribute))
                and project.function(project.resolve(fn.module, node.func, fn)) is callee
            ):
                return True
    return False


def _per_request_call(
    ctx: ProjectContext,
    fn: Function,
    callee: Function,
    stack: list[ast.AST],
    memo: dict[int, frozenset[str]],
) -> bool:
    """Does the call run only in one branch of its innermost `if` (or conditional
    expression), whose test reads request data (`if body.get("auth") == "user": await
    require_user(...)`)? The dependency is needed only for some requests, which a
    `Depends()` parameter cannot express: it would run on every request. Only the
    innermost condition decides: a call in the test of an `if` nested in such a branch
    (`if user: ... if get_settings().flag:`) is still reported. A test on configuration
    (`if settings.AUTH_ENABLED:`) does not count: a dependency can read the setting
    itself. Nor does a branch whose other one calls the same dependency too, or only
    returns or raises (`if request.method == "OPTIONS": return {} else: ...`, like an
    early `return`), nor a call of a dependency the function also calls outside any
    branch."""
    for i in range(len(stack) - 2, -1, -1):
        node, child = stack[i], stack[i + 1]
        other: list[ast.AST]
        if isinstance(node, ast.If):
            if any(child is b for b in node.body):
                other = list(node.orelse)
            elif any(child is b for b in node.orelse):
                other = list(node.body)
            else:
                return False  # the call is (in) the test itself
            if other and isinstance(other[-1], (ast.Return, ast.Raise)):
                return False  # the other requests leave early
        elif isinstance(node, ast.IfExp):
            if child is node.body:
                other = [node.orelse]
            elif child is node.orelse:
                other = [node.body]
            else:
                return False
        else:
            continue
        names = memo.get(id(fn.node))
        if names is None:
            names = memo[id(fn.node)] = _request_names(ctx, fn)
        if not _reads(node.test, names) or _calls_of(ctx, fn, other, callee):
            return False
        project = ctx.project
        return not any(
            not _conditional([*outer, call])
            and isinstance(call.func, (ast.Name, ast.Attribute))
            and project.function(project.resolve(fn.module, call.func, fn)) is callee
            for call, outer in _calls_with_stack(fn)
        )
    return False


@rule(
    code="FAA508",
    name="non-injectable-dependency",
    summary="A dependency function is called directly in a route handler or another "
    "dependency instead of being declared with `Depends()`",
    severity="warning",
    scope="project",
    fix_title="Declare it as a parameter with `Depends()` (or an `Annotated` alias)",
    references=(
        "https://fastapi.tiangolo.com/advanced/testing-dependencies/",
        "https://fastapi.tiangolo.com/tutorial/dependencies/sub-dependencies/",
    ),
)
def non_injectable_dependency(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds calls, in route handlers and in dependency functions, to a project function
    that is used as a FastAPI dependency elsewhere (`Depends(get_db)`,
    `Depends(get_current_user)`, `Annotated[..., Depends(...)]`, decorator or router
    `dependencies=`): `db = next(get_db())`, `user = await get_current_user(token)`.

    ## Why is this bad?
    A dependency called by hand is not a dependency any more: FastAPI does not solve
    its own parameters, does not run its cleanup after `yield` (a session is never
    closed), does not cache it per request, and `app.dependency_overrides` cannot
    replace it, so tests that override `get_db` or `get_current_user` still hit the
    real database or the real token check for this endpoint.

    ## Known problems
    A websocket handler calling an authentication dependency (one taking a credential
    header, depending on a security scheme, or refusing with 401/403; not a name
    pattern alone) is not reported: it often authenticates after accepting the connection, with
    credentials from the query string (browsers cannot set headers on a websocket), so
    that it can tell the client why it closes, which a dependency failing before the
    handshake cannot; its other dependencies are. Dependencies cached with
    `functools.lru_cache`/`functools.cache` (the documented
    `get_settings()` pattern) are meant to be called and are not reported; methods and
    classes used as dependencies are not checked; calls inside `Depends(...)` (a
    dependency factory) are not reported, and neither is a dependency that calls
    another inside `try`/`except HTTPException` without re-raising (an optional-auth
    wrapper such as `get_optional_user`, which a `Depends()` parameter cannot build).
    Nor is a call made only in one branch of its innermost `if` (or conditional
    expression) whose test reads request data, that is a parameter not declared with
    `Depends()` or a local assigned from one (`if body.get("auth") == "user": user = await
    require_user(request, token)`): the dependency is needed only for some requests,
    and a `Depends()` parameter would run on every one. A branch on configuration (`if
    settings.AUTH_ENABLED:`, also a value from a `Depends(get_settings)` parameter) is
    still reported, since a dependency can read the setting itself, and so is one on
    the application's configuration reached from the request (`request.app.state.settings`,
    `request.state`, `request.scope["app"]`) or on what a dependency called directly
    returned (`user = await require_user(...)`, then `if user:`); so is a call in the
    test itself, or under an inner `if` on something else, or after an early `return`
    for the other requests (also an `else:` after a branch that only returns or
    raises), or when the other branch calls the same dependency too, or the function
    also calls it outside any branch. Clients built at import time and used in routes
    are not checked yet. Values that middleware stores on `request.state` per request are taken as
    configuration, so a branch on them is reported. Only the innermost `if` is
    compared with its sibling branch: in `if a: dep() elif b: dep()` the second call
    is not reported.

    ## Example
    ```python
    @router.get("/me")
    async def read_me(token: Annotated[str, Depends(oauth2_scheme)]) -> UserOut:
        user = await get_current_user(token)
        return user
    ```

    ## Use instead
    ```python
    @router.get("/me")
    async def read_me(user: Annotated[User, Depends(get_current_user)]) -> UserOut:
        return user
    ```

    ## Fix safety
    There is no automatic fix.
    """
    model = ctx.model
    project = ctx.project
    st = _state(model)
    request_names: dict[int, frozenset[str]] = {}
    for fn in list(project.functions.values()):
        if is_test_module(fn.module):
            continue
        if id(fn.node) not in st.handlers and not model.is_dependency(fn):
            continue
        routes = model.routes_of(fn)
        websocket = bool(routes) and all(route.kind == "websocket" for route in routes)
        for call, stack in _calls_with_stack(fn):
            if not isinstance(call.func, (ast.Name, ast.Attribute)):
                continue
            callee = project.function(project.resolve(fn.module, call.func, fn))
            if (
                callee is None
                or callee is fn
                or callee.class_qualname is not None
                or not model.is_dependency(callee)
                or _is_cached(ctx, callee)
                or _inside_depends(ctx, fn, stack)
            ):
                continue
            if websocket and _authenticates(model, callee):
                continue  # authenticates after `accept()`, to tell the client why it closes
            role = "route handler" if id(fn.node) in st.handlers else "dependency"
            if role == "dependency" and _optional_call(ctx, fn, [*stack, call]):
                continue  # an optional-auth wrapper: `except HTTPException: return None`
            if _per_request_call(ctx, fn, callee, [*stack, call], request_names):
                continue  # needed only for some requests: `Depends()` cannot be conditional
            yield Report(
                call,
                f"dependency `{callee.name}()` is called directly in {role} `{fn.name}`: "
                f"declare it with `Depends({callee.name})` so it can be overridden",
                fn.module,
            )
