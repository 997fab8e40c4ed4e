"""FAA203-FAA207: async correctness beyond HTTP clients and the standard library's
sleeps and subprocesses (FAA201/FAA208). FAA203-FAA205 find synchronous database,
cache and queue drivers, file I/O and password hashing reached from the coroutines a
server runs per request (routes, dependencies, middleware, exception handlers, and every
sync project function they call; work handed to a worker thread is not reached), with
the reachability of `concurrency.py`; each call is reported under one rule only.
FAA206 and FAA207 judge whole routes and dependencies: `async def` code that never
awaits but does real work, and sync dependencies that take a threadpool hop for
nothing."""

from __future__ import annotations

import ast
import builtins
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from fastapi_architect.model.astutil import (
    argument,
    body_nodes,
    const_int,
    const_str,
    dotted,
    parameters,
    walk,
    walk_nodes,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.callgraph import CallSite
from fastapi_architect.model.calls import passed_arguments, receiver_count, spreads
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.types import (
    ANNOTATED,
    OPTIONAL,
    UNION,
    infer_type,
    resolve_callee,
)
from fastapi_architect.review.context import ProjectContext
from fastapi_architect.review.index import nodes_of, project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._callsites import call_sites
from fastapi_architect.review.rules._http import UPLOAD_FILE
from fastapi_architect.review.rules._memo import is_memoized
from fastapi_architect.review.rules.concurrency import (
    THREAD_WRAPPERS,
    TO_THREAD,
    TO_THREAD_METHODS,
    is_blocking_http,
    is_blocking_stdlib,
    non_blocking,
    serving_coroutines,
    sync_project_function,
)

# A sink classifier: the call site, where it is, and the name it calls (its inferred
# dotted name, through attribute chains) -> (what the sink is, advice), or None.
Classifier = Callable[[CallSite, Module, "Function | None", str], "tuple[str, str] | None"]
_Sink = tuple[str, str, str]  # name, what, advice


# ------------------------------------------------------------------ shared machinery


def _call_names(
    module: Module, scope: Function | None, site: CallSite, model: AppModel
) -> list[str]:
    """The names a call can be known by: the call graph's target, and the inferred type
    of the head of an attribute chain followed by the attributes
    (`mongo["shop"].users.find_one` -> `pymongo.MongoClient.users.find_one`)."""
    names: list[str] = []
    if site.target is not None:
        names.append(site.target)
    attrs: list[str] = []
    node: ast.expr = site.node.func
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            attrs.append(node.attr)
        node = node.value
    if attrs and isinstance(node, (ast.Name, ast.Call)):
        head = infer_type(model.project, module, node, scope)
        if head is not None:
            name = ".".join([head, *reversed(attrs)])
            if name not in names:
                names.append(name)
    return names


def _no_sinks(model: AppModel) -> dict[str, dict[int, _Sink]]:
    return {}


def _sinks(model: AppModel, key: str, classify: Classifier) -> dict[int, _Sink]:
    """Every call site of the project that `classify` accepts, by `id(call)`: (the name
    it calls, what it is, advice). Computed once per model and rule."""
    cache = project_index(model, _no_sinks)
    if key in cache:
        return cache[key]
    out: dict[int, _Sink] = {}
    for scope, module, site, names in project_index(model, _candidate_calls):
        for name in names:
            what = classify(site, module, scope, name)
            if what is not None:
                # A sink that does not run per request (a load-once guard, a branch no
                # caller takes) is not one.
                if not _runs_rarely(model, scope, site.node):
                    out[id(site.node)] = (name, *what)
                break
    cache[key] = out
    return out


# Only calls inside functions are candidates (module-level code serves no request).
_Candidate = tuple[Function, Module, CallSite, list[str]]


def _candidate_calls(model: AppModel) -> list[_Candidate]:
    """The calls that may block and the names each is known by, up to the first name
    another rule owns (one call, one rule: HTTP clients and SDKs are FAA201's, the
    standard library's sleeps, subprocesses and sockets FAA208's). Shared by the rules
    that classify them, so the names are inferred once per run. Only the calls of code
    that serves requests are asked (`_serving_reach`): a sink anywhere else is never
    reported, nor on any chain from a serving coroutine."""
    out: list[_Candidate] = []
    reach = _serving_reach(model)
    for scope, module, site in call_sites(model):
        if scope is None or scope.qualname not in reach:
            continue
        if site.awaited or non_blocking(site.node):
            continue
        names: list[str] = []
        for name in _call_names(module, scope, site, model):
            if is_blocking_http(name) or is_blocking_stdlib(name):
                break
            names.append(name)
        if names:
            out.append((scope, module, site, names))
    return out


def _serving_reach(model: AppModel) -> set[str]:
    """The serving coroutines and the sync project functions they reach through calls:
    what `_reached` reports at, and every function a chain from them passes through
    (chains only pass through sync functions, a superset of its `follow` choices)."""
    project = model.project
    calls = model.callgraph.calls
    todo = [fn.qualname for fn in serving_coroutines(model)]
    seen = set(todo)
    while todo:
        for site in calls.get(todo.pop(), ()):
            if site.target is None:
                continue
            for callee in (project.function(site.target), project.functions.get(site.target)):
                if callee is not None and not callee.is_async and callee.qualname not in seen:
                    seen.add(callee.qualname)
                    todo.append(callee.qualname)
    return seen


# Decorators that memoize a function: after the first call (per arguments), a call is a
# dictionary lookup, so the I/O inside runs once per process, not per request.
def _inline_unmemoized(project: Project) -> Callable[[Function], bool]:
    """The functions a blocking chain may pass through: sync project functions that are
    not memoized (a memoized one blocks its first caller only)."""
    return lambda fn: sync_project_function(fn) and not is_memoized(fn, project)


# ------------------------------------------------------------------ calls that run rarely

# A frame of the statements around a call: the block it is in, the index of the
# statement holding it, and the compound statement owning the block with the field the
# block is (None and "body" for the function's own body).
_Frame = tuple[list[ast.stmt], int, ast.stmt | None, str]
_BLOCK_FIELDS = ("body", "orelse", "finalbody")
_SELF = frozenset({"self", "cls"})


def _contains(stmt: ast.stmt, node: ast.expr) -> bool:
    start = (stmt.lineno, stmt.col_offset)
    end = (stmt.end_lineno or stmt.lineno, stmt.end_col_offset or 0)
    here = (node.lineno, node.col_offset)
    there = (node.end_lineno or node.lineno, node.end_col_offset or 0)
    return start <= here and there <= end


def _frames(fn: Function, node: ast.expr) -> list[_Frame]:
    """The blocks around `node` in `fn`, outermost first (nested functions and classes
    are not entered: their bodies run elsewhere)."""
    frames: list[_Frame] = []
    block: list[ast.stmt] = fn.node.body
    owner: ast.stmt | None = None
    where = "body"
    while True:
        index = next((i for i, s in enumerate(block) if _contains(s, node)), None)
        if index is None:
            return frames
        frames.append((block, index, owner, where))
        stmt = block[index]
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return frames
        inner: list[tuple[list[ast.stmt], str]] = [
            (getattr(stmt, name), name) for name in _BLOCK_FIELDS if getattr(stmt, name, None)
        ]
        inner += [(h.body, "handler") for h in getattr(stmt, "handlers", ())]
        inner += [(c.body, "case") for c in getattr(stmt, "cases", ())]
        found = next(((b, name) for b, name in inner if any(_contains(s, node) for s in b)), None)
        if found is None:
            return frames
        block, where = found
        owner = stmt


def _conditions(frames: list[_Frame]) -> Iterator[tuple[ast.expr, bool, list[ast.stmt]]]:
    """The tests a call runs under: (test, the truth value it must have, the statements
    that run only then). An enclosing `if` (its body or its `else`), and an earlier
    `if test: return` / `raise` in an enclosing block (the rest of the block)."""
    for block, index, owner, where in frames:
        if isinstance(owner, (ast.If, ast.While)) and where in ("body", "orelse"):
            yield owner.test, where == "body", block
        for j, stmt in enumerate(block[:index]):
            if (
                isinstance(stmt, ast.If)
                and not stmt.orelse
                and isinstance(stmt.body[-1], (ast.Return, ast.Raise))
            ):
                yield stmt.test, False, block[j + 1 :]


def _runs_rarely(model: AppModel, fn: Function, call: ast.Call) -> bool:
    """Does this call of `fn` not run per request? Either it sits behind a load-once
    guard (see `_loads_once`), or behind `if <param>:` (`if not <param>:`, `if <param>
    is None:`) where every project call of `fn` passes (or leaves at its default) a
    value that skips the branch (`_rules_out`). `_dead_for_call` judges the same for
    one call of `fn`."""
    cache = project_index(model, _no_rare_calls)
    key = id(call)
    if key not in cache:
        cache[key] = any(
            _loads_once(model.project, fn, test, truth, region)
            or _dead_branch(model, fn, test, truth, region)
            for test, truth, region in _conditions(_frames(fn, call))
        )
    return cache[key]


def _no_rare_calls(model: AppModel) -> dict[int, bool]:
    return {}


# -- load once: `if self._keys is None: self._keys = load()`, `if not app.ready: ...;
# app.ready = True`, `if self._keys: return` then `self._keys = ...`, `if not _cache:
# _load()` where `_load` fills the module-level `_cache` in place.


def _state_ref(fn: Function, expr: ast.AST) -> str | None:
    """`self._keys`, `app.state.ready`, or a module variable (`_module_global`): state
    that outlives the call (a parameter other than `self`, or a local, is fresh per call)."""
    name = dotted(expr)
    if name is None:
        return None
    root, dot, _ = name.partition(".")
    if root in _SELF and dot and fn.class_qualname is not None:
        return name
    if not dot:
        return name if _module_global(fn, root) else None
    if root in fn.param_names or root in fn.local_values:
        return None
    return name


def _module_global(fn: Function, name: str) -> bool:
    """Does `name` in `fn` mean module state: declared `global` (or `nonlocal`), or a
    module-level variable that neither `fn` nor a function around it binds (a container
    filled in place, `_translations[code] = ...`, needs no `global`)?"""
    declared = (
        n
        for node in body_nodes(fn.node)
        if isinstance(node, (ast.Global, ast.Nonlocal))
        for n in node.names
    )
    if name in declared:
        return True
    if name not in fn.module.assignments:
        return False
    scope: Function | None = fn
    while scope is not None:
        if scope.binds(name):
            return False
        scope = scope.parent
    return True


def _missing_if(project: Project, fn: Function, test: ast.expr, truth: bool) -> set[str]:
    """The state refs known to be unset (falsy or None) when `test` has this truth."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _missing_if(project, fn, test.operand, not truth)
    if isinstance(test, ast.BoolOp):
        parts = [_missing_if(project, fn, v, truth) for v in test.values]
        # `a and b` true: both are; `a or b` false: both are. Otherwise one of them is.
        if isinstance(test.op, ast.And) == truth:
            return set().union(*parts)
        return set.intersection(*parts)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(right, ast.Constant) and right.value is None:
            ref = _state_ref(fn, test.left)
            is_none = isinstance(op, (ast.Is, ast.Eq))
            if ref is not None and isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
                return {ref} if is_none == truth else set()
        return set()
    if isinstance(test, ast.Call):
        return _needs_load(project, fn, test) if truth else set()
    ref = _state_ref(fn, test)
    return {ref} if ref is not None and not truth else set()


def _needs_load(project: Project, fn: Function, call: ast.Call) -> set[str]:
    """`self._should_load()`: a method of the same class, called without arguments,
    every `return` of which reads `self.X` and reads it only negated (`not self.X`,
    `self.X is None`). It is true whenever `self.X` is unset."""
    func = call.func
    if (
        call.args
        or call.keywords
        or fn.class_qualname is None
        or not isinstance(func, ast.Attribute)
        or not isinstance(func.value, ast.Name)
        or func.value.id not in _SELF
    ):
        return set()
    method = project.method(fn.class_qualname, func.attr)
    if method is None:
        return set()
    returns = [
        n.value
        for n in body_nodes(method.node)
        if isinstance(n, ast.Return) and n.value is not None
    ]
    if not returns:
        return set()
    out: set[str] | None = None
    for value in returns:
        reads: Counter[str | None] = Counter()
        negated: Counter[str | None] = Counter()
        for node in walk(value):
            if isinstance(node, ast.Attribute):
                reads[_state_ref(method, node)] += 1
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                negated[_state_ref(method, node.operand)] += 1
            elif isinstance(node, ast.Compare):
                for ref in _missing_if(project, method, node, True):
                    negated[ref] += 1
        found = {r for r, n in negated.items() if r is not None and reads[r] == n}
        out = found if out is None else out & found
    return out or set()


def _stored(
    project: Project,
    fn: Function,
    ref: str,
    region: list[ast.stmt],
    seen: frozenset[int] = frozenset(),
) -> bool:
    """Does `region` set `ref` to a value that is not empty, or fill it in place
    (`ref[key] = v`, `ref.update(...)`)? A method of the same class it calls on `self`
    counts for `self.X`, a function of the same module it calls by name for a module
    variable (the loader behind `if not _cache: _load()`)."""
    seen = seen | {id(fn.node)}
    for node in walk_nodes([*region]):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(dotted(t) == ref for t in targets) and not _empty(node.value):
                return True
            if any(isinstance(t, ast.Subscript) and dotted(t.value) == ref for t in targets):
                return True
        elif isinstance(node, ast.Call):
            if _fills(node, ref):
                return True
            helper = _same_state_helper(project, fn, ref, node)
            if (
                helper is not None
                and id(helper.node) not in seen
                and _stored(project, helper, ref, [*helper.node.body], seen)
            ):
                return True
    return False


# Methods that put an entry into a dict: the container is no longer empty. A list or
# set filled when empty is as often a pool drained per call (`_handles.append(open(...))`
# then `_handles.pop()`) as a cache, so it does not count.
_FILLING_METHODS = frozenset({"update", "setdefault"})
# Methods that take entries out of a container, so a filled one may be empty again.
_DRAINING_METHODS = frozenset({"pop", "popitem", "popleft", "clear", "remove", "discard"})


def _fills(call: ast.Call, ref: str) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in _FILLING_METHODS
        and dotted(func.value) == ref
        and bool(call.args or call.keywords)
    )


def _takes_from(fn: Function, ref: str) -> bool:
    """Does `fn` itself take entries out of `ref` (`ref.pop(k)`, `del ref[k]`)? The
    container it fills is then empty again on the next call."""
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in _DRAINING_METHODS
                and dotted(func.value) == ref
            ):
                return True
        elif isinstance(node, ast.Delete) and any(
            isinstance(t, ast.Subscript) and dotted(t.value) == ref for t in node.targets
        ):
            return True
    return False


def _same_state_helper(project: Project, fn: Function, ref: str, call: ast.Call) -> Function | None:
    """The project function `call` runs that sees `ref` as `fn` does: `self.load()` for
    `self.X`, `_load()` of the same module for a module variable it does not rebind."""
    func = call.func
    if (
        ref.startswith("self.")
        and fn.class_qualname is not None
        and isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
    ):
        return project.method(fn.class_qualname, func.attr)
    if "." not in ref and isinstance(func, ast.Name) and not fn.binds(func.id):
        helper = fn.module.functions.get(func.id)
        if helper is not None and _module_global(helper, ref):
            return helper
    return None


def _empty(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant):
        return not value.value
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return not value.elts
    return isinstance(value, ast.Dict) and not value.keys


def _loads_once(
    project: Project, fn: Function, test: ast.expr, truth: bool, region: list[ast.stmt]
) -> bool:
    """The call runs only while some state (`self._keys`, `app.state.ready`, a global)
    is unset, and the code it runs in sets it: hand-written memoization, the same as
    `@cache` (the work runs on the first call only), unless `fn` takes the entries out
    again (`_handles.pop()`): then each call finds it empty."""
    return any(
        _stored(project, fn, ref, region) and not _takes_from(fn, ref)
        for ref in _missing_if(project, fn, test, truth)
    )


# -- dead branches: `if force_move: shutil.move(...)` where every caller passes False;
# `if user_hash is None: user_hash = read_hash_file()` where this call passes
# `owner_id(request)`, a project function annotated `-> str`.

# What a parameter must be for a test to have the truth a branch needs.
_Need = Literal["truthy", "falsy", "none"]
# Where a name is bound, and the value when it is a plain `name = value`.
_Binding = tuple[tuple[int, int], "ast.expr | None"]
_MAX_VALUE_DEPTH = 4
# Return annotations that admit None (`Optional` itself is a subscript, `None` a constant).
_NONE_ABLE = frozenset(
    {"typing.Any", "typing_extensions.Any", "object", "builtins.object", "types.NoneType"}
)
# The builtin classes (`str`, `int`, `dict`), not functions such as `any` or `callable`,
# which as an annotation say nothing; `object` admits None.
_BUILTIN_TYPES = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and value is not object
)
_LITERAL = frozenset({"typing.Literal", "typing_extensions.Literal"})


def _dead_branch(
    model: AppModel, fn: Function, test: ast.expr, truth: bool, region: list[ast.stmt]
) -> bool:
    return any(
        _callers_pass(model, fn, param, need)
        for param, need in _param_tests(fn, test, truth, region)
    )


def _param_tests(
    fn: Function, test: ast.expr, truth: bool, region: list[ast.stmt]
) -> list[tuple[str, _Need]]:
    """The parameters the test needs truthy, falsy or None to have this truth
    (`if force_move:`, `if not prefix:`, `if user_hash is None:`)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _param_tests(fn, test.operand, not truth, region)
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) == truth:
        return [p for v in test.values for p in _param_tests(fn, v, truth, region)]
    if isinstance(test, ast.Name) and _holds_argument(fn, test.id, region):
        return [(test.id, "truthy" if truth else "falsy")]
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.IsNot, ast.Eq, ast.NotEq))
        and isinstance(test.ops[0], (ast.Is, ast.Eq)) == truth
        and isinstance(test.left, ast.Name)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
        and _holds_argument(fn, test.left.id, region)
    ):
        return [(test.left.id, "none")]
    return []


