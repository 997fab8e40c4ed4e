"""FAA6xx/FAA7xx: application wiring around the routes (startup and shutdown events,
middleware order, exception handlers, error handling inside routes) and the status codes
of DELETE and no-content path operations."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

from fastapi_architect.model.apps import (
    APP_CLASSES,
    ROUTER_CLASSES,
    Route,
    RouterObj,
    status_code_value,
)
from fastapi_architect.model.astutil import (
    argument,
    assignment_targets,
    body_nodes,
    child_nodes,
    const_str,
    keyword,
    last_name,
    parameters,
    statements,
    walk,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.callgraph import CallSite
from fastapi_architect.model.calls import passed_arguments
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.types import annotation_type, infer_type, resolve_callee
from fastapi_architect.review.context import FileContext, ProjectContext
from fastapi_architect.review.finding import Severity
from fastapi_architect.review.index import project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._callsites import call_sites
from fastapi_architect.review.rules._http import REQUEST
from fastapi_architect.review.rules._orm import (
    OrmState,
    is_session_call,
    is_test_module,
    state,
)
from fastapi_architect.review.rules._parsing import parser_call, uses_database
from fastapi_architect.review.rules.errors import (
    HTTP_EXCEPTIONS,
    is_exception_type,
    leak_state,
    parses_client_input,
    response_kind,
    status_value,
)
from fastapi_architect.review.rules.injection import argument_for
from fastapi_architect.review.rules.validation import (
    annotation_mentions_response,
    has_keyword_splat,
    is_response_expr,
    returned_values,
    route_label,
)

_APP_OR_ROUTER = APP_CLASSES | ROUTER_CLASSES
_EVENTS = frozenset({"startup", "shutdown"})


def _router_kind(ctx: FileContext, expr: ast.expr) -> tuple[str, RouterObj | None] | None:
    """('app' | 'router', the model's binding when known) when `expr` is a FastAPI app or
    an APIRouter: a binding the model knows, or a value whose type is one (`app:
    FastAPI` parameter, `self.app = FastAPI()`)."""
    name = ctx.resolve(expr)
    if name is not None:
        router = ctx.model.routers.get(name)
        if router is not None:
            return router.kind, router
    typ = infer_type(ctx.project, ctx.module, expr, ctx.function())
    if typ is None:
        return None
    if ctx.project.is_subclass(typ, APP_CLASSES):
        return "app", None
    if ctx.project.is_subclass(typ, ROUTER_CLASSES):
        return "router", None
    return None


# ------------------------------------------------------------------ FAA606

# The names FAA606 looks for: an attribute (`on_event`, `add_event_handler`) or a
# keyword (`on_startup=`, `on_shutdown=`).
_EVENT_WORDS = ("on_event", "add_event_handler", "on_startup", "on_shutdown")


def _mentions_events(module: Module) -> bool:
    """FAA606's module guard: the rule only reports a call spelling one of `_EVENT_WORDS`."""
    return module.may_spell(*_EVENT_WORDS)


@rule(
    code="FAA606",
    name="deprecated-on-event",
    summary="Startup or shutdown code is registered with the deprecated `on_event`",
    severity="warning",
    nodes=(ast.Call,),
    applies=_mentions_events,
    fix_title="Move the startup and shutdown code into a `lifespan` context manager",
    references=(
        "https://fastapi.tiangolo.com/advanced/events/",
        "https://www.starlette.io/lifespan/",
    ),
)
def deprecated_on_event(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds startup and shutdown code registered the deprecated way on a FastAPI app or an
    `APIRouter`: `@app.on_event("startup")` / `@router.on_event("shutdown")`,
    `app.add_event_handler("startup", fn)`, and the `on_startup=` / `on_shutdown=`
    arguments of `FastAPI(...)` and `APIRouter(...)`.

    ## Why is this bad?
    FastAPI deprecated these events in favour of a `lifespan` async context manager
    (they only emit a warning at runtime) and Starlette plans to remove them. Worse,
    when an app also has `lifespan=`, the `on_event` handlers are silently never run:
    resources they open (connection pools, clients, caches) are missing at the first
    request (reported as an error). A lifespan also keeps startup and shutdown of one
    resource together and can hand state to requests through `request.state`.

    ## Known problems
    Only calls on a value known to be a FastAPI app or an `APIRouter` are reported (a
    binding of the project, or a value typed as one): an unrelated `on_event` method of
    another library is not.

    ## Example
    ```python
    app = FastAPI()


    @app.on_event("startup")
    async def connect() -> None:
        app.state.redis = Redis.from_url(REDIS_URL)


    @app.on_event("shutdown")
    async def disconnect() -> None:
        await app.state.redis.aclose()
    ```

    ## Use instead
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = Redis.from_url(REDIS_URL)
        yield
        await app.state.redis.aclose()


    app = FastAPI(lifespan=lifespan)
    ```

    ## Fix safety
    `--unsafe-fixes` moves the handlers into a `lifespan` passed to `FastAPI(...)`, calling
    them in registration order. It is unsafe: it changes when and in which order they run
    with respect to other lifespans (mounted apps, routers' `lifespan=`). It declines when
    the file also registers handlers another way, the app already has a lifespan or
    `on_startup=`/`on_shutdown=`, or the handlers are spread over several files.

    ## References
    - [FastAPI: Lifespan Events](https://fastapi.tiangolo.com/advanced/events/)
    """
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in ("on_event", "add_event_handler"):
        event = const_str(node.args[0]) if node.args else const_str(keyword(node, "event_type"))
        if event not in _EVENTS:
            return
        found = _router_kind(ctx, func.value)
        if found is None:
            return
        kind, router = found
        how = f'`{func.attr}("{event}")`'
        ignored = ""
        if router is not None and kind == "app" and keyword(router.node, "lifespan") is not None:
            ignored = ", and it never runs because the app has `lifespan=`"
        yield Report(
            node,
            f"{how} is deprecated: use a `lifespan` context manager{ignored}",
            severity="error" if ignored else None,
        )
        return
    if not any(kw.arg in ("on_startup", "on_shutdown") for kw in node.keywords):
        return
    callee = ctx.resolve(func)
    if callee is None or not ctx.project.is_subclass(callee, _APP_OR_ROUTER):
        return
    for kw in node.keywords:
        if kw.arg in ("on_startup", "on_shutdown"):
            if isinstance(kw.value, (ast.List, ast.Tuple)) and not kw.value.elts:
                continue  # `on_startup=[]`: nothing registered
            if isinstance(kw.value, ast.Constant) and kw.value.value is None:
                continue
            ignored = ""
            if keyword(node, "lifespan") is not None:
                ignored = ", and it never runs because `lifespan=` is also given"
            yield Report(
                kw.value,
                f"`{kw.arg}=` is deprecated: use a `lifespan` context manager{ignored}",
                severity="error" if ignored else None,
            )


# ------------------------------------------------------------------ FAA603

_BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
_LOG_METHODS = frozenset(
    {"exception", "error", "warning", "warn", "critical", "fatal", "info", "debug", "log"}
)
_REPORTERS = frozenset(
    {
        "traceback.print_exc",
        "traceback.print_exception",
        "sentry_sdk.capture_exception",
        "sentry_sdk.capture_message",
    }
)
# What a try body may call and still only parse the client's input: a catch-all that
# answers 400 around it is broad, but every error it catches is the client's.
_PARSERS = frozenset(
    {
        "int",
        "float",
        "str",
        "bool",
        "complex",
        "bytes",
        "dict",
        "list",
        "len",
        "open",
        "Decimal",
        "UUID",
        "loads",
        "b64decode",
        "urlsafe_b64decode",
        "fromisoformat",
        "strptime",
        "parse",
        "model_validate",
        "model_validate_json",
        "validate_python",
        "validate_json",
        "parse_obj",
        "parse_raw",
        "ip_address",
        "ip_network",
        "urlparse",
        "decode",
        "encode",
        "unquote",
        "unquote_plus",
        "BytesIO",
        "split",
        "rsplit",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "replace",
        "startswith",
        "endswith",
        "join",
        "format",
        "isoformat",
    }
)
# Best-effort cleanup a route may let fail silently (a temp file, a cache entry, a
# connection that is going away anyway).
_CLEANUP_WORDS = frozenset(
    {
        "close",
        "aclose",
        "cleanup",
        "clear",
        "remove",
        "unlink",
        "rmtree",
        "delete",
        "discard",
        "shutdown",
        "cancel",
        "disconnect",
        "release",
        "kill",
        "terminate",
        "stop",
        "unsubscribe",
    }
)
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_NESTED_TYPES = frozenset(_NESTED)  # for the exact-type test of `_own_nodes`


def _own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of these statements, not entering nested functions or classes, in
    pre-order; like `astutil.child_nodes`, without the `ctx` markers (`Load()`,
    `Store()`), which no caller looks for."""
    todo: list[ast.AST] = list(reversed(body))
    pop, extend = todo.pop, todo.extend
    nested = _NESTED_TYPES
    while todo:
        node = pop()
        yield node
        if type(node) not in nested:
            extend(reversed(child_nodes(node)))


def _body_list(fn: Function) -> list[ast.AST]:
    """`list(body_nodes(fn.node))`, made once per function: FAA604 reads the nodes of
    the functions it follows several times."""
    cached = fn.derived.get(_body_list)
    if cached is None:
        cached = fn.derived[_body_list] = list(body_nodes(fn.node))
    return cast(list[ast.AST], cached)


def _is_broad(ctx: FileContext, caught: ast.expr | None) -> str:
    """`Exception` / `BaseException` / bare, as shown in messages ("" when narrower)."""
    if caught is None:
        return "except:"
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    for element in elements:
        name = ctx.resolve(element)
        if name in _BROAD or (
            name is None and isinstance(element, ast.Name) and element.id in _BROAD
        ):
            return f"except {last_name(name) if name else ast.unparse(element)}"
    return ""


def _is_log_call(ctx: FileContext, call: ast.Call) -> bool:
    callee = ctx.resolve(call.func)
    if callee is not None and (callee in _REPORTERS or callee.startswith(("logging.", "loguru."))):
        return True
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr.lstrip("a") in _LOG_METHODS):
        return False  # `logger.aexception` (structlog) too
    receiver = func.value
    while isinstance(receiver, (ast.Attribute, ast.Call)):
        if isinstance(receiver, ast.Attribute) and "log" in receiver.attr.lower():
            return True
        receiver = receiver.func if isinstance(receiver, ast.Call) else receiver.value
    return isinstance(receiver, ast.Name) and "log" in receiver.id.lower()


def _logs(ctx: FileContext, body: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Call) and _is_log_call(ctx, n) for n in _own_nodes(body))


def _error_status(ctx: FileContext, expr: ast.expr | None) -> tuple[str, int | None]:
    """('raise', status) for an `HTTPException`, ('response', status) for a response
    object (200 when it sets none), ('other', None) for anything else."""
    if isinstance(expr, ast.Call):
        kind = response_kind(ctx, expr)
        if kind == "exception":
            return "raise", status_value(argument(expr, 0, "status_code"))
        if kind == "response":
            code = argument(expr, 1, "status_code")
            return "response", 200 if code is None else status_value(code)
    return "other", None


# Name prefixes of calls that only check, read or reformat the value they are given
# (`normalize_datetime(value, timezone.utc)` too).
_PARSER_PREFIXES = ("validate", "parse", "format", "normalize")
# Outside functions and class methods that only decode the value they are given
# (`GlobalID.from_id(id)`, `Color.from_str(s)`, `codec.decode_header(raw)`,
# `lnurl.url_decode(s)`).
_DECODER_PREFIXES = ("decode", "model_validate")
_DECODER_SUFFIX = "_decode"
_DECODERS = frozenset(
    {"from_id", "from_str", "from_string", "from_base64", "from_json", "from_hex", "fromhex"}
)
# Built-ins and string methods a pure helper may call (they cannot do I/O).
_PURE_CALLS = frozenset(
    {
        "isinstance",
        "issubclass",
        "hasattr",
        "tuple",
        "set",
        "frozenset",
        "sorted",
        "min",
        "max",
        "abs",
        "round",
        "range",
        "enumerate",
        "zip",
        "any",
        "all",
        "match",
        "fullmatch",
        "partition",
        "rpartition",
        "removeprefix",
        "removesuffix",
        "isdigit",
        "isalnum",
    }
)
_PARSE_NAMES = _PARSERS | _PURE_CALLS
_MAX_PARSE_DEPTH = 3
# SQLAlchemy functions that only build a statement or an expression (they send nothing).
_SQL_BUILDERS = frozenset(
    {
        "select",
        "insert",
        "update",
        "delete",
        "tuple_",
        "and_",
        "or_",
        "not_",
        "literal",
        "literal_column",
        "column",
        "table",
        "case",
        "cast",
        "text",
        "desc",
        "asc",
        "nulls_first",
        "nulls_last",
        "exists",
        "union",
        "union_all",
        "bindparam",
        "null",
        "true",
        "false",
        "distinct",
        "between",
        "extract",
        "type_coerce",
        "aliased",
    }
)
# Methods of a statement or a column expression that only build a new one
# (`query.where(Model.id <= rowid)`, `Model.id.in_(ids)`): no session or connection
# method, nor a name another library uses for I/O (`update`, `distinct`, `count`).
_SQL_BUILDER_METHODS = frozenset(
    {
        "where",
        "filter",
        "filter_by",
        "order_by",
        "group_by",
        "having",
        "limit",
        "offset",
        "select_from",
        "join_from",
        "outerjoin",
        "options",
        "with_only_columns",
        "add_columns",
        "returning",
        "on_conflict_do_nothing",
        "on_conflict_do_update",
        "subquery",
        "scalar_subquery",
        "cte",
        "alias",
        "correlate",
        "label",
        "in_",
        "not_in",
        "notin_",
        "is_",
        "is_not",
        "isnot",
        "like",
        "ilike",
        "not_like",
        "not_ilike",
        "contains",
        "between",
        "desc",
        "asc",
        "nulls_first",
        "nulls_last",
        "op",
    }
)
_SQL_PACKAGES = ("sqlalchemy", "sqlmodel")


def _imports_sql(module: Module) -> bool:
    return any(target.split(".", 1)[0] in _SQL_PACKAGES for target in module.imports.values())


def _builds_sql(ctx: FileContext, call: ast.Call, callee: str | None) -> bool:
    """Does this call only build a SQLAlchemy statement or expression (`select(M)`,
    `tuple_(*cols)`, `func.max(M.id)`, `query.where(M.id <= rowid)`), in a module that
    imports SQLAlchemy? Its receiver and arguments are checked on their own: a chain
    that starts at `session.query(M)` or `await session.execute(...)` is not a build."""
    if callee is not None and callee.split(".", 1)[0] in _SQL_PACKAGES:
        head, _, name = callee.rpartition(".")
        return name in _SQL_BUILDERS or last_name(head) == "func"  # `func.max(M.id)`
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in _SQL_BUILDER_METHODS
        and (callee is None or ctx.project.function(callee) is None)
        and _imports_sql(ctx.module)
    )


def _only_parses(
    ctx: FileContext, body: list[ast.stmt], depth: int = 0, body_reads: bool = False
) -> bool:
    """Does the try body only convert, validate or format input (no await, no I/O)? A
    call to a project function counts when that function is itself such a pure parser
    (followed three steps): a plain function with no `await` that only calls parsers
    (`from_global_id_with_expected_type(gid, "Dataset")` checks a type name and does
    `int()`), a class method that builds its class (`cls(rowid=int(raw))`), or a parser
    FAA601 accepts too (`parser_call`: `SpanQuery.from_dict(data)` of the project's own
    package outside the reviewed folder). Building a SQLAlchemy statement sends nothing
    (`query = query.where(Model.id <= rowid)`): it counts too."""
    reads: set[int] = set()
    for node in _own_nodes(body):
        # (`body_reads` is only given at the top: the helpers followed are synchronous.)
        if (
            body_reads
            and isinstance(node, ast.Await)
            and (_reads_request_body(ctx, node.value) or _body_reading_helper(ctx, node.value))
        ):
            reads.add(id(node.value))
            continue
        if isinstance(node, (ast.Await, ast.AsyncWith, ast.AsyncFor, ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, ast.Call) and id(node) not in reads:
            func = node.func
            short = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if short.lstrip("_").startswith(_PARSER_PREFIXES):
                # `validate_password(...)` checks the client's input; `black.format_str(
                # code)` or `normalize_datetime(value)` only reformats it: their errors
                # are the client's. Not a project one that reads the database.
                callee = ctx.resolve(func)
                helper = ctx.project.function(callee) if callee is not None else None
                if helper is not None and uses_database(ctx.model, helper, list(helper.node.body)):
                    return False
                continue
            if short == "cls" and depth > 0:
                continue  # `cls(rowid=...)` in a class method decoder builds its class
            if parser_call(ctx, node):
                continue
            callee = ctx.resolve(func)
            if _builds_sql(ctx, node, callee):
                continue
            helper = ctx.project.function(callee) if callee is not None else None
            if helper is not None:
                if not _pure_parser(ctx, helper, depth):
                    return False
                continue
            # The name as written and the canonical one when it resolves: `from lnurl
            # import url_decode as to_url` is `url_decode`, `from base64 import
            # urlsafe_b64decode as decode_b64` is a decoder by either name.
            names = {short, last_name(callee)} if callee is not None else {short}
            if any(_decoder(name) for name in names):
                continue  # `GlobalID.from_id(id)`: base64 of the client's id
            if not names & _PARSE_NAMES and not short[:1].isupper():
                return False
    return True


# What reading the request's body raises is about the body the client sent: not JSON,
# or the client disconnected. Not `form()`: a multipart upload is spooled to disk.
_BODY_READS = frozenset({"json", "body"})


def _body_reading_helper(ctx: FileContext, value: ast.expr) -> bool:
    """`await _json_body(request)`, a project coroutine whose whole body is `return await
    request.json()` (or `.body()`) of the parameter the route's `Request` is passed to."""
    if not (isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords):
        return False
    helper = ctx.project.function(ctx.resolve(value.func))
    if helper is None or not helper.is_async or helper.class_qualname is not None:
        return False
    body = [
        stmt
        for stmt in helper.node.body
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
    ]
    if not (
        len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Await)
    ):
        return False
    read = body[0].value.value
    params = [param.arg for param, _default in parameters(helper.node)]
    if not (
        isinstance(read, ast.Call)
        and not read.args
        and not read.keywords
        and isinstance(read.func, ast.Attribute)
        and read.func.attr in _BODY_READS
        and isinstance(read.func.value, ast.Name)
        and params[:1] == [read.func.value.id]
    ):
        return False
    # The route's own `Request` goes in: the same check as a read written in the route.
    passed = ast.Call(
        func=ast.Attribute(value=value.args[0], attr=read.func.attr, ctx=ast.Load()),
        args=[],
        keywords=[],
    )
    return _reads_request_body(ctx, passed)


def _reads_request_body(ctx: FileContext, value: ast.expr) -> bool:
    """`request.json()` or `request.body()` of the route's `Request` parameter, a name
    the function never binds to anything else (`for request in pending:`)."""
    if not (isinstance(value, ast.Call) and not value.args and not value.keywords):
        return False
    func = value.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr in _BODY_READS
        and isinstance(func.value, ast.Name)
    ):
        return False
    fn = ctx.function()
    name = func.value.id
    if fn is None or name not in fn.param_names or name in fn.local_values:
        return False
    return any(
        param.arg == func.value.id
        and annotation_type(ctx.project, fn.module, param.annotation, fn.parent) in REQUEST
        for param, _default in parameters(fn.node)
    )


def _spares_cancellation(ctx: FileContext, caught: ast.expr | None) -> bool:
    """Does the clause leave `BaseException`s alone (`except Exception`, not a bare
    `except:` or `except BaseException`)? Around an `await`, a catch-all of those also
    takes the request's cancellation (the client went away) for a bad body."""
    if caught is None:
        return False
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return all(last_name(ctx.resolve(e)) != "BaseException" for e in elements)


def _decoder(name: str) -> bool:
    """Is an outside call named like a decoder (`decode*`, `*_decode`, `from_id`...)?"""
    return name.startswith(_DECODER_PREFIXES) or name.endswith(_DECODER_SUFFIX) or name in _DECODERS


def _pure_parser(ctx: FileContext, fn: Function, depth: int) -> bool:
    """Is this project function a pure parser: synchronous, undecorated (or a static or
    class method), and its body only calls parsers (`_only_parses`)?"""
    node = fn.node
    if depth >= _MAX_PARSE_DEPTH or fn.is_async:
        return False
    if any(
        not (isinstance(d, ast.Name) and d.id in _PLAIN_DECORATORS) for d in node.decorator_list
    ):
        return False
    helper_ctx = FileContext(fn.module, ctx.model, ctx.config, stack=[node])
    return _only_parses(helper_ctx, list(node.body), depth + 1)


def _only_cleanup(body: list[ast.stmt]) -> bool:
    """Does the try body only release or clean something up (`os.unlink(tmp)`,
    `await iterator.aclose()`, `request.session.clear()`)?"""
    calls = [n for n in _own_nodes(body) if isinstance(n, ast.Call)]
    if not calls:
        return False
    for call in calls:
        func = call.func
        short = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        words = set(short.lower().strip("_").split("_"))
        if not words & _CLEANUP_WORDS:
            return False
    return True


def _raises_after(ctx: FileContext, try_node: ast.AST) -> bool:
    """Does a `raise` follow the `try` (in its block, or in an enclosing block of the
    same function, before any loop)? The failure then ends in an error anyway."""
    stack = ctx.stack
    index = len(stack) - 1  # the `try` itself
    while index >= 1:
        stmt, owner = stack[index], stack[index - 1]
        if isinstance(owner, (*_NESTED, ast.For, ast.AsyncFor, ast.While)):
            return False
        for name in ("body", "orelse", "finalbody"):
            block = getattr(owner, name, None)
            if isinstance(block, list) and stmt in block:
                after = block[block.index(stmt) + 1 :]
                if any(isinstance(s, ast.Raise) for s in after):
                    return True
                if any(isinstance(s, ast.Return) for s in after):
                    return False
        index -= 1
    return False


def _preset_fallback(ctx: FileContext, try_node: ast.Try) -> bool:
    """`value = None; try: value = await fetch() except Exception: pass`: the try body
    only binds names, each bound to a plain fallback value (`_safe_value`) just before
    the `try` in the same block, and none of them is the route's answer (`return
    value`). On failure the code carries on with the fallback, as with `except
    Exception: value = None`."""
    if len(ctx.stack) < 2:
        return False
    owner = ctx.stack[-2]
    block = next(
        (
            b
            for b in (getattr(owner, name, None) for name in ("body", "orelse", "finalbody"))
            if isinstance(b, list) and try_node in b
        ),
        None,
    )
    if block is None:
        return False
    names: set[str] = set()
    for stmt in try_node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target = stmt.target
        else:
            return False
        if not isinstance(target, ast.Name):
            return False
        names.add(target.id)
    before = block[: block.index(try_node)]
    for name in names:
        preset = next(
            (
                stmt
                for stmt in reversed(before)
                if isinstance(stmt, (ast.Assign, ast.AnnAssign))
                and any(
                    _is_name(t, name)
                    for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                )
            ),
            None,
        )
        if preset is None or preset.value is None or not _safe_value(preset.value):
            return False
    fn = ctx.function()
    return fn is None or not any(
        isinstance(n, ast.Return) and isinstance(n.value, ast.Name) and n.value.id in names
        for n in _own_nodes(list(fn.node.body))
    )


def _fallback(ctx: FileContext, try_node: ast.AST, body_reads: bool = False) -> bool:
    """A `try: ...; return X / except: pass` whose failure path falls through to other
    code that answers (a fallback), keeps a fallback value bound before the `try`,
    only cleans up or parses, or is followed by a `raise` (the route fails anyway, the
    `try` only gathered details)."""
    if not isinstance(try_node, ast.Try):
        return False
    if any(isinstance(n, ast.Return) for n in _own_nodes(try_node.body)):
        return True
    if _only_cleanup(try_node.body) or _only_parses(ctx, try_node.body, body_reads=body_reads):
        return True
    if _preset_fallback(ctx, try_node):
        return True
    return _raises_after(ctx, try_node)


# What a `try` body may hold besides calls to catch-all helpers: binding and returning
# what they give back (nothing here can raise).
_INERT = (
    ast.Assign,
    ast.AnnAssign,
    ast.Return,
    ast.Expr,
    ast.Name,
    ast.Constant,
    ast.keyword,
    ast.expr_context,
)
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})


