"""Accepted changes and severity overrides: what a team decided about the differ's output.

- The ignore file (`--ignore FILE`, YAML or JSON) lists accepted changes. An entry names a
  change by `fingerprint`, or by `id` + `operation` (+ `pointer`), with an optional
  `reason` and `expires` date; an expired entry stops applying.
- The severity file (`--severity-levels FILE`) changes the level of change ids: oasdiff's
  `change-id LEVEL` lines (`ERR`, `WARN`, `INFO`, `NONE` drops the change) or a YAML/JSON
  mapping of id to level.

Everything wrong with either file ends as a `PolicyError` naming the file, the line when
known, and what is wrong; the CLI turns it into exit 2.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.document import HTTP_METHODS

IGNORE_KEYS = ("id", "operation", "pointer", "fingerprint", "reason", "expires")
ANY_OPERATION = "*"
#: A severity that removes the change from the report.
DROP = "NONE"

#: Severity overrides: a level per change id, None to drop the change.
SeverityLevels = Mapping[str, Level | None]


class PolicyError(Exception):
    """An ignore or severity file that cannot be read or is not well formed."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class IgnoreEntry:
    """One accepted change. `line` is where the entry starts in its file, for messages."""

    id: str | None = None
    operation: str | None = None
    pointer: str | None = None
    fingerprint: str | None = None
    reason: str | None = None
    expires: dt.date | None = None
    source: str = ""
    line: int | None = None

    def matches(self, change: Change) -> bool:
        if self.id is not None and self.id != change.id:
            return False
        if self.fingerprint is not None:
            return self.fingerprint == change.fingerprint
        if self.operation is not None and not _operation_matches(self.operation, change):
            return False
        return self.pointer is None or self.pointer in (change.location, change.pointer)

    def expired(self, today: dt.date) -> bool:
        """Valid through its `expires` day."""
        return self.expires is not None and self.expires < today

    def describe(self) -> str:
        """How messages name the entry: `file:line` and what it matches."""
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        what = self.fingerprint or " ".join(p for p in (self.id, self.operation) if p)
        return f"{where}: {what}"


def _operation_matches(operation: str, change: Change) -> bool:
    if operation == ANY_OPERATION:
        return True
    method, _, path = operation.partition(" ")
    if not path:  # `/pets`: a path-level change, reported without a method
        return not change.operation and change.path == operation
    return method.upper() == change.operation.upper() and path.strip() == change.path


# --- applying ---------------------------------------------------------------------------


def apply_policy(
    changes: Iterable[Change],
    *,
    ignore: Sequence[IgnoreEntry] = (),
    severity: SeverityLevels | None = None,
    today: dt.date | None = None,
) -> tuple[list[Change], list[Change]]:
    """`(kept, ignored)`: levels overridden by `severity` (a `None` level drops the change),
    then the changes an unexpired `ignore` entry matches set aside. Order is kept."""
    today = today or dt.date.today()
    active = [entry for entry in ignore if not entry.expired(today)]
    levels = severity or {}
    kept: list[Change] = []
    ignored: list[Change] = []
    for change in changes:
        if change.id in levels:
            level = levels[change.id]
            if level is None:
                continue
            change = change.with_level(level)
        if any(entry.matches(change) for entry in active):
            ignored.append(change)
        else:
            kept.append(change)
    return kept, ignored


def expired_entries(ignore: Iterable[IgnoreEntry], today: dt.date) -> list[IgnoreEntry]:
    """Entries past their date: they no longer apply, and the user should hear about it."""
    return [entry for entry in ignore if entry.expired(today)]


# --- the ignore file --------------------------------------------------------------------


def load_ignore_file(path: Path) -> list[IgnoreEntry]:
    return parse_ignore(_read(path), name=str(path), suffix=path.suffix)


def parse_ignore(text: str, *, name: str, suffix: str = "") -> list[IgnoreEntry]:
    """Entries of an ignore file: a YAML or JSON list of mappings."""
    data = _parse(text, name, suffix)
    if data is None:
        return []
    if not isinstance(data, list):
        raise PolicyError(
            name, f"an ignore file is a list of entries, found {_kind(data)}", _line_of(text)
        )
    lines = _item_lines(text)
    entries = []
    for index, item in enumerate(data):
        line = lines[index] if index < len(lines) else None
        entries.append(_ignore_entry(item, name, line))
    return entries


_Fail = Callable[[str], PolicyError]


