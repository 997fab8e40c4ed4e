"""Per-endpoint figures collected over many requests, and the JSON report.

The report format, read by other tools:

    {"endpoints": [{"method": "GET", "route": "/authors", "requests": 3,
      "queries_max": 13, "queries_total": 39,
      "duration_ms": {"p50": 4.1, "p95": 6.0, "max": 6.2},
      "n_plus_one": [{"statement": "SELECT ...", "count": 12, "location": "app/api/authors.py:57"}],
      "blocking": [{"duration_ms": 300.4, "location": "app/services/pricing.py:12"}]}]}

An endpoint is a method and a route template ("/authors/{author_id}"); a request
no route matched is filed under its concrete path. N+1 groups are merged across
requests by statement and location (the highest count is kept), blocking by
location (the longest step is kept). Durations are kept in a uniform reservoir
of `RESERVOIR_SIZE` samples per endpoint (the maximum exactly), so a long load
test holds bounded memory. `record` may be called from any thread.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi_architect.runtime.analysis import n_plus_one
from fastapi_architect.runtime.scope import RequestScope

RESERVOIR_SIZE = 10_000


@dataclass(slots=True)
class _Endpoint:
    requests: int = 0
    queries_max: int = 0
    queries_total: int = 0
    durations_ms: list[float] = field(default_factory=list)  # a reservoir sample
    duration_max_ms: float = 0.0
    # (statement, location) -> the highest count seen in one request
    n_plus_one: dict[tuple[str, str | None], int] = field(default_factory=dict)
    # location -> the longest blocking step seen there
    blocking: dict[str | None, float] = field(default_factory=dict)


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoints: dict[tuple[str, str], _Endpoint] = {}
        self._random = random.Random(0)  # reproducible sampling; not for security

    def record(self, scope: RequestScope) -> None:
        """Add a finished request to its endpoint's figures."""
        groups = n_plus_one(scope)  # outside the lock: the expensive part
        queries = len(scope.queries)
        blocking = [(b.location, b.duration_ms) for b in scope.blocking]
        key = (scope.method.upper(), scope.route or scope.path)
        with self._lock:
            endpoint = self._endpoints.get(key)
            if endpoint is None:
                endpoint = self._endpoints[key] = _Endpoint()
            endpoint.requests += 1
            endpoint.queries_total += queries
            endpoint.queries_max = max(endpoint.queries_max, queries)
            _sample(endpoint, scope.duration_ms, self._random)
            for group in groups:
                pair = (group["statement"], group["location"])
                endpoint.n_plus_one[pair] = max(endpoint.n_plus_one.get(pair, 0), group["count"])
            for location, duration in blocking:
                endpoint.blocking[location] = max(endpoint.blocking.get(location, 0.0), duration)

    def report(self) -> dict[str, Any]:
        """The JSON-ready report, endpoints ordered by route then method."""
        with self._lock:
            items = sorted(self._endpoints.items(), key=lambda item: (item[0][1], item[0][0]))
            endpoints = [_endpoint_report(method, route, e) for (method, route), e in items]
        return {"endpoints": endpoints}

    def reset(self) -> None:
        with self._lock:
            self._endpoints.clear()


def _endpoint_report(method: str, route: str, endpoint: _Endpoint) -> dict[str, Any]:
    durations = sorted(endpoint.durations_ms)
    n_plus_one = sorted(endpoint.n_plus_one.items(), key=lambda item: -item[1])
    blocking = sorted(endpoint.blocking.items(), key=lambda item: -item[1])
    return {
        "method": method,
        "route": route,
        "requests": endpoint.requests,
        "queries_max": endpoint.queries_max,
        "queries_total": endpoint.queries_total,
        "duration_ms": {
            "p50": _round(percentile(durations, 50)),
            "p95": _round(percentile(durations, 95)),
            "max": _round(endpoint.duration_max_ms),
        },
        "n_plus_one": [
            {"statement": statement, "count": count, "location": location}
            for (statement, location), count in n_plus_one
        ],
        "blocking": [
            {"duration_ms": _round(duration), "location": location}
            for location, duration in blocking
        ],
    }


def _sample(endpoint: _Endpoint, duration_ms: float, rng: random.Random) -> None:
    """Algorithm R: each of the `requests` durations seen is kept with equal probability."""
    endpoint.duration_max_ms = max(endpoint.duration_max_ms, duration_ms)
    if len(endpoint.durations_ms) < RESERVOIR_SIZE:
        endpoint.durations_ms.append(duration_ms)
        return
    slot = rng.randrange(endpoint.requests)  # `requests` already counts this one
    if slot < RESERVOIR_SIZE:
        endpoint.durations_ms[slot] = duration_ms


def percentile(ordered: list[float], percent: float) -> float:
    """Linear interpolation between closest ranks (numpy's default) over sorted values."""
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * percent / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _round(value: float) -> float:
    return round(value, 2)


recorder = Recorder()  # the process-global recorder the middleware records into


def record(scope: RequestScope) -> None:
    recorder.record(scope)


def report() -> dict[str, Any]:
    return recorder.report()


def reset() -> None:
    recorder.reset()
