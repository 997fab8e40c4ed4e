"""Shared ORM knowledge for the database, injection and architecture rules.

- what a database session (or connection) is: SQLAlchemy/SQLModel `Session`,
  `AsyncSession`, what a `sessionmaker` produces, what a `get_db` dependency yields,
  what `async with request.app.state.db() as session:` opens;
- which calls on a session run SQL, and which build SQL (`select()`, `text()`);
- the project-wide index of ORM models (declarative classes, SQLModel `table=True`)
  with their `relationship()` attributes, targets and loading strategy;
- small per-function facts (every assignment of a local, list appends, membership
  guards) computed once per function.

Everything is cached per `AppModel`, so a run builds each index once.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from fastapi_architect.model.astutil import (
    assignment_targets,
    body_nodes,
    dotted,
    keyword,
    last_name,
    parameters,
    statements,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.dependencies import param_sites, resolve_target
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.pydantic_names import BASE_MODEL, MODEL_BASES
from fastapi_architect.model.types import (
    annotation_type,
    infer_type,
    resolve_callee,
    unwrap_annotation,
)
from fastapi_architect.review.index import project_index

DbKind = Literal["sync", "async"]

_SYNC_SESSIONS = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
        "sqlalchemy.engine.Connection",
        "sqlalchemy.engine.base.Connection",
        "sqlalchemy.Connection",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
    }
)
_ASYNC_SESSIONS = frozenset(
    {
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlalchemy.ext.asyncio.async_scoped_session",
        "sqlalchemy.ext.asyncio.scoping.async_scoped_session",
        "sqlalchemy.ext.asyncio.AsyncConnection",
        "sqlalchemy.ext.asyncio.engine.AsyncConnection",
        "sqlmodel.ext.asyncio.session.AsyncSession",
        "databases.Database",
        "databases.core.Database",
    }
)
# Calling one of these returns a factory; calling the factory (or its `.begin()`) a session.
_SESSION_FACTORIES: dict[str, DbKind] = {
    "sqlalchemy.orm.sessionmaker": "sync",
    "sqlalchemy.orm.session.sessionmaker": "sync",
    "sqlalchemy.orm.scoped_session": "sync",
    "sqlalchemy.orm.scoping.scoped_session": "sync",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "async",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": "async",
    "sqlalchemy.ext.asyncio.async_scoped_session": "async",
    "sqlalchemy.ext.asyncio.scoping.async_scoped_session": "async",
}
# `engine.connect()` / `engine.begin()` give a connection that executes SQL.
_ENGINE_FACTORIES: dict[str, DbKind] = {
    "sqlalchemy.create_engine": "sync",
    "sqlalchemy.engine.create_engine": "sync",
    "sqlmodel.create_engine": "sync",
    "sqlalchemy.ext.asyncio.create_async_engine": "async",
    "sqlalchemy.ext.asyncio.engine.create_async_engine": "async",
}
_FLASK_SQLALCHEMY = frozenset(
    {"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy"}
)
# Untyped names that are sessions in practice; only trusted in modules importing an ORM.
_SESSION_NAMES = frozenset({"db", "session", "db_session", "async_session", "dbsession", "sess"})
_SESSION_ATTRS = frozenset({"db", "session", "_db", "_session", "db_session", "_db_session"})
_ORM_PACKAGES = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy", "fastapi_sqlalchemy")

# Session methods that send a query to the database and return rows or objects.
QUERY_METHODS = frozenset(
    {
        "execute",
        "scalar",
        "scalars",
        "get",
        "get_one",
        "query",
        "exec",
        "stream",
        "stream_scalars",
        "fetch_all",
        "fetch_one",
        "fetch_val",
        "iterate",
    }
)
# Every session method that is database work (for the layering rule).
DB_METHODS = QUERY_METHODS | frozenset(
    {
        "add",
        "add_all",
        "commit",
        "delete",
        "flush",
        "refresh",
        "rollback",
        "merge",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
        "execute_many",
    }
)
# Modules that export the SQL statement constructors (`select`, `insert`, ...).
_SQL_MODULES = (
    "sqlalchemy",
    "sqlalchemy.sql",
    "sqlalchemy.sql.expression",
    "sqlalchemy.future",
    "sqlmodel",
    "sqlmodel.sql.expression",
)
# SQL statement constructors.
SQL_CONSTRUCTS = frozenset(
    {
        *(
            f"{m}.{f}"
            for m in _SQL_MODULES
            for f in ("select", "insert", "update", "delete", "text", "union", "union_all")
        ),
        "sqlalchemy.dialects.postgresql.insert",
        "sqlalchemy.dialects.mysql.insert",
        "sqlalchemy.dialects.sqlite.insert",
    }
)
SELECT_FUNCTIONS = frozenset(f"{m}.select" for m in _SQL_MODULES)
TEXT_FUNCTIONS = frozenset(
    f"{m}.text" for m in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression", "sqlmodel")
)
# Loader options that load a relationship (or make it raise) instead of lazy loading.
LOADER_OPTIONS = frozenset(
    {
        "selectinload",
        "joinedload",
        "subqueryload",
        "contains_eager",
        "immediateload",
        "raiseload",
        "noload",
        "defaultload",
        "selectin_polymorphic",
    }
)
_EAGER_LAZY = frozenset({"selectin", "joined", "subquery", "immediate"})

_MAPPED = frozenset(
    {
        "sqlalchemy.orm.Mapped",
        "sqlalchemy.orm.base.Mapped",
        "sqlalchemy.orm.WriteOnlyMapped",
        "sqlalchemy.orm.DynamicMapped",
    }
)
_COLLECTIONS = frozenset(
    {
        "list",
        "set",
        "frozenset",
        "tuple",
        "typing.List",
        "typing.Set",
        "typing.FrozenSet",
        "typing.Sequence",
        "typing.Iterable",
        "typing.Iterator",
        "typing.Collection",
        "typing.AsyncIterator",
        "typing.AsyncIterable",
        "typing.Tuple",
        "collections.abc.Sequence",
        "collections.abc.Iterable",
        "collections.abc.Iterator",
        "collections.abc.Collection",
        "collections.abc.AsyncIterator",
        "collections.abc.AsyncIterable",
        "collections.abc.Set",
        "collections.abc.MutableSequence",
    }
)
_GENERATORS = frozenset(
    {
        "typing.Iterator",
        "typing.Generator",
        "typing.AsyncIterator",
        "typing.AsyncGenerator",
        "collections.abc.Iterator",
        "collections.abc.Generator",
        "collections.abc.AsyncIterator",
        "collections.abc.AsyncGenerator",
        "typing.ContextManager",
        "typing.AsyncContextManager",
        "contextlib.AbstractContextManager",
        "contextlib.AbstractAsyncContextManager",
    }
)
_CONTEXT_MANAGERS = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})
_DECLARATIVE_BASES = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
_DECLARATIVE_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.orm.registry.generate_base",
    }
)
_SQLMODEL = MODEL_BASES - BASE_MODEL  # SQLModel's roots
_RELATIONSHIP_FUNCTIONS = frozenset(
    {
        "sqlalchemy.orm.relationship",
        "sqlalchemy.orm.relationships.relationship",
        "sqlalchemy.orm.relation",
        "sqlmodel.Relationship",
        "sqlmodel.main.Relationship",
    }
)
_MAX_DEPTH = 6


# ------------------------------------------------------------------ the ORM model index


@dataclass(frozen=True)
class Relationship:
    name: str
    owner: str  # qualified name of the model class that declares it
    target: str | None  # qualified name of the related model, when known
    collection: bool | None
    lazy: str | None  # the `lazy=` strategy; None is the default ("select"); "?" unknown
    node: ast.AST

    @property
    def lazy_loads(self) -> bool:
        """Reading the attribute on a loaded instance emits a query (the default)."""
        return self.lazy in (None, "select", "True")


@dataclass
class OrmModel:
    qualname: str
    name: str
    module: Module
    own: dict[str, Relationship] = field(default_factory=dict)
    relationships: dict[str, Relationship] = field(default_factory=dict)  # with inherited ones


@dataclass
class OrmIndex:
    models: dict[str, OrmModel] = field(default_factory=dict)
    by_name: dict[str, list[OrmModel]] = field(default_factory=dict)
    relationship_names: frozenset[str] = frozenset()

    def model(self, qualname: str | None) -> OrmModel | None:
        if qualname is None:
            return None
        found = self.models.get(qualname)
        if found is None:
            candidates = self.by_name.get(last_name(qualname), [])
            # Only an unqualified name may fall back to the class-name registry (as
            # SQLAlchemy resolves `relationship("Book")`), and only when it is unique.
            if "." not in qualname and len(candidates) == 1:
                found = candidates[0]
        return found


def _build_index(project: Project) -> OrmIndex:
    index = OrmIndex()
    for cls in project.classes.values():
        if _is_orm_class(project, cls.qualname, cls.node):
            model = OrmModel(cls.qualname, cls.node.name, cls.module)
            index.models[cls.qualname] = model
            index.by_name.setdefault(cls.node.name, []).append(model)
    backrefs: list[Relationship] = []
    for model in index.models.values():
        cls = project.classes[model.qualname]
        for stmt in cls.node.body:
            rel, backref = _relationship_of(project, index, model, stmt)
            if rel is not None:
                model.own[rel.name] = rel
            if backref is not None:
                backrefs.append(backref)
    for ref in backrefs:
        target = index.models.get(ref.owner)
        if target is not None:
            target.own.setdefault(ref.name, ref)
    for model in index.models.values():
        for ancestor in reversed(project.mro(model.qualname)):
            parent = index.models.get(ancestor)
            if parent is not None:
                model.relationships.update(parent.own)
    index.relationship_names = frozenset(
        name for model in index.models.values() for name in model.relationships
    )
    return index


def _is_orm_class(project: Project, qualname: str, node: ast.ClassDef) -> bool:
    mro = project.mro(qualname)
    if any(name in _SQLMODEL for name in mro):
        # Only `table=True` models are mapped; the others are plain Pydantic models.
        return any(
            kw.arg == "table" and isinstance(kw.value, ast.Constant) and kw.value.value is True
            for kw in node.keywords
        )
    for name in mro[1:]:
        if name in _DECLARATIVE_BASES:
            return True
        value = project.module_value(name)
        if value is not None and isinstance(value[1], ast.Call):
            callee = project.resolve(value[0], value[1].func)
            if callee in _DECLARATIVE_FACTORIES or (
                callee is not None and callee.endswith(".generate_base")
            ):
                return True
        if name.endswith(".Model") and _is_flask_db(project, name[: -len(".Model")]):
            return True
    return False


def _is_flask_db(project: Project, qualname: str) -> bool:
    value = project.module_value(qualname)
    if value is None or not isinstance(value[1], ast.Call):
        return False
    return project.resolve(value[0], value[1].func) in _FLASK_SQLALCHEMY


def _relationship_of(
    project: Project, index: OrmIndex, model: OrmModel, stmt: ast.stmt
) -> tuple[Relationship | None, Relationship | None]:
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        name, annotation, value = stmt.target.id, stmt.annotation, stmt.value
    elif (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
    ):
        name, annotation, value = stmt.targets[0].id, None, stmt.value
    else:
        return None, None
    if not isinstance(value, ast.Call) or not _is_relationship_call(project, model.module, value):
        return None, None
    module = model.module
    target: str | None = None
    collection: bool | None = None
    lazy: str | None = None
    if annotation is not None:
        target, collection, mapped_lazy = _annotation_target(project, module, annotation)
        lazy = mapped_lazy
    first = value.args[0] if value.args else keyword(value, "argument")
    if target is None and first is not None:
        target = _target_name(project, module, first)
    lazy = _lazy_of(value) if lazy is None else lazy
    resolved = index.model(target)
    rel = Relationship(
        name, model.qualname, resolved.qualname if resolved else target, collection, lazy, stmt
    )
    backref = _backref_of(project, model, value, resolved)
    return rel, backref


def _is_relationship_call(project: Project, module: Module, call: ast.Call) -> bool:
    callee = project.resolve(module, call.func)
    if callee in _RELATIONSHIP_FUNCTIONS:
        return True
    # Flask-SQLAlchemy style: `db.relationship(...)` on `db = SQLAlchemy()`.
    return (
        callee is not None
        and last_name(callee) == "relationship"
        and _is_flask_db(project, callee.rpartition(".")[0])
    )


def _lazy_of(call: ast.Call) -> str | None:
    lazy = keyword(call, "lazy")
    if lazy is None:
        kwargs = keyword(call, "sa_relationship_kwargs")
        if kwargs is not None:
            if not isinstance(kwargs, ast.Dict):
                return "?"
            for key, item in zip(kwargs.keys, kwargs.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "lazy":
                    lazy = item
                elif key is None:
                    return "?"
        inner = keyword(call, "sa_relationship")
        if isinstance(inner, ast.Call):
            return _lazy_of(inner)
        if inner is not None:
            return "?"
    if lazy is None:
        return None
    if isinstance(lazy, ast.Constant) and isinstance(lazy.value, (str, bool)):
        return str(lazy.value)
    return "?"


def _backref_of(
    project: Project, model: OrmModel, call: ast.Call, target: OrmModel | None
) -> Relationship | None:
    value = keyword(call, "backref")
    if value is None or target is None:
        return None
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return Relationship(value.value, target.qualname, model.qualname, None, None, call)
    if (
        isinstance(value, ast.Call)
        and last_name(project.resolve(model.module, value.func)) == "backref"
        and value.args
        and isinstance(value.args[0], ast.Constant)
        and isinstance(value.args[0].value, str)
    ):
        return Relationship(
            value.args[0].value, target.qualname, model.qualname, None, _lazy_of(value), call
        )
    return None


def _annotation_target(
    project: Project, module: Module, annotation: ast.expr
) -> tuple[str | None, bool | None, str | None]:
    """`Mapped[list["Book"]]` → ("Book" resolved, collection, None); `WriteOnlyMapped` and
    `DynamicMapped` also give their loading strategy."""
    expr: ast.expr | None = annotation
    collection: bool | None = False
    lazy: str | None = None
    for _ in range(_MAX_DEPTH):
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            try:
                expr = ast.parse(expr.value, mode="eval").body
            except SyntaxError:
                return None, None, lazy
            continue
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            expr = expr.right if _is_none(expr.left) else expr.left
            continue
        if isinstance(expr, ast.Subscript):
            origin = project.resolve(module, expr.value) or ""
            elements = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
            if not elements:
                return None, None, lazy
            if origin in _MAPPED:
                if origin.endswith("WriteOnlyMapped"):
                    lazy = "write_only"
                elif origin.endswith("DynamicMapped"):
                    lazy = "dynamic"
                expr = elements[0]
                continue
            if origin in ("typing.Optional", "typing_extensions.Optional"):
                expr = elements[0]
                continue
            if origin in ("typing.Union", "typing_extensions.Union") and len(elements) == 2:
                expr = elements[1] if _is_none(elements[0]) else elements[0]
                continue
            if origin in _COLLECTIONS or last_name(origin) in ("list", "set", "List", "Set"):
                collection = True
                expr = elements[0]
                continue
            return None, None, lazy
        if isinstance(expr, (ast.Name, ast.Attribute)):
            return _target_name(project, module, expr), collection, lazy
        return None, None, lazy
    return None, None, lazy


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _target_name(project: Project, module: Module, expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Lambda):
        expr = expr.body
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        text = expr.value.strip()
        if not text.replace(".", "").replace("_", "").isalnum():
            return None
        resolved = project.resolve_name(module, text.split(".")[0])
        if resolved and project.class_(resolved) and "." not in text:
            return project.canonical(resolved)
        # Unknown here (the import would be circular): SQLAlchemy resolves it by class name.
        return text.rsplit(".", 1)[-1]
    if isinstance(expr, (ast.Name, ast.Attribute)):
        return project.resolve(module, expr)
    return None


# ------------------------------------------------------------------ per-function facts


@dataclass
class FunctionFacts:
    # name -> every binding statement of it in the body (Assign, AnnAssign, AugAssign,
    # NamedExpr, with-item), in source order, with the bound value (None for AugAssign:
    # look at the statement).
    assigns: dict[str, list[tuple[ast.AST, ast.expr | None]]] = field(default_factory=dict)
    # name -> arguments of `name.append(x)` / `name.extend(x)` / `name.insert(i, x)`.
    appends: dict[str, list[ast.expr]] = field(default_factory=dict)
    # names checked against a fixed collection (`if x not in ALLOWED: raise`).
    guarded: set[str] = field(default_factory=set)
    params: dict[str, ast.arg] = field(default_factory=dict)
    loop_targets: set[str] = field(default_factory=set)
    # name -> the iterables of the `for` loops that bind it
    loop_iters: dict[str, list[ast.expr]] = field(default_factory=dict)
    # statement id -> (the block holding it, its index there); the function's loops
    places: dict[int, tuple[list[ast.stmt], int]] = field(default_factory=dict)
    loops: list[ast.stmt] = field(default_factory=list)

    def reaching(self, name: str, use: ast.AST) -> list[tuple[ast.AST, ast.expr | None]]:
        """The bindings of `name` that can reach `use`, in source order: those before it
        from the last plain assignment whose block runs on to the use (it overwrites the
        earlier ones), and those after it inside a loop around the use (the next
        iteration sees them). Early `return`s and exceptions are not modelled."""
        bindings = self.assigns.get(name, [])
        line = getattr(use, "lineno", None)
        if line is None:
            return bindings
        before = [b for b in bindings if _line(b[0]) < line]
        start = 0
        for index, (node, _value) in enumerate(before):
            if not isinstance(node, ast.AugAssign) and self._runs_on_to(node, line):
                start = index
        after = [
            b
            for b in bindings
            if _line(b[0]) >= line
            and any(_spans(loop, line) and _spans(loop, _line(b[0])) for loop in self.loops)
        ]
        return [*before[start:], *after]

    def _runs_on_to(self, stmt: ast.AST, line: int) -> bool:
        place = self.places.get(id(stmt))
        if place is None:
            return False
        block, index = place
        return any(_spans(later, line) for later in block[index + 1 :])


def _line(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def _spans(stmt: ast.AST, line: int) -> bool:
    return _line(stmt) <= line <= int(getattr(stmt, "end_lineno", None) or _line(stmt))


def _index_blocks(block: list[ast.stmt], facts: FunctionFacts) -> None:
    for index, stmt in enumerate(block):
        facts.places[id(stmt)] = (block, index)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            facts.loops.append(stmt)
        inner: list[list[ast.stmt]] = [
            getattr(stmt, name) for name in ("body", "orelse", "finalbody") if hasattr(stmt, name)
        ]
        inner += [handler.body for handler in getattr(stmt, "handlers", ())]
        inner += [case.body for case in getattr(stmt, "cases", ())]
        for body in inner:
            _index_blocks(body, facts)


# The node types `_compute_facts` reads (parsed trees hold these classes, never
# subclasses of them).
_FACT_NODES = frozenset(
    {
        ast.Assign,
        ast.AnnAssign,
        ast.AugAssign,
        ast.NamedExpr,
        ast.With,
        ast.AsyncWith,
        ast.For,
        ast.AsyncFor,
        ast.Call,
        ast.Compare,
    }
)


def _compute_facts(fn: Function) -> tuple[FunctionFacts, list[ast.Compare]]:
    """The facts of `fn`, in one walk of its body, and its tests of a name against
    another (`x in NAMES`), for `_import_time_guards`."""
    facts = FunctionFacts()
    memberships: list[ast.Compare] = []
    _index_blocks(fn.node.body, facts)
    for param, _default in parameters(fn.node):
        facts.params[param.arg] = param
    for node in body_nodes(fn.node):
        if type(node) not in _FACT_NODES:
            continue  # most nodes (names, attributes, constants): one set lookup
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in _target_names(target):
                    facts.assigns.setdefault(name, []).append(
                        (node, node.value if isinstance(target, ast.Name) else None)
                    )
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.value is not None:
                facts.assigns.setdefault(node.target.id, []).append((node, node.value))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            facts.assigns.setdefault(node.target.id, []).append((node, None))
        elif isinstance(node, ast.NamedExpr):
            facts.assigns.setdefault(node.target.id, []).append((node, node.value))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    facts.assigns.setdefault(item.optional_vars.id, []).append(
                        (node, item.context_expr)
                    )
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for name in _target_names(node.target):
                facts.loop_targets.add(name)
                facts.loop_iters.setdefault(name, []).append(node.iter)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and node.func.attr in ("append", "extend", "insert"):
                args = node.args[1:] if node.func.attr == "insert" else node.args
                facts.appends.setdefault(owner.id, []).extend(args)
        elif isinstance(node, ast.Compare):
            _collect_guard(node, facts)
            if (
                len(node.ops) == 1
                and isinstance(node.ops[0], (ast.In, ast.NotIn))
                and isinstance(node.left, ast.Name)
                and isinstance(node.comparators[0], ast.Name)
            ):
                memberships.append(node)
    return facts, memberships


def _target_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _collect_guard(node: ast.Compare, facts: FunctionFacts) -> None:
    # `x in ALLOWED` / `x not in {"a", "b"}`: a membership test against a fixed
    # collection validates `x` (an allowlist). Positive and negative tests both count.
    if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.In, ast.NotIn)):
        return
    if not isinstance(node.left, ast.Name):
        return
    right = node.comparators[0]
    if isinstance(right, ast.Dict):
        fixed = all(isinstance(e, ast.Constant) for e in right.keys)
    elif isinstance(right, (ast.Set, ast.List, ast.Tuple)):
        fixed = all(isinstance(e, ast.Constant) for e in right.elts)
    else:
        fixed = isinstance(right, (ast.Name, ast.Attribute)) and _is_constant_name(right)
    if fixed:
        facts.guarded.add(node.left.id)


def _is_constant_name(expr: ast.expr) -> bool:
    # UPPER_CASE module constants, or an attribute of one / of a class (`Model.__table__.c`).
    root = expr
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(root, ast.Name) and (root.id.isupper() or root.id[:1].isupper())


# ------------------------------------------------------------------ the per-run state


@dataclass
class OrmState:
    model: AppModel
    index: OrmIndex
    facts: dict[int, FunctionFacts] = field(default_factory=dict)
    # Module id -> the module-level names its functions change (`_changed_by_functions`).
    changed_names: dict[int, frozenset[str]] = field(default_factory=dict)
    yield_kinds: dict[int, DbKind | None] = field(default_factory=dict)
    body_queries: dict[int, tuple[ast.Call, str] | None] = field(default_factory=dict)
    # Free-form per-rule caches (keyed by node ids), reset with the model.
    memo: dict[tuple[str, int], object] = field(default_factory=dict)
    reported: set[tuple[object, ...]] = field(default_factory=set)

    @property
    def project(self) -> Project:
        return self.model.project

    def facts_of(self, fn: Function) -> FunctionFacts:
        found = self.facts.get(id(fn.node))
        if found is None:
            found, memberships = _compute_facts(fn)
            self.facts[id(fn.node)] = found
            found.guarded |= _import_time_guards(self.project, fn, memberships, self.changed_names)
        return found


def _new_state(model: AppModel) -> OrmState:
    return OrmState(model, _build_index(model.project))


def state(model: AppModel) -> OrmState:
    """The ORM models, relationships and per-function query facts of the run reviewing
    `model` (the project index's ORM part)."""
    return project_index(model, _new_state)


# Methods that change a collection in place: a module-level list a function appends to
# is filled at run time (maybe with request data), not fixed at import.
_COLLECTION_CHANGES = frozenset(
    {
        "append",
        "extend",
        "insert",
        "add",
        "update",
        "setdefault",
        "remove",
        "discard",
        "pop",
        "clear",
        "appendleft",
        "extendleft",
        "__setitem__",
    }
)


def _changed_by_functions(module: Module) -> frozenset[str]:
    """The module-level names some function of `module` rebinds (`global NAME`) or
    changes in place (`NAME.append(x)`, `NAME[key] = value`, `del NAME[key]`)."""
    out: set[str] = set()
    for fn in module.functions.values():
        for node in body_nodes(fn.node):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                out.update(node.names)
                continue
            roots: list[ast.expr] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in _COLLECTION_CHANGES:
                    roots.append(node.func.value)
            elif isinstance(node, ast.Delete):
                roots.extend(node.targets)
            else:
                roots.extend(assignment_targets(node))
            while any(isinstance(r, (ast.Tuple, ast.List)) for r in roots):
                roots = [
                    e
                    for r in roots
                    for e in (r.elts if isinstance(r, (ast.Tuple, ast.List)) else [r])
                ]
            for root in roots:
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                if isinstance(root, ast.Name) and not fn.binds(root.id):
                    out.add(root.id)
    return frozenset(out)


def _import_time_guards(
    project: Project,
    fn: Function,
    memberships: list[ast.Compare],
    changed: dict[int, frozenset[str]],
) -> set[str]:
    """Names `fn` tests against a module-level collection bound once at import and never
    changed by a function (`root_static_files = get_root_static_files()`, then
    `if file_path in root_static_files:`): a value found in it is one of the entries
    the app fixed at start-up, not a path the client chose. `memberships`: the tests
    `x in NAME` of `fn`'s body (`_compute_facts` finds them)."""
    out: set[str] = set()
    for node in memberships:
        assert isinstance(node.left, ast.Name) and isinstance(node.comparators[0], ast.Name)
        qualname = project.resolve(fn.module, node.comparators[0], fn)
        found = project.module_value(qualname)
        if qualname is None or found is None:
            continue  # a parameter, a local, or not a module-level name
        module = found[0]
        name = project.canonical(qualname).rsplit(".", 1)[-1]
        if id(module) not in changed:
            changed[id(module)] = _changed_by_functions(module)
        if name not in changed[id(module)]:
            out.add(node.left.id)
    return out


# ------------------------------------------------------------------ sessions


def is_test_module(module: Module) -> bool:
    """Test suites: their queries and throwaway routes never serve production traffic.
    A module is one by its path (`tests/`, `test_*.py`, `conftest.py`) or when it defines
    pytest fixtures (a fixture plugin such as `testing/conf.py`)."""
    # Asked about 160,000 times a run: kept with the module (it reads only the module's
    # own path, imports and decorators).
    found = module.derived.get(is_test_module)
    if found is None:
        found = _is_test_path(module.relpath) or _defines_fixtures(module)
        module.derived[is_test_module] = found
    return bool(found)


@functools.lru_cache(maxsize=8192)
def _is_test_path(relpath: str) -> bool:
    parts = relpath.split("/")
    name = parts[-1]
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(p in ("tests", "test") for p in parts[:-1])


_FIXTURE_DECORATORS = frozenset(
    {"pytest.fixture", "pytest.yield_fixture", "pytest_asyncio.fixture", "_pytest.fixtures.fixture"}
)


def _defines_fixtures(module: Module) -> bool:
    """Does `module` define a `@pytest.fixture` (or `@pytest_asyncio.fixture`)?"""
    return module.imports_anything("pytest", "pytest_asyncio", "_pytest") and any(
        _is_fixture(module, decorator)
        for fn in module.functions.values()
        for decorator in fn.node.decorator_list
    )


def _is_fixture(module: Module, decorator: ast.expr) -> bool:
    name = dotted(decorator.func if isinstance(decorator, ast.Call) else decorator)
    if name is None:
        return False
    head, dot, rest = name.partition(".")
    target = module.imports.get(head)
    return target is not None and target + dot + rest in _FIXTURE_DECORATORS


def uses_orm(module: Module) -> bool:
    return module.imports_anything(*_ORM_PACKAGES)


def db_kind(
    st: OrmState, module: Module, expr: ast.AST, fn: Function | None, depth: int = 0
) -> DbKind | None:
    """'sync' or 'async' when `expr` evaluates to a database session or connection."""
    if depth > _MAX_DEPTH:
        return None
    project = st.project
    if isinstance(expr, ast.Await):
        return db_kind(st, module, expr.value, fn, depth + 1)
    if isinstance(expr, ast.Call):
        kind = _call_kind(st, module, expr, fn, depth)
        if kind is not None:
            return kind
    if isinstance(expr, ast.Name) and fn is not None:
        kind = _state_session_kind(st, module, expr, fn)
        if kind is not None:
            return kind
    inferred = infer_type(project, module, expr, fn)
    if inferred is not None:
        return type_kind(project, inferred)
    if isinstance(expr, ast.Name) and fn is not None:
        owner = _owner_of_param(fn, expr.id)
        if owner is not None:
            kind = _param_dependency_kind(st, owner, expr.id, depth)
            if kind is not None:
                return kind
            param = next(p for p, _ in parameters(owner.node) if p.arg == expr.id)
            if param.annotation is None and expr.id in _SESSION_NAMES and uses_orm(module):
                return "sync"
            return None
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == "self"
        and expr.attr in _SESSION_ATTRS
        and uses_orm(module)
    ):
        return "sync"
    if isinstance(expr, ast.Attribute) and expr.attr == "session":
        # `db.session` of Flask-SQLAlchemy / fastapi-sqlalchemy's global `db`.
        base = project.resolve(module, expr.value, fn)
        if base == "fastapi_sqlalchemy.db" or (base and _is_flask_db(project, base)):
            return "sync"
    return None


