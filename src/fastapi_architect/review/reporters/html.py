"""A self-contained HTML report: one file, inline style and script, no network resource.

The page has four parts: a summary (findings by category and severity, and by rule),
the route table of the review root (the `fastapi-architect routes` inventory, with its
authentication column), the findings grouped by file with code frames, and the docs of
every rule that has a finding. A few lines of vanilla JavaScript filter the findings by
severity, category and text, and the routes by authentication; without JavaScript the
page shows everything.

Everything that comes from the reviewed code (messages, file names, source lines, route
paths) is escaped. Data never enters the script: the script is a constant that reads
`data-*` attributes. A Content-Security-Policy allows only that script and that style
(by hash) and nothing else, so a page that somehow carried injected markup still could
neither run it nor load anything from the network.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

from fastapi_architect.model.inventory import RouteRow
from fastapi_architect.review.finding import Finding, Severity
from fastapi_architect.review.registry import CATEGORIES, Rule, get_rule
from fastapi_architect.review.reporters.text import CONTEXT_LINES, MAX_SPAN_LINES
from fastapi_architect.review.result import ReviewResult

if TYPE_CHECKING:
    from fastapi_architect.config import Config

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
#: The rule-doc sections shown with every finding (the full docs are in the Rules part).
FINDING_DOC_SECTIONS = ("Why is this bad?",)
OTHER_CATEGORY = "Other"

_STYLE = """\
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;\
--error:#cf222e;--warning:#9a6700;--info:#0969da;--mark:#fff1a8;--hl:#fff8dc;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;\
--panel:#151b23;--line:#3d444d;--error:#ff7b72;--warning:#d29922;--info:#58a6ff;\
--mark:#5a4a00;--hl:#2a2410;--ok:#3fb950}}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);\
background:var(--bg);margin:0 auto;max-width:78rem;padding:1rem 1.5rem 4rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin:2rem 0 .75rem;\
border-bottom:1px solid var(--line);padding-bottom:.25rem}h3{font-size:1.05rem;margin:1.25rem 0 .5rem}
h4{font-size:.95rem;margin:1rem 0 .25rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
a{color:var(--info)}
.meta,.muted{color:var(--muted)}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid var(--line);padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:var(--panel)}td.num,th.num{text-align:right}
.badge{display:inline-block;min-width:4.6rem;padding:0 .4rem;border-radius:1rem;\
color:#fff;font-size:.8rem;font-weight:600;text-align:center}
.badge.error{background:var(--error)}.badge.warning{background:var(--warning)}\
.badge.info{background:var(--info)}
.noauth{color:var(--error);font-weight:600}.auth{color:var(--ok)}
.filters{padding:.5rem 0;\
border-bottom:1px solid var(--line);z-index:1}
.filters fieldset{display:inline-block;border:1px solid var(--line);border-radius:6px;\
margin:.25rem .5rem .25rem 0;padding:.2rem .6rem}
.filters legend{font-size:.8rem;color:var(--muted)}
.filters label{margin-right:.6rem;white-space:nowrap}
.filters input[type=search]{min-width:16rem;padding:.2rem .4rem}
.file{margin-top:1.5rem}
.finding{border:1px solid var(--line);border-left:4px solid var(--info);border-radius:6px;\
margin:.75rem 0;padding:.5rem .75rem}
.finding.error{border-left-color:var(--error)}.finding.warning{border-left-color:var(--warning)}
.finding header{display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline}
.finding .msg{margin:.35rem 0}.finding .fix{margin:.35rem 0}
.frame{background:var(--panel);border:1px solid var(--line);border-radius:6px;\
overflow-x:auto;padding:.4rem 0;margin:.4rem 0;tab-size:4}
.frame .l{display:block;padding:0 .75rem;white-space:pre}.frame .l.hl{background:var(--hl)}
.frame .n{display:inline-block;min-width:3.5rem;color:var(--muted);user-select:none;\
text-align:right;padding-right:1rem}
.frame mark{background:var(--mark);color:inherit;border-bottom:2px solid var(--error)}
.docs pre{background:var(--panel);padding:.5rem .75rem;border-radius:6px;overflow-x:auto}
.rule{border-top:1px solid var(--line);margin-top:1.5rem}
details summary{cursor:pointer;color:var(--muted)}
.warnbox{border:1px solid var(--error);border-radius:6px;padding:.5rem .75rem}
[hidden]{display:none!important}"""

_SCRIPT = """\
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-filter]"));
  var search = document.getElementById("filter-text");
  var findings = Array.prototype.slice.call(document.querySelectorAll(".finding"));
  var files = Array.prototype.slice.call(document.querySelectorAll(".file"));
  var shown = document.getElementById("shown-count");
  var noauth = document.getElementById("filter-noauth");
  var routes = Array.prototype.slice.call(document.querySelectorAll("tr.route"));
  function applyFindings() {
    var off = {};
    boxes.forEach(function (box) {
      if (!box.checked) { off[box.getAttribute("data-filter") + ":" + box.value] = true; }
    });
    var needle = search ? search.value.trim().toLowerCase() : "";
    var count = 0;
    findings.forEach(function (f) {
      var hide = off["severity:" + f.getAttribute("data-severity")] === true ||
        off["category:" + f.getAttribute("data-category")] === true ||
        (needle !== "" && f.getAttribute("data-text").indexOf(needle) < 0);
      f.hidden = hide;
      if (!hide) { count += 1; }
    });
    files.forEach(function (section) {
      section.hidden = section.querySelector(".finding:not([hidden])") === null;
    });
    if (shown) { shown.textContent = String(count); }
  }
  function applyRoutes() {
    var only = noauth !== null && noauth.checked;
    routes.forEach(function (row) {
      row.hidden = only && row.getAttribute("data-authenticated") === "true";
    });
  }
  boxes.forEach(function (box) { box.addEventListener("change", applyFindings); });
  if (search) { search.addEventListener("input", applyFindings); }
  if (noauth) { noauth.addEventListener("change", applyRoutes); }
  applyFindings();
  applyRoutes();
})();"""


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


#: No network, no plugin, no form, no frame; only the page's own script and style.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src {_csp_hash(_SCRIPT)}; style-src {_csp_hash(_STYLE)}; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable("image")
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_SURROGATE = re.compile("[\ud800-\udfff]")


def render_html(
    result: ReviewResult,
    *,
    tool_version: str,
    rules: Mapping[str, Rule] | None = None,
    routes: Sequence[RouteRow] | None = None,
    title: str = "fastapi-architect review",
) -> str:
    """The report as one HTML document. `rules` defaults to the registry; `routes` to
    the inventory the review kept (`result.routes`), else that of `result.root` (as
    `fastapi-architect routes ROOT` lists it), which parses the tree again."""
    findings = sorted(result.findings)
    routes_error: str | None = None
    if routes is None:
        routes = result.routes
    if routes is None:
        routes, routes_error = route_inventory([result.root])
    docs = _RuleDocs(rules)
    categories = {f.code: docs.category(f.code) for f in findings}

    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="fastapi-architect {_e(tool_version)}">',
        f"<title>{_e(title)}: {_e(result.root.name or str(result.root))}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Root <code>{_e(str(result.root))}</code> · '
        f"{_plural(result.files_checked, 'file')} checked · "
        f"{_plural(len(findings), 'finding')} · "
        f"fastapi-architect {_e(tool_version)}</p>",
    ]
    if result.internal_errors:
        parts.append(
            '<div class="warnbox" id="internal-errors"><strong>Some checks crashed</strong> '
            "(a bug in fastapi-architect; this report may be incomplete):<ul>"
        )
        parts += [f"<li><code>{_e(e)}</code></li>" for e in result.internal_errors]
        parts.append("</ul></div>")
    parts += _summary(findings, categories)
    parts += _routes_table(routes, routes_error)
    parts += _findings(findings, categories, result.sources, docs)
    parts += _rules(findings, docs)
    parts += [f"<script>{_SCRIPT}</script>", "</body>", "</html>"]
    text = "\n".join(parts) + "\n"
    # Lone surrogates (undecodable bytes kept by `surrogateescape`) cannot be written as UTF-8.
    return _SURROGATE.sub("\ufffd", text)


def route_inventory(
    paths: Sequence[Path], config: Config | None = None
) -> tuple[list[RouteRow], str | None]:
    """The routes under `paths` with `config` (default: the settings of the first path's
    `pyproject.toml`), or why there are none. Parses the tree again."""
    from fastapi_architect.config import ConfigError, find_config_file, load_config
    from fastapi_architect.model.inventory import inventory
    from fastapi_architect.review.engine import load_model
    from fastapi_architect.source.discovery import InputError

    try:
        if config is None:
            config = load_config(find_config_file(paths[0].resolve()))
        return inventory(load_model(paths, config)), None
    except (ConfigError, InputError, OSError) as exc:
        return [], str(exc)


# --- parts ----------------------------------------------------------------------------------


def _summary(findings: list[Finding], categories: Mapping[str, str]) -> list[str]:
    parts = ['<h2 id="summary">Summary</h2>']
    if not findings:
        return [*parts, '<p id="no-findings">No findings. All checked!</p>']
    by_cell = Counter((categories[f.code], f.severity) for f in findings)
    order = _category_order(categories.values())
    head = "".join(f'<th class="num">{s}</th>' for s in SEVERITIES)
    parts += [
        '<table id="summary-categories">',
        f'<thead><tr><th>Category</th>{head}<th class="num">Total</th></tr></thead>',
        "<tbody>",
    ]
    for category in order:
        cells = "".join(f'<td class="num">{by_cell.get((category, s), 0)}</td>' for s in SEVERITIES)
        total = sum(by_cell.get((category, s), 0) for s in SEVERITIES)
        parts.append(
            f'<tr data-category="{_e(category)}"><td>{_e(category)}</td>{cells}'
            f'<td class="num">{total}</td></tr>'
        )
    totals = "".join(
        f'<td class="num">{sum(1 for f in findings if f.severity == s)}</td>' for s in SEVERITIES
    )
    parts += [
        "</tbody>",
        f'<tfoot><tr><th>Total</th>{totals}<td class="num">{len(findings)}</td></tr></tfoot>',
        "</table>",
    ]

    by_rule = Counter(f.code for f in findings)
    first = {f.code: f for f in reversed(findings)}
    parts += [
        "<details open><summary>Findings by rule</summary>",
        '<table id="summary-rules"><thead><tr><th>Rule</th><th>Name</th><th>Severity</th>'
        '<th>Category</th><th class="num">Count</th></tr></thead><tbody>',
    ]
    for code, count in sorted(by_rule.items(), key=lambda item: (-item[1], item[0])):
        example = first[code]
        parts.append(
            f'<tr><td><a href="#rule-{_e(code)}">{_e(code)}</a></td><td>{_e(example.name)}</td>'
            f'<td><span class="badge {example.severity}">{example.severity}</span></td>'
            f'<td>{_e(categories[code])}</td><td class="num">{count}</td></tr>'
        )
    parts += ["</tbody></table>", "</details>"]
    return parts


def _routes_table(routes: Sequence[RouteRow], error: str | None) -> list[str]:
    open_count = sum(1 for r in routes if not r.authenticated)
    parts = ['<h2 id="routes">Routes</h2>']
    if error is not None:
        return [*parts, f'<p class="warnbox" id="routes-error">No route table: {_e(error)}</p>']
    if not routes:
        return [*parts, '<p id="no-routes">No FastAPI route found under the root.</p>']
    parts += [
        f'<p class="meta">{_plural(len(routes), "route")}, '
        f'<span class="noauth">{open_count} without authentication</span> '
        "(no security dependency reaches them from the route, its routers or the app). "
        '<label><input type="checkbox" id="filter-noauth"> Show only routes without '
        "authentication</label></p>",
        '<table id="route-table"><thead><tr><th>Method</th><th>Path</th><th>Handler</th>'
        "<th>Async</th><th>Authentication</th><th>Response model</th>"
        '<th class="num">Status</th></tr></thead><tbody>',
    ]
    for r in routes:
        auth = (
            f'<span class="auth">{_e(" → ".join(r.auth))}</span>'
            if r.auth
            else '<span class="noauth">none</span>'
        )
        handler = r.handler.rsplit(".", 1)[-1]
        parts.append(
            f'<tr class="route" data-authenticated="{"true" if r.authenticated else "false"}">'
            f'<td class="mono">{_e(r.method)}</td><td class="mono">{_e(r.path)}</td>'
            f'<td class="mono">{_e(r.file)}:{r.line} {_e(handler)}</td>'
            f"<td>{'async' if r.is_async else 'sync'}</td><td>{auth}</td>"
            f'<td class="mono">{_e(r.response_model or "-")}</td>'
            f'<td class="num">{r.status_code if r.status_code is not None else "-"}</td></tr>'
        )
    parts.append("</tbody></table>")
    return parts


def _findings(
    findings: list[Finding],
    categories: Mapping[str, str],
    sources: Mapping[str, list[str]],
    docs: _RuleDocs,
) -> list[str]:
    parts = ['<h2 id="findings">Findings</h2>']
    if not findings:
        return [*parts, "<p>No findings.</p>"]
    parts += _filters(findings, categories)
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.file, []).append(f)
    number = 0
    for file, group in by_file.items():
        parts.append(
            f'<section class="file" data-file="{_e(file)}">'
            f'<h3 class="mono">{_e(file)} <span class="muted">({len(group)})</span></h3>'
        )
        for f in group:
            number += 1
            parts.append(_finding(f, number, categories[f.code], sources.get(f.file), docs))
        parts.append("</section>")
    return parts


def _filters(findings: list[Finding], categories: Mapping[str, str]) -> list[str]:
    severity_counts = Counter(f.severity for f in findings)
    category_counts = Counter(categories[f.code] for f in findings)
    severity_boxes = "".join(
        f'<label><input type="checkbox" data-filter="severity" value="{s}" checked> '
        f'<span class="badge {s}">{s}</span> {severity_counts.get(s, 0)}</label>'
        for s in SEVERITIES
    )
    category_boxes = "".join(
        f'<label><input type="checkbox" data-filter="category" value="{_e(c)}" checked> '
        f"{_e(c)} ({category_counts[c]})</label>"
        for c in _category_order(category_counts)
    )
    return [
        '<div class="filters" id="filters">',
        f"<fieldset><legend>Severity</legend>{severity_boxes}</fieldset>",
        f"<fieldset><legend>Category</legend>{category_boxes}</fieldset>",
        '<fieldset><legend>Text</legend><input type="search" id="filter-text" '
        'placeholder="rule, file or message" aria-label="Filter findings by text"></fieldset>',
        f'<p class="meta">Showing <span id="shown-count">{len(findings)}</span> of '
        f"{len(findings)} findings.</p>",
        "</div>",
    ]


def _finding(
    f: Finding, number: int, category: str, lines: list[str] | None, docs: _RuleDocs
) -> str:
    rule = docs.rule(f.code)
    searchable = f"{f.code} {f.name} {f.file} {f.message}".lower()
    out = [
        f'<article class="finding {f.severity}" id="finding-{number}" '
        f'data-severity="{f.severity}" data-category="{_e(category)}" '
        f'data-code="{_e(f.code)}" data-text="{_e(searchable)}">',
        "<header>",
        f'<span class="badge {f.severity}">{f.severity}</span>',
        f'<a class="mono" href="#rule-{_e(f.code)}">{_e(f.code)}</a>',
        f'<span class="muted">[{_e(f.name)}]</span>',
        f'<span class="mono loc">{_e(f.file)}:{f.line}:{f.column}</span>',
        "</header>",
        f'<p class="msg">{_inline(f.message)}</p>',
    ]
    if lines:
        out.append(_frame(f, lines))
    fix = f.fix_title or (rule.fix_title if rule is not None else None)
    if fix:
        out.append(f'<p class="fix"><strong>Fix:</strong> {_inline(fix)}</p>')
    why = docs.finding_docs(f.code)
    if why:
        out.append(f'<details class="docs"><summary>Why is this bad?</summary>{why}</details>')
    out.append("</article>")
    return "\n".join(out)


def _frame(f: Finding, lines: list[str]) -> str:
    """The flagged lines with context, the flagged columns in `<mark>`; '' when out of range."""
    count = len(lines)
    start = f.line
    if not 1 <= start <= count:
        return ""
    end = min(max(f.end_line, start), count)
    truncated = end - start + 1 > MAX_SPAN_LINES
    if truncated:
        end = start
    first = max(1, start - CONTEXT_LINES)
    last = min(count, end + CONTEXT_LINES)
    while first < start and not lines[first - 1].strip():
        first += 1
    while last > end and not lines[last - 1].strip():
        last -= 1
    rows = []
    for number in range(first, last + 1):
        raw = lines[number - 1].rstrip("\r\n")
        flagged = start <= number <= end
        if flagged:
            left = f.column - 1 if number == start else len(raw) - len(raw.lstrip())
            right = f.end_column - 1 if number == f.end_line and not truncated else len(raw)
            left = max(0, min(left, len(raw)))
            right = max(left, min(right, len(raw)))
            if right == left and left < len(raw):
                right = left + 1
            body = (
                f"{_e(raw[:left])}<mark>{_e(raw[left:right])}</mark>{_e(raw[right:])}"
                if right > left
                else _e(raw)
            )
        else:
            body = _e(raw)
        css = "l hl" if flagged else "l"
        rows.append(f'<span class="{css}"><span class="n">{number}</span>{body}</span>')
    return '<pre class="frame"><code>' + "".join(rows) + "</code></pre>"


def _rules(findings: list[Finding], docs: _RuleDocs) -> list[str]:
    codes = sorted({f.code for f in findings})
    if not codes:
        return []
    parts = ['<h2 id="rules">Rules</h2>']
    names = {f.code: f.name for f in findings}
    for code in codes:
        rule = docs.rule(code)
        parts.append(f'<section class="rule docs" id="rule-{_e(code)}">')
        if rule is None:
            parts += [
                f"<h3>{_e(code)}: {_e(names[code])}</h3>",
                '<p class="muted">No documentation: this rule is not in the catalog.</p>',
                "</section>",
            ]
            continue
        facts = [
            rule.category,
            rule.severity,
            "on by default" if rule.default_enabled else "opt-in",
        ]
        facts += list(rule.cwe) + list(rule.owasp)
        parts += [
            f"<h3>{_e(code)}: {_e(rule.name)}</h3>",
            f"<p>{_inline(rule.summary)}. <span class='muted'>{_e(' · '.join(facts))}</span></p>",
        ]
        for heading, body in rule.sections().items():
            if body.strip():
                parts.append(f"<h4>{_e(heading)}</h4>{_MARKDOWN.render(body)}")
        if rule.references and "References" not in rule.sections():
            items = "".join(
                f'<li><a href="{_e(ref)}" rel="noopener noreferrer">{_e(ref)}</a></li>'
                for ref in rule.references
                if ref.startswith(("https://", "http://"))
            )
            if items:
                parts.append(f"<h4>References</h4><ul>{items}</ul>")
        parts.append("</section>")
    return parts


# --- helpers --------------------------------------------------------------------------------


class _RuleDocs:
    """Rule lookups and rendered doc snippets, each rendered once per rule."""

    def __init__(self, rules: Mapping[str, Rule] | None) -> None:
        self._rules = rules
        self._finding_docs: dict[str, str] = {}

    def rule(self, code: str) -> Rule | None:
        return self._rules.get(code) if self._rules is not None else get_rule(code)

    def category(self, code: str) -> str:
        rule = self.rule(code)
        if rule is not None:
            return rule.category
        return CATEGORIES.get(code[:4], OTHER_CATEGORY)

    def finding_docs(self, code: str) -> str:
        if code not in self._finding_docs:
            rule = self.rule(code)
            sections = rule.sections() if rule is not None else {}
            self._finding_docs[code] = "".join(
                _MARKDOWN.render(sections[name])
                for name in FINDING_DOC_SECTIONS
                if sections.get(name, "").strip()
            )
        return self._finding_docs[code]


def _category_order(categories: Iterable[str]) -> list[str]:
    known = list(CATEGORIES.values())
    present = set(categories)
    return [c for c in known if c in present] + sorted(present - set(known))


def _e(text: str) -> str:
    return escape(text, quote=True)


def _inline(text: str) -> str:
    """Escaped text with `backticked` spans as `<code>`, as messages are written."""
    pieces = _INLINE_CODE.split(text)
    return "".join(_e(p) if i % 2 == 0 else f"<code>{_e(p)}</code>" for i, p in enumerate(pieces))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
