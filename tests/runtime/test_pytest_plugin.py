"""The pytest plugin, in real pytest sessions (subprocesses) against a real FastAPI app.

The inner project: `app/models.py` (Author with lazy `books`, Book), `app/main.py`
(routes: a per-row lazy-load loop, the same data with `selectinload`, one query,
a per-row loop through an `AsyncSession` on aiosqlite, `time.sleep` in an `async
def` route and in a sync `def` route) and a `conftest.py` whose `client` fixture
seeds a SQLite file and opens a `TestClient`. Nothing in the inner project knows
the profiler: the plugin puts the middleware on the app by itself.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from fastapi_architect.runtime.report import load_report

pytest_plugins = ["pytester"]

MODELS = """
    from sqlalchemy import ForeignKey, String
    from sqlalchemy.ext.asyncio import AsyncAttrs
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(AsyncAttrs, DeclarativeBase):
        pass


    class Author(Base):
        __tablename__ = "authors"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        books: Mapped[list["Book"]] = relationship(back_populates="author", order_by="Book.id")


    class Book(Base):
        __tablename__ = "books"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(100))
        author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
        author: Mapped[Author] = relationship(back_populates="books")
"""

MAIN = """
    import asyncio
    import time

    from fastapi import FastAPI
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session, selectinload

    from app.models import Author, Book

    app = FastAPI()
    state = {}


    @app.get("/authors")
    def list_authors() -> list[dict]:
        with Session(state["engine"]) as db:
            authors = db.scalars(select(Author).order_by(Author.id)).all()
            return [{"name": a.name, "books": [b.title for b in a.books]} for a in authors]  # @lazy


    @app.get("/authors-selectin")
    def list_authors_selectin() -> list[dict]:
        with Session(state["engine"]) as db:
            statement = select(Author).options(selectinload(Author.books)).order_by(Author.id)
            authors = db.scalars(statement).all()
            return [{"name": a.name, "books": [b.title for b in a.books]} for a in authors]


    @app.get("/books/{author_id}")
    def books_of(author_id: int) -> list[str]:
        with Session(state["engine"]) as db:
            return list(db.scalars(select(Book.title).where(Book.author_id == author_id)))


    @app.get("/async-titles")
    async def async_titles() -> list[str]:
        async with AsyncSession(state["async_engine"]) as db:
            authors = (await db.scalars(select(Author).order_by(Author.id))).all()
            titles = []
            for author in authors:
                statement = select(Book.title).where(Book.author_id == author.id)
                titles += (await db.scalars(statement)).all()  # @async-per-row
            return titles


    @app.get("/sleep-async")
    async def sleep_async() -> dict:
        time.sleep(0.3)  # @sleep-async
        return {"slept": True}


    @app.get("/sleep-sync")
    def sleep_sync() -> dict:
        time.sleep(0.3)
        return {"slept": True}
"""

CONFTEST = """
    import pytest
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool

    from app.main import app, state
    from app.models import Author, Base, Book


    @pytest.fixture(scope="session")
    def client(tmp_path_factory):
        path = tmp_path_factory.mktemp("db") / "app.db"
        engine = create_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(
                [
                    Author(name=f"author {a}", books=[Book(title=f"book {a}.{b}") for b in range(2)])
                    for a in range(6)
                ]
            )
            session.commit()
        state["engine"] = engine
        state["async_engine"] = create_async_engine(
            f"sqlite+aiosqlite:///{path}", poolclass=NullPool
        )
        with TestClient(app) as test_client:
            yield test_client
        engine.dispose()
