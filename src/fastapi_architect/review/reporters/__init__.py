"""Output formats of `fastapi-architect review`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi_architect.review.registry import Rule
from fastapi_architect.review.reporters.github import render_github
from fastapi_architect.review.reporters.json import render_json
from fastapi_architect.review.reporters.sarif import render_sarif
from fastapi_architect.review.reporters.text import render_text
from fastapi_architect.review.result import ReviewResult

if TYPE_CHECKING:
    from fastapi_architect.review.reporters.html import render_html

FORMATS = ("text", "json", "sarif", "github", "html")

__all__ = [
    "FORMATS",
    "render",
    "render_github",
    "render_html",
    "render_json",
    "render_sarif",
    "render_text",
]


def render(
    result: ReviewResult,
    fmt: str,
    *,
    color: bool,
    show_source: bool,
    tool_version: str,
    rules: Mapping[str, Rule] | None = None,
) -> str:
    """Render `result` in format `fmt` (one of `FORMATS`). `rules` defaults to the registry."""
    if fmt == "text":
        return render_text(result, color=color, show_source=show_source, rules=rules)
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return render_sarif(result, tool_version=tool_version, rules=rules)
    if fmt == "github":
        return render_github(result)
    if fmt == "html":
        from fastapi_architect.review.reporters.html import render_html

        return render_html(result, tool_version=tool_version, rules=rules)
    raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")


def __getattr__(name: str) -> Any:
    # The HTML reporter loads markdown-it: only a run that writes HTML pays for it.
    if name == "render_html":
        from fastapi_architect.review.reporters.html import render_html

        return render_html
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