# Session methods that the other clients a `with` block opens (HTTP clients, Redis
# pipelines) do not have: calling one marks the opened object as a session.
_SESSION_ONLY_METHODS = frozenset(
    {
        "add",
        "add_all",
        "flush",
        "refresh",
        "merge",
        "scalar",
        "scalars",
        "get_one",
        "stream_scalars",
        "run_sync",
        "expunge",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
    }
)
# Session methods that other clients share (`redis.execute`, `client.get`): a session's
# when they run a SQL statement (`select(...)`, `text(...)`) or load a mapped class.
_STATEMENT_METHODS = frozenset({"execute", "exec", "stream", "get"})


def _state_session_kind(
    st: OrmState, module: Module, name: ast.Name, fn: Function
) -> DbKind | None:
    """`async with request.app.state.db() as session:` (or `app.state.db.read()`, or a
    plain `with`): a session factory the app keeps on its state, whose type cannot be
    inferred. The name is a session when every binding reaching it is such a with-item
    and it is named like one (`session`, `db`) or the function uses it like one
    (`conn.scalars(...)`, `conn.add(...)`, `conn.execute(select(...))`)."""
    scope: Function | None = fn
    while scope is not None and name.id not in scope.local_values:
        if any(p.arg == name.id for p, _ in parameters(scope.node)):
            return None
        scope = scope.parent
    if scope is None or name.id not in _state_with_names(st, scope):
        return None
    if not (uses_orm(module) or _project_uses_orm(st)):
        return None
    bindings = st.facts_of(scope).reaching(name.id, name)
    if not bindings:
        return None
    kinds: set[DbKind] = set()
    for node, value in bindings:
        if not isinstance(node, (ast.With, ast.AsyncWith)) or not _state_factory_call(value):
            return None
        kinds.add("async" if isinstance(node, ast.AsyncWith) else "sync")
    if len(kinds) != 1:
        return None
    if name.id in _SESSION_NAMES:
        return kinds.pop()
    key = (f"state-session:{name.id}", id(scope.node))
    used = st.memo.get(key)
    if used is None:
        used = st.memo[key] = _used_as_session(st, module, scope, name.id)
    return kinds.pop() if used else None


