"""Markdown changelog, for pull request comments and release notes."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi_architect.contract.changes import Change
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.common import group_by_operation, summary


def render_markdown(
    changes: Sequence[Change],
    *,
    base: Document,
    revision: Document,
    title: str = "API changes",
) -> str:
    """A `##` section per operation, a bullet per change with its level and id."""
    lines = [
        f"# {title}",
        "",
        f"From {_code(base.name)} to {_code(revision.name)}. {_sentence(summary(changes))}",
    ]
    if any(c.breaking for c in changes):
        lines += ["", "**Breaking:** existing clients may fail against the revision."]
    for operation, group in group_by_operation(changes).items():
        lines += ["", f"## {_code(operation)}", ""]
        # Messages are written with names in backticks: they are Markdown already.
        lines += [f"- **{c.level.label}** {_code(c.id)}: {_one_line(c.message)}" for c in group]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    """Inline code that survives backticks inside `text`."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."