def _safe_value(expr: ast.expr | None) -> bool:
    """A value a failure path can return without raising (`None`, a constant, a name,
    an empty container, a tuple or list of names and constants)."""
    if expr is None or isinstance(expr, (ast.Constant, ast.Name)):
        return True
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return all(isinstance(e, (ast.Constant, ast.Name)) for e in expr.elts)
    return isinstance(expr, ast.Dict) and not expr.keys


def _plain_setup(stmt: ast.stmt) -> bool:
    """A statement before a helper's `try` that does not fail at run time: a (lazy)
    import, or a name bound to a safe value (`temp_files = [input_path]`)."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return True
    return (
        isinstance(stmt, ast.Assign)
        and all(isinstance(t, ast.Name) for t in stmt.targets)
        and _safe_value(stmt.value)
    )


def _catch_all_helper(ctx: FileContext, fn: Function) -> bool:
    """Is the function's whole body one `try` whose handlers (a catch-all among them)
    only log the error and return (`try: ...; except Exception: log.exception(...);
    return None`), after plain setup at most (`_plain_setup`)? No exception ever
    leaves it."""
    node = fn.node
    if any(
        not (isinstance(d, ast.Name) and d.id in _PLAIN_DECORATORS) for d in node.decorator_list
    ) or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(node.body)):
        return False
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    while len(body) > 1 and _plain_setup(body[0]):
        body = body[1:]
    if len(body) == 2 and isinstance(body[1], ast.Return) and _safe_value(body[1].value):
        body = body[:1]
    if len(body) != 1 or not isinstance(body[0], ast.Try):
        return False
    try_node = body[0]
    if try_node.orelse or try_node.finalbody:
        return False
    helper_ctx = FileContext(fn.module, ctx.model, ctx.config, stack=[node])
    if not any(_is_broad(helper_ctx, h.type) for h in try_node.handlers):
        return False
    for handler in try_node.handlers:
        if not _logs(helper_ctx, handler.body):
            return False
        for stmt in handler.body:
            if isinstance(stmt, ast.Pass) or (
                isinstance(stmt, ast.Return) and _safe_value(stmt.value)
            ):
                continue
            if not (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and _is_log_call(helper_ctx, stmt.value)
            ):
                return False
    return True


def _cannot_raise(ctx: FileContext, body: list[ast.stmt]) -> bool:
    """Can nothing in the try body raise? Each call in it is to a project function that
    catches, logs and swallows every exception itself (followed one step), and the rest
    only binds names to what they return and returns them. A name bound in the body is
    not dereferenced: the helper may have returned `None`."""
    bound = {
        n.id for n in _own_nodes(body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    awaited = {id(n.value) for n in _own_nodes(body) if isinstance(n, ast.Await)}
    calls = 0
    for node in _own_nodes(body):
        if isinstance(node, ast.Call):
            fn = ctx.project.function(
                resolve_callee(ctx.project, ctx.module, node.func, ctx.function())
            )
            if fn is None or fn.is_async != (id(node) in awaited) or not _catch_all_helper(ctx, fn):
                return False
            calls += 1
        elif isinstance(node, ast.Await):
            if not isinstance(node.value, ast.Call):
                return False
        elif isinstance(node, ast.Attribute):
            root: ast.expr = node
            while isinstance(root, ast.Attribute):
                root = root.value
            if not isinstance(root, ast.Name) or root.id in bound:
                return False
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(isinstance(t, ast.Name) for t in targets):
                return False
        elif not isinstance(node, _INERT):
            return False
    return calls > 0


@rule(
    code="FAA603",
    name="broad-except-in-route",
    summary=(
        "A path operation catches every exception and answers a success or a client "
        "error without logging it"
    ),
    severity="warning",
    nodes=(ast.ExceptHandler,),
    fix_title="Catch the specific exceptions, or log with `logger.exception` and answer 500",
    references=(
        "https://fastapi.tiangolo.com/tutorial/handling-errors/",
        "https://docs.python.org/3/howto/logging.html#when-to-use-logging",
    ),
)
def broad_except_in_route(node: ast.ExceptHandler, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `except Exception:`, `except BaseException:` and bare `except:` clauses in
    a path operation function that neither log the error nor let it become a 5xx:
    the clause passes (`pass`, `continue`), returns a normal response (a value, or a
    `Response` with a 2xx/3xx status), or maps the error to a 4xx (`raise
    HTTPException(400)`, `JSONResponse(status_code=400)`).

    ## Why is this bad?
    A catch-all around the work of an endpoint also catches the server's own failures:
    a lost database connection, a bug, a timeout of an upstream service. Answering
    `200 OK` (or a 4xx that blames the client) hides the outage from the client, from
    monitoring (no 5xx) and, without a log line, from the developers: there is no
    traceback anywhere. In a POST/PUT/PATCH/DELETE route the client is even told that a
    write succeeded: that is reported as an error, the other cases as warnings.

    ## Known problems
    Not reported: clauses that log (`logger.exception(...)`, any `logger.<level>`,
    `logging.*`, `traceback.print_exc()`, `sentry_sdk.capture_exception`), re-raise
    (bare `raise`, a domain exception, an `HTTPException` with a 5xx or unknown
    status), return a 5xx response or a redirect (a login flow sending the browser
    back to a page that shows the error), or assign a fallback and carry on; websocket
    routes (a catch-all around a connection loop is how disconnects are handled); and
    a catch-all around a try body that only parses, validates or formats the client's
    input (`int(...)`, `json.loads`, `model_validate`, `validate_password(...)`,
    `black.format_str(...)`, `normalize_datetime(...)`, an outside method named like a decoder such as
    `GlobalID.from_id(id)`, `from_str`, `decode_*`, `*_decode` such as
    `lnurl.url_decode`, by the name as written or its canonical name; no `await` but
    that reading the route's own request body, `await request.json()` or `.body()`:
    not JSON, or cut off, is the client's doing), where a call to a
    project function counts only when that function is itself such a pure parser:
    synchronous, with a body that only calls parsers (followed three steps; a helper
    that checks a decoded id's type name and calls `int()` is one, and so is a class
    method that builds its class, `cls(rowid=int(raw))`; a helper that reads the
    database is not). Building a SQLAlchemy statement from the parsed value in the same
    body counts as parsing (`query = query.where(Model.id <= rowid)`, `tuple_(...)`,
    `select(...)`: nothing is sent), running it does not. A try body that FAA601 takes
    for parsing the request's own values is not reported either: project functions
    named `parse*`, `from_*`, `validate*`, `decode*`, `deserialize*`, `loads*` that
    do no I/O, or that belong
    to the project's own package outside the reviewed folder (`SpanQuery.from_dict(
    query.model_dump())` of `phoenix.trace.dsl` when reviewing `phoenix/server`). A bare `pass` is also left alone when it is a deliberate
    fallback: the try body returns (the code after the `try` is the fallback answer),
    only binds names to values that replace a plain fallback bound just before the
    `try` (`latest = None; try: latest = await broker.latest_id(key)`, like `except
    Exception: latest = None`), unless the route returns one of them as its answer
    (`return latest`), only cleans up (`close`, `unlink`, `session.clear()`...), or a
    `raise` follows the `try` (it only gathered details for the error). Helper functions called by the
    route are followed one step only to find a dead clause: when every call in the try
    body is to a project function whose whole body is a `try` that logs and swallows
    every exception (`except Exception: log.exception(...); return None`), after
    imports and names bound to plain values at most, and the body only binds and
    returns their results, nothing reaches the clause.

    ## Example
    ```python
    @router.post("/orders")
    async def create_order(order: OrderIn, service: OrderServiceDep) -> dict:
        try:
            await service.place(order)
        except Exception:
            return {"ok": False}
        return {"ok": True}
    ```

    ## Use instead
    ```python
    @router.post("/orders", status_code=201)
    async def create_order(order: OrderIn, service: OrderServiceDep) -> OrderOut:
        try:
            return await service.place(order)
        except OutOfStockError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, "Out of stock") from exc
    ```
    Unexpected errors then reach FastAPI's 500 handler (and its traceback in the logs).

    ## Fix safety
    There is no automatic fix: which exceptions to catch depends on the code.

    ## References
    - [ruff BLE001 blind-except](https://docs.astral.sh/ruff/rules/blind-except/)
    """
    broad = _is_broad(ctx, node.type)
    if not broad:
        return
    routes = [r for r in ctx.routes() if r.kind == "http"]
    if not routes or _logs(ctx, node.body):
        return
    owner = ctx.parent()
    if isinstance(owner, ast.Try) and _cannot_raise(ctx, owner.body):
        return  # dead clause: every call in the body already swallows its errors
    swallowed = False
    client_error: int | None = None
    for inner in _own_nodes(node.body):
        if isinstance(inner, ast.Raise):
            kind, code = _error_status(ctx, inner.exc)
            if kind != "raise" or code is None or code >= 500:
                return  # re-raised, or becomes a server error
            client_error = code if code >= 400 else None
            swallowed = swallowed or code < 400
        elif isinstance(inner, ast.Return):
            if isinstance(inner.value, ast.Call) and last_name(
                ctx.resolve(inner.value.func)
            ).endswith("RedirectResponse"):
                continue  # back to a page that shows the error (a login flow)
            kind, code = _error_status(ctx, inner.value)
            if kind == "response":
                if code is None or code >= 500:
                    return
                if code >= 400:
                    client_error = code
                    continue
            swallowed = True
    spares_cancellation = _spares_cancellation(ctx, node.type)
    last = node.body[-1]
    if (
        not isinstance(last, (ast.Return, ast.Raise))
        and all(
            isinstance(s, (ast.Pass, ast.Continue, ast.Break))
            or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            for s in node.body
        )
        and not _fallback(ctx, ctx.parent() or node, spares_cancellation)
    ):
        swallowed = True
    handler = routes[0].handler.name
    if swallowed:
        mutating = any(set(r.methods) & _MUTATING for r in routes)
        severity: Severity = "error" if mutating else "warning"
        yield Report(
            node,
            f"`{broad}` in `{handler}` swallows every error without logging it: "
            "the client gets a success response",
            severity=severity,
        )
        return
    if client_error is None:
        return
    try_node = ctx.parent()
    if isinstance(try_node, ast.Try) and (
        _only_parses(ctx, try_node.body, body_reads=spares_cancellation)
        or parses_client_input(ctx, try_node)
    ):
        return
    yield Report(
        node,
        f"`{broad}` in `{handler}` turns every error, server failures included, into a "
        f"{client_error} without logging it",
    )


