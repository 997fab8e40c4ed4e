"""The bundled example (what `make demo` reviews) yields exactly the findings its
authors planted: `tests/data/bookshop_expected.json` lists them by code, file and line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.inventory import inventory
from fastapi_architect.review.engine import load_model, review_paths

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "bookshop"
EXPECTED = json.loads((ROOT / "tests" / "data" / "bookshop_expected.json").read_text())


def test_bookshop_findings_match_the_planted_mistakes() -> None:
    result = review_paths([EXAMPLE], Config(), root=EXAMPLE)
    assert result.internal_errors == []
    actual = Counter((f.code, f.file, f.line) for f in result.findings)
    expected = Counter((e["code"], e["file"], e["line"]) for e in EXPECTED)
    assert actual == expected, (
        f"missing: {sorted(expected - actual)}\nunexpected: {sorted(actual - expected)}"
    )


def test_bookshop_inventory() -> None:
    rows = inventory(load_model([EXAMPLE], Config(), root=EXAMPLE))
    by_key = {(r.method, r.path): r for r in rows}
    assert len(rows) == 23
    orders = [r for r in rows if r.path.startswith("/api/v1/orders")]
    assert orders and all(r.authenticated for r in orders)
    delete_user = by_key[("DELETE", "/api/v1/admin/users/{user_id}")]
    assert not delete_user.authenticated
    assert by_key[("GET", "/health")].auth is None
    create_book = by_key[("POST", "/api/v1/books")]
    assert create_book.auth == ["get_current_user", "oauth2_scheme (OAuth2PasswordBearer)"]
    assert create_book.status_code == 201
