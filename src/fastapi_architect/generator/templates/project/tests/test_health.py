"""Liveness and readiness probes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import create_engine, create_sessionmaker, get_session

pytestmark = pytest.mark.anyio


async def test_liveness(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


async def test_readiness_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_readiness_fails_without_a_database(app: FastAPI, client: httpx.AsyncClient) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    broken = create_sessionmaker(engine)

    async def unreachable() -> AsyncIterator[AsyncSession]:
        async with broken() as session:
            yield session

    app.dependency_overrides[get_session] = unreachable
    try:
        response = await client.get("/readyz")
    finally:
        await engine.dispose()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The database is not reachable."
