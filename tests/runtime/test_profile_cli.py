"""`fastapi-architect profile`: a real test suite run with the profiler, and saved reports.

The project under test (`PROJECT`) is a FastAPI app on SQLite with its own pytest
suite; it knows nothing of the profiler. Its routes hold what the static review
flags and the runtime sees: a CRUD function called per row (FAA402, confirmed
through the call chain), a lazy relationship per row (FAA401, same line), a
`time.sleep` reached through a helper from an `async def` (FAA208, call chain)
and `urllib.request.urlopen` to a slow local server from an `async def` (FAA201,
call chain); one clean endpoint loads with `selectinload`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app
from fastapi_architect.runtime.cli import PLUGIN_MODULE, plugin_name
from fastapi_architect.runtime.report import load_report

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
    """,
    "app/main.py": """
        from fastapi import FastAPI
        from sqlalchemy import select
        from sqlalchemy.orm import Session, selectinload

        from app import crud
        from app.models import Author
        from app.services import notifications, rates

        app = FastAPI()
        state = {}


        @app.post("/signup")
        async def signup(email: str) -> dict[str, bool]:
            notifications.send_welcome(email)  # @signup
            return {"ok": True}


        @app.get("/rate")
        async def rate() -> dict[str, int]:
            return {"size": len(rates.fetch_rate(state["rates_url"]))}  # @rate


        @app.get("/titles")
        def titles() -> list[str]:
            with Session(state["engine"]) as db:
                authors = db.scalars(select(Author)).all()
                found = []
                for author in authors:
                    found += [b.title for b in crud.books_of(db, author.id)]  # @titles
                return found


        @app.get("/counts")
        def counts() -> list[int]:
            with Session(state["engine"]) as db:
                return [len(a.books) for a in db.scalars(select(Author)).all()]  # @lazy


        @app.get("/counts-selectin")
        def counts_selectin() -> list[int]:
            with Session(state["engine"]) as db:
                statement = select(Author).options(selectinload(Author.books))
                return [len(a.books) for a in db.scalars(statement).all()]
    """,
    "tests/conftest.py": """
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import pytest
        from fastapi.testclient import TestClient
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from app.main import app, state
        from app.models import Author, Base, Book


        class SlowRates(BaseHTTPRequestHandler):
            def do_GET(self):
                time.sleep(0.3)
                body = b"1.08"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass


        @pytest.fixture(scope="session")
        def client(tmp_path_factory):
            server = ThreadingHTTPServer(("127.0.0.1", 0), SlowRates)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            state["rates_url"] = f"http://127.0.0.1:{server.server_address[1]}/"
            engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.db'}")
            Base.metadata.create_all(engine)
            with Session(engine) as session:
                session.add_all(
                    [Author(name=f"a{i}", books=[Book(title=f"b{i}.{j}") for j in range(2)])
                     for i in range(6)]
                )
                session.commit()
            state["engine"] = engine
            with TestClient(app) as test_client:
                yield test_client
            server.shutdown()
    """,
    "tests/test_app.py": """
        def test_signup(client):
            assert client.post("/signup", params={"email": "a@example.com"}).json() == {"ok": True}


        def test_rate(client):
            assert client.get("/rate").json() == {"size": 4}


        def test_titles(client):
            assert len(client.get("/titles").json()) == 12


        def test_counts(client):
            assert client.get("/counts").json() == [2] * 6


        def test_counts_selectin(client):
            assert client.get("/counts-selectin").json() == [2] * 6
    """,
    "tests/test_failing.py": """
        import os

        import pytest


        @pytest.mark.skipif(not os.environ.get("FAIL_ONE"), reason="only when asked")
        def test_fails(client):
            assert client.get("/counts-selectin").json() == []
    """,
}


def write_project(root: Path) -> Path:
    for relative, source in PROJECT.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return root


def at(root: Path, relative: str, marker: str) -> str:
    lines = (root / relative).read_text(encoding="utf-8").splitlines()
    found = [n for n, text in enumerate(lines, start=1) if f"# {marker}" in text]
    assert len(found) == 1, (marker, found)
    return f"{relative}:{found[0]}"


PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]


def profile(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`fastapi-architect profile ARGS` in a subprocess, as a user runs it."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fastapi_architect", "profile", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class Run:
    root: Path
    proc: subprocess.CompletedProcess[str]
    report: Path


@pytest.fixture(scope="module")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = write_project(tmp_path_factory.mktemp("profile") / "project")
    report = root / "out.json"
    proc = profile("--report-out", str(report), "--", *PYTEST, cwd=root)
    return Run(root, proc, report)


def confirmations(entry: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["code"], f["location"], f["match"]) for f in entry["confirmed_by"]]


