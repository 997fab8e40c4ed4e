"""N+1 detection, `assert_max_queries` and the per-endpoint report, on real queries."""

from __future__ import annotations

import json
import re
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fastapi_architect.runtime import recorder as recorder_module
from fastapi_architect.runtime import sqlalchemy_hooks
from fastapi_architect.runtime.analysis import find_n_plus_one, n_plus_one
from fastapi_architect.runtime.counting import assert_max_queries, count_queries
from fastapi_architect.runtime.recorder import Recorder, recorder
from fastapi_architect.runtime.scope import Blocking, Query, RequestScope, current_request
from fastapi_architect.runtime.settings import configure

PER_ROW = "SELECT books.id, books.title, books.author_id FROM books WHERE books.author_id = ?"
LAZY = "SELECT books.id FROM books WHERE ? = books.author_id"  # for hand-made queries
# a lazy load of Author.books (SQLAlchemy 2.0 labels the columns, 2.1 does not)
LAZY_BOOKS = re.compile(
    r"SELECT books\.id(?: AS books_id)?, books\.title(?: AS books_title)?, "
    r"books\.author_id(?: AS books_author_id)? FROM books "
    r"WHERE \? = books\.author_id ORDER BY books\.id"
)


@contextmanager
def request_scope(method: str = "GET", route: str | None = "/authors") -> Iterator[RequestScope]:
    scope = RequestScope(method=method, path=route or "/", route=route)
    token = current_request.set(scope)
    try:
        yield scope
    finally:
        current_request.reset(token)


def serve(database: Any, repo: Any, name: str, engine: Any, models: Any) -> RequestScope:
    """One "request" running the user's repo function; its statements are in the scope."""
    with request_scope() as scope:
        repo.call(database, name, engine, models)
    return scope


def seeded(database: Any, repo: Any, models: Any, n_authors: int) -> Any:
    engine = database.engine()
    repo.call(database, "setup", engine, models, n_authors)
    return engine


# --- N+1 -------------------------------------------------------------------------------


