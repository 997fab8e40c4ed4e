"""The apps that serve a route, and the internal worker apps among them: apps that only
other processes on the same machine reach (a sidecar run with uvicorn on a loopback
host from a worker process). Their clients are the main app or a proxy, so rules about
what clients see (docs, authentication) leave them alone."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fastapi_architect.model.apps import Route, RouterObj
from fastapi_architect.model.astutil import (
    body_nodes,
    const_str,
    dotted,
    keyword,
    last_name,
    walk_nodes,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.review.index import project_index
from fastapi_architect.review.rules._orm import is_test_module


def serving_apps(route: Route) -> list[RouterObj] | None:
    """The innermost app of each place the route is served (an app that includes the
    route's router when the mount chain stops short of one), or None when one is
    unknown."""
    out: list[RouterObj] = []
    chains = [m.chain for m in route.mounts] or [[route.router]]
    for chain in chains:
        app = next((r for r in reversed(chain) if r.kind == "app"), None)
        if app is None:
            parents = {id(i.parent): i.parent for i in chain[0].included_by}
            apps = [p for p in parents.values() if p.kind == "app"]
            if not apps or len(apps) != len(parents):
                return None
            out.extend(apps)
        else:
            out.append(app)
    return out


# Hosts that only processes on the same machine can reach.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_UVICORN_RUN = frozenset({"uvicorn.run", "uvicorn.main.run"})


def _calls_in(module: Module) -> Iterator[tuple[Function | None, ast.Call]]:
    """Every call of a module, with the function it runs in (None at module level)."""
    for node in walk_nodes(list(module.tree.body)):
        if isinstance(node, ast.Call):
            yield None, node
    for fn in module.functions.values():
        for node in body_nodes(fn.node):
            if isinstance(node, ast.Call):
                yield fn, node


def _process_targets(project: Project, modules: list[Module]) -> set[str]:
    """Functions started as worker processes: `multiprocessing.Process(target=fn)`,
    `ctx.Process(target=fn)`."""
    out: set[str] = set()
    for module in modules:
        if "Process(" not in module.source:
            continue
        for scope, call in _calls_in(module):
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else dotted(func) or ""
            target = keyword(call, "target")
            if name == "Process" and target is not None:
                resolved = project.resolve(module, target, scope)
                if resolved:
                    out.add(resolved)
    return out


def _internal_apps(model: AppModel) -> frozenset[int]:
    """Ids of the apps that serve only other processes on the same machine: built by a
    factory (`create_worker_app()`) that is called nowhere but in functions started as
    worker processes (`multiprocessing.Process(target=run_worker)`), which run it with
    `uvicorn.run(app, host="127.0.0.1")`. Such a sidecar sits behind the main app or a
    proxy; its docs page and OpenAPI document reach no client."""
    project = model.project
    modules = [m for m in project.module_list if not is_test_module(m)]
    factories: dict[str, list[RouterObj]] = {}
    for app in model.routers.values():
        if app.kind == "app" and app.scope is not None:
            factories.setdefault(app.scope.qualname, []).append(app)
    if not factories:
        return frozenset()
    runs: dict[str, set[str]] = {}  # factory -> the functions that run its app on loopback
    for module in modules:
        if "uvicorn" not in module.source:
            continue
        for scope, call in _calls_in(module):
            if scope is None or not call.args:
                continue
            if project.resolve(module, call.func, scope) not in _UVICORN_RUN:
                continue
            if const_str(keyword(call, "host")) not in _LOOPBACK_HOSTS:
                continue
            arg = call.args[0]
            value = scope.local_values.get(arg.id) if isinstance(arg, ast.Name) else None
            if isinstance(value, ast.Call):
                factory = project.resolve(module, value.func, scope)
                if factory in factories:
                    runs.setdefault(factory, set()).add(scope.qualname)
    if not runs:
        return frozenset()
    workers = _process_targets(project, modules)
    internal = {f for f, runners in runs.items() if runners <= workers}
    # A factory also called elsewhere (an ASGI entry point) serves clients there.
    for module in modules:
        if not internal:
            break
        if not any(last_name(f) in module.source for f in internal):
            continue
        for scope, call in _calls_in(module):
            callee = project.resolve(module, call.func, scope)
            if callee in internal and (scope is None or scope.qualname not in runs[callee]):
                internal.discard(callee)
    return frozenset(id(app) for f in internal for app in factories[f])


def internal_only(model: AppModel, route: Route) -> bool:
    """Is the route served only by internal worker apps (see `_internal_apps`)?"""
    internal = project_index(model, _internal_apps)
    if not internal:
        return False
    apps = serving_apps(route)
    return apps is not None and bool(apps) and all(id(app) in internal for app in apps)
