"""The outcome of one review run, as reporters receive it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_architect.review.finding import Finding

if TYPE_CHECKING:
    from fastapi_architect.model.inventory import RouteRow


@dataclass(frozen=True)
class ReviewResult:
    root: Path
    findings: list[Finding]
    files_checked: int
    # Source lines of the files that have findings (relative POSIX path -> lines), for code frames.
    sources: dict[str, list[str]] = field(default_factory=dict)
    # Checks that crashed (a bug in the tool, reported on stderr, never a traceback).
    internal_errors: list[str] = field(default_factory=list)
    # The route inventory of the reviewed files, when the review was asked to keep it
    # (the HTML report shows it): taken from the review's model, not parsed again.
    routes: list[RouteRow] | None = None
