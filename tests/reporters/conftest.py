"""Shared inputs of the reporter tests: a small project with routes, and hostile findings."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest

from fastapi_architect.review.finding import Finding, Severity
from fastapi_architect.review.registry import Report, Rule
from fastapi_architect.review.result import ReviewResult

#: What a finding may carry from the reviewed code: markup, quotes, a closing script tag.
PAYLOAD = '</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


def _no_check(*args: object) -> Iterable[Report]:
    return ()


def make_rule(
    code: str,
    name: str,
    severity: Severity,
    *,
    docs_extra: str = "",
    fix_title: str | None = None,
    cwe: tuple[str, ...] = (),
    default_enabled: bool = True,
) -> Rule:
    return Rule(
        code=code,
        name=name,
        summary=f"Summary of `{name}`",
        severity=severity,
        default_enabled=default_enabled,
        scope="node",
        node_types=(ast.Call,),
        check=_no_check,
        docs=(
            f"## What it does\nChecks for {name}.\n\n"
            f"## Why is this bad?\nBecause `{name}` hurts.{docs_extra}\n\n"
            "## Example\n```python\nif a < b:\n    bad()\n```\n\n"
            "## Use instead\n```python\ngood()\n```\n"
        ),
        fix_title=fix_title,
        cwe=cwe,
    )


RULES: dict[str, Rule] = {
    "FAA201": make_rule("FAA201", "blocking-call-in-async", "error", fix_title="Use `await`"),
    "FAA301": make_rule(
        "FAA301",
        "route-without-auth",
        "error",
        cwe=("CWE-306",),
        docs_extra=" Raw <b>html</b> in docs <script>alert(3)</script> is shown as text.",
    ),
    "FAA705": make_rule("FAA705", "route-docs-incomplete", "info"),
}

APP_SOURCE = textwrap.dedent(
    """\
    import time

    from fastapi import Depends, FastAPI
    from fastapi.security import OAuth2PasswordBearer

    app = FastAPI()
    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


    @app.get("/private")
    async def private(token: str = Depends(oauth2_scheme)) -> dict[str, str]:
        time.sleep(1)
        return {"token": token}


    @app.get("/public")
    async def public() -> dict[str, str]:
        x = "</script><b>"
        return {"x": x}
    """
)


def finding(
    code: str,
    file: str,
    line: int,
    column: int,
    end_column: int,
    message: str,
    *,
    end_line: int | None = None,
) -> Finding:
    rule = RULES[code]
    return Finding(
        file=file,
        line=line,
        column=column,
        code=code,
        end_line=line if end_line is None else end_line,
        end_column=end_column,
        name=rule.name,
        message=message,
        severity=rule.severity,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "main.py").write_text(APP_SOURCE, encoding="utf-8")
    return root


@pytest.fixture
def result(project: Path) -> ReviewResult:
    lines = APP_SOURCE.splitlines()
    return ReviewResult(
        root=project,
        findings=[
            finding("FAA301", "main.py", 16, 2, 20, "`public` (GET `/public`) has no auth"),
            finding("FAA201", "main.py", 12, 5, 18, "`time.sleep()` blocks the event loop"),
            finding("FAA705", "main.py", 16, 2, 20, f"`public` docs {PAYLOAD}"),
            # A file name and source line that are hostile too.
            finding("FAA705", 'evil"<i>.py', 1, 1, 4, "about `<tag>` & co"),
        ],
        files_checked=2,
        sources={"main.py": lines, 'evil"<i>.py': [PAYLOAD, "x = 1"]},
    )


@pytest.fixture
def rules() -> dict[str, Rule]:
    """The rule catalog the sample findings come from (not the registry)."""
    return RULES


@pytest.fixture
def payload() -> str:
    return PAYLOAD
