"""Just enough type inference to resolve method calls: `self.repo.get()`, `client.get()`
where `client = httpx.Client()`, `db.query()` where `db: Session = Depends(get_db)`.

A type is a qualified class name (project or outside). Unknown is None: rules treat
unknown as "not matched", which keeps them precise.
"""

from __future__ import annotations

import ast

from fastapi_architect.model.astutil import dotted, parameters
from fastapi_architect.model.project import Function, Module, Project

ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
UNION = frozenset({"typing.Union", "typing_extensions.Union"})
_MAX_DEPTH = 8


def unwrap_annotation(
    project: Project, module: Module, annotation: ast.expr | None, scope: Function | None = None
) -> tuple[ast.expr | None, list[ast.expr], Module]:
    """Split an annotation into its base type and its `Annotated` metadata, following
    module-level aliases (`SessionDep = Annotated[Session, Depends(get_db)]`) and stripping
    `Optional[...]`/`X | None`. Returns the module the base expression belongs to."""
    metadata: list[ast.expr] = []
    expr = annotation
    for _ in range(_MAX_DEPTH):
        if expr is None:
            break
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            try:
                expr = ast.parse(expr.value, mode="eval").body
            except SyntaxError:
                return None, metadata, module
            continue
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            inner = _non_none(expr.left, expr.right)
            if inner is None:
                return expr, metadata, module  # a real union (`dict | Item`): no single type
            expr = inner
            continue
        if isinstance(expr, ast.Subscript):
            origin = project.resolve(module, expr.value, scope)
            elements = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
            if origin in ANNOTATED and elements:
                metadata.extend(elements[1:])
                expr = elements[0]
                continue
            if origin in OPTIONAL:
                expr = elements[0]
                continue
            if origin in UNION and len(elements) == 2:
                inner = _non_none(elements[0], elements[1])
                if inner is None:
                    return expr, metadata, module
                expr = inner
                continue
            return expr, metadata, module
        if isinstance(expr, (ast.Name, ast.Attribute)):
            qualname = project.resolve(module, expr, scope)
            alias = project.module_value(qualname)
            if alias is not None and isinstance(alias[1], (ast.Subscript, ast.BinOp)):
                module, expr = alias
                scope = None
                continue
        return expr, metadata, module
    return expr, metadata, module


def _non_none(left: ast.expr, right: ast.expr) -> ast.expr | None:
    """The other member of `X | None` / `None | X`; None for a union of two real types."""
    if isinstance(right, ast.Constant) and right.value is None:
        return left
    if isinstance(left, ast.Constant) and left.value is None:
        return right
    return None


def annotation_type(
    project: Project, module: Module, annotation: ast.expr | None, scope: Function | None = None
) -> str | None:
    base, _, base_module = unwrap_annotation(project, module, annotation, scope)
    if base is None:
        return None
    base_scope = scope if base_module is module else None
    if isinstance(base, ast.Subscript):
        # `AuthenticationBackend[models.UP, models.ID]`: an instance of the project's
        # generic class (not `list[...]` or another outside container).
        cls = project.class_(project.resolve(base_module, base.value, base_scope))
        return cls.qualname if cls is not None else None
    return project.resolve(base_module, base, base_scope)


