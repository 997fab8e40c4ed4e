"""The OAuth2 password flow: login by username or e-mail, uniform failures, rate limiting
(in memory, and in Redis when available), and refresh-token rotation with reuse
detection."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.deps import get_login_limiter
from app.core.config import Settings
from app.core.rate_limit import RateLimiter
from app.core.security import PasswordHasher
from app.main import create_app
from app.models.refresh_token import RefreshToken
from app.models.user import User
from tests.conftest import PASSWORD, TEST_REDIS_URL, UserFactory, service_missing

pytestmark = pytest.mark.anyio

TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/refresh"
ME_URL = "/api/v1/users/me"


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(TOKEN_URL, data={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# ------------------------------------------------------------------ login


@pytest.mark.parametrize("login_as", ["username", "email", "EMAIL", "USERNAME"])
async def test_login_with_username_or_email(
    client: httpx.AsyncClient, user: User, login_as: str
) -> None:
    name = getattr(user, login_as.lower())
    response = await login(client, name.upper() if login_as.isupper() else name)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert response.headers["cache-control"] == "no-store"
    me = await client.get(ME_URL, headers=bearer(body["access_token"]))
    assert me.json()["id"] == user.id


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, user: User
) -> None:
    wrong_password = await login(client, user.username, "Wrong-password-1")
    unknown_user = await login(client, "nobody", PASSWORD)

    for response in (wrong_password, unknown_user):
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    strip = ("instance", "request_id")
    assert {k: v for k, v in wrong_password.json().items() if k not in strip} == {
        k: v for k, v in unknown_user.json().items() if k not in strip
    }


async def test_unknown_user_costs_a_hash_verification(
    client: httpx.AsyncClient, app: FastAPI, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing does not reveal whether an account exists: both paths verify one hash."""
    hasher = app.state.password_hasher
    calls: list[str] = []
    real_verify, real_dummy = hasher.verify, hasher.verify_dummy

    async def verify(password: str, password_hash: str) -> tuple[bool, str | None]:
        calls.append("verify")
        result: tuple[bool, str | None] = await real_verify(password, password_hash)
        return result

    async def verify_dummy(password: str) -> None:
        calls.append("verify")
        await real_dummy(password)

    monkeypatch.setattr(hasher, "verify", verify)
    monkeypatch.setattr(hasher, "verify_dummy", verify_dummy)

    await login(client, user.username, "Wrong-password-1")
    await login(client, "nobody", "Wrong-password-1")
    await login(client, "x\u0000" * 400, "Wrong-password-1")
    await login(client, user.username, "Long-password-1" * 10_000)

    assert calls == ["verify"] * 4


async def test_inactive_user_cannot_log_in(
    client: httpx.AsyncClient, user_factory: UserFactory
) -> None:
    inactive = await user_factory(is_active=False)
    assert_problem(await login(client, inactive.username), 401)


async def test_login_form_is_validated(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(TOKEN_URL, data={"username": "ada"}), 422)
    assert_problem(await client.post(TOKEN_URL, json={"username": "a", "password": "b"}), 422)


