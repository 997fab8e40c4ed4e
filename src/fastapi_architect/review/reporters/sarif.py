"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One run; `tool.driver.rules` describes each rule that has a result (sorted by code), and
every result points at its rule by `ruleId` and `ruleIndex`. Locations are relative to
`%SRCROOT%`, which `originalUriBaseIds` maps to the review root.

What GitHub code scanning reads from a rule descriptor: `help.markdown` (the rule's docs,
shown under the alert), `properties.tags` (category, `security`, `external/cwe/cwe-N`),
`properties.security-severity` (0.0-10.0, for rules tagged `security`: it makes the
alert's Critical/High/Medium/Low), `properties.problem.severity` (the others) and
`properties.precision` (default-enabled rules are held to high precision; opt-in ones are
medium). Each result has a `partialFingerprints` entry that survives line shifts (rule,
file and message, plus the occurrence number among equal ones), so an alert keeps its
identity when unrelated lines are inserted above it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi_architect.review.finding import Finding, Severity
from fastapi_architect.review.registry import CATEGORIES, Rule, get_rule
from fastapi_architect.review.result import ReviewResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "fastapi-architect"
INFORMATION_URI = "https://github.com/fastapi-architect/fastapi-architect"
HELP_URI = INFORMATION_URI + "/blob/main/docs/rules/{code}.md"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "fastapiArchitect/v1"

LEVELS: dict[Severity, str] = {"error": "error", "warning": "warning", "info": "note"}
#: GitHub's `security-severity` (0.0-10.0) for security rules, by their default severity:
#: error is High (7.0-8.9), warning Medium (4.0-6.9), info Low (0.1-3.9).
SECURITY_SEVERITY: dict[Severity, str] = {"error": "8.0", "warning": "5.0", "info": "2.0"}
#: GitHub's `problem.severity` for the rules that are not security rules.
PROBLEM_SEVERITY: dict[Severity, str] = {
    "error": "error",
    "warning": "warning",
    "info": "recommendation",
}
SECURITY_PREFIX = "FAA3"

_CWE_RE = re.compile(r"^(?:cwe[-_ ]?)?(\d+)$", re.IGNORECASE)


def render_sarif(
    result: ReviewResult,
    *,
    tool_version: str,
    rules: Mapping[str, Rule] | None = None,
) -> str:
    """The SARIF log as JSON text, indented by 2, with a trailing newline."""
    findings = sorted(result.findings)
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    first_by_code: dict[str, Finding] = {}
    for f in findings:
        first_by_code.setdefault(f.code, f)

    descriptors = [_descriptor(code, _lookup(code, rules), first_by_code[code]) for code in codes]
    occurrences: dict[str, int] = {}
    results = []
    for f in findings:
        key = _fingerprint(f)
        occurrences[key] = occurrences.get(key, 0) + 1
        results.append(_result(f, index[f.code], f"{key}:{occurrences[key]}"))
    log: dict[str, Any] = {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(result.root)}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _lookup(code: str, rules: Mapping[str, Rule] | None) -> Rule | None:
    return rules.get(code) if rules is not None else get_rule(code)


def _root_uri(root: Path) -> str:
    uri = root.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _cwe_tag(cwe: str) -> str:
    match = _CWE_RE.match(cwe.strip())
    number = match.group(1) if match else cwe.strip().lower()
    return f"external/cwe/cwe-{number}"


def _owasp_tag(owasp: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", owasp.strip().lower()).strip("-")
    return f"external/owasp/{slug}"


def _descriptor(code: str, rule: Rule | None, example: Finding) -> dict[str, Any]:
    """The reportingDescriptor of `code`; a minimal one from a finding if the rule is unknown."""
    help_uri = HELP_URI.format(code=code)
    if rule is None:
        category = CATEGORIES.get(code[:4])
        return {
            "id": code,
            "name": example.name,
            "shortDescription": {"text": example.name},
            "helpUri": help_uri,
            "defaultConfiguration": {"level": LEVELS[example.severity]},
            "properties": {"tags": [category] if category else []},
        }

    sections = rule.sections()
    full = sections.get("What it does") or rule.summary
    security = code.startswith(SECURITY_PREFIX) or bool(rule.cwe)
    tags: list[str] = [rule.category]
    if security:
        tags.append("security")
    tags += [_cwe_tag(c) for c in rule.cwe]
    tags += [_owasp_tag(o) for o in rule.owasp]
    tags += list(rule.tags)
    properties: dict[str, Any] = {
        "tags": list(dict.fromkeys(tags)),
        "precision": "high" if rule.default_enabled else "medium",
    }
    if security:
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
    else:
        properties["problem.severity"] = PROBLEM_SEVERITY[rule.severity]

    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": full},
        "help": {"text": _help(rule, help_uri, markdown=False), "markdown": _help(rule, help_uri)},
        "helpUri": help_uri,
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": properties,
    }


def _help(rule: Rule, help_uri: str, *, markdown: bool = True) -> str:
    """The rule's docs (its docstring sections), its CWE/OWASP ids, references and docs page."""
    docs = (rule.docs or rule.summary).strip()
    facts = [f"Category: {rule.category}", f"severity: {rule.severity}"]
    facts.append("on by default" if rule.default_enabled else f"opt-in (`--select {rule.code}`)")
    facts += list(rule.cwe) + list(rule.owasp)
    lines = [docs, "", ", ".join(facts) + "."]
    if rule.references and "## References" not in docs:
        lines += ["", "## References", ""]
        lines += [f"- <{ref}>" if markdown else f"- {ref}" for ref in rule.references]
    lines += ["", f"[Rule documentation]({help_uri})" if markdown else f"Documentation: {help_uri}"]
    return "\n".join(lines)


def _fingerprint(f: Finding) -> str:
    data = "\0".join((f.code, f.file, f.message)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


def _result(f: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    start_line = max(1, f.line)
    start_column = max(1, f.column)
    end_line = max(start_line, f.end_line)
    end_column = max(1, f.end_column)
    if end_line == start_line:
        end_column = max(start_column, end_column)
    return {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(f.file, safe="/"), "uriBaseId": SRCROOT},
                    "region": {
                        "startLine": start_line,
                        "startColumn": start_column,
                        "endLine": end_line,
                        "endColumn": end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
