"""FAA602: `return HTTPException(...)` becomes `raise HTTPException(...)`."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fixes._base import Edit, FixContext, Plan, Skip, fixer


def _raise(old: cst.CSTNode) -> cst.CSTNode:
    if not isinstance(old, cst.Return) or old.value is None:
        return old
    return cst.Raise(
        exc=old.value,
        whitespace_after_raise=old.whitespace_after_return,
        semicolon=old.semicolon,
    )


@fixer("FAA602", "Replace `return` with `raise`")
def raise_http_exception(findings: Sequence[Finding], ctx: FixContext) -> list[Plan]:
    plans: list[Plan] = []
    for finding in findings:
        node = ctx.node_at(finding, cst.Return)
        if node is None or node.value is None:
            plans.append(Skip((finding,), "no `return` statement at the reported place"))
        else:
            plans.append(Edit((finding,)).replace(node, _raise))
    return plans
