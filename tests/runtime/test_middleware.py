"""ArchitectMiddleware in real FastAPI and Starlette apps (httpx, uvicorn where it matters)."""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, BackgroundTasks, FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from fastapi_architect.runtime import (
    ArchitectMiddleware,
    RuntimeSettings,
    assert_max_queries,
    configure,
    sqlalchemy_hooks,
)
from fastapi_architect.runtime.recorder import recorder
from fastapi_architect.runtime.scope import RequestScope, current_request
from fastapi_architect.runtime.settings import get_settings, use_settings

REPO = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(REPO).as_posix()


@pytest.fixture(autouse=True)
def clean_recorder() -> Iterator[None]:
    previous = get_settings()
    configure(project_root=REPO)
    recorder.reset()
    yield
    recorder.reset()
    use_settings(previous)


def get(app: Any, *paths: str, method: str = "GET") -> list[httpx.Response]:
    """Send the requests in order through httpx's ASGI transport, on a fresh loop."""

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.request(method, path) for path in paths]

    return asyncio.run(send_all())


def endpoints() -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["method"], e["route"]): e for e in recorder.report()["endpoints"]}


def seen(scopes: list[RequestScope]) -> Any:
    """A dependency-free way for a route to keep the request the middleware set."""

    def keep() -> None:
        request = current_request.get()
        assert request is not None
        scopes.append(request)

    return keep


# -- route templates -------------------------------------------------------------------


