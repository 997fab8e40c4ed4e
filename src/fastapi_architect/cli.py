"""Command-line entry point. Thin: parses options, calls the packages, prints, exits.

Exit codes: 0 no findings, 1 findings, 2 usage or input error.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import itertools
import json
import os
import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fastapi_architect import __version__
from fastapi_architect.adr.cli import adr_app
from fastapi_architect.assistant.cli import agent_app, mcp
from fastapi_architect.config import Config, ConfigError, find_config_file, load_config
from fastapi_architect.contract.cli import contract_app
from fastapi_architect.generator.cli import add_app, new
from fastapi_architect.runtime.cli import PROFILE_CONTEXT, profile
from fastapi_architect.source.discovery import InputError

if TYPE_CHECKING:
    from fastapi_architect.review.finding import Finding
    from fastapi_architect.review.fixes import FixOutcome
    from fastapi_architect.review.result import ReviewResult

app = typer.Typer(
    name="fastapi-architect",
    help="A senior FastAPI backend architect, as a tool: review, route inventory, rule docs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ReviewFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    html = "html"


class RoutesFormat(str, Enum):
    table = "table"
    json = "json"


def _fail(message: str) -> NoReturn:
    typer.echo(f"fastapi-architect: error: {message}", err=True)
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fastapi-architect {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """fastapi-architect."""


def _config_for(paths: list[Path], config_path: Path | None) -> Config:
    try:
        if config_path is not None:
            return load_config(config_path)
        start = paths[0] if paths else Path.cwd()
        return load_config(find_config_file(start.resolve()))
    except ConfigError as exc:
        _fail(str(exc))


def _check_paths(paths: list[Path]) -> None:
    for path in paths:
        if not path.exists():
            _fail(f"path does not exist: {path}")


@app.command()
def review(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to review (default: .).", metavar="PATH..."),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Rule codes or prefixes to enable (replaces defaults).",
            metavar="CODES",
        ),
    ] = None,
    extend_select: Annotated[
        list[str] | None,
        typer.Option("--extend-select", help="Rule codes or prefixes to add.", metavar="CODES"),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Rule codes or prefixes to disable.", metavar="CODES"),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Extra path patterns to skip.", metavar="PATTERN"),
    ] = None,
    output_format: Annotated[
        ReviewFormat, typer.Option("--format", help="Output format.")
    ] = ReviewFormat.text,
    output_file: Annotated[
        Path | None, typer.Option("--output-file", "-o", help="Write the report to this file.")
    ] = None,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")
    ] = False,
    config_path: Annotated[
        Path | None, typer.Option("--config", help="pyproject.toml to read settings from.")
    ] = None,
    show_source: Annotated[
        bool, typer.Option("--show-source/--no-show-source", help="Show code frames.")
    ] = True,
    color: Annotated[
        bool | None, typer.Option("--color/--no-color", help="Colour (default: on a terminal).")
    ] = None,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Show counts per rule instead of each finding.")
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="Report only findings not recorded in this baseline file.",
            metavar="FILE",
        ),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option(
            "--write-baseline",
            help="Record today's findings in this baseline file and exit 0.",
            metavar="FILE",
        ),
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe automatic fixes.")] = False,
    unsafe_fixes: Annotated[
        bool, typer.Option("--unsafe-fixes", help="Also apply (or count) unsafe fixes.")
    ] = False,
    diff: Annotated[
        bool,
        typer.Option("--diff", help="Print the fixes as a unified diff; write nothing."),
    ] = False,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Review every file again; neither read nor write .fastapi-architect-cache/.",
        ),
    ] = False,
) -> None:
    """Review a FastAPI codebase and report what a senior architect would flag."""
    if _STANDALONE:
        # The process ends after the report: the cyclic collector would only spend most
        # of a second scanning the syntax trees after a large review (the engine holds it
        # off while it works; re-enabling it triggers a full collection). mypy does the
        # same. Long-running commands (`mcp`) and embedding programs keep their collector.
        gc.disable()
        # The interpreter still collects once as it exits, disabled or not: frozen objects
        # it leaves alone (0.8 s of the 5.1 s the synthetic project's review took).
        atexit.register(gc.freeze)
    from fastapi_architect.review.baseline import BaselineError, filter_new, load_baseline
    from fastapi_architect.review.engine import review_paths
    from fastapi_architect.review.statistics import fix_hint

    if write_baseline is not None:
        clashes = [
            flag for flag, on in (("--baseline", baseline), ("--fix", fix), ("--diff", diff)) if on
        ]
        if clashes:
            _fail(f"--write-baseline cannot be combined with {', '.join(clashes)}")
    targets = paths or [Path(".")]
    _check_paths(targets)
    config = _config_for(targets, config_path).with_cli(
        select=select, extend_select=extend_select, ignore=ignore, exclude=exclude
    )
    accepted = None
    if baseline is not None:
        try:
            accepted = load_baseline(baseline)
        except BaselineError as exc:
            _fail(str(exc))

    reported: set[str] = set()

    def run() -> tuple[ReviewResult, int]:
        """Review the targets; the findings the baseline accepts are left out and counted."""
        try:
            outcome = review_paths(
                targets,
                config,
                use_cache=not no_cache,
                routes=output_format is ReviewFormat.html and not statistics,
            )
        except (InputError, ConfigError) as exc:
            _fail(str(exc))
        for error in outcome.internal_errors:
            if error not in reported:  # a re-review after --fix would repeat them
                reported.add(error)
                typer.echo(f"fastapi-architect: internal error (please report): {error}", err=True)
        if accepted is None or baseline is None:
            return outcome, 0
        new = filter_new(outcome, accepted, baseline)
        return new, len(outcome.findings) - len(new.findings)

    if write_baseline is not None:
        _write_baseline(run()[0], write_baseline)
    result, hidden = run()

    notes: list[str] = []
    if diff or fix:
        # Like ruff with noqa comments: baselined findings are accepted as they are, never fixed.
        applied = _apply_fixes(result, unsafe=unsafe_fixes, write=not diff)
        if diff:
            _write(applied.diff, output_file)
            count = len(applied.fixed)
            typer.echo(
                f"Would fix {count} finding{'s' if count != 1 else ''}." if count else "No fixes.",
                err=True,
            )
            _report_failed_fixes(applied.failed)
            raise typer.Exit(2 if result.internal_errors else (1 if applied.diff else 0))
        _report_failed_fixes(applied.failed)
        if applied.files_changed:
            # Re-review: lines moved, and what remains is what the files say now.
            result, hidden = run()
        notes.append(f"{len(applied.fixed)} fixed, {len(result.findings)} remaining.\n")

    hint = fix_hint(result.findings, unsafe=unsafe_fixes)
    if hint:
        notes.append(hint)
    if hidden:
        notes.append(
            f"{hidden} finding{'s' if hidden != 1 else ''} in the baseline not shown ({baseline}).\n"
        )

    if statistics:
        from fastapi_architect.review.statistics import render_statistics

        as_json = output_format is ReviewFormat.json
        text = render_statistics(result.findings, as_json=as_json, unsafe=unsafe_fixes)
        if not as_json:
            text += "".join(notes)
        _write(text, output_file)
    elif output_format is ReviewFormat.text:
        # Written finding by finding: a report of thousands is never held whole.
        from fastapi_architect.review.reporters.text import text_chunks

        use_color = color if color is not None else (output_file is None and sys.stdout.isatty())
        chunks = text_chunks(result, color=use_color, show_source=show_source)
        _write_chunks(itertools.chain(chunks, notes), output_file)
    else:
        _write(_render_review(result, output_format, show_source, targets, config), output_file)
    if result.internal_errors:
        # A check crashed: the report may be incomplete, which is not a clean result.
        raise typer.Exit(2)
    raise typer.Exit(0 if exit_zero or not result.findings else 1)


def _render_review(
    result: ReviewResult,
    output_format: ReviewFormat,
    show_source: bool,
    targets: list[Path],
    config: Config,
) -> str:
    """The machine formats and HTML (the text report is written as it is made)."""
    from fastapi_architect.review.reporters import render

    if output_format is ReviewFormat.html:
        try:
            from fastapi_architect.review.reporters.html import render_html
        except ImportError as exc:
            _fail(f"--format html is not available in this installation ({exc})")
        routes = result.routes
        if routes is None:  # answered from the cache, which keeps findings only
            from fastapi_architect.review.reporters.html import route_inventory

            routes = route_inventory(targets, config)[0]
        return render_html(result, tool_version=__version__, routes=routes)
    return render(
        result, output_format.value, color=False, show_source=show_source, tool_version=__version__
    )


def _write_baseline(result: ReviewResult, path: Path) -> NoReturn:
    from fastapi_architect.review.baseline import BaselineError, write_baseline

    try:
        written = write_baseline(result, path)
    except BaselineError as exc:
        _fail(str(exc))
    count = written.total
    typer.echo(
        f"Wrote {count} finding{'s' if count != 1 else ''} to the baseline {path}.", err=True
    )
    raise typer.Exit(2 if result.internal_errors else 0)


def _apply_fixes(result: ReviewResult, *, unsafe: bool, write: bool) -> FixOutcome:
    try:
        from fastapi_architect.review.fixes import apply_fixes
    except ImportError as exc:
        _fail(f"automatic fixes are not available in this installation ({exc})")
    return apply_fixes(result, unsafe=unsafe, write=write)


def _report_failed_fixes(failed: list[tuple[Finding, str]]) -> None:
    for finding, reason in failed:
        typer.echo(
            f"fastapi-architect: warning: fix for {finding.code} at "
            f"{finding.file}:{finding.line} skipped: {reason}",
            err=True,
        )


@app.command()
def routes(
    path: Annotated[Path, typer.Argument(help="The project folder.")] = Path("."),
    output_format: Annotated[
        RoutesFormat, typer.Option("--format", help="Output format.")
    ] = RoutesFormat.table,
    config_path: Annotated[
        Path | None, typer.Option("--config", help="pyproject.toml to read settings from.")
    ] = None,
    output_file: Annotated[
        Path | None, typer.Option("--output-file", "-o", help="Write the inventory to this file.")
    ] = None,
) -> None:
    """List every route: method, full path, handler, sync/async, auth, response model, status."""
    from fastapi_architect.model.inventory import inventory
    from fastapi_architect.review.engine import load_model

    _check_paths([path])
    config = _config_for([path], config_path)
    try:
        model = load_model([path], config)
    except (InputError, ConfigError) as exc:
        _fail(str(exc))
    rows = inventory(model)
    if output_format is RoutesFormat.json:
        _write(json.dumps([r.as_dict() for r in rows], indent=2) + "\n", output_file)
        return
    table = Table(title=f"{len(rows)} routes", show_lines=False, expand=False)
    for column in ("Method", "Path", "Handler", "Async", "Auth", "Response model", "Status"):
        table.add_column(column, overflow="fold")
    for r in rows:
        # Text cells, not markup: paths and models contain brackets (`list[Item]`).
        table.add_row(
            Text(r.method),
            Text(r.path),
            Text(f"{r.file}:{r.line} {r.handler.rsplit('.', 1)[-1]}"),
            Text("async" if r.is_async else "sync"),
            Text(" → ".join(r.auth)) if r.auth else Text("none", style="red"),
            Text(r.response_model or "-"),
            Text(str(r.status_code) if r.status_code is not None else "-"),
        )
    if output_file is None:
        # Piped output gets a wide table rather than rich's 80-column default.
        Console(width=None if sys.stdout.isatty() else 200).print(table)
        return
    try:
        with output_file.open("w", encoding="utf-8") as handle:
            Console(file=handle, width=200).print(table)
    except OSError as exc:
        _fail(f"cannot write {output_file}: {exc.strerror or exc}")


@app.command("rules")
def list_rules(
    output_format: Annotated[
        RoutesFormat, typer.Option("--format", help="table or json.")
    ] = RoutesFormat.table,
) -> None:
    """List the rule catalog."""
    from fastapi_architect.review.registry import all_rules

    rules = all_rules()
    if output_format is RoutesFormat.json:
        data = [
            {
                "code": r.code,
                "name": r.name,
                "category": r.category,
                "severity": r.severity,
                "default_enabled": r.default_enabled,
                "summary": r.summary,
                "fix": r.fix_title,
                "cwe": list(r.cwe),
            }
            for r in rules
        ]
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(title=f"{len(rules)} rules")
    for column in ("Code", "Name", "Category", "Severity", "Default", "Summary"):
        table.add_column(column, overflow="fold")
    for r in rules:
        table.add_row(
            r.code,
            r.name,
            r.category,
            r.severity,
            "on" if r.default_enabled else "opt-in",
            r.summary,
        )
    Console().print(table)


@app.command("rule")
def show_rule(code: Annotated[str, typer.Argument(help="A rule code, e.g. FAA201.")]) -> None:
    """Show one rule's documentation."""
    from fastapi_architect.review.registry import get_rule

    found = get_rule(code)
    if found is None:
        _fail(f"unknown rule code: {code}")
    header = (
        f"# {found.code} {found.name}\n\n"
        f"*{found.category}* · severity **{found.severity}** · "
        f"{'on by default' if found.default_enabled else 'opt-in'}\n\n{found.summary}.\n\n"
    )
    body = header + found.docs
    if sys.stdout.isatty():
        from rich.markdown import Markdown  # markdown-it: only this command needs it

        Console().print(Markdown(body))
    else:
        typer.echo(body)