def _holds_argument(fn: Function, name: str, region: list[ast.stmt]) -> bool:
    """Is `name` a parameter of `fn` that still holds what the caller passed when the
    test runs? It may be rebound only in `region`, the code that runs only when the
    test has the truth the branch needs (`if user_hash is None: user_hash = ...`): the
    first evaluation of the test sees the argument, so if the argument rules the
    branch out, the region never runs and never rebinds it."""
    if name not in fn.param_names or name in _SELF:
        return False
    return all(
        any(_starts_in(stmt, where) for stmt in region)
        for where, _ in _name_bindings(fn).get(name, ())
    )


def _starts_in(stmt: ast.stmt, where: tuple[int, int]) -> bool:
    end = (stmt.end_lineno or stmt.lineno, stmt.end_col_offset or 0)
    return (stmt.lineno, stmt.col_offset) <= where <= end


def _name_bindings(fn: Function) -> dict[str, list[_Binding]]:
    """Every place `fn`'s own code binds (or deletes) each name, with the value when it
    is a plain `name = value` or `name: T = value`. A `global`/`nonlocal` declaration,
    in `fn` or in a function nested in it, counts as a binding with no value. Computed
    once per function."""
    cached = fn.derived.get(_name_bindings)
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[str, list[_Binding]] = {}
    values: dict[int, ast.expr] = {}  # id(target) -> value, filled before the targets
    for node in body_nodes(fn.node):
        values.update(_plain_targets(node))
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            where = (node.lineno, node.col_offset)
            out.setdefault(node.id, []).append((where, values.get(id(node))))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.setdefault(node.name, []).append(((node.lineno, node.col_offset), None))
        elif isinstance(node, ast.stmt):
            for name in _declared_names(node):
                out.setdefault(name, []).append(((node.lineno, node.col_offset), None))
    fn.derived[_name_bindings] = out
    return out