# ------------------------------------------------------------------ FAA604

_WRITE_OPS = frozenset({"commit", "flush"})
_ADDS = frozenset({"add", "add_all", "merge"})
_EXECUTE = frozenset({"execute"})
# The nodes `own_writes` looks at: calls (`add()`, `execute()`, `setattr()`...) and
# assignments to an instance's attribute.
_WRITE_NODES = (ast.Call, ast.Assign, ast.AugAssign)


# What an `except` may catch and still catch an `IntegrityError` (its bases, the
# drivers' unique-violation errors, and catch-alls).
_INTEGRITY_CATCHERS = frozenset(
    {
        "IntegrityError",
        "DBAPIError",
        "DatabaseError",
        "SQLAlchemyError",
        "StatementError",
        "UniqueViolationError",
        "UniqueViolation",
        "Exception",
        "BaseException",
    }
)
# Global handlers that turn an `IntegrityError` into an answer (a catch-all for
# `Exception` does not: it answers 500).
_INTEGRITY_HANDLERS = frozenset(
    {"IntegrityError", "DBAPIError", "DatabaseError", "SQLAlchemyError", "UniqueViolationError"}
)
_DYNAMIC_UPDATES = frozenset({"sqlmodel_update", "update_from_dict"})
_MAX_CALLERS = 4


def _catches_integrity(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    if caught is None:
        return True
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(
        last_name(ast.unparse(e)) in _INTEGRITY_CATCHERS
        for e in elements
        if isinstance(e, (ast.Name, ast.Attribute))
    )


def _protected(fn: Function, target: ast.AST) -> bool:
    """Is `target` inside the body of a `try` of `fn` that catches `IntegrityError`?"""
    line = getattr(target, "lineno", 0)
    return any(start <= line <= end for start, end in _integrity_tries(fn))


def _integrity_tries(fn: Function) -> list[tuple[int, int]]:
    """The line spans of the bodies of `fn`'s own `try` statements that catch
    `IntegrityError` (once per function: `_protected` asks for every write and caller).
    Only statements are read: `try` is one, and none sits inside an expression."""
    cached = fn.derived.get(_integrity_tries)
    if cached is not None:
        return cast(list[tuple[int, int]], cached)
    spans: list[tuple[int, int]] = []
    for node in statements(fn.node.body):
        if isinstance(node, ast.Try) and node.body and any(map(_catches_integrity, node.handlers)):
            spans.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno))
    fn.derived[_integrity_tries] = spans
    return spans


def unique_columns(model: AppModel, qualname: str) -> list[str]:
    """The columns of an ORM model with a unique constraint: `unique=True` on a column
    (SQLAlchemy, SQLModel `Field`, `sa_column=`, `sa_column_kwargs=`),
    `UniqueConstraint(...)` and `Index(..., unique=True)` in `__table_args__`. Kept for
    the run, with what each class adds (models share their bases and mixins)."""
    table = project_index(model, _unique_tables)
    found = table.models.get(qualname)
    if found is None:
        found = []
        for ancestor in model.project.mro(qualname):
            cls = model.project.class_(ancestor)
            if cls is None:
                continue
            own = table.classes.get(id(cls.node))
            if own is None:
                own = table.classes[id(cls.node)] = _own_unique_columns(cls.node)
            found.extend(own)
        table.models[qualname] = found
    return found


@dataclass
class _UniqueTables:
    models: dict[str, list[str]] = field(default_factory=dict)  # by qualname
    classes: dict[int, list[str]] = field(default_factory=dict)  # one class's own, by node


def _unique_tables(model: AppModel) -> _UniqueTables:
    return _UniqueTables()


def _own_unique_columns(cls_node: ast.ClassDef) -> list[str]:
    """What one class of the MRO adds to `unique_columns`: its own body only."""
    out: list[str] = []
    for stmt in cls_node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name, value = stmt.target.id, stmt.value
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            name, value = stmt.targets[0].id, stmt.value
        else:
            continue
        if value is None:
            continue
        if name == "__table_args__":
            for node in walk(value):
                if not isinstance(node, ast.Call):
                    continue
                kind = last_name(ast.unparse(node.func))
                if kind == "UniqueConstraint" or (
                    kind == "Index" and _truthy(keyword(node, "unique"))
                ):
                    columns = _constraint_columns(node, kind)
                    if not columns or not all(map(_server_generated, columns)):
                        out.append(", ".join(columns) or name)
            continue
        if name == "id" or _server_generated(name):
            continue  # the server makes the value: clients cannot collide on it
        # One walk for both questions (in any order: only whether a node exists counts):
        # is there a default or a primary key anywhere in the value (then the server
        # makes it), and a `unique=True` / `{"unique": True}`?
        unique = False
        for node in walk(value):
            if isinstance(node, ast.Call):
                if any(kw.arg in _DEFAULTS_SET for kw in node.keywords) or _truthy(
                    keyword(node, "primary_key")
                ):
                    break  # the server makes the value: clients cannot collide on it
                if not unique and _truthy(keyword(node, "unique")):
                    unique = True
            elif (
                not unique
                and isinstance(node, ast.Dict)
                and any(
                    const_str(k) == "unique" and _truthy(v)
                    for k, v in zip(node.keys, node.values, strict=True)
                )
            ):
                unique = True
        else:
            if unique:
                out.append(name)
    return out


# Unique columns whose values the server makes (a random token, a digest, a UUID):
# clients cannot collide on them.
_GENERATED_WORDS = frozenset(
    {"token", "hash", "digest", "uuid", "guid", "jti", "nonce", "salt", "secret", "signature"}
)
_DEFAULTS = ("default", "default_factory", "server_default", "insert_default")
_DEFAULTS_SET = frozenset(_DEFAULTS)


def _server_generated(column: str) -> bool:
    return bool(set(column.lower().split("_")) & _GENERATED_WORDS)


