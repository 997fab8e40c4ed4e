"""End-to-end tests of `fastapi-architect review`: exit codes, formats, config, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app

runner = CliRunner()

BLOCKING = """\
import time
from fastapi import APIRouter

router = APIRouter()


@router.get("/slow")
async def slow():
    time.sleep(1)
    return {}
"""

CLEAN = """\
from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/fine", summary="Say that all is fine")
def fine() -> dict[str, str]:
    return {"ok": "yes"}
"""


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def review(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["review", *args])
    return result.exit_code, result.stdout, result.stderr


def test_findings_exit_1_and_text_report(tmp_path: Path) -> None:
    write(tmp_path, {"api.py": BLOCKING})
    code, out, _ = review(str(tmp_path), "--select", "FAA208", "--no-color")
    assert code == 1
    assert "api.py:9:5: FAA208 [blocking-call-in-async-path]" in out
    assert "time.sleep(1)" in out  # the code frame
    assert "Found 1 finding" in out
    assert "\x1b[" not in out


def test_clean_tree_exits_0(tmp_path: Path) -> None:
    write(tmp_path, {"api.py": CLEAN})
    code, out, _ = review(str(tmp_path), "--select", "FAA208")
    assert code == 0
    assert "All checked!" in out


def test_exit_zero(tmp_path: Path) -> None:
    write(tmp_path, {"api.py": BLOCKING})
    code, _, _ = review(str(tmp_path), "--select", "FAA208", "--exit-zero")
    assert code == 0


def test_json_format_and_output_file(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/api.py": BLOCKING})
    out_file = tmp_path / "report.json"
    code, out, _ = review(
        str(tmp_path), "--select", "FAA208", "--format", "json", "--output-file", str(out_file)
    )
    assert code == 1
    assert out == ""
    data = json.loads(out_file.read_text())
    assert data == [
        {
            "code": "FAA208",
            "name": "blocking-call-in-async-path",
            "message": data[0]["message"],
            "file": "pkg/api.py",
            "line": 9,
            "column": 5,
            "end_line": 9,
            "end_column": 18,
            "severity": "error",
            "fix": data[0]["fix"],
        }
    ]
    assert "time.sleep" in data[0]["message"]


def test_text_report_to_a_file_is_the_one_printed(tmp_path: Path) -> None:
    # The text report is written finding by finding; to a file or stdout, the same text,
    # with the summary and the fix hint after the findings.
    write(tmp_path, {"pkg/api.py": BLOCKING, "pkg/other.py": BLOCKING})
    out_file = tmp_path / "report.txt"
    code, printed, _ = review(str(tmp_path / "pkg"), "--no-color")
    assert code == 1
    code, out, _ = review(str(tmp_path / "pkg"), "--no-color", "--output-file", str(out_file))
    assert (code, out) == (1, "")
    written = out_file.read_text(encoding="utf-8")
    assert written == printed
    assert written.index("api.py:9:5:") < written.index("other.py:9:5:") < written.index("Found")
    code, _, err = review(str(tmp_path / "pkg"), "--output-file", str(tmp_path / "no" / "x.txt"))
    assert code == 2
    assert "cannot write" in err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_report_stdout_cannot_take_is_a_clear_error(tmp_path: Path) -> None:
    # A redirection to a full disk: one line on stderr and exit 2, never a traceback.
    write(tmp_path, {"pkg/api.py": BLOCKING})
    for fmt in ("text", "json"):
        with open("/dev/full", "w") as full:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "fastapi_architect",
                    "review",
                    str(tmp_path),
                    "--format",
                    fmt,
                ],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        assert proc.returncode == 2, proc.stderr
        assert (
            proc.stderr
            == "fastapi-architect: error: cannot write the report: No space left on device\n"
        )


def test_github_format(tmp_path: Path) -> None:
    write(tmp_path, {"api.py": BLOCKING})
    code, out, _ = review(str(tmp_path), "--select", "FAA208", "--format", "github")
    assert code == 1
    assert out.startswith("::error file=api.py,line=9,col=5,endLine=9,endColumn=18,")


def test_sarif_format_is_json(tmp_path: Path) -> None:
    write(tmp_path, {"api.py": BLOCKING})
    code, out, _ = review(str(tmp_path), "--select", "FAA208", "--format", "sarif")
    assert code == 1
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"][0]["ruleId"] == "FAA208"


def test_missing_path_exits_2_with_one_line(tmp_path: Path) -> None:
    code, out, err = review(str(tmp_path / "nope"))
    assert code == 2
    assert err.strip() == f"fastapi-architect: error: path does not exist: {tmp_path / 'nope'}"
    assert "Traceback" not in out + err


def test_unknown_config_key_exits_2(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "api.py": CLEAN,
            "pyproject.toml": '[tool.fastapi-architect]\nselct = ["FAA2"]\n',
        },
    )
    code, _, err = review(str(tmp_path))
    assert code == 2
    assert "unknown key 'selct'" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_config_value_exits_2(tmp_path: Path) -> None:
    write(
        tmp_path, {"api.py": CLEAN, "pyproject.toml": '[tool.fastapi-architect]\nignore = "FAA2"\n'}
    )
    code, _, err = review(str(tmp_path))
    assert code == 2
    assert "'ignore' must be a list of strings" in err


def test_invalid_toml_exits_2(tmp_path: Path) -> None:
    cfg = write(tmp_path, {"pyproject.toml": "[tool.fastapi-architect\n"}) / "pyproject.toml"
    code, _, err = review(str(tmp_path), "--config", str(cfg))
    assert code == 2
    assert "invalid TOML" in err


def test_unknown_selector_exits_2(tmp_path: Path) -> None:
    write(tmp_path, {"api.py": CLEAN})
    code, _, err = review(str(tmp_path), "--select", "FAA999")
    assert code == 2
    assert "unknown rule selector 'FAA999'" in err


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    code, _, _ = review(str(tmp_path), "--format", "xml")
    assert code == 2


def test_config_select_ignore_and_per_file_ignores(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.py": BLOCKING,
            "legacy/b.py": BLOCKING,
            "pyproject.toml": (
                "[tool.fastapi-architect]\n"
                'select = ["FAA2"]\n'
                '[tool.fastapi-architect.per-file-ignores]\n"legacy/*" = ["FAA208"]\n'
            ),
        },
    )
    code, out, _ = review(str(tmp_path), "--format", "json")
    assert code == 1
    assert [f["file"] for f in json.loads(out)] == ["a.py"]
    code, out, _ = review(str(tmp_path), "--format", "json", "--ignore", "FAA208")
    assert code == 0
    assert json.loads(out) == []


def test_config_exclude_and_cli_exclude(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.py": BLOCKING,
            "scripts/b.py": BLOCKING,
            "pyproject.toml": '[tool.fastapi-architect]\nextend-exclude = ["scripts"]\n',
        },
    )
    code, out, _ = review(str(tmp_path), "--format", "json", "--select", "FAA208")
    assert [f["file"] for f in json.loads(out)] == ["a.py"]
    code, out, _ = review(
        str(tmp_path), "--format", "json", "--select", "FAA208", "--exclude", "a.py"
    )
    assert code == 0


def test_default_excludes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": CLEAN,
            ".venv/lib/python3.11/site-packages/x/api.py": BLOCKING,
            "node_modules/x/api.py": BLOCKING,
            "build/lib/api.py": BLOCKING,
            "migrations/versions/0001_init.py": BLOCKING,
            ".git/hooks/api.py": BLOCKING,
        },
    )
    code, out, _ = review(str(tmp_path), "--format", "json", "--select", "FAA208")
    assert code == 0, out


def test_noqa_suppresses(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.py": BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: FAA208"),
            "b.py": BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa"),
            "c.py": BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: FAA201"),
            "d.py": BLOCKING.replace("time.sleep(1)", "x = '# noqa'; time.sleep(1)"),
        },
    )
    code, out, _ = review(str(tmp_path), "--format", "json", "--select", "FAA208")
    assert code == 1
    assert sorted(f["file"] for f in json.loads(out)) == ["c.py", "d.py"]


def test_syntax_error_is_reported_and_rest_reviewed(tmp_path: Path) -> None:
    write(tmp_path, {"broken.py": "def broken(:\n    pass\n", "api.py": BLOCKING})
    code, out, err = review(str(tmp_path), "--format", "json", "--select", "FAA000,FAA208")
    assert code == 1
    found = {(f["code"], f["file"], f["line"]) for f in json.loads(out)}
    assert found == {("FAA000", "broken.py", 1), ("FAA208", "api.py", 9)}
    assert "Traceback" not in err


def test_non_utf8_file_is_faa000(tmp_path: Path) -> None:
    write(tmp_path, {"latin.py": b"# caf\xe9\nx = 1\n", "api.py": CLEAN})
    code, out, _ = review(str(tmp_path), "--format", "json")
    findings = json.loads(out)
    assert code == 1
    assert [(f["code"], f["file"]) for f in findings] == [("FAA000", "latin.py")]
    assert findings[0]["message"] == "file is not valid utf-8 text (byte 0xe9 on line 1)"


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    write(tmp_path, {"latin.py": b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"})
    code, out, _ = review(str(tmp_path), "--format", "json")
    assert code == 0, out


def test_extremely_deep_expression_is_faa000(tmp_path: Path) -> None:
    deep = "x = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n"
    chain = "y = " + " + ".join(["a"] * 50_000) + "\n"
    write(tmp_path, {"deep.py": deep, "chain.py": chain, "api.py": BLOCKING})
    code, out, err = review(str(tmp_path), "--format", "json", "--select", "FAA000,FAA208")
    found = {(f["code"], f["file"]) for f in json.loads(out)}
    assert ("FAA000", "deep.py") in found
    assert ("FAA208", "api.py") in found
    assert "Traceback" not in err
    assert code == 1


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_symlink_loop_is_handled(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/api.py": BLOCKING})
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "loop")
    os.symlink(tmp_path / "missing", tmp_path / "dangling.py")
    code, out, _ = review(str(tmp_path), "--format", "json", "--select", "FAA208")
    assert code == 1
    assert [f["file"] for f in json.loads(out)] == ["pkg/api.py"]


def test_large_generated_file(tmp_path: Path) -> None:
    # Like generated protobuf or data modules: many long literal assignments.
    lines = [f"VALUE_{i} = ('item-{i}', {i}, '{'x' * 64}')" for i in range(60_000)]
    text = "\n".join(lines) + "\n"
    assert len(text.encode()) > 5 * 1024 * 1024
    write(tmp_path, {"generated.py": text, "api.py": BLOCKING})
    code, out, _ = review(str(tmp_path), "--format", "json", "--select", "FAA208")
    assert code == 1
    assert [f["file"] for f in json.loads(out)] == ["api.py"]


def test_single_file_path(tmp_path: Path) -> None:
    file = write(tmp_path, {"api.py": BLOCKING}) / "api.py"
    code, out, _ = review(str(file), "--format", "json", "--select", "FAA208")
    assert code == 1
    assert json.loads(out)[0]["file"] == "api.py"


def test_rules_and_rule_commands() -> None:
    result = runner.invoke(app, ["rules", "--format", "json"])
    assert result.exit_code == 0
    codes = [r["code"] for r in json.loads(result.stdout)]
    assert codes == sorted(codes)
    assert {"FAA000", "FAA201", "FAA208", "FAA602"} <= set(codes)
    result = runner.invoke(app, ["rule", "faa201"])
    assert result.exit_code == 0
    assert "# FAA201 blocking-http-call-in-async" in result.stdout
    assert "## Why is this bad?" in result.stdout
    result = runner.invoke(app, ["rule", "FAA999"])
    assert result.exit_code == 2
    assert "unknown rule code: FAA999" in result.stderr


def test_version_and_module_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fastapi_architect", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("fastapi-architect ")


def test_does_not_modify_reviewed_files(tmp_path: Path) -> None:
    write(tmp_path, {"api.py": BLOCKING, "broken.py": "def x(:\n"})
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    review(str(tmp_path))
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert before == after


def test_reviewed_code_warnings_are_not_printed(tmp_path: Path) -> None:
    # Invalid escapes warn at parse time (SyntaxWarning on 3.12+, DeprecationWarning
    # before): the user's code is reviewed, not compiled, so the tool prints nothing.
    write(tmp_path, {"api.py": CLEAN + 'PATTERN = "\\d+"\nIS = 1 is 1\n'})
    proc = subprocess.run(
        [sys.executable, "-W", "default", "-m", "fastapi_architect", "review", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout
    assert proc.stderr == ""


def test_routes_table_and_output_errors(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "bookshop"
    out = tmp_path / "routes.txt"
    result = runner.invoke(app, ["routes", str(example), "--output-file", str(out)])
    assert result.exit_code == 0
    table = out.read_text(encoding="utf-8")
    assert "23 routes" in table
    assert "list[BookOut]" in table  # brackets are text, not rich markup
    assert "/api/v1/admin/users/{user_id}" in table
    result = runner.invoke(app, ["routes", str(example), "-o", str(tmp_path / "no" / "x.txt")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
    result = runner.invoke(app, ["routes", str(tmp_path / "missing")])
    assert result.exit_code == 2