"""

# the statements of GET /authors: the authors, then one lazy load of `books` per author
AUTHORS_QUERIES = 1 + 6


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.mkpydir("app")
    pytester.makepyfile(
        **{
            "app/models": textwrap.dedent(MODELS),
            "app/main": textwrap.dedent(MAIN),
            "conftest": textwrap.dedent(CONFTEST),
        }
    )
    return pytester


def line_of(pytester: pytest.Pytester, relative: str, marker: str) -> int:
    lines = (pytester.path / relative).read_text(encoding="utf-8").splitlines()
    found = [number for number, text in enumerate(lines, start=1) if marker in text]
    assert len(found) == 1, (marker, found)
    return found[0]


def endpoints(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{e['method']} {e['route']}": e for e in report["endpoints"]}


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers", *args)


TESTS_N_PLUS_ONE = """
    def test_authors(client):
        assert len(client.get("/authors").json()) == 6


    def test_authors_again(client):
        assert len(client.get("/authors").json()) == 6


    def test_authors_selectin(client):
        body = client.get("/authors-selectin").json()
        assert [len(a["books"]) for a in body] == [2] * 6


    def test_books_of_each_author(client):
        for author_id in (1, 2, 3):
            assert len(client.get(f"/books/{author_id}").json()) == 2


    def test_async_titles(client):
        assert len(client.get("/async-titles").json()) == 12
"""


def test_per_row_loop_flagged_in_report_and_summary_selectinload_clean(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_n_plus_one=textwrap.dedent(TESTS_N_PLUS_ONE))
    result = run(project, "--architect-runtime", "--architect-runtime-report", "out/report.json")
    result.assert_outcomes(passed=5)
    assert result.ret == pytest.ExitCode.OK  # not strict: problems do not fail the session

    report = load_report(project.path / "out" / "report.json")  # the folder is created
    found = endpoints(report)
    assert set(found) == {
        "GET /authors",
        "GET /authors-selectin",
        "GET /books/{author_id}",  # the route template, not /books/1, /books/2, /books/3
        "GET /async-titles",
    }
    lazy = found["GET /authors"]
    assert lazy["requests"] == 2
    assert lazy["queries_max"] == AUTHORS_QUERIES
    assert lazy["queries_total"] == 2 * AUTHORS_QUERIES
    assert len(lazy["n_plus_one"]) == 1
    group = lazy["n_plus_one"][0]
    assert group["count"] == 6
    assert group["location"] == f"app/main.py:{line_of(project, 'app/main.py', '@lazy')}"
    assert "FROM books" in group["statement"]
    assert lazy["blocking"] == []

    selectin = found["GET /authors-selectin"]
    assert selectin["queries_max"] == 2  # the authors, then all their books at once
    assert selectin["n_plus_one"] == []

    books = found["GET /books/{author_id}"]
    assert (books["requests"], books["queries_max"], books["n_plus_one"]) == (3, 1, [])

    per_row = found["GET /async-titles"]  # AsyncSession on aiosqlite
    assert per_row["queries_max"] == 7
    assert [(g["count"], g["location"]) for g in per_row["n_plus_one"]] == [
        (6, f"app/main.py:{line_of(project, 'app/main.py', '@async-per-row')}")
    ]
    for endpoint in report["endpoints"]:
        durations = endpoint["duration_ms"]
        assert 0 < durations["p50"] <= durations["p95"] <= durations["max"]

    # the terminal summary lists the endpoints with problems, not the clean ones
    summary = result.stdout.str().split("fastapi-architect runtime", 1)[1]
    assert "4 endpoints profiled, 2 with N+1 queries or event-loop blocking." in summary
    result.stdout.fnmatch_lines(
        [
            "*= fastapi-architect runtime =*",
            "Method*Route*Requests*Queries max*Queries total*p50 ms*p95 ms*max ms*Problems",
            "GET*/async-titles*1*7*7*N+1 x1",
            "GET*/authors*2*7*14*N+1 x1",
            "GET /async-titles",
            f"  N+1: 6x in one request at app/main.py:{line_of(project, 'app/main.py', '@async-per-row')}: SELECT *",
            "GET /authors",
            f"  N+1: 6x in one request at app/main.py:{line_of(project, 'app/main.py', '@lazy')}: SELECT *FROM books*",
            f"report: {project.path / 'out' / 'report.json'}",
        ]
    )
    assert "/authors-selectin" not in summary
    assert "/books/" not in summary


def test_strict_fails_the_session_only_when_a_problem_is_found(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_strict="""
        def test_authors(client):
            assert client.get("/authors").status_code == 200

        def test_selectin(client):
            assert client.get("/authors-selectin").status_code == 200
        """
    )
    result = run(project, "--architect-runtime", "--architect-runtime-strict")
    result.assert_outcomes(passed=2)  # every test passed...
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # ...and the session failed
    result.stdout.fnmatch_lines(
        ["*--architect-runtime-strict: the session fails because of the problems above*"]
    )

    clean = run(project, "--architect-runtime", "--architect-runtime-strict", "-k", "selectin")
    clean.assert_outcomes(passed=1, deselected=1)
    assert clean.ret == pytest.ExitCode.OK
    clean.stdout.fnmatch_lines(["1 endpoint profiled: no N+1 queries, no event-loop blocking."])
    clean.stdout.no_fnmatch_line("*the session fails*")


def test_time_sleep_in_async_route_is_blocking_in_sync_route_not(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_sleep="""
        def test_sleep_async(client):
            assert client.get("/sleep-async").json() == {"slept": True}

        def test_sleep_sync(client):
            assert client.get("/sleep-sync").json() == {"slept": True}
        """
    )
    result = run(project, "--architect-runtime", "--architect-runtime-report", "report.json")
    result.assert_outcomes(passed=2)
    found = endpoints(load_report(project.path / "report.json"))
    blocking = found["GET /sleep-async"]["blocking"]
    assert len(blocking) == 1
    assert (
        blocking[0]["location"] == f"app/main.py:{line_of(project, 'app/main.py', '@sleep-async')}"
    )
    assert 250 <= blocking[0]["duration_ms"] <= 2000
    # the sync route sleeps as long, in the threadpool: the loop is free
    assert found["GET /sleep-sync"]["blocking"] == []
    assert found["GET /sleep-sync"]["duration_ms"]["max"] >= 290
    result.stdout.fnmatch_lines(
        [
            "GET*/sleep-async*1*0*0*blocking x1",
            "GET /sleep-async",
            "  event loop blocked *ms at app/main.py:*",
        ]
    )
    assert "GET /sleep-sync" not in result.stdout.str()


TESTS_LIMITS = """
    import pytest

    from fastapi_architect.runtime import assert_max_queries as imported


    @pytest.mark.max_queries(7)
    def test_marker_at_the_limit(client):
        client.get("/authors")


    @pytest.mark.max_queries(6)
    def test_marker_above_the_limit(client):
        client.get("/authors")


    @pytest.mark.max_queries(n=0)
    def test_marker_zero(client):
        pass


    def test_fixture_at_the_limit(client, assert_max_queries):
        with assert_max_queries(7):
            client.get("/authors")


    def test_fixture_above_the_limit(client, assert_max_queries):
        with assert_max_queries(1):
            client.get("/authors-selectin")


    def test_imported_context_manager(client):
        with imported(3):
            for author_id in (1, 2, 3):
                client.get(f"/books/{author_id}")
        with pytest.raises(AssertionError, match="expected at most 2 SQL statements, 3 issued"):
            with imported(2):
                for author_id in (1, 2, 3):
                    client.get(f"/books/{author_id}")


    @pytest.fixture
    def authors_loaded(client):
        client.get("/authors")  # 7 statements, in the setup


    @pytest.mark.max_queries(1)
    def test_marker_setup_not_counted(client, authors_loaded):
        client.get("/books/1")


    @pytest.mark.max_queries("three")
    def test_marker_bad_argument():
        pass
