"""pytest plugin of the runtime profiler (the `pytest11` entry point `fastapi_architect`).

Inactive unless `--architect-runtime` is given: then, for the whole session,

- the SQLAlchemy hooks are installed on every engine and session;
- every FastAPI and Starlette app the tests call runs behind `ArchitectMiddleware`,
  with no change to user code: `build_middleware_stack` of `Starlette` (and of
  `FastAPI`, which overrides it) is wrapped so the stack an app builds on its first
  request is wrapped once, outermost;
- code locations are reported relative to pytest's rootdir (or
  `--architect-runtime-root`);
- at the end, `--architect-runtime-report PATH` gets the JSON report, the terminal
  summary lists the endpoints with N+1 queries or event-loop blocking, and
  `--architect-runtime-strict` makes the session fail when there is any.

Under pytest-xdist each worker profiles its own tests and sends its report (with
the request durations, for exact percentiles) to the controller, which merges them.

Always available, with or without `--architect-runtime`:

- the fixture `assert_max_queries`: `with assert_max_queries(3): client.get("/authors")`
  fails when the block issues more than 3 SQL statements;
- the marker `@pytest.mark.max_queries(n)`: the same for the statements issued while
  the test function runs (fixture setup and teardown not counted).
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fastapi_architect.runtime.counting import QueryCounter
    from fastapi_architect.runtime.settings import RuntimeSettings

PLUGIN_NAME = "fastapi-architect-runtime"
WORKER_OUTPUT_KEY = "fastapi_architect_runtime"
MARKER = "max_queries"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fastapi-architect", "fastapi-architect runtime profiler")
    group.addoption(
        "--architect-runtime",
        action="store_true",
        default=False,
        help="Profile the FastAPI/Starlette apps the tests call: N+1 queries, "
        "event-loop blocking and latency per endpoint.",
    )
    group.addoption(
        "--architect-runtime-report",
        metavar="PATH",
        default=None,
        help="Write the runtime report (JSON) to PATH.",
    )
    group.addoption(
        "--architect-runtime-strict",
        action="store_true",
        default=False,
        help="Fail the session when an N+1 query or event-loop blocking is found.",
    )
    group.addoption(
        "--architect-runtime-root",
        metavar="DIR",
        default=None,
        help="Report code locations relative to DIR (default: the rootdir).",
    )
    group.addoption(
        "--architect-runtime-n-plus-one",
        metavar="N",
        type=int,
        default=None,
        help="The same SELECT this many times in one request is an N+1 (default 5).",
    )
    group.addoption(
        "--architect-runtime-blocking-ms",
        metavar="MS",
        type=float,
        default=None,
        help="An event-loop step longer than this inside a request is blocking (default 100).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(n): fail the test when it issues more than n SQL statements "
        "(fastapi-architect).",
    )
    if not config.getoption("architect_runtime"):
        for option in ("report", "strict", "root", "n_plus_one", "blocking_ms"):
            if config.getoption(f"architect_runtime_{option}") not in (None, False):
                flag = "--architect-runtime-" + option.replace("_", "-")
                raise pytest.UsageError(f"{flag} needs --architect-runtime")
        return
    n_plus_one = config.getoption("architect_runtime_n_plus_one")
    if n_plus_one is not None and n_plus_one < 1:
        raise pytest.UsageError("--architect-runtime-n-plus-one must be 1 or more")
    blocking_ms = config.getoption("architect_runtime_blocking_ms")
    if blocking_ms is not None and not blocking_ms > 0:
        raise pytest.UsageError("--architect-runtime-blocking-ms must be more than 0")
    config.pluginmanager.register(RuntimeProfiler(config), PLUGIN_NAME)


# --- assert_max_queries and the max_queries marker (always on) -------------------------


@pytest.fixture
def assert_max_queries() -> Callable[[int], AbstractContextManager[QueryCounter]]:
    """`with assert_max_queries(n): ...` fails when the block issues more than n statements."""
    from fastapi_architect.runtime.counting import assert_max_queries as context_manager

    return context_manager


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return (yield)
    limit = _marker_limit(marker)
    from fastapi_architect.runtime.counting import count_queries, too_many_queries_message

    with count_queries() as counter:
        result = yield
    if len(counter.queries) > limit:
        pytest.fail(
            f"@pytest.mark.{MARKER}({limit}): " + too_many_queries_message(limit, counter.queries),
            pytrace=False,
        )
    return result


def _marker_limit(marker: pytest.Mark) -> int:
    values = [*marker.args, *marker.kwargs.values()]
    if (
        len(values) != 1
        or set(marker.kwargs) - {"n"}
        or not isinstance(values[0], int)
        or isinstance(values[0], bool)
        or values[0] < 0
    ):
        pytest.fail(
            f"@pytest.mark.{MARKER} takes one integer, the most SQL statements "
            f"allowed (0 or more): @pytest.mark.{MARKER}(3)",
            pytrace=False,
        )
    limit: int = values[0]
    return limit


# --- the profiler (--architect-runtime) ----------------------------------------------


class RuntimeProfiler:
    """The session-long state of an active profiler; registered by `pytest_configure`."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.strict: bool = config.getoption("architect_runtime_strict")
        self.report_path = _report_path(config)
        self.is_worker = hasattr(config, "workerinput")  # a pytest-xdist worker
        self.report: dict[str, Any] | None = None
        self.report_error: str | None = None
        self.failed_by_strict = False
        # (report, durations) sent by each pytest-xdist worker
        self.parts: list[tuple[dict[str, Any], dict[str, list[float]]]] = []
        self._durations: dict[str, list[float]] = {}
        self._saved_settings: RuntimeSettings | None = None
        self._owns_hooks = False
        self._patches: list[tuple[type, Callable[..., Any]]] = []
        self._started = False

    # -- lifecycle ------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from fastapi_architect.runtime import sqlalchemy_hooks
        from fastapi_architect.runtime.recorder import recorder
        from fastapi_architect.runtime.settings import configure, get_settings

        self._saved_settings = get_settings()
        root = self.config.getoption("architect_runtime_root")
        configure(
            project_root=_absolute(self.config, root) if root else self.config.rootpath,
            n_plus_one_threshold=self.config.getoption("architect_runtime_n_plus_one"),
            blocking_threshold_ms=self.config.getoption("architect_runtime_blocking_ms"),
        )
        recorder.reset()
        self._owns_hooks = sqlalchemy_hooks.install()
        self._patches = _wrap_app_classes()
        if self.is_worker:
            self._log_durations()
        self._started = True

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            from fastapi_architect.runtime.recorder import recorder

            workeroutput: dict[str, Any] = getattr(self.config, "workeroutput")  # noqa: B009
            workeroutput[WORKER_OUTPUT_KEY] = json.dumps(
                {"report": recorder.report(), "durations": self._durations}
            )
            return
        self.report = self._final_report()
        if self.report_path is not None:
            try:
                self.report_path.parent.mkdir(parents=True, exist_ok=True)
                self.report_path.write_text(json.dumps(self.report, indent=2) + "\n", "utf-8")
            except OSError as exc:
                self.report_error = f"cannot write {self.report_path}: {exc.strerror or exc}"
                if session.exitstatus == pytest.ExitCode.OK:
                    session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        from fastapi_architect.runtime.report import problem_endpoints

        if self.strict and problem_endpoints(self.report):
            self.failed_by_strict = True
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if not self._started:
            return
        from fastapi_architect.runtime import sqlalchemy_hooks, watchdog
        from fastapi_architect.runtime.recorder import recorder
        from fastapi_architect.runtime.settings import use_settings

        _unwrap_app_classes(self._patches)
        self._patches = []
        if self._owns_hooks:
            sqlalchemy_hooks.uninstall()
        if self.is_worker:
            recorder.__dict__.pop("record", None)  # the duration log of `_log_durations`
        watchdog.stop()
        recorder.reset()
        if self._saved_settings is not None:
            use_settings(self._saved_settings)
        self._started = False

    # -- pytest-xdist ---------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
        if output is None:
            return
        part = json.loads(output)
        self.parts.append((part["report"], part["durations"]))

    def _log_durations(self) -> None:
        """On a worker: keep each request's duration too, so the controller's
        percentiles are those of all requests (the report has only p50/p95/max)."""
        from fastapi_architect.runtime.recorder import recorder
        from fastapi_architect.runtime.scope import RequestScope

        record = recorder.record
        durations = self._durations

        def record_and_log(scope: RequestScope) -> None:
            record(scope)
            key = f"{scope.method.upper()} {scope.route or scope.path}"
            durations.setdefault(key, []).append(scope.duration_ms)

        recorder.record = record_and_log  # type: ignore[method-assign]

    def _final_report(self) -> dict[str, Any]:
        from fastapi_architect.runtime.recorder import recorder
        from fastapi_architect.runtime.report import merge_reports

        if not self.parts:
            return recorder.report()
        return merge_reports(self.parts)

    # -- output ---------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            return
        from fastapi_architect.runtime.report import render_text

        terminalreporter.write_sep("=", "fastapi-architect runtime")
        for line in render_text(self.report, problems_only=True).splitlines():
            terminalreporter.write_line(line)
        if self.report_path is not None and self.report_error is None:
            terminalreporter.write_line(f"report: {self.report_path}")
        if self.report_error is not None:
            terminalreporter.write_line(f"error: {self.report_error}", red=True)
        if self.failed_by_strict:
            terminalreporter.write_line(
                "--architect-runtime-strict: the session fails because of the problems above",
                red=True,
                bold=True,
            )


