"""Who calls whom across the project's modules, and search along those edges."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi_architect.model.project import Function, Project


# Not frozen: a frozen dataclass's `__init__` costs four times as much, and the model
# build makes one per call of the project. Nothing changes a site once it is built.
@dataclass(eq=False, slots=True)
class CallSite:
    node: ast.Call
    target: str | None  # qualified name of the callee, when known
    awaited: bool


@dataclass
class CallGraph:
    # Function qualname (or module name for module-level code) -> its call sites.
    calls: dict[str, list[CallSite]] = field(default_factory=dict)
    _hops: dict[str, dict[str, tuple[CallSite, str, str | None]]] = field(default_factory=dict)
    _callers: dict[str, list[tuple[str, CallSite]]] | None = None

    def calls_of(self, fn: Function) -> list[CallSite]:
        return self.calls.get(fn.qualname, [])

    def callees(self, project: Project, fn: Function) -> list[Function]:
        """The project functions (and methods, and classes' `__init__`) `fn` calls, once each."""
        out: dict[str, Function] = {}
        for site in self.calls_of(fn):
            callee = project.function(site.target)
            if callee is None:
                cls = project.class_(site.target)
                callee = project.method(cls.qualname, "__init__") if cls is not None else None
            if callee is not None:
                out.setdefault(callee.qualname, callee)
        return list(out.values())

    def callers(self, qualname: str) -> list[tuple[str, CallSite]]:
        """Who calls `qualname` (a function, method or outside name such as `time.sleep`):
        (caller qualname or module name for module-level code, call site)."""
        if self._callers is None:
            index: dict[str, list[tuple[str, CallSite]]] = {}
            for caller, sites in self.calls.items():
                for site in sites:
                    if site.target is not None:
                        index.setdefault(site.target, []).append((caller, site))
            self._callers = index
        return self._callers.get(qualname, [])

    def find_chain(
        self,
        project: Project,
        fn: Function,
        is_sink: Callable[[CallSite], bool],
        key: str,
        follow: Callable[[Function], bool],
    ) -> list[tuple[CallSite, str]] | None:
        """The shortest path of calls from `fn` to a call site for which `is_sink(site)`
        holds, passing only through project functions accepted by `follow` (`fn`
        included). Returns the call sites on the way (the first in `fn`), each with the
        display name of what it calls (the outside name for the last one). `key` names
        the (is_sink, follow) pair: results are computed once per key for the project."""
        hops = self._hops_toward_sink(project, is_sink, key, follow)
        chain: list[tuple[CallSite, str]] = []
        current: str | None = fn.qualname
        seen: set[str] = set()
        while current is not None and current in hops and current not in seen:
            seen.add(current)
            site, name, current = hops[current]
            chain.append((site, name))
        return chain if chain and current is None else None

    def _hops_toward_sink(
        self,
        project: Project,
        is_sink: Callable[[CallSite], bool],
        key: str,
        follow: Callable[[Function], bool],
    ) -> dict[str, tuple[CallSite, str, str | None]]:
        """For every function that reaches a sink: the call to take toward the nearest
        one, the display name of its callee, and that callee's qualname (None when the
        call is the sink). A breadth-first search backwards from the sinks, so each
        function gets its shortest chain and the whole project costs one pass."""
        cached = self._hops.get(key)
        if cached is not None:
            return cached
        hops: dict[str, tuple[CallSite, str, str | None]] = {}
        frontier: deque[str] = deque()
        for owner, sites in self.calls.items():
            for site in sites:
                if site.target is not None and owner not in hops and is_sink(site):
                    hops[owner] = (site, site.target, None)
                    frontier.append(owner)
        while frontier:
            qualname = frontier.popleft()
            fn = project.functions.get(qualname)
            if fn is None or not follow(fn):
                continue
            for caller, site in self.callers(qualname):
                if caller not in hops:
                    hops[caller] = (site, fn.display, qualname)
                    frontier.append(caller)
        self._hops[key] = hops
        return hops