"""


@pytest.mark.parametrize("profiling", [False, True], ids=["plugin-inactive", "architect-runtime"])
def test_max_queries_marker_and_fixture(project: pytest.Pytester, profiling: bool) -> None:
    # the marker and the fixture work with and without --architect-runtime
    project.makepyfile(test_limits=textwrap.dedent(TESTS_LIMITS))
    result = run(project, "-rf", *(["--architect-runtime"] if profiling else []))
    result.assert_outcomes(passed=5, failed=3)
    outcomes = {
        line.split(" ", 2)[1].split("::")[1]
        for line in result.stdout.lines
        if line.startswith("FAILED ")
    }
    assert outcomes == {
        "test_marker_above_the_limit",
        "test_fixture_above_the_limit",
        "test_marker_bad_argument",
    }
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker_above_the_limit _*",
            "@pytest.mark.max_queries(6): expected at most 6 SQL statements, 7 issued:",
            "  1. SELECT authors.id, authors.name FROM authors ORDER BY authors.id  (app/main.py:*)",
            "  2. SELECT books.* FROM books WHERE ? = books.author_id ORDER BY books.id"
            "  (app/main.py:*)  [[]lazy load of Author.books[]]",
        ]
    )
    result.stdout.fnmatch_lines(["*AssertionError: expected at most 1 SQL statement, 2 issued:*"])
    result.stdout.fnmatch_lines(
        ["@pytest.mark.max_queries takes one integer, the most SQL statements allowed*"]
    )
    assert ("fastapi-architect runtime" in result.stdout.str()) is profiling


def test_inactive_without_the_option(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_inactive="""
        import sys

        from starlette.applications import Starlette

        from app.main import app


        def stack_types(client):
            client.get("/books/1")
            types, layer = [], app.middleware_stack
            while layer is not None:
                types.append(type(layer).__name__)
                layer = getattr(layer, "app", None)
            return types


        def test_plain_app(client):
            types = stack_types(client)
            assert "ArchitectMiddleware" not in types and "ServerErrorMiddleware" in types
            assert not hasattr(Starlette.build_middleware_stack, "__wrapped__")
            assert "fastapi_architect.runtime.middleware" not in sys.modules
            from fastapi_architect.runtime import sqlalchemy_hooks
            assert not sqlalchemy_hooks.is_installed()
        """
    )
    result = run(project)
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*fastapi-architect runtime*")

    # and with it, the same app gets the middleware, outermost, and the hooks are on
    project.makepyfile(
        test_active="""
        from fastapi import FastAPI
        from starlette.applications import Starlette

        from app.main import app
        from fastapi_architect.runtime import sqlalchemy_hooks
        from test_inactive import stack_types


        def test_profiled_app(client):
            types = stack_types(client)
            assert types[0] == "ArchitectMiddleware"
            assert types.count("ArchitectMiddleware") == 1
            assert hasattr(FastAPI.build_middleware_stack, "__wrapped__")
            assert hasattr(Starlette.build_middleware_stack, "__wrapped__")
            assert sqlalchemy_hooks.is_installed()
        """
    )
    active = run(project, "--architect-runtime", "test_active.py")
    active.assert_outcomes(passed=1)


def test_session_end_undoes_the_patches(project: pytest.Pytester) -> None:
    # an inner conftest checks, after every other pytest_unconfigure, that the app
    # classes and SQLAlchemy are as before the session
    (project.path / "conftest.py").write_text(
        textwrap.dedent(CONFTEST)
        + textwrap.dedent(
            """

            @pytest.hookimpl(trylast=True)
            def pytest_unconfigure(config):
                from fastapi import FastAPI
                from starlette.applications import Starlette

                from fastapi_architect.runtime import sqlalchemy_hooks
                from fastapi_architect.runtime.recorder import recorder

                state = {
                    "fastapi": hasattr(FastAPI.build_middleware_stack, "__wrapped__"),
                    "starlette": hasattr(Starlette.build_middleware_stack, "__wrapped__"),
                    "hooks": sqlalchemy_hooks.is_installed(),
                    "recorded": len(recorder.report()["endpoints"]),
                }
                (config.rootpath / "after.json").write_text(__import__("json").dumps(state))
            """
        ),
        encoding="utf-8",
    )
    project.makepyfile(
        test_one="""
        def test_one(client):
            assert client.get("/authors").status_code == 200
        """
    )
    result = run(project, "--architect-runtime")
    result.assert_outcomes(passed=1)
    after = json.loads((project.path / "after.json").read_text(encoding="utf-8"))
    assert after == {"fastapi": False, "starlette": False, "hooks": False, "recorded": 0}


def test_report_merged_across_xdist_workers(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_spread="""
        import pytest

        @pytest.mark.parametrize("n", range(8))
        def test_authors(client, n):
            assert client.get("/authors").status_code == 200

        @pytest.mark.parametrize("author_id", range(1, 7))
        def test_books(client, author_id):
            assert client.get(f"/books/{author_id}").status_code == 200
        """
    )
    result = run(
        project, "-n", "2", "--architect-runtime", "--architect-runtime-report", "report.json"
    )
    result.assert_outcomes(passed=14)
    found = endpoints(load_report(project.path / "report.json"))
    assert set(found) == {"GET /authors", "GET /books/{author_id}"}
    authors = found["GET /authors"]
    assert (authors["requests"], authors["queries_total"], authors["queries_max"]) == (
        8,
        8 * AUTHORS_QUERIES,
        AUTHORS_QUERIES,
    )
    assert [g["count"] for g in authors["n_plus_one"]] == [6]  # one group, not one per worker
    assert found["GET /books/{author_id}"]["requests"] == 6
    durations = authors["duration_ms"]
    assert 0 < durations["p50"] <= durations["p95"] <= durations["max"]
    result.stdout.fnmatch_lines(
        ["2 endpoints profiled, 1 with N+1 queries or event-loop blocking."]
    )


def test_thresholds_from_the_command_line(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_one="""
        def test_async_titles(client):
            assert client.get("/async-titles").status_code == 200

        def test_sleep(client):
            assert client.get("/sleep-async").status_code == 200
        """
    )
    # 6 per-row SELECTs are an N+1 at the default threshold (5), not at 7; a blocking
    # threshold of 1 s hides a 0.3 s sleep
    result = run(
        project,
        "--architect-runtime",
        "--architect-runtime-n-plus-one=7",
        "--architect-runtime-blocking-ms=1000",
        "--architect-runtime-report=report.json",
    )
    result.assert_outcomes(passed=2)
    found = endpoints(load_report(project.path / "report.json"))
    assert found["GET /sleep-async"]["blocking"] == []
    assert found["GET /async-titles"]["n_plus_one"] == []
    assert found["GET /async-titles"]["queries_max"] == 7


def test_plugin_loads_by_module_without_the_entry_point(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # with plugin autoloading off, the entry point is not used: `-p` with the module
    # (what `fastapi-architect profile` passes where the entry point is not installed)
    project.makepyfile(
        test_one="""
        def test_authors(client):
            assert client.get("/authors").status_code == 200
        """
    )
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    without = run(project, "--architect-runtime")
    assert without.ret == pytest.ExitCode.USAGE_ERROR  # the option is unknown: no plugin
    result = run(
        project,
        "-p",
        "fastapi_architect.runtime.pytest_plugin",
        "--architect-runtime",
        "--architect-runtime-report=report.json",
    )
    result.assert_outcomes(passed=1)
    assert [e["route"] for e in load_report(project.path / "report.json")["endpoints"]] == [
        "/authors"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--architect-runtime-report", "r.json"],
            "--architect-runtime-report needs --architect-runtime",
        ),
        (["--architect-runtime-strict"], "--architect-runtime-strict needs --architect-runtime"),
        (
            ["--architect-runtime", "--architect-runtime-n-plus-one", "0"],
            "--architect-runtime-n-plus-one must be 1 or more",
        ),
        (
            ["--architect-runtime", "--architect-runtime-blocking-ms", "-5"],
            "--architect-runtime-blocking-ms must be more than 0",
        ),
    ],
)
def test_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    pytester.makepyfile(test_nothing="def test_nothing(): pass")
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_unwritable_report_path_fails_the_session(project: pytest.Pytester) -> None:
    project.makepyfile(test_nothing="def test_nothing(): pass")
    (project.path / "blocker").write_text("a file, not a folder", encoding="utf-8")
    result = run(project, "--architect-runtime", "--architect-runtime-report", "blocker/r.json")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["error: cannot write */blocker/r.json: *"])


def test_report_path_relative_to_the_invocation_folder(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_nothing="def test_nothing(): pass")
    sub = project.mkdir("sub")
    monkeypatch.chdir(sub)
    result = project.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--architect-runtime",
        "--architect-runtime-report",
        "r.json",
        str(project.path / "test_nothing.py"),
    )
    result.assert_outcomes(passed=1)
    assert not (project.path / "r.json").exists()
    assert load_report(sub / "r.json") == {"endpoints": []}
    result.stdout.fnmatch_lines(["No requests to a FastAPI or Starlette app were profiled."])
