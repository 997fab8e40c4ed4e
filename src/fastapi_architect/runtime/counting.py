"""`assert_max_queries(n)`: fail when a block of code issues more than n SQL statements.

Counting does not depend on a request: the SQLAlchemy hooks add every statement
to each active counter, whichever thread or task issued it (a test client may
run the app in another thread). The active counters are a tuple replaced under a
lock, so the hooks read them without locking.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi_architect.runtime.scope import Query


@dataclass(eq=False)
class QueryCounter:
    """The statements issued while a counter is active."""

    queries: list[Query] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.queries)


_lock = threading.Lock()
active: tuple[QueryCounter, ...] = ()  # read by the hooks on every statement
_owns_hooks = False  # the counters installed the hooks: the last one to stop removes them


def _start(counter: QueryCounter) -> None:
    global active, _owns_hooks
    from fastapi_architect.runtime import sqlalchemy_hooks

    with _lock:
        if sqlalchemy_hooks.install():
            _owns_hooks = True
        active = (*active, counter)


def _stop(counter: QueryCounter) -> None:
    global active, _owns_hooks
    from fastapi_architect.runtime import sqlalchemy_hooks

    with _lock:
        active = tuple(c for c in active if c is not counter)
        if not active and _owns_hooks:
            sqlalchemy_hooks.uninstall()
            _owns_hooks = False


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    """Collect the statements issued inside the block, whichever thread issues them.

    Installs the SQLAlchemy hooks when they are not yet (and removes them after).
    """
    counter = QueryCounter()
    _start(counter)
    try:
        yield counter
    finally:
        _stop(counter)


@contextmanager
def assert_max_queries(n: int) -> Iterator[QueryCounter]:
    """Raise `AssertionError`, listing the statements, when the block issues more than n."""
    with count_queries() as counter:
        yield counter
    if len(counter.queries) > n:
        raise AssertionError(too_many_queries_message(n, counter.queries))


def too_many_queries_message(n: int, queries: list[Query]) -> str:
    lines = [f"expected at most {n} SQL statement{'s' if n != 1 else ''}, {len(queries)} issued:"]
    for number, query in enumerate(queries, start=1):
        where = f"  ({query.location})" if query.location else ""
        lazy = f"  [lazy load of {query.lazy_load}]" if query.lazy_load else ""
        lines.append(f"  {number}. {query.statement}{where}{lazy}")
    return "\n".join(lines)
