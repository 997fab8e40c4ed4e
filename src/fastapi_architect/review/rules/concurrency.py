"""FAA2xx: async correctness. Blocking work reached from `async def` code runs on the
event loop and stalls every other request the worker serves."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from fastapi_architect.model.astutil import (
    body_nodes,
    keyword,
    parameters,
    walk,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.callgraph import CallSite
from fastapi_architect.model.dependencies import DepSite, param_sites, resolve_target
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.types import (
    annotation_type,
    resolve_callee,
    unwrap_annotation,
)
from fastapi_architect.review.context import ProjectContext
from fastapi_architect.review.index import project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._callsites import (
    REGISTRAR_KEYWORDS,
    REGISTRAR_METHODS,
    registration_calls,
)
from fastapi_architect.review.rules._memo import is_memoized
from fastapi_architect.review.rules._orm import is_test_module
from fastapi_architect.review.rules._tasks import scheduled_loop, started_tasks

_HTTP_VERBS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"}
)
_HTTP_FUNCTIONS = frozenset(
    {f"requests.{v}" for v in _HTTP_VERBS}
    | {f"requests.api.{v}" for v in _HTTP_VERBS}
    | {f"httpx.{v}" for v in _HTTP_VERBS}
    | {"urllib.request.urlopen", "urllib3.request", "http.client.HTTPConnection.getresponse"}
)
# Objects whose I/O methods block: a verb called on an instance of these.
_HTTP_CLIENT_TYPES = (
    "requests.Session",
    "requests.sessions.Session",
    "requests.session",
    "httpx.Client",
    "urllib3.PoolManager",
    "urllib3.HTTPConnectionPool",
    "urllib3.HTTPSConnectionPool",
    "urllib3.poolmanager.PoolManager",
)
_HTTP_CONNECTION_TYPES = ("http.client.HTTPConnection", "http.client.HTTPSConnection")
# Synchronous cloud and payment SDKs: every call on their clients is a network round trip.
_SDK_CLIENT_TYPES = ("boto3.client", "boto3.resource", "boto3.session.Session.client")
_SDK_LOCAL_METHODS = frozenset(
    {"get_paginator", "get_waiter", "can_paginate", "meta", "exceptions"}
)
_STRIPE_ACTIONS = frozenset(
    {
        "create",
        "retrieve",
        "list",
        "modify",
        "delete",
        "update",
        "cancel",
        "capture",
        "confirm",
        "search",
        "pay",
        "void",
        "finalize_invoice",
        "construct_from",
    }
)

_BLOCKING_STDLIB = frozenset(
    {
        "time.sleep",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "subprocess.Popen.wait",
        "subprocess.Popen.communicate",
        "os.system",
        "os.popen",
        "os.wait",
        "os.waitpid",
        "input",
        "socket.create_connection",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.getaddrinfo",
        "socket.socket.connect",
        "socket.socket.accept",
        "socket.socket.recv",
        "socket.socket.recvfrom",
        "socket.socket.recv_into",
        "socket.socket.sendall",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
    }
)
_BLOCKING_STDLIB_TYPES = ("smtplib.SMTP", "smtplib.SMTP_SSL")


# The first dotted part of every name `is_blocking_http` accepts (the sets above, boto3,
# stripe): it is asked of every call target of the project, and most are not these.
_HTTP_ROOTS = frozenset(
    name.partition(".")[0]
    for name in (*_HTTP_FUNCTIONS, *_HTTP_CLIENT_TYPES, *_HTTP_CONNECTION_TYPES, *_SDK_CLIENT_TYPES)
) | {"stripe"}


def is_blocking_http(name: str) -> bool:
    if name.partition(".")[0] not in _HTTP_ROOTS:
        return False
    if name in _HTTP_FUNCTIONS:
        return True
    owner, _, method = name.rpartition(".")
    if owner in _HTTP_CLIENT_TYPES and method in _HTTP_VERBS:
        return True
    if owner in _HTTP_CONNECTION_TYPES and method in ("request", "getresponse"):
        return True
    if (
        owner in _SDK_CLIENT_TYPES
        and method not in _SDK_LOCAL_METHODS
        and not method.startswith("_")
    ):
        return True
    parts = name.split(".")
    return (
        len(parts) == 3
        and parts[0] == "stripe"
        and parts[1][:1].isupper()
        and parts[2] in _STRIPE_ACTIONS
    )


def is_blocking_stdlib(name: str) -> bool:
    if name in _BLOCKING_STDLIB:
        return True
    owner, _, method = name.rpartition(".")
    return owner in _BLOCKING_STDLIB_TYPES and method in (
        "sendmail",
        "send_message",
        "login",
        "starttls",
        "connect",
        "ehlo",
        "quit",
    )


def sync_project_function(fn: Function) -> bool:
    # Only sync code runs inline: an async callee is a coroutine with its own findings.
    return not fn.is_async


_MIDDLEWARE_BASES = frozenset(
    {"starlette.middleware.base.BaseHTTPMiddleware", "fastapi.middleware.base.BaseHTTPMiddleware"}
)
_MIDDLEWARE_METHODS = ("dispatch", "__call__")
# Registrations whose function runs on the server's event loop: exception handlers,
# startup/shutdown handlers and lifespans.
_HANDLER_DECORATORS = frozenset({"exception_handler", "on_event"})


def request_coroutines(model: AppModel) -> list[Function]:
    """The coroutines that run on the event loop of a FastAPI server: async routes
    (websockets too), async dependencies, middleware, exception handlers, lifespans and
    startup/shutdown handlers, and every project coroutine they call, at any depth. A
    coroutine of a command-line tool or an SDK (run by `asyncio.run`) blocks no request,
    so it is left out. Computed once per run."""
    return project_index(model, _find_request_coroutines)


def request_roots(model: AppModel) -> list[Function]:
    """The coroutines the server calls itself: async routes, dependencies, middleware,
    exception handlers, lifespans and startup/shutdown handlers. Computed once per run."""
    return project_index(model, _find_request_roots)


def _find_request_roots(model: AppModel) -> list[Function]:
    project = model.project
    roots: dict[int, Function] = {}

    def add(fn: Function | None) -> None:
        if fn is not None and fn.is_async:
            roots.setdefault(id(fn.node), fn)

    def add_callable(module: Module, scope: Function | None, expr: ast.expr) -> None:
        name = project.resolve(module, expr, scope)
        add(project.function(name))
        cls = project.class_(name)
        if cls is not None:
            for method in _MIDDLEWARE_METHODS:
                add(project.method(cls.qualname, method))

    for route in model.routes:
        add(route.handler)
    for router in model.routers.values():
        for name, _node in router.middleware:
            add(project.function(name))
            cls = project.class_(name)
            if cls is not None:
                for method in _MIDDLEWARE_METHODS:
                    add(project.method(cls.qualname, method))
    for cls in project.classes.values():
        if any(base in _MIDDLEWARE_BASES for base in project.mro(cls.qualname)):
            add(cls.methods.get("dispatch"))
    for fn in project.functions.values():
        if not fn.is_async:
            continue
        if model.is_dependency(fn):
            add(fn)
            continue
        for decorator in fn.node.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(func, ast.Attribute) and func.attr in _HANDLER_DECORATORS:
                add(fn)
    # `app.add_exception_handler(Exc, handler)`, `FastAPI(lifespan=...)`,
    # `exception_handlers={...}`: from the call sites the model already collected.
    for scope, module, site in registration_calls(model):
        call = site.node
        if isinstance(call.func, ast.Attribute) and call.func.attr in REGISTRAR_METHODS:
            if len(call.args) >= 2:
                add_callable(module, scope, call.args[1])
            continue
        for kw in call.keywords:
            if kw.arg not in REGISTRAR_KEYWORDS:
                continue
            value = kw.value
            values = (
                value.values
                if isinstance(value, ast.Dict)
                else value.elts
                if isinstance(value, (ast.List, ast.Tuple))
                else [value]
            )
            for element in values:
                if isinstance(element, (ast.Name, ast.Attribute)):
                    add_callable(module, scope, element)
    return list(roots.values())


def _find_request_coroutines(model: AppModel) -> list[Function]:
    found = request_roots(model)
    return [*found, *awaited_helpers_of(model, found)]


def awaited_helpers_of(model: AppModel, roots: list[Function]) -> list[Function]:
    """Project coroutines that `roots` call, at any depth."""
    graph = model.callgraph
    seen = {id(fn.node) for fn in roots}
    todo = list(roots)
    out: list[Function] = []
    while todo:
        fn = todo.pop()
        for site in graph.calls_of(fn):
            callee = model.project.function(site.target)
            if callee is None or not callee.is_async or id(callee.node) in seen:
                continue
            seen.add(id(callee.node))
            out.append(callee)
            todo.append(callee)
    return out


def non_blocking(call: ast.Call) -> bool:
    """`os.waitpid(pid, os.WNOHANG)` polls and returns at once."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("waitpid", "wait3", "wait4")):
        return False
    return any(
        isinstance(node, (ast.Name, ast.Attribute))
        and (node.id if isinstance(node, ast.Name) else node.attr) == "WNOHANG"
        for arg in [*call.args, *(k.value for k in call.keywords)]
        for node in walk(arg)
    )


