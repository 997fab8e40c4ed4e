"""Fixes that write statuses as `fastapi.status` constants: FAA706 (a bare number becomes
`status.HTTP_...`) and FAA701 (a create path operation declares `201 Created`)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fixes._base import Edit, FixContext, Plan, Skip, fixer
from fastapi_architect.review.fixes._edit import (
    append_keyword,
    status_attribute,
    status_constant,
    status_module_name,
)


@fixer("FAA706", "Use the named `fastapi.status` constant")
def numeric_status(findings: Sequence[Finding], ctx: FixContext) -> list[Plan]:
    bound = status_module_name(ctx)
    plans: list[Plan] = []
    for finding in findings:
        node = ctx.node_at(finding, cst.Integer)
        if node is None:
            plans.append(Skip((finding,), "no integer literal at the reported place"))
            continue
        if isinstance(bound, str):
            plans.append(Skip((finding,), bound))
            continue
        value = node.evaluated_value
        constant = status_constant(value)
        if constant is None:
            plans.append(
                Skip(
                    (finding,),
                    f"`{value}` has a different `status` name in older and newer Starlette"
                    if 100 <= value < 600
                    else f"`{value}` is not an HTTP status",
                )
            )
            continue
        name, needed = bound

        def named(old: cst.CSTNode, constant: str = constant, name: str = name) -> cst.CSTNode:
            if not isinstance(old, cst.Integer):
                return old
            return status_attribute(name, constant).with_changes(lpar=old.lpar, rpar=old.rpar)

        edit = Edit((finding,)).replace(node, named)
        if needed is not None:
            edit.imports.append(needed)
        plans.append(edit)
    return plans


@fixer("FAA701", "Declare `status_code=status.HTTP_201_CREATED`")
def created_status(findings: Sequence[Finding], ctx: FixContext) -> list[Plan]:
    bound = status_module_name(ctx)
    plans: list[Plan] = []
    for finding in findings:
        node = ctx.node_at(finding, cst.Call)
        if node is None:
            plans.append(Skip((finding,), "no route registration call at the reported place"))
            continue
        if isinstance(bound, str):
            plans.append(Skip((finding,), bound))
            continue
        if any(
            arg.star or (arg.keyword and arg.keyword.value == "status_code") for arg in node.args
        ):
            plans.append(Skip((finding,), "the call already passes `status_code` or `**kwargs`"))
            continue
        name, needed = bound

        def declare(old: cst.CSTNode, name: str = name) -> cst.CSTNode:
            if not isinstance(old, cst.Call) or any(
                a.keyword and a.keyword.value == "status_code" for a in old.args
            ):
                return old
            return append_keyword(old, "status_code", status_attribute(name, "HTTP_201_CREATED"))

        edit = Edit((finding,)).replace(node, declare)
        if needed is not None:
            edit.imports.append(needed)
        plans.append(edit)
    return plans
