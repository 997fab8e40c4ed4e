"""Event-loop blocking: a loop step that runs longer than the threshold inside a request.

A heartbeat callback on each watched loop notes the time it ran and schedules
itself again (`loop.call_later`), so it needs nothing from the loop but the public
API and works under asyncio and uvloop alike. One watchdog thread polls the
heartbeats. While a step runs, nothing else on that loop does: the heartbeat
falls behind, and `now - (last beat + interval)` is a lower bound of how long the
step has been running. Once that passes the threshold, the watchdog samples the
loop thread's stack (`sys._current_frames()`), while the step is still running:

- the request is the `RequestScope` in the locals of the middleware's frame,
  found by walking the sampled frames outwards; when the step runs in a child
  task the request started (a streaming body, a `BaseHTTPMiddleware` below ours),
  that frame is in another task and the request is read from the context the
  running task carries, where the middleware's `current_request` is set;
- the location is the first frame of the user's project, innermost first
  (`frames.user_location`), above the middleware's frame (or above the task's
  first frame): what runs below it is not the request's code (the server, user
  middlewares outside ours, a `uvicorn.run(...)` line in the user's `main.py`).

A stall is recorded only when two samples, one before and one past the
threshold, show the same task in the same request: a loop merely busy with many
short steps (many requests at once) delays the heartbeat too, but its samples
show different tasks. Work in the threadpool (sync `def` path operations,
`run_in_threadpool`, `asyncio.to_thread`) leaves the loop free to beat and is
never reported.

The `Blocking` is added to the request while the step still runs, so it is there
before the request ends; its duration grows with each poll and is settled on the
loop thread when the step ends (by the next heartbeat, or by the middleware when
the request ends within the same step). The step began between the last beat and
the beat that did not come, so the duration is exact to half a heartbeat interval.

Costs: while requests are in flight on a loop, a heartbeat every `threshold / 10`
(10 ms by default), and the thread looks every `threshold / 4` (25 ms). Per
request, a counter up and down. An idle loop is not woken: the heartbeat stops at
the first beat with no request in flight and the next request starts it; after a
second without heartbeats the thread looks once a second, until a heartbeat
starts again and wakes it. It ends by itself when every watched loop is closed
(`stop()` ends it at once), and starts afresh in a forked child.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import inspect
import os
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from types import CodeType, FrameType

from fastapi_architect.runtime.frames import user_location
from fastapi_architect.runtime.scope import Blocking, RequestScope, current_request
from fastapi_architect.runtime.settings import get_settings

THREAD_NAME = "fastapi-architect-watchdog"

_COROUTINE_FLAGS = inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE | inspect.CO_ASYNC_GENERATOR


def heartbeat_interval(threshold_ms: float) -> float:
    """Seconds between heartbeats: a tenth of the threshold, within 1-20 ms."""
    return min(max(threshold_ms / 10.0, 1.0), 20.0) / 1000.0


def poll_interval(threshold_ms: float) -> float:
    """Seconds between the watchdog's looks: a quarter of the threshold, within 1-50 ms."""
    return min(max(threshold_ms / 4.0, 1.0), 50.0) / 1000.0


# after this long without a heartbeat (no request anywhere), the thread looks once a
# second, for closed loops; the next request's heartbeat wakes it up at once
_IDLE_AFTER = 1.0
_IDLE_POLL = 1.0


@dataclass(slots=True, eq=False)
class _OpenStall:
    """A reported step that has not ended yet: its duration is still growing."""

    blocking: Blocking
    request: RequestScope
    started: float  # monotonic estimate: halfway between the last beat and the missed one
    beat: float  # the last beat before the step


class _LoopWatch:
    """The heartbeat of one loop and what the watchdog knows of its current stall.

    The heartbeat runs while requests are in flight on the loop: the first request
    starts it, and a beat that finds none in flight does not schedule the next one.
    An idle loop is not woken up.
    """

    __slots__ = (
        "active",
        "beating",
        "first",
        "in_flight",
        "interval",
        "last_beat",
        "loop",
        "open",
        "reported",
        "stall_beat",
        "thread_id",
        "watchdog",
    )

    def __init__(self, watchdog: Watchdog, loop: asyncio.AbstractEventLoop) -> None:
        self.watchdog = watchdog
        self.loop = weakref.ref(loop)
        self.active = True
        self.beating = False  # a beat is scheduled (loop thread writes, watchdog thread reads)
        self.in_flight = 0  # requests in progress on the loop (loop thread only)
        self.thread_id = threading.get_ident()
        self.last_beat = time.monotonic()
        self.interval = watchdog.interval
        # the stall under observation, named by the beat it follows (watchdog thread only)
        self.stall_beat: float | None = None
        self.first: tuple[asyncio.Task[object] | None, RequestScope] | None = None
        self.reported = False
        self.open: _OpenStall | None = None

    def start(self) -> None:
        """Runs on the loop thread when a request enters and no beat is scheduled."""
        self.last_beat = time.monotonic()  # before `beating`: never a stale beat in view
        self.beating = True
        self.watchdog.wake_if_idle()
        self.beat()

    def beat(self) -> None:
        """Runs on the loop thread: note the time, settle an ended stall, beat again later."""
        now = time.monotonic()
        self.last_beat = now
        self.thread_id = threading.get_ident()
        if self.open is not None:
            self.watchdog.close_stall(self, now)
        loop = self.loop()
        if loop is None or not self.active or self.in_flight <= 0:
            self.beating = False
            return
        self.interval = self.watchdog.interval
        loop.call_later(self.interval, self.beat)

    def forget_stall(self) -> None:
        self.stall_beat = None
        self.first = None
        self.reported = False


