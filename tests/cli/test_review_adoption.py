"""Adopting `review` on an existing codebase, end to end through the CLI: baselines,
statistics, `--show-source`, and the wiring of `--fix` / `--diff` / `--format html`."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_architect.cli import app
from fastapi_architect.review import fix_catalog
from fastapi_architect.review.finding import Finding
from fastapi_architect.review.result import ReviewResult

runner = CliRunner()

SLOW = """\
import time
from fastapi import APIRouter

router = APIRouter()


@router.get("/slow", summary="Slow", tags=["slow"])
async def slow() -> dict[str, str]:
    time.sleep(1)
    return {}
"""

SLOW_TWICE = """\
import time
from fastapi import APIRouter

router = APIRouter()


@router.get("/slow", summary="Slow", tags=["slow"])
async def slow() -> dict[str, str]:
    time.sleep(1)
    time.sleep(1)
    return {}
"""


def review(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["review", *args])
    return result.exit_code, result.stdout, result.stderr


def codes(stdout: str) -> list[str]:
    """The rule codes of a `--format json` report."""
    return [f["code"] for f in json.loads(stdout)]


def lines_of(stdout: str) -> list[tuple[str, int]]:
    return [(f["code"], f["line"]) for f in json.loads(stdout)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "api.py").write_text(SLOW, encoding="utf-8")
    return tmp_path


def baseline_of(project: Path) -> Path:
    path = project / "baseline.json"
    code, _, err = review(str(project / "app"), "--write-baseline", str(path))
    assert code == 0, err
    assert "Wrote 1 finding to the baseline" in err
    return path


# --- baseline ------------------------------------------------------------------------------


def test_baseline_silences_recorded_findings(project: Path) -> None:
    code, out, _ = review(str(project / "app"), "--format", "json")
    assert code == 1 and codes(out) == ["FAA208"]
    path = baseline_of(project)
    code, out, _ = review(str(project / "app"), "--baseline", str(path), "--format", "json")
    assert code == 0, out
    assert codes(out) == []
    code, out, _ = review(str(project / "app"), "--baseline", str(path), "--no-color")
    assert code == 0
    assert "All checked!" in out
    assert "1 finding in the baseline not shown" in out


def test_baseline_file_is_versioned_sorted_and_stable(project: Path) -> None:
    (project / "app" / "other.py").write_text(SLOW.replace("slow", "late"), encoding="utf-8")
    path = baseline_of_many(project)
    first = path.read_bytes()
    document = json.loads(first)
    assert document["format"] == "fastapi-architect-baseline"
    assert document["version"] == 1
    entries = document["findings"]
    assert [e["file"] for e in entries] == ["app/api.py", "app/other.py"]
    assert entries[0] == {
        "file": "app/api.py",
        "code": "FAA208",
        "scope": "slow",
        "statement": "time . sleep ( 1 )",
        "count": 1,
    }
    # No line numbers, no timestamps: writing again gives the same bytes.
    assert "line" not in entries[0]
    baseline_of_many(project)
    assert path.read_bytes() == first


def baseline_of_many(project: Path) -> Path:
    path = project / "baseline.json"
    code, _, err = review(str(project / "app"), "--write-baseline", str(path))
    assert code == 0, err
    return path


def test_lines_inserted_above_keep_the_finding_silent(project: Path) -> None:
    path = baseline_of(project)
    shifted = SLOW.replace(
        "router = APIRouter()\n",
        "router = APIRouter()\n\nLIMIT = 10\n\n\ndef helper() -> int:\n    return LIMIT\n",
    )
    (project / "app" / "api.py").write_text(shifted, encoding="utf-8")
    code, out, _ = review(str(project / "app"), "--format", "json")
    assert lines_of(out) == [("FAA208", 15)]  # The finding moved from line 9 ...
    code, out, _ = review(str(project / "app"), "--baseline", str(path), "--format", "json")
    assert (code, codes(out)) == (0, [])  # ... and is still the baselined one.


def test_reformatting_the_statement_keeps_it_silent(project: Path) -> None:
    path = baseline_of(project)
    reformatted = SLOW.replace(
        "    time.sleep(1)\n", "    time.sleep(  # wait a bit\n        1,\n    )\n"
    )
    (project / "app" / "api.py").write_text(reformatted, encoding="utf-8")
    code, out, _ = review(str(project / "app"), "--format", "json")
    assert codes(out) == ["FAA208"]
    code, out, _ = review(str(project / "app"), "--baseline", str(path), "--format", "json")
    assert (code, codes(out)) == (0, [])


def test_new_instance_is_reported(project: Path) -> None:
    path = baseline_of(project)
    (project / "app" / "api.py").write_text(SLOW_TWICE, encoding="utf-8")
    code, out, _ = review(str(project / "app"), "--baseline", str(path), "--format", "json")
    # Two identical statements in one function: one is baselined, one is new.
    assert code == 1
    assert lines_of(out) == [("FAA208", 10)]


def test_identical_findings_are_counted(project: Path) -> None:
    (project / "app" / "api.py").write_text(SLOW_TWICE, encoding="utf-8")
    path = project / "baseline.json"
    assert review(str(project / "app"), "--write-baseline", str(path))[0] == 0
    assert json.loads(path.read_text())["findings"][0]["count"] == 2
    three = SLOW_TWICE.replace("    return {}", "    time.sleep(1)\n    return {}")
    (project / "app" / "api.py").write_text(three, encoding="utf-8")
    code, out, _ = review(str(project / "app"), "--baseline", str(path), "--format", "json")
    assert code == 1
    assert codes(out) == ["FAA208"]  # two baselined, three present: one reported


def test_same_statement_in_another_function_is_new(project: Path) -> None:
    path = baseline_of(project)
    other = SLOW + (
        '\n\n@router.get("/later", summary="Later", tags=["slow"])\n'
        "async def later() -> dict[str, str]:\n"
        "    time.sleep(1)\n"
        "    return {}\n"
    )
    (project / "app" / "api.py").write_text(other, encoding="utf-8")
    code, out, _ = review(str(project / "app"), "--baseline", str(path), "--format", "json")
    assert code == 1
    assert lines_of(out) == [("FAA208", 15)]


def test_baseline_paths_do_not_depend_on_the_reviewed_folder(project: Path) -> None:
    path = baseline_of(project)  # written while reviewing `app/`
    code, out, _ = review(str(project), "--baseline", str(path), "--format", "json")
    assert (code, codes(out)) == (0, [])  # read while reviewing the project root


def test_missing_baseline_is_a_clear_error(project: Path) -> None:
    missing = project / "nope.json"
    code, out, err = review(str(project / "app"), "--baseline", str(missing))
    assert code == 2
    assert out == ""
    assert "baseline file not found" in err and "--write-baseline" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"version": 1, "findings": []}', "is not a fastapi-architect baseline"),
        ("[1, 2, 3]", "is not a fastapi-architect baseline"),
        (  # a SARIF file passed by mistake
            '{"version": "2.1.0", "runs": []}',
            "is not a fastapi-architect baseline",
        ),
        (
            '{"format": "fastapi-architect-baseline", "version": 99, "findings": []}',
            "format version 99",
        ),
        (
            '{"format": "fastapi-architect-baseline", "version": 1, "findings": [{"code": 1}]}',
            "finding #1 lacks text field(s)",
        ),
        (
            '{"format": "fastapi-architect-baseline", "version": 1, "findings": [{"file": "a",'
            ' "code": "FAA208", "scope": "f", "statement": "x", "count": 0}]}',
            "invalid count 0",
        ),
    ],
)
def test_corrupt_or_foreign_baseline_is_a_clear_error(
    project: Path, content: str, message: str
) -> None:
    path = project / "baseline.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = review(str(project / "app"), "--baseline", str(path))
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_binary_baseline_is_a_clear_error(project: Path) -> None:
    path = project / "baseline.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = review(str(project / "app"), "--baseline", str(path))
    assert code == 2
    assert "cannot read baseline" in err


def test_write_baseline_refuses_to_combine_with_baseline(project: Path) -> None:
    path = project / "baseline.json"
    code, _, err = review(
        str(project / "app"), "--write-baseline", str(path), "--baseline", str(path)
    )
    assert code == 2
    assert "--write-baseline cannot be combined with --baseline" in err
    assert not path.exists()


def test_write_baseline_into_missing_folder_is_created(project: Path) -> None:
    path = project / "ci" / "review-baseline.json"
    code, _, _ = review(str(project / "app"), "--write-baseline", str(path))
    assert code == 0
    assert json.loads(path.read_text())["findings"][0]["code"] == "FAA208"


def test_write_baseline_to_a_folder_is_a_clear_error(project: Path) -> None:
    code, _, err = review(str(project / "app"), "--write-baseline", str(project))
    assert code == 2
    assert "cannot write baseline" in err


# --- statistics ----------------------------------------------------------------------------


def statistics_project(tmp_path: Path) -> Path:
    (tmp_path / "api.py").write_text(SLOW_TWICE, encoding="utf-8")
    (tmp_path / "plain.py").write_text(
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
        '@router.get("/x")\nasync def x():\n    return {}\n',
        encoding="utf-8",
    )
    return tmp_path


def test_statistics_counts_per_rule_most_frequent_first(tmp_path: Path) -> None:
    root = statistics_project(tmp_path)
    code, out, _ = review(str(root), "--format", "json")
    found = codes(out)
    code, out, _ = review(str(root), "--statistics", "--no-color")
    assert code == 1
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    counted = {row[1].strip(): int(row[0]) for row in rows}
    assert counted == {c: found.count(c) for c in set(found)}
    assert counted["FAA208"] == 2
    assert rows[0][1].strip() == "FAA208"  # the most frequent first
    assert [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)
    assert rows[0][2].endswith("blocking-call-in-async-path")
    assert "-->" not in out and "|" not in out  # no findings listed, only counts


def test_statistics_json(tmp_path: Path) -> None:
    root = statistics_project(tmp_path)
    code, out, _ = review(str(root), "--statistics", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data[0] == {
        "code": "FAA208",
        "name": "blocking-call-in-async-path",
        "count": 2,
        "fixable": False,
    }


def test_statistics_respects_the_baseline(project: Path) -> None:
    path = baseline_of(project)
    code, out, _ = review(str(project / "app"), "--statistics", "--baseline", str(path))
    assert code == 0
    assert "FAA208" not in out


# --- show source ---------------------------------------------------------------------------


def test_show_source_is_the_default_and_can_be_turned_off(project: Path) -> None:
    _, shown, _ = review(str(project / "app"), "--no-color")
    assert "9 |     time.sleep(1)" in shown
    assert "^^^^^^^^^^^^^ FAA208" in shown
    _, explicit, _ = review(str(project / "app"), "--no-color", "--show-source")
    assert explicit == shown
    _, hidden, _ = review(str(project / "app"), "--no-color", "--no-show-source")
    assert "app/api.py:9:5: FAA208" in hidden or "api.py:9:5: FAA208" in hidden
    assert "time.sleep(1)\n" not in hidden
    assert "^^^" not in hidden
    assert " | " not in hidden
    assert "Found 1 finding" in hidden


# --- fixes (wired to review.fixes, replaced here by a fake that rewrites the file) ---------


@dataclass
class FakeOutcome:
    diff: str = ""
    fixed: list[Finding] = field(default_factory=list)
    failed: list[tuple[Finding, str]] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)


@dataclass
class FakeFixes:
    """Fixes FAA208 (safe) by replacing `time.sleep(1)` with `pass`; FAA104 is unsafe."""

    calls: list[tuple[list[str], bool, bool]] = field(default_factory=list)

    def fixable(self, code: str) -> str | None:
        return {"FAA208": "safe", "FAA104": "unsafe"}.get(code)

    def apply_fixes(self, result: ReviewResult, *, unsafe: bool, write: bool) -> FakeOutcome:
        self.calls.append(([f.code for f in result.findings], unsafe, write))
        outcome = FakeOutcome()
        for finding in result.findings:
            if finding.code != "FAA208":
                continue
            path = result.root / finding.file
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            before = lines[finding.line - 1]
            lines[finding.line - 1] = before.replace("time.sleep(1)", "pass")
            outcome.fixed.append(finding)
            outcome.diff += f"--- a/{finding.file}\n+++ b/{finding.file}\n-{before}+pass\n"
            if write:
                path.write_text("".join(lines), encoding="utf-8")
                outcome.files_changed.append(finding.file)
        return outcome


@pytest.fixture
def fake_fixes(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFixes]:
    fake = FakeFixes()
    module = types.ModuleType("fastapi_architect.review.fixes")
    module.apply_fixes = fake.apply_fixes  # type: ignore[attr-defined]
    module.fixable = fake.fixable  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fastapi_architect.review.fixes", module)
    # The hints read the catalog, not the fixers.
    monkeypatch.setattr(fix_catalog, "FIXES", {"FAA208": "safe", "FAA104": "unsafe"})
    yield fake


def test_diff_prints_and_writes_nothing(project: Path, fake_fixes: FakeFixes) -> None:
    before = (project / "app" / "api.py").read_bytes()
    code, out, err = review(str(project / "app"), "--diff")
    assert code == 1  # something to fix
    assert out.startswith("--- a/api.py\n+++ b/api.py\n")
    assert "Would fix 1 finding." in err
    assert (project / "app" / "api.py").read_bytes() == before
    assert fake_fixes.calls == [(["FAA208"], False, False)]


def test_diff_with_nothing_to_fix_exits_0(tmp_path: Path, fake_fixes: FakeFixes) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    code, out, err = review(str(tmp_path), "--diff")
    assert (code, out) == (0, "")
    assert "No fixes." in err


def test_fix_writes_then_reports_what_remains(project: Path, fake_fixes: FakeFixes) -> None:
    (project / "app" / "api.py").write_text(
        SLOW_TWICE.replace(" -> dict[str, str]", ""), encoding="utf-8"
    )
    code, out, _ = review(str(project / "app"), "--fix", "--no-color")
    assert "time.sleep" not in (project / "app" / "api.py").read_text()
    assert code == 1  # FAA104 (unsafe fix) remains
    assert "FAA208" not in out
    assert "FAA104" in out
    assert "2 fixed, 1 remaining." in out
    assert fake_fixes.calls == [(["FAA104", "FAA208", "FAA208"], False, True)]


def test_fix_exits_0_when_everything_was_fixed(project: Path, fake_fixes: FakeFixes) -> None:
    code, out, _ = review(str(project / "app"), "--fix", "--no-color")
    assert code == 0
    assert "All checked!" in out
    assert "1 fixed, 0 remaining." in out


def test_unsafe_fixes_flag_is_passed(project: Path, fake_fixes: FakeFixes) -> None:
    review(str(project / "app"), "--fix", "--unsafe-fixes")
    assert fake_fixes.calls[0][1:] == (True, True)


def test_fixable_hints_in_the_text_summary(project: Path, fake_fixes: FakeFixes) -> None:
    (project / "app" / "api.py").write_text(
        SLOW_TWICE.replace(" -> dict[str, str]", ""), encoding="utf-8"
    )
    _, out, _ = review(str(project / "app"), "--no-color")
    assert "[*] 2 fixable with `--fix` (1 more with `--fix --unsafe-fixes`)." in out
    _, out, _ = review(str(project / "app"), "--no-color", "--unsafe-fixes")
    assert "[*] 3 fixable with `--fix --unsafe-fixes`." in out
    _, out, _ = review(str(project / "app"), "--format", "json")
    json.loads(out)  # machine formats carry no hints
    assert fake_fixes.calls == []  # hints come from metadata; nothing was fixed


def test_statistics_mark_fixable_rules(project: Path, fake_fixes: FakeFixes) -> None:
    (project / "app" / "api.py").write_text(
        SLOW_TWICE.replace(" -> dict[str, str]", ""), encoding="utf-8"
    )
    _, out, _ = review(str(project / "app"), "--statistics", "--select", "FAA208,FAA104")
    assert out.splitlines()[:2] == [
        "2\tFAA208\t[*] blocking-call-in-async-path",
        "1\tFAA104\t[-] missing-response-model",
    ]
    _, out, _ = review(str(project / "app"), "--statistics", "--format", "json")
    assert {r["code"]: r["fixable"] for r in json.loads(out)}["FAA104"] is True


def test_baselined_findings_are_not_fixed(project: Path, fake_fixes: FakeFixes) -> None:
    path = baseline_of(project)
    before = (project / "app" / "api.py").read_bytes()
    code, out, _ = review(str(project / "app"), "--baseline", str(path), "--fix")
    assert code == 0
    assert fake_fixes.calls == [([], False, True)]
    assert (project / "app" / "api.py").read_bytes() == before
    assert "0 fixed, 0 remaining." in out


def test_fix_and_write_baseline_do_not_combine(project: Path, fake_fixes: FakeFixes) -> None:
    code, _, err = review(str(project / "app"), "--fix", "--write-baseline", "b.json")
    assert code == 2
    assert "--write-baseline cannot be combined with --fix" in err
    assert fake_fixes.calls == []


# --- html ----------------------------------------------------------------------------------


def test_html_format_calls_render_html(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[list[str], str, bool]] = []

    def render_html(result: ReviewResult, *, tool_version: str, routes: object) -> str:
        # The route table comes from the review's own model, not from a second parse.
        kept = routes is result.routes and isinstance(routes, list)
        seen.append(([f.code for f in result.findings], tool_version, kept))
        return "<!doctype html><title>report</title>\n"

    module = types.ModuleType("fastapi_architect.review.reporters.html")
    module.render_html = render_html  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fastapi_architect.review.reporters.html", module)
    out_file = project / "report.html"
    code, out, _ = review(str(project / "app"), "--format", "html", "-o", str(out_file))
    assert code == 1
    assert out == ""
    assert out_file.read_text() == "<!doctype html><title>report</title>\n"
    from fastapi_architect import __version__

    assert seen == [(["FAA208"], __version__, True)]


def test_html_format_end_to_end(project: Path) -> None:
    out_file = project / "report.html"
    code, out, err = review(str(project / "app"), "--format", "html", "-o", str(out_file))
    assert (code, out) == (1, ""), err
    page = out_file.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "FAA208" in page
    assert "blocking-call-in-async-path" in page


def test_html_report_parses_each_file_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The route table is the review's own model's inventory: no second parse of the tree.
    # From the cache (findings only) the routes are read from the tree, once.
    from fastapi_architect.review import engine

    parsed: list[Path] = []
    real_load = engine.load

    def counting_load(path: Path) -> object:
        parsed.append(path)
        return real_load(path)

    monkeypatch.setattr(engine, "load", counting_load)
    (project / "app" / "more.py").write_text(SLOW.replace("slow", "slower"), encoding="utf-8")
    listed = json.loads(review(str(project / "app"), "--format", "json")[1])
    routes = json.loads(
        runner.invoke(app, ["routes", str(project / "app"), "--format", "json"]).stdout
    )
    assert len(routes) == 2
    for cached in (False, True):  # the json run above filled the cache
        parsed.clear()
        out_file = project / f"report-{cached}.html"
        args = ["--format", "html", "-o", str(out_file)]
        code, _, err = review(str(project / "app"), *args, *([] if cached else ["--no-cache"]))
        assert code == 1, err
        assert sorted(p.name for p in parsed) == ["api.py", "more.py"]
        page = out_file.read_text(encoding="utf-8")
        assert page.count('<tr class="route"') == len(routes)
        assert all(finding["code"] in page for finding in listed)


# --- fixes, for real (review.fixes: FAA602 `return HTTPException` -> `raise`) ------------

RETURNED = """\
from fastapi import APIRouter, HTTPException

