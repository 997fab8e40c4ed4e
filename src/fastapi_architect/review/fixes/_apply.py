"""Applying the fixes of a review: per file, plan every fix on one libcst tree, render
them together, and keep only what still parses."""

from __future__ import annotations

import difflib
import tokenize
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fixes._base import (
    Edit,
    FixContext,
    Import,
    Plan,
    Replace,
    Skip,
    get_fixer,
)
from fastapi_architect.review.fixes._edit import (
    Names,
    add_import_statement,
    add_to_from_import,
    find_from_import,
    remove_from_import,
)
from fastapi_architect.review.result import ReviewResult
from fastapi_architect.source.compat import parse_python
from fastapi_architect.source.loader import ParseFailure, decode
from fastapi_architect.source.noqa import source_lines


@dataclass
class FixOutcome:
    """What `apply_fixes` did: the unified diff of every changed file (paths relative to
    the review root), the findings fixed, the fixes skipped and why, the files changed."""

    diff: str = ""
    fixed: list[Finding] = field(default_factory=list)
    failed: list[tuple[Finding, str]] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)


def apply_fixes(result: ReviewResult, *, unsafe: bool, write: bool) -> FixOutcome:
    """Fix the findings of `result` that have a fixer: the safe ones, and the unsafe ones
    too when `unsafe`. With `write=False` nothing is written (the diff says what would
    change). A fix whose result would not parse is skipped and reported in `failed`."""
    by_code: dict[str, list[Finding]] = {}
    for finding in sorted(result.findings):
        found = get_fixer(finding.code)
        if found is None or (found.safety == "unsafe" and not unsafe):
            continue
        by_code.setdefault(found.code, []).append(finding)
    outcome = FixOutcome()
    by_file: dict[str, list[Finding]] = {}
    for code, findings in sorted(by_code.items()):
        check = get_fixer(code)
        veto = check.precheck(findings) if check and check.precheck else None
        if veto is not None:
            outcome.failed.extend((f, veto) for f in findings)
            continue
        for finding in findings:
            by_file.setdefault(finding.file, []).append(finding)
    diffs: list[str] = []
    for relpath in sorted(by_file):
        findings = by_file[relpath]
        path = result.root / relpath
        fixed, failed, before, after = _fix_file(path, relpath, findings, result.sources)
        outcome.fixed.extend(fixed)
        outcome.failed.extend(failed)
        if after is None or after == before.text:
            continue
        diffs.append(_diff(relpath, before.text, after))
        outcome.files_changed.append(relpath)
        if write:
            try:
                path.write_bytes(after.encode(before.encoding))
            except (OSError, UnicodeEncodeError) as exc:
                outcome.fixed = [f for f in outcome.fixed if f not in fixed]
                outcome.failed.extend((f, f"cannot write the file: {exc}") for f in fixed)
                outcome.files_changed.pop()
                diffs.pop()
    outcome.diff = "".join(diffs)
    outcome.fixed.sort()
    outcome.failed.sort()
    return outcome


@dataclass(frozen=True)
class _Original:
    text: str
    encoding: str


def _fix_file(
    path: Path, relpath: str, findings: list[Finding], sources: dict[str, list[str]]
) -> tuple[list[Finding], list[tuple[Finding, str]], _Original, str | None]:
    original = _Original("", "utf-8")

    def fail(reason: str) -> tuple[list[Finding], list[tuple[Finding, str]], _Original, None]:
        return [], [(f, reason) for f in findings], original, None

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return fail(f"cannot read the file: {exc.strerror or exc}")
    text = decode(raw)
    if isinstance(text, ParseFailure):
        return fail(text.message)
    original = _Original(text, _encoding(raw))
    if relpath in sources and sources[relpath] != source_lines(text):
        return fail("the file changed since it was reviewed")
    try:
        ctx = FixContext(cst.parse_module(text), text)
    except Exception as exc:  # libcst's ParserSyntaxError, or its recursion limits
        return fail(f"libcst cannot parse the file: {str(exc).splitlines()[0]}")
    plans: list[Plan] = []
    by_code: dict[str, list[Finding]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)
    for code, group in sorted(by_code.items()):
        found = get_fixer(code)
        assert found is not None
        try:
            plans.extend(found.plan(group, ctx))
        except Exception as exc:  # a bug in a fixer must not lose the other fixes
            plans.append(Skip(tuple(group), f"internal error in the {code} fixer: {exc!r}"))
    failed = [(f, p.reason) for p in plans if isinstance(p, Skip) for f in p.findings]
    edits = [p for p in plans if isinstance(p, Edit)]
    accepted: list[Edit] = []
    after: str | None = None
    if edits:
        must_compile = _parses(text, path, must_compile=True)
        together = _try_render(ctx, edits)
        if isinstance(together, str) and together != text and _parses(together, path, must_compile):
            accepted, after = edits, together
        else:
            # Find the culprit: add the edits one by one, keeping those that still parse.
            current = text
            for edit in edits:
                candidate = _try_render(ctx, [*accepted, edit])
                if isinstance(candidate, Exception):
                    reason = f"internal error while fixing: {candidate!r}"
                elif candidate == current:
                    reason = "the fix changed nothing"
                elif not _parses(candidate, path, must_compile):
                    reason = "skipped: the fixed file would not parse"
                else:
                    accepted.append(edit)
                    current = after = candidate
                    continue
                failed.extend((f, reason) for f in edit.findings)
    fixed = sorted(f for edit in accepted for f in edit.findings)
    return fixed, sorted(failed), original, after