def test_a_per_row_query_loop_is_an_n_plus_one(
    database: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = seeded(database, repo, models, 6)
    scope = serve(database, repo, "books_per_author", engine, models)
    assert n_plus_one(scope) == [
        {"statement": PER_ROW, "count": 6, "location": repo.location(database, "@per-row")}
    ]


def test_the_same_data_loaded_eagerly_is_not(
    database: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = seeded(database, repo, models, 6)
    for name in ("titles_selectin", "titles_joined"):
        scope = serve(database, repo, name, engine, models)
        assert scope.queries, name  # the statements were seen ...
        assert n_plus_one(scope) == [], name  # ... and none repeats


def test_lazy_loads_in_a_loop_are_an_n_plus_one(
    database: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = seeded(database, repo, models, 6)
    scope = serve(database, repo, "titles_lazy", engine, models)
    (entry,) = n_plus_one(scope)
    assert LAZY_BOOKS.fullmatch(entry["statement"]), entry
    assert (entry["count"], entry["location"]) == (6, repo.location(database, "@lazy"))


def test_four_repetitions_are_below_the_default_threshold(
    sqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = seeded(sqlite_db, repo, models, 4)
    scope = serve(sqlite_db, repo, "books_per_author", engine, models)
    assert [q.statement for q in scope.queries].count(PER_ROW) == 4
    assert n_plus_one(scope) == []
    configure(n_plus_one_threshold=4)
    assert [(e["statement"], e["count"]) for e in n_plus_one(scope)] == [(PER_ROW, 4)]
    configure(n_plus_one_threshold=5)
    assert n_plus_one(scope) == []


def test_the_lazy_load_threshold_is_two_and_configurable(
    sqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = seeded(sqlite_db, repo, models, 2)
    two = serve(sqlite_db, repo, "titles_lazy", engine, models)
    (entry,) = n_plus_one(two)
    assert LAZY_BOOKS.fullmatch(entry["statement"]) and entry["count"] == 2, entry
    configure(lazy_load_threshold=3)
    assert n_plus_one(two) == []

    configure(lazy_load_threshold=2)
    with Session(engine) as session, request_scope() as one:  # one author: one lazy load
        author = session.scalars(select(models.Author).limit(1)).one()
        assert len(author.books) == 2
    assert [q.lazy_load for q in one.queries] == [None, "Author.books"]
    assert n_plus_one(one) == []


def test_the_same_statement_written_by_hand_needs_the_select_threshold() -> None:
    # two explicit (not lazy) identical SELECTs: below 5, not an N+1
    queries = [Query(LAZY, "app/a.py:3"), Query(LAZY, "app/a.py:3")]
    assert find_n_plus_one(queries) == []
    # one lazy load plus explicit ones: the lazy count (1) is below 2, the total below 5
    queries.append(Query(LAZY, "app/a.py:9", lazy_load="Author.books"))
    assert find_n_plus_one(queries) == []


def test_repeated_writes_are_not_an_n_plus_one_and_the_commonest_location_wins() -> None:
    insert = "INSERT INTO books (title, author_id) VALUES (?, ?)"
    select_one = "SELECT authors.id FROM authors WHERE authors.id = ?"
    queries = [Query(insert, "app/w.py:4") for _ in range(10)]
    queries += [Query(select_one, "app/r.py:7") for _ in range(2)]
    queries += [Query(select_one, "app/r.py:9") for _ in range(3)]
    queries += [Query(select_one, None)]
    assert find_n_plus_one(queries) == [
        {"statement": select_one, "count": 6, "location": "app/r.py:9"}
    ]


def test_groups_are_ordered_by_count() -> None:
    a = "SELECT a FROM t WHERE id = ?"
    b = "SELECT b FROM t WHERE id = ?"
    queries = [Query(a, "x.py:1")] * 5 + [Query(b, "x.py:2")] * 7
    assert [e["statement"] for e in find_n_plus_one(queries)] == [b, a]


# --- assert_max_queries ----------------------------------------------------------------


def test_assert_max_queries_passes_at_n_and_fails_above_listing_statements(
    sqlite_db: Any, models: Any, repo: Any
) -> None:
    engine = seeded(sqlite_db, repo, models, 3)  # books_per_author: 1 + 3 statements
    assert not sqlalchemy_hooks.is_installed()
    assert current_request.get() is None  # outside any request
    with assert_max_queries(4) as counter:
        repo.call(sqlite_db, "books_per_author", engine, models)
    assert len(counter) == 4
    assert not sqlalchemy_hooks.is_installed()  # installed for the block only

    with pytest.raises(AssertionError) as failure, assert_max_queries(3):
        repo.call(sqlite_db, "books_per_author", engine, models)
    message = str(failure.value)
    assert message.splitlines()[0] == "expected at most 3 SQL statements, 4 issued:"
    per_row = repo.location(sqlite_db, "@per-row")
    assert message.count(f"{PER_ROW}  ({per_row})") == 3
    assert "SELECT authors.id, authors.name FROM authors ORDER BY authors.id" in message
    assert not sqlalchemy_hooks.is_installed()


def test_assert_max_queries_counts_other_threads_and_nests(sqlite_db: Any) -> None:
    engine = sqlite_db.engine()

    def query() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()

    with count_queries() as outer:
        with assert_max_queries(2) as inner:
            worker = threading.Thread(target=query)  # a test client's app thread, say
            worker.start()
            worker.join()
            query()
        query()
    assert (len(inner), len(outer)) == (2, 3)
    assert [q.statement for q in outer.queries] == ["SELECT ?"] * 3


def test_assert_max_queries_lets_the_blocks_own_error_through(sqlite_db: Any) -> None:
    engine = sqlite_db.engine()
    with pytest.raises(ZeroDivisionError), assert_max_queries(0):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        1 / 0  # noqa: B018
    assert not sqlalchemy_hooks.is_installed()


def test_assert_max_queries_counts_inside_a_request_too(
    sqlite_db: Any, models: Any, repo: Any, hooks: None
) -> None:
    engine = seeded(sqlite_db, repo, models, 5)
    with assert_max_queries(10) as counter, request_scope() as scope:
        repo.call(sqlite_db, "titles_lazy", engine, models)
    assert len(counter) == len(scope.queries) == 6
    assert sqlalchemy_hooks.is_installed()  # the test's own install is left alone


# --- the report ------------------------------------------------------------------------

REPORT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["endpoints"],
    "properties": {
        "endpoints": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "method",
                    "route",
                    "requests",
                    "queries_max",
                    "queries_total",
                    "duration_ms",
                    "n_plus_one",
                    "blocking",
                ],
                "properties": {
                    "method": {"type": "string"},
                    "route": {"type": "string"},
                    "requests": {"type": "integer", "minimum": 1},
                    "queries_max": {"type": "integer", "minimum": 0},
                    "queries_total": {"type": "integer", "minimum": 0},
                    "duration_ms": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["p50", "p95", "max"],
                        "properties": {
                            "p50": {"type": "number"},
                            "p95": {"type": "number"},
                            "max": {"type": "number"},
                        },
                    },
                    "n_plus_one": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["statement", "count", "location"],
                            "properties": {
                                "statement": {"type": "string"},
                                "count": {"type": "integer"},
                                "location": {"type": ["string", "null"]},
                            },
                        },
                    },
                    "blocking": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["duration_ms", "location"],
                            "properties": {
                                "duration_ms": {"type": "number"},
                                "location": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
            },
        }
    },
}


