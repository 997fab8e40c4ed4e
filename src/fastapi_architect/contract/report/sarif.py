"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One run; a rule per change id that occurs (in order of first use), each result points at
its rule by `ruleId` and `ruleIndex`. A result has a physical location (file and line)
when its document was read from a file, and always a logical one: the operation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from fastapi_architect import __version__
from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.common import file_location, heading, source

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "fastapi-architect"
INFORMATION_URI = "https://github.com/fastapi-architect/fastapi-architect"
HELP_URI = INFORMATION_URI + "/blob/main/docs/contract-changes.md"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "fastapiArchitectContract/v1"

LEVELS: dict[Level, str] = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "note"}


def render_sarif(changes: Sequence[Change], *, base: Document, revision: Document) -> str:
    """The SARIF log as JSON text, indented by 2, with a trailing newline."""
    rule_index: dict[str, int] = {}
    rule_level: dict[str, Level] = {}
    for change in changes:
        rule_index.setdefault(change.id, len(rule_index))
        rule_level[change.id] = max(change.level, rule_level.get(change.id, Level.INFO))
    log: dict[str, Any] = {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(i, rule_level[i]) for i in rule_index],
                    }
                },
                "results": [_result(c, rule_index[c.id], base, revision) for c in changes],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(change_id: str, level: Level) -> dict[str, Any]:
    name = change_id.replace("-", " ")
    return {
        "id": change_id,
        "name": change_id,
        "shortDescription": {"text": name[:1].upper() + name[1:]},
        "helpUri": HELP_URI,
        "defaultConfiguration": {"level": LEVELS[level]},
        "properties": {"tags": ["api-contract"]},
    }


def _result(change: Change, index: int, base: Document, revision: Document) -> dict[str, Any]:
    location: dict[str, Any] = {}
    where = file_location(change, base, revision)
    if where is not None:
        physical: dict[str, Any] = {"artifactLocation": _artifact(where.file)}
        if where.line is not None:
            physical["region"] = {"startLine": where.line}
        location["physicalLocation"] = physical
    location["logicalLocations"] = [{"fullyQualifiedName": heading(change)}]
    return {
        "ruleId": change.id,
        "ruleIndex": index,
        "level": LEVELS[change.level],
        "message": {"text": f"{heading(change)}: {change.message}"},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: change.fingerprint},
        "properties": {
            "operation": change.operation,
            "path": change.path,
            "source": source(change, base, revision),
        },
    }


def _artifact(file: str) -> dict[str, str]:
    path = PurePath(file)
    if path.is_absolute():
        return {"uri": PurePath(file).as_uri()}
    # Relative to where the command ran, which in CI is the repository root.
    return {"uri": quote(path.as_posix(), safe="/"), "uriBaseId": SRCROOT}