@dataclass(slots=True, eq=False)
class _Control:
    """How to reach one watchdog thread."""

    wake: threading.Event = field(default_factory=threading.Event)
    stopped: bool = False


class Watchdog:
    """Heartbeats on the watched loops and the thread that notices when one stops beating."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: list[_LoopWatch] = []
        self._thread: threading.Thread | None = None
        self._control: _Control | None = None
        self._idle = False  # the thread waits long: no heartbeat for a while
        # the loop of the last request and its watch, read as one (loops in several threads)
        self._last: tuple[asyncio.AbstractEventLoop, _LoopWatch] | None = None
        self.interval = heartbeat_interval(get_settings().blocking_threshold_ms)
        # code object -> name of its local that holds the request (the middleware's frame)
        self._scope_codes: dict[CodeType, str] = {}

    def register_scope_code(self, code: CodeType, local: str) -> None:
        """Frames running `code` keep the request in progress in their local `local`."""
        self._scope_codes[code] = local

    def enter(self) -> _LoopWatch | None:
        """A request starts on the running loop: count it and keep the heartbeat going.

        The caller decrements `in_flight` of the returned watch when the request ends.
        None when not on an asyncio loop (trio): there is nothing to watch.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        last = self._last
        watch = last[1] if last is not None and last[0] is loop else self.watch(loop)
        watch.in_flight += 1
        if not watch.beating:
            watch.start()
        return watch

    def watch(self, loop: asyncio.AbstractEventLoop) -> _LoopWatch:
        """The watch of `loop`, created (and the thread started) when there is none."""
        with self._lock:
            for watch in self._watches:
                if watch.loop() is loop:
                    break
            else:
                self.interval = heartbeat_interval(get_settings().blocking_threshold_ms)
                watch = _LoopWatch(self, loop)
                self._watches.append(watch)
                if self._thread is None:
                    self._control = control = _Control()
                    self._thread = threading.Thread(
                        target=self._run, args=(control,), name=THREAD_NAME, daemon=True
                    )
                    self._thread.start()
            self._last = (loop, watch)
            return watch

    def wake_if_idle(self) -> None:
        """A heartbeat starts: have the thread look at the usual pace again."""
        control = self._control
        if self._idle and control is not None:
            control.wake.set()

    def settle(self, request: RequestScope) -> None:
        """End the open stall of `request`: its step ends now (called on the loop thread)."""
        now = time.monotonic()
        with self._lock:
            for watch in self._watches:
                if watch.open is not None and watch.open.request is request:
                    self._close(watch, now)

    def close_stall(self, watch: _LoopWatch, end: float) -> None:
        with self._lock:
            self._close(watch, end)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every heartbeat and the thread, and wait for the thread to end."""
        now = time.monotonic()
        with self._lock:
            for watch in self._watches:
                watch.active = False
                self._close(watch, now)
            self._watches.clear()
            self._last = None
            thread, control = self._thread, self._control
            self._thread = self._control = None
        if control is not None:
            control.stopped = True
            control.wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's loops and thread are not this process's."""
        self._lock = threading.Lock()
        self._watches = []
        self._thread = self._control = None
        self._idle = False
        self._last = None

    def is_alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    # -- the watchdog thread --------------------------------------------------------

    def _run(self, control: _Control) -> None:
        busy = time.monotonic()  # when a heartbeat last ran
        while True:
            threshold_ms = get_settings().blocking_threshold_ms
            self.interval = heartbeat_interval(threshold_ms)
            timeout = poll_interval(threshold_ms)
            if time.monotonic() - busy > _IDLE_AFTER:
                self._idle = True  # before looking at `beating`: `start` looks the other way
                if any(w.beating for w in list(self._watches)):
                    self._idle = False
                else:
                    timeout = _IDLE_POLL
            control.wake.wait(timeout)
            control.wake.clear()
            self._idle = False
            with self._lock:
                if control.stopped:
                    return
                for watch in list(self._watches):
                    if not self._check(watch, threshold_ms / 1000.0):
                        watch.active = False
                        self._watches.remove(watch)
                if any(w.beating for w in self._watches):
                    busy = time.monotonic()
                if not self._watches:  # every loop closed: end; `watch` starts a new thread
                    self._last = None
                    self._thread = self._control = None
                    return

    def _check(self, watch: _LoopWatch, threshold: float) -> bool:
        """Look at one loop (lock held); False when the loop is gone for good."""
        now = time.monotonic()
        loop = watch.loop()
        if loop is None or loop.is_closed():
            self._close(watch, now)
            return False
        if not loop.is_running() or not watch.beating:  # no step, or no request: no wait
            self._close(watch, now)
            watch.forget_stall()
            return True
        beat = watch.last_beat
        overdue = now - (beat + watch.interval)
        if watch.open is not None and watch.open.beat != beat:  # ended, not yet settled
            self._close(watch, beat)
        if overdue < threshold / 2:
            watch.forget_stall()
            return True
        if watch.stall_beat != beat:
            watch.forget_stall()
            watch.stall_beat = beat
        if watch.reported:
            if watch.open is not None:
                watch.open.blocking.duration_ms = (now - watch.open.started) * 1000.0
            return True
        sample = self._sample(watch, loop)
        if watch.last_beat != beat:  # the step ended while we looked
            return True
        if sample is None:  # not inside a request, or not yet visible
            watch.first = None
            watch.reported = overdue >= threshold
            return True
        task, request, location = sample
        first = watch.first
        if overdue >= threshold and first is not None and first[0] is task and first[1] is request:
            started = beat + watch.interval / 2.0
            blocking = Blocking(duration_ms=(now - started) * 1000.0, location=location)
            request.blocking.append(blocking)
            watch.open = _OpenStall(blocking, request, started, beat)
            watch.reported = True
            watch.first = None
        else:
            watch.first = (task, request)
        return True

    def _close(self, watch: _LoopWatch, end: float) -> None:
        """Settle the open stall's duration (lock held)."""
        stall = watch.open
        if stall is not None:
            stall.blocking.duration_ms = max(end - stall.started, 0.0) * 1000.0
            watch.open = None

    def _sample(
        self, watch: _LoopWatch, loop: asyncio.AbstractEventLoop
    ) -> tuple[asyncio.Task[object] | None, RequestScope, str | None] | None:
        """The running task, its request, and the user's line running in it."""
        frame = sys._current_frames().get(watch.thread_id)
        if frame is None:
            return None
        try:
            task: asyncio.Task[object] | None = asyncio.current_task(loop)
        except Exception:  # another thread asking: not every implementation allows it
            task = None
        request, boundary = self._request_in_frames(frame)
        if request is None and task is not None:
            request = _request_in_task(task)
            boundary = _outermost_coroutine(frame)
        if request is None:
            return None
        return task, request, _location(frame, boundary)

    def _request_in_frames(self, frame: FrameType) -> tuple[RequestScope | None, FrameType | None]:
        """The request in the middleware's frame below `frame`, and that frame."""
        codes = self._scope_codes
        current: FrameType | None = frame
        while current is not None:
            local = codes.get(current.f_code)
            if local is not None:
                value = current.f_locals.get(local)
                if isinstance(value, RequestScope):
                    return value, current
            current = current.f_back
        return None, None


