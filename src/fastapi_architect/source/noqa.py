"""`# noqa` comments: bare (every code) or with codes (`# noqa: FAA201, FAA208`)."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

ALL = frozenset({"*"})

_MENTION = re.compile("noqa", re.IGNORECASE)
# Line breaks after which `str.splitlines` (the fallback below), the tokenizer and the
# parser may number lines differently: \r alone, and the separators only splitlines knows.
_UNUSUAL_BREAK = re.compile("\r(?!\n)|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")

_NOQA_RE = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)


def noqa_lines(source: str) -> dict[int, frozenset[str]]:
    """Line number -> suppressed codes (`ALL` for a bare noqa). Only real comments count."""
    if "noqa" not in source.lower():
        return {}
    out: dict[int, frozenset[str]] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return _noqa_by_text(source)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            parsed = _parse(tok.string)
            if parsed is not None:
                out[tok.start[0]] = parsed
    return out


def _noqa_by_text(source: str) -> dict[int, frozenset[str]]:
    # Fallback for files the tokenizer rejects (newer syntax): scan comment-looking text.
    out: dict[int, frozenset[str]] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        idx = line.find("#")
        if idx >= 0:
            parsed = _parse(line[idx:])
            if parsed is not None:
                out[number] = parsed
    return out


def _parse(comment: str) -> frozenset[str] | None:
    match = _NOQA_RE.search(comment)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        # `# noqa` alone silences the line; `# noqa:` with nothing after it is a
        # mistake, and (as in ruff) silences nothing.
        return frozenset() if comment[match.end() :].lstrip().startswith(":") else ALL
    return frozenset(c.upper() for c in re.split(r"[\s,]+", codes) if c)


def is_suppressed(noqa: dict[int, frozenset[str]], line: int, code: str) -> bool:
    codes = noqa.get(line)
    return codes is not None and (codes is ALL or code in codes)


def mentioned_lines(source: str) -> frozenset[int] | None:
    """The lines whose text says `noqa` in any case: `noqa_lines` finds comments on no
    other line. None where lines are not plainly numbered (unusual line breaks)."""
    lines: set[int] = set()
    line, counted = 1, 0
    for match in _MENTION.finditer(source):
        line += source.count("\n", counted, match.start())
        counted = match.start()
        lines.add(line)
    if lines and _UNUSUAL_BREAK.search(source):
        return None
    return frozenset(lines)


@dataclass
class FileNoqa:
    """One file's `noqa` comments, tokenized only when a finding falls on a line that
    mentions `noqa` (most findings do not, and tokenizing costs about as much as parsing)."""

    source: str
    _mentioned: frozenset[int] | None = field(init=False)
    _lines: dict[int, frozenset[str]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._mentioned = mentioned_lines(self.source)

    def suppresses(self, line: int, code: str) -> bool:
        if self._mentioned is not None and line not in self._mentioned:
            return False
        if self._lines is None:
            self._lines = noqa_lines(self.source)
        return is_suppressed(self._lines, line, code)
