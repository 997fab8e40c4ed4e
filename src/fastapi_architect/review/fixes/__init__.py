"""Automatic fixes for review findings (`review --fix`, `--unsafe-fixes`, `--diff`).

Each fixer is a libcst transform registered for one rule code and marked safe (applied by
`--fix`) or unsafe (only with `--unsafe-fixes`). Fixes keep formatting and comments, are
checked to parse before anything is written, and are idempotent.

    from fastapi_architect.review.fixes import apply_fixes, fixable
    outcome = apply_fixes(result, unsafe=False, write=True)
"""

from __future__ import annotations

from fastapi_architect.review.fix_catalog import Safety, count_fixable, fixable
from fastapi_architect.review.fixes._apply import FixOutcome, apply_fixes
from fastapi_architect.review.fixes._base import Fixer, all_fixers, get_fixer

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
