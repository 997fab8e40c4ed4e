"""Small, depth-safe helpers over `ast` shared by the model and the rules."""

from __future__ import annotations

import ast
from collections.abc import Iterator

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def walk_nodes(starts: list[ast.AST]) -> Iterator[ast.AST]:
    """`starts` and every node below them that runs in the same scope: nested functions,
    lambdas and classes are yielded but not entered (their bodies run elsewhere, or
    later); their decorators, defaults and bases are, as they run here. Iterative, so a
    deeply nested expression cannot exhaust the interpreter stack."""
    stack: list[ast.AST] = list(reversed(starts))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                outer: list[ast.AST] = [*node.decorator_list, *node.args.defaults]
                outer += [d for d in node.args.kw_defaults if d is not None]
                stack.extend(reversed(outer))
            elif isinstance(node, ast.ClassDef):
                stack.extend(reversed([*node.decorator_list, *node.bases]))
            elif isinstance(node, ast.Lambda):
                stack.extend(reversed(node.args.defaults))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def walk_scope(root: ast.AST) -> Iterator[ast.AST]:
    """The nodes below `root` in `root`'s own scope (see `walk_nodes`)."""
    return walk_nodes(list(ast.iter_child_nodes(root)))


def body_nodes(fn: FunctionNode) -> Iterator[ast.AST]:
    """The nodes of a function's body that run when it is called."""
    return walk_nodes(list(fn.body))


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
    if isinstance(expr, ast.Constant) and isinstance(expr.value, int):
        if not isinstance(expr.value, bool):
            return expr.value
    return None


def is_true(expr: ast.AST | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


def parameters(fn: FunctionNode) -> list[tuple[ast.arg, ast.expr | None]]:
    """Every parameter with its default (None when it has none), in signature order."""
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    out = list(zip(positional, defaults))
    out += list(zip(args.kwonlyargs, args.kw_defaults))
    return out


def last_name(qualname: str | None) -> str:
    return qualname.rsplit(".", 1)[-1] if qualname else ""
