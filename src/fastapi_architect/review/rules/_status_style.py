"""Which status names the code already writes: `status.HTTP_404_NOT_FOUND` (FastAPI's
documentation) or the standard library's `HTTPStatus.NOT_FOUND`, per module, with the
project's majority for a module that imports neither."""

from __future__ import annotations

from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Module
from fastapi_architect.review.index import project_index
from fastapi_architect.review.status_names import Style

STATUS_MODULES = frozenset({"fastapi.status", "starlette.status"})
HTTP_STATUS = "http.HTTPStatus"


def _module_style(module: Module) -> Style | None:
    """What the module imports to name statuses: `status` wins when it imports both."""
    imported = set(module.imports.values())
    if imported & STATUS_MODULES:
        return "status"
    if HTTP_STATUS in imported:
        return "HTTPStatus"
    return None


def _project_style(model: AppModel) -> Style:
    """`HTTPStatus` when more modules import it (and not `status`) than import `status`."""
    styles = [_module_style(module) for module in model.project.module_list]
    return "HTTPStatus" if styles.count("HTTPStatus") > styles.count("status") else "status"


def status_style(model: AppModel, module: Module) -> Style:
    """The module's own style, or the project's for a module that imports neither."""
    own = _module_style(module)
    return own if own is not None else project_index(model, _project_style)
