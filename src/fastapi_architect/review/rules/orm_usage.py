"""FAA4xx: how the ORM is used. Columns that queries filter on without an index,
foreign keys PostgreSQL leaves unindexed, row-by-row work (`len(q.all())`, a commit per
item) and Python operators that SQLAlchemy never sees inside `filter()`/`where()`.

The model index (tables, their columns, which columns lead an index) is built once per
run from the declarative classes that `_orm` knows, their mixins, `__table_args__`,
`Index(...)` calls anywhere in the project and Alembic `op.create_index(...)`.
"""

from __future__ import annotations

import ast
import os
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_architect.model.apps import Route
from fastapi_architect.model.astutil import (
    assignment_targets,
    body_nodes,
    child_nodes,
    const_str,
    dotted,
    is_false,
    keyword,
    last_name,
    parameters,
    walk,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.calls import passed_arguments
from fastapi_architect.model.dependencies import param_sites, resolve_target, walk_dependencies
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.types import annotation_type, resolve_callee, unwrap_annotation
from fastapi_architect.review.context import FileContext, ProjectContext
from fastapi_architect.review.index import (
    FunctionCache,
    ModelCache,
    may_resolve_to,
    names_reaching,
    nodes_of,
    project_index,
)
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._memo import is_memoized
from fastapi_architect.review.rules._orm import (
    SELECT_FUNCTIONS,
    FunctionFacts,
    OrmState,
    function_query,
    is_test_module,
    session_call,
    state,
    type_kind,
    uses_orm,
)
from fastapi_architect.review.rules.database import (
    Origin,
    Origins,
    collection_loop,
    in_parameters,
    iteration_loops,
    loop_binding,
    sends_write,
)
from fastapi_architect.review.rules.injection import argument_for

_REFERENCES = (
    "https://docs.sqlalchemy.org/en/20/orm/queryguide/select.html",
    "https://www.postgresql.org/docs/current/indexes-intro.html",
)

_COLUMN_FUNCTIONS = frozenset({"mapped_column", "Column", "Field"})
_INDEX_FUNCTIONS = frozenset({"Index", "UniqueConstraint", "PrimaryKeyConstraint"})
_SA_PACKAGES = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")

# ------------------------------------------------------------------ the table index


@dataclass
class ColumnInfo:
    attr: str  # the Python attribute name
    name: str  # the column name in the database
    node: ast.AST
    module: Module
    indexed: bool
    foreign_key: str | None  # the referenced "table.column", when a foreign key
    boolean: bool = False
    no_index: bool = False  # written `index=False`: the authors decided against an index


@dataclass
class TableInfo:
    key: str  # model qualname, or "table:<name>" for a Core `Table`
    label: str  # `Book` or `books`
    table: str | None
    columns: dict[str, ColumnInfo] = field(default_factory=dict)  # by attribute name
    # Every index, unique or primary-key constraint, as its ordered column names.
    indexes: list[list[str]] = field(default_factory=list)
    unknown: bool = False  # `__table_args__` or columns we cannot read: never report

    def column(self, name: str) -> ColumnInfo | None:
        found = self.columns.get(name)
        if found is None:
            found = next((c for c in self.columns.values() if c.name == name), None)
        return found

    def leads_index(self, col: ColumnInfo) -> bool:
        return col.indexed or any(ix and ix[0] in (col.name, col.attr) for ix in self.indexes)

    def covered(self, col: ColumnInfo, others: set[str]) -> bool:
        """Is `col` usable through an index when the same query also constrains `others`
        (a later column of a composite index whose leading columns are all filtered)?"""
        if self.leads_index(col):
            return True
        for ix in self.indexes:
            for pos, name in enumerate(ix):
                if name in (col.name, col.attr) and all(
                    self._names(lead) & others for lead in ix[:pos]
                ):
                    return True
        return False

    def _names(self, name: str) -> set[str]:
        col = self.column(name)
        return {name} if col is None else {col.name, col.attr}


@dataclass
class TableIndex:
    tables: dict[str, TableInfo] = field(default_factory=dict)
    by_table: dict[str, TableInfo] = field(default_factory=dict)
    dialects: set[str] = field(default_factory=set)
    # Every column attribute of every table: most attributes in a condition are not one,
    # and this answers them without resolving their owner.
    column_attrs: frozenset[str] = frozenset()


def tables(model: AppModel) -> TableIndex:
    """The tables, columns and database indexes of the run reviewing `model` (the project
    index's table part, read from the ORM part, the SQL and the migrations)."""
    return project_index(model, _build_tables)


def _is_sa(project: Project, module: Module, func: ast.expr, names: frozenset[str]) -> bool:
    callee = project.resolve(module, func)
    if callee is None or last_name(callee) not in names:
        return False
    root = callee.split(".")[0]
    if root in _SA_PACKAGES:
        return True
    # Flask-SQLAlchemy: `db.Column(...)` on `db = SQLAlchemy()`.
    value = project.module_value(callee.rpartition(".")[0])
    if value is not None and isinstance(value[1], ast.Call):
        owner = project.resolve(value[0], value[1].func) or ""
        return owner.startswith("flask_sqlalchemy")
    return False


def _build_tables(model: AppModel) -> TableIndex:
    project = model.project
    orm = state(model).index
    out = TableIndex()
    for qualname, orm_model in orm.models.items():
        cls = project.classes.get(qualname)
        if cls is None:
            continue
        info = TableInfo(qualname, orm_model.name, None)
        for ancestor in reversed(project.mro(qualname)):
            parent = project.classes.get(ancestor)
            if parent is None:
                continue
            _read_class(project, parent.module, parent.node, info, qualname != ancestor)
        out.tables[qualname] = info
        if info.table:
            out.by_table.setdefault(info.table, info)
    for module in project.module_list:
        if not module.imports_anything(*_SA_PACKAGES, "alembic"):
            continue
        lowered = module.source.lower()
        for word in ("postgres", "asyncpg", "psycopg", "mysql", "sqlite", "mariadb"):
            if word in lowered:
                out.dialects.add(word)
        if module.may_spell(*_TABLE_CALLS):
            for call in nodes_of(model, module, ast.Call):
                _read_call(project, module, call, out)
        _read_sql_indexes(module.source, out)
    for tree, source in _migrations(project.root):
        for node in walk(tree):
            if isinstance(node, ast.Call):
                _read_call(project, None, node, out)
        _read_sql_indexes(source, out)
        _read_batches(tree, out)
    out.column_attrs = frozenset(attr for info in out.tables.values() for attr in info.columns)
    return out


# `_read_call` reads calls spelled with one of these names, nothing else.
_TABLE_CALLS = ("create_index", "create_table", "Table", "Index")


_CREATE_INDEX = re.compile(
    r"create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?"
    r"[\w\".]*\s*on\s+(?:only\s+)?([\w\".]+)\s*(?:using\s+\w+\s*)?\(\s*\"?(\w+)",
    re.IGNORECASE,
)


def _read_sql_indexes(source: str, out: TableIndex) -> None:
    """`CREATE INDEX ix ON books (title)` in raw SQL strings (`op.execute`, `text()`)."""
    if "index" not in source.lower():
        return
    for match in _CREATE_INDEX.finditer(source):
        table = match.group(1).replace('"', "").rsplit(".", 1)[-1]
        _add_table_index(out, table, [match.group(2)])


_SKIP_DIRS = frozenset({"node_modules", "site-packages", "__pycache__", "build", "dist"})
_MAX_MIGRATIONS = 3000


def migration_files(root: Path) -> list[Path]:
    """Alembic revision files (`versions/` next to an `env.py`) under `root`: not part of
    the reviewed project (excluded by default), read for the indexes they create."""
    found: list[Path] = []
    base_depth = len(root.parts)
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS]
        if len(Path(current).parts) - base_depth >= 6:
            dirs[:] = []
        if "env.py" not in files or "versions" not in dirs:
            continue
        for path in sorted((Path(current) / "versions").rglob("*.py")):
            found.append(path)
            if len(found) >= _MAX_MIGRATIONS:
                return found
    return found


def _migrations(root: Path) -> Iterator[tuple[ast.Module, str]]:
    for path in migration_files(root):
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        yield tree, source


def _read_class(
    project: Project, module: Module, node: ast.ClassDef, info: TableInfo, inherited: bool
) -> None:
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef):
            if stmt.name == "__table_args__":
                # `@declared_attr.directive def __table_args__(cls): return (Index(...),)`
                returns = [n for n in walk(stmt) if isinstance(n, ast.Return)]
                if len(returns) == 1:
                    _read_table_args(project, module, returns[0].value, info)
                else:
                    info.unknown = True
            continue
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name, value, annotation = stmt.target.id, stmt.value, stmt.annotation
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            name, value, annotation = stmt.targets[0].id, stmt.value, None
        else:
            continue
        if name == "__tablename__":
            info.table = const_str(value) or info.table
            if value is not None and const_str(value) is None:
                info.unknown = True
            continue
        if name == "__table_args__":
            _read_table_args(project, module, value, info)
            continue
        if name == "__table__":
            info.unknown = True
            continue
        if name.startswith("__"):
            continue
        col = _column_of(project, module, stmt, name, value, annotation, info)
        if col is not None:
            info.columns[name] = col


def _column_of(
    project: Project,
    module: Module,
    stmt: ast.stmt,
    name: str,
    value: ast.expr | None,
    annotation: ast.expr | None,
    info: TableInfo,
) -> ColumnInfo | None:
    text = ast.unparse(annotation) if annotation is not None else ""
    boolean = "bool" in text.replace("Optional", "")
    if isinstance(value, ast.Call) and _is_sa(project, module, value.func, _COLUMN_FUNCTIONS):
        call = value
        kind = last_name(project.resolve(module, call.func))
        if kind == "Field":
            inner = keyword(call, "sa_column")
            if isinstance(inner, ast.Call):
                call = inner
            elif inner is not None or keyword(call, "sa_column_kwargs") is not None:
                info.unknown = True
                return None
        return _column_call(project, module, stmt, name, call, boolean)
    if annotation is None or text.startswith(("ClassVar", "typing.ClassVar")):
        return None
    if value is None and text.startswith(("Mapped[", "orm.Mapped[", "sa.orm.Mapped[")):
        return ColumnInfo(name, name, stmt, module, False, None, boolean)  # `title: Mapped[str]`
    if _sqlmodel_table(info, project) and not isinstance(value, ast.Call):
        return ColumnInfo(name, name, stmt, module, False, None, boolean)  # `title: str = ""`
    return None


def _sqlmodel_table(info: TableInfo, project: Project) -> bool:
    return any(last_name(n) == "SQLModel" for n in project.mro(info.key))


def _column_call(
    project: Project, module: Module, stmt: ast.AST, name: str, call: ast.Call, boolean: bool
) -> ColumnInfo:
    db_name = name
    if call.args and const_str(call.args[0]) is not None:
        db_name = const_str(call.args[0]) or name
    indexed = False
    no_index = False
    for kw in call.keywords:
        if kw.arg == "index" and is_false(kw.value):
            no_index = True
        if kw.arg is None:
            indexed = True  # `**kwargs`: unknown, assume indexed
        elif (
            kw.arg in ("index", "unique", "primary_key")
            and not is_false(kw.value)
            and not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
        ):
            indexed = True
    foreign: str | None = None
    fk = keyword(call, "foreign_key")
    if fk is not None and not (isinstance(fk, ast.Constant) and fk.value in (None, False)):
        foreign = const_str(fk) or ast.unparse(fk)
    for arg in call.args:
        if isinstance(arg, ast.Call) and last_name(project.resolve(module, arg.func)) == (
            "ForeignKey"
        ):
            first = arg.args[0] if arg.args else keyword(arg, "column")
            foreign = (const_str(first) or ast.unparse(first)) if first is not None else "?"
        elif (
            isinstance(arg, (ast.Name, ast.Attribute, ast.Call))
            and last_name(project.resolve(module, arg.func if isinstance(arg, ast.Call) else arg))
            == "Boolean"
        ):
            boolean = True
    return ColumnInfo(name, db_name, stmt, module, indexed, foreign, boolean, no_index)


def _elements(value: ast.expr | None) -> list[ast.expr] | None:
    if isinstance(value, (ast.Tuple, ast.List)):
        return list(value.elts)
    if isinstance(value, ast.Dict):
        return []
    return None