router = APIRouter(tags=["items"])


@router.get("/items/{item_id}", summary="Get an item")
def get_item(item_id: int) -> dict[str, int]:
    if item_id < 0:
        return HTTPException(404, "not found")
    return {"id": item_id}
"""


def test_real_diff_then_fix_then_nothing_left(tmp_path: Path) -> None:
    api = tmp_path / "api.py"
    api.write_text(RETURNED, encoding="utf-8")
    args = (str(tmp_path), "--select", "FAA602", "--no-color")
    code, out, _ = review(*args)
    assert code == 1
    assert "[*] 1 fixable with `--fix`." in out

    code, out, err = review(*args, "--diff")
    assert code == 1
    assert '-        return HTTPException(404, "not found")' in out
    assert '+        raise HTTPException(404, "not found")' in out
    assert "Would fix 1 finding." in err
    assert api.read_text(encoding="utf-8") == RETURNED  # --diff writes nothing

    code, out, _ = review(*args, "--fix")
    assert code == 0
    assert "1 fixed, 0 remaining." in out
    assert "raise HTTPException(404" in api.read_text(encoding="utf-8")

    fixed = api.read_bytes()
    code, out, err = review(*args, "--diff")
    assert (code, out) == (0, "")
    code, out, _ = review(*args, "--fix")
    assert code == 0
    assert "0 fixed, 0 remaining." in out
    assert api.read_bytes() == fixed


def test_real_fix_leaves_baselined_code_alone(tmp_path: Path) -> None:
    api = tmp_path / "api.py"
    api.write_text(RETURNED, encoding="utf-8")
    path = tmp_path / "baseline.json"
    assert review(str(tmp_path), "--select", "FAA602", "--write-baseline", str(path))[0] == 0
    new_route = (
        '\n\n@router.get("/other/{item_id}", summary="Other")\n'
        "def other(item_id: int) -> dict[str, int]:\n"
        "    if item_id < 0:\n"
        '        return HTTPException(404, "not found")\n'
        '    return {"id": item_id}\n'
    )
    api.write_text(RETURNED + new_route, encoding="utf-8")
    code, out, _ = review(
        str(tmp_path), "--select", "FAA602", "--baseline", str(path), "--fix", "--no-color"
    )
    assert code == 0
    assert "1 fixed, 0 remaining." in out
    text = api.read_text(encoding="utf-8")
    assert text.count('return HTTPException(404, "not found")') == 1  # the baselined one
    assert text.count('raise HTTPException(404, "not found")') == 1  # the new one, fixed


def test_fingerprint_scope_and_statement_header(tmp_path: Path) -> None:
    from fastapi_architect.review.baseline import fingerprints

    source = (
        "class Service:\n"
        "    @staticmethod\n"
        "    def run(x: int) -> int:\n"
        "        try:\n"
        "            return x\n"
        "        except Exception:  # broad\n"
        "            return 0\n"
    )
    (tmp_path / "svc.py").write_text(source, encoding="utf-8")

    def at(line: int, column: int) -> Finding:
        return Finding("svc.py", line, column, "FAA999", line, column + 1, "x", "m", "info")

    result = ReviewResult(
        root=tmp_path, findings=[at(2, 6), at(6, 9), at(5, 13), at(1, 1)], files_checked=1
    )
    got = [(fp.scope, fp.statement) for fp in fingerprints(result, tmp_path)]
    assert got == [
        ("Service", "@ staticmethod def run ( x : int ) -> int :"),  # header only, no body
        ("Service.run", "except Exception :"),
        ("Service.run", "return x"),
        ("<module>", "class Service :"),
    ]
