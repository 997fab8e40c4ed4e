"""`fastapi-architect contract diff|changelog|snapshot`: exit codes, formats, policy files,
input errors. The policy and exit-code tests give the CLI a fixed list of changes in place
of the differ (the differ has its own tests), so they do not depend on its messages; the
"real differ" and `--app` ones run it end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app
from fastapi_architect.contract import differ
from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import Document

runner = CliRunner()

BASE = """\
{
  "openapi": "3.1.0",
  "info": {"title": "Pets", "version": "1"},
  "paths": {
    "/pets": {"get": {"responses": {"200": {"description": "ok"}}}},
    "/owners": {"get": {"responses": {"200": {"description": "ok"}}}}
  }
}
"""
REVISION = """\
{
  "openapi": "3.1.0",
  "info": {"title": "Pets", "version": "2"},
  "paths": {
    "/pets": {"get": {"responses": {"200": {"description": "ok"}}}}
  }
}
"""

REMOVED = Change(
    id="api-path-removed-without-deprecation",
    level=Level.ERROR,
    message="removed the path `/owners`",
    operation="GET",
    path="/owners",
    pointer="/paths/~1owners/get",
    location="/paths/~1owners/get",
    in_base=True,
)
ADDED = Change(
    id="response-optional-property-added",
    level=Level.WARNING,
    message="added the optional property `name`",
    operation="GET",
    path="/pets",
    pointer="/paths/~1pets/get/responses/200",
    location="/paths/~1pets/get/responses/200",
)
NOTE = Change(
    id="api-tag-added",
    level=Level.INFO,
    message="added the tag `pets`",
    operation="GET",
    path="/pets",
    pointer="/paths/~1pets/get",
)


def contract(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["contract", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "base.json").write_text(BASE, encoding="utf-8")
    (tmp_path / "revision.json").write_text(REVISION, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def reported(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[Change]], None]:
    """Make the differ report these changes, whatever the documents."""

    def use(changes: list[Change]) -> None:
        def fixed(base: Document, revision: Document, **_: object) -> list[Change]:
            return list(changes)

        monkeypatch.setattr(differ, "diff_documents", fixed)

    return use


# --- exit codes ---------------------------------------------------------------------------


def test_identical_documents_exit_0(project: Path) -> None:
    code, stdout, stderr = contract("diff", "base.json", "base.json")
    assert code == 0
    assert stdout == "No changes.\n"
    assert stderr == ""


@pytest.mark.parametrize(
    ("changes", "fail_on", "code"),
    [
        ([REMOVED, ADDED, NOTE], None, 1),
        ([ADDED, NOTE], None, 0),
        ([ADDED, NOTE], "warning", 1),
        ([NOTE], "warning", 0),
        ([NOTE], "info", 1),
        ([REMOVED], "info", 1),
        ([], "info", 0),
    ],
)
def test_fail_on(
    project: Path,
    reported: Callable[[list[Change]], None],
    changes: list[Change],
    fail_on: str | None,
    code: int,
) -> None:
    reported(changes)
    args = ["diff", "base.json", "revision.json"]
    if fail_on is not None:
        args += ["--fail-on", fail_on]
    assert contract(*args)[0] == code


def test_json_report_and_output_file(
    project: Path, reported: Callable[[list[Change]], None]
) -> None:
    reported([REMOVED, NOTE])
    code, stdout, _ = contract(
        "diff", "base.json", "revision.json", "--format", "json", "-o", "report.json"
    )
    assert code == 1
    assert stdout == ""
    data = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert data["breaking"] is True
    assert [(c["id"], c["level"], c["source"]) for c in data["changes"]] == [
        (REMOVED.id, "error", "base.json#/paths/~1owners/get"),
        (NOTE.id, "info", "revision.json#/paths/~1pets/get"),
    ]


def test_changelog_exits_0_with_breaking_changes(
    project: Path, reported: Callable[[list[Change]], None]
) -> None:
    reported([REMOVED, ADDED, NOTE])
    code, stdout, _ = contract("changelog", "base.json", "revision.json", "--format", "markdown")
    assert code == 0
    assert stdout.startswith("# API changelog\n")
    assert "## `GET /owners`" in stdout
    assert "- **info** `api-tag-added`: added the tag `pets`" in stdout


def test_unwritable_output_exits_2(project: Path, reported: Callable[[list[Change]], None]) -> None:
    reported([NOTE])
    code, _, stderr = contract("diff", "base.json", "revision.json", "-o", "missing/dir/r.txt")
    assert code == 2
    assert stderr.startswith("fastapi-architect: error: cannot write missing/dir/r.txt: ")


# --- ignore and severity files ------------------------------------------------------------


def test_ignore_file_accepts_a_change(
    project: Path, reported: Callable[[list[Change]], None]
) -> None:
    reported([REMOVED, NOTE])
    (project / "accepted.yaml").write_text(
        "- id: api-path-removed-without-deprecation\n"
        "  operation: GET /owners\n"
        "  reason: nobody calls it\n"
        "  expires: 2999-01-01\n",
        encoding="utf-8",
    )
    code, stdout, stderr = contract(
        "diff", "base.json", "revision.json", "--ignore", "accepted.yaml", "--format", "json"
    )
    assert code == 0
    assert [c["id"] for c in json.loads(stdout)["changes"]] == [NOTE.id]
    assert stderr == "fastapi-architect: 1 accepted change ignored (accepted.yaml)\n"


def test_expired_ignore_entry_warns_and_no_longer_applies(
    project: Path, reported: Callable[[list[Change]], None]
) -> None:
    reported([REMOVED])
    (project / "accepted.yaml").write_text(
        f"- fingerprint: {REMOVED.fingerprint}\n  expires: 2020-01-01\n", encoding="utf-8"
    )
    code, _, stderr = contract("diff", "base.json", "revision.json", "--ignore", "accepted.yaml")
    assert code == 1
    assert stderr == (
        f"fastapi-architect: warning: accepted.yaml:1: {REMOVED.fingerprint}: "
        "expired on 2020-01-01, no longer applies\n"
    )


def test_severity_levels_file(project: Path, reported: Callable[[list[Change]], None]) -> None:
    reported([REMOVED, ADDED])
    (project / "levels.txt").write_text(
        "api-path-removed-without-deprecation NONE\nresponse-optional-property-added ERR\n",
        encoding="utf-8",
    )
    code, stdout, _ = contract(
        "diff", "base.json", "revision.json", "--severity-levels", "levels.txt", "--format", "json"
    )
    assert code == 1
    assert [(c["id"], c["level"]) for c in json.loads(stdout)["changes"]] == [(ADDED.id, "error")]


def test_bad_ignore_file_exits_2_with_file_and_line(project: Path) -> None:
    (project / "accepted.yaml").write_text(
        "- id: a\n  operation: GET /x\n- id: b\n  operation: GET /x\n  expires: soon\n",
        encoding="utf-8",
    )
    code, stdout, stderr = contract(
        "diff", "base.json", "revision.json", "--ignore", "accepted.yaml"
    )
    assert code == 2
    assert stdout == ""
    assert stderr == (
        "fastapi-architect: error: accepted.yaml:3: "
        "`expires` must be a date like 2025-12-31, found 'soon'\n"
    )


def test_bad_severity_file_exits_2_with_line(project: Path) -> None:
    (project / "levels.txt").write_text("# levels\nrequest-parameter-removed LOUD\n")
    code, _, stderr = contract(
        "changelog", "base.json", "revision.json", "--severity-levels", "levels.txt"
    )
    assert code == 2
    assert stderr == (
        "fastapi-architect: error: levels.txt:2: "
        "unknown level 'LOUD' (expected ERR, WARN, INFO or NONE)\n"
    )


def test_missing_policy_file_exits_2(project: Path) -> None:
    code, _, stderr = contract("diff", "base.json", "revision.json", "--ignore", "nope.yaml")
    assert code == 2
    assert stderr == "fastapi-architect: error: nope.yaml: no such file\n"


# --- input errors -------------------------------------------------------------------------


def test_missing_document_exits_2(project: Path) -> None:
    code, stdout, stderr = contract("diff", "base.json", "nope.json")
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("fastapi-architect: error: nope.json: ")
    assert "Traceback" not in stderr


def test_invalid_json_exits_2_with_file_and_line(project: Path) -> None:
    (project / "broken.json").write_text('{\n  "openapi": "3.1.0",\n  "paths": {,}\n}\n')
    code, _, stderr = contract("diff", "base.json", "broken.json")
    assert code == 2
    assert stderr.startswith("fastapi-architect: error: broken.json:3: invalid JSON: ")


def test_not_openapi_exits_2(project: Path) -> None:
    (project / "swagger.yaml").write_text("swagger: '2.0'\ninfo: {}\n")
    code, _, stderr = contract("changelog", "swagger.yaml", "base.json")
    assert code == 2
    assert stderr == (
        "fastapi-architect: error: swagger.yaml:1: "
        "Swagger 2.0 is not supported: convert it to OpenAPI 3 first\n"
    )


def test_unknown_format_is_a_usage_error(project: Path) -> None:
    code, _, _ = contract("diff", "base.json", "revision.json", "--format", "xml")
    assert code == 2
    code, _, _ = contract("changelog", "base.json", "revision.json", "--format", "sarif")
    assert code == 2


# --- with the real differ -----------------------------------------------------------------


def test_removed_path_exits_1(project: Path) -> None:
    code, stdout, _ = contract("diff", "base.json", "revision.json", "--format", "json")
    assert code == 1
    data = json.loads(stdout)
    assert data["breaking"] is True
    assert any(c["path"] == "/owners" and c["level"] == "error" for c in data["changes"])
    assert contract("diff", "revision.json", "base.json")[0] == 0


APP_V1 = """\
from fastapi import FastAPI