def _state_with_names(st: OrmState, fn: Function) -> frozenset[str]:
    """The names `fn` binds in a `with` block from a factory on the app's state: only
    they can be such sessions, and asking costs a look at the statements, not the
    function's whole binding facts."""
    key = ("state-with-names", id(fn.node))
    found = st.memo.get(key)
    if not isinstance(found, frozenset):
        found = st.memo[key] = frozenset(
            item.optional_vars.id
            for stmt in statements(fn.node.body)
            if isinstance(stmt, (ast.With, ast.AsyncWith))
            for item in stmt.items
            if isinstance(item.optional_vars, ast.Name) and _state_factory_call(item.context_expr)
        )
    return found


def _project_uses_orm(st: OrmState) -> bool:
    """Does a module of the project import an ORM (a route module may only import the
    project's models and helpers)?"""
    key = ("project-uses-orm", 0)
    found = st.memo.get(key)
    if found is None:
        found = st.memo[key] = any(uses_orm(m) for m in st.project.module_list)
    return bool(found)


def _state_factory_call(expr: ast.expr | None) -> bool:
    """`<x>.state.<factory>()` or `<x>.state.<factory>.<method>()`."""
    if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Attribute):
        return False
    owner = expr.func.value
    if isinstance(owner, ast.Attribute) and owner.attr == "state":
        return True
    return (
        isinstance(owner, ast.Attribute)
        and isinstance(owner.value, ast.Attribute)
        and owner.value.attr == "state"
    )


