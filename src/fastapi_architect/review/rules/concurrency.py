"""FAA2xx: async correctness. Blocking work reached from `async def` code runs on the
event loop and stalls every other request the worker serves."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi_architect.model.astutil import last_name
from fastapi_architect.model.project import Function
from fastapi_architect.review.context import ProjectContext
from fastapi_architect.review.registry import Report, rule

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
_SDK_LOCAL_METHODS = frozenset({"get_paginator", "get_waiter", "can_paginate", "meta", "exceptions"})
_STRIPE_ACTIONS = frozenset(
    {"create", "retrieve", "list", "modify", "delete", "update", "cancel", "capture", "confirm",
     "search", "pay", "void", "finalize_invoice", "construct_from"}
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


def is_blocking_http(name: str) -> bool:
    if name in _HTTP_FUNCTIONS:
        return True
    owner, _, method = name.rpartition(".")
    if owner in _HTTP_CLIENT_TYPES and method in _HTTP_VERBS:
        return True
    if owner in _HTTP_CONNECTION_TYPES and method in ("request", "getresponse"):
        return True
    if owner in _SDK_CLIENT_TYPES and method not in _SDK_LOCAL_METHODS and not method.startswith("_"):
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
        "sendmail", "send_message", "login", "starttls", "connect", "ehlo", "quit",
    )


def _sync_project_function(fn: Function) -> bool:
    # Only sync code runs inline: an async callee is a coroutine with its own findings.
    return not fn.is_async


def blocking_calls(
    ctx: ProjectContext, is_sink: Callable[[str], bool], key: str, kind: str
) -> Iterator[Report]:
    graph = ctx.model.callgraph
    project = ctx.project
    for fn in project.functions.values():
        if not fn.is_async:
            continue
        for site in graph.calls_of(fn):
            target = site.target
            if target is None:
                continue
            if is_sink(target):
                yield Report(
                    site.node,
                    f"{kind} `{target}` in `async def {fn.name}` blocks the event loop",
                    fn.module,
                )
                continue
            callee = project.function(target)
            if callee is None or callee.is_async:
                continue
            chain = graph.find_chain(project, callee, is_sink, key, _sync_project_function)
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
    middleware, lifespan or any other coroutine, directly or through project functions
    in any module. The finding is placed at the call in the `async def` and names the
    whole chain (`create_order` → `pricing.get_rate` → `requests.get`).

    ## Why is this bad?
    FastAPI runs `async def` path operations on the event loop. A synchronous network
    call holds the loop for the whole round trip, so every other request served by the
    worker waits. Under load this turns one slow upstream into a stalled service. A
    plain `def` path operation would have run in the threadpool instead.

    ## Known problems
    Calls through objects whose type cannot be inferred statically are not followed.

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
    `async def` route, dependency, middleware or lifespan, directly or through project
    functions in any module. The finding is placed at the call in the `async def` and
    names the chain (`signup` → `notifications.send_welcome` → `time.sleep`).

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
