"""The outcome of one review run, as reporters receive it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi_architect.review.finding import Finding


@dataclass(frozen=True)
class ReviewResult:
    root: Path
    findings: list[Finding]
    files_checked: int
    # Source lines of the files that have findings (relative POSIX path -> lines), for code frames.
    sources: dict[str, list[str]] = field(default_factory=dict)
    # Checks that crashed (a bug in the tool, reported on stderr, never a traceback).
    internal_errors: list[str] = field(default_factory=list)
