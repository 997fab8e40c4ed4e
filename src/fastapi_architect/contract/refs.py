"""`$ref` resolution inside one document, with the pointer of what was reached.

Only local references (`#/...`) are followed: they are what FastAPI emits and
what the differ needs. A reference to another file, or one that points nowhere,
resolves to an empty schema so the comparison goes on; chains of references
that loop back on themselves stop where the loop closes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi_architect.contract.document import resolve_pointer

_EMPTY: dict[str, Any] = {}


class Resolver:
    """Follows `$ref`s of one document; lookups are cached by reference string."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data
        self._targets: dict[str, Any] = {}
        self._merged: dict[tuple[int, str], Any] = {}
        self.unresolved: set[str] = set()

    def target(self, ref: str) -> Any:
        if ref in self._targets:
            return self._targets[ref]
        node: Any = _EMPTY
        if ref.startswith("#"):
            try:
                node = resolve_pointer(self._data, ref[1:])
            except KeyError:
                self.unresolved.add(ref)
        else:
            self.unresolved.add(ref)
        self._targets[ref] = node
        return node

    def deref(self, node: Any, pointer: str) -> tuple[Any, str, bool]:
        """Follow `node`'s `$ref` chain: (target, its pointer, whether a ref was followed)."""
        followed = False
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                return _EMPTY, pointer, followed
            seen.add(ref)
            node = self.target(ref)
            pointer = ref[1:] if ref.startswith("#") else pointer
            followed = True
        return node, pointer, followed

    def node(self, node: Any) -> Any:
        return self.deref(node, "")[0]

    def merged(
        self,
        node: Mapping[str, Any],
        pointer: str,
        merge: Callable[[Mapping[str, Any], str, Resolver], Any],
    ) -> Any:
        """`merge(node, pointer, self)`, computed once per node and place (nodes
        live as long as the document, so their identity is a sound key)."""
        key = (id(node), pointer)
        done = self._merged.get(key)
        if done is None:
            done = self._merged[key] = merge(node, pointer, self)
        return done
