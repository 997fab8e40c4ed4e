"""Automatic fixes for review findings (`review --fix`, `--unsafe-fixes`, `--diff`).

Each fixer is a libcst transform registered for one rule code and marked safe (applied by
`--fix`) or unsafe (only with `--unsafe-fixes`). Fixes keep formatting and comments, are
checked to parse before anything is written, and are idempotent.

    from fastapi_architect.review.fixes import apply_fixes, fixable
    outcome = apply_fixes(result, unsafe=False, write=True)
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fix_catalog import Safety, fixable
from fastapi_architect.review.fixes._apply import FixOutcome, apply_fixes
from fastapi_architect.review.fixes._base import Fixer, all_fixers, get_fixer


def count_fixable(findings: Iterable[Finding]) -> dict[Safety, int]:
    """How many of `findings` have a safe and an unsafe fix, for "N fixable with `--fix`"
    (an upper bound: a fixer may decline a finding it cannot rewrite safely)."""
    counts: dict[Safety, int] = {"safe": 0, "unsafe": 0}
    for finding in findings:
        safety = fixable(finding.code)
        if safety is not None:
            counts[safety] += 1
    return counts


__all__ = [
    "FixOutcome",
    "Fixer",
    "Safety",
    "all_fixers",
    "apply_fixes",
    "count_fixable",
    "fixable",
    "get_fixer",
]
