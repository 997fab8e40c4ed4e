"""Runtime observations confirming static findings, on a real project and its real review.

The project (`PROJECT`) has, in `app/main.py`, a route per static finding the
runtime can confirm: FAA208 through a chain (`signup` -> `notifications.send_welcome`
-> `time.sleep`), FAA201 through a chain to `urllib.request.urlopen`, FAA402 for a
CRUD function and a repository method called in a loop, FAA402 and FAA401 directly
in the route. The runtime locations are where the profiler reports them: the line
of the innermost project frame (found by a marker comment).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from fastapi_architect.review.finding import Finding
from fastapi_architect.runtime.confirm import (
    ConfirmError,
    confirm,
    parse_location,
    static_findings,
)

PROJECT = {
    "app/__init__.py": "",
    "app/services/__init__.py": "",
    "app/services/notifications.py": """
        import time


        def send_welcome(email: str) -> None:
            time.sleep(0.3)  # @sleep
    """,
    "app/services/rates.py": """
        import urllib.request


        def fetch_rate(url: str) -> bytes:
            with urllib.request.urlopen(url, timeout=5) as response:  # @urlopen
                return response.read()
    """,
    "app/models.py": """
        from sqlalchemy import ForeignKey, String
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


        class Base(DeclarativeBase):
            pass


        class Author(Base):
            __tablename__ = "authors"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(100))
            books: Mapped[list["Book"]] = relationship(back_populates="author")


        class Book(Base):
            __tablename__ = "books"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(String(100))
            author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
            author: Mapped[Author] = relationship(back_populates="books")
    """,
    "app/crud.py": """
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.models import Book


        def books_of(db: Session, author_id: int) -> list[Book]:
            return list(db.scalars(select(Book).where(Book.author_id == author_id)))  # @crud


        class BookRepo:
            def __init__(self, db: Session) -> None:
                self.db = db

            def for_author(self, author_id: int) -> list[Book]:
                statement = select(Book).where(Book.author_id == author_id)
                return list(self.db.scalars(statement))  # @repo
    """,
    "app/main.py": """
        import time

        from fastapi import FastAPI
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app import crud
        from app.crud import BookRepo
        from app.models import Author, Book
        from app.services import notifications, rates

        app = FastAPI()
        engine = None


        @app.post("/signup")
        async def signup(email: str) -> dict[str, bool]:
            notifications.send_welcome(email)  # @signup
            return {"ok": True}


        @app.get("/rate")
        async def rate() -> dict[str, int]:
            return {"size": len(rates.fetch_rate("http://127.0.0.1:1/"))}  # @rate


        @app.get("/pause")
        async def pause() -> dict[str, bool]:
            time.sleep(0.3)  # @pause
            total = sum(range(10))  # @not-the-sleep
            return {"ok": total > 0}


        @app.get("/titles")
        def titles() -> list[str]:
            with Session(engine) as db:
                authors = db.scalars(select(Author)).all()  # @authors-query
                found = []
                for author in authors:
                    found += [b.title for b in crud.books_of(db, author.id)]  # @titles
                return found


        @app.get("/repo-titles")
        def repo_titles() -> list[str]:
            with Session(engine) as db:
                repo = BookRepo(db)
                found = []
                for author in db.scalars(select(Author)).all():
                    found += [b.title for b in repo.for_author(author.id)]  # @repo-titles
                return found


        @app.get("/per-row")
        def per_row() -> list[str]:
            with Session(engine) as db:
                found = []
                for author in db.scalars(select(Author)).all():
                    statement = (
                        select(Book.title)
                        .where(Book.author_id == author.id)
                    )
                    found += db.scalars(  # @per-row-start
                        statement
                    ).all()  # @per-row-end
                    found.append(author.name)  # @per-row-after
                return found


        @app.get("/lazy")
        def lazy() -> list[int]:
            with Session(engine) as db:
                return [len(a.books) for a in db.scalars(select(Author)).all()]  # @lazy
    """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("confirm") / "project"
    for relative, source in PROJECT.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def findings(project: Path) -> list[Finding]:
    return static_findings(project)


def at(project: Path, relative: str, marker: str) -> str:
    lines = (project / relative).read_text(encoding="utf-8").splitlines()
    found = [n for n, text in enumerate(lines, start=1) if f"# {marker}" in text]
    assert len(found) == 1, (marker, found)
    return f"{relative}:{found[0]}"


def report_with(n_plus_one: list[str | None], blocking: list[str | None]) -> dict[str, Any]:
    return {
        "endpoints": [
            {
                "method": "GET",
                "route": "/x",
                "requests": 1,
                "queries_max": 9,
                "queries_total": 9,
                "duration_ms": {"p50": 1.0, "p95": 1.0, "max": 1.0},
                "n_plus_one": [
                    {"statement": "SELECT ?", "count": 6, "location": location}
                    for location in n_plus_one
                ],
                "blocking": [{"duration_ms": 300.0, "location": location} for location in blocking],
            }
        ]
    }


def confirmed(
    project: Path,
    findings: list[Finding],
    *,
    n_plus_one: str | None = None,
    blocking: str | None = None,
) -> list[tuple[str, str, str]]:
    """(code, finding location, match) of what confirms the one runtime entry given."""
    report = report_with(
        [n_plus_one] if n_plus_one is not None else [], [blocking] if blocking is not None else []
    )
    result = confirm(report, findings, project)
    endpoint = result["endpoints"][0]
    (entry,) = endpoint["n_plus_one"] or endpoint["blocking"]
    return [(f["code"], f["location"], f["match"]) for f in entry["confirmed_by"]]


def test_the_static_review_finds_what_the_tests_rely_on(
    project: Path, findings: list[Finding]
) -> None:
    found = {(f.code, f"{f.file}:{f.line}") for f in findings}
    main = "app/main.py"
    assert found == {
        ("FAA208", at(project, main, "@signup")),
        ("FAA201", at(project, main, "@rate")),
        ("FAA208", at(project, main, "@pause")),
        ("FAA402", at(project, main, "@titles")),
        ("FAA402", at(project, main, "@repo-titles")),
        ("FAA402", at(project, main, "@per-row-start")),
        ("FAA401", at(project, main, "@lazy")),
    }


def test_same_line(project: Path, findings: list[Finding]) -> None:
    main = "app/main.py"
    assert confirmed(project, findings, blocking=at(project, main, "@pause")) == [
        ("FAA208", at(project, main, "@pause"), "line")
    ]
    assert confirmed(project, findings, n_plus_one=at(project, main, "@lazy")) == [
        ("FAA401", at(project, main, "@lazy"), "line")
    ]
    # a call over three lines: the finding spans them, the frame may stand on any
    for marker in ("@per-row-start", "@per-row-end"):
        assert confirmed(project, findings, n_plus_one=at(project, main, marker)) == [
            ("FAA402", at(project, main, "@per-row-start"), "line")
        ]


def test_call_chain(project: Path, findings: list[Finding]) -> None:
    main = "app/main.py"
    # the watchdog samples the sleep inside the helper; FAA208 is at the call in signup
    assert confirmed(
        project, findings, blocking=at(project, "app/services/notifications.py", "@sleep")
    ) == [("FAA208", at(project, main, "@signup"), "call chain")]
    assert confirmed(
        project, findings, blocking=at(project, "app/services/rates.py", "@urlopen")
    ) == [("FAA201", at(project, main, "@rate"), "call chain")]
    # the statement is issued inside the CRUD function / the repository method
    assert confirmed(project, findings, n_plus_one=at(project, "app/crud.py", "@crud")) == [
        ("FAA402", at(project, main, "@titles"), "call chain")
    ]
    assert confirmed(project, findings, n_plus_one=at(project, "app/crud.py", "@repo")) == [
        ("FAA402", at(project, main, "@repo-titles"), "call chain")
    ]


def test_same_loop(project: Path, findings: list[Finding]) -> None:
    main = "app/main.py"
    assert confirmed(project, findings, n_plus_one=at(project, main, "@per-row-after")) == [
        ("FAA402", at(project, main, "@per-row-start"), "loop")
    ]


def test_what_does_not_confirm(project: Path, findings: list[Finding]) -> None:
    main = "app/main.py"
    # the same function, outside the loop: a statement that runs once is no N+1 of it
    assert confirmed(project, findings, n_plus_one=at(project, main, "@authors-query")) == []
    # blocking at another line of a function with a blocking finding
    assert confirmed(project, findings, blocking=at(project, main, "@not-the-sleep")) == []
    # an N+1 finding does not confirm blocking, nor blocking findings an N+1
    assert confirmed(project, findings, blocking=at(project, main, "@titles")) == []
    assert confirmed(project, findings, n_plus_one=at(project, main, "@pause")) == []
    assert (
        confirmed(
            project, findings, n_plus_one=at(project, "app/services/notifications.py", "@sleep")
        )
        == []
    )
    # no project code on the stack, a file outside the project, no line
    report = report_with([None, "elsewhere/x.py:3", "app/main.py"], [None])
    result = confirm(report, findings, project)
    assert [e["confirmed_by"] for e in result["endpoints"][0]["n_plus_one"]] == [[], [], []]
    assert result["endpoints"][0]["blocking"][0]["confirmed_by"] == []
    assert "confirmed_by" not in report["endpoints"][0]["n_plus_one"][0]  # a copy


def test_parse_location() -> None:
    assert parse_location("app/main.py:12") == ("app/main.py", 12)
    assert parse_location("C:/app/main.py:7") == ("C:/app/main.py", 7)
    assert parse_location("app/main.py") is None
    assert parse_location(":12") is None
    assert parse_location("app/main.py:x") is None


def test_a_broken_configuration_is_a_confirm_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fastapi-architect]\nselect = "not a list"\nbogus = 1\n', encoding="utf-8"
    )
    (tmp_path / "main.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(ConfirmError):
        static_findings(tmp_path)