def _read_table_args(
    project: Project, module: Module, value: ast.expr | None, info: TableInfo
) -> None:
    items = _elements(value)
    if items is None:
        info.unknown = True
        return
    for item in items:
        if isinstance(item, ast.Starred):
            info.unknown = True
        elif isinstance(item, ast.Call) and last_name(ast.unparse(item.func)) in _INDEX_FUNCTIONS:
            info.indexes.append(_index_columns(item))


_ORDER_MODIFIERS = frozenset(
    {"asc", "desc", "nulls_first", "nulls_last", "nullsfirst", "nullslast"}
)


def _ordered_column(expr: ast.expr) -> ast.expr:
    """The column under its sort modifiers: `col` of `col.desc()`, `desc(col)`,
    `nulls_last(col.desc())` (an index or an `order_by` on it still uses `col`)."""
    while isinstance(expr, ast.Call) and not expr.keywords:
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr in _ORDER_MODIFIERS and not expr.args:
            expr = func.value
        elif len(expr.args) == 1 and last_name(dotted(func)) in _ORDER_MODIFIERS:
            expr = expr.args[0]
        else:
            break
    return expr


def _index_columns(call: ast.Call) -> list[str]:
    """The ordered column names of `Index("ix", "a", Model.b.desc())`,
    `UniqueConstraint("a")`. A partial index (`postgresql_where=`) counts as an index
    on its columns."""
    func = last_name(ast.unparse(call.func))
    args = call.args[1:] if func == "Index" else call.args
    out: list[str] = []
    for arg in map(_ordered_column, args):
        if const_str(arg) is not None:
            out.append(const_str(arg) or "")
        elif isinstance(arg, ast.Attribute):
            out.append(arg.attr)
        elif isinstance(arg, ast.Name):
            out.append(arg.id)
        else:
            out.append("?")  # an expression (functional index): not a plain column
    return out


def _read_batches(tree: ast.AST, out: TableIndex) -> None:
    """`with op.batch_alter_table("books") as batch_op: batch_op.create_index("ix", ["t"])`."""
    for node in walk(tree):
        if not isinstance(node, (ast.With, ast.AsyncWith)):
            continue
        for item in node.items:
            call = item.context_expr
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "batch_alter_table"
                and isinstance(item.optional_vars, ast.Name)
            ):
                continue
            first = call.args[0] if call.args else keyword(call, "table_name")
            table = const_str(first)
            alias = item.optional_vars.id
            for sub in walk(node):
                if (
                    table
                    and isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr == "create_index"
                    and isinstance(sub.func.value, ast.Name)
                    and sub.func.value.id == alias
                ):
                    cols = sub.args[1] if len(sub.args) > 1 else keyword(sub, "columns")
                    if isinstance(cols, (ast.List, ast.Tuple)):
                        _add_table_index(out, table, [const_str(c) or "?" for c in cols.elts])


def _read_call(project: Project, module: Module | None, call: ast.Call, out: TableIndex) -> None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name == "create_index" and isinstance(func, ast.Attribute):
        # Alembic: `op.create_index("ix", "books", ["title"])`.
        table = (
            const_str(call.args[1])
            if len(call.args) > 1
            else const_str(keyword(call, "table_name"))
        )
        cols = call.args[2] if len(call.args) > 2 else keyword(call, "columns")
        if table and isinstance(cols, (ast.List, ast.Tuple)):
            _add_table_index(out, table, [const_str(c) or "?" for c in cols.elts])
    elif name in ("create_table", "Table"):
        table = const_str(call.args[0]) if call.args else None
        if not table:
            return
        for arg in call.args[1:]:
            if not isinstance(arg, ast.Call):
                continue
            kind = last_name(ast.unparse(arg.func))
            if kind in _INDEX_FUNCTIONS:
                _add_table_index(out, table, _index_columns(arg))
            elif kind == "Column" and name == "create_table" and module is None:
                column = const_str(arg.args[0]) if arg.args else None
                if column and any(
                    kw.arg in ("index", "unique", "primary_key") and not is_false(kw.value)
                    for kw in arg.keywords
                ):
                    _add_table_index(out, table, [column])
        if (
            name == "Table"
            and module is not None
            and _is_sa(project, module, func, frozenset({"Table"}))
        ):
            _core_table(project, module, call, table, out)
    elif (
        name == "Index"
        and module is not None
        and _is_sa(project, module, func, frozenset({"Index"}))
    ):
        # `Index("ix_books_title", Book.title)` next to (or after) the model.
        first = _ordered_column(call.args[1]) if len(call.args) > 1 else None
        if isinstance(first, ast.Attribute) and isinstance(first.value, (ast.Name, ast.Attribute)):
            owner = project.resolve(module, first.value)
            info = out.tables.get(owner or "")
            if info is not None:
                info.indexes.append(_index_columns(call))


def _add_table_index(out: TableIndex, table: str, columns: list[str]) -> None:
    info = out.by_table.get(table)
    if info is None:
        info = out.by_table[table] = TableInfo(f"table:{table}", table, table)
    info.indexes.append(columns)


def _core_table(
    project: Project, module: Module, call: ast.Call, table: str, out: TableIndex
) -> None:
    key = f"table:{module.name}:{table}"
    info = out.tables.get(key) or TableInfo(key, table, table)
    for arg in call.args[1:]:
        if isinstance(arg, ast.Starred):
            info.unknown = True
        if isinstance(arg, ast.Call) and last_name(ast.unparse(arg.func)) == "Column":
            name = const_str(arg.args[0]) if arg.args else None
            if name:
                info.columns[name] = _column_call(project, module, arg, name, arg, False)
    out.tables[key] = info
    known = out.by_table.get(table)
    if known is not None and known is not info and known.key.startswith("table:"):
        info.indexes.extend(known.indexes)
    out.by_table[table] = info


def _alembic_indexes(index: TableIndex, info: TableInfo) -> list[list[str]]:
    if info.table is None:
        return []
    other = index.by_table.get(info.table)
    return other.indexes if other is not None and other is not info else []


# --------------------------------------------------------------------------- FAA405


