"""Baselines: record today's findings, then report only the new ones.

A finding's identity (its `Fingerprint`) is the rule code, the file, the normalized source
of the flagged statement and the qualified name of its enclosing function or class — never
the line number, so inserting or deleting unrelated lines does not turn a baselined finding
into a new one. Normalizing drops whitespace, line breaks, comments and trailing commas, so
re-formatting the statement (by hand or with a formatter) keeps its identity too.

Identical findings in one scope (the same code on the same statement text) are counted:
with two of them baselined and three present, one is reported.

The file is JSON, sorted and without timestamps, so it diffs well under version control:

```json
{
  "format": "fastapi-architect-baseline",
  "version": 1,
  "findings": [
    {"file": "app/api.py", "code": "FAA208", "scope": "slow",
     "statement": "time . sleep ( 1 )", "count": 1}
  ]
}
```

File paths are relative to the folder that holds the baseline file, so the same baseline
works whichever folder the review is started from.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import tokenize
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fastapi_architect.review.result import ReviewResult
from fastapi_architect.source.noqa import source_lines

FORMAT_NAME = "fastapi-architect-baseline"
FORMAT_VERSION = 1
MODULE_SCOPE = "<module>"

_SKIPPED_TOKENS = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)
_CLOSERS = frozenset({")", "]", "}"})
_WHITESPACE = re.compile(r"\s+")


class BaselineError(Exception):
    """The baseline file is missing, unreadable, or not a baseline this version understands."""


@dataclass(frozen=True, order=True)
class Fingerprint:
    """What identifies a finding across edits: no line or column numbers."""

    file: str
    code: str
    scope: str
    statement: str


@dataclass(frozen=True)
class Baseline:
    """Accepted findings: how many of each fingerprint."""

    counts: Mapping[Fingerprint, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- fingerprints -----------------------------------------------------------------------


def fingerprints(result: ReviewResult, base: Path) -> list[Fingerprint]:
    """One fingerprint per finding of `result`, in the order of `result.findings`.

    File paths are made relative to `base` (the folder holding the baseline file)."""
    root = result.root.resolve()
    base = base.resolve()
    trees: dict[str, _FileIndex] = {}
    out: list[Fingerprint] = []
    for finding in result.findings:
        index = trees.get(finding.file)
        if index is None:
            index = _FileIndex(result.sources.get(finding.file) or _read(root / finding.file))
            trees[finding.file] = index
        scope, statement = index.locate(finding.line, finding.column)
        out.append(
            Fingerprint(
                file=_relative(root / finding.file, base),
                code=finding.code,
                scope=scope,
                statement=statement,
            )
        )
    return out


def _read(path: Path) -> list[str]:
    try:
        return source_lines(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, base)).as_posix()


@dataclass(frozen=True)
class _Span:
    start: int  # first line, decorators included
    end: int
    node: ast.stmt | ast.ExceptHandler
    scope: str  # qualified name of the function/class the statement is in


class _FileIndex:
    """The statements of one file, to find the innermost statement on a given line."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = [line.rstrip("\r\n") for line in lines]
        self.spans: list[_Span] = []
        try:
            tree = ast.parse("\n".join(self.lines) + "\n")
        except (SyntaxError, ValueError):
            return  # A file that does not parse: fingerprints fall back to the line text.
        self._collect(tree.body, MODULE_SCOPE)

    def _collect(self, body: Iterable[ast.stmt], scope: str) -> None:
        for node in body:
            start = node.lineno
            decorators = getattr(node, "decorator_list", None)
            if decorators:
                start = min([start, *(d.lineno for d in decorators)])
            end = node.end_lineno or node.lineno
            self.spans.append(_Span(start, end, node, scope))
            inner = scope
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = node.name if scope == MODULE_SCOPE else f"{scope}.{node.name}"
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, field, None)
                if not isinstance(children, list):
                    continue
                for child in children:
                    if isinstance(child, ast.stmt):
                        self._collect([child], inner)
                    elif isinstance(child, ast.ExceptHandler):
                        end = child.end_lineno or child.lineno
                        self.spans.append(_Span(child.lineno, end, child, inner))
                        self._collect(child.body, inner)
                    elif isinstance(child, ast.match_case):
                        self._collect(child.body, inner)

    def locate(self, line: int, column: int = 1) -> tuple[str, str]:
        """(enclosing scope, normalized statement text) of the innermost statement that
        holds the flagged position (1-based `line` and `column`)."""
        on_line = [span for span in self.spans if span.start <= line <= span.end]
        point = (line, column - 1)
        precise = [span for span in on_line if _holds(span, point)]
        best: _Span | None = None
        for span in precise or on_line:
            # Spans come parents first: on a tie the later (inner) one wins.
            if best is None or span.end - span.start <= best.end - best.start:
                best = span
        if best is None:
            text = self.lines[line - 1] if 1 <= line <= len(self.lines) else ""
            return MODULE_SCOPE, normalize(text)
        return best.scope, normalize(self._header(best))

    def _header(self, span: _Span) -> str:
        """The statement's text; for a compound statement only its header (decorators,
        signature, condition), so edits in its body do not change the identity."""
        node = span.node
        body = getattr(node, "body", None)
        end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            first = body[0]
            end_line, end_col = first.lineno, first.col_offset
            decorators = getattr(first, "decorator_list", None)
            if decorators:  # a decorated definition starts at its first decorator's line
                end_line, end_col = min(d.lineno for d in decorators), 0
        # `lines` hold text, offsets are UTF-8 bytes: slice bytes.
        chunks: list[str] = []
        for number in range(span.start, end_line + 1):
            raw = self.lines[number - 1].encode("utf-8") if number <= len(self.lines) else b""
            if number == span.start and span.start == node.lineno:
                raw = raw[node.col_offset :]
            if number == end_line and end_col is not None:
                cut = end_col - (node.col_offset if number == span.start == node.lineno else 0)
                raw = raw[: max(cut, 0)]
            chunks.append(raw.decode("utf-8", errors="replace"))
        return "\n".join(chunks)


