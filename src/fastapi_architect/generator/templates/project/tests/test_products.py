"""Products: public listing (paged, filtered, sorted, no N+1), creation by an
authenticated user, changes by the owner or a superuser only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models.product import Product
from app.models.user import User
from tests.conftest import UserFactory

pytestmark = pytest.mark.anyio

URL = "/api/v1/products"
Headers = Callable[[User], dict[str, str]]


async def add_products(session: AsyncSession, owner: User, *specs: tuple[str, str]) -> None:
    """Insert products (name, price) owned by `owner`."""
    session.add_all(
        Product(name=name, price=Decimal(price), owner_id=owner.id) for name, price in specs
    )
    await session.commit()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    return body


# ------------------------------------------------------------------ list


async def test_list_is_empty_at_first(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_list_pages_with_total(
    client: httpx.AsyncClient, session: AsyncSession, user: User
) -> None:
    await add_products(session, user, *((f"p{i}", "1.00") for i in range(5)))

    response = await client.get(URL, params={"limit": 2, "offset": 4, "sort": "name"})

    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 4)
    assert [item["name"] for item in body["items"]] == ["p4"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
async def test_list_refuses_out_of_bounds_paging(
    client: httpx.AsyncClient, params: dict[str, int]
) -> None:
    body = assert_problem(await client.get(URL, params=params), 422)
    assert body["errors"][0]["loc"] == ["query", next(iter(params))]


async def test_list_accepts_the_maximum_limit(client: httpx.AsyncClient) -> None:
    response = await client.get(URL, params={"limit": 100})
    assert response.status_code == 200
    assert response.json()["limit"] == 100


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price", ["b", "c", "a"]),
        ("-price", ["a", "c", "b"]),
        ("name", ["a", "b", "c"]),
        ("-name", ["c", "b", "a"]),
        ("created_at", ["a", "b", "c"]),
        ("-created_at", ["c", "b", "a"]),
    ],
)
async def test_list_sorts(
    client: httpx.AsyncClient,
    session: AsyncSession,
    user: User,
    sort: str,
    expected: list[str],
) -> None:
    for name, price in (("a", "30.00"), ("b", "10.00"), ("c", "20.00")):
        await add_products(session, user, (name, price))  # one by one: distinct times

    response = await client.get(URL, params={"sort": sort})

    assert [item["name"] for item in response.json()["items"]] == expected


async def test_list_refuses_an_unknown_sort_key(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(URL, params={"sort": "password_hash"}), 422)


async def test_list_filters_by_owner_and_price(
    client: httpx.AsyncClient, session: AsyncSession, user_factory: UserFactory
) -> None:
    alice, bob = await user_factory(), await user_factory()
    await add_products(session, alice, ("cheap", "5.00"), ("dear", "50.00"))
    await add_products(session, bob, ("bobs", "20.00"))

    by_owner = await client.get(URL, params={"owner_id": alice.id})
    by_price = await client.get(URL, params={"min_price": "10", "max_price": "30"})

    assert {item["name"] for item in by_owner.json()["items"]} == {"cheap", "dear"}
    assert by_owner.json()["total"] == 2
    assert [item["name"] for item in by_price.json()["items"]] == ["bobs"]


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run on the test database while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_list_loads_owners_without_n_plus_one(
    client: httpx.AsyncClient,
    session: AsyncSession,
    user_factory: UserFactory,
    statements: list[str],
) -> None:
    for _ in range(3):
        owner = await user_factory()
        await add_products(session, owner, *((f"{owner.username}-{i}", "9.99") for i in range(4)))
    statements.clear()

    response = await client.get(URL, params={"limit": 100})

    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 12
    assert all(item["owner"]["username"].startswith("user") for item in items)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects  # the page (owners joined) and the count


# ------------------------------------------------------------------ create


async def test_create_returns_201_with_location(
    client: httpx.AsyncClient, user: User, auth_headers: dict[str, str]
) -> None:
    payload = {"name": "Lamp", "description": "Bright", "price": "19.90"}

    response = await client.post(URL, json=payload, headers=auth_headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Lamp"
    assert Decimal(body["price"]) == Decimal("19.90")
    assert body["owner"] == {"id": user.id, "username": user.username}
    location = response.headers["location"]
    assert location.endswith(f"{URL}/{body['id']}")
    assert (await client.get(location)).json() == body


async def test_create_requires_authentication(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json={"name": "Lamp", "price": "1.00"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "Lamp", "price": "0"},
        {"name": "Lamp", "price": "-1.00"},
        {"name": "Lamp", "price": "1.001"},
        {"name": "Lamp", "price": "NaN"},
        {"name": "Lamp", "price": "cheap"},
        {"name": "Lamp", "price": "12345678901.00"},
        {"name": "", "price": "1.00"},
        {"name": "   ", "price": "1.00"},
        {"name": "x" * 201, "price": "1.00"},
        {"name": "nul\u0000byte", "price": "1.00"},
        {"price": "1.00"},
        {"name": "Lamp", "price": "1.00", "owner_id": 1},
    ],
)
async def test_create_validates_input(
    client: httpx.AsyncClient, auth_headers: dict[str, str], payload: dict[str, Any]
) -> None:
    assert_problem(await client.post(URL, json=payload, headers=auth_headers), 422)


# ------------------------------------------------------------------ read


async def test_get_returns_the_product(
    client: httpx.AsyncClient, session: AsyncSession, user: User
) -> None:
    await add_products(session, user, ("Desk", "120.50"))
    product_id = (await client.get(URL)).json()["items"][0]["id"]

    response = await client.get(f"{URL}/{product_id}")

    assert response.status_code == 200
    assert response.json()["name"] == "Desk"
    assert response.json()["price"] == "120.50"


async def test_get_unknown_is_404(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get(f"{URL}/999"), 404)
    assert body["instance"] == f"{URL}/999"


@pytest.mark.parametrize("product_id", ["0", "abc", "99999999999"])
async def test_get_with_an_invalid_id_is_422(client: httpx.AsyncClient, product_id: str) -> None:
    assert_problem(await client.get(f"{URL}/{product_id}"), 422)


# ------------------------------------------------------------------ update and delete


@pytest.fixture
async def product_id(client: httpx.AsyncClient, auth_headers: dict[str, str]) -> int:
    """A product owned by the `user` fixture."""
    response = await client.post(
        URL, json={"name": "Chair", "price": "49.00"}, headers=auth_headers
    )
    product_id: int = response.json()["id"]
    return product_id


async def test_owner_updates_only_the_fields_sent(
    client: httpx.AsyncClient, auth_headers: dict[str, str], product_id: int
) -> None:
    response = await client.patch(
        f"{URL}/{product_id}", json={"price": "45.50"}, headers=auth_headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["price"] == "45.50"
    assert response.json()["name"] == "Chair"


async def test_superuser_may_update_any_product(
    client: httpx.AsyncClient, user_factory: UserFactory, headers_for: Headers, product_id: int
) -> None:
    admin = await user_factory(is_superuser=True)
    response = await client.patch(
        f"{URL}/{product_id}", json={"name": "Throne"}, headers=headers_for(admin)
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Throne"


async def test_other_users_may_not_update(
    client: httpx.AsyncClient, user_factory: UserFactory, headers_for: Headers, product_id: int
) -> None:
    other = await user_factory()
    response = await client.patch(
        f"{URL}/{product_id}", json={"name": "Mine"}, headers=headers_for(other)
    )
    assert_problem(response, 403)


@pytest.mark.parametrize("payload", [{"name": None}, {"price": None}, {"price": "0"}, {"id": 5}])
async def test_update_validates_input(
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    product_id: int,
    payload: dict[str, Any],
) -> None:
    response = await client.patch(f"{URL}/{product_id}", json=payload, headers=auth_headers)
    assert_problem(response, 422)


async def test_update_needs_authentication_and_an_existing_product(
    client: httpx.AsyncClient, auth_headers: dict[str, str], product_id: int
) -> None:
    assert_problem(await client.patch(f"{URL}/{product_id}", json={"name": "X"}), 401)
    missing = await client.patch(f"{URL}/999", json={"name": "X"}, headers=auth_headers)
    assert_problem(missing, 404)


async def test_owner_deletes(
    client: httpx.AsyncClient, auth_headers: dict[str, str], product_id: int
) -> None:
    response = await client.delete(f"{URL}/{product_id}", headers=auth_headers)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(f"{URL}/{product_id}"), 404)


async def test_delete_is_refused_to_others_and_allowed_to_superusers(
    client: httpx.AsyncClient, user_factory: UserFactory, headers_for: Headers, product_id: int
) -> None:
    other, admin = await user_factory(), await user_factory(is_superuser=True)

    assert_problem(await client.delete(f"{URL}/{product_id}", headers=headers_for(other)), 403)
    response = await client.delete(f"{URL}/{product_id}", headers=headers_for(admin))
    assert response.status_code == 204


async def test_delete_needs_authentication_and_an_existing_product(
    client: httpx.AsyncClient, auth_headers: dict[str, str], product_id: int
) -> None:
    assert_problem(await client.delete(f"{URL}/{product_id}"), 401)
    assert_problem(await client.delete(f"{URL}/999", headers=auth_headers), 404)
