"""FAA606 (unsafe): `@app.on_event("startup")` / `("shutdown")` handlers are called from a
`lifespan` async context manager passed to `FastAPI(...)`.

The handlers stay where they are (only their `on_event` decorator goes), and the new
`lifespan` calls them in registration order: startup handlers before `yield`, shutdown
handlers after it, `await`ed when they are `async def`. It is defined just above the
`FastAPI(...)` assignment; it looks the handlers up when the app starts, so they may be
defined below."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fixes._base import Edit, FixContext, Import, Plan, Skip, fixer
from fastapi_architect.review.fixes._edit import Names, append_keyword

_APP_KEYWORDS = frozenset({"lifespan", "on_startup", "on_shutdown"})


@dataclass(frozen=True)
class _Handler:
    finding: Finding
    app: str
    event: str
    function: cst.FunctionDef


def _event(call: cst.Call) -> str | None:
    for arg in call.args:
        if (arg.keyword is None or arg.keyword.value == "event_type") and isinstance(
            arg.value, cst.SimpleString
        ):
            value = arg.value.evaluated_value
            return value if isinstance(value, str) else None
    return None


def _handler(finding: Finding, ctx: FixContext) -> _Handler | str:
    call = ctx.node_at(finding, cst.Call)
    if call is None:  # `on_startup=` / `on_shutdown=` arguments
        return "only `@app.on_event(...)` decorators are moved to a lifespan automatically"
    decorator = ctx.parent(call)
    function = ctx.parent(decorator) if decorator is not None else None
    func = call.func
    if not (
        isinstance(decorator, cst.Decorator)
        and isinstance(function, cst.FunctionDef)
        and isinstance(func, cst.Attribute)
        and func.attr.value == "on_event"
        and isinstance(func.value, cst.Name)
    ):
        return "only `@app.on_event(...)` decorators are moved to a lifespan automatically"
    if ctx.parent(function) is not ctx.module:
        return "the handler is not defined at module level"
    event = _event(call)
    if event not in ("startup", "shutdown"):
        return "the event is not a literal `startup` or `shutdown`"
    return _Handler(finding, func.value.value, event, function)


def _app_statement(ctx: FixContext, app: str) -> tuple[cst.SimpleStatementLine, cst.Call] | str:
    found: list[tuple[cst.SimpleStatementLine, cst.Call]] = []
    for statement in ctx.module.body:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target: cst.BaseExpression = small.targets[0].target
            value = small.value
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            target, value = small.target, small.value
        else:
            continue
        if isinstance(target, cst.Name) and target.value == app and isinstance(value, cst.Call):
            found.append((statement, value))
    if len(found) != 1:
        return f"`{app}` is not created once with `FastAPI(...)` at module level in this file"
    statement, call = found[0]
    if ctx.code(call.func).split(".")[-1] != "FastAPI":
        return f"`{app}` is not created with `FastAPI(...)` in this file"
    for arg in call.args:
        if arg.star == "**":
            return f"`{app} = FastAPI(**...)` may already pass a lifespan"
        if arg.keyword is not None and arg.keyword.value in _APP_KEYWORDS:
            return f"`FastAPI({arg.keyword.value}=...)` is already set: merge the handlers by hand"
    return statement, call


def _lifespan(
    ctx: FixContext, app_class: str, handlers: Sequence[_Handler]
) -> cst.BaseCompoundStatement:
    indent = ctx.module.default_indent
    newline = ctx.module.default_newline

    def calls(event: str) -> list[str]:
        out = []
        for handler in handlers:
            if handler.event == event:
                awaited = "await " if handler.function.asynchronous is not None else ""
                out.append(f"{indent}{awaited}{handler.function.name.value}(){newline}")
        return out

    source = (
        f"@asynccontextmanager{newline}"
        f"async def lifespan(app: {app_class}) -> AsyncIterator[None]:{newline}"
        + "".join(calls("startup"))
        + f"{indent}yield{newline}"
        + "".join(calls("shutdown"))
    )
    statement = cst.parse_statement(source, config=ctx.module.config_for_parsing)
    assert isinstance(statement, cst.BaseCompoundStatement)
    return statement


def _bound_by_import(ctx: FixContext, name: str) -> bool:
    for statement in ctx.module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    for alias in small.names:
                        bound = alias.asname.name if alias.asname else alias.name
                        if isinstance(bound, cst.Name) and bound.value == name:
                            return True
    return False


def _is_on_event(decorator: cst.Decorator, app: str) -> bool:
    expr = decorator.decorator
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "on_event"
        and isinstance(expr.func.value, cst.Name)
        and expr.func.value.value == app
    )


def _plan_app(ctx: FixContext, app: str, handlers: list[_Handler]) -> Plan:
    findings = tuple(h.finding for h in handlers)
    found = _app_statement(ctx, app)
    if isinstance(found, str):
        return Skip(findings, found)
    statement, call = found
    names = Names()
    ctx.module.visit(names)
    if "lifespan" in names.names:
        return Skip(findings, "the name `lifespan` is already used in this module")
    functions = [h.function.name.value for h in handlers]
    if len(set(functions)) != len(functions):
        return Skip(findings, "two handlers have the same name")
    lifespan = _lifespan(ctx, ctx.code(call.func), handlers)

    def add_lifespan(node: cst.CSTNode) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        if not isinstance(node, cst.SimpleStatementLine):
            return node
        small = node.body[0]
        if not isinstance(small, (cst.Assign, cst.AnnAssign)) or not isinstance(
            small.value, cst.Call
        ):
            return node
        value = append_keyword(small.value, "lifespan", cst.Name("lifespan"))
        first = ctx.module.body[0] is statement
        comments = [line for line in node.leading_lines if line.comment is not None]
        blank = [cst.EmptyLine(), cst.EmptyLine()]
        return cst.FlattenSentinel(
            [
                lifespan.with_changes(leading_lines=[] if first else blank),
                node.with_changes(
                    body=[small.with_changes(value=value)], leading_lines=[*blank, *comments]
                ),
            ]
        )

    def undecorate(node: cst.CSTNode) -> cst.CSTNode:
        if not isinstance(node, cst.FunctionDef):
            return node
        kept = [d for d in node.decorators if not _is_on_event(d, app)]
        # A comment on a removed decorator's line stays, on its own line above the `def`.
        comments = [
            cst.EmptyLine(comment=d.trailing_whitespace.comment)
            for d in node.decorators
            if _is_on_event(d, app) and d.trailing_whitespace.comment is not None
        ]
        return node.with_changes(decorators=kept, leading_lines=[*node.leading_lines, *comments])

    edit = Edit(findings).replace(statement, add_lifespan)
    for handler in handlers:
        edit.replace(handler.function, undecorate)
    for module, name in (
        ("contextlib", "asynccontextmanager"),
        ("collections.abc", "AsyncIterator"),
    ):
        if not _bound_by_import(ctx, name):
            edit.imports.append(Import(module, name))
    return edit


def _one_file(findings: Sequence[Finding]) -> str | None:
    """Once an app has a lifespan, Starlette ignores its other startup and shutdown
    handlers, and those of the routers it includes: with registrations in several files,
    moving one file's would silently drop the others'."""
    files = sorted({f.file for f in findings})
    if len(files) > 1:
        return (
            "startup/shutdown handlers are registered in several files "
            f"({', '.join(files[:3])}{', ...' if len(files) > 3 else ''}): "
            "move them into one lifespan by hand"
        )
    return None


@fixer(
    "FAA606",
    "Move the startup and shutdown code into a `lifespan`",
    precheck=_one_file,
)
def on_event_to_lifespan(findings: Sequence[Finding], ctx: FixContext) -> list[Plan]:
    handlers: list[_Handler] = []
    problems: list[tuple[Finding, str]] = []
    for finding in findings:
        found = _handler(finding, ctx)
        if isinstance(found, str):
            problems.append((finding, found))
        else:
            handlers.append(found)
    apps = {h.app for h in handlers}
    if problems or len(apps) > 1:
        # A lifespan makes Starlette ignore every other startup/shutdown registration of
        # the app: all of the file's events move together, or none does.
        plans: list[Plan] = [Skip((f,), reason) for f, reason in problems]
        others = (
            "another startup/shutdown registration in this file cannot be moved"
            if problems
            else "events of several apps in one file are moved by hand"
        )
        plans.extend(Skip((h.finding,), others) for h in handlers)
        return plans
    if not handlers:
        return []
    return [_plan_app(ctx, handlers[0].app, handlers)]
