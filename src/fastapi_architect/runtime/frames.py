"""The line of the user's code that is running: the first frame in the project.

A frame belongs to the user when its file lies under `project_root` and not in
site-packages, the standard library, or fastapi_architect itself. The verdict is
cached per file name (per project root), so walking a stack costs a dictionary
look-up per frame.

SQLAlchemy's async engines run the driver call in a child greenlet whose stack
ends at the greenlet's start: the user's `await session.execute(...)` is in the
parent greenlet, suspended in its `gr_frame`, so the walk continues there.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from types import FrameType

from fastapi_architect.runtime.settings import RuntimeSettings, get_settings

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
_THIRD_PARTY_PARTS = frozenset({"site-packages", "dist-packages"})


def _stdlib_dirs() -> tuple[str, ...]:
    dirs: set[str] = set()
    for name in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(name)
        if path:
            dirs.add(os.path.realpath(path))
    return tuple(sorted(dirs))


_STDLIB_DIRS = _stdlib_dirs()

# (the settings it was made for, their project root, {code file name: "relative/path.py"
# or None when the file is not the user's}); rebuilt when the settings change
_cache: tuple[RuntimeSettings | None, str, dict[str, str | None]] = (None, "", {})


def _is_under(path: str, folder: str) -> bool:
    prefix = folder if folder.endswith(os.sep) else folder + os.sep  # "/" ends with one
    return path == folder or path.startswith(prefix)


def _relative(filename: str, root: str) -> str | None:
    """`filename` relative to `root` (posix separators) when it is the user's code."""
    if filename.startswith("<"):  # <string>, <frozen importlib._bootstrap>, <stdin>
        return None
    path = os.path.realpath(filename)
    if not _is_under(path, root) or _is_under(path, _PACKAGE_DIR):
        return None
    if any(_is_under(path, folder) for folder in _STDLIB_DIRS):
        return None
    relative = os.path.relpath(path, root)
    parts = relative.split(os.sep)
    if _THIRD_PARTY_PARTS.intersection(parts):
        return None
    return "/".join(parts)


def _files() -> tuple[str, dict[str, str | None]]:
    global _cache
    settings = get_settings()
    if _cache[0] is not settings:
        _cache = (settings, str(settings.project_root), {})
    return _cache[1], _cache[2]


def user_location(frame: FrameType | None) -> str | None:
    """The first user frame from `frame` outwards as "relative/path.py:LINE", or None."""
    root, files = _files()
    while frame is not None:
        filename = frame.f_code.co_filename
        try:
            relative = files[filename]
        except KeyError:
            relative = files[filename] = _relative(filename, root)
        if relative is not None:
            return f"{relative}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def user_location_here() -> str | None:
    """The user location of the caller's stack, continued into parent greenlets."""
    location = user_location(sys._getframe(1))
    if location is not None:
        return location
    greenlet = sys.modules.get("greenlet")
    if greenlet is None:  # never imported: no greenlet can be running
        return None
    parent = greenlet.getcurrent().parent
    while parent is not None:
        location = user_location(parent.gr_frame)
        if location is not None:
            return location
        parent = parent.parent
    return None