def infer_type(
    project: Project, module: Module, expr: ast.AST, scope: Function | None, depth: int = 0
) -> str | None:
    """The qualified class name of what `expr` evaluates to, when it can be known."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Await):
        return infer_type(project, module, expr.value, scope, depth + 1)
    if isinstance(expr, ast.Call):
        return _call_result_type(project, module, expr, scope, depth)
    if isinstance(expr, ast.Name):
        return _name_type(project, module, expr.id, scope, depth)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        owner = _name_type(project, module, expr.value.id, scope, depth)
        cls = project.class_(owner)
        if cls is not None:
            return _attribute_type(project, cls.qualname, expr.attr, depth)
    return None


def _call_result_type(
    project: Project, module: Module, call: ast.Call, scope: Function | None, depth: int
) -> str | None:
    callee = resolve_callee(project, module, call.func, scope, depth + 1)
    if callee is None:
        return None
    if callee == "super" and not call.args:
        return _super_type(project, scope)
    if project.class_(callee) is not None:
        return project.canonical(callee)
    fn = project.function(callee)
    if fn is not None:
        return annotation_type(project, fn.module, fn.node.returns, None)
    # Outside code: the call's dotted name stands for its result (`httpx.Client`,
    # `boto3.client`), which is what the blocking-call tables are written against.
    return callee


def _super_type(project: Project, scope: Function | None) -> str | None:
    """`super()` in a method: the first base of the enclosing class (outside ones as named)."""
    cls = project.class_(scope.class_qualname) if scope is not None else None
    return cls.bases[0] if cls is not None and cls.bases else None


def _name_type(
    project: Project, module: Module, name: str, scope: Function | None, depth: int
) -> str | None:
    fn = scope
    while fn is not None:
        if name in ("self", "cls") and fn.class_qualname and _is_first_param(fn, name):
            return fn.class_qualname
        if name in fn.param_names:
            for param, _default in parameters(fn.node):
                if param.arg == name:
                    return annotation_type(project, fn.module, param.annotation, fn.parent)
        if name in fn.local_values:
            value = fn.local_values[name]
            if value is None:
                return None
            return infer_type(project, module, value, fn, depth + 1)
        fn = fn.parent
    if name in module.annotations:
        return annotation_type(project, module, module.annotations[name], None)
    if name in module.assignments:
        return infer_type(project, module, module.assignments[name], None, depth + 1)
    if name in module.imports:
        found = project.module_value(project.resolve_name(module, name))
        if found is not None:
            return infer_type(project, found[0], found[1], None, depth + 1)
    return None


def _is_first_param(fn: Function, name: str) -> bool:
    args = [*fn.node.args.posonlyargs, *fn.node.args.args]
    return bool(args) and args[0].arg == name


def _attribute_type(project: Project, class_qualname: str, attr: str, depth: int) -> str | None:
    """The type of `obj.attr` for an instance of the class: a class-level annotation, or
    what `__init__` assigns to `self.attr`. Every method's `self.repo.get()` asks the
    same: cached per project (with the depth, which can cut the inference short)."""
    key = (class_qualname, attr, depth)
    cache = project.attribute_types
    if key in cache:
        return cache[key]
    found = cache[key] = _find_attribute_type(project, class_qualname, attr, depth)
    return found


def _find_attribute_type(
    project: Project, class_qualname: str, attr: str, depth: int
) -> str | None:
    for cls_name in project.mro(class_qualname):
        cls = project.class_(cls_name)
        if cls is None:
            continue
        annotation = _class_annotations(project, cls.node).get(attr)
        if annotation is not None:
            return annotation_type(project, cls.module, annotation, None)
        assigned = project.instance_attributes(cls).get(attr)
        if assigned is None:
            continue
        init, expr, is_annotation = assigned
        if is_annotation:
            return annotation_type(project, cls.module, expr, init)
        return infer_type(project, cls.module, expr, init, depth + 1)
    return None


def _class_annotations(project: Project, node: ast.ClassDef) -> dict[str, ast.expr]:
    """`name: T` in a class body, the first one of each name: read once per class, not
    once per attribute looked up (every `self.x.y()` call asks)."""
    found = project.class_annotations.get(id(node))
    if found is None:
        found = {}
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                found.setdefault(stmt.target.id, stmt.annotation)
        project.class_annotations[id(node)] = found
    return found


def resolve_callee(
    project: Project, module: Module, func: ast.expr, scope: Function | None, depth: int = 0
) -> str | None:
    """The qualified name of what a call calls: a project function or class, a method
    on an inferred type (`requests.Session.get`), or an outside dotted name."""
    if depth == 0:
        # The same callee text in the same scope always resolves the same way, and
        # real code repeats it a lot (`db.execute`, `logger.info`): cache it.
        # `dotted(func)` and its first name, spelled out for the usual `f` and `obj.f`.
        if isinstance(func, ast.Name):
            head = text = func.id
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            head = func.value.id
            text = f"{head}.{func.attr}"
        else:
            dotted_text = dotted(func)
            if dotted_text is None:
                return _resolve_callee(project, module, func, scope, depth)
            text = dotted_text
            head = text.partition(".")[0]
        key = (_binding_scope(module, scope, head), text)
        cache = project.callee_cache
        if key in cache:
            return cache[key]
        result = cache[key] = _resolve_callee(project, module, func, scope, depth)
        return result
    return _resolve_callee(project, module, func, scope, depth)


def _binding_scope(module: Module, scope: Function | None, head: str) -> int:
    """Where the first name of a callee is bound: the innermost function that binds it,
    else the module. Calls that only name module-level things share one cache entry."""
    fn = scope
    while fn is not None:
        # A nested `def` binds its name too: two handlers that each define their own
        # `sse_stream` must not share one resolution. (`fn.binds`, inlined.)
        if (
            head in fn.local_values
            or head in fn.param_names
            or f"{fn.qualname[len(module.name) + 1 :]}.{head}" in module.functions
        ):
            return id(fn)
        fn = fn.parent
    return id(module)


def _resolve_callee(
    project: Project, module: Module, func: ast.expr, scope: Function | None, depth: int
) -> str | None:
    if isinstance(func, ast.Attribute):
        owner = infer_type(project, module, func.value, scope, depth + 1)
        if owner is not None:
            method = project.method(owner, func.attr) if project.class_(owner) else None
            if method is not None:
                return method.qualname
            return f"{owner}.{func.attr}"
        return project.resolve(module, func, scope)
    if isinstance(func, ast.Name):
        return project.resolve(module, func, scope)
    return None
