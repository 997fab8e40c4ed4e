#!/usr/bin/env python3
"""Runtime profiler overhead: request latency with and without the instrumentation.

One realistic endpoint, `GET /authors/{author_id}`: FastAPI + SQLAlchemy 2.0 on a seeded
SQLite file (500 authors, 0-19 books each), four statements per request (the author, their
ten latest books, their book count, five authors of the same country), a Pydantic response.
By default the path operation is `async def` on aiosqlite; `--db-driver sqlite` runs the
same queries in a sync `def` path operation (threadpool) on the sqlite3 driver.

Two copies of the same app, each in its own uvicorn server process on loopback (free ports,
`--loop asyncio` by default or `--loop uvloop`; `--http` h11 or httptools, by default
httptools when installed, as uvicorn does; access log off):

- **plain**: the app as is; fastapi_architect is never imported;
- **instrumented**: the same app with `app.add_middleware(ArchitectMiddleware)`, as a user
  adds it. The middleware installs the SQLAlchemy hooks and starts the event-loop watchdog
  (heartbeat + thread) on its first request, as in real use; `project_root` is this folder,
  so every statement is attributed to a line of this file.

A driver in a third process (httpx `AsyncClient`, keep-alive, `--concurrency` requests in
flight, default 8) sends the same deterministic sequence of author ids to each server:
a warm-up on both, then `--rounds` rounds of `--requests` requests per server, in the order
plain, instrumented, instrumented, plain, plain, ... (ABBA: a linear drift of the machine
weighs on both alike). Each request's latency is the time from sending it to having the
whole response. Around each round the driver reads the server's CPU time from /proc
(Linux), in all and by thread: the event-loop thread, the watchdog's thread, the others
(aiosqlite's connection threads, the threadpool, threads that ended).

Printed: p50 / p95 / p99 / mean latency, throughput and server CPU per request of each
server, the ratios instrumented / plain (goal: p50 <= 1.05), the p50 ratio of each ABBA
pair (their spread shows how steady the machine was), what the instrumented server recorded
(requests, statements per request, N+1, blocking: proof that the instrumentation ran), and
a hash of the runtime package's sources (which version was measured). It never asserts:
the figures are for reading. With `--concurrency` above one the server is saturated, so
latency follows server CPU per request; `--concurrency 1` shows the unloaded latency.

    python bench/runtime_overhead.py                          # 5 rounds x 3000 requests
    python bench/runtime_overhead.py --loop uvloop --concurrency 1
    python bench/runtime_overhead.py --db-driver both --json /tmp/overhead.json
    python bench/runtime_overhead.py --profile                # + in-process cProfile
    python bench/runtime_overhead.py --instrumentation no-watchdog   # a diagnostic

`--profile` also measures, in this process, both apps under httpx's ASGI transport (no
sockets, no server; best of many short alternating runs, wall time and loop-thread CPU),
then prints a cProfile of the instrumented app: the profiler's own functions, per request.
`--instrumentation no-watchdog|no-hooks|middleware-only` switches a part of the profiler
off in the instrumented server (reaching into the runtime's modules) to see what each costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import hashlib
import json
import os
import platform
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

BENCH_DIR = Path(__file__).resolve().parent
THIS = Path(__file__).resolve()

AUTHORS = 500
COUNTRIES = ("AR", "BR", "DE", "FR", "IN", "IT", "JP", "NG", "PL", "US")
SEED = 20_240_704
P50_GOAL = 1.05
DB_DRIVERS = ("aiosqlite", "sqlite")
STATEMENTS_PER_REQUEST = 4
PROFILE_CHUNK = 100  # requests per in-process run (--profile)
INSTRUMENTATIONS = ("full", "no-watchdog", "no-hooks", "middleware-only")
CPU_KINDS = (
    ("loop", "event-loop thread"),
    ("other", "other threads"),
    ("watchdog", "watchdog thread"),
)

# ---------------------------------------------------------------------------------------
# The application (the same code for both servers)
# ---------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), index=True)
    born: Mapped[int]


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)


class BookOut(BaseModel):
    id: int
    title: str
    year: int


class RelatedAuthor(BaseModel):
    id: int
    name: str


class AuthorOut(BaseModel):
    id: int
    name: str
    country: str
    born: int
    book_count: int
    latest_books: list[BookOut]
    same_country: list[RelatedAuthor]


def database_url(path: Path, db_driver: str) -> str:
    if db_driver not in DB_DRIVERS:
        raise ValueError(f"unknown db driver {db_driver!r}: one of {', '.join(DB_DRIVERS)}")
    return f"sqlite+{db_driver}:///{path}" if db_driver == "aiosqlite" else f"sqlite:///{path}"


def seed_database(path: Path, authors: int = AUTHORS) -> None:
    """Create and fill the SQLite file (deterministic: the same rows on every run)."""
    rng = random.Random(SEED)
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for number in range(1, authors + 1):
            author = Author(
                id=number,
                name=f"Author {number}",
                country=rng.choice(COUNTRIES),
                born=rng.randint(1900, 2000),
            )
            session.add(author)
            session.add_all(
                Book(
                    title=f"Book {number}.{index}",
                    year=rng.randint(1950, 2024),
                    author_id=number,
                )
                for index in range(rng.randint(0, 19))
            )
        session.commit()
    engine.dispose()


async def get_async_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def get_sync_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]
SyncSessionDep = Annotated[Session, Depends(get_sync_session)]


def _latest_books(author_id: int) -> Any:
    return (
        select(Book)
        .where(Book.author_id == author_id)
        .order_by(Book.year.desc(), Book.id)
        .limit(10)
    )


def _book_count(author_id: int) -> Any:
    return select(func.count()).select_from(Book).where(Book.author_id == author_id)


def _same_country(author: Author) -> Any:
    return (
        select(Author.id, Author.name)
        .where(Author.country == author.country, Author.id != author.id)
        .order_by(Author.id)
        .limit(5)
    )


def _author_out(author: Author, books: Sequence[Book], count: int, related: Any) -> AuthorOut:
    return AuthorOut(
        id=author.id,
        name=author.name,
        country=author.country,
        born=author.born,
        book_count=count,
        latest_books=[BookOut(id=b.id, title=b.title, year=b.year) for b in books],
        same_country=[RelatedAuthor(id=row.id, name=row.name) for row in related],
    )


def create_app(db_path: Path, *, instrumented: bool, db_driver: str = "aiosqlite") -> FastAPI:
    """The bench's app on the SQLite file `db_path`; with `ArchitectMiddleware` if instrumented.

    The engine is `app.state.engine` (an `AsyncEngine` for aiosqlite); the lifespan
    disposes of it when the server stops.
    """
    url = database_url(db_path, db_driver)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if db_driver == "aiosqlite":
            await app.state.engine.dispose()
        else:
            app.state.engine.dispose()

    app = FastAPI(title="runtime overhead bench", lifespan=lifespan)
    if db_driver == "aiosqlite":
        engine: Any = create_async_engine(url)
        app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)

        @app.get("/authors/{author_id}", response_model=AuthorOut)
        async def read_author(author_id: int, session: AsyncSessionDep) -> AuthorOut:
            author = await session.get(Author, author_id)
            if author is None:
                raise HTTPException(status_code=404, detail="author not found")
            books = (await session.scalars(_latest_books(author_id))).all()
            count = await session.scalar(_book_count(author_id))
            related = (await session.execute(_same_country(author))).all()
            return _author_out(author, books, count or 0, related)

    else:
        engine = create_engine(url, connect_args={"check_same_thread": False})
        app.state.sessions = sessionmaker(engine, expire_on_commit=False)

        @app.get("/authors/{author_id}", response_model=AuthorOut)
        def read_author_sync(author_id: int, session: SyncSessionDep) -> AuthorOut:
            author = session.get(Author, author_id)
            if author is None:
                raise HTTPException(status_code=404, detail="author not found")
            books = session.scalars(_latest_books(author_id)).all()
            count = session.scalar(_book_count(author_id))
            related = session.execute(_same_country(author)).all()
            return _author_out(author, books, count or 0, related)

    app.state.engine = engine

    @app.get("/_bench/state")
    async def bench_state() -> dict[str, Any]:
        """What the instrumentation saw (read once, after the load)."""
        if not instrumented:
            return {"instrumented": False}
        from fastapi_architect.runtime import sqlalchemy_hooks
        from fastapi_architect.runtime import watchdog as watchdog_module
        from fastapi_architect.runtime.recorder import recorder

        name = getattr(watchdog_module, "THREAD_NAME", "fastapi-architect-watchdog")
        thread = next((t for t in threading.enumerate() if t.name == name), None)
        return {
            "instrumented": True,
            "hooks_installed": sqlalchemy_hooks.is_installed(),
            "watchdog_alive": watchdog_module.watchdog.is_alive(),
            # the driver tells the watchdog's CPU time apart by it
            "watchdog_native_id": None if thread is None else thread.native_id,
            "report": recorder.report(),
        }

    if instrumented:
        from fastapi_architect.runtime import ArchitectMiddleware, configure

        configure(project_root=BENCH_DIR)  # statements are located in this file
        app.add_middleware(ArchitectMiddleware)
    return app


def request_paths(count: int, seed: int = SEED) -> list[str]:
    """A deterministic sequence of author URLs (every id exists)."""
    rng = random.Random(seed)
    return [f"/authors/{rng.randint(1, AUTHORS)}" for _ in range(count)]


# ---------------------------------------------------------------------------------------
# Server processes
# ---------------------------------------------------------------------------------------


def disable_parts(instrumentation: str) -> None:
    """Switch parts of the profiler off in this process, to see what each costs.

    A diagnostic only: it reaches into the runtime's modules (`--instrumentation`).
    """
    from fastapi_architect.runtime import sqlalchemy_hooks
    from fastapi_architect.runtime.watchdog import watchdog

    if instrumentation in ("no-watchdog", "middleware-only"):
        # the middleware's per-request call that starts the watchdog, under either name
        for name in ("enter", "watch_running_loop"):
            if hasattr(watchdog, name):
                setattr(watchdog, name, lambda: None)
    if instrumentation in ("no-hooks", "middleware-only"):
        sqlalchemy_hooks.install = lambda: False
        sqlalchemy_hooks.is_installed = lambda: True  # the middleware does not retry


def serve(args: argparse.Namespace) -> None:
    """The body of a server process: one app under uvicorn until SIGTERM."""
    import uvicorn

    if args.serve == "instrumented" and args.instrumentation != "full":
        disable_parts(args.instrumentation)
    app = create_app(
        Path(args.db), instrumented=args.serve == "instrumented", db_driver=args.db_driver
    )
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        loop=args.loop,
        http=args.http,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    uvicorn.Server(config).run()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    label: str  # "plain" or "instrumented"
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def start_server(label: str, db: Path, args: argparse.Namespace, scratch: Path) -> Server:
    port = free_port()
    log = scratch / f"{label}-{args.current_db_driver}.log"
    cmd = [
        sys.executable,
        str(THIS),
        "--serve",
        label,
        "--port",
        str(port),
        "--db",
        str(db),
        "--db-driver",
        args.current_db_driver,
        "--loop",
        args.loop,
        "--http",
        args.http,
        "--instrumentation",
        args.instrumentation,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    return Server(label, process, port, log)


class BenchError(Exception):
    pass


def wait_ready(server: Server, timeout: float = 30.0) -> dict[str, Any]:
    """Wait until the server answers; its /_bench/state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"{server.label} server exited ({server.process.returncode}):\n{server.log_tail()}"
            )
        try:
            response = httpx.get(f"{server.url}/_bench/state", timeout=2.0)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state
    raise BenchError(f"{server.label} server did not answer within {timeout:.0f} s")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# ---------------------------------------------------------------------------------------
