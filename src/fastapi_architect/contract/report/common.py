"""What every format needs: where a change points, how changes group, how they count."""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import Document

DOCUMENT_WIDE = "Document"


def document_of(change: Change, base: Document, revision: Document) -> Document:
    """The document `change.pointer` points into: the base one when the thing is gone."""
    return base if change.in_base else revision


def source(change: Change, base: Document, revision: Document) -> str:
    """`<document name>#<JSON pointer>`."""
    return f"{document_of(change, base, revision).name}#{change.pointer}"


def heading(change: Change) -> str:
    """`GET /pets`; the path alone for path-level changes; `Document` for document-wide ones."""
    return " ".join(part for part in (change.operation, change.path) if part) or DOCUMENT_WIDE


def group_by_operation(changes: Iterable[Change]) -> dict[str, list[Change]]:
    """Changes under their operation, operations in order of first appearance."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(heading(change), []).append(change)
    return groups


def summary(changes: Sequence[Change]) -> str:
    """`3 changes: 1 error, 1 warning, 1 info` (levels that occur, most severe first)."""
    if not changes:
        return "No changes."
    counts = [
        (level, sum(1 for c in changes if c.level is level))
        for level in sorted(Level, reverse=True)
    ]
    parts = [f"{n} {_plural(level.label, n)}" for level, n in counts if n]
    return f"{len(changes)} {_plural('change', len(changes))}: {', '.join(parts)}"


def _plural(word: str, n: int) -> str:
    return word if n == 1 or word == "info" else word + "s"


def change_dict(change: Change, base: Document, revision: Document) -> dict[str, Any]:
    """The JSON/YAML shape of one change."""
    return {
        "id": change.id,
        "level": change.level.label,
        "operation": change.operation,
        "path": change.path,
        "message": change.message,
        "source": source(change, base, revision),
        "fingerprint": change.fingerprint,
    }


@dataclass(frozen=True, slots=True)
class FileLocation:
    """A change's place in a document read from a file: path as given, 1-based line."""

    file: str
    line: int | None


def file_location(change: Change, base: Document, revision: Document) -> FileLocation | None:
    """Where the change is in a file, or None when its document did not come from one
    (a git blob, an app). Computes line numbers, which is slow on big documents:
    only the formats that show lines call it."""
    doc = document_of(change, base, revision)
    if doc.base_dir is None:
        return None
    return FileLocation(workspace_path(doc), doc.line_of(change.pointer))


def workspace_path(doc: Document) -> str:
    """The document's path from the root of the repository (GitHub's workspace, else
    the git work tree it is in), which is what annotations and SARIF need; as
    given when it is in neither."""
    assert doc.base_dir is not None
    return _workspace_path(str(doc.base_dir.resolve() / PurePath(doc.name).name), doc.name)


@functools.cache
def _workspace_path(absolute: str, given: str) -> str:
    path = Path(absolute)
    roots = []
    if os.environ.get("GITHUB_WORKSPACE"):
        roots.append(Path(os.environ["GITHUB_WORKSPACE"]).resolve())
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=path.parent,
            capture_output=True,
            text=True,
            check=False,
        )
        if top.returncode == 0 and top.stdout.strip():
            roots.append(Path(top.stdout.strip()).resolve())
    except OSError:
        pass
    for root in roots:
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return PurePath(given).as_posix()
