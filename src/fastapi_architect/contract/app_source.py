"""OpenAPI documents obtained from a FastAPI app, now or at a git ref.

This is the only part of the contract guard that runs user code, and only when
asked (`--app module:attr`): the app is imported in a subprocess of the chosen
interpreter, never in this process, and a git ref is checked out into a
temporary worktree that is always removed afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi_architect.contract.document import Document, validate

WORKING_TREE_REFS = ("WORKTREE", ".")
"""Refs that mean "the files as they are now": no checkout."""

_APP_SPEC = re.compile(
    r"^(?P<module>[^\W\d]\w*(?:\.[^\W\d]\w*)*)"
    r":(?P<attr>[^\W\d]\w*(?:\.[^\W\d]\w*)*)(?:\(\))?$"
)
_MARK = "fastapi-architect-export: "
_TAIL_LINES = 16
# Git variables that name the caller's index or working tree (set inside git
# hooks): a new worktree must not write to them.
_GIT_TREE_VARIABLES = ("GIT_INDEX_FILE", "GIT_WORK_TREE")


class AppSourceError(Exception):
    """The OpenAPI document of an app could not be obtained; the message says why."""


def export_openapi(
    app: str, *, cwd: Path, python: str | None = None, timeout: float = 120
) -> dict[str, Any]:
    """`app.openapi()` of the FastAPI app `app`, computed in a subprocess.

    `app` is `module:attr` (`attr` may be dotted), or `module:factory()` to call
    an app factory without arguments. The subprocess runs `python` (this
    interpreter by default) in `cwd`, with `cwd` and then `cwd/src` (when it
    exists) first on `sys.path` and on `PYTHONPATH`, and otherwise the caller's
    environment. It is killed after `timeout` seconds.
    """
    if not _APP_SPEC.match(app):
        raise AppSourceError(
            f"invalid app {app!r}: expected `module:attr` or `module:factory()`, "
            "for example `main:app` or `myproject.api:create_app()`"
        )
    cwd = cwd.resolve()
    if not cwd.is_dir():
        raise AppSourceError(f"cannot look for `{app}` in {cwd}: no such directory")
    paths = [str(cwd)]
    if (cwd / "src").is_dir():
        paths.append(str(cwd / "src"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [*paths, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    )
    argv = [python or sys.executable, "-c", _script(), app, *paths]
    out, err, code = _run(argv, cwd=cwd, env=env, timeout=timeout, app=app)
    if code != 0:
        # paths relative to the app's folder: a temporary checkout is gone by the time they are read
        err = err.replace(f'File "{cwd}{os.sep}', 'File "')
        message = _failure_message(app, err, code)
        if "ModuleNotFoundError" in message.partition("\n")[0]:
            message += (
                f"\n(the app was imported with `{argv[0]}`: is that the project's environment?)"
            )
        raise AppSourceError(message)
    try:
        data = json.loads(out)
    except ValueError as exc:
        raise AppSourceError(f"`{app}`: the export printed no valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise AppSourceError(f"`{app}`: the export printed {type(data).__name__}, not a mapping")
    return data


def document_at_ref(
    ref: str, app: str, *, cwd: Path, python: str | None = None, timeout: float = 120
) -> Document:
    """The OpenAPI document of `app` as it is at git `ref`.

    `ref` is checked out into a temporary detached worktree (`git worktree add
    --detach`), the app is exported there with `export_openapi`, and the
    worktree is removed whatever happens. When `cwd` is a subdirectory of the
    repository, the app is looked up in the same subdirectory of the checkout.
    `ref` `WORKTREE` or `.` means the files as they are now, uncommitted edits
    included, without a checkout (`contract diff main . --app main:app`).

    Raises `AppSourceError` when git or the export fails, and `DocumentError`
    when the app's document is not OpenAPI 3.0 or 3.1.
    """
    if not cwd.is_dir():
        raise AppSourceError(f"cannot look for `{app}` in {cwd}: no such directory")
    if ref in WORKING_TREE_REFS:
        data = export_openapi(app, cwd=cwd, python=python, timeout=timeout)
    else:
        data = _export_at_commit(ref, app, cwd=cwd, python=python, timeout=timeout)
    doc = Document(name=f"{ref}:{app}", data=data, text=None)
    validate(doc)
    return doc


def _export_at_commit(
    ref: str, app: str, *, cwd: Path, python: str | None, timeout: float
) -> dict[str, Any]:
    top, prefix = _repository(cwd)
    commit = _resolve_commit(ref, top)
    try:
        with tempfile.TemporaryDirectory(prefix="fastapi-architect-") as tmp:
            tree = Path(tmp) / "tree"
            try:
                added = _git(["worktree", "add", "--detach", str(tree), commit], cwd=top)
                if added.returncode != 0:
                    raise AppSourceError(
                        f"cannot check out `{ref}` into a temporary worktree: {_last_line(added.stderr)}"
                    )
                where = tree / prefix
                if not where.is_dir():
                    raise AppSourceError(f"`{prefix.rstrip('/')}` does not exist at `{ref}`")
                return export_openapi(app, cwd=where, python=python, timeout=timeout)
            finally:
                _git(["worktree", "remove", "--force", str(tree)], cwd=top)
    finally:
        # Drops the worktree's record even when `remove` failed and the
        # temporary folder was deleted under it.
        _git(["worktree", "prune"], cwd=top)


def _repository(cwd: Path) -> tuple[Path, str]:
    """The top of the repository holding `cwd`, and `cwd` relative to it (`api/` or ``)."""
    result = _git(["rev-parse", "--show-toplevel", "--show-prefix"], cwd=cwd)
    if result.returncode != 0:
        raise AppSourceError(
            f"{cwd} is not in a git repository, so git refs cannot be read: {_last_line(result.stderr)}"
        )
    lines = result.stdout.splitlines()
    top = lines[0] if lines else str(cwd)
    prefix = lines[1] if len(lines) > 1 else ""
    return Path(top), prefix


def _resolve_commit(ref: str, top: Path) -> str:
    if not ref or ref.startswith("-"):  # never let a ref be read as an option
        raise AppSourceError(f"unknown git ref {ref!r}")
    result = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=top)
    if result.returncode != 0 or not result.stdout.strip():
        raise AppSourceError(f"unknown git ref `{ref}`: not a branch, tag or commit in {top}")
    return result.stdout.strip()


def _git(args: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_TREE_VARIABLES}
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except FileNotFoundError:
        raise AppSourceError("git is not installed, cannot check out a git ref") from None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "git failed"


def _script() -> str:
    return (
        resources.files("fastapi_architect.contract")
        .joinpath("_export_openapi.py")
        .read_text("utf-8")
    )


def _run(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, app: str
) -> tuple[bytes, str, int]:
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # its own process group, so a timeout also stops what the app started
            start_new_session=True,
        )
    except OSError as exc:
        raise AppSourceError(
            f"cannot run Python interpreter `{argv[0]}`: {exc.strerror or exc}"
        ) from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise AppSourceError(
            f"exporting the OpenAPI of `{app}` took longer than {timeout:g} s and was stopped "
            "(does importing the app start a server or wait for something?)"
        ) from None
    except BaseException:
        _kill(proc)
        raise
    return out, err.decode("utf-8", "replace"), proc.returncode


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError):  # already gone
        pass
    # a grandchild that left the group may hold the pipes open: do not wait for it forever
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


def _failure_message(app: str, stderr: str, code: int) -> str:
    lines = stderr.rstrip().splitlines()
    marks = [i for i, line in enumerate(lines) if line.startswith(_MARK)]
    if marks:
        last = marks[-1]
        head = f"`{app}`: " + lines[last][len(_MARK) :]
        tail = lines[:last]
    else:
        head = f"exporting the OpenAPI of `{app}` failed (exit code {code})"
        tail = lines
    tail = [line for line in tail if line.strip()][-_TAIL_LINES:]
    return "\n".join([head, *tail]) if tail else head