def _truthy(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


def _constraint_columns(call: ast.Call, kind: str) -> list[str]:
    args = call.args[1:] if kind == "Index" else call.args
    out = []
    for arg in args:
        text = const_str(arg)
        if text is None and isinstance(arg, ast.Attribute):
            text = arg.attr
        if text:
            out.append(text)
    return out


class _WriteState:
    def __init__(self, model: AppModel) -> None:
        self.model = model
        self.orm: OrmState = state(model)
        self.writes: dict[int, list[_Write]] = {}
        self.sites: dict[int, list[ast.Call]] = {}
        self.handled: dict[int, bool] = {}
        self.reachable: dict[int, bool] = {}

    def any_unique(self) -> bool:
        """Does some ORM model have a unique constraint at all? Every write's
        constraints are some of `unique_of` its model (an index model), so without one
        no write is at stake anywhere."""
        return any(self.unique_of(qualname) for qualname in self.orm.index.models)

    def unique_of(self, qualname: str) -> list[str]:
        return unique_columns(self.model, qualname)

    def model_of(self, fn: Function, expr: ast.expr | None, depth: int = 0) -> str | None:
        """The ORM model an expression is an instance of (or a list of)."""
        if expr is None or depth > 3:
            return None
        project = self.model.project
        index = self.orm.index
        if isinstance(expr, ast.Await):
            expr = expr.value
        if isinstance(expr, (ast.List, ast.Tuple)) and expr.elts:
            return self.model_of(fn, expr.elts[0], depth + 1)
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
            return self.model_of(fn, expr.elt, depth + 1)
        if isinstance(expr, ast.Call):
            callee = resolve_callee(project, fn.module, expr.func, fn)
            if callee and last_name(callee) in ("model_validate", "from_orm", "parse_obj"):
                callee = callee.rpartition(".")[0]  # `Team.model_validate(payload)`
            found = index.model(project.canonical(callee)) if callee else None
            if found is not None:
                return found.qualname
        if isinstance(expr, ast.Name):
            if expr.id in fn.param_names:
                for param in [
                    *fn.node.args.posonlyargs,
                    *fn.node.args.args,
                    *fn.node.args.kwonlyargs,
                ]:
                    if param.arg == expr.id and param.annotation is not None:
                        typ = annotation_type(project, fn.module, param.annotation, fn.parent)
                        found = index.model(typ)
                        return found.qualname if found is not None else None
                return None
            bound = fn.local_values.get(expr.id)
            if bound is not None:
                inner = self.model_of(fn, bound, depth + 1)
                if inner is not None:
                    return inner
        typ = infer_type(project, fn.module, expr, fn)
        found = index.model(typ)
        return found.qualname if found is not None else None

    def statement_model(self, fn: Function, call: ast.Call) -> tuple[str, list[_Entry]] | None:
        """The model of `session.execute(insert(User).values(...))` or of an
        `update(User).values(...)`, with the unique constraints the statement can
        violate: an insert those whose every column it fills (a NULL never collides), an
        update those it sets a column of, leaving out those it fills with a value the
        server makes unique (`unclaimed`); an upsert none on its conflict target. A bulk
        `session.execute(update(User), rows)` sets the keys of the dicts in `rows`."""
        if not call.args or not isinstance(call.args[0], ast.Call):
            return None
        stmt = call.args[0]
        values: list[ast.Call] = []
        upserts: list[ast.Call] = []
        while isinstance(stmt.func, ast.Attribute) and isinstance(stmt.func.value, ast.Call):
            if stmt.func.attr == "values":
                values.append(stmt)
            elif stmt.func.attr in _UPSERTS or (
                stmt.func.attr == "prefix_with"
                and any(_IGNORE_PREFIX.search(const_str(a) or "") for a in stmt.args)
            ):
                upserts.append(stmt)
            stmt = stmt.func.value  # `insert(User).values(...)`
        project = self.model.project
        kind = last_name(resolve_callee(project, fn.module, stmt.func, fn))
        if kind not in ("insert", "update") or not stmt.args:
            return None
        found = self.orm.index.model(project.resolve(fn.module, stmt.args[0], fn))
        if found is None:
            return None
        entries = self.unique_of(found.qualname)
        if values:
            given = self.values_columns(fn, values)
        elif len(call.args) > 1:
            given = self.rows_keys(fn, call.args[1], call)  # executemany
        else:
            given = None
        if given is not None:
            entries = self.at_stake(found.qualname, entries, given, insert=kind == "insert")
        for upsert in upserts:
            entries = [e for e in entries if not _conflict_handles(upsert, e, len(entries))]
        kept = self.unclaimed(fn, entries, given or {})
        if not kept:
            return None  # `update(User).values(last_login=now)`, an upsert
        return found.qualname, kept

    def rows_keys(
        self, fn: Function, expr: ast.expr, sink: ast.Call
    ) -> dict[str, ast.expr | None] | None:
        """The keys of the parameter rows of an executemany: a list of dicts built in
        code (a literal, a comprehension, or a local list bound to one and filled with
        `append()`). A key's value is kept when every row that sets it gives a value the
        server makes unique (or `None`), else it is unknown."""
        rows = self._rows(fn, expr, sink)
        if not rows:
            return None
        seen: dict[str, list[ast.expr | None]] = {}
        for row in rows:
            keys = self.dict_keys(fn, row, sink)
            if keys is None:
                return None
            for key, value in keys.items():
                seen.setdefault(key, []).append(value)
        out: dict[str, ast.expr | None] = {}
        for key, found in seen.items():
            if len(found) == 1 or all(
                v is not None and (_is_none(v) or self.fresh(fn, v) is True) for v in found
            ):
                out[key] = found[0]
            else:
                out[key] = None
        return out

    def _rows(self, fn: Function, expr: ast.expr, sink: ast.Call) -> list[ast.expr] | None:
        if isinstance(expr, (ast.List, ast.Tuple)):
            if any(isinstance(e, ast.Starred) for e in expr.elts):
                return None
            return list(expr.elts)
        if isinstance(expr, ast.ListComp):
            return [expr.elt]
        if not isinstance(expr, ast.Name):
            return None
        values = _bindings(fn, expr.id)
        if values is None or len(values) != 1 or isinstance(values[0], ast.Name):
            return None
        rows = self._rows(fn, values[0], sink)
        if rows is None:
            return None
        for node in body_nodes(fn.node):
            if not isinstance(node, ast.Call) or node is sink:
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and _is_name(func.value, expr.id):
                if func.attr != "append" or len(node.args) != 1 or node.keywords:
                    return None
                rows.append(node.args[0])
            elif any(
                _is_name(_unstarred(a), expr.id)
                for a in [*node.args, *(k.value for k in node.keywords)]
            ):
                return None  # handed to other code
        return rows

    # ---------------------------------------------------------- columns a write fills

    def at_stake(
        self, qualname: str, entries: list[str], given: dict[str, ast.expr | None], insert: bool
    ) -> list[str]:
        """The unique constraints (`"a, b"` entries) a write of the `given` columns can
        violate. An insert must fill every column of one: a column it leaves out is
        NULL (or its default), and NULLs never collide in a unique constraint. An update
        must set one of its columns."""
        out: list[str] = []
        for entry in entries:
            columns = entry.split(", ")
            if insert:
                at_stake = all(self._fills(qualname, c, given) for c in columns)
            else:
                at_stake = any(c in given for c in columns)
            if at_stake or entry == "__table_args__":  # (columns we could not read)
                out.append(entry)
        return out

    def _fills(self, qualname: str, column: str, given: dict[str, ast.expr | None]) -> bool:
        if column in given:
            value = given[column]
            return not (isinstance(value, ast.Constant) and value.value is None)
        return _column_has_default(self.model.project, qualname, column)

    def values_columns(
        self, fn: Function, values: list[ast.Call]
    ) -> dict[str, ast.expr | None] | None:
        """The columns `.values(...)` calls set, when the code spells them out."""
        out: dict[str, ast.expr | None] = {}
        for call in values:
            if len(call.args) > 1 or (call.args and call.keywords):
                return None
            found = (
                self.dict_keys(fn, call.args[0], call)
                if call.args
                else self.keyword_keys(fn, call, call)
            )
            if found is None:
                return None
            _merge(out, found)
        return out

    def keyword_keys(
        self, fn: Function, call: ast.Call, sink: ast.Call, depth: int = 0
    ) -> dict[str, ast.expr | None] | None:
        """`k=v` and `**mapping` arguments of a call, as the keys they give."""
        if call.args:
            return None
        out: dict[str, ast.expr | None] = {}
        for kw in call.keywords:
            if kw.arg is not None:
                _merge(out, {kw.arg: kw.value})
                continue
            found = self.dict_keys(fn, kw.value, sink, depth + 1)
            if found is None:
                return None
            _merge(out, found)
        return out

    def dict_keys(
        self, fn: Function, expr: ast.expr, sink: ast.Call, depth: int = 0
    ) -> dict[str, ast.expr | None] | None:
        """The keys (and values, when one expression gives them) of a mapping built in
        code: a dict literal, `dict(k=v)`, a local filled with constant keys
        (`data["name"] = ...`), a parameter every caller fills so, or the `model_dump()`
        of a Pydantic model built in the function. None when they cannot be told."""
        if depth > _MAX_KEY_DEPTH:
            return None
        if isinstance(expr, ast.Dict):
            out: dict[str, ast.expr | None] = {}
            for key, value in zip(expr.keys, expr.values, strict=True):
                if key is None:
                    found = self.dict_keys(fn, value, sink, depth + 1)
                    if found is None:
                        return None
                    _merge(out, found)
                    continue
                name = const_str(key)
                if name is None:
                    return None
                _merge(out, {name: value})
            return out
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Name) and func.id == "dict" and not fn.binds("dict"):
                if not expr.args:
                    return self.keyword_keys(fn, expr, sink, depth + 1)
                return None
            if isinstance(func, ast.Attribute) and func.attr in ("model_dump", "dict"):
                return self._dump_keys(fn, expr, depth + 1)
            return self._returned_keys(fn, expr, sink, depth + 1)
        if isinstance(expr, ast.Name):
            if expr.id in fn.param_names:
                return self._param_keys(fn, expr.id, depth + 1)
            return self._local_keys(fn, expr.id, sink, depth + 1)
        return None

    def _returned_keys(
        self, fn: Function, call: ast.Call, sink: ast.Call, depth: int
    ) -> dict[str, ast.expr | None] | None:
        """A call of a plain project function whose every `return` gives a mapping
        built in code (`return {"deleted": False, "last_processed_at": now}`): the keys
        of all of them."""
        project = self.model.project
        callee = project.function(resolve_callee(project, fn.module, call.func, fn))
        if callee is None or callee is fn or callee.is_async:
            return None
        returns = [n for n in body_nodes(callee.node) if isinstance(n, ast.Return)]
        if not returns or any(
            isinstance(n, (ast.Yield, ast.YieldFrom)) for n in body_nodes(callee.node)
        ):
            return None
        out: dict[str, ast.expr | None] = {}
        for ret in returns:
            found = self.dict_keys(callee, ret.value, sink, depth + 1) if ret.value else None
            if found is None:
                return None
            _merge(out, {key: None for key in found})  # values of another scope
        return out

    def _local_keys(
        self, fn: Function, name: str, sink: ast.Call, depth: int
    ) -> dict[str, ast.expr | None] | None:
        """A local dict: its bindings, plus the constant keys stored into it later. It
        must not be handed to other code (which could add any key)."""
        out: dict[str, ast.expr | None] = {}
        bound = False
        for node in body_nodes(fn.node):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        if node.value is None:
                            return None
                        found = self.dict_keys(fn, node.value, sink, depth + 1)
                        if found is None:
                            return None
                        _merge(out, found)
                        bound = True
                    elif (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == name
                    ):
                        key = const_str(target.slice)
                        if key is None:
                            return None
                        _merge(out, {key: node.value})
                    elif any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target)):
                        return None  # `name, other = ...`, `for name in ...`
            elif isinstance(node, ast.AugAssign) and _is_name(node.target, name):
                return None
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                targets = (
                    [node.target]
                    if isinstance(node, (ast.For, ast.AsyncFor))
                    else [i.optional_vars for i in node.items if i.optional_vars is not None]
                )
                if any(_is_name(n, name) for t in targets for n in ast.walk(t)):
                    return None
            elif isinstance(node, ast.Call) and node is not sink:
                func = node.func
                if isinstance(func, ast.Attribute) and _is_name(func.value, name):
                    if func.attr in ("update", "setdefault"):
                        found = (
                            self.keyword_keys(fn, node, sink, depth + 1)
                            if not node.args
                            else self.dict_keys(fn, node.args[0], sink, depth + 1)
                            if func.attr == "update" and len(node.args) == 1
                            else {const_str(node.args[0]) or "": None}
                            if func.attr == "setdefault"
                            else None
                        )
                        if found is None or "" in found:
                            return None
                        _merge(out, found)
                    elif func.attr not in _READ_METHODS:
                        return None
                arguments = [*node.args, *(kw.value for kw in node.keywords)]
                if any(_is_name(a, name) or _is_name(_unstarred(a), name) for a in arguments):
                    return None  # handed to other code
        return out if bound else None

    def _param_keys(self, fn: Function, name: str, depth: int) -> dict[str, ast.expr | None] | None:
        """A parameter: the keys of what every caller passes for it."""
        project = self.model.project
        callers = self.model.callgraph.callers(fn.qualname)
        if not callers:
            return None
        out: dict[str, ast.expr | None] = {}
        for caller_name, site in callers:
            caller = project.function(caller_name)
            if caller is None:
                return None
            arg = argument_for(fn, site.node, name)
            if arg is None:
                return None
            found = self.dict_keys(caller, arg, site.node, depth + 1)
            if found is None:
                return None
            _merge(out, found)
        return out

    def _dump_keys(
        self, fn: Function, call: ast.Call, depth: int
    ) -> dict[str, ast.expr | None] | None:
        """`obj.model_dump()` of a local bound to `PydanticModel(...)` built with known
        keys: the fields given, and the others with their defaults."""
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        if not isinstance(receiver, ast.Name) or receiver.id in fn.param_names:
            return None
        built = fn.local_values.get(receiver.id)
        if not isinstance(built, ast.Call):
            return None
        project = self.model.project
        qualname = project.resolve(fn.module, built.func, fn)
        fields = _pydantic_fields(project, qualname)
        given = self.keyword_keys(fn, built, built, depth + 1)
        if fields is None or given is None or not set(given) <= set(fields):
            return None
        exclude_unset = _truthy(keyword(call, "exclude_unset"))
        out: dict[str, ast.expr | None] = {}
        for field_name, default in fields.items():
            if field_name in given:
                out[field_name] = given[field_name]
            elif not exclude_unset:
                out[field_name] = default
        for kw in call.keywords:
            if kw.arg == "exclude" and isinstance(kw.value, (ast.Set, ast.List, ast.Tuple)):
                for element in kw.value.elts:
                    out.pop(const_str(element) or "", None)
            elif kw.arg not in ("exclude_unset", "exclude_none", "mode", "exclude_defaults"):
                return None  # `include=`, `by_alias=`...: other keys
        return out

    def instance_columns(
        self, fn: Function, expr: ast.expr, written: str
    ) -> dict[str, ast.expr | None] | None:
        """The columns a new instance given to `add()` fills: the arguments of its
        construction (`Model(a=..., **data)`) and the attributes stored on it later in
        the function. A binding to a row loaded from the session inserts nothing. None
        when they cannot be told."""
        if isinstance(expr, ast.Call):
            if not self._constructs(fn, expr, written):
                return None
            return self._columns_only(written, self.keyword_keys(fn, expr, expr))
        if not isinstance(expr, ast.Name) or expr.id in fn.param_names:
            return None
        return self._columns_only(written, self._bound_columns(fn, expr.id, written))

    def _columns_only(
        self, written: str, given: dict[str, ast.expr | None] | None
    ) -> dict[str, ast.expr | None] | None:
        project = self.model.project
        if given is None or not all(_plain_column(project, written, key) for key in given):
            return None  # `Member(room=room)`: a relationship fills the foreign key
        return given

    def _bound_columns(
        self, fn: Function, name: str, written: str
    ) -> dict[str, ast.expr | None] | None:
        out: dict[str, ast.expr | None] = {}
        built = False
        for node in body_nodes(fn.node):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if _is_name(target, name):
                        value = node.value
                        if isinstance(value, ast.Await):
                            value = value.value
                        if value is None:
                            return None
                        if isinstance(value, ast.Constant) and value.value is None:
                            continue
                        if isinstance(value, ast.Call) and self._constructs(fn, value, written):
                            found = self.keyword_keys(fn, value, value)
                            if found is None:
                                return None
                            _merge(out, found)
                            built = True
                        elif not self._loads(fn, value):
                            return None
                    elif isinstance(target, ast.Attribute) and _is_name(target.value, name):
                        _merge(out, {target.attr: node.value})
                    elif any(_is_name(n, name) for n in ast.walk(target)):
                        return None
            elif isinstance(node, ast.AugAssign):
                target = node.target
                if isinstance(target, ast.Attribute) and _is_name(target.value, name):
                    _merge(out, {target.attr: None})
                elif _is_name(target, name):
                    return None
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.NamedExpr)):
                if any(_is_name(n, name) for n in ast.walk(node.target)):
                    return None
            elif isinstance(node, ast.Call):
                func = node.func
                short = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                arguments = [*node.args, *(kw.value for kw in node.keywords)]
                if short not in _INSTANCE_USES and any(
                    _is_name(_unstarred(a), name) for a in arguments
                ):
                    return None  # `setattr(obj, ...)`, `fill(obj)`, `room.members.append(obj)`
            if (
                isinstance(node, ast.Assign)
                and not any(_is_name(t, name) for t in node.targets)
                and _bare_use(node.value, name)
            ):
                return None  # `room.members = [obj]`: a relationship may fill its keys
        return out if built else None

    def _constructs(self, fn: Function, call: ast.Call, written: str) -> bool:
        project = self.model.project
        callee = resolve_callee(project, fn.module, call.func, fn)
        found = self.orm.index.model(project.canonical(callee)) if callee else None
        return found is not None and found.qualname == written

    def _loads(self, fn: Function, value: ast.expr) -> bool:
        """`await db.get(Model, id)`, `(await db.execute(select(...))).scalars().first()`:
        a row read from the session."""
        node: ast.expr = value
        while True:
            if isinstance(node, ast.Await):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if is_session_call(self.orm, fn.module, node, fn, _LOADS):
                    return True
                node = node.func.value
            else:
                return False

    def own_writes(self, fn: Function) -> list[_Write]:
        """The writes of models with a unique constraint that `fn` itself makes (an
        insert or an update, with the constraints at stake), plus those of the project
        functions it calls that are still pending when they return (no flush of theirs
        follows them), placed at the call."""
        key = id(fn.node)
        found = self.writes.get(key)
        if found is not None:
            return found
        out: list[_Write] = []
        self.writes[key] = out
        project = self.model.project
        nodes = _body_list(fn)
        savepoints = self.guarded_savepoints(fn, nodes)
        for node in nodes:
            if not isinstance(node, _WRITE_NODES):
                continue  # (most nodes: the checks below only look at these)
            if savepoints and _within(node, savepoints):
                continue  # flushed when its savepoint ends, inside a `try` that handles it
            written: str | None = None
            entries: list[_Entry] | None = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                attr = node.func.attr
                if (
                    attr in _ADDS
                    and node.args
                    and is_session_call(self.orm, fn.module, node, fn, _ADDS)
                ):
                    written = self.model_of(fn, node.args[0])
                    if written is not None and self._replaces(fn, node, written):
                        continue  # delete-then-insert of the same rows: a replace-all
                    if written is not None:
                        given = self.instance_columns(fn, node.args[0], written)
                        if given is not None:
                            columns = self.at_stake(written, self.unique_of(written), given, True)
                            entries = self.unclaimed(fn, columns, given)
                elif attr in _DYNAMIC_UPDATES:
                    written = self.model_of(fn, node.func.value)
                elif attr == "execute" and is_session_call(self.orm, fn.module, node, fn, _EXECUTE):
                    statement = self.statement_model(fn, node)
                    if statement is not None:
                        written, entries = statement
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "setattr"
                and len(node.args) == 3
            ):
                written = self.model_of(fn, node.args[0])
                name = const_str(node.args[1])
                if written is not None and name is not None:
                    entries = self.unclaimed(
                        fn,
                        [e for e in self.unique_of(written) if e == name],
                        {name: node.args[2]},
                    )
            elif isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                        if target.value.id == "self":
                            continue
                        model = self.model_of(fn, target.value)
                        if model is None or target.attr not in self.unique_of(model):
                            continue
                        value = node.value if isinstance(node, ast.Assign) else None
                        kept = self.unclaimed(fn, [target.attr], {target.attr: value})
                        if kept:
                            out.append(_Write(node, model, tuple(kept)))
            if written is None:
                continue
            if entries is None:
                entries = [(e, ()) for e in self.unique_of(written)]
            if entries:
                out.append(_Write(node, written, tuple(entries)))
        for site in self.model.callgraph.calls_of(fn):
            callee = project.function(site.target)
            direct = callee is not None
            if callee is None:
                cls = project.class_(site.target)
                callee = project.method(cls.qualname, "__init__") if cls is not None else None
            if callee is None or callee is fn or (savepoints and _within(site.node, savepoints)):
                continue
            for write in self.pending_after(callee):
                kept = self.at_call(fn, callee, site.node, write.entries, direct)
                if kept:
                    out.append(_Write(site.node, write.model, tuple(kept)))
        return out

    def pending_after(self, fn: Function) -> list[_Write]:
        """The writes of `fn` that no flush of its own follows: its caller's flush
        sends them."""
        sites = self.write_sites(fn)
        return [
            w for w in self.own_writes(fn) if not any(_runs_before(fn, w.anchor, s) for s in sites)
        ]

    # ------------------------------------------------ values the server makes unique

    def unclaimed(
        self, fn: Function, entries: list[str], given: dict[str, ast.expr | None]
    ) -> list[_Entry]:
        """The unique constraints (of those at stake) that a client could fill with a
        value already taken: a constraint with a column set to a value the server makes
        unique (`fresh`) cannot collide. Each comes with the parameters whose fresh value
        at a call would still rule it out."""
        out: list[_Entry] = []
        for entry in entries:
            conditions: list[_Condition] = []
            claimed = False
            for column in entry.split(", "):
                value = given.get(column)
                found = self.fresh(fn, value) if value is not None else False
                if found is True:
                    claimed = True
                    break
                if found:
                    conditions.append(found)
            if not claimed:
                out.append((entry, tuple(conditions)))
        return out

    def at_call(
        self,
        fn: Function,
        callee: Function,
        call: ast.Call,
        entries: tuple[_Entry, ...],
        direct: bool,
    ) -> list[_Entry]:
        """A helper's pending unique constraints as seen at one of its calls in `fn`: a
        constraint whose column takes a parameter's value (`run_id=run.id`) drops out
        when this call passes a fresh value (`run` a row built with `id=uuid4()`)."""
        out: list[_Entry] = []
        for entry, conditions in entries:
            kept: list[_Condition] = []
            claimed = False
            for param, attrs in conditions if direct else ():
                arg = argument_for(callee, call, param)
                if arg is None:
                    continue
                expr: ast.expr = arg
                for attr in attrs:
                    expr = ast.Attribute(value=expr, attr=attr, ctx=ast.Load())
                found = self.fresh(fn, expr)
                if found is True:
                    claimed = True
                    break
                if found:
                    kept.append(found)
            if not claimed:
                out.append((entry, tuple(kept)))
        return out

    def fresh(self, fn: Function, expr: ast.expr, depth: int = 0) -> bool | _Condition:
        """Is the value unique by construction, made by the server so no client can
        repeat it? A random value with at least 64 bits (`uuid.uuid4()`,
        `secrets.token_hex(8)`, `os.urandom(16)`), also inside a string built around it
        (`f"_deleted_{ts}_{secrets.token_hex(8)}"`, `str(...)`, `.hex`), a local bound
        only to such values, or the primary key (or a fresh column) of a row built in the
        function (`run = Run(id=uuid.uuid4())`, then `run.id`). A parameter (or an
        attribute of one) gives a condition: `(name, attributes)`, fresh when the caller
        passes a fresh value."""
        if depth > _MAX_FRESH_DEPTH:
            return False
        if isinstance(expr, ast.Call):
            func = expr.func
            callee = resolve_callee(self.model.project, fn.module, func, fn) or ""
            if callee in _RANDOM_BYTES:
                size = argument(expr, 0, "nbytes")
                if size is None:
                    return callee != "os.urandom"  # `secrets.token_hex()`: 32 bytes
                return (
                    isinstance(size, ast.Constant)
                    and isinstance(size.value, int)
                    and size.value >= _MIN_RANDOM_BYTES
                )
            if callee in _RANDOM_IDS:
                return True
            if isinstance(func, ast.Name) and func.id == "str" and len(expr.args) == 1:
                return self.fresh(fn, expr.args[0], depth + 1) is True
            if isinstance(func, ast.Attribute) and func.attr in _SAME_VALUE and not expr.args:
                return self.fresh(fn, func.value, depth + 1) is True
            return False
        if isinstance(expr, ast.JoinedStr):
            return any(
                isinstance(part, ast.FormattedValue)
                and part.format_spec is None
                and self.fresh(fn, part.value, depth + 1) is True
                for part in expr.values
            )
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return (
                self.fresh(fn, expr.left, depth + 1) is True
                or self.fresh(fn, expr.right, depth + 1) is True
            )
        if isinstance(expr, ast.Name):
            if expr.id in fn.param_names:
                return (expr.id, ())
            values = _bindings(fn, expr.id)
            if not values:
                return False
            return all(self.fresh(fn, v, depth + 1) is True for v in values)
        if isinstance(expr, ast.Attribute):
            if expr.attr == "hex":
                return self.fresh(fn, expr.value, depth + 1) is True  # `uuid4().hex`
            attrs: list[str] = []
            root: ast.expr = expr
            while isinstance(root, ast.Attribute):
                attrs.append(root.attr)
                root = root.value
            if not isinstance(root, ast.Name):
                return False
            if root.id in fn.param_names:
                return (root.id, tuple(reversed(attrs)))
            values = _bindings(fn, root.id) if len(attrs) == 1 else None
            if not values:
                return False
            return all(
                self._new_row_key(fn, v, expr.attr, depth) for v in values
            ) and not _stores_attribute(fn, root.id, expr.attr)
        return False

    def _new_row_key(self, fn: Function, built: ast.expr, attr: str, depth: int) -> bool:
        """Is `attr` of the row `built` here (`Run(id=uuid.uuid4(), ...)`) fresh: set to a
        fresh value, or its primary key left to the database or a default?"""
        if not isinstance(built, ast.Call):
            return False
        project = self.model.project
        callee = resolve_callee(project, fn.module, built.func, fn)
        found = self.orm.index.model(project.canonical(callee)) if callee else None
        if found is None:
            return False
        value = keyword(built, attr)
        if value is not None:
            return self.fresh(fn, value, depth + 1) is True
        if any(kw.arg is None for kw in built.keywords) or built.args:
            return False  # `Run(**data)`: the key may come from the client
        stmt = _class_attribute(project, found.qualname, attr)
        if not isinstance(stmt, (ast.AnnAssign, ast.Assign)) or not isinstance(
            stmt.value, ast.Call
        ):
            return False
        return _truthy(keyword(stmt.value, "primary_key"))

    # ---------------------------------------------------------- flushes and callers

    def guarded_savepoints(self, fn: Function, nodes: list[ast.AST]) -> list[tuple[int, int]]:
        """The line spans of `with <session>.begin_nested():` (or `begin()`) blocks of
        `fn` that sit in a `try` catching `IntegrityError`. Leaving the block flushes
        what it added (and releases the savepoint, or commits), so a duplicate is raised
        there, inside the `try`, and a later `commit()` cannot raise it again.
        (`nodes`: those of `body_nodes(fn.node)`.)"""
        spans: list[tuple[int, int]] = []
        for node in nodes:
            if not isinstance(node, (ast.With, ast.AsyncWith)) or not node.body:
                continue
            if any(
                isinstance(item.context_expr, ast.Call)
                and is_session_call(self.orm, fn.module, item.context_expr, fn, _SAVEPOINTS)
                for item in node.items
            ) and _protected(fn, node):
                spans.append((node.body[0].lineno, node.end_lineno or node.lineno))
        return spans

    def _deletes(self, fn: Function) -> list[tuple[int, str, dict[str, str]]]:
        """`session.execute(delete(Model).filter_by(col=x))` / `.where(Model.col == x)`
        statements of `fn`: `(line, model, {column: value source})`."""
        project = self.model.project
        out: list[tuple[int, str, dict[str, str]]] = []
        for site in self.model.callgraph.calls_of(fn):
            call = site.node
            if not (
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "execute"
                and call.args
                and isinstance(call.args[0], ast.Call)
                and is_session_call(self.orm, fn.module, call, fn, _EXECUTE)
            ):
                continue
            stmt = call.args[0]
            columns: dict[str, str] = {}
            while isinstance(stmt.func, ast.Attribute) and isinstance(stmt.func.value, ast.Call):
                if stmt.func.attr == "filter_by" and not stmt.args:
                    for kw in stmt.keywords:
                        if kw.arg is None:
                            columns.clear()
                            break
                        columns[kw.arg] = ast.unparse(kw.value)
                elif stmt.func.attr in ("where", "filter") and not stmt.keywords:
                    for arg in stmt.args:
                        if (
                            isinstance(arg, ast.Compare)
                            and len(arg.ops) == 1
                            and isinstance(arg.ops[0], ast.Eq)
                            and isinstance(arg.left, ast.Attribute)
                        ):
                            columns[arg.left.attr] = ast.unparse(arg.comparators[0])
                else:
                    columns.clear()
                    break
                stmt = stmt.func.value
            if not columns or not stmt.args:
                continue
            if last_name(resolve_callee(project, fn.module, stmt.func, fn) or "") != "delete":
                continue
            found = self.orm.index.model(project.resolve(fn.module, stmt.args[0], fn))
            if found is not None:
                out.append((call.lineno, found.qualname, columns))
        return out

    def _replaces(self, fn: Function, add: ast.Call, written: str) -> bool:
        """Does `fn` delete, earlier, the rows this `add()` replaces? A
        `delete(Model).filter_by(parent_id=x)` on columns that every unique constraint
        of the model contains, and an instance built with the same values for them
        (`Model(parent_id=x, ...)`): the new set replaces the old one in the same
        transaction, so it cannot collide with a stored row."""
        built = add.args[0]
        if isinstance(built, ast.Name):
            bound = fn.local_values.get(built.id)
            built = bound if bound is not None else built
        if not isinstance(built, ast.Call):
            return False
        given = {kw.arg: ast.unparse(kw.value) for kw in built.keywords if kw.arg}
        constraints = [set(entry.split(", ")) for entry in self.unique_of(written)]
        loops = [
            node
            for node in _body_list(fn)
            if isinstance(node, (ast.For, ast.AsyncFor))
            and node.body
            and node.body[0].lineno <= add.lineno <= (node.end_lineno or node.lineno)
        ]
        if loops and not _distinct_items(self.model.project, fn, loops[-1].iter):
            return False  # the new set may repeat a key: the insert itself can collide
        return any(
            line < add.lineno
            and model == written
            and all(given.get(column) == value for column, value in columns.items())
            and all(set(columns) <= constraint for constraint in constraints)
            for line, model, columns in self._deletes(fn)
        )

    def write_sites(self, fn: Function) -> list[ast.Call]:
        """`<session>.commit()` / `.flush()` calls of `fn`, in source order (from the
        call sites the call graph collected: no walk of the body). Made once per
        function: the rule asks again for each function whose writes are pending."""
        key = id(fn.node)
        found = self.sites.get(key)
        if found is not None:
            return found
        candidates = _call_facts(self.model).flushes.get(fn.qualname)
        found = sorted(
            (
                site.node
                for site in candidates or ()
                if is_session_call(self.orm, fn.module, site.node, fn, _WRITE_OPS)
            ),
            key=lambda call: (call.lineno, call.col_offset),
        )
        self.sites[key] = found
        return found

    def handled_by_callers(self, fn: Function, depth: int = 0) -> bool:
        """Every caller calls `fn` inside a `try` that catches `IntegrityError` (or is
        itself handled so by its callers)."""
        key = id(fn.node)
        if key in self.handled:
            return self.handled[key]
        self.handled[key] = False
        project = self.model.project
        callers = self.model.callgraph.callers(fn.qualname)
        result = bool(callers) and depth < _MAX_CALLERS
        if result:
            for caller_name, site in callers:
                caller = project.function(caller_name)
                if caller is None or not (
                    _protected(caller, site.node) or self.handled_by_callers(caller, depth + 1)
                ):
                    result = False
                    break
        self.handled[key] = result
        return result

    def serves_requests(self, fn: Function, depth: int = 0) -> bool:
        """A route, a dependency, or a function they call (a few levels up)."""
        key = id(fn.node)
        if key in self.reachable:
            return self.reachable[key]
        self.reachable[key] = False
        result = bool(self.model.routes_of(fn)) or self.model.is_dependency(fn)
        if not result and depth < _MAX_CALLERS:
            project = self.model.project
            for caller_name, _site in self.model.callgraph.callers(fn.qualname):
                caller = project.function(caller_name)
                if caller is not None and self.serves_requests(caller, depth + 1):
                    result = True
                    break
        self.reachable[key] = result
        return result


