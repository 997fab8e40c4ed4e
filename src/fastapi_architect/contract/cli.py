"""`fastapi-architect contract ...`: diff, changelog and snapshot. Thin: parse options, call
the contract package, print, exit.

Exit codes: 0 clean, 1 a change at or above `--fail-on` (diff only), 2 usage or input error.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import Document, DocumentError, load_document
from fastapi_architect.contract.policy import (
    IgnoreEntry,
    PolicyError,
    apply_policy,
    expired_entries,
    load_ignore_file,
    load_severity_file,
)

contract_app = typer.Typer(
    help="Breaking and non-breaking changes between two versions of an API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class DiffFormat(str, Enum):
    text = "text"
    json = "json"
    yaml = "yaml"
    markdown = "markdown"
    html = "html"
    github = "github"
    junit = "junit"
    sarif = "sarif"


class ChangelogFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


BaseArg = Annotated[
    str,
    typer.Argument(
        help="The old version: a file, `REF:PATH` (`main:openapi.json`), or a git ref with --app.",
        metavar="BASE",
        show_default=False,
    ),
]
RevisionArg = Annotated[
    str,
    typer.Argument(
        help="The new version, given like BASE (`.` with --app: the working tree).",
        metavar="REVISION",
        show_default=False,
    ),
]
IgnoreOpt = Annotated[
    Path | None,
    typer.Option("--ignore", help="YAML or JSON list of accepted changes.", metavar="FILE"),
]
SeverityOpt = Annotated[
    Path | None,
    typer.Option(
        "--severity-levels",
        help="Level overrides per change id: `change-id LEVEL` lines or a YAML/JSON mapping.",
        metavar="FILE",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the report to this file.", metavar="FILE"),
]
AppOpt = Annotated[
    str | None,
    typer.Option(
        "--app",
        help="Compare the OpenAPI of this FastAPI app (`module:attr`) at the git refs BASE and "
        "REVISION. Imports your code, in a subprocess.",
        metavar="MODULE:ATTR",
    ),
]
PythonOpt = Annotated[
    str | None,
    typer.Option(
        "--python",
        help="Interpreter that imports the app (with --app; default: the one running this tool). "
        "Use your project's environment when the tool is installed on its own (pipx, uvx).",
        metavar="PATH",
        envvar="FASTAPI_ARCHITECT_PYTHON",
    ),
]
ProjectOpt = Annotated[
    Path,
    typer.Option("--project", help="Folder the app is imported from (with --app).", metavar="DIR"),
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"fastapi-architect: error: {message}", err=True)
    raise typer.Exit(2)


@contract_app.command()
def diff(
    base: BaseArg,
    revision: RevisionArg,
    output_format: Annotated[
        DiffFormat, typer.Option("--format", help="Output format.")
    ] = DiffFormat.text,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a change is at least this level.")
    ] = FailOn.error,
    ignore: IgnoreOpt = None,
    severity_levels: SeverityOpt = None,
    output: OutputOpt = None,
    app: AppOpt = None,
    project: ProjectOpt = Path("."),
    python: PythonOpt = None,
) -> None:
    """Report what changed between two versions of an API; exit 1 on breaking changes."""
    from fastapi_architect.contract.report import render

    threshold = Level.parse(fail_on.value)
    base_doc, revision_doc, kept = _changes(
        base,
        revision,
        app=app,
        project=project,
        python=python,
        ignore=ignore,
        severity=severity_levels,
    )
    text = render(
        kept, output_format.value, base=base_doc, revision=revision_doc, fail_on=threshold
    )
    _write(text, output)
    raise typer.Exit(1 if any(c.level >= threshold for c in kept) else 0)


@contract_app.command()
def changelog(
    base: BaseArg,
    revision: RevisionArg,
    output_format: Annotated[
        ChangelogFormat, typer.Option("--format", help="Output format.")
    ] = ChangelogFormat.text,
    ignore: IgnoreOpt = None,
    severity_levels: SeverityOpt = None,
    output: OutputOpt = None,
    app: AppOpt = None,
    project: ProjectOpt = Path("."),
    python: PythonOpt = None,
) -> None:
    """Every change between two versions of an API, all levels, grouped by operation."""
    from fastapi_architect.contract.report import render_changelog

    base_doc, revision_doc, kept = _changes(
        base,
        revision,
        app=app,
        project=project,
        python=python,
        ignore=ignore,
        severity=severity_levels,
    )
    _write(
        render_changelog(kept, output_format.value, base=base_doc, revision=revision_doc), output
    )


@contract_app.command()
def snapshot(
    app: Annotated[
        str,
        typer.Option(
            "--app",
            help="The FastAPI app, `module:attr`. Imports your code, in a subprocess.",
            metavar="MODULE:ATTR",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the document here (default: stdout).", metavar="FILE"
        ),
    ] = None,
    project: ProjectOpt = Path("."),
    python: PythonOpt = None,
) -> None:
    """Write the app's OpenAPI document, keys sorted, for committing next to the code."""
    from fastapi_architect.contract.app_source import AppSourceError, export_openapi

    try:
        data = export_openapi(app, cwd=project, python=python)
    except AppSourceError as exc:
        _fail(str(exc))
    # Sorted keys and a fixed indent: the same app gives the same bytes, so diffs stay small.
    _write(json.dumps(data, sort_keys=True, indent=2) + "\n", output)


