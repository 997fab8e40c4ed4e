"""Shared fixtures for the static app model tests.

Fixture projects live in `tests/fixtures/model/<name>/`; each is built once per session.
`rows(name)` is what `fastapi-architect routes <name> --format json` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fastapi_architect.config import Config
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.inventory import inventory
from fastapi_architect.review.engine import load_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "model"

Row = dict[str, object]


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def model_of() -> Callable[[str], AppModel]:
    """The model of a fixture project (`"fullstack/backend"` for a sub-folder)."""
    cache: dict[str, AppModel] = {}

    def build(name: str) -> AppModel:
        if name not in cache:
            cache[name] = load_model([FIXTURES / name], Config())
        return cache[name]

    return build


@pytest.fixture(scope="session")
def rows_of(model_of: Callable[[str], AppModel]) -> Callable[[str], list[Row]]:
    def rows(name: str) -> list[Row]:
        return [r.as_dict() for r in inventory(model_of(name))]

    return rows


@pytest.fixture(scope="session")
def row_of(rows_of: Callable[[str], list[Row]]) -> Callable[[str, str, str], Row]:
    """The one inventory row of a fixture for (method, full path)."""

    def one(name: str, method: str, path: str) -> Row:
        found = [r for r in rows_of(name) if r["method"] == method and r["path"] == path]
        assert len(found) == 1, f"{method} {path}: {len(found)} rows in {name}"
        return found[0]

    return one
