"""`# noqa` comments: bare (every code) or with codes (`# noqa: FAA201, FAA208`)."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

ALL = frozenset({"*"})

_MENTION = re.compile("noqa", re.IGNORECASE)

_NOQA_RE = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)


def noqa_lines(source: str) -> dict[int, frozenset[str]]:
    """Line number -> suppressed codes (`ALL` for a bare noqa). Only real comments count."""
    if "noqa" not in source.lower():
        return {}
    text = _parser_lines(source)
    out: dict[int, frozenset[str]] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        # ValueError: the C tokenizer of 3.12+ fails on some text (a UnicodeDecodeError).
        return _noqa_by_text(text)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            parsed = _parse(tok.string)
            if parsed is not None:
                out[tok.start[0]] = parsed
    return out


def source_lines(source: str, keepends: bool = False) -> list[str]:
    r"""The lines as the parser numbers them: broken at `\r\n`, `\r` and `\n` only
    (`str.splitlines` also breaks at form feeds and other separators, which would shift
    every later line number). With `keepends`, each line keeps its own line break."""
    if keepends:
        return _LINE_WITH_END.findall(source)
    lines = _parser_lines(source).split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the text after the last line break
    return lines


_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _parser_lines(source: str) -> str:
    r"""`source` with every line break the parser knows (`\r\n`, `\r`, `\n`) as `\n`: the
    tokenizer reads lines at `\n` only, and findings carry the parser's line numbers."""
    return source.replace("\r\n", "\n").replace("\r", "\n") if "\r" in source else source


def _noqa_by_text(text: str) -> dict[int, frozenset[str]]:
    # Fallback for files the tokenizer rejects (newer syntax): scan comment-looking text.
    out: dict[int, frozenset[str]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
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


def mentioned_lines(source: str) -> frozenset[int]:
    """The lines whose text says `noqa` in any case: `noqa_lines` finds comments on no
    other line."""
    text = _parser_lines(source)
    lines: set[int] = set()
    line, counted = 1, 0
    for match in _MENTION.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        lines.add(line)
    return frozenset(lines)


@dataclass
class FileNoqa:
    """One file's `noqa` comments, tokenized only when a finding falls on a line that
    mentions `noqa` (most findings do not, and tokenizing costs about as much as parsing)."""

    source: str
    _mentioned: frozenset[int] = field(init=False)
    _lines: dict[int, frozenset[str]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # Line breaks converted once, for both the scan and the tokenizer.
        self.source = _parser_lines(self.source)
        self._mentioned = mentioned_lines(self.source)

    def suppresses(self, line: int, code: str) -> bool:
        if line not in self._mentioned:
            return False
        if self._lines is None:
            self._lines = noqa_lines(self.source)
        return is_suppressed(self._lines, line, code)
