"""The committed rule docs are exactly what the metadata generates, and every rule's
docs have the sections a reader relies on."""

from __future__ import annotations

from pathlib import Path

from fastapi_architect.review.registry import all_rules
from fastapi_architect.review.ruledocs import generate

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"
REQUIRED = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")


def test_generated_docs_are_up_to_date() -> None:
    pages = generate()
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    stale = sorted(name for name in pages if committed.get(name) != pages[name])
    extra = sorted(set(committed) - set(pages))
    assert not stale and not extra, f"run `make docs`: stale {stale}, extra {extra}"


def test_every_rule_has_the_documented_sections() -> None:
    for rule in all_rules():
        sections = rule.sections()
        missing = [s for s in REQUIRED if not sections.get(s, "").strip()]
        assert not missing, f"{rule.code} docs lack {missing}"
        assert rule.summary and not rule.summary.endswith(".")
        if rule.code.startswith("FAA3"):
            assert rule.cwe, f"{rule.code}: security rules carry a CWE"
