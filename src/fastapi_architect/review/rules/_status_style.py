"""Which status names the code already writes: `status.HTTP_404_NOT_FOUND` (FastAPI's
documentation) or the standard library's `HTTPStatus.NOT_FOUND`, per module, with the
project's majority for a module that imports neither. Only the module's own top-level
imports count: they are what the fixes reuse (`fixes/_edit.imported_name`)."""

from __future__ import annotations

import ast

from fastapi_architect.model.astutil import walk
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Module
from fastapi_architect.review.index import project_index
from fastapi_architect.review.status_names import Style

# The modules `status` is (`fastapi.status`), whose constants may be imported by name.
STATUS_MODULES = frozenset({"fastapi.status", "starlette.status"})
HTTP_STATUS = "http.HTTPStatus"


def _top_level_imports(module: Module) -> list[str]:
    """What the module's top-level import statements import (`fastapi.status`,
    `http.HTTPStatus`, `starlette.status.HTTP_404_NOT_FOUND`)."""
    found: list[str] = []
    for stmt in module.tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
            found.extend(f"{stmt.module}.{alias.name}" for alias in stmt.names)
        elif isinstance(stmt, ast.Import):
            found.extend(alias.name for alias in stmt.names)
    return found


def _module_style(module: Module) -> Style | None:
    """What the module imports to name statuses: `status` wins when it imports both."""
    imported = _top_level_imports(module)
    if any(
        name in STATUS_MODULES or name.rpartition(".")[0] in STATUS_MODULES for name in imported
    ):
        return "status"
    if HTTP_STATUS in imported:
        return "HTTPStatus"
    return None


def _httpstatus_free(module: Module) -> bool:
    """Could `from http import HTTPStatus` be added to the module: nothing in it reads or
    binds the name `HTTPStatus` (an import of it inside a function, a class of that name,
    a parameter)? The same test as the fixer's (`fixes._edit.imported_name`), so that the
    advice is what the fix writes."""
    if "HTTPStatus" not in module.source:
        return True
    for node in walk(module.tree):
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = node.name
        elif isinstance(node, ast.alias):
            name = node.asname or node.name.partition(".")[0]
        else:
            continue
        if name == "HTTPStatus":
            return False
    return True


class _Styles:
    """Every module's own style (by module id), and the project's majority."""

    def __init__(self, model: AppModel) -> None:
        self.own = {id(m): _module_style(m) for m in model.project.module_list}
        styles = list(self.own.values())
        self.project: Style = (
            "HTTPStatus" if styles.count("HTTPStatus") > styles.count("status") else "status"
        )


def status_style(model: AppModel, module: Module) -> Style:
    """The module's own style, or the project's for a module that imports neither (the
    `status` names where the module already gives `HTTPStatus` another meaning)."""
    styles = project_index(model, _Styles)
    own = styles.own.get(id(module))
    if own is not None:
        return own
    return styles.project if styles.project == "status" or _httpstatus_free(module) else "status"
