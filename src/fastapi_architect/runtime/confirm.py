"""Static findings confirmed at runtime.

The static review guesses where N+1 queries (FAA401 lazy load in a loop, FAA402
query in a loop) and event-loop blocking (FAA201 blocking HTTP call, FAA208
blocking call in an async path) are; the runtime profiler sees them happen, at a
code location ("app/api/authors.py:57": the innermost frame of the project). A
runtime N+1 entry is matched against FAA401/FAA402 findings only, a blocking step
against FAA201/FAA208 only, and a finding confirms the entry when

1. **line**: the finding is in the same file and its lines (the call or the
   attribute it reports, `line`..`end_line`) hold the runtime line; or
2. **call chain**: the runtime line is in a project function the finding names as
   a step of its call chain: FAA201/FAA208 place the finding at the call in the
   `async def` and name the chain (`signup` -> `notifications.send_welcome` ->
   `time.sleep`), while the watchdog samples the line inside `send_welcome`;
   FAA402 reports a repository call in a loop (`crud.get_book()` runs a query)
   while the statement is issued inside `get_book`; or
3. **loop** (N+1 only): the finding and the runtime line are in the same loop
   (the same outermost `for`, `while` or comprehension of the same function), as
   when a statement spreads over lines or the rule reports another line of the
   loop body. Blocking has no such rule: a blocking call is sampled at its own line.

Every match says which rule matched it, so a reader can weigh a "loop" match
below a "line" one. Functions are found with `ast` in the files of the project
root the runtime locations are relative to.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi_architect.review.finding import Finding

N_PLUS_ONE_CODES = ("FAA401", "FAA402")
BLOCKING_CODES = ("FAA201", "FAA208")
CODES = N_PLUS_ONE_CODES + BLOCKING_CODES

_NAMES = re.compile(r"`([^`]+)`")


class ConfirmError(Exception):
    """The static review could not run (a bad config, an unreadable project)."""


def static_findings(root: Path) -> list[Finding]:
    """The FAA401/FAA402/FAA201/FAA208 findings of the project at `root`.

    Runs the review with the project's own configuration (`[tool.fastapi-architect]`
    in the nearest pyproject.toml), limited to those rules; file paths are relative
    to `root`, as the runtime locations are.
    """
    from fastapi_architect.config import ConfigError, find_config_file, load_config
    from fastapi_architect.review.engine import review_paths
    from fastapi_architect.source.discovery import InputError

    try:
        config = load_config(find_config_file(root)).with_cli(select=list(CODES))
        result = review_paths([root], config, root=root)
    except (ConfigError, InputError, OSError) as exc:
        raise ConfirmError(str(exc)) from exc
    return [finding for finding in result.findings if finding.code in CODES]


def confirm(report: Mapping[str, Any], findings: Sequence[Finding], root: Path) -> dict[str, Any]:
    """A copy of `report` whose N+1 and blocking entries list, in `confirmed_by`, the
    static findings they confirm (an empty list when none)."""
    index = _FunctionIndex(root)
    n_plus_one = [f for f in findings if f.code in N_PLUS_ONE_CODES]
    blocking = [f for f in findings if f.code in BLOCKING_CODES]
    confirmed = copy.deepcopy(dict(report))
    for endpoint in confirmed["endpoints"]:
        for entry in endpoint["n_plus_one"]:
            entry["confirmed_by"] = _confirmations(entry["location"], n_plus_one, index)
        for entry in endpoint["blocking"]:
            entry["confirmed_by"] = _confirmations(entry["location"], blocking, index)
    return confirmed


def _confirmations(
    location: str | None, findings: Iterable[Finding], index: _FunctionIndex
) -> list[dict[str, Any]]:
    if location is None:
        return []
    parsed = parse_location(location)
    if parsed is None:
        return []
    file, line = parsed
    out = []
    for finding in findings:
        how = match(file, line, finding, index)
        if how is not None:
            out.append(
                {
                    "code": finding.code,
                    "location": f"{finding.file}:{finding.line}",
                    "message": finding.message,
                    "match": how,
                }
            )
    order = {"line": 0, "call chain": 1, "loop": 2}
    out.sort(key=lambda found: order[found["match"]])
    return out


def parse_location(location: str) -> tuple[str, int] | None:
    """("app/x.py", 12) from "app/x.py:12"; None for anything else."""
    file, _, line = location.rpartition(":")
    if not file or not line.isdigit():
        return None
    return file, int(line)


def match(file: str, line: int, finding: Finding, index: _FunctionIndex) -> str | None:
    """How `finding` confirms a runtime observation at `file`:`line`, or None."""
    if finding.file == file and finding.line <= line <= max(finding.end_line, finding.line):
        return "line"
    function = index.innermost(file, line)
    if function is not None:
        named = {name.removesuffix("()") for name in _NAMES.findall(finding.message)}
        if named & function.names:
            return "call chain"
        if (
            finding.code in N_PLUS_ONE_CODES
            and finding.file == file
            and index.innermost(file, finding.line) is function
            and any(
                start <= line <= end and start <= finding.line <= end
                for start, end in function.loops
            )
        ):
            return "loop"
    return None


@dataclass(frozen=True)
class _Function:
    start: int  # the first decorator's line, or the `def` line
    end: int
    # how the static review names it in messages: "notifications.send_welcome" (module
    # and qualified name), "BookService.create" (class and method)
    names: frozenset[str]
    # the outermost loops of its body (nested functions left out): (first, last line)
    loops: tuple[tuple[int, int], ...]


class _FunctionIndex:
    """The functions of each project file, parsed once, to place a line in one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[_Function]] = {}

    def innermost(self, file: str, line: int) -> _Function | None:
        inside = [f for f in self._functions(file) if f.start <= line <= f.end]
        return min(inside, key=lambda f: f.end - f.start, default=None)

    def _functions(self, file: str) -> list[_Function]:
        found = self._files.get(file)
        if found is None:
            found = self._files[file] = _parse(self.root / file, file)
        return found


def _parse(path: Path, file: str) -> list[_Function]:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return []
    parts = file.removesuffix(".py").split("/")
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    module = parts[-1]
    found: list[_Function] = []

    def visit(node: ast.AST, qualname: list[str], owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [*qualname, child.name]
                display = {f"{module}.{'.'.join(names)}"}
                if owner is not None:
                    display.add(f"{owner}.{child.name}")
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                found.append(_Function(start, end, frozenset(display), _loops(child)))
                visit(child, names, None)
            elif isinstance(child, ast.ClassDef):
                visit(child, [*qualname, child.name], child.name)
            else:
                visit(child, qualname, owner)

    visit(tree, [], None)
    return found


_LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _loops(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[tuple[int, int], ...]:
    found: list[tuple[int, int]] = []
    todo: list[ast.AST] = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, _LOOPS):
            found.append((node.lineno, node.end_lineno or node.lineno))
        elif not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))
    return tuple(sorted(found))
