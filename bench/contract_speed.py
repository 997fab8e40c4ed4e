#!/usr/bin/env python3
"""Contract diff speed: how long `contract diff` takes compared with `json.load` of the inputs.

Two pairs, each measured in the same run against its own floor:

1. **Real**: GitHub Enterprise Server 3.18 -> 3.19 from the npm package `@octokit/openapi`
   (`generated/ghes-3.18.json` and `ghes-3.19.json`, OpenAPI 3.0.3, about 11 MB and 1,000
   operations each, with `$ref`s). The script fetches the package with `npm pack` into a
   temporary folder (or `--cache DIR`, reused on the next run) and extracts only those two
   files; nothing is installed into the project. `--base FILE --revision FILE` skips npm.
2. **Synthetic**: a 2,000-operation OpenAPI 3.1 document with deep `$ref` recursion (long
   chains, cycles, recursive trees, `allOf`/`oneOf` of refs) and a mutated revision, made by
   bench/contract_synthetic.py and written to a temporary folder as JSON.

For each pair, runs alternate (floor, diff, floor, diff, ...) so both meet the same load of
the machine, and the best of `--repeat` (default 3) of each is kept:

- **floor**: `json.load` of both files;
- **diff**: the whole command's work through the public API, without printing a report:
  `load_document` of both files (read, decode, parse, validate) + `diff_documents`.
  The two parts are also shown separately.

The ratio diff / floor is the headline figure (goal: at most 3x on the real pair).

**Peak memory** is `VmHWM` (the peak resident set) of a fresh child process that loads both
documents and diffs them once, read from /proc/self/status at the end of the child. It is
not `ru_maxrss`: on Linux that is carried over from the parent through fork/vfork + exec,
so a child of a big parent would report the parent's size (it is the fallback where there
is no /proc, e.g. macOS). A second child that only `json.load`s both files gives the floor
for memory too. The children run first, with a `--timeout`; a pair whose child fails or
times out is not timed in this process. `--no-memory` skips them. Goal: under 1 GB.
The measuring processes run under an address-space cap (`--memory-limit`, default 4 GB), so
a differ whose output explodes on the recursive synthetic pair fails with MemoryError
instead of taking the machine down.

    python bench/contract_speed.py                             # npm pack, both pairs
    python bench/contract_speed.py --cache /tmp/octokit        # keep the download for reuse
    python bench/contract_speed.py --base A.json --revision B.json --no-synthetic
    python bench/contract_speed.py --no-real --operations 5000 --profile

It prints tables and never asserts: the figures are for reading. Exit 2 only when the real
pair cannot be obtained (npm missing or failing, file not in the package).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import platform
import pstats
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PACKAGE = "@octokit/openapi"
# The newest version when this was written; it ships ghes-3.17 to ghes-3.19.
PACKAGE_VERSION = "23.0.2"
DEFAULT_PAIR = ("ghes-3.18", "ghes-3.19")
RATIO_GOAL = 3.0
MEMORY_GOAL_MB = 1024.0
SYNTHETIC_GOAL_SECONDS = 10.0  # "must finish in seconds"
DEFAULT_OPERATIONS = 2000


class BenchError(Exception):
    """The real pair cannot be obtained; the message says why and what to do."""


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------


def fetch_pair(cache: Path, version: str, names: tuple[str, str], deref: bool) -> tuple[Path, Path]:
    """The two files from the npm package, fetched into `cache` unless already there."""
    suffix = ".deref.json" if deref else ".json"
    folder = cache / f"octokit-openapi-{version}"
    targets = tuple(folder / f"{name}{suffix}" for name in names)
    if all(t.is_file() for t in targets):
        return targets[0], targets[1]
    npm = shutil.which("npm")
    if npm is None:
        raise BenchError("npm is not installed; pass --base FILE --revision FILE instead")
    folder.mkdir(parents=True, exist_ok=True)
    spec = f"{PACKAGE}@{version}"
    print(f"fetching {spec} with npm pack into {folder} ...", file=sys.stderr)
    start = time.perf_counter()
    # cwd=folder: npm must not read or write anything of the project.
    proc = subprocess.run(
        [npm, "pack", spec, "--json", "--pack-destination", str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(f"npm pack {spec} failed:\n{proc.stderr.strip()[-2000:]}")
    try:
        tarball = folder / json.loads(proc.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        raise BenchError(f"npm pack {spec}: unexpected output {proc.stdout[:500]!r}") from None
    wanted = {f"package/generated/{t.name}": t for t in targets}
    available: list[str] = []
    # Only the two members are written: the whole package unpacks to ~400 MB.
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            if member.name.startswith("package/generated/"):
                available.append(member.name.rsplit("/", 1)[1])
            target = wanted.get(member.name)
            source = archive.extractfile(member) if target is not None else None
            if target is not None and source is not None:
                target.write_bytes(source.read())
    tarball.unlink()
    missing = [t.name for t in targets if not t.is_file()]
    if missing:
        near = ", ".join(sorted(n for n in available if n.startswith("ghes-"))[-6:])
        raise BenchError(f"{spec} has no {', '.join(missing)} (it has e.g. {near})")
    print(f"  fetched in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return targets[0], targets[1]


def synthetic_module() -> ModuleType:
    # bench/ is not a package; this works when run as a script and when imported by path.
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    import contract_synthetic

    return contract_synthetic


def write_synthetic(folder: Path, operations: int) -> tuple[Path, Path, dict[str, Any]]:
    synth = synthetic_module()
    start = time.perf_counter()
    base = synth.synthetic_document(operations)
    revision, mutations = synth.mutate(base)
    generated = time.perf_counter() - start
    paths = folder / "synthetic-base.json", folder / "synthetic-revision.json"
    for path, data in zip(paths, (base, revision), strict=True):
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    info = {
        "generate_seconds": round(generated, 3),
        "schemas": len(base["components"]["schemas"]),
        "mutations": mutations,
    }
    return paths[0], paths[1], info


def count_operations(data: Any) -> int:
    from fastapi_architect.contract.document import HTTP_METHODS

    paths = (data.get("paths") if isinstance(data, dict) else None) or {}
    return sum(
        1
        for item in paths.values()
        if isinstance(item, dict)
        for method in HTTP_METHODS
        if isinstance(item.get(method), dict)
    )


# ---------------------------------------------------------------------------------------
# What is measured
# ---------------------------------------------------------------------------------------


def json_floor(base: Path, revision: Path) -> tuple[Any, Any]:
    with base.open(encoding="utf-8") as a, revision.open(encoding="utf-8") as b:
        return json.load(a), json.load(b)


@dataclass
class DiffRun:
    load_seconds: float
    diff_seconds: float
    changes: list[Any]


def whole_diff(base: Path, revision: Path) -> DiffRun:
    from fastapi_architect.contract import diff_documents, load_document

    start = time.perf_counter()
    old, new = load_document(str(base)), load_document(str(revision))
    loaded = time.perf_counter()
    changes = diff_documents(old, new)
    return DiffRun(loaded - start, time.perf_counter() - loaded, changes)


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space (inherited by its children), so that a differ that
    blows up raises MemoryError instead of taking the machine down. 0 means no cap. Set after
    npm has run: node reserves far more address space than it uses."""
    if megabytes <= 0:
        return
    try:
        import resource
    except ImportError:  # Windows
        return
    cap = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (see the module doc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux, bytes on macOS.
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


def child(mode: str, base: Path, revision: Path) -> None:
    """One measurement in this fresh process; prints its figures as one JSON line."""
    import fastapi_architect.contract  # noqa: F401  (import cost is not the diff's)

    before = peak_rss_mb()
    start = time.perf_counter()
    figures: dict[str, Any] = {}
    if mode == "diff":
        run = whole_diff(base, revision)
        figures["changes"] = len(run.changes)
    else:
        json_floor(base, revision)
    figures["seconds"] = round(time.perf_counter() - start, 3)
    figures["peak_mb"] = round(peak_rss_mb(), 1)
    figures["before_mb"] = round(before, 1)
    print(json.dumps(figures))


def measure_memory(mode: str, base: Path, revision: Path, timeout: float) -> dict[str, Any]:
    """Figures of a child run, or `{"error": ...}` when it failed or timed out."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, str(base), str(revision)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()
        print(f"{mode} child failed ({proc.returncode}):\n{proc.stderr[-3000:]}", file=sys.stderr)
        return {"error": tail[-1] if tail else f"exit {proc.returncode}"}
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


@dataclass
class Timing:
    """Wall-clock (`perf_counter`) and CPU (`process_time`) seconds of each run."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.wall)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)


def timed(timing: Timing, label: str, action: Callable[[], Any]) -> Any:
    gc.collect()
    cpu_start = time.process_time()
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    timing.wall.append(elapsed)
    timing.cpu.append(cpu)
    print(f"  {label}: {elapsed:.3f} s (cpu {cpu:.3f} s)", file=sys.stderr)
    return result


def measure_pair(
    label: str, base: Path, revision: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Every figure of one pair (see the module doc)."""
    sizes = [p.stat().st_size for p in (base, revision)]
    figures: dict[str, Any] = {
        "pair": label,
        "base": str(base),
        "revision": str(revision),
        "megabytes": [round(s / 1e6, 2) for s in sizes],
        "repeat": args.repeat,
    }
    print(
        f"{label}: {base.name} ({sizes[0] / 1e6:.1f} MB) -> {revision.name} "
        f"({sizes[1] / 1e6:.1f} MB)",
        file=sys.stderr,
    )
    if not args.no_memory:
        # Memory first: a failing or hanging differ shows up here, under a timeout.
        figures["memory_floor"] = measure_memory("load", base, revision, args.timeout)
        figures["memory_diff"] = measure_memory("diff", base, revision, args.timeout)
        if "error" in figures["memory_diff"]:
            figures["error"] = figures["memory_diff"]["error"]
            return figures

    floor, total = Timing(), Timing()
    parts: list[tuple[float, float]] = []  # (load_document x2, diff_documents) per run
    run: DiffRun | None = None
    for i in range(args.repeat):
        documents = timed(
            floor, f"json.load run {i + 1}/{args.repeat}", partial(json_floor, base, revision)
        )
        operations = [count_operations(d) for d in documents]
        del documents
        run = None
        try:
            run = timed(
                total, f"diff run {i + 1}/{args.repeat}", partial(whole_diff, base, revision)
            )
        except Exception as exc:  # a crashing differ is a figure too
            traceback.print_exc()
            figures["error"] = f"{type(exc).__name__}: {exc}"
            return figures
        parts.append((run.load_seconds, run.diff_seconds))
    assert run is not None  # repeat >= 1

    best = total.wall.index(total.best)
    levels = Counter(change.level.label for change in run.changes)
    ids = Counter(change.id for change in run.changes)
    figures.update(
        {
            "operations": operations,
            "floor_seconds": round(floor.best, 4),
            "diff_seconds": round(total.best, 4),
            "ratio": round(total.best / floor.best, 3) if floor.best else None,
            # the split of the best run, so that the parts add up to its total
            "load_part_seconds": round(parts[best][0], 4),
            "diff_part_seconds": round(parts[best][1], 4),
            "floor_cpu_seconds": round(floor.best_cpu, 4),
            "diff_cpu_seconds": round(total.best_cpu, 4),
            "cpu_ratio": round(total.best_cpu / floor.best_cpu, 3) if floor.best_cpu else None,
            "changes": len(run.changes),
            "levels": {level: levels.get(level, 0) for level in ("error", "warning", "info")},
            "breaking": any(change.breaking for change in run.changes),
            "ids": dict(ids.most_common()),
            "floor_runs": [round(t, 4) for t in floor.wall],
            "diff_runs": [round(t, 4) for t in total.wall],
        }
    )
    return figures


def profile_diff(base: Path, revision: Path, top: int = 30) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    whole_diff(base, revision)
    profiler.disable()
    print(f"\nProfile of one load + diff of {base.name} -> {revision.name} (top {top}):")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("  (goal met)" if ok else "  (goal MISSED)")


def print_pair(
    figures: dict[str, Any], *, ratio_goal: float | None, seconds_goal: float | None
) -> None:
    n = figures["repeat"]
    memory = figures.get("memory_diff") or {}
    floor_memory = figures.get("memory_floor") or {}
    peak = memory.get("peak_mb")
    print()
    print(f"Contract diff speed: {figures['pair']}")
    if "error" in figures:
        print(f"  FAILED: {figures['error']}")
        return
    ratio = figures["ratio"]
    seconds_ok = None if seconds_goal is None else figures["diff_seconds"] <= seconds_goal
    levels = figures["levels"]
    rows = [
        ("MB (base, revision)", " / ".join(f"{m:.1f}" for m in figures["megabytes"])),
        ("operations (base, revision)", " / ".join(f"{o:,}" for o in figures["operations"])),
        (f"json.load both, s (best of {n})", _fmt(figures["floor_seconds"], ".3f")),
        (
            f"whole diff, s (best of {n})",
            _fmt(figures["diff_seconds"], ".3f") + _verdict(seconds_ok),
        ),
        ("  of which load_document x2, s", _fmt(figures["load_part_seconds"], ".3f")),
        ("  of which diff_documents, s", _fmt(figures["diff_part_seconds"], ".3f")),
        (
            "ratio diff / json.load",
            _fmt(ratio, ".2f", "x")
            + _verdict(None if ratio is None or ratio_goal is None else ratio <= ratio_goal),
        ),
        ("ratio by CPU time", _fmt(figures["cpu_ratio"], ".2f", "x")),
        (
            "peak MB, diff process (VmHWM)",
            _fmt(peak, ".1f") + _verdict(None if peak is None else peak < MEMORY_GOAL_MB),
        ),
        ("peak MB, json.load process", _fmt(floor_memory.get("peak_mb"), ".1f")),
        ("  of which interpreter + imports", _fmt(memory.get("before_mb"), ".1f")),
        ("changes", f"{figures['changes']:,}"),
        (
            "  error / warning / info",
            f"{levels['error']:,} / {levels['warning']:,} / {levels['info']:,}",
        ),
        ("breaking", "yes" if figures["breaking"] else "no"),
    ]
    width = max(len(k) for k, _ in rows)
    print("-" * (width + 30))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("-" * (width + 30))
    if figures["ids"]:
        print("changes by id (most frequent first):")
        for change_id, count in list(figures["ids"].items())[:15]:
            print(f"  {count:>6,}  {change_id}")
        if len(figures["ids"]) > 15:
            print(f"  ... and {len(figures['ids']) - 15} more ids")


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; best is kept")
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep the npm download in DIR and reuse it (default: a temporary "
        "folder, removed at the end)",
    )
    p.add_argument(
        "--package-version",
        default=PACKAGE_VERSION,
        help=f"version of {PACKAGE} (default %(default)s)",
    )
    p.add_argument(
        "--pair",
        nargs=2,
        default=list(DEFAULT_PAIR),
        metavar=("BASE", "REVISION"),
        help="file names in the package's generated/ folder, without .json (default: %(default)s)",
    )
    p.add_argument(
        "--deref",
        action="store_true",
        help="use the dereferenced variant (*.deref.json, ~65 MB each)",
    )
    p.add_argument("--base", type=Path, default=None, help="measure this file as the base")
    p.add_argument("--revision", type=Path, default=None, help="... against this revision")
    p.add_argument("--no-real", action="store_true", help="skip the real pair")
    p.add_argument("--no-synthetic", action="store_true", help="skip the synthetic pair")
    p.add_argument(
        "--operations",
        type=int,
        default=DEFAULT_OPERATIONS,
        help="operations of the synthetic document (default %(default)s)",
    )
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory children")
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds a memory child may take (default %(default)s)",
    )
    p.add_argument(
        "--memory-limit",
        type=int,
        default=4096,
        metavar="MB",
        help="address-space cap of the measuring processes, 0 for none (default %(default)s)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures to FILE")
    p.add_argument(
        "--profile",
        action="store_true",
        help="profile one load + diff of each pair (top 30 cumulative entries)",
    )
    p.add_argument("--child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.operations < 1:
        p.error("--operations must be at least 1")
    if (args.base is None) != (args.revision is None):
        p.error("--base and --revision go together")
    for path in (args.base, args.revision):
        if path is not None and not path.is_file():
            p.error(f"no such file: {path}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        mode, base, revision = args.child
        child(mode, Path(base), Path(revision))
        return 0

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="contract-speed-") as tmp:
        scratch = Path(tmp)
        if not args.no_real:
            if args.base is not None:
                base, revision = args.base.resolve(), args.revision.resolve()
                label = f"{base.name} -> {revision.name}"
            else:
                cache = args.cache.resolve() if args.cache else scratch / "npm"
                try:
                    base, revision = fetch_pair(
                        cache, args.package_version, tuple(args.pair), args.deref
                    )
                except BenchError as exc:
                    print(f"contract_speed: {exc}", file=sys.stderr)
                    return 2
                label = f"{PACKAGE}@{args.package_version} {args.pair[0]} -> {args.pair[1]}"
            limit_memory(args.memory_limit)
            figures = measure_pair(label, base, revision, args)
            print_pair(figures, ratio_goal=RATIO_GOAL, seconds_goal=None)
            results.append(figures)
            if args.profile and "error" not in figures:
                profile_diff(base, revision)
        if not args.no_synthetic:
            base, revision, info = write_synthetic(scratch, args.operations)
            label = f"synthetic, {args.operations:,} operations, {info['schemas']:,} schemas"
            limit_memory(args.memory_limit)
            figures = measure_pair(label, base, revision, args)
            figures["synthetic"] = info
            print_pair(figures, ratio_goal=None, seconds_goal=SYNTHETIC_GOAL_SECONDS)
            print(f"mutations applied ({len(info['mutations'])}):")
            for line in info["mutations"]:
                print(f"  {line}")
            results.append(figures)
            if args.profile and "error" not in figures:
                profile_diff(base, revision)

    if args.json is not None:
        payload = {
            "pairs": results,
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
