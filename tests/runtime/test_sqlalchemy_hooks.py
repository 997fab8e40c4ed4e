"""The SQLAlchemy hooks on real databases: every engine, the user's line, lazy loads."""

from __future__ import annotations

import asyncio
import copy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session

from fastapi_architect.runtime import frames, sqlalchemy_hooks
from fastapi_architect.runtime.counting import count_queries
from fastapi_architect.runtime.scope import RequestScope, current_request
from fastapi_architect.runtime.settings import configure

PER_ROW = "SELECT books.id, books.title, books.author_id FROM books WHERE books.author_id = ?"
# a lazy load of Author.books (SQLAlchemy 2.0 labels the columns, 2.1 does not)
LAZY_BOOKS = re.compile(
    r"SELECT books\.id(?: AS books_id)?, books\.title(?: AS books_title)?, "
    r"books\.author_id(?: AS books_author_id)? FROM books "
    r"WHERE \? = books\.author_id ORDER BY books\.id"
)


@contextmanager
def request_scope(path: str = "/authors") -> Iterator[RequestScope]:
    """A request in progress, as the middleware sets it (the hooks only read it)."""
    scope = RequestScope(method="GET", path=path, route=path)
    token = current_request.set(scope)
    try:
        yield scope
    finally:
        current_request.reset(token)


def statements(scope: RequestScope) -> list[str]:
    return [q.statement for q in scope.queries]


