"""The project's call sites, with where each one is: shared by rules that look for
registrations (`app.add_exception_handler(...)`) or callers without walking the files again."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_architect.model.build import AppModel
from fastapi_architect.model.callgraph import CallSite
from fastapi_architect.model.project import Function, Module


def call_sites(model: AppModel) -> Iterator[tuple[Function | None, Module, CallSite]]:
    """Every call site the call graph collected, with the function it is in (None in
    module-level code) and its module."""
    project = model.project
    for owner, sites in model.callgraph.calls.items():
        scope = project.functions.get(owner)
        module = scope.module if scope is not None else project.modules.get(owner)
        if module is None:
            continue
        for site in sites:
            yield scope, module, site
