"""Values the code spells out statically: path prefixes, tags, `dependencies=[...]` lists.

A string is built from literals, f-strings and `+`, module constants (also imported
ones), locals of the enclosing function, class attributes (`Tags.items` of a `str`
enum) and the literal defaults of a settings class (`settings.API_V1_STR` where
`settings = Settings()` or `get_settings()`, and `API_V1_STR: str = "/api/v1"` or
`= Field(default="/api/v1")`). What cannot be known is `{?}`.
"""

from __future__ import annotations

import ast

from fastapi_architect.model.astutil import const_str, keyword, last_name, statements
from fastapi_architect.model.project import ClassInfo, Function, Module, Project

DYNAMIC = "{?}"
_MAX_DEPTH = 8

# An expression with the module and function scope it is evaluated in.
Bound = tuple[Module, ast.expr, Function | None]


def binding(
    project: Project, module: Module, expr: ast.expr, scope: Function | None
) -> Bound | None:
    """The value a name was assigned: a module-level variable (anywhere in the project)
    or a local of the enclosing function."""
    qualname = project.resolve(module, expr, scope)
    if qualname is None:
        return None
    found = project.module_value(qualname)
    if found is not None:
        return found[0], found[1], None
    local = project.local_value(qualname)
    if local is not None:
        return local[0].module, local[1], local[0]
    return None


def sequence_elements(
    project: Project,
    module: Module,
    expr: ast.expr | None,
    scope: Function | None,
    depth: int = 0,
    following: frozenset[int] = frozenset(),
) -> list[Bound]:
    """The elements of a list/tuple/set the code spells out, following names
    (`dependencies=COMMON_DEPS`), `*spread`, `a + b`, both branches of `a if c else b`,
    what a function appends to its local list, and every list a project function called
    without arguments returns (`dependencies=get_dependencies()`; with arguments, which
    `return` answers depends on them); empty when unknown. `following`: the functions
    whose returns are being read (a function returning its own call adds nothing)."""
    if expr is None or depth > _MAX_DEPTH:
        return []

    def elements(
        in_module: Module, value: ast.expr | None, in_scope: Function | None
    ) -> list[Bound]:
        return sequence_elements(project, in_module, value, in_scope, depth + 1, following)

    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        out: list[Bound] = []
        for element in expr.elts:
            if isinstance(element, ast.Starred):
                out.extend(elements(module, element.value, scope))
            else:
                out.append((module, element, scope))
        return out
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return elements(module, expr.left, scope) + elements(module, expr.right, scope)
    if isinstance(expr, ast.IfExp):  # `[Depends(auth)] if settings.auth else []`: either
        return elements(module, expr.body, scope) + elements(module, expr.orelse, scope)
    if isinstance(expr, ast.Call):
        if expr.args or expr.keywords:
            return []
        callee = project.function(project.resolve(module, expr.func, scope))
        if callee is None or id(callee.node) in following:
            return []
        inner = following | {id(callee.node)}
        returned: list[Bound] = []
        for stmt in statements(callee.node.body):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                returned += sequence_elements(
                    project, callee.module, stmt.value, callee, depth + 1, inner
                )
        return returned
    if isinstance(expr, (ast.Name, ast.Attribute)):
        found = binding(project, module, expr, scope)
        if found is not None:
            bound = elements(found[0], found[1], found[2])
            owner = found[2]
            if owner is not None and isinstance(expr, ast.Name):
                bound += _grown(project, owner, expr.id, depth, following)
            return bound
    return []


def _grown(
    project: Project, fn: Function, name: str, depth: int, following: frozenset[int]
) -> list[Bound]:
    """What a function adds to its local list (`deps.append(Depends(auth))`,
    `deps.extend(more)`, `deps += more`), under a condition or not: each may be in it
    (`dependencies = [...]`, then `if settings.auth: dependencies.append(...)`)."""
    out: list[Bound] = []
    for stmt in statements(fn.node.body):
        added: list[ast.expr] = []
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
            if isinstance(stmt.target, ast.Name) and stmt.target.id == name:
                out += sequence_elements(project, fn.module, stmt.value, fn, depth + 1, following)
            continue
        if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
            continue
        call = stmt.value
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == name
        ):
            continue
        if func.attr == "append" and len(call.args) == 1:
            added = [call.args[0]]
        elif func.attr == "insert" and len(call.args) == 2:
            added = [call.args[1]]
        elif func.attr == "extend" and len(call.args) == 1:
            out += sequence_elements(project, fn.module, call.args[0], fn, depth + 1, following)
        out += [(fn.module, element, fn) for element in added]
    return out


