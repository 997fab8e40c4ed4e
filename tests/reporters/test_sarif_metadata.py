"""SARIF for GitHub code scanning: every rule of the catalog carries its metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths
from fastapi_architect.review.finding import Finding
from fastapi_architect.review.registry import Rule, all_rules
from fastapi_architect.review.reporters.sarif import render_sarif
from fastapi_architect.review.result import ReviewResult

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
BOOKSHOP = ROOT / "examples" / "bookshop"


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _one_finding_per_rule(tmp_path: Path) -> tuple[ReviewResult, list[Rule]]:
    rules = all_rules()
    findings = [
        Finding("app.py", i + 1, 1, r.code, i + 1, 5, r.name, f"{r.code} here", r.severity)
        for i, r in enumerate(rules)
    ]
    return ReviewResult(tmp_path, findings, 1), rules


def test_every_rule_descriptor_is_complete(tmp_path: Path, validator: Any) -> None:
    result, rules = _one_finding_per_rule(tmp_path)
    log = json.loads(render_sarif(result, tool_version="1"))
    assert list(validator.iter_errors(log)) == []
    descriptors = {d["id"]: d for d in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(descriptors) == {r.code for r in rules}
    for rule in rules:
        d = descriptors[rule.code]
        props = d["properties"]
        # Help: the rule's docs as markdown, with its docs page.
        assert "## Why is this bad?" in d["help"]["markdown"], rule.code
        assert d["helpUri"] in d["help"]["markdown"]
        assert d["help"]["text"] and "](" not in d["help"]["text"].splitlines()[-1]
        assert d["shortDescription"]["text"] == rule.summary
        assert props["precision"] == ("high" if rule.default_enabled else "medium")
        cwe_tags = [t for t in props["tags"] if t.startswith("external/cwe/cwe-")]
        assert len(cwe_tags) == len(rule.cwe), rule.code
        assert all(t.split("-")[-1].isdigit() for t in cwe_tags), cwe_tags
        security = rule.code.startswith("FAA3") or bool(rule.cwe)
        if security:
            assert "security" in props["tags"]
            assert 0.0 < float(props["security-severity"]) <= 10.0
            assert "problem.severity" not in props
        else:
            assert "security-severity" not in props
            assert props["problem.severity"] in {"error", "warning", "recommendation"}


def test_security_rules_have_cwe_tags(tmp_path: Path) -> None:
    result, rules = _one_finding_per_rule(tmp_path)
    log = json.loads(render_sarif(result, tool_version="1"))
    descriptors = {d["id"]: d for d in log["runs"][0]["tool"]["driver"]["rules"]}
    with_cwe = [r for r in rules if r.cwe]
    assert with_cwe, "the catalog has security rules with CWE ids"
    for rule in with_cwe:
        for cwe in rule.cwe:
            number = cwe.upper().removeprefix("CWE-")
            assert f"external/cwe/cwe-{number}" in descriptors[rule.code]["properties"]["tags"]


def test_equal_findings_get_distinct_fingerprints(tmp_path: Path, validator: Any) -> None:
    # Two identical messages of one rule in one file (two `time.sleep()` calls).
    twins = [
        Finding("a.py", line, 5, "FAA201", line, 18, "x", "`time.sleep()` blocks", "error")
        for line in (3, 9)
    ]
    log = json.loads(render_sarif(ReviewResult(tmp_path, twins, 1), tool_version="1", rules={}))
    assert list(validator.iter_errors(log)) == []
    prints = [r["partialFingerprints"]["fastapiArchitect/v1"] for r in log["runs"][0]["results"]]
    assert len(set(prints)) == 2
    assert [p.rsplit(":", 1)[1] for p in prints] == ["1", "2"]
    assert prints[0].rsplit(":", 1)[0] == prints[1].rsplit(":", 1)[0]


def test_bookshop_sarif_is_valid(validator: Any) -> None:
    result = review_paths([BOOKSHOP], Config())
    log = json.loads(render_sarif(result, tool_version="1"))
    assert list(validator.iter_errors(log)) == []
    run = log["runs"][0]
    assert len(run["results"]) == len(result.findings)
    prints = [r["partialFingerprints"]["fastapiArchitect/v1"] for r in run["results"]]
    assert len(set(prints)) == len(prints)
