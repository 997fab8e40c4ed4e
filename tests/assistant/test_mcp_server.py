"""The MCP server, driven through the official MCP client over stdio, as an assistant would:
a subprocess running `python -m fastapi_architect mcp --root ROOT`, its tools listed and
called on a copy of the bookshop example, the error cases and the root confinement.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bookshop"

BLOCKING_OUTSIDE = """\
import requests
from fastapi import APIRouter

router = APIRouter()


@router.get("/outside")
async def outside():
    return requests.get("https://example.com").json()
"""

RUNTIME_REPORT: dict[str, Any] = {
    "endpoints": [
        {
            "method": "GET",
            "route": "/api/v1/authors",
            "requests": 3,
            "queries_max": 13,
            "queries_total": 39,
            "duration_ms": {"p50": 4.1, "p95": 6.0, "max": 6.2},
            "n_plus_one": [
                {
                    "statement": "SELECT books.id FROM books WHERE books.author_id = ?",
                    "count": 12,
                    "location": "app/services/authors.py:21",
                }
            ],
            "blocking": [],
        },
        {
            "method": "GET",
            "route": "/health",
            "requests": 10,
            "queries_max": 0,
            "queries_total": 0,
            "duration_ms": {"p50": 0.4, "p95": 0.9, "max": 1.3},
            "n_plus_one": [],
            "blocking": [],
        },
    ]
}

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def openapi(paths: list[str]) -> str:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Bookshop", "version": "1"},
        "paths": {p: {"get": {"responses": {"200": {"description": "OK"}}}} for p in paths},
    }
    return json.dumps(doc, indent=2) + "\n"


def git(repo: Path, *args: str) -> None:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(repo.parent), **GIT_ENV}
    env["GIT_CONFIG_GLOBAL"] = str(repo.parent / "gitconfig")
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        check=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """`tmp/root`: the bookshop example, two OpenAPI documents, a runtime report, and
    links out of the root (to `tmp/outside`) that the server must refuse to follow."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text(openapi(["/secret"]), encoding="utf-8")
    (outside / "leak.py").write_text(BLOCKING_OUTSIDE, encoding="utf-8")
    shutil.copytree(EXAMPLE, root / "bookshop")
    (root / "openapi-v1.json").write_text(openapi(["/books", "/authors"]), encoding="utf-8")
    (root / "openapi-v2.json").write_text(openapi(["/books", "/orders"]), encoding="utf-8")
    (root / "profile.json").write_text(json.dumps(RUNTIME_REPORT), encoding="utf-8")
    (root / "not-a-report.json").write_text('{"rows": []}', encoding="utf-8")
    (root / "escape.json").symlink_to(outside / "secret.json")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "same.json").symlink_to(root / "openapi-v1.json")
    # A folder inside the reviewed project that links out of the root.
    (root / "bookshop" / "app" / "vendored").symlink_to(outside, target_is_directory=True)
    return root


Scenario = Callable[[Client], Awaitable[None]]


def run_server(root: Path, scenario: Scenario, env: dict[str, str] | None = None) -> None:
    """Start `python -m fastapi_architect mcp --root ROOT` and run `scenario` against it
    through the official MCP client, over stdio, as an assistant would."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "fastapi_architect", "mcp", "--root", str(root)],
        env=env,
        cwd=str(root.parent),
    )

    async def main() -> None:
        with anyio.fail_after(120):
            async with Client(params, read_timeout_seconds=60) as client:
                await scenario(client)

    anyio.run(main)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert not result.is_error, text
    assert result.structured_content is not None
    return result.structured_content


async def refused(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """The text of a tool error (an `isError` result, not a protocol failure)."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


def expected_tools() -> set[str]:
    from fastapi_architect.assistant.capabilities import tool_names

    return set(tool_names())


# --- listing ---------------------------------------------------------------------------