def _changes(
    base: str,
    revision: str,
    *,
    app: str | None,
    project: Path,
    python: str | None,
    ignore: Path | None,
    severity: Path | None,
) -> tuple[Document, Document, list[Change]]:
    """Both documents and the changes the policy keeps; input errors end in exit 2."""
    from fastapi_architect.contract.differ import diff_documents

    # Policy files first: they are cheap to read, and a typo should not wait for two exports.
    try:
        entries = load_ignore_file(ignore) if ignore is not None else []
        levels = load_severity_file(severity) if severity is not None else None
    except PolicyError as exc:
        _fail(str(exc))
    base_doc, revision_doc = _documents(base, revision, app=app, project=project, python=python)
    today = dt.date.today()
    _warn_expired(entries, today)
    if levels:
        _warn_unknown_ids(levels, severity)
    warnings: list[str] = []
    try:
        changes = diff_documents(base_doc, revision_doc, warnings=warnings)
    except DocumentError as exc:
        _fail(str(exc))
    for warning in warnings:
        typer.echo(f"fastapi-architect: warning: {warning}", err=True)
    kept, ignored = apply_policy(changes, ignore=entries, severity=levels, today=today)
    for entry in entries:
        if not entry.expired(today) and not any(entry.matches(c) for c in changes):
            typer.echo(
                f"fastapi-architect: warning: {entry.describe()} matches no change "
                f"({ignore}): remove it once the change is gone",
                err=True,
            )
    if ignored:
        noun = "change" if len(ignored) == 1 else "changes"
        typer.echo(
            f"fastapi-architect: {len(ignored)} accepted {noun} ignored ({ignore})", err=True
        )
    return base_doc, revision_doc, kept


def _documents(
    base: str, revision: str, *, app: str | None, project: Path, python: str | None
) -> tuple[Document, Document]:
    if app is None:
        try:
            return load_document(base), load_document(revision)
        except DocumentError as exc:
            _fail(str(exc))
    from fastapi_architect.contract.app_source import AppSourceError, document_at_ref

    try:
        return (
            document_at_ref(base, app, cwd=project, python=python),
            document_at_ref(revision, app, cwd=project, python=python),
        )
    except (AppSourceError, DocumentError) as exc:
        _fail(str(exc))


def _warn_unknown_ids(levels: dict[str, Level | None], source: Path | None) -> None:
    from fastapi_architect.contract.catalog import known_ids

    known = known_ids()
    for ident in levels:
        if ident not in known:
            typer.echo(
                f"fastapi-architect: warning: {source}: {ident!r} is not a change id this tool "
                "reports (see docs/contract-changes.md)",
                err=True,
            )


def _warn_expired(entries: list[IgnoreEntry], today: dt.date) -> None:
    for entry in expired_entries(entries, today):
        typer.echo(
            f"fastapi-architect: warning: {entry.describe()}: expired on {entry.expires}, "
            "no longer applies",
            err=True,
        )


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