_STARTUP_DECORATORS = frozenset({"on_event"})
_STARTUP_REGISTRARS = frozenset({"add_event_handler"})
_STARTUP_KEYWORDS = frozenset({"lifespan", "on_startup", "on_shutdown"})


def serving_coroutines(model: AppModel) -> list[Function]:
    """The coroutines that run while the server serves: `request_coroutines` without the
    lifespans and startup/shutdown handlers and what only they await (they run before
    the server accepts a request or after it stopped, so blocking there stalls nobody),
    with the tasks started while serving or left running by the startup code. Computed
    once per run."""
    return project_index(model, _find_serving_coroutines)


def startup_handlers(model: AppModel) -> list[Function]:
    """The lifespans and startup/shutdown handlers, sync or async: the functions given as
    `lifespan=`, `on_startup=` or `on_shutdown=`, decorated `@app.on_event(...)` or
    registered with `add_event_handler(...)`. Computed once per run."""
    return project_index(model, _find_startup_handlers)


def _find_startup_handlers(model: AppModel) -> list[Function]:
    project = model.project
    found: dict[int, Function] = {}

    def add(module: Module, scope: Function | None, expr: ast.expr) -> None:
        if isinstance(expr, (ast.Name, ast.Attribute)):
            fn = project.function(project.resolve(module, expr, scope))
            if fn is not None:
                found.setdefault(id(fn.node), fn)

    for fn in project.functions.values():
        for decorator in fn.node.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(func, ast.Attribute) and func.attr in _STARTUP_DECORATORS:
                found.setdefault(id(fn.node), fn)
    for scope, module, site in registration_calls(model):
        call = site.node
        if isinstance(call.func, ast.Attribute) and call.func.attr in _STARTUP_REGISTRARS:
            if len(call.args) >= 2:
                add(module, scope, call.args[1])
            continue
        for kw in call.keywords:
            if kw.arg in _STARTUP_KEYWORDS:
                values = (
                    kw.value.elts if isinstance(kw.value, (ast.List, ast.Tuple)) else [kw.value]
                )
                for value in values:
                    add(module, scope, value)
    return list(found.values())


