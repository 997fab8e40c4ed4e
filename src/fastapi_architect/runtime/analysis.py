"""N+1 detection within one request.

A request has an N+1 when it issues the same normalized SELECT at least
`n_plus_one_threshold` times (5 by default), or lazy-loads the same relationship
at least `lazy_load_threshold` times (2 by default: a relationship lazy-loaded
twice in one request is already a loop over parents).
Each group is reported once, with its statement, how many times it ran and the
user code line that issued it most often.
"""

from __future__ import annotations

from collections import Counter
from typing import TypedDict

from fastapi_architect.runtime.scope import Query, RequestScope
from fastapi_architect.runtime.settings import RuntimeSettings, get_settings
from fastapi_architect.runtime.sql import is_select


class NPlusOne(TypedDict):
    statement: str
    count: int
    location: str | None


def n_plus_one(scope: RequestScope, settings: RuntimeSettings | None = None) -> list[NPlusOne]:
    """The repeated SELECTs of one request, most repeated first."""
    if scope.seen and not scope.repeated:  # the hooks saw no statement twice: nothing to find
        return []
    return find_n_plus_one(scope.queries, settings)


def find_n_plus_one(
    queries: list[Query], settings: RuntimeSettings | None = None
) -> list[NPlusOne]:
    settings = settings or get_settings()
    groups: dict[str, list[Query]] = {}
    for query in queries:
        if query.lazy_load is not None or is_select(query.statement):
            groups.setdefault(query.statement, []).append(query)
    found: list[NPlusOne] = []
    for statement, group in groups.items():
        lazy = Counter(q.lazy_load for q in group if q.lazy_load is not None)
        most_lazy = max(lazy.values(), default=0)
        if len(group) >= settings.n_plus_one_threshold or most_lazy >= settings.lazy_load_threshold:
            found.append(
                {"statement": statement, "count": len(group), "location": _most_common(group)}
            )
    found.sort(key=lambda entry: -entry["count"])  # stable: first issued first among equals
    return found


def _most_common(group: list[Query]) -> str | None:
    locations = Counter(q.location for q in group if q.location is not None)
    if not locations:
        return None
    return locations.most_common(1)[0][0]