@rule(
    code="FAA405",
    name="foreign-key-without-index",
    summary="A foreign key column has no index (PostgreSQL does not create one)",
    severity="warning",
    scope="project",
    fix_title="Add `index=True` to the foreign key column",
    references=(
        "https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK",
        "https://docs.sqlalchemy.org/en/20/core/constraints.html#indexes",
    ),
)
def foreign_key_without_index(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds model columns declared with a `ForeignKey(...)` (SQLAlchemy `mapped_column`,
    `Column`, Flask-SQLAlchemy `db.Column`, Core `Table(...)` columns) or SQLModel's
    `Field(foreign_key=...)` that are not indexed: no `index=True`, `unique=True` or
    `primary_key=True`, not the first column of an `Index(...)`, `UniqueConstraint` or
    `PrimaryKeyConstraint` in `__table_args__` or elsewhere in the project, and not the
    first column of an Alembic `op.create_index(...)` on the same table. A column
    declared with an explicit `index=False` is left alone: that is the authors' written
    decision not to index it.

    ## Why is this bad?
    PostgreSQL indexes the referenced primary key, never the referencing column. Every
    join from the parent side (`author.books`, `selectinload(Author.books)`, `WHERE
    book.author_id = ?`) and every `DELETE`/`UPDATE` of a parent row (the database
    checks the children, also for `ON DELETE CASCADE`) then scans the whole child table.
    It is invisible with test data and slow in production.

    ## Known problems
    MySQL (InnoDB) creates the index by itself: the rule stays silent in projects whose
    sources name MySQL or MariaDB and never PostgreSQL. Indexes created in raw SQL
    strings (`CREATE INDEX ix ON books (author_id)`) and by Alembic revisions
    (`op.create_index`, `batch_op.create_index`, in a `versions/` folder next to an
    `env.py`) count. An explicit `index=False` silences the rule for that column, so
    write it only for a deliberate choice (a rarely deleted parent, a small table).
    Test modules are skipped.

    ## Example
    ```python
    class Book(Base):
        __tablename__ = "books"
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    ```

    ## Use instead
    ```python
        author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    ```

    ## Fix safety
    There is no automatic fix: adding the index needs a migration.
    """
    index = tables(ctx.model)
    if index.dialects & {"mysql", "mariadb"} and not index.dialects & {
        "postgres",
        "asyncpg",
        "psycopg",
    }:
        return
    seen: set[int] = set()
    for info in index.tables.values():
        if info.unknown:
            continue
        extra = _alembic_indexes(index, info)
        for col in info.columns.values():
            if col.foreign_key is None or id(col.node) in seen or is_test_module(col.module):
                continue
            if col.no_index:
                continue  # `ForeignKey(...), index=False`: an explicit opt-out
            if info.leads_index(col) or any(ix and ix[0] in (col.name, col.attr) for ix in extra):
                continue
            seen.add(id(col.node))
            yield Report(
                col.node,
                f"Foreign key `{info.label}.{col.attr}` (to `{col.foreign_key}`) has no index; "
                "PostgreSQL does not index foreign keys",
                module=col.module,
            )


# --------------------------------------------------------------------------- FAA404

_FILTER_METHODS = frozenset({"where", "filter", "filter_by", "having"})
_JOIN_METHODS = frozenset({"join", "outerjoin", "join_from", "outerjoin_from"})
_SORT_METHODS = frozenset({"order_by"})
_QUERY_BUILDERS = _FILTER_METHODS | _JOIN_METHODS | _SORT_METHODS
# Column methods a B-tree index serves (`ilike`, `contains`, `endswith` need trigram).
_INDEXABLE_METHODS = frozenset({"in_", "between", "startswith", "like", "is_", "any_"})
_INDEXABLE_OPS = (ast.Eq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@dataclass(frozen=True)
class _ColumnUse:
    call: ast.AST  # the `where`/`order_by`/... call
    method: str
    table: TableInfo
    column: ColumnInfo
    node: ast.AST  # the `Book.title` expression (or the `filter_by` keyword)


def _model_column(
    project: Project, index: TableIndex, module: Module, expr: ast.expr, fn: Function | None
) -> tuple[TableInfo, ColumnInfo] | None:
    if not isinstance(expr, ast.Attribute) or not isinstance(expr.value, (ast.Name, ast.Attribute)):
        return None
    if expr.attr not in index.column_attrs:
        return None
    owner = project.resolve(module, expr.value, fn)
    if owner is None:
        return None
    info = index.tables.get(owner) or index.tables.get(project.canonical(owner))
    if info is None:
        return None
    col = info.columns.get(expr.attr)
    return (info, col) if col is not None else None


def _chain(call: ast.Call) -> Iterator[ast.Call]:
    """`call` and the calls of the method chain below it (`select(B).where(...)`)."""
    current: ast.expr = call
    while isinstance(current, ast.Call):
        yield current
        func = current.func
        if not isinstance(func, ast.Attribute):
            return
        current = func.value


def _entity(
    project: Project, index: TableIndex, module: Module, call: ast.Call, fn: Function | None
) -> TableInfo | None:
    """The model a `filter_by(...)` applies to: the first entity of the chain's
    `select(Model)`/`query(Model)`, when no join makes it ambiguous."""
    found: TableInfo | None = None
    for link in _chain(call):
        name = link.func.attr if isinstance(link.func, ast.Attribute) else ""
        if name in _JOIN_METHODS:
            return None
        callee = last_name(project.resolve(module, link.func, fn)) or name
        if (callee in ("select", "query", "exec") or name == "query") and link.args:
            owner = project.resolve(module, link.args[0], fn)
            found = index.tables.get(owner or "")
    return found


def _column_uses(
    st: OrmState, index: TableIndex, module: Module, call: ast.Call, fn: Function | None
) -> Iterator[_ColumnUse]:
    project = st.project
    func = call.func
    assert isinstance(func, ast.Attribute)
    method = func.attr
    if method == "filter_by":
        entity = _entity(project, index, module, call, fn)
        if entity is not None and not entity.unknown:
            for kw in call.keywords:
                col = entity.columns.get(kw.arg or "")
                if col is not None:
                    yield _ColumnUse(call, method, entity, col, kw)
        return
    if method in _SORT_METHODS:
        for arg in call.args:
            expr = _ordered_column(arg)  # `Book.title.desc()`, `desc(Book.title)`
            hit = _model_column(project, index, module, expr, fn)
            if hit is not None:
                yield _ColumnUse(call, method, hit[0], hit[1], expr)
        return
    for arg in [*call.args, *(kw.value for kw in call.keywords if kw.arg == "onclause")]:
        yield from _conditions(project, index, module, arg, fn, call, method)
        if method in _JOIN_METHODS:
            yield from _relationship_join(st, index, module, arg, fn, call, method)


# `Fleet.instances.of_type(Alias)`, `Fleet.instances.and_(cond)`: the relationship's join.
_RELATIONSHIP_JOIN_METHODS = frozenset({"of_type", "and_"})


def _relationship_join(
    st: OrmState,
    index: TableIndex,
    module: Module,
    expr: ast.expr,
    fn: Function | None,
    call: ast.Call,
    method: str,
) -> Iterator[_ColumnUse]:
    """`.join(Fleet.instances)` joins on the relationship's foreign key: the columns
    `.join(Instance, Instance.fleet_id == Fleet.id)` names, the foreign-key column and
    the column it references (a `foreign_keys=` argument picks among several)."""
    while (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in _RELATIONSHIP_JOIN_METHODS
    ):
        expr = expr.func.value
    if not isinstance(expr, ast.Attribute) or expr.attr not in st.index.relationship_names:
        return
    owner = st.index.model(st.project.resolve(module, expr.value, fn))
    rel = owner.relationships.get(expr.attr) if owner is not None else None
    if owner is None or rel is None or rel.target is None:
        return
    source, target = index.tables.get(owner.qualname), index.tables.get(rel.target)
    if source is None or target is None:
        return
    relationship = rel.node.value if isinstance(rel.node, (ast.Assign, ast.AnnAssign)) else rel.node
    chosen = _foreign_key_names(relationship) if isinstance(relationship, ast.Call) else None
    seen: set[int] = set()
    for child, parent in ((target, source), (source, target)):
        for col in child.columns.values():
            if col.foreign_key is None or id(col.node) in seen:
                continue
            table, _, column = col.foreign_key.rpartition(".")
            if last_name(table) not in (parent.table, parent.label):
                continue
            if chosen is not None and col.attr not in chosen and col.name not in chosen:
                continue
            seen.add(id(col.node))
            yield _ColumnUse(call, method, child, col, expr)
            referenced = parent.column(column)
            # A foreign key references a unique column: never one to report.
            if referenced is not None and parent.leads_index(referenced):
                yield _ColumnUse(call, method, parent, referenced, expr)


def _foreign_key_names(relationship: ast.Call) -> set[str] | None:
    """The column names a `relationship(foreign_keys=...)` names (`[project_id]`,
    `[Run.fleet_id]`, `"Run.fleet_id"`), or None without the argument."""
    value = keyword(relationship, "foreign_keys")
    if value is None:
        return None
    names: set[str] = set()
    for node in walk(value):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.update(re.findall(r"\w+", node.value))
    return names


def _conditions(
    project: Project,
    index: TableIndex,
    module: Module,
    root: ast.AST,
    fn: Function | None,
    call: ast.AST,
    method: str,
    builders: list[ast.Call] | None = None,
) -> list[_ColumnUse]:
    """Index-friendly conditions on model columns below `root`: `Model.col == x`,
    `Model.col < x`, `Model.col.in_(...)`, `Model.col.like("a%")`, ...

    An OR (`or_(a, b)`, `a | b`, `a or b`) can use indexes only when each branch can:
    one branch no index serves (`col != x`) makes the database read the whole table,
    so its conditions count only when every branch has an index-friendly one.

    With `builders`, also collects the query-builder calls (`where`, `join`, ...) of
    every node below `root`, so that a function's scope needs one walk, not two.

    Run on every node of every function that filters on a column without an index: a
    node is tested only as far as its type needs."""
    out: list[_ColumnUse] = []
    column_attrs = index.column_attrs
    todo: deque[ast.AST] = deque([root])
    pop, extend = todo.popleft, todo.extend
    while todo:
        node = pop()
        branches: list[ast.expr] | None = None
        operands: tuple[ast.expr, ...] = ()
        if type(node) is ast.Call:
            func = node.func
            if type(func) is ast.Attribute:
                if builders is not None and func.attr in _QUERY_BUILDERS:
                    builders.append(node)
                if func.attr in _INDEXABLE_METHODS:
                    operands = (func.value,)
            if node.args:
                branches = _or_call_branches(project, module, node, fn)
        elif type(node) is ast.Compare:
            if len(node.ops) == 1 and isinstance(node.ops[0], _INDEXABLE_OPS):
                operands = (node.left, node.comparators[0])
        elif type(node) is ast.BoolOp:
            if isinstance(node.op, ast.Or):
                branches = list(node.values)
        elif type(node) is ast.BinOp and isinstance(node.op, ast.BitOr):
            branches = [node.left, node.right]
        if branches is not None:
            found = [
                _conditions(project, index, module, b, fn, call, method, builders) for b in branches
            ]
            if builders is not None and isinstance(node, ast.Call):
                # The parts of `or_(...)` that are no branch: its callee and keywords.
                for part in (node.func, *node.keywords):
                    builders.extend(_builder_calls(part))
            if all(found):
                for uses in found:
                    out.extend(uses)
            continue
        extend(child_nodes(node))
        for operand in operands:
            # `_model_column` answers None for anything but a column attribute.
            if type(operand) is not ast.Attribute or operand.attr not in column_attrs:
                continue
            hit = _model_column(project, index, module, operand, fn)
            if hit is not None:
                out.append(_ColumnUse(call, method, hit[0], hit[1], operand))
    return out


def _builder_calls(root: ast.AST) -> Iterator[ast.Call]:
    for sub in walk(root):
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in _QUERY_BUILDERS
        ):
            yield sub


def _or_call_branches(
    project: Project, module: Module, node: ast.Call, fn: Function | None
) -> list[ast.expr] | None:
    """The branches of an `or_(a, b)` condition (a call with arguments), else None; `a | b`
    and `a or b` are told by their node type (`_conditions`)."""
    func = node.func
    if isinstance(func, ast.Attribute):
        spelled = func.attr
    elif isinstance(func, ast.Name):
        spelled = func.id
        if spelled in module.imports:  # `from sqlalchemy import or_ as any_of`
            spelled = last_name(project.resolve(module, func, fn))
    else:
        return None
    if spelled == "or_":
        return list(node.args)
    return None


# The column uses of one query-builder call, by (call, function) node ids: the rule
# asks for them at the call and again for its function's scope.
_CALL_USES: ModelCache[dict[tuple[int, int], list[_ColumnUse]]] = ModelCache()


def _call_uses(
    st: OrmState, index: TableIndex, module: Module, call: ast.Call, fn: Function | None
) -> list[_ColumnUse]:
    found = _CALL_USES.get(st.model, dict)
    key = (id(call), id(fn.node) if fn is not None else 0)
    uses = found.get(key)
    if uses is None:
        uses = found[key] = list(_column_uses(st, index, module, call, fn))
    return uses


@dataclass
class _Scope:
    """Every column the enclosing function constrains (`_scope_uses`), and whether
    the function's queries can start from an index (asked at each of its queries)."""

    uses: list[_ColumnUse]
    indexed: bool


_SCOPE_USES: FunctionCache[_Scope] = FunctionCache()


def _scope_uses(ctx: FileContext, index: TableIndex) -> _Scope:
    """Every column the enclosing function constrains: in a query builder, or in a
    condition built apart from it."""
    fn = ctx.function()
    if fn is None:
        return _Scope([], False)
    return _SCOPE_USES.get(ctx.model, fn, lambda: _scope_of(ctx, index, fn))


def _scope_of(ctx: FileContext, index: TableIndex, fn: Function) -> _Scope:
    st = state(ctx.model)
    builders: list[ast.Call] = []
    # Conditions built apart (`filters = [Model.a == x]`, then `where(*filters)`); the
    # same walk finds the query builders. Only the set of uses matters, not its order.
    conditions = _conditions(
        ctx.project, index, ctx.module, fn.node, fn, fn.node, "where", builders
    )
    uses: list[_ColumnUse] = []
    for sub in builders:
        uses.extend(_call_uses(st, index, ctx.module, sub, fn))
    uses.extend(conditions)
    return _Scope(uses, _starts_indexed(uses))


def _starts_indexed(uses: list[_ColumnUse]) -> bool:
    """Can the query start from another index (this table or a joined one)?"""
    return any(
        u.method not in _SORT_METHODS and u.table.covered(u.column, _names_of(uses, u.table))
        for u in uses
    )


def _names_of(uses: list[_ColumnUse], table: TableInfo) -> set[str]:
    """The column names (database and attribute) of `table` that `uses` constrain."""
    return {n for u in uses if u.table is table for n in (u.column.name, u.column.attr)}


def _has_limit(call: ast.Call, stack: list[ast.AST]) -> bool:
    names = {c.func.attr for c in _chain(call) if isinstance(c.func, ast.Attribute)}
    for node in reversed(stack):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif not isinstance(node, ast.Call):
            break
    return bool(names & {"limit", "first", "one", "one_or_none", "scalar_one", "slice"})


def _orm_module(module: Module) -> bool:
    return uses_orm(module) and not is_test_module(module)


@rule(
    code="FAA404",
    name="filter-column-not-indexed",
    summary="A query filters, joins or sorts on a column that has no index",
    severity="info",
    nodes=(ast.Call,),
    fix_title="Add `index=True` to the column (or an `Index(...)` leading with it)",
    references=_REFERENCES,
    applies=_orm_module,
)
def filter_column_not_indexed(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds model columns used in `where()`, `filter()`, `filter_by()`, `having()`, a
    join condition, or the `order_by()` of a query with a `limit()`, when the column is
    not indexed: not a primary key, no `index=True` or `unique=True`, not the first
    column (plain or sorted, `col.desc()`) of an `Index(...)`, `UniqueConstraint` or
    `PrimaryKeyConstraint` (in `__table_args__`, anywhere in the project, in an Alembic
    `op.create_index` or in a raw `CREATE INDEX` statement), and not a later column of
    a composite index whose leading columns the same function also filters on. The
    models are indexed once per run across every file (mixins and SQLModel
    `Field(index=True)` included). Each column is reported once per function.

    ## Why is this bad?
    Without an index the database reads the whole table for each such query. It is
    unnoticeable with development data and becomes the slowest endpoint once the
    table grows.

    ## Known problems
    This is advice: a small lookup table does not need the index. To stay quiet where
    the query can already use an index, the rule does not report a column when the
    same function also filters on an indexed column, of this model or of a joined one
    (`where(Book.owner_id == uid, Book.title == t)`; a join through a relationship,
    `.join(Fleet.instances)`, is a condition on its foreign key and the column it
    references, like `.join(Instance, Instance.fleet_id == Fleet.id)`), nor boolean
    columns, foreign keys (FAA405 covers them),
    `!=`, `ilike()`/`contains()` comparisons (a B-tree index does not serve them), the
    conditions of an OR with a branch no index serves (`or_(col != x, col.is_(None))`)
    or `order_by()` without `limit()`. Filters built in a helper function and passed as
    `where(*conditions)` are not followed, nor are the join conditions SQLAlchemy infers
    for a bare class (`.join(Instance)`) or a `secondary=` relationship. A partial index (`postgresql_where=`)
    counts as an index on its columns whatever its condition. Test modules are skipped.

    ## Example
    ```python
    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(320))

    user = await db.scalar(select(User).where(User.email == email))
    ```

    ## Use instead
    ```python
        email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    ```

    ## Fix safety
    There is no automatic fix: adding the index needs a migration.
    """
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in _QUERY_BUILDERS:
        return
    index = tables(ctx.model)
    fn = ctx.function()
    uses = _call_uses(state(ctx.model), index, ctx.module, node, fn)
    if not uses or any(
        u.method not in _SORT_METHODS and u.table.leads_index(u.column) for u in uses
    ):
        # The query can start from that index: each use would be skipped below, as
        # indexed or by `starts_indexed` (the function's scope holds this call's uses),
        # so the scope is not worth a walk.
        return
    scope: list[_ColumnUse] | None = None
    starts_indexed: bool | None = None
    for use in uses:
        table, col = use.table, use.column
        if table.unknown or col.boolean or col.foreign_key is not None:
            continue
        if table.leads_index(col):
            continue  # indexed whatever else the function filters on
        extra = _alembic_indexes(index, table)
        if any(ix and ix[0] in (col.name, col.attr) for ix in extra):
            continue
        if scope is None:  # what the whole function constrains: only asked when needed
            found = _scope_uses(ctx, index)
            if found.uses:
                scope, starts_indexed = found.uses, found.indexed
            else:
                scope = uses
                starts_indexed = _starts_indexed(scope)
        others = _names_of(scope, table)
        if table.covered(col, others):
            continue
        if starts_indexed:
            continue  # the query can start from another index (this table or a joined one)
        if use.method in _SORT_METHODS and not _has_limit(node, ctx.stack):
            continue
        seen = ("FAA404", id(fn.node) if fn else id(node), table.key, col.attr)
        st = state(ctx.model)
        if seen in st.reported:
            continue  # once per column and function
        st.reported.add(seen)
        what = {"order_by": "sorts on", "filter_by": "filters on"}.get(use.method)
        what = what or ("joins on" if use.method in _JOIN_METHODS else "filters on")
        yield Report(
            use.node,
            f"Query {what} `{table.label}.{col.attr}`, which has no index "
            "(not a primary key, `index=True`, `unique=True` or the first column of an index)",
        )


# --------------------------------------------------------------------------- FAA403

_LIMIT_NAMES = frozenset(
    {"limit", "page_size", "pagesize", "per_page", "perpage", "size", "max_results", "take"}
)
_LIST_TYPES = frozenset(
    {
        "list",
        "typing.List",
        "typing.Sequence",
        "collections.abc.Sequence",
        "typing.Iterable",
        "collections.abc.Iterable",
    }
)
# Calls that bound how many rows a query returns.
_BOUNDING = frozenset(
    {"limit", "slice", "fetchmany", "first", "one", "one_or_none", "scalar_one", "paginate"}
)
_HOPS = 3


_EXPORT_WORDS = frozenset({"export", "backup", "dump", "download"})


def _export_route(route: Route) -> bool:
    """An export, backup, dump or download-all route (`GET /tools/export`,
    `def export_tools`): it hands over the whole collection by design."""
    words = route.handler.name.lower().strip("_").split("_")
    if words[0] in _EXPORT_WORDS or words[-1] in _EXPORT_WORDS:
        return True
    for path in (route.path, *route.full_paths):
        segments = [s for s in path.split("/") if s]
        if segments and re.split(r"[-_.]", segments[-1].lower())[0] in _EXPORT_WORDS:
            return True
    return False


def _returns_list(project: Project, route: Route) -> ast.expr | None:
    """The `list[...]` response type of a route (its `response_model=` or return
    annotation), or None."""
    fn = route.handler
    for annotation in (route.keywords.get("response_model"), fn.node.returns):
        if annotation is None:
            continue
        base, _, module = unwrap_annotation(project, fn.module, annotation, fn)
        if isinstance(base, ast.Subscript):
            origin = project.resolve(module, base.value, fn) or ""
            if origin in _LIST_TYPES or origin in ("List", "Sequence"):
                return annotation
        elif isinstance(base, ast.Name) and base.id == "list":
            return annotation
        return None
    return None


def _bound_keywords(call: ast.Call) -> bool:
    return any(kw.arg in ("le", "lt", "max_length") for kw in call.keywords)


def _limit_bounded(
    project: Project, module: Module, annotation: ast.expr | None, default: ast.expr | None
) -> bool:
    """Does a `limit` parameter or field carry an upper bound (`Query(le=100)`,
    `Field(le=100)`, `conint(le=100)`, `Literal[...]`, an enum)?"""
    for expr in (annotation, default):
        if expr is None:
            continue
        for node in walk(expr):
            if isinstance(node, ast.Call) and _bound_keywords(node):
                return True
            if isinstance(node, (ast.Name, ast.Attribute)):
                name = project.resolve(module, node) or ""
                if last_name(name) in ("Literal", "PositiveSmallInt") or (
                    project.class_(name) is not None
                    and any(last_name(b) in ("Enum", "IntEnum") for b in project.mro(name))
                ):
                    return True
                value = project.module_value(name)
                # `PageSize = Annotated[int, Query(le=100)]`
                if (
                    value is not None
                    and value[1] is not expr
                    and any(isinstance(n, ast.Call) and _bound_keywords(n) for n in walk(value[1]))
                ):
                    return True
    return False


@dataclass(frozen=True)
class _Limit:
    name: str
    node: ast.AST
    module: Module
    bounded: bool


def _limit_params(
    project: Project,
    fn: Function,
    depth: int = 0,
    seen: set[int] | None = None,
    consumer: tuple[Function, str] | None = None,
) -> list[_Limit]:
    """The limit-like parameters of a handler: its own, the fields of a Pydantic
    model or class it takes as parameters, and those of its dependencies. For a
    dependency, `consumer` is the function and parameter its result lands in."""
    seen = set() if seen is None else seen
    if id(fn.node) in seen or depth > 2:
        return []
    seen.add(id(fn.node))
    out: list[_Limit] = []
    sites = param_sites(project, fn)
    for param, default in parameters(fn.node):
        if param.arg in ("self", "cls"):
            continue
        qualname = annotation_type(project, fn.module, param.annotation, fn)
        if qualname and qualname.startswith("fastapi_pagination"):
            out.append(_Limit(param.arg, param, fn.module, True))
            continue
        mine = [site for site in sites if site.param == param.arg]
        if mine:
            # A dependency (`limit: QueryLimit` with `Depends(LimitFilter.depends)`): the
            # client sets the parameters of the dependency, not this one.
            for site in mine:
                target = resolve_target(project, site)
                found = (
                    _limit_params(project, target.function, depth + 1, seen, (fn, param.arg))
                    if target is not None and target.function is not None
                    else []
                )
                if not found and param.arg in _LIMIT_NAMES:
                    found = [_Limit(param.arg, param, fn.module, True)]  # a bound we cannot see
                out.extend(found)
            continue
        if param.arg in _LIMIT_NAMES:
            bounded = _limit_bounded(project, fn.module, param.annotation, default)
            bounded = (
                bounded
                or _clamped(fn, param.arg)
                or _clamped_by_callee(project, fn, param.arg)
                or _clamped_by_model(project, fn, param.arg, consumer)
            )
            out.append(_Limit(param.arg, param, fn.module, bounded))
            continue
        cls = project.class_(qualname)
        if cls is not None:
            out.extend(_class_limits(project, cls.qualname))
    return out


def _class_limits(project: Project, qualname: str) -> list[_Limit]:
    out: list[_Limit] = []
    for name in project.mro(qualname):
        cls = project.class_(name)
        if cls is None:
            continue
        for stmt in cls.node.body:
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.target.id in _LIMIT_NAMES
            ):
                bounded = _limit_bounded(project, cls.module, stmt.annotation, stmt.value)
                out.append(_Limit(stmt.target.id, stmt, cls.module, bounded))
        init = cls.methods.get("__init__")
        if init is not None:
            for param, default in parameters(init.node):
                if param.arg in _LIMIT_NAMES:
                    bounded = _limit_bounded(project, cls.module, param.annotation, default)
                    bounded = bounded or _clamped(init, param.arg)
                    out.append(_Limit(param.arg, param, cls.module, bounded))
    return out


def _clamped(fn: Function, name: str) -> bool:
    """`min(limit, MAX_LIMIT)`, `MAX if limit > MAX else limit`, or an `if limit > MAX:`
    (also `if limit < 1 or limit > MAX:`) whose branch raises, returns or rebinds the
    limit, in the body; not a positivity test (`if limit > 0:`, `if limit > -1:`), which
    bounds it from below only, nor a branch that only logs."""
    for node in body_nodes(fn.node):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "min"
            and any(isinstance(a, ast.Name) and a.id == name for a in node.args)
        ):
            return True
        if isinstance(node, ast.IfExp) and _over_bound(node.test, name):
            return True
        if isinstance(node, ast.If) and _caps(node.body, name, returns=True):
            tests = (
                node.test.values
                if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.Or)
                else [node.test]
            )
            if any(_over_bound(test, name) for test in tests):
                return True
    return False


def _clamped_by_callee(project: Project, fn: Function, name: str) -> bool:
    """Is `name` passed as is to a project function that clamps the parameter it lands
    in (`_paged(stmt, limit=limit)` with `min(limit, MAX)` in `_paged`)? Also through up
    to two project functions that only hand the parameter on as is (`_passes_clamped`):
    a handler calling a service that calls the CRUD function that clamps it. A clamp
    (`limit = min(limit, MAX)`) bounds only the callee's copy: it counts when `fn` uses
    the parameter nowhere but in the calls that hand it on (`check_limit(limit)`, then
    `.limit(limit)` in `fn`, is unbounded), or when `fn` takes the callee's result back
    (`limit = check_limit(limit)`); a callee that raises over the bound (`if limit >
    MAX: raise ...`) validates `fn`'s value too."""
    seen = {id(fn.node)}
    handed: set[int] = set()
    taken_back = {
        id(node.value.value if isinstance(node.value, ast.Await) else node.value)
        for node in body_nodes(fn.node)
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        and _binds_only(assignment_targets(node), name)
    }
    for node in body_nodes(fn.node):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and any(
                isinstance(a, ast.Name) and a.id == name
                for a in (*node.args, *(kw.value for kw in node.keywords))
            )
        ):
            continue
        callee = project.function(resolve_callee(project, fn.module, node.func, fn))
        if callee is None or callee is fn or id(callee.node) in seen:
            continue
        for param, passed in passed_arguments(callee, node).items():
            if not (
                isinstance(passed, ast.Name) and passed.id == name and param in callee.param_names
            ):
                continue
            if _raises_over_bound(callee, param) or (
                id(node) in taken_back and _clamped_strictly(callee, param)
            ):
                return True
            if _clamped_strictly(callee, param) or _passes_clamped(project, callee, param, 1, seen):
                handed.add(id(passed))
    loads = [n for n in body_nodes(fn.node) if isinstance(n, ast.Name) and n.id == name]
    return bool(handed) and all(id(n) in handed for n in loads)


def _binds_only(targets: list[ast.expr], name: str) -> bool:
    return len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == name


def _raises_over_bound(fn: Function, name: str) -> bool:
    """`if limit > MAX: raise ...` in `fn`, before any rebinding of `name`: whoever
    called `fn` with the value has it checked."""
    if any(
        isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
        for n in body_nodes(fn.node)
    ):
        return False
    return any(
        isinstance(node, ast.If)
        and _over_bound(node.test, name)
        and any(isinstance(stmt, ast.Raise) for stmt in node.body)
        for node in body_nodes(fn.node)
    )


def _passes_clamped(project: Project, fn: Function, name: str, depth: int, seen: set[int]) -> bool:
    """Does `fn` only hand its parameter `name` on, as is (by keyword or position), to
    project functions that clamp it (`_clamped_strictly`, or again through such a
    pass-through, `depth` counting the hops): `return await crud_list(limit=limit)`?
    Not when it uses the limit itself (`stmt.limit(limit)`, `limit * 2`), rebinds it,
    or hands it to a function that does not clamp it."""
    seen = seen | {id(fn.node)}
    if any(
        isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
        for n in body_nodes(fn.node)
    ):
        return False  # rebound
    handed: set[int] = set()
    for node in body_nodes(fn.node):
        if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))):
            continue
        arguments = [
            a
            for a in (*node.args, *(kw.value for kw in node.keywords))
            if isinstance(a, ast.Name) and a.id == name
        ]
        if not arguments:
            continue
        callee = project.function(resolve_callee(project, fn.module, node.func, fn))
        if callee is None or id(callee.node) in seen:
            return False
        ids = {id(a) for a in arguments}
        targets = [p for p, value in passed_arguments(callee, node).items() if id(value) in ids]
        if len(targets) != len(arguments) or not all(
            _clamped_strictly(callee, target)
            or (depth < 2 and _passes_clamped(project, callee, target, depth + 1, seen))
            for target in targets
        ):
            return False
        handed.update(id(a) for a in arguments)
    loads = [n for n in body_nodes(fn.node) if isinstance(n, ast.Name) and n.id == name]
    return bool(loads) and all(id(n) in handed for n in loads)