def test_the_issues_example_report_matches_the_schema() -> None:
    # the schema the tests hold the report to accepts the issue's own example
    example = json.loads(
        '{"endpoints": [{"method": "GET", "route": "/authors", "requests": 3, "queries_max": 13,'
        ' "queries_total": 39, "duration_ms": {"p50": 4.1, "p95": 6.0, "max": 6.2},'
        ' "n_plus_one": [{"statement": "SELECT ... WHERE books.author_id = ?", "count": 12,'
        ' "location": "app/api/authors.py:57"}], "blocking": [{"duration_ms": 300.4,'
        ' "location": "app/services/pricing.py:12"}]}]}'
    )
    jsonschema.validate(example, REPORT_SCHEMA)


def test_report_of_real_requests(sqlite_db: Any, models: Any, repo: Any, hooks: None) -> None:
    engine = seeded(sqlite_db, repo, models, 6)
    durations = [4.0, 6.0, 5.0]
    for duration in durations:  # three requests to the N+1 endpoint
        scope = serve(sqlite_db, repo, "books_per_author", engine, models)
        scope.duration_ms, scope.status = duration, 200
        recorder.record(scope)
    clean = serve(sqlite_db, repo, "titles_selectin", engine, models)
    clean.route, clean.duration_ms = "/authors/eager", 2.5
    recorder.record(clean)

    report = recorder.report()
    jsonschema.validate(report, REPORT_SCHEMA)
    assert json.loads(json.dumps(report)) == report
    assert report == {
        "endpoints": [
            {
                "method": "GET",
                "route": "/authors",
                "requests": 3,
                "queries_max": 7,
                "queries_total": 21,
                "duration_ms": {"p50": 5.0, "p95": 5.9, "max": 6.0},
                "n_plus_one": [
                    {
                        "statement": PER_ROW,
                        "count": 6,
                        "location": repo.location(sqlite_db, "@per-row"),
                    }
                ],
                "blocking": [],
            },
            {
                "method": "GET",
                "route": "/authors/eager",
                "requests": 1,
                "queries_max": 2,
                "queries_total": 2,
                "duration_ms": {"p50": 2.5, "p95": 2.5, "max": 2.5},
                "n_plus_one": [],
                "blocking": [],
            },
        ]
    }


def _scope(
    method: str, path: str, route: str | None, duration: float, **extra: Any
) -> RequestScope:
    scope = RequestScope(method=method, path=path, route=route, duration_ms=duration, status=200)
    scope.queries = extra.get("queries", [])
    scope.blocking = extra.get("blocking", [])
    return scope


def test_durations_are_a_bounded_uniform_sample_with_the_exact_maximum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recorder_module, "RESERVOIR_SIZE", 200)
    own = Recorder()
    for duration in range(5000):  # 0 .. 4999 ms, in rising order: a biased sample would show
        own.record(_scope("GET", "/x", "/x", float(duration)))
    assert len(own._endpoints[("GET", "/x")].durations_ms) == 200
    (endpoint,) = own.report()["endpoints"]
    assert endpoint["requests"] == 5000
    assert endpoint["duration_ms"]["max"] == 4999.0
    # the true median is 2499.5; a uniform sample of 200 lands within a few hundred ms
    assert 1900 <= endpoint["duration_ms"]["p50"] <= 3100
    assert 4400 <= endpoint["duration_ms"]["p95"] <= 4999


def test_a_request_the_hooks_saw_no_repeat_in_is_not_analysed() -> None:
    scope = _scope("GET", "/x", "/x", 1.0, queries=[Query("SELECT ?", None)] * 6)
    assert n_plus_one(scope) != []  # built by hand: analysed
    scope.seen = {"SELECT ?"}  # as the hooks leave it when no statement came twice
    assert n_plus_one(scope) == []
    scope.repeated = True
    assert n_plus_one(scope) != []