def test_profile_runs_the_suite_and_prints_the_report_with_confirmations(text_run: Run) -> None:
    root, proc = text_run.root, text_run.proc
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "5 passed, 1 skipped" in out  # pytest's own output comes first
    printed = out[out.rindex("\n5 endpoints profiled") :]
    lines = printed.splitlines()
    assert lines[1] == "5 endpoints profiled, 4 with N+1 queries or event-loop blocking."
    rows = {" ".join(line.split()[:2]): line.split() for line in lines[3:9]}
    assert rows["GET /counts-selectin"][-1] == "-"
    assert rows["GET /titles"][2:5] == ["1", "7", "7"]
    assert rows["POST /signup"][-2:] == ["blocking", "x1"]

    def confirmed_line(code: str, marker: str, how: str) -> str:
        location = at(root, "app/main.py", marker)
        return f"    confirmed at runtime: {code} at {location} ({how}): "

    expected = [
        ("GET /counts", f"  N+1: 6x in one request at {at(root, 'app/main.py', '@lazy')}: "),
        ("GET /counts", confirmed_line("FAA401", "@lazy", "same line")),
        ("GET /rate", "  event loop blocked "),
        ("GET /rate", confirmed_line("FAA201", "@rate", "in the call chain it names")),
        ("GET /titles", f"  N+1: 6x in one request at {at(root, 'app/crud.py', '@crud')}: "),
        ("GET /titles", confirmed_line("FAA402", "@titles", "in the call chain it names")),
        ("POST /signup", confirmed_line("FAA208", "@signup", "in the call chain it names")),
    ]
    sections = printed.split("\n\n")
    for endpoint, start in expected:
        (section,) = [s for s in sections if s.startswith(endpoint + "\n")]
        assert any(line.startswith(start) for line in section.splitlines()), (start, section)
    (rate,) = [s for s in sections if s.startswith("GET /rate\n")]
    assert f"ms at {at(root, 'app/services/rates.py', '@urlopen')}" in rate
    (signup,) = [s for s in sections if s.startswith("POST /signup\n")]
    assert f"ms at {at(root, 'app/services/notifications.py', '@sleep')}" in signup
    assert "GET /counts-selectin\n" not in printed
    assert printed.rstrip().endswith(f"report: {text_run.report}")

    # --report-out keeps the plugin's report: plain, without confirmations
    saved = load_report(text_run.report)
    assert {f"{e['method']} {e['route']}" for e in saved["endpoints"]} == {
        "POST /signup",
        "GET /rate",
        "GET /titles",
        "GET /counts",
        "GET /counts-selectin",
    }
    assert "confirmed_by" not in json.dumps(saved)


