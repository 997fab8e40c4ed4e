"""SQLAlchemy instrumentation through public event hooks, on every engine and session.

The listeners are attached to the classes, `sqlalchemy.engine.Engine` and
`sqlalchemy.orm.Session`, not to instances: engines and sessions the application
created before `install()` or creates after it are covered alike, and an
`AsyncEngine` is covered through the sync `Engine` it drives. The user never
passes an engine in.

- `before_cursor_execute` / `after_cursor_execute` time each statement sent to
  the driver and record it, normalized, with the user's code line that issued it;
- `do_orm_execute` marks a relationship lazy load ("Author.books") through an
  execution option, so the statement it emits carries the relationship's name.

A statement is recorded into the request in progress (`current_request`) and
into every active query counter (`counting.active`); with neither, the hooks
return at once. SQLAlchemy is imported only by `install()`: the tool does not
depend on it.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from fastapi_architect.runtime import counting
from fastapi_architect.runtime.frames import user_location_here
from fastapi_architect.runtime.scope import Query, current_request
from fastapi_architect.runtime.sql import normalize

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, ExecutionContext
    from sqlalchemy.orm import ORMExecuteState

_STARTED = "_fastapi_architect_started"  # attribute set on the ExecutionContext
_LAZY_OPTION = "_fastapi_architect_lazy_load"  # execution option: "Author.books"

_lock = threading.Lock()
_installed = False


def install() -> bool:
    """Attach the listeners (idempotent); True when this call attached them.

    False as well when SQLAlchemy is not installed: there is nothing to observe.
    """
    global _installed
    with _lock:
        if _installed:
            return False
        try:
            from sqlalchemy import event
            from sqlalchemy.engine import Engine
            from sqlalchemy.orm import Session
        except ImportError:
            return False
        event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
        event.listen(Engine, "after_cursor_execute", _after_cursor_execute)
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
        from sqlalchemy.engine import Engine
        from sqlalchemy.orm import Session

        event.remove(Engine, "before_cursor_execute", _before_cursor_execute)
        event.remove(Engine, "after_cursor_execute", _after_cursor_execute)
        event.remove(Session, "do_orm_execute", _do_orm_execute)
        _installed = False


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


def _before_cursor_execute(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    executemany: bool,
) -> None:
    if context is not None and _observed():
        setattr(context, _STARTED, time.perf_counter())


def _after_cursor_execute(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    executemany: bool,
) -> None:
    if context is None:
        return
    started: float | None = context.__dict__.pop(_STARTED, None)
    if started is None:
        return
    duration_ms = (time.perf_counter() - started) * 1000.0
    query = Query(
        statement=normalize(statement),
        location=user_location_here(),
        duration_ms=duration_ms,
        lazy_load=context.execution_options.get(_LAZY_OPTION),
    )
    scope = current_request.get()
    if scope is not None:
        scope.queries.append(query)
    for counter in counting.active:
        counter.queries.append(query)
