"""Which tools the MCP server offers in this installation (a capability not built is not listed)."""

from __future__ import annotations

import importlib
from types import ModuleType

SERVER_NAME = "fastapi-architect"

ALWAYS = (
    "review",
    "routes",
    "rules",
    "explain_rule",
    "contract_diff",
    "adr_list",
    "adr_new",
    "new_project",
    "add_resource",
)


def runtime_report_module() -> ModuleType | None:
    """`fastapi_architect.runtime.report` when this installation has it, else None."""
    try:
        return importlib.import_module("fastapi_architect.runtime.report")
    except ImportError:
        return None


def tool_names() -> list[str]:
    """The names of the tools the server lists, in the order it lists them."""
    names = list(ALWAYS)
    if runtime_report_module() is not None:
        names.insert(names.index("contract_diff") + 1, "runtime_report")
    return names
