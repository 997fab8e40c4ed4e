"""The rule catalog: one `Rule` per code, registered by decorating its check function.

A rule's docstring *is* its documentation page (ruff's sections: `## What it does`,
`## Why is this bad?`, `## Known problems`, `## Example`, `## Use instead`,
`## Fix safety`, `## Options`, `## References`). `docs/rules/` is generated from it.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi_architect.review.finding import Severity

Scope = Literal["node", "route", "project"]

CATEGORIES: dict[str, str] = {
    "FAA0": "Tool",
    "FAA1": "Validation & contracts",
    "FAA2": "Async correctness",
    "FAA3": "Security & auth",
    "FAA4": "Database efficiency",
    "FAA5": "Architecture & layering",
    "FAA6": "Errors & middleware",
    "FAA7": "OpenAPI docs & REST design",
}

_CODE_RE = re.compile(r"^FAA\d{3}$")
_NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Report:
    """What a check yields: where, and the concrete message. The engine adds code and severity.

    `module` is the `model.Module` the node belongs to; node-scope checks may omit it
    (the module being walked is meant). `severity` overrides the rule's default.
    """

    node: ast.AST
    message: str
    module: Any = None
    severity: Severity | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    severity: Severity
    default_enabled: bool
    scope: Scope
    node_types: tuple[type[ast.AST], ...]
    check: Callable[..., Iterable[Report]]
    docs: str
    fix_title: str | None = None
    cwe: tuple[str, ...] = ()
    owasp: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())
    # Cheap module-level guard for node rules: the engine skips modules where it is false
    # (and does not walk a module at all when no node rule applies to it).
    applies: Callable[[Any], bool] | None = None

    @property
    def category(self) -> str:
        return CATEGORIES[self.code[:4]]

    def sections(self) -> dict[str, str]:
        """The docstring split into its `## Heading` sections, in order."""
        out: dict[str, str] = {}
        current = ""
        for line in self.docs.splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                out[current] = ""
            elif current:
                out[current] += line + "\n"
        return {k: v.strip("\n") for k, v in out.items()}


_RULES: dict[str, Rule] = {}


def rule(
    *,
    code: str,
    name: str,
    summary: str,
    severity: Severity = "warning",
    default_enabled: bool = True,
    scope: Scope = "node",
    nodes: tuple[type[ast.AST], ...] = (),
    fix_title: str | None = None,
    cwe: tuple[str, ...] = (),
    owasp: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
    applies: Callable[[Any], bool] | None = None,
) -> Callable[[Callable[..., Iterable[Report]]], Callable[..., Iterable[Report]]]:
    """Register a check.

    Scopes and signatures:
    - ``node``: ``check(node, ctx: FileContext) -> Iterable[Report]``, called for every node
      of one of ``nodes`` during the engine's single walk of each file;
    - ``route``: ``check(route: Route, ctx: ProjectContext)``, once per registered route;
    - ``project``: ``check(ctx: ProjectContext)``, once per run.

    ``applies(module) -> bool`` is an optional cheap guard for node rules (for example
    "the module imports `jose` or `jwt`"): modules where it is false are not fed to the
    check at all.
    """
    if not _CODE_RE.match(code):
        raise ValueError(f"bad rule code {code!r}")
    if not _NAME_RE.match(name):
        raise ValueError(f"bad rule name {name!r}")
    if scope == "node" and not nodes:
        raise ValueError(f"{code}: a node-scope rule must name its node types")

    def register(fn: Callable[..., Iterable[Report]]) -> Callable[..., Iterable[Report]]:
        if code in _RULES:
            raise ValueError(f"duplicate rule code {code}")
        docs = inspect.cleandoc(fn.__doc__ or "")
        if "## What it does" not in docs or "## Why is this bad?" not in docs:
            raise ValueError(f"{code}: docstring needs 'What it does' and 'Why is this bad?'")
        _RULES[code] = Rule(
            code=code,
            name=name,
            summary=summary,
            severity=severity,
            default_enabled=default_enabled,
            scope=scope,
            node_types=nodes,
            check=fn,
            docs=docs,
            fix_title=fix_title,
            cwe=cwe,
            owasp=owasp,
            references=references,
            applies=applies,
        )
        return fn

    return register


def all_rules() -> list[Rule]:
    """Every registered rule, ordered by code."""
    _load_builtin_rules()
    return [_RULES[c] for c in sorted(_RULES)]


def get_rule(code: str) -> Rule | None:
    _load_builtin_rules()
    return _RULES.get(code.upper())


def _load_builtin_rules() -> None:
    # Importing the package registers every rule module it lists.
    import fastapi_architect.review.rules  # noqa: F401
