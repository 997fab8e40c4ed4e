"""Which rules have an automatic fix, and how safe it is.

Kept apart from the fixers themselves (`review.fixes`, built on libcst) so that the
"fixable with `--fix`" hint and `--statistics` do not load them: importing libcst took a
quarter of a second and 14 MB, a third of a review of a small project. Each fixer takes
its safety from here (`review.fixes._base.fixer`), and a test checks that every rule
listed has a fixer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fastapi_architect.review.finding import Finding

Safety = Literal["safe", "unsafe"]

FIXES: Mapping[str, Safety] = {
    "FAA108": "unsafe",  # the Pydantic 2 name may behave differently
    "FAA602": "safe",
    "FAA606": "unsafe",  # the startup code moves into a lifespan function
    "FAA701": "unsafe",  # clients see 201 instead of 200
    "FAA706": "safe",
}


def fixable(code: str) -> Safety | None:
    """Whether findings of the rule `code` have an automatic fix: "safe" (`--fix`),
    "unsafe" (`--unsafe-fixes`), or None. A fixer may still decline a particular finding
    whose code it cannot rewrite safely (it is then reported in `FixOutcome.failed`)."""
    return FIXES.get(code.upper())


def count_fixable(findings: Iterable[Finding]) -> dict[Safety, int]:
    """How many of `findings` have a safe and an unsafe fix, for "N fixable with `--fix`"
    (an upper bound: a fixer may decline a finding it cannot rewrite safely)."""
    counts: dict[Safety, int] = {"safe": 0, "unsafe": 0}
    for finding in findings:
        safety = fixable(finding.code)
        if safety is not None:
            counts[safety] += 1
    return counts