def _plain_targets(node: ast.AST) -> list[tuple[int, ast.expr]]:
    """(id of the name, value) for each name `node` plainly assigns: `a = b = v`,
    `a: T = v`, `(a := v)`. The walk meets the statement before its targets."""
    if isinstance(node, ast.Assign):
        return [(id(t), node.value) for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
        return [(id(node.target), node.value)]
    return []


def _declared_names(stmt: ast.stmt) -> Iterator[str]:
    """The names a `global`/`nonlocal` statement declares, or one in a function or class
    defined by `stmt` (a nested `nonlocal x` rebinds the enclosing function's `x`)."""
    for node in walk(stmt) if isinstance(stmt, _DEFS) else [stmt]:
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            yield from node.names


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _callers_pass(model: AppModel, fn: Function, param: str, need: _Need) -> bool:
    """Every call of `fn` in the project passes `param` a value (or leaves it at a
    default) that is never what the branch needs (`_rules_out`), so the branch never
    runs. `fn` must be known by every reference to its name: a route, a dependency, a
    decorated function or one passed around as a value may be called with anything."""
    if model.routes_of(fn) or model.is_dependency(fn) or not _plain_function(fn):
        return False
    callers = model.callgraph.callers(fn.qualname)
    if not callers or project_index(model, _name_references)[fn.name] != len(callers):
        return False
    project = model.project
    for caller, site in callers:
        scope = project.functions.get(caller)
        module = scope.module if scope is not None else project.modules.get(caller)
        if module is None:
            return False
        value = _passed_value(project, module, scope, fn, site.node, param)
        if value is None or not _rules_out(model, module, scope, value, need):
            return False
    return True


def _plain_function(fn: Function) -> bool:
    """Undecorated (bar `@staticmethod`/`@classmethod`): a call passes its arguments
    to this code, not to a wrapper that may change them."""
    return all(dotted(d) in ("staticmethod", "classmethod") for d in fn.node.decorator_list)


def _passed_value(
    project: Project,
    module: Module,
    scope: Function | None,
    fn: Function,
    call: ast.Call,
    param: str,
) -> ast.expr | None:
    """The expression `call` (in `scope` of `module`) gives `param` of `fn`, or its
    default when it passes nothing. None when the call's shape hides it (`*args`,
    `**kwargs`, a call not by `fn`'s name) or the parameter has no default and is not
    passed. A method called on its class (`Store.logs_dir(store, None)`) gets `self`
    as its first argument."""
    signature = parameters(fn.node)
    positional = [
        arg.arg for arg, _ in signature[: len(fn.node.args.posonlyargs) + len(fn.node.args.args)]
    ]
    defaults = {arg.arg: default for arg, default in signature}
    if param not in defaults:
        return None
    func = call.func
    bound = 0
    unbound: bool | None = None
    if fn.class_qualname is not None and positional[:1] in (["self"], ["cls"]):
        if isinstance(func, ast.Attribute):
            unbound = _unbound_call(project, module, scope, func)
            bound = receiver_count(fn, call, unbound)
        else:
            bound = 1
    if not (
        (isinstance(func, ast.Name) and func.id == fn.name and not bound)
        or (isinstance(func, ast.Attribute) and func.attr == fn.name)
    ):
        return None
    if spreads(call):
        return None
    value = passed_arguments(fn, call, unbound).get(param)
    return value if value is not None else defaults[param]


def _unbound_call(
    project: Project, module: Module, scope: Function | None, func: ast.Attribute
) -> bool:
    """Is `func` looked up on a project class (`Store.logs_dir`), so that a call of an
    instance method passes `self` itself? (`receiver_count` gives a classmethod its
    class either way.)"""
    return project.class_(project.resolve(module, func.value, scope)) is not None


def _rules_out(
    model: AppModel, module: Module, scope: Function | None, value: ast.expr, need: _Need
) -> bool:
    """Can `value` (evaluated in `scope`) never be what the branch needs? A falsy
    literal is never truthy; a non-empty literal never falsy (nor None); a value that
    cannot be None (`_never_none`) is never None."""
    if need == "truthy":
        return isinstance(value, ast.Constant) and not value.value
    if need == "falsy":
        return _never_falsy(scope, value, 0)
    return _never_none(model, module, scope, value, 0)


def _never_falsy(scope: Function | None, value: ast.expr, depth: int) -> bool:
    """A truthy literal, an f-string with literal text, or a local bound only to those."""
    if isinstance(value, ast.Constant):
        return bool(value.value)
    if isinstance(value, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and v.value for v in value.values)
    values = _local_values(scope, value, depth)
    return values is not None and all(_never_falsy(scope, v, depth + 1) for v in values)


def _never_none(
    model: AppModel, module: Module, scope: Function | None, value: ast.expr, depth: int
) -> bool:
    """A literal other than None, an f-string, a call of a project class or of a project
    function whose return annotation excludes None (`-> str`, not `-> Optional[str]`,
    `-> Any` or `-> T`) and that no decorator wraps (bar `@cache`/`@lru_cache`), or a
    local bound only to those."""
    if isinstance(value, ast.Constant):
        return value.value is not None
    if isinstance(value, ast.JoinedStr):
        return True
    awaited = isinstance(value, ast.Await)
    call = value.value if isinstance(value, ast.Await) else value
    if isinstance(call, ast.Call):
        project = model.project
        callee = resolve_callee(project, module, call.func, scope)
        if project.class_(callee) is not None:
            return not awaited
        fn = project.function(callee)
        return (
            fn is not None
            and fn.is_async == awaited
            and _returns_own_value(project, fn)
            and _excludes_none(project, fn.module, fn.node.returns, 0)
        )
    values = _local_values(scope, value, depth)
    return values is not None and all(
        _never_none(model, module, scope, v, depth + 1) for v in values
    )


# Decorators that hand back what the function returns: its annotation still holds.
_RETURN_KEEPING = frozenset(
    {"staticmethod", "classmethod", "functools.cache", "functools.lru_cache"}
)


def _returns_own_value(project: Project, fn: Function) -> bool:
    """Does a call of `fn` return what its body returns? Any other decorator may wrap
    it in code that returns something else (None on an error), whatever the annotation."""
    for decorator in fn.node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if project.resolve(fn.module, target, fn.parent) not in _RETURN_KEEPING:
            return False
    return True


def _local_values(scope: Function | None, value: ast.expr, depth: int) -> list[ast.expr] | None:
    """Every value a local variable of `scope` is bound to, when each binding is a plain
    assignment (not a parameter, a loop variable, an unpacking or a `global`)."""
    if (
        scope is None
        or depth >= _MAX_VALUE_DEPTH
        or not isinstance(value, ast.Name)
        or value.id in scope.param_names
    ):
        return None
    bindings = _name_bindings(scope).get(value.id)
    if not bindings:
        return None
    values = [v for _, v in bindings]
    return None if any(v is None for v in values) else [v for v in values if v is not None]


def _excludes_none(
    project: Project, module: Module, annotation: ast.expr | None, depth: int
) -> bool:
    """Does a return annotation rule out None? A class or a generic (`str`, `Path`,
    `list[str]`), or a union of them; not `Optional[...]`, `X | None`, `Any`, `object`,
    a type variable (a module's `TypeVar`, or a name the module does not define: a
    PEP 695 `def first[T](x: T) -> T`), or a missing annotation."""
    if annotation is None or depth > _MAX_VALUE_DEPTH:
        return False

    def again(expr: ast.expr) -> bool:
        return _excludes_none(project, module, expr, depth + 1)

    if isinstance(annotation, ast.Constant):
        if not isinstance(annotation.value, str):
            return False  # `None`
        try:
            return again(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return again(annotation.left) and again(annotation.right)
    if isinstance(annotation, ast.Subscript):
        origin = project.resolve(module, annotation.value)
        elements = (
            annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        )
        if origin in OPTIONAL or project.module_value(origin) is not None:
            return False  # `Optional[str]`, or a generic alias (`Maybe[str]`) unjudged
        if origin in UNION:
            return all(again(e) for e in elements)
        if origin in ANNOTATED:
            return again(elements[0])
        if origin in _LITERAL:
            return not any(isinstance(e, ast.Constant) and e.value is None for e in elements)
        return True
    if isinstance(annotation, (ast.Name, ast.Attribute)):
        qualname = project.resolve(module, annotation)
        if qualname is None or qualname in _NONE_ABLE:
            return False
        if "." not in qualname:
            return qualname in _BUILTIN_TYPES  # `str`, not an unbound type parameter
        alias = project.module_value(qualname)
        if alias is not None:
            # `MaybeStr = Optional[str]`, `T = TypeVar("T")`: judge what it stands for.
            return _excludes_none(project, alias[0], alias[1], depth + 1)
        return True
    return False


def _dead_for_call(
    model: AppModel, caller: Function, into: ast.Call, owner: Function, call: ast.Call
) -> bool:
    """Does `call` of `owner` sit in a branch that this one call of `owner` (`into`, in
    `caller`) rules out by what it passes? `logs_dir(owner_id(request))` never runs
    `if user_hash is None: user_hash = read_hash_file()` in `logs_dir` when
    `owner_id` is annotated `-> str`. Computed once per pair of calls."""
    cache = project_index(model, _no_dead_calls)
    key = (id(into), id(call))
    if key not in cache:
        cache[key] = _plain_function(owner) and any(
            (value := _passed_value(model.project, caller.module, caller, owner, into, param))
            is not None
            and _rules_out(model, caller.module, caller, value, need)
            for test, truth, region in _conditions(_frames(owner, call))
            for param, need in _param_tests(owner, test, truth, region)
        )
    return cache[key]


def _no_dead_calls(model: AppModel) -> dict[tuple[int, int], bool]:
    return {}


def _name_references(model: AppModel) -> Counter[str]:
    """How often each name is used (read) in the project, as a name or an attribute."""
    out: Counter[str] = Counter()
    for module in model.project.module_list:
        out.update(node.id for node in nodes_of(model, module, ast.Name))
        out.update(node.attr for node in nodes_of(model, module, ast.Attribute))
    return out


def _reached(
    ctx: ProjectContext, key: str, classify: Classifier, *, memoized_once: bool = True
) -> Iterator[Report]:
    """Each call in a coroutine run by the server that is a sink or reaches one through
    sync project functions, reported at the call in the coroutine with the chain. With
    `memoized_once`, a chain stops at a memoized function: the blocking work inside it
    (a key file read, a hash) runs on the first call only."""
    model = ctx.model
    sinks = _sinks(model, key, classify)
    if not sinks:
        return
    graph = model.callgraph
    project = ctx.project
    follow = _inline_unmemoized(project) if memoized_once else sync_project_function
    search = _ChainSearch(model, key, sinks, follow)
    for fn in serving_coroutines(model):
        # `conn.execute(sql).fetchall()` is one finding, not two.
        lines: set[int] = set()
        for site in graph.calls_of(fn):
            if site.node.lineno in lines:
                continue
            found = sinks.get(id(site.node))
            if found is not None:
                lines.add(site.node.lineno)
                yield Report(site.node, _message(fn, [found[0]], *found[1:]), fn.module)
                continue
            callee = project.function(site.target)
            if callee is None or callee.is_async:
                continue
            if memoized_once and is_memoized(callee, project):
                continue
            chain = _live_chain(search, fn, site.node, callee)
            if chain is None or _runs_rarely(model, fn, site.node):
                continue
            last = sinks[id(chain[-1][0].node)]
            names = [callee.display, *(name for _, name in chain[:-1]), last[0]]
            lines.add(site.node.lineno)
            yield Report(site.node, _message(fn, names, *last[1:]), fn.module)


@dataclass(frozen=True)
class _ChainSearch:
    """What `_reached` looks for: one rule's sinks, and the functions a chain to them
    may pass through (`follow`, named by `key` in the call graph's cache)."""

    model: AppModel
    key: str
    sinks: dict[int, _Sink]
    follow: Callable[[Function], bool]

    def shortest(self, fn: Function) -> list[tuple[CallSite, str]] | None:
        sinks = self.sinks
        return self.model.callgraph.find_chain(
            self.model.project, fn, lambda s: id(s.node) in sinks, self.key, self.follow
        )


# How many times a chain may turn away from a branch the call rules out.
_MAX_DETOURS = 3


def _live_chain(
    search: _ChainSearch, caller: Function, into: ast.Call, owner: Function, depth: int = 0
) -> list[tuple[CallSite, str]] | None:
    """The chain of calls from `owner` to a sink that can run when `caller` calls it at
    `into`: the call graph's shortest one, checked hop by hop. A hop that runs rarely
    (`_runs_rarely`) means the chain does not block requests (None; the sink itself was
    checked when it was classified). A hop in a branch the call into its function rules
    out by what it passes (`_dead_for_call`) cannot run from here: another call of that
    function that still reaches a sink is taken instead (`_detour`)."""
    chain = search.shortest(owner)
    if chain is None:
        return None
    model = search.model
    for index, (hop, _) in enumerate(chain):
        last = index == len(chain) - 1
        if not last and _runs_rarely(model, owner, hop.node):
            return None
        if _dead_for_call(model, caller, into, owner, hop.node):
            detour = _detour(search, caller, into, owner, depth)
            return None if detour is None else [*chain[:index], *detour]
        following = model.project.function(hop.target)
        if last or following is None:
            break
        caller, into, owner = owner, hop.node, following
    return chain


def _detour(
    search: _ChainSearch, caller: Function, into: ast.Call, owner: Function, depth: int
) -> list[tuple[CallSite, str]] | None:
    """A call of `owner` that reaches a sink when `caller` calls `owner` at `into`: a
    sink itself, or a call of a followed function with a live chain (`_live_chain`)."""
    if depth >= _MAX_DETOURS:
        return None
    model = search.model
    for site in model.callgraph.calls_of(owner):
        if _runs_rarely(model, owner, site.node) or _dead_for_call(
            model, caller, into, owner, site.node
        ):
            continue
        found = search.sinks.get(id(site.node))
        if found is not None:
            return [(site, found[0])]
        callee = model.project.function(site.target)
        if callee is None or not search.follow(callee):
            continue
        rest = _live_chain(search, owner, site.node, callee, depth + 1)
        if rest is not None:
            return [(site, callee.display), *rest]
    return None


def _message(fn: Function, names: list[str], what: str, advice: str) -> str:
    if len(names) == 1:
        return f"{what} `{names[0]}` in `async def {fn.name}` blocks the event loop{advice}"
    path = " → ".join(f"`{n}`" for n in names)
    return (
        f"`async def {fn.name}` calls `{names[0]}`, which reaches the {what[0].lower()}"
        f"{what[1:]} `{names[-1]}` ({path}): it blocks the event loop{advice}"
    )


# ------------------------------------------------------------------ FAA203

# The curated driver table, in flake8-async ASYNC200's `pattern -> replacement` form.
# "connect": calling the pattern itself opens a connection (blocking); methods called on
# what it returns block when they are DB-API I/O methods.
# "client": the constructor is lazy; every method called on the client (or on objects
# reached from it, `mongo.shop.users.find_one`) sends a request, except _CLIENT_LOCAL.
DriverKind = Literal["connect", "client"]
SYNC_DRIVERS: dict[str, tuple[DriverKind, str]] = {
    "sqlite3.connect": ("connect", "`aiosqlite.connect`"),
    "psycopg2.connect": ("connect", "`asyncpg` or `psycopg.AsyncConnection.connect`"),
    "psycopg2.pool.SimpleConnectionPool": ("client", "an `asyncpg` pool"),
    "psycopg2.pool.ThreadedConnectionPool": ("client", "an `asyncpg` pool"),
    "psycopg.connect": ("connect", "`await psycopg.AsyncConnection.connect(...)`"),
    "psycopg.Connection.connect": ("connect", "`await psycopg.AsyncConnection.connect(...)`"),
    "psycopg_pool.ConnectionPool": ("client", "`psycopg_pool.AsyncConnectionPool`"),
    "pymysql.connect": ("connect", "`aiomysql` or `asyncmy`"),
    "pymysql.connections.Connection": ("connect", "`aiomysql` or `asyncmy`"),
    "MySQLdb.connect": ("connect", "`aiomysql` or `asyncmy`"),
    "mysql.connector.connect": ("connect", "`aiomysql` or `asyncmy`"),
    "pyodbc.connect": ("connect", "`aioodbc`"),
    "oracledb.connect": ("connect", "`oracledb.connect_async`"),
    "cx_Oracle.connect": ("connect", "`oracledb.connect_async`"),
    "pymongo.MongoClient": ("client", "`pymongo.AsyncMongoClient` or `motor`"),
    "pymongo.mongo_client.MongoClient": ("client", "`pymongo.AsyncMongoClient` or `motor`"),
    "redis.Redis": ("client", "`redis.asyncio.Redis`"),
    "redis.StrictRedis": ("client", "`redis.asyncio.Redis`"),
    "redis.client.Redis": ("client", "`redis.asyncio.Redis`"),
    "redis.from_url": ("client", "`redis.asyncio.from_url`"),
    "redis.ConnectionPool": ("client", "`redis.asyncio.ConnectionPool`"),
    "pika.BlockingConnection": ("connect", "`aio_pika.connect_robust`"),
    "kafka.KafkaProducer": ("connect", "`aiokafka.AIOKafkaProducer`"),
    "kafka.KafkaConsumer": ("connect", "`aiokafka.AIOKafkaConsumer`"),
    "elasticsearch.Elasticsearch": ("client", "`elasticsearch.AsyncElasticsearch`"),
    "opensearchpy.OpenSearch": ("client", "`opensearchpy.AsyncOpenSearch`"),
    "pymemcache.client.base.Client": ("client", "`aiomcache.Client`"),
    "pymemcache.Client": ("client", "`aiomcache.Client`"),
}
# DB-API methods that talk to the server (on a connection, a cursor, or a result).
_DBAPI_IO = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "fetchone",
        "fetchmany",
        "fetchall",
        "commit",
        "rollback",
        "callproc",
        "copy_from",
        "copy_to",
        "copy_expert",
        "nextset",
        "channel",
        "basic_publish",
        "basic_get",
        "basic_consume",
        "start_consuming",
        "queue_declare",
        "exchange_declare",
        "queue_bind",
        "send",
        "flush",
        "poll",
        "commit_offsets",
    }
)
# Methods of lazy clients that work in memory and return another local object.
_CLIENT_LOCAL = frozenset(
    {
        "from_url",
        "from_pool",
        "client",
        "pipeline",
        "pubsub",
        "lock",
        "get_database",
        "get_collection",
        "get_default_database",
        "with_options",
        "codec_options",
        "options",
        "close",
        "register_script",
        "get_connection_kwargs",
        "set_response_callback",
        "get_encoder",
    }
)
# A redis pipeline buffers commands until `execute()`.
_BUFFERED = frozenset({"pipeline"})


