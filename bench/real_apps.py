#!/usr/bin/env python3
"""Review real, third-party FastAPI servers shipped in PyPI wheels: lines, findings per rule.

For each application below, the wheel is downloaded once (`pip download --no-deps`, into
`--cache`, outside the project), extracted, and its server package reviewed with every
default rule, in this process, through the public API. Printed per application: files,
lines, seconds, findings per rule; `--json FILE` also writes every finding (code, file,
line, message and the source line) for the hand check of precision, and `--sample N`
prints N findings per application, spread over the rules, with their source line.

    python bench/real_apps.py --cache /tmp/real-apps
    python bench/real_apps.py --cache /tmp/real-apps --only chromadb --sample 30
    python bench/real_apps.py --cache /tmp/real-apps --sample 30 --seed 8 --skip round7.txt
    python bench/real_apps.py --cache /tmp/real-apps --json /tmp/real-apps/findings.json

The versions are pinned so that a rerun reviews the same code. Nothing here asserts:
precision is judged by reading the findings (docs: bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths


@dataclass(frozen=True)
class App:
    name: str  # a short label
    requirement: str  # pip requirement, pinned
    server: str  # the server package inside the wheel, reviewed as the project


APPS = (
    App("chromadb", "chromadb==1.5.9", "chromadb/server"),
    App("gradio", "gradio==6.31.0", "gradio"),
    App("prefect", "prefect==3.9.1", "prefect/server"),
    App("airflow", "apache-airflow-core==3.3.2", "airflow/api_fastapi"),
    App("open-webui", "open-webui==0.12.4", "open_webui"),
    App("dstack", "dstack==0.22.5", "dstack/_internal/server"),
    App("zenml", "zenml==0.98.0", "zenml/zen_server"),
    App("phoenix", "arize-phoenix==20.26.1", "phoenix/server"),
    # The whole package: its app, routers, services and components (the largest trees).
    App("langflow", "langflow-base==1.13.0", "langflow"),
    App("skypilot", "skypilot==0.14.1", "sky"),
    App("argilla", "argilla-server==2.8.0", "argilla_server"),
    App("lnbits", "lnbits==1.6.2", "lnbits"),
    App("khoj", "khoj==1.42.10", "khoj"),
)


def fetch(app: App, cache: Path) -> Path:
    """The extracted wheel of `app` under `cache` (downloaded and extracted once)."""
    target = cache / app.name
    done = target / ".extracted"
    if done.exists():
        return target
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    before = set(wheels.glob("*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(wheels),
            app.requirement,
        ],
        check=True,
    )
    distribution = app.requirement.split("==")[0].replace("-", "_").lower()
    candidates = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(distribution)]
    wheel = max(
        candidates or list(set(wheels.glob("*.whl")) - before), key=lambda w: w.stat().st_mtime
    )
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    done.touch()
    return target


def review_app(app: App, cache: Path) -> dict[str, Any]:
    root = fetch(app, cache) / app.server
    started = time.perf_counter()
    result = review_paths([root], Config(), root=root)
    seconds = time.perf_counter() - started
    files = sorted(root.rglob("*.py"))
    lines = sum(len(f.read_bytes().splitlines()) for f in files)
    findings = []
    for f in result.findings:
        source = (root / f.file).read_text(encoding="utf-8", errors="replace").splitlines()
        text = source[f.line - 1].strip() if 0 < f.line <= len(source) else ""
        findings.append(
            {"code": f.code, "file": f.file, "line": f.line, "message": f.message, "source": text}
        )
    return {
        "app": app.name,
        "requirement": app.requirement,
        "server": app.server,
        "files": len(files),
        "lines": lines,
        "seconds": round(seconds, 2),
        "per_rule": dict(sorted(Counter(f["code"] for f in findings).items())),
        "internal_errors": result.internal_errors,
        "findings": findings,
    }


def sample(
    findings: list[dict[str, Any]],
    count: int,
    seed: int | None = None,
    skip: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Up to `count` findings, taken round-robin over the rules so that each is seen:
    the first ones of each rule, or with `seed` a random draw within each rule (a fresh
    sample for each precision round, so that earlier fixes do not bias it). Findings
    whose `CODE file:line` is in `skip` (judged in an earlier round) are left out."""
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        if _label(finding) not in skip:
            by_rule.setdefault(finding["code"], []).append(finding)
    if seed is not None:
        rng = random.Random(seed)
        for group in by_rule.values():
            rng.shuffle(group)
    picked: list[dict[str, Any]] = []
    while len(picked) < count and any(by_rule.values()):
        for code in sorted(by_rule):
            if by_rule[code] and len(picked) < count:
                picked.append(by_rule[code].pop(0))
    return picked


def _label(finding: dict[str, Any]) -> str:
    return f"{finding['code']} {finding['file']}:{finding['line']}"


def judged(paths: list[Path]) -> frozenset[str]:
    """The `CODE file:line` of every finding listed in earlier `--sample` outputs."""
    found: set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"  (FAA\d{3} \S+:\d+) ", line)
            if match:
                found.add(match.group(1))
    return frozenset(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="where wheels are kept")
    parser.add_argument("--only", action="append", help="review only this app (repeatable)")
    parser.add_argument("--sample", type=int, default=0, help="print N findings per app")
    parser.add_argument("--json", type=Path, help="write every finding to FILE")
    parser.add_argument(
        "--seed", type=int, default=None, help="draw the sample at random, with this seed"
    )
    parser.add_argument(
        "--skip",
        type=Path,
        action="append",
        default=[],
        help="leave out of the sample the findings an earlier --sample output lists (repeatable)",
    )
    args = parser.parse_args()
    skip = judged(args.skip)
    apps = [a for a in APPS if not args.only or a.name in args.only]
    reports = []
    for app in apps:
        report = review_app(app, args.cache.resolve())
        reports.append(report)
        rules = ", ".join(f"{code} {n}" for code, n in report["per_rule"].items()) or "none"
        print(
            f"{app.name:<11} {app.requirement:<28} {report['files']:>5} files "
            f"{report['lines']:>7} lines {report['seconds']:>6.1f} s "
            f"{len(report['findings']):>4} findings: {rules}"
        )
        for error in report["internal_errors"]:
            print(f"  internal error: {error}")
        for finding in sample(report["findings"], args.sample, args.seed, skip):
            print(f"  {finding['code']} {finding['file']}:{finding['line']} {finding['message']}")
            print(f"      {finding['source']}")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