def _find_serving_coroutines(model: AppModel) -> list[Function]:
    """From what the server calls while it serves (every root but the lifespans and
    startup/shutdown handlers, unless also a route or a dependency; the loops
    `repeat_every`/`repeat_at` schedule), plus the tasks the startup code leaves running
    (`asyncio.create_task(poll())` not waited for before the lifespan's `yield`): those
    coroutines, what they await and the tasks they start."""
    project = model.project
    startup = startup_handlers(model)
    startup_ids = {id(fn.node) for fn in startup}
    handlers = {id(route.handler.node) for route in model.routes}
    serving = [
        fn
        for fn in request_roots(model)
        if id(fn.node) not in startup_ids or id(fn.node) in handlers or model.is_dependency(fn)
    ]
    serving += [
        fn
        for fn in project.functions.values()
        if fn.is_async and not is_test_module(fn.module) and scheduled_loop(project, fn)
    ]
    starting = [fn for fn in startup if fn.is_async]
    for fn in [*starting, *awaited_helpers_of(model, starting)]:
        started = started_tasks(model, fn, startup=id(fn.node) in startup_ids)
        serving += [task for task, joined in started if not joined]
    # A sync route or dependency runs in the threadpool, but the coroutine it hands to
    # `BackgroundTasks` runs on the loop after the response.
    for fn in project.functions.values():
        if not fn.is_async and (id(fn.node) in handlers or model.is_dependency(fn)):
            started = started_tasks(model, fn, background_only=True)
            serving += [task for task, _joined in started]
    seen: set[int] = set()
    out: list[Function] = []
    todo = list(serving)
    while todo:
        fn = todo.pop()
        if id(fn.node) in seen:
            continue
        seen.add(id(fn.node))
        out.append(fn)
        for site in model.callgraph.calls_of(fn):
            callee = project.function(site.target)
            if callee is not None and callee.is_async and id(callee.node) not in seen:
                todo.append(callee)
        todo += [task for task, _joined in started_tasks(model, fn) if id(task.node) not in seen]
    return out


