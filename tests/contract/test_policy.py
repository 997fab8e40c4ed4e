"""Ignore files and severity overrides: parsing, matching, expiry and the errors users see."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.policy import (
    IgnoreEntry,
    PolicyError,
    apply_policy,
    expired_entries,
    load_ignore_file,
    load_severity_file,
    parse_ignore,
    parse_severity,
)

TODAY = dt.date(2025, 6, 1)

PARAM = Change(
    id="request-parameter-removed",
    level=Level.ERROR,
    message="removed the query parameter `limit`",
    operation="GET",
    path="/pets",
    pointer="/paths/~1pets/get/parameters/0",
    location="/paths/~1pets/get/parameters/query/limit",
    in_base=True,
)
OTHER_PARAM = Change(
    id="request-parameter-removed",
    level=Level.ERROR,
    message="removed the query parameter `offset`",
    operation="GET",
    path="/pets",
    pointer="/paths/~1pets/get/parameters/1",
    location="/paths/~1pets/get/parameters/query/offset",
    in_base=True,
)
ENUM = Change(
    id="response-property-enum-value-added",
    level=Level.WARNING,
    message="added the enum value `lost` to `status`",
    operation="POST",
    path="/pets",
    pointer="/paths/~1pets/post/responses/201",
)
PATH_LEVEL = Change(
    id="api-path-removed-without-deprecation",
    level=Level.ERROR,
    message="removed the path",
    path="/owners",
)
DOC_WIDE = Change(id="api-security-removed", level=Level.INFO, message="removed security")
ALL = [PARAM, OTHER_PARAM, ENUM, PATH_LEVEL, DOC_WIDE]


def ignored_by(yaml_text: str, changes: list[Change] = ALL) -> list[Change]:
    entries = parse_ignore(yaml_text, name="ignore.yaml", suffix=".yaml")
    kept, ignored = apply_policy(changes, ignore=entries, today=TODAY)
    assert len(kept) + len(ignored) == len(changes)
    return ignored


# --- matching -----------------------------------------------------------------------------


def test_match_by_id_and_operation_takes_every_such_change() -> None:
    text = "- id: request-parameter-removed\n  operation: GET /pets\n"
    assert ignored_by(text) == [PARAM, OTHER_PARAM]


def test_operation_method_is_case_insensitive_and_must_agree() -> None:
    assert ignored_by("- id: request-parameter-removed\n  operation: get /pets\n") == [
        PARAM,
        OTHER_PARAM,
    ]
    assert ignored_by("- id: request-parameter-removed\n  operation: POST /pets\n") == []
    assert ignored_by("- id: request-parameter-removed\n  operation: GET /pets/{id}\n") == []


def test_pointer_narrows_to_one_change_by_location_or_pointer() -> None:
    by_location = (
        "- id: request-parameter-removed\n  operation: GET /pets\n"
        "  pointer: /paths/~1pets/get/parameters/query/offset\n"
    )
    assert ignored_by(by_location) == [OTHER_PARAM]
    # The pointer from the report's `source` works too, with or without its `#`.
    by_pointer = (
        "- id: request-parameter-removed\n  operation: GET /pets\n"
        "  pointer: '#/paths/~1pets/get/parameters/0'\n"
    )
    assert ignored_by(by_pointer) == [PARAM]
    elsewhere = (
        "- id: request-parameter-removed\n  operation: GET /pets\n  pointer: /paths/~1pets/get\n"
    )
    assert ignored_by(elsewhere) == []


def test_star_matches_any_operation_including_document_wide() -> None:
    assert ignored_by("- id: api-security-removed\n  operation: '*'\n") == [DOC_WIDE]
    assert ignored_by("- id: request-parameter-removed\n  operation: '*'\n") == [
        PARAM,
        OTHER_PARAM,
    ]


def test_a_path_alone_matches_path_level_changes() -> None:
    text = "- id: api-path-removed-without-deprecation\n  operation: /owners\n"
    assert ignored_by(text) == [PATH_LEVEL]


def test_match_by_fingerprint() -> None:
    assert ignored_by(f"- fingerprint: {OTHER_PARAM.fingerprint}\n") == [OTHER_PARAM]
    # An id given with the fingerprint must agree with it.
    assert ignored_by(f"- fingerprint: {ENUM.fingerprint}\n  id: other-id\n") == []


def test_fingerprint_survives_unrelated_edits() -> None:
    # The parameter moved to another index and the message changed: same location, same
    # fingerprint, still accepted.
    moved = Change(
        id=PARAM.id,
        level=PARAM.level,
        message="removed the query parameter `limit` (integer)",
        operation="GET",
        path="/pets",
        pointer="/paths/~1pets/get/parameters/3",
        location=PARAM.location,
        in_base=True,
    )
    assert ignored_by(f"- fingerprint: {PARAM.fingerprint}\n", [moved]) == [moved]


def test_json_ignore_file(tmp_path: Path) -> None:
    path = tmp_path / "accepted.json"
    path.write_text(
        '[\n  {"id": "request-parameter-removed", "operation": "GET /pets",\n'
        '   "reason": "nobody sends it", "expires": "2025-12-31"}\n]\n',
        encoding="utf-8",
    )
    entries = load_ignore_file(path)
    assert entries == [
        IgnoreEntry(
            id="request-parameter-removed",
            operation="GET /pets",
            reason="nobody sends it",
            expires=dt.date(2025, 12, 31),
            source=str(path),
            line=2,
        )
    ]


def test_empty_ignore_file_accepts_nothing() -> None:
    assert parse_ignore("", name="i.yaml", suffix=".yaml") == []
    assert parse_ignore("# nothing yet\n", name="i.yaml", suffix=".yaml") == []
    assert parse_ignore("[]", name="i.json", suffix=".json") == []


# --- expiry -------------------------------------------------------------------------------


def test_expired_entries_stop_applying() -> None:
    text = (
        "- id: request-parameter-removed\n  operation: GET /pets\n  expires: 2025-05-31\n"
        "- id: response-property-enum-value-added\n  operation: POST /pets\n"
        "  expires: 2025-06-01\n"
    )
    entries = parse_ignore(text, name="ignore.yaml", suffix=".yaml")
    kept, ignored = apply_policy(ALL, ignore=entries, today=TODAY)
    # Valid through the expiry day itself.
    assert ignored == [ENUM]
    assert PARAM in kept
    assert expired_entries(entries, TODAY) == [entries[0]]
    assert entries[0].describe() == "ignore.yaml:1: request-parameter-removed GET /pets"
    assert expired_entries(entries, dt.date(2025, 5, 31)) == []


# --- ignore file errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- id: a\n  operation: GET /x\n- id: b\n  operation: GET /x\n  pointr: /p\n",
            "ignore.yaml:3: unknown key 'pointr' in ignore entry (expected id, operation, "
            "pointer, fingerprint, reason, expires)",
        ),
        (
            "- id: a\n  operation: GET /x\n  expires: 2025-02-30\n",
            "ignore.yaml:1: `expires` must be a date like 2025-12-31, found '2025-02-30'",
        ),
        (
            "- id: a\n  operation: GET /x\n  expires: next week\n",
            "ignore.yaml:1: `expires` must be a date like 2025-12-31, found 'next week'",
        ),
        (
            "id: a\noperation: GET /x\n",
            "ignore.yaml:1: an ignore file is a list of entries, found a mapping",
        ),
        (
            "GET /pets removed the query parameter 'limit'\n",
            "ignore.yaml:1: an ignore file is a list of entries, found a string",
        ),
        (
            "- id: a\n",
            "ignore.yaml:1: an ignore entry needs `fingerprint`, or `id` and `operation`",
        ),
        ("- just-an-id\n", "ignore.yaml:1: an ignore entry is a mapping, found a string"),
        (
            "- id: a\n  operation: FETCH /x\n",
            'ignore.yaml:1: `operation` must be "METHOD /path" (like "GET /pets") or "*", '
            "found 'FETCH /x'",
        ),
        (
            "- id: a\n  operation: GET pets\n",
            'ignore.yaml:1: `operation` must be "METHOD /path" (like "GET /pets") or "*", '
            "found 'GET pets'",
        ),
        (
            "- id: 12\n  operation: GET /x\n",
            "ignore.yaml:1: `id` must be a non-empty string, found int",
        ),
        (
            "- id: a\n  operation: GET /x\n  pointer: paths/x\n",
            "ignore.yaml:1: `pointer` must be a JSON pointer starting with '/', found 'paths/x'",
        ),
        (
            "- id: a\n  operation: [GET\n",
            "ignore.yaml:3: invalid YAML: expected ',' or ']', but got '<stream end>'",
        ),
    ],
)
def test_ignore_file_errors(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_ignore(text, name="ignore.yaml", suffix=".yaml")
    assert str(caught.value) == message


def test_invalid_json_ignore_file_names_the_line() -> None:
    with pytest.raises(PolicyError, match=r"^i\.json:3: invalid JSON: Expecting ',' delimiter$"):
        parse_ignore(
            '[\n  {"id": "a",\n   "operation": "GET /x" "x"}]', name="i.json", suffix=".json"
        )


def test_missing_ignore_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as caught:
        load_ignore_file(missing)
    assert str(caught.value) == f"{missing}: no such file"
    assert caught.value.source == str(missing)
    assert caught.value.line is None


# --- severity overrides -------------------------------------------------------------------


def test_severity_lines_in_oasdiff_format() -> None:
    text = (
        "# accepted for the v2 migration\n"
        "request-parameter-removed   WARN\n"
        "\n"
        "response-property-enum-value-added ERR  # we treat enums strictly\n"
        "api-security-removed NONE\n"
        "api-path-removed-without-deprecation info\n"
    )
    levels = parse_severity(text, name="levels.txt", suffix=".txt")
    assert levels == {
        "request-parameter-removed": Level.WARNING,
        "response-property-enum-value-added": Level.ERROR,
        "api-security-removed": None,
        "api-path-removed-without-deprecation": Level.INFO,
    }
    kept, ignored = apply_policy(ALL, severity=levels, today=TODAY)
    assert ignored == []
    # NONE drops the change; the others keep their place with their new level.
    assert [(c.id, c.level) for c in kept] == [
        ("request-parameter-removed", Level.WARNING),
        ("request-parameter-removed", Level.WARNING),
        ("response-property-enum-value-added", Level.ERROR),
        ("api-path-removed-without-deprecation", Level.INFO),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a ERR\nb FATAL\n",
            "levels.txt:2: unknown level 'FATAL' (expected ERR, WARN, INFO or NONE)",
        ),
        ("a ERR\n\nb\n", "levels.txt:3: expected `change-id LEVEL`, found 'b'"),
        ("a ERR extra\n", "levels.txt:1: expected `change-id LEVEL`, found 'a ERR extra'"),
    ],
)
def test_severity_line_errors(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_severity(text, name="levels.txt")
    assert str(caught.value) == message


def test_severity_mapping_in_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "levels.yaml"
    yaml_file.write_text("request-parameter-removed: warning\napi-security-removed: NONE\n")
    assert load_severity_file(yaml_file) == {
        "request-parameter-removed": Level.WARNING,
        "api-security-removed": None,
    }
    json_file = tmp_path / "levels.json"
    json_file.write_text('{"request-parameter-removed": "INFO"}')
    assert load_severity_file(json_file) == {"request-parameter-removed": Level.INFO}


def test_severity_mapping_errors_name_the_line() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_severity("a: ERR\nb: loud\n", name="levels.yaml", suffix=".yaml")
    assert str(caught.value) == (
        "levels.yaml:2: unknown level 'loud' (expected ERR, WARN, INFO or NONE)"
    )
    with pytest.raises(PolicyError, match=r"^levels\.yaml:1: a severity file maps change ids"):
        parse_severity("- a\n- b\n", name="levels.yaml", suffix=".yaml")
    with pytest.raises(PolicyError, match=r"^levels\.yaml:1: the level of 'a' must be a string$"):
        parse_severity("a: 3\n", name="levels.yaml", suffix=".yaml")


# --- both together ------------------------------------------------------------------------


def test_severity_applies_before_ignore_and_order_is_kept() -> None:
    entries = parse_ignore(
        "- id: response-property-enum-value-added\n  operation: POST /pets\n",
        name="i.yaml",
        suffix=".yaml",
    )
    levels = {"response-property-enum-value-added": Level.INFO, "api-security-removed": None}
    kept, ignored = apply_policy(ALL, ignore=entries, severity=levels, today=TODAY)
    assert kept == [PARAM, OTHER_PARAM, PATH_LEVEL]
    assert ignored == [ENUM.with_level(Level.INFO)]
    assert ignored[0].level is Level.INFO


def test_no_policy_keeps_everything() -> None:
    assert apply_policy(ALL) == (ALL, [])
