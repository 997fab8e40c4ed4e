"""Settings from `[tool.fastapi-architect]` in `pyproject.toml`, merged with CLI options."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "__pycache__",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    ".eggs",
    "*.egg-info",
    ".fastapi-architect-cache",
    # Alembic revision files are generated and replayed, not reviewed.
    "alembic/versions",
    "migrations/versions",
)

# Dependencies whose names say they authenticate; fnmatch patterns on the function name.
DEFAULT_AUTH_DEPENDENCIES: tuple[str, ...] = (
    "get_current_user",
    "get_current_active_user",
    "get_current_*user",
    "current_user",
    "current_active_user",
    "require_*",
    "verify_token",
    "verify_api_key",
    "verify_jwt",
    "authenticate*",
    "get_api_key",
    "get_current_principal",
)

# Paths that are public by design; fnmatch patterns on the full path.
DEFAULT_PUBLIC_PATHS: tuple[str, ...] = (
    "/",
    "*/health",
    "*/healthz",
    "*/health/*",
    "*/ready",
    "*/readyz",
    "*/live",
    "*/livez",
    "*/ping",
    "*/status",
    "*/version",
    "*/metrics",
    "*/token",
    "*/token/refresh",
    "*/login",
    "*/login/*",
    "*/logout",
    "*/signup",
    "*/register",
    "*/refresh",
    "*/auth/*",
    "*/password-recovery/*",
    "*/reset-password*",
    "*/forgot-password*",
    "*/verify-email*",
    "*/docs",
    "*/redoc",
    "*/openapi.json",
    "*/webhooks/*",
    "*/callback",
    "*/oauth/*",
)

_KEYS = {
    "select",
    "extend-select",
    "ignore",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "auth-dependencies",
    "public-paths",
    "private-paths",
    "contract-snapshot",
}


class ConfigError(Exception):
    """A configuration problem the user must fix; the message names it."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    auth_dependencies: tuple[str, ...] = DEFAULT_AUTH_DEPENDENCIES
    public_paths: tuple[str, ...] = DEFAULT_PUBLIC_PATHS
    private_paths: tuple[str, ...] = ()
    # The committed OpenAPI document FAA712 compares the code with (absolute path).
    contract_snapshot: Path | None = None
    source: Path | None = None

    @property
    def excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude

    def with_cli(
        self,
        *,
        select: list[str] | None = None,
        extend_select: list[str] | None = None,
        ignore: list[str] | None = None,
        exclude: list[str] | None = None,
    ) -> Config:
        cfg = self
        if select:
            # As in ruff, a `--select` on the command line replaces the configured
            # selection, `extend-select` included.
            cfg = replace(cfg, select=tuple(_codes(select)), extend_select=())
        if extend_select:
            cfg = replace(cfg, extend_select=cfg.extend_select + tuple(_codes(extend_select)))
        if ignore:
            cfg = replace(cfg, ignore=cfg.ignore + tuple(_codes(ignore)))
        if exclude:
            cfg = replace(cfg, extend_exclude=cfg.extend_exclude + tuple(exclude))
        return cfg


def _codes(values: list[str] | tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(p.strip().upper() for p in v.split(",") if p.strip())
    return out


def find_config_file(start: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above `start` that has our table."""
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if "fastapi-architect" in data.get("tool", {}):
                return candidate
    return None


def load_config(path: Path | None) -> Config:
    """Read `[tool.fastapi-architect]` from `path` (a pyproject.toml); `None` gives the defaults."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None
    table = data.get("tool", {}).get("fastapi-architect", {})
    return parse_table(table, path)


def parse_table(table: Any, path: Path) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.fastapi-architect] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r} in [tool.fastapi-architect]"
            f" (known: {', '.join(sorted(_KEYS))})"
        )
    cfg = Config(source=path)
    if "select" in table:
        cfg = replace(cfg, select=tuple(_codes(_strings(table, "select", path))))
    if "extend-select" in table:
        cfg = replace(cfg, extend_select=tuple(_codes(_strings(table, "extend-select", path))))
    if "ignore" in table:
        cfg = replace(cfg, ignore=tuple(_codes(_strings(table, "ignore", path))))
    if "exclude" in table:
        cfg = replace(cfg, exclude=tuple(_strings(table, "exclude", path)))
    if "extend-exclude" in table:
        cfg = replace(cfg, extend_exclude=tuple(_strings(table, "extend-exclude", path)))
    if "auth-dependencies" in table:
        extra = tuple(_strings(table, "auth-dependencies", path))
        cfg = replace(cfg, auth_dependencies=DEFAULT_AUTH_DEPENDENCIES + extra)
    if "public-paths" in table:
        extra = tuple(_strings(table, "public-paths", path))
        cfg = replace(cfg, public_paths=DEFAULT_PUBLIC_PATHS + extra)
    if "private-paths" in table:
        cfg = replace(cfg, private_paths=tuple(_strings(table, "private-paths", path)))
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{path}: 'per-file-ignores' must be a table of glob = [codes]")
        parsed: dict[str, tuple[str, ...]] = {}
        for pattern, codes in pfi.items():
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise ConfigError(
                    f"{path}: 'per-file-ignores' entry {pattern!r} must be a list of codes"
                )
            parsed[str(pattern)] = tuple(_codes(codes))
        cfg = replace(cfg, per_file_ignores=parsed)
    if "contract-snapshot" in table:
        cfg = replace(cfg, contract_snapshot=_contract_snapshot(table["contract-snapshot"], path))
    return cfg


def _contract_snapshot(value: Any, path: Path) -> Path:
    """`contract-snapshot = "openapi.json"`: relative to the config file. The document is
    read now, so that a missing or invalid snapshot is a configuration error (exit 2)
    rather than a failure of FAA712 in the middle of a review."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: 'contract-snapshot' must be a path to an OpenAPI document")
    snapshot = (path.parent / value).resolve()
    if not snapshot.is_file():
        raise ConfigError(f"{path}: 'contract-snapshot': no such file: {value} ({snapshot})")
    from fastapi_architect.contract.document import DocumentError, load_document

    try:
        load_document(str(snapshot))
    except DocumentError as exc:
        raise ConfigError(f"{path}: 'contract-snapshot': {exc}") from None
    return snapshot


def _strings(table: dict[str, Any], key: str, path: Path) -> list[str]:
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key!r} must be a list of strings")
    return list(value)
