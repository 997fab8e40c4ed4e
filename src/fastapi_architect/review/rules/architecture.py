"""FAA5xx: architecture and layering. Path operations translate HTTP to calls into the
application; queries and transactions belong to services and repositories."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from fastapi_architect.model.apps import Route
from fastapi_architect.model.astutil import (
    body_nodes,
    const_str,
    dotted,
    is_true,
    keyword,
    last_name,
    walk,
)
from fastapi_architect.model.project import Function, Module
from fastapi_architect.model.types import resolve_callee
from fastapi_architect.review.context import ProjectContext
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._orm import (
    DB_METHODS,
    SELECT_FUNCTIONS,
    SQL_CONSTRUCTS,
    TEXT_FUNCTIONS,
    OrmState,
    is_test_module,
    session_call,
    state,
)
from fastapi_architect.review.rules.handlers import unique_columns

_MAX_LISTED = 5
_CONSTRUCT_NAMES = frozenset({last_name(n) for n in SQL_CONSTRUCTS})
# `SELECT 1`: a health check pinging the database is not business logic.
_PING = re.compile(r"^\s*SELECT\s+1\s*;?\s*$", re.IGNORECASE)


@rule(
    code="FAA501",
    name="db-access-in-route",
    summary="A path operation queries or writes the database itself instead of calling a "
    "service or repository",
    severity="warning",
    scope="route",
    fix_title="Move the database work into a service or repository function",
    references=(
        "https://fastapi.tiangolo.com/tutorial/bigger-applications/",
        "https://fastapi.tiangolo.com/tutorial/sql-databases/",
    ),
)
def db_access_in_route(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operation functions whose own body does ORM or SQL work: session calls
    (`add`, `commit`, `execute`, `scalars`, `get`, `query`, `delete`, `refresh`,
    SQLModel's `exec`...) or statement construction (`select()`, `insert()`,
    `update()`, `delete()`, `text()`). The finding is placed at the first database
    access in the handler and lists the operations used.

    ## Why is this bad?
    When queries and transactions live in the handlers, the same query is copied
    between endpoints, business rules cannot be tested without HTTP, and transaction
    boundaries are decided by whichever endpoint happens to run. Keeping handlers to
    "parse the request, call a service, shape the response" keeps the layers
    routes → services → repositories → models independent. This is layering advice:
    the code works, which is why the finding is a warning.

    ## Known problems
    A handler whose only database access is one `session.get(Model, id)` (the
    "read one item" endpoint) is not reported: moving a primary-key lookup to a
    repository adds little. Nor is one whose only database access is one
    `session.refresh(obj)` (a service changed the object, the handler reloads its row
    by primary key to answer with it): the same one-row read. The same lookup written
    as a query is not reported either:
    `session.execute(select(Model).where(Model.id == id)).scalar()`,
    `session.scalar(select(Model).filter_by(email=email))` or
    `session.query(Model).filter(Model.id == id).first()`, when the filters are
    equalities on the model's primary key (or a unique column, or all columns of a
    `UniqueConstraint` in `__table_args__`), with no joins, and one row is taken; the
    query may select columns of the model (`select(Model.state)`) and add loader
    options (`.options(joinedload(...))`, `.execution_options(...)`, also on a
    `session.query(M)` chain). The write-one counterpart is not reported
    either: one `session.execute(update(Model).where(Model.id == id).values(...))` (or
    `delete(Model)`, or `session.query(Model).filter(...).delete()`) with the same key
    filters, run once (a `rowcount` check answering 404 runs no query), also with
    `.returning(Model.id)` run through `session.scalar(...)` (a `None` check answering
    404). A filter condition bound to a local first counts when every binding reaching
    it is a key equality (`if ...: where_clause = Model.id == int(ident)`,
    `else: where_clause = Model.name == ident` with `name` unique), for reads and
    writes alike. Two more
    shapes a repository function would only wrap are left alone: a create-one
    handler whose only database call is one
    `session.add(obj)` on an injected session (its dependency commits), and a list
    handler that hands a bare `select(Model)` (loader options such as
    `.options(joinedload(...))` allowed; written in the call or bound to a name used
    only there) to a project helper that filters, orders and pages it, then runs what
    the helper returns once (also as what a comprehension iterates over). There is no
    configuration key for this threshold yet.
    These shapes count the same whether the session is injected or opened in the
    handler, also from a factory the app keeps on its state (`async with
    request.app.state.db() as session:`, recognised when the name is a usual session
    name or the block uses it like one, `conn.scalars(...)`); a create-one handler that
    opens its own session owns its transaction and is reported.
    A health check that only pings the database (`text("SELECT 1")`, `select(1)`)
    is not reported either, nor are routes in test modules. The official full-stack
    FastAPI template keeps `session.add/commit` in its routes and is reported, by
    design.

    ## Example
    ```python
    @router.post("/books", status_code=201)
    def create_book(payload: BookCreate, db: SessionDep) -> BookOut:
        book = Book(**payload.model_dump())
        db.add(book)
        db.commit()
        db.refresh(book)
        return book
    ```

    ## Use instead
    ```python
    @router.post("/books", status_code=201)
    def create_book(payload: BookCreate, books: BookServiceDep) -> BookOut:
        return books.create(payload)
    ```

    ## Fix safety
    There is no automatic fix.
    """
    handler = route.handler
    if is_test_module(handler.module):
        return
    st = state(ctx.model)
    key = ("FAA501", id(handler.node))
    if key in st.reported:
        return  # one handler registered on several routes is reported once
    st.reported.add(key)
    module = handler.module
    operations: list[tuple[ast.Call, str, str]] = []  # (call, label, method)
    for node in body_nodes(handler.node):
        if not isinstance(node, ast.Call):
            continue
        hit = session_call(st, module, node, handler, DB_METHODS)
        if hit is not None:
            assert isinstance(node.func, ast.Attribute)
            operations.append((node, hit[0], node.func.attr))
            continue
        short = (
            node.func.id
            if isinstance(node.func, ast.Name)
            else (node.func.attr if isinstance(node.func, ast.Attribute) else "")
        )
        if short in _CONSTRUCT_NAMES:
            name = st.project.resolve(module, node.func, handler)
            if name in SQL_CONSTRUCTS:
                operations.append((node, f"{last_name(name)}()", ""))
    operations = [op for op in operations if not _is_ping(st, module, handler, op[0])]
    if not operations:
        return
    if _trivial(st, module, handler, operations):
        return  # one read-one, create-one or delegated list access (see Known problems)
    operations.sort(key=lambda op: (op[0].lineno, op[0].col_offset))
    labels: list[str] = []
    for _call, label, _method in operations:
        if label not in labels:
            labels.append(label)
    listed = ", ".join(f"`{label}`" for label in labels[:_MAX_LISTED])
    if len(labels) > _MAX_LISTED:
        listed += ", ..."
    yield Report(
        operations[0][0],
        f"`{handler.name}` talks to the database itself ({listed}): move it to a service "
        "or repository",
        module,
    )


