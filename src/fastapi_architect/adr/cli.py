"""`fastapi-architect adr new TITLE` and `adr list`."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fastapi_architect.adr.records import AdrError, list_records, propose, record_dir, write

adr_app = typer.Typer(
    name="adr",
    help="Architecture decision records: numbered, one decision per file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RootOpt = Annotated[
    Path,
    typer.Option(
        "--root", help="The project folder (records go in docs/adr/ or history/adr/ under it)."
    ),
]


class ListFormat(str, Enum):
    table = "table"
    json = "json"


def _fail(message: str) -> NoReturn:
    typer.echo(f"fastapi-architect: error: {message}", err=True)
    raise typer.Exit(2)


def _check_root(root: Path) -> None:
    if not root.is_dir():
        _fail(f"not a folder: {root}")


@adr_app.command("new")
def new(
    title: Annotated[str, typer.Argument(help="What is decided, e.g. 'Use PostgreSQL'.")],
    status: Annotated[
        str, typer.Option("--status", help="Proposed, Accepted, Rejected, Deprecated, Superseded.")
    ] = "Proposed",
    context: Annotated[
        str | None, typer.Option("--context", help="Why a decision is needed.")
    ] = None,
    decision: Annotated[str | None, typer.Option("--decision", help="What is decided.")] = None,
    positive: Annotated[
        list[str] | None, typer.Option("--positive", help="A positive consequence (repeatable).")
    ] = None,
    negative: Annotated[
        list[str] | None, typer.Option("--negative", help="A negative consequence (repeatable).")
    ] = None,
    alternative: Annotated[
        list[str] | None,
        typer.Option("--alternative", help="An option considered and not chosen (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the record instead of writing it.")
    ] = False,
    root: RootOpt = Path("."),
) -> None:
    """Write the next numbered decision record, with its sections to fill in."""
    _check_root(root)
    try:
        proposal = propose(
            root,
            title,
            status=status,
            context=context,
            decision=decision,
            positive=positive or (),
            negative=negative or (),
            alternatives=alternative or (),
        )
        if dry_run:
            typer.echo(f"Would create {proposal.path}:\n")
            typer.echo(proposal.text, nl=False)
            return
        write(root, proposal)
    except AdrError as exc:
        _fail(str(exc))
    typer.echo(f"Created {_shown(root, proposal.path)}")


@adr_app.command("list")
def list_(
    output_format: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
    root: RootOpt = Path("."),
) -> None:
    """List the decision records: number, title, status."""
    _check_root(root)
    try:
        records = list_records(root)
        folder = record_dir(root).as_posix()
    except AdrError as exc:
        _fail(str(exc))
    if output_format is ListFormat.json:
        data = [
            {"number": r.number, "title": r.title, "status": r.status, "path": r.path}
            for r in records
        ]
        typer.echo(json.dumps(data, indent=2))
        return
    if not records:
        typer.echo(f"No decision records in {folder}/ (create one with `adr new TITLE`).")
        return
    noun = "decision record" if len(records) == 1 else "decision records"
    table = Table(title=f"{len(records)} {noun} in {folder}/")
    for column in ("No.", "Title", "Status"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(f"{r.number:04d}", Text(r.title), Text(r.status))
    Console().print(table)


def _shown(root: Path, relative: str) -> str:
    return relative if root == Path(".") else (root / relative).as_posix()