def _clamped_by_model(
    project: Project, fn: Function, name: str, consumer: tuple[Function, str] | None
) -> bool:
    """Does the dependency `fn` return a project model built with `name` as is by
    keyword (`return Filters(limit=limit, ...)`) whose methods clamp the field it lands
    in (`_clamps_field`), and does the function its result lands in (`consumer`) never
    touch that field itself (`filters.limit`), only the model's methods? Not for a
    handler's own parameters, whose model may be built only to be logged."""
    if consumer is None:
        return False
    owner, param = consumer
    for node in body_nodes(fn.node):
        call = node.value if isinstance(node, ast.Return) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, (ast.Name, ast.Attribute))):
            continue
        cls = project.class_(resolve_callee(project, fn.module, call.func, fn))
        if cls is None:
            continue
        for kw in call.keywords:
            if not (isinstance(kw.value, ast.Name) and kw.value.id == name and kw.arg):
                continue
            field = kw.arg
            raw = any(
                isinstance(n, ast.Attribute)
                and n.attr == field
                and isinstance(n.value, ast.Name)
                and n.value.id == param
                for n in body_nodes(owner.node)
            )
            if not raw and _clamps_field(project, cls.qualname, field):
                return True
    return False


def _clamps_field(project: Project, qualname: str, field: str) -> bool:
    """Does a method of the class (or of a project base) clamp its field `field` with
    `min()` (`f"LIMIT {min(1000, self.limit or 10)}"`, lnbits' `Filters.pagination`)?
    The model a dependency builds from the limit then renders it bounded."""
    for name in project.mro(qualname):
        cls = project.class_(name)
        if cls is None:
            continue
        for method in cls.methods.values():
            for node in body_nodes(method.node):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "min"
                    and len(node.args) >= 2
                    and any(_self_field(a, field) for a in node.args)
                ):
                    return True
    return False