# The load driver (a process of its own)
# ---------------------------------------------------------------------------------------


def _cpu_of_stat(path: Path) -> float:
    """User + system CPU seconds from a /proc .../stat file."""
    fields = path.read_text().rsplit(")", 1)[1].split()
    # after "pid (comm)": state is field 3, utime 14 and stime 15 (1-based, see proc(5))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watchdog_thread(url: str) -> int | None:
    """The native id of the server's watchdog thread (started by the first request)."""
    state: dict[str, Any] = httpx.get(f"{url}/_bench/state", timeout=10.0).json()
    tid: int | None = state.get("watchdog_native_id")
    return tid


def process_cpu_seconds(pid: int, watchdog_tid: int | None) -> dict[str, float] | None:
    """CPU seconds of a process (Linux /proc), in all and by thread kind, else None.

    "total" counts every thread, ended ones too; "loop" is the main thread (uvicorn's
    event loop), "watchdog" the profiler's thread (native id `watchdog_tid`), "other"
    the rest (aiosqlite's connection threads, the threadpool, threads that ended).
    """
    try:
        total = _cpu_of_stat(Path(f"/proc/{pid}/stat"))
        by_kind = {"total": total, "loop": 0.0, "watchdog": 0.0, "other": 0.0}
        for kind, tid in (("loop", pid), ("watchdog", watchdog_tid)):
            if tid is not None:
                with contextlib.suppress(OSError):  # the thread ended
                    by_kind[kind] = _cpu_of_stat(Path(f"/proc/{pid}/task/{tid}/stat"))
    except (OSError, ValueError, IndexError):
        return None
    # the rest, with the threads that ended (the pool closes overflow connections)
    by_kind["other"] = total - by_kind["loop"] - by_kind["watchdog"]
    return by_kind


