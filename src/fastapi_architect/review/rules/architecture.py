"""FAA5xx: architecture and layering. Path operations translate HTTP to calls into the
application; queries and transactions belong to services and repositories."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from fastapi_architect.model.apps import Route
from fastapi_architect.model.astutil import body_nodes, const_str, last_name, walk
from fastapi_architect.model.project import Function, Module
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
    repository adds little. There is no configuration key for this threshold yet.
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
    if (
        len(operations) == 1
        and operations[0][2] in ("get", "get_one")
        and not _in_loop(handler, operations[0][0])
    ):
        return  # a single primary-key lookup is tolerated (see Known problems)
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
    for node in body_nodes(handler.node):
        if isinstance(node, _LOOPS) and any(sub is call for sub in walk(node)):
            return True
    return False