def _self_field(expr: ast.expr, field: str) -> bool:
    """`self.limit`, or `self.limit or 10`."""
    if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
        expr = expr.values[0]
    return (
        isinstance(expr, ast.Attribute)
        and expr.attr == field
        and isinstance(expr.value, ast.Name)
        and expr.value.id == "self"
    )


def _clamped_strictly(fn: Function, name: str) -> bool:
    """`min(limit, MAX)`, or an `if limit > MAX:` whose branch raises or lowers the limit.
    A helper applying the limit (`if limit > 0: stmt = stmt.limit(limit)`) is the
    common case, unlike a handler's own comparisons, and is no clamp."""
    for node in body_nodes(fn.node):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "min"
            and any(isinstance(a, ast.Name) and a.id == name for a in node.args)
        ):
            return True
        if isinstance(node, ast.If) and _over_bound(node.test, name) and _caps(node.body, name):
            return True
    return False


def _over_bound(test: ast.expr, name: str) -> bool:
    """`name > bound` / `name >= bound` with a bound that is not a positivity test
    (`None`, `0`, `1`, or a negative constant: `if limit > -1:`, "-1 means all")."""
    if not (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == name
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Gt, ast.GtE))
    ):
        return False
    bound = test.comparators[0]
    if (
        isinstance(bound, ast.UnaryOp)
        and isinstance(bound.op, ast.USub)
        and isinstance(bound.operand, ast.Constant)
    ):
        return False  # a negative constant
    return not (isinstance(bound, ast.Constant) and bound.value in (None, 0, 1))


def _caps(body: list[ast.stmt], name: str, *, returns: bool = False) -> bool:
    """Does the branch raise, or rebind `name` (to the bound), or, with `returns`,
    return?"""
    for stmt in body:
        if isinstance(stmt, ast.Raise) or (returns and isinstance(stmt, ast.Return)):
            return True
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and any(
            isinstance(target, ast.Name) and target.id == name
            for target in assignment_targets(stmt)
        ):
            return True
    return False


# What a function returns when it folds rows into distinct values or an aggregate.
_REDUCED_TYPES = frozenset(
    {"set", "frozenset", "Set", "FrozenSet", "AbstractSet", "Counter", "int", "float", "bool"}
)
_REDUCING_CALLS = frozenset(
    {"set", "frozenset", "Counter", "len", "sum", "min", "max", "any", "all"}
)


def _reducing(
    facts: FunctionFacts, declared: set[str], expr: ast.expr | None, depth: int = 0
) -> bool:
    """Is `expr` a set, a `Counter` or an aggregate of values (`{m.tag for m in rows}`,
    `sorted(tags)` of a `tags = set()` filled in a loop, `len(rows)`)?"""
    if isinstance(expr, (ast.Set, ast.SetComp)):
        return True
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        if expr.func.id in ("sorted", "list", "tuple") and len(expr.args) == 1:
            return _reducing(facts, declared, expr.args[0], depth)
        return expr.func.id in _REDUCING_CALLS
    if isinstance(expr, ast.Name) and depth < 2 and expr.id not in declared:
        # Plain assignments of the whole name (`tags = set()`); an unpacked target has
        # no value of its own (None).
        values = [
            value
            for node, value in facts.assigns.get(expr.id, [])
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and value is not None
        ]
        return bool(values) and all(_reducing(facts, declared, v, depth + 1) for v in values)
    return False


_REDUCED: FunctionCache[bool] = FunctionCache()


def _reduced(st: OrmState, fn: Function) -> bool:
    """Does `fn` fold the rows it reads into distinct values or an aggregate (a set of tag
    names, a count), or into a lookup map, its return type or every value it returns
    saying so? A limit on its query would truncate a vocabulary, not bound a list of
    rows; a map (the latest job per knowledge base) is looked items up in, it is not
    the response list."""
    return _REDUCED.get(st.model, fn, lambda: _folds_rows(st, fn))


def _folds_rows(st: OrmState, fn: Function) -> bool:
    """See `_reduced`. A map is a dict built keyed from the rows (`latest = {}` filled
    with `latest.setdefault(job.asset_id, job)`, a dict comprehension, `dict(pairs)`),
    whatever the return type says: a `dict[str, Any]` may be a record. A dict with
    literal keys (`{"items": rows, "total": n}`, `dict(items=rows)`, `{**extra, "items":
    rows}`, `out.update(items=rows)`) is a record that may carry the rows, and is not."""
    project = st.project
    facts = st.facts_of(fn)
    if fn.node.returns is not None:
        base, _, module = unwrap_annotation(project, fn.module, fn.node.returns, fn)
        origin = base.value if isinstance(base, ast.Subscript) else base
        if origin is not None:
            name = last_name(project.resolve(module, origin, fn) or dotted(origin))
            if name in _REDUCED_TYPES:
                return True
    returned: list[ast.expr] = []
    # A name declared with a bare annotation (`tags: set[str]`) may be bound where we do
    # not look: it is never taken for a folded value.
    declared: set[str] = set()
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Return):
            # An early `return {}` carries no rows either way.
            if node.value is not None and not _empty_literal(node.value):
                returned.append(node.value)
        elif (
            isinstance(node, ast.AnnAssign)
            and node.value is None
            and isinstance(node.target, ast.Name)
        ):
            declared.add(node.target.id)
    if not returned or _returns_record(fn, facts):
        return False
    return all(_reducing(facts, declared, value) or _lookup_map(facts, value) for value in returned)


def _empty_literal(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) or (isinstance(expr, ast.Dict) and not expr.keys)


_EMPTY_MAPS = frozenset({"dict", "defaultdict", "OrderedDict"})


def _lookup_map(facts: FunctionFacts, expr: ast.expr) -> bool:
    """A dict comprehension (`{j.id: j for j in rows}`), a dict of computed pairs
    (`dict(zip(ids, rows))`), or a local bound only to an empty dict (`latest = {}`,
    `defaultdict(list)`) and then filled."""
    if isinstance(expr, ast.DictComp):
        return True
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "dict"
        and len(expr.args) == 1
        and not expr.keywords
        and isinstance(expr.args[0], (ast.Call, ast.GeneratorExp, ast.ListComp))
    ):
        return True
    if not isinstance(expr, ast.Name):
        return False
    values = [
        value
        for node, value in facts.assigns.get(expr.id, [])
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and value is not None
    ]
    return bool(values) and all(
        isinstance(value, ast.DictComp)
        or (isinstance(value, ast.Dict) and not value.keys)
        or (
            isinstance(value, ast.Call)
            and last_name(dotted(value.func)) in _EMPTY_MAPS
            and not value.keywords
        )
        for value in values
    )


def _returns_record(fn: Function, facts: FunctionFacts) -> bool:
    """Does `fn` return (directly or through a local) a dict with literal string keys,
    written out (`{"items": rows, "total": n}`, `dict(items=rows)`) or filled
    (`out["items"] = rows`, `out.update(items=rows)`)?"""
    holders: set[str] = set()
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Return) and node.value is not None:
            if _literal_keys(node.value):
                return True
            if isinstance(node.value, ast.Name):
                holders.add(node.value.id)
    for name in holders:
        for _node, value in facts.assigns.get(name, []):
            if value is not None and _literal_keys(value):
                return True
    for node in body_nodes(fn.node):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in holders
            and (
                any(kw.arg is not None for kw in node.keywords)
                or any(_literal_keys(arg) for arg in node.args)
            )
        ):
            return True
        if any(
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id in holders
            and const_str(target.slice) is not None
            for target in assignment_targets(node)
        ):
            return True
    return False


def _literal_keys(expr: ast.expr) -> bool:
    """`{"items": rows}`, `{**extra, "items": rows}` or `dict(items=rows)`: a record."""
    if isinstance(expr, ast.Call):
        return (
            isinstance(expr.func, ast.Name)
            and expr.func.id == "dict"
            and any(kw.arg is not None for kw in expr.keywords)
        )
    return (
        isinstance(expr, ast.Dict)
        and any(key is not None for key in expr.keys)
        and all(key is None or const_str(key) is not None for key in expr.keys)
    )


def _one_column_selects(st: OrmState, fn: Function) -> bool:
    """Does every `select(...)` in `fn` take one column expression, not a model
    (`select(Feedback.data["model_id"].as_string())`)?"""
    found = False
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call):
            continue
        callee = st.project.resolve(fn.module, node.func, fn)
        if callee not in SELECT_FUNCTIONS:
            continue
        if len(node.args) != 1 or node.keywords:
            return False
        model = st.project.resolve(fn.module, node.args[0], fn)
        if isinstance(node.args[0], ast.Name) or model in st.index.models:
            return False
        found = True
    return found


def _unbounded_query(
    st: OrmState, fn: Function, depth: int = 0, seen: set[int] | None = None
) -> tuple[Function, ast.Call] | None:
    """A session query in `fn` (or a project function it calls, a few hops deep) whose
    result is taken whole (`.all()`, `.fetchall()`) and that nothing bounds."""
    seen = set() if seen is None else seen
    if id(fn.node) in seen or depth > _HOPS:
        return None
    seen.add(id(fn.node))
    project = st.project
    if _reduced(st, fn):
        return None  # whatever it reads is folded into distinct values, not returned
    query = function_query(st, fn)
    if query is not None:
        names: set[str] = set()
        takes_all = False
        sliced = False
        for node in body_nodes(fn.node):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
                if node.func.attr in ("all", "fetchall") and not node.args:
                    takes_all = True
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
                sliced = True
        if takes_all and not names & _BOUNDING and not sliced:
            if "distinct" in names and _one_column_selects(st, fn):
                return None  # `select(M.col).distinct()`: a vocabulary, not rows
            return fn, query[0]
        if names & _BOUNDING or sliced:
            return None
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call) or not isinstance(node.func, (ast.Name, ast.Attribute)):
            continue
        callee = project.function(resolve_callee(project, fn.module, node.func, fn))
        if callee is None or is_test_module(callee.module):
            continue
        found = _unbounded_query(st, callee, depth + 1, seen)
        if found is not None and not _enriches(st, fn, node, callee, found):
            return found
    return None


def _enriches(
    st: OrmState, fn: Function, call: ast.Call, callee: Function, found: tuple[Function, ast.Call]
) -> bool:
    """Does `call` (in `fn`) only enrich what `fn` returns: the query it reaches filters
    with `in_()` on a parameter (`where(Job.asset_id.in_(ids))`), the call passes a
    collection `fn` already holds (`[info.id for info in infos]`), and its rows do not
    flow into what `fn` returns? The rows are bounded by the keys and decorate the
    listed items; the list is the query the keys were taken from."""
    where, query = found
    keys = in_parameters(st, where, query)
    if not keys:
        return False
    if where is callee:
        passed = [argument_for(callee, call, name) for name in sorted(keys)]
    else:
        passed = [*call.args, *(kw.value for kw in call.keywords)]
    facts = st.facts_of(fn)
    held = any(
        isinstance(arg, (ast.ListComp, ast.SetComp, ast.GeneratorExp))
        or (
            isinstance(arg, ast.Name)
            and arg.id not in facts.params
            and (arg.id in facts.assigns or arg.id in facts.appends)
        )
        for arg in passed
        if arg is not None
    )
    return held and not _flows_to_return(st, fn, call)


