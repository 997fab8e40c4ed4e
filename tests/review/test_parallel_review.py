"""The review gives the same findings whether part of it runs in a forked child or not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from fastapi_architect.config import Config
from fastapi_architect.review import engine, forking

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("review_throughput", ROOT / "bench" / "review_throughput.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["review_throughput"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not forking.can_fork(), reason="needs fork and two cores")
def test_parallel_and_serial_reviews_are_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _generator()
    bench.generate(tmp_path, 12_000)  # type: ignore[attr-defined]
    monkeypatch.setattr(engine, "PARALLEL_MIN_MODULES", 10**9)
    serial = engine.review_paths([tmp_path], Config(select=("ALL",)), root=tmp_path)
    monkeypatch.setattr(engine, "PARALLEL_MIN_MODULES", 1)
    parallel = engine.review_paths([tmp_path], Config(select=("ALL",)), root=tmp_path)
    assert serial.findings, "the synthetic project has planted problems"
    assert parallel.findings == serial.findings
    assert parallel.internal_errors == serial.internal_errors == []


def test_failed_child_work_is_redone_by_the_parent() -> None:
    def boom() -> int:
        raise RuntimeError("child fails")

    work = forking.start(boom)
    if work is None:
        pytest.skip("fork is not available on this platform")
    assert work.result() is None


def test_child_result_comes_back() -> None:
    work = forking.start(lambda: {"answer": [42]})
    if work is None:
        pytest.skip("fork is not available on this platform")
    assert work.result() == {"answer": [42]}