def test_json_format_prints_only_the_report_on_stdout(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    proc = profile("--format", "json", "--", *PYTEST, "-k", "titles or selectin", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "2 passed" in proc.stderr  # the command's output went to stderr
    data = json.loads(proc.stdout)
    found = {e["route"]: e for e in data["endpoints"]}
    assert set(found) == {"/titles", "/counts-selectin"}
    (group,) = found["/titles"]["n_plus_one"]
    assert group["location"] == at(root, "app/crud.py", "@crud")
    assert confirmations(group) == [("FAA402", at(root, "app/main.py", "@titles"), "call chain")]
    assert found["/counts-selectin"]["n_plus_one"] == []


def test_exit_code_is_the_commands(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    failing = profile("--", *PYTEST, "-k", "selectin or fails", env={"FAIL_ONE": "1"}, cwd=root)
    assert failing.returncode == 1
    assert "1 failed, 1 passed" in failing.stdout
    assert "1 endpoint profiled: no N+1 queries, no event-loop blocking." in failing.stdout

    # --strict: every test passes, the session fails on the N+1
    strict = profile("--strict", "--", *PYTEST, "-k", "counts", cwd=root)
    assert strict.returncode == 1
    assert "2 passed" in strict.stdout
    assert "--architect-runtime-strict: the session fails" in strict.stdout

    # no `--`: the command's options are its own; PYTEST_ADDOPTS of the user is kept
    plain = profile(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests",
        cwd=root,
        env={"PYTEST_ADDOPTS": "-k selectin"},
    )
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "1 passed, 5 deselected" in plain.stdout
    assert "1 endpoint profiled" in plain.stdout

    exits = profile("--", sys.executable, "-c", "import sys; sys.exit(3)", cwd=root)
    assert exits.returncode == 3
    assert "the command wrote no runtime report" in exits.stderr

    if sys.platform != "win32":  # ended by SIGTERM: 128 + 15, as a shell reports it
        script = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
        killed = profile("--", sys.executable, "-c", script, cwd=root)
        assert killed.returncode == 143


def test_render_a_saved_report(text_run: Run, tmp_path: Path) -> None:
    root = text_run.root
    # from another folder: --project names the project whose review confirms
    text = profile("--report", str(text_run.report), "--project", str(root), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("5 endpoints profiled, 4 with N+1")
    assert text.stdout.count("confirmed at runtime") == 4

    as_json = profile("--report", str(text_run.report), "--format", "json", cwd=root)
    assert as_json.returncode == 0
    data = json.loads(as_json.stdout)
    (counts,) = [e for e in data["endpoints"] if e["route"] == "/counts"]
    assert confirmations(counts["n_plus_one"][0]) == [
        ("FAA401", at(root, "app/main.py", "@lazy"), "line")
    ]

    page = profile("--report", str(text_run.report), "--format", "html", cwd=root)
    assert page.returncode == 0
    assert page.stdout.startswith("<!DOCTYPE html>")
    assert page.stdout.count("confirmed at runtime") == 4

    unconfirmed = profile("--report", str(text_run.report), "--no-confirm", cwd=root)
    assert "confirmed at runtime" not in unconfirmed.stdout
    assert "N+1: 6x" in unconfirmed.stdout


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report", "missing.json"], "report file not found: missing.json"),
        (["--report", "bad.json"], "bad.json is not JSON"),
        (
            ["--report", "other.json"],
            'other.json is not a fastapi-architect runtime report: expected an object with an "endpoints" list',
        ),
        (["--report", "other.json", "--", "pytest"], "give either --report FILE or a command"),
        (
            ["--report", "other.json", "--strict"],
            "--report-out and --strict apply to a command run",
        ),
        ([], "nothing to profile"),
        (["--", "no-such-command-fa"], "command not found: no-such-command-fa"),
        (["--report-out", "nowhere/r.json", "--", "pytest"], "--report-out folder does not exist"),
        (
            ["--project", "nowhere", "--report", "other.json"],
            "project folder does not exist: nowhere",
        ),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"findings": []}', encoding="utf-8")
    result = runner.invoke(app, ["profile", *args])
    assert result.exit_code == 2, result.output
    assert f"fastapi-architect: error: {message}" in result.stderr


def test_a_clean_report_is_rendered_without_a_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a project whose review would fail (a bad config): nothing to confirm, so no review
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.fastapi-architect]\nbogus = 1\n", encoding="utf-8"
    )
    clean = {
        "endpoints": [
            {
                "method": "GET",
                "route": "/health",
                "requests": 1,
                "queries_max": 0,
                "queries_total": 0,
                "duration_ms": {"p50": 1.0, "p95": 1.0, "max": 1.0},
                "n_plus_one": [],
                "blocking": [],
            }
        ]
    }
    (tmp_path / "r.json").write_text(json.dumps(clean), encoding="utf-8")
    result = runner.invoke(app, ["profile", "--report", "r.json"])
    assert result.exit_code == 0
    assert result.stdout.startswith("1 endpoint profiled: no N+1 queries")
    assert result.stderr == ""
    # with a problem, the failed review is a warning, and the report is still printed
    clean["endpoints"][0]["blocking"] = [{"duration_ms": 150.0, "location": "app.py:3"}]
    (tmp_path / "r.json").write_text(json.dumps(clean), encoding="utf-8")
    result = runner.invoke(app, ["profile", "--report", "r.json"])
    assert result.exit_code == 0
    assert "event loop blocked 150.0 ms at app.py:3" in result.stdout
    assert "static review of" in result.stderr and "no runtime confirmation" in result.stderr


def test_plugin_name_is_the_installed_entry_point() -> None:
    # installed (the dev install): `-p fastapi_architect`, the entry point's name, since
    # pytest refuses the module registered by `-p` and again by its entry point
    from importlib.metadata import entry_points

    names = [e.name for e in entry_points(group="pytest11") if e.value == PLUGIN_MODULE]
    assert names == ["fastapi_architect"]
    assert plugin_name() == "fastapi_architect"
