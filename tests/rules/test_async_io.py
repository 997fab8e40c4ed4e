"""Unit tests of the FAA203 driver table (`pattern -> replacement`, ASYNC200's form)."""

from __future__ import annotations

import pytest

from fastapi_architect.review.rules.async_io import SYNC_DRIVERS, _driver


@pytest.mark.parametrize(
    "name",
    [
        "sqlite3.connect",
        "sqlite3.connect.execute",
        "sqlite3.connect.cursor.fetchall",
        "psycopg2.connect.cursor.execute",
        "redis.Redis.get",
        "redis.Redis.from_url.hset",
        "redis.from_url.pipeline.execute",
        "pymongo.MongoClient.shop.users.find_one",
        "pika.BlockingConnection",
    ],
)
def test_blocking_driver_calls(name: str) -> None:
    assert _driver(name) is not None


@pytest.mark.parametrize(
    "name",
    [
        "redis.Redis",  # a lazy client: constructing it sends nothing
        "redis.Redis.from_url",
        "redis.Redis.pipeline",
        "redis.Redis.pipeline.set",  # buffered until execute()
        "redis.asyncio.Redis.get",
        "redis.asyncio.from_url.get",
        "pymongo.MongoClient",
        "pymongo.MongoClient.get_database",
        "pymongo.AsyncMongoClient.shop.users.find_one",
        "sqlite3.connect.cursor",
        "sqlite3.connect.close",
        "psycopg.AsyncConnection.connect",
        "aiosqlite.connect",
    ],
)
def test_not_blocking(name: str) -> None:
    assert _driver(name) is None


def test_every_entry_names_a_replacement() -> None:
    for pattern, (kind, replacement) in SYNC_DRIVERS.items():
        assert kind in ("connect", "client"), pattern
        assert replacement.startswith(("`", "an `")), pattern
