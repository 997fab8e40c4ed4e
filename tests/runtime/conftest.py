"""Shared fixtures for the runtime profiler tests: real databases and a tiny model set.

Databases (each a `Database`: a SQLAlchemy URL plus connect arguments; `.engine()`
creates the sync or async engine):

- `sqlite_db` / `aiosqlite_db`: a SQLite file in `tmp_path`, through the sync
  sqlite3 driver and through aiosqlite with `create_async_engine`;
- `psycopg_db` / `psycopg_async_db` / `asyncpg_db`: the PostgreSQL server of
  `TEST_DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432/test`), in a
  schema of its own per test (dropped after), so parallel tests do not meet;
- `database`: all five, parametrized.

PostgreSQL cases are skipped, with the reason, when no server answers; with
`ARCHITECT_REQUIRE_POSTGRES=1` (CI) they fail instead.

Models (`models` fixture): `Author` (id, name, books) and `Book` (id, title,
author_id, author), `Author.books` lazy-loaded by default; `Base` has `AsyncAttrs`
so async code can `await author.awaitable_attrs.books`. `models.seed(n_authors,
books_per_author)` returns new objects to add.

User code (`project` fixture): `project.module("app/repo.py", source)` writes a
module into a temporary project, imports it, and makes that folder the
`project_root`, so locations read "app/repo.py:LINE"; `project.line(path, marker)`
is the line holding `marker`.

Every test here starts and ends with the hooks uninstalled, default settings and
an empty recorder.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import os
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncAttrs, AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.pool import NullPool

from fastapi_architect.runtime import sqlalchemy_hooks
from fastapi_architect.runtime.recorder import recorder
from fastapi_architect.runtime.settings import get_settings, use_settings

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


# --- models ---------------------------------------------------------------------------


class Base(AsyncAttrs, DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list[Book]] = relationship(back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


@dataclass(frozen=True)
class Models:
    Base: type[Base]
    Author: type[Author]
    Book: type[Book]

    def seed(self, n_authors: int, books_per_author: int = 2) -> list[Author]:
        return [
            self.Author(
                name=f"author {a}",
                books=[self.Book(title=f"book {a}.{b}") for b in range(books_per_author)],
            )
            for a in range(n_authors)
        ]


@pytest.fixture(scope="session")
def models() -> Models:
    return Models(Base=Base, Author=Author, Book=Book)


# --- databases ------------------------------------------------------------------------


@dataclass
class Database:
    name: str  # "sqlite", "aiosqlite", "psycopg", "psycopg_async", "asyncpg"
    url: str  # with the driver: "postgresql+asyncpg://..."
    is_async: bool
    connect_args: dict[str, Any] = field(default_factory=dict)

    def engine(self, **kwargs: Any) -> Any:
        """A new `Engine`, or `AsyncEngine` for an async driver (typed Any for tests)."""
        if self.is_async:
            return self.async_engine(**kwargs)
        return self.sync_engine(**kwargs)

    def sync_engine(self, **kwargs: Any) -> Engine:
        assert not self.is_async, self.name
        return create_engine(self.url, connect_args=self.connect_args, **kwargs)

    def async_engine(self, **kwargs: Any) -> AsyncEngine:
        assert self.is_async, self.name
        # NullPool: no connection outlives an event loop, so one engine serves several
        # `asyncio.run` calls
        kwargs.setdefault("poolclass", NullPool)
        return create_async_engine(self.url, connect_args=self.connect_args, **kwargs)


@pytest.fixture
def sqlite_db(tmp_path: Any) -> Database:
    return Database("sqlite", f"sqlite:///{tmp_path / 'sync.db'}", is_async=False)


@pytest.fixture
def aiosqlite_db(tmp_path: Any) -> Database:
    return Database("aiosqlite", f"sqlite+aiosqlite:///{tmp_path / 'async.db'}", is_async=True)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of a PostgreSQL server that answers (skip or fail as the policy says)."""
    import psycopg

    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)
    plain = make_url(url).set(drivername="postgresql")
    try:
        psycopg.connect(plain.render_as_string(hide_password=False), connect_timeout=3).close()
    except psycopg.OperationalError as error:
        reason = (
            f"no PostgreSQL server answers at {plain.render_as_string(hide_password=True)} "
            f"(TEST_DATABASE_URL): {str(error).strip().splitlines()[0]}"
        )
        if os.environ.get("ARCHITECT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"ARCHITECT_REQUIRE_POSTGRES=1 and {reason}", pytrace=False)
        pytest.skip(reason)
    return plain.render_as_string(hide_password=False)


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A schema of this test's own, dropped with everything in it afterwards."""
    import psycopg

    schema = f"fa_runtime_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _postgres(name: str, postgres_url: str, schema: str) -> Database:
    driver, is_async = {
        "psycopg": ("postgresql+psycopg", False),
        "psycopg_async": ("postgresql+psycopg", True),
        "asyncpg": ("postgresql+asyncpg", True),
    }[name]
    url = make_url(postgres_url).set(drivername=driver).render_as_string(hide_password=False)
    if name == "asyncpg":
        connect_args: dict[str, Any] = {"server_settings": {"search_path": schema}}
    else:
        connect_args = {"options": f"-c search_path={schema}"}
    return Database(name, url, is_async=is_async, connect_args=connect_args)


@pytest.fixture
def psycopg_db(postgres_url: str, postgres_schema: str) -> Database:
    return _postgres("psycopg", postgres_url, postgres_schema)


@pytest.fixture
def psycopg_async_db(postgres_url: str, postgres_schema: str) -> Database:
    return _postgres("psycopg_async", postgres_url, postgres_schema)


@pytest.fixture
def asyncpg_db(postgres_url: str, postgres_schema: str) -> Database:
    return _postgres("asyncpg", postgres_url, postgres_schema)


DATABASES = ["sqlite", "aiosqlite", "psycopg", "psycopg_async", "asyncpg"]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> Database:
    """Each real database in turn: SQLite (sync, aiosqlite) and PostgreSQL (three drivers)."""
    db: Database = request.getfixturevalue(f"{request.param}_db")
    return db


# --- user code -----------------------------------------------------------------------


class Project:
    """A temporary project whose modules play the user's code."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._modules: list[str] = []

    def module(self, relative: str, source: str) -> ModuleType:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        name = f"_fa_user_{uuid.uuid4().hex[:8]}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        self._modules.append(name)
        spec.loader.exec_module(module)
        return module

    def line(self, relative: str, marker: str) -> int:
        """The number of the only line of `relative` that contains `marker`."""
        lines = (self.root / relative).read_text(encoding="utf-8").splitlines()
        found = [number for number, text in enumerate(lines, start=1) if marker in text]
        assert len(found) == 1, (marker, found)
        return found[0]

    def location(self, relative: str, marker: str) -> str:
        return f"{relative}:{self.line(relative, marker)}"

    def close(self) -> None:
        for name in self._modules:
            sys.modules.pop(name, None)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    from fastapi_architect.runtime.settings import configure

    root = tmp_path / "project"
    root.mkdir()
    configure(project_root=root)
    made = Project(root.resolve())
    yield made
    made.close()


SYNC_REPO = """
    from sqlalchemy import select
    from sqlalchemy.orm import Session, joinedload, selectinload


    def setup(engine, models, n_authors, books_per_author=2):
        models.Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(models.seed(n_authors, books_per_author))
            session.commit()


    def books_per_author(engine, models):
        with Session(engine) as session:
            authors = session.scalars(select(models.Author).order_by(models.Author.id)).all()
            found = {}
            for author in authors:
                statement = select(models.Book).where(models.Book.author_id == author.id)
                found[author.name] = session.scalars(statement).all()  # @per-row
            return found


    def titles_lazy(engine, models):
        with Session(engine) as session:
            titles = []
            for author in session.scalars(select(models.Author).order_by(models.Author.id)):
                titles += [book.title for book in author.books]  # @lazy
            return titles


    def titles_selectin(engine, models):
        with Session(engine) as session:
            statement = select(models.Author).options(selectinload(models.Author.books))
            authors = session.scalars(statement).all()  # @selectin
            return [book.title for author in authors for book in author.books]


    def titles_joined(engine, models):
        with Session(engine) as session:
            statement = select(models.Author).options(joinedload(models.Author.books))
            authors = session.scalars(statement).unique().all()  # @joined
            return [book.title for author in authors for book in author.books]
"""

ASYNC_REPO = """
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import joinedload, selectinload


    async def setup(engine, models, n_authors, books_per_author=2):
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        async with AsyncSession(engine) as session:
            session.add_all(models.seed(n_authors, books_per_author))
            await session.commit()


    async def books_per_author(engine, models):
        async with AsyncSession(engine) as session:
            statement = select(models.Author).order_by(models.Author.id)
            authors = (await session.scalars(statement)).all()
            found = {}
            for author in authors:
                statement = select(models.Book).where(models.Book.author_id == author.id)
                found[author.name] = (await session.scalars(statement)).all()  # @per-row
            return found


    async def titles_lazy(engine, models):
        async with AsyncSession(engine) as session:
            statement = select(models.Author).order_by(models.Author.id)
            titles = []
            for author in (await session.scalars(statement)).all():
                titles += [book.title for book in await author.awaitable_attrs.books]  # @lazy
            return titles


    async def titles_selectin(engine, models):
        async with AsyncSession(engine) as session:
            statement = select(models.Author).options(selectinload(models.Author.books))
            authors = (await session.scalars(statement)).all()  # @selectin
            return [book.title for author in authors for book in author.books]


    async def titles_joined(engine, models):
        async with AsyncSession(engine) as session:
            statement = select(models.Author).options(joinedload(models.Author.books))
            authors = (await session.scalars(statement)).unique().all()  # @joined
            return [book.title for author in authors for book in author.books]
"""


class Repo:
    """The user's data-access code, sync (`app/sync_repo.py`) and async (`app/async_repo.py`).

    `repo.call(db, "books_per_author", engine, models)` runs the function of the
    module that fits `db` (an async one under `asyncio.run`); `repo.location(db,
    "@per-row")` is where the statement is issued.
    """

    SYNC = "app/sync_repo.py"
    ASYNC = "app/async_repo.py"

    def __init__(self, project: Project) -> None:
        self.project = project
        self.sync = project.module(self.SYNC, SYNC_REPO)
        self.async_ = project.module(self.ASYNC, ASYNC_REPO)

    def call(self, db: Database, name: str, *args: Any) -> Any:
        if db.is_async:
            return asyncio.run(getattr(self.async_, name)(*args))
        return getattr(self.sync, name)(*args)

    def location(self, db: Database, marker: str) -> str:
        return self.project.location(self.ASYNC if db.is_async else self.SYNC, marker)


@pytest.fixture
def repo(project: Project) -> Repo:
    return Repo(project)


# --- isolation ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _runtime_isolation() -> Iterator[None]:
    """Default settings, no hooks and an empty recorder before and after each test.

    What earlier tests of the session left alive is frozen out of the cyclic collector:
    in a worker that has run hundreds of tests, a full collection takes 200-300 ms, and
    one that starts in the watchdog's thread while a request blocks the loop (the GIL
    held all along) can last past the end of the step, so the watchdog never takes its
    second sample. The tests measure the profiler, not the collector of a big heap.
    """
    saved = get_settings()
    sqlalchemy_hooks.uninstall()
    recorder.reset()
    gc.freeze()
    yield
    gc.unfreeze()
    sqlalchemy_hooks.uninstall()
    recorder.reset()
    use_settings(saved)


@pytest.fixture
def hooks() -> Iterator[None]:
    """The SQLAlchemy hooks installed for the test."""
    assert sqlalchemy_hooks.install()
    yield
    sqlalchemy_hooks.uninstall()
