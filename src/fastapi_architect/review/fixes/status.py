"""Fixes that write statuses as named constants: FAA706 (a bare number becomes
`status.HTTP_...`) and FAA701 (a create path operation declares `201 Created`). Each
writes what its finding's message suggests: `status.HTTP_*`, or `HTTPStatus.*` in code
that names statuses that way."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

import libcst as cst

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fixes._base import Edit, FixContext, Import, Plan, Skip, fixer
from fastapi_architect.review.fixes._edit import (
    append_keyword,
    httpstatus_class_name,
    status_attribute,
    status_constant,
    status_module_name,
)
from fastapi_architect.review.status_names import httpstatus_member, suggests_httpstatus


def _named_status(
    finding: Finding, code: int, ctx: FixContext
) -> tuple[str, str, Import | None] | str:
    """The name to write for `code` (the bound module or class name and the constant) and
    the import to add, as the finding's message suggests; or why the fixer declines."""
    if suggests_httpstatus(finding.message):
        bound = httpstatus_class_name(ctx)
        if isinstance(bound, str):
            return bound
        return bound[0], httpstatus_member(code), bound[1]
    bound = status_module_name(ctx)
    if isinstance(bound, str):
        return bound
    constant = status_constant(code)
    if constant is None:
        return f"`{code}` has a different `status` name in older and newer Starlette"
    return bound[0], constant, bound[1]


@fixer("FAA706", "Use the named status constant")
def numeric_status(findings: Sequence[Finding], ctx: FixContext) -> list[Plan]:
    plans: list[Plan] = []
    for finding in findings:
        node = ctx.node_at(finding, cst.Integer)
        if node is None:
            plans.append(Skip((finding,), "no integer literal at the reported place"))
            continue
        value = node.evaluated_value
        if value not in HTTPStatus._value2member_map_:
            plans.append(Skip((finding,), f"`{value}` is not an HTTP status"))
            continue
        named = _named_status(finding, value, ctx)
        if isinstance(named, str):
            plans.append(Skip((finding,), named))
            continue
        name, constant, needed = named

        def write(old: cst.CSTNode, constant: str = constant, name: str = name) -> cst.CSTNode:
            if not isinstance(old, cst.Integer):
                return old
            return status_attribute(name, constant).with_changes(lpar=old.lpar, rpar=old.rpar)

        edit = Edit((finding,)).replace(node, write)
        if needed is not None:
            edit.imports.append(needed)
        plans.append(edit)
    return plans


@fixer("FAA701", "Declare `status_code=201` by its name")
def created_status(findings: Sequence[Finding], ctx: FixContext) -> list[Plan]:
    plans: list[Plan] = []
    for finding in findings:
        node = ctx.node_at(finding, cst.Call)
        if node is None:
            plans.append(Skip((finding,), "no route registration call at the reported place"))
            continue
        named = _named_status(finding, 201, ctx)
        if isinstance(named, str):
            plans.append(Skip((finding,), named))
            continue
        if any(
            arg.star or (arg.keyword and arg.keyword.value == "status_code") for arg in node.args
        ):
            plans.append(Skip((finding,), "the call already passes `status_code` or `**kwargs`"))
            continue
        name, constant, needed = named

        def declare(old: cst.CSTNode, name: str = name, constant: str = constant) -> cst.CSTNode:
            if not isinstance(old, cst.Call) or any(
                a.keyword and a.keyword.value == "status_code" for a in old.args
            ):
                return old
            return append_keyword(old, "status_code", status_attribute(name, constant))

        edit = Edit((finding,)).replace(node, declare)
        if needed is not None:
            edit.imports.append(needed)
        plans.append(edit)
    return plans