def _driver(name: str) -> tuple[str, str] | None:
    """(pattern, replacement) when `name` is a blocking call of a sync driver."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        pattern = ".".join(parts[:i])
        entry = SYNC_DRIVERS.get(pattern)
        if entry is None:
            continue
        kind, replacement = entry
        rest = parts[i:]
        if not rest:
            return (pattern, replacement) if kind == "connect" else None
        method = rest[-1]
        if method.startswith("_"):
            return None
        if kind == "connect":
            return (pattern, replacement) if method in _DBAPI_IO else None
        if any(p in _BUFFERED for p in rest[:-1]):
            return (pattern, replacement) if method == "execute" else None
        return None if method in _CLIENT_LOCAL else (pattern, replacement)
    return None


def _classify_driver(
    site: CallSite, module: Module, scope: Function | None, name: str
) -> tuple[str, str] | None:
    found = _driver(name)
    if found is None:
        return None
    pattern, replacement = found
    return "Sync driver call", f"; `{pattern}` is synchronous, use {replacement}"


@rule(
    code="FAA203",
    name="sync-driver-in-async",
    summary="A synchronous database, cache or queue client is used inside `async def` code",
    severity="error",
    scope="project",
    fix_title="Use the driver's asyncio client (awaited), or make the caller a sync `def`",
    references=(
        "https://fastapi.tiangolo.com/async/",
        "https://flake8-async.readthedocs.io/en/latest/rules.html#async200",
    ),
)
def sync_driver_in_async(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds calls of synchronous database, cache and queue clients (`sqlite3`, `psycopg2`,
    sync `psycopg`, `pymysql`, `MySQLdb`, `mysql.connector`, `pyodbc`, `oracledb`,
    `pymongo.MongoClient`, `redis.Redis` (not `redis.asyncio`), `pika.BlockingConnection`,
    `kafka-python`, `elasticsearch.Elasticsearch`, `pymemcache`) that run inside an
    `async def` route, dependency, middleware or exception handler, or a coroutine they
    await, directly or through sync project functions in any module. The finding is
    placed at the call in the `async def`, names the chain
    (`read_cart` → `cart_store.load` → `redis.Redis.get`) and the asyncio replacement.

    Opening a connection (`sqlite3.connect`, `psycopg2.connect`) and the DB-API calls
    on it (`execute`, `fetchall`, `commit`) are reported; constructing a lazy client
    (`redis.Redis(...)`, `MongoClient(...)`) is not, the commands sent through it are.
    A redis pipeline is reported at its `execute()` only.

    ## Why is this bad?
    A synchronous driver waits for the server on the calling thread. Inside a coroutine
    that thread is the event loop's: while one query or cache round trip is in flight,
    no other request on that worker makes progress. A plain `def` route would have run
    in the threadpool instead.

    ## Known problems
    Lifespans and startup/shutdown handlers are left out: they run before the server
    accepts a request (or after it stopped), so blocking there stalls nobody. Work
    handed to `run_in_threadpool`, `asyncio.to_thread`, `anyio.to_thread.run_sync` or
    `loop.run_in_executor` is not reported. The driver table is the curated list
    above, in flake8-async ASYNC200's `pattern -> replacement` form (`SYNC_DRIVERS` in
    this module); it cannot be extended from the configuration yet. Clients whose type
    cannot be inferred (passed around untyped) are not followed; a memoized connection
    factory (`@lru_cache def get_conn(): return sqlite3.connect(...)`) is, since every
    use of the connection it hands out blocks. SQLAlchemy sessions are FAA202's,
    `boto3` and HTTP clients FAA201's.

    ## Example
    ```python
    import redis

    cache = redis.Redis(host="cache")

    @router.get("/carts/{cart_id}")
    async def read_cart(cart_id: str) -> Cart:
        return Cart.model_validate_json(cache.get(f"cart:{cart_id}"))
    ```

    ## Use instead
    ```python
    import redis.asyncio as redis

    cache = redis.Redis(host="cache")

    @router.get("/carts/{cart_id}")
    async def read_cart(cart_id: str) -> Cart:
        return Cart.model_validate_json(await cache.get(f"cart:{cart_id}"))
    ```
    Or declare the route with `def`, or call the sync client with
    `await run_in_threadpool(...)`.

    ## Fix safety
    There is no automatic fix: every call of the async client has to be awaited.
    """
    # A memoized connection factory (`@lru_cache def get_conn(): return
    # sqlite3.connect(...)`) hands out a live handle whose every use blocks: its chain
    # is still followed.
    return _reached(ctx, "FAA203", _classify_driver, memoized_once=False)


