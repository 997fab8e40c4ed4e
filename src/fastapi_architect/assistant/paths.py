"""Root confinement: every path a tool is given must resolve inside the server's root.

A path is joined to the root (an absolute one is taken as is), then resolved with its
symlinks followed, and only then compared with the resolved root: `../`, an absolute
path elsewhere and a symlink that points out of the root are all refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["any", "file", "dir"]


class PathError(Exception):
    """A path a tool cannot use; the message names it and says why."""


@dataclass(frozen=True)
class Root:
    """The folder the server may read and write in (resolved, symlinks followed)."""

    path: Path

    @classmethod
    def of(cls, folder: Path) -> Root:
        resolved = folder.resolve()
        if not resolved.is_dir():
            raise PathError(f"the root is not a folder: {folder}")
        return cls(resolved)

    def resolve(self, raw: str, *, kind: Kind = "any", must_exist: bool = True) -> Path:
        """The resolved path of `raw` (relative to the root), checked to lie inside it."""
        if "\x00" in raw:
            raise PathError(f"invalid path {raw!r}: it contains a NUL character")
        text = raw.strip() or "."
        candidate = Path(text)
        full = candidate if candidate.is_absolute() else self.path / candidate
        try:
            resolved = full.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop, an unreadable folder
            raise PathError(f"cannot resolve {raw!r}: {exc}") from None
        if not self.contains(resolved):
            raise PathError(
                f"{raw!r} is outside the project root {self.path}: "
                "this server only works on paths inside its --root"
            )
        if not must_exist:
            return resolved
        if not resolved.exists():
            raise PathError(f"path does not exist: {raw!r} (paths are relative to {self.path})")
        if kind == "file" and not resolved.is_file():
            raise PathError(f"not a file: {raw!r}")
        if kind == "dir" and not resolved.is_dir():
            raise PathError(f"not a folder: {raw!r}")
        return resolved

    def contains(self, path: Path) -> bool:
        """Whether the already resolved `path` is the root or lies under it."""
        return path == self.path or path.is_relative_to(self.path)

    def relative(self, path: Path) -> str:
        """`path` (inside the root) as a POSIX path relative to it; `.` for the root."""
        try:
            rel = path.relative_to(self.path)
        except ValueError:
            return path.as_posix()
        return rel.as_posix() or "."
