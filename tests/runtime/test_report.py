"""The report: reading a saved one, merging the parts of xdist workers, text/JSON/HTML."""

from __future__ import annotations

import json
import random
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fastapi_architect.runtime.recorder import Recorder
from fastapi_architect.runtime.report import (
    ReportError,
    endpoint_key,
    load_report,
    merge_reports,
    render,
    render_html,
    render_text,
)
from fastapi_architect.runtime.scope import Blocking, Query, RequestScope

PER_ROW = "SELECT books.id, books.title FROM books WHERE books.author_id = ?"

REPORT: dict[str, Any] = {
    "endpoints": [
        {
            "method": "GET",
            "route": "/authors",
            "requests": 3,
            "queries_max": 13,
            "queries_total": 39,
            "duration_ms": {"p50": 4.1, "p95": 6.0, "max": 6.2},
            "n_plus_one": [
                {"statement": PER_ROW, "count": 12, "location": "app/api/authors.py:57"}
            ],
            "blocking": [],
        },
        {
            "method": "GET",
            "route": "/health",
            "requests": 10,
            "queries_max": 0,
            "queries_total": 0,
            "duration_ms": {"p50": 0.4, "p95": 0.9, "max": 1.3},
            "n_plus_one": [],
            "blocking": [],
        },
        {
            "method": "POST",
            "route": "/orders",
            "requests": 2,
            "queries_max": 3,
            "queries_total": 6,
            "duration_ms": {"p50": 301.2, "p95": 305.0, "max": 305.44},
            "n_plus_one": [],
            "blocking": [{"duration_ms": 300.4, "location": "app/services/pricing.py:12"}],
        },
    ]
}


def test_text_table_and_problems() -> None:
    text = render_text(REPORT)
    lines = text.splitlines()
    assert lines[0] == "3 endpoints profiled, 2 with N+1 queries or event-loop blocking."
    header = lines[2]
    assert header.split() == [
        "Method",
        "Route",
        "Requests",
        "Queries",
        "max",
        "Queries",
        "total",
        "p50",
        "ms",
        "p95",
        "ms",
        "max",
        "ms",
        "Problems",
    ]
    rows = lines[3:6]
    assert rows[0].split() == ["GET", "/authors", "3", "13", "39", "4.1", "6.0", "6.2", "N+1", "x1"]
    assert rows[1].split() == ["GET", "/health", "10", "0", "0", "0.4", "0.9", "1.3", "-"]
    assert rows[2].split()[-2:] == ["blocking", "x1"]
    # numbers are right-aligned under their header
    assert rows[0].index("39") + 2 == header.index("Queries total") + len("Queries total")
    assert "GET /authors" in lines
    assert f"  N+1: 12x in one request at app/api/authors.py:57: {PER_ROW}" in lines
    assert "  event loop blocked 300.4 ms at app/services/pricing.py:12" in lines
    assert "GET /health" not in lines  # no problem section for a clean endpoint


def test_text_problems_only_leaves_clean_endpoints_out() -> None:
    text = render_text(REPORT, problems_only=True)
    assert "/health" not in text
    assert "/authors" in text and "/orders" in text
    assert (
        text.splitlines()[0] == "3 endpoints profiled, 2 with N+1 queries or event-loop blocking."
    )


def test_text_of_clean_and_empty_reports() -> None:
    clean = {"endpoints": [REPORT["endpoints"][1]]}
    assert render_text(clean, problems_only=True) == (
        "1 endpoint profiled: no N+1 queries, no event-loop blocking.\n"
    )
    assert "GET     /health" in render_text(clean)
    assert render_text({"endpoints": []}) == (
        "No requests to a FastAPI or Starlette app were profiled.\n"
    )


def test_text_shortens_long_statements_and_names_missing_locations() -> None:
    long = "SELECT " + ", ".join(f"books.column_{i}" for i in range(40)) + " FROM books"
    report = json.loads(json.dumps(REPORT))
    report["endpoints"][0]["n_plus_one"][0].update(statement=long, location=None)
    line = next(line for line in render_text(report).splitlines() if line.startswith("  N+1"))
    assert "(no project code on the stack)" in line
    assert line.endswith("...")
    assert len(line.split(": ", 1)[1]) < len(long)
    assert long in render(report, "json")  # JSON keeps it whole


def test_confirmations_are_rendered() -> None:
    report = json.loads(json.dumps(REPORT))
    report["endpoints"][0]["n_plus_one"][0]["confirmed_by"] = [
        {
            "code": "FAA402",
            "location": "app/api/authors.py:57",
            "message": "`db.scalars` runs a query once per item of `authors` (N+1 queries)",
            "match": "line",
        }
    ]
    report["endpoints"][2]["blocking"][0]["confirmed_by"] = []
    text = render_text(report)
    assert (
        "    confirmed at runtime: FAA402 at app/api/authors.py:57 (same line): "
        "`db.scalars` runs a query once per item of `authors` (N+1 queries)"
    ) in text.splitlines()
    assert text.count("confirmed at runtime") == 1
    page = render_html(report)
    assert page.count("confirmed at runtime") == 1
    assert "FAA402" in page


