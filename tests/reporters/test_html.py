"""The HTML report's structure and escaping, read back with the standard library's parser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from fastapi_architect.cli import app
from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths
from fastapi_architect.review.finding import Finding
from fastapi_architect.review.registry import Rule
from fastapi_architect.review.reporters import render
from fastapi_architect.review.reporters.html import render_html
from fastapi_architect.review.result import ReviewResult

BOOKSHOP = Path(__file__).resolve().parents[2] / "examples" / "bookshop"
VOID = {"meta", "input", "br", "img", "link", "hr", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> list[Node]:
        out = [self]
        for c in self.children:
            if isinstance(c, Node):
                out += c.walk()
        return out

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        def ok(n: Node) -> bool:
            if tag is not None and n.tag != tag:
                return False
            if cls is not None and cls not in n.attrs.get("class", "").split():
                return False
            return all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())

        return [n for n in self.walk() if ok(n)]

    def by_id(self, ident: str) -> Node:
        (node,) = [n for n in self.walk() if n.attrs.get("id") == ident]
        return node


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def _csp_source_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# --- self-contained and safe ----------------------------------------------------------------


def test_document_is_well_formed_and_self_contained(
    result: ReviewResult, rules: dict[str, Rule]
) -> None:
    html = render_html(result, tool_version="1.2.3", rules=rules)
    assert html.startswith("<!DOCTYPE html>\n")
    doc = parse(html)
    nodes = doc.walk()
    # One script and one style, both inline; nothing that loads a resource.
    scripts = [n for n in nodes if n.tag == "script"]
    assert len(scripts) == 1 and "src" not in scripts[0].attrs
    assert len([n for n in nodes if n.tag == "style"]) == 1
    for n in nodes:
        assert n.tag not in {"img", "link", "iframe", "object", "embed", "video", "audio"}
        assert "src" not in n.attrs and "srcset" not in n.attrs
        assert not any(a.startswith("on") for a in n.attrs), n
    style = doc.find_all("style")[0].text()
    assert "url(" not in style and "@import" not in style and "@font-face" not in style


def test_content_security_policy_allows_only_the_inline_script_and_style(
    result: ReviewResult, rules: dict[str, Rule]
) -> None:
    doc = parse(render_html(result, tool_version="1", rules=rules))
    (meta,) = doc.find_all("meta", http_equiv="Content-Security-Policy")
    policy = dict(
        [*part.split(" ", 1), ""][:2]
        for part in (p.strip() for p in meta.attrs["content"].split(";"))
    )
    assert policy["default-src"] == "'none'"
    assert policy["img-src"] == "'none'"
    assert policy["script-src"] == _csp_source_hash(doc.find_all("script")[0].text())
    assert policy["style-src"] == _csp_source_hash(doc.find_all("style")[0].text())


def test_hostile_text_is_escaped_everywhere(
    result: ReviewResult, rules: dict[str, Rule], payload: str
) -> None:
    html = render_html(result, tool_version="<v>", rules=rules)
    doc = parse(html)
    # The payload's tags never become elements...
    assert [n.tag for n in doc.walk()].count("script") == 1
    assert "<img" not in html and "<script>window" not in html
    # ...and the text reads back exactly as written: in the message, the code frame, the
    # file name (also inside attributes), the rule docs.
    messages = [n.text() for n in doc.find_all("p", cls="msg")]
    assert f"public docs {payload}" in messages
    frames = [n.text() for n in doc.find_all("pre", cls="frame")]
    assert any(payload in f for f in frames)
    assert any('x = "</script><b>"' in f for f in frames)
    sections = doc.find_all("section", cls="file")
    assert {s.attrs["data-file"] for s in sections} == {"main.py", 'evil"<i>.py'}
    evil = [a for a in doc.find_all("article") if a.attrs["data-text"].startswith("faa705")]
    assert any('evil"<i>.py' in a.attrs["data-text"] for a in evil)
    docs = doc.by_id("rule-FAA301").text()
    assert "Raw <b>html</b> in docs <script>alert(3)</script> is shown as text." in docs
    assert "fastapi-architect <v>" in doc.by_id("summary").text() or "<v>" in doc.text()


def test_lone_surrogates_do_not_break_the_document(project: Path, rules: dict[str, Rule]) -> None:
    bad = Finding(
        "main.py", 1, 1, "FAA705", 1, 2, "route-docs-incomplete", "odd \udcff byte", "info"
    )
    html = render_html(
        ReviewResult(project, [bad], 1, {"main.py": ["x\udcff = 1"]}), tool_version="1", rules=rules
    )
    html.encode("utf-8")  # would raise on a lone surrogate
    assert "odd \ufffd byte" in parse(html).text()


# --- content --------------------------------------------------------------------------------


def test_summary_by_category_and_severity(result: ReviewResult, rules: dict[str, Rule]) -> None:
    doc = parse(render_html(result, tool_version="1", rules=rules))
    table = doc.by_id("summary-categories")
    rows = {
        r.attrs["data-category"]: [td.text() for td in r.find_all("td")]
        for r in table.find_all("tr")
        if "data-category" in r.attrs
    }
    # error, warning, info, total
    assert rows == {
        "Async correctness": ["Async correctness", "1", "0", "0", "1"],
        "Security & auth": ["Security & auth", "1", "0", "0", "1"],
        "OpenAPI docs & REST design": ["OpenAPI docs & REST design", "0", "0", "2", "2"],
    }
    assert [c.text() for c in table.find_all("tfoot")[0].find_all("td")] == ["2", "0", "2", "4"]
    by_rule = [tr.find_all("td") for tr in doc.by_id("summary-rules").find_all("tr")[1:]]
    assert [(cells[0].text(), cells[4].text()) for cells in by_rule] == [
        ("FAA705", "2"),
        ("FAA201", "1"),
        ("FAA301", "1"),
    ]


def test_route_table_is_the_routes_command_inventory(
    result: ReviewResult, project: Path, rules: dict[str, Rule]
) -> None:
    doc = parse(render_html(result, tool_version="1", rules=rules))
    rows = doc.by_id("route-table").find_all("tr", cls="route")
    listed = json.loads(
        CliRunner().invoke(app, ["routes", str(project), "--format", "json"]).stdout
    )
    assert len(rows) == len(listed) == 2
    for row, expected in zip(rows, listed, strict=True):
        cells = [td.text() for td in row.find_all("td")]
        assert cells[0] == expected["method"]
        assert cells[1] == expected["path"]
        assert cells[2] == f"{expected['file']}:{expected['line']} {expected['name']}"
        assert cells[4] == (" → ".join(expected["auth"]) if expected["auth"] else "none")
        assert row.attrs["data-authenticated"] == str(expected["authenticated"]).lower()
    private, public = rows
    assert "oauth2_scheme" in private.text()
    assert public.find_all("span", cls="noauth")[0].text() == "none"
    assert "1 without authentication" in doc.text()


def test_routes_can_be_given_and_errors_are_shown(
    result: ReviewResult, tmp_path: Path, rules: dict[str, Rule]
) -> None:
    doc = parse(render_html(result, tool_version="1", rules=rules, routes=[]))
    assert "No FastAPI route found" in doc.by_id("no-routes").text()
    missing = ReviewResult(tmp_path / "gone", [], 0)
    doc = parse(render_html(missing, tool_version="1", rules=rules))
    assert "does not exist" in doc.by_id("routes-error").text()


def test_findings_grouped_by_file_with_code_frames(
    result: ReviewResult, rules: dict[str, Rule]
) -> None:
    doc = parse(render_html(result, tool_version="1", rules=rules))
    sections = doc.find_all("section", cls="file")
    # Sorted like every reporter: by file, then line.
    assert [s.attrs["data-file"] for s in sections] == ['evil"<i>.py', "main.py"]
    main = sections[1]
    articles = main.find_all("article", cls="finding")
    assert [(a.attrs["data-code"], a.attrs["data-severity"]) for a in articles] == [
        ("FAA201", "error"),
        ("FAA301", "error"),
        ("FAA705", "info"),
    ]
    sleep = articles[0]
    assert sleep.attrs["data-category"] == "Async correctness"
    assert "main.py:12:5" in sleep.text()
    frame = sleep.find_all("pre", cls="frame")[0]
    lines = frame.find_all("span", cls="l")
    numbers = [ln.find_all("span", cls="n")[0].text() for ln in lines]
    assert numbers == ["10", "11", "12", "13"]  # two lines above, one below (then a blank)
    flagged = [ln for ln in lines if "hl" in ln.attrs["class"].split()]
    assert len(flagged) == 1
    assert [m.text() for m in flagged[0].find_all("mark")] == ["time.sleep(1)"]
    assert sleep.find_all("p", cls="fix")[0].text() == "Fix: Use await"
    assert [c.text() for c in sleep.find_all("p", cls="fix")[0].find_all("code")] == ["await"]
    why = sleep.find_all("details", cls="docs")[0]
    assert "Because blocking-call-in-async hurts." in why.text()
    assert doc.by_id("shown-count").text() == "4"


def test_rule_docs_are_rendered_once_per_rule(result: ReviewResult, rules: dict[str, Rule]) -> None:
    doc = parse(render_html(result, tool_version="1", rules=rules))
    rules = doc.find_all("section", cls="rule")
    assert [r.attrs["id"] for r in rules] == ["rule-FAA201", "rule-FAA301", "rule-FAA705"]
    sql = doc.by_id("rule-FAA301")
    assert [h.text() for h in sql.find_all("h4")] == [
        "What it does",
        "Why is this bad?",
        "Example",
        "Use instead",
    ]
    code = sql.find_all("pre")[0].text()
    assert code == "if a < b:\n    bad()\n"
    assert "CWE-306" in sql.text()
    # Every finding links its rule's docs.
    for article in doc.find_all("article", cls="finding"):
        (link,) = [a for a in article.find_all("a") if a.attrs["href"].startswith("#rule-")]
        assert link.attrs["href"] == "#rule-" + article.attrs["data-code"]


def test_filters_list_severities_and_present_categories(
    result: ReviewResult, rules: dict[str, Rule]
) -> None:
    doc = parse(render_html(result, tool_version="1", rules=rules))
    boxes = doc.by_id("filters").find_all("input", type="checkbox")
    assert [(b.attrs["data-filter"], b.attrs["value"]) for b in boxes] == [
        ("severity", "error"),
        ("severity", "warning"),
        ("severity", "info"),
        ("category", "Async correctness"),
        ("category", "Security & auth"),
        ("category", "OpenAPI docs & REST design"),
    ]
    assert all("checked" in b.attrs for b in boxes)


def test_unknown_rule_and_internal_errors(project: Path) -> None:
    f = Finding("main.py", 1, 1, "FAA999", 1, 2, "mystery", "what <is> this", "warning")
    res = ReviewResult(project, [f], 1, {}, internal_errors=["FAA123 crashed: <boom>"])
    doc = parse(render_html(res, tool_version="1", rules={}))
    assert "not in the catalog" in doc.by_id("rule-FAA999").text()
    assert doc.find_all("article")[0].attrs["data-category"] == "Other"
    assert "FAA123 crashed: <boom>" in doc.by_id("internal-errors").text()
    assert doc.find_all("pre", cls="frame") == []  # no source, no frame


def test_empty_result(project: Path, rules: dict[str, Rule]) -> None:
    doc = parse(render_html(ReviewResult(project, [], 3), tool_version="1", rules=rules))
    assert "No findings" in doc.by_id("no-findings").text()
    assert doc.find_all("article") == [] and doc.find_all("section", cls="rule") == []
    assert len(doc.by_id("route-table").find_all("tr", cls="route")) == 2


def test_render_dispatches_html(result: ReviewResult, rules: dict[str, Rule]) -> None:
    out = render(result, "html", color=True, show_source=True, tool_version="9", rules=rules)
    assert out == render_html(result, tool_version="9", rules=rules)


def test_bookshop_report_shows_every_finding_and_route() -> None:
    res = review_paths([BOOKSHOP], Config())
    doc = parse(render_html(res, tool_version="1"))
    articles = doc.find_all("article", cls="finding")
    assert len(articles) == len(res.findings) > 20
    assert sorted(a.attrs["data-code"] for a in articles) == sorted(f.code for f in res.findings)
    routes = doc.by_id("route-table").find_all("tr", cls="route")
    assert len(routes) > 10
    # Rule docs come from the registry.
    assert all(doc.by_id(f"rule-{code}").find_all("h4") for code in {f.code for f in res.findings})
    assert re.search(r"\d+ without authentication", doc.text())


def test_cli_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    done = CliRunner().invoke(app, ["review", str(BOOKSHOP), "--format", "html", "-o", str(out)])
    assert done.exit_code == 1, done.output  # findings
    doc = parse(out.read_text(encoding="utf-8"))
    res = review_paths([BOOKSHOP], Config())
    assert len(doc.find_all("article", cls="finding")) == len(res.findings)


def test_a_review_keeps_its_routes_only_when_asked() -> None:
    from fastapi_architect.model.inventory import inventory
    from fastapi_architect.review.engine import load_model

    assert review_paths([BOOKSHOP], Config()).routes is None
    kept = review_paths([BOOKSHOP], Config(), routes=True)
    assert kept.routes is not None and len(kept.routes) > 10
    assert kept.routes == inventory(load_model([BOOKSHOP], Config()))
    # The report shows those rows, and reads nothing again for them.
    doc = parse(render_html(kept, tool_version="1"))
    assert len(doc.by_id("route-table").find_all("tr", cls="route")) == len(kept.routes)
