"""Registration (validation, 201 + Location, 409 on duplicates), the current user, and
public profiles. No answer ever carries a password or its hash."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models.user import User
from tests.conftest import PASSWORD, UserFactory

pytestmark = pytest.mark.anyio

URL = "/api/v1/users"


def payload(**overrides: Any) -> dict[str, Any]:
    return {"email": "ada@example.com", "username": "ada", "password": PASSWORD} | overrides


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_register_returns_201_location_and_no_secret(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post(URL, json=payload(email="Ada@Example.COM", username="Ada"))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["username"] == "ada"
    assert set(body) == {"id", "username", "email", "is_active", "is_superuser", "created_at"}
    assert PASSWORD not in response.text
    assert "hash" not in response.text
    assert response.headers["location"].endswith(f"{URL}/{body['id']}")
    profile = await client.get(response.headers["location"])
    assert profile.json() == {"id": body["id"], "username": "ada"}
    async with sessionmaker() as session:
        stored = await session.scalar(select(User).where(User.id == body["id"]))
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


async def test_register_refuses_a_duplicate_email(
    client: httpx.AsyncClient, user_factory: UserFactory
) -> None:
    await user_factory(email="ada@example.com")
    response = await client.post(URL, json=payload(email="ADA@example.com"))
    assert "e-mail" in assert_problem(response, 409)["detail"]


async def test_register_refuses_a_duplicate_username(
    client: httpx.AsyncClient, user_factory: UserFactory
) -> None:
    await user_factory(username="ada")
    response = await client.post(URL, json=payload(email="other@example.com", username="ADA"))
    assert "username" in assert_problem(response, 409)["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "ada@"}, "email"),
        # 309 characters, 373 once lower-cased ("İ".lower() is two): still a clean 422
        ({"email": "\u0130" * 64 + "@" + "a" * 60 + ".b" * 90 + ".com"}, "email"),
        ({"username": "ab"}, "username"),
        ({"username": "a" * 33}, "username"),
        ({"username": "ada lovelace"}, "username"),
        ({"username": "ada@home"}, "username"),
        ({"password": "Sh0rt!"}, "password"),
        ({"password": "A1!" + "a" * 126}, "password"),
        ({"password": "alllowercaseletters"}, "password"),
        ({"password": "lowercase-and-symbols"}, "password"),
        ({"password": "My-ada-Password-1"}, "password"),
        ({"password": "Nul\u0000Byte-Pass1"}, "password"),
    ],
)
async def test_register_validates_input(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post(URL, json=payload(**overrides))

    body = assert_problem(response, 422)
    assert [error["loc"] for error in body["errors"]] == [["body", field]]
    password = payload(**overrides)["password"]
    assert password not in response.text  # invalid input is never echoed


async def test_register_refuses_missing_and_unknown_fields(client: httpx.AsyncClient) -> None:
    missing = await client.post(URL, json={"email": "ada@example.com"})
    unknown = await client.post(URL, json=payload(is_superuser=True))

    assert {tuple(e["loc"]) for e in assert_problem(missing, 422)["errors"]} == {
        ("body", "username"),
        ("body", "password"),
    }
    assert assert_problem(unknown, 422)["errors"][0]["loc"] == ["body", "is_superuser"]


async def test_me_returns_the_authenticated_user(
    client: httpx.AsyncClient, user: User, auth_headers: dict[str, str]
) -> None:
    response = await client.get(f"{URL}/me", headers=auth_headers)

    assert response.status_code == 200
    assert response.json()["id"] == user.id
    assert response.json()["email"] == user.email
    assert "password" not in response.text


async def test_public_profile(client: httpx.AsyncClient, user: User) -> None:
    response = await client.get(f"{URL}/{user.id}")
    assert response.json() == {"id": user.id, "username": user.username}


async def test_unknown_profile_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{URL}/4242"), 404)
    assert_problem(await client.get(f"{URL}/0"), 422)
