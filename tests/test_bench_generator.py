"""The synthetic project of bench/review_throughput.py: deterministic, valid, and reviewable."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from fastapi_architect.config import Config
from fastapi_architect.review.engine import load_model, review_paths

BENCH_SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "review_throughput.py"
TARGET_LINES = 3000


def _load_bench() -> ModuleType:
    # bench/ is not a package: import the script by path.
    spec = importlib.util.spec_from_file_location("bench_review_throughput", BENCH_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_bench()


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*.py"))
    }


@pytest.fixture(scope="module")
def generated(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "project"
    bench.generate(out, TARGET_LINES)
    return out


def test_generation_is_deterministic(
    bench: ModuleType, generated: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    bench.generate(again, TARGET_LINES)
    first, second = _tree(generated), _tree(again)
    assert first, "nothing was generated"
    assert first.keys() == second.keys()
    assert first == second


def test_every_file_parses_and_size_is_near_target(bench: ModuleType, generated: Path) -> None:
    tree = _tree(generated)
    for rel, text in tree.items():
        ast.parse(text, rel)  # raises on a syntax error
    lines = sum(bench.count_lines(text) for text in tree.values())
    assert abs(lines - TARGET_LINES) <= TARGET_LINES * 0.10, lines
    target_modules = TARGET_LINES / bench.LINES_PER_MODULE
    assert abs(len(tree) - target_modules) <= target_modules * 0.10 + 1, len(tree)
    assert "app/main.py" in tree
    assert any(rel.endswith("/router.py") for rel in tree)


def test_generation_stats_match_the_files(bench: ModuleType, tmp_path: Path) -> None:
    stats = bench.generate(tmp_path / "project", TARGET_LINES)
    tree = _tree(tmp_path / "project")
    assert stats.files == len(tree)
    assert stats.lines == sum(bench.count_lines(text) for text in tree.values())


def test_review_of_the_small_tree(generated: Path) -> None:
    result = review_paths([generated], Config(), root=generated)
    assert result.internal_errors == []
    assert result.files_checked == len(_tree(generated))
    model = load_model([generated], Config(), root=generated)
    assert len(model.routes) > 0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc: Linux only")
def test_command_line_measurement_runs_the_real_command(bench: ModuleType) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "bookshop"
    figures = bench.measure_cli(example, 2)
    assert figures is not None
    assert len(figures["runs"]) == 2
    assert figures["seconds"] > 0 and all(run > 0 for run in figures["runs"])
    # A Python process that imported the tool: tens of MB, not the parent's figure; too
    # small a project to fork a child, so both processes are this one.
    assert 20 < figures["peak_mb"] < 500
    assert figures["both_mb"] == figures["peak_mb"]
    assert bench.measure_cli(example / "no-such-folder", 1) is None  # exit 2: reported


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="Linux /proc only")
def test_memory_measurement_counts_the_forked_childs_own_pages(
    bench: ModuleType, tmp_path: Path
) -> None:
    # A project big enough to fork: the child copies the pages it touches, and the
    # figure for both processes says so.
    bench.generate(tmp_path / "synthetic", 40_000)
    figures = bench.measure_memory(tmp_path / "synthetic")
    assert figures is not None
    assert figures["child_own_mb"] > 5
    # Both processes: the review process and more (the figures are rounded apart).
    assert abs(figures["both_mb"] - figures["peak_mb"] - figures["child_own_mb"]) <= 0.1
    assert figures["both_mb"] > figures["peak_mb"] + 5


def test_phases_time_every_part_of_a_review(
    bench: ModuleType, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    phases = bench.measure_phases(generated, 1)
    assert list(phases) == list(bench.PHASES)
    # Every phase ran (no figure compares with another: timings are the bench's to read).
    assert all(seconds > 0 for seconds in phases.values())
    bench.print_phases(phases)
    printed = capsys.readouterr().out
    assert all(f"  {phase} " in printed for phase in bench.PHASES)
    assert "two-core bound" in printed