def blocking_calls(
    ctx: ProjectContext, is_sink: Callable[[str], bool], key: str, kind: str
) -> Iterator[Report]:
    graph = ctx.model.callgraph

    def sink_site(site: CallSite) -> bool:
        return site.target is not None and is_sink(site.target) and not non_blocking(site.node)

    project = ctx.project

    def inline(fn: Function) -> bool:
        return sync_project_function(fn) and not is_memoized(fn, project)

    # Lifespans and startup handlers run before the server takes a request (FAA204's
    # reasoning): what they await is left out, the tasks they leave running are not.
    for fn in serving_coroutines(ctx.model):
        for site in graph.calls_of(fn):
            target = site.target
            if target is None:
                continue
            if is_sink(target):
                if non_blocking(site.node):
                    continue
                yield Report(
                    site.node,
                    f"{kind} `{target}` in `async def {fn.name}` blocks the event loop",
                    fn.module,
                )
                continue
            callee = project.function(target)
            if callee is None or callee.is_async or is_memoized(callee, project):
                continue  # a memoized helper (fetching JWKS once) blocks its first caller only
            chain = graph.find_chain(project, callee, sink_site, key, inline)
            if chain is None:
                continue
            names = [callee.display, *(name for _, name in chain)]
            path = " → ".join(f"`{n}`" for n in names)
            yield Report(
                site.node,
                f"`async def {fn.name}` calls `{callee.display}`, which reaches the "
                f"{kind[0].lower() + kind[1:]} `{names[-1]}` ({path}): it blocks the event loop",
                fn.module,
            )


