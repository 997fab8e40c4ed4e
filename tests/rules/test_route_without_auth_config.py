"""FAA301 options that fixtures cannot set: `private-paths` and `public-paths`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import DEFAULT_PUBLIC_PATHS, Config
from fastapi_architect.review.engine import review_paths

SOURCE = '''
from fastapi import APIRouter, Depends, FastAPI


def get_current_user() -> str:
    return "me"


app = FastAPI()
reports = APIRouter(prefix="/internal/reports")


@reports.get("")
def list_reports() -> list[str]:
    return []


@reports.get("/mine")
def my_reports(user: str = Depends(get_current_user)) -> list[str]:
    return []


@app.post("/partners/orders")
def partner_order() -> None:
    return None


app.include_router(reports, prefix="/api")
'''


def _lines(tmp_path: Path, config: Config) -> list[int]:
    (tmp_path / "main.py").write_text(SOURCE, encoding="utf-8")
    result = review_paths([tmp_path], replace(config, select=("FAA301",)), root=tmp_path)
    assert result.internal_errors == []
    return sorted(f.line for f in result.findings)


def test_default_scope_is_mutating_routes(tmp_path: Path) -> None:
    assert _lines(tmp_path, Config()) == [23]


def test_private_paths_bring_reads_into_scope(tmp_path: Path) -> None:
    config = Config(private_paths=("/api/internal/*",))
    assert _lines(tmp_path, config) == [13, 23]


def test_public_paths_allowlist(tmp_path: Path) -> None:
    config = Config(public_paths=(*DEFAULT_PUBLIC_PATHS, "/partners/*"))
    assert _lines(tmp_path, config) == []