def _used_as_session(st: OrmState, module: Module, fn: Function, name: str) -> bool:
    for node in body_nodes(fn.node):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
        ):
            continue
        if node.func.attr in _SESSION_ONLY_METHODS:
            return True
        if (
            node.func.attr in _STATEMENT_METHODS
            and node.args
            and _is_statement(st, module, fn, node.args[0])
        ):
            return True
    return False


def _is_statement(
    st: OrmState, module: Module, fn: Function, expr: ast.expr, depth: int = 0
) -> bool:
    """A SQL statement (`select(M).where(...)`, `text(...)`, a name bound to one, also
    step by step: `stmt = stmt.where(...)`) or a mapped class (`session.get(M, id)`)."""
    while isinstance(expr, ast.Call):
        callee = st.project.resolve(module, expr.func, fn)
        if callee in SQL_CONSTRUCTS or callee in TEXT_FUNCTIONS:
            return True
        if not isinstance(expr.func, ast.Attribute):
            return False
        expr = expr.func.value  # `.where(...)` chained on the statement
    if isinstance(expr, ast.Name) and depth < _MAX_DEPTH:
        bound = st.facts_of(fn).reaching(expr.id, expr)
        return any(
            value is not None
            and value is not expr
            and _is_statement(st, module, fn, value, depth + 1)
            for _node, value in bound
        )
    qualname = st.project.resolve(module, expr, fn)
    if st.index.model(qualname) is not None:
        return True
    # `session.get(models.User, id)` with the models outside the reviewed folder.
    text = last_name(dotted(expr) or "")
    return st.project.class_(qualname) is None and text[:1].isupper() and not text.isupper()


