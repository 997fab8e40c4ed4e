"""What checks receive: the file being walked (with its ancestors) or the whole project."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from fastapi_architect.config import Config
from fastapi_architect.model.apps import Route
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Function, Module, Project


@dataclass
class ProjectContext:
    model: AppModel
    config: Config

    @property
    def project(self) -> Project:
        return self.model.project


@dataclass
class FileContext:
    module: Module
    model: AppModel
    config: Config
    # Ancestors of the node being checked, outermost first (the module itself excluded).
    stack: list[ast.AST] = field(default_factory=list)
    # The enclosing function by the id of the innermost ancestor (one tree, one answer).
    _functions: dict[int, Function | None] = field(default_factory=dict, repr=False)
    # What `resolve` answered, by the ids of the expression and the current function.
    _resolved: dict[tuple[int, int], tuple[ast.AST, str | None]] = field(
        default_factory=dict, repr=False
    )

    @property
    def project(self) -> Project:
        return self.model.project

    def function(self) -> Function | None:
        """The innermost function whose body contains the current node."""
        if not self.stack:
            return None
        key = id(self.stack[-1])
        if key in self._functions:
            return self._functions[key]
        found = self._innermost_function()
        self._functions[key] = found
        return found

    def _innermost_function(self) -> Function | None:
        for node in reversed(self.stack):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return self.project.function_by_node.get(id(node))
            if isinstance(node, ast.Lambda):
                return None
        return None

    def routes(self) -> list[Route]:
        """The routes whose handler is the enclosing function (empty outside a handler)."""
        return self.model.routes_of(self.function())

    def parent(self) -> ast.AST | None:
        return self.stack[-1] if self.stack else None

    def resolve(self, expr: ast.AST) -> str | None:
        """The qualified name `expr` stands for, seen from the current function. Many
        rules ask it of the same call, so it is kept; the entry holds the node, so its id
        cannot be reused by another node while the walk runs."""
        fn = self.function()
        key = (id(expr), id(fn))
        found = self._resolved.get(key)
        if found is not None and found[0] is expr:
            return found[1]
        name = self.project.resolve(self.module, expr, fn)
        self._resolved[key] = (expr, name)
        return name