# Session blocks that flush what they hold when they end.
_SAVEPOINTS = frozenset({"begin_nested", "begin"})


def _within(node: ast.AST, spans: list[tuple[int, int]]) -> bool:
    line = getattr(node, "lineno", 0)
    return any(start <= line <= end for start, end in spans)


# A unique constraint at stake (`"project_id, name"`) with the conditions that rule it
# out: `(parameter, attributes)`, a parameter (`run`, `("id",)`: `run.id`) that, when a
# caller passes a fresh value for it, fills one of its columns with a fresh value.
_Condition = tuple[str, tuple[str, ...]]
_Entry = tuple[str, tuple[_Condition, ...]]


@dataclass(frozen=True)
class _Write:
    """An insert or update of `model` in a function: `anchor` is where it happens (its
    own call or statement, or the call of the helper that makes it), `entries` the
    unique constraints it puts at stake."""

    anchor: ast.AST
    model: str
    entries: tuple[_Entry, ...]


# Random values with enough entropy that no client can repeat them (the byte functions
# count when asked for at least `_MIN_RANDOM_BYTES`, 64 bits).
_RANDOM_IDS = frozenset({"uuid.uuid4", "uuid.uuid7"})
_RANDOM_BYTES = frozenset(
    {"secrets.token_hex", "secrets.token_urlsafe", "secrets.token_bytes", "os.urandom"}
)
_MIN_RANDOM_BYTES = 8
# Methods that give the same value in another spelling (`uuid4().hex`, `.lower()`).
_SAME_VALUE = frozenset({"hex", "lower", "upper", "encode", "decode"})
_MAX_FRESH_DEPTH = 4


def _bindings(fn: Function, name: str) -> list[ast.expr] | None:
    """The values a local name is bound to in the function (plain `name = value`
    assignments only); None when it is bound some other way (a loop, unpacking,
    `with ... as`, `:=`, an augmented assignment) or is a parameter."""
    if name in fn.param_names:
        return None
    return _binding_table(fn).get(name, [])


