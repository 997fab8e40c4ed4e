"""What one request did, collected while it runs.

The request in progress is found through a `ContextVar` set by the ASGI
middleware: SQLAlchemy hooks and the event-loop watchdog add to it without the
user passing anything around. Outside a request (a test calling the database
directly) there is no scope and nothing is recorded per endpoint.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(slots=True)
class Query:
    """One SQL statement a request issued."""

    statement: str  # normalized (`sql.normalize`): literals and placeholders replaced
    # "app/api/authors.py:57": the first frame in the user's project. Within a request it
    # is looked up only from a statement's second issue on: a statement issued once is never
    # reported, and walking the stack of every statement would cost more than the rest.
    location: str | None
    # for a relationship lazy load: "Author.books"; None for an explicit statement
    lazy_load: str | None = None


@dataclass(slots=True)
class Blocking:
    """One event-loop step that ran longer than the threshold during a request."""

    duration_ms: float
    location: str | None


@dataclass(slots=True)
class RequestScope:
    method: str
    path: str  # the concrete URL path
    route: str | None = None  # the route template ("/authors/{author_id}"), once matched
    started: float = field(default_factory=time.perf_counter)
    duration_ms: float = 0.0
    status: int | None = None
    queries: list[Query] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # the normalized statements issued so far
    repeated: bool = False  # some statement was issued twice: worth an N+1 analysis
    blocking: list[Blocking] = field(default_factory=list)


current_request: ContextVar[RequestScope | None] = ContextVar(
    "fastapi_architect_request", default=None
)
