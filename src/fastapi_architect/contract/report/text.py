"""Plain text for terminals and logs: changes under their operation, then a summary line."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi_architect.contract.changes import Change
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.common import group_by_operation, source, summary

_LEVEL_WIDTH = len("warning")


def render_text(changes: Sequence[Change], *, base: Document, revision: Document) -> str:
    """`GET /pets` headings, one `level  id: message` line per change with its source below."""
    lines: list[str] = []
    for operation, group in group_by_operation(changes).items():
        lines.append(operation)
        for change in group:
            lines.append(f"  {change.level.label:<{_LEVEL_WIDTH}}  {change.id}: {change.message}")
            lines.append(f"  {'':<{_LEVEL_WIDTH}}  at {source(change, base, revision)}")
        lines.append("")
    lines.append(summary(changes))
    return "\n".join(lines) + "\n"


def render_text_changelog(changes: Sequence[Change], *, base: Document, revision: Document) -> str:
    """A changelog to read: every change under its operation, most readable first."""
    lines = [f"Changes from {base.name} to {revision.name}", ""]
    for operation, group in group_by_operation(changes).items():
        lines.append(operation)
        lines.extend(f"  - {c.message} [{c.level.label}: {c.id}]" for c in group)
        lines.append("")
    lines.append(summary(changes))
    return "\n".join(lines) + "\n"