# ------------------------------------------------------------------ FAA204

# The standard library's calls that open a file.
FILE_OPEN_CALLS = frozenset(
    {
        "open",
        "builtins.open",
        "io.open",
        "codecs.open",
        "gzip.open",
        "bz2.open",
        "lzma.open",
    }
)
_FILE_FUNCTIONS = FILE_OPEN_CALLS | frozenset(
    {
        "shutil.copyfileobj",
        "shutil.copyfile",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copytree",
        "shutil.move",
        "shutil.rmtree",
        "shutil.make_archive",
        "shutil.unpack_archive",
    }
)
_PATH_TYPES = frozenset(
    {"pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePath"}
)
_PATH_IO = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open"})
_UPLOAD_TYPES = UPLOAD_FILE
_UPLOAD_FILE_IO = frozenset({"read", "readline", "readlines", "write", "writelines"})


# Calls that run the function they are given in a worker thread: `TO_THREAD` by name,
# `TO_THREAD_METHODS` as methods, and the `THREAD_WRAPPERS` that return a function doing
# so when called (`sync_to_async(fn)(handle)`).
_TO_THREAD = TO_THREAD | THREAD_WRAPPERS
# How many project `async def`s a file handle is followed through.
_MAX_HANDLE_DEPTH = 2
_PARTIAL = "functools.partial"


def _imported_name(module: Module, expr: ast.expr) -> str | None:
    """`asyncio.to_thread` for `asyncio.to_thread` or `to_thread` imported from asyncio."""
    name = dotted(expr)
    if name is None:
        return None
    head, dot, rest = name.partition(".")
    full = module.imports.get(head)
    return f"{full}{dot}{rest}" if full else name