def _binding_table(fn: Function) -> dict[str, list[ast.expr] | None]:
    """`_bindings` of every name the function binds, from one walk of its body (once
    per function)."""
    cached = fn.derived.get(_binding_table)
    if cached is not None:
        return cast(dict[str, list[ast.expr] | None], cached)
    values: dict[str, list[ast.expr]] = {}
    other: set[str] = set()  # bound some other way

    def bound_in(target: ast.AST) -> None:
        other.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))

    for node in _body_list(fn):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found = values.setdefault(target.id, [])
                    if node.value is not None:
                        found.append(node.value)
                elif not isinstance(target, (ast.Attribute, ast.Subscript)):
                    bound_in(target)
        elif isinstance(node, (ast.AugAssign, ast.NamedExpr)):
            if isinstance(node.target, ast.Name):
                other.add(node.target.id)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            bound_in(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    bound_in(item.optional_vars)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            other.add(node.name)
    table: dict[str, list[ast.expr] | None] = dict(values)
    table.update(dict.fromkeys(other))
    fn.derived[_binding_table] = table
    return table


def _stores_attribute(fn: Function, name: str, attr: str) -> bool:
    """Does the function set `name.attr` (`run.id = payload.id`)?"""
    for node in _body_list(fn):
        for target in assignment_targets(node):
            for inner in ast.walk(target):
                if (
                    isinstance(inner, ast.Attribute)
                    and inner.attr == attr
                    and _is_name(inner.value, name)
                ):
                    return True
    return False


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _runs_before(fn: Function, write: ast.AST, flush: ast.AST) -> bool:
    """Can the write still be pending when this flush runs? It comes before the flush
    in the function, or a loop holds both (the write of one pass reaches the flush of
    the next)."""
    if _position(write) < _position(flush):
        return True
    line, flush_line = getattr(write, "lineno", 0), getattr(flush, "lineno", 0)
    return any(
        start <= min(line, flush_line) and max(line, flush_line) <= end
        for start, end in _loop_spans(fn)
    )


def _loop_spans(fn: Function) -> list[tuple[int, int]]:
    """The line spans of the bodies of the function's loops."""
    found = fn.derived.get(_loop_spans)
    if found is None:
        found = fn.derived[_loop_spans] = [
            (node.body[0].lineno, node.end_lineno or node.lineno)
            for node in _body_list(fn)
            if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and node.body
        ]
    return cast(list[tuple[int, int]], found)


_UPSERTS = frozenset({"on_conflict_do_nothing", "on_conflict_do_update", "on_duplicate_key_update"})
_IGNORE_PREFIX = re.compile(r"\b(IGNORE|REPLACE)\b", re.IGNORECASE)
# Session methods that read rows (an instance bound to their result is not new).
_LOADS = frozenset(
    {"get", "get_one", "scalar", "scalars", "execute", "exec", "query", "merge", "refresh"}
)
# Calls that take a new instance without setting its columns.
_INSTANCE_USES = frozenset({*_ADDS, "refresh", "expunge", "model_validate", "from_orm", "validate"})
# Methods that read a dict (or only add keys we track, or drop some).
_READ_METHODS = frozenset({"get", "items", "keys", "values", "copy", "pop", "__contains__"})
_MAX_KEY_DEPTH = 6


def _is_name(expr: ast.AST, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def _bare_use(expr: ast.expr, name: str) -> bool:
    """Does `expr` use the object `name` itself (not only read an attribute of it)?"""
    bases = {id(n.value) for n in ast.walk(expr) if isinstance(n, ast.Attribute)}
    return any(_is_name(n, name) and id(n) not in bases for n in ast.walk(expr))


def _unstarred(expr: ast.expr) -> ast.expr:
    return expr.value if isinstance(expr, ast.Starred) else expr


def _is_none(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _merge(out: dict[str, ast.expr | None], found: dict[str, ast.expr | None]) -> None:
    """Add the keys of one way of building a mapping to those of the others: a key
    any of them sets is set (with a value other than `None` if one gives one)."""
    for key, value in found.items():
        if key not in out or _is_none(out[key]):
            out[key] = value


def _conflict_handles(upsert: ast.Call, entry: str, count: int) -> bool:
    """Does this `ON CONFLICT` / `ON DUPLICATE KEY` / `INSERT OR IGNORE` clause absorb a
    duplicate on the unique constraint `entry` (one of `count`)?"""
    attr = upsert.func.attr if isinstance(upsert.func, ast.Attribute) else ""
    if attr in ("prefix_with", "on_duplicate_key_update"):
        return True  # any unique key
    targets = keyword(upsert, "index_elements")
    if targets is None and keyword(upsert, "constraint") is None:
        return attr == "on_conflict_do_nothing" and not upsert.args  # any conflict
    if isinstance(targets, (ast.List, ast.Tuple)):
        columns = {
            const_str(e) or (e.attr if isinstance(e, ast.Attribute) else "") for e in targets.elts
        }
        return columns == set(entry.split(", "))
    return count == 1  # a named constraint: the only one there is


_RELATIONSHIPS = frozenset({"relationship", "Relationship", "relation", "synonym", "composite"})


def _class_attribute(project: Project, qualname: str, name: str) -> ast.stmt | None:
    """The statement of the model (or a project base) that defines `name`."""
    for ancestor in project.mro(qualname):
        cls = project.class_(ancestor)
        if cls is None:
            continue
        for stmt in cls.node.body:
            if isinstance(stmt, ast.AnnAssign) and _is_name(stmt.target, name):
                return stmt
            if isinstance(stmt, ast.Assign) and any(_is_name(t, name) for t in stmt.targets):
                return stmt
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                return stmt
    return None


def _plain_column(project: Project, qualname: str, name: str) -> bool:
    """Is `name` a column of the model (not a relationship, a property or unknown)?"""
    stmt = _class_attribute(project, qualname, name)
    if not isinstance(stmt, (ast.AnnAssign, ast.Assign)):
        return False
    value = stmt.value
    return not (
        isinstance(value, ast.Call) and last_name(ast.unparse(value.func)) in _RELATIONSHIPS
    )


def _column_has_default(project: Project, qualname: str, column: str) -> bool:
    """Does the model give `column` a value when an insert leaves it out? (True when
    the column cannot be found.)"""
    stmt = _class_attribute(project, qualname, column)
    if not isinstance(stmt, (ast.AnnAssign, ast.Assign)):
        return True
    value = stmt.value
    if value is None:
        return False
    if not isinstance(value, ast.Call):
        return not _is_none(value)  # SQLModel `status: str = "new"`
    if any(keyword(value, k) is not None for k in _DEFAULTS):
        return True
    if last_name(ast.unparse(value.func)) == "Field" and value.args:
        return not _is_none(value.args[0])  # `Field("new", ...)`
    return False


def _pydantic_fields(project: Project, qualname: str | None) -> dict[str, ast.expr | None] | None:
    """The fields of a Pydantic model of the project with their defaults (None for a
    required field or a factory); None when it is not one or its fields are unknown."""
    if qualname is None or project.class_(qualname) is None:
        return None
    ancestors = project.mro(qualname)
    outside = [a for a in ancestors if project.class_(a) is None]
    if not any(a.startswith("pydantic.") for a in outside) or not all(
        a.startswith(("pydantic.", "typing.", "builtins.")) or a == "object" for a in outside
    ):
        return None
    fields: dict[str, ast.expr | None] = {}
    for ancestor in reversed(ancestors):
        cls = project.class_(ancestor)
        if cls is None:
            continue
        for stmt in cls.node.body:
            if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                continue
            name = stmt.target.id
            if name.startswith("_") or "ClassVar" in ast.unparse(stmt.annotation):
                continue
            value = stmt.value
            if isinstance(value, ast.Call) and last_name(ast.unparse(value.func)) == "Field":
                default = keyword(value, "default")
                value = default if default is not None else value.args[0] if value.args else None
            fields[name] = value
    return fields


def _distinct_items(project: Project, fn: Function, expr: ast.expr, depth: int = 0) -> bool:
    """Does iterating `expr` give distinct items? `set(...)`, `dict.fromkeys(...)`,
    the keys/values of a dict built in the function (`deduped[key] = ...`), set and
    dict comprehensions, an empty literal, `list()`/`sorted()` of those, a local
    bound only to those, or a project function that returns only those."""
    if depth > 3:
        return False
    if isinstance(expr, (ast.SetComp, ast.DictComp, ast.Set)):
        return True
    if isinstance(expr, (ast.List, ast.Tuple, ast.Dict)):
        return not (expr.keys if isinstance(expr, ast.Dict) else expr.elts)
    if isinstance(expr, ast.Name):
        bound = fn.local_values.get(expr.id)
        return bound is not None and _distinct_items(project, fn, bound, depth + 1)
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    if isinstance(func, ast.Name) and func.id in ("set", "frozenset"):
        return True
    if isinstance(func, ast.Name) and func.id in ("list", "sorted", "tuple") and expr.args:
        return _distinct_items(project, fn, expr.args[0], depth + 1)
    if isinstance(func, ast.Attribute):
        if func.attr == "fromkeys":
            return True
        if func.attr in ("keys", "values", "items") and isinstance(func.value, ast.Name):
            bound = fn.local_values.get(func.value.id)
            return isinstance(bound, (ast.Dict, ast.DictComp)) or (
                isinstance(bound, ast.Call)
                and isinstance(bound.func, ast.Name)
                and bound.func.id == "dict"
            )
    callee = project.function(resolve_callee(project, fn.module, func, fn))
    if callee is None or callee is fn:
        return False
    returns = [n for n in body_nodes(callee.node) if isinstance(n, ast.Return)]
    return bool(returns) and all(
        r.value is not None and _distinct_items(project, callee, r.value, depth + 1)
        for r in returns
    )


def _describe(writes: list[_Write]) -> dict[str, str]:
    """Model -> its unique constraints at stake, as shown in the message."""
    out: dict[str, list[str]] = {}
    for write in writes:
        entries = out.setdefault(write.model, [])
        for entry, _conditions in write.entries:
            if entry not in entries:
                entries.append(entry)
    return {model: ", ".join(f"`{e}`" for e in entries) for model, entries in out.items()}


def _global_integrity_handler(model: AppModel) -> bool:
    handlers = _handlers(model)
    if any(last_name(name) in _INTEGRITY_HANDLERS for name in handlers.classes):
        return True
    # Handlers registered in a loop, in a module that deals with `IntegrityError`.
    return any("IntegrityError" in module.source for module in handlers.dynamic)


@rule(
    code="FAA604",
    name="unhandled-db-write-errors",
    summary=(
        "A commit or flush that can violate a unique constraint does not handle "
        "`IntegrityError`: a duplicate becomes a 500"
    ),
    severity="warning",
    scope="project",
    fix_title="Catch `IntegrityError`, roll back and answer 409 Conflict",
    references=(
        "https://docs.sqlalchemy.org/en/20/errors.html#integrityerror",
        "https://fastapi.tiangolo.com/tutorial/handling-errors/",
    ),
)
def unhandled_db_write_errors(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds `session.commit()` and `session.flush()` calls, in code that serves requests
    (a route, a dependency, or a function they call), that write an ORM model with a
    unique constraint (`unique=True`, `UniqueConstraint`, `Index(..., unique=True)`)
    without handling `IntegrityError`: no enclosing `try` catches it (or one of its
    bases, such as `SQLAlchemyError`), no caller wraps the call in one, and no
    `exception_handler(IntegrityError)` is installed. A write is an `add()`/`add_all()`
    /`merge()` of a new instance, an `insert()`/`update()` statement, an assignment to
    a unique column, `setattr()` with a computed name or `sqlmodel_update()`, in the
    function or in a project helper it calls that leaves the flush to it.

    ## Why is this bad?
    A duplicate e-mail, slug or username is a normal client mistake, and a pre-check
    (`if get_user_by_email(...)`) does not close the race between two concurrent
    requests. The database refuses the row with an `IntegrityError`; unhandled, it
    becomes a `500 Internal Server Error` (and an alert) instead of a `409 Conflict`,
    and a session that is reused after the failed flush stays in a failed state until
    it is rolled back.

    ## Known problems
    Only unique constraints on values a client can repeat are considered: primary
    keys, `id`, columns with a `default=`/`server_default=`, and columns named like
    server-made values (`token`, `hash`, `digest`, `uuid`, `nonce`...) are left out,
    and so is a constraint that a write fills with a value the server makes unique: a
    random value of at least 64 bits (`uuid.uuid4()`, `secrets.token_hex(8)`,
    `os.urandom(16)`), also inside a string built around it
    (`f"_deleted_{ts}_{secrets.token_hex(8)}"`; a shorter random part can repeat), or
    the key of a row built in the same request (`run = Run(id=uuid.uuid4())`, then
    `RunSync(run_id=run.id)`, also through a helper that gets `run`). A commit or
    flush only counts for the writes made before it (or earlier in the same loop): a
    commit that starts a fresh transaction before any write (`if is_db_sqlite(): await
    session.commit()` before a lock) is not reported, the one after the insert is; a
    helper's write that no flush of its own follows counts for its caller's commit.
    When the code spells out the columns a write sets (`Model(a=..., b=...)`, a
    `model_dump()` of a Pydantic model built in the function, `.values(**data)` with
    `data` a dict built with constant keys, here, by every caller or by a helper that
    returns it, the dicts of a bulk `session.execute(update(Model), rows)`), an insert counts
    only for the constraints whose every column it fills (a column left out is NULL,
    and NULLs never collide), an update only for those it sets a column of; upserts
    (`on_conflict_do_nothing()`, `on_conflict_do_update(index_elements=...)`,
    `on_duplicate_key_update`, `INSERT OR IGNORE`) do not count for their conflict
    target. (SQL Server, and PostgreSQL's `NULLS NOT DISTINCT`, do treat NULLs as
    equal.)
    A foreign key set from client input (a missing author id) or a delete of a
    still-referenced row also raise `IntegrityError`, but whether they can happen
    depends on data flow the rule does not follow. Writes whose model cannot be told
    statically (a generic repository `add(obj)`) are not reported, and neither are
    scripts and tests. Exception handlers registered in a loop
    (`app.add_exception_handler(h.cls, h.handle)`) count as handling
    `IntegrityError` when their module mentions it. A replace-all is not reported: an
    `add()` of an instance built with the same values that an earlier
    `delete(Model).filter_by(...)` (or `.where(Model.col == ...)`) of the function
    filters on, when every unique constraint of the model contains those columns and
    the loop that adds the rows (if any) walks distinct items (`set()`,
    `dict.fromkeys()`, a dict's values, or a helper returning those). Two concurrent
    replaces can still collide. A write inside a `with session.begin_nested():` (or
    `session.begin()`) block that sits in a `try` catching `IntegrityError`, its own or
    a helper's called there, does not count for a later `commit()`: leaving the block
    flushes it, inside that `try`.

    ## Example
    ```python
    @router.post("/users", status_code=201)
    def create_user(payload: UserCreate, db: SessionDep) -> UserOut:
        user = User(email=payload.email)  # email: unique=True
        db.add(user)
        db.commit()
        return user
    ```

    ## Use instead
    ```python
        db.add(user)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise HTTPException(status.HTTP_409_CONFLICT, "E-mail already registered") from None
    ```
    Or translate it once for the whole app with
    `app.add_exception_handler(IntegrityError, conflict_handler)`.

    ## Fix safety
    There is no automatic fix: the conflict message and status depend on the resource.
    """
    model = ctx.model
    st = _WriteState(model)
    if not st.any_unique():
        # No ORM model, or none with a unique constraint: no write can be at stake.
        # (Asked first: cheaper than the exception handlers, which need a scan.)
        return
    if _global_integrity_handler(model):
        return
    flushing = _call_facts(model).flushes
    for fn in list(model.project.functions.values()):
        if fn.qualname not in flushing:
            continue  # no `.commit()` / `.flush()` call at all: `write_sites` is empty
        if is_test_module(fn.module):
            continue
        sites = st.write_sites(fn)
        if not sites:
            continue
        writes = st.own_writes(fn)
        if not writes:
            continue
        if not st.serves_requests(fn) or st.handled_by_callers(fn):
            continue
        for site in sites:
            if _protected(fn, site):
                continue
            pending = [w for w in writes if _runs_before(fn, w.anchor, site)]
            if not pending:
                continue  # a commit that starts a fresh transaction before any write
            what = ", ".join(
                f"`{last_name(m)}` (unique {cols})" for m, cols in _describe(pending).items()
            )
            func = site.func
            assert isinstance(func, ast.Attribute)
            yield Report(
                site,
                f"`{ast.unparse(func)}()` writes {what} without handling `IntegrityError`: "
                "a duplicate becomes a 500 instead of a 409",
                module=fn.module,
            )
            break


# ------------------------------------------------------------------ FAA605

_CORS = frozenset(
    {"fastapi.middleware.cors.CORSMiddleware", "starlette.middleware.cors.CORSMiddleware"}
)
# Middleware that never answers a request itself (or only with a redirect or a bare 400
# for a forged Host header): outside CORS they cost nothing.
_TRANSPARENT = frozenset(
    {
        "GZipMiddleware",
        "BrotliMiddleware",
        "ProxyHeadersMiddleware",
        "TrustedHostMiddleware",
        "HTTPSRedirectMiddleware",
        "SessionMiddleware",
        "CorrelationIdMiddleware",
    }
)
# Words in the name of an outside middleware that only observes or decorates the
# traffic (sessions, compression, metrics, tracing, request ids, timing).
_TRANSPARENT_WORDS = (
    "Session",
    "GZip",
    "Compress",
    "Brotli",
    "Prometheus",
    "Metrics",
    "Telemetry",
    "Tracing",
    "Sentry",
    "Correlation",
    "RequestId",
    "RequestID",
    "Timing",
)


@dataclass(frozen=True)
class _Layer:
    name: str
    node: ast.AST
    kind: str  # "add" (`add_middleware`, `@app.middleware`) or "list" (`middleware=[...]`)
    place: tuple[Module, int]  # (module, scope) where it is added, for source order
    line: int

    @property
    def label(self) -> str:
        return f"`{last_name(self.name) or '?'}`"


def _layers(
    model: AppModel, router: RouterObj, sites: dict[int, tuple[Module, int]]
) -> list[_Layer]:
    project = model.project
    out: list[_Layer] = []
    for name, node in router.middleware:
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "add_middleware":
            place = sites.get(id(node))
            if place is not None:
                out.append(_Layer(project.canonical(name), node, "add", place, node.lineno))
        elif isinstance(func, ast.Attribute) and func.attr == "middleware":
            fn = project.function(name)
            if fn is not None:
                scope = id(fn.parent.node) if fn.parent is not None else 0
                out.append(_Layer(name, node, "add", (fn.module, scope), node.lineno))
        else:
            place = (router.module, id(router.scope.node) if router.scope else 0)
            out.append(_Layer(project.canonical(name), node, "list", place, node.lineno))
    return out


@rule(
    code="FAA605",
    name="cors-middleware-order",
    summary="`CORSMiddleware` is not the outermost middleware",
    severity="warning",
    scope="project",
    fix_title="Add `CORSMiddleware` last (or list it first in `middleware=[...]`)",
    references=(
        "https://www.starlette.io/middleware/#corsmiddleware",
        "https://fastapi.tiangolo.com/tutorial/cors/",
    ),
)
def cors_middleware_order(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds apps where another middleware runs outside `CORSMiddleware`. Starlette makes
    the middleware added *last* with `app.add_middleware(...)` (or `@app.middleware`)
    the outermost one, and in `FastAPI(middleware=[...])` the *first* of the list; every
    `add_middleware` wraps the whole `middleware=` list. So a middleware added after
    `CORSMiddleware`, listed before it, or added with `add_middleware` when CORS is in
    `middleware=[...]`, sees requests first and answers last.

    ## Why is this bad?
    A response produced by a middleware outside CORS, such as a 401 from an
    authentication middleware, a 429 from a rate limiter or a 500 from an error
    middleware, does not get the `Access-Control-Allow-Origin` header, and that
    middleware also answers the browser's `OPTIONS` preflight requests itself. The
    browser then reports a CORS error instead of the real status, which the frontend
    cannot read or handle.

    ## Known problems
    Middleware that never answer on their own are not reported: Starlette's
    `GZipMiddleware`, `ProxyHeadersMiddleware`, `TrustedHostMiddleware`,
    `HTTPSRedirectMiddleware` and `SessionMiddleware`; outside middleware named like
    sessions, compression, metrics, tracing, request ids or timing; and project
    middleware whose code builds no `Response` and sends no `http.response.start`
    (a `@app.middleware("http")` that only adds a header), nor a project CORS middleware
    of its own (named `*Cors*` and writing `Access-Control-Allow-Origin`: a layer for
    some anonymous paths, added outside the credentialed one on purpose).
    `add_middleware` calls are only
    compared within one function or module body, where their order is the source
    order; an app wrapped by hand (`app = CORSMiddleware(app, ...)`) is not reported.

    ## Example
    ```python
    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
    app.add_middleware(AuthMiddleware)  # added last: outermost, its 401s lack CORS headers
    ```

    ## Use instead
    ```python
    app = FastAPI()
    app.add_middleware(AuthMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
    ```

    ## Fix safety
    Reordering middleware changes which one sees a request first; no fix is applied
    automatically.
    """
    model = ctx.model
    apps = [r for r in model.routers.values() if r.kind == "app" and r.middleware]
    if not apps:
        return  # no middleware anywhere: nothing to report (no need to scan the calls)
    # Where each `add_middleware` call is (only read for those calls: skipped without any).
    sites: dict[int, tuple[Module, int]] = {}
    if any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_middleware"
        for router in apps
        for _name, node in router.middleware
    ):
        sites = _call_facts(model).add_middleware
    # An app wrapped by hand reports nothing: asked (one scan of every call) only once
    # there is something to report.
    wrapped: bool | None = None
    for router in apps:
        layers = _layers(model, router, sites)
        for cors in layers:
            if cors.name not in _CORS:
                continue
            if cors.kind == "add":
                outer = [
                    layer
                    for layer in layers
                    if layer.kind == "add" and layer.place == cors.place and layer.line > cors.line
                ]
                where = "added after it"
            else:
                index = layers.index(cors)
                outer = [
                    layer
                    for position, layer in enumerate(layers)
                    if layer.kind == "add" or (layer.kind == "list" and position < index)
                ]
                where = "listed before it or added with `add_middleware`"
            outer = [
                layer
                for layer in outer
                if layer.name not in _CORS
                and last_name(layer.name) not in _TRANSPARENT
                and _answers(model.project, layer.name)
                and not _sends_cors_headers(model.project, layer.name)
            ]
            if not outer:
                continue
            if wrapped is None:
                wrapped = _wrapped_by_hand(model)
            if wrapped:
                return
            names = ", ".join(sorted({layer.label for layer in outer}))
            yield Report(
                cors.node,
                f"`CORSMiddleware` is not the outermost middleware: {names} ({where}) "
                "answers without CORS headers",
                module=cors.place[0],
            )


def _wrapped_by_hand(model: AppModel) -> bool:
    """Is `CORSMiddleware` called with arguments somewhere (`app = CORSMiddleware(app,
    ...)`), other than through `add_middleware`?"""
    project = model.project
    canonical = project.canonical
    cors_targets: dict[str, bool] = {}  # callee -> is CORSMiddleware (asked once per name)
    for _scope, _module, site in call_sites(model):
        target = site.target
        if target is None:
            continue
        func = site.node.func
        if isinstance(func, ast.Attribute) and func.attr == "add_middleware":
            continue
        is_cors = cors_targets.get(target)
        if is_cors is None:
            is_cors = cors_targets[target] = canonical(target) in _CORS
        if is_cors and (site.node.args or site.node.keywords):
            return True
    return False


_MIDDLEWARE_METHODS = ("dispatch", "__call__")


def _middleware_code(project: Project, name: str) -> list[Function]:
    """The project code a middleware runs per request: the function itself, or the
    `dispatch`/`__call__` methods of the class and its project ancestors."""
    functions: list[Function] = []
    fn = project.function(name)
    if fn is not None:
        functions.append(fn)
    cls = project.class_(name)
    if cls is not None:
        for ancestor in project.mro(cls.qualname):
            owner = project.class_(ancestor)
            if owner is not None:
                functions.extend(
                    owner.methods[m] for m in _MIDDLEWARE_METHODS if m in owner.methods
                )
    return functions


def _sends_cors_headers(project: Project, name: str) -> bool:
    """Is this project middleware a CORS middleware of its own: named so, and writing
    `Access-Control-Allow-Origin` on what it answers (for some paths or origins)? A
    middleware that adds the header to only some of its answers (a CSRF check) is not."""
    if "cors" not in last_name(name).lower():
        return False
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, (str, bytes))
        and node.value.lower() in ("access-control-allow-origin", b"access-control-allow-origin")
        for function in _middleware_code(project, name)
        for node in walk(function.node)
    )


def _answers(project: Project, name: str) -> bool:
    """May this middleware send a response of its own? Outside code: assume so. A
    project middleware (a `@app.middleware` function, a `BaseHTTPMiddleware.dispatch`,
    a pure ASGI `__call__`) does when its code builds a `Response` (directly or through
    a helper annotated to return one) or sends an `http.response.start` message."""
    functions = _middleware_code(project, name)
    if not functions:
        return not any(word in last_name(name) for word in _TRANSPARENT_WORDS)
    for function in functions:
        for node in _own_nodes(list(function.node.body)):
            if isinstance(node, ast.Call) and is_response_expr(project, function, node):
                return True
            if isinstance(node, ast.Dict) and any(
                const_str(v) == "http.response.start" for v in node.values if v is not None
            ):
                return True
    return False


# ------------------------------------------------------------------ FAA607

# Exceptions FastAPI and Starlette answer themselves.
_FRAMEWORK_HANDLED = HTTP_EXCEPTIONS | frozenset(
    {
        "fastapi.exceptions.RequestValidationError",
        "fastapi.exceptions.WebSocketRequestValidationError",
        "fastapi.exceptions.WebSocketException",
        "fastapi.WebSocketException",
        "starlette.exceptions.WebSocketException",
        "pydantic.ValidationError",
        "pydantic_core.ValidationError",
    }
)
_API_ROUTE = frozenset({"fastapi.routing.APIRoute", "fastapi.APIRoute"})
_CATCH_ALL = frozenset(
    {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
)
_MAX_DECORATORS = 3  # decorators applied by decorators, followed this deep


class _Escapes:
    """Which raises of project exceptions reach FastAPI uncaught: from a route or a
    dependency, or from a function they call with no `try` catching it on the way."""

    def __init__(self, model: AppModel) -> None:
        self.model = model
        self.memo: dict[tuple[int, str], Function | None] = {}
        self.own: dict[int, tuple[list[ast.Raise], list[tuple[int, int, ast.Try]]]] = {}

    def own_nodes(self, fn: Function) -> tuple[list[ast.Raise], list[tuple[int, int, ast.Try]]]:
        """The `raise <exc>` statements of `fn` and its `try` statements (with the line
        span of their body), in `_own_nodes` order: one look at the body per function,
        however many raises ask whether they are caught in it. Only statements are read
        (`statements` yields them in the order `_own_nodes` does, and no statement sits
        inside an expression)."""
        key = id(fn.node)
        found = self.own.get(key)
        if found is None:
            raises: list[ast.Raise] = []
            tries: list[tuple[int, int, ast.Try]] = []
            for node in statements(fn.node.body):
                kind = type(node)
                if kind is ast.Raise:
                    assert isinstance(node, ast.Raise)
                    if node.exc is not None:
                        raises.append(node)
                elif kind is ast.Try:
                    assert isinstance(node, ast.Try)
                    if node.body:
                        last = node.body[-1]
                        tries.append((node.body[0].lineno, last.end_lineno or last.lineno, node))
            found = self.own[key] = (raises, tries)
        return found

    def _catches(self, fn: Function, handler: ast.ExceptHandler, mro: list[str]) -> bool:
        caught = handler.type
        if caught is None:
            return True
        project = self.model.project
        elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        for element in elements:
            name = project.resolve(fn.module, element, fn)
            if name is None:
                if isinstance(element, (ast.Name, ast.Attribute)) and last_name(
                    ast.unparse(element)
                ) in ("Exception", "BaseException"):
                    return True
                continue
            name = project.canonical(name)
            if name in _CATCH_ALL or name in mro:
                return True
        return False

    def caught(self, fn: Function, target: ast.AST, mro: list[str]) -> bool:
        """Is `target` in the body of a `try` of `fn` with a clause catching the class?"""
        line = getattr(target, "lineno", 0)
        for start, end, node in self.own_nodes(fn)[1]:
            if start <= line <= end and any(self._catches(fn, h, mro) for h in node.handlers):
                return True
        return False

    def _route_class_catches(self, route: Route, mro: list[str]) -> bool:
        """Does the route's router have a `route_class=` project subclass of `APIRoute`
        whose `get_route_handler` (or the handler it returns) catches the class?"""
        router = route.router
        value = keyword(router.node, "route_class")
        project = self.model.project
        name = project.resolve(router.module, value, router.scope) if value is not None else None
        if name is None or not project.is_subclass(project.canonical(name), _API_ROUTE):
            return False
        method = project.method(project.canonical(name), "get_route_handler")
        if method is None:
            return False
        return any(
            isinstance(node, ast.Try) and any(self._catches(method, h, mro) for h in node.handlers)
            for node in ast.walk(method.node)
        )

    def _answers(self, fn: Function, handler: ast.ExceptHandler) -> bool:
        """Does the clause answer the error: return a value (a response), or raise an
        `HTTPException` (built here, or by a helper annotated to return one) or an
        exception the app has a handler for?"""
        project = self.model.project
        for node in _own_nodes(handler.body):
            if isinstance(node, ast.Return) and node.value is not None:
                return True
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = project.resolve(fn.module, exc, fn)
            helper = project.function(name)
            if helper is not None:
                returns = helper.node.returns
                if returns is None:
                    continue
                name = const_str(returns) or ast.unparse(returns)
                if last_name(name).endswith("HTTPException"):
                    return True
                try:
                    annotation = ast.parse(name, mode="eval").body
                except SyntaxError:
                    continue
                name = project.resolve(helper.module, annotation, helper)
            if name is None:
                if last_name(ast.unparse(exc)).endswith("HTTPException"):
                    return True
                continue
            name = project.canonical(name)
            if project.is_subclass(name, HTTP_EXCEPTIONS) or any(
                n in _handlers(self.model).classes for n in project.mro(name)
            ):
                return True
        return False

    def _wrapper_catches(self, deco: Function, mro: list[str], depth: int = 0) -> bool:
        """Does the decorator call the function it wraps (a parameter of it, or of the
        decorator a factory returns) inside a `try` whose clause for the class answers
        the error? A decorator it applies to that function (`handle_errors(func)`)
        is followed too."""
        project = self.model.project
        params = {
            arg.arg
            for node in ast.walk(deco.node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        }
        for node in ast.walk(deco.node):
            if isinstance(node, ast.Try):
                if not any(
                    isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in params
                    for stmt in node.body
                    for n in ast.walk(stmt)
                ):
                    continue
                for handler in node.handlers:
                    if self._catches(deco, handler, mro):
                        if self._answers(deco, handler):
                            return True
                        break  # the first clause that catches it decides
            elif (
                isinstance(node, ast.Call)
                and depth < _MAX_DECORATORS
                and any(isinstance(a, ast.Name) and a.id in params for a in node.args)
            ):
                inner = project.function(project.resolve(deco.module, node.func, deco))
                if (
                    inner is not None
                    and inner is not deco
                    and self._wrapper_catches(inner, mro, depth + 1)
                ):
                    return True
        return False

    def decorator_catches(self, fn: Function, mro: list[str]) -> bool:
        """Is `fn` decorated with a project decorator that catches the class and answers
        it (`@endpoint_errors`, `@api_wrapper(retries=2)`)?"""
        project = self.model.project
        for decorator in fn.node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            wrapper = project.function(project.resolve(fn.module, target, fn.parent))
            if wrapper is not None and self._wrapper_catches(wrapper, mro):
                return True
        return False

    def reaches(
        self,
        fn: Function,
        cls: str,
        mro: list[str],
        depth: int = 0,
        raised: ast.Raise | None = None,
    ) -> Function | None:
        """The route handler or dependency the exception escapes from, if any, when it
        leaves `fn` (already known not to be caught inside it). With the `raise` itself
        (from the function that raises), a caller whose arguments keep it from running
        is skipped (`_unmet_key_guard`)."""
        guards = _key_guards(fn, raised) if raised is not None else []
        if guards:
            return self._reaches_past(fn, cls, mro, guards)
        key = (id(fn.node), cls)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = None
        model = self.model
        found: Function | None = None
        routes = model.routes_of(fn)
        if fn.node.decorator_list and self.decorator_catches(fn, mro):
            pass  # a decorator of `fn` translates the exception
        elif model.is_dependency(fn) or (
            routes and not all(self._route_class_catches(route, mro) for route in routes)
        ):
            found = fn
        elif depth < _MAX_CALLERS:
            project = model.project
            for caller_name, site in model.callgraph.callers(fn.qualname):
                caller = project.function(caller_name)
                if caller is None or self.caught(caller, site.node, mro):
                    continue
                found = self.reaches(caller, cls, mro, depth + 1)
                if found is not None:
                    break
        self.memo[key] = found
        return found

    def _reaches_past(
        self, fn: Function, cls: str, mro: list[str], guards: list[tuple[str, str]]
    ) -> Function | None:
        """`reaches` for a `raise` under key guards: each caller's call is checked."""
        model = self.model
        if model.is_dependency(fn) or model.routes_of(fn) or fn.node.decorator_list:
            return self.reaches(fn, cls, mro)
        project = model.project
        for caller_name, site in model.callgraph.callers(fn.qualname):
            caller = project.function(caller_name)
            if caller is None or self.caught(caller, site.node, mro):
                continue
            if _unmet_key_guard(fn, site.node, guards):
                continue
            found = self.reaches(caller, cls, mro, 1)
            if found is not None:
                return found
        return None


def _key_guards(fn: Function, raised: ast.Raise) -> list[tuple[str, str]]:
    """The `(parameter, key)` pairs that must match for `raised` to run: it sits under
    `if field == "email"` in a loop `for field, value in <parameter>.items()` (or over
    the parameter or its `.keys()`), as in fastapi-users' `_update(user, update_dict)`."""
    out: list[tuple[str, str]] = []
    params = fn.param_names

    def visit(body: list[ast.stmt], loops: dict[str, str]) -> bool:
        for stmt in body:
            if stmt is raised:
                return True
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                inner = dict(loops)
                source = stmt.iter
                if (
                    isinstance(source, ast.Call)
                    and isinstance(source.func, ast.Attribute)
                    and source.func.attr in ("items", "keys")
                    and not source.args
                ):
                    source = source.func.value
                target = stmt.target
                if isinstance(target, ast.Tuple) and target.elts:
                    target = target.elts[0]
                if (
                    isinstance(source, ast.Name)
                    and source.id in params
                    and isinstance(target, ast.Name)
                ):
                    inner[target.id] = source.id
                if visit(stmt.body, inner) or visit(stmt.orelse, loops):
                    return True
            elif isinstance(stmt, ast.If):
                found = _compared_key(stmt.test, loops)
                if visit(stmt.body, loops):
                    if found is not None:
                        out.append(found)
                    return True
                if visit(stmt.orelse, loops):
                    return True
            else:
                for field_name in ("body", "orelse", "finalbody", "handlers"):
                    block = getattr(stmt, field_name, None)
                    if isinstance(block, list):
                        nested = [b for b in block if isinstance(b, ast.stmt)]
                        for handler in block:
                            if isinstance(handler, ast.ExceptHandler):
                                nested.extend(handler.body)
                        if visit(nested, loops):
                            return True
        return False

    visit(fn.node.body, {})
    return [(param, key) for param, key in out if not _changes_dict(fn, param, key)]


# Calls that may add a key to a dict (`pop`, `clear` only take keys away).
_DICT_ADDS = frozenset({"update", "setdefault", "__setitem__", "__ior__"})


def _changes_dict(fn: Function, name: str, key: str) -> bool:
    """Can the function give `name` the key `key` its caller did not pass: rebind it
    (also in a tuple, a loop or a walrus), `d.update(...)`, `d.setdefault(...)`,
    `d |= ...`, or `d[k] = ...` with `k` that key or not a constant?"""
    for node in body_nodes(fn.node):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(
            node,
            (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.comprehension, ast.NamedExpr),
        ):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in node.items if item.optional_vars]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _DICT_ADDS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
        ):
            return True
        for target in targets:
            if _writes_key(target, name, key):
                return True
    return False


def _writes_key(target: ast.expr, name: str, key: str) -> bool:
    """Does an assignment to `target` rebind `name` (also inside a tuple or a star), or
    set its `key` (or a key that is not a constant)?"""
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, ast.Starred):
        return _writes_key(target.value, name, key)
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_writes_key(element, name, key) for element in target.elts)
    if isinstance(target, ast.Subscript):
        return (
            isinstance(target.value, ast.Name)
            and target.value.id == name
            and const_str(target.slice) in (None, key)
        )
    return False