app.add_typer(
    contract_app, name="contract", help="Breaking changes between two versions of an API."
)
app.command("mcp")(mcp)
app.add_typer(agent_app, name="agent")
app.add_typer(adr_app, name="adr")
app.command("new")(new)
app.add_typer(add_app, name="add")
app.command("profile", context_settings=PROFILE_CONTEXT)(profile)


def _write(text: str, output_file: Path | None) -> None:
    _write_chunks([text], output_file)


def _write_chunks(chunks: Iterable[str], output_file: Path | None) -> None:
    """Write the report piece by piece to stdout (ending the last line), or to `output_file`."""
    if output_file is None:
        try:
            last = ""
            for chunk in chunks:
                sys.stdout.write(chunk)
                last = chunk or last
            if last and not last.endswith("\n"):
                sys.stdout.write("\n")
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader went away (`| head`): click ends quietly
        except OSError as exc:  # a full disk behind a redirection
            with contextlib.suppress(OSError):  # what is left unwritten stays so at exit
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            _fail(f"cannot write the report: {exc.strerror or exc}")
        return
    try:
        with output_file.open("w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(chunk)
    except OSError as exc:
        _fail(f"cannot write {output_file}: {exc.strerror or exc}")


def main() -> None:
    global _STANDALONE
    _STANDALONE = True
    app()


# True in the `fastapi-architect` process (not under CliRunner or an embedding program).
_STANDALONE = False