def test_percentiles_over_many_requests() -> None:
    durations = [float(d) for d in (13, 2, 7, 20, 1, 9, 16, 4, 11, 18, 3, 15, 6, 19, 8, 10, 5)]
    for duration in durations:
        recorder.record(_scope("GET", "/x", "/x", duration))
    (endpoint,) = recorder.report()["endpoints"]
    cuts = statistics.quantiles(durations, n=100, method="inclusive")
    assert endpoint["duration_ms"] == {
        "p50": round(cuts[49], 2),
        "p95": round(cuts[94], 2),
        "max": 20.0,
    }
    assert endpoint["duration_ms"]["p50"] == 9.0
    assert endpoint["duration_ms"]["p95"] == 19.2


def test_endpoints_are_keyed_by_method_and_route_template() -> None:
    recorder.record(_scope("GET", "/authors/1", "/authors/{author_id}", 1.0))
    recorder.record(_scope("get", "/authors/2", "/authors/{author_id}", 3.0))
    recorder.record(_scope("DELETE", "/authors/2", "/authors/{author_id}", 2.0))
    recorder.record(_scope("GET", "/nowhere", None, 1.0))  # no route matched: the path
    keys = [(e["method"], e["route"], e["requests"]) for e in recorder.report()["endpoints"]]
    assert keys == [
        ("DELETE", "/authors/{author_id}", 1),
        ("GET", "/authors/{author_id}", 2),
        ("GET", "/nowhere", 1),
    ]


def test_n_plus_one_and_blocking_merge_across_requests() -> None:
    statement = "SELECT b FROM t WHERE id = ?"

    def queries(count: int, location: str) -> list[Query]:
        return [Query(statement, location) for _ in range(count)]

    recorder.record(
        _scope(
            "GET",
            "/a",
            "/a",
            1.0,
            queries=queries(6, "app/a.py:1"),
            blocking=[Blocking(150.0, "app/s.py:3"), Blocking(120.0, "app/s.py:8")],
        )
    )
    recorder.record(
        _scope(
            "GET",
            "/a",
            "/a",
            1.0,
            queries=queries(9, "app/a.py:1") + queries(5, "app/a.py:2"),
            blocking=[Blocking(300.4, "app/s.py:3")],
        )
    )
    recorder.record(_scope("GET", "/a", "/a", 1.0, queries=queries(7, "app/a.py:1")))
    (endpoint,) = recorder.report()["endpoints"]
    # request 2 has 14 of the statement: one group, located at its commonest line
    assert endpoint["n_plus_one"] == [
        {"statement": statement, "count": 14, "location": "app/a.py:1"},
    ]
    assert endpoint["blocking"] == [
        {"duration_ms": 300.4, "location": "app/s.py:3"},
        {"duration_ms": 120.0, "location": "app/s.py:8"},
    ]
    assert (endpoint["queries_max"], endpoint["queries_total"]) == (14, 27)


def test_n_plus_one_keeps_separate_locations_apart() -> None:
    statement = "SELECT b FROM t WHERE id = ?"
    for location, count in [("app/a.py:1", 6), ("app/b.py:2", 8), ("app/a.py:1", 5)]:
        queries = [Query(statement, location) for _ in range(count)]
        recorder.record(_scope("GET", "/a", "/a", 1.0, queries=queries))
    (endpoint,) = recorder.report()["endpoints"]
    assert endpoint["n_plus_one"] == [
        {"statement": statement, "count": 8, "location": "app/b.py:2"},
        {"statement": statement, "count": 6, "location": "app/a.py:1"},
    ]


def test_record_is_thread_safe() -> None:
    fresh = Recorder()
    threads_n, per_thread = 8, 2000

    def work(n: int) -> None:
        for i in range(per_thread):
            queries = [Query("SELECT ?", None)] * (i % 3)
            fresh.record(_scope("GET", f"/r/{n}", "/r/{n}", float(i), queries=queries))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (endpoint,) = fresh.report()["endpoints"]
    assert endpoint["requests"] == threads_n * per_thread
    assert endpoint["queries_total"] == threads_n * sum(i % 3 for i in range(per_thread))
    assert endpoint["duration_ms"]["max"] == per_thread - 1


def test_empty_and_reset() -> None:
    assert recorder.report() == {"endpoints": []}
    recorder_module.record(_scope("GET", "/a", "/a", 1.0))
    assert len(recorder_module.report()["endpoints"]) == 1
    recorder_module.reset()
    assert recorder.report() == {"endpoints": []}