def _owner_of_param(fn: Function, name: str) -> Function | None:
    scope: Function | None = fn
    while scope is not None:
        if name in scope.local_values:
            return None
        if any(p.arg == name for p, _ in parameters(scope.node)):
            return scope
        scope = scope.parent
    return None


def type_kind(project: Project, qualname: str) -> DbKind | None:
    if qualname in _SYNC_SESSIONS:
        return "sync"
    if qualname in _ASYNC_SESSIONS:
        return "async"
    if project.class_(qualname) is not None:
        for name in project.mro(qualname)[1:]:
            if name in _SYNC_SESSIONS:
                return "sync"
            if name in _ASYNC_SESSIONS:
                return "async"
        return None
    # `SessionLocal()` is typed by its callee, the module variable holding the factory.
    kind = _factory_kind(project, qualname)
    if kind is not None:
        return kind
    owner, _, method = qualname.rpartition(".")
    if method in ("begin", "connect"):
        if owner in _SESSION_FACTORIES:
            return _SESSION_FACTORIES[owner]
        if owner in _ENGINE_FACTORIES:
            return _ENGINE_FACTORIES[owner]
    if owner in _SESSION_FACTORIES and method == "__call__":
        return _SESSION_FACTORIES[owner]
    return None


def _factory_kind(project: Project, qualname: str) -> DbKind | None:
    value = project.module_value(qualname)
    if value is None or not isinstance(value[1], ast.Call):
        return None
    callee = project.resolve(value[0], value[1].func)
    return _SESSION_FACTORIES.get(callee or "")


