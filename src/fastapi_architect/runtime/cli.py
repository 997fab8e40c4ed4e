"""`fastapi-architect profile`: run a test command with the runtime profiler, or render a report.

    fastapi-architect profile -- pytest tests/
    fastapi-architect profile --report runtime.json --format html > runtime.html

The first form runs the command with the pytest plugin on: `PYTEST_ADDOPTS` gets
`-p <plugin> --architect-runtime --architect-runtime-report FILE
--architect-runtime-root DIR`, so any pytest the command starts (`pytest`,
`python -m pytest`, `make test`, `tox`) profiles its apps, even where the plugin's
entry point is not installed. The report (a temporary file, or `--report-out`) is
printed with the static findings it confirms, and the exit code is the command's.
With `--format json` or `html` the command's output goes to stderr, so stdout holds
the report alone.

The second form renders a saved report. Exit codes: the command's (first form),
0 (second form), 2 for a usage error or a report file that cannot be read.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

PLUGIN_MODULE = "fastapi_architect.runtime.pytest_plugin"

# `profile pytest -x tests/` (no `--`): everything after the command's name is its own
PROFILE_CONTEXT: dict[str, Any] = {"allow_interspersed_args": False}


class ProfileFormat(str, Enum):
    text = "text"
    json = "json"
    html = "html"


def _fail(message: str) -> NoReturn:
    typer.echo(f"fastapi-architect: error: {message}", err=True)
    raise typer.Exit(2)


def _warn(message: str) -> None:
    typer.echo(f"fastapi-architect: warning: {message}", err=True)


def profile(
    command: Annotated[
        list[str] | None,
        typer.Argument(
            help="The test command to run with the profiler on, after `--`.",
            metavar="-- COMMAND",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Render this saved report instead of running a command."),
    ] = None,
    output_format: Annotated[
        ProfileFormat, typer.Option("--format", help="Output format.")
    ] = ProfileFormat.text,
    report_out: Annotated[
        Path | None,
        typer.Option("--report-out", help="Keep the JSON report of the run in this file."),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="The project folder: code locations are relative to it and its static "
            "review confirms the runtime findings (default: the current folder).",
        ),
    ] = None,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm/--no-confirm",
            help="Mark N+1 and blocking locations that static findings (FAA401, FAA402, "
            "FAA201, FAA208) point at as confirmed at runtime.",
        ),
    ] = True,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Make the test session fail on any N+1 or blocking."),
    ] = False,
) -> None:
    """Profile the app while the tests run: N+1 queries, event-loop blocking, latency."""
    from fastapi_architect.runtime.report import ReportError, load_report

    root = (project or Path.cwd()).resolve()
    if project is not None and not root.is_dir():
        _fail(f"project folder does not exist: {project}")
    if report is not None:
        if command:
            _fail("give either --report FILE or a command to run, not both")
        if report_out is not None or strict:
            _fail("--report-out and --strict apply to a command run, not to --report")
        try:
            data = load_report(report)
        except ReportError as exc:
            _fail(str(exc))
        _print(data, output_format, root if confirm else None)
        raise typer.Exit(0)
    if not command:
        _fail("nothing to profile: give a command (`profile -- pytest tests/`) or --report FILE")
    code = _run(command, root, report_out, strict, output_format, confirm)
    raise typer.Exit(code)


def _run(
    command: list[str],
    root: Path,
    report_out: Path | None,
    strict: bool,
    output_format: ProfileFormat,
    confirm: bool,
) -> int:
    from fastapi_architect.runtime.report import ReportError, load_report

    with tempfile.TemporaryDirectory(prefix="fastapi-architect-profile-") as folder:
        path = (report_out or Path(folder) / "runtime-report.json").resolve()
        if report_out is not None:
            if not path.parent.is_dir():
                _fail(f"--report-out folder does not exist: {path.parent}")
            path.unlink(missing_ok=True)  # a report from an earlier run is not this run's
        options = [
            "-p",
            plugin_name(),
            "--architect-runtime",
            "--architect-runtime-report",
            str(path),
            "--architect-runtime-root",
            str(root),
        ]
        if strict:
            options.append("--architect-runtime-strict")
        env = dict(os.environ)
        env["PYTEST_ADDOPTS"] = " ".join(
            part for part in (env.get("PYTEST_ADDOPTS", ""), shlex.join(options)) if part
        )
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            # JSON and HTML go to stdout alone (`> report.html`): the command's own
            # output goes to stderr then
            stdout = None if output_format is ProfileFormat.text else 2  # the process's stderr
            completed = subprocess.run(command, env=env, stdout=stdout, check=False)
        except FileNotFoundError:
            _fail(f"command not found: {command[0]}")
        except PermissionError:
            _fail(f"cannot run {command[0]}: permission denied")
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        code = completed.returncode
        if code < 0:  # ended by a signal: the shell's convention, 128 + the signal
            code = 128 - code
        if not path.is_file():
            _warn(
                "the command wrote no runtime report: did it run pytest, with fastapi-architect "
                "installed in pytest's environment?"
            )
            return code
        try:
            data = load_report(path)
        except ReportError as exc:
            _warn(str(exc))
            return code
        if output_format is ProfileFormat.text:
            typer.echo("")
        _print(data, output_format, root if confirm else None)
        if report_out is not None and output_format is ProfileFormat.text:
            typer.echo(f"report: {report_out}")
        return code


def plugin_name() -> str:
    """What to give `-p`: the entry point's name where it is installed (pytest would
    refuse the module loaded once by `-p` and again through its entry point), else the
    module."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="pytest11"):
        if entry.value == PLUGIN_MODULE:
            return entry.name
    return PLUGIN_MODULE


def _print(data: dict[str, Any], output_format: ProfileFormat, root: Path | None) -> None:
    from fastapi_architect.runtime.report import render

    if root is not None:
        data = _confirmed(data, root)
    text = render(data, output_format.value)
    sys.stdout.write(text)
    sys.stdout.flush()


def _confirmed(data: dict[str, Any], root: Path) -> dict[str, Any]:
    """The report with its confirmations; unchanged (with a warning) when the static
    review cannot run, and without reviewing when there is nothing to confirm."""
    from fastapi_architect.runtime.confirm import ConfirmError, confirm, static_findings
    from fastapi_architect.runtime.report import problem_endpoints

    if not problem_endpoints(data):
        return data
    try:
        findings = static_findings(root)
    except ConfirmError as exc:
        _warn(f"static review of {root} failed, no runtime confirmation: {exc}")
        return data
    return confirm(data, findings, root)