def _compared_key(test: ast.expr, loops: dict[str, str]) -> tuple[str, str] | None:
    """`field == "email"` (also the first operand of an `and`) for a loop variable."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        test = test.values[0]
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.left, ast.Name)
        and test.left.id in loops
    ):
        key = const_str(test.comparators[0])
        if key is not None:
            return loops[test.left.id], key
    return None


def _unmet_key_guard(fn: Function, call: ast.Call, guards: list[tuple[str, str]]) -> bool:
    """Does the call pass, for a guarded parameter, a dict literal of constant keys that
    lacks the key (`self._update(user, {"is_verified": True})`)?"""
    passed = passed_arguments(fn, call)
    for param, key in guards:
        value = passed.get(param)
        if not isinstance(value, ast.Dict) or any(k is None for k in value.keys):
            continue
        keys = {const_str(k) for k in value.keys if k is not None}
        if None not in keys and key not in keys:
            return True
    return False


@dataclass
class _Handlers:
    classes: set[str]  # the exception classes with a registered handler
    # Modules that register handlers for classes the rule cannot name
    # (`for h in HANDLERS: app.add_exception_handler(h.cls, h.handle)`).
    dynamic: list[Module]


def _handlers(model: AppModel) -> _Handlers:
    return project_index(model, _find_handlers)


def _find_handlers(model: AppModel) -> _Handlers:
    project = model.project
    classes = {name for names in leak_state(model).handlers.values() for name in names}
    dynamic: list[Module] = []

    def register(module: Module, scope: Function | None, key: ast.expr | None) -> None:
        name = project.resolve(module, key, scope) if key is not None else None
        if name is None or (project.class_(name) is None and not is_exception_type(project, name)):
            dynamic.append(module)
        else:
            classes.add(project.canonical(name))

    def look_into(module: Module, scope: Function | None, arg: ast.Dict) -> None:
        # `create_app(app_kwargs={"exception_handlers": {...}})`
        for key, value in zip(arg.keys, arg.values, strict=True):
            if const_str(key) != "exception_handlers":
                continue
            if isinstance(value, ast.Dict):
                for inner in value.keys:
                    register(module, scope, inner)
            else:
                dynamic.append(module)

    # The call sites that may register a handler, in `call_sites` order (the others
    # pass no dict, no `exception_handlers=` and are no `add_exception_handler`).
    for scope, module, site in _call_facts(model).handler_sites:
        call = site.node
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "add_exception_handler":
            if call.args:
                register(module, scope, call.args[0])
            continue
        keywords = call.keywords
        if keywords:
            table = keyword(call, "exception_handlers")
            if table is not None and not isinstance(table, (ast.Dict, ast.Constant)):
                dynamic.append(module)  # `FastAPI(exception_handlers=HANDLERS)`
        for arg in call.args:
            if isinstance(arg, ast.Dict):
                look_into(module, scope, arg)
        for kw in keywords:
            value = kw.value
            if isinstance(value, ast.Dict):
                look_into(module, scope, value)
    return _Handlers(classes, dynamic)


@dataclass
class _CallFacts:
    """What FAA604, FAA605 and FAA607 need from the project's call sites, from one pass
    over all of them (each used to make its own)."""

    # Owner (as in `callgraph.calls`) -> its `<x>.commit()` / `<x>.flush()` call sites,
    # in order (whatever `x` is: `write_sites` checks for a session).
    flushes: dict[str, list[CallSite]]
    # `id(call)` -> (module, id of the scope's node or 0 for module code) of every
    # `<x>.add_middleware(...)` call.
    add_middleware: dict[int, tuple[Module, int]]
    # The call sites `_find_handlers` looks into, as `call_sites` gives them: an
    # `add_exception_handler` call, or one with an `exception_handlers=` keyword or a
    # dict argument.
    handler_sites: list[tuple[Function | None, Module, CallSite]]


def _call_facts(model: AppModel) -> _CallFacts:
    return project_index(model, _scan_calls)


def _scan_calls(model: AppModel) -> _CallFacts:
    project = model.project
    functions, modules = project.functions, project.modules
    flushes: dict[str, list[CallSite]] = {}
    add_middleware: dict[int, tuple[Module, int]] = {}
    handler_sites: list[tuple[Function | None, Module, CallSite]] = []
    attribute_type, dict_type = ast.Attribute, ast.Dict
    write_ops = _WRITE_OPS
    for owner, sites in model.callgraph.calls.items():
        scope = functions.get(owner)
        # `call_sites` leaves out an owner of no known module (`calls_of` does not).
        module = scope.module if scope is not None else modules.get(owner)
        for site in sites:
            call = site.node
            func = call.func
            if isinstance(func, attribute_type):
                attr = func.attr
                if attr in write_ops:
                    flushes.setdefault(owner, []).append(site)
                elif module is None:
                    continue
                elif attr == "add_middleware":
                    add_middleware[id(call)] = (module, id(scope.node) if scope is not None else 0)
                elif attr == "add_exception_handler":
                    handler_sites.append((scope, module, site))
                    continue
            if module is None:
                continue
            # (Plain loops: this runs for every call of the project.)
            for arg in call.args:
                if isinstance(arg, dict_type):
                    handler_sites.append((scope, module, site))
                    break
            else:
                for kw in call.keywords:
                    if kw.arg == "exception_handlers" or isinstance(kw.value, dict_type):
                        handler_sites.append((scope, module, site))
                        break
    return _CallFacts(flushes, add_middleware, handler_sites)


_RAISE = re.compile(r"raise[ \t]+([A-Za-z_][\w.]*)")


def _at_line_start(source: str, offset: int) -> bool:
    """Is there only blanks (spaces, tabs) between the line's start and `offset`?"""
    start = source.rfind("\n", 0, offset) + 1
    return not source[start:offset].strip(" \t")