def test_json_round_trips() -> None:
    assert json.loads(render(REPORT, "json")) == REPORT


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            assert not name.startswith("on"), name
            assert name not in ("src", "href"), (name, value)  # nothing external

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_escaped() -> None:
    report = json.loads(json.dumps(REPORT))
    hostile = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'
    report["endpoints"][0]["route"] = "/a/" + hostile
    report["endpoints"][0]["n_plus_one"][0]["statement"] = "SELECT '" + hostile + "'"
    report["endpoints"][2]["blocking"][0]["location"] = hostile + ".py:1"
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img" in page
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and "link" not in parser.tags
    text = "".join(parser.text)
    assert "/a/" + hostile in text  # what the reader sees is the value itself
    assert parser.tags.count("tr") == 4  # header + 3 endpoints
    assert parser.tags.count("h2") == 2  # the endpoints with problems
    assert "300.4 ms" in text and "12x" in text


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render(REPORT, "xml")


# --- load_report ------------------------------------------------------------------------


def test_load_report_accepts_a_report(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(REPORT), encoding="utf-8")
    assert load_report(path) == REPORT


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"is not JSON"),
        ("[]", r'expected an object with an "endpoints" list'),
        ('{"endpoints": {}}', r'expected an object with an "endpoints" list'),
        ('{"endpoints": [1]}', r"endpoints\[0\] is not an object"),
        ('{"endpoints": [{"method": "GET"}]}', r"endpoints\[0\]\.route must be a string"),
    ],
)
def test_load_report_rejects_what_is_no_report(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportError, match=message):
        load_report(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requests": "3"}, r"endpoints\[1\]\.requests must be an integer"),
        ({"queries_max": True}, r"endpoints\[1\]\.queries_max must be an integer"),
        ({"duration_ms": {"p50": 1}}, r"endpoints\[1\]\.duration_ms must hold the numbers"),
        ({"n_plus_one": None}, r"endpoints\[1\]\.n_plus_one must be a list"),
        ({"n_plus_one": [{"statement": "S", "count": 2}]}, r"n_plus_one\[0\] must hold"),
        ({"blocking": [{"duration_ms": "slow", "location": None}]}, r"blocking\[0\] must hold"),
    ],
)
def test_load_report_names_the_bad_field(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    report = json.loads(json.dumps(REPORT))
    report["endpoints"][1].update(change)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    with pytest.raises(ReportError, match=message):
        load_report(path)


def test_load_report_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"report file not found: .*nothing\.json"):
        load_report(tmp_path / "nothing.json")


# --- merge_reports ---------------------------------------------------------------------


def _request(rng: random.Random, route: str, n: int) -> RequestScope:
    scope = RequestScope(method="GET", path=route, route=route)
    scope.duration_ms = rng.uniform(1.0, 50.0)
    for i in range(n):
        scope.queries.append(Query(PER_ROW, f"app/repo.py:{10 + i % 2}"))
    if rng.random() < 0.2:
        scope.blocking.append(Blocking(rng.uniform(100, 400), f"app/slow.py:{rng.choice([3, 4])}"))
    return scope


def test_merged_parts_equal_one_recorder_of_every_request() -> None:
    # three "workers" record their share of the requests; the merge of their reports
    # (with the durations) equals the report of one recorder that saw them all
    rng = random.Random(4)
    requests = [
        _request(rng, rng.choice(["/authors", "/books", "/orders/{id}"]), rng.randrange(0, 14))
        for _ in range(300)
    ]
    whole = Recorder()
    workers = [Recorder() for _ in range(3)]
    durations: list[dict[str, list[float]]] = [{} for _ in workers]
    for number, scope in enumerate(requests):
        whole.record(scope)
        worker = number % 3 if scope.route != "/orders/{id}" else 2  # one route on one worker
        workers[worker].record(scope)
        durations[worker].setdefault(f"GET {scope.route}", []).append(scope.duration_ms)
    merged = merge_reports(
        (recorder.report(), part) for recorder, part in zip(workers, durations, strict=True)
    )
    assert merged == whole.report()
    assert {e["route"] for e in merged["endpoints"]} == {"/authors", "/books", "/orders/{id}"}
    assert any(e["n_plus_one"] for e in merged["endpoints"])
    assert any(e["blocking"] for e in merged["endpoints"])


def test_merge_of_nothing_and_endpoint_key() -> None:
    assert merge_reports([]) == {"endpoints": []}
    assert endpoint_key(REPORT["endpoints"][2]) == "POST /orders"
    assert re.fullmatch(r"\S+ /\S*", endpoint_key(REPORT["endpoints"][0]))