async def test_successful_login_upgrades_an_outdated_hash(
    client: httpx.AsyncClient,
    make_settings: Callable[..., Settings],
    app: FastAPI,
    user: User,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    old_hash = user.password_hash
    stronger = make_settings(password_hash_time_cost=2)
    app.state.password_hasher = PasswordHasher.from_settings(stronger)

    assert (await login(client, user.username)).status_code == 200

    async with sessionmaker() as session:
        stored = await session.get(User, user.id)
    assert stored is not None
    assert stored.password_hash != old_hash
    assert "t=2" in stored.password_hash


# ------------------------------------------------------------------ rate limiting


async def test_repeated_failures_are_rate_limited(client: httpx.AsyncClient, user: User) -> None:
    for _ in range(5):
        assert_problem(await login(client, user.username, "Wrong-password-1"), 401)

    limited = await login(client, user.username, "Wrong-password-1")
    correct_but_limited = await login(client, user.username.upper())  # right password

    for response in (limited, correct_but_limited):
        assert_problem(response, 429)
        assert 1 <= int(response.headers["retry-after"]) <= 60
    # Another account from the same address is not affected.
    assert_problem(await login(client, "someone-else", "Wrong-password-1"), 401)


async def test_a_successful_login_resets_the_failure_count(
    client: httpx.AsyncClient, user: User
) -> None:
    for _ in range(4):
        await login(client, user.username, "Wrong-password-1")
    assert (await login(client, user.username)).status_code == 200
    for _ in range(4):
        assert_problem(await login(client, user.username, "Wrong-password-1"), 401)


async def test_rate_limit_is_shared_through_redis(
    app: FastAPI, client: httpx.AsyncClient, user: User
) -> None:
    """Two app instances (two workers) share the failure count through Redis."""
    prefix = f"test-{uuid4().hex}"
    limiters = [
        RateLimiter("3/minute", redis_url=TEST_REDIS_URL, key_prefix=prefix) for _ in range(2)
    ]
    try:
        with anyio.fail_after(3):
            reachable = await limiters[0].check()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        reachable = False
    if not reachable:
        service_missing(f"Redis does not answer at {TEST_REDIS_URL} (TEST_REDIS_URL)")

    app.dependency_overrides[get_login_limiter] = lambda: limiters[0]
    for _ in range(2):
        assert_problem(await login(client, user.username, "Wrong-password-1"), 401)
    app.dependency_overrides[get_login_limiter] = lambda: limiters[1]  # "another worker"
    assert_problem(await login(client, user.username, "Wrong-password-1"), 401)
    limited = await login(client, user.username, "Wrong-password-1")

    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1


async def test_rate_limiter_uses_redis_when_configured(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(redis_url=TEST_REDIS_URL))
    storage = app.state.login_limiter.storage
    assert type(storage).__name__ == "RedisStorage"


# ------------------------------------------------------------------ refresh


async def tokens_of(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    response = await login(client, user.username)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_refresh_rotates_the_pair(client: httpx.AsyncClient, user: User) -> None:
    first = await tokens_of(client, user)

    response = await client.post(REFRESH_URL, json={"refresh_token": first["refresh_token"]})

    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert response.headers["cache-control"] == "no-store"
    assert (await client.get(ME_URL, headers=bearer(second["access_token"]))).status_code == 200


async def test_reusing_a_refresh_token_revokes_its_family(
    client: httpx.AsyncClient, user: User
) -> None:
    stolen = (await tokens_of(client, user))["refresh_token"]
    other_login = (await tokens_of(client, user))["refresh_token"]
    legit = await client.post(REFRESH_URL, json={"refresh_token": stolen})
    rotated = legit.json()["refresh_token"]

    replay = await client.post(REFRESH_URL, json={"refresh_token": stolen})

    assert_problem(replay, 401)
    assert 'error="invalid_token"' in replay.headers["www-authenticate"]
    # Every token of that family is dead now, even the one never used...
    assert_problem(await client.post(REFRESH_URL, json={"refresh_token": rotated}), 401)
    # ...but other logins (other families) still work.
    other = await client.post(REFRESH_URL, json={"refresh_token": other_login})
    assert other.status_code == 200


async def test_refresh_tokens_are_stored_hashed(
    client: httpx.AsyncClient, user: User, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = (await tokens_of(client, user))["refresh_token"]

    async with sessionmaker() as session:
        stored = (await session.scalars(select(RefreshToken))).all()

    assert len(stored) == 1
    assert stored[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in vars(stored[0]).values())


@pytest.mark.parametrize("kind", ["access", "garbage", "unknown", "empty"])
async def test_refresh_refuses_anything_but_a_live_refresh_token(
    client: httpx.AsyncClient, app: FastAPI, user: User, kind: str
) -> None:
    tokens = app.state.token_manager
    presented = {
        "access": (await tokens_of(client, user))["access_token"],
        "garbage": "not.a.jwt",
        # Well signed, but never issued (not in the database).
        "unknown": tokens.issue(str(user.id), "refresh").token,
        "empty": "",
    }[kind]

    response = await client.post(REFRESH_URL, json={"refresh_token": presented})

    assert_problem(response, 422 if kind == "empty" else 401)


async def test_refresh_fails_for_a_deactivated_user(
    client: httpx.AsyncClient, user: User, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = (await tokens_of(client, user))["refresh_token"]
    async with sessionmaker() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.is_active = False
        await session.commit()

    assert_problem(await client.post(REFRESH_URL, json={"refresh_token": token}), 401)
