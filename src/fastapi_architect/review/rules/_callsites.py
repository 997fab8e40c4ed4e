"""The project's call sites, with where each one is: shared by rules that look for
registrations (`app.add_exception_handler(...)`) or callers without walking the files again."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fastapi_architect.model.build import AppModel
from fastapi_architect.model.callgraph import CallSite
from fastapi_architect.model.project import Function, Module
from fastapi_architect.review.index import project_index


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


def callers_of(model: AppModel) -> dict[int, list[tuple[Function | None, Module, CallSite]]]:
    """Every call site of a project function, by the callee's node id, in `call_sites`
    order (the function each call is in, None in module-level code)."""
    return project_index(model, _find_callers)


def _find_callers(model: AppModel) -> dict[int, list[tuple[Function | None, Module, CallSite]]]:
    project = model.project
    out: dict[int, list[tuple[Function | None, Module, CallSite]]] = {}
    for entry in call_sites(model):
        callee = project.function(entry[2].target)
        if callee is not None:
            out.setdefault(id(callee.node), []).append(entry)
    return out


# What registers a handler: the method names and keywords the registration scans look
# for (`async_io.startup_handlers`, `concurrency.request_coroutines`, `errors.leak_state`).
REGISTRAR_METHODS = frozenset({"add_event_handler", "add_exception_handler"})
REGISTRAR_KEYWORDS = frozenset({"lifespan", "on_startup", "on_shutdown", "exception_handlers"})


def registration_calls(model: AppModel) -> list[tuple[Function | None, Module, CallSite]]:
    """The call sites, in `call_sites` order, that call a method named in
    `REGISTRAR_METHODS` or pass a keyword named in `REGISTRAR_KEYWORDS`: the few calls
    the registration scans act on, found in one pass over the project's calls."""
    return project_index(model, _find_registration_calls)


def _find_registration_calls(model: AppModel) -> list[tuple[Function | None, Module, CallSite]]:
    out: list[tuple[Function | None, Module, CallSite]] = []
    for entry in call_sites(model):
        call = entry[2].node
        func = call.func
        if (type(func) is ast.Attribute and func.attr in REGISTRAR_METHODS) or any(
            kw.arg in REGISTRAR_KEYWORDS for kw in call.keywords
        ):
            out.append(entry)
    return out
