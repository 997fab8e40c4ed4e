"""PLACEHOLDER (being replaced by the backport parser): parse with `ast` only."""

from __future__ import annotations

import ast


def parse_python(source: str, filename: str = "<unknown>") -> ast.Module:
    try:
        return ast.parse(source, filename)
    except (RecursionError, MemoryError, ValueError) as exc:
        raise SyntaxError(str(exc)) from None