def test_lists_every_tool_with_schemas_and_annotations(project: Path) -> None:
    async def scenario(client: Client) -> None:
        assert client.server_info is not None
        assert client.server_info.name == "fastapi-architect"
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == expected_tools()
        assert {"review", "routes", "explain_rule", "contract_diff", "adr_new"} <= set(tools)
        assert {"new_project", "add_resource"} <= set(tools)
        for name, tool in tools.items():
            assert tool.description and len(tool.description) > 40, name
            assert tool.input_schema["type"] == "object", name
            assert tool.output_schema is not None, name
            assert tool.output_schema["type"] == "object", name
            assert tool.annotations is not None, name
            assert tool.annotations.title, name
            if name in ("adr_new", "new_project", "add_resource"):
                assert tool.annotations.read_only_hint is False
                assert tool.annotations.destructive_hint is False
            else:
                assert tool.annotations.read_only_hint is True, name
        review = tools["review"]
        assert set(review.input_schema["properties"]) == {
            "path",
            "select",
            "ignore",
            "max_findings",
        }
        assert review.input_schema.get("required", []) == []
        assert "findings" in review.output_schema["properties"]
        assert tools["explain_rule"].input_schema["required"] == ["code"]
        assert set(tools["contract_diff"].input_schema["required"]) == {"old", "new"}
        for writer in ("adr_new", "new_project", "add_resource"):
            assert tools[writer].input_schema["properties"]["write"]["default"] is False
        assert tools["add_resource"].input_schema["required"] == ["name", "fields"]

    run_server(project, scenario)


# --- review and routes -------------------------------------------------------------------


def test_review_reports_findings_and_progress(project: Path) -> None:
    from fastapi_architect.config import Config
    from fastapi_architect.review.engine import review_paths

    reference = review_paths([EXAMPLE], Config(), root=EXAMPLE)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async def scenario(client: Client) -> None:
        result = await client.call_tool(
            "review", {"path": "bookshop"}, progress_callback=on_progress
        )
        assert not result.is_error
        report = result.structured_content
        assert report is not None
        assert report["path"] == "bookshop"
        # The linked folder out of the root (app/vendored) is not read.
        assert report["files_checked"] == reference.files_checked
        assert report["total_findings"] == len(reference.findings)
        assert not report["truncated"]
        assert report["internal_errors"] == []
        assert [(f["code"], f["file"], f["line"]) for f in report["findings"]] == [
            (f.code, f"bookshop/{f.file}", f.line) for f in reference.findings
        ]
        counts = report["counts"]
        assert sum(counts.values()) == report["total_findings"]
        blocking = next(f for f in report["findings"] if f["code"] == "FAA201")
        assert blocking["file"] == "bookshop/app/api/routes/books.py"
        assert blocking["line"] == 73
        assert blocking["severity"] == "error"
        assert "event loop" in blocking["message"]
        assert blocking["why"] and "event loop" in blocking["why"]
        assert blocking["fix"] and "httpx.AsyncClient" in blocking["fix"]
        assert not any("vendored" in f["file"] for f in report["findings"])
        # The unstructured content mirrors the structured result.
        assert json.loads(result.content[0].text) == report  # type: ignore[union-attr]

        selected = await call(
            client,
            "review",
            {"path": "bookshop", "select": ["FAA2"], "ignore": ["FAA208"], "max_findings": 1},
        )
        assert len(selected["findings"]) == 1
        assert selected["findings"][0]["code"].startswith("FAA2")
        assert selected["findings"][0]["code"] != "FAA208"
        assert selected["total_findings"] > 1
        assert selected["truncated"] is True

        one_file = await call(client, "review", {"path": "bookshop/app/api/routes/books.py"})
        assert one_file["path"] == "bookshop/app/api/routes/books.py"
        assert one_file["files_checked"] == 1
        assert {f["file"] for f in one_file["findings"]} <= {"bookshop/app/api/routes/books.py"}

    run_server(project, scenario)

    # Progress: from 0 to the total, never backwards, with the steps named.
    assert len(progress) >= 3
    assert progress[0][0] == 0
    totals = {total for _, total, _ in progress}
    assert len(totals) == 1
    total = totals.pop()
    assert total == reference.files_checked + 2
    assert progress[-1][0] == total
    dones = [done for done, _, _ in progress]
    assert dones == sorted(dones)
    messages = [m for _, _, m in progress]
    assert "running the rules" in messages


def test_routes_inventory(project: Path) -> None:
    from fastapi_architect.config import Config
    from fastapi_architect.model.inventory import inventory
    from fastapi_architect.review.engine import load_model

    reference = inventory(load_model([EXAMPLE], Config(), root=EXAMPLE))

    async def scenario(client: Client) -> None:
        report = await call(client, "routes", {"path": "bookshop"})
        assert report["count"] == len(reference) == len(report["routes"])
        expected = [{**r.as_dict(), "file": f"bookshop/{r.file}"} for r in reference]
        assert report["routes"] == expected
        imports = next(r for r in report["routes"] if r["path"] == "/api/v1/admin/books/import")
        assert imports["method"] == "POST"
        assert imports["file"] == "bookshop/app/api/routes/admin.py"
        assert imports["authenticated"] is True
        assert imports["status_code"] == 201
        assert await refused(client, "routes", {"path": "openapi-v1.json"}) == (
            "Error executing tool routes: not a folder: 'openapi-v1.json'"
        )

    run_server(project, scenario)