class _Apply(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, list[Replace]]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode] | cst.RemovalSentinel:
        result: cst.CSTNode | cst.FlattenSentinel[cst.CSTNode] = updated_node
        for how in self.replacements.get(id(original_node), ()):
            if isinstance(result, cst.CSTNode):
                result = how(result)
            else:  # a statement that became several: the next edit applies to each
                result = cst.FlattenSentinel([_single(how(node)) for node in result])
        return result


def _single(
    node: cst.CSTNode | cst.FlattenSentinel[cst.CSTNode],
) -> cst.CSTNode:
    if isinstance(node, cst.CSTNode):
        return node
    raise ValueError("two edits both split the same statement")


def _try_render(ctx: FixContext, edits: Sequence[Edit]) -> str | Exception:
    try:
        return _render(ctx, edits)
    except Exception as exc:  # a bug in a fixer's transform
        return exc


def _render(ctx: FixContext, edits: Sequence[Edit]) -> str:
    replacements: dict[int, list[Replace]] = {}
    for edit in edits:
        for node, how in edit.replacements:
            replacements.setdefault(id(node), []).append(how)
    module = ctx.module.visit(_Apply(replacements))
    assert isinstance(module, cst.Module)
    module = _add_imports(module, [i for edit in edits for i in edit.imports])
    unused = [i for edit in edits for i in edit.unused_imports]
    if unused:
        module = _remove_unused(module, unused)
    return module.code


class _Shrink(cst.CSTTransformer):
    def __init__(self, targets: dict[int, list[str]]) -> None:
        super().__init__()
        self.targets = targets

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        for name in self.targets.get(id(original_node), ()):
            updated_node = remove_from_import(updated_node, name)
        return updated_node


def _remove_unused(module: cst.Module, imports: list[Import]) -> cst.Module:
    """Drop `from x import name` when nothing in the module uses `name` any more."""
    used = Names(imports=False)
    module.visit(used)
    targets: dict[int, list[str]] = {}
    for item in dict.fromkeys(imports):
        existing = find_from_import(module, item.module)
        if existing is not None and item.name not in used.names:
            targets.setdefault(id(existing), []).append(item.name)
    if not targets:
        return module
    shrunk = module.visit(_Shrink(targets))
    assert isinstance(shrunk, cst.Module)
    return shrunk


class _Extend(cst.CSTTransformer):
    """Adds names to existing `from x import ...` statements."""

    def __init__(self, targets: dict[int, list[str]]) -> None:
        super().__init__()
        self.targets = targets

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        for name in self.targets.get(id(original_node), ()):
            updated_node = add_to_from_import(updated_node, name)
        return updated_node


def _add_imports(module: cst.Module, imports: list[Import]) -> cst.Module:
    """Add the missing imports: to the module's `from x import ...` when it has one (at
    the sorted place), else as a new statement after the module's imports."""
    extend: dict[int, list[str]] = {}
    context = CodemodContext()
    added = False
    new: list[Import] = []
    for item in dict.fromkeys(imports):
        existing = find_from_import(module, item.module)
        if existing is not None:
            extend.setdefault(id(existing), []).append(item.name)
        else:
            new.append(item)
    if extend:
        extended = module.visit(_Extend(extend))
        assert isinstance(extended, cst.Module)
        module = extended
    for item in new:
        placed = add_import_statement(module, item)
        if placed is not None:
            module = placed
        else:
            AddImportsVisitor.add_needed_import(context, item.module, item.name)
            added = True
    if added:
        module = AddImportsVisitor(context).transform_module(module)
    return module


def _parses(text: str, path: Path, must_compile: bool) -> bool:
    """The fixed text parses, and compiles when the original did (so that `await` outside
    `async def` and the like are caught too; newer syntax that `parse_python` reads
    through libcst may not compile on this interpreter)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parse_python(text, str(path))
            if must_compile:
                compile(text, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _encoding(raw: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(iter(raw.splitlines(keepends=True)).__next__)
    except SyntaxError:
        return "utf-8"
    return encoding


def _diff(relpath: str, before: str, after: str) -> str:
    old = source_lines(before, keepends=True)
    new = source_lines(after, keepends=True)
    for lines in (old, new):
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n\\ No newline at end of file\n"
    return "".join(difflib.unified_diff(old, new, fromfile=relpath, tofile=relpath))