async def run_round(
    url: str, paths: list[str], concurrency: int, pid: int | None, watchdog_tid: int | None
) -> dict[str, Any]:
    """Send `paths` to `url` with `concurrency` requests in flight; latencies in ms."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies = [0.0] * len(paths)
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:
        # open the connections first: their set-up is not a request's latency
        for response in await asyncio.gather(*(client.get(path) for path in paths[:concurrency])):
            response.raise_for_status()
        next_index = 0

        async def worker() -> None:
            nonlocal next_index
            while next_index < len(paths):
                index = next_index
                next_index += 1
                started = time.perf_counter()
                response = await client.get(paths[index])
                latencies[index] = (time.perf_counter() - started) * 1000.0
                if response.status_code != 200 and len(errors) < 5:
                    errors.append(f"{paths[index]}: {response.status_code}")

        cpu_before = process_cpu_seconds(pid, watchdog_tid) if pid else None
        wall_started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - wall_started
        cpu_after = process_cpu_seconds(pid, watchdog_tid) if pid else None
    cpu = (
        None
        if cpu_before is None or cpu_after is None
        else {kind: cpu_after[kind] - cpu_before[kind] for kind in cpu_after}
    )
    return {"latencies_ms": latencies, "wall_s": wall, "server_cpu_s": cpu, "errors": errors}


async def drive(plan: dict[str, Any]) -> dict[str, Any]:
    servers: dict[str, dict[str, Any]] = plan["servers"]
    concurrency: int = plan["concurrency"]
    warm = request_paths(plan["warmup"], seed=SEED + 1)
    for server in servers.values():
        await run_round(server["url"], warm, concurrency, None, None)
        server["watchdog_tid"] = watchdog_thread(server["url"])
    paths = request_paths(plan["requests"])
    rounds: list[dict[str, Any]] = []
    for label in plan["order"]:
        server = servers[label]
        result = await run_round(
            server["url"], paths, concurrency, server["pid"], server["watchdog_tid"]
        )
        result["server"] = label
        rounds.append(result)
        print(
            f"  round {len(rounds)}/{len(plan['order'])} {label:<12} "
            f"p50 {percentile(sorted(result['latencies_ms']), 50):.3f} ms  "
            f"{len(paths) / result['wall_s']:.0f} req/s",
            file=sys.stderr,
        )
    return {"rounds": rounds}


def drive_main(plan_file: Path) -> None:
    plan = json.loads(plan_file.read_text())
    print(json.dumps(asyncio.run(drive(plan))))


def round_order(rounds: int) -> list[str]:
    """plain, instrumented, instrumented, plain, ... (`rounds` of each, ABBA pairs)."""
    order: list[str] = []
    for index in range(rounds):
        pair = ["plain", "instrumented"]
        order.extend(pair if index % 2 == 0 else pair[::-1])
    return order


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear interpolation between closest ranks over sorted values."""
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * percent / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Variant:
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    # CPU seconds of the server by thread kind (see `process_cpu_seconds`); None: unknown
    cpu_s: dict[str, float] | None = field(default_factory=dict)
    round_p50: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, result: dict[str, Any]) -> None:
        latencies: list[float] = result["latencies_ms"]
        self.latencies_ms.extend(latencies)
        self.wall_s += result["wall_s"]
        cpu = result["server_cpu_s"]
        if cpu is None or self.cpu_s is None:
            self.cpu_s = None
        else:
            for kind, seconds in cpu.items():
                self.cpu_s[kind] = self.cpu_s.get(kind, 0.0) + seconds
        self.round_p50.append(percentile(sorted(latencies), 50))
        self.errors.extend(result["errors"])

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        n = len(ordered)
        return {
            "requests": n,
            "p50_ms": round(percentile(ordered, 50), 4),
            "p95_ms": round(percentile(ordered, 95), 4),
            "p99_ms": round(percentile(ordered, 99), 4),
            "mean_ms": round(statistics.fmean(ordered), 4) if ordered else 0.0,
            "throughput_rps": round(n / self.wall_s, 1) if self.wall_s else 0.0,
            "server_cpu_ms_per_request": (
                {kind: round(s * 1000.0 / n, 4) for kind, s in self.cpu_s.items()}
                if self.cpu_s and n
                else None
            ),
            "round_p50_ms": [round(v, 4) for v in self.round_p50],
            "errors": self.errors[:5],
        }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 4) if a is not None and b else None


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    variants = {"plain": Variant(), "instrumented": Variant()}
    for result in rounds:
        variants[result["server"]].add(result)
    plain, instr = (variants[k].figures() for k in ("plain", "instrumented"))
    pair_ratios = [
        i / p
        for p, i in zip(
            variants["plain"].round_p50, variants["instrumented"].round_p50, strict=False
        )
    ]
    return {
        "plain": plain,
        "instrumented": instr,
        "ratios": {
            "p50": _ratio(instr["p50_ms"], plain["p50_ms"]),
            "p95": _ratio(instr["p95_ms"], plain["p95_ms"]),
            "p99": _ratio(instr["p99_ms"], plain["p99_ms"]),
            "mean": _ratio(instr["mean_ms"], plain["mean_ms"]),
            "throughput": _ratio(instr["throughput_rps"], plain["throughput_rps"]),
            "server_cpu_per_request": _ratio(_cpu(instr, "total"), _cpu(plain, "total")),
            "p50_per_pair": [round(r, 4) for r in pair_ratios],
            "p50_pair_median": round(statistics.median(pair_ratios), 4) if pair_ratios else None,
        },
    }