@rule(
    code="FAA201",
    name="blocking-http-call-in-async",
    summary="A synchronous HTTP client call runs on the event loop inside `async def` code",
    severity="error",
    scope="project",
    fix_title="Use `httpx.AsyncClient` (awaited), or make the caller a sync `def`",
    references=("https://fastapi.tiangolo.com/async/",),
)
def blocking_http_call_in_async(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds synchronous HTTP calls (`requests`, `requests.Session`, `httpx.Client`,
    `urllib.request.urlopen`, `urllib3` pools, `http.client`, and synchronous SDKs such
    as `boto3` clients and `stripe`) that run inside an `async def` route, dependency,
    middleware or exception handler, a task running while the server serves (started
    with `create_task`, `start_soon`, `BackgroundTasks.add_task`, or a `repeat_every`
    or `repeat_at` loop), or a coroutine they await, directly or through sync project
    functions in any module. The finding is placed at the call in the `async def` and
    names the whole chain (`create_order` → `pricing.get_rate` → `requests.get`).
    Lifespans and
    startup/shutdown handlers, and what only they await, run before the server takes a
    request or after it stopped: they are not reported, but the tasks they leave running
    are. Coroutines no request reaches (a CLI command run with `asyncio.run`, an SDK
    method) block no other request and are not reported either.

    ## Why is this bad?
    FastAPI runs `async def` path operations on the event loop. A synchronous network
    call holds the loop for the whole round trip, so every other request served by the
    worker waits. Under load this turns one slow upstream into a stalled service. A
    plain `def` path operation would have run in the threadpool instead.

    ## Known problems
    Calls through objects whose type cannot be inferred statically are not followed.
    A chain stops at a memoized function (`@cache`, `@lru_cache`, `@cached_property`,
    cachetools): fetching signing keys once blocks the first request only.

    ## Example
    ```python
    import requests

    @router.get("/rates/{currency}")
    async def read_rate(currency: str) -> Rate:
        data = requests.get(f"https://rates.example/{currency}", timeout=5).json()
        return Rate(**data)
    ```

    ## Use instead
    ```python
    import httpx

    @router.get("/rates/{currency}")
    async def read_rate(currency: str, client: HttpClient) -> Rate:
        response = await client.get(f"https://rates.example/{currency}")
        return Rate(**response.json())
    ```
    Or keep the synchronous client and call it with
    `await run_in_threadpool(fetch_rate, currency)`, or declare the route with `def`.

    ## Fix safety
    There is no automatic fix: the replacement depends on the client.
    """
    return blocking_calls(ctx, is_blocking_http, "FAA201", "Blocking HTTP call")


@rule(
    code="FAA208",
    name="blocking-call-in-async-path",
    summary="A blocking standard-library call is reached from `async def` code",
    severity="error",
    scope="project",
    fix_title="Await an async equivalent, or move the call to `run_in_threadpool`",
    references=("https://fastapi.tiangolo.com/async/",),
)
def blocking_call_in_async_path(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds blocking standard-library calls (`time.sleep`, `subprocess.run` and friends,
    `os.system`, `input`, blocking `socket` operations, `smtplib`) reached from an
    `async def` route, dependency, middleware, exception handler or task running while
    the server serves (or a coroutine they await), directly or through sync project
    functions in any module. Lifespans and startup handlers, and what only they await,
    are left out (no request is waiting yet; the tasks they leave running are not), and
    so are coroutines no request reaches (CLI commands, SDK methods). The finding is
    placed at the call in the `async def` and names the chain (`signup` →
    `notifications.send_welcome` → `time.sleep`).

    ## Why is this bad?
    The event loop runs one thing at a time. While `time.sleep(1)` or a subprocess runs
    inside a coroutine, no other request on that worker makes progress. ruff's
    ASYNC2xx rules see such calls only when they are written directly inside the
    `async def`; a helper one call away hides them.

    ## Example
    ```python
    def send_welcome(email: str) -> None:
        time.sleep(1)  # back off before retrying SMTP

    @router.post("/signup")
    async def signup(user: UserCreate) -> UserOut:
        send_welcome(user.email)
    ```

    ## Use instead
    ```python
    @router.post("/signup")
    async def signup(user: UserCreate, tasks: BackgroundTasks) -> UserOut:
        tasks.add_task(send_welcome, user.email)
    ```
    or `await asyncio.sleep(1)`, `await asyncio.create_subprocess_exec(...)`,
    `await run_in_threadpool(send_welcome, user.email)`.

    ## Fix safety
    There is no automatic fix.
    """
    return blocking_calls(ctx, is_blocking_stdlib, "FAA208", "Blocking call")


# ------------------------------------------------------------------ FAA202

SessionKind = Literal["sync", "async"]

_SYNC_SESSIONS = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
    }
)
_ASYNC_SESSIONS = frozenset(
    {
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlalchemy.ext.asyncio.async_scoped_session",
        "sqlalchemy.ext.asyncio.scoping.async_scoped_session",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
_SYNC_FACTORIES = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
_SCOPED = frozenset({"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"})
_ASYNC_FACTORIES = frozenset(
    {
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
        "sqlalchemy.ext.asyncio.async_scoped_session",
        "sqlalchemy.ext.asyncio.scoping.async_scoped_session",
    }
)
_GENERATOR_TYPES = frozenset(
    {
        f"{module}.{name}"
        for module in ("typing", "collections.abc", "typing_extensions")
        for name in (
            "Generator",
            "Iterator",
            "Iterable",
            "AsyncGenerator",
            "AsyncIterator",
            "AsyncIterable",
        )
    }
)
# Passing the session to one of these runs its work in a worker thread (or after the
# response, for background tasks), which is the correct way to use it from a coroutine.
# What runs a sync function in a worker thread: by qualified name, and as a method
# (`loop.run_in_executor(None, fn)`, a portal's `run_sync`).
TO_THREAD = frozenset(
    {
        "starlette.concurrency.run_in_threadpool",
        "fastapi.concurrency.run_in_threadpool",
        "asyncio.to_thread",
        "anyio.to_thread.run_sync",
        "asyncer.asyncify",
    }
)
TO_THREAD_METHODS = frozenset({"run_in_executor", "run_sync"})
# Wrappers that return a function running the one they are given in a worker thread:
# `sync_to_async(fn)(db)` runs `fn(db)` there, as `asyncio.to_thread(fn, db)` does.
THREAD_WRAPPERS = frozenset({"asgiref.sync.sync_to_async", "asyncer.asyncify"})
_OFFLOAD_METHODS = TO_THREAD_METHODS | {"add_task"}
# Session methods that work in memory only (no SQL is sent).
_IN_MEMORY = frozenset(
    {
        "add",
        "add_all",
        "expunge",
        "expunge_all",
        "expire",
        "expire_all",
        "is_modified",
        "in_transaction",
        "in_nested_transaction",
        "get_bind",
        "info",
        "bind",
        "dirty",
        "new",
        "deleted",
        "no_autoflush",
    }
)
_MAX_SESSION_DEPTH = 6


@dataclass
class _SessionState:
    model: AppModel
    yields: dict[int, SessionKind | None] = field(default_factory=dict)


def _session_state(model: AppModel) -> _SessionState:
    return project_index(model, _SessionState)


def _type_kind(project: Project, qualname: str | None) -> SessionKind | None:
    if qualname is None:
        return None
    for name in project.mro(project.canonical(qualname)):
        if name in _SYNC_SESSIONS:
            return "sync"
        if name in _ASYNC_SESSIONS:
            return "async"
    return None


def _factory_kind(
    project: Project, module: Module, call: ast.Call, depth: int
) -> SessionKind | None:
    """What calling the factory built by `call` gives: `sessionmaker(...)` a `Session`
    (or its `class_=`), `async_sessionmaker(...)` an `AsyncSession`."""
    callee = project.resolve(module, call.func)
    if callee in _ASYNC_FACTORIES:
        return "async"
    if callee in _SCOPED:
        inner = call.args[0] if call.args else keyword(call, "session_factory")
        if isinstance(inner, ast.Call):
            return _factory_kind(project, module, inner, depth + 1)
        if isinstance(inner, (ast.Name, ast.Attribute)) and depth < _MAX_SESSION_DEPTH:
            found = project.module_value(project.resolve(module, inner))
            if found is not None and isinstance(found[1], ast.Call):
                return _factory_kind(project, found[0], found[1], depth + 1)
        return None
    if callee in _SYNC_FACTORIES:
        cls = keyword(call, "class_")
        if cls is None:
            return "sync"
        return _type_kind(project, project.resolve(module, cls))
    return None


def _value_kind(
    state: _SessionState, module: Module, expr: ast.expr, scope: Function | None, depth: int
) -> SessionKind | None:
    """Is `expr` a sync or an async session? `Session(engine)`, `SessionLocal()` where
    `SessionLocal = sessionmaker(...)`, a local bound to one, a project function
    returning one."""
    if depth > _MAX_SESSION_DEPTH:
        return None
    project = state.model.project
    if isinstance(expr, ast.Name) and scope is not None and expr.id in scope.local_values:
        bound = scope.local_values[expr.id]
        return _value_kind(state, module, bound, scope, depth + 1) if bound is not None else None
    if not isinstance(expr, ast.Call):
        return None
    callee = project.resolve(module, expr.func, scope)
    kind = _type_kind(project, callee)
    if kind is not None:
        return kind
    found = project.module_value(callee)
    if found is not None and isinstance(found[1], ast.Call):
        return _factory_kind(project, found[0], found[1], depth + 1)
    fn = project.function(callee)
    if fn is not None:
        return _yield_kind(state, fn, depth + 1)
    return None


def _yield_kind(state: _SessionState, fn: Function, depth: int = 0) -> SessionKind | None:
    """The session a dependency (or helper) yields or returns: by its return annotation
    (`Generator[Session, None, None]`), else by what its `yield`/`return` gives."""
    key = id(fn.node)
    if key in state.yields:
        return state.yields[key]
    state.yields[key] = None  # recursion guard
    project = state.model.project
    kind: SessionKind | None = None
    base, _, base_module = unwrap_annotation(project, fn.module, fn.node.returns, fn.parent)
    if isinstance(base, ast.Subscript):
        origin = project.resolve(base_module, base.value)
        elements = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
        if origin in _GENERATOR_TYPES and elements:
            kind = _type_kind(project, annotation_type(project, base_module, elements[0]))
    elif base is not None:
        kind = _type_kind(project, project.resolve(base_module, base))
    if kind is None:
        for node in body_nodes(fn.node):
            if isinstance(node, (ast.Yield, ast.Return)) and node.value is not None:
                kind = _value_kind(state, fn.module, node.value, fn, depth + 1)
                if kind is not None:
                    break
    state.yields[key] = kind
    return kind


def _param_kind(
    state: _SessionState, fn: Function, param: ast.arg, site: DepSite | None
) -> tuple[SessionKind | None, str | None]:
    """The session kind of a parameter and the dependency that provides it. What the
    dependency really yields wins over the annotation, which may be wrong."""
    project = state.model.project
    source: str | None = None
    if site is not None:
        target = resolve_target(project, site)
        if target is not None and target.function is not None:
            source = target.function.name
            kind = _yield_kind(state, target.function)
            if kind is not None:
                return kind, source
    return _type_kind(
        project, annotation_type(project, fn.module, param.annotation, fn.parent)
    ), source


def _offloaded(project: Project, fn: Function, call: ast.Call) -> bool:
    """Does `call` run what its arguments give in a worker thread (or later, as a
    background task): `run_in_threadpool(load, db)`, `sync_to_async(load)(db)`?"""
    func = call.func
    if isinstance(func, ast.Call):
        return resolve_callee(project, fn.module, func.func, fn) in THREAD_WRAPPERS
    if resolve_callee(project, fn.module, func, fn) in TO_THREAD:
        return True
    return isinstance(func, ast.Attribute) and func.attr in _OFFLOAD_METHODS


def _blocking_use(project: Project, fn: Function, name: str) -> ast.Call | None:
    """The first place the coroutine itself works with the session `name`: a method that
    sends SQL (`db.query`, `db.execute`, `db.commit`), or the session handed to other
    code that is not a worker thread (`crud.get_user(db, ...)`). Uses inside nested
    functions and lambdas (run elsewhere) and `yield db` are not counted. A session whose
    methods are awaited (`await db.execute(...)`) is an async one, whatever its
    annotation says."""
    nodes = list(body_nodes(fn.node))
    if any(_awaits_method_of(node, name) for node in nodes):
        return None
    offload_args: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Call):
            if _offloaded(project, fn, node):
                offload_args.update(id(a) for a in node.args)
                offload_args.update(id(k.value) for k in node.keywords)
                continue
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == name
                and func.attr not in _IN_MEMORY
            ):
                return node
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Name) and arg.id == name and id(arg) not in offload_args:
                    return node
    return None


