"""Output formats of `fastapi-architect contract diff` and `contract changelog`.

Changes are rendered in the order given: the differ sorts them.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.github import render_github
from fastapi_architect.contract.report.html import render_html
from fastapi_architect.contract.report.json import render_json, render_json_changelog
from fastapi_architect.contract.report.junit import render_junit
from fastapi_architect.contract.report.markdown import render_markdown
from fastapi_architect.contract.report.sarif import render_sarif
from fastapi_architect.contract.report.text import render_text, render_text_changelog
from fastapi_architect.contract.report.yaml import render_yaml

FORMATS = ("text", "json", "yaml", "markdown", "html", "github", "junit", "sarif")
CHANGELOG_FORMATS = ("text", "markdown", "html", "json")

__all__ = ["CHANGELOG_FORMATS", "FORMATS", "render", "render_changelog"]


def render(
    changes: Sequence[Change], fmt: str, *, base: Document, revision: Document, fail_on: Level
) -> str:
    """The `contract diff` report of `changes` in format `fmt` (one of `FORMATS`).

    `fail_on` only shapes formats that pass or fail (JUnit); the exit code is the CLI's.
    """
    if fmt == "text":
        return render_text(changes, base=base, revision=revision)
    if fmt == "json":
        return render_json(changes, base=base, revision=revision)
    if fmt == "yaml":
        return render_yaml(changes, base=base, revision=revision)
    if fmt == "markdown":
        return render_markdown(changes, base=base, revision=revision)
    if fmt == "html":
        return render_html(changes, base=base, revision=revision)
    if fmt == "github":
        return render_github(changes, base=base, revision=revision)
    if fmt == "junit":
        return render_junit(changes, base=base, revision=revision, fail_on=fail_on)
    if fmt == "sarif":
        return render_sarif(changes, base=base, revision=revision)
    raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")


def render_changelog(
    changes: Sequence[Change], fmt: str, *, base: Document, revision: Document
) -> str:
    """The `contract changelog` of `changes` (every level), grouped by operation."""
    title = "API changelog"
    if fmt == "text":
        return render_text_changelog(changes, base=base, revision=revision)
    if fmt == "markdown":
        return render_markdown(changes, base=base, revision=revision, title=title)
    if fmt == "html":
        return render_html(changes, base=base, revision=revision, title=title)
    if fmt == "json":
        return render_json_changelog(changes, base=base, revision=revision)
    raise ValueError(
        f"unknown changelog format {fmt!r}; expected one of {', '.join(CHANGELOG_FORMATS)}"
    )
