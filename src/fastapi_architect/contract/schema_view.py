"""How the differ sees a schema: the meaning, with the emission noise removed.

FastAPI and Pydantic write the same schema differently across versions:
`anyOf: [X, {type: null}]` or `nullable: true`, `const` or a one-value `enum`,
`allOf: [{$ref}]` around a reference or the reference itself, boolean or
numeric `exclusiveMaximum`. `view` reduces all of these to one form so that
only changes of meaning are compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi_architect.contract.refs import Resolver

# Keys that describe a schema without constraining its values.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "example",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "nullable",
        "externalDocs",
        "xml",
        "$comment",
        "$id",
        "$schema",
        "$anchor",
        "discriminator",
    }
)
_CARRIED = ("default", "deprecated", "readOnly", "writeOnly")


@dataclass(frozen=True, slots=True)
class View:
    """A normalized schema: `schema` is the mapping to read constraints from."""

    schema: Mapping[str, Any]
    pointer: str
    nullable: bool
    types: frozenset[str]  # without "null"; empty means any type
    carried: Mapping[str, Any]  # annotations of wrappers that were removed
    # where each property really is, when `schema` merged the members of an allOf
    property_pointers: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.carried:
            return self.carried[key]
        return self.schema.get(key, default)


def is_structural(key: str) -> bool:
    return key not in ANNOTATIONS and not key.startswith("x-")


def _only_annotations(schema: Mapping[str, Any], *skip: str) -> bool:
    return all(not is_structural(k) or k in skip for k in schema)


def _is_null_schema(node: Any) -> bool:
    if not isinstance(node, Mapping):
        return False
    t = node.get("type")
    return (t == "null" or t == ["null"]) and _only_annotations(node, "type")


def view(node: Any, pointer: str, resolver: Resolver) -> View:
    # OpenAPI 3.0 writes `{$ref: X, nullable: true}`; 3.1 allows siblings of $ref
    # (FastAPI: `{$ref: Sort, default: "relevance"}`): they apply on top of X
    ref_nullable = isinstance(node, Mapping) and "$ref" in node and node.get("nullable") is True
    if isinstance(node, Mapping) and "$ref" in node and len(node) > 1:
        node = resolver.merged(node, pointer, _with_siblings)
    node, pointer, _ = resolver.deref(node, pointer)
    if not isinstance(node, Mapping):
        # `true`/`false` schemas (3.1) and garbage: an unconstrained schema
        return View({}, pointer, False, frozenset(), {})
    nullable = ref_nullable or node.get("nullable") is True
    carried: dict[str, Any] = {}
    for _ in range(8):  # wrappers nest a few levels at most; bound it anyway
        unwrapped = _unwrap(node, pointer, resolver)
        if unwrapped is None:
            break
        for key in _CARRIED:
            if key in node and key not in carried:
                carried[key] = node[key]
        node, pointer, null_member = unwrapped
        nullable = nullable or null_member or node.get("nullable") is True
        if not isinstance(node, Mapping):
            return View({}, pointer, nullable, frozenset(), carried)
    property_pointers: dict[str, str] = {}
    if isinstance(node.get("allOf"), list):
        node, property_pointers = resolver.merged(node, pointer, merge_all_of)
        # 3.0 left open whether a nullable member makes the whole nullable; the
        # authors who write it mean yes, and a false "breaking" is the worse error
        nullable = nullable or node.get("nullable") is True
    types = type_set(node, resolver)
    if "null" in types:
        nullable = True
        types = types - {"null"}
    enum = node.get("enum")
    if isinstance(enum, list) and None in enum:
        nullable = True
    return View(node, pointer, nullable, types, carried, property_pointers)


def _with_siblings(node: Mapping[str, Any], pointer: str, resolver: Resolver) -> Any:
    """`{$ref: X, k: v}` as X with `k: v` applied (the reference's target wins
    nothing: the siblings are the more specific statement)."""
    del pointer
    target = resolver.node(node)
    if not isinstance(target, Mapping):
        return node
    siblings = {k: v for k, v in node.items() if k != "$ref"}
    if not any(is_structural(k) or k in _CARRIED for k in siblings):
        return node  # only a title or a description: keep the reference (and its cache)
    return {**target, **siblings}


def merge_all_of(
    node: Mapping[str, Any], pointer: str, resolver: Resolver
) -> tuple[dict[str, Any], dict[str, str]]:
    """One schema standing for `node` and its allOf members: properties and
    `required` united, other keywords from the schema itself, then from the
    members in order. `allOf` stays, so added and removed members still show."""
    merged: dict[str, Any] = dict(node)
    properties: dict[str, Any] = {}
    pointers: dict[str, str] = {}
    required: list[Any] = []
    sources: list[tuple[Mapping[str, Any], str]] = [(node, pointer)]
    seen: set[int] = {id(node)}
    index = 0
    while index < len(sources) and index < 256:
        schema, where = sources[index]
        index += 1
        own = schema.get("properties")
        if isinstance(own, Mapping):
            for name, value in own.items():
                if name not in properties:
                    properties[name] = value
                    pointers[name] = f"{where}/properties/{_token(name)}"
        if isinstance(schema.get("required"), list):
            required.extend(x for x in schema["required"] if x not in required)
        if schema is not node:
            for key, value in schema.items():
                if key not in ("properties", "required", "allOf") and key not in merged:
                    merged[key] = value
        members = schema.get("allOf")
        if isinstance(members, list):
            for i, member in enumerate(members):
                target, target_ptr, _ = resolver.deref(member, f"{where}/allOf/{i}")
                if isinstance(target, Mapping) and id(target) not in seen:
                    seen.add(id(target))
                    sources.append((target, target_ptr))
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged, pointers


def _token(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _unwrap(
    node: Mapping[str, Any], pointer: str, resolver: Resolver
) -> tuple[Any, str, bool] | None:
    """The schema a wrapper stands for: `allOf: [X]`, `anyOf/oneOf: [X, null]`."""
    for key in ("allOf", "anyOf", "oneOf"):
        members = node.get(key)
        if not isinstance(members, list) or not _only_annotations(node, key):
            continue
        if key == "allOf" and len(members) == 1:
            target, target_ptr, _ = resolver.deref(members[0], f"{pointer}/{key}/0")
            return target, target_ptr, False
        if key != "allOf" and len(members) == 2:
            resolved = [resolver.deref(m, f"{pointer}/{key}/{i}") for i, m in enumerate(members)]
            nulls = [_is_null_schema(r[0]) for r in resolved]
            if nulls.count(True) == 1:
                target, target_ptr, _ = resolved[nulls.index(False)]
                return target, target_ptr, True
    return None


def type_set(node: Mapping[str, Any], resolver: Resolver) -> frozenset[str]:
    """The JSON types a schema admits; a oneOf/anyOf of plain types is a list of types."""
    t = node.get("type")
    if isinstance(t, str):
        return frozenset((t,))
    if isinstance(t, list):
        return frozenset(x for x in t if isinstance(x, str))
    found: set[str] = set()
    for key in ("oneOf", "anyOf"):
        members = node.get(key)
        if not isinstance(members, list):
            continue
        for member in members:
            target = resolver.node(member)
            if not isinstance(target, Mapping):
                return frozenset()
            member_type = target.get("type")
            if isinstance(member_type, str):
                found.add(member_type)
            elif isinstance(member_type, list):
                found.update(x for x in member_type if isinstance(x, str))
            else:
                return frozenset()  # a member of any type: the union is any type
    if found:
        return frozenset(found)
    if "properties" in node or "additionalProperties" in node:
        return frozenset(("object",))
    if "items" in node or "prefixItems" in node:
        return frozenset(("array",))
    return frozenset()


def is_simple_type(node: Any, resolver: Resolver) -> bool:
    """A combinator member that only names a type (`{type: string}`)."""
    target = resolver.node(node)
    return isinstance(target, Mapping) and _only_annotations(target, "type", "format")


def enum_values(v: View) -> list[Any] | None:
    enum = v.schema.get("enum")
    if isinstance(enum, list):
        return [e for e in enum if e is not None]
    if "const" in v.schema:
        return [v.schema["const"]]
    return None


def bound(v: View, key: str) -> Any:
    """Numeric bounds with OpenAPI 3.0's boolean `exclusiveMaximum` made 3.1-like."""
    schema = v.schema
    if key in ("maximum", "minimum"):
        exclusive = schema.get("exclusiveMaximum" if key == "maximum" else "exclusiveMinimum")
        return None if exclusive is True else schema.get(key)
    if key in ("exclusiveMaximum", "exclusiveMinimum"):
        value = schema.get(key)
        if value is True:
            return schema.get("maximum" if key == "exclusiveMaximum" else "minimum")
        if isinstance(value, bool):
            return None
        return value
    value = schema.get(key)
    # the default of a lower bound is no bound: `minLength: 0` says nothing
    if key in _ZERO_MEANS_NONE and value == 0 and not isinstance(value, bool):
        return None
    return value


_ZERO_MEANS_NONE = frozenset({"minLength", "minItems", "minProperties"})


# OpenAPI 3.0 wrote binary and base64 content as formats; 3.1 (and FastAPI after
# it) as content keywords. Both spellings mean the same.
_FORMAT_AS_CONTENT = {
    "binary": ("contentMediaType", "application/octet-stream"),
    "byte": ("contentEncoding", "base64"),
}


def plain_format(v: View) -> str | None:
    """The `format`, unless it is one of the 3.0 spellings of a content keyword."""
    fmt = v.schema.get("format")
    if not isinstance(fmt, str) or fmt in _FORMAT_AS_CONTENT:
        return None
    return fmt


def content_keyword(v: View, keyword: str) -> Any:
    value = v.schema.get(keyword)
    if value is not None:
        return value
    spelled = _FORMAT_AS_CONTENT.get(str(v.schema.get("format")))
    return spelled[1] if spelled is not None and spelled[0] == keyword else None
