"""The runtime report: read it, merge the parts of parallel runs, render it.

The report is the JSON the recorder makes (`recorder.report()`):

    {"endpoints": [{"method": "GET", "route": "/authors", "requests": 3,
      "queries_max": 13, "queries_total": 39,
      "duration_ms": {"p50": 4.1, "p95": 6.0, "max": 6.2},
      "n_plus_one": [{"statement": "SELECT ...", "count": 12, "location": "app/api/authors.py:57"}],
      "blocking": [{"duration_ms": 300.4, "location": "app/services/pricing.py:12"}]}]}

`confirm.confirm` may add `"confirmed_by"` to each N+1 and blocking entry: the
static findings the runtime observation confirms. The renderers show it when
present: text (a table, then the problems of each endpoint), JSON, and HTML (one
self-contained page, every value escaped).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

FORMATS = ("text", "json", "html")

_STATEMENT_WIDTH = 160  # text output shortens longer statements (JSON and HTML keep them)


class ReportError(Exception):
    """A report file that cannot be read; the message says why."""


# --- reading -------------------------------------------------------------------------


def load_report(path: Path) -> dict[str, Any]:
    """Read and check a saved report; `ReportError` names what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"report file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"cannot read report file {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path} is not JSON: {exc}") from None
    problem = report_problem(data)
    if problem is not None:
        raise ReportError(f"{path} is not a fastapi-architect runtime report: {problem}")
    report: dict[str, Any] = data
    return report


def report_problem(data: object) -> str | None:
    """What makes `data` no runtime report, or None when it is one."""
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        return 'expected an object with an "endpoints" list'
    for number, endpoint in enumerate(data["endpoints"]):
        where = f"endpoints[{number}]"
        if not isinstance(endpoint, dict):
            return f"{where} is not an object"
        for key in ("method", "route"):
            if not isinstance(endpoint.get(key), str):
                return f"{where}.{key} must be a string"
        for key in ("requests", "queries_max", "queries_total"):
            if not _is_int(endpoint.get(key)):
                return f"{where}.{key} must be an integer"
        durations = endpoint.get("duration_ms")
        if not isinstance(durations, dict) or not all(
            _is_number(durations.get(key)) for key in ("p50", "p95", "max")
        ):
            return f"{where}.duration_ms must hold the numbers p50, p95 and max"
        n_plus_one = endpoint.get("n_plus_one")
        if not isinstance(n_plus_one, list):
            return f"{where}.n_plus_one must be a list"
        for index, entry in enumerate(n_plus_one):
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("statement"), str)
                and _is_int(entry.get("count"))
                and _has_location(entry)
            ):
                return (
                    f"{where}.n_plus_one[{index}] must hold statement (string), count (integer) "
                    "and location (string or null)"
                )
        blocking = endpoint.get("blocking")
        if not isinstance(blocking, list):
            return f"{where}.blocking must be a list"
        for index, entry in enumerate(blocking):
            if not (
                isinstance(entry, dict)
                and _is_number(entry.get("duration_ms"))
                and _has_location(entry)
            ):
                return (
                    f"{where}.blocking[{index}] must hold duration_ms (number) "
                    "and location (string or null)"
                )
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_location(entry: Mapping[str, object]) -> bool:
    """A "location" key, a string or null (no project code on the stack)."""
    return "location" in entry and (entry["location"] is None or isinstance(entry["location"], str))


# --- queries about a report ----------------------------------------------------------


def has_problems(endpoint: Mapping[str, Any]) -> bool:
    return bool(endpoint["n_plus_one"] or endpoint["blocking"])


