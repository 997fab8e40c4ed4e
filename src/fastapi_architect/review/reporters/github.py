"""GitHub Actions workflow commands: one annotation per finding.

See "Workflow commands for GitHub Actions": `::error file=…,line=…::message`. Property
values escape `%`, CR, LF, `:` and `,`; the message escapes `%`, CR and LF.
"""

from __future__ import annotations

from fastapi_architect.review.finding import Severity
from fastapi_architect.review.result import ReviewResult

COMMANDS: dict[Severity, str] = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(value: str) -> str:
    """Escape a command's message (the part after `::`)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a command property's value (`file=`, `title=`, ...)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(result: ReviewResult) -> str:
    """One `::error`/`::warning`/`::notice` line per finding; empty when there are none."""
    lines: list[str] = []
    for f in sorted(result.findings):
        props = {
            "file": f.file,
            "line": str(f.line),
            "col": str(f.column),
            "endLine": str(f.end_line),
            "endColumn": str(f.end_column),
            "title": f"{f.code} ({f.name})",
        }
        rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props.items())
        lines.append(f"::{COMMANDS[f.severity]} {rendered}::{escape_data(f.message)}")
    return "".join(line + "\n" for line in lines)
