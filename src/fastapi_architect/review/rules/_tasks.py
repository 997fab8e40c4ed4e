"""The tasks a coroutine starts (`asyncio.create_task`, a task group's `start_soon`,
`BackgroundTasks.add_task`, an `AsyncIOScheduler` job), and whether it waits for each
before it goes on: what tells the startup code's own work from what it leaves running
while the server serves (`concurrency.serving_coroutines`)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import cast

from fastapi_architect.model.astutil import (
    body_nodes,
    call_name,
    dotted,
    keyword,
    last_name,
    walk,
    walk_nodes,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Function, Project
from fastapi_architect.model.types import infer_type, resolve_callee

# Decorators that turn a coroutine into a loop started in the background
# (fastapi-utils / fastapi-restful `repeat_every`, fastapi-utilities `repeat_at`).
_SCHEDULED_LOOPS = frozenset({"repeat_every", "repeat_at"})


def scheduled_loop(project: Project, fn: Function) -> bool:
    """Is `fn` decorated to run as a loop in the background (`@repeat_every(seconds=60)`)?"""
    for decorator in fn.node.decorator_list:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = project.resolve(fn.module, func, fn.parent) or dotted(func)
        if last_name(name) in _SCHEDULED_LOOPS:
            return True
    return False


# Calls that start a coroutine as a task on the running loop and return without waiting
# for it, given the coroutine (`create_task(poll())`) or the function (`start_soon(poll)`
# of a task group; `add_task(send)` of FastAPI's `BackgroundTasks`, run on the loop after
# the response; `add_job(poll, ...)` of APScheduler's `AsyncIOScheduler`).
_TASK_OF_COROUTINE = frozenset({"create_task", "ensure_future"})
_TASK_OF_FUNCTION = frozenset({"start_soon", "add_task", "add_job"})
# The receivers of `add_task`/`add_job` that run the job on the server's loop: any other
# known class may run it anywhere (a job queue's worker process, a thread's scheduler).
_LOOP_RUNNERS = {"add_task": "BackgroundTasks", "add_job": "AsyncIOScheduler"}
# `run_coroutine_threadsafe(coro, loop)` runs on the loop it is given: the server's own
# when that is the running loop.
_THREADSAFE = "run_coroutine_threadsafe"
_RUNNING_LOOP = frozenset({"get_running_loop", "get_event_loop"})
# Wrappers that still run the coroutine they are given (`create_task(shield(poll()))`).
_COROUTINE_WRAPPERS = frozenset({"shield", "wait_for"})
# Context managers that wait for the tasks started in their block.
_TASK_GROUPS = frozenset({"TaskGroup", "create_task_group", "open_nursery"})
# Methods that keep a task in a collection (`tasks.append(create_task(...))`).
_KEEPERS = frozenset({"append", "add", "extend", "insert"})


def started_tasks(
    model: AppModel, fn: Function, *, startup: bool = False, background_only: bool = False
) -> list[tuple[Function, bool]]:
    """The project coroutines `fn` starts as tasks, each with whether it runs only while
    `fn` does: waited for before the function's next `yield` (awaited, directly or
    through `gather`/`wait`/a loop, also by the name, attribute or collection it is kept
    in; or started in a task group closed before that `yield`), or started after the
    last `yield` (a lifespan's shutdown, when nothing is served). `startup`: `fn` is a
    lifespan or startup handler."""
    key = ("started-tasks", id(fn.node), startup, background_only)
    found = fn.derived.get(key)
    if found is None:
        found = fn.derived[key] = tuple(_find_started_tasks(model, fn, startup, background_only))
    return list(cast(tuple[tuple[Function, bool], ...], found))


def _find_started_tasks(
    model: AppModel, fn: Function, startup: bool, background_only: bool
) -> Iterator[tuple[Function, bool]]:
    """(`background_only`: a sync route or dependency, run in the threadpool, where only
    `BackgroundTasks` hands a coroutine to the server's loop; a task it starts on a loop
    of its own runs in its thread.)"""
    project = model.project
    nodes = list(body_nodes(fn.node))
    parents: dict[int, ast.AST] = {}
    for node in nodes:
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    yields = sorted(n.lineno for n in nodes if isinstance(n, (ast.Yield, ast.YieldFrom)))
    # After the last `yield` of a lifespan, or of a context manager the startup code
    # enters around its own, is shutdown, when nothing is served (not in a generator that
    # yields in a loop, whose code after `yield` runs again and again).
    shutdown_after = (
        yields[-1]
        if yields and (startup or _context_manager(project, fn)) and not _yields_in_loop(fn)
        else None
    )
    waits = _waits(nodes)
    for node in nodes:
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = call_name(node) or ""
        if background_only and name not in _LOOP_RUNNERS:
            continue
        first = node.args[0]
        if name in _TASK_OF_COROUTINE or (name == _THREADSAFE and _on_running_loop(fn, node)):
            coroutine = _unwrapped_coroutine(fn, first)
            target = coroutine.func if isinstance(coroutine, ast.Call) else None
        elif name in _TASK_OF_FUNCTION:
            if name in _LOOP_RUNNERS and not _runs_on_loop(model, fn, node, name):
                continue
            target = first
        else:
            continue
        task = project.function(resolve_callee(project, fn.module, target, fn)) if target else None
        if task is None or not task.is_async:
            continue
        if shutdown_after is not None and node.lineno > shutdown_after:
            yield task, True
            continue
        # Only what is waited for between the start and the next `yield` runs before
        # serving.
        cutoff = next((line for line in yields if line > node.lineno), None)
        awaited = {
            held
            for line, held in waits
            if line >= node.lineno and (cutoff is None or line < cutoff)
        }
        yield task, _joined(fn, node, parents, awaited, cutoff)


def _yields_in_loop(fn: Function) -> bool:
    return any(
        isinstance(node, (ast.For, ast.AsyncFor, ast.While))
        and any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in walk_nodes([node]))
        for node in body_nodes(fn.node)
    )


def _context_manager(project: Project, fn: Function) -> bool:
    """`@asynccontextmanager` (or `@contextmanager`): the code after its `yield` is its
    exit."""
    return any(
        last_name(
            project.resolve(fn.module, d.func if isinstance(d, ast.Call) else d, fn.parent)
            or dotted(d.func if isinstance(d, ast.Call) else d)
        )
        in ("asynccontextmanager", "contextmanager")
        for d in fn.node.decorator_list
    )


def _runs_on_loop(model: AppModel, fn: Function, call: ast.Call, name: str) -> bool:
    """`tasks.add_task(send)` on FastAPI's `BackgroundTasks` (or a receiver of unknown
    type, like a `Depends()` parameter without annotation), `scheduler.add_job(...)` on
    an `AsyncIOScheduler`: not on another class known to run jobs elsewhere."""
    if not isinstance(call.func, ast.Attribute):
        return False
    receiver = call.func.value
    kind = infer_type(model.project, fn.module, receiver, fn)
    if kind is None:
        # Unknown: FastAPI's or APScheduler's when named so (`background_tasks`, `bg`,
        # `tasks`), or when the project has no class of its own with that method (a job
        # queue handing jobs to a worker process).
        words = [w for w in re.split(r"[^a-z0-9]+", (_holder(receiver) or "").lower()) if w]
        if words and (words[-1] in ("bg", "tasks") or "background" in words):
            return True
        return not any(name in cls.methods for cls in model.project.classes.values())
    return last_name(kind) == _LOOP_RUNNERS[name]


def _on_running_loop(fn: Function, call: ast.Call) -> bool:
    """`run_coroutine_threadsafe(coro, asyncio.get_running_loop())`, or a local bound
    to it: the server's own loop, not another thread's."""
    loop = call.args[1] if len(call.args) > 1 else keyword(call, "loop")
    if isinstance(loop, ast.Name):
        loop = fn.local_values.get(loop.id)
    return isinstance(loop, ast.Call) and call_name(loop) in _RUNNING_LOOP


def _holder(expr: ast.expr) -> str | None:
    """The name or dotted attribute a task is kept in (`task`, `app.state.loader`)."""
    if isinstance(expr, ast.Name):
        return expr.id
    return dotted(expr) if isinstance(expr, ast.Attribute) else None


# Awaited calls that wait until the tasks in their arguments are done (`wait` only
# without a `timeout`, after which it returns with tasks still running).
_WAITS_FOR_ALL = frozenset({"gather", "wait_for", "shield"})


def _waits(nodes: list[ast.AST]) -> list[tuple[int, str]]:
    """Where the function waits until a task kept in a name or attribute is done, and
    that holder: `await task`, `await gather(*tasks)`, `await wait_for(gather(*feeds),
    30)`, `await wait(pending)` (no timeout), a loop awaiting each (`for t in tasks:
    await wait_for(t, 10)`), and `done, pending = await wait(tasks, timeout=5)` followed
    by a wait for `pending` (the stragglers cancelled and reaped)."""
    out: list[tuple[int, str]] = []
    partial: dict[str, list[str]] = {}  # `pending` -> the tasks `wait(..., timeout)` got
    for node in nodes:
        if isinstance(node, ast.Await):
            for held in _waited_holders(node.value):
                out.append((node.lineno, held))
                out.extend((node.lineno, more) for more in partial.get(held, []))
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Await)
            and isinstance(node.value.value, ast.Call)
            and call_name(node.value.value) == "wait"
            and node.value.value.args
            and isinstance(node.targets[0], ast.Tuple)
            and len(node.targets[0].elts) == 2
            and isinstance(node.targets[0].elts[1], ast.Name)
        ):
            partial[node.targets[0].elts[1].id] = _holders_in(node.value.value.args[0])
        elif (
            isinstance(node, (ast.For, ast.AsyncFor))
            and isinstance(node.target, ast.Name)
            and isinstance(node.iter, (ast.Name, ast.Attribute))
        ):
            variable = node.target.id
            if any(
                isinstance(n, ast.Await) and variable in _waited_holders(n.value)
                for stmt in node.body
                for n in walk(stmt)
            ):
                iterated = _holder(node.iter)
                if iterated is not None:
                    out.append((node.lineno, iterated))
    return out


def _waited_holders(expr: ast.expr, depth: int = 0) -> list[str]:
    """The tasks an awaited expression waits for until they are done."""
    held = _holder(expr) if isinstance(expr, (ast.Name, ast.Attribute)) else None
    if held is not None:
        return [held]
    if not isinstance(expr, ast.Call) or depth > 3:
        return []
    name = call_name(expr) or ""
    timeout = keyword(expr, "timeout")
    bounded = timeout is not None and not (
        isinstance(timeout, ast.Constant) and timeout.value is None
    )
    if name not in _WAITS_FOR_ALL and not (name == "wait" and not bounded):
        return []
    args = expr.args[:1] if name in ("wait_for", "shield", "wait") else expr.args
    out: list[str] = []
    for arg in args:
        inner = arg.value if isinstance(arg, ast.Starred) else arg
        if isinstance(inner, ast.Call) and call_name(inner) in _WAITS_FOR_ALL | {"wait"}:
            out += _waited_holders(inner, depth + 1)  # `wait_for(gather(*feeds), 30)`
        else:
            out += _holders_in(inner)
    return out


def _holders_in(expr: ast.expr) -> list[str]:
    """The names or attributes a collection of tasks is read from: `tasks`,
    `[a, b]`, `list(tasks)`, `geo.values()`, `list(geo.values())`."""
    for _ in range(3):
        if isinstance(expr, ast.Call) and call_name(expr) in ("list", "tuple", "set"):
            if not expr.args:
                return []
            expr = expr.args[0]
        elif (
            isinstance(expr, ast.Call)
            and call_name(expr) == "values"
            and isinstance(expr.func, ast.Attribute)
        ):
            expr = expr.func.value
        else:
            break
    elements = expr.elts if isinstance(expr, (ast.List, ast.Tuple, ast.Set)) else [expr]
    return [
        held
        for element in elements
        if isinstance(element, (ast.Name, ast.Attribute)) and (held := _holder(element)) is not None
    ]


def _unwrapped_coroutine(fn: Function, expr: ast.expr) -> ast.expr:
    """The coroutine call a task is started from: through `shield(...)`/`wait_for(...)`
    and a local it was kept in (`poller = poll(); create_task(poller)`)."""
    for _ in range(4):
        if isinstance(expr, ast.Call) and call_name(expr) in _COROUTINE_WRAPPERS:
            if not expr.args:
                break
            expr = expr.args[0]
        elif isinstance(expr, ast.Name) and isinstance(fn.local_values.get(expr.id), ast.Call):
            value = fn.local_values[expr.id]
            assert value is not None
            expr = value
        else:
            break
    return expr


def _joined(
    fn: Function,
    call: ast.Call,
    parents: dict[int, ast.AST],
    awaited: set[str],
    cutoff: int | None,
) -> bool:
    node: ast.AST = call
    while True:
        parent = parents.get(id(node))
        if parent is None:
            return False
        if isinstance(parent, ast.Await):
            return cutoff is None or parent.lineno < cutoff
        kept = _kept_in(parent, node)
        if kept is not None and kept in awaited:
            return True
        if (
            isinstance(parent, ast.AsyncWith)
            and node in parent.body
            and _task_group(fn, parent, call)
        ):
            # The group waits for its tasks at the end of the block, unless the
            # function yields inside it (a lifespan serving while the group runs).
            return not any(
                isinstance(n, (ast.Yield, ast.YieldFrom))
                for stmt in parent.body
                for n in ast.walk(stmt)
            )
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        node = parent


def _task_group(fn: Function, block: ast.AsyncWith, call: ast.Call) -> bool:
    """Is `call` a task started on the group this block opens (`tg.create_task(...)` in
    `async with asyncio.TaskGroup() as tg`, anyio's `create_task_group()`, a nursery,
    also made first and bound to a name: `tg = TaskGroup()`, then `async with tg`)? The
    group waits for its own tasks only, not for `asyncio.create_task(...)` in its block."""
    func = call.func
    receiver = _holder(func.value) if isinstance(func, ast.Attribute) else None
    if receiver is None:
        return False
    for item in block.items:
        made: ast.expr | None = item.context_expr
        bound = item.optional_vars
        names = {_holder(bound)} if isinstance(bound, (ast.Name, ast.Attribute)) else set()
        if isinstance(made, ast.Name):
            names.add(made.id)
            made = fn.local_values.get(made.id)
        if receiver in names and isinstance(made, ast.Call) and call_name(made) in _TASK_GROUPS:
            return True
    return False


def _kept_in(parent: ast.AST, node: ast.AST) -> str | None:
    """The name or attribute a task (or the comprehension making it) is stored in:
    `task = ...`, `task: Task = ...`, `app.state.loader = ...`, `tasks.append(...)`,
    `tasks += [...]`."""
    if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and parent.value is node:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        held = [_holder(t) for t in targets]
        return next((h for h in held if h is not None), None)
    if (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Attribute)
        and parent.func.attr in _KEEPERS
        and node in parent.args
    ):
        return _holder(parent.func.value)
    return None
