"""The pre-commit hook and the GitHub Action: their files' structure, and the action's
review step run for real (bash, the installed CLI, a SARIF file checked against the schema)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
import yaml

from fastapi_architect.cli import app

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"

#: The keys pre-commit accepts in a hook manifest (pre-commit's `MANIFEST_HOOK_DICT`).
PRE_COMMIT_KEYS = {
    "id",
    "name",
    "entry",
    "language",
    "alias",
    "files",
    "exclude",
    "types",
    "types_or",
    "exclude_types",
    "additional_dependencies",
    "args",
    "always_run",
    "fail_fast",
    "pass_filenames",
    "description",
    "language_version",
    "log_file",
    "require_serial",
    "stages",
    "verbose",
    "minimum_pre_commit_version",
}


def _load(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def _command_names() -> set[str]:
    return {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}


# --- pre-commit -----------------------------------------------------------------------------


def test_pre_commit_hook() -> None:
    hooks = _load(".pre-commit-hooks.yaml")
    assert isinstance(hooks, list) and len(hooks) == 1
    (hook,) = hooks
    assert set(hook) <= PRE_COMMIT_KEYS, set(hook) - PRE_COMMIT_KEYS
    assert hook["id"] == "fastapi-architect"
    assert hook["entry"] == "fastapi-architect review"
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    # Project-wide analysis: reviewing only the staged files would lose the routers and
    # dependencies defined elsewhere (false "route without auth" findings).
    assert hook["pass_filenames"] is False
    assert hook["require_serial"] is True
    # The entry is this package's console script and one of its commands.
    script, command = hook["entry"].split()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert script in pyproject["project"]["scripts"]
    assert command in _command_names()


# --- the GitHub Action ----------------------------------------------------------------------


def test_action_structure() -> None:
    action = _load("action.yml")
    assert action["name"] and action["description"]
    inputs = action["inputs"]
    assert {"path", "args", "sarif-file", "upload-sarif"} <= set(inputs)
    assert inputs["path"]["default"] == "."
    assert inputs["upload-sarif"]["default"] == "true"
    assert inputs["sarif-file"]["default"].endswith(".sarif")
    for spec in inputs.values():
        assert spec["description"] and isinstance(spec["default"], str)
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    for step in steps:
        # Composite run steps must name their shell.
        assert ("run" in step) != ("uses" in step)
        if "run" in step:
            assert step["shell"] == "bash"
            # No `${{ inputs.* }}` spliced into a script (script injection): env only.
            assert "${{" not in step["run"], step["name"]

    install = next(s for s in steps if s["name"].startswith("Install"))
    assert "pip install" in install["run"]
    review = next(s for s in steps if s.get("id") == "review")
    assert "--format sarif" in review["run"]
    assert review["env"]["SARIF_FILE"] == "${{ inputs.sarif-file }}"
    upload = next(s for s in steps if "uses" in s)
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "inputs.upload-sarif == 'true'" in upload["if"]
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.review.outputs.exit-code }}"


def _fastapi_architect() -> str:
    script = Path(sys.executable).with_name("fastapi-architect")
    found = str(script) if script.exists() else shutil.which("fastapi-architect")
    if found is None:
        pytest.fail("the fastapi-architect console script is not installed", pytrace=False)
    return found


def _run_review_step(tmp_path: Path, path: str, args: str) -> tuple[int, str, Path]:
    step = next(s for s in _load("action.yml")["runs"]["steps"] if s.get("id") == "review")
    script = tmp_path / "review-step.sh"
    script.write_text(step["run"], encoding="utf-8")
    output = tmp_path / "github-output"
    output.write_text("", encoding="utf-8")
    sarif = tmp_path / "out dir" / "report.sarif"
    sarif.parent.mkdir()
    env = {
        **os.environ,
        "REVIEW_PATH": path,
        "REVIEW_ARGS": args,
        "SARIF_FILE": str(sarif),
        "FASTAPI_ARCHITECT": _fastapi_architect(),
        "FASTAPI_ARCHITECT_PYTHON": sys.executable,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_WORKSPACE": str(ROOT),
    }
    # As GitHub runs a `shell: bash` step.
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, output.read_text(encoding="utf-8"), sarif


def test_action_review_step_writes_repository_relative_sarif(tmp_path: Path) -> None:
    code, outputs, sarif = _run_review_step(tmp_path, "examples/bookshop", "--ignore FAA705")
    assert code == 0, outputs
    assert "exit-code=1\n" in outputs  # findings, but the step itself succeeds
    log = json.loads(sarif.read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(log)) == []
    run = log["runs"][0]
    assert run["results"]
    assert all(r["ruleId"] != "FAA705" for r in run["results"])  # `args` reached the CLI
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    for result in run["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("examples/bookshop/"), uri
        assert (ROOT / unquote(uri)).is_file(), uri


def test_action_review_step_fails_on_a_usage_error(tmp_path: Path) -> None:
    code, outputs, _ = _run_review_step(tmp_path, "no/such/folder", "")
    assert code == 2
    assert "exit-code=2\n" in outputs
