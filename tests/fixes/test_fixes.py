"""The automatic fixes, each on its fixture under tests/fixtures/fixes/<CODE>/<case>/:

- `input.py` is reviewed with the rule selected (`select.txt` lists the codes when the
  case mixes several rules; a `requirements.txt` tells FAA108 the project is on
  Pydantic 2), every fix is applied, and the file must equal `expected.py`;
- `skipped.txt` lists the findings (`CODE LINE`) the fixer must decline;
- the fixed file parses, and a second review + fix changes nothing.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path

import libcst as cst
import pytest
from starlette import status as starlette_status

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths
from fastapi_architect.review.fix_catalog import FIXES
from fastapi_architect.review.fixes import FixOutcome, _base, apply_fixes, fixable
from fastapi_architect.review.result import ReviewResult
from fastapi_architect.review.status_names import status_constant

FIXTURES = Path(__file__).parent.parent / "fixtures" / "fixes"
CASES = sorted(p for p in FIXTURES.glob("*/*") if (p / "input.py").is_file())
META = {"expected.py", "skipped.txt", "select.txt"}


def _codes(case: Path) -> tuple[str, ...]:
    select = case / "select.txt"
    return tuple(select.read_text().split()) if select.exists() else (case.parent.name,)


def _copy(case: Path, into: Path) -> Path:
    for item in case.iterdir():
        if item.name not in META:
            shutil.copy(item, into / item.name)
    return into / "input.py"


def _review(root: Path, codes: tuple[str, ...]) -> ReviewResult:
    result = review_paths([root], replace(Config(), select=codes), root=root)
    assert not result.internal_errors
    return result


def _skipped(case: Path) -> list[tuple[str, int]]:
    listed = case / "skipped.txt"
    if not listed.exists():
        return []
    pairs = (line.split() for line in listed.read_text().splitlines() if line.strip())
    return sorted((code, int(line)) for code, line in pairs)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix_gives_the_expected_file(case: Path, tmp_path: Path) -> None:
    codes = _codes(case)
    target = _copy(case, tmp_path)
    original = target.read_text()
    expected = (case / "expected.py").read_text()
    result = _review(tmp_path, codes)
    assert {f.code for f in result.findings} == set(codes), "the rule must report the fixture"

    dry = apply_fixes(result, unsafe=True, write=False)
    assert target.read_text() == original, "write=False must not touch the file"

    outcome = apply_fixes(result, unsafe=True, write=True)
    assert target.read_text() == expected
    assert outcome.diff == dry.diff
    assert sorted((f.code, f.line) for f, _ in outcome.failed) == _skipped(case)
    assert all(reason for _, reason in outcome.failed)
    fixed = {(f.code, f.line) for f in outcome.fixed}
    assert fixed.isdisjoint(_skipped(case))
    assert len(outcome.fixed) + len(outcome.failed) == len(result.findings)
    if expected != original:
        assert outcome.files_changed == ["input.py"]
        assert outcome.diff.startswith("--- input.py\n+++ input.py\n")
    else:
        assert outcome.files_changed == [] and outcome.diff == ""
    ast.parse(expected)

    # What was fixed is no longer reported, and fixing again changes nothing.
    again = _review(tmp_path, codes)
    assert sorted((f.code, f.line) for f in again.findings) == sorted(
        (f.code, _line_after(f.line, original, expected)) for f, _ in outcome.failed
    )
    second = apply_fixes(again, unsafe=True, write=True)
    assert second.diff == "" and second.files_changed == [] and second.fixed == []
    assert target.read_text() == expected


def _line_after(line: int, before: str, after: str) -> int:
    """Where a line that no fix touched is after the fixes (fixes may add lines above)."""
    text = before.splitlines()[line - 1]
    matches = [i for i, candidate in enumerate(after.splitlines(), 1) if candidate == text]
    return min(matches, key=lambda i: abs(i - line)) if matches else line


def test_unsafe_fixes_need_unsafe(tmp_path: Path) -> None:
    case = FIXTURES / "FAA108" / "renames"
    target = _copy(case, tmp_path)
    original = target.read_text()
    result = _review(tmp_path, ("FAA108",))
    outcome = apply_fixes(result, unsafe=False, write=True)
    assert outcome == FixOutcome()
    assert target.read_text() == original


def test_safe_fixes_apply_without_unsafe(tmp_path: Path) -> None:
    case = FIXTURES / "combined" / "routes"
    target = _copy(case, tmp_path)
    outcome = apply_fixes(_review(tmp_path, _codes(case)), unsafe=False, write=True)
    # FAA701's fix (201 instead of 200) is unsafe: the decorator stays as it was
    safe_only = (
        (case / "expected.py")
        .read_text()
        .replace(
            '@router.post("/users", status_code=status.HTTP_201_CREATED)', '@router.post("/users")'
        )
    )
    assert target.read_text() == safe_only
    assert len(outcome.fixed) == 3
    outcome = apply_fixes(_review(tmp_path, _codes(case)), unsafe=True, write=True)
    assert target.read_text() == (case / "expected.py").read_text()
    assert [f.code for f in outcome.fixed] == ["FAA701"]


def test_fixable() -> None:
    assert fixable("FAA602") == "safe"
    assert fixable("FAA706") == "safe"
    assert fixable("FAA701") == "unsafe"  # clients see 201 instead of 200
    assert fixable("faa606") == "unsafe"
    assert fixable("FAA108") == "unsafe"
    assert fixable("FAA101") is None
    assert fixable("nonsense") is None


def test_every_rule_in_the_fix_catalog_has_its_fixer() -> None:
    # Safeties come from the catalog (test_fixable pins them); every entry has a fixer.
    assert {f.code for f in _base.all_fixers()} == set(FIXES)
    with pytest.raises(ValueError, match="no entry in fix_catalog"):
        _base.fixer("FAA101", "A fix the catalog does not list")


def test_a_review_loads_neither_fixers_templates_nor_markdown(tmp_path: Path) -> None:
    # libcst (0.22 s to import) only --fix and --diff need; jinja2 the generator;
    # markdown-it the HTML report and `rule` on a terminal.
    (tmp_path / "api.py").write_text(
        "from fastapi import APIRouter, HTTPException\n\nrouter = APIRouter()\n\n\n"
        '@router.get("/items/{item_id}")\n'
        "def get_item(item_id: int) -> dict[str, int]:\n"
        "    if item_id < 0:\n"
        '        return HTTPException(404, "not found")\n'
        '    return {"id": item_id}\n',
        encoding="utf-8",
    )
    script = (
        "import sys\n"
        "from fastapi_architect.cli import main\n"
        "sys.argv = ['fastapi-architect', 'review', sys.argv[1], '--no-cache', '--no-color']\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('libcst', 'jinja2', 'markdown_it')\n"
        "print('loaded:', *[name for name in heavy if name in sys.modules])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert "fixable with" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "loaded:", proc.stdout


def test_a_fix_that_would_not_parse_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other fixes of the file are still applied."""

    def broken(findings: list[object], ctx: _base.FixContext) -> list[_base.Plan]:
        plans: list[_base.Plan] = []
        for finding in findings:
            node = ctx.node_at(finding, cst.Return)  # type: ignore[arg-type]
            assert node is not None
            plans.append(
                _base.Edit((finding,)).replace(  # type: ignore[arg-type]
                    node, lambda n: cst.Expr(cst.Name("def"))
                )
            )
        return plans

    _base.get_fixer("FAA602")  # load the real fixers before replacing one
    monkeypatch.setitem(_base._FIXERS, "FAA602", _base.Fixer("FAA602", "safe", "broken", broken))
    case = FIXTURES / "combined" / "routes"
    target = _copy(case, tmp_path)
    outcome = apply_fixes(_review(tmp_path, _codes(case)), unsafe=True, write=True)
    assert [(f.code, f.line) for f, _ in outcome.failed] == [("FAA602", 10)]
    assert "would not parse" in outcome.failed[0][1]
    text = target.read_text()
    ast.parse(text)
    assert "return HTTPException(status_code=status.HTTP_404_NOT_FOUND" in text
    assert "status_code=status.HTTP_201_CREATED" in text


