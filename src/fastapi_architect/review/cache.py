"""The review cache: the result of a review, reused while nothing it read has changed.

A review reads the discovered files and a few files beside them (Alembic revisions for
the database indexes they create, dependency pins for the Pydantic version, the
contract snapshot of FAA712). The cache key is a digest of all of it, by content, with
the tool (its version and the stamps of its own modules), the Python version, the
review root and the configuration. An unchanged tree is answered from the cache
without parsing anything; any change to what the review reads runs it again.

Entries live in `.fastapi-architect-cache/` under the review root (or under
`$FASTAPI_ARCHITECT_CACHE_DIR`), one file per root and configuration, written to a
temporary file and renamed into place, so concurrent runs never leave a torn entry
(the last writer wins). An entry that does not decode, comes from another format or
does not match is ignored and rewritten. The format is JSON, never pickle: a cache file
in a repository must not be able to run code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi_architect import __version__
from fastapi_architect.config import Config
from fastapi_architect.review.finding import Finding
from fastapi_architect.review.result import ReviewResult
from fastapi_architect.source.loader import decode
from fastapi_architect.source.noqa import source_lines

CACHE_DIR_NAME = ".fastapi-architect-cache"
CACHE_DIR_ENV = "FASTAPI_ARCHITECT_CACHE_DIR"
FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CacheKey:
    slot: str  # which entry file: root and configuration
    digest: str  # what the review read, by content


def cache_dir(root: Path) -> Path:
    configured = os.environ.get(CACHE_DIR_ENV)
    return Path(configured) if configured else root / CACHE_DIR_NAME


def compute_key(
    root: Path, files: Sequence[Path], config: Config, rule_codes: Iterable[str]
) -> CacheKey:
    """The key of a review of `files` under `root` with `config`."""
    setup = hashlib.blake2b(digest_size=16)
    for part in (
        f"format={FORMAT}",
        f"fields={','.join(_FIELDS)}",
        f"tool={__version__}",
        f"python={sys.version_info[0]}.{sys.version_info[1]}",
        f"root={root}",
        f"config={config!r}",
        f"rules={','.join(sorted(rule_codes))}",
        f"code={_tool_stamp()}",
    ):
        setup.update(part.encode() + b"\0")
    slot = setup.hexdigest()
    content = hashlib.blake2b(setup.digest(), digest_size=20)
    for path in files:
        content.update(_file_entry(root, path))
    for path in _side_inputs(root, config):
        content.update(_file_entry(root, path))
    return CacheKey(slot, content.hexdigest())


def file_stamps(root: Path, files: Sequence[Path], config: Config) -> list[tuple[int, int]]:
    """Size and modification time of every file the key reads (-1 for a missing one):
    equal stamps before and after a review mean no file was written in between."""
    out: list[tuple[int, int]] = []
    for path in [*files, *_side_inputs(root, config)]:
        try:
            st = path.stat()
        except OSError:
            out.append((-1, -1))
        else:
            out.append((st.st_size, st.st_mtime_ns))
    return out


def _file_entry(root: Path, path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError:
        digest = "missing"
    else:
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    return f"{path}\0{digest}\n".encode()


def _tool_stamp() -> str:
    """Size and modification time of every module of this package: an edited rule (in a
    development install, where the version does not move) invalidates the cache."""
    stamp = hashlib.blake2b(digest_size=16)
    for folder, dirs, names in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                with contextlib.suppress(OSError):
                    st = os.stat(os.path.join(folder, name))
                    stamp.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return stamp.hexdigest()


def _side_inputs(root: Path, config: Config) -> list[Path]:
    """The files outside the discovered ones that rules read (present or not)."""
    from fastapi_architect.review.rules.orm_usage import migration_files
    from fastapi_architect.review.rules.schemas import pin_file_candidates

    out = [*migration_files(root), *pin_file_candidates(root)]
    if config.contract_snapshot is not None:
        out.append(config.contract_snapshot)
    return out


def load(root: Path, key: CacheKey) -> ReviewResult | None:
    """The cached result for `key`, or None (no entry, another key, or unreadable)."""
    path = cache_dir(root) / f"review-{key.slot}.json"
    try:
        data = json.loads(path.read_bytes())
        if data.get("format") != FORMAT or data.get("key") != key.digest:
            return None
        return _decode(root, data["result"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a torn, foreign or hand-edited entry: review again and rewrite it


def store(root: Path, key: CacheKey, result: ReviewResult) -> None:
    """Keep `result` under `key`. Failing to write (a read-only tree) is not an error."""
    if result.internal_errors:
        return  # an incomplete review is not worth remembering
    folder = cache_dir(root)
    payload = json.dumps(
        {"format": FORMAT, "key": key.digest, "result": _encode(result)},
        separators=(",", ":"),
    ).encode()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        _mark(folder)
        fd, temp = tempfile.mkstemp(prefix=".review-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(temp, folder / f"review-{key.slot}.json")
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _mark(folder: Path) -> None:
    """Keep the cache out of version control and backups (as ruff and pytest do)."""
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Created by fastapi-architect.\n*\n")
    tag = folder / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by fastapi-architect.\n"
        )


_FIELDS = tuple(field.name for field in dataclasses.fields(Finding))


def _encode(result: ReviewResult) -> dict[str, Any]:
    return {
        "files_checked": result.files_checked,
        "findings": [[getattr(f, name) for name in _FIELDS] for f in result.findings],
    }


_INT_FIELDS = frozenset({"line", "column", "end_line", "end_column"})
# What each stored field must be, in `Finding`'s field order.
_FIELD_TYPES: tuple[type | tuple[type, ...], ...] = tuple(
    int if name in _INT_FIELDS else (str, type(None)) if name == "fix_title" else str
    for name in _FIELDS
)


def _decode(root: Path, data: dict[str, Any]) -> ReviewResult:
    findings = [_finding(row) for row in data["findings"]]
    if not isinstance(data["files_checked"], int):
        raise TypeError("malformed cache entry")
    return ReviewResult(
        root=root,
        findings=findings,
        files_checked=data["files_checked"],
        sources=_sources(root, {f.file for f in findings}),
    )


def _sources(root: Path, files: set[str]) -> dict[str, list[str]]:
    """The code-frame lines of the files with findings, read again (the key says they
    did not change) as the review read them: decoded as Python does, else leniently."""
    out: dict[str, list[str]] = {}
    for relpath in sorted(files):
        try:
            raw = (root / relpath).read_bytes()
        except OSError:
            continue
        text = decode(raw)
        if not isinstance(text, str):
            text = raw.decode("utf-8", errors="replace")
        out[relpath] = source_lines(text)
    return out


def _finding(row: object) -> Finding:
    if (
        type(row) is not list
        or len(row) != len(_FIELDS)
        or not all(map(isinstance, row, _FIELD_TYPES))
    ):
        raise TypeError("malformed cache entry")
    return Finding(*row)
