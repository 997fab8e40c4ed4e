"""Thresholds and the project root of the runtime profiler (process-global).

The pytest plugin and the CLI call `configure(...)` once; the hooks, the watchdog
and the analysis read `get_settings()` each time, so a change applies at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def _cwd() -> Path:
    return Path.cwd().resolve()


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    # the same normalized SELECT issued this many times in one request is an N+1
    n_plus_one_threshold: int = 5
    # the same relationship lazy-loaded this many times in one request is an N+1
    lazy_load_threshold: int = 2
    # an event-loop step longer than this (milliseconds) inside a request is blocking
    blocking_threshold_ms: float = 100.0
    # code locations are reported for files under this folder, relative to it
    project_root: Path = field(default_factory=_cwd)

    def __post_init__(self) -> None:
        if self.n_plus_one_threshold < 1 or self.lazy_load_threshold < 1:
            raise ValueError("N+1 thresholds must be at least 1")
        if self.blocking_threshold_ms <= 0:
            raise ValueError("blocking_threshold_ms must be positive")
        # frozen: assign through object.__setattr__ so a `str` root is accepted too
        object.__setattr__(self, "project_root", Path(self.project_root).resolve())


_settings = RuntimeSettings()


def get_settings() -> RuntimeSettings:
    return _settings


def configure(
    *,
    n_plus_one_threshold: int | None = None,
    lazy_load_threshold: int | None = None,
    blocking_threshold_ms: float | None = None,
    project_root: Path | str | None = None,
) -> RuntimeSettings:
    """Change some settings, keep the others; returns the new settings."""
    current = _settings
    new = RuntimeSettings(
        n_plus_one_threshold=(
            current.n_plus_one_threshold if n_plus_one_threshold is None else n_plus_one_threshold
        ),
        lazy_load_threshold=(
            current.lazy_load_threshold if lazy_load_threshold is None else lazy_load_threshold
        ),
        blocking_threshold_ms=(
            current.blocking_threshold_ms
            if blocking_threshold_ms is None
            else blocking_threshold_ms
        ),
        project_root=current.project_root if project_root is None else Path(project_root),
    )
    use_settings(new)
    return new


def use_settings(settings: RuntimeSettings) -> None:
    """Replace all settings at once (tests restore the previous ones with it)."""
    global _settings
    _settings = settings
