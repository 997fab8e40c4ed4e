"""Module guards (`applies=`) decide which modules a node rule sees; a failing guard or
check is recorded as an internal error, never a crash."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.review.collector import Collector
from fastapi_architect.review.engine import load_model, run_rules
from fastapi_architect.review.registry import Report, Rule


def _rule(check: object, applies: object = None) -> Rule:
    return Rule(
        code="FAA999",
        name="test-rule",
        summary="Test rule",
        severity="info",
        default_enabled=True,
        scope="node",
        node_types=(ast.Call,),
        check=check,  # type: ignore[arg-type]
        docs="## What it does\nx\n## Why is this bad?\ny",
        applies=applies,  # type: ignore[arg-type]
    )


def _project(tmp_path: Path) -> Path:
    (tmp_path / "uses_jwt.py").write_text("import jwt\njwt.decode('t', 'k')\n")
    (tmp_path / "plain.py").write_text("print('hello')\n")
    return tmp_path


def test_guard_limits_the_modules_a_rule_sees(tmp_path: Path) -> None:
    seen: list[str] = []

    def check(node: ast.Call, ctx: object) -> Iterator[Report]:
        seen.append(ctx.module.relpath)  # type: ignore[attr-defined]
        yield Report(node, "call")

    root = _project(tmp_path)
    model = load_model([root], Config(), root=root)
    collector = Collector(Config())
    run_rules(model, [_rule(check, lambda m: m.imports_anything("jwt"))], collector)
    assert set(seen) == {"uses_jwt.py"}
    assert [(f.file, f.line) for f in collector.findings] == [("uses_jwt.py", 2)]


def test_failing_guard_and_check_are_internal_errors(tmp_path: Path) -> None:
    def bad_guard(module: object) -> bool:
        raise ValueError("guard broke")

    def bad_check(node: ast.Call, ctx: object) -> Iterator[Report]:
        raise KeyError("check broke")

    root = _project(tmp_path)
    model = load_model([root], Config(), root=root)
    collector = Collector(Config())
    run_rules(model, [_rule(bad_check, bad_guard)], collector)
    assert collector.findings == []
    assert any("guard failed" in e for e in collector.internal_errors)
    collector = Collector(Config())
    run_rules(model, [_rule(bad_check)], collector)
    assert any("check broke" in e for e in collector.internal_errors)
