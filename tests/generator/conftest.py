"""Generated projects for the end-to-end tests, and the servers they run against.

The services policy is that of the runtime tests: PostgreSQL and Redis URLs come from
`TEST_DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432/test`) and
`TEST_REDIS_URL` (default `redis://127.0.0.1:6379/0`); a case that needs a server that
does not answer is skipped with the reason, or fails under `ARCHITECT_REQUIRE_SERVICES=1`
(or the older `ARCHITECT_REQUIRE_POSTGRES=1`), as on CI.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def services_required() -> bool:
    return "1" in (
        os.environ.get("ARCHITECT_REQUIRE_SERVICES"),
        os.environ.get("ARCHITECT_REQUIRE_POSTGRES"),
    )


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"ARCHITECT_REQUIRE_SERVICES=1 and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A PostgreSQL URL (plain `postgresql://`) of a server that answers."""
    import psycopg

    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        psycopg.connect(plain, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        _unavailable(
            f"no PostgreSQL server answers at {make_url(plain).render_as_string()} "
            f"(TEST_DATABASE_URL): {str(error).strip().splitlines()[0]}"
        )
    return plain


@pytest.fixture
def postgres_database(postgres_admin_url: str) -> Iterator[str]:
    """A database of this test's own, as an asyncpg URL; dropped afterwards."""
    import psycopg

    name = f"fa_gen_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_admin_url).set(drivername="postgresql+asyncpg", database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 3):
            pass
    except OSError as error:
        _unavailable(f"no Redis server answers at {url} (TEST_REDIS_URL): {error}")
    return url