def _runs_in_thread(module: Module, call: ast.Call) -> bool:
    """`asyncio.to_thread(fn, x)`, `loop.run_in_executor(None, fn, x)`,
    `sync_to_async(fn)(x)`: a call that runs what its arguments give in a worker thread."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in TO_THREAD_METHODS:
        return True
    if _imported_name(module, func) in _TO_THREAD:
        return True
    return isinstance(func, ast.Call) and _imported_name(module, func.func) in THREAD_WRAPPERS


def _thread_nodes(module: Module, arg: ast.expr) -> set[int]:
    """The nodes of an argument of a `_runs_in_thread` call whose work the thread does:
    the argument itself (`to_thread(upload, f)`), an attribute taken but not called
    (`to_thread(f.read)`), the body of a lambda (`lambda: f.read()`) and the arguments
    of `functools.partial(...)` (`partial(f.read, n)`), through tuple, list, set, dict
    and starred displays. Any other call or comprehension around a node runs on the loop
    while the arguments are built (`to_thread(len, f.read())`, `json.load(f)`,
    `list(f)`, `[line for line in f]`)."""
    found: set[int] = set()

    def visit(node: ast.expr) -> None:
        found.add(id(node))
        if isinstance(node, ast.Lambda):
            found.update(id(n) for n in walk(node.body))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add(id(node.value))
        elif isinstance(node, ast.Starred):
            visit(node.value)
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            for element in node.elts:
                visit(element)
        elif isinstance(node, ast.Dict):
            for item in [*node.keys, *node.values]:
                if item is not None:
                    visit(item)
        elif isinstance(node, ast.Call) and _imported_name(module, node.func) == _PARTIAL:
            for item in [*node.args, *(kw.value for kw in node.keywords)]:
                visit(item)

    visit(arg)
    return found


def _closes(call: ast.Call, handle: str) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "close"
        and isinstance(func.value, ast.Name)
        and func.value.id == handle
        and not call.args
        and not call.keywords
    )


def _only_in_threads(
    project: Project,
    scope: Function,
    handle: str,
    body: list[ast.stmt],
    binding: ast.expr | None,
    depth: int,
) -> bool:
    """Is every use of the name `handle` in `body` (of `scope`; `binding`, the name
    bound, aside) a read handed to a worker thread: part of an argument of a
    `_runs_in_thread` call (`_thread_nodes`), or passed for a parameter of a project
    `async def` that itself only hands it to one (`_passed_to_coroutine`)? The
    `handle.close()` syscall may run on the loop; at least one use must be in a thread."""
    module = scope.module
    offloaded: set[int] = set()
    closed: set[int] = set()
    uses: list[ast.Name] = []
    for node in (n for stmt in body for n in walk(stmt)):
        if isinstance(node, ast.Name):
            if node.id == handle and node is not binding:
                uses.append(node)
        elif not isinstance(node, ast.Call):
            continue
        elif _runs_in_thread(module, node):
            for arg in [*node.args, *(kw.value for kw in node.keywords)]:
                offloaded.update(_thread_nodes(module, arg))
        elif isinstance(node.func, ast.Attribute) and _closes(node, handle):
            closed.add(id(node.func.value))
        elif depth < _MAX_HANDLE_DEPTH:
            offloaded.update(_passed_to_coroutine(project, scope, node, handle, depth))
    return any(id(u) in offloaded for u in uses) and all(
        isinstance(u.ctx, ast.Load) and (id(u) in offloaded or id(u) in closed) for u in uses
    )


def _passed_to_coroutine(
    project: Project, scope: Function, call: ast.Call, handle: str, depth: int
) -> Iterator[int]:
    """`await transcribe_audio(fh, model)`: the ids of the arguments `fh` that `call`
    passes for a parameter of a project `async def` that never rebinds it and only hands
    it to a worker thread (`_only_in_threads`)."""
    callee = project.function(resolve_callee(project, scope.module, call.func, scope))
    if callee is None or not callee.is_async:
        return
    for param, arg in passed_arguments(callee, call).items():
        if (
            isinstance(arg, ast.Name)
            and arg.id == handle
            and param not in _name_bindings(callee)
            and _only_in_threads(project, callee, param, callee.node.body, None, depth + 1)
        ):
            yield id(arg)


def _offloaded_handle(project: Project, scope: Function, call: ast.Call) -> bool:
    """`with open(path, "rb") as f: data = await asyncio.to_thread(f.read, n)`, or
    `f = open(path, "rb")` then `try: await asyncio.to_thread(upload, f) finally:
    f.close()`: the file is opened in the coroutine, but every use of the handle is
    handed to a worker thread (`_only_in_threads`: `asyncio.to_thread`,
    `loop.run_in_executor`, `anyio.to_thread.run_sync`, `run_in_threadpool`,
    `sync_to_async(fn)(f)`, or a project `async def` that does so with it). Only the
    `open()` and `close()` syscalls stay on the loop: the reading and writing, which is
    what takes time, do not. An assigned handle must be bound nowhere else in `scope`."""
    for node in body_nodes(scope.node):
        if isinstance(node, ast.With):
            item = next((i for i in node.items if i.context_expr is call), None)
            if item is None:
                continue
            if not isinstance(item.optional_vars, ast.Name):
                return False
            handle = item.optional_vars.id
            return _only_in_threads(project, scope, handle, node.body, None, 0)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is call:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target = targets[0]
            if len(targets) != 1 or not isinstance(target, ast.Name):
                return False
            if len(_name_bindings(scope).get(target.id, ())) != 1:
                return False
            return _only_in_threads(project, scope, target.id, scope.node.body, target, 0)
    return False


def _classify_file(
    project: Project, site: CallSite, module: Module, scope: Function | None, name: str
) -> tuple[str, str] | None:
    if name in _FILE_FUNCTIONS:
        if (
            name.endswith("open")
            and scope is not None
            and scope.is_async
            and _offloaded_handle(project, scope, site.node)
        ):
            return None
        uploads = [u for u in map(_upload_name, site.node.args) if u is not None]
        if name.startswith("shutil.") and uploads:
            return "Blocking file I/O", (
                f"; read with `await {uploads[0]}.read(size)` (and write with `aiofiles`)"
            )
        if name.startswith("shutil."):
            # No async library removes, copies or moves a whole tree: run it in a thread.
            return "Blocking file I/O", (
                f"; run it in a worker thread (`await anyio.to_thread.run_sync({name}, ...)`"
                " or `await run_in_threadpool(...)`)"
            )
        return "Blocking file I/O", "; use `aiofiles`, `anyio.open_file` or `anyio.Path`"
    owner, _, method = name.rpartition(".")
    if owner in _PATH_TYPES and method in _PATH_IO:
        return "Blocking file I/O", "; use `anyio.Path` (awaited) or `aiofiles`"
    upload, _, attr = owner.rpartition(".")
    if upload in _UPLOAD_TYPES and attr == "file" and method in _UPLOAD_FILE_IO:
        func = site.node.func
        holder = func.value if isinstance(func, ast.Attribute) else None
        var = _upload_name(holder) if holder is not None else None
        return "Blocking file I/O", f"; use `await {var or 'upload'}.{method}()`"
    return None


def _upload_name(arg: ast.expr) -> str | None:
    """`upload` for `upload.file`, the shape of `shutil.copyfileobj(upload.file, out)`."""
    if isinstance(arg, ast.Attribute) and arg.attr == "file" and isinstance(arg.value, ast.Name):
        return arg.value.id
    return None


@rule(
    code="FAA204",
    name="blocking-file-io-in-async",
    summary="Blocking file I/O runs on the event loop inside `async def` code",
    severity="warning",
    scope="project",
    fix_title="Use `await upload.read()`, `aiofiles` or `anyio.Path`, or make the caller "
    "a sync `def`",
    references=(
        "https://fastapi.tiangolo.com/tutorial/request-files/",
        "https://anyio.readthedocs.io/en/stable/fileio.html",
    ),
)
def blocking_file_io_in_async(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds blocking file I/O (`open()`, `io.open`, `Path.read_text/read_bytes/
    write_text/write_bytes/open`, `shutil.copyfileobj/copy/move/rmtree`, and
    `UploadFile.file.read()/write()`) that runs inside an `async def` route,
    dependency, middleware or exception handler, or a coroutine they await, directly
    or through sync project functions in any module. The finding is placed at the call
    in the `async def` and names the chain.

    ## Why is this bad?
    Disk access blocks the calling thread, and inside a coroutine that thread runs the
    event loop: a large upload copied with `shutil.copyfileobj(upload.file, out)` stalls
    every other request of the worker while it is written. FastAPI's `UploadFile`
    already has async methods (`await upload.read()`, `await upload.seek(0)`) that run
    the file work in the threadpool.

    ## Known problems
    Lifespans and startup/shutdown handlers (reading settings or a model file at
    startup) are left out: no request is waiting yet. Work handed to
    `run_in_threadpool`, `asyncio.to_thread`, `anyio.to_thread.run_sync` or a wrapper
    called on the spot (`sync_to_async(fn)(f)`, asyncer's `asyncify(fn)(f)`) is not
    reported, and neither is the `open()` of a `with open(...) as f` block, or of an `f
    = open(...)` the function binds `f` nowhere else, whose handle is only used in such
    calls (`await asyncio.to_thread(f.read, n)`), in `f.close()`, or passed to a project
    `async def` that only uses it so: the `open` and `close` syscalls left on the loop
    are cheap next to the reading and writing, which run in the thread. Only the handle
    itself, `f.read` uncalled, a lambda body or `functools.partial`'s arguments are the
    thread's work: a call or comprehension around the handle in the arguments
    (`to_thread(parse, f.read())`, `to_thread(process, json.load(f))`, `list(f)`,
    `[line for line in f]`) reads it on the loop and is reported. Files whose type cannot be inferred (a path built with `/`, a file
    object passed in untyped) are not followed. A chain stops at a memoized function
    (`@cache`, `@lru_cache`, `@cached_property`, cachetools' `@cached`): a key file it
    reads is read once per process, not per request. Hand-written load-once code counts
    the same: a call that runs only while some long-lived state is unset (`if self._keys
    is None:`, `if not app.state.ready:`, a `global`, or an early `return` while it is
    set), where the same code then sets it, or fills it in place (`if not _cache:
    _load()` where `_load`, in the same module, does `_cache[key] = json.load(f)` or
    `_cache.update(...)`). A list or set filled when empty
    (`_handles.append(open(...))`), or a container the guarded function takes entries
    out of again (`.pop()`, `.clear()`, `del _cache[key]`), is a pool emptied per call
    and is still reported. So does a branch no caller takes: `if force_move:
    shutil.move(...)` when every project call of the function passes `force_move=False`
    (or leaves a false default), and a branch the reported call itself rules out by what
    it passes: `logs_dir(owner_id(request))` never runs `if user_hash is None: user_hash
    = read_hash_file()` in `logs_dir` when `owner_id` is a project function annotated
    `-> str` (a builtin or project class, not `Optional[str]`, `Any`, `object`, a
    builtin function such as `any`, a type variable or unannotated) that no decorator
    other than `@cache`/`@lru_cache` wraps (a wrapper may return None on an error);
    `Store.logs_dir(store, None)` passes None, `store` being `self`. A literal other
    than None, an f-string, or a local bound only to such values counts the same, and
    `if not prefix:` is ruled out by a non-empty literal only. A call of the same helper
    that passes nothing or a value that may be None is still reported. Small reads of a
    local file are fast and rarely matter; the rule reports them all the same.

    ## Example
    ```python
    @router.post("/uploads")
    async def upload(file: UploadFile) -> dict[str, str]:
        with open(f"/srv/uploads/{file.filename}", "wb") as out:
            shutil.copyfileobj(file.file, out)
        return {"filename": file.filename}
    ```

    ## Use instead
    ```python
    @router.post("/uploads")
    async def upload(file: UploadFile) -> dict[str, str]:
        async with aiofiles.open(f"/srv/uploads/{file.filename}", "wb") as out:
            while chunk := await file.read(1024 * 1024):
                await out.write(chunk)
        return {"filename": file.filename}
    ```
    Or declare the route with `def` (it then runs in the threadpool).

    ## Fix safety
    There is no automatic fix.
    """
    return _reached(ctx, "FAA204", partial(_classify_file, ctx.project))


# ------------------------------------------------------------------ FAA205

_HASH_FUNCTIONS = frozenset(
    {
        "bcrypt.hashpw",
        "bcrypt.checkpw",
        "bcrypt.kdf",
        "hashlib.pbkdf2_hmac",
        "hashlib.scrypt",
        "argon2.hash_password",
        "argon2.verify_password",
        "argon2.low_level.hash_secret",
        "argon2.low_level.hash_secret_raw",
        "argon2.low_level.verify_secret",
        "werkzeug.security.generate_password_hash",
        "werkzeug.security.check_password_hash",
        "scrypt.hash",
    }
)
# Hasher objects: a slow method called on one, whatever was called to build it
# (`PasswordHash.recommended().hash(...)`, `CryptContext(schemes=...).verify(...)`).
_HASHER_PREFIXES = (
    "passlib.context.CryptContext.",
    "passlib.hash.",
    "argon2.PasswordHasher.",
    "argon2._password_hasher.PasswordHasher.",
    "pwdlib.PasswordHash.",
    "pwdlib._hash.PasswordHash.",
    "pwdlib.hashers.",
)
_HASHER_METHODS = frozenset(
    {"hash", "verify", "verify_and_update", "encrypt", "dummy_verify", "using_hash"}
)


# PBKDF2 with fewer iterations than this derives a key in a few milliseconds: key
# derivation (a deterministic test key, a token), not a slow password hash. OWASP asks
# for 600,000 (SHA-256) for passwords.
_SLOW_PBKDF2_ITERATIONS = 10_000


