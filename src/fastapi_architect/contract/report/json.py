"""JSON and YAML: `{"breaking": bool, "changes": [...]}`, one object per change in order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi_architect.contract.changes import Change
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.report.common import change_dict, group_by_operation


def report_data(changes: Sequence[Change], *, base: Document, revision: Document) -> dict[str, Any]:
    """The structure the JSON and YAML formats share."""
    return {
        "breaking": any(c.breaking for c in changes),
        "changes": [change_dict(c, base, revision) for c in changes],
    }


def changelog_data(
    changes: Sequence[Change], *, base: Document, revision: Document
) -> dict[str, Any]:
    """The changelog as data: the changes under their operation."""
    return {
        "base": base.name,
        "revision": revision.name,
        "breaking": any(c.breaking for c in changes),
        "operations": [
            {
                "operation": group[0].operation,
                "path": group[0].path,
                "changes": [change_dict(c, base, revision) for c in group],
            }
            for group in group_by_operation(changes).values()
        ],
    }


def render_json(changes: Sequence[Change], *, base: Document, revision: Document) -> str:
    return _dump(report_data(changes, base=base, revision=revision))


def render_json_changelog(changes: Sequence[Change], *, base: Document, revision: Document) -> str:
    return _dump(changelog_data(changes, base=base, revision=revision))


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
