"""End to end: a generated project passes its own tests, the review and a fuzzer.

Each case generates a project with the real CLI into a temporary folder and runs its
test suite in a subprocess with this interpreter (the generated project's dependencies
are this project's dev dependencies): on SQLite with the runtime profiler on, and on a
database of its own on the real PostgreSQL server. The Redis-backed rate limit of the
generated tests runs against the real Redis (`REQUIRE_SERVICES=1` makes its test fail
rather than skip when Redis does not answer, as here on CI).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app
from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths

from .conftest import services_required

runner = CliRunner()

# A generated service targets Python 3.11+ (3.10 reached its end of life in October 2026):
# its suite cannot run on an older interpreter; `new` itself is tested on every version.
pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="generated projects require Python 3.11 or newer"
)

# ≥ 3 fields and a reference, as the issue asks; the second references the first
RESOURCES = [
    ["author", "name:str:max=100", "email:email:unique", "bio:text:optional"],
    [
        "book",
        "title:str:max=200:index",
        "price:decimal",
        "published:date:optional",
        "in_print:bool",
        "author:ref:author",
    ],
]
LIST_ENDPOINTS = {"/api/v1/products", "/api/v1/authors", "/api/v1/books"}


def generate(parent: Path, *, resources: bool) -> Path:
    result = runner.invoke(app, ["new", "shop", "--path", str(parent), "--no-input"])
    assert result.exit_code == 0, result.output
    project = parent / "shop"
    if resources:
        for spec in RESOURCES:
            result = runner.invoke(app, ["add", "resource", *spec, "--path", str(project)])
            assert result.exit_code == 0, result.output
    return project


def run_suite(project: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    """The generated suite's output; fails the test, with that output, when it fails."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment.pop("TEST_DATABASE_URL", None)  # ours is not the generated project's
    environment["REQUIRE_SERVICES"] = "1" if services_required() else "0"
    environment.update(env or {})
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *extra],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    return output


def passed(output: str) -> int:
    found = re.search(r"(\d+) passed", output)
    assert found, output[-2000:]
    return int(found.group(1))


def assert_no_skips_on_ci(output: str) -> None:
    if services_required():
        assert " skipped" not in output, output[-3000:]


def review_findings(project: Path) -> list[str]:
    # every rule, the opt-in ones included: the generated code is the reference
    config = Config().with_cli(select=["FAA"], extend_select=None, ignore=None, exclude=None)
    result = review_paths([project], config, root=project)
    assert result.internal_errors == []
    return [f"{f.code} {f.file}:{f.line} {f.message}" for f in result.findings]


@pytest.mark.parametrize("resources", [False, True], ids=["new", "new+add-resource"])
def test_generated_suite_passes_on_sqlite_with_no_n_plus_one(
    tmp_path: Path, resources: bool, redis_url: str
) -> None:
    project = generate(tmp_path, resources=resources)
    report = tmp_path / "runtime.json"
    output = run_suite(
        project,
        "--architect-runtime",
        f"--architect-runtime-report={report}",
        env={"TEST_REDIS_URL": redis_url},
    )
    assert passed(output) >= (60 if resources else 40)
    assert_no_skips_on_ci(output)
    endpoints = json.loads(report.read_text())["endpoints"]
    listed = {e["route"] for e in endpoints if e["method"] == "GET"} & LIST_ENDPOINTS
    assert listed == (LIST_ENDPOINTS if resources else {"/api/v1/products"})
    # N+1 only: the watchdog measures wall time, and on a starved machine (CI running
    # beside other work) a loop step of the generated code has been seen to last 1.5 s;
    # the code's blocking calls are the static review's job here (FAA201/FAA208: clean)
    for endpoint in endpoints:
        assert endpoint["n_plus_one"] == [], endpoint


@pytest.mark.parametrize("resources", [False, True], ids=["new", "new+add-resource"])
def test_generated_suite_passes_on_postgresql(
    tmp_path: Path, resources: bool, postgres_database: str, redis_url: str
) -> None:
    project = generate(tmp_path, resources=resources)
    output = run_suite(
        project, env={"TEST_DATABASE_URL": postgres_database, "TEST_REDIS_URL": redis_url}
    )
    assert passed(output) >= (60 if resources else 40)
    assert_no_skips_on_ci(output)


@pytest.mark.parametrize("resources", [False, True], ids=["new", "new+add-resource"])
def test_generated_project_reviews_clean(tmp_path: Path, resources: bool) -> None:
    project = generate(tmp_path, resources=resources)
    assert review_findings(project) == []
    result = runner.invoke(app, ["review", str(project)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("resources", [False, True], ids=["new", "new+add-resource"])
def test_generated_project_is_ruff_clean(tmp_path: Path, resources: bool) -> None:
    project = generate(tmp_path, resources=resources)
    for command in (["check", "."], ["format", "--check", "."]):
        completed = subprocess.run(
            [sys.executable, "-m", "ruff", *command],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, process: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"uvicorn exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("uvicorn did not answer within 30 s")


def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    project = generate(tmp_path, resources=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}",
        ENVIRONMENT="development",
    )
    migrate = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    # the server's log goes to a file: a pipe nobody reads fills up and blocks the server
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--no-access-log"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(base, server, log_path)
        # a user and a token, so that the authenticated operations are fuzzed past the 401
        user = {"email": "fuzz@example.com", "username": "fuzzer", "password": "Correct-Horse-42"}
        assert httpx.post(f"{base}/api/v1/users", json=user).status_code == 201
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": user["email"], "password": user["password"]},
        ).json()["access_token"]
        fuzz = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{base}/openapi.json",
                "--checks=not_a_server_error",
                "--phases=examples,coverage,fuzzing",
                "--max-examples=25",
                "--seed=20261126",
                "--workers=1",
                "--generation-database=none",
                "--no-color",
                "-H",
                f"Authorization: Bearer {token}",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        output = fuzz.stdout + fuzz.stderr
        assert fuzz.returncode == 0, output[-6000:] + log_path.read_text()[-3000:]
        # every operation was exercised, with over a thousand generated requests, none a 5xx
        assert "Tested: 22" in output, output[-3000:]
        cases = re.search(r"(\d+) generated, (\d+) passed", output)
        assert cases is not None, output[-3000:]
        assert int(cases.group(1)) == int(cases.group(2)) >= 1000, output[-3000:]
        assert "Traceback" not in log_path.read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