# The digest size of the hashes `pbkdf2_hmac` names: each `digest_size` bytes of the
# derived key (`dklen`) cost a full run of the iterations.
_DIGEST_SIZES = {"md5": 16, "sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


def _pbkdf2_blocks(call: ast.Call) -> int | None:
    """How many times `pbkdf2_hmac` runs its iterations: `ceil(dklen / digest_size)`;
    1 when `dklen` is left out or None, None when it or the hash name is not a literal."""
    if spreads(call):
        return None
    dklen = argument(call, 4, "dklen")
    if dklen is None or (isinstance(dklen, ast.Constant) and dklen.value is None):
        return 1
    length = const_int(dklen)
    hash_name = const_str(argument(call, 0, "hash_name"))
    size = _DIGEST_SIZES.get(hash_name.lower()) if hash_name is not None else None
    if length is None or size is None:
        return None
    return max(1, -(-length // size))


def _fast_key_derivation(call: ast.Call, name: str) -> bool:
    """`pbkdf2_hmac("sha256", secret, salt, 2048)`: a literal iteration count (the
    fourth argument, or `iterations=`), times the blocks a literal `dklen` asks for
    (`_pbkdf2_blocks`), below `_SLOW_PBKDF2_ITERATIONS`."""
    if name != "hashlib.pbkdf2_hmac":
        return False
    count = const_int(argument(call, 3, "iterations"))
    blocks = _pbkdf2_blocks(call)
    return count is not None and blocks is not None and count * blocks < _SLOW_PBKDF2_ITERATIONS


def _classify_hash(
    site: CallSite, module: Module, scope: Function | None, name: str
) -> tuple[str, str] | None:
    if name in _HASH_FUNCTIONS:
        if _fast_key_derivation(site.node, name):
            return None
        return "Password hashing", "; run it with `await run_in_threadpool(...)`"
    owner, _, method = name.rpartition(".")
    if method in _HASHER_METHODS and (owner + ".").startswith(_HASHER_PREFIXES):
        return "Password hashing", "; run it with `await run_in_threadpool(...)`"
    return None


@rule(
    code="FAA205",
    name="cpu-bound-hashing-in-async",
    summary="Password hashing burns CPU on the event loop inside `async def` code",
    severity="warning",
    scope="project",
    fix_title="Run the hash with `await run_in_threadpool(...)`, or make the route a sync `def`",
    references=(
        "https://fastapi.tiangolo.com/async/",
        "https://anyio.readthedocs.io/en/stable/threads.html",
    ),
)
def cpu_bound_hashing_in_async(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds password hashing and verification (passlib `CryptContext.hash/verify`,
    `passlib.hash.*`, `pwdlib.PasswordHash.hash/verify`, argon2-cffi
    `PasswordHasher.hash/verify`, `bcrypt.hashpw/checkpw`, `hashlib.pbkdf2_hmac`,
    `hashlib.scrypt`, werkzeug's `generate_password_hash/check_password_hash`) that runs
    inside an `async def` route, dependency, middleware or exception handler, or a
    coroutine they await, directly or through sync project functions in any module
    (`login` → `authenticate_user` → `verify_password` → `CryptContext.verify`).
    Hashing handed to a worker thread (`run_in_threadpool`, `anyio.to_thread.run_sync`,
    `asyncio.to_thread`, `loop.run_in_executor`) is not reported.

    ## Why is this bad?
    Password hashes are slow on purpose: one bcrypt or Argon2 call burns 100 ms or more
    of CPU. Run in a coroutine, it holds the event loop for that long, so every other
    request of the worker waits, and a burst of logins takes the service down. A sync
    `def` route, or the hash in the threadpool, lets the loop keep serving.

    ## Known problems
    Lifespans and startup handlers (seeding an admin account) are left out.
    `hashlib.pbkdf2_hmac` with a literal iteration count below 10,000 (`pbkdf2_hmac(
    "sha256", secret, salt, 2048)`, a millisecond or so) derives a key rather than
    hashing a password, and is not reported; a larger or computed count is. A literal
    `dklen` longer than the digest of a literal hash name multiplies the count (each
    digest-sized block runs every iteration: `pbkdf2_hmac("sha256", pw, salt, 9999,
    1024)` is 32 blocks, about 130 ms, and is reported), and a computed `dklen` or an
    unknown hash name with one makes the count unknown.
    Hashers whose type cannot be inferred (passed around untyped) are not followed, and
    a chain stops at a memoized function (`@cache`, `@lru_cache`): it hashes once.
    FastAPI's own OAuth2 tutorial calls `verify_password` from an `async def` login
    route: that is exactly what this rule reports.

    ## Example
    ```python
    password_hash = PasswordHash.recommended()

    @router.post("/token")
    async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
        user = await users.get(form.username)
        if user is None or not password_hash.verify(form.password, user.hashed_password):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect username or password")
        return issue_token(user)
    ```

    ## Use instead
    ```python
    @router.post("/token")
    async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
        user = await users.get(form.username)
        valid = user is not None and await run_in_threadpool(
            password_hash.verify, form.password, user.hashed_password
        )
        if not valid:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect username or password")
        return issue_token(user)
    ```

    ## Fix safety
    There is no automatic fix.
    """
    return _reached(ctx, "FAA205", _classify_hash)


# ------------------------------------------------------------------ FAA206 / FAA207

# Outside code that does no I/O and little CPU: builtins, and modules (or names) whose
# calls work in memory. A name in one of these is trivial unless another rule's sink
# table says otherwise (`time.sleep`, `hashlib.pbkdf2_hmac`).
_TRIVIAL_BUILTINS = frozenset(
    {
        *[
            "abs",
            "all",
            "any",
            "ascii",
            "bin",
            "bool",
            "bytearray",
            "bytes",
            "callable",
            "chr",
            "dict",
            "divmod",
            "enumerate",
        ],
        *[
            "filter",
            "float",
            "format",
            "frozenset",
            "getattr",
            "hasattr",
            "hash",
            "hex",
            "id",
            "int",
            "isinstance",
        ],
        *[
            "issubclass",
            "iter",
            "len",
            "list",
            "map",
            "max",
            "min",
            "next",
            "object",
            "oct",
            "ord",
            "pow",
            "print",
            "range",
        ],
        *[
            "repr",
            "reversed",
            "round",
            "set",
            "setattr",
            "slice",
            "sorted",
            "str",
            "sum",
            "super",
            "tuple",
            "type",
            "vars",
            "zip",
        ],
        *["ValueError", "TypeError", "KeyError", "LookupError", "RuntimeError", "Exception"],
        *["NotImplementedError", "PermissionError", "AttributeError", "IndexError"],
    }
)
_TRIVIAL_MODULES = frozenset(
    {
        *[
            "abc",
            "annotated_types",
            "base64",
            "binascii",
            "bisect",
            "calendar",
            "collections",
            "contextvars",
        ],
        *[
            "copy",
            "dataclasses",
            "datetime",
            "decimal",
            "enum",
            "fractions",
            "functools",
            "hashlib",
            "heapq",
            "hmac",
        ],
        *[
            "html",
            "inspect",
            "ipaddress",
            "itertools",
            "json",
            "jose",
            "jwt",
            "logging",
            "loguru",
            "math",
            "numbers",
        ],
        *[
            "operator",
            "orjson",
            "pydantic",
            "random",
            "re",
            "secrets",
            "statistics",
            "string",
            "structlog",
        ],
        *["io.StringIO", "io.BytesIO", "csv", "prometheus_client"],
        *["os.getenv", "os.environ", "os.path.join", "os.path.basename", "os.path.dirname"],
        *["os.path.splitext", "os.path.normpath", "os.fspath", "posixpath.join"],
        *[
            "textwrap",
            "time",
            "typing",
            "typing_extensions",
            "unicodedata",
            "uuid",
            "warnings",
            "zoneinfo",
        ],
        *["fastapi", "starlette", "urllib.parse", "http.HTTPStatus", "ujson", "slugify"],
        *["sqlalchemy.select", "sqlalchemy.insert", "sqlalchemy.update", "sqlalchemy.delete"],
        *[
            "sqlalchemy.and_",
            "sqlalchemy.or_",
            "sqlalchemy.not_",
            "sqlalchemy.func",
            "sqlalchemy.text",
        ],
        *["sqlalchemy.desc", "sqlalchemy.asc", "sqlalchemy.case", "sqlalchemy.cast"],
        *["sqlalchemy.orm.selectinload", "sqlalchemy.orm.joinedload"],
        *["sqlalchemy.orm.load_only", "sqlmodel.select", "sqlmodel.col"],
    }
)
# Names under the trivial modules that are not trivial after all.
_NOT_TRIVIAL = frozenset(
    {
        "json.load",
        "json.dump",
        "time.sleep",
        "logging.basicConfig",
        "logging.config",
        "logging.FileHandler",
    }
)
# Outside code known to do real work: CPU-heavy libraries (images, data frames, documents,
# parsing, ML) and file-system walks. Other outside code is not judged (FAA206 stays
# silent on it); FAA207 needs every call on the in-memory allowlist above.
_HEAVY = frozenset(
    {
        *("PIL", "cv2", "imageio", "skimage", "rembg", "qrcode", "matplotlib", "pytesseract"),
        *("numpy", "pandas", "polars", "scipy", "sklearn", "torch", "tensorflow"),
        *("transformers", "sentence_transformers", "whisper", "onnxruntime"),
        *("openpyxl", "xlsxwriter", "xlrd", "reportlab", "weasyprint", "pdfkit", "fitz"),
        *("pypdf", "PyPDF2", "pdfplumber", "docx", "pptx", "markdown", "mistune"),
        *("bs4", "lxml", "html5lib", "pydub", "moviepy", "ffmpeg", "zipfile", "tarfile"),
        *("os.walk", "os.listdir", "os.scandir", "os.remove", "os.unlink", "os.makedirs"),
        *("os.rename", "os.replace", "os.rmdir", "glob.glob", "glob.iglob"),
    }
)
# Outside base classes whose construction and methods work in memory.
_TRIVIAL_BASES = ("pydantic.", "enum.", "builtins.", "typing.", "fastapi.", "starlette.")
_TRIVIAL_BASE_NAMES = frozenset(
    {"object", "Exception", "ValueError", "TypeError", "KeyError", "RuntimeError", "dict"}
)
_MAX_TRIVIAL_DEPTH = 8

Verdict = Literal["trivial", "sink", "work", "unknown"]


def _in(name: str, table: frozenset[str]) -> bool:
    parts = name.split(".")
    return any(".".join(parts[:i]) in table for i in range(1, len(parts) + 1))


def _other_rule_sink(name: str) -> bool:
    """Calls other FAA2xx rules report (HTTP, stdlib, drivers, files, hashing, sessions)."""
    return (
        is_blocking_http(name)
        or is_blocking_stdlib(name)
        or _driver(name) is not None
        or name in _FILE_FUNCTIONS
        or _classify_hash_name(name)
        or name.rpartition(".")[0] in _PATH_TYPES
        or (
            name.rpartition(".")[0].endswith(".file")
            and name.partition(".file.")[0] in _UPLOAD_TYPES
        )
        or any(name.startswith(s + ".") for s in _SYNC_SESSION_TYPES)
    )


_SYNC_SESSION_TYPES = (
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlalchemy.orm.scoped_session",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
)


def _classify_hash_name(name: str) -> bool:
    if name in _HASH_FUNCTIONS:
        return True
    owner, _, method = name.rpartition(".")
    return method in _HASHER_METHODS and (owner + ".").startswith(_HASHER_PREFIXES)


@dataclass
class _WorkState:
    model: AppModel
    roots: frozenset[str]
    # id(fn.node) -> (verdict, chain of display names to the call that decided it)
    functions: dict[int, tuple[Verdict, list[str]]] = field(default_factory=dict)


def _work_state(model: AppModel) -> _WorkState:
    return project_index(model, _new_work_state)


def _new_work_state(model: AppModel) -> _WorkState:
    return _WorkState(model, frozenset(name.split(".", 1)[0] for name in model.project.modules))


def _trivial_class(state: _WorkState, qualname: str, depth: int) -> tuple[Verdict, list[str]]:
    """Constructing a project class: its `__init__` (project code), else its bases."""
    project = state.model.project
    init = project.method(qualname, "__init__")
    if init is not None:
        return _function_verdict(state, init, depth + 1)
    for base in project.mro(qualname):
        if project.class_(base) is not None:
            continue
        if base in _TRIVIAL_BASE_NAMES or base.startswith(_TRIVIAL_BASES):
            continue
        return "unknown", []
    return "trivial", []


def _call_verdict(
    state: _WorkState, site: CallSite, fn: Function, depth: int
) -> tuple[Verdict, list[str]]:
    """What one call of `fn` does (`_what_call_does`), except that work behind a
    load-once guard or in a branch no caller takes (`_runs_rarely`) is not held against
    `fn`: like a memoized function's, it runs on the first call only, if at all."""
    verdict = _what_call_does(state, site, fn, depth)
    if verdict[0] in ("work", "sink") and _runs_rarely(state.model, fn, site.node):
        return "unknown", []
    return verdict


def _what_call_does(
    state: _WorkState, site: CallSite, fn: Function, depth: int
) -> tuple[Verdict, list[str]]:
    """What one call of a sync function does: `trivial` (known to work in memory), `sink`
    (a call another FAA2xx rule reports), `work` (known outside code that is neither),
    or `unknown`; with the chain of names that shows it."""
    project = state.model.project
    names = _call_names(fn.module, fn, site, state.model)
    if not names:
        return "unknown", []
    name = names[-1]
    for candidate in names:
        # `requests.get(url).json()`: the result of a sink is the sink's business too.
        parts = candidate.split(".")
        for i in range(len(parts), 0, -1):
            if _other_rule_sink(".".join(parts[:i])):
                return "sink", [candidate]
    callee = project.function(names[0])
    if callee is not None:
        if callee.is_async:
            return "unknown", []
        verdict, chain = _function_verdict(state, callee, depth + 1)
        if verdict in ("work", "sink") and is_memoized(callee, project):
            return "unknown", []  # the work runs on the first call only
        return verdict, [callee.display, *chain]
    if project.class_(names[0]) is not None:
        verdict, chain = _trivial_class(state, project.canonical(names[0]), depth)
        return verdict, [names[0].rsplit(".", 1)[-1], *chain]
    owner = names[0].rpartition(".")[0]
    if owner and project.class_(owner) is not None:
        # An inherited outside method of a project class (`Book.model_validate`).
        verdict, _ = _trivial_class(state, project.canonical(owner), depth)
        if verdict == "trivial":
            return "trivial", []
        return "unknown", []
    head = name.split(".", 1)[0]
    if head in state.roots:
        return "unknown", []  # a project name the model could not follow
    if head in _TRIVIAL_BUILTINS:
        return "trivial", []  # `len(x)`, `dict.get`, `str.strip.title`
    if "." not in name:
        return "unknown", []
    if name.rpartition(".")[0] in _UPLOAD_TYPES or (name.partition(".file.")[0] in _UPLOAD_TYPES):
        return "unknown", []  # `UploadFile` methods are coroutines; `.file` is FAA204's
    if _in(name, _NOT_TRIVIAL) or _in(name, _HEAVY):
        return "work", [name]
    if _in(name, _TRIVIAL_MODULES):
        return "trivial", []
    return "unknown", []


_RANK: dict[Verdict, int] = {"trivial": 0, "unknown": 1, "work": 2, "sink": 3}


def _function_verdict(state: _WorkState, fn: Function, depth: int = 0) -> tuple[Verdict, list[str]]:
    """The worst verdict over the calls of a sync function, through the sync project
    functions it calls. A function still being looked at (recursion) counts trivial."""
    key = id(fn.node)
    if key in state.functions:
        return state.functions[key]
    if depth > _MAX_TRIVIAL_DEPTH:
        return "unknown", []
    state.functions[key] = ("trivial", [])
    worst: tuple[Verdict, list[str]] = ("trivial", [])
    for site in state.model.callgraph.calls_of(fn):
        verdict = _call_verdict(state, site, fn, depth)
        if _RANK[verdict[0]] > _RANK[worst[0]]:
            worst = verdict
            if verdict[0] == "sink":
                break
    state.functions[key] = worst
    return worst


def _awaits(fn: Function) -> bool:
    for node in body_nodes(fn.node):
        if isinstance(node, (ast.Await, ast.AsyncWith, ast.AsyncFor)):
            return True
        if isinstance(node, ast.comprehension) and node.is_async:
            return True
    return False


def _request_functions(ctx: ProjectContext, is_async: bool) -> list[Function]:
    """Route handlers and dependencies FastAPI calls per request, sync or async."""
    seen: set[int] = set()
    out: list[Function] = []
    candidates = [route.handler for route in ctx.model.routes]
    candidates += [fn for fn in ctx.project.functions.values() if ctx.model.is_dependency(fn)]
    for fn in candidates:
        if fn.is_async == is_async and id(fn.node) not in seen:
            seen.add(id(fn.node))
            out.append(fn)
    return out


@rule(
    code="FAA206",
    name="async-route-without-await",
    summary="An `async def` route or dependency never awaits but runs sync library code "
    "on the event loop",
    severity="warning",
    scope="project",
    fix_title="Declare it with `def` (FastAPI runs it in the threadpool), or await async "
    "equivalents",
    references=(
        "https://fastapi.tiangolo.com/async/#path-operation-functions",
        "https://github.com/astral-sh/ruff/issues/12925",
    ),
)
def async_route_without_await(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds `async def` routes and dependencies that contain no `await`, `async with` or
    `async for`, yet call library code that does real work: an outside function that is
    not on the in-memory allowlist (builtins, `datetime`, `json`, `pydantic`, `fastapi`,
    `jwt`, `logging`, query builders such as `sqlalchemy.select`...), directly or
    through the sync project functions they call (`report` → `exports.build_sheet` →
    `openpyxl.load_workbook`). Calls other FAA2xx rules report (HTTP clients, drivers,
    file I/O, hashing, sleeps, sync ORM sessions) are left to them.

    ## Why is this bad?
    FastAPI treats the two kinds of path operations differently: an `async def` runs on
    the event loop, a `def` runs in the threadpool. A coroutine that never awaits gains
    nothing from being `async`, but everything it calls runs on the loop and holds every
    other request of the worker while it works. Declared with `def`, the same code
    would run in a worker thread. ruff's RUF029 deliberately skips FastAPI routes
    (ruff#12925).

    ## Known problems
    Calls whose target cannot be inferred, constructors of outside classes and project
    code the model cannot follow count as trivial, so the rule errs toward silence. The
    work of a memoized project function (`@cache`, `@lru_cache`) runs on its first call
    only, so it is not held against the coroutine; nor is work behind a hand-written
    load-once guard (`if not _translations: _load_translations()`, where the loader
    fills the module-level dict) or in a branch no project caller takes, judged as
    FAA204 judges them. A coroutine that only builds a response from its arguments is
    not reported: `async def` without `await` is the cheapest choice for it.

    ## Example
    ```python
    @router.get("/reports/{report_id}.xlsx")
    async def download_report(report_id: int) -> Response:
        workbook = openpyxl.load_workbook(f"/srv/reports/{report_id}.xlsx")
        return Response(to_bytes(workbook), media_type=XLSX)
    ```

    ## Use instead
    ```python
    @router.get("/reports/{report_id}.xlsx")
    def download_report(report_id: int) -> Response:
        workbook = openpyxl.load_workbook(f"/srv/reports/{report_id}.xlsx")
        return Response(to_bytes(workbook), media_type=XLSX)
    ```

    ## Fix safety
    There is no automatic fix: turning `async def` into `def` changes where the code
    runs (thread-safety of what it touches).
    """
    state = _work_state(ctx.model)
    for fn in _request_functions(ctx, is_async=True):
        if _awaits(fn):
            continue
        for site in ctx.model.callgraph.calls_of(fn):
            verdict, chain = _call_verdict(state, site, fn, 0)
            if verdict != "work":
                continue
            path = " → ".join(f"`{n}`" for n in chain)
            kind = "route" if ctx.model.routes_of(fn) else "dependency"
            yield Report(
                fn.node,
                f"`async def {fn.name}` never awaits, yet runs sync code on the event loop "
                f"({path}, line {site.node.lineno}): declare the {kind} with `def` so "
                "FastAPI runs it in the threadpool",
                fn.module,
            )
            break


@rule(
    code="FAA207",
    name="trivial-sync-dependency",
    summary="A sync `def` dependency does no I/O, yet FastAPI runs it in the threadpool",
    severity="info",
    default_enabled=False,
    scope="project",
    fix_title="Declare the dependency with `async def`",
    references=(
        "https://fastapi.tiangolo.com/async/#dependencies",
        "https://github.com/astral-sh/ruff/issues/15279",
    ),
)
def trivial_sync_dependency(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds sync `def` functions used as dependencies (`Depends(...)`, `Security(...)`, at
    any depth) whose every call, including those of the project functions they call,
    is known to work in memory: builtins, `datetime`, `uuid`, `json`, `pydantic` models,
    `fastapi`/`starlette` helpers, `jwt`, `logging` and the like. A dependency that only
    reads `request.app.state`, checks a header or decodes a JWT is one of them.

    Opt-in: select it with `--select FAA207`.

    ## Why is this bad?
    FastAPI runs every sync dependency in the threadpool (`run_in_threadpool`), one
    hop per request and per dependency. For a function that does no I/O the hop costs
    more than the work, and under load it waits for a free thread among the pool's 40,
    behind the slow work the pool exists for. Declared with `async def`, it runs inline
    on the event loop at no cost.

    ## Known problems
    "No I/O" means every call is on an allowlist: a dependency calling anything the
    rule does not know (or cannot resolve) is left alone. Class dependencies
    (`Depends(CommonQueryParams)`) are not reported. ruff's maintainers raised the
    false-positive risk of this check (ruff#15279), which is why it is off by default.

    ## Example
    ```python
    def get_settings(request: Request) -> Settings:
        return request.app.state.settings
    ```

    ## Use instead
    ```python
    async def get_settings(request: Request) -> Settings:
        return request.app.state.settings
    ```

    ## Fix safety
    There is no automatic fix: a dependency that turns `async` must never do blocking
    work later.
    """
    state = _work_state(ctx.model)
    for fn in _request_functions(ctx, is_async=False):
        if ctx.model.routes_of(fn) or not ctx.model.is_dependency(fn) or fn.class_qualname:
            continue  # class dependencies (their `__init__`) are left alone
        verdict, _chain = _function_verdict(state, fn)
        if verdict != "trivial":
            continue
        yield Report(
            fn.node,
            f"`{fn.name}` is a sync dependency that does no I/O: FastAPI runs it in the "
            "threadpool for nothing; declare it with `async def`",
            fn.module,
        )