def _cpu(figures: dict[str, Any], kind: str) -> float | None:
    by_kind: dict[str, float] | None = figures["server_cpu_ms_per_request"]
    return None if by_kind is None else by_kind.get(kind)


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def print_run(figures: dict[str, Any]) -> None:
    plain, instr, ratios = figures["plain"], figures["instrumented"], figures["ratios"]
    setup = figures["setup"]
    print()
    print(
        f"Runtime profiler overhead: GET /authors/{{author_id}}, {setup['db_driver']} "
        f"({setup['route']}), uvicorn --loop {setup['loop']} --http {setup['http']}"
    )
    if setup["instrumentation"] != "full":
        print(f"DIAGNOSTIC: instrumented server runs {setup['instrumentation']}")
    print(
        f"{setup['rounds']} rounds x {setup['requests']:,} requests per server, "
        f"concurrency {setup['concurrency']}, warm-up {setup['warmup']:,}, "
        f"{setup['cpus']} CPUs, Python {setup['python']}, "
        f"runtime sources {setup['runtime_digest']}"
    )
    goal = ratios["p50"]
    verdict = "" if goal is None else ("  (goal met)" if goal <= P50_GOAL else "  (goal MISSED)")
    rows: list[tuple[str, str, str, str]] = [
        ("", "plain", "instrumented", "ratio"),
        *(
            (
                f"{key} latency, ms",
                _fmt(plain[f"{key}_ms"], ".3f"),
                _fmt(instr[f"{key}_ms"], ".3f"),
                _fmt(ratios[key], ".3f") + (verdict if key == "p50" else ""),
            )
            for key in ("p50", "p95", "p99", "mean")
        ),
        (
            "throughput, req/s",
            _fmt(plain["throughput_rps"], ",.0f"),
            _fmt(instr["throughput_rps"], ",.0f"),
            _fmt(ratios["throughput"], ".3f"),
        ),
        (
            "server CPU per request, ms",
            _fmt(_cpu(plain, "total"), ".3f"),
            _fmt(_cpu(instr, "total"), ".3f"),
            _fmt(ratios["server_cpu_per_request"], ".3f"),
        ),
        *(
            (
                f"  of which {label}",
                _fmt(_cpu(plain, kind), ".3f"),
                _fmt(_cpu(instr, kind), ".3f"),
                _fmt(_ratio(_cpu(instr, kind), _cpu(plain, kind)), ".3f"),
            )
            for kind, label in CPU_KINDS
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    line = "-" * (sum(widths) + 6)
    print(line)
    for row in rows:
        print(
            f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  "
            f"{row[3]:<{widths[3]}}"
        )
    print(line)
    pairs = ", ".join(f"{r:.3f}" for r in ratios["p50_per_pair"])
    print(f"p50 ratio per ABBA pair: {pairs} (median {_fmt(ratios['p50_pair_median'], '.3f')})")
    for label, data in (("plain", plain), ("instrumented", instr)):
        if data["errors"]:
            print(f"{label}: non-200 answers, e.g. {'; '.join(data['errors'])}")
    state = figures.get("instrumented_state") or {}
    endpoint = next(
        (
            e
            for e in (state.get("report") or {}).get("endpoints", [])
            if e["route"] == "/authors/{author_id}"
        ),
        None,
    )
    if endpoint is None:
        print("instrumented server recorded NOTHING for /authors/{author_id}: check the setup")
        return
    print(
        f"instrumented server recorded {endpoint['requests']:,} requests of "
        f"{endpoint['method']} {endpoint['route']}: "
        f"{endpoint['queries_total'] / max(endpoint['requests'], 1):.2f} statements each "
        f"(max {endpoint['queries_max']}), {len(endpoint['n_plus_one'])} N+1, "
        f"{len(endpoint['blocking'])} blocking; its own p50 {endpoint['duration_ms']['p50']} ms; "
        f"hooks installed: {state.get('hooks_installed')}, "
        f"watchdog running: {state.get('watchdog_alive')}"
    )


# ---------------------------------------------------------------------------------------
# One measurement: two servers, one driver
# ---------------------------------------------------------------------------------------


def runtime_digest() -> str:
    """A short hash of the runtime package's sources: which version was measured."""
    import fastapi_architect.runtime as runtime

    digest = hashlib.sha256()
    for path in sorted(Path(runtime.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def resolve_http(choice: str) -> str:
    if choice != "auto":
        return choice
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def measure(db_driver: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    args.current_db_driver = db_driver
    digest = runtime_digest()
    db = scratch / f"bench-{db_driver}.db"
    seed_database(db)
    servers = {label: start_server(label, db, args, scratch) for label in ("plain", "instrumented")}
    try:
        for server in servers.values():
            state = wait_ready(server)
            if state["instrumented"] != (server.label == "instrumented"):
                raise BenchError(f"{server.label} server answers {state}")
        plan = {
            "servers": {
                label: {"url": s.url, "pid": s.process.pid} for label, s in servers.items()
            },
            "concurrency": args.concurrency,
            "warmup": args.warmup,
            "requests": args.requests,
            "order": round_order(args.rounds),
        }
        plan_file = scratch / "plan.json"
        plan_file.write_text(json.dumps(plan))
        print(
            f"{db_driver}: plain on :{servers['plain'].port} "
            f"(pid {servers['plain'].process.pid}), instrumented on "
            f":{servers['instrumented'].port} (pid {servers['instrumented'].process.pid})",
            file=sys.stderr,
        )
        driver = subprocess.run(
            [sys.executable, str(THIS), "--drive", str(plan_file)],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if driver.returncode != 0:
            raise BenchError(f"the load driver failed ({driver.returncode})")
        result = json.loads(driver.stdout.strip().splitlines()[-1])
        state = wait_ready(servers["instrumented"])
        for server in servers.values():
            if server.process.poll() is not None:
                raise BenchError(f"{server.label} server died:\n{server.log_tail()}")
    finally:
        for server in servers.values():
            stop_server(server)
    figures = summarize(result["rounds"])
    figures["setup"] = {
        "db_driver": db_driver,
        "route": "async def" if db_driver == "aiosqlite" else "def (threadpool)",
        "loop": args.loop,
        "http": args.http,
        "instrumentation": args.instrumentation,
        "runtime_digest": digest,
        "rounds": args.rounds,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    figures["instrumented_state"] = state
    return figures


# ---------------------------------------------------------------------------------------
# In-process profile (--profile)
# ---------------------------------------------------------------------------------------


async def _asgi_requests(app: FastAPI, paths: list[str]) -> tuple[float, float]:
    """(wall, this thread's CPU) seconds to serve `paths` one by one through httpx's ASGI
    transport; the CPU of the loop thread leaves out aiosqlite's and the watchdog's threads."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        cpu_started = time.thread_time()
        started = time.perf_counter()
        for path in paths:
            response = await client.get(path)
            if response.status_code != 200:
                raise BenchError(f"{path}: {response.status_code}")
        return time.perf_counter() - started, time.thread_time() - cpu_started


def profile_in_process(db_driver: str, args: argparse.Namespace, scratch: Path) -> None:
    """Both apps in this process, then a cProfile of the instrumented one (see --profile).

    Many short runs, alternating; each instrumented run is compared with the plain run
    next to it and the median of those ratios is kept, which a machine whose speed drifts
    or a neighbour's burst of work disturbs least. The hooks (class-wide) and the watchdog
    (process-wide) are switched off before each plain run; the middleware switches
    them on again at the next instrumented request, as it does in a server.
    """
    from fastapi_architect.runtime import sqlalchemy_hooks
    from fastapi_architect.runtime.recorder import recorder
    from fastapi_architect.runtime.watchdog import watchdog

    db = scratch / f"profile-{db_driver}.db"
    seed_database(db)
    plain = create_app(db, instrumented=False, db_driver=db_driver)
    instr = create_app(db, instrumented=True, db_driver=db_driver)
    chunk = request_paths(PROFILE_CHUNK)
    runs = max(args.rounds * 6, 20)
    profiled = request_paths(max(args.requests // 3, 200), seed=SEED + 2)

    async def run() -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        plain_s: list[tuple[float, float]] = []
        instr_s: list[tuple[float, float]] = []
        await _asgi_requests(plain, chunk)
        await _asgi_requests(instr, chunk)
        for index in range(runs):
            order = ("plain", "instrumented") if index % 2 == 0 else ("instrumented", "plain")
            for label in order:
                if label == "plain":
                    sqlalchemy_hooks.uninstall()
                    watchdog.stop()
                    plain_s.append(await _asgi_requests(plain, chunk))
                else:
                    instr_s.append(await _asgi_requests(instr, chunk))
        return plain_s, instr_s

    async def profile() -> None:
        await _asgi_requests(instr, chunk)
        profiler.enable()
        await _asgi_requests(instr, profiled)
        profiler.disable()

    async def dispose() -> None:
        for app in (plain, instr):
            await app.state.engine.dispose()

    profiler = cProfile.Profile()
    try:
        plain_s, instr_s = asyncio.run(run())
        asyncio.run(profile())
    finally:
        watchdog.stop()
        sqlalchemy_hooks.uninstall()
        recorder.reset()
        if db_driver == "aiosqlite":
            asyncio.run(dispose())
        else:
            for app in (plain, instr):
                app.state.engine.dispose()

    n = len(chunk)
    print()
    print(
        f"In-process, {db_driver}: httpx ASGITransport, no server, one request at a time; "
        f"{runs} pairs of runs of {n} requests each (median)"
    )
    for index, what in ((0, "wall time"), (1, "loop-thread CPU")):
        base = statistics.median(t[index] for t in plain_s) / n * 1e6
        with_it = statistics.median(t[index] for t in instr_s) / n * 1e6
        ratios = sorted(i[index] / p[index] for p, i in zip(plain_s, instr_s, strict=True))
        print(
            f"  {what + ',':<17} us per request: plain {base:8.1f}, instrumented "
            f"{with_it:8.1f}: {with_it - base:+7.1f} us; ratio per pair: median "
            f"{statistics.median(ratios):.3f}, quartiles {ratios[len(ratios) // 4]:.3f}"
            f"-{ratios[3 * len(ratios) // 4]:.3f}"
        )
    if db_driver == "sqlite":
        print(
            "  (a sync path operation runs in the threadpool: cProfile sees the loop thread "
            "only, not the hooks, which run in the worker threads)"
        )
    print_profile(profiler, len(profiled), args.profile_top)


def print_profile(profiler: cProfile.Profile, requests: int, top: int) -> None:
    """The profiler's own functions, per request (cProfile inflates small calls)."""
    rows: list[tuple[float, float, float, str]] = []
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.items():
        if "fastapi_architect" not in filename:
            continue
        where = filename.split("fastapi_architect/", 1)[1]
        rows.append(
            (
                cumulative / requests * 1e6,
                own / requests * 1e6,
                calls / requests,
                f"{where}:{line}({name})",
            )
        )
    rows.sort(reverse=True)
    print(
        f"\ncProfile of {requests:,} instrumented requests: fastapi_architect functions, "
        f"per request (under cProfile: inflated; the middleware's cumulative time holds "
        f"the whole app)"
    )
    print(f"  {'cumulative us':>13}  {'own us':>8}  {'calls':>6}  function")
    for cumulative, own, calls, where in rows[:top]:
        print(f"  {cumulative:13.1f}  {own:8.1f}  {calls:6.2f}  {where}")
    total_own = sum(row[1] for row in rows)
    print(f"  {'':>13}  {total_own:8.1f}  {'':>6}  own time of all of them")


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--requests", type=int, default=3000, help="requests per round (default %(default)s)"
    )
    p.add_argument("--rounds", type=int, default=5, help="rounds per server (default %(default)s)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="requests in flight at once (default %(default)s)",
    )
    p.add_argument(
        "--warmup", type=int, default=500, help="warm-up requests per server (default %(default)s)"
    )
    p.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="uvicorn's event loop (default %(default)s)",
    )
    p.add_argument(
        "--http",
        choices=("auto", "h11", "httptools"),
        default="auto",
        help="uvicorn's HTTP implementation (default %(default)s: httptools when installed)",
    )
    p.add_argument(
        "--db-driver",
        choices=(*DB_DRIVERS, "both"),
        default="aiosqlite",
        help="aiosqlite (async def path operation) or sqlite (def, threadpool) "
        "(default %(default)s)",
    )
    p.add_argument(
        "--instrumentation",
        choices=INSTRUMENTATIONS,
        default="full",
        help="what the instrumented server runs: full (default), or a diagnostic with a part "
        "switched off (the event-loop watchdog, the SQLAlchemy hooks, or both)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures to FILE")
    p.add_argument(
        "--profile",
        action="store_true",
        help="also measure both apps in-process (ASGI) and cProfile the instrumented one",
    )
    p.add_argument("--profile-top", type=int, default=25, help=argparse.SUPPRESS)
    # the server and driver processes run this file again
    p.add_argument("--serve", choices=("plain", "instrumented"), help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--drive", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for name in ("requests", "rounds", "concurrency"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        p.error("--warmup must not be negative")
    if args.loop == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            p.error("--loop uvloop: uvloop is not installed")
    if args.serve is None:
        args.http = resolve_http(args.http)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve is not None:
        serve(args)
        return 0
    if args.drive is not None:
        drive_main(args.drive)
        return 0

    drivers = list(DB_DRIVERS) if args.db_driver == "both" else [args.db_driver]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="runtime-overhead-") as tmp:
        scratch = Path(tmp)
        for db_driver in drivers:
            try:
                figures = measure(db_driver, args, scratch)
            except BenchError as exc:
                print(f"runtime_overhead: {exc}", file=sys.stderr)
                return 2
            print_run(figures)
            sys.stdout.flush()
            results.append(figures)
        if args.profile:
            for db_driver in drivers:
                profile_in_process(db_driver, args, scratch)

    if args.json is not None:
        payload = {
            "runs": results,
            "command": " ".join(sys.argv),
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "goal_p50_ratio": P50_GOAL,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