app = FastAPI(title="Pets")


@app.get("/pets")
def pets() -> list[str]:
    return []


@app.get("/owners")
def owners() -> list[str]:
    return []
"""

APP_V2 = APP_V1.split('\n\n@app.get("/owners")')[0] + "\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def app_repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "main.py").write_text(APP_V1, encoding="utf-8")
    _git(repo, "add", "main.py")
    _git(repo, "commit", "-q", "-m", "v1")
    (repo / "main.py").write_text(APP_V2, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "v2")
    return repo


def test_app_at_two_refs_same_app_is_clean(app_repo: Path) -> None:
    code, stdout, stderr = contract(
        "diff", "HEAD", "HEAD", "--app", "main:app", "--project", str(app_repo)
    )
    assert (code, stderr) == (0, "")
    assert stdout == "No changes.\n"


def test_app_at_two_refs_removed_route_exits_1(app_repo: Path) -> None:
    code, stdout, _ = contract(
        "diff",
        "HEAD~1",
        "HEAD",
        "--app",
        "main:app",
        "--project",
        str(app_repo),
        "--format",
        "json",
    )
    assert code == 1
    assert any(c["path"] == "/owners" for c in json.loads(stdout)["changes"])


def test_app_at_unknown_ref_exits_2(app_repo: Path) -> None:
    code, _, stderr = contract(
        "diff", "no-such-ref", "HEAD", "--app", "main:app", "--project", str(app_repo)
    )
    assert code == 2
    assert stderr.startswith("fastapi-architect: error: ")
    assert "no-such-ref" in stderr
    assert "Traceback" not in stderr


# --- snapshot -----------------------------------------------------------------------------


def test_snapshot_writes_sorted_json(app_repo: Path) -> None:
    target = app_repo / "openapi.json"
    code, stdout, stderr = contract(
        "snapshot", "--app", "main:app", "--project", str(app_repo), "-o", str(target)
    )
    assert (code, stdout, stderr) == (0, "", "")
    text = target.read_text(encoding="utf-8")
    data = json.loads(text)
    assert set(data["paths"]) == {"/pets"}
    assert text == json.dumps(data, sort_keys=True, indent=2) + "\n"
    assert text.index('"info"') < text.index('"openapi"') < text.index('"paths"')
    # Without -o it goes to stdout, byte for byte the same.
    code, stdout, _ = contract("snapshot", "--app", "main:app", "--project", str(app_repo))
    assert code == 0
    assert stdout == text


def test_snapshot_of_a_missing_app_exits_2(app_repo: Path) -> None:
    code, stdout, stderr = contract("snapshot", "--app", "nowhere:app", "--project", str(app_repo))
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("fastapi-architect: error: ")
    assert "nowhere" in stderr


def test_snapshot_requires_app() -> None:
    assert contract("snapshot")[0] == 2


# --- warnings and problems found while diffing ----------------------------------------------


def _api(schema: dict[str, object], **components: object) -> str:
    content = {"application/json": {"schema": schema}}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "post": {
                    "requestBody": {"content": content},
                    "responses": {"200": {"description": "OK"}},
                }
            }
        },
        "components": {"schemas": components},
    }
    return json.dumps(doc)


def test_a_reference_to_nothing_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(_api({"type": "object"}))
    (tmp_path / "b.json").write_text(_api({"$ref": "#/components/schemas/Gone"}))
    code, _, stderr = contract("diff", "a.json", "b.json")
    assert code == 2
    assert "b.json: $ref '#/components/schemas/Gone' points to nothing" in stderr


def test_a_reference_to_another_file_is_named_in_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(_api({"$ref": "other.json#/X"}))
    code, _, stderr = contract("diff", "a.json", "a.json")
    assert code == 0
    assert "$ref 'other.json#/X' to another file is not followed" in stderr


def test_policy_entries_that_do_nothing_are_warned_about(project: Path) -> None:
    (project / "levels.txt").write_text("api-path-removed-without-deprecation WARN\nbogus-id ERR\n")
    (project / "ignore.yaml").write_text("- fingerprint: deadbeefdeadbeef\n  reason: old\n")
    code, _, stderr = contract(
        "diff",
        "base.json",
        "revision.json",
        "--severity-levels",
        "levels.txt",
        "--ignore",
        "ignore.yaml",
    )
    assert "'bogus-id' is not a change id" in stderr
    assert "'api-path-removed-without-deprecation'" not in stderr
    assert "matches no change" in stderr
    assert code in (0, 1)


def test_python_option_picks_the_interpreter_that_imports_the_app(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")
    code, _, stderr = contract(
        "snapshot",
        "--app",
        "main:app",
        "--project",
        str(tmp_path),
        "--python",
        str(tmp_path / "nope"),
    )
    assert code == 2
    assert "nope" in stderr
    code, stdout, _ = contract(
        "snapshot",
        "--app",
        "main:app",
        "--project",
        str(tmp_path),
        "--python",
        sys.executable,
    )
    assert code == 0
    assert json.loads(stdout)["openapi"].startswith("3.")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_github_annotations_name_the_file_from_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    backend = tmp_path / "backend"
    backend.mkdir()
    (backend / "base.json").write_text(BASE)
    (backend / "revision.json").write_text(REVISION)
    monkeypatch.chdir(backend)
    code, stdout, _ = contract("diff", "base.json", "revision.json", "--format", "github")
    assert code == 1
    assert "file=backend/revision.json" in stdout
