"""Small, depth-safe helpers over `ast` shared by the model and the rules."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def walk(root: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`, in the same (breadth-first) order, about twice as fast: only the fields
    that can hold nodes are read, and the shared `ctx` markers (`Load()`, `Store()`) are
    not yielded. Rules walk whole trees often enough for it to matter."""
    todo: deque[ast.AST] = deque([root])
    pop, push = todo.popleft, todo.append
    fields_for = CHILD_FIELDS.get
    node_type = ast.AST
    while todo:
        node = pop()
        kind = type(node)
        fields = fields_for(kind)
        if fields is None:
            fields = child_fields(kind)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        push(item)
            elif isinstance(value, node_type):
                push(value)
        yield node


def walk_nodes(starts: list[ast.AST]) -> Iterator[ast.AST]:
    """`starts` and every node below them that runs in the same scope: nested functions,
    lambdas and classes are yielded but not entered (their bodies run elsewhere, or
    later); their decorators, defaults and bases are, as they run here. Expression
    contexts (`Load()`/`Store()`) are not yielded. Iterative, so a deeply nested
    expression cannot exhaust the interpreter stack."""
    stack: list[ast.AST] = list(reversed(starts))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES):
            stack.extend(reversed(outer_nodes(node)))
            continue
        stack.extend(reversed(child_nodes(node)))


# Fields that never hold a node worth visiting: names and flags, and `ctx` (the shared
# Load/Store/Del markers, a third of all nodes of a typical tree).
_LEAF_FIELDS = frozenset(
    {
        "ctx",
        "id",
        "attr",
        "arg",
        "module",
        "asname",
        "kind",
        "type_comment",
        "level",
        "is_async",
        "conversion",
        "simple",
    }
)
CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def child_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node type that can hold child nodes (cached)."""
    fields = CHILD_FIELDS.get(kind)
    if fields is None:
        if kind in CHILDLESS:
            fields = ()
        else:
            fields = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
        CHILD_FIELDS[kind] = fields
    return fields


# Node types whose fields never hold nodes (names, literals, markers).
CHILDLESS = frozenset(
    {ast.Name, ast.Constant, ast.alias, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal}
)


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The child nodes of `node`, like `ast.iter_child_nodes` but as a list, faster (hot in
    every walk), and without the `ctx` markers (`Load()`, `Store()`, `Del()`)."""
    kind = type(node)
    fields = CHILD_FIELDS.get(kind)
    if fields is None:
        fields = child_fields(kind)
    out: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            out.append(value)
        elif type(value) is list:
            for item in value:
                if isinstance(item, ast.AST):
                    out.append(item)
    return out


_COMPOUND: tuple[type[ast.stmt], ...] = tuple(
    getattr(ast, name)
    for name in ("If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar", "Match")
    if hasattr(ast, name)
)


def statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a block and of the blocks inside it (`if`, `for`, `while`,
    `with`, `try`, `match`), in source order; nested functions and classes are yielded
    but not entered. Much cheaper than a walk of every expression node."""
    stack: list[ast.stmt] = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, _COMPOUND):
            stack.extend(reversed(_blocks(stmt)))


def _blocks(stmt: ast.stmt) -> list[ast.stmt]:
    inner: list[ast.stmt] = [*getattr(stmt, "body", ())]
    for handler in getattr(stmt, "handlers", ()):
        inner.extend(handler.body)
    for case in getattr(stmt, "cases", ()):
        inner.extend(case.body)
    inner.extend(getattr(stmt, "orelse", ()))
    inner.extend(getattr(stmt, "finalbody", ()))
    return inner


def outer_nodes(node: ast.AST) -> list[ast.AST]:
    """The parts of a function, lambda or class that run in the enclosing scope:
    decorators, defaults, bases (not annotations: they are not calls that run)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        outer: list[ast.AST] = [*node.decorator_list, *node.args.defaults]
        outer += [d for d in node.args.kw_defaults if d is not None]
        return outer
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    if isinstance(node, ast.Lambda):
        return list(node.args.defaults)
    return []


def walk_scope(root: ast.AST) -> Iterator[ast.AST]:
    """The nodes below `root` in `root`'s own scope (see `walk_nodes`)."""
    return walk_nodes(list(ast.iter_child_nodes(root)))


def body_nodes(fn: FunctionNode) -> Iterator[ast.AST]:
    """The nodes of a function's body that run when it is called."""
    return walk_nodes(list(fn.body))


def without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    """A block's statements after its docstring, if it has one."""
    if body and isinstance(body[0], ast.Expr) and const_str(body[0].value) is not None:
        return body[1:]
    return body


def assignment_targets(node: ast.AST) -> list[ast.expr]:
    """What an assignment statement stores into (`a = b = v`, `a: int = v`, `a += v`);
    nothing for any other node."""
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return [node.target]
    return []


def dotted(expr: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """A call argument given by position or by keyword."""
    value = keyword(call, name)
    if value is not None:
        return value
    if len(call.args) > position and not any(
        isinstance(a, ast.Starred) for a in call.args[: position + 1]
    ):
        return call.args[position]
    return None


def const_str(expr: ast.AST | None) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def const_int(expr: ast.AST | None) -> int | None:
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return expr.value
    return None


def is_true(expr: ast.AST | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


def is_false(expr: ast.AST | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is False


def parameters(fn: FunctionNode) -> list[tuple[ast.arg, ast.expr | None]]:
    """Every parameter with its default (None when it has none), in signature order."""
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    out = list(zip(positional, defaults, strict=True))
    out += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    return out


def call_name(call: ast.Call) -> str | None:
    """The last name a call is spelled with: `create_task` of
    `asyncio.get_running_loop().create_task(...)`, `open` of `open(...)`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def last_name(qualname: str | None) -> str:
    return qualname.rsplit(".", 1)[-1] if qualname else ""