def _awaits_method_of(node: ast.AST, name: str) -> bool:
    if not (isinstance(node, ast.Await) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == name
    )


def _describe_use(use: ast.Call, name: str) -> str:
    func = use.func
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == name
    ):
        what = f"calls `{name}.{func.attr}`"
    else:
        callee = ast.unparse(func)
        what = f"passes it to `{callee if len(callee) <= 40 else callee[:37] + '...'}`"
    return f"{what} on line {use.lineno}"


def _session_functions(ctx: ProjectContext) -> list[Function]:
    """The coroutines FastAPI calls per request: async routes and async dependencies."""
    seen: set[int] = set()
    out: list[Function] = []
    for route in ctx.model.routes:
        fn = route.handler
        if fn.is_async and id(fn.node) not in seen:
            seen.add(id(fn.node))
            out.append(fn)
    for fn in ctx.project.functions.values():
        if fn.is_async and id(fn.node) not in seen and ctx.model.is_dependency(fn):
            seen.add(id(fn.node))
            out.append(fn)
    return out


@rule(
    code="FAA202",
    name="sync-orm-session-in-async",
    summary="A synchronous SQLAlchemy/SQLModel `Session` is used inside an `async def` "
    "route or dependency",
    severity="error",
    scope="project",
    fix_title="Use an `AsyncSession` (`async_sessionmaker`) and `await` its calls, or "
    "declare the route with `def`",
    references=(
        "https://fastapi.tiangolo.com/async/",
        "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html",
    ),
)
def sync_orm_session_in_async(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds `async def` routes and dependencies that work with a synchronous SQLAlchemy or
    SQLModel `Session`: a parameter typed `Session` (also through aliases such as
    `SessionDep = Annotated[Session, Depends(get_db)]`), a `Depends(get_db)` whose
    dependency yields `SessionLocal()` (`sessionmaker`, not `async_sessionmaker`) or
    `Session(engine)`, or a session opened in the body (`with Session(engine) as
    session:`). The dependency graph is followed across modules. It reports only when
    the coroutine itself uses the session: calls a method that sends SQL
    (`db.query`, `db.execute`, `db.commit`) or hands it to other code.

    ## Why is this bad?
    A synchronous session performs blocking database I/O. FastAPI runs `def` routes in
    a threadpool, but an `async def` route runs on the event loop: while one query is
    in flight, no other request on that worker makes progress. Under load DB-bound
    requests are served one at a time (see edly-io/sparkth#386).

    ## Known problems
    Work passed to `run_in_threadpool`, `asyncio.to_thread`, `anyio.to_thread.run_sync`,
    `loop.run_in_executor` or `BackgroundTasks.add_task`, or to a function wrapped by
    `asgiref`'s `sync_to_async` or asyncer's `asyncify` (`await
    sync_to_async(list_users)(db)`), is not reported. A session reached through a service
    object (`service.db`) is not followed.

    ## Example
    ```python
    @router.get("/new-releases")
    async def new_releases(db: Session = Depends(get_db)) -> list[BookOut]:
        return db.query(Book).order_by(Book.published_on.desc()).limit(10).all()
    ```

    ## Use instead
    ```python
    @router.get("/new-releases")
    async def new_releases(session: AsyncSessionDep) -> list[BookOut]:
        result = await session.scalars(select(Book).order_by(Book.published_on.desc()).limit(10))
        return list(result)
    ```
    or keep the `Session` and declare the route with `def`.

    ## Fix safety
    There is no automatic fix: every session call has to become awaited.
    """
    project = ctx.project
    if not any(m.imports_anything("sqlalchemy", "sqlmodel") for m in project.module_list):
        return
    state = _session_state(ctx.model)
    entry_points = _session_functions(ctx)
    for fn in [*entry_points, *awaited_helpers_of(ctx.model, entry_points)]:
        yield from _local_sessions(state, fn)
    for fn in entry_points:
        sites = {site.param: site for site in param_sites(project, fn) if site.param}
        for param, _default in parameters(fn.node):
            kind, source = _param_kind(state, fn, param, sites.get(param.arg))
            if kind != "sync":
                continue
            use = _blocking_use(project, fn, param.arg)
            if use is None:
                continue
            origin = f" (from `{source}`)" if source else ""
            yield Report(
                param,
                f"`{param.arg}` is a synchronous `Session`{origin} and `async def {fn.name}` "
                f"{_describe_use(use, param.arg)}: it blocks the event loop",
                fn.module,
            )


def _local_sessions(state: _SessionState, fn: Function) -> Iterator[Report]:
    """Sessions a coroutine opens itself: `with Session(engine) as session:`,
    `db = SessionLocal()`."""
    project = state.model.project
    for name, value in fn.local_values.items():
        if value is None or _value_kind(state, fn.module, value, fn, 0) != "sync":
            continue
        use = _blocking_use(project, fn, name)
        if use is None:
            continue
        yield Report(
            use,
            f"`{name}` is a synchronous `Session` (`{ast.unparse(value)[:40]}`) and "
            f"`async def {fn.name}` {_describe_use(use, name)}: it blocks the event loop",
            fn.module,
        )