def _call_kind(
    st: OrmState, module: Module, call: ast.Call, fn: Function | None, depth: int
) -> DbKind | None:
    project = st.project
    callee = resolve_callee(project, module, call.func, fn)
    if callee is None:
        return None
    target = project.function(callee)
    if target is None:
        return None
    decorators = {project.resolve(target.module, d) for d in target.node.decorator_list}
    if decorators & _CONTEXT_MANAGERS:
        return yield_kind(st, target, depth + 1)
    returned = annotation_type(project, target.module, target.node.returns)
    return type_kind(project, returned) if returned else None


def _param_dependency_kind(st: OrmState, fn: Function, name: str, depth: int) -> DbKind | None:
    for site in param_sites(st.project, fn):
        if site.param != name:
            continue
        target = resolve_target(st.project, site)
        if target is not None and target.function is not None:
            return yield_kind(st, target.function, depth + 1)
    return None


def yield_kind(st: OrmState, fn: Function, depth: int = 0) -> DbKind | None:
    """What a dependency (or context manager) function yields or returns, if a session."""
    key = id(fn.node)
    if key in st.yield_kinds:
        return st.yield_kinds[key]
    st.yield_kinds[key] = None  # recursion guard
    kind: DbKind | None = None
    project = st.project
    base, _, base_module = unwrap_annotation(project, fn.module, fn.node.returns)
    if isinstance(base, ast.Subscript):
        origin = project.resolve(base_module, base.value)
        elements = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
        if origin in _GENERATORS and elements:
            inner = annotation_type(project, base_module, elements[0])
            kind = type_kind(project, inner) if inner else None
    elif base is not None:
        inner = project.resolve(base_module, base)
        kind = type_kind(project, inner) if inner else None
    if kind is None and depth <= _MAX_DEPTH:
        # `yield from get_session()` / `async for s in get_session(): yield s` re-yield
        # what another dependency yields.
        relayed: dict[str, ast.expr] = {}
        for node in body_nodes(fn.node):
            if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
                relayed[node.target.id] = node.iter
            elif isinstance(node, ast.YieldFrom):
                kind = _relayed_kind(st, fn, node.value, depth)
            elif isinstance(node, (ast.Yield, ast.Return)) and node.value is not None:
                value = node.value
                if isinstance(value, ast.Name) and value.id in relayed:
                    kind = _relayed_kind(st, fn, relayed[value.id], depth)
                else:
                    kind = db_kind(st, fn.module, value, fn, depth + 1)
            if kind is not None:
                break
    st.yield_kinds[key] = kind
    return kind


