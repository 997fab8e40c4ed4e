"""`$ref` resolution inside one document, with the pointer of what was reached.

Only local references (`#/...`) are followed: they are what FastAPI emits and
what the differ needs. A reference to another file, or one that points nowhere,
resolves to an empty schema so the comparison goes on; chains of references
that loop back on themselves stop where the loop closes.
"""

from __future__ import annotations

import json
import re
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


_REF = re.compile(r'"\$ref": "#/components/schemas/([^"/]+)[^"]*"|"\$ref": "([^"]*)"')


def unchanged_schemas(base: Mapping[str, Any], revision: Mapping[str, Any]) -> frozenset[str]:
    """Pointers (`/components/schemas/NAME`) of the definitions that are the
    same in both documents, and so is everything they reference, transitively.

    Comparing those can only find nothing, so the differ skips them: on a large
    API most definitions do not change between two releases. Equality and the
    references are found by C code (`==`, `json.dumps`, a regular expression),
    not by walking the schemas in Python.
    """
    bschemas = _schemas(base)
    rschemas = _schemas(revision)
    dirty: set[str] = set()
    uses: dict[str, set[str]] = {}
    for name, schema in bschemas.items():
        if name not in rschemas or schema != rschemas[name]:
            dirty.add(name)
            continue
        try:
            text = json.dumps(schema, default=str)
        except (TypeError, ValueError, RecursionError):
            dirty.add(name)
            continue
        for match in _REF.finditer(text):
            target = match.group(1)
            if target is None:  # a reference outside components/schemas: do not guess
                dirty.add(name)
                break
            uses.setdefault(target.replace("~1", "/").replace("~0", "~"), set()).add(name)
    pending = list(dirty)
    while pending:
        for user in uses.get(pending.pop(), ()):
            if user not in dirty:
                dirty.add(user)
                pending.append(user)
    return frozenset(
        "/components/schemas/" + name.replace("~", "~0").replace("/", "~1")
        for name in bschemas
        if name not in dirty
    )


def _schemas(data: Mapping[str, Any]) -> Mapping[str, Any]:
    components = data.get("components")
    if not isinstance(components, Mapping):
        return {}
    schemas = components.get("schemas")
    return schemas if isinstance(schemas, Mapping) else {}