def _ignore_entry(item: Any, name: str, line: int | None) -> IgnoreEntry:
    def fail(message: str) -> PolicyError:
        return PolicyError(name, message, line)

    if not isinstance(item, Mapping):
        raise fail(f"an ignore entry is a mapping, found {_kind(item)}")
    unknown = [str(key) for key in item if key not in IGNORE_KEYS]
    if unknown:
        raise fail(
            f"unknown key {', '.join(repr(k) for k in unknown)} in ignore entry"
            f" (expected {', '.join(IGNORE_KEYS)})"
        )
    values: dict[str, str] = {}
    for key in ("id", "operation", "pointer", "fingerprint", "reason"):
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise fail(f"`{key}` must be a non-empty string, found {_kind(value)}")
        values[key] = value.strip()
    if "fingerprint" not in values and ("id" not in values or "operation" not in values):
        raise fail("an ignore entry needs `fingerprint`, or `id` and `operation`")
    operation = values.get("operation")
    if operation is not None:
        operation = _check_operation(operation, fail)
    pointer = values.get("pointer")
    if pointer is not None:
        pointer = pointer.removeprefix("#")  # `#/paths/...`, the URI fragment form
        if pointer and not pointer.startswith("/"):
            raise fail(f"`pointer` must be a JSON pointer starting with '/', found {pointer!r}")
    return IgnoreEntry(
        id=values.get("id"),
        operation=operation,
        pointer=pointer,
        fingerprint=values.get("fingerprint"),
        reason=values.get("reason"),
        expires=_date(item.get("expires"), fail),
        source=name,
        line=line,
    )


def _check_operation(operation: str, fail: _Fail) -> str:
    if operation == ANY_OPERATION:
        return operation
    method, _, path = operation.partition(" ")
    if not path and method.startswith("/"):
        return method
    if method.lower() not in HTTP_METHODS or not path.strip().startswith("/"):
        raise fail(
            f'`operation` must be "METHOD /path" (like "GET /pets") or "*", found {operation!r}'
        )
    return f"{method.upper()} {path.strip()}"


def _date(value: Any, fail: _Fail) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise fail(f"`expires` must be a date like 2025-12-31, found {value!r}")


# --- the severity file ------------------------------------------------------------------

_SEVERITY_LINE = re.compile(r"^(\S+)\s+(\S+)$")


def load_severity_file(path: Path) -> dict[str, Level | None]:
    return parse_severity(_read(path), name=str(path), suffix=path.suffix)


def parse_severity(text: str, *, name: str, suffix: str = "") -> dict[str, Level | None]:
    """oasdiff's `change-id LEVEL` lines, or (for .yaml/.yml/.json) a mapping id -> level."""
    if suffix.lower() in (".json", ".yaml", ".yml") or text.lstrip().startswith("{"):
        return _severity_mapping(text, name, suffix)
    levels: dict[str, Level | None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _SEVERITY_LINE.match(line)
        if match is None:
            raise PolicyError(name, f"expected `change-id LEVEL`, found {line!r}", number)
        change_id, level = match.groups()
        levels[change_id] = _level(level, name, number)
    return levels


def _severity_mapping(text: str, name: str, suffix: str) -> dict[str, Level | None]:
    data = _parse(text, name, suffix)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise PolicyError(
            name, f"a severity file maps change ids to levels, found {_kind(data)}", _line_of(text)
        )
    lines = _key_lines(text)
    levels: dict[str, Level | None] = {}
    for change_id, level in data.items():
        line = lines.get(str(change_id))
        if not isinstance(level, str):
            raise PolicyError(name, f"the level of {change_id!r} must be a string", line)
        levels[str(change_id)] = _level(level, name, line)
    return levels


def _level(text: str, name: str, line: int | None) -> Level | None:
    if text.strip().upper() == DROP:
        return None
    try:
        return Level.parse(text)
    except ValueError:
        raise PolicyError(
            name, f"unknown level {text!r} (expected ERR, WARN, INFO or NONE)", line
        ) from None


# --- reading ----------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PolicyError(str(path), "no such file") from None
    except IsADirectoryError:
        raise PolicyError(str(path), "is a directory") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(str(path), f"not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise PolicyError(str(path), f"cannot read: {exc.strerror or exc}") from None


def _parse(text: str, name: str, suffix: str) -> Any:
    if suffix.lower() == ".json" or (suffix.lower() not in (".yaml", ".yml") and _looks_json(text)):
        try:
            return json.loads(text) if text.strip() else None
        except json.JSONDecodeError as exc:
            raise PolicyError(name, f"invalid JSON: {exc.msg}", exc.lineno) from None
    try:
        return yaml.load(text, Loader=_Loader)  # a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise PolicyError(name, f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise PolicyError(name, f"invalid YAML: {exc}") from None


class _Loader(yaml.SafeLoader):
    """Safe, with dates left as text: `_date` checks them and can say which entry is wrong
    (PyYAML would fail on 2025-02-30 with no line)."""


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> Any:
    return loader.construct_yaml_str(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _looks_json(text: str) -> bool:
    return text.lstrip()[:1] in ("[", "{")


def _compose(text: str) -> yaml.Node | None:
    # Lines are a nicety for messages: a file YAML cannot compose (tab-indented JSON) has none.
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _line_of(text: str) -> int | None:
    node = _compose(text)
    return node.start_mark.line + 1 if node is not None else None


def _item_lines(text: str) -> list[int]:
    node = _compose(text)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def _key_lines(text: str) -> dict[str, int]:
    node = _compose(text)
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): key.start_mark.line + 1 for key, _ in node.value}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    kinds = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), type(value).__name__)