def test_review_reads_the_project_configuration_inside_the_root_only(project: Path) -> None:
    # Above the root: a configuration that would fail if it were read.
    (project.parent / "pyproject.toml").write_text(
        "[tool.fastapi-architect]\nnot-a-key = 1\n", encoding="utf-8"
    )
    with (project / "bookshop" / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[tool.fastapi-architect]\nignore = ["FAA2"]\n')

    async def scenario(client: Client) -> None:
        configured = await call(client, "review", {"path": "bookshop"})
        assert configured["total_findings"] > 0
        assert not any(f["code"].startswith("FAA2") for f in configured["findings"])
        # No configuration between "." and the root: the defaults, FAA2 included.
        whole = await call(client, "review", {"path": ".", "max_findings": 1000})
        assert any(f["code"].startswith("FAA2") for f in whole["findings"])
        assert not any("vendored" in f["file"] or "outside" in f["file"] for f in whole["findings"])

    run_server(project, scenario)


# --- rules -------------------------------------------------------------------------------


def test_rules_and_explain_rule(project: Path) -> None:
    from fastapi_architect.review.registry import all_rules, get_rule

    rule = get_rule("FAA201")
    assert rule is not None

    async def scenario(client: Client) -> None:
        catalog = await call(client, "rules", {})
        assert [r["code"] for r in catalog["rules"]] == [r.code for r in all_rules()]
        doc = await call(client, "explain_rule", {"code": "faa201"})
        assert doc["code"] == "FAA201"
        assert doc["name"] == rule.name
        assert doc["docs"] == rule.docs
        assert doc["fix"] == rule.fix_title
        assert {"What it does", "Why is this bad?", "Example", "Use instead"} <= set(
            doc["sections"]
        )
        by_name = await call(client, "explain_rule", {"code": rule.name})
        assert by_name["code"] == "FAA201"

        message = await refused(client, "explain_rule", {"code": "FAA299"})
        assert "unknown rule code 'FAA299'" in message
        assert "FAA201" in message  # the rules of that group are named
        assert "unknown rule code 'nonsense'" in await refused(
            client, "explain_rule", {"code": "nonsense"}
        )
        # A missing argument is a tool error too, not a protocol failure.
        assert "code" in await refused(client, "explain_rule", {})

    run_server(project, scenario)


# --- root confinement and invalid arguments ------------------------------------------------


def test_paths_outside_the_root_and_bad_arguments_are_tool_errors(project: Path) -> None:
    outside = project.parent / "outside"

    async def scenario(client: Client) -> None:
        for path in ("../outside", "..", str(outside), "/etc", "bookshop/../../outside"):
            message = await refused(client, "review", {"path": path})
            assert "is outside the project root" in message, path
        # A symlink inside the root that points out of it.
        message = await refused(client, "review", {"path": "escape_dir"})
        assert "'escape_dir' is outside the project root" in message
        assert "outside the project root" in await refused(client, "routes", {"path": "escape_dir"})
        assert (
            "outside the project root"
            in await refused(client, "runtime_report", {"path": "escape.json"})
            or "runtime_report" not in expected_tools()
        )

        message = await refused(client, "review", {"path": "no/such/folder"})
        assert "path does not exist: 'no/such/folder'" in message
        message = await refused(client, "review", {"path": "bookshop", "select": ["FAA999"]})
        assert "unknown rule selector 'FAA999' in select" in message
        message = await refused(client, "review", {"path": "bookshop", "ignore": ["nope"]})
        assert "unknown rule selector 'NOPE' in ignore" in message
        assert "max_findings" in await refused(client, "review", {"max_findings": 0})
        assert "path" in await refused(client, "review", {"path": 42})

        # After all that, the server still answers.
        catalog = await call(client, "rules", {})
        assert catalog["count"] > 10

    run_server(project, scenario)


# --- contract ---------------------------------------------------------------------------------


def test_contract_diff_of_two_files(project: Path) -> None:
    async def scenario(client: Client) -> None:
        report = await call(
            client, "contract_diff", {"old": "openapi-v1.json", "new": "openapi-v2.json"}
        )
        assert report["base"] == "openapi-v1.json"
        assert report["revision"] == "openapi-v2.json"
        assert report["breaking"] is True
        assert report["counts"] == {"error": 1, "warning": 0, "info": 1}
        assert report["summary"] == "2 changes: 1 error, 1 info"
        removed, added = report["changes"]
        assert removed["id"] == "api-path-removed-without-deprecation"
        assert removed["level"] == "error"
        assert removed["breaking"] is True
        assert (removed["operation"], removed["path"]) == ("GET", "/authors")
        assert (removed["document"], removed["pointer"]) == ("openapi-v2.json", "/paths")
        assert added["id"] == "endpoint-added"
        assert added["breaking"] is False

        # A link that stays inside the root is fine.
        same = await call(client, "contract_diff", {"old": "same.json", "new": "openapi-v1.json"})
        assert same["breaking"] is False
        assert same["changes"] == []

        for old in ("../outside/secret.json", "escape.json", str(project.parent / "outside")):
            message = await refused(client, "contract_diff", {"old": old, "new": "openapi-v2.json"})
            assert "outside the project root" in message, old
        message = await refused(
            client, "contract_diff", {"old": "missing.json", "new": "openapi-v2.json"}
        )
        assert "path does not exist: 'missing.json'" in message
        message = await refused(
            client, "contract_diff", {"old": "profile.json", "new": "openapi-v2.json"}
        )
        assert "profile.json" in message  # not an OpenAPI document
        # REF:PATH where the root is not a git repository.
        message = await refused(
            client, "contract_diff", {"old": "main:openapi-v1.json", "new": "openapi-v2.json"}
        )
        assert "not in a git repository" in message

    run_server(project, scenario)


def test_contract_diff_at_a_git_revision(project: Path) -> None:
    git(project, "init", "--quiet")
    git(project, "add", "openapi-v1.json")
    git(project, "commit", "--quiet", "-m", "v1")
    # The working copy moves on; the committed document is the base.
    (project / "openapi-v1.json").write_text(openapi(["/books"]), encoding="utf-8")
    marker = project.parent / "written-by-git"

    async def scenario(client: Client) -> None:
        report = await call(
            client, "contract_diff", {"old": "HEAD:openapi-v1.json", "new": "openapi-v1.json"}
        )
        assert report["base"] == "HEAD:openapi-v1.json"
        assert [c["id"] for c in report["changes"]] == ["api-path-removed-without-deprecation"]
        message = await refused(
            client, "contract_diff", {"old": "HEAD:../outside/secret.json", "new": "same.json"}
        )
        assert "outside the project root" in message
        # A ref that would be an option to git is never passed to it.
        message = await refused(
            client,
            "contract_diff",
            {"old": f"--output={marker}:openapi-v1.json", "new": "same.json"},
        )
        assert "path does not exist" in message or "outside the project root" in message
        message = await refused(
            client, "contract_diff", {"old": "no-such-ref:openapi-v1.json", "new": "same.json"}
        )
        assert "no-such-ref:openapi-v1.json" in message

    env = {**GIT_ENV, "GIT_CONFIG_GLOBAL": str(project.parent / "gitconfig")}
    run_server(project, scenario, env=env)
    assert not marker.exists()


# --- runtime report ---------------------------------------------------------------------------


def test_runtime_report(project: Path) -> None:
    if "runtime_report" not in expected_tools():
        pytest.skip("this installation has no runtime profiler")

    async def scenario(client: Client) -> None:
        report = await call(client, "runtime_report", {"path": "profile.json"})
        assert report["path"] == "profile.json"
        assert report["endpoints_with_problems"] == 1
        authors, health = report["endpoints"]
        assert authors["route"] == "/api/v1/authors"
        assert authors["n_plus_one"][0]["count"] == 12
        assert authors["n_plus_one"][0]["location"] == "app/services/authors.py:21"
        assert health["duration_ms"] == {"p50": 0.4, "p95": 0.9, "max": 1.3}
        message = await refused(client, "runtime_report", {"path": "not-a-report.json"})
        assert "not a fastapi-architect runtime report" in message
        assert "path does not exist" in await refused(
            client, "runtime_report", {"path": "nope.json"}
        )
        assert "outside the project root" in await refused(
            client, "runtime_report", {"path": "../outside/secret.json"}
        )

    run_server(project, scenario)


# --- decision records ------------------------------------------------------------------------


def test_adr_new_proposes_and_writes_only_when_asked(project: Path) -> None:
    adr_dir = project / "docs" / "adr"

    async def scenario(client: Client) -> None:
        assert await call(client, "adr_list", {}) == {"folder": "docs/adr", "records": []}
        proposal = await call(
            client,
            "adr_new",
            {
                "title": "Use PostgreSQL for orders",
                "context": "Orders need transactions across tables.",
                "decision": "We will store orders in PostgreSQL.",
                "positive": ["Transactions"],
                "negative": ["One more service to run"],
                "alternatives": ["SQLite: no concurrent writers"],
            },
        )
        assert proposal["written"] is False
        assert proposal["number"] == 1
        assert proposal["path"] == "docs/adr/0001-use-postgresql-for-orders.md"
        text = proposal["text"]
        for heading in (
            "## Status",
            "## Context",
            "## Decision",
            "## Consequences",
            "### Positive",
            "### Negative",
            "## Alternatives considered",
        ):
            assert heading in text
        assert "Orders need transactions across tables." in text
        assert "- SQLite: no concurrent writers" in text
        assert not adr_dir.exists()  # a proposal writes nothing

        written = await call(
            client, "adr_new", {"title": "Use PostgreSQL for orders", "write": True}
        )
        assert written["written"] is True
        path = project / written["path"]
        assert path.read_text(encoding="utf-8") == written["text"]

        second = await call(client, "adr_new", {"title": "Version the API in the path"})
        assert second["number"] == 2
        assert second["path"] == "docs/adr/0002-version-the-api-in-the-path.md"

        listed = await call(client, "adr_list", {})
        assert listed["records"] == [
            {
                "number": 1,
                "title": "Use PostgreSQL for orders",
                "status": "Proposed",
                "path": "docs/adr/0001-use-postgresql-for-orders.md",
            }
        ]
        assert "unknown status" in await refused(
            client, "adr_new", {"title": "X", "status": "Maybe"}
        )
        assert "the title is empty" in await refused(client, "adr_new", {"title": "   "})

    run_server(project, scenario)


def test_adr_new_refuses_a_record_folder_linked_out_of_the_root(project: Path) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "adr").symlink_to(project.parent / "outside", target_is_directory=True)

    async def scenario(client: Client) -> None:
        message = await refused(client, "adr_new", {"title": "Anything", "write": True})
        assert "outside the project root" in message
        assert "outside the project root" in await refused(client, "adr_list", {})

    run_server(project, scenario)
    assert not list((project.parent / "outside").glob("0001-*"))


