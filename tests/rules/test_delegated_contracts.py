"""FAA104 follows `return await helper(...)` one hop for its constant-dict exemption: the
handler is reported at info severity, naming the function whose constant it answers,
while one that answers a helper's stored row stays a warning (the rule's own severity)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "rules" / "FAA104" / "delegated.py"


def test_delegated_constant_is_info_and_a_delegated_row_a_warning() -> None:
    config = replace(Config(), select=("FAA104",), extend_select=(), ignore=())
    result = review_paths([FIXTURE], config, root=FIXTURE.parent)
    by_name = {f.message.split("`")[1]: f for f in result.findings}
    partial = by_name["api_update_settings_partial"]
    assert partial.severity == "info"
    assert "the constant `{'status': 'Success'}`" in partial.message
    assert "`api_update_settings`" in partial.message.split("(PATCH")[1]  # why: named
    assert by_name["api_update_settings"].severity == "info"
    assert by_name["get_token"].severity == "warning"
    assert "neither validated, filtered nor documented" in by_name["get_token"].message


WRAPPED = FIXTURE.parent / "delegated_wrapped.py"


def test_wrapped_or_overridden_helpers_are_not_trusted() -> None:
    config = replace(Config(), select=("FAA104",), extend_select=(), ignore=())
    result = review_paths([WRAPPED], config, root=WRAPPED.parent)
    by_name = {f.message.split("`")[1]: f for f in result.findings}
    assert by_name["decorated"].severity == "warning"
    assert by_name["override"].severity == "warning"
    assert "static" not in by_name
    # A helper that returns nothing answers `null`, like a bare `return`.
    assert by_name["null_or_const"].severity == "info"
    mixed = by_name["mixed"]
    assert mixed.severity == "info"
    assert "a constant such as `{'ok': True}`:" in mixed.message  # why: not `save`'s
    assert "`save`" not in mixed.message