def problem_endpoints(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The endpoints with an N+1 or a blocking step."""
    return [e for e in report["endpoints"] if has_problems(e)]


# --- merging (pytest-xdist: one part per worker) ---------------------------------------


def merge_reports(
    parts: Iterable[tuple[Mapping[str, Any], Mapping[str, list[float]]]],
) -> dict[str, Any]:
    """One report from the reports of several processes.

    Each part is a report and the request durations behind it, keyed by
    `endpoint_key` ("GET /authors"), so the percentiles of the merged report are
    those of all requests. Counts add up; maxima and N+1 counts (per statement
    and location) and blocking steps (per location) keep the highest value, as
    the recorder merges requests.
    """
    from fastapi_architect.runtime.recorder import percentile

    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for report, durations in parts:
        for endpoint in report["endpoints"]:
            key = (endpoint["method"], endpoint["route"])
            into = merged.get(key)
            if into is None:
                into = merged[key] = {
                    "requests": 0,
                    "queries_max": 0,
                    "queries_total": 0,
                    "durations": [],
                    "max": 0.0,
                    "n_plus_one": {},
                    "blocking": {},
                }
            into["requests"] += endpoint["requests"]
            into["queries_total"] += endpoint["queries_total"]
            into["queries_max"] = max(into["queries_max"], endpoint["queries_max"])
            into["max"] = max(into["max"], endpoint["duration_ms"]["max"])
            into["durations"].extend(durations.get(endpoint_key(endpoint), []))
            for entry in endpoint["n_plus_one"]:
                pair = (entry["statement"], entry["location"])
                into["n_plus_one"][pair] = max(into["n_plus_one"].get(pair, 0), entry["count"])
            for entry in endpoint["blocking"]:
                location = entry["location"]
                into["blocking"][location] = max(
                    into["blocking"].get(location, 0.0), entry["duration_ms"]
                )
    endpoints = []
    for (method, route), into in sorted(merged.items(), key=lambda item: (item[0][1], item[0][0])):
        ordered = sorted(into["durations"])
        endpoints.append(
            {
                "method": method,
                "route": route,
                "requests": into["requests"],
                "queries_max": into["queries_max"],
                "queries_total": into["queries_total"],
                "duration_ms": {
                    "p50": round(percentile(ordered, 50), 2),
                    "p95": round(percentile(ordered, 95), 2),
                    "max": into["max"],
                },
                "n_plus_one": [
                    {"statement": statement, "count": count, "location": location}
                    for (statement, location), count in sorted(
                        into["n_plus_one"].items(), key=lambda item: -item[1]
                    )
                ],
                "blocking": [
                    {"duration_ms": duration, "location": location}
                    for location, duration in sorted(
                        into["blocking"].items(), key=lambda item: -item[1]
                    )
                ],
            }
        )
    return {"endpoints": endpoints}


def endpoint_key(endpoint: Mapping[str, Any]) -> str:
    return f"{endpoint['method']} {endpoint['route']}"


# --- rendering -----------------------------------------------------------------------


def render(report: Mapping[str, Any], output_format: str) -> str:
    """The report as "text", "json" or "html"."""
    if output_format == "json":
        return json.dumps(report, indent=2) + "\n"
    if output_format == "html":
        return render_html(report)
    if output_format == "text":
        return render_text(report)
    raise ValueError(f"unknown report format: {output_format!r}")


_COLUMNS: tuple[str, ...] = ("Method", "Route", "Requests", "Queries max", "Queries total")
_COLUMNS += ("p50 ms", "p95 ms", "max ms", "Problems")
_RIGHT = frozenset({2, 3, 4, 5, 6, 7})  # numeric columns, right-aligned


def render_text(report: Mapping[str, Any], *, problems_only: bool = False) -> str:
    """A table of the endpoints, then the N+1 groups and blocking steps of each.

    `problems_only` (the pytest summary) leaves out the endpoints without any.
    """
    endpoints: list[dict[str, Any]] = list(report["endpoints"])
    problems = [e for e in endpoints if has_problems(e)]
    lines = [_headline(len(endpoints), len(problems))]
    shown = problems if problems_only else endpoints
    if not shown:
        return lines[0] + "\n"
    rows = [list(_COLUMNS)]
    for endpoint in shown:
        durations = endpoint["duration_ms"]
        rows.append(
            [
                endpoint["method"],
                endpoint["route"],
                str(endpoint["requests"]),
                str(endpoint["queries_max"]),
                str(endpoint["queries_total"]),
                _ms(durations["p50"]),
                _ms(durations["p95"]),
                _ms(durations["max"]),
                _problem_summary(endpoint),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines.append("")
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in _RIGHT else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    for endpoint in problems:
        lines.append("")
        lines.append(f"{endpoint['method']} {endpoint['route']}")
        for entry in endpoint["n_plus_one"]:
            lines.append(
                f"  N+1: {entry['count']}x in one request at {_where(entry['location'])}: "
                f"{_shorten(entry['statement'])}"
            )
            lines.extend(_confirmations(entry))
        for entry in endpoint["blocking"]:
            lines.append(
                f"  event loop blocked {_ms(entry['duration_ms'])} ms at {_where(entry['location'])}"
            )
            lines.extend(_confirmations(entry))
    return "\n".join(lines) + "\n"


def _headline(total: int, with_problems: int) -> str:
    if total == 0:
        return "No requests to a FastAPI or Starlette app were profiled."
    endpoints = f"{total} endpoint{'s' if total != 1 else ''} profiled"
    if not with_problems:
        return f"{endpoints}: no N+1 queries, no event-loop blocking."
    return f"{endpoints}, {with_problems} with N+1 queries or event-loop blocking."


def _problem_summary(endpoint: Mapping[str, Any]) -> str:
    parts = []
    if endpoint["n_plus_one"]:
        parts.append(f"N+1 x{len(endpoint['n_plus_one'])}")
    if endpoint["blocking"]:
        parts.append(f"blocking x{len(endpoint['blocking'])}")
    return ", ".join(parts) or "-"


def _confirmations(entry: Mapping[str, Any]) -> list[str]:
    return [
        f"    confirmed at runtime: {found['code']} at {found['location']} "
        f"({_MATCH_WORDS.get(found.get('match', ''), 'matched')}): {found['message']}"
        for found in entry.get("confirmed_by", ())
    ]


_MATCH_WORDS = {
    "line": "same line",
    "loop": "same loop",
    "call chain": "in the call chain it names",
}


def _ms(value: float) -> str:
    return f"{value:.1f}"


def _where(location: str | None) -> str:
    return location or "(no project code on the stack)"


def _shorten(statement: str) -> str:
    if len(statement) <= _STATEMENT_WIDTH:
        return statement
    return statement[: _STATEMENT_WIDTH - 3] + "..."


_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em;
       color: #1b1f24; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #d0d7de; padding: 4px 10px; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.problem td { background: #fff5f5; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap;
       word-break: break-word; }
.confirmed { color: #8250df; font-weight: 600; }
.muted { color: #57606a; }
"""


def render_html(report: Mapping[str, Any]) -> str:
    """One self-contained page: no script, no external resource, every value escaped."""
    endpoints: list[dict[str, Any]] = list(report["endpoints"])
    problems = [e for e in endpoints if has_problems(e)]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>fastapi-architect runtime profile</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>fastapi-architect runtime profile</h1>",
        f"<p>{_e(_headline(len(endpoints), len(problems)))}</p>",
    ]
    if endpoints:
        out.append("<table><thead><tr>")
        for index, column in enumerate(_COLUMNS):
            css = ' class="num"' if index in _RIGHT else ""
            out.append(f"<th{css}>{_e(column)}</th>")
        out.append("</tr></thead><tbody>")
        for endpoint in endpoints:
            durations = endpoint["duration_ms"]
            css = ' class="problem"' if has_problems(endpoint) else ""
            numbers = [
                endpoint["requests"],
                endpoint["queries_max"],
                endpoint["queries_total"],
                _ms(durations["p50"]),
                _ms(durations["p95"]),
                _ms(durations["max"]),
            ]
            out.append(
                f"<tr{css}><td>{_e(endpoint['method'])}</td>"
                f"<td><code>{_e(endpoint['route'])}</code></td>"
                + "".join(f'<td class="num">{_e(value)}</td>' for value in numbers)
                + f"<td>{_e(_problem_summary(endpoint))}</td></tr>"
            )
        out.append("</tbody></table>")
    for endpoint in problems:
        out.append(f"<h2>{_e(endpoint['method'])} <code>{_e(endpoint['route'])}</code></h2>")
        out.append("<ul>")
        for entry in endpoint["n_plus_one"]:
            out.append(
                f"<li>N+1: <strong>{_e(entry['count'])}x</strong> in one request at "
                f"<code>{_e(_where(entry['location']))}</code><br>"
                f"<code>{_e(entry['statement'])}</code>{_html_confirmations(entry)}</li>"
            )
        for entry in endpoint["blocking"]:
            out.append(
                f"<li>event loop blocked <strong>{_e(_ms(entry['duration_ms']))} ms</strong> at "
                f"<code>{_e(_where(entry['location']))}</code>{_html_confirmations(entry)}</li>"
            )
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_confirmations(entry: Mapping[str, Any]) -> str:
    found = entry.get("confirmed_by", ())
    if not found:
        return ""
    items = "".join(
        f'<li><span class="confirmed">confirmed at runtime</span>: {_e(f["code"])} at '
        f"<code>{_e(f['location'])}</code> "
        f'<span class="muted">({_e(_MATCH_WORDS.get(f.get("match", ""), "matched"))})</span>: '
        f"{_e(f['message'])}</li>"
        for f in found
    )
    return f"<ul>{items}</ul>"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