def _report_path(config: pytest.Config) -> Path | None:
    value = config.getoption("architect_runtime_report")
    if not value:
        return None
    return _absolute(config, value)


def _absolute(config: pytest.Config, value: str) -> Path:
    path = Path(os.path.expanduser(value))
    if not path.is_absolute():
        path = config.invocation_params.dir / path
    return path


# --- ArchitectMiddleware on every app -----------------------------------------------

# set while a wrapped `build_middleware_stack` runs: a stack built by a wrapped method
# that calls another one (`super().build_middleware_stack()`) is wrapped only once
_building: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "fastapi_architect_building_stack", default=False
)


def _app_classes() -> Iterator[type]:
    """Starlette and FastAPI, those installed (FastAPI overrides the method)."""
    import importlib.util

    if importlib.util.find_spec("starlette") is None:
        return
    from starlette.applications import Starlette

    yield Starlette
    if importlib.util.find_spec("fastapi") is not None:
        from fastapi import FastAPI

        if "build_middleware_stack" in vars(FastAPI):
            yield FastAPI


def _wrap_app_classes() -> list[tuple[type, Callable[..., Any]]]:
    """Wrap `build_middleware_stack` of the app classes; the originals, to restore."""
    patches: list[tuple[type, Callable[..., Any]]] = []
    for cls in _app_classes():
        original: Callable[..., Any] = vars(cls)["build_middleware_stack"]
        cls.build_middleware_stack = _wrapped(original)  # type: ignore[attr-defined]
        patches.append((cls, original))
    return patches


def _unwrap_app_classes(patches: list[tuple[type, Callable[..., Any]]]) -> None:
    for cls, original in reversed(patches):
        cls.build_middleware_stack = original


def _wrapped(original: Callable[..., Any]) -> Callable[..., Any]:
    from fastapi_architect.runtime.middleware import ArchitectMiddleware

    @functools.wraps(original)
    def build_middleware_stack(self: Any) -> Any:
        if _building.get():
            return original(self)
        token = _building.set(True)
        try:
            stack = original(self)
        finally:
            _building.reset(token)
        return ArchitectMiddleware(stack)

    return build_middleware_stack
