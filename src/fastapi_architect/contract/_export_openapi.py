"""Print the OpenAPI document of a FastAPI app as JSON on stdout.

`app_source.export_openapi` runs this file's source as
`python -c SOURCE MODULE:ATTR[()] PATH...` in a subprocess, so the user's code is
never imported into the fastapi-architect process. It uses only the standard
library, because the interpreter may be the user's own, without us installed.

On failure it writes a traceback (when there is one) and then one line starting
with `MARK` to stderr, and exits 1; the parent turns that line into the message.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

MARK = "fastapi-architect-export: "
_TRACEBACK_FRAMES = 4


def _fail(message: str, *, with_traceback: bool = False) -> NoReturn:
    import os
    import traceback

    if with_traceback:
        exc = sys.exc_info()[1]
        if exc is not None:
            # the user's frames only: importlib's and this script's say nothing to them
            machinery = getattr(sys.modules.get("importlib"), "__file__", None)
            frames = [
                f
                for f in traceback.extract_tb(exc.__traceback__)
                if not f.filename.startswith("<") and f.filename != machinery
            ][-_TRACEBACK_FRAMES:]
            header = ["Traceback (most recent call last):\n"] if frames else []
            text = "".join(
                [
                    *header,
                    *traceback.format_list(frames),
                    *traceback.format_exception_only(type(exc), exc),
                ]
            )
            sys.stderr.write(text)
    sys.stderr.write(MARK + message + "\n")
    sys.stderr.flush()
    # os._exit: threads or atexit hooks the app started must not keep us alive
    os._exit(1)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _apps_in(module: Any) -> list[str]:
    """Names in `module` bound to something with an `openapi()` method (for hints)."""
    found = []
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, type):
            continue
        try:
            if callable(getattr(value, "openapi", None)):
                found.append(name)
        except Exception:  # a lazy proxy may fail on any attribute: it is only a hint
            continue
    return sorted(found)


def main(argv: list[str]) -> NoReturn:
    spec, paths = argv[0], argv[1:]
    # The app's folder goes first on sys.path, but only after our own standard
    # library imports, so that a user module named `json.py` cannot shadow them.
    sys.path[:] = [p for p in sys.path if p not in ("", *paths)]
    import importlib
    import json
    import os
    import traceback  # noqa: F401 - cached in sys.modules for _fail, before the app's folder is on the path

    sys.path[:0] = paths

    out_fd = os.dup(1)
    # Whatever the app prints while it is imported goes to stderr, not into the JSON.
    os.dup2(2, 1)

    module_name, _, attr = spec.partition(":")
    factory = attr.endswith("()")
    if factory:  # not str.removesuffix: the user's interpreter may predate Python 3.9
        attr = attr[:-2]

    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # SystemExit too: an app that exits on import is broken
        _fail(f"cannot import module `{module_name}`: {_describe(exc)}", with_traceback=True)

    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            hint = ""
            if obj is module:
                apps = _apps_in(module)
                if apps:
                    hint = " (FastAPI apps in it: " + ", ".join(f"`{a}`" for a in apps) + ")"
            _fail(f"module `{module_name}` has no attribute `{attr}`{hint}")
        except BaseException as exc:
            _fail(f"reading `{attr}` failed: {_describe(exc)}", with_traceback=True)

    if factory:
        if not callable(obj):
            _fail(f"`{spec}`: `{attr}` is not callable, so it cannot be an app factory")
        try:
            obj = obj()
        except BaseException as exc:
            _fail(f"calling `{attr}()` failed: {_describe(exc)}", with_traceback=True)

    openapi = getattr(obj, "openapi", None)
    if not callable(openapi):
        hint = ""
        if callable(obj) and not factory:
            hint = f"; if `{attr}` is an app factory, write `{spec}()` to call it"
        _fail(
            f"`{spec}` is a {type(obj).__name__}, not a FastAPI app (no `openapi()` method){hint}"
        )
    try:
        document = openapi()
    except BaseException as exc:
        _fail(f"`{attr}.openapi()` failed: {_describe(exc)}", with_traceback=True)
    if not isinstance(document, dict):
        _fail(f"`{attr}.openapi()` returned a {type(document).__name__}, not a mapping")
    try:
        payload = json.dumps(document, sort_keys=True, ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        _fail(f"`{attr}.openapi()` returned something that is not JSON: {_describe(exc)}")

    data = payload.encode("ascii")
    while data:
        written = os.write(out_fd, data)
        data = data[written:]
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
