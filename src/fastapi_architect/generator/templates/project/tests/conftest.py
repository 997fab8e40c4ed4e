"""Test fixtures: a fresh database per test, the app with its session dependency
overridden, an httpx client over ASGI, and factories for users and their tokens.

The database comes from TEST_DATABASE_URL:
- unset (default): SQLite through aiosqlite, a new file per test;
- a PostgreSQL URL (postgresql+asyncpg://...): every test gets its own schema, created
  and dropped around the test, so the suite never touches existing tables.
Tests that need a service the machine may lack (Redis) skip with a message, unless
REQUIRE_SERVICES=1, which turns the skip into a failure (CI)."""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, Protocol
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.db.session import create_engine, create_sessionmaker, get_session
from app.main import create_app
from app.models import Base, User

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
PASSWORD = "Correct-Horse-42"


def service_missing(message: str) -> NoReturn:
    """Skip (a developer's machine) or fail (CI, REQUIRE_SERVICES=1)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (REQUIRE_SERVICES=1)")
    pytest.skip(f"{message}; set REQUIRE_SERVICES=1 to make this a failure")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """Settings for tests, independent of the developer's environment and `.env`:
    cheap Argon2 parameters, an in-memory rate limiter, a random secret."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": "sqlite+aiosqlite://",
            "secret_key": SecretStr(secrets.token_urlsafe(48)),
            "password_hash_time_cost": 1,
            "password_hash_memory_cost": 1024,
            "password_hash_parallelism": 1,
            "login_rate_limit": "5/minute",
            "redis_url": None,
            "cors_origins": [],
            "log_level": "WARNING",
            "log_json": False,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def _is_sqlite(url: str) -> bool:
    return not url or url.startswith("sqlite")


@pytest.fixture
async def empty_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a database without any table (SQLite file, or a new PostgreSQL
    schema that is dropped afterwards)."""
    if _is_sqlite(TEST_DATABASE_URL):
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        yield engine
        await engine.dispose()
        return
    schema = f"test_{uuid4().hex[:16]}"
    admin = create_engine(TEST_DATABASE_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(
        TEST_DATABASE_URL, connect_args={"server_settings": {"search_path": schema}}
    )
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def engine(empty_engine: AsyncEngine) -> AsyncEngine:
    """An engine on a fresh database holding the models' tables."""
    async with empty_engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return empty_engine


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def session(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for arranging and checking data, separate from the app's sessions."""
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def app(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> FastAPI:
    """The application, with `get_session` overridden to use the test database."""
    application = create_app(settings)

    async def test_session() -> AsyncIterator[AsyncSession]:
        async with sessionmaker() as session:
            yield session

    application.dependency_overrides[get_session] = test_session
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class UserFactory(Protocol):
    def __call__(
        self,
        *,
        email: str | None = ...,
        username: str | None = ...,
        password: str = ...,
        is_active: bool = ...,
        is_superuser: bool = ...,
    ) -> Awaitable[User]: ...


@pytest.fixture
def user_factory(app: FastAPI, session: AsyncSession) -> UserFactory:
    """Create users directly in the database (password: PASSWORD)."""
    counter = itertools.count(1)

    async def create(
        *,
        email: str | None = None,
        username: str | None = None,
        password: str = PASSWORD,
        is_active: bool = True,
        is_superuser: bool = False,
    ) -> User:
        n = next(counter)
        user = User(
            email=email or f"user{n}@example.com",
            username=username or f"user{n}",
            password_hash=await app.state.password_hasher.hash(password),
            is_active=is_active,
            is_superuser=is_superuser,
        )
        session.add(user)
        await session.commit()
        return user

    return create


@pytest.fixture
def headers_for(app: FastAPI) -> Callable[[User], dict[str, str]]:
    """Bearer headers with a valid access token for a given user."""

    def make(user: User) -> dict[str, str]:
        token = app.state.token_manager.issue(str(user.id), "access").token
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
async def user(user_factory: UserFactory) -> User:
    return await user_factory()


@pytest.fixture
def auth_headers(user: User, headers_for: Callable[[User], dict[str, str]]) -> dict[str, str]:
    """Bearer headers of a fresh user (the `user` fixture)."""
    return headers_for(user)
