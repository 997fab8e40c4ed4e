"""The `contract diff` / `contract changelog` output formats, on changes built by hand."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import Document, load_document, parse_document
from fastapi_architect.contract.report import (
    CHANGELOG_FORMATS,
    FORMATS,
    render,
    render_changelog,
)

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"

BASE_YAML = """\
openapi: 3.1.0
info:
  title: Pets
  version: '1'
paths:
  /pets:
    get:
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
      responses:
        '200':
          description: ok
  /owners:
    get:
      responses:
        '200':
          description: ok
"""

REVISION_YAML = """\
openapi: 3.1.0
info:
  title: Pets
  version: '2'
paths:
  /pets:
    get:
      responses:
        '200':
          description: ok
    post:
      responses:
        '201':
          description: created
"""

# Lines in the documents above, for the formats that report them.
BASE_OWNERS_LINE = 16  # `  /owners:`
BASE_LIMIT_LINE = 9  # `        - name: limit`
REVISION_POST_LINE = 11  # `    post:`


def make_changes() -> list[Change]:
    return [
        Change(
            id="api-path-removed-without-deprecation",
            level=Level.ERROR,
            message="removed the path `/owners` without deprecation",
            operation="GET",
            path="/owners",
            pointer="/paths/~1owners",
            location="/paths/~1owners",
            in_base=True,
        ),
        Change(
            id="request-parameter-removed",
            level=Level.WARNING,
            message="removed the query parameter `limit`",
            operation="GET",
            path="/pets",
            pointer="/paths/~1pets/get/parameters/0",
            location="/paths/~1pets/get/parameters/query/limit",
            in_base=True,
        ),
        Change(
            id="endpoint-added",
            level=Level.INFO,
            message="added the operation",
            operation="POST",
            path="/pets",
            pointer="/paths/~1pets/post",
            location="/paths/~1pets/post",
        ),
    ]


@pytest.fixture
def docs(tmp_path: Path) -> tuple[Document, Document]:
    """Both documents read from files, as `contract diff base.yaml revision.yaml` would."""
    (tmp_path / "base.yaml").write_text(BASE_YAML, encoding="utf-8")
    (tmp_path / "revision.yaml").write_text(REVISION_YAML, encoding="utf-8")
    return (
        load_document("base.yaml", cwd=tmp_path),
        load_document("revision.yaml", cwd=tmp_path),
    )


def out(fmt: str, changes: list[Change], docs: tuple[Document, Document], **kw: Any) -> str:
    fail_on = kw.pop("fail_on", Level.ERROR)
    return render(changes, fmt, base=docs[0], revision=docs[1], fail_on=fail_on)


def test_every_format_renders_no_changes(docs: tuple[Document, Document]) -> None:
    for fmt in FORMATS:
        assert isinstance(out(fmt, [], docs), str)
    for fmt in CHANGELOG_FORMATS:
        assert isinstance(render_changelog([], fmt, base=docs[0], revision=docs[1]), str)


def test_unknown_format_is_a_value_error(docs: tuple[Document, Document]) -> None:
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        out("xml", [], docs)
    with pytest.raises(ValueError, match="unknown changelog format 'sarif'"):
        render_changelog([], "sarif", base=docs[0], revision=docs[1])


# --- JSON and YAML ------------------------------------------------------------------------


def test_json_shape(docs: tuple[Document, Document]) -> None:
    changes = make_changes()
    data = json.loads(out("json", changes, docs))
    assert list(data) == ["breaking", "changes"]
    assert data["breaking"] is True
    assert data["changes"][0] == {
        "id": "api-path-removed-without-deprecation",
        "level": "error",
        "operation": "GET",
        "path": "/owners",
        "message": "removed the path `/owners` without deprecation",
        "source": "base.yaml#/paths/~1owners",
        "fingerprint": changes[0].fingerprint,
    }
    # In the order given, levels as words, source in the revision unless the thing is gone.
    assert [c["id"] for c in data["changes"]] == [c.id for c in changes]
    assert [c["level"] for c in data["changes"]] == ["error", "warning", "info"]
    assert data["changes"][2]["source"] == "revision.yaml#/paths/~1pets/post"


@pytest.mark.parametrize(
    ("levels", "breaking"),
    [
        ([Level.INFO, Level.INFO], False),
        ([Level.INFO, Level.WARNING], True),
        ([Level.ERROR], True),
        ([], False),
    ],
)
def test_json_breaking_means_a_warning_or_error(
    docs: tuple[Document, Document], levels: list[Level], breaking: bool
) -> None:
    changes = [make_changes()[2].with_level(level) for level in levels]
    assert json.loads(out("json", changes, docs))["breaking"] is breaking


def test_yaml_is_the_json_structure_in_the_same_order(docs: tuple[Document, Document]) -> None:
    changes = make_changes()
    text = out("yaml", changes, docs)
    assert text.startswith("breaking: true\nchanges:\n- id: api-path-removed-without-deprecation\n")
    assert yaml.safe_load(text) == json.loads(out("json", changes, docs))
    assert list(yaml.safe_load(text)["changes"][0]) == [
        "id",
        "level",
        "operation",
        "path",
        "message",
        "source",
        "fingerprint",
    ]


# --- text ---------------------------------------------------------------------------------


def test_text_groups_under_operations_with_a_summary(docs: tuple[Document, Document]) -> None:
    text = out("text", make_changes(), docs)
    lines = text.splitlines()
    assert lines[0] == "GET /owners"
    assert lines[1] == (
        "  error    api-path-removed-without-deprecation: "
        "removed the path `/owners` without deprecation"
    )
    assert lines[2] == "           at base.yaml#/paths/~1owners"
    assert "GET /pets" in lines
    assert "POST /pets" in lines
    assert lines.index("GET /pets") < lines.index("POST /pets")
    assert "  info     endpoint-added: added the operation" in lines
    assert lines[-1] == "3 changes: 1 error, 1 warning, 1 info"
    assert "\x1b[" not in text


def test_text_summary_counts(docs: tuple[Document, Document]) -> None:
    one = make_changes()[:1]
    assert out("text", one, docs).splitlines()[-1] == "1 change: 1 error"
    two_infos = [make_changes()[2], make_changes()[2]]
    assert out("text", two_infos, docs).splitlines()[-1] == "2 changes: 2 info"
    errors = [make_changes()[0], make_changes()[0]]
    assert out("text", errors, docs).splitlines()[-1] == "2 changes: 2 errors"
    assert out("text", [], docs) == "No changes.\n"


def test_text_keeps_the_given_order_within_and_across_groups(
    docs: tuple[Document, Document],
) -> None:
    a, b, c = make_changes()
    lines = out("text", [c, a, b], docs).splitlines()
    headings = [line for line in lines if line and not line.startswith(" ")][:-1]
    assert headings == ["POST /pets", "GET /owners", "GET /pets"]


def test_document_wide_changes_have_their_own_heading(docs: tuple[Document, Document]) -> None:
    change = Change(id="api-security-removed", level=Level.INFO, message="removed security")
    lines = out("text", [change], docs).splitlines()
    assert lines[0] == "Document"
    assert lines[2] == "           at revision.yaml#"


# --- Markdown and HTML --------------------------------------------------------------------


def test_markdown_changelog(docs: tuple[Document, Document]) -> None:
    text = out("markdown", make_changes(), docs)
    lines = text.splitlines()
    assert lines[0] == "# API changes"
    assert "From `base.yaml` to `revision.yaml`. 3 changes: 1 error, 1 warning, 1 info." in lines
    assert "**Breaking:** existing clients may fail against the revision." in lines
    assert lines.index("## `GET /owners`") < lines.index("## `GET /pets`")
    assert "- **warning** `request-parameter-removed`: removed the query parameter `limit`" in lines
    assert "- **info** `endpoint-added`: added the operation" in lines


def test_markdown_without_breaking_changes_says_nothing_of_breaking(
    docs: tuple[Document, Document],
) -> None:
    text = out("markdown", make_changes()[2:], docs)
    assert "Breaking" not in text
    assert "## `POST /pets`" in text


def test_markdown_code_span_survives_backticks(docs: tuple[Document, Document]) -> None:
    change = Change(id="x", level=Level.INFO, message="m", operation="GET", path="/a`b")
    assert "## ``GET /a`b``" in out("markdown", [change], docs)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.srcs += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_escaped(docs: tuple[Document, Document]) -> None:
    hostile = Change(
        id="response-property-removed",
        level=Level.ERROR,
        message="removed `<script>alert(1)</script>` & more",
        operation="GET",
        path="/pets/<id>",
        pointer="/paths/~1pets",
    )
    text = out("html", [*make_changes(), hostile], docs)
    assert text.startswith("<!DOCTYPE html>")
    parser = _Collect()
    parser.feed(text)
    assert "script" not in parser.tags
    assert parser.srcs == []  # no external stylesheet, script or image
    joined = "".join(parser.text)
    assert "removed `<script>alert(1)</script>` & more" in joined
    assert "&lt;script&gt;" in text
    assert parser.tags.count("h2") == 4  # GET /owners, GET /pets, POST /pets, GET /pets/<id>
    assert "GET /pets/<id>" in joined
    assert "Breaking: existing clients may fail against the revision." in joined


# --- GitHub annotations -------------------------------------------------------------------


def test_github_annotations_with_file_and_line(docs: tuple[Document, Document]) -> None:
    lines = out("github", make_changes(), docs).splitlines()
    assert lines == [
        f"::error file=base.yaml,line={BASE_OWNERS_LINE},"
        "title=api-path-removed-without-deprecation"
        "::GET /owners: removed the path `/owners` without deprecation",
        f"::warning file=base.yaml,line={BASE_LIMIT_LINE},title=request-parameter-removed"
        "::GET /pets: removed the query parameter `limit`",
        f"::notice file=revision.yaml,line={REVISION_POST_LINE},title=endpoint-added"
        "::POST /pets: added the operation",
    ]


def test_github_escapes_properties_and_data(tmp_path: Path) -> None:
    (tmp_path / "a,b:c.yaml").write_text(REVISION_YAML, encoding="utf-8")
    doc = load_document("a,b:c.yaml", cwd=tmp_path)
    change = Change(
        id="x", level=Level.ERROR, message="100% sure\nreally", operation="GET", path="/pets"
    )
    line = out("github", [change], (doc, doc)).rstrip("\n")
    assert line == "::error file=a%2Cb%3Ac.yaml,line=1,title=x::GET /pets: 100%25 sure%0Areally"


def test_github_without_a_file_has_no_location() -> None:
    # A git blob (`main:openapi.yaml`) or an app: no file in the checkout to annotate.
    doc = parse_document(REVISION_YAML, name="main:openapi.yaml", suffix=".yaml")
    assert doc.base_dir is None
    text = out("github", make_changes()[2:], (doc, doc))
    assert text == "::notice title=endpoint-added::POST /pets: added the operation\n"


# --- JUnit --------------------------------------------------------------------------------


def _suite(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def test_junit_one_testcase_per_operation(docs: tuple[Document, Document]) -> None:
    text = out("junit", make_changes(), docs, fail_on=Level.ERROR)
    assert text.startswith("<?xml")
    suite = _suite(text)
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["GET /owners", "GET /pets", "POST /pets"]
    assert suite.get("tests") == "3"
    assert suite.get("failures") == "1"
    owners, pets, post = cases
    failure = owners.find("failure")
    assert failure is not None
    assert failure.get("type") == "api-path-removed-without-deprecation"
    assert "1 change at or above error" in (failure.get("message") or "")
    assert "base.yaml#/paths/~1owners" in (failure.text or "")
    # Below --fail-on: passes, and the change is still in the report.
    assert pets.find("failure") is None
    assert "request-parameter-removed" in (pets.findtext("system-out") or "")
    assert post.find("failure") is None


def test_junit_fail_on_lowers_the_bar(docs: tuple[Document, Document]) -> None:
    suite = _suite(out("junit", make_changes(), docs, fail_on=Level.INFO))
    assert suite.get("failures") == "3"
    assert all(case.find("failure") is not None for case in suite.findall("testcase"))
    suite = _suite(out("junit", make_changes(), docs, fail_on=Level.WARNING))
    assert suite.get("failures") == "2"


def test_junit_lists_every_failing_change_of_an_operation(
    docs: tuple[Document, Document],
) -> None:
    a = make_changes()[1].with_level(Level.ERROR)
    b = Change(
        id="request-body-became-required",
        level=Level.ERROR,
        message="the body became required",
        operation="GET",
        path="/pets",
    )
    suite = _suite(out("junit", [a, b], docs))
    failures = suite.findall("testcase/failure")
    assert len(failures) == 1
    assert "2 changes at or above error" in (failures[0].get("message") or "")
    assert "request-parameter-removed" in (failures[0].text or "")
    assert "request-body-became-required" in (failures[0].text or "")


# --- SARIF --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator: Any, log: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def test_sarif_validates(docs: tuple[Document, Document], sarif_validator: Any) -> None:
    text = out("sarif", make_changes(), docs)
    assert text.endswith("}\n")
    log = json.loads(text)
    assert _errors(sarif_validator, log) == []
    assert _errors(sarif_validator, json.loads(out("sarif", [], docs))) == []
    bad = json.loads(text)
    bad["runs"][0]["results"][0]["level"] = "info"  # SARIF says "note"
    assert _errors(sarif_validator, bad)


def test_sarif_rules_and_results(docs: tuple[Document, Document]) -> None:
    changes = [*make_changes(), make_changes()[0]]
    run = json.loads(out("sarif", changes, docs))["runs"][0]
    assert run["tool"]["driver"]["name"] == "fastapi-architect"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "api-path-removed-without-deprecation",
        "request-parameter-removed",
        "endpoint-added",
    ]
    assert [r["defaultConfiguration"]["level"] for r in rules] == ["error", "warning", "note"]
    results = run["results"]
    assert [r["ruleIndex"] for r in results] == [0, 1, 2, 0]
    assert [r["level"] for r in results] == ["error", "warning", "note", "error"]
    first = results[0]
    assert first["message"]["text"] == "GET /owners: removed the path `/owners` without deprecation"
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "base.yaml", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": BASE_OWNERS_LINE}
    post = results[2]["locations"][0]
    assert post["physicalLocation"]["artifactLocation"]["uri"] == "revision.yaml"
    assert post["physicalLocation"]["region"]["startLine"] == REVISION_POST_LINE
    assert post["logicalLocations"] == [{"fullyQualifiedName": "POST /pets"}]
    assert first["partialFingerprints"] == {
        "fastapiArchitectContract/v1": make_changes()[0].fingerprint
    }


def test_sarif_without_a_file_keeps_the_logical_location(sarif_validator: Any) -> None:
    doc = parse_document(REVISION_YAML, name="main:openapi.yaml", suffix=".yaml")
    log = json.loads(out("sarif", make_changes()[2:], (doc, doc)))
    location = log["runs"][0]["results"][0]["locations"][0]
    assert "physicalLocation" not in location
    assert location["logicalLocations"] == [{"fullyQualifiedName": "POST /pets"}]
    assert _errors(sarif_validator, log) == []


# --- changelog ----------------------------------------------------------------------------


def test_changelog_text_groups_by_operation(docs: tuple[Document, Document]) -> None:
    text = render_changelog(make_changes(), "text", base=docs[0], revision=docs[1])
    lines = text.splitlines()
    assert lines[0] == "Changes from base.yaml to revision.yaml"
    assert lines[2] == "GET /owners"
    assert lines[3] == (
        "  - removed the path `/owners` without deprecation "
        "[error: api-path-removed-without-deprecation]"
    )
    assert "  - added the operation [info: endpoint-added]" in lines
    assert lines[-1] == "3 changes: 1 error, 1 warning, 1 info"


def test_changelog_json_groups_by_operation(docs: tuple[Document, Document]) -> None:
    data = json.loads(render_changelog(make_changes(), "json", base=docs[0], revision=docs[1]))
    assert data["base"] == "base.yaml"
    assert data["revision"] == "revision.yaml"
    assert data["breaking"] is True
    assert [(o["operation"], o["path"]) for o in data["operations"]] == [
        ("GET", "/owners"),
        ("GET", "/pets"),
        ("POST", "/pets"),
    ]
    assert [c["id"] for c in data["operations"][2]["changes"]] == ["endpoint-added"]
    assert data["operations"][1]["changes"][0]["level"] == "warning"


def test_changelog_markdown_and_html_titles(docs: tuple[Document, Document]) -> None:
    md = render_changelog(make_changes(), "markdown", base=docs[0], revision=docs[1])
    assert md.startswith("# API changelog\n")
    assert "## `POST /pets`" in md
    page = render_changelog(make_changes(), "html", base=docs[0], revision=docs[1])
    assert "<h1>API changelog</h1>" in page
    assert "<h2>POST /pets</h2>" in page
