"""`fastapi-architect adr new` and `adr list`: numbering, folder detection, slugs, sections."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_architect.adr.records import (
    AdrError,
    list_records,
    propose,
    record_dir,
    slugify,
)
from fastapi_architect.cli import app

runner = CliRunner()


def adr(root: Path, *args: str) -> tuple[int, str]:
    command, *rest = args
    result = runner.invoke(app, ["adr", command, *rest, "--root", str(root)])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Use PostgreSQL for orders", "use-postgresql-for-orders"),
        ("  Version the API: /v1 & /v2!  ", "version-the-api-v1-v2"),
        ("Déployer sur Kubernetes", "deployer-sur-kubernetes"),
        ("Async SQLAlchemy 2.0 sessions", "async-sqlalchemy-2-0-sessions"),
        ("???", "decision"),
        ("word " * 30, "-".join(["word"] * 12)),
        ("x" * 80, "x" * 60),
    ],
)
def test_slug(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_new_numbers_records_and_list_shows_them(tmp_path: Path) -> None:
    code, output = adr(tmp_path, "new", "Use PostgreSQL")
    assert code == 0, output
    assert "Created" in output and "docs/adr/0001-use-postgresql.md" in output
    code, output = adr(
        tmp_path,
        "new",
        "Keep route handlers thin",
        "--status",
        "accepted",
        "--context",
        "Handlers grew to 200 lines.",
        "--decision",
        "We will move logic into services.",
        "--positive",
        "Testable services",
        "--negative",
        "More files",
        "--alternative",
        "Fat handlers with helpers",
    )
    assert code == 0, output
    second = tmp_path / "docs/adr/0002-keep-route-handlers-thin.md"
    text = second.read_text(encoding="utf-8")
    assert text.startswith("# 2. Keep route handlers thin\n\nDate: ")
    assert "## Status\n\nAccepted\n" in text
    assert "## Context\n\nHandlers grew to 200 lines.\n" in text
    assert "## Decision\n\nWe will move logic into services.\n" in text
    assert "## Consequences\n\n### Positive\n\n- Testable services\n" in text
    assert "### Negative\n\n- More files\n" in text
    assert "## Alternatives considered\n\n- Fat handlers with helpers\n" in text

    # Numbering continues after the highest number, gaps included.
    (tmp_path / "docs/adr/0007-old-decision.md").write_text(
        "# 7. Old decision\n\n## Status\n\nSuperseded by 0008\n", encoding="utf-8"
    )
    (tmp_path / "docs/adr/README.md").write_text("Not a record.\n", encoding="utf-8")
    assert adr(tmp_path, "new", "Next one")[0] == 0
    assert (tmp_path / "docs/adr/0008-next-one.md").is_file()

    code, output = adr(tmp_path, "list", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == [
        {
            "number": 1,
            "title": "Use PostgreSQL",
            "status": "Proposed",
            "path": "docs/adr/0001-use-postgresql.md",
        },
        {
            "number": 2,
            "title": "Keep route handlers thin",
            "status": "Accepted",
            "path": "docs/adr/0002-keep-route-handlers-thin.md",
        },
        {
            "number": 7,
            "title": "Old decision",
            "status": "Superseded by 0008",
            "path": "docs/adr/0007-old-decision.md",
        },
        {
            "number": 8,
            "title": "Next one",
            "status": "Proposed",
            "path": "docs/adr/0008-next-one.md",
        },
    ]
    code, output = adr(tmp_path, "list")
    assert code == 0
    assert "0002" in output and "Keep route handlers thin" in output and "Accepted" in output


def test_unfilled_sections_are_prompts(tmp_path: Path) -> None:
    proposal = propose(tmp_path, "Use Redis", today=dt.date(2025, 1, 2))
    text = proposal.text
    assert "Date: 2025-01-02" in text
    for section in (
        "## Context\n\n_",
        "## Decision\n\n_",
        "### Positive\n\n- _",
        "### Negative\n\n- _",
    ):
        assert section in text
    assert "## Alternatives considered\n\n- _" in text


def test_history_adr_is_used_when_the_repository_has_it(tmp_path: Path) -> None:
    (tmp_path / "history" / "adr").mkdir(parents=True)
    (tmp_path / "history/adr/0001-record-architecture-decisions.md").write_text(
        "# 1. Record architecture decisions\n\nDate: 2020-01-01\n\n## Status\n\nAccepted\n",
        encoding="utf-8",
    )
    assert record_dir(tmp_path) == Path("history/adr")
    code, output = adr(tmp_path, "new", "Adopt FastAPI")
    assert code == 0, output
    assert (tmp_path / "history/adr/0002-adopt-fastapi.md").is_file()
    assert not (tmp_path / "docs").exists()
    assert [(r.number, r.title, r.status) for r in list_records(tmp_path)] == [
        (1, "Record architecture decisions", "Accepted"),
        (2, "Adopt FastAPI", "Proposed"),
    ]


def test_adr_dir_file_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / ".adr-dir").write_text("architecture/decisions\n", encoding="utf-8")
    assert record_dir(tmp_path) == Path("architecture/decisions")
    (tmp_path / ".adr-dir").write_text("../elsewhere\n", encoding="utf-8")
    with pytest.raises(AdrError, match="inside the project"):
        record_dir(tmp_path)


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    code, output = adr(tmp_path, "new", "Use Celery", "--dry-run")
    assert code == 0, output
    assert "Would create docs/adr/0001-use-celery.md" in output
    assert "# 1. Use Celery" in output
    assert not (tmp_path / "docs").exists()


def test_bad_input(tmp_path: Path) -> None:
    code, output = adr(tmp_path, "new", "X", "--status", "maybe")
    assert code == 2
    assert "unknown status 'maybe'" in output
    code, output = adr(tmp_path, "new", "  ")
    assert code == 2
    assert "the title is empty" in output
    code, output = adr(tmp_path / "missing", "list")
    assert code == 2
    assert "not a folder" in output
    code, output = adr(tmp_path, "list")
    assert code == 0
    assert "No decision records in docs/adr/" in output