_FILLS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "appendleft"})


def _stored_names(target: ast.AST) -> Iterator[str]:
    """The locals an assignment target stores into: `x`, `a, b`, `out[k]`, `resp.items`."""
    while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        target = target.value
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _stored_names(element)


def _bound_by(stmt: ast.AST) -> list[tuple[list[str], ast.AST]]:
    """What a statement binds, and from what: assignment targets from the value, loop
    targets from the iterable, a collection filled by `out.append(x)` from `x`."""
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
        names = [n for t in assignment_targets(stmt) for n in _stored_names(t)]
        return [(names, stmt.value)]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [(list(_stored_names(stmt.target)), stmt.iter)]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [
            (list(_stored_names(item.optional_vars)), item.context_expr)
            for item in stmt.items
            if item.optional_vars is not None
        ]
    if (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr in _FILLS
    ):
        return [(list(_stored_names(stmt.value.func.value)), stmt.value)]
    return []


_RETURNED: FunctionCache[frozenset[str]] = FunctionCache()


def _returned_names(st: OrmState, fn: Function) -> frozenset[str]:
    """The locals whose values flow into what `fn` returns: those read in a `return`,
    then, transitively, those read where they are bound, stored into or filled."""

    def compute() -> frozenset[str]:
        sources: dict[str, list[ast.AST]] = {}
        pending: list[str] = []
        for node in body_nodes(fn.node):
            if isinstance(node, ast.Return) and node.value is not None:
                pending.extend(n.id for n in walk(node.value) if isinstance(n, ast.Name))
            for names, value in _bound_by(node):
                for name in names:
                    sources.setdefault(name, []).append(value)
        out: set[str] = set()
        while pending:
            name = pending.pop()
            if name in out:
                continue
            out.add(name)
            for value in sources.get(name, []):
                pending.extend(n.id for n in walk(value) if isinstance(n, ast.Name))
        return frozenset(out)

    return _RETURNED.get(st.model, fn, compute)


def _flows_to_return(st: OrmState, fn: Function, call: ast.Call) -> bool:
    """Is the result of `call` returned by `fn`, directly or through the locals it is
    bound to? Unknown (the call is not in a statement of `fn`'s own body) counts as
    returned."""
    parents = _parent_map(fn)
    stmt: ast.AST | None = call
    while stmt is not None and not isinstance(stmt, ast.stmt):
        stmt = parents.get(id(stmt))
    if stmt is None or isinstance(stmt, ast.Return):
        return True
    returned = _returned_names(st, fn)
    return any(name in returned for names, _value in _bound_by(stmt) for name in names)


@rule(
    code="FAA403",
    name="unbounded-collection-query",
    summary="A list endpoint returns every row of a table, or takes a limit with no maximum",
    severity="warning",
    scope="route",
    fix_title="Add a `limit` query parameter with an upper bound (`Query(le=100)`)",
    references=(
        "https://fastapi.tiangolo.com/tutorial/sql-databases/#read-heroes",
        "https://fastapi.tiangolo.com/tutorial/query-params-str-validations/",
    ),
)
def unbounded_collection_query(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Looks at `GET` routes whose response is a list (`response_model=list[...]` or a
    `-> list[...]` return annotation). It reports:
    - a `limit`-like parameter (`limit`, `page_size`, `per_page`, `size`, ...) with no
      upper bound: no `le=`/`lt=` in its `Query()`/`Field()`/`conint()`, no `Literal`
      or enum type and no `min(limit, MAX)` clamp, neither in the handler nor in the
      project function the handler passes the parameter to as is (`_paged(stmt,
      limit=limit)` with `min(limit, MAX)` in `_paged`, also through up to two
      functions that only hand it on unchanged, handler → service → repository; or an
      `if limit >
      MAX:` there that raises or lowers the limit; a helper that only applies a
      positive limit, `if limit > 0: stmt = stmt.limit(limit)`, is no clamp, nor is
      such a test in the handler, `if limit > -1:` or an `if limit > MAX:` there that
      only logs), or, for a dependency's parameter, in the model the dependency returns
      built with the parameter as is by keyword, one of whose methods clamps that
      field with `min()` when it renders it (`return Filters(limit=limit)`, then
      `f"LIMIT {min(1000, self.limit or 10)}"` in `Filters.pagination`), when the
      function that takes the model never reads the field itself (`filters.limit`).
      The parameter
      is found on the handler, in a Pydantic model or class it takes (`Annotated[BookQuery, Query()]`,
      `Depends(Pagination)`), or in a dependency function;
    - a route with no such parameter whose query (in the handler or up to three calls
      deep in services and repositories) reads its rows with `.all()`/`.fetchall()`
      and has no `limit()`, `slice()`, `first()` or slicing.

    ## Why is this bad?
    A list endpoint without a bound returns the whole table: fine with ten rows in
    development, a timeout and a memory spike once the table holds a million. A
    `limit` without a maximum is the same: any client can ask for `?limit=1000000`.

    ## Known problems
    Routes with path parameters (`/authors/{id}/books`, a collection that belongs to
    one parent), paginated responses (`Page[...]`, fastapi-pagination) and export,
    backup, dump or download routes (the last path segment is `export`, `export.csv`,
    `backup`, ..., or the handler is named `export_*`/`*_export` and the like), which
    return the whole collection on purpose, are not reported. Nor is a query whose rows
    a function folds into distinct values or an aggregate before returning them (a
    `set[...]`/`Counter`/number return type, a set built up or a set comprehension), or
    that selects the distinct values of one column (`select(M.col).distinct()`): a
    limit would truncate a vocabulary, not bound a list; a set of primary keys is
    trusted too. Only a query whose rows become the returned list is cited, so neither
    is a helper that returns a lookup map (a dict it builds keyed from the rows, such
    as the latest job per knowledge base, whatever its return type says; a dict with
    literal keys, `{"items": rows, "total": n}`, `dict(items=rows)`, `{**extra,
    "items": rows}` or one filled with `out.update(items=rows)`, is a record and still
    counts), nor a query filtered with `in_()` on a parameter (`where(Job.asset_id
    .in_(ids))`) that the handler calls with a collection it already holds (`[i.id for
    i in infos]`) and whose rows do not flow into what the handler returns: they
    enrich the listed items. A bound enforced somewhere the rule does not look (a
    middleware, a custom validator) is not seen. A model that clamps its limit when it
    renders it is trusted once the route hands it on: a service the route passes it to
    that reads the raw field (`.limit(filters.limit)`) is not seen. Test modules are
    skipped.

    ## Example
    ```python
    @router.get("/books", response_model=list[BookOut])
    def list_books(db: SessionDep):
        return db.scalars(select(Book)).all()
    ```

    ## Use instead
    ```python
    @router.get("/books", response_model=list[BookOut])
    def list_books(
        db: SessionDep,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ):
        return db.scalars(select(Book).offset(offset).limit(limit)).all()
    ```

    ## Fix safety
    There is no automatic fix: the right page size is an API decision.
    """
    if "GET" not in route.methods or route.kind != "http":
        return
    fn = route.handler
    if is_test_module(fn.module) or is_test_module(route.module):
        return
    project = ctx.project
    if _returns_list(project, route) is None or _export_route(route):
        return
    label = f"GET {route.full_paths[0]}"
    limits = _limit_params(project, fn)
    if limits:
        for limit in limits:
            if not limit.bounded:
                st = state(ctx.model)
                if ("FAA403", id(limit.node)) in st.reported:
                    return
                st.reported.add(("FAA403", id(limit.node)))
                yield Report(
                    limit.node,
                    f"`{limit.name}` of `{label}` has no upper bound (`le=`): a client can "
                    "ask for every row",
                    module=limit.module,
                )
                return
        return
    if "{" in route.path or any("{" in m.path for m in route.mounts):
        return
    st = state(ctx.model)
    found = _unbounded_query(st, fn)
    if found is None:
        return
    where, call = found
    text = ast.unparse(call)
    text = text if len(text) <= 40 else text[:37] + "..."
    place = "" if where is fn else f" in `{where.display}`"
    yield Report(
        route.node,
        f"`{label}` returns every row of `{text}`{place}: no `limit()` and no limit parameter",
        module=route.module,
    )


# --------------------------------------------------------------------------- FAA410

_PY_FILTER_METHODS = frozenset({"filter", "where", "having", "join", "outerjoin"})


def _is_model_attr(ctx: FileContext, expr: ast.expr) -> bool:
    if not isinstance(expr, ast.Attribute):
        return False
    base = expr.value
    while isinstance(base, ast.Attribute) and isinstance(base.value, ast.Attribute):
        base = base.value  # `Model.col.expression`
    if not isinstance(base, (ast.Name, ast.Attribute)):
        return False
    owner = ctx.resolve(base)
    if owner is None:
        return False
    return state(ctx.model).index.model(owner) is not None


def _sql_expr(ctx: FileContext, expr: ast.expr) -> bool:
    """A SQLAlchemy column expression: `Model.col`, `Model.col == x`, `Model.col.in_(...)`,
    `Model.rel.any(...)`, `func.lower(Model.col) == x`."""
    if isinstance(expr, ast.Attribute):
        return _is_model_attr(ctx, expr)
    if isinstance(expr, ast.Compare):
        return any(_sql_expr(ctx, e) for e in (expr.left, *expr.comparators))
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Attribute) and _sql_expr(ctx, func.value):
            return True
        return any(_sql_expr(ctx, a) for a in expr.args)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Invert):
        return _sql_expr(ctx, expr.operand)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.BitAnd, ast.BitOr)):
        return _sql_expr(ctx, expr.left) or _sql_expr(ctx, expr.right)
    return False


def _python_operator(ctx: FileContext, expr: ast.expr) -> tuple[ast.AST, str] | None:
    if isinstance(expr, ast.BoolOp):
        if sum(_sql_expr(ctx, v) for v in expr.values) >= 1 and all(
            _sql_expr(ctx, v) or isinstance(v, (ast.Compare, ast.BoolOp, ast.UnaryOp))
            for v in expr.values
        ):
            word = "and" if isinstance(expr.op, ast.And) else "or"
            fix = "and_()` or separate arguments" if word == "and" else "or_()` or `|`"
            return expr, f"Python `{word}` combines SQL conditions before SQL sees them; use `{fix}"
    elif isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        if _sql_expr(ctx, expr.operand):
            return expr, "Python `not` is applied to a SQL expression; use `~` or `not_()`"
    elif isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        op = expr.ops[0]
        left, right = expr.left, expr.comparators[0]
        if isinstance(op, (ast.Is, ast.IsNot)) and (_sql_expr(ctx, left) or _sql_expr(ctx, right)):
            word = "is" if isinstance(op, ast.Is) else "is not"
            method = "is_" if isinstance(op, ast.Is) else "is_not"
            col = ast.unparse(left)
            return expr, (
                f"`{col} {word} ...` is evaluated by Python (a constant `"
                f"{'False' if word == 'is' else 'True'}`); use `{col}.{method}(...)`"
            )
        if isinstance(op, (ast.In, ast.NotIn)) and _sql_expr(ctx, left):
            col = ast.unparse(left)
            method = "in_" if isinstance(op, ast.In) else "not_in"
            word = "in" if isinstance(op, ast.In) else "not in"
            return expr, f"`{col} {word} ...` is evaluated by Python; use `{col}.{method}(...)`"
    return None


@rule(
    code="FAA410",
    name="python-operator-in-orm-filter",
    summary="`and`/`or`/`not`/`is`/`in` inside `filter()`/`where()` are evaluated by Python",
    severity="error",
    nodes=(ast.Call,),
    fix_title="Use SQLAlchemy operators: `and_()`, `or_()`, `~`, `.is_()`, `.in_()`",
    references=(
        "https://docs.sqlalchemy.org/en/20/core/operators.html",
        "https://semgrep.dev/r/python.sqlalchemy.correctness.bad-operator-in-filter.bad-operator-in-filter",
    ),
    applies=uses_orm,
)
def python_operator_in_orm_filter(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds Python's `and`, `or`, `not`, `is`, `is not`, `in` and `not in` applied to
    SQLAlchemy column expressions (`Model.column`, comparisons and method calls on it)
    inside the arguments of `filter()`, `where()`, `having()` or a join condition.

    ## Why is this bad?
    Python evaluates these operators itself, they cannot be overloaded:
    `User.name == a and User.age > b` keeps only one of the two conditions,
    `User.deleted_at is None` is the constant `False` (the query returns nothing), and
    `User.id in ids` asks Python, not the database. The query is silently wrong.

    ## Known problems
    Only expressions on attributes of known model classes are checked, so conditions
    on `aliased()` entities or Core `table.c` columns are not.

    ## Example
    ```python
    stmt = select(User).where(User.deleted_at is None and User.role in roles)
    ```

    ## Use instead
    ```python
    stmt = select(User).where(User.deleted_at.is_(None), User.role.in_(roles))
    ```
    ruff's E711 (`== None`) pushes towards `is None`, which is exactly wrong here:
    prefer `.is_(None)` and keep both tools happy.

    ## Fix safety
    There is no automatic fix yet.
    """
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in _PY_FILTER_METHODS:
        return
    args = [
        *node.args,
        *(kw.value for kw in node.keywords if kw.arg in ("onclause", "whereclause")),
    ]
    for arg in args:
        todo: list[ast.expr] = [arg]
        while todo:
            expr = todo.pop()
            hit = _python_operator(ctx, expr)
            if hit is not None:
                yield Report(hit[0], hit[1])
                continue
            if isinstance(expr, ast.Call) and last_name(ctx.resolve(expr.func)) in (
                "and_",
                "or_",
                "not_",
            ):
                todo.extend(expr.args)
            elif isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.BitAnd, ast.BitOr)):
                todo.extend((expr.left, expr.right))
            elif isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Invert):
                todo.append(expr.operand)


