"""Is a function memoized? Its work (a query, a blocking read, building a client) then
happens once per distinct argument, not on every call: rules about per-call cost
(blocking calls, queries in loops, sessions per request) stay quiet about it."""

from __future__ import annotations

import ast

from fastapi_architect.model.astutil import last_name
from fastapi_architect.model.project import Function, Project

# By the decorator's own name, whatever package it comes from: functools' and
# cachetools' caches, async-lru's `alru_cache`, aiocache's `cached`, a project's `memoize`.
_MEMOIZER_NAMES = frozenset(
    {"cache", "lru_cache", "cached", "alru_cache", "memoize", "cached_property"}
)
# By qualified name, for the memoizers whose own name says nothing.
_MEMOIZERS = frozenset(
    {
        "cachetools.cachedmethod",
        "cachetools.func.fifo_cache",
        "cachetools.func.lfu_cache",
        "cachetools.func.mru_cache",
        "cachetools.func.rr_cache",
        "cachetools.func.ttl_cache",
    }
)


def is_memoized(fn: Function, project: Project) -> bool:
    """`@cache`, `@lru_cache(...)`, `@cached_property`, cachetools' `@cached(...)`,
    `@alru_cache`, `@memoize`."""
    for decorator in fn.node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = project.resolve(fn.module, target, fn.parent)
        if name is not None and (name in _MEMOIZERS or last_name(name) in _MEMOIZER_NAMES):
            return True
    return False