def _raising_lines(project: Project) -> dict[int, list[int]]:
    """Per module, the lines that raise a class named like a project exception class
    (a text scan, so only those functions are walked)."""
    names = {
        cls.node.name
        for cls in project.classes.values()
        if is_exception_type(project, cls.qualname)
    }
    out: dict[int, list[int]] = {}
    if not names:
        return out
    for module in project.module_list:
        source = module.source
        line, counted = 1, 0  # the line number at offset `counted` (matches go forward)
        for match in _RAISE.finditer(source):
            if match.group(1).rpartition(".")[2] in names and _at_line_start(source, match.start()):
                start = match.start()
                line += source.count("\n", counted, start)
                counted = start
                out.setdefault(id(module), []).append(line)
    return out


def _exception_root(project: Project, cls: str) -> str:
    """The topmost project exception class of `cls`'s hierarchy."""
    root = cls
    for ancestor in project.mro(cls)[1:]:
        if project.class_(ancestor) is not None and is_exception_type(project, ancestor):
            root = ancestor
    return root


@rule(
    code="FAA607",
    name="missing-exception-handlers",
    summary=(
        "Project exceptions raised while serving requests have no exception handler: "
        "they become 500 errors"
    ),
    severity="warning",
    scope="project",
    fix_title="Register an exception handler for the exception (or its base class)",
    references=(
        "https://fastapi.tiangolo.com/tutorial/handling-errors/#install-custom-exception-handlers",
    ),
)
def missing_exception_handlers(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds project exception classes (a `NotFoundError`, a `PermissionDenied` of the
    domain layer) that are raised in a route, a dependency or a function they call,
    reach FastAPI without being caught on the way, and have no exception handler: no
    `@app.exception_handler(...)`, `app.add_exception_handler(...)` or
    `FastAPI(exception_handlers={...})` for the class or one of its bases. One finding
    per exception hierarchy, at the topmost project class.

    ## Why is this bad?
    FastAPI only turns `HTTPException` and validation errors into responses. Any other
    exception is an unhandled server error: the client gets a `500 Internal Server
    Error` for what is really a 404, 403 or 409, the error shows up in monitoring as a
    crash, and the status the OpenAPI schema documents is never sent.

    ## Known problems
    Calls are followed up to four callers up from the `raise`. A `raise` that runs only
    for one key of a dict parameter (`for field, value in update_dict.items(): if field
    == "email": ...`, fastapi-users' `_update`) does not escape through a caller that
    passes a dict literal without that key (`self._update(user, {"is_verified":
    True})`), unless the function rebinds or changes that dict. A `try` that catches the
    exception (or a base class, or `Exception`) on the way counts as handling it, and so
    does a handler for `Exception`. Subclasses of `HTTPException` and validation errors
    are left to FastAPI. When handlers are registered for classes the rule cannot name
    (in a loop, or from a variable: `FastAPI(exception_handlers=HANDLERS)`), nothing
    is reported. A router's `route_class=` (a project subclass of `APIRoute`) whose
    `get_route_handler` catches the exception handles it for that router's routes. So
    does a project decorator of the route (or of a function on the way, factories such
    as `@endpoint(retries=2)` included) that calls the function it wraps inside a `try`
    whose clause for the exception answers it: returns a response, or raises an
    `HTTPException` (built there, or by a helper annotated to return one) or an
    exception with a handler; a decorator it applies to that function
    (`translated = handle_errors(func)`) is followed too. A decorator that only logs
    and re-raises does not handle it. A middleware that translates the exceptions is
    not recognized.

    ## Example
    ```python
    class NotFoundError(Exception):
        pass


    def get_book(db: Session, book_id: int) -> Book:
        book = db.get(Book, book_id)
        if book is None:
            raise NotFoundError(f"Book {book_id} not found")
        return book
    ```

    ## Use instead
    ```python
    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    ```

    ## Fix safety
    There is no automatic fix: the status and body for each exception are a design
    decision.
    """
    model = ctx.model
    project = model.project
    handlers = _handlers(model)
    handled = handlers.classes
    if handled & _CATCH_ALL or handlers.dynamic:
        return  # a catch-all handler answers for every exception; or unknown handlers
    escapes = _Escapes(model)
    # root class -> raised classes -> (route or dependency it escapes from)
    found: dict[str, dict[str, Function]] = {}
    raising = _raising_lines(project)
    for fn in list(project.functions.values()):
        lines = raising.get(id(fn.module))
        if not lines or is_test_module(fn.module):
            continue
        # `lines` is sorted: is the first one at or after the function's start in it?
        at = bisect_left(lines, fn.node.lineno)
        if at == len(lines) or lines[at] > (fn.node.end_lineno or fn.node.lineno):
            continue
        for node in escapes.own_nodes(fn)[0]:
            assert node.exc is not None
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = project.resolve(fn.module, exc, fn)
            cls = project.class_(name)
            if cls is None or not is_exception_type(project, cls.qualname):
                continue
            qualname = cls.qualname
            mro = project.mro(qualname)
            if any(n in handled for n in mro):
                continue
            if project.is_subclass(qualname, _FRAMEWORK_HANDLED):
                continue
            if escapes.caught(fn, node, mro):
                continue
            endpoint = escapes.reaches(fn, qualname, mro, raised=node)
            if endpoint is None:
                continue
            root = _exception_root(project, qualname)
            found.setdefault(root, {}).setdefault(qualname, endpoint)
    for root, raised in found.items():
        cls = project.class_(root)
        if cls is None:
            continue
        names = ", ".join(f"`{last_name(n)}`" for n in sorted(raised))
        first = raised[sorted(raised)[0]]
        via = "route" if model.routes_of(first) else "dependency"
        yield Report(
            cls.node,
            f"{names} {'is' if len(raised) == 1 else 'are'} raised while serving requests "
            f"(e.g. through {via} `{first.name}`) but no exception handler is registered "
            f"for {'it' if len(raised) == 1 else 'them'} or `{cls.node.name}`: "
            "the client gets a 500",
            module=cls.module,
        )


# ------------------------------------------------------------------ FAA702 / FAA703


def _sets_status(fn: Function) -> bool:
    """`response.status_code = ...` in the handler: it picks its status itself."""
    for node in body_nodes(fn.node):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "status_code" for t in targets):
                return True
    return False


def _returns_none_call(project: Project, fn: Function, value: ast.expr) -> bool:
    """`return await service.delete(item_id)` where the callee is annotated `-> None`,
    or, in a handler itself annotated `-> None`, a callee the project does not define
    (`return await db.delete_memory(...)` on a client of another package): the handler's
    annotation, which a type checker holds the call to, says what it gives back."""
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    target = resolve_callee(project, fn.module, value.func, fn)
    callee = project.function(target)
    if callee is not None:
        returns = callee.node.returns
    elif (
        (
            target is None
            or (
                project.split(target)[0] is not None
                and project.class_(target.rpartition(".")[0]) is None
            )
        )
        and isinstance(value.func, ast.Attribute)
        and any(value.func.attr in cls.methods for cls in project.classes.values())
    ):
        return False  # perhaps a project method on an object whose type is unknown
    else:
        returns = fn.node.returns
    return isinstance(returns, ast.Constant) and returns.value is None


def _body_values(project: Project, fn: Function) -> list[ast.expr]:
    """Returned values that make a response body (not `Response` objects, not the
    result of a call annotated `-> None`)."""
    return [
        value
        for value in returned_values(fn)
        if not is_response_expr(project, fn, value) and not _returns_none_call(project, fn, value)
    ]


def _is_generator(fn: Function) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in body_nodes(fn.node))


@rule(
    code="FAA702",
    name="delete-route-status-code",
    summary="A DELETE path operation that returns nothing answers `200 OK` with a `null` body",
    severity="info",
    scope="route",
    fix_title="Declare `status_code=status.HTTP_204_NO_CONTENT`",
    references=(
        "https://fastapi.tiangolo.com/tutorial/response-status-code/",
        "https://www.rfc-editor.org/rfc/rfc9110#name-delete",
    ),
)
def delete_route_status_code(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds DELETE path operations without a `status_code` whose handler returns nothing
    (no `return <value>`, or only the result of a call annotated `-> None`), so FastAPI
    answers `200 OK` with the JSON body `null`.

    ## Why is this bad?
    A delete that has nothing to say should answer `204 No Content`: that is what the
    OpenAPI schema should document, what generated clients expect (a 200 makes them try
    to parse a `null` body into a model), and what HTTP caches and API gateways treat as
    "done, no representation". A DELETE that returns the deleted entity (or a message)
    answers `200` by default, which is right, and is not reported.

    ## Known problems
    Not reported: a route that declares any `status_code`, a decorator with a
    `**kwargs` splat, a handler that sets `response.status_code` or returns a
    `Response` object, a handler annotated with a non-`None` return type, and
    registrations for more methods than DELETE. When five or more DELETE routes of an
    app return nothing and none of its DELETE routes answers 204, `200 null` is the
    app's convention (its own client may parse a JSON body on every success): one
    finding, on the first of them, says so with their count, instead of one per route.
    An app that mixes 204 and `200 null` gets one finding per route.

    ## Example
    ```python
    @router.delete("/{book_id}")
    def delete_book(book_id: int, db: SessionDep) -> None:
        db.delete(get_book_or_404(db, book_id))
        db.commit()
    ```

    ## Use instead
    ```python
    @router.delete("/{book_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_book(book_id: int, db: SessionDep) -> None:
        db.delete(get_book_or_404(db, book_id))
        db.commit()
    ```

    ## Fix safety
    Switching to 204 changes the status clients receive; clients that compare with 200
    exactly must be updated, so no fix is applied automatically.
    """
    message = project_index(ctx.model, _delete_verdicts).get(id(route))
    if message is not None:
        yield Report(route.node, message, route.module)


def _null_delete(project: Project, route: Route) -> bool:
    """A DELETE-only route without a `status_code` whose handler returns nothing."""
    if route.kind != "http" or set(route.methods) != {"DELETE"}:
        return False
    if "status_code" in route.keywords or has_keyword_splat(route):
        return False
    handler = route.handler
    returns = handler.node.returns
    if returns is not None and not (isinstance(returns, ast.Constant) and returns.value is None):
        return False
    if _is_generator(handler) or _sets_status(handler) or _body_values(project, handler):
        return False
    return not any(is_response_expr(project, handler, v) for v in returned_values(handler))


def _answers_no_content(route: Route) -> bool:
    """Does a DELETE route answer 204: `status_code=204` on the decorator, a
    `response.status_code = 204`, or a `Response(status_code=204)` it returns?"""
    if route.status_code == 204:
        return True
    for node in body_nodes(route.handler.node):
        if isinstance(node, ast.Call) and status_code_value(keyword(node, "status_code")) == 204:
            return True
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Attribute) and t.attr == "status_code" for t in node.targets)
            and status_code_value(node.value) == 204
        ):
            return True
    return False


# An app whose DELETE routes all answer `200 null`, this many or more, and none 204, has
# made it its convention (its own clients may parse a JSON body on every 2xx).
_DELETE_CONVENTION = 5


def _app_keys(route: Route) -> set[str | None]:
    """The apps serving a route (None for a router no app includes)."""
    return {m.app.key if m.app is not None else None for m in route.mounts} or {None}


def _delete_verdicts(model: AppModel) -> dict[int, str]:
    """Every reported route's message (by `id(route)`). An app with several DELETE
    routes that answer `200 null` and none that answers 204 gets one finding, on its
    first such route, that says so; an app that mixes gets one per route."""
    project = model.project
    routes = sorted(model.routes, key=lambda r: (r.module.relpath, getattr(r.node, "lineno", 0)))
    no_content: set[str | None] = set()  # apps with a DELETE route that answers 204
    by_app: dict[str | None, list[Route]] = {}
    apps: dict[str | None, RouterObj] = {}
    for route in routes:
        if route.kind != "http" or "DELETE" not in route.methods:
            continue
        keys = _app_keys(route)
        for mount in route.mounts:
            if mount.app is not None:
                apps.setdefault(mount.app.key, mount.app)
        if _answers_no_content(route):
            no_content.update(keys)
        elif _null_delete(project, route):
            for key in keys:
                by_app.setdefault(key, []).append(route)
    convention = {
        key
        for key, found in by_app.items()
        if key not in no_content and len(found) >= _DELETE_CONVENTION
    }
    verdicts: dict[int, str] = {}
    reported: set[str | None] = set()
    for route in dict.fromkeys(r for found in by_app.values() for r in found):
        keys = _app_keys(route)
        label = f"`{route.handler.name}` ({route_label(route)})"
        if not keys <= convention:
            verdicts[id(route)] = (
                f"{label} returns nothing but answers `200 OK` with a `null` body: "
                "declare `status_code=204`"
            )
            continue
        if keys <= reported:
            continue
        reported.update(keys)
        key = min(keys, key=lambda k: k or "")
        count = len(by_app[key])
        app = apps.get(key) if key is not None else None
        where = f"its app (`{app.name}` in `{app.module.relpath}`)" if app else "the project"
        owner = "the app" if app else "the project"
        verdicts[id(route)] = (
            f"{label} and the other {count - 1} DELETE routes of {where} that return "
            f"nothing answer `200 OK` with a `null` body; no DELETE route of {owner} "
            "answers 204: declare `status_code=204` on them, unless its clients expect a "
            "JSON body on every success"
        )
    return verdicts


_NO_BODY = frozenset({204, 205, 304})


@rule(
    code="FAA703",
    name="no-content-with-body",
    summary="A 204/304 path operation declares or returns a response body",
    severity="warning",
    scope="route",
    fix_title="Remove the response model and return nothing (annotate `-> None`)",
    references=(
        "https://fastapi.tiangolo.com/tutorial/response-status-code/",
        "https://www.rfc-editor.org/rfc/rfc9110#name-204-no-content",
    ),
)
def no_content_with_body(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operations declared with `status_code=204` (or 205, 304) that also have a
    `response_model=`, a return annotation other than `None` (or a `Response` class),
    or a `return <value>` statement.

    ## Why is this bad?
    These statuses cannot carry a body. With a `response_model=` or a model return
    annotation, FastAPI refuses the route at startup (`AssertionError: Status code 204
    must not have a response body`): that is reported as an error. A value that is
    returned anyway is silently dropped (FastAPI strips it), so the client never
    receives data the code meant to send, and the code misleads its readers.

    ## Known problems
    A returned `Response` object, or the result of a call annotated `-> None`, is not a
    body; nor, in a handler annotated `-> None`, the result of a call the project does
    not define (a method of an outside class, also inherited by a project class; or,
    on an object of unknown type, a method no project class has): the annotation says
    it is `None`.
    `response_model=None` is fine.

    ## Example
    ```python
    @router.delete("/{item_id}", status_code=204, response_model=ItemOut)
    def delete_item(item_id: int, db: SessionDep) -> Item:
        item = get_item_or_404(db, item_id)
        db.delete(item)
        db.commit()
        return item
    ```

    ## Use instead
    ```python
    @router.delete("/{item_id}", status_code=204)
    def delete_item(item_id: int, db: SessionDep) -> None:
        db.delete(get_item_or_404(db, item_id))
        db.commit()
    ```

    ## Fix safety
    There is no automatic fix: either the status or the body has to go.
    """
    if route.kind != "http":
        return
    status = status_value(route.keywords.get("status_code"))
    if status not in _NO_BODY:
        return
    handler = route.handler
    project = ctx.project
    label = f"`{handler.name}` ({route_label(route)}, status {status})"
    model = route.keywords.get("response_model")
    if model is not None and not (isinstance(model, ast.Constant) and model.value is None):
        yield Report(
            model,
            f"{label} declares `response_model=`: FastAPI refuses the route at startup",
            module=route.module,
            severity="error",
        )
        return
    returns = handler.node.returns
    if (
        returns is not None
        and not (isinstance(returns, ast.Constant) and returns.value is None)
        and "response_model" not in route.keywords
        and not annotation_mentions_response(project, handler.module, returns, handler.parent)
        and not _is_generator(handler)
    ):
        yield Report(
            returns,
            f"{label} is annotated to return `{ast.unparse(returns)}`: FastAPI takes it as "
            "the response model and refuses the route at startup",
            module=handler.module,
            severity="error",
        )
        return
    for value in _body_values(project, handler):
        yield Report(
            value,
            f"{label} returns a value that FastAPI drops: a {status} response has no body",
            module=handler.module,
        )
        return
