"""Comparing two schemas: a list of `Delta`s, each a change of meaning at a
property path. Naming and levels are decided later (`naming.py`), by where the
schema sits (request or response, body or parameter).

Pairs of referenced definitions are compared once and cached; a pair met again
while it is being compared (a recursive schema) contributes nothing the second
time, so recursion terminates.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi_architect.contract.changes import escape_pointer_token
from fastapi_architect.contract.refs import Resolver
from fastapi_architect.contract.schema_view import (
    View,
    bound,
    content_keyword,
    enum_values,
    is_simple_type,
    is_structural,
    plain_format,
    view,
)

REQUEST = "request"
RESPONSE = "response"

# (keyword, name in ids, "max" when a larger value loosens, "min" when a smaller one does)
BOUNDS = (
    ("maximum", "max", "max"),
    ("minimum", "min", "min"),
    ("exclusiveMaximum", "exclusive-max", "max"),
    ("exclusiveMinimum", "exclusive-min", "min"),
    ("maxLength", "max-length", "max"),
    ("minLength", "min-length", "min"),
    ("maxItems", "max-items", "max"),
    ("minItems", "min-items", "min"),
    ("maxProperties", "max-properties", "max"),
    ("minProperties", "min-properties", "min"),
    ("maxContains", "max-contains", "max"),
    ("minContains", "min-contains", "min"),
)

# keywords holding one sub-schema: compared recursively when on both sides
SUBSCHEMAS = (
    ("contains", "contains"),
    ("propertyNames", "property-names"),
    ("if", "if"),
    ("then", "then"),
    ("else", "else"),
    ("not", "not"),
    ("unevaluatedItems", "unevaluated-items"),
    ("unevaluatedProperties", "unevaluated-properties"),
    ("contentSchema", "content-schema"),
)
Key = tuple[str, str]
_CUT = "\x00cut"  # placeholder kind for a recursion cut; never leaves the comparer
_PRIMITIVES = frozenset(("integer", "number", "boolean"))
COMBINATORS = (("oneOf", "one-of"), ("anyOf", "any-of"), ("allOf", "all-of"))


@dataclass(frozen=True, slots=True)
class Delta:
    """One change of meaning. `prop` is the property path from the compared
    root (empty for the root itself); `pointer` points into the revision."""

    kind: str
    prop: tuple[str, ...]
    pointer: str
    before: Any = None
    after: Any = None
    required: bool = False
    with_default: bool = False

    def under(self, *tokens: str) -> Delta:
        if not tokens:
            return self
        return Delta(
            self.kind,
            (*tokens, *self.prop),
            self.pointer,
            self.before,
            self.after,
            self.required,
            self.with_default,
        )


def _ptr(base: str, *tokens: object) -> str:
    return base + "".join("/" + escape_pointer_token(str(t)) for t in tokens)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class SchemaComparer:
    """Compares schemas of one direction (request or response) between two documents.

    State is real here: the cache of compared pairs and the pairs in progress.
    """

    def __init__(
        self,
        base: Resolver,
        revision: Resolver,
        direction: str,
        *,
        parameters: bool = False,
        unchanged: frozenset[str] = frozenset(),
    ) -> None:
        self.unchanged = unchanged
        # parameters travel as strings: `string` is the widest type there
        self.parameters = parameters
        self.base = base
        self.revision = revision
        self.direction = direction
        # changes per pair of definitions; recursion is cut with placeholders
        self._cache: dict[tuple[str, str], list[Delta]] = {}
        self._stack: list[tuple[str, str]] = []
        self._on_stack: set[tuple[str, str]] = set()
        self._closures: dict[tuple[str, str], list[Delta]] = {}

    @property
    def request(self) -> bool:
        return self.direction == REQUEST

    def compare(self, b_node: Any, r_node: Any, b_ptr: str, r_ptr: str) -> list[Delta]:
        return self.compare_views(
            view(b_node, b_ptr, self.base), view(r_node, r_ptr, self.revision)
        )

    def compare_views(self, b: View, r: View) -> list[Delta]:
        """The changes from `b` to `r`, one per changed place: a definition
        reached along several property paths is reported along the shortest."""
        key = self._key(b, r)
        deltas = self._compare_views(b, r, key)
        if self._stack:
            return deltas
        if key is not None:
            # every definition is complete now: resolve the placeholders once per pair
            return self._closure(key)
        if any(d.kind == _CUT for d in deltas):
            return self._expand(deltas)
        return deltas

    @staticmethod
    def _key(b: View, r: View) -> tuple[str, str] | None:
        if b.carried or r.carried:
            return None
        if not (b.pointer.startswith("/components/") and r.pointer.startswith("/components/")):
            return None
        return (b.pointer, r.pointer)

    def _compare_views(self, b: View, r: View, key: tuple[str, str] | None) -> list[Delta]:
        if key is None:
            return self._diff(b, r)
        if key[0] == key[1] and key[0] in self.unchanged:
            return []
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if key in self._on_stack:
            # a recursive schema met again: a placeholder, filled in with that
            # definition's changes once it is complete (`_expand`)
            return [Delta(_CUT, (), "", before=key)]
        self._stack.append(key)
        self._on_stack.add(key)
        try:
            deltas = self._diff(b, r)
        finally:
            self._stack.pop()
            self._on_stack.discard(key)
        # a cycle back to this definition adds no place that is not already here
        deltas = _dedupe([d for d in deltas if d.kind != _CUT or d.before != key])
        self._cache[key] = deltas
        return deltas

    def _expand(self, deltas: list[Delta]) -> list[Delta]:
        """Replace recursion placeholders by what lies behind them (all complete now)."""
        out: list[Delta] = []
        for delta in deltas:
            if delta.kind != _CUT:
                out.append(delta)
            else:
                out.extend(d.under(*delta.prop) for d in self._closure(delta.before))
        return _dedupe(out)

    def _closure(self, key: Key) -> list[Delta]:
        """The changes of a definition pair with every placeholder resolved.

        Placeholders form a graph between definition pairs (the recursion
        cuts). Within one strongly connected part every pair reaches the same
        places, so each part is walked once: forward from a representative,
        and backward to it, giving every member a path to every place."""
        done = self._closures.get(key)
        if done is not None:
            return done
        for component in _components(key, self._open_edges):
            self._close_component(component)
        return self._closures[key]

    def _open_edges(self, key: Key) -> list[tuple[Key, tuple[str, ...]]]:
        return [(t, p) for t, p in self._edges(key) if t not in self._closures]

    def _edges(self, key: Key) -> list[tuple[Key, tuple[str, ...]]]:
        return [(d.before, d.prop) for d in self._cache.get(key, ()) if d.kind == _CUT]

    def _close_component(self, members: list[Key]) -> None:
        inside = set(members)
        rep = members[0]
        forward: dict[Key, tuple[str, ...]] = {rep: ()}
        backward: dict[Key, tuple[str, ...]] = {rep: ()}
        incoming: dict[Key, list[tuple[Key, tuple[str, ...]]]] = {m: [] for m in members}
        queue = deque([rep])
        while queue:
            current = queue.popleft()
            for target, prop in self._edges(current):
                if target in inside:
                    incoming[target].append((current, prop))
                    if target not in forward:
                        forward[target] = forward[current] + prop
                        queue.append(target)
        queue = deque([rep])
        while queue:
            current = queue.popleft()
            for source, prop in incoming[current]:
                if source not in backward:
                    backward[source] = prop + backward[current]
                    queue.append(source)
        places: list[Delta] = []  # relative to the representative
        for member in members:
            for delta in self._cache.get(member, ()):
                if delta.kind != _CUT:
                    places.append(delta.under(*forward[member]))
                elif delta.before not in inside:
                    prefix = forward[member] + delta.prop
                    places.extend(d.under(*prefix) for d in self._closures[delta.before])
        places = _dedupe(places)
        for member in members:
            own = [d for d in self._cache.get(member, ()) if d.kind != _CUT]
            via = backward[member]
            self._closures[member] = _dedupe(own + [d.under(*via) for d in places])

    # -- one level -----------------------------------------------------------

    def _diff(self, b: View, r: View) -> list[Delta]:
        out: list[Delta] = []
        if _wrapped_in_one_of(b, r):
            out.append(Delta("wrapped-in-one-of", (), _ptr(r.pointer, "oneOf")))
            return out
        self._types(b, r, out)
        self._nullable(b, r, out)
        self._enum(b, r, out)
        self._bounds(b, r, out)
        self._pattern(b, r, out)
        self._default(b, r, out)
        self._properties(b, r, out)
        self._items(b, r, out)
        self._combinators(b, r, out)
        self._discriminator(b, r, out)
        self._keywords(b, r, out)
        return out

    def _types(self, b: View, r: View, out: list[Delta]) -> None:
        bt, rt = b.types, r.types
        if bt and rt and bt != rt:
            if self.parameters and rt == {"array"} and "array" not in bt:
                # form/explode serialization: one value is a valid one-element array
                items = view(r.schema.get("items"), _ptr(r.pointer, "items"), self.revision)
                kind = (
                    "type-generalized"
                    if "string" in items.types or bt <= items.types
                    else "type-changed"
                )
                out.append(Delta(kind, (), _ptr(r.pointer, "type"), _type_text(b), _type_text(r)))
                return
            if len(bt) > 1 or len(rt) > 1:
                if rt - bt:
                    out.append(
                        Delta("list-of-types-widened", (), r.pointer, sorted(bt), sorted(rt))
                    )
                if bt - rt:
                    out.append(
                        Delta("list-of-types-narrowed", (), r.pointer, sorted(bt), sorted(rt))
                    )
                return
            (before,), (after,) = bt, rt
            if (before, after) == ("integer", "number") or (
                self.parameters and after == "string" and before in _PRIMITIVES
            ):
                kind = "type-generalized"
            elif (before, after) == ("number", "integer") or (
                self.parameters and before == "string" and after in _PRIMITIVES
            ):
                kind = "type-specialized"
            else:
                kind = "type-changed"
            out.append(Delta(kind, (), _ptr(r.pointer, "type"), _type_text(b), _type_text(r)))
            return
        bf, rf = plain_format(b), plain_format(r)
        if bt != rt or bf == rf:
            return
        if bf is not None and rf is not None:
            out.append(
                Delta("type-changed", (), _ptr(r.pointer, "format"), _type_text(b), _type_text(r))
            )
        elif rf is not None:
            out.append(Delta("format-added", (), _ptr(r.pointer, "format"), None, rf))
        else:
            out.append(Delta("format-removed", (), r.pointer, bf, None))

    def _nullable(self, b: View, r: View, out: list[Delta]) -> None:
        if b.nullable == r.nullable:
            return
        kind = "became-nullable" if r.nullable else "became-not-nullable"
        out.append(Delta(kind, (), r.pointer))

    def _enum(self, b: View, r: View, out: list[Delta]) -> None:
        be, re_ = enum_values(b), enum_values(r)
        if be is None and re_ is not None:
            # a one-value enum on a type-less schema next to a typed one is a `const` rewrite
            out.append(Delta("became-enum", (), _ptr(r.pointer, "enum"), None, re_))
        elif be is not None and re_ is not None:
            _value_sets(be, re_, "enum-value", _ptr(r.pointer, "enum"), out)
        elif be is not None and re_ is None:
            out.append(Delta("enum-removed", (), r.pointer, be, None))
        bx, rx = b.schema.get("x-extensible-enum"), r.schema.get("x-extensible-enum")
        if isinstance(bx, list) and isinstance(rx, list):
            _value_sets(
                bx, rx, "x-extensible-enum-value", _ptr(r.pointer, "x-extensible-enum"), out
            )

    def _bounds(self, b: View, r: View, out: list[Delta]) -> None:
        for keyword, name, loosens in BOUNDS:
            before, after = bound(b, keyword), bound(r, keyword)
            if before == after or isinstance(before, bool) or isinstance(after, bool):
                continue
            where = _ptr(r.pointer, keyword)
            if before is None:
                out.append(Delta(f"{name}-set", (), where, None, after))
            elif after is None:
                out.append(Delta(f"{name}-unset", (), r.pointer, before, None))
            else:
                try:
                    larger = after > before
                except TypeError:
                    continue
                out.append(
                    Delta(
                        f"{name}-{'increased' if larger else 'decreased'}", (), where, before, after
                    )
                )
            del loosens
        self._multiple_of(b, r, out)
        bu, ru = b.schema.get("uniqueItems") is True, r.schema.get("uniqueItems") is True
        if bu != ru:
            kind = "unique-items-set" if ru else "unique-items-unset"
            out.append(Delta(kind, (), _ptr(r.pointer, "uniqueItems") if ru else r.pointer))

    def _multiple_of(self, b: View, r: View, out: list[Delta]) -> None:
        before, after = b.schema.get("multipleOf"), r.schema.get("multipleOf")
        if before == after or isinstance(before, bool) or isinstance(after, bool):
            return
        where = _ptr(r.pointer, "multipleOf")
        if before is None:
            out.append(Delta("multiple-of-set", (), where, None, after))
        elif after is None:
            out.append(Delta("multiple-of-unset", (), r.pointer, before, None))
        elif isinstance(before, (int, float)) and isinstance(after, (int, float)) and after:
            if before and _divides(after, before):
                kind = "multiple-of-generalized"  # every old multiple is a new multiple
            elif before and _divides(before, after):
                kind = "multiple-of-specialized"
            else:
                kind = "multiple-of-changed"
            out.append(Delta(kind, (), where, before, after))

    def _pattern(self, b: View, r: View, out: list[Delta]) -> None:
        # an empty pattern matches everything: the same as none
        before, after = b.schema.get("pattern") or None, r.schema.get("pattern") or None
        if before == after:
            return
        if before is None:
            out.append(Delta("pattern-added", (), _ptr(r.pointer, "pattern"), None, after))
        elif after is None:
            out.append(Delta("pattern-removed", (), r.pointer, before, None))
        else:
            out.append(Delta("pattern-changed", (), _ptr(r.pointer, "pattern"), before, after))

    def _default(self, b: View, r: View, out: list[Delta]) -> None:
        missing = object()
        before, after = b.get("default", missing), r.get("default", missing)
        if before is missing and after is missing:
            return
        if before is missing:
            out.append(Delta("default-value-added", (), _ptr(r.pointer, "default"), None, after))
        elif after is missing:
            out.append(Delta("default-value-removed", (), r.pointer, before, None))
        elif _canon(before) != _canon(after):
            out.append(
                Delta("default-value-changed", (), _ptr(r.pointer, "default"), before, after)
            )

    def _hidden(self, v: View) -> bool:
        """Properties a client never sees in this direction."""
        key = "readOnly" if self.request else "writeOnly"
        return v.get(key) is True

    def _properties(self, b: View, r: View, out: list[Delta]) -> None:
        bprops = b.schema.get("properties")
        rprops = r.schema.get("properties")
        bprops = bprops if isinstance(bprops, Mapping) else {}
        rprops = rprops if isinstance(rprops, Mapping) else {}
        if not bprops and not rprops:
            return
        breq = _names(b.schema.get("required"))
        rreq = _names(r.schema.get("required"))
        for name, b_node in bprops.items():
            bp = view(b_node, _prop_ptr(b, name), self.base)
            if name not in rprops:
                if not self._hidden(bp):
                    # where the property was: its allOf member, else this schema
                    member_ptr = b.property_pointers.get(name)
                    where = (
                        member_ptr.rsplit("/", 1)[0]
                        if member_ptr
                        else _ptr(r.pointer, "properties")
                    )
                    out.append(Delta("removed", (name,), where, required=name in breq))
                continue
            rp = view(rprops[name], _prop_ptr(r, name), self.revision)
            if self._hidden(rp):
                continue
            if self._hidden(bp):
                # the property appears in this direction for the first time
                out.append(_added(name, rp, name in rreq))
                continue
            out.extend(d.under(name) for d in self.compare_views(bp, rp))
            if (name in breq) != (name in rreq):
                kind = "became-required" if name in rreq else "became-optional"
                out.append(
                    Delta(kind, (name,), rp.pointer, with_default=rp.get("default") is not None)
                )
            if bool(bp.get("deprecated")) != bool(rp.get("deprecated")):
                kind = "deprecated" if rp.get("deprecated") else "reactivated"
                out.append(Delta(kind, (name,), rp.pointer))
        for name, r_node in rprops.items():
            if name in bprops:
                continue
            rp = view(r_node, _prop_ptr(r, name), self.revision)
            if not self._hidden(rp):
                out.append(_added(name, rp, name in rreq))

    def _items(self, b: View, r: View, out: list[Delta]) -> None:
        # `additionalProperties: false` (Pydantic's extra="forbid") rejects what was ignored
        b_closed = b.schema.get("additionalProperties") is False
        r_closed = r.schema.get("additionalProperties") is False
        if b_closed != r_closed and ("object" in b.types or "properties" in b.schema):
            kind = (
                "additional-properties-forbidden" if r_closed else "additional-properties-allowed"
            )
            out.append(
                Delta(kind, (), _ptr(r.pointer, "additionalProperties") if r_closed else r.pointer)
            )
        for keyword, token in (
            ("items", "items"),
            ("additionalProperties", "additionalProperties"),
        ):
            bi, ri = b.schema.get(keyword), r.schema.get(keyword)
            if isinstance(bi, Mapping) and isinstance(ri, Mapping):
                deltas = self.compare(bi, ri, _ptr(b.pointer, keyword), _ptr(r.pointer, keyword))
                out.extend(d.under(token) for d in deltas)
        bp, rp = b.schema.get("prefixItems"), r.schema.get("prefixItems")
        if isinstance(bp, list) and isinstance(rp, list):
            for i, (bi, ri) in enumerate(zip(bp, rp, strict=False)):
                deltas = self.compare(
                    bi, ri, _ptr(b.pointer, "prefixItems", i), _ptr(r.pointer, "prefixItems", i)
                )
                out.extend(d.under(f"prefixItems/{i}") for d in deltas)
            if len(rp) > len(bp):
                out.append(Delta("prefix-items-added", (), _ptr(r.pointer, "prefixItems")))
            elif len(rp) < len(bp):
                out.append(Delta("prefix-items-removed", (), _ptr(r.pointer, "prefixItems")))
        elif isinstance(rp, list):
            out.append(Delta("prefix-items-added", (), _ptr(r.pointer, "prefixItems")))
        elif isinstance(bp, list):
            out.append(Delta("prefix-items-removed", (), r.pointer))

    def _combinators(self, b: View, r: View, out: list[Delta]) -> None:
        for keyword, name in COMBINATORS:
            bm, rm = b.schema.get(keyword), r.schema.get(keyword)
            bm = bm if isinstance(bm, list) else []
            rm = rm if isinstance(rm, list) else []
            if not bm and not rm:
                continue
            if keyword != "allOf" and _all_simple(bm, self.base) and _all_simple(rm, self.revision):
                continue  # a list of types: compared by `_types`
            bkeys = _member_keys(bm, self.base)
            rkeys = _member_keys(rm, self.revision)
            if keyword != "allOf":
                _match_renamed_members(bkeys, bm, b, self.base, rkeys, rm, r, self.revision)
            # allOf members are merged into the view and compared there; only a
            # member added to or removed from an existing allOf is a change of its own
            merged = keyword == "allOf"
            for key, i in bkeys.items():
                if key not in rkeys:
                    if not merged or (rm and not _annotation_only(bm[i], self.base)):
                        where = _ptr(r.pointer, keyword) if rm else r.pointer
                        out.append(Delta(f"{name}-removed", (), where, key))
                    continue
                if merged:
                    continue
                j = rkeys[key]
                deltas = self.compare(
                    bm[i], rm[j], _ptr(b.pointer, keyword, i), _ptr(r.pointer, keyword, j)
                )
                out.extend(d.under(f"{keyword}[{key}]") for d in deltas)
            for key, j in rkeys.items():
                if key in bkeys:
                    continue
                annotation = merged and _annotation_only(rm[j], self.revision)
                if merged and not annotation and not bm:
                    continue
                kind = "all-of-added-annotation-only" if annotation else f"{name}-added"
                out.append(Delta(kind, (), _ptr(r.pointer, keyword, j), None, key))

    def _discriminator(self, b: View, r: View, out: list[Delta]) -> None:
        bd, rd = b.schema.get("discriminator"), r.schema.get("discriminator")
        if not isinstance(bd, Mapping) and not isinstance(rd, Mapping):
            return
        where = _ptr(r.pointer, "discriminator")
        if not isinstance(bd, Mapping):
            out.append(Delta("discriminator-added", (), where))
            return
        if not isinstance(rd, Mapping):
            out.append(Delta("discriminator-removed", (), r.pointer))
            return
        if bd.get("propertyName") != rd.get("propertyName"):
            out.append(
                Delta(
                    "discriminator-property-name-changed",
                    (),
                    where,
                    bd.get("propertyName"),
                    rd.get("propertyName"),
                )
            )
        bmap = _mapping(bd.get("mapping"))
        rmap = _mapping(rd.get("mapping"))
        added = sorted(set(rmap) - set(bmap))
        deleted = sorted(set(bmap) - set(rmap))
        changed = sorted(k for k in set(bmap) & set(rmap) if bmap[k] != rmap[k])
        if added:
            out.append(Delta("discriminator-mapping-added", (), where, None, added))
        if deleted:
            out.append(Delta("discriminator-mapping-deleted", (), where, deleted, None))
        if changed:
            out.append(
                Delta(
                    "discriminator-mapping-changed",
                    (),
                    where,
                    [f"{k}: {bmap[k]}" for k in changed],
                    [f"{k}: {rmap[k]}" for k in changed],
                )
            )

    def _keywords(self, b: View, r: View, out: list[Delta]) -> None:
        for keyword, name in SUBSCHEMAS:
            bs, rs = b.schema.get(keyword), r.schema.get(keyword)
            if bs is None and rs is None:
                continue
            if bs is None:
                out.append(Delta(f"{name}-added", (), _ptr(r.pointer, keyword)))
            elif rs is None:
                out.append(Delta(f"{name}-removed", (), r.pointer))
            elif isinstance(bs, Mapping) and isinstance(rs, Mapping):
                deltas = self.compare(bs, rs, _ptr(b.pointer, keyword), _ptr(r.pointer, keyword))
                out.extend(d.under(keyword) for d in deltas)
        for keyword, name in (
            ("patternProperties", "pattern-property"),
            ("dependentSchemas", "dependent-schema"),
        ):
            bs, rs = b.schema.get(keyword), r.schema.get(keyword)
            bs = bs if isinstance(bs, Mapping) else {}
            rs = rs if isinstance(rs, Mapping) else {}
            for key in rs:
                if key not in bs:
                    out.append(Delta(f"{name}-added", (), _ptr(r.pointer, keyword, key), None, key))
                else:
                    deltas = self.compare(
                        bs[key],
                        rs[key],
                        _ptr(b.pointer, keyword, key),
                        _ptr(r.pointer, keyword, key),
                    )
                    out.extend(d.under(f"{keyword}/{key}") for d in deltas)
            for key in bs:
                if key not in rs:
                    where = _ptr(r.pointer, keyword) if rs else r.pointer
                    out.append(Delta(f"{name}-removed", (), where, key, None))
        bdr, rdr = b.schema.get("dependentRequired"), r.schema.get("dependentRequired")
        if (bdr or rdr) and _canon(bdr or {}) != _canon(rdr or {}):
            out.append(
                Delta(
                    "dependent-required-changed", (), _ptr(r.pointer, "dependentRequired"), bdr, rdr
                )
            )
        for keyword, name in (
            ("contentEncoding", "content-encoding"),
            ("contentMediaType", "content-media-type"),
        ):
            before, after = content_keyword(b, keyword), content_keyword(r, keyword)
            if before != after:
                out.append(Delta(f"{name}-changed", (), _ptr(r.pointer, keyword), before, after))


def _prop_ptr(v: View, name: str) -> str:
    return v.property_pointers.get(name) or _ptr(v.pointer, "properties", name)


def _added(name: str, v: View, required: bool) -> Delta:
    return Delta(
        "added", (name,), v.pointer, required=required, with_default=v.get("default") is not None
    )


def _components(
    start: Key, edges: Callable[[Key], list[tuple[Key, tuple[str, ...]]]]
) -> list[list[Key]]:
    """Strongly connected components reachable from `start`, successors first
    (Tarjan's algorithm, iterative: the graphs can be thousands deep)."""
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    stack: list[Key] = []
    on_stack: set[Key] = set()
    out: list[list[Key]] = []
    work: list[tuple[Key, Iterator[Key]]] = []

    def enter(node: Key) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        work.append((node, iter([t for t, _ in edges(node)])))

    enter(start)
    while work:
        node, successors = work[-1]
        advanced = False
        for succ in successors:
            if succ not in index:
                enter(succ)
                advanced = True
                break
            if succ in on_stack:
                low[node] = min(low[node], index[succ])
        if advanced:
            continue
        work.pop()
        if work:
            parent = work[-1][0]
            low[parent] = min(low[parent], low[node])
        if low[node] == index[node]:
            component: list[Key] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            component.reverse()
            out.append(component)
    return out


def _dedupe(deltas: list[Delta]) -> list[Delta]:
    """One delta per changed place (kind, pointer, property), the shortest path kept.

    Without this, a definition reachable along many paths (a DAG of $refs, or
    recursion) would be reported once per path: exponentially many."""
    best: dict[tuple[str, str, str], Delta] = {}
    for delta in deltas:
        key = (delta.kind, delta.pointer, delta.prop[-1] if delta.prop else "")
        if delta.kind == _CUT:
            key = (delta.kind, repr(delta.before), "")
        kept = best.get(key)
        if kept is None or len(delta.prop) < len(kept.prop):
            best[key] = delta
    if len(best) == len(deltas):
        return deltas
    keep = set(map(id, best.values()))
    return [d for d in deltas if id(d) in keep]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _divides(small: float, large: float) -> bool:
    ratio = large / small
    return abs(ratio - round(ratio)) < 1e-9


def _all_simple(members: list[Any], resolver: Resolver) -> bool:
    return all(is_simple_type(m, resolver) for m in members)


def _names(value: Any) -> set[str]:
    return {x for x in value if isinstance(x, str)} if isinstance(value, list) else set()


def _type_text(v: View) -> str:
    types = "/".join(sorted(v.types)) or "any"
    fmt = v.schema.get("format")
    return f"{types}/{fmt}" if isinstance(fmt, str) else types


def _value_sets(
    before: list[Any], after: list[Any], kind: str, where: str, out: list[Delta]
) -> None:
    bset = {_canon(v): v for v in before}
    rset = {_canon(v): v for v in after}
    removed = [bset[k] for k in bset if k not in rset]
    added = [rset[k] for k in rset if k not in bset]
    if removed:
        out.append(Delta(f"{kind}-removed", (), where, removed, None))
    if added:
        out.append(Delta(f"{kind}-added", (), where, None, added))


def _member_keys(members: list[Any], resolver: Resolver) -> dict[str, int]:
    """Identity of combinator members: the `$ref` target, then the title, then
    the type of a plain member, then the position."""
    keys: dict[str, int] = {}
    for i, member in enumerate(members):
        key = f"#{i}"
        if isinstance(member, Mapping) and isinstance(member.get("$ref"), str):
            key = member["$ref"].rsplit("/", 1)[-1]
        else:
            target = resolver.node(member)
            if isinstance(target, Mapping):
                if isinstance(target.get("title"), str):
                    key = target["title"]
                elif isinstance(target.get("type"), str) and not any(
                    k in target for k in ("properties", "items", "enum", "const")
                ):
                    key = target["type"]
        if key in keys:
            key = f"{key}#{i}"
        keys[key] = i
    return keys


def _match_renamed_members(
    bkeys: dict[str, int],
    bm: list[Any],
    b: View,
    base: Resolver,
    rkeys: dict[str, int],
    rm: list[Any],
    r: View,
    revision: Resolver,
) -> None:
    """Pair union members whose name changed but whose meaning did not: the same
    discriminator value, else the same shape. Renaming a Pydantic class that is
    part of a union renames its `$ref`; clients never see that name. The base
    keys of paired members are rewritten to the revision's (in place)."""
    lost = [k for k in bkeys if k not in rkeys]
    new = [k for k in rkeys if k not in bkeys]
    if not lost or not new:
        return
    for finder in (_discriminator_value, _member_shape):
        bvalues = {k: finder(bm[bkeys[k]], b, base) for k in lost}
        rvalues = {k: finder(rm[rkeys[k]], r, revision) for k in new}
        for bk, value in bvalues.items():
            if value is None or bk not in bkeys:
                continue
            same = [rk for rk, rv in rvalues.items() if rv == value and rk not in bkeys]
            if len(same) == 1 and list(bvalues.values()).count(value) == 1:
                bkeys[same[0]] = bkeys.pop(bk)
        lost = [k for k in bkeys if k not in rkeys]
        new = [k for k in rkeys if k not in bkeys]


def _discriminator_value(member: Any, parent: View, resolver: Resolver) -> str | None:
    disc = parent.schema.get("discriminator")
    if not isinstance(disc, Mapping):
        return None
    ref = member.get("$ref") if isinstance(member, Mapping) else None
    for value, target in _mapping(disc.get("mapping")).items():
        if ref is not None and target == ref:
            return f"mapping:{value}"
    name = disc.get("propertyName")
    target_schema = resolver.node(member)
    if isinstance(name, str) and isinstance(target_schema, Mapping):
        prop = resolver.node(_mapping(target_schema.get("properties")).get(name))
        if isinstance(prop, Mapping):
            if "const" in prop:
                return f"mapping:{prop['const']}"
            enum = prop.get("enum")
            if isinstance(enum, list) and len(enum) == 1:
                return f"mapping:{enum[0]}"
    return None


def _member_shape(member: Any, parent: View, resolver: Resolver) -> str | None:
    del parent
    return _shape(resolver.node(member))


def _shape(node: Any) -> str | None:
    """The structure of a schema without its annotations, for "is this the same thing"."""
    if not isinstance(node, Mapping):
        return None
    return _canon({k: v for k, v in node.items() if is_structural(k)})


def _annotation_only(node: Any, resolver: Resolver) -> bool:
    target = resolver.node(node)
    return isinstance(target, Mapping) and not any(is_structural(k) for k in target)


def _wrapped_in_one_of(b: View, r: View) -> bool:
    """The revision replaced an object schema with a `oneOf` of alternatives."""
    rm = r.schema.get("oneOf")
    return (
        "oneOf" not in b.schema
        and isinstance(rm, list)
        and len(rm) > 1
        and "properties" in b.schema
        and "properties" not in r.schema
    )
