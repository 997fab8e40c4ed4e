"""The `fastapi-architect review` reporters: text, JSON, SARIF and GitHub annotations."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fastapi_architect.review.finding import Finding, Severity
from fastapi_architect.review.registry import Report, Rule
from fastapi_architect.review.reporters import FORMATS, render
from fastapi_architect.review.reporters.github import render_github
from fastapi_architect.review.reporters.json import render_json
from fastapi_architect.review.reporters.sarif import render_sarif
from fastapi_architect.review.reporters.text import render_text
from fastapi_architect.review.result import ReviewResult

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")

JSON_KEYS = [
    "code",
    "name",
    "message",
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "severity",
    "fix",
]


def _no_check(*args: object) -> Iterable[Report]:
    return ()


def make_rule(
    code: str,
    name: str,
    severity: Severity,
    *,
    fix_title: str | None = None,
    cwe: tuple[str, ...] = (),
    owasp: tuple[str, ...] = (),
) -> Rule:
    return Rule(
        code=code,
        name=name,
        summary=f"Summary of {name}",
        severity=severity,
        default_enabled=True,
        scope="node",
        node_types=(ast.Call,),
        check=_no_check,
        docs=(
            f"## What it does\nChecks for {name}.\n\n"
            "## Why is this bad?\nBecause it is.\n\n"
            "## Example\n```python\nbad()\n```\n"
        ),
        fix_title=fix_title,
        cwe=cwe,
        owasp=owasp,
    )


RULES: dict[str, Rule] = {
    "FAA201": make_rule(
        "FAA201", "blocking-call-in-async", "warning", fix_title="Use `await asyncio.sleep()`"
    ),
    "FAA301": make_rule(
        "FAA301",
        "sql-string-formatting",
        "error",
        fix_title="Use bound parameters",
        cwe=("CWE-89",),
        owasp=("A03:2021 Injection",),
    ),
    "FAA701": make_rule("FAA701", "missing-response-model", "info"),
}

MAIN_SOURCE = [
    "import time",
    "",
    "",
    "async def handler() -> None:",
    "    x = 1",
    "    time.sleep(1)",
    "    return None",
    "",
    "",
    "def query(db, name):",
    '    return db.execute(f"SELECT * FROM t WHERE n = {name}")',
]


def finding(
    code: str,
    file: str,
    line: int,
    column: int,
    end_column: int,
    message: str,
    *,
    end_line: int | None = None,
    fix_title: str | None = None,
) -> Finding:
    rule = RULES[code]
    return Finding(
        file=file,
        line=line,
        column=column,
        code=code,
        end_line=line if end_line is None else end_line,
        end_column=end_column,
        name=rule.name,
        message=message,
        severity=rule.severity,
        fix_title=fix_title,
    )


@pytest.fixture
def result(tmp_path: Path) -> ReviewResult:
    sleep = finding(
        "FAA201",
        "app/main.py",
        6,
        5,
        18,
        "`time.sleep()` blocks the event loop",
        fix_title="Use `await asyncio.sleep()`",
    )
    sql = finding(
        "FAA301",
        "app/main.py",
        11,
        23,
        58,
        "SQL built with an f-string",
        fix_title="Use bound parameters",
    )
    docs = finding("FAA701", "app/api/users.py", 3, 1, 4, "Route has no response model")
    return ReviewResult(
        root=tmp_path,
        # Deliberately unsorted: every reporter sorts by file, line, column.
        findings=[sql, docs, sleep],
        files_checked=5,
        sources={"app/main.py": MAIN_SOURCE, "app/api/users.py": ["a", "b", "get()", "d"]},
    )


@pytest.fixture
def empty(tmp_path: Path) -> ReviewResult:
    return ReviewResult(root=tmp_path, findings=[], files_checked=3)


# --- JSON -----------------------------------------------------------------------------------


def test_json_keys_order_and_values(result: ReviewResult) -> None:
    out = render_json(result)
    assert out.endswith("]\n")
    data = json.loads(out)
    assert [list(item) for item in data] == [JSON_KEYS] * 3
    assert [(d["file"], d["line"]) for d in data] == [
        ("app/api/users.py", 3),
        ("app/main.py", 6),
        ("app/main.py", 11),
    ]
    assert data[1] == {
        "code": "FAA201",
        "name": "blocking-call-in-async",
        "message": "`time.sleep()` blocks the event loop",
        "file": "app/main.py",
        "line": 6,
        "column": 5,
        "end_line": 6,
        "end_column": 18,
        "severity": "warning",
        "fix": "Use `await asyncio.sleep()`",
    }
    assert data[0]["fix"] is None
    # Indented by 2.
    assert out.splitlines()[1] == "  {"
    assert out.splitlines()[2] == '    "code": "FAA701",'


def test_json_is_stable(result: ReviewResult) -> None:
    shuffled = ReviewResult(
        root=result.root,
        findings=list(reversed(result.findings)),
        files_checked=result.files_checked,
        sources=result.sources,
    )
    assert render_json(result) == render_json(shuffled)


def test_json_empty(empty: ReviewResult) -> None:
    assert render_json(empty) == "[]\n"


# --- text -----------------------------------------------------------------------------------


def test_text_without_colour_has_no_escape_codes(result: ReviewResult) -> None:
    out = render_text(result, color=False, rules=RULES)
    assert "\x1b" not in out
    assert out.endswith("\n")


def test_text_header_lines_sorted(result: ReviewResult) -> None:
    out = render_text(result, color=False, rules=RULES)
    headers = [line for line in out.splitlines() if line.startswith("app/")]
    assert headers == [
        "app/api/users.py:3:1: FAA701 [missing-response-model] Route has no response model",
        "app/main.py:6:5: FAA201 [blocking-call-in-async] `time.sleep()` blocks the event loop",
        "app/main.py:11:23: FAA301 [sql-string-formatting] SQL built with an f-string",
    ]


def test_text_code_frame(result: ReviewResult) -> None:
    out = render_text(result, color=False, rules=RULES)
    block = out.split("app/main.py:6:5:")[1].split("app/main.py:11:23:")[0]
    lines = block.splitlines()[1:]
    assert lines == [
        "  |",
        "4 | async def handler() -> None:",
        "5 |     x = 1",
        "6 |     time.sleep(1)",
        "  |     ^^^^^^^^^^^^^ FAA201",
        "7 |     return None",
        "  |",
        "  = help: Use `await asyncio.sleep()`",
        "",
    ]


def test_text_caret_under_flagged_columns(result: ReviewResult) -> None:
    out = render_text(result, color=False, rules=RULES)
    lines = out.splitlines()
    source = next(i for i, line in enumerate(lines) if line.startswith("11 |"))
    assert lines[source] == "11 |" + " " + MAIN_SOURCE[10]
    caret = lines[source + 1]
    assert caret.startswith("   | ")
    # Column 23 (1-based) up to column 58 (exclusive) of the source line: the f-string.
    offset = len("   | ")
    assert caret[offset : offset + 22].strip() == ""
    assert caret[offset + 22 :] == "^" * 35 + " FAA301"
    assert MAIN_SOURCE[10][22:57] == 'f"SELECT * FROM t WHERE n = {name}"'
    # Two-digit line numbers widen the gutter of the whole frame.
    assert lines[source - 1] == "10 | def query(db, name):"


def test_text_context_skips_blank_edge_lines(result: ReviewResult) -> None:
    out = render_text(result, color=False, rules=RULES)
    # Lines 8-9 are blank: the frame of line 11 starts at line 10.
    assert " 9 |" not in out
    assert "8 |" not in out


def test_text_summary_counts(result: ReviewResult) -> None:
    out = render_text(result, color=False, rules=RULES)
    assert out.splitlines()[-1] == "Found 3 findings (1 error, 1 warning, 1 info) in 5 files."


def test_text_summary_plurals(tmp_path: Path) -> None:
    one = ReviewResult(
        root=tmp_path,
        findings=[finding("FAA201", "a.py", 1, 1, 2, "m")],
        files_checked=1,
    )
    out = render_text(one, color=False, rules=RULES)
    assert out.splitlines()[-1] == "Found 1 finding (0 errors, 1 warning, 0 info) in 1 file."


def test_text_with_colour(result: ReviewResult) -> None:
    coloured = render_text(result, color=True, rules=RULES)
    plain = render_text(result, color=False, rules=RULES)
    assert "\x1b[" in coloured
    assert ANSI_RE.sub("", coloured) == plain
    # Severity colours: error red, warning yellow, info cyan.
    assert re.search(r"\x1b\[[0-9;]*31m" + "FAA301", coloured)
    assert re.search(r"\x1b\[[0-9;]*33m" + "FAA201", coloured)
    assert re.search(r"\x1b\[[0-9;]*36m" + "FAA701", coloured)


def test_text_colour_ignores_environment(
    result: ReviewResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    assert "\x1b" not in render_text(result, color=False, rules=RULES)
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    assert "\x1b[" in render_text(result, color=True, rules=RULES)


def test_text_brackets_are_not_markup(tmp_path: Path) -> None:
    f = finding("FAA201", "a.py", 1, 1, 2, "use [bold]x[/bold] and :smile:")
    out = render_text(
        ReviewResult(root=tmp_path, findings=[f], files_checked=1), color=True, rules=RULES
    )
    assert "use [bold]x[/bold] and :smile:" in ANSI_RE.sub("", out)


def test_text_without_source(result: ReviewResult) -> None:
    out = render_text(result, color=False, show_source=False, rules=RULES)
    assert " | " not in out
    assert "^" not in out
    assert "time.sleep(1)" not in out
    assert "  = help: Use `await asyncio.sleep()`" in out.splitlines()
    assert out.splitlines()[-1].startswith("Found 3 findings")


def test_text_help_falls_back_to_rule_fix_title(tmp_path: Path) -> None:
    f = finding("FAA301", "a.py", 1, 1, 2, "m")  # fix_title left to the rule
    out = render_text(
        ReviewResult(root=tmp_path, findings=[f], files_checked=1), color=False, rules=RULES
    )
    assert "help: Use bound parameters" in out
    no_fix = finding("FAA701", "a.py", 1, 1, 2, "m")
    out = render_text(
        ReviewResult(root=tmp_path, findings=[no_fix], files_checked=1), color=False, rules=RULES
    )
    assert "help:" not in out


def test_text_missing_source_has_no_frame(tmp_path: Path) -> None:
    f = finding("FAA201", "gone.py", 40, 1, 2, "m")
    result = ReviewResult(
        root=tmp_path, findings=[f], files_checked=1, sources={"gone.py": ["only one line"]}
    )
    out = render_text(result, color=False, rules=RULES)
    assert "|" not in out
    assert out.startswith("gone.py:40:1: FAA201 [blocking-call-in-async] m\n")


def test_text_tabs_and_multiline_span(tmp_path: Path) -> None:
    source = ["def f():", "\tcall(", "\t\targ,", "\t)", "done()"]
    f = finding("FAA201", "t.py", 2, 2, 3, "m", end_line=4)
    out = render_text(
        ReviewResult(root=tmp_path, findings=[f], files_checked=1, sources={"t.py": source}),
        color=False,
        show_source=True,
        rules=RULES,
    )
    assert out.split("\n", 1)[1].split("  = help")[0].splitlines() == [
        "  |",
        "1 | def f():",
        "2 |     call(",
        "  |     ^^^^^",
        "3 |         arg,",
        "  |         ^^^^",
        "4 |     )",
        "  |     ^ FAA201",
        "5 | done()",
        "  |",
    ]


def test_text_long_span_shows_first_line(tmp_path: Path) -> None:
    source = [f"line{i}" for i in range(1, 21)]
    f = finding("FAA701", "l.py", 5, 1, 3, "m", end_line=15)
    out = render_text(
        ReviewResult(root=tmp_path, findings=[f], files_checked=1, sources={"l.py": source}),
        color=False,
        rules=RULES,
    )
    assert "5 | line5\n  | ^^^^^ FAA701\n6 | line6" in out
    assert "line15" not in out


def test_text_empty(empty: ReviewResult) -> None:
    assert render_text(empty, color=False) == "All checked! (3 files)\n"
    assert ANSI_RE.sub("", render_text(empty, color=True)) == "All checked! (3 files)\n"


# --- SARIF ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator: Any, log: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def test_sarif_schema_is_the_oasis_one() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert len(schema["definitions"]) > 40


def test_sarif_validates(result: ReviewResult, sarif_validator: Any) -> None:
    out = render_sarif(result, tool_version="1.2.3", rules=RULES)
    assert out.endswith("}\n")
    log = json.loads(out)
    assert _errors(sarif_validator, log) == []
    # The schema is strict: a stray property anywhere would be reported.
    bad = json.loads(out)
    bad["runs"][0]["results"][0]["bogus"] = 1
    assert _errors(sarif_validator, bad)


def test_sarif_envelope_and_driver(result: ReviewResult) -> None:
    log = json.loads(render_sarif(result, tool_version="1.2.3", rules=RULES))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "fastapi-architect"
    assert driver["version"] == "1.2.3"
    assert driver["informationUri"] == "https://github.com/fastapi-architect/fastapi-architect"
    root_uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root_uri == result.root.resolve().as_uri() + "/"
    assert root_uri.startswith("file:///")


def test_sarif_rules(result: ReviewResult) -> None:
    log = json.loads(render_sarif(result, tool_version="1.2.3", rules=RULES))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["FAA201", "FAA301", "FAA701"]
    sql = rules[1]
    assert sql["name"] == "sql-string-formatting"
    assert sql["shortDescription"] == {"text": "Summary of sql-string-formatting"}
    assert sql["fullDescription"] == {"text": "Checks for sql-string-formatting."}
    assert sql["help"]["markdown"].startswith("## What it does")
    assert sql["help"]["text"]
    assert sql["helpUri"] == (
        "https://github.com/fastapi-architect/fastapi-architect/blob/main/docs/rules/FAA301.md"
    )
    assert sql["defaultConfiguration"] == {"level": "error"}
    assert sql["properties"]["tags"][:3] == [
        "Security & auth",
        "security",
        "external/cwe/cwe-89",
    ]
    assert sql["properties"]["security-severity"] == "8.0"
    assert sql["properties"]["precision"] == "high"
    assert "problem.severity" not in sql["properties"]
    sleep = rules[0]
    assert sleep["defaultConfiguration"] == {"level": "warning"}
    assert sleep["properties"] == {
        "tags": ["Async correctness"],
        "precision": "high",
        "problem.severity": "warning",
    }
    assert rules[2]["defaultConfiguration"] == {"level": "note"}


def test_sarif_results(result: ReviewResult) -> None:
    log = json.loads(render_sarif(result, tool_version="1.2.3", rules=RULES))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["FAA701", "FAA201", "FAA301"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["partialFingerprints"]["fastapiArchitect/v1"]
    sleep = results[1]
    assert sleep["level"] == "warning"
    assert results[0]["level"] == "note"
    assert results[2]["level"] == "error"
    assert sleep["message"] == {"text": "`time.sleep()` blocks the event loop"}
    assert sleep["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "app/main.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 6, "startColumn": 5, "endLine": 6, "endColumn": 18},
            }
        }
    ]


def test_sarif_fingerprints_are_stable(result: ReviewResult) -> None:
    def prints(res: ReviewResult) -> list[str]:
        log = json.loads(render_sarif(res, tool_version="x", rules=RULES))
        return [r["partialFingerprints"]["fastapiArchitect/v1"] for r in log["runs"][0]["results"]]

    first = prints(result)
    assert len(set(first)) == 3
    assert prints(result) == first
    # Moving a finding to another line keeps its fingerprint.
    moved = [
        Finding(**{**f.__dict__, "line": f.line + 10, "end_line": f.end_line + 10})
        for f in result.findings
    ]
    assert sorted(prints(ReviewResult(result.root, moved, 5))) == sorted(first)


def test_sarif_uri_is_escaped_and_unknown_rule(tmp_path: Path, sarif_validator: Any) -> None:
    f = Finding(
        file="my app/ma\u00efn.py",
        line=1,
        column=1,
        code="FAA001",
        end_line=1,
        end_column=1,
        name="syntax-error",
        message="cannot parse",
        severity="error",
    )
    log = json.loads(
        render_sarif(
            ReviewResult(root=tmp_path / "a dir", findings=[f], files_checked=1),
            tool_version="0.1.0",
            rules={},
        )
    )
    assert _errors(sarif_validator, log) == []
    run = log["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20app/ma%C3%AFn.py"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/a%20dir/")
    assert run["tool"]["driver"]["rules"] == [
        {
            "id": "FAA001",
            "name": "syntax-error",
            "shortDescription": {"text": "syntax-error"},
            "helpUri": (
                "https://github.com/fastapi-architect/fastapi-architect/blob/main/docs/rules/"
                "FAA001.md"
            ),
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["Tool"]},
        }
    ]


def test_sarif_empty(empty: ReviewResult, sarif_validator: Any) -> None:
    log = json.loads(render_sarif(empty, tool_version="0.1.0", rules=RULES))
    assert _errors(sarif_validator, log) == []
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


# --- GitHub ---------------------------------------------------------------------------------


def test_github_commands(result: ReviewResult) -> None:
    assert render_github(result).splitlines() == [
        "::notice file=app/api/users.py,line=3,col=1,endLine=3,endColumn=4,"
        "title=FAA701 (missing-response-model)::Route has no response model",
        "::warning file=app/main.py,line=6,col=5,endLine=6,endColumn=18,"
        "title=FAA201 (blocking-call-in-async)::`time.sleep()` blocks the event loop",
        "::error file=app/main.py,line=11,col=23,endLine=11,endColumn=58,"
        "title=FAA301 (sql-string-formatting)::SQL built with an f-string",
    ]
    assert render_github(result).endswith("\n")


def test_github_escaping(tmp_path: Path) -> None:
    f = finding(
        "FAA301",
        "odd:dir/a,b%.py",
        2,
        3,
        4,
        "100% bad:\nsee line 2,\r\nreally",
    )
    out = render_github(ReviewResult(root=tmp_path, findings=[f], files_checked=1))
    assert out == (
        "::error file=odd%3Adir/a%2Cb%25.py,line=2,col=3,endLine=2,endColumn=4,"
        "title=FAA301 (sql-string-formatting)::100%25 bad:%0Asee line 2,%0D%0Areally\n"
    )
    assert out.count("\n") == 1


def test_github_empty(empty: ReviewResult) -> None:
    assert render_github(empty) == ""


# --- dispatch -------------------------------------------------------------------------------


def test_formats() -> None:
    assert FORMATS == ("text", "json", "sarif", "github", "html")


def test_render_dispatches(result: ReviewResult) -> None:
    kwargs: dict[str, Any] = {"color": False, "show_source": True, "tool_version": "9.9"}
    assert render(result, "text", rules=RULES, **kwargs) == render_text(
        result, color=False, rules=RULES
    )
    assert render(result, "json", rules=RULES, **kwargs) == render_json(result)
    assert render(result, "sarif", rules=RULES, **kwargs) == render_sarif(
        result, tool_version="9.9", rules=RULES
    )
    assert render(result, "github", rules=RULES, **kwargs) == render_github(result)
    with pytest.raises(ValueError, match="unknown output format"):
        render(result, "xml", rules=RULES, **kwargs)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_an_empty_result(
    fmt: str, empty: ReviewResult, sarif_validator: Any
) -> None:
    out = render(empty, fmt, color=False, show_source=True, tool_version="0.1.0", rules=RULES)
    if fmt == "text":
        assert out == "All checked! (3 files)\n"
    elif fmt == "json":
        assert json.loads(out) == []
    elif fmt == "sarif":
        assert _errors(sarif_validator, json.loads(out)) == []
    elif fmt == "html":
        assert out.startswith("<!DOCTYPE html>") and 'id="no-findings"' in out
    else:
        assert out == ""


@pytest.mark.parametrize("color", [False, True])
def test_text_is_what_the_console_prints(result: ReviewResult, color: bool) -> None:
    # The reporter writes each finding's text itself, not through rich's console: the
    # bytes must be the console's, colours, wide characters, control codes and tabs too.
    from rich.text import Text

    from fastapi_architect.review.reporters import text as text_module

    odd = [
        finding("FAA201", "app/main.py", 4, 1, 5, "wide 漢字 and a bell \x07 here"),
        finding("FAA301", "app/main.py", 10, 1, 4, "a tab\there", end_line=11),
        finding("FAA701", "app/api/users.py", 3, 1, 2, "ends in spaces   "),
        finding("FAA701", "odd\nname.py", 1, 1, 2, "a file name with a line break"),
    ]
    busy = ReviewResult(
        root=result.root,
        findings=[*result.findings, *odd],
        files_checked=result.files_checked,
        sources=result.sources,
    )
    buffer = text_module.io.StringIO()
    console = text_module._console(buffer, color=color)
    for item in sorted(busy.findings):
        out = Text()
        text_module._render_finding(out, item, busy.sources.get(item.file), True, RULES)
        out.append("\n")
        console.print(out, end="")
    summary = Text(text_module._summary(sorted(busy.findings), busy.files_checked), style="bold")
    summary.append("\n")
    console.print(summary, end="")
    rendered = render_text(busy, color=color, rules=RULES)
    assert rendered == buffer.getvalue()
    assert ("\x1b[" in rendered) is color
    assert "漢字" in rendered
