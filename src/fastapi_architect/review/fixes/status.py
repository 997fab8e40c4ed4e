"""Fixes that write statuses as named constants: FAA706 (a bare number becomes
`status.HTTP_...`) and FAA701 (a create path operation declares `201 Created`). Each
writes what its finding's message suggests: `status.HTTP_*`, or `HTTPStatus.*` in code
that names statuses that way."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from http import HTTPStatus

import libcst as cst

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fixes._base import Edit, FixContext, Import, Plan, Skip, fixer
from fastapi_architect.review.fixes._edit import (
    append_keyword,
    httpstatus_class_name,
    status_attribute,
    status_module_name,
)
from fastapi_architect.review.status_names import (
    httpstatus_member,
    status_constant,
    suggests_httpstatus,
)


class _Names:
    """The names statuses can be written with in one file, looked up once each (a lookup
    may read the whole module)."""

    def __init__(self, ctx: FixContext) -> None:
        self.ctx = ctx

    @cached_property
    def status(self) -> tuple[str, Import | None] | str:
        return status_module_name(self.ctx)

    @cached_property
    def httpstatus(self) -> tuple[str, Import | None] | str:
        return httpstatus_class_name(self.ctx)

    def for_finding(self, finding: Finding, code: int) -> tuple[str, str, Import | None] | str:
        """The name to write for `code` (the bound module or class name and the constant)
        and the import to add, as the finding's message suggests; or why the fixer
        declines."""
        if suggests_httpstatus(finding.message):
            if isinstance(self.httpstatus, str):
                return self.httpstatus
            return self.httpstatus[0], httpstatus_member(code), self.httpstatus[1]
        if isinstance(self.status, str):
            return self.status
        constant = status_constant(code)
        if constant is None:
            return f"`{code}` has a different `status` name in older and newer Starlette"
        return self.status[0], constant, self.status[1]


@fixer("FAA706", "Use the named status constant")
def numeric_status(findings: Sequence[Finding], ctx: FixContext) -> list[Plan]:
    names = _Names(ctx)
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
        named = names.for_finding(finding, value)
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
    names = _Names(ctx)
    plans: list[Plan] = []
    for finding in findings:
        node = ctx.node_at(finding, cst.Call)
        if node is None:
            plans.append(Skip((finding,), "no route registration call at the reported place"))
            continue
        named = names.for_finding(finding, 201)
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
