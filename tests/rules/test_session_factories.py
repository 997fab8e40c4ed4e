"""FAA407 finds the project's session factories however their calls are spelled, and
names the commit it saw once."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "rules" / "FAA407" / "expiring"

# The fixture's factory, called with a comment between its name and `(`.
SPLIT_CALL = (
    "from collections.abc import AsyncIterator",
    "",
    "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine",
    "",
    'engine = create_async_engine("postgresql+asyncpg://localhost/shop")',
    "SessionLocal = (async_sessionmaker  # the factory",
    "    (engine, class_=AsyncSession))",
    "",
    "",
    "async def get_session() -> AsyncIterator[AsyncSession]:",
    "    async with SessionLocal() as session:",
    "        yield session",
    "",
)


def _findings(root: Path) -> list[tuple[str, int, str]]:
    config = Config().with_cli(select=("FAA407",))
    result = review_paths([root], config, root=root)
    return [(f.file, f.line, f.message) for f in result.findings]


def test_the_message_names_the_commit_once(tmp_path: Path) -> None:
    findings = _findings(FIXTURE)
    assert findings
    for _file, _line, message in findings:
        assert "after `session.commit()`," in message
        assert "commit.commit" not in message


def test_a_factory_call_split_by_a_comment_is_found_with_any_line_break(tmp_path: Path) -> None:
    expected = _findings(FIXTURE)
    for newline in ("\n", "\r\n", "\r"):
        root = tmp_path / repr(newline).strip("'").replace("\\", "")
        shutil.copytree(FIXTURE, root)
        (root / "app" / "db.py").write_bytes(newline.join(SPLIT_CALL).encode())
        assert _findings(root) == expected, repr(newline)
