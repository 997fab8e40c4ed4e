"""`fastapi-architect new NAME` and `fastapi-architect add resource NAME FIELD...`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from fastapi_architect.generator.errors import GeneratorError

add_app = typer.Typer(
    name="add",
    help="Grow a generated project: `add resource NAME field:type[:options] ...`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


GENERATED_PYTHON = (3, 11)  # the generated project's requires-python


def _fail(message: str) -> NoReturn:
    typer.echo(f"fastapi-architect: error: {message}", err=True)
    raise typer.Exit(2)


def new(
    name: Annotated[str, typer.Argument(help="The project's folder name, e.g. orders-service.")],
    path: Annotated[
        Path, typer.Option("--path", help="Where to create the project folder (default: here).")
    ] = Path("."),
    description: Annotated[
        str | None, typer.Option("--description", help="One line saying what the service does.")
    ] = None,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Ask nothing: take the defaults for what is unset.")
    ] = False,
) -> None:
    """Generate a production-grade FastAPI service into PATH/NAME."""
    # Imported here: every other command of the tool would load the templates (jinja2).
    from fastapi_architect.generator.project import (
        DEFAULT_DESCRIPTION,
        create_project,
        plan_project,
    )

    if description is None:
        description = DEFAULT_DESCRIPTION
        if not no_input and sys.stdin.isatty():
            description = typer.prompt("What does the service do? (one line)", DEFAULT_DESCRIPTION)
    try:
        plan = plan_project(name, path, description)
        destination = create_project(plan)
    except GeneratorError as exc:
        _fail(str(exc))
    typer.echo(f"Created {destination} ({len(plan.files)} files). Next:")
    if sys.version_info < GENERATED_PYTHON:
        typer.echo(
            "note: the generated service needs Python 3.11 or newer (3.10 reached its end of "
            "life in October 2026); `make test` uses python3, or PYTHON=python3.12 make test",
            err=True,
        )
    typer.echo(f"  cd {destination}")
    typer.echo("  make test    # creates .venv, installs, runs the tests")
    typer.echo("  make run     # serves http://127.0.0.1:8000/docs")


@add_app.command("resource")
def resource(
    name: Annotated[str, typer.Argument(help="The resource, singular: book, order-line.")],
    fields: Annotated[
        list[str],
        typer.Argument(
            help="Fields as name:type[:options]. Types: str, text, int, decimal, bool, "
            "datetime, date, uuid, email, ref:OtherResource. Options: unique, index, "
            "optional, max=N.",
            show_default=False,
        ),
    ],
    path: Annotated[
        Path, typer.Option("--path", help="The project folder (default: here).")
    ] = Path("."),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the files it would write; write nothing.")
    ] = False,
) -> None:
    """Add a resource: model, schemas, repository, service, router, migration and tests."""
    from fastapi_architect.generator.resource import add_resource

    if not path.is_dir():
        _fail(f"not a folder: {path}")
    try:
        plan = add_resource(path, name, fields, dry_run=dry_run)
    except GeneratorError as exc:
        _fail(str(exc))
    for line in plan.describe():
        typer.echo(("would " if dry_run else "") + line)
    if not dry_run:
        typer.echo(
            f"Added {plan.name.singular} ({len(plan.files)} files). "
            "Apply the migration with `alembic upgrade head`."
        )
