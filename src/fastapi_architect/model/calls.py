"""Which parameter of a project function each argument of a call goes to.

Every rule that follows a value into a helper (a request field into a query, a
credential into a check, a literal into a flag) needs the same mapping, and the
method cases are where it goes wrong: `obj.method(x)` and `cls.build(x)` fill the
first parameter themselves, `Class.method(obj, x)` and `@staticmethod`s do not.
"""

from __future__ import annotations

import ast

from fastapi_architect.model.astutil import dotted, last_name
from fastapi_architect.model.project import Function


def receiver_count(callee: Function, call: ast.Call, unbound: bool | None = None) -> int:
    """How many leading parameters of `callee` the call fills without an argument: 1
    for `self`/`cls` of a method looked up on an instance (or a classmethod on
    anything), else 0. `unbound` says whether the receiver is the class itself, when
    the caller can resolve it; without it, a receiver spelled like the class
    (`Store.method`, `models.Store.method`) counts as the class."""
    if callee.class_qualname is None or not isinstance(call.func, ast.Attribute):
        return 0
    decorators = {dotted(d) for d in callee.node.decorator_list}
    if "staticmethod" in decorators:
        return 0
    if "classmethod" in decorators:
        return 1
    if unbound is None:
        receiver = dotted(call.func.value)
        unbound = receiver is not None and last_name(receiver) == last_name(callee.class_qualname)
    return 0 if unbound else 1


def spreads(call: ast.Call) -> bool:
    """Does the call pass `*args` or `**kwargs`, which may fill any parameter?"""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    )


def passed_arguments(
    callee: Function, call: ast.Call, unbound: bool | None = None
) -> dict[str, ast.expr]:
    """Parameter name → the expression the call passes for it, positionally or by
    keyword (see `receiver_count` for `unbound`). Positional arguments from the first
    `*args` on, those beyond the positional parameters and `**kwargs` are not matched."""
    args = callee.node.args
    names = [a.arg for a in [*args.posonlyargs, *args.args]]
    names = names[receiver_count(callee, call, unbound) :]
    out: dict[str, ast.expr] = {}
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred) or index >= len(names):
            break
        out[names[index]] = arg
    for kw in call.keywords:
        if kw.arg is not None:
            out[kw.arg] = kw.value
    return out
