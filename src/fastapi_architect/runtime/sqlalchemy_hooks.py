"""SQLAlchemy instrumentation through public event hooks, on every engine and session.

The listeners are attached to classes, not to instances: engines and sessions the
application created before `install()` or creates after it are covered alike,
and an `AsyncEngine` is covered through the sync `Engine` it drives. The user
never passes an engine in.

- the dialect events `do_execute`, `do_execute_no_params` and `do_executemany`,
  listened for on `Engine` (that is, on every dialect), see each statement just
  before the driver runs it, and record it normalized. They are chosen over the
  connection events `before/after_cursor_execute` for their cost: a connection
  listener switches on a dozen other event checks on every execution, which made
  the instrumented app measurably slower; a dialect listener costs one call.
  The price is that a statement's own duration is not measured (no report uses it).
- `do_orm_execute` marks a relationship lazy load ("Author.books") through an
  execution option, so the statement it emits carries the relationship's name.

A statement is recorded into the request in progress (`current_request`) and
into every active query counter (`counting.active`); with neither, the hooks
return at once. SQLAlchemy is imported only by `install()`: the tool does not
depend on it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from fastapi_architect.runtime import counting
from fastapi_architect.runtime.frames import user_location_here
from fastapi_architect.runtime.scope import Query, current_request
from fastapi_architect.runtime.sql import normalize

if TYPE_CHECKING:
    from sqlalchemy.engine import ExecutionContext
    from sqlalchemy.orm import ORMExecuteState

_LAZY_OPTION = "_fastapi_architect_lazy_load"  # execution option: "Author.books"

_lock = threading.Lock()
_installed = False
# `Dialect._has_events` before install() set it: uninstall() puts it back when no other
# dialect listener remains, so that an uninstrumented app pays nothing afterwards
_dialect_had_events = False


def install() -> bool:
    """Attach the listeners (idempotent); True when this call attached them.

    False as well when SQLAlchemy is not installed: there is nothing to observe.
    """
    global _installed, _dialect_had_events
    with _lock:
        if _installed:
            return False
        try:
            from sqlalchemy import event
            from sqlalchemy.engine import Dialect, Engine
            from sqlalchemy.orm import Session
        except ImportError:
            return False
        _dialect_had_events = bool(Dialect._has_events)
        for name, listener in _listeners():
            event.listen(Engine, name, listener)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        _installed = True
        return True


def uninstall() -> None:
    """Remove the listeners (idempotent)."""
    global _installed
    with _lock:
        if not _installed:
            return
        from sqlalchemy import event
        from sqlalchemy.engine import Dialect, Engine
        from sqlalchemy.orm import Session

        for name, listener in _listeners():
            event.remove(Engine, name, listener)
        event.remove(Session, "do_orm_execute", _do_orm_execute)
        if not _dialect_had_events and not _class_listeners_remain(Dialect.dispatch):
            Dialect._has_events = False
        _installed = False


def _class_listeners_remain(dispatch: Any) -> bool:
    """Whether any class-level dialect listener is left (ours are removed by now).

    Reads SQLAlchemy's listener registry; should its shape change, the answer is
    "yes", which leaves the flag set: a little slower, never a lost listener.
    """
    for name in getattr(dispatch, "_event_names", ()):
        levels = getattr(getattr(dispatch, name, None), "_clslevel", None)
        if levels is None or any(levels.values()):
            return True
    return False


def is_installed() -> bool:
    return _installed


def _observed() -> bool:
    return current_request.get() is not None or bool(counting.active)


def _do_orm_execute(state: ORMExecuteState) -> None:
    # only a SELECT can be a lazy load; asking an INSERT or a text() statement
    # for `lazy_loaded_from` raises InvalidRequestError
    if not _observed() or not state.is_select:
        return
    parent = state.lazy_loaded_from  # set only by the lazy loader
    if parent is None:
        return
    prop = getattr(state.loader_strategy_path, "prop", None)
    key = getattr(prop, "key", None)
    name = parent.class_.__name__ + (f".{key}" if key else "")
    state.update_execution_options(**{_LAZY_OPTION: name})


def _listeners() -> tuple[tuple[str, Any], ...]:
    return (
        ("do_execute", _do_execute),
        ("do_execute_no_params", _do_execute_no_params),
        ("do_executemany", _do_executemany),
    )


# A dialect listener that returns a true value tells SQLAlchemy it ran the statement
# itself: these return None, and the driver runs it as usual.
def _do_execute(cursor: Any, statement: str, parameters: Any, context: Any) -> None:
    _record(statement, context)


def _do_execute_no_params(cursor: Any, statement: str, context: Any) -> None:
    _record(statement, context)


def _do_executemany(cursor: Any, statement: str, parameters: Any, context: Any) -> None:
    _record(statement, context)


def _record(statement: str, context: ExecutionContext | None) -> None:
    scope = current_request.get()
    counters = counting.active
    if scope is None and not counters:
        return
    normalized = normalize(statement)
    lazy_load = None if context is None else context.execution_options.get(_LAZY_OPTION)
    # the stack walk is the costly part: a request needs a location only for a statement
    # it repeats (a candidate N+1); a query counter lists every statement with its line
    location = None
    if counters or (scope is not None and normalized in scope.seen):
        location = user_location_here()
    query = Query(statement=normalized, location=location, lazy_load=lazy_load)
    if scope is not None:
        if normalized in scope.seen:
            scope.repeated = True
        else:
            scope.seen.add(normalized)
        scope.queries.append(query)
    for counter in counters:
        counter.queries.append(query)
