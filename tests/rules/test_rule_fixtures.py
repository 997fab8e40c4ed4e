"""One parametrized test drives every rule fixture.

A fixture is a file or a folder (a small project) under `tests/fixtures/rules/<CODE>/`.
A comment `# expect: FAA201` marks a line that must be flagged with that code;
`# ok: FAA201` marks a line that must not be (any unmarked line must not be either).
The fixture is reviewed with only that rule selected, and the findings must equal the
marks exactly: same files, same lines, same counts. A folder may hold a `pyproject.toml`
whose `[tool.fastapi-architect]` table sets the rule's options (only the selection is
replaced).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from fastapi_architect.config import Config, load_config
from fastapi_architect.review.engine import review_paths
from fastapi_architect.review.registry import all_rules

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
MARK = re.compile(r"#\s*(expect|ok):\s*(FAA\d{3}(?:\s*,\s*FAA\d{3})*)")


def _cases() -> list[Path]:
    out: list[Path] = []
    for code_dir in sorted(FIXTURES.iterdir()):
        if code_dir.is_dir():
            out.extend(
                p for p in sorted(code_dir.iterdir()) if p.suffix == ".py" or p.is_dir()
            )
    return out


def _files(case: Path) -> list[Path]:
    return [case] if case.is_file() else sorted(case.rglob("*.py"))


def marks(case: Path, code: str) -> tuple[Counter[tuple[str, int]], int]:
    root = case.parent if case.is_file() else case
    expected: Counter[tuple[str, int]] = Counter()
    ok = 0
    for file in _files(case):
        rel = file.relative_to(root).as_posix()
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            for kind, codes in MARK.findall(line):
                for c in re.split(r"\s*,\s*", codes):
                    if c != code:
                        continue
                    if kind == "expect":
                        expected[(rel, number)] += 1
                    else:
                        ok += 1
    return expected, ok


def _config(case: Path, code: str) -> Config:
    pyproject = case / "pyproject.toml"
    base = load_config(pyproject) if case.is_dir() and pyproject.is_file() else Config()
    return replace(base, select=(code,), extend_select=(), ignore=())


@pytest.mark.parametrize(
    "case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_fixture(case: Path) -> None:
    code = case.parent.name
    expected, ok = marks(case, code)
    assert expected or ok, f"{case} has no `# expect: {code}` or `# ok: {code}` mark"
    root = case.parent if case.is_file() else case
    result = review_paths([case], _config(case, code), root=root)
    assert result.internal_errors == []
    actual = Counter((f.file, f.line) for f in result.findings if f.code == code)
    missing = expected - actual
    unexpected = actual - expected
    details = "\n".join(
        f"  {f.file}:{f.line}: {f.message}"
        for f in result.findings
        if (f.file, f.line) in unexpected
    )
    assert not missing and not unexpected, (
        f"missing: {sorted(missing)}\nunexpected: {sorted(unexpected)}\n{details}"
    )


def test_every_rule_has_flagged_and_clean_fixtures() -> None:
    for rule in all_rules():
        if rule.code == "FAA000":
            continue
        cases = [c for c in _cases() if c.parent.name == rule.code]
        assert cases, f"{rule.code} has no fixtures"
        total_expect = sum(sum(marks(c, rule.code)[0].values()) for c in cases)
        total_ok = sum(marks(c, rule.code)[1] for c in cases)
        assert total_expect >= 2, f"{rule.code}: fewer than two flagged lines in fixtures"
        assert total_ok >= 2, f"{rule.code}: fewer than two `# ok:` lines in fixtures"
