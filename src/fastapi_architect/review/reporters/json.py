"""Machine-readable output: a JSON list of findings, in a stable order."""

from __future__ import annotations

import json

from fastapi_architect.review.result import ReviewResult


def render_json(result: ReviewResult) -> str:
    """One object per finding with the keys `code`, `name`, `message`, `file`, `line`, `column`,
    `end_line`, `end_column`, `severity` and `fix` (the fix title, or null), in that order;
    sorted by file, line and column. Indented by 2, with a trailing newline."""
    items = [finding.as_dict() for finding in sorted(result.findings)]
    return json.dumps(items, indent=2) + "\n"
