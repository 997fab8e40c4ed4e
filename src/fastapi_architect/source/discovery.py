"""Which files a run reviews: Python files under the given paths, minus excludes."""

from __future__ import annotations

import fnmatch
import os
import re
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
    # A folder reached by the walk passed the excludes already, so below it only the new
    # name is matched against component patterns; path patterns see the whole path.
    names, paths = _split_patterns(patterns)
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
        dirnames[:] = sorted(d for d in dirnames if not _excluded(rel_dir / d, d, names, paths))
        real_dir: Path | None = None
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            if _excluded(rel_dir / name, name, names, paths):
                continue
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                if os.path.isfile(full):
                    yield Path(full).resolve()
            elif os.path.isfile(full):
                if real_dir is None:
                    real_dir = Path(dirpath).resolve()
                yield real_dir / name


def _split_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """One regex for the patterns that match a path component, and the path patterns."""
    names = [p.rstrip("/") for p in patterns if "/" not in p.rstrip("/")]
    paths = tuple(p for p in patterns if "/" in p.rstrip("/"))
    if not names:
        return None, paths
    return re.compile("|".join(f"(?:{fnmatch.translate(n)})" for n in names)), paths


def _excluded(rel: Path, name: str, names: re.Pattern[str] | None, paths: tuple[str, ...]) -> bool:
    if names is not None and names.match(name):
        return True
    return bool(paths) and is_excluded(rel, paths)


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
