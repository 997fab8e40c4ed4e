"""What a review produces: one finding per problem, located in a file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based; `file` is POSIX, relative to the root."""

    file: str
    line: int
    column: int
    code: str
    end_line: int
    end_column: int
    name: str
    message: str
    severity: Severity
    fix_title: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "severity": self.severity,
            "fix": self.fix_title,
        }
