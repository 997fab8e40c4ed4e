"""`fastapi-architect mcp` and `fastapi-architect agent install`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fastapi_architect.assistant.agent import InstallError, install

agent_app = typer.Typer(
    name="agent",
    help="An assistant agent definition wired to the MCP server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def mcp(
    root: Annotated[
        Path,
        typer.Option(
            "--root", help="The only folder the tools may read and write in (default: .)."
        ),
    ] = Path("."),
) -> None:
    """Serve every capability as tools to an AI coding assistant (MCP over stdio)."""
    if not root.is_dir():
        typer.echo(f"fastapi-architect: error: not a folder: {root}", err=True)
        raise typer.Exit(2)
    # The SDK is imported here, so other commands do not pay for it.
    from fastapi_architect.assistant.server import run_stdio

    run_stdio(root)


@agent_app.command("install")
def install_agent(
    target: Annotated[
        Path, typer.Option("--target", help="The project to install into (default: .).")
    ] = Path("."),
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace an edited agent file and our own differing .mcp.json entry."
        ),
    ] = False,
) -> None:
    """Write .claude/agents/fastapi-backend-architect.md and register the MCP server in .mcp.json."""
    if not target.is_dir():
        typer.echo(f"fastapi-architect: error: not a folder: {target}", err=True)
        raise typer.Exit(2)
    try:
        steps = install(target, force=force)
    except InstallError as exc:
        typer.echo(f"fastapi-architect: error: {exc}", err=True)
        raise typer.Exit(1) from None
    for step in steps:
        typer.echo(f"{step.action:>9}  {step.path.as_posix()}: {step.note}")
    if all(step.content is None for step in steps):
        typer.echo("Nothing to do: the agent is already installed.")
