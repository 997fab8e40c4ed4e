"""The review run: discover → parse once → model → one walk per file → findings."""

from __future__ import annotations

import ast
import contextlib
import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path

from fastapi_architect.config import Config
from fastapi_architect.model.astutil import CHILD_FIELDS, CHILDLESS, child_fields
from fastapi_architect.model.build import AppModel, build_model
from fastapi_architect.model.inventory import inventory
from fastapi_architect.model.project import Module
from fastapi_architect.review import cache, forking
from fastapi_architect.review.collector import Collector
from fastapi_architect.review.context import FileContext, ProjectContext
from fastapi_architect.review.finding import Finding
from fastapi_architect.review.registry import Report, Rule, get_rule
from fastapi_architect.review.result import ReviewResult
from fastapi_architect.review.selection import enabled_rules
from fastapi_architect.source.discovery import discover
from fastapi_architect.source.loader import ParseFailure, SourceFile, load
from fastapi_architect.source.noqa import source_lines

PARSE_ERROR = "FAA000"

Progress = Callable[[int, int, str], None]
"""`(done, total, what)`: called once per file parsed, then before the model is built and
before the rules run; `total` is the number of files plus those two steps."""


def review_paths(
    paths: Sequence[Path],
    config: Config,
    root: Path | None = None,
    progress: Progress | None = None,
    use_cache: bool = False,
    routes: bool = False,
) -> ReviewResult:
    """Review every Python file under `paths`. `root` (default: the first path, or its
    folder for a file) is where module names and reported file paths start. With
    `use_cache`, an unchanged tree is answered from the review cache (`review.cache`),
    which keeps no routes. With `routes`, a review that runs keeps the route inventory of
    its model in `ReviewResult.routes`."""
    files = discover(paths, config.excludes)
    base = root or _default_root(paths)
    if not use_cache:
        return review_files(files, base, config, progress, routes=routes)
    base = base.resolve()
    codes = [rule.code for rule in enabled_rules(config)]
    stamps = cache.file_stamps(base, files, config)
    key = cache.compute_key(base, files, config, codes)
    found = cache.load(base, key)
    if found is not None:
        return found
    result = review_files(files, base, config, progress, routes=routes)
    # A file edited while the key was read or the review ran: the result matches neither
    # version, keep none. (Stamps, not a second read and hash of every file.)
    if cache.file_stamps(base, files, config) == stamps:
        cache.store(base, key, result)
    return result


def _default_root(paths: Sequence[Path]) -> Path:
    """The folder the given paths have in common (a file stands for its folder)."""
    if not paths:
        return Path.cwd()
    folders = [p if p.is_dir() else p.parent for p in (Path(q).resolve() for q in paths)]
    return Path(os.path.commonpath(folders))


def load_model(paths: Sequence[Path], config: Config, root: Path | None = None) -> AppModel:
    """The static app model of the files under `paths` (files that fail to parse are left out)."""
    files = discover(paths, config.excludes)
    base = (root or _default_root(paths)).resolve()
    with _few_collections():
        return _load(files, base, config)[0]


def _load(
    files: Iterable[Path], root: Path, config: Config, progress: Progress | None = None
) -> tuple[AppModel, list[ParseFailure]]:
    """Parse every file once and build the model; the files that failed, to report."""
    loaded: list[SourceFile] = []
    failures: list[ParseFailure] = []
    paths = list(files)
    total = len(paths) + 2
    for number, path in enumerate(paths, 1):
        result = load(path)
        if isinstance(result, ParseFailure):
            failures.append(result)
        else:
            loaded.append(result)
        if progress is not None:
            progress(number, total, f"parsed {path.name}")
    if progress is not None:
        progress(len(paths), total, "building the app model")
    model = build_model(((f.path, f.text, f.tree) for f in loaded), root, config.auth_dependencies)
    return model, failures