def _relayed_kind(st: OrmState, fn: Function, source: ast.expr, depth: int) -> DbKind | None:
    if not isinstance(source, ast.Call):
        return None
    callee = st.project.function(resolve_callee(st.project, fn.module, source.func, fn))
    if callee is None or callee is fn:
        return None
    return yield_kind(st, callee, depth + 1)


def session_call(
    st: OrmState, module: Module, call: ast.Call, fn: Function | None, methods: frozenset[str]
) -> tuple[str, DbKind] | None:
    """`(display, kind)` when `call` is `<session>.<method>(...)` for one of `methods`."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in methods:
        return None
    kind = db_kind(st, module, func.value, fn)
    if kind is None:
        return None
    return f"{_short(func.value)}.{func.attr}", kind


def is_session_call(
    st: OrmState, module: Module, call: ast.Call, fn: Function | None, methods: frozenset[str]
) -> bool:
    """`session_call(...) is not None`, without the display text (an `ast.unparse`)."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in methods
        and db_kind(st, module, func.value, fn) is not None
    )


def _short(expr: ast.expr) -> str:
    text = ast.unparse(expr)
    return text if len(text) <= 30 else text[:27] + "..."


# Methods that turn a legacy `session.query(...)` chain into a SQL expression for another
# statement: the chain is never executed on its own.
LAZY_QUERY_METHODS = frozenset(
    {
        "subquery",
        "scalar_subquery",
        "as_scalar",
        "cte",
        "exists",
        "label",
        "correlate",
        "alias",
        "statement",
    }
)


