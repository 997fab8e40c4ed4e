"""A self-contained HTML changelog: one page, inline style, no scripts, everything escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from fastapi_architect.contract.changes import Change
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.common import group_by_operation, source, summary

_STYLE = """\
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h2{font-family:ui-monospace,monospace;font-size:1.1rem;margin-top:2rem}
ul{list-style:none;padding:0}li{margin:.4rem 0}
code{font-family:ui-monospace,monospace}
.level{display:inline-block;min-width:4.5rem;padding:0 .4rem;border-radius:3px;color:#fff;\
font-size:.85rem;text-align:center}
.error{background:#c62828}.warning{background:#b26a00}.info{background:#1565c0}
.source{color:#666;font-size:.85rem}.breaking{color:#c62828;font-weight:bold}"""


def render_html(
    changes: Sequence[Change],
    *,
    base: Document,
    revision: Document,
    title: str = "API changes",
) -> str:
    """The changes grouped by operation, with level, id, message and source of each."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(title)}: {escape(base.name)} to {escape(revision.name)}</title>",
        f"<style>\n{_STYLE}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>From <code>{escape(base.name)}</code> to <code>{escape(revision.name)}</code>."
        f" {escape(summary(changes))}</p>",
    ]
    if any(c.breaking for c in changes):
        parts.append(
            '<p class="breaking">Breaking: existing clients may fail against the revision.</p>'
        )
    for operation, group in group_by_operation(changes).items():
        parts.append(f"<h2>{escape(operation)}</h2>")
        parts.append("<ul>")
        for c in group:
            level = c.level.label
            parts.append(
                f'<li><span class="level {level}">{level}</span> <code>{escape(c.id)}</code>: '
                f"{escape(c.message)}"
                f' <span class="source">{escape(source(c, base, revision))}</span></li>'
            )
        parts.append("</ul>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