def _request_in_task(task: asyncio.Task[object]) -> RequestScope | None:
    """The request in the context the task runs in (`Task.get_context()` from 3.12)."""
    get_context = getattr(task, "get_context", None)
    if get_context is not None:
        contexts: list[object] = [get_context()]
    else:  # 3.10, 3.11: the task refers to its context, without a public accessor
        contexts = gc.get_referents(task)
    for context in contexts:
        if isinstance(context, contextvars.Context):
            request = context.get(current_request)
            if request is not None:
                return request
    return None


def _outermost_coroutine(frame: FrameType) -> FrameType | None:
    """The task's first frame: below it, the loop and whatever started it run."""
    outermost: FrameType | None = None
    current: FrameType | None = frame
    while current is not None:
        if current.f_code.co_flags & _COROUTINE_FLAGS:
            outermost = current
        current = current.f_back
    return outermost.f_back if outermost is not None else None


def _location(frame: FrameType, boundary: FrameType | None) -> str | None:
    """The first user frame from `frame` outwards that lies above `boundary`.

    `boundary` is the middleware's frame (what runs below it is not the request's
    code: the server, user middlewares outside ours, a `uvicorn.run(...)` line in
    the user's `main.py`), or the frame below the task when the request was found
    through the task's context. `user_location` walks to the end of the stack, so
    a location that is also the first user frame from `boundary` on lies below it.
    """
    location = user_location(frame)
    if location is not None and boundary is not None and location == user_location(boundary):
        return None
    return location


watchdog = Watchdog()  # process-global: one thread for every watched loop
if sys.platform != "win32":
    os.register_at_fork(after_in_child=watchdog.forget_after_fork)


def stop(timeout: float = 5.0) -> None:
    """Stop the heartbeats and the watchdog thread (the next request starts them again)."""
    watchdog.stop(timeout)