def _holds(span: _Span, point: tuple[int, int]) -> bool:
    node = span.node
    start = (span.start, 0) if span.start < node.lineno else (node.lineno, node.col_offset)
    end_col = node.end_col_offset if node.end_col_offset is not None else 1 << 30
    return start <= point <= (node.end_lineno or node.lineno, end_col)


def normalize(source: str) -> str:
    """The statement's tokens joined by single spaces: no comments, no line breaks,
    no trailing commas before a closing bracket. Falls back to collapsing whitespace
    when the text does not tokenize."""
    try:
        tokens = [
            tok.string
            for tok in tokenize.generate_tokens(io.StringIO(source.strip() + "\n").readline)
            if tok.type not in _SKIPPED_TOKENS
        ]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return _WHITESPACE.sub(" ", source).strip()
    kept = [
        tok
        for i, tok in enumerate(tokens)
        if not (tok == "," and i + 1 < len(tokens) and tokens[i + 1] in _CLOSERS)
    ]
    return " ".join(kept)


# --- reading, writing, filtering ------------------------------------------------------------


def build_baseline(result: ReviewResult, baseline_path: Path) -> Baseline:
    """The baseline that accepts every finding of `result`."""
    return Baseline(Counter(fingerprints(result, baseline_path.parent)))


def dumps(baseline: Baseline) -> str:
    """The baseline as stable, sorted JSON (same findings → same bytes)."""
    entries = [
        {
            "file": fp.file,
            "code": fp.code,
            "scope": fp.scope,
            "statement": fp.statement,
            "count": count,
        }
        for fp, count in sorted(baseline.counts.items())
        if count > 0
    ]
    document = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "findings": entries}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_baseline(result: ReviewResult, path: Path) -> Baseline:
    """Record every finding of `result` in `path`; return what was written."""
    baseline = build_baseline(result, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(baseline), encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {path}: {exc.strerror or exc}") from exc
    return baseline


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file; `BaselineError` with a clear message when it cannot be used."""
    if not path.exists():
        raise BaselineError(
            f"baseline file not found: {path} (create it with `review --write-baseline {path}`)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise BaselineError(f"cannot read baseline {path}: {reason}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{path} is not a fastapi-architect baseline: invalid JSON at line {exc.lineno}"
        ) from exc
    return _parse(document, path)


def _parse(document: object, path: Path) -> Baseline:
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise BaselineError(
            f"{path} is not a fastapi-architect baseline "
            f'(expected a JSON object with "format": "{FORMAT_NAME}")'
        )
    version = document.get("version")
    if version != FORMAT_VERSION:
        raise BaselineError(
            f"{path} has baseline format version {version!r}; this fastapi-architect reads "
            f"version {FORMAT_VERSION} (re-create it with --write-baseline)"
        )
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f'{path}: "findings" must be a list')
    counts: Counter[Fingerprint] = Counter()
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise BaselineError(f"{path}: finding #{number} is not an object")
        values = {key: entry.get(key) for key in ("code", "file", "scope", "statement")}
        bad = sorted(key for key, value in values.items() if not isinstance(value, str))
        count = entry.get("count", 1)
        if bad:
            raise BaselineError(f"{path}: finding #{number} lacks text field(s) {', '.join(bad)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise BaselineError(f"{path}: finding #{number} has an invalid count {count!r}")
        counts[Fingerprint(**{k: str(v) for k, v in values.items()})] += count
    return Baseline(counts)


def filter_new(result: ReviewResult, baseline: Baseline, baseline_path: Path) -> ReviewResult:
    """`result` without the findings `baseline` accepts.

    Of several identical findings (same fingerprint) the first ones in file order are the
    accepted ones; those beyond the baselined count are reported."""
    prints = fingerprints(result, baseline_path.parent)
    order = sorted(range(len(result.findings)), key=lambda i: result.findings[i])
    remaining = dict(baseline.counts)
    keep = [False] * len(result.findings)
    for i in order:
        allowed = remaining.get(prints[i], 0)
        if allowed > 0:
            remaining[prints[i]] = allowed - 1
        else:
            keep[i] = True
    findings = [f for f, new in zip(result.findings, keep, strict=True) if new]
    wanted = {f.file for f in findings}
    sources = {k: v for k, v in result.sources.items() if k in wanted}
    return replace(result, findings=findings, sources=sources)