@contextlib.contextmanager
def _few_collections() -> Iterator[bool]:
    """Hold off the cyclic garbage collector while trees are built and analyzed; whether
    it was on (the caller relies on it) is what the block receives.

    A review keeps every syntax tree alive, so each full collection would rescan a heap
    that only grows; the analysis makes almost no cyclic garbage. (mypy does the same.)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield was_enabled
    finally:
        if was_enabled:
            gc.enable()


def review_files(
    files: Iterable[Path],
    root: Path,
    config: Config,
    progress: Progress | None = None,
    *,
    routes: bool = False,
) -> ReviewResult:
    with _few_collections() as collector_on:
        # Where the collector runs (a library caller, the MCP server), the model's cycles
        # are broken at the end so that it is freed at once, not in one long collection.
        # The command line keeps the collector off and exits after the report: it skips that.
        return _review_files(files, root, config, progress, release=collector_on, routes=routes)


def _review_files(
    files: Iterable[Path],
    root: Path,
    config: Config,
    progress: Progress | None,
    *,
    release: bool,
    routes: bool,
) -> ReviewResult:
    rules = enabled_rules(config)
    root = root.resolve()
    collector = Collector(config)
    files = list(files)
    model, failures = _load(files, root, config, progress)
    if progress is not None:
        progress(len(files) + 1, len(files) + 2, "running the rules")
    parse_rule = get_rule(PARSE_ERROR)
    if parse_rule is not None and any(r.code == PARSE_ERROR for r in rules):
        for failure in failures:
            _report_failure(collector, parse_rule, root, failure)
    run_rules(model, rules, collector)
    collector.findings.sort()
    collector.internal_errors.sort()
    result = ReviewResult(
        root=root,
        findings=collector.findings,
        files_checked=len(files),
        sources=_sources(model, collector),
        internal_errors=collector.internal_errors,
        routes=inventory(model) if routes else None,
    )
    if release:
        model.release()
    return result


def _report_failure(collector: Collector, rule: Rule, root: Path, failure: ParseFailure) -> None:
    try:
        relpath = failure.path.relative_to(root).as_posix()
    except ValueError:
        relpath = failure.path.as_posix()
    collector.emit(
        rule,
        relpath,
        "",
        failure.line,
        failure.column,
        failure.line,
        failure.column + 1,
        None,
        message=failure.message,
    )


# Below this many modules a second process costs more than it saves.
PARALLEL_MIN_MODULES = 150


def run_rules(
    model: AppModel,
    rules: list[Rule],
    collector: Collector,
    parallel_min_modules: int | None = None,
) -> None:
    node_rules: dict[type[ast.AST], list[Rule]] = {}
    route_rules: list[Rule] = []
    project_rules: list[Rule] = []
    for rule in rules:
        if rule.scope == "node":
            for node_type in rule.node_types:
                node_rules.setdefault(node_type, []).append(rule)
        elif rule.scope == "route":
            route_rules.append(rule)
        elif rule.code != PARSE_ERROR:
            project_rules.append(rule)

    modules = model.project.module_list if node_rules else []
    threshold = PARALLEL_MIN_MODULES if parallel_min_modules is None else parallel_min_modules
    # A forked child walks the modules from the front while this process runs the route
    # and project rules, then walks them from the back until the two meet.
    shared: forking.SharedRange | None = None
    child = None
    if len(modules) >= threshold and forking.can_fork():
        # Without a writable temporary folder for its counters, every module is walked here.
        with contextlib.suppress(OSError):
            shared = forking.SharedRange(len(modules))
        if shared is not None:
            child = forking.start(
                partial(_walk_front, shared, modules, model, collector.config, node_rules)
            )
    if child is None:
        for module in modules:
            _walk_module(module, model, collector, node_rules)

    pctx = ProjectContext(model, collector.config)
    for route in model.routes:
        for rule in route_rules:
            _run(collector, rule, route.module, partial(rule.check, route, pctx))
    for rule in project_rules:
        _run(collector, rule, None, partial(rule.check, pctx))

    if child is not None and shared is not None:
        for index in shared.take_back():
            _walk_module(modules[index], model, collector, node_rules)
        outcome = child.result()
        if outcome is None:  # the child failed: walk what it had taken (below the back)
            for module in modules[: shared.back]:
                _walk_module(module, model, collector, node_rules)
        else:
            collector.merge(*outcome)


def _walk_front(
    shared: forking.SharedRange,
    modules: list[Module],
    model: AppModel,
    config: Config,
    dispatch: dict[type[ast.AST], list[Rule]],
) -> tuple[list[Finding], list[str]]:
    """The forked child's share: modules from the front, as long as the parent has not
    taken them from the back."""
    collector = Collector(config)
    for index in shared.take_front():
        _walk_module(modules[index], model, collector, dispatch)
    return collector.findings, collector.internal_errors


def _run(
    collector: Collector,
    rule: Rule,
    default_module: Module | None,
    check: Callable[[], Iterable[Report]],
) -> None:
    try:
        for report in check():
            module = report.module or default_module
            if module is None:
                raise ValueError(f"{rule.code} reported without a module")
            collector.add(rule, report, module)
    except Exception as exc:  # a broken rule must not stop the review
        where = default_module.relpath if default_module else "project"
        collector.internal_errors.append(f"{rule.code} failed on {where}: {exc!r}")


def _module_dispatch(
    module: Module, dispatch: dict[type[ast.AST], list[Rule]], collector: Collector
) -> dict[type[ast.AST], list[Rule]]:
    """The node rules whose module guard accepts this module."""
    verdicts: dict[str, bool] = {}
    out: dict[type[ast.AST], list[Rule]] = {}
    for kind, rules in dispatch.items():
        kept = []
        for rule in rules:
            if rule.applies is not None and rule.code not in verdicts:
                try:
                    verdicts[rule.code] = bool(rule.applies(module))
                except Exception as exc:  # a broken guard must not stop the review
                    verdicts[rule.code] = False
                    collector.internal_errors.append(
                        f"{rule.code} guard failed on {module.relpath}: {exc!r}"
                    )
            if verdicts.get(rule.code, True):
                kept.append(rule)
        if kept:
            out[kind] = kept
    return out


def _walk_module(
    module: Module,
    model: AppModel,
    collector: Collector,
    all_dispatch: dict[type[ast.AST], list[Rule]],
) -> None:
    dispatch = _module_dispatch(module, all_dispatch, collector)
    if not dispatch:
        return
    ctx = FileContext(module, model, collector.config)
    stack = ctx.stack
    # Iterative pre-order walk that keeps the ancestor stack, so deeply nested
    # expressions cannot overflow the interpreter stack. This loop runs once per node
    # of the project: it is written for speed (no helper calls per node; the child
    # collection below is `astutil.child_nodes` inlined, as in the model's scope walk).
    todo: list[tuple[ast.AST, int]] = [(child, 0) for child in reversed(module.tree.body)]
    pop, push = todo.pop, todo.append
    handlers_for = dispatch.get
    fields_for = CHILD_FIELDS.get
    node_type = ast.AST
    # Names and literals (about half of all nodes) that no rule asks for are never
    # pushed: they have no children and would only be popped again.
    skip = CHILDLESS - dispatch.keys()
    while todo:
        node, depth = pop()
        kind = type(node)
        handlers = handlers_for(kind)
        if handlers:
            del stack[depth:]
            _dispatch(node, handlers, ctx, collector, module)
        fields = fields_for(kind)
        if fields is None:
            fields = child_fields(kind)
        if not fields:
            continue
        children: list[ast.AST] = []
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type) and type(item) not in skip:
                        children.append(item)
            elif isinstance(value, node_type) and type(value) not in skip:
                children.append(value)
        if children:
            del stack[depth:]
            stack.append(node)
            depth += 1
            for child in reversed(children):
                push((child, depth))


def _dispatch(
    node: ast.AST, handlers: list[Rule], ctx: FileContext, collector: Collector, module: Module
) -> None:
    for rule in handlers:
        try:
            for report in rule.check(node, ctx):
                collector.add(rule, report, report.module or module)
        except Exception as exc:
            line = getattr(node, "lineno", "?")
            collector.internal_errors.append(
                f"{rule.code} failed on {module.relpath}:{line}: {exc!r}"
            )


def _sources(model: AppModel, collector: Collector) -> dict[str, list[str]]:
    """Source lines of the files with findings, for code frames. Files that did not
    parse (FAA000) are read again, leniently: their text was never kept."""
    wanted = {f.file for f in collector.findings}
    out: dict[str, list[str]] = {}
    for module in model.project.module_list:
        if module.relpath in wanted:
            out[module.relpath] = collector.lines(module)
    for relpath in wanted - out.keys():
        path = model.project.root / relpath
        with contextlib.suppress(OSError):
            out[relpath] = source_lines(path.read_text(encoding="utf-8", errors="replace"))
    return out
