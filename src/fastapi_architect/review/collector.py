"""Where findings gather: location from the reported node, noqa comments, per-file
ignores, and de-duplication."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from fastapi_architect.config import Config
from fastapi_architect.model.project import Module
from fastapi_architect.review.finding import Finding
from fastapi_architect.review.registry import Report, Rule
from fastapi_architect.source.noqa import FileNoqa, source_lines


@dataclass
class Collector:
    """The findings of one run (or of one forked share of it)."""

    config: Config
    findings: list[Finding] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    _noqa: dict[str, FileNoqa] = field(default_factory=dict)
    _seen: set[tuple[str, int, int, str, str]] = field(default_factory=set)
    _lines: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, findings: list[Finding], internal_errors: list[str]) -> None:
        """Take the findings of a collector that ran elsewhere (already filtered). Both
        may have reviewed the same module (`forking.SharedRange`): what this one already
        has is not taken twice."""
        for finding in findings:
            key = (finding.file, finding.line, finding.column, finding.code, finding.message)
            if key not in self._seen:
                self._seen.add(key)
                self.findings.append(finding)
        known = set(self.internal_errors)
        self.internal_errors.extend(e for e in internal_errors if e not in known)

    def add(self, rule: Rule, report: Report, module: Module) -> None:
        node = report.node
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        start = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None)
        column = self._char_column(module, line, start) + 1
        end_column = (
            self._char_column(module, end_line, end) if end is not None else column - 1
        ) + 1
        self.emit(rule, module.relpath, module.source, line, column, end_line, end_column, report)

    def lines(self, module: Module) -> list[str]:
        """The module's source lines, split once (for columns here, code frames later)."""
        lines = self._lines.get(module.relpath)
        if lines is None:
            lines = self._lines[module.relpath] = source_lines(module.source)
        return lines

    def _char_column(self, module: Module, line: int, offset: int) -> int:
        """`ast` columns count UTF-8 bytes; findings count characters (SARIF's
        `unicodeCodePoints`), which differ on lines with non-ASCII text."""
        lines = self.lines(module)
        if not 0 < line <= len(lines) or lines[line - 1].isascii():
            return offset
        return len(lines[line - 1].encode("utf-8")[:offset].decode("utf-8", errors="replace"))

    def emit(
        self,
        rule: Rule,
        relpath: str,
        source: str,
        line: int,
        column: int,
        end_line: int,
        end_column: int,
        report: Report | None,
        message: str | None = None,
    ) -> None:
        """Record one finding unless it is a duplicate, ignored for its file, or `noqa`ed."""
        msg = message if message is not None else (report.message if report else rule.summary)
        key = (relpath, line, column, rule.code, msg)
        if key in self._seen:
            return
        self._seen.add(key)
        if _ignored_for_file(self.config, relpath, rule.code):
            return
        noqa = self._noqa.get(relpath)
        if noqa is None:
            noqa = self._noqa[relpath] = FileNoqa(source)
        if noqa.suppresses(line, rule.code):
            return
        self.findings.append(
            Finding(
                file=relpath,
                line=line,
                column=column,
                code=rule.code,
                end_line=end_line,
                end_column=end_column,
                name=rule.name,
                message=msg,
                severity=(report.severity if report and report.severity else rule.severity),
                fix_title=rule.fix_title,
            )
        )


def _ignored_for_file(config: Config, relpath: str, code: str) -> bool:
    """`per-file-ignores`: a pattern matches the relative path, a folder above it, or
    (as in ruff) the file name alone (`"__init__.py" = ["FAA101"]`)."""
    if not config.per_file_ignores:
        return False
    name = PurePosixPath(relpath).name
    for pattern, codes in config.per_file_ignores.items():
        matches = (
            fnmatch.fnmatchcase(relpath, pattern)
            or fnmatch.fnmatchcase(relpath, pattern.rstrip("/") + "/*")
            or fnmatch.fnmatchcase(name, pattern)
        )
        if matches and any(code.startswith(c) or c == "ALL" for c in codes):
            return True
    return False
