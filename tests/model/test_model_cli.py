"""`fastapi-architect routes PATH --format json|table`, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fastapi_architect.cli import app

runner = CliRunner()


def _row(
    path: str, handler: str, line: int, tags: list[str], auth: list[str] | None
) -> dict[str, object]:
    return {
        "method": "GET",
        "path": path,
        "name": handler,
        "handler": f"app.api.v1.items.{handler}",
        "file": "app/api/v1/items.py",
        "line": line,
        "is_async": True,
        "authenticated": auth is not None,
        "auth": auth,
        "response_model": "list[str]" if handler == "list_items" else "str",
        "status_code": None,
        "tags": tags,
        "include_in_schema": True,
    }


def test_routes_json_exact_rows(fixtures_dir: Path) -> None:
    result = runner.invoke(app, ["routes", str(fixtures_dir / "nesting"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        _row(
            "/api/v1/items/", "list_items", 7, ["api", "root", "v1", "inc", "items", "list"], None
        ),
        _row(
            "/api/v1/items/{item_id}", "get_item", 12, ["api", "root", "v1", "inc", "items"], None
        ),
        # the second include adds `dependencies=[Depends(verify_api_key)]`: a configured
        # auth-dependency name
        _row("/legacy/items/", "list_items", 7, ["legacy", "items", "list"], ["verify_api_key"]),
        _row("/legacy/items/{item_id}", "get_item", 12, ["legacy", "items"], ["verify_api_key"]),
    ]


def test_routes_json_to_file(fixtures_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "routes.json"
    result = runner.invoke(
        app,
        ["routes", str(fixtures_dir / "fullstack" / "backend"), "--format", "json", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert len(rows) == 23
    assert {r["path"] for r in rows if r["method"] == "GET"} >= {"/api/v1/users/me"}


def test_routes_table(fixtures_dir: Path) -> None:
    result = runner.invoke(app, ["routes", str(fixtures_dir / "nesting")])
    assert result.exit_code == 0, result.output
    assert "4 routes" in result.stdout
    assert "/legacy/items/" in result.stdout
    assert "verify_api_key" in result.stdout


def test_routes_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["routes", str(tmp_path / "nope"), "--format", "json"])
    assert result.exit_code == 2
