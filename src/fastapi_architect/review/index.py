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

import ast
from collections.abc import Callable
from typing import Generic, TypeVar, cast

from fastapi_architect.model.astutil import walk
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Function, Module

T = TypeVar("T")
N = TypeVar("N", bound=ast.AST)


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


class ModelCache(Generic[T]):
    """A part of the index built by a closure (`_CACHE.get(model, lambda: ...)`): for
    parts whose builder is not a plain function of the model. Kept on the model, like
    every part."""

    def get(self, model: AppModel, compute: Callable[[], T]) -> T:
        parts = model.derived
        if self in parts:
            return cast(T, parts[self])
        made = compute()
        parts[self] = made
        return made


class FunctionCache(Generic[T]):
    """Facts about one function, computed once per run: a part of the index keyed by
    the function's node (node ids are unique while the model keeps its trees)."""

    def get(self, model: AppModel, fn: Function, compute: Callable[[], T]) -> T:
        data = cast(dict[int, T], model.derived.setdefault(self, {}))
        key = id(fn.node)
        if key not in data:
            data[key] = compute()
        return data[key]


def nodes_of(model: AppModel, module: Module, kind: type[N]) -> list[N]:
    """The nodes of one type in `module`, in `ast.walk` order. Parts that look at every
    call (or name) of the project share one walk per module instead of one each."""
    tables = project_index(model, _node_tables)
    table = tables.get(id(module))
    if table is None:
        table = {}
        for node in walk(module.tree):
            found = table.get(type(node))
            if found is None:
                table[type(node)] = [node]
            else:
                found.append(node)
        tables[id(module)] = table
    return cast(list[N], table.get(kind, []))


def _node_tables(model: AppModel) -> dict[int, dict[type[ast.AST], list[ast.AST]]]:
    return {}


# Per run: the targets asked about -> the last names that can reach them (None: any).
_REACHING: ModelCache[dict[frozenset[str], frozenset[str] | None]] = ModelCache()


def names_reaching(model: AppModel, targets: frozenset[str]) -> frozenset[str] | None:
    """The last names (`Name.id`, `Attribute.attr`) an expression can end with and still
    resolve to one of `targets` (qualified names outside the project), or None when the
    project has modules in the targets' packages and any name might.

    `Project.resolve` keeps an expression's last name through every step (locals,
    module definitions, star imports, re-exports through `canonical`), except when that
    name is an import alias (`from starlette.middleware import Middleware as M`, also
    re-exported through project modules: followed here, to a fixed point) or when it
    lands on a project module's own name (the None case)."""
    table = _REACHING.get(model, dict)
    if targets in table:
        return table[targets]
    project = model.project
    packages = {t.split(".")[0] for t in targets}
    found: frozenset[str] | None = None
    if not any(name.split(".")[0] in packages for name in project.modules):
        names = {t.rpartition(".")[2] for t in targets}
        aliases = [
            (alias, target.rpartition(".")[2])
            for module in project.module_list
            for alias, target in module.imports.items()
        ]
        grown = True
        while grown:
            grown = False
            for alias, last in aliases:
                if last in names and alias not in names:
                    names.add(alias)
                    grown = True
        found = frozenset(names)
    table[targets] = found
    return found


def may_resolve_to(model: AppModel, expr: ast.AST, targets: frozenset[str]) -> bool:
    """False when resolving `expr` (`Project.resolve`, `FileContext.resolve`) cannot give
    one of `targets`: a syntactic check that spares the resolution of the many calls a
    node rule is handed (see `names_reaching`). True means only "maybe": resolve to know."""
    if isinstance(expr, ast.Attribute):
        last = expr.attr
    elif isinstance(expr, ast.Name):
        last = expr.id
    else:
        return False  # `resolve` answers None for any other expression
    names = names_reaching(model, targets)
    return names is None or last in names
