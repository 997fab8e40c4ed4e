"""Every way to present a bad access token gets 401 with `WWW-Authenticate`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.models.user import User
from tests.conftest import UserFactory

pytestmark = pytest.mark.anyio

ME_URL = "/api/v1/users/me"


def claims(user: User, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "sub": str(user.id),
        "type": "access",
        "jti": uuid4().hex,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign(settings: Settings, payload: dict[str, Any], algorithm: str = "HS256") -> str:
    return jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=algorithm)


async def assert_unauthorized(
    client: httpx.AsyncClient, headers: dict[str, str], challenge: str
) -> None:
    response = await client.get(ME_URL, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == challenge
    assert response.json()["status"] == 401


INVALID = 'Bearer error="invalid_token"'


async def test_a_valid_token_is_accepted(
    client: httpx.AsyncClient, settings: Settings, user: User
) -> None:
    token = sign(settings, claims(user))
    response = await client.get(ME_URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Basic YTpi"}],
)
async def test_missing_token(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    await assert_unauthorized(client, headers, "Bearer")


@pytest.mark.parametrize("token", ["abc", "a.b.c", "Bearer x", "e30.e30.", "e30.e30"])
async def test_malformed_token(client: httpx.AsyncClient, token: str) -> None:
    await assert_unauthorized(client, {"Authorization": f"Bearer {token}"}, INVALID)


async def test_expired_token(client: httpx.AsyncClient, settings: Settings, user: User) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    token = sign(settings, claims(user, iat=past, exp=past + timedelta(minutes=5)))
    await assert_unauthorized(client, {"Authorization": f"Bearer {token}"}, INVALID)


async def test_wrong_signature(client: httpx.AsyncClient, user: User) -> None:
    token = jwt.encode(claims(user), "another-key-of-at-least-32-bytes!!", algorithm="HS256")
    await assert_unauthorized(client, {"Authorization": f"Bearer {token}"}, INVALID)


async def test_alg_none(client: httpx.AsyncClient, user: User) -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(user))}."
    await assert_unauthorized(client, {"Authorization": f"Bearer {token}"}, INVALID)


async def test_other_algorithm_with_the_right_key(
    client: httpx.AsyncClient, settings: Settings, user: User
) -> None:
    """The algorithm is pinned: HS512 with the same secret is refused."""
    token = sign(settings, claims(user), algorithm="HS512")
    await assert_unauthorized(client, {"Authorization": f"Bearer {token}"}, INVALID)


async def test_refresh_token_used_as_access_token(
    client: httpx.AsyncClient, settings: Settings, user: User
) -> None:
    token = sign(settings, claims(user, type="refresh"))
    await assert_unauthorized(client, {"Authorization": f"Bearer {token}"}, INVALID)


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "type", "jti"])
async def test_required_claims(
    client: httpx.AsyncClient, settings: Settings, user: User, missing: str
) -> None:
    payload = claims(user)
    del payload[missing]
    await assert_unauthorized(
        client, {"Authorization": f"Bearer {sign(settings, payload)}"}, INVALID
    )


@pytest.mark.parametrize("subject", ["999", "0", "-1", "abc", "99999999999999999999"])
async def test_token_for_no_user(
    client: httpx.AsyncClient, settings: Settings, user: User, subject: str
) -> None:
    token = sign(settings, claims(user, sub=subject))
    await assert_unauthorized(client, {"Authorization": f"Bearer {token}"}, INVALID)


async def test_token_of_a_deactivated_user(
    client: httpx.AsyncClient,
    user_factory: UserFactory,
    headers_for: Callable[[User], dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user = await user_factory()
    headers = headers_for(user)
    async with sessionmaker() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.is_active = False
        await session.commit()

    await assert_unauthorized(client, headers, INVALID)