def _is_ping(st: OrmState, module: Module, handler: Function, call: ast.Call) -> bool:
    """`text("SELECT 1")`, `select(1)`, or a session call running one of them."""
    callee = st.project.resolve(module, call.func, handler)
    if callee in TEXT_FUNCTIONS:
        return bool(call.args) and _PING.match(const_str(call.args[0]) or "") is not None
    if callee in SELECT_FUNCTIONS:
        return len(call.args) == 1 and isinstance(call.args[0], ast.Constant)
    return (
        bool(call.args)
        and isinstance(call.args[0], ast.Call)
        and _is_ping(st, module, handler, call.args[0])
    )


_LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _in_loop(handler: Function, call: ast.Call) -> bool:
    """Does `call` run once per item of a loop? What a loop iterates over (`for row in
    session.scalars(stmt)`, the first `for` of a comprehension) runs once."""
    for node in body_nodes(handler.node):
        if isinstance(node, _LOOPS) and any(sub is call for sub in walk(node)):
            once = _iterated(node)
            if once is None or not any(sub is call for sub in walk(once)):
                return True
    return False


def _iterated(loop: ast.AST) -> ast.expr | None:
    """The expression a loop or comprehension evaluates once to iterate over."""
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        return loop.iter
    if isinstance(loop, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        return loop.generators[0].iter
    return None


# ------------------------------------------------------------------ tolerated shapes

# Result accessors that take one row (or one object).
_ONE_ROW = frozenset({"scalar", "scalar_one", "scalar_one_or_none", "one", "one_or_none", "first"})
_FILTERS = frozenset({"where", "filter", "filter_by"})
# Session calls that run a statement built elsewhere.
_RUNS = frozenset({"execute", "exec", "scalar", "scalars"})
# Statements that change rows, and the builder methods they may add to their filters.
_WRITES = frozenset({"update", "delete"})
_WRITE_BUILDERS = frozenset({"values", "execution_options", "returning"})
# A filter's condition bound to a local in branches (`if ...: clause = M.id == x`,
# `else: clause = M.name == x`) is followed through at most this many combinations.
_MAX_VARIANTS = 8
# Builder methods that change how rows are loaded or run, not which rows come back
# (`.options(joinedload(...))`, `.execution_options(...)`).
_SAME_ROWS = frozenset({"options", "execution_options"})


def _trivial(
    st: OrmState, module: Module, handler: Function, operations: list[tuple[ast.Call, str, str]]
) -> bool:
    """Is the handler's whole database work one of the shapes that a repository function
    would only wrap: one read of an item by its key (`session.get(M, id)`, or the same
    lookup written as `select(M).where(M.id == id)` taking one row, or one reload of an
    object the handler holds, `session.refresh(obj)`), one `session.add`
    or `session.merge` (the session dependency owns the transaction), or a bare `select(M)` handed to a
    project helper that filters, orders and pages it, plus one run of what it returns?"""
    if any(_in_loop(handler, call) for call, _label, _method in operations):
        return False
    if len(operations) == 1 and operations[0][2] in ("get", "get_one", "refresh"):
        # `session.refresh(obj)`: one row reloaded by its primary key, `get` again.
        return True
    if len(operations) == 1 and operations[0][2] in ("add", "merge"):
        # Only with an injected session: its dependency, not the handler, commits.
        func = operations[0][0].func
        assert isinstance(func, ast.Attribute)
        return isinstance(func.value, ast.Name) and func.value.id in handler.param_names
    if len(operations) == 1 and operations[0][2] == "query":
        return _query_read_one(st, module, handler, operations[0][0])
    constructs = [call for call, _label, method in operations if not method]
    runs = [call for call, _label, method in operations if method]
    if len(constructs) != 1 or len(runs) > 1:
        return False
    stmt = constructs[0]
    construct = st.project.resolve(module, stmt.func, handler)
    write = construct in SQL_CONSTRUCTS and last_name(construct) in _WRITES
    if construct not in SELECT_FUNCTIONS and not write:
        return False
    whole = _entity(st, module, handler, stmt)
    if write:
        return whole is not None and _write_one(st, handler, stmt, whole, runs, _parents(handler))
    # A read of some columns of one row (`select(M.state).where(<key>)`) is keyed alike.
    entity = whole or _entity(st, module, handler, stmt, columns=True)
    if entity is None:
        return False
    run = runs[0] if runs else None
    if run is not None and not (isinstance(run.func, ast.Attribute) and run.func.attr in _RUNS):
        return False
    parents = _parents(handler)
    return _select_read_one(st, module, handler, stmt, entity, run, parents) or (
        whole is not None and _delegated_list(st, module, handler, stmt, run, parents)
    )


def _parents(handler: Function) -> dict[int, ast.AST]:
    out: dict[int, ast.AST] = {}
    for node in body_nodes(handler.node):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out


def _entity(
    st: OrmState, module: Module, handler: Function, call: ast.Call, columns: bool = False
) -> tuple[ast.expr, str | None] | None:
    """`(arg, model qualname)` when `call` selects (or queries) one whole mapped class,
    or with `columns` some columns of one (`select(M.state)`, then `arg` is `M`); the
    qualname is None for a class outside the project (its columns are unknown)."""
    if not call.args or call.keywords:
        return None
    arg = call.args[0]
    if columns:
        owners = {dotted(a.value) for a in call.args if isinstance(a, ast.Attribute)}
        if len(owners) != 1 or not all(isinstance(a, ast.Attribute) for a in call.args):
            return None
        assert isinstance(arg, ast.Attribute)
        arg = arg.value
    elif len(call.args) != 1:
        return None
    text = dotted(arg)
    if text is None:
        return None
    qualname = st.project.resolve(module, arg, handler)
    model = st.index.model(qualname)
    if model is not None:
        return arg, model.qualname
    if st.project.class_(qualname) is None and last_name(text)[:1].isupper():
        return arg, None  # `select(Pool)` of a model imported from outside the project
    return None


def _chain_up(node: ast.AST, parents: dict[int, ast.AST]) -> list[ast.Call]:
    """The method calls chained on `node`, innermost first (`.where(...).first()`)."""
    out: list[ast.Call] = []
    current = node
    while True:
        parent = parents.get(id(current))
        if not isinstance(parent, ast.Attribute) or parent.value is not current:
            return out
        grand = parents.get(id(parent))
        if not isinstance(grand, ast.Call) or grand.func is not parent:
            return out
        out.append(grand)
        current = grand


def _method(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _key_lookup(st: OrmState, entity: tuple[ast.expr, str | None], filters: list[ast.Call]) -> bool:
    """Do the filters compare the entity's key columns (all of its primary key, one
    unique column, or all columns of a unique constraint) for equality, and nothing
    else?"""
    owner = dotted(entity[0])
    columns: set[str] = set()
    for call in filters:
        if _method(call) == "filter_by":
            if call.args or any(kw.arg is None for kw in call.keywords):
                return False
            columns.update(kw.arg for kw in call.keywords if kw.arg)
            continue
        if call.keywords or not call.args:
            return False
        for cond in call.args:
            if not (
                isinstance(cond, ast.Compare)
                and len(cond.ops) == 1
                and isinstance(cond.ops[0], ast.Eq)
            ):
                return False
            sides = [cond.left, cond.comparators[0]]
            own = [s for s in sides if isinstance(s, ast.Attribute) and dotted(s.value) == owner]
            if len(own) != 1:
                return False
            assert isinstance(own[0], ast.Attribute)
            columns.add(own[0].attr)
    if not columns:
        return False
    if entity[1] is None:
        return True  # a model from outside the project: its keys are unknown
    # `UniqueConstraint("dag_id", "run_id")` (or `Index(..., unique=True)`) in
    # `__table_args__`: a key when all its columns are compared, not a part of them.
    if any(set(entry.split(", ")) <= columns for entry in unique_columns(st.model, entity[1])):
        return True
    primary, unique = _keys(st, entity[1])
    if not primary and not unique:
        return True  # keys declared where they cannot be read (`__table_args__`, mixins)
    return (bool(primary) and primary <= columns) or bool(unique & columns)


def _keys(st: OrmState, qualname: str) -> tuple[set[str], set[str]]:
    """The primary-key and unique column attributes a model's classes declare."""
    primary: set[str] = set()
    unique: set[str] = set()
    for name in st.project.mro(qualname):
        cls = st.project.class_(name)
        if cls is None:
            continue
        for stmt in cls.node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            for node in walk(value):
                if isinstance(node, ast.Call):
                    if is_true(keyword(node, "primary_key")):
                        primary.add(target.id)
                    if is_true(keyword(node, "unique")):
                        unique.add(target.id)
    return primary, unique


def _one_row(call: ast.Call, parents: dict[int, ast.AST]) -> bool:
    """Is the result of `call` (awaited or not) narrowed to one row right away
    (`.scalar_one_or_none()`, `.scalars().first()`)?"""
    current: ast.AST = call
    parent = parents.get(id(current))
    if isinstance(parent, ast.Await):
        current = parent
    methods = [_method(c) for c in _chain_up(current, parents)]
    if methods[:1] == ["scalars"]:
        methods = methods[1:]
    return bool(methods) and methods[0] in _ONE_ROW


def _select_read_one(
    st: OrmState,
    module: Module,
    handler: Function,
    stmt: ast.Call,
    entity: tuple[ast.expr, str | None],
    run: ast.Call | None,
    parents: dict[int, ast.AST],
) -> bool:
    """`session.execute(select(M).where(M.id == x)).scalar_one_or_none()` (or the
    statement bound to a name first, or `session.scalar(...)`): `session.get` in
    another spelling. Loader options (`.options(joinedload(M.owner))`) and `.limit(1)`
    may come along: they change how related rows load, not which row comes back."""
    if run is None:
        return False
    chain = _chain_up(stmt, parents)
    filters = [c for c in chain if _method(c) in _FILTERS]
    if not filters or any(
        _method(c) not in _FILTERS | _SAME_ROWS and not _limit_one(c) for c in chain
    ):
        return False
    outer: ast.AST = chain[-1]
    if not (run.args and _is_value_of(st, handler, run.args[0], outer, parents)):
        return False
    if not _keyed(st, handler, entity, filters):
        return False
    assert isinstance(run.func, ast.Attribute)
    return run.func.attr == "scalar" or _one_row(run, parents)


def _limit_one(call: ast.Call) -> bool:
    """`.limit(1)`: a key lookup spelled for one row."""
    return (
        _method(call) == "limit"
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value == 1
    )


def _write_one(
    st: OrmState,
    handler: Function,
    stmt: ast.Call,
    entity: tuple[ast.expr, str | None],
    runs: list[ast.Call],
    parents: dict[int, ast.AST],
) -> bool:
    """`session.execute(update(M).where(M.id == x).values(...))` (or `delete(M)...`, or
    the statement bound to a name first, or `.returning(M.id)` run through
    `session.scalar(...)`), run once: the write-one counterpart of the read-one lookup,
    which a repository function would only wrap. What the handler does with the result
    (`if result.rowcount == 0: raise HTTPException(404)`, `if deleted_id is None`) runs
    no query."""
    if len(runs) != 1 or _method(runs[0]) not in _RUNS or not runs[0].args:
        return False
    chain = _chain_up(stmt, parents)
    filters = [c for c in chain if _method(c) in _FILTERS]
    if not filters or any(_method(c) not in _FILTERS | _WRITE_BUILDERS for c in chain):
        return False
    return _is_value_of(st, handler, runs[0].args[0], chain[-1], parents) and _keyed(
        st, handler, entity, filters
    )


def _keyed(
    st: OrmState, handler: Function, entity: tuple[ast.expr, str | None], filters: list[ast.Call]
) -> bool:
    """`_key_lookup`, with a condition passed as a local (`.where(where_clause)`) read
    through each of its bindings reaching the filter: every branch (`if ...: where_clause
    = M.id == x`, `else: where_clause = M.name == x`) must be a key lookup."""
    variants: list[list[ast.Call]] = [[]]
    for call in filters:
        options: list[list[ast.expr]] = [[]]
        for cond in call.args:
            values: list[ast.expr] = [cond]
            if isinstance(cond, ast.Name):
                bindings = st.facts_of(handler).reaching(cond.id, cond)
                if not bindings or any(
                    not isinstance(node, (ast.Assign, ast.AnnAssign)) or value is None
                    for node, value in bindings
                ):
                    return False
                values = [value for _node, value in bindings if value is not None]
            options = [[*done, value] for done in options for value in values]
            if len(options) > _MAX_VARIANTS:
                return False
        variants = [
            [*done, ast.Call(func=call.func, args=args, keywords=call.keywords)]
            for done in variants
            for args in options
        ]
        if len(variants) > _MAX_VARIANTS:
            return False
    return all(_key_lookup(st, entity, variant) for variant in variants)


def _is_value_of(
    st: OrmState, handler: Function, arg: ast.expr, value: ast.AST, parents: dict[int, ast.AST]
) -> bool:
    """Is `arg` the expression `value` itself, or a name whose only binding reaching it
    is `name = value`?"""
    if arg is value:
        return True
    if not isinstance(arg, ast.Name):
        return False
    bindings = st.facts_of(handler).reaching(arg.id, arg)
    if len(bindings) != 1:
        return False
    node = bindings[0][0]
    bound = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
    if isinstance(bound, ast.Await):
        bound = bound.value
    return bound is value


def _query_read_one(st: OrmState, module: Module, handler: Function, call: ast.Call) -> bool:
    """`session.query(M).get(id)` / `.filter(M.id == x).first()` / `.filter_by(id=x).one()`,
    or `.filter(M.id == x).update({...})` / `.delete()` (see `_write_one`)."""
    entity = _entity(st, module, handler, call)
    if entity is None:
        return False
    chain = _chain_up(call, _parents(handler))
    if not chain:
        return False
    *filters, last = chain
    # `.options(joinedload(...))`, `.execution_options(...)` on the way: same rows.
    filters = [c for c in filters if _method(c) not in _SAME_ROWS]
    if any(_method(c) not in _FILTERS for c in filters):
        return False
    if _method(last) == "get":
        return not filters
    if _method(last) in _WRITES:  # `.filter(M.id == x).delete()`: see `_write_one`
        return bool(filters) and _key_lookup(st, entity, filters)
    return _method(last) in _ONE_ROW and _key_lookup(st, entity, filters)


def _delegated_list(
    st: OrmState,
    module: Module,
    handler: Function,
    stmt: ast.Call,
    run: ast.Call | None,
    parents: dict[int, ast.AST],
) -> bool:
    """`page = paginate(select(M), filters, order_by, ...)` (the statement written in
    the call, or bound to a name used only there) with a project helper doing the query
    work, plus at most `session.scalars(page)`. Loader options on the way
    (`select(M).options(joinedload(M.owner))`) change how related rows load, not which
    rows come back."""
    handed: ast.expr = stmt
    for chained in _chain_up(stmt, parents):
        if _method(chained) not in _SAME_ROWS:
            break
        handed = chained
    helper: ast.AST | None = parents.get(id(handed))
    if isinstance(helper, (ast.Assign, ast.AnnAssign)) and helper.value is handed:
        # `base = select(M).options(...)`, then `paginate(statement=base, ...)`: the name's
        # one use must be that argument (a `base.where(...)` on the way filters rows here).
        binding = helper
        uses = [
            node
            for node in body_nodes(handler.node)
            if isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and any(b[0] is binding for b in st.facts_of(handler).reaching(node.id, node))
        ]
        if len(uses) != 1 or not _is_value_of(st, handler, uses[0], handed, parents):
            return False
        handed = uses[0]
        helper = parents.get(id(handed))
    if isinstance(helper, ast.keyword):
        helper = parents.get(id(helper))
    if not isinstance(helper, ast.Call) or helper.func is handed:
        return False
    if handed not in helper.args and all(kw.value is not handed for kw in helper.keywords):
        return False
    callee = resolve_callee(st.project, module, helper.func, handler)
    if st.project.function(callee) is None:
        return False
    if run is None:
        return True
    if not run.args or not isinstance(run.args[0], ast.Name):
        return False
    bindings = st.facts_of(handler).reaching(run.args[0].id, run.args[0])
    if len(bindings) != 1 or not isinstance(bindings[0][0], ast.Assign):
        return False
    bound = bindings[0][0].value
    if isinstance(bound, ast.Await):
        bound = bound.value
    return bound is helper