class ConstEvaluator:
    def __init__(self, project: Project) -> None:
        self.project = project

    def eval_str(
        self, module: Module, expr: ast.expr | None, scope: Function | None, depth: int = 0
    ) -> str:
        """The string, with `{?}` for the parts that cannot be known ("" for no expression)."""
        if expr is None:
            return ""
        value = self.value(module, expr, scope, depth)
        return DYNAMIC if value is None else value

    def str_list(self, module: Module, expr: ast.expr | None, scope: Function | None) -> list[str]:
        """The strings of a literal list (`tags=["items"]`, `tags=TAGS`), unknown ones left out."""
        out: list[str] = []
        for el_module, element, el_scope in sequence_elements(self.project, module, expr, scope):
            value = self.value(el_module, element, el_scope)
            if value is not None:
                out.append(value)
        return out

    def value(
        self, module: Module, expr: ast.expr, scope: Function | None, depth: int = 0
    ) -> str | None:
        if depth > _MAX_DEPTH:
            return None
        literal = const_str(expr)
        if literal is not None:
            return literal
        if isinstance(expr, ast.JoinedStr):
            return self._fstring(module, expr, scope, depth)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self.value(module, expr.left, scope, depth + 1)
            right = self.value(module, expr.right, scope, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(expr, (ast.Name, ast.Attribute)):
            found = binding(self.project, module, expr, scope)
            if found is not None:
                if (
                    isinstance(expr, ast.Name)
                    and found[0] is module
                    and found[2] is scope
                    and _mentions(found[1], expr.id)
                ):
                    # `PREFIX = f"/{PREFIX}"` (a normalization under an `if`): the value
                    # it started from is another binding; do not read this one in a loop.
                    return None
                return self.value(found[0], found[1], found[2], depth + 1)
            if isinstance(expr, ast.Attribute):
                return self._attribute(module, expr, scope, depth)
        return None

    def _fstring(
        self, module: Module, expr: ast.JoinedStr, scope: Function | None, depth: int
    ) -> str:
        parts: list[str] = []
        for value in expr.values:
            if isinstance(value, ast.FormattedValue):
                part = self.value(module, value.value, scope, depth + 1)
                parts.append(DYNAMIC if part is None else part)
            else:
                parts.append(const_str(value) or "")
        return "".join(parts)

    def _attribute(
        self, module: Module, expr: ast.Attribute, scope: Function | None, depth: int
    ) -> str | None:
        """`Tags.items`, `settings.API_V1_STR`, `get_settings().API_V1_STR`: a class attribute's default."""
        cls = self.class_of(module, expr.value, scope, depth + 1)
        if cls is None:
            return None
        for name in self.project.mro(cls.qualname):
            info = self.project.class_(name)
            value = class_attribute(info, expr.attr) if info is not None else None
            if info is not None and value is not None:
                return self.value(info.module, _field_default(value), None, depth + 1)
        return None

    def class_of(
        self, module: Module, expr: ast.expr, scope: Function | None, depth: int = 0
    ) -> ClassInfo | None:
        """The project class `expr` is (a class name) or is an instance of (a call of the
        class, or of a function annotated to return it; a variable assigned either)."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Call):
            callee = self.project.resolve(module, expr.func, scope)
            cls = self.project.class_(callee)
            if cls is not None:
                return cls
            fn = self.project.function(callee)
            if fn is not None and fn.node.returns is not None:
                return self.project.class_(
                    self.project.resolve(fn.module, fn.node.returns, fn.parent)
                )
            return None
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return None
        cls = self.project.class_(self.project.resolve(module, expr, scope))
        if cls is not None:
            return cls
        found = binding(self.project, module, expr, scope)
        if found is None:
            return None
        return self.class_of(found[0], found[1], found[2], depth + 1)


def _mentions(expr: ast.expr, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(expr))


def class_attribute(cls: ClassInfo, attr: str) -> ast.expr | None:
    """The value assigned to a name in the class body (`API_V1_STR: str = "/api/v1"`)."""
    for stmt in cls.node.body:
        if isinstance(stmt, ast.AnnAssign):
            if isinstance(stmt.target, ast.Name) and stmt.target.id == attr and stmt.value:
                return stmt.value
        elif isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == attr for t in stmt.targets
        ):
            return stmt.value
    return None


def _field_default(value: ast.expr) -> ast.expr:
    """`Field("/x")` and `Field(default="/x")` stand for their default."""
    if isinstance(value, ast.Call) and last_name(_dotted_name(value.func)) == "Field":
        default = keyword(value, "default")
        if default is not None:
            return default
        if value.args:
            return value.args[0]
    return value


def _dotted_name(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None
