"""The API contract: every operation is documented, with a stable operation id, and
its error answers are documented as problem details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app

pytestmark = pytest.mark.anyio

EXPECTED_OPERATIONS = {
    "liveness",
    "readiness",
    "issue_token",
    "refresh_token",
    "register_user",
    "read_current_user",
    "get_user",
    "list_products",
    "create_product",
    "get_product",
    "update_product",
    "delete_product",
}


async def operations(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    schema = (await client.get("/openapi.json")).json()
    return [
        operation
        for path_item in schema["paths"].values()
        for operation in path_item.values()
        if isinstance(operation, dict)
    ]


async def test_operation_ids_are_stable_and_unique(client: httpx.AsyncClient) -> None:
    ids = [operation["operationId"] for operation in await operations(client)]
    assert len(ids) == len(set(ids))
    assert EXPECTED_OPERATIONS <= set(ids)


async def test_every_operation_is_documented(client: httpx.AsyncClient) -> None:
    for operation in await operations(client):
        name = operation["operationId"]
        assert operation.get("summary"), name
        assert operation.get("tags"), name
        codes = set(operation["responses"])
        assert any(code.startswith("2") for code in codes), name
        for code, response in operation["responses"].items():
            content = response.get("content", {})
            if code.startswith(("4", "5")):
                assert list(content) == ["application/problem+json"], (name, code)


async def test_operations_with_input_document_422(client: httpx.AsyncClient) -> None:
    for operation in await operations(client):
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in operation["responses"], operation["operationId"]


async def test_operations_with_a_body_document_400(client: httpx.AsyncClient) -> None:
    for operation in await operations(client):
        if operation.get("requestBody"):
            assert "400" in operation["responses"], operation["operationId"]


async def test_protected_operations_document_401(client: httpx.AsyncClient) -> None:
    for operation in await operations(client):
        if operation.get("security"):
            assert "401" in operation["responses"], operation["operationId"]


async def test_docs_can_be_turned_off(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(docs_enabled=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert (await client.get(path)).status_code == 404, path
        assert (await client.get("/healthz")).status_code == 200