# --- generator ---------------------------------------------------------------------------


def test_new_project_and_add_resource_plan_then_write(project: Path) -> None:
    service = project / "services" / "orders"

    async def scenario(client: Client) -> None:
        plan = await call(client, "new_project", {"name": "orders", "path": "services"})
        assert plan["written"] is False and plan["path"] == "services/orders"
        paths = {f["path"] for f in plan["files"]}
        assert {"services/orders/app/main.py", "services/orders/.gitignore"} <= paths
        assert not service.exists()  # a plan writes nothing

        written = await call(
            client, "new_project", {"name": "orders", "path": "services", "write": True}
        )
        assert written["written"] is True
        assert {f["path"] for f in written["files"]} == paths
        assert all((project / path).is_file() for path in paths)
        assert "exists and is not empty" in await refused(
            client, "new_project", {"name": "orders", "path": "services", "write": True}
        )

        fields = ["title:str:max=80", "quantity:int", "due:date:optional"]
        args = {"name": "task", "fields": fields, "project": "services/orders"}
        resource = await call(client, "add_resource", args)
        assert resource["written"] is False
        actions = {f["path"]: f["action"] for f in resource["files"]}
        assert actions["services/orders/app/models/task.py"] == "create"
        assert actions["services/orders/app/api/v1/router.py"] == "modify"
        assert not (service / "app" / "models" / "task.py").exists()

        done = await call(client, "add_resource", {**args, "write": True})
        assert done["written"] is True
        assert (service / "app" / "models" / "task.py").is_file()
        assert "task" in (service / "app" / "api" / "v1" / "router.py").read_text()

        assert "exists" in await refused(client, "add_resource", args)
        assert "bogus" in await refused(
            client, "add_resource", {**args, "name": "note", "fields": ["x:bogus"]}
        )
        assert "outside the project root" in await refused(
            client, "new_project", {"name": "x", "path": "../elsewhere"}
        )
        assert "outside the project root" in await refused(
            client, "add_resource", {**args, "project": "escape_dir"}
        )

    run_server(project, scenario)
    assert not (project.parent / "elsewhere").exists()
