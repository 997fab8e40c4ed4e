"""GitHub Actions workflow commands: one annotation per change.

`::error file=openapi.json,line=12,title=<id>::message`; `file` and `line` only when the
document the change points into was read from a file. Escaping as in "Workflow commands
for GitHub Actions": data escapes `%`, CR, LF; property values also `:` and `,`.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.common import file_location, heading

COMMANDS: dict[Level, str] = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(changes: Sequence[Change], *, base: Document, revision: Document) -> str:
    """One line per change; empty when there are none."""
    lines: list[str] = []
    for change in changes:
        props: dict[str, str] = {}
        where = file_location(change, base, revision)
        if where is not None:
            props["file"] = where.file
            if where.line is not None:
                props["line"] = str(where.line)
        props["title"] = change.id
        rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props.items())
        # The title is the id, so the operation goes in the message.
        message = f"{heading(change)}: {change.message}"
        lines.append(f"::{COMMANDS[change.level]} {rendered}::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)
