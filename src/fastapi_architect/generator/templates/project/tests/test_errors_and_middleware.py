"""Problem details for every error, request ids, the access log, CORS."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import structlog
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app

pytestmark = pytest.mark.anyio


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["instance"] == "/nowhere"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_wrong_method_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/products")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert "allow" in response.headers


async def test_malformed_json_is_a_validation_problem(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/products",
        content=b"{not json",
        headers={**auth_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


async def test_undecodable_body_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users", content=b"\x80\x81", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_unexpected_errors_are_logged_and_hidden(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("database password is hunter2")

    app.add_api_route("/boom", explode)

    with structlog.testing.capture_logs() as logs:
        response = await client.get("/boom", headers={"X-Request-ID": "req-123"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-123"
    body = response.json()
    assert body["title"] == "Internal Server Error"
    assert body["request_id"] == "req-123"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    [error] = [entry for entry in logs if entry["event"] == "unhandled_exception"]
    assert error["request_id"] == "req-123"
    assert error["log_level"] == "error"
    assert error["exc_info"]
    [access] = [entry for entry in logs if entry["event"] == "request"]
    assert access["status"] == 500


async def test_request_id_is_generated_or_accepted(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    accepted = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    refused = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})

    assert len(generated.headers["x-request-id"]) == 32
    assert accepted.headers["x-request-id"] == "abc-123"
    assert refused.headers["x-request-id"] not in ("bad id\twith spaces", "")


async def test_access_log_has_timing(client: httpx.AsyncClient) -> None:
    with structlog.testing.capture_logs() as logs:
        response = await client.get("/healthz", headers={"X-Request-ID": "timed"})

    [entry] = [e for e in logs if e["event"] == "request"]
    assert entry["request_id"] == "timed"
    assert entry["method"] == "GET"
    assert entry["path"] == "/healthz"
    assert entry["status"] == response.status_code == 200
    assert entry["duration_ms"] >= 0


async def test_cors_origins_come_from_settings(
    make_settings: Callable[..., Settings], app: FastAPI
) -> None:
    cors_app = create_app(make_settings(cors_origins="https://shop.example, https://x.example"))
    cors_app.dependency_overrides = app.dependency_overrides
    transport = httpx.ASGITransport(app=cors_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        allowed = await client.options(
            "/api/v1/products",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        simple = await client.get("/healthz", headers={"Origin": "https://x.example"})
        other = await client.get("/healthz", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert simple.headers["access-control-allow-origin"] == "https://x.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers
