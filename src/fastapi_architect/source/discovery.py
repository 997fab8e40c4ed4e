"""Which files a run reviews: Python files under the given paths, minus excludes."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from pathlib import Path


class InputError(Exception):
    """A path or input the user gave cannot be used; the message names it."""


def discover(paths: Iterable[Path], excludes: Iterable[str]) -> list[Path]:
    """Absolute, sorted, unique `.py` file paths. A missing path raises `InputError`.

    Directories are walked without following symlinked directories twice (a symlink
    loop is visited once); a path given explicitly is always included.
    """
    patterns = tuple(excludes)
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"path does not exist: {raw}")
        if path.is_file():
            found[path.resolve()] = None
            continue
        for file in _walk(path, patterns):
            found[file] = None
    return sorted(found)


def _walk(root: Path, patterns: tuple[str, ...]) -> Iterator[Path]:
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        st = os.stat(dirpath)
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            # A symlink loop or a second link to a folder already reviewed.
            dirnames[:] = []
            continue
        seen_dirs.add(key)
        rel_dir = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(d for d in dirnames if not is_excluded(rel_dir / d, patterns))
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            rel = rel_dir / name
            if is_excluded(rel, patterns):
                continue
            full = Path(dirpath, name)
            if full.is_file():
                yield full.resolve()


def is_excluded(rel: Path, patterns: tuple[str, ...]) -> bool:
    """Match like ruff: a pattern matches a path component, or the relative path as a glob."""
    posix = rel.as_posix()
    parts = rel.parts
    for pattern in patterns:
        pat = pattern.rstrip("/")
        if "/" in pat:
            if fnmatch.fnmatchcase(posix, pat) or fnmatch.fnmatchcase(posix, pat + "/*"):
                return True
            if posix.startswith(pat.removeprefix("./") + "/") or posix == pat.removeprefix("./"):
                return True
        elif any(fnmatch.fnmatchcase(part, pat) for part in parts):
            return True
    return False
