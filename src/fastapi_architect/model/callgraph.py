"""Who calls whom across the project's modules, and search along those edges."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi_architect.model.project import Function, Project


@dataclass(frozen=True, eq=False)
class CallSite:
    node: ast.Call
    target: str | None  # qualified name of the callee, when known
    awaited: bool


@dataclass
class CallGraph:
    # Function qualname (or module name for module-level code) -> its call sites.
    calls: dict[str, list[CallSite]] = field(default_factory=dict)
    _chains: dict[tuple[str, str], list[tuple[CallSite, str]] | None] = field(default_factory=dict)
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
        is_sink: Callable[[str], bool],
        key: str,
        follow: Callable[[Function], bool],
    ) -> list[tuple[CallSite, str]] | None:
        """A path of calls from `fn` to a callee for which `is_sink(name)` holds, passing
        only through project functions accepted by `follow`. Returns the call sites on the
        way (the first in `fn`), each with the display name of what it calls."""
        return self._search(project, fn, is_sink, key, follow, set())

    def _search(
        self,
        project: Project,
        fn: Function,
        is_sink: Callable[[str], bool],
        key: str,
        follow: Callable[[Function], bool],
        visiting: set[str],
    ) -> list[tuple[CallSite, str]] | None:
        cache_key = (fn.qualname, key)
        if cache_key in self._chains:
            return self._chains[cache_key]
        result = self._search_uncached(project, fn, is_sink, key, follow, visiting)
        self._chains[cache_key] = result
        return result

    def _search_uncached(
        self,
        project: Project,
        fn: Function,
        is_sink: Callable[[str], bool],
        key: str,
        follow: Callable[[Function], bool],
        visiting: set[str],
    ) -> list[tuple[CallSite, str]] | None:
        visiting.add(fn.qualname)
        try:
            for site in self.calls_of(fn):
                if site.target is None:
                    continue
                if is_sink(site.target):
                    return [(site, site.target)]
            for site in self.calls_of(fn):
                callee = project.function(site.target)
                if callee is None or callee.qualname in visiting or not follow(callee):
                    continue
                rest = self._search(project, callee, is_sink, key, follow, visiting)
                if rest is not None:
                    return [(site, callee.display), *rest]
            return None
        finally:
            visiting.discard(fn.qualname)
