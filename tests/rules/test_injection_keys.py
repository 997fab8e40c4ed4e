"""FAA307 messages and severities the fixtures cannot show: a key pasted inside a
quoted JSON path (or as an identifier) while every value is bound gets advice to check
the key, since a database cannot bind it; a pasted value keeps "use bound parameters"."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "rules" / "FAA307"


def _findings(path: Path) -> dict[int, tuple[str, str]]:
    config = replace(Config(), select=("FAA307",), extend_select=(), ignore=())
    result = review_paths([path], config, root=path.parent)
    assert result.internal_errors == []
    return {f.line: (f.severity, f.message) for f in result.findings if f.code == "FAA307"}


def test_keys_in_a_quoted_json_path_get_key_advice() -> None:
    found = _findings(FIXTURE / "json_path_keys.py")
    assert sorted(found) == [40, 50, 68, 73]
    for line in (40, 50):
        severity, message = found[line]
        assert severity == "warning"
        assert "only as a key in a quoted JSON path" in message
        assert 're.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)' in message
        assert "use bound parameters" not in message
    assert "`where`, which pastes `key`" in found[40][1]  # through the helper's return


def test_a_pasted_value_keeps_the_bound_parameter_advice() -> None:
    severity, message = _findings(FIXTURE / "json_path_keys.py")[68]
    assert severity == "warning"
    assert message.endswith("use bound parameters")


def test_a_request_parameter_as_the_key_is_an_error() -> None:
    severity, message = _findings(FIXTURE / "json_path_keys.py")[73]
    assert severity == "error"
    assert "only as a quoted JSON key" in message
    assert "request parameter `field`" in message
    assert "SQL injection through the key" in message


def test_identifiers_in_ddl_and_predicates_get_allowlist_advice() -> None:
    # The fixture marks every line `expect:`, so only the message tells identifier
    # positions (SET col =, a column before a comparison, DDL parts) from values.
    found = _findings(FIXTURE / "ddl_identifiers.py")
    assert sorted(found) == [25, 31, 35, 44, 49, 56, 60, 64, 68]
    for line in (25, 31, 35, 44, 49):
        assert "only as a table or column name" in found[line][1]
        assert "use bound parameters" not in found[line][1]
    assert "a DDL statement takes no bound parameters" in found[25][1]
    for line in (56, 60, 64, 68):  # values pasted where values go
        assert found[line][1].endswith("use bound parameters")