# --------------------------------------------------------------------------- FAA409

_ROWS = frozenset({"all", "fetchall"})
_QUERY_LIKE = frozenset({"execute", "scalars", "query", "exec", "stream", "stream_scalars"})


def _query_rows(ctx: FileContext, expr: ast.expr) -> str | None:
    """`db.query(X).all()`, `(await db.scalars(q)).all()`, `result.scalars().all()` (with
    `result = db.execute(q)`): the display of the session call, else None. Also None
    when the call sends an INSERT/UPDATE/DELETE (`... .returning(T.id)`): its rows are
    the rows it wrote, which no `SELECT count(*)` can count."""
    if not (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in _ROWS
        and not expr.args
    ):
        return None
    st = state(ctx.model)
    fn = ctx.function()
    current: ast.expr = expr.func.value
    for _ in range(12):
        if isinstance(current, ast.Await):
            current = current.value
        if isinstance(current, ast.Call):
            hit = session_call(st, ctx.module, current, fn, _QUERY_LIKE)
            if hit is not None:
                return None if sends_write(st, fn, current) else hit[0]
            current = current.func
        elif isinstance(current, ast.Attribute):
            current = current.value
        elif isinstance(current, ast.Name) and fn is not None:
            bindings = st.facts_of(fn).assigns.get(current.id, [])
            if len(bindings) != 1 or bindings[0][1] is None:
                return None
            value = bindings[0][1]
            current = value.value if isinstance(value, ast.Await) else value
            if isinstance(current, ast.Call):
                hit = session_call(st, ctx.module, current, fn, _QUERY_LIKE)
                return hit[0] if hit is not None and not sends_write(st, fn, current) else None
            return None
        else:
            return None
    return None


def _isolated(stack: list[ast.AST], loop: ast.AST) -> bool:
    """One transaction per item on purpose: the commit sits in a `try:` inside the loop
    whose handler rolls back or moves on to the next item (one bad item must not undo
    the others), or in an `except` handler (error-path cleanup)."""
    inside = False
    for node in stack:
        if node is loop:
            inside = True
        elif inside and isinstance(node, ast.ExceptHandler):
            return True
        elif inside and isinstance(node, ast.Try):
            for handler in node.handlers:
                subs = list(walk(handler))
                if any(isinstance(sub, ast.Attribute) and sub.attr == "rollback" for sub in subs):
                    return True
                if not any(isinstance(sub, ast.Raise) for sub in subs):
                    return True
    return False


