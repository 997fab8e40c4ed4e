"""The project index: every fact a rule derives from the whole project, built once per run.

Rules that look past one file (the ORM models and their relationships, the queries each
function makes, the tables and their database indexes, the layer of each module, the
coroutines that serve requests, the exception handlers, ...) share one index that lives
on the run's `AppModel`: each part is built on first use by the rule module that owns its
shape, kept for the rest of the run (every rule, every file, the forked rule walker too),
and dropped with the model. Nothing is module-global, so two reviews in one process (the
MCP server, the tests) never see each other's facts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from fastapi_architect.model.build import AppModel

T = TypeVar("T")


def project_index(model: AppModel, build: Callable[[AppModel], T]) -> T:
    """The part of `model`'s index that `build` makes, built on the first call of the run.

    `build` is the part's key: a module-level function, so every rule asking for the same
    part gets the same object."""
    parts = model.derived
    if build in parts:
        return cast(T, parts[build])
    made = build(model)
    parts[build] = made
    return made
