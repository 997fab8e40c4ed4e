"""The app of bench/runtime_overhead.py answers the same with and without the profiler."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from fastapi_architect.runtime import sqlalchemy_hooks
from fastapi_architect.runtime.recorder import recorder
from fastapi_architect.runtime.settings import get_settings, use_settings
from fastapi_architect.runtime.watchdog import watchdog

BENCH = Path(__file__).resolve().parent.parent / "bench" / "runtime_overhead.py"


def _load_bench() -> ModuleType:
    # bench/ is not a package: import the module by path.
    spec = importlib.util.spec_from_file_location("bench_runtime_overhead", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_bench()


@pytest.fixture
def clean_runtime() -> Iterator[None]:
    """The instrumented app installs class-wide hooks and starts the watchdog: undo both."""
    saved = get_settings()
    sqlalchemy_hooks.uninstall()
    recorder.reset()
    yield
    watchdog.stop()
    sqlalchemy_hooks.uninstall()
    recorder.reset()
    use_settings(saved)


def _get(app: Any, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                return await client.get(path)
        finally:
            engine = app.state.engine
            if hasattr(engine, "sync_engine"):  # AsyncEngine: dispose on its own loop
                await engine.dispose()
            else:
                engine.dispose()

    return asyncio.run(go())


@pytest.mark.parametrize("db_driver", ["aiosqlite", "sqlite"])
def test_same_answer_with_and_without_the_middleware(
    bench: ModuleType, tmp_path: Path, db_driver: str, clean_runtime: None
) -> None:
    db = tmp_path / "bench.db"
    bench.seed_database(db)
    path = bench.request_paths(1)[0]

    plain = _get(bench.create_app(db, instrumented=False, db_driver=db_driver), path)
    assert sqlalchemy_hooks.is_installed() is False  # the plain app never touches them
    instrumented = _get(bench.create_app(db, instrumented=True, db_driver=db_driver), path)

    assert plain.status_code == instrumented.status_code == 200
    body = plain.json()
    assert body == instrumented.json()
    assert body["id"] == int(path.rsplit("/", 1)[1])
    assert body["book_count"] >= len(body["latest_books"])
    assert len(body["same_country"]) == 5

    # the instrumented request really went through the profiler: four statements
    [endpoint] = recorder.report()["endpoints"]
    assert (endpoint["method"], endpoint["route"]) == ("GET", "/authors/{author_id}")
    assert endpoint["requests"] == 1
    assert endpoint["queries_total"] == bench.STATEMENTS_PER_REQUEST
