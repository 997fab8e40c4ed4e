"""The review cache: an unchanged tree is answered from it; any change to what the
review reads runs the review again; a bad entry is ignored and rewritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app
from fastapi_architect.config import Config
from fastapi_architect.review import cache, engine
from fastapi_architect.review.result import ReviewResult

ROUTES = textwrap.dedent(
    """\
    from fastapi import FastAPI, HTTPException

    app = FastAPI()


    @app.get("/items/{item_id}")
    def read_item(item_id: int):
        return HTTPException(status_code=404)
    """
)

MODELS = textwrap.dedent(
    """\
    from sqlalchemy import ForeignKey, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


    class Base(DeclarativeBase):
        pass


    class Book(Base):
        __tablename__ = "books"
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))


    def by_author(session: Session, author_id: int) -> list[Book]:
        return list(session.scalars(select(Book).where(Book.author_id == author_id)))
    """
)


@pytest.fixture(autouse=True)
def _cache_under_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.CACHE_DIR_ENV, raising=False)


def _project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(ROUTES)
    return root


ONLY_FAA602 = Config(select=("FAA602",))


def _review(root: Path, config: Config = ONLY_FAA602) -> ReviewResult:
    return engine.review_paths([root], config, root=root, use_cache=True)


def _entries(root: Path) -> list[Path]:
    return sorted((root / cache.CACHE_DIR_NAME).glob("review-*.json"))


def _no_review(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> ReviewResult:
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(engine, "review_files", refuse)


def test_an_unchanged_tree_is_answered_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    cold = _review(root)
    assert [(f.code, f.line) for f in cold.findings] == [("FAA602", 8)]
    assert len(_entries(root)) == 1
    _no_review(monkeypatch)
    warm = _review(root)
    assert warm == cold
    assert warm.sources == {"app/main.py": ROUTES.splitlines()}


def test_the_cache_folder_ignores_itself(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _review(root)
    folder = root / cache.CACHE_DIR_NAME
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    # Never reviewed, whatever lands in it: a fresh (uncached) review skips the folder.
    (folder / "stray.py").write_text("def f(:\n")
    fresh = engine.review_paths([root], ONLY_FAA602, root=root, use_cache=False)
    assert fresh.files_checked == 2


def test_an_edited_file_is_reviewed_again(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert [f.code for f in _review(root).findings] == ["FAA602"]
    main = root / "app" / "main.py"
    main.write_text(ROUTES.replace("return HTTPException", "raise HTTPException"))
    assert _review(root).findings == []
    main.write_text(ROUTES)  # back to the first content: the same key, the same answer
    assert [f.code for f in _review(root).findings] == ["FAA602"]
    assert len(_entries(root)) == 1  # one entry per root and configuration


def test_an_added_or_removed_file_is_reviewed_again(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _review(root).files_checked == 2
    extra = root / "app" / "extra.py"
    extra.write_text("from fastapi import HTTPException\n\ndef f():\n    return 1\n")
    assert _review(root).files_checked == 3
    extra.unlink()
    assert _review(root).files_checked == 2


def test_an_alembic_revision_outside_the_review_invalidates_it(tmp_path: Path) -> None:
    """FAA405 reads the indexes that migrations create; migrations are excluded from
    the review, but they are part of what it read."""
    root = tmp_path
    (root / "models.py").write_text(MODELS)
    versions = root / "alembic" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic" / "env.py").write_text("")
    config = Config(select=("FAA405",))
    assert [(f.code, f.line) for f in _review(root, config).findings] == [("FAA405", 12)]
    (versions / "0002_index.py").write_text(
        "from alembic import op\n\n\n"
        "def upgrade() -> None:\n"
        '    op.create_index("ix_books_author_id", "books", ["author_id"])\n'
    )
    assert _review(root, config).findings == []


def test_a_changed_configuration_has_its_own_entry(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert [f.code for f in _review(root).findings] == ["FAA602"]
    assert _review(root, Config(select=("FAA602",), ignore=("FAA602",))).findings == []
    assert [f.code for f in _review(root).findings] == ["FAA602"]
    assert len(_entries(root)) == 2


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b'{"format": 1, "key": "',  # torn
        b"\xff\xfe garbage",
        b"[]",
        json.dumps({"format": 999, "key": "x", "result": {}}).encode(),
    ],
    ids=["empty", "not-json", "torn", "binary", "a-list", "another-format"],
)
def test_a_corrupted_or_foreign_entry_is_ignored_and_rewritten(
    tmp_path: Path, content: bytes
) -> None:
    root = _project(tmp_path)
    cold = _review(root)
    [entry] = _entries(root)
    entry.write_bytes(content)
    assert _review(root) == cold
    assert json.loads(entry.read_bytes())["format"] == cache.FORMAT


def test_an_entry_with_the_right_key_but_wrong_shapes_is_not_trusted(tmp_path: Path) -> None:
    root = _project(tmp_path)
    cold = _review(root)
    [entry] = _entries(root)
    data = json.loads(entry.read_bytes())
    data["result"]["findings"][0][1] = "8"  # a line that is not a number
    entry.write_text(json.dumps(data))
    assert _review(root) == cold
    data["result"]["findings"][0] = ["app/main.py", 8]  # a truncated finding
    entry.write_text(json.dumps(data))
    assert _review(root) == cold


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / cache.CACHE_DIR_NAME).write_text("a file where the folder would go")
    assert [f.code for f in _review(root).findings] == ["FAA602"]
    assert _review(root).findings == _review(root).findings


def test_the_cache_folder_can_be_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "project")
    elsewhere = tmp_path / "caches"
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(elsewhere))
    _review(root)
    assert not (root / cache.CACHE_DIR_NAME).exists()
    assert len(list(elsewhere.glob("review-*.json"))) == 1


def test_the_cli_uses_the_cache_and_no_cache_bypasses_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["review", str(root), "--select", "FAA602", "--no-cache"])
    assert first.exit_code == 1, first.output
    assert not (root / cache.CACHE_DIR_NAME).exists()
    second = runner.invoke(app, ["review", str(root), "--select", "FAA602"])
    assert second.exit_code == 1
    assert len(_entries(root)) == 1
    third = runner.invoke(app, ["review", str(root), "--select", "FAA602"])
    assert third.output == second.output == first.output


CONCURRENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from fastapi_architect.config import Config
    from fastapi_architect.review.engine import review_paths
    root = Path(sys.argv[1])
    for _ in range(5):
        result = review_paths([root], Config(select=("FAA602",)), root=root, use_cache=True)
        print(len(result.findings), result.files_checked)
    """
)


def test_concurrent_runs_do_not_corrupt_the_cache(tmp_path: Path) -> None:
    root = _project(tmp_path)
    for number in range(30):
        (root / "app" / f"mod_{number}.py").write_text(ROUTES.replace("/items", f"/m{number}"))
    env = {k: v for k, v in os.environ.items() if k != cache.CACHE_DIR_ENV}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for out, err in outputs:
        assert err == ""
        assert out.splitlines() == ["31 32"] * 5
    [entry] = _entries(root)
    assert json.loads(entry.read_bytes())["format"] == cache.FORMAT
    assert not list((root / cache.CACHE_DIR_NAME).glob("*.tmp"))
