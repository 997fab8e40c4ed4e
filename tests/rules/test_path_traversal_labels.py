"""FAA314 names the request values that reach the path, not one that only chooses
between two literals (`".vue" if resource == "template" else ".js"`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

FIXTURE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "rules" / "FAA314" / "choice_suffix.py"
)


def _messages() -> dict[int, str]:
    config = replace(Config(), select=("FAA314",), extend_select=(), ignore=())
    result = review_paths([FIXTURE], config, root=FIXTURE.parent)
    return {f.line: f.message for f in result.findings if f.code == "FAA314"}


def test_literal_choice_is_not_named() -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "(`ext_id` only)" in text)
    message = _messages()[line]
    assert "request value `ext_id`:" in message
    assert "resource" not in message


def test_tainted_branch_is_named() -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "a branch is the request value" in text)
    assert "request value `name`:" in _messages()[line]