def test_fastapi_route_templates_with_routers_and_mounts() -> None:
    app = FastAPI()
    authors = APIRouter(prefix="/authors")

    @authors.get("/{author_id}")
    async def get_author(author_id: int) -> dict[str, int]:
        return {"id": author_id}

    app.include_router(authors)

    books = FastAPI()

    @books.get("/books/{book_id}")
    async def get_book(book_id: int) -> dict[str, int]:
        return {"id": book_id}

    app.mount("/orgs/{org}", books)

    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hi")

    inner = Starlette(routes=[Route("/hello/{n:int}", hello)])
    app.mount("/outer", Starlette(routes=[Mount("/inner/{section}", app=inner)]))

    async def raw_asgi(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("raw")(scope, receive, send)

    app.mount("/raw", raw_asgi)
    app.add_middleware(ArchitectMiddleware)

    responses = get(
        app, "/authors/7", "/authors/8", "/orgs/acme/books/3", "/outer/inner/x/hello/4", "/raw/a/b"
    )
    assert [r.status_code for r in responses] == [200] * 5
    assert sorted((method, route, e["requests"]) for (method, route), e in endpoints().items()) == [
        ("GET", "/authors/{author_id}", 2),
        ("GET", "/orgs/{org}/books/{book_id}", 1),
        ("GET", "/outer/inner/{section}/hello/{n}", 1),
        ("GET", "/raw/{path}", 1),
    ]


def test_routes_below_nested_include_router_prefixes_get_their_full_template() -> None:
    products = APIRouter(prefix="/products")

    @products.get("/{product_id}")
    async def get_product(product_id: int) -> dict[str, int]:
        return {"id": product_id}

    @products.get("")
    async def list_products() -> list[int]:
        return []

    v1 = APIRouter(prefix="/api/v1")
    v1.include_router(products)
    admin = APIRouter()
    admin.include_router(products, prefix="/admin")
    app = FastAPI()
    app.include_router(v1)
    app.include_router(admin, prefix="/internal")
    app.add_middleware(ArchitectMiddleware)

    responses = get(app, "/api/v1/products/3", "/api/v1/products", "/internal/admin/products/4")
    assert [r.status_code for r in responses] == [200] * 3
    assert sorted(route for _, route in endpoints()) == [
        "/api/v1/products",
        "/api/v1/products/{product_id}",
        "/internal/admin/products/{product_id}",
    ]


def test_plain_starlette_app() -> None:
    async def item(request: Any) -> JSONResponse:
        return JSONResponse({"id": request.path_params["item_id"]}, status_code=201)

    app = Starlette(
        routes=[
            Route("/items/{item_id:int}", item, methods=["POST"]),
            Mount("/v2", routes=[Route("/items/{item_id}", item, methods=["POST"])]),
        ]
    )
    app.add_middleware(ArchitectMiddleware)
    responses = get(app, "/items/1", "/v2/items/x", "/v2/nothing", "/items/x", method="POST")
    assert [r.status_code for r in responses] == [201, 201, 404, 404]
    assert set(endpoints()) == {("POST", "/items/{item_id}"), ("POST", "/v2/items/{item_id}")}


def test_requests_no_route_matched_are_not_recorded() -> None:
    app = FastAPI()
    scopes: list[RequestScope] = []

    @app.get("/authors")
    async def list_authors() -> list[str]:
        seen(scopes)()
        return []

    app.add_middleware(ArchitectMiddleware)
    # no route; the path without its method (405); the trailing-slash redirect (307)
    responses = get(app, "/nope", "/authors/")
    responses += get(app, "/authors", method="DELETE")
    assert [r.status_code for r in responses] == [404, 307, 405]
    assert endpoints() == {}
    assert scopes == []
    get(app, "/authors")
    assert list(endpoints()) == [("GET", "/authors")]


# -- what is recorded ------------------------------------------------------------------


def test_request_scope_is_set_during_the_request_and_reset_after() -> None:
    app = FastAPI()
    scopes: list[RequestScope] = []

    @app.post("/authors", status_code=201)
    async def create_author() -> dict[str, str]:
        seen(scopes)()
        return {"ok": "yes"}

    @app.get("/authors/{author_id}")
    def sync_route(author_id: int) -> dict[str, str]:  # runs in the threadpool
        seen(scopes)()
        raise HTTPException(status_code=404, detail="no such author")

    app.add_middleware(ArchitectMiddleware)

    async def requests() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            statuses = [(await client.post("/authors")).status_code]
            assert current_request.get() is None  # the transport runs the app in this task
            statuses.append((await client.get("/authors/7")).status_code)
            return statuses

    assert asyncio.run(requests()) == [201, 404]
    created, missing = scopes
    assert (created.method, created.path, created.route, created.status) == (
        "POST",
        "/authors",
        "/authors",
        201,
    )
    assert (missing.method, missing.path, missing.route, missing.status) == (
        "GET",
        "/authors/7",
        "/authors/{author_id}",
        404,
    )
    assert created.duration_ms > 0 and missing.duration_ms > 0
    assert created.blocking == [] and missing.blocking == []
    assert set(endpoints()) == {("POST", "/authors"), ("GET", "/authors/{author_id}")}


def test_unhandled_exception_is_recorded_as_500() -> None:
    app = FastAPI()
    scopes: list[RequestScope] = []

    @app.get("/boom")
    async def boom() -> None:
        seen(scopes)()
        raise RuntimeError("boom")

    app.add_middleware(ArchitectMiddleware)
    [response] = get(app, "/boom")
    assert response.status_code == 500
    assert scopes[0].status == 500
    assert endpoints()[("GET", "/boom")]["requests"] == 1


def test_duration_ends_with_the_response_not_the_background_task() -> None:
    app = FastAPI()
    scopes: list[RequestScope] = []
    done: list[float] = []

    async def later() -> None:
        await asyncio.sleep(0.3)
        done.append(time.perf_counter())

    @app.get("/slow")
    async def slow(background: BackgroundTasks) -> dict[str, str]:
        seen(scopes)()
        await asyncio.sleep(0.05)
        background.add_task(later)
        return {"ok": "yes"}

    app.add_middleware(ArchitectMiddleware)
    get(app, "/slow")
    assert len(done) == 1  # the background task ran, inside the request's call
    assert 50 <= scopes[0].duration_ms < 250
    duration = endpoints()[("GET", "/slow")]["duration_ms"]
    assert 50 <= duration["p50"] == duration["max"] < 250


def test_middleware_on_an_app_and_on_a_sub_app_records_once() -> None:
    sub = FastAPI()

    @sub.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    sub.add_middleware(ArchitectMiddleware)
    app = FastAPI()
    app.mount("/sub", sub)
    app.add_middleware(ArchitectMiddleware)
    get(app, "/sub/items/1")
    assert [(key, e["requests"]) for key, e in endpoints().items()] == [
        (("GET", "/sub/items/{item_id}"), 1)
    ]


def test_user_base_http_middleware_below_ours() -> None:
    app = FastAPI()
    scopes: list[RequestScope] = []

    @app.get("/authors/{author_id}")
    async def get_author(author_id: int) -> dict[str, int]:
        seen(scopes)()
        return {"id": author_id}

    async def header(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-seen"] = "1"
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=header)
    app.add_middleware(ArchitectMiddleware)
    [response] = get(app, "/authors/3")
    assert response.headers["x-seen"] == "1"
    assert scopes[0].route == "/authors/{author_id}" and scopes[0].status == 200
    assert list(endpoints()) == [("GET", "/authors/{author_id}")]


# -- other scopes ------------------------------------------------------------------------


def test_lifespan_scope_passes_through_untouched() -> None:
    received: list[tuple[Any, Any, Any, RequestScope | None]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        received.append((scope, receive, send, current_request.get()))

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        return None

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    asyncio.run(ArchitectMiddleware(inner)(scope, receive, send))
    [(got_scope, got_receive, got_send, request)] = received
    assert got_scope is scope and got_receive is receive and got_send is send
    assert scope == {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    assert request is None


def test_websocket_and_lifespan_through_an_app() -> None:
    """Driven by ASGI messages, as a server would: both work, neither is a request."""
    events: list[str] = []

    async def echo(websocket: WebSocket) -> None:
        events.append(f"websocket: {current_request.get()}")
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        events.append(f"startup: {current_request.get()}")
        yield
        events.append("shutdown")

    app = Starlette(routes=[WebSocketRoute("/ws", echo)], lifespan=lifespan)
    app.add_middleware(ArchitectMiddleware)

    async def run(scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for message in incoming:
            inbox.put_nowait(message)
        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, inbox.get, send)
        return sent

    async def session() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        lifespan_sent = await run(
            {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
            [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
        )
        websocket_sent = await run(
            {
                "type": "websocket",
                "asgi": {"version": "3.0"},
                "path": "/ws",
                "raw_path": b"/ws",
                "root_path": "",
                "scheme": "ws",
                "query_string": b"",
                "headers": [],
                "subprotocols": [],
                "state": {},
            },
            [
                {"type": "websocket.connect"},
                {"type": "websocket.receive", "text": "hello"},
            ],
        )
        return lifespan_sent, websocket_sent

    lifespan_sent, websocket_sent = asyncio.run(session())
    assert [m["type"] for m in lifespan_sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert [m["type"] for m in websocket_sent] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert websocket_sent[1]["text"] == "hello"
    assert events == ["startup: None", "shutdown", "websocket: None"]
    assert endpoints() == {}


# -- a real server: streaming and background tasks keep working --------------------------


@contextmanager
def serve(app: Any) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_streaming_and_background_tasks_on_a_real_server() -> None:
    app = FastAPI()
    background_done = threading.Event()
    finished: queue.Queue[RequestScope] = queue.Queue()
    scopes: list[RequestScope] = []

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        seen(scopes)()

        async def body() -> AsyncIterator[bytes]:
            yield b"first\n"
            await asyncio.sleep(0.4)
            yield b"second\n"

        return StreamingResponse(body(), media_type="text/plain")

    @app.get("/background")
    async def with_background(background: BackgroundTasks) -> dict[str, str]:
        seen(scopes)()

        async def later() -> None:
            await asyncio.sleep(0.4)
            background_done.set()

        background.add_task(later)
        return {"ok": "yes"}

    class Finished:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)
            if scope["type"] == "http":
                finished.put(scopes[-1])

    app.add_middleware(ArchitectMiddleware)
    app.add_middleware(Finished)
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        started = time.perf_counter()
        with client.stream("GET", "/stream") as response:
            lines = response.iter_lines()
            assert next(lines) == "first"
            first_chunk = time.perf_counter() - started
            assert next(lines) == "second"
            last_chunk = time.perf_counter() - started
        assert first_chunk < 0.3 <= 0.4 <= last_chunk  # streamed, not buffered
        # the body's 400 ms sleep, less the early wake-up asyncio allows a timer (its
        # clock resolution: 399.98 ms was measured on 3.13), as the other tests allow
        assert finished.get(timeout=5).duration_ms >= 390

        started = time.perf_counter()
        response = client.get("/background")
        answered = time.perf_counter() - started
        assert response.json() == {"ok": "yes"}
        assert answered < 0.3 and not background_done.is_set()  # answered before the task
        assert background_done.wait(5)
        assert finished.get(timeout=5).duration_ms < 300


# -- queries -----------------------------------------------------------------------------


def test_the_middleware_alone_records_the_queries_of_a_request(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import Column, ForeignKey, Integer, create_engine, select
    from sqlalchemy.orm import DeclarativeBase, Session

    class Base(DeclarativeBase):
        pass

    class Author(Base):
        __tablename__ = "authors"
        id = Column(Integer, primary_key=True)

    class Book(Base):
        __tablename__ = "books"
        id = Column(Integer, primary_key=True)
        author_id = Column(Integer, ForeignKey("authors.id"))

    was_installed = sqlalchemy_hooks.is_installed()
    sqlalchemy_hooks.uninstall()
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add_all([Author(id=n) for n in range(1, 6)])

    app = FastAPI()
    scopes: list[RequestScope] = []

    @app.get("/authors")
    def list_authors() -> list[int]:
        seen(scopes)()
        with Session(engine) as session:
            authors = session.scalars(select(Author).order_by(Author.id)).all()
            for author in authors:  # one query per author: an N+1
                session.scalars(select(Book).where(Book.author_id == author.id)).all()
            return [author.id for author in authors]

    try:
        app.add_middleware(ArchitectMiddleware)
        [response] = get(app, "/authors")
        # installed by the middleware (the app uses SQLAlchemy), and kept installed
        # after `assert_max_queries`, which did not install them, ends
        with assert_max_queries(6) as counted:
            get(app, "/authors")
        assert sqlalchemy_hooks.is_installed()
    finally:
        if not was_installed:
            sqlalchemy_hooks.uninstall()
        engine.dispose()
    assert response.json() == [1, 2, 3, 4, 5]
    assert len(counted) == 6
    statements = [q.statement for q in scopes[0].queries]
    assert len(scopes) == 2 and [q.statement for q in scopes[1].queries] == statements
    assert len(statements) == 6 and len(set(statements[1:])) == 1
    assert "FROM books WHERE books.author_id = ?" in statements[1]
    endpoint = endpoints()[("GET", "/authors")]
    assert (endpoint["requests"], endpoint["queries_max"], endpoint["queries_total"]) == (2, 6, 12)
    [group] = endpoint["n_plus_one"]
    assert group["count"] == 5
    assert group["location"] == f"{THIS}:{_line_of('for author in authors:') + 1}"


def _line_of(text: str) -> int:
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    [number] = [n for n, line in enumerate(lines, start=1) if line.strip().startswith(text)]
    return number


def test_package_exports() -> None:
    import fastapi_architect.runtime as runtime

    assert runtime.ArchitectMiddleware is ArchitectMiddleware
    assert runtime.RuntimeSettings is RuntimeSettings
    assert runtime.configure is configure
    assert runtime.assert_max_queries is assert_max_queries
    assert set(runtime.__all__) <= set(dir(runtime))
    with pytest.raises(AttributeError):
        _ = runtime.no_such_name
