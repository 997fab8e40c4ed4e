"""The review gives the same findings whether part of it runs in a forked child or not,
and whether it runs or comes from the review cache.

Forking is only done by a single-threaded process, and pytest-xdist workers have
threads, so the checks run in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import importlib.util, sys
    from pathlib import Path
    from fastapi_architect.config import Config
    from fastapi_architect.review import engine, forking

    assert forking.can_fork(), "a single-threaded POSIX process with two cores can fork"

    # A child's return value comes back; a failing child yields None (the parent redoes it).
    assert forking.start(lambda: {"answer": [42]}).result() == {"answer": [42]}
    def boom():
        raise RuntimeError("child fails")
    assert forking.start(boom).result() is None

    spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = bench
    spec.loader.exec_module(bench)
    root = Path(sys.argv[2])
    bench.generate(root, 12_000)
    config = Config(select=("ALL",))
    engine.PARALLEL_MIN_MODULES = 10**9
    serial = engine.review_paths([root], config, root=root)
    engine.PARALLEL_MIN_MODULES = 1
    calls = []
    real_start = forking.start
    def counting_start(work):
        calls.append(work)
        return real_start(work)
    forking.start = counting_start
    parallel = engine.review_paths([root], config, root=root)
    assert calls, "the parallel run forked"
    assert serial.findings, "the synthetic project has planted problems"
    assert parallel.findings == serial.findings
    assert parallel.internal_errors == serial.internal_errors == []
    # A child that dies after taking modules: the parent walks them again.
    real_walk_front = engine._walk_front
    marker = root.parent / "child-died"
    def dying_walk_front(shared, modules, *rest):
        for index in shared.take_front():
            if index == 5:
                marker.write_text("after taking modules 0 to 5")
                raise RuntimeError("child dies")
    engine._walk_front = dying_walk_front
    rescued = engine.review_paths([root], config, root=root)
    engine._walk_front = real_walk_front
    assert marker.exists(), "the child took modules, then died"
    assert rescued.findings == serial.findings
    assert rescued.internal_errors == []
    # No writable temporary folder for the shared counters (a read-only container): the
    # review walks every module itself instead of failing.
    import tempfile
    real_mkstemp = tempfile.mkstemp
    def no_temp(*args, **kwargs):
        raise FileNotFoundError("No usable temporary directory found")
    tempfile.mkstemp = no_temp
    forks = len(calls)
    alone = engine.review_paths([root], config, root=root)
    tempfile.mkstemp = real_mkstemp
    assert len(calls) == forks, "no child without the counters"
    assert alone.findings == serial.findings and alone.internal_errors == []
    # Cold and warm through the review cache: the same findings and code frames again.
    cold = engine.review_paths([root], config, root=root, use_cache=True)
    forking.start = real_start
    def no_review(*args, **kwargs):
        raise AssertionError("a warm run of an unchanged tree reviews nothing")
    engine.review_files = no_review
    warm = engine.review_paths([root], config, root=root, use_cache=True)
    assert cold.findings == warm.findings == serial.findings
    assert cold.sources == warm.sources == serial.sources
    assert warm.files_checked == serial.files_checked
    print("identical", len(serial.findings))
    """
)


def test_parallel_and_serial_reviews_are_identical(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "bench" / "review_throughput.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("identical ")
    assert proc.stderr == ""


def test_no_fork_in_a_threaded_process() -> None:
    # pytest-xdist workers (and servers embedding the reviewer) run threads.
    import threading

    from fastapi_architect.review import forking

    event = threading.Event()
    thread = threading.Thread(target=event.wait)
    thread.start()
    try:
        assert not forking.can_fork()
        assert forking.start(lambda: 1) is None
    finally:
        event.set()
        thread.join()


def test_shared_range_gives_every_index_to_one_side() -> None:
    from fastapi_architect.review.forking import SharedRange

    alone = SharedRange(4)
    assert list(alone.take_front()) == [0, 1, 2, 3]
    assert list(alone.take_back()) == []  # the child took everything

    for size in (0, 1, 2, 7):
        for child_steps in range(size + 2):
            shared = SharedRange(size)
            front = shared.take_front()
            child = [i for _, i in zip(range(child_steps), front, strict=False)]
            parent = list(shared.take_back())
            child += list(front)  # the child goes on after the parent stopped
            assert sorted(child + parent) == list(range(size)), (size, child_steps)
            assert parent == sorted(parent, reverse=True)
            if parent:
                assert shared.back == parent[-1]
            assert shared.front == (max(child) + 1 if child else 0)


def _run_forking_script(body: str) -> str:
    # In a fresh interpreter: the pytest worker runs threads, where forking is refused.
    script = "from fastapi_architect.review import forking\n" + textwrap.dedent(body)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_shared_range_counters_cross_the_fork_both_ways() -> None:
    out = _run_forking_script(
        """
        import itertools, os

        # The child's front reaches the parent: it takes 500 and exits, the parent the rest.
        shared = forking.SharedRange(2_000)
        work = forking.start(lambda: list(itertools.islice(shared.take_front(), 500)))
        assert work is not None
        assert work.result() == list(range(500))
        assert list(shared.take_back()) == list(range(1_999, 499, -1))

        # The parent's back reaches the child: the child waits until the parent took 700.
        shared = forking.SharedRange(2_000)
        go, signal = os.pipe()
        def child():
            os.read(go, 1)
            return list(shared.take_front())
        work = forking.start(child)
        assert work is not None
        parent = list(itertools.islice(shared.take_back(), 700))
        os.write(signal, b"x")
        assert work.result() == list(range(1_300))
        assert parent == list(range(1_999, 1_299, -1))
        print("ok")
        """
    )
    assert out.split() == ["ok"]


def test_shared_range_across_a_fork() -> None:
    out = _run_forking_script(
        """
        shared = forking.SharedRange(20_000)
        work = forking.start(lambda: list(shared.take_front()))
        assert work is not None
        parent = list(shared.take_back())
        child = work.result()
        assert child == sorted(child) and parent == sorted(parent, reverse=True)
        assert set(child) | set(parent) == set(range(20_000))
        # Each side publishes before it takes and reads the other's counter through the
        # kernel, so in sequential order only the meeting index can be taken by both;
        # one more is allowed for x86 letting a read pass the same process's write.
        # (Counters in a memory mapping once gave 7,035 here, under load in a VM.)
        twice = len(set(child) & set(parent))
        assert twice <= 2, twice
        print(len(child), len(parent))
        """
    )
    child, parent = map(int, out.split())
    assert 20_000 <= child + parent <= 20_002