def test_a_file_changed_since_the_review_is_left_alone(tmp_path: Path) -> None:
    case = FIXTURES / "FAA602" / "basic"
    target = _copy(case, tmp_path)
    result = _review(tmp_path, ("FAA602",))
    target.write_text("# edited\n" + target.read_text())
    edited = target.read_text()
    outcome = apply_fixes(result, unsafe=True, write=True)
    assert outcome.fixed == [] and target.read_text() == edited
    assert {reason for _, reason in outcome.failed} == {"the file changed since it was reviewed"}


def test_line_endings_and_encoding_are_kept(tmp_path: Path) -> None:
    source = (
        "\ufeff# -*- coding: utf-8 -*-\r\n"
        "from fastapi import APIRouter, HTTPException\r\n"
        "\r\n"
        "router = APIRouter()\r\n"
        "\r\n"
        "\r\n"
        '@router.get("/café")\r\n'
        "def read() -> str:\r\n"
        '    return HTTPException(404, "introuvable é")\r\n'
    )
    target = tmp_path / "app.py"
    target.write_bytes(source.encode("utf-8"))
    outcome = apply_fixes(_review(tmp_path, ("FAA602", "FAA706")), unsafe=False, write=True)
    assert len(outcome.fixed) == 2
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == source.count("\r\n") and b"\n\n" not in raw
    assert 'raise HTTPException(status.HTTP_404_NOT_FOUND, "introuvable é")' in raw.decode(
        "utf-8-sig"
    )
    assert b"from fastapi import APIRouter, HTTPException, status\r\n" in raw


