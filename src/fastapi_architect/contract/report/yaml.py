"""YAML: the JSON report's structure, in the same key order."""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from fastapi_architect.contract.changes import Change
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.json import report_data


def render_yaml(changes: Sequence[Change], *, base: Document, revision: Document) -> str:
    data = report_data(changes, base=base, revision=revision)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