@rule(
    code="FAA409",
    name="row-by-row-orm",
    summary="Rows are counted by loading them all, or committed one transaction per item",
    severity="warning",
    nodes=(ast.Call,),
    fix_title="Count with `select(func.count())`; commit once after the loop",
    references=(
        "https://docs.sqlalchemy.org/en/20/orm/queryguide/query.html#sqlalchemy.orm.Query.count",
        "https://docs.sqlalchemy.org/en/20/orm/session_transaction.html",
    ),
    applies=_orm_module,
)
def row_by_row_orm(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds two ways of doing in Python, row by row, what the database does at once:
    - `len(query.all())` (also `len((await db.scalars(stmt)).all())`, `len(result.
      scalars().all())`), which loads every row and builds every object just to count
      them;
    - `session.commit()` inside a `for` loop or comprehension over a collection, one
      transaction (and one round trip and `fsync`) per item.

    ## Why is this bad?
    Counting by loading transfers the whole table to the application; `SELECT
    count(*)` returns one number. A commit per item turns a bulk import of 10,000 rows
    into 10,000 transactions, and a failure in the middle leaves half of them written.

    ## Known problems
    A commit inside a `try:` whose `except` rolls back or skips to the next item is one
    transaction per item on purpose (one bad item must not undo the others) and is not
    reported, nor is a commit in an `except` handler (error-path cleanup), nor are loops
    over batches or chunks, `while` loops and `range()` loops. `session.add()` or
    `flush()` in a loop is not reported: the unit of work batches the inserts.
    `len(...all())` over what an INSERT/UPDATE/DELETE `... RETURNING` sends back (also
    built in a local: `stmt = insert(T).values(rows).on_conflict_do_nothing()
    .returning(T.id)`) counts the rows written, which `func.count()` cannot, and is not
    reported; only reads are. Test modules are skipped.

    ## Example
    ```python
    total = len(db.query(Book).filter(Book.stock == 0).all())
    for row in rows:
        db.add(Book(**row))
        db.commit()
    ```

    ## Use instead
    ```python
    total = db.scalar(select(func.count()).select_from(Book).where(Book.stock == 0))
    db.add_all(Book(**row) for row in rows)
    db.commit()
    ```

    ## Fix safety
    There is no automatic fix.
    """
    func = node.func
    if isinstance(func, ast.Name) and func.id == "len" and len(node.args) == 1:
        shown = _query_rows(ctx, node.args[0])
        if shown is not None:
            yield Report(
                node,
                f"`len(...all())` loads every row of `{shown}` to count them; "
                "count in SQL with `func.count()`",
            )
        return
    if not isinstance(func, ast.Attribute) or func.attr != "commit":
        return
    loops = list(iteration_loops(ctx.stack, node))
    if not loops:
        return
    st = state(ctx.model)
    hit = session_call(st, ctx.module, node, ctx.function(), frozenset({"commit"}))
    if hit is None:
        return
    for loop in loops:
        if _isolated(ctx.stack, loop.node):
            return
        if collection_loop(loop, ctx, node):
            assert loop.iter is not None
            where = ast.unparse(loop.iter)
            where = where if len(where) <= 40 else where[:37] + "..."
            yield Report(
                node,
                f"`{hit[0]}()` commits once per item of `{where}`; commit once after the loop",
            )
            return


# --------------------------------------------------------------------------- FAA406


def _refreshed(fn: Function, name: str, attr: str) -> bool:
    """`await session.refresh(obj, ["rel"])` (or `attribute_names=`) loads `rel`."""
    for node in body_nodes(fn.node):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "refresh"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == name
        ):
            names = node.args[1] if len(node.args) > 1 else keyword(node, "attribute_names")
            if names is None or not isinstance(names, (ast.List, ast.Tuple, ast.Set)):
                continue
            if any(const_str(e) == attr for e in names.elts):
                return True
    return False


@rule(
    code="FAA406",
    name="lazy-relationship-with-async-session",
    summary="A lazy-loading relationship is read on an object loaded by an `AsyncSession`",
    severity="error",
    nodes=(ast.Attribute,),
    fix_title='Load it in the query (`selectinload()`/`joinedload()`) or declare `lazy="raise"`',
    references=(
        "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession",
        "https://docs.sqlalchemy.org/en/20/errors.html#error-xd2s",
    ),
    applies=_orm_module,
)
def lazy_relationship_with_async_session(node: ast.Attribute, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds a `relationship()` attribute read on an object that an `AsyncSession` loaded
    (`await session.get(...)`, `await session.scalar(select(...))`,
    `(await session.scalars(...)).first()`, a repository method returning it), when the
    relationship keeps the default lazy loading (no `lazy="selectin"`/`"joined"`/
    `"raise"`) and the query that loaded the object has no loader option for it
    (`selectinload`, `joinedload`, `subqueryload`, `contains_eager`, `raiseload`).

    ## Why is this bad?
    A lazy load is implicit I/O on attribute access, which an `AsyncSession` cannot do:
    the read raises `sqlalchemy.exc.MissingGreenlet` ("greenlet_spawn has not been
    called") at runtime, typically only on the code path tests did not cover.

    ## Known problems
    Only objects whose loading query is visible in the project are followed (objects
    passed in as parameters are not). Reads in a loop over query results are FAA401's
    (which reports them as errors with an `AsyncSession`). Reads after
    `await session.refresh(obj, ["rel"])` and through `obj.awaitable_attrs.rel` are
    fine and not reported. Test modules are skipped.

    ## Example
    ```python
    async def get_order(session: AsyncSession, order_id: int) -> OrderOut:
        order = await session.get(Order, order_id)
        return OrderOut(id=order.id, items=[i.sku for i in order.items])
    ```

    ## Use instead
    ```python
        order = await session.get(Order, order_id, options=[selectinload(Order.items)])
    ```
    and declare relationships `lazy="raise"` so that a forgotten loader option fails
    loudly in tests.

    ## Fix safety
    There is no automatic fix.
    """
    if not isinstance(node.ctx, ast.Load) or not isinstance(node.value, ast.Name):
        return
    st = state(ctx.model)
    if node.attr not in st.index.relationship_names:
        return
    fn = ctx.function()
    if fn is None:
        return
    name = node.value.id
    if loop_binding(ctx.stack, node, name) is not None:
        return  # a loop over query results: FAA401
    cache = st.memo.setdefault(("FAA406-origins", id(fn.node)), {})
    assert isinstance(cache, dict)
    if name in cache:
        origin = cache[name]
    else:
        origin = cache[name] = Origins(st, {}, fn).instance(node.value, ctx.module, fn)
    if not isinstance(origin, Origin) or not origin.is_async or origin.loaded is None:
        return
    rel = origin.model.relationships.get(node.attr)
    if rel is None or not rel.lazy_loads or node.attr in origin.loaded:
        return
    if _refreshed(fn, name, node.attr):
        return
    seen = ("FAA406", id(fn.node), name, node.attr)
    if seen in st.reported:
        return
    st.reported.add(seen)
    yield Report(
        node,
        f"`{name}.{node.attr}` lazy-loads `{origin.model.name}.{node.attr}` on an object "
        "loaded by an `AsyncSession`: it raises `MissingGreenlet`",
    )


# --------------------------------------------------------------------------- FAA407

_ASYNC_FACTORIES = frozenset(
    {
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
_SYNC_MAKERS = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})


@dataclass
class _Factories:
    expiring: list[tuple[Module, ast.Call]] = field(default_factory=list)
    keeping: int = 0


def _async_factories(model: AppModel) -> _Factories:
    """The project's async session factories that expire on commit, and how many keep
    their objects. FAA407 is silent once one keeps them, so the search stops at the
    first such factory: `expiring` is then incomplete, and never read."""
    st = state(model)
    key = ("FAA407-factories", 0)
    cached = st.memo.get(key)
    if isinstance(cached, _Factories):
        return cached
    out = _Factories()
    project = model.project
    targets = _SYNC_MAKERS | _ASYNC_FACTORIES
    # A call that may resolve to a factory ends its callee with one of `names`: modules
    # that cannot spell one are not walked.
    names = names_reaching(model, targets)
    for module in project.module_list:
        if is_test_module(module) or not module.imports_anything("sqlalchemy", "sqlmodel"):
            continue
        if names is not None and not module.may_spell(*names):
            continue
        for node in nodes_of(model, module, ast.Call):
            if not may_resolve_to(model, node.func, targets):
                continue
            callee = project.resolve(module, node.func) or ""
            if callee in _SYNC_MAKERS:
                cls = keyword(node, "class_")
                if cls is None or project.resolve(module, cls) not in _ASYNC_FACTORIES:
                    continue
            elif callee not in _ASYNC_FACTORIES:
                continue
            expire = keyword(node, "expire_on_commit")
            if expire is not None and is_false(expire):
                out.keeping += 1
            elif expire is None and any(kw.arg is None for kw in node.keywords):
                out.keeping += 1  # `**options`: unknown
            elif not (callee.endswith("AsyncSession") and not node.args and not node.keywords):
                out.expiring.append((module, node))
            if out.keeping:
                st.memo[key] = out
                return out
    st.memo[key] = out
    return out


def _after(fn: Function, stmt: ast.stmt) -> Iterator[ast.stmt]:
    """The statements that run after `stmt` on the same path: its later siblings, then
    those of the enclosing `with`/`try` blocks (not across `if`/loop branches)."""
    parents: dict[int, tuple[ast.AST, list[ast.stmt]]] = {}
    for node in walk(fn.node):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                for child in block:
                    if isinstance(child, ast.stmt):
                        parents[id(child)] = (node, block)
    current: ast.AST = stmt
    while id(current) in parents:
        owner, block = parents[id(current)]
        index = next(i for i, s in enumerate(block) if s is current)
        yield from block[index + 1 :]
        if owner is fn.node or not isinstance(owner, (ast.With, ast.AsyncWith, ast.Try)):
            return
        current = owner


def _orm_instance(st: OrmState, fn: Function, name: str) -> bool:
    """Every binding of `name` in `fn` is an ORM object: `Model(...)` or a query result."""
    facts = st.facts_of(fn)
    values = facts.assigns.get(name)
    if not values or name in facts.params:
        return False
    for _stmt, value in values:
        if value is None:
            return False
        if isinstance(value, ast.Call):
            callee = st.project.resolve(fn.module, value.func, fn)
            if callee in st.index.models:
                continue
        if Origins(st, {}, fn).instance(value, fn.module, fn) is None:
            return False
    return True


@rule(
    code="FAA407",
    name="expire-on-commit-async",
    summary="An object is read after `commit()` with an `AsyncSession` that expires on commit",
    severity="error",
    scope="project",
    fix_title="Create the sessions with `async_sessionmaker(engine, expire_on_commit=False)`",
    references=(
        "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession",
        "https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session.params.expire_on_commit",
    ),
)
def expire_on_commit_async(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    When the project's `async_sessionmaker(...)` (or `AsyncSession(...)`,
    `sessionmaker(class_=AsyncSession)`) keeps the default `expire_on_commit=True`,
    finds ORM objects (created with `Model(...)` or loaded by a query) that are read
    after `await session.commit()`: an attribute access, or the object returned (so
    that FastAPI or the caller reads it), with no `await session.refresh(obj)` between.

    ## Why is this bad?
    `commit()` expires every loaded object; the next attribute read reloads it with a
    query. An `AsyncSession` cannot do that implicitly: the read raises
    `MissingGreenlet`, often while FastAPI serializes the response, after the data was
    already committed.

    ## Known problems
    Nothing is reported when any of the project's async session factories sets
    `expire_on_commit=False` (the session of a function is not traced to its factory),
    nor for commits inside `if`/loop branches whose continuation differs. Test modules
    are skipped.

    ## Example
    ```python
    SessionLocal = async_sessionmaker(engine)

    @router.post("/books", response_model=BookOut, status_code=201)
    async def create_book(payload: BookIn, session: SessionDep):
        book = Book(**payload.model_dump())
        session.add(book)
        await session.commit()
        return book
    ```

    ## Use instead
    ```python
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    ```
    or `await session.refresh(book)` after the commit.

    ## Fix safety
    There is no automatic fix.
    """
    factories = _async_factories(ctx.model)
    if not factories.expiring or factories.keeping:
        return
    module, factory = factories.expiring[0]
    where = f"{module.relpath}:{factory.lineno}"
    st = state(ctx.model)
    for fn in ctx.project.functions.values():
        if not fn.is_async or is_test_module(fn.module) or not uses_orm(fn.module):
            continue
        for stmt in body_nodes(fn.node):
            if not (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Await)
                and isinstance(stmt.value.value, ast.Call)
            ):
                continue
            call = stmt.value.value
            hit = session_call(st, fn.module, call, fn, frozenset({"commit"}))
            if hit is None or hit[1] != "async":
                continue
            yield from _reads_after_commit(st, fn, stmt, hit[0], where)


def _reads_after_commit(
    st: OrmState, fn: Function, commit: ast.stmt, session: str, where: str
) -> Iterator[Report]:
    done: set[str] = set()
    for later in _after(fn, commit):
        for node in walk(later):
            name: str | None = None
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "refresh"
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                done.add(node.args[0].id)
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        done.add(target.id)
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Load)
                and isinstance(node.value, ast.Name)
            ):
                name = node.value.id
                message = f"`{name}.{node.attr}` is read"
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
                name = node.value.id
                message = f"`{name}` is returned"
            else:
                continue
            if name in done or not _orm_instance(st, fn, name):
                continue
            done.add(name)
            yield Report(
                node,
                f"{message} after `{session}()`, which expired it (the session "
                f"factory at {where} keeps `expire_on_commit=True`): `MissingGreenlet`",
                module=fn.module,
            )


# --------------------------------------------------------------------------- FAA408

_ENGINES = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.engine.create.create_engine",
        "sqlmodel.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
    }
)


def _per_request(model: AppModel) -> dict[int, tuple[Function, str]]:
    """Route handlers and the dependency functions they reach: code run per request."""
    out: dict[int, tuple[Function, str]] = {}
    for route in model.routes:
        out[id(route.handler.node)] = (route.handler, "route")
    for route in model.routes:
        for _site, target in walk_dependencies(model.project, model.route_sites(route)):
            fn = target.function
            if fn is not None and id(fn.node) not in out:
                out[id(fn.node)] = (fn, "dependency")
    return out


def _parent_map(fn: Function) -> dict[int, ast.AST]:
    out: dict[int, ast.AST] = {}
    for node in walk(fn.node):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out


def _closes(fn: Function, name: str) -> bool:
    """`with name:`, or `name.close()` in a `finally:` block of the function."""
    for node in body_nodes(fn.node):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                if isinstance(expr, ast.Name) and expr.id == name:
                    return True
                if isinstance(expr, ast.Call) and any(
                    isinstance(a, ast.Name) and a.id == name for a in expr.args
                ):
                    return True  # `with closing(db):`
        if isinstance(node, ast.Try):
            for stmt in node.finalbody:
                for sub in walk(stmt):
                    if (
                        isinstance(sub, ast.Call)
                        and isinstance(sub.func, ast.Attribute)
                        and sub.func.attr in ("close", "remove", "__exit__", "__aexit__")
                        and isinstance(sub.func.value, ast.Name)
                        and sub.func.value.id == name
                    ):
                        return True
    return False


def _declared_global(fn: Function, name: str) -> bool:
    return any(
        isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names
        for node in walk(fn.node)
    )


def _session_factory(project: Project, callee: str) -> bool:
    """`Session`, `AsyncSession` or a module-level `sessionmaker(...)` instance (not a
    `scoped_session`, whose registry owns its sessions)."""
    if last_name(callee) in ("begin", "connect", "__call__"):
        return False
    value = project.module_value(callee)
    if value is not None and isinstance(value[1], ast.Call):
        maker = project.resolve(value[0], value[1].func) or ""
        if "scoped_session" in maker:
            return False
    return type_kind(project, callee) is not None and project.function(callee) is None


@rule(
    code="FAA408",
    name="session-engine-lifecycle",
    summary="An engine is created per request, or a request's session is not closed on errors",
    severity="warning",
    scope="project",
    fix_title="Create the engine once; yield the session from `with SessionLocal() as db`",
    references=(
        "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/",
        "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#opening-and-closing-a-session",
        "https://docs.sqlalchemy.org/en/20/core/connections.html#basic-usage",
    ),
)
def session_engine_lifecycle(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Looks at the code FastAPI runs on every request: route handlers and every
    dependency they reach. It reports:
    - `create_engine()`/`create_async_engine()` called there (unless the function is
      cached with `lru_cache`/`cache`, or the engine is stored in a global);
    - a session created there (`SessionLocal()`, `Session(engine)`,
      `AsyncSession(engine)`) outside `with`/`async with` and never closed in a
      `finally:` block, for instance a `get_db` dependency that `return`s the session
      or `yield`s it without `try/finally`.

    ## Why is this bad?
    An engine owns a connection pool: one per request means a new pool and new
    connections every time (slow, and the old pools keep connections open until
    garbage collection). A session that is not closed when the handler raises keeps
    its connection checked out (and its transaction open) until the garbage collector
    finds it, which exhausts the pool under errors: "QueuePool limit of size 5
    overflow 10 reached".

    ## Known problems
    A session handed to another object at creation (`Repo(SessionLocal())`) is not
    followed. `scoped_session` registries are not reported. Test modules are skipped.

    ## Example
    ```python
    def get_db():
        db = SessionLocal()
        yield db
        db.close()
    ```

    ## Use instead
    ```python
    def get_db():
        with SessionLocal() as db:
            yield db
    ```

    ## Fix safety
    There is no automatic fix.
    """
    project = ctx.project
    for fn, kind in _per_request(ctx.model).values():
        if is_test_module(fn.module) or is_memoized(fn, project) or not uses_orm(fn.module):
            continue
        parents: dict[int, ast.AST] | None = None
        label = f"{kind} `{fn.name}`"
        for node in body_nodes(fn.node):
            if not isinstance(node, ast.Call):
                continue
            callee = resolve_callee(project, fn.module, node.func, fn) or project.resolve(
                fn.module, node.func, fn
            )
            if callee is None:
                continue
            if callee in _ENGINES:
                if parents is None:
                    parents = _parent_map(fn)
                target = _bound_to(parents, node)
                if target is not None and not isinstance(target, ast.Name):
                    continue  # `app.state.engine = ...`, `self._engine = ...`: kept
                if isinstance(target, ast.Name) and _declared_global(fn, target.id):
                    continue
                yield Report(
                    node,
                    f"`{last_name(callee)}()` runs on every request in {label}: a new "
                    "connection pool each time; create the engine once (module level or "
                    "lifespan)",
                    module=fn.module,
                )
            elif _session_factory(project, callee):
                if parents is None:
                    parents = _parent_map(fn)
                problem = _unclosed(fn, parents, node)
                if problem is not None:
                    yield Report(
                        node,
                        f"`{ast.unparse(node.func)}()` in {label} {problem}: use "
                        f"`with {ast.unparse(node.func)}() as db:` (and `yield db` in it)",
                        module=fn.module,
                    )


def _bound_to(parents: dict[int, ast.AST], call: ast.Call) -> ast.expr | None:
    node: ast.AST = call
    parent = parents.get(id(node))
    while isinstance(parent, ast.Await):
        node, parent = parent, parents.get(id(parent))
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        return parent.targets[0]
    if isinstance(parent, (ast.AnnAssign, ast.NamedExpr)):
        return parent.target
    return None


def _unclosed(fn: Function, parents: dict[int, ast.AST], call: ast.Call) -> str | None:
    node: ast.AST = call
    parent = parents.get(id(node))
    while isinstance(parent, ast.Await):
        node, parent = parent, parents.get(id(parent))
    if isinstance(parent, ast.withitem):
        return None
    if isinstance(parent, ast.Call) and parent is not call:
        callee = last_name(ast.unparse(parent.func))
        if callee in ("closing", "aclosing", "enter_context", "enter_async_context"):
            return None
        return None  # handed to another object: not followed
    target = _bound_to(parents, call)
    if not isinstance(target, ast.Name):
        return None
    if _closes(fn, target.id):
        return None
    for sub in body_nodes(fn.node):
        if not isinstance(sub, (ast.Return, ast.Yield)):
            continue
        value = sub.value
        if not isinstance(value, ast.Name) or value.id != target.id:
            continue
        if isinstance(sub, ast.Return):
            return "is returned, so nothing closes it"
        return "is not closed when the request fails (no `try/finally` around `yield`)"
    if any(
        isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Attribute)
        and sub.func.attr == "close"
        and isinstance(sub.func.value, ast.Name)
        and sub.func.value.id == target.id
        for sub in body_nodes(fn.node)
    ):
        return "is not closed when the handler raises (no `try/finally`)"
    return "is never closed"
