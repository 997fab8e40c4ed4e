"""`fastapi-architect new`: what it writes, and what it refuses (writing nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app
from fastapi_architect.generator.project import plan_project, title_of
from fastapi_architect.generator.render import TEMPLATES

runner = CliRunner()


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_new_writes_the_whole_layout(tmp_path: Path) -> None:
    result = runner.invoke(app, ["new", "orders-service", "--path", str(tmp_path), "--no-input"])
    assert result.exit_code == 0, result.output
    project = tmp_path / "orders-service"
    files = tree(project)
    for expected in [
        "app/main.py",
        "app/core/config.py",
        "app/db/session.py",
        "app/models/__init__.py",
        "app/api/v1/router.py",
        "migrations/env.py",
        "migrations/versions/0001_initial.py",
        "tests/conftest.py",
        "README.md",
        "Makefile",
        "Dockerfile",
        ".env.example",
        ".gitignore",
        ".github/workflows/ci.yml",
        "pyproject.toml",
        "alembic.ini",
    ]:
        assert expected in files, expected
    # no template leftovers: every .jinja file was rendered, every dot- name renamed
    assert not [name for name in files if name.endswith(".jinja") or "/dot-" in f"/{name}"]
    assert not [name for name in files if "__pycache__" in name]
    assert b"orders-service" in files["pyproject.toml"]
    assert b"Orders Service" in files["app/core/config.py"]
    assert "Created" in result.output and "make test" in result.output
    # nothing else was left next to it (the staging folder was renamed into place)
    assert [p.name for p in tmp_path.iterdir()] == ["orders-service"]


def test_every_template_is_rendered_without_undefined_variables() -> None:
    plan = plan_project("x", Path("/nonexistent-parent"), "Does things.")
    rendered = {file.path.as_posix() for file in plan.files}
    sources = [p for p in (TEMPLATES / "project").rglob("*") if p.is_file()]
    sources = [p for p in sources if "__pycache__" not in p.parts]
    assert len(rendered) == len(sources)


def test_the_description_reaches_the_readme(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["new", "inventory", "--path", str(tmp_path), "--description", "Tracks stock levels."],
    )
    assert result.exit_code == 0, result.output
    assert "Tracks stock levels." in (tmp_path / "inventory" / "README.md").read_text()


def test_an_empty_existing_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    result = runner.invoke(app, ["new", "svc", "--path", str(tmp_path), "--no-input"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "svc" / "app" / "main.py").is_file()


def test_a_missing_parent_folder_is_created(tmp_path: Path) -> None:
    parent = tmp_path / "a" / "b"
    result = runner.invoke(app, ["new", "svc", "--path", str(parent), "--no-input"])
    assert result.exit_code == 0, result.output
    assert (parent / "svc" / "app" / "main.py").is_file()


def test_a_non_empty_folder_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "svc"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    result = runner.invoke(app, ["new", "svc", "--path", str(tmp_path), "--no-input"])
    assert result.exit_code == 2
    assert "exists and is not empty" in result.output
    assert tree(target) == {"notes.txt": b"mine\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svc"]


def test_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "svc").write_text("x")
    result = runner.invoke(app, ["new", "svc", "--path", str(tmp_path), "--no-input"])
    assert result.exit_code == 2
    assert "is not a folder" in result.output
    assert (tmp_path / "svc").read_text() == "x"


@pytest.mark.parametrize("name", ["Orders", "9lives", "my service", "a--b", "-x", "x/y", "..", ""])
def test_invalid_names_are_refused(tmp_path: Path, name: str) -> None:
    result = runner.invoke(app, ["new", "--path", str(tmp_path), "--no-input", "--", name])
    assert result.exit_code == 2
    assert "invalid project name" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    parent = tmp_path / "file.txt" / "sub"  # below a file: mkdir fails
    result = runner.invoke(app, ["new", "svc", "--path", str(parent), "--no-input"])
    assert result.exit_code == 2
    assert "cannot create" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_title_of() -> None:
    assert title_of("orders-service") == "Orders Service"
    assert title_of("billing_api") == "Billing Api"