def test_nothing_to_fix(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    assert apply_fixes(_review(tmp_path, ("FAA602",)), unsafe=True, write=True) == FixOutcome()


def test_every_status_constant_exists_in_starlette() -> None:
    named = [code for code in HTTPStatus if status_constant(code.value) is not None]
    assert len(named) > 50
    for code in named:
        constant = status_constant(code.value)
        assert constant is not None and hasattr(starlette_status, constant), constant
    assert status_constant(422) is None  # named differently by older and newer Starlette
    assert status_constant(999) is None


def test_lifespan_fix_refuses_events_spread_over_files(tmp_path: Path) -> None:
    """A lifespan makes Starlette ignore every other handler of the app: moving only the
    handlers of main.py would silently drop the shutdown handler of events.py."""
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    main = (FIXTURES / "FAA606" / "decorators" / "input.py").read_text()
    (package / "main.py").write_text(main)
    (package / "events.py").write_text(
        "from app.main import app\n\n\n"
        '@app.on_event("shutdown")\n'
        "async def close() -> None:\n"
        "    pass\n"
    )
    result = _review(tmp_path, ("FAA606",))
    assert {f.file for f in result.findings} == {"app/main.py", "app/events.py"}
    outcome = apply_fixes(result, unsafe=True, write=True)
    assert outcome.fixed == [] and outcome.diff == ""
    assert len(outcome.failed) == len(result.findings)
    assert all("several files" in reason for _, reason in outcome.failed)
    assert (package / "main.py").read_text() == main


def test_every_fixer_belongs_to_a_rule_with_a_fix_title() -> None:
    from fastapi_architect.review.fixes import all_fixers
    from fastapi_architect.review.registry import get_rule

    fixers = all_fixers()
    assert {f.code for f in fixers} >= {"FAA108", "FAA602", "FAA606", "FAA701", "FAA706"}
    for found in fixers:
        rule = get_rule(found.code)
        assert rule is not None and rule.fix_title, found.code
        assert (FIXTURES / found.code).is_dir(), f"{found.code} has no fixture"
