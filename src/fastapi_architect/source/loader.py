"""Reading and parsing one file: text decoded, parsed once, or a parse error to report."""

from __future__ import annotations

import ast
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

from fastapi_architect.source.compat import parse_python

MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ParseFailure:
    """A file that could not be read or parsed (reported as FAA000)."""

    path: Path
    message: str
    line: int = 1
    column: int = 1


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str
    tree: ast.Module


def load(path: Path) -> SourceFile | ParseFailure:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return ParseFailure(path, f"cannot read file: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        return ParseFailure(path, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    text = decode(raw)
    if isinstance(text, ParseFailure):
        return ParseFailure(path, text.message, text.line, text.column)
    try:
        with warnings.catch_warnings():
            # The reviewed code's own warnings (invalid escapes, `is` with a literal) are
            # not the reviewer's to print.
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = parse_python(text, str(path))
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = (exc.offset or 1) if exc.offset and exc.offset > 0 else 1
        return ParseFailure(path, f"syntax error: {exc.msg}", line, column)
    return SourceFile(path, text, tree)


def decode(raw: bytes) -> str | ParseFailure:
    """Decode as Python does: BOM and PEP 263 coding cookie, UTF-8 by default."""
    try:
        encoding, _ = tokenize.detect_encoding(iter(raw.splitlines(keepends=True)).__next__)
    except SyntaxError as exc:
        if "missing" in str(exc):
            # No cookie and the first lines are not UTF-8: say where the bad byte is.
            encoding = "utf-8"
        else:
            return ParseFailure(Path(), f"invalid encoding declaration: {exc}")
    try:
        text = raw.decode(encoding)
    except LookupError:
        return ParseFailure(Path(), f"unknown encoding {encoding!r} in the coding declaration")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start : exc.start + 1].hex()
        return ParseFailure(
            Path(), f"file is not valid {encoding} text (byte 0x{byte} on line {line})", line
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    return text
