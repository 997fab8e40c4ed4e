"""Python source text already in `ruff format` style: bracketed lists that fit on one line,
else their content on one indented line, else one item per line with a trailing comma
(the magic trailing comma keeps that form stable); and import blocks in isort order."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

LINE_LENGTH = 100
INDENT = "    "


def fit(head: str, items: Sequence[str], tail: str, indent: int = 0) -> str:
    """`head` + items joined by `, ` + `tail`, wrapped the way ruff format wraps it.

    `head` ends with an opening bracket and `tail` starts with the closing one
    (`mapped_column(` ... `)`, `def f(` ... `) -> int:`)."""
    pad = " " * indent
    flat = f"{pad}{head}{', '.join(items)}{tail}"
    if len(flat) <= LINE_LENGTH or not items:
        return flat
    inner = pad + INDENT
    hugged = f"{inner}{', '.join(items)}"
    if head.lstrip().startswith(("def ", "async def ")) and len(items) == 1:
        hugged += ","  # ruff adds a trailing comma to a lone parameter it moves down
    if len(hugged) <= LINE_LENGTH and not any("\n" in item for item in items):
        return f"{pad}{head}\n{hugged}\n{pad}{tail}"
    if len(items) == 1 and " == " in items[0]:
        left, right = items[0].split(" == ", 1)
        return f"{pad}{head}\n{inner}{left}\n{inner}== {right}\n{pad}{tail}"
    return explode(head, items, tail, indent)


def chain(target: str, parts: Sequence[str], indent: int = 0) -> str:
    """`target = a.b(...).c(...)`: on one line, else the chain in parentheses on one
    line, else one call per line (ruff's fluent style)."""
    pad = " " * indent
    inner = pad + INDENT
    flat = f"{pad}{target} = {''.join(parts)}"
    if len(flat) <= LINE_LENGTH:
        return flat
    if len(inner + "".join(parts)) <= LINE_LENGTH:
        return f"{pad}{target} = (\n{inner}{''.join(parts)}\n{pad})"
    body = "\n".join(inner + part for part in parts)
    return f"{pad}{target} = (\n{body}\n{pad})"


def explode(head: str, items: Sequence[str], tail: str, indent: int = 0) -> str:
    """One item per line, each followed by a comma (stable under ruff format)."""
    pad = " " * indent
    inner = pad + INDENT
    lines = [f"{pad}{head}"]
    lines.extend(_indent_item(item, inner) + "," for item in items)
    lines.append(f"{pad}{tail}")
    return "\n".join(lines)


def _indent_item(item: str, inner: str) -> str:
    # an item that is itself several lines was formatted at indentation 0
    return "\n".join(inner + line if line else line for line in item.split("\n"))


def if_line(operands: Sequence[str], indent: int = 0) -> str:
    """`if a and b:`, wrapped in parentheses (then one operand per line) when too long;
    an operand that ends with a call still too long has its arguments moved down."""
    pad = " " * indent
    condition = " and ".join(operands)
    flat = f"{pad}if {condition}:"
    if len(flat) <= LINE_LENGTH:
        return flat
    inner = pad + INDENT
    if flat.endswith("):") and "(" in condition:
        # the last call's arguments move down when the rest fits (ruff's right-hand split)
        opening = flat.rindex("(")
        first, arguments = flat[: opening + 1], flat[opening + 1 : -2]
        if len(first) <= LINE_LENGTH and len(inner + arguments) <= LINE_LENGTH:
            return f"{first}\n{inner}{arguments}\n{pad}):"
    if len(inner + condition) <= LINE_LENGTH:
        return f"{pad}if (\n{inner}{condition}\n{pad}):"
    lines = []
    for number, operand in enumerate(operands):
        text = operand if number == 0 else f"and {operand}"
        if len(inner + text) > LINE_LENGTH and text.endswith(")") and "(" in text:
            opening = text.rindex("(")
            text = fit(text[: opening + 1], [text[opening + 1 : -1]], ")", indent + 4).lstrip()
        lines.append(inner + text)
    body = "\n".join(lines)
    return f"{pad}if (\n{body}\n{pad}):"


def literal(value: object) -> str:
    """A JSON-compatible value as Python source (double-quoted strings, True/None)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(f"no literal for {value!r}")


# ------------------------------------------------------------------ imports

_STDLIB = sys.stdlib_module_names
_FIRST_PARTY = frozenset({"app", "tests"})


def _member_key(name: str) -> tuple[int, str, str]:
    # ruff/isort order-by-type: CONSTANTS, then Classes, then functions and modules
    if name.isupper() and len(name) > 1:
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return (kind, name.lower(), name)


def _section(module: str) -> int:
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    if top in _STDLIB:
        return 1
    if top in _FIRST_PARTY:
        return 3
    return 2


class Imports:
    """Import statements of one generated module, rendered in isort order."""

    def __init__(self) -> None:
        self._from: dict[str, set[str]] = {}
        self._plain: set[str] = set()

    def add(self, module: str, *names: str) -> Imports:
        self._from.setdefault(module, set()).update(names)
        return self

    def add_module(self, module: str) -> Imports:
        self._plain.add(module)
        return self

    def names(self) -> set[str]:
        """Every name the imports bind."""
        bound = {name for names in self._from.values() for name in names}
        return bound | {module.split(".")[0] for module in self._plain}

    def render(self) -> str:
        sections: dict[int, list[str]] = {}
        for module in sorted(self._plain, key=str.lower):
            sections.setdefault(_section(module), []).append(f"import {module}")
        for module in sorted(self._from, key=str.lower):
            names = sorted(self._from[module], key=_member_key)
            statement = fit(f"from {module} import ", names, "")
            if "\n" in statement:
                statement = explode(f"from {module} import (", names, ")")
            sections.setdefault(_section(module), []).append(statement)
        return "\n\n".join("\n".join(sections[key]) for key in sorted(sections))
