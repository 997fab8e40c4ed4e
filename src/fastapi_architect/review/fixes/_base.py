"""What a fixer is: a rule code, a safety, and a planner that turns the findings of one
file into edits of its libcst tree, each edit keyed by the node (of the original tree)
it replaces."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fix_catalog import FIXES, Safety

Replace = Callable[[cst.CSTNode], "cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]"]
"""Turns the (already updated) node into its replacement; statements may become several."""

N = TypeVar("N", bound=cst.CSTNode)


@dataclass(frozen=True)
class Import:
    """`from module import name` that the fixed code needs (added when missing)."""

    module: str
    name: str


@dataclass
class Edit:
    """The changes that fix some findings together: node replacements, imports to add,
    imports that may become unused (removed only when nothing uses them any more)."""

    findings: tuple[Finding, ...]
    replacements: list[tuple[cst.CSTNode, Replace]] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    unused_imports: list[Import] = field(default_factory=list)

    def replace(self, node: cst.CSTNode, how: Replace) -> Edit:
        self.replacements.append((node, how))
        return self


@dataclass(frozen=True)
class Skip:
    """Findings a fixer declines to fix, and why (reported in `FixOutcome.failed`)."""

    findings: tuple[Finding, ...]
    reason: str


Plan = Edit | Skip


class FixContext:
    """One parsed file: its libcst tree, node positions and parents, to locate findings."""

    def __init__(self, module: cst.Module, source: str) -> None:
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.module = self.wrapper.module
        self.source = source
        self.positions: dict[cst.CSTNode, CodeRange] = dict(self.wrapper.resolve(PositionProvider))
        self._parents: dict[cst.CSTNode, cst.CSTNode] | None = None
        self._by_start: dict[tuple[int, int], list[cst.CSTNode]] = {}
        for node, where in self.positions.items():
            key = (where.start.line, where.start.column)
            self._by_start.setdefault(key, []).append(node)

    def nodes_at(self, finding: Finding, kind: type[N]) -> list[N]:
        """Nodes of `kind` spanning exactly the finding's range (ast and libcst agree on
        ranges: both leave out parentheses and decorators, and findings count characters)."""
        return [node for node in self.spanning(finding) if isinstance(node, kind)]

    def spanning(self, finding: Finding) -> list[cst.CSTNode]:
        """Every node whose range is exactly the finding's, outermost first."""
        start = (finding.line, finding.column - 1)
        end = (finding.end_line, finding.end_column - 1)
        found: list[cst.CSTNode] = []
        for node in self._by_start.get(start, []):
            where = self.positions[node].end
            if (where.line, where.column) == end:
                found.append(node)
        return found

    def node_at(self, finding: Finding, kind: type[N]) -> N | None:
        found = self.nodes_at(finding, kind)
        return found[0] if len(found) == 1 else None

    @property
    def parents(self) -> dict[cst.CSTNode, cst.CSTNode]:
        """Each node's parent (computed on first use: most fixers do not need it)."""
        if self._parents is None:
            self._parents = dict(self.wrapper.resolve(ParentNodeProvider))
        return self._parents

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


Planner = Callable[[Sequence[Finding], FixContext], list[Plan]]


Precheck = Callable[[Sequence[Finding]], "str | None"]
"""Looks at every finding of the rule in the run (all files): a reason to fix none of them."""


@dataclass(frozen=True)
class Fixer:
    code: str
    safety: Safety
    title: str
    plan: Planner
    precheck: Precheck | None = None


_FIXERS: dict[str, Fixer] = {}


def fixer(code: str, title: str, precheck: Precheck | None = None) -> Callable[[Planner], Planner]:
    """Register the planner of the fix for `code`: it receives the file's findings of that
    rule and returns one plan per finding or per group of findings fixed together.
    `precheck` sees the rule's findings in every file first, and may veto them all. How
    safe the fix is, `fix_catalog.FIXES` says (read without loading the fixers)."""
    if code not in FIXES:
        raise ValueError(f"{code} has a fixer but no entry in fix_catalog.FIXES")

    def register(plan: Planner) -> Planner:
        if code in _FIXERS:
            raise ValueError(f"duplicate fixer for {code}")
        _FIXERS[code] = Fixer(code, FIXES[code], title, plan, precheck)
        return plan

    return register


def get_fixer(code: str) -> Fixer | None:
    _load_fixers()
    return _FIXERS.get(code.upper())


def all_fixers() -> list[Fixer]:
    _load_fixers()
    return [_FIXERS[c] for c in sorted(_FIXERS)]


def _load_fixers() -> None:
    # Importing the modules registers their fixers.
    from fastapi_architect.review.fixes import errors, lifespan, pydantic, status  # noqa: F401
