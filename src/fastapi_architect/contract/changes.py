"""What the differ reports: one `Change` per difference a client can feel."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import IntEnum


class Level(IntEnum):
    """How much a change can hurt existing clients; ordered so `>=` means "at least"."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        """Accept our names and oasdiff's (`ERR`, `WARN`, `INFO`)."""
        key = text.strip().lower()
        aliases = {"err": "error", "warn": "warning", "information": "info"}
        key = aliases.get(key, key)
        for level in cls:
            if level.label == key:
                return level
        raise ValueError(f"unknown level {text!r} (expected error, warning or info)")


@dataclass(frozen=True, slots=True)
class Change:
    """A difference between the base and the revision document.

    `pointer` is a JSON pointer into the revision document (into the base one
    when the thing is gone from the revision: `in_base` is then true).
    `location` is the same place written so that unrelated edits do not move
    it (parameters by location and name, not by index): it keys fingerprints.
    """

    id: str
    level: Level
    message: str
    operation: str = ""
    path: str = ""
    pointer: str = ""
    location: str = ""
    in_base: bool = False
    details: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def breaking(self) -> bool:
        return self.level >= Level.WARNING

    @property
    def fingerprint(self) -> str:
        key = "\x1f".join((self.id, self.operation, self.path, self.location or self.pointer))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def with_level(self, level: Level) -> Change:
        return replace(self, level=level)


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(base: str, *tokens: object) -> str:
    return base + "".join("/" + escape_pointer_token(str(t)) for t in tokens)
