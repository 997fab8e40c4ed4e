"""Idiomatic code from FastAPI's own docs must stay clean under a whole family of rules.

`tests/fixtures/clean/<family>/` holds files or small projects written as the docs write
them (the SQLModel "SQL (Relational) Databases" tutorial; an async SQLAlchemy app in the
full-stack template's style). Each is reviewed once with the rules of its family selected
(`database`: every FAA4xx rule; `rest`: the REST-design rules that docs code satisfies —
not FAA704-706, which ask for more documentation than tutorials write) and must give no
finding: one copy serves all the rules, instead of a copy in each rule's fixture folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths
from fastapi_architect.review.registry import all_rules

CLEAN = Path(__file__).resolve().parent.parent / "fixtures" / "clean"
FAMILIES: dict[str, tuple[str, ...]] = {
    "database": ("FAA4",),
    "rest": ("FAA707", "FAA708", "FAA709", "FAA710", "FAA711"),
}


def _cases() -> list[tuple[str, Path]]:
    return [
        (family, case)
        for family in sorted(FAMILIES)
        for case in sorted((CLEAN / family).iterdir())
        if case.suffix == ".py" or case.is_dir()
    ]


@pytest.mark.parametrize(("family", "case"), _cases(), ids=lambda v: getattr(v, "name", v))
def test_idiomatic_code_gives_no_finding(family: str, case: Path) -> None:
    codes = [r.code for r in all_rules() if r.code.startswith(FAMILIES[family])]
    assert len(codes) >= 4  # the family's rules, opt-in ones included
    root = case.parent if case.is_file() else case
    result = review_paths([case], Config().with_cli(select=codes), root=root)
    assert result.internal_errors == []
    assert [f"{f.code} {f.file}:{f.line} {f.message}" for f in result.findings] == []
