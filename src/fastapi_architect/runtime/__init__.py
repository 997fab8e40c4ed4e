"""Runtime profiler: N+1 queries, event-loop blocking and slow endpoints of a running app.

    from fastapi_architect.runtime import ArchitectMiddleware
    app.add_middleware(ArchitectMiddleware)

The names are imported on first use, so importing the package (the pytest plugin
does, in every session) costs nothing until the profiler is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi_architect.runtime.counting import assert_max_queries
    from fastapi_architect.runtime.middleware import ArchitectMiddleware
    from fastapi_architect.runtime.settings import RuntimeSettings, configure

__all__ = ["ArchitectMiddleware", "RuntimeSettings", "assert_max_queries", "configure"]

_MODULES = {
    "ArchitectMiddleware": "fastapi_architect.runtime.middleware",
    "assert_max_queries": "fastapi_architect.runtime.counting",
    "RuntimeSettings": "fastapi_architect.runtime.settings",
    "configure": "fastapi_architect.runtime.settings",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
