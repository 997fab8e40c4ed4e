"""Every documented change id comes out of the differ on its own example, at
the documented level, and only the documented direction reports it; the docs
page is what the catalog generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_architect.contract.catalog import all_examples, render_docs
from fastapi_architect.contract.changes import Level
from fastapi_architect.contract.differ import diff_documents
from fastapi_architect.contract.document import Document, validate

EXAMPLES = all_examples()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "contract-changes.md"


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.id}:{i}" for i, e in enumerate(EXAMPLES)])
def test_example_reports_its_id_at_its_level(example) -> None:
    base = Document("base.json", example.base)
    revision = Document("revision.json", example.revision)
    validate(base)
    validate(revision)
    changes = diff_documents(base, revision)
    found = {(c.id, c.level) for c in changes}
    assert (example.id, example.level) in found, sorted((i, lv.label) for i, lv in found)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.id}:{i}" for i, e in enumerate(EXAMPLES)])
def test_a_document_compared_with_itself_has_no_changes(example) -> None:
    doc = Document("same.json", example.revision)
    assert diff_documents(doc, Document("copy.json", example.revision)) == []


def test_levels_follow_the_direction_of_the_change() -> None:
    by_id = {e.id: e.level for e in EXAMPLES}
    # a request that accepts less breaks clients; a response that can hold more does
    assert by_id["request-body-max-length-decreased"] is Level.ERROR
    assert by_id["response-body-max-length-decreased"] is Level.INFO
    assert by_id["request-property-enum-value-added"] is Level.INFO
    assert by_id["response-property-enum-value-added"] is Level.WARNING
    assert by_id["new-required-request-property"] is Level.ERROR
    assert by_id["response-required-property-removed"] is Level.ERROR
    assert by_id["response-optional-property-added"] is Level.INFO
    assert by_id["request-parameter-became-required"] is Level.ERROR
    assert by_id["api-path-removed-without-deprecation"] is Level.ERROR
    assert by_id["api-path-removed-with-deprecation"] is Level.INFO


def test_docs_page_is_generated_from_the_catalog() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_docs(), (
        "run `make docs` to regenerate docs/contract-changes.md"
    )