def test_every_database_records_statements_at_the_users_line(
    database: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = database.engine()
    repo.call(database, "setup", engine, models, 6)
    with request_scope() as scope:
        found = repo.call(database, "books_per_author", engine, models)
    assert len(found) == 6 and all(len(books) == 2 for books in found.values())
    per_row = [q for q in scope.queries if q.statement == PER_ROW]
    assert len(per_row) == 6, statements(scope)
    # the line of `session.scalars(...)` in app/{sync,async}_repo.py, also under the
    # async engines, where the driver runs in a child greenlet; a request looks the
    # line up from a statement's second issue on (a single issue is never reported)
    assert per_row[0].location is None
    assert {q.location for q in per_row[1:]} == {repo.location(database, "@per-row")}
    assert all(q.lazy_load is None for q in scope.queries)
    assert scope.repeated and len(scope.seen) == 2

    # a query counter lists every statement with its line: the authors query, issued
    # one line above the loop, has its own
    with count_queries() as counter:
        repo.call(database, "books_per_author", engine, models)
    (authors,) = [q for q in counter.queries if q.statement.endswith("ORDER BY authors.id")]
    lines = {q.location for q in counter.queries if q.statement == PER_ROW}
    assert lines == {repo.location(database, "@per-row")}
    assert authors.location is not None and authors.location not in lines


def test_engines_created_before_and_after_install_are_both_covered(
    sqlite_db: Any, aiosqlite_db: Any, models: Any, repo: Any
) -> None:
    before_sync = sqlite_db.engine()
    before_async = aiosqlite_db.engine()
    repo.call(sqlite_db, "setup", before_sync, models, 1)
    repo.call(aiosqlite_db, "setup", before_async, models, 1)
    assert sqlalchemy_hooks.install()
    after_sync = sqlite_db.engine()
    after_async = aiosqlite_db.engine()
    for db, engine in [
        (sqlite_db, before_sync),
        (aiosqlite_db, before_async),
        (sqlite_db, after_sync),
        (aiosqlite_db, after_async),
    ]:
        with request_scope() as scope:
            repo.call(db, "books_per_author", engine, models)
        assert statements(scope).count(PER_ROW) == 1, (db.name, statements(scope))


def test_nothing_is_recorded_before_install_or_after_uninstall(
    sqlite_db: Any, models: Any, repo: Any
) -> None:
    engine = sqlite_db.engine()
    repo.call(sqlite_db, "setup", engine, models, 3)
    with request_scope() as scope:
        repo.call(sqlite_db, "books_per_author", engine, models)
    assert scope.queries == []

    assert sqlalchemy_hooks.install()
    assert not sqlalchemy_hooks.install()  # idempotent: listeners attached once
    assert event.contains(Engine, "do_execute", sqlalchemy_hooks._do_execute)
    assert Dialect._has_events
    with request_scope() as scope:
        repo.call(sqlite_db, "books_per_author", engine, models)
    assert statements(scope).count(PER_ROW) == 3  # not 6: no double listener

    sqlalchemy_hooks.uninstall()
    sqlalchemy_hooks.uninstall()  # idempotent
    assert not sqlalchemy_hooks.is_installed()
    for target, name, listener in [
        (Engine, "do_execute", sqlalchemy_hooks._do_execute),
        (Engine, "do_execute_no_params", sqlalchemy_hooks._do_execute_no_params),
        (Engine, "do_executemany", sqlalchemy_hooks._do_executemany),
        (Session, "do_orm_execute", sqlalchemy_hooks._do_orm_execute),
    ]:
        assert not event.contains(target, name, listener)
    # no dialect listener is left, so SQLAlchemy skips the event checks again
    assert not Dialect._has_events
    with request_scope() as scope:
        repo.call(sqlite_db, "books_per_author", engine, models)
    assert scope.queries == []


def test_statements_outside_a_request_are_not_recorded_in_the_next_one(
    sqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = sqlite_db.engine()
    repo.call(sqlite_db, "setup", engine, models, 2)
    repo.call(sqlite_db, "books_per_author", engine, models)  # no request in progress
    with request_scope() as scope, engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM books WHERE title != 'x'")).scalar_one()
    assert statements(scope) == ["SELECT count(*) FROM books WHERE title != ?"]


def test_lazy_loads_are_named_after_the_relationship(
    database: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = database.engine()
    repo.call(database, "setup", engine, models, 3)
    with request_scope() as scope:
        titles = repo.call(database, "titles_lazy", engine, models)
    assert len(titles) == 6
    lazy = [q for q in scope.queries if q.lazy_load is not None]
    assert [q.lazy_load for q in lazy] == ["Author.books"] * 3
    (statement,) = {q.statement for q in lazy}
    assert LAZY_BOOKS.fullmatch(statement), statement
    assert lazy[0].location is None  # looked up from the second issue on
    assert {q.location for q in lazy[1:]} == {repo.location(database, "@lazy")}
    # the explicit query for the authors is not a lazy load
    assert len(scope.queries) == 4


def test_many_to_one_lazy_loads_are_named_and_identity_map_hits_are_not_statements(
    sqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = sqlite_db.engine()
    repo.call(sqlite_db, "setup", engine, models, 3)  # 3 authors, 2 books each
    with Session(engine) as session, request_scope() as scope:
        books = session.scalars(select(models.Book).order_by(models.Book.id)).all()
        names = {book.author.name for book in books}  # 6 books, 3 distinct authors
    assert len(names) == 3
    assert [q.lazy_load for q in scope.queries] == [None] + ["Book.author"] * 3
    assert re.fullmatch(
        r"SELECT authors\.id(?: AS authors_id)?, authors\.name(?: AS authors_name)? "
        r"FROM authors WHERE authors\.id = \?",
        scope.queries[1].statement,
    ), scope.queries[1].statement


def test_selectinload_and_joinedload_issue_no_lazy_load(
    database: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = database.engine()
    repo.call(database, "setup", engine, models, 4)
    with request_scope() as scope:
        titles = repo.call(database, "titles_selectin", engine, models)
    assert len(titles) == 8
    assert len(scope.queries) == 2, statements(scope)  # authors, then all their books at once
    assert "IN (?)" in scope.queries[1].statement
    assert all(q.lazy_load is None for q in scope.queries)
    assert not scope.repeated
    with count_queries() as counter:
        repo.call(database, "titles_selectin", engine, models)
    assert {q.location for q in counter.queries} == {repo.location(database, "@selectin")}

    with request_scope() as scope, count_queries() as counter:
        titles = repo.call(database, "titles_joined", engine, models)
    assert len(titles) == 8
    assert len(scope.queries) == 1 and "JOIN books" in scope.queries[0].statement
    assert scope.queries[0].lazy_load is None
    assert counter.queries[0].location == repo.location(database, "@joined")


def test_each_thread_records_into_its_own_request(
    sqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = sqlite_db.engine()
    repo.call(sqlite_db, "setup", engine, models, 3)
    scopes: dict[int, RequestScope] = {}

    def serve(n: int) -> None:
        with request_scope(f"/r{n}") as scope:
            for _ in range(n):
                with engine.connect() as conn:
                    conn.execute(select(models.Author.id)).all()
        scopes[n] = scope

    threads = [threading.Thread(target=serve, args=(n,)) for n in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: len(scope.queries) for n, scope in scopes.items()} == {1: 1, 2: 2, 3: 3, 4: 4}


def test_concurrent_async_requests_keep_their_own_statements(
    aiosqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = aiosqlite_db.engine()
    repo.call(aiosqlite_db, "setup", engine, models, 5)

    async def one_request(n: int) -> RequestScope:
        with request_scope(f"/r{n}") as scope:
            for _ in range(n):
                async with engine.connect() as conn:
                    await conn.execute(select(models.Book.id).where(models.Book.author_id == n))
                    await asyncio.sleep(0)
        return scope

    async def main() -> list[RequestScope]:
        return list(await asyncio.gather(*(one_request(n) for n in (1, 2, 3, 4, 5))))

    scopes = asyncio.run(main())
    assert [len(scope.queries) for scope in scopes] == [1, 2, 3, 4, 5]
    # the location is this test file: outside the project root, so no location
    assert {q.location for scope in scopes for q in scope.queries} == {None}


# --- the user's line ---------------------------------------------------------------------


def test_location_skips_third_party_code_inside_the_project(project: Any) -> None:
    # a virtualenv inside the project: its packages are not the user's code
    vendorlib = project.module(
        ".venv/lib/python3.11/site-packages/vendorlib/__init__.py",
        "def call(function):\n    return function()\n",
    )
    user = project.module(
        "app/user.py",
        """
        from fastapi_architect.runtime.frames import user_location_here


        def run(vendorlib):
            return vendorlib.call(user_location_here)  # @call
        """,
    )
    assert user.run(vendorlib) == project.location("app/user.py", "@call")
    # the same call from this test file, outside the project: no location
    assert vendorlib.call(frames.user_location_here) is None


def test_location_skips_the_stdlib_and_the_tool_when_the_root_is_the_filesystem(
    project: Any, sqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    user = project.module(
        "app/copying.py",
        """
        import copy
        import sys

        from fastapi_architect.runtime.frames import user_location


        class Hooked:
            def __deepcopy__(self, memo):
                frame = sys._getframe(1)  # copy.deepcopy's own frame
                self.seen = (frame.f_code.co_filename, user_location(frame))
                return self


        def run():
            hooked = Hooked()
            copy.deepcopy(hooked)  # @deepcopy
            return hooked.seen
        """,
    )
    root = Path(project.root.anchor)
    configure(project_root=root)
    filename, location = user.run()
    assert filename == copy.__file__  # the walk started in the stdlib ...
    in_root = project.root.relative_to(root).as_posix()
    # ... and skipped it, though it lies under the root too
    assert location == f"{in_root}/" + project.location("app/copying.py", "@deepcopy")
    # SQLAlchemy (site-packages) and the hooks (fastapi_architect) are under "/" too
    engine = sqlite_db.engine()
    repo.call(sqlite_db, "setup", engine, models, 1)
    with count_queries() as counter:
        repo.call(sqlite_db, "books_per_author", engine, models)
    assert counter.queries[-1].location == f"{in_root}/" + repo.location(sqlite_db, "@per-row")


def test_location_follows_the_configured_root(project: Any) -> None:
    user = project.module(
        "app/deep/here.py",
        """
        import sys


        def frame():
            return sys._getframe()  # @frame
        """,
    )
    frame = user.frame()
    assert frames.user_location(frame) == project.location("app/deep/here.py", "@frame")
    configure(project_root=project.root / "app")
    line = project.line("app/deep/here.py", "@frame")
    assert frames.user_location(frame) == f"deep/here.py:{line}"
    configure(project_root=project.root / "elsewhere")
    assert frames.user_location(frame) is None


def test_session_statements_that_are_not_selects_pass_through(
    sqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    # asking an INSERT or a text() statement whether it is a lazy load raises in SQLAlchemy:
    # the hook must not break the application's own statements
    from sqlalchemy.orm import Session

    engine = sqlite_db.engine()
    repo.call(sqlite_db, "setup", engine, models, 1)
    with request_scope() as scope, Session(engine) as session:
        session.execute(text("UPDATE books SET title = title"))
        session.add(models.Author(name="new"))
        session.commit()
        assert session.execute(text("SELECT count(*) FROM authors")).scalar_one() == 2
    kinds = [q.statement.split()[0] for q in scope.queries]
    assert kinds == ["UPDATE", "INSERT", "SELECT"]
    assert all(q.lazy_load is None for q in scope.queries)