def query_chain(
    call: ast.Call, parent_of: Callable[[int], ast.AST | None]
) -> tuple[ast.AST, str | None]:
    """The outermost expression of the method chain that starts at `call`
    (`session.query(X).filter(...).subquery()`) and the last method called on it."""
    current: ast.AST = call
    last: str | None = None
    while True:
        parent = parent_of(id(current))
        if not (isinstance(parent, ast.Attribute) and parent.value is current):
            return current, last
        last = parent.attr
        grand = parent_of(id(parent))
        current = grand if isinstance(grand, ast.Call) and grand.func is parent else parent


def lazy_query(call: ast.Call, parent_of: Callable[[int], ast.AST | None]) -> bool:
    """Is `call` a `session.query(...)` whose method chain ends in a SQL expression
    (`session.query(Param.run_id).filter(...).subquery()`) rather than in rows?"""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "query"):
        return False
    return query_chain(call, parent_of)[1] in LAZY_QUERY_METHODS


def _parents(fn: Function) -> dict[int, ast.AST]:
    out: dict[int, ast.AST] = {}
    for node in body_nodes(fn.node):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out


def function_query(st: OrmState, fn: Function) -> tuple[ast.Call, str] | None:
    """The first session query call in a function's own body (not in nested functions)
    that runs SQL (a `session.query(...)` chain ending in `.subquery()` does not)."""
    key = id(fn.node)
    if key in st.body_queries:
        return st.body_queries[key]
    found: tuple[ast.Call, str] | None = None
    parents: dict[int, ast.AST] | None = None
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Call):
            hit = session_call(st, fn.module, node, fn, QUERY_METHODS)
            if hit is not None:
                if isinstance(node.func, ast.Attribute) and node.func.attr == "query":
                    if parents is None:
                        parents = _parents(fn)
                    if lazy_query(node, parents.get):
                        continue
                found = (node, hit[0])
                break
    st.body_queries[key] = found
    return found


def resolves_to(
    st: OrmState, module: Module, expr: ast.expr, fn: Function | None, names: frozenset[str]
) -> bool:
    return st.project.resolve(module, expr, fn) in names
