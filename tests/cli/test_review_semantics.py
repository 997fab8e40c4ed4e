"""Selection, per-file ignores, columns, noqa and path details, as ruff users expect them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app
from fastapi_architect.config import Config
from fastapi_architect.review import registry
from fastapi_architect.review.selection import enabled_rules

runner = CliRunner()

BLOCKING = (
    "import time\nfrom fastapi import APIRouter\nrouter = APIRouter()\n\n"
    "@router.get('/slow')\nasync def slow():\n    time.sleep(1)\n    return {}\n"
)


def _codes(config: Config) -> set[str]:
    return {r.code for r in enabled_rules(config)}


def test_most_specific_selector_wins() -> None:
    assert _codes(Config(select=("FAA201",), ignore=("FAA2",))) == {"FAA201"}
    assert "FAA201" not in _codes(Config(select=("FAA2",), ignore=("FAA201",)))
    assert _codes(Config(select=("FAA2",), ignore=("FAA2",))) == set()  # tie: ignore wins
    assert "FAA201" in _codes(Config(ignore=("FAA2",), extend_select=("FAA201",)))


def test_cli_select_replaces_configured_extend_select() -> None:
    config = Config(extend_select=("FAA304",)).with_cli(select=["FAA104"])
    assert _codes(config) == {"FAA104"}


def test_per_file_ignores_match_file_names_and_reject_unknown_codes(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "slow.py").write_text(BLOCKING)
    (tmp_path / "fast.py").write_text(BLOCKING)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fastapi-architect.per-file-ignores]\n"slow.py" = ["FAA208"]\n'
    )
    result = runner.invoke(app, ["review", str(tmp_path), "--format", "json", "--select", "FAA208"])
    assert [f["file"] for f in json.loads(result.stdout)] == ["fast.py"]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fastapi-architect.per-file-ignores]\n"slow.py" = ["FAA999"]\n'
    )
    result = runner.invoke(app, ["review", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown rule selector 'FAA999' in per-file-ignores" in result.stderr


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    (tmp_path / "api.py").write_text(
        BLOCKING.replace("    time.sleep(1)", "    s = 'ééé'; time.sleep(1)")
    )
    result = runner.invoke(app, ["review", str(tmp_path), "--format", "json", "--select", "FAA208"])
    finding = json.loads(result.stdout)[0]
    line = (tmp_path / "api.py").read_text().splitlines()[finding["line"] - 1]
    assert line[finding["column"] - 1 : finding["end_column"] - 1] == "time.sleep(1)"


def test_empty_noqa_colon_silences_nothing(tmp_path: Path) -> None:
    (tmp_path / "api.py").write_text(BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa:"))
    result = runner.invoke(app, ["review", str(tmp_path), "--format", "json", "--select", "FAA208"])
    assert result.exit_code == 1


def test_exclude_with_dot_slash_prefix(tmp_path: Path) -> None:
    for folder in (".hidden/dir", "hidden/dir"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "api.py").write_text(BLOCKING)
    result = runner.invoke(
        app,
        [
            "review",
            str(tmp_path),
            "--format",
            "json",
            "--select",
            "FAA208",
            "--exclude",
            "./hidden/dir",
        ],
    )
    assert [f["file"] for f in json.loads(result.stdout)] == [".hidden/dir/api.py"]


def test_several_paths_report_relative_to_their_common_folder(tmp_path: Path) -> None:
    (tmp_path / "app" / "tests").mkdir(parents=True)
    (tmp_path / "app" / "main.py").write_text(BLOCKING)
    (tmp_path / "app" / "tests" / "t.py").write_text(BLOCKING)
    result = runner.invoke(
        app,
        [
            "review",
            str(tmp_path / "app" / "tests"),
            str(tmp_path / "app" / "main.py"),
            "--format",
            "json",
            "--select",
            "FAA208",
        ],
    )
    assert sorted(f["file"] for f in json.loads(result.stdout)) == ["main.py", "tests/t.py"]


def test_a_crashing_check_exits_2_after_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> list[registry.Report]:
        raise RuntimeError("rule bug")

    rule = registry.get_rule("FAA208")
    assert rule is not None
    monkeypatch.setitem(registry._RULES, "FAA208", dataclasses.replace(rule, check=boom))
    (tmp_path / "api.py").write_text(BLOCKING)
    result = runner.invoke(app, ["review", str(tmp_path), "--select", "FAA208"])
    assert result.exit_code == 2
    assert "internal error (please report): FAA208 failed" in result.stderr
