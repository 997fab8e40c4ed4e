"""Every change id the differ can report, with an example pair of documents.

The examples serve twice: `docs/contract-changes.md` is generated from them
(`python -m fastapi_architect.contract.catalog docs/contract-changes.md`), and
the test suite runs the differ on each one and checks the id comes out at the
documented level. Schema changes are written once, as a pair of schemas, and
placed in every position a schema can take (request body, request property,
parameter, response body, response property), which is where their ids differ.
"""

from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fastapi_architect.contract.changes import Level
from fastapi_architect.contract.differ import diff_documents
from fastapi_architect.contract.document import Document
from fastapi_architect.contract.naming import Where, change_for
from fastapi_architect.contract.schema_diff import REQUEST, RESPONSE, Delta


@dataclass(frozen=True)
class Example:
    id: str
    level: Level
    summary: str
    base: dict[str, Any]
    revision: dict[str, Any]
    family: str  # the section of the docs it belongs to
    shown: str  # the fragment shown in the docs: "before" and "after" as YAML


def _doc(
    paths: dict[str, Any], components: dict[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "example", "version": "1"}}
    doc.update(top)
    doc["paths"] = paths
    if components:
        doc["components"] = components
    return doc


def _op(**fields: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"responses": {"200": {"description": "OK"}}}
    op.update(fields)
    return op


# -- schema changes --------------------------------------------------------------

# kind: (summary, base schema, revision schema, positions it applies to)
_ALL = ("body", "property", "parameter", "parameter-property")
_OBJECT = ("body", "property")
S = dict[str, Any]
SCHEMA_KINDS: dict[str, tuple[str, S, S, tuple[str, ...]]] = {
    "type-changed": ("the type changed", {"type": "integer"}, {"type": "boolean"}, _ALL),
    "type-generalized": (
        "the type was widened (integer to number)",
        {"type": "integer"},
        {"type": "number"},
        _ALL,
    ),
    "type-specialized": (
        "the type was narrowed (number to integer)",
        {"type": "number"},
        {"type": "integer"},
        _ALL,
    ),
    "list-of-types-widened": (
        "a type list admits more types",
        {"type": ["string", "integer"]},
        {"type": ["string", "integer", "boolean"]},
        _ALL,
    ),
    "list-of-types-narrowed": (
        "a type list admits fewer types",
        {"type": ["string", "integer"]},
        {"type": ["string"]},
        _ALL,
    ),
    "format-added": (
        "a format was added to a plain type",
        {"type": "string"},
        {"type": "string", "format": "email"},
        _ALL,
    ),
    "format-removed": (
        "the format was removed",
        {"type": "string", "format": "email"},
        {"type": "string"},
        _ALL,
    ),
    "additional-properties-forbidden": (
        'unknown properties are now rejected (`additionalProperties: false`, Pydantic\'s `extra="forbid"`)',
        {"type": "object", "properties": {"a": {"type": "string"}}},
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
        _OBJECT,
    ),
    "additional-properties-allowed": (
        "unknown properties are no longer rejected",
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
        {"type": "object", "properties": {"a": {"type": "string"}}},
        _OBJECT,
    ),
    "became-nullable": (
        "null became a valid value",
        {"type": "string"},
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        ("body", "property", "parameter-property"),
    ),
    "became-not-nullable": (
        "null is no longer a valid value",
        {"type": "string", "nullable": True},
        {"type": "string"},
        ("body", "property", "parameter-property"),
    ),
    "became-enum": (
        "values were restricted to a list",
        {"type": "string"},
        {"type": "string", "enum": ["a", "b"]},
        _ALL,
    ),
    "enum-removed": (
        "the list of allowed values was dropped",
        {"type": "string", "enum": ["a", "b"]},
        {"type": "string"},
        _ALL,
    ),
    "enum-value-removed": (
        "an allowed value was removed",
        {"type": "string", "enum": ["a", "b"]},
        {"type": "string", "enum": ["a"]},
        _ALL,
    ),
    "enum-value-added": (
        "an allowed value was added",
        {"type": "string", "enum": ["a"]},
        {"type": "string", "enum": ["a", "b"]},
        _ALL,
    ),
    "x-extensible-enum-value-removed": (
        "an `x-extensible-enum` value was removed",
        {"type": "string", "x-extensible-enum": ["a", "b"]},
        {"type": "string", "x-extensible-enum": ["a"]},
        _ALL,
    ),
    "x-extensible-enum-value-added": (
        "an `x-extensible-enum` value was added",
        {"type": "string", "x-extensible-enum": ["a"]},
        {"type": "string", "x-extensible-enum": ["a", "b"]},
        _ALL,
    ),
    "pattern-added": (
        "a pattern was added",
        {"type": "string"},
        {"type": "string", "pattern": "^[a-z]+$"},
        _ALL,
    ),
    "pattern-removed": (
        "the pattern was removed",
        {"type": "string", "pattern": "^[a-z]+$"},
        {"type": "string"},
        _ALL,
    ),
    "pattern-changed": (
        "the pattern changed (whether it accepts more or less cannot be decided)",
        {"type": "string", "pattern": "^[a-z]+$"},
        {"type": "string", "pattern": "^[a-z0-9]+$"},
        _ALL,
    ),
    "default-value-added": (
        "a default was added",
        {"type": "integer"},
        {"type": "integer", "default": 10},
        _ALL,
    ),
    "default-value-removed": (
        "the default was removed",
        {"type": "integer", "default": 10},
        {"type": "integer"},
        _ALL,
    ),
    "default-value-changed": (
        "the default changed",
        {"type": "integer", "default": 10},
        {"type": "integer", "default": 20},
        _ALL,
    ),
    "multiple-of-set": (
        "a multipleOf was added",
        {"type": "integer"},
        {"type": "integer", "multipleOf": 5},
        _ALL,
    ),
    "multiple-of-unset": (
        "the multipleOf was removed",
        {"type": "integer", "multipleOf": 5},
        {"type": "integer"},
        _ALL,
    ),
    "multiple-of-generalized": (
        "multipleOf changed to a divisor (accepts more)",
        {"type": "integer", "multipleOf": 10},
        {"type": "integer", "multipleOf": 5},
        _ALL,
    ),
    "multiple-of-specialized": (
        "multipleOf changed to a multiple (accepts less)",
        {"type": "integer", "multipleOf": 5},
        {"type": "integer", "multipleOf": 10},
        _ALL,
    ),
    "multiple-of-changed": (
        "multipleOf changed otherwise",
        {"type": "integer", "multipleOf": 4},
        {"type": "integer", "multipleOf": 6},
        _ALL,
    ),
    "unique-items-set": (
        "items must now be unique",
        {"type": "array", "items": {"type": "string"}},
        {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        _ALL,
    ),
    "unique-items-unset": (
        "items no longer need to be unique",
        {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        {"type": "array", "items": {"type": "string"}},
        _ALL,
    ),
    "one-of-added": (
        "a oneOf alternative was added",
        {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        {
            "oneOf": [
                {"$ref": "#/components/schemas/Cat"},
                {"$ref": "#/components/schemas/Dog"},
                {"$ref": "#/components/schemas/Fox"},
            ]
        },
        _OBJECT,
    ),
    "one-of-removed": (
        "a oneOf alternative was removed",
        {
            "oneOf": [
                {"$ref": "#/components/schemas/Cat"},
                {"$ref": "#/components/schemas/Dog"},
                {"$ref": "#/components/schemas/Fox"},
            ]
        },
        {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        _OBJECT,
    ),
    "any-of-added": (
        "an anyOf alternative was added",
        {"anyOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        {
            "anyOf": [
                {"$ref": "#/components/schemas/Cat"},
                {"$ref": "#/components/schemas/Dog"},
                {"$ref": "#/components/schemas/Fox"},
            ]
        },
        _OBJECT,
    ),
    "any-of-removed": (
        "an anyOf alternative was removed",
        {
            "anyOf": [
                {"$ref": "#/components/schemas/Cat"},
                {"$ref": "#/components/schemas/Dog"},
                {"$ref": "#/components/schemas/Fox"},
            ]
        },
        {"anyOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        _OBJECT,
    ),
    "all-of-added": (
        "an allOf member was added (the value must satisfy it too)",
        {"allOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        {
            "allOf": [
                {"$ref": "#/components/schemas/Cat"},
                {"$ref": "#/components/schemas/Dog"},
                {"$ref": "#/components/schemas/Fox"},
            ]
        },
        _OBJECT,
    ),
    "all-of-removed": (
        "an allOf member was removed",
        {
            "allOf": [
                {"$ref": "#/components/schemas/Cat"},
                {"$ref": "#/components/schemas/Dog"},
                {"$ref": "#/components/schemas/Fox"},
            ]
        },
        {"allOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        _OBJECT,
    ),
    "all-of-added-annotation-only": (
        "an allOf member that only annotates was added",
        {"allOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        {
            "allOf": [
                {"$ref": "#/components/schemas/Cat"},
                {"$ref": "#/components/schemas/Dog"},
                {"description": "a pet"},
            ]
        },
        _OBJECT,
    ),
    "wrapped-in-one-of": (
        "an object was replaced by a oneOf of alternatives",
        {"type": "object", "properties": {"a": {"type": "string"}}},
        {
            "oneOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "object", "properties": {"b": {"type": "string"}}},
            ]
        },
        _OBJECT,
    ),
    "discriminator-added": (
        "a discriminator was added",
        {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind"},
        },
        _OBJECT,
    ),
    "discriminator-removed": (
        "the discriminator was removed",
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind"},
        },
        {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        _OBJECT,
    ),
    "discriminator-property-name-changed": (
        "the discriminator property changed",
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind"},
        },
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "type"},
        },
        _OBJECT,
    ),
    "discriminator-mapping-added": (
        "a discriminator mapping was added",
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}],
            "discriminator": {"propertyName": "kind", "mapping": {}},
        },
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat"},
            },
        },
        _OBJECT,
    ),
    "discriminator-mapping-deleted": (
        "a discriminator mapping was deleted",
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat"},
            },
        },
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}],
            "discriminator": {"propertyName": "kind", "mapping": {}},
        },
        _OBJECT,
    ),
    "discriminator-mapping-changed": (
        "a discriminator mapping points elsewhere",
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat"},
            },
        },
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Fox"},
            },
        },
        _OBJECT,
    ),
    "dependent-required-changed": (
        "dependentRequired changed",
        {"type": "object", "dependentRequired": {"a": ["b"]}},
        {"type": "object", "dependentRequired": {"a": ["b", "c"]}},
        _OBJECT,
    ),
    "content-encoding-changed": (
        "contentEncoding changed",
        {"type": "string", "contentEncoding": "base64"},
        {"type": "string", "contentEncoding": "base32"},
        _OBJECT,
    ),
    "content-media-type-changed": (
        "contentMediaType changed",
        {"type": "string", "contentMediaType": "image/png"},
        {"type": "string", "contentMediaType": "image/jpeg"},
        _OBJECT,
    ),
    "prefix-items-added": (
        "prefixItems were added",
        {"type": "array"},
        {"type": "array", "prefixItems": [{"type": "string"}]},
        _OBJECT,
    ),
    "prefix-items-removed": (
        "prefixItems were removed",
        {"type": "array", "prefixItems": [{"type": "string"}]},
        {"type": "array"},
        _OBJECT,
    ),
}
_SUBSCHEMA_EXAMPLES: dict[str, tuple[str, S]] = {
    "contains": ("contains", {"type": "array", "items": {"type": "string"}}),
    "property-names": ("propertyNames", {"type": "object"}),
    "if": ("if", {"type": "object"}),
    "then": ("then", {"type": "object"}),
    "else": ("else", {"type": "object"}),
    "not": ("not", {"type": "string"}),
    "unevaluated-items": ("unevaluatedItems", {"type": "array"}),
    "unevaluated-properties": ("unevaluatedProperties", {"type": "object"}),
    "content-schema": ("contentSchema", {"type": "string", "contentMediaType": "application/json"}),
}
for _name, (_keyword, _schema) in _SUBSCHEMA_EXAMPLES.items():
    _with = {**_schema, _keyword: {"type": "string", "maxLength": 3}}
    SCHEMA_KINDS[f"{_name}-added"] = (f"`{_keyword}` was added", _schema, _with, _OBJECT)
    SCHEMA_KINDS[f"{_name}-removed"] = (f"`{_keyword}` was removed", _with, _schema, _OBJECT)
SCHEMA_KINDS["pattern-property-added"] = (
    "a patternProperties entry was added",
    {"type": "object"},
    {"type": "object", "patternProperties": {"^x-": {"type": "string"}}},
    _OBJECT,
)
SCHEMA_KINDS["pattern-property-removed"] = (
    "a patternProperties entry was removed",
    {"type": "object", "patternProperties": {"^x-": {"type": "string"}}},
    {"type": "object"},
    _OBJECT,
)
SCHEMA_KINDS["dependent-schema-added"] = (
    "a dependentSchemas entry was added",
    {"type": "object"},
    {"type": "object", "dependentSchemas": {"a": {"required": ["b"]}}},
    _OBJECT,
)
SCHEMA_KINDS["dependent-schema-removed"] = (
    "a dependentSchemas entry was removed",
    {"type": "object", "dependentSchemas": {"a": {"required": ["b"]}}},
    {"type": "object"},
    _OBJECT,
)
_BOUND_KEYWORDS = {
    "max": ("maximum", "integer", 10, 5),
    "min": ("minimum", "integer", 5, 10),
    "exclusive-max": ("exclusiveMaximum", "integer", 10, 5),
    "exclusive-min": ("exclusiveMinimum", "integer", 5, 10),
    "max-length": ("maxLength", "string", 10, 5),
    "min-length": ("minLength", "string", 5, 10),
    "max-items": ("maxItems", "array", 10, 5),
    "min-items": ("minItems", "array", 5, 10),
    "max-properties": ("maxProperties", "object", 10, 5),
    "min-properties": ("minProperties", "object", 5, 10),
    "max-contains": ("maxContains", "array", 10, 5),
    "min-contains": ("minContains", "array", 5, 10),
}
for _name, (_keyword, _type, _loose, _tight) in _BOUND_KEYWORDS.items():
    _plain: S = {"type": _type}
    if _type == "array":
        _plain["items"] = {"type": "string"}
    tighter = "decreased" if _name.startswith(("max", "exclusive-max")) else "increased"
    looser = "increased" if tighter == "decreased" else "decreased"
    _positions = _ALL if _type != "object" else _OBJECT
    SCHEMA_KINDS[f"{_name}-{tighter}"] = (
        f"`{_keyword}` {tighter}: fewer values accepted",
        {**_plain, _keyword: _loose},
        {**_plain, _keyword: _tight},
        _positions,
    )
    SCHEMA_KINDS[f"{_name}-{looser}"] = (
        f"`{_keyword}` {looser}: more values accepted",
        {**_plain, _keyword: _tight},
        {**_plain, _keyword: _loose},
        _positions,
    )
    SCHEMA_KINDS[f"{_name}-set"] = (
        f"`{_keyword}` was added",
        _plain,
        {**_plain, _keyword: _tight},
        _positions,
    )
    SCHEMA_KINDS[f"{_name}-unset"] = (
        f"`{_keyword}` was removed",
        {**_plain, _keyword: _tight},
        _plain,
        _positions,
    )

# property changes: (summary, base object, revision object, property, whether a request or a response shows it)
_P = {"type": "string"}
PROPERTY_KINDS: list[tuple[str, str, S, S, str]] = [
    (
        "added-required",
        "a required property was added",
        {"type": "object", "properties": {}},
        {"type": "object", "properties": {"name": _P}, "required": ["name"]},
        "both",
    ),
    (
        "added-required-default",
        "a required property with a default was added",
        {"type": "object", "properties": {}},
        {"type": "object", "properties": {"name": {**_P, "default": "x"}}, "required": ["name"]},
        "request",
    ),
    (
        "added-optional",
        "an optional property was added",
        {"type": "object", "properties": {}},
        {"type": "object", "properties": {"name": _P}},
        "both",
    ),
    (
        "removed-required",
        "a required property was removed",
        {"type": "object", "properties": {"name": _P}, "required": ["name"]},
        {"type": "object", "properties": {}},
        "response",
    ),
    (
        "removed-optional",
        "an optional property was removed",
        {"type": "object", "properties": {"name": _P}},
        {"type": "object", "properties": {}},
        "both",
    ),
    (
        "became-required",
        "a property became required",
        {"type": "object", "properties": {"name": _P}},
        {"type": "object", "properties": {"name": _P}, "required": ["name"]},
        "both",
    ),
    (
        "became-required-default",
        "a property with a default became required",
        {"type": "object", "properties": {"name": {**_P, "default": "x"}}},
        {"type": "object", "properties": {"name": {**_P, "default": "x"}}, "required": ["name"]},
        "request",
    ),
    (
        "became-optional",
        "a property became optional",
        {"type": "object", "properties": {"name": _P}, "required": ["name"]},
        {"type": "object", "properties": {"name": _P}},
        "both",
    ),
    (
        "deprecated",
        "a property was deprecated",
        {"type": "object", "properties": {"name": _P}},
        {"type": "object", "properties": {"name": {**_P, "deprecated": True}}},
        "both",
    ),
    (
        "reactivated",
        "a property is no longer deprecated",
        {"type": "object", "properties": {"name": {**_P, "deprecated": True}}},
        {"type": "object", "properties": {"name": _P}},
        "both",
    ),
]

_PETS = {
    name: {
        "type": "object",
        "title": name,
        "properties": {"kind": {"type": "string"}, name.lower(): {"type": "string"}},
    }
    for name in ("Cat", "Dog", "Fox")
}


def _place(schema: S, position: str, direction: str) -> dict[str, Any]:
    """A whole document with `schema` at `position` of POST /pets."""
    components = {"schemas": copy.deepcopy(_PETS)}
    schema = copy.deepcopy(schema)
    if position in ("property", "parameter-property"):
        schema = {"type": "object", "properties": {"field": schema}}
    if direction == RESPONSE:
        op = _op(
            responses={
                "200": {"description": "OK", "content": {"application/json": {"schema": schema}}}
            }
        )
    elif position.startswith("parameter"):
        if position == "parameter-property":
            param = {
                "name": "filter",
                "in": "query",
                "content": {"application/json": {"schema": schema}},
            }
        else:
            param = {"name": "q", "in": "query", "schema": schema}
        op = _op(parameters=[param])
    else:
        op = _op(requestBody={"content": {"application/json": {"schema": schema}}})
    return _doc({"/pets": {"post": op}}, components)


def _schema_where(position: str, direction: str) -> Where:
    scope = "parameter" if position.startswith("parameter") else "body"
    return Where(direction, scope, "POST", "/pets", "", "")


def _id_for(kind: str, position: str, direction: str, **delta: Any) -> tuple[str, Level]:
    nested = position in ("property", "parameter-property")
    change = change_for(
        Delta(kind, ("field",) if nested else (), "", **delta), _schema_where(position, direction)
    )
    return change.id, change.level


def _shown(base: Any, revision: Any) -> str:
    def dump(value: Any) -> str:
        return yaml.safe_dump(value, sort_keys=False, default_flow_style=None, width=100).strip()

    return f"# before\n{dump(base)}\n# after\n{dump(revision)}"


def schema_examples() -> Iterator[Example]:
    for kind, (summary, base, revision, positions) in SCHEMA_KINDS.items():
        for direction in (REQUEST, RESPONSE):
            for position in positions:
                if direction == RESPONSE and position.startswith("parameter"):
                    continue
                ident, level = _id_for(kind, position, direction)
                yield Example(
                    ident,
                    level,
                    summary,
                    _place(base, position, direction),
                    _place(revision, position, direction),
                    kind,
                    _shown(base, revision),
                )
    for name, summary, base, revision, directions in PROPERTY_KINDS:
        kind = name.removesuffix("-default").replace("-required", "").replace("-optional", "")
        if name.startswith("became"):
            kind = name.removesuffix("-default")
        for direction in (REQUEST, RESPONSE):
            if directions not in ("both", direction):
                continue
            delta = {
                "required": "required" in name and not name.startswith("became"),
                "with_default": name.endswith("-default"),
            }
            # the change is named after the property, so it is always one level down
            ident, level = _id_for(kind, "property", direction, **delta)
            yield Example(
                ident,
                level,
                summary,
                _place(base, "body", direction),
                _place(revision, "body", direction),
                f"property-{name}",
                _shown(base, revision),
            )


# -- operation changes ---------------------------------------------------------------


def _ops(**methods: Any) -> dict[str, Any]:
    return {"/pets": methods}


_PAST, _FUTURE = "2000-01-01", "2999-01-01"
_Q = {"name": "limit", "in": "query", "schema": {"type": "integer"}}
_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
_JSON = {"application/json": {"schema": {"type": "object"}}}
_SCHEME = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
}
_OAUTH = {
    "oauth": {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/token", "scopes": {"read": "", "write": ""}}},
    }
}

# id: (summary, base document, revision document)
OPERATION_EXAMPLES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "api-path-removed-without-deprecation": (
        "a path was removed without being deprecated first",
        _doc({"/pets": {"get": _op()}, "/owners": {"get": _op()}}),
        _doc({"/owners": {"get": _op()}}),
    ),
    "api-path-removed-with-deprecation": (
        "a deprecated path was removed (its sunset, if any, has passed)",
        _doc({"/pets": {"get": _op(deprecated=True, **{"x-sunset": _PAST})}}),
        _doc({}),
    ),
    "api-path-removed-before-sunset": (
        "a deprecated path was removed before its `x-sunset` date",
        _doc({"/pets": {"get": _op(deprecated=True, **{"x-sunset": _FUTURE})}}),
        _doc({}),
    ),
    "api-removed-without-deprecation": (
        "an operation was removed without being deprecated first",
        _doc(_ops(get=_op(), post=_op())),
        _doc(_ops(get=_op())),
    ),
    "api-removed-with-deprecation": (
        "a deprecated operation was removed",
        _doc(_ops(get=_op(), post=_op(deprecated=True))),
        _doc(_ops(get=_op())),
    ),
    "api-removed-before-sunset": (
        "a deprecated operation was removed before its `x-sunset` date",
        _doc(_ops(get=_op(), post=_op(deprecated=True, **{"x-sunset": _FUTURE}))),
        _doc(_ops(get=_op())),
    ),
    "endpoint-added": (
        "an operation was added",
        _doc(_ops(get=_op())),
        _doc(_ops(get=_op(), post=_op())),
    ),
    "endpoint-deprecated": (
        "an operation was deprecated",
        _doc(_ops(get=_op())),
        _doc(_ops(get=_op(deprecated=True))),
    ),
    "endpoint-reactivated": (
        "an operation is no longer deprecated",
        _doc(_ops(get=_op(deprecated=True))),
        _doc(_ops(get=_op())),
    ),
    "webhook-removed": (
        "a webhook was removed",
        _doc({}, webhooks={"newPet": {"post": _op()}}),
        _doc({}),
    ),
    "webhook-added": (
        "a webhook was added",
        _doc({}),
        _doc({}, webhooks={"newPet": {"post": _op()}}),
    ),
    "api-operation-id-removed": (
        "the operationId changed (generated clients rename the method)",
        _doc(_ops(get=_op(operationId="listPets"))),
        _doc(_ops(get=_op(operationId="getPets"))),
    ),
    "api-operation-id-added": (
        "an operationId was added",
        _doc(_ops(get=_op())),
        _doc(_ops(get=_op(operationId="listPets"))),
    ),
    "api-tag-removed": (
        "a tag was removed from an operation",
        _doc(_ops(get=_op(tags=["pets"]))),
        _doc(_ops(get=_op())),
    ),
    "api-tag-added": (
        "a tag was added to an operation",
        _doc(_ops(get=_op())),
        _doc(_ops(get=_op(tags=["pets"]))),
    ),
    "request-parameter-removed": (
        "a parameter was removed without being deprecated first",
        _doc(_ops(get=_op(parameters=[_Q]))),
        _doc(_ops(get=_op())),
    ),
    "request-parameter-removed-with-deprecation": (
        "a deprecated parameter was removed",
        _doc(_ops(get=_op(parameters=[{**_Q, "deprecated": True}]))),
        _doc(_ops(get=_op())),
    ),
    "request-parameter-removed-before-sunset": (
        "a deprecated parameter was removed before its `x-sunset` date",
        _doc(_ops(get=_op(parameters=[{**_Q, "deprecated": True, "x-sunset": _FUTURE}]))),
        _doc(_ops(get=_op())),
    ),
    "new-required-request-parameter": (
        "a required parameter was added",
        _doc(_ops(get=_op())),
        _doc(_ops(get=_op(parameters=[{**_Q, "required": True}]))),
    ),
    "new-optional-request-parameter": (
        "an optional parameter was added",
        _doc(_ops(get=_op())),
        _doc(_ops(get=_op(parameters=[_Q]))),
    ),
    "request-parameter-became-required": (
        "a parameter became required",
        _doc(_ops(get=_op(parameters=[_Q]))),
        _doc(_ops(get=_op(parameters=[{**_Q, "required": True}]))),
    ),
    "request-parameter-became-optional": (
        "a parameter became optional",
        _doc(_ops(get=_op(parameters=[{**_Q, "required": True}]))),
        _doc(_ops(get=_op(parameters=[_Q]))),
    ),
    "request-parameter-deprecated": (
        "a parameter was deprecated",
        _doc(_ops(get=_op(parameters=[_Q]))),
        _doc(_ops(get=_op(parameters=[{**_Q, "deprecated": True}]))),
    ),
    "request-parameter-reactivated": (
        "a parameter is no longer deprecated",
        _doc(_ops(get=_op(parameters=[{**_Q, "deprecated": True}]))),
        _doc(_ops(get=_op(parameters=[_Q]))),
    ),
    "request-body-added-required": (
        "a required request body was added",
        _doc(_ops(post=_op())),
        _doc(_ops(post=_op(requestBody={**_BODY, "required": True}))),
    ),
    "request-body-added-optional": (
        "an optional request body was added",
        _doc(_ops(post=_op())),
        _doc(_ops(post=_op(requestBody=_BODY))),
    ),
    "request-body-removed": (
        "the request body was removed",
        _doc(_ops(post=_op(requestBody=_BODY))),
        _doc(_ops(post=_op())),
    ),
    "request-body-became-required": (
        "the request body became required",
        _doc(_ops(post=_op(requestBody=_BODY))),
        _doc(_ops(post=_op(requestBody={**_BODY, "required": True}))),
    ),
    "request-body-became-optional": (
        "the request body became optional",
        _doc(_ops(post=_op(requestBody={**_BODY, "required": True}))),
        _doc(_ops(post=_op(requestBody=_BODY))),
    ),
    "request-body-media-type-removed": (
        "a request media type was removed",
        _doc(_ops(post=_op(requestBody={"content": {**_JSON, "application/xml": {}}}))),
        _doc(_ops(post=_op(requestBody={"content": _JSON}))),
    ),
    "request-body-media-type-added": (
        "a request media type was added",
        _doc(_ops(post=_op(requestBody={"content": _JSON}))),
        _doc(_ops(post=_op(requestBody={"content": {**_JSON, "application/xml": {}}}))),
    ),
    "response-success-status-removed": (
        "a success status was removed",
        _doc(
            _ops(
                get=_op(responses={"200": {"description": "OK"}, "201": {"description": "Created"}})
            )
        ),
        _doc(_ops(get=_op())),
    ),
    "response-success-status-added": (
        "a success status was added",
        _doc(_ops(get=_op())),
        _doc(
            _ops(
                get=_op(responses={"200": {"description": "OK"}, "201": {"description": "Created"}})
            )
        ),
    ),
    "response-non-success-status-removed": (
        "an error status was removed",
        _doc(
            _ops(
                get=_op(responses={"200": {"description": "OK"}, "404": {"description": "Missing"}})
            )
        ),
        _doc(_ops(get=_op())),
    ),
    "response-non-success-status-added": (
        "an error status was added",
        _doc(_ops(get=_op())),
        _doc(
            _ops(
                get=_op(responses={"200": {"description": "OK"}, "404": {"description": "Missing"}})
            )
        ),
    ),
    "response-media-type-removed": (
        "a response media type was removed",
        _doc(
            _ops(
                get=_op(
                    responses={"200": {"description": "OK", "content": {**_JSON, "text/csv": {}}}}
                )
            )
        ),
        _doc(_ops(get=_op(responses={"200": {"description": "OK", "content": _JSON}}))),
    ),
    "response-media-type-added": (
        "a response media type was added",
        _doc(_ops(get=_op(responses={"200": {"description": "OK", "content": _JSON}}))),
        _doc(
            _ops(
                get=_op(
                    responses={"200": {"description": "OK", "content": {**_JSON, "text/csv": {}}}}
                )
            )
        ),
    ),
    "required-response-header-removed": (
        "a required response header was removed",
        _doc(
            _ops(
                get=_op(
                    responses={
                        "200": {
                            "description": "OK",
                            "headers": {
                                "X-Rate": {"required": True, "schema": {"type": "integer"}}
                            },
                        }
                    }
                )
            )
        ),
        _doc(_ops(get=_op())),
    ),
    "optional-response-header-removed": (
        "an optional response header was removed",
        _doc(
            _ops(
                get=_op(
                    responses={
                        "200": {
                            "description": "OK",
                            "headers": {"X-Rate": {"schema": {"type": "integer"}}},
                        }
                    }
                )
            )
        ),
        _doc(_ops(get=_op())),
    ),
    "response-header-became-optional": (
        "a response header is no longer guaranteed",
        _doc(
            _ops(
                get=_op(
                    responses={
                        "200": {
                            "description": "OK",
                            "headers": {
                                "X-Rate": {"required": True, "schema": {"type": "integer"}}
                            },
                        }
                    }
                )
            )
        ),
        _doc(
            _ops(
                get=_op(
                    responses={
                        "200": {
                            "description": "OK",
                            "headers": {"X-Rate": {"schema": {"type": "integer"}}},
                        }
                    }
                )
            )
        ),
    ),
    "api-security-added": (
        "a security requirement was added (an error when the operation was public)",
        _doc(_ops(get=_op()), {"securitySchemes": _SCHEME}),
        _doc(_ops(get=_op(security=[{"bearer": []}])), {"securitySchemes": _SCHEME}),
    ),
    "api-security-removed": (
        "a security requirement was removed (an error when alternatives remain: its users are locked out)",
        _doc(_ops(get=_op(security=[{"bearer": []}, {"key": []}])), {"securitySchemes": _SCHEME}),
        _doc(_ops(get=_op(security=[{"key": []}])), {"securitySchemes": _SCHEME}),
    ),
    "api-security-scope-added": (
        "a requirement needs one more scope",
        _doc(_ops(get=_op(security=[{"oauth": ["read"]}])), {"securitySchemes": _OAUTH}),
        _doc(_ops(get=_op(security=[{"oauth": ["read", "write"]}])), {"securitySchemes": _OAUTH}),
    ),
    "api-security-scope-removed": (
        "a requirement needs one scope less",
        _doc(_ops(get=_op(security=[{"oauth": ["read", "write"]}])), {"securitySchemes": _OAUTH}),
        _doc(_ops(get=_op(security=[{"oauth": ["read"]}])), {"securitySchemes": _OAUTH}),
    ),
    "api-security-component-removed": (
        "a security scheme was removed",
        _doc({}, {"securitySchemes": _SCHEME}),
        _doc({}, {"securitySchemes": {"key": _SCHEME["key"]}}),
    ),
    "api-security-component-added": (
        "a security scheme was added",
        _doc({}, {"securitySchemes": {"key": _SCHEME["key"]}}),
        _doc({}, {"securitySchemes": _SCHEME}),
    ),
    "api-security-component-type-changed": (
        "a security scheme changed type",
        _doc({}, {"securitySchemes": {"auth": _SCHEME["bearer"]}}),
        _doc({}, {"securitySchemes": {"auth": _SCHEME["key"]}}),
    ),
    "api-security-component-oauth-flow-removed": (
        "an OAuth flow was removed",
        _doc({}, {"securitySchemes": _OAUTH}),
        _doc({}, {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {}}}}),
    ),
    "api-security-component-api-key-name-changed": (
        "an API key scheme reads the key under another name",
        _doc({}, {"securitySchemes": {"key": _SCHEME["key"]}}),
        _doc({}, {"securitySchemes": {"key": {**_SCHEME["key"], "name": "X-Token"}}}),
    ),
    "api-security-component-api-key-in-changed": (
        "an API key scheme reads the key from another place",
        _doc({}, {"securitySchemes": {"key": _SCHEME["key"]}}),
        _doc({}, {"securitySchemes": {"key": {**_SCHEME["key"], "in": "query"}}}),
    ),
    "api-security-component-http-scheme-changed": (
        "an HTTP authentication scheme changed (bearer to basic)",
        _doc({}, {"securitySchemes": {"auth": _SCHEME["bearer"]}}),
        _doc({}, {"securitySchemes": {"auth": {"type": "http", "scheme": "basic"}}}),
    ),
    "api-security-component-bearer-format-changed": (
        "the documented bearer format changed",
        _doc({}, {"securitySchemes": {"auth": {**_SCHEME["bearer"], "bearerFormat": "JWT"}}}),
        _doc({}, {"securitySchemes": {"auth": {**_SCHEME["bearer"], "bearerFormat": "opaque"}}}),
    ),
    "api-security-component-open-id-connect-url-changed": (
        "the OpenID Connect discovery URL changed",
        _doc(
            {},
            {
                "securitySchemes": {
                    "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://a/.well-known"}
                }
            },
        ),
        _doc(
            {},
            {
                "securitySchemes": {
                    "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://b/.well-known"}
                }
            },
        ),
    ),
    "api-security-component-oauth-url-changed": (
        "an OAuth authorization URL changed",
        _doc(
            {},
            {
                "securitySchemes": {
                    "oauth": {
                        "type": "oauth2",
                        "flows": {"implicit": {"authorizationUrl": "/auth", "scopes": {}}},
                    }
                }
            },
        ),
        _doc(
            {},
            {
                "securitySchemes": {
                    "oauth": {
                        "type": "oauth2",
                        "flows": {"implicit": {"authorizationUrl": "/v2/auth", "scopes": {}}},
                    }
                }
            },
        ),
    ),
    "api-security-component-oauth-refresh-url-changed": (
        "an OAuth refresh URL changed",
        _doc(
            {},
            {
                "securitySchemes": {
                    "oauth": {
                        "type": "oauth2",
                        "flows": {
                            "password": {
                                "tokenUrl": "/token",
                                "refreshUrl": "/refresh",
                                "scopes": {},
                            }
                        },
                    }
                }
            },
        ),
        _doc(
            {},
            {
                "securitySchemes": {
                    "oauth": {
                        "type": "oauth2",
                        "flows": {
                            "password": {
                                "tokenUrl": "/token",
                                "refreshUrl": "/v2/refresh",
                                "scopes": {},
                            }
                        },
                    }
                }
            },
        ),
    ),
    "api-security-component-oauth-token-url-changed": (
        "an OAuth token URL changed",
        _doc({}, {"securitySchemes": _OAUTH}),
        _doc(
            {},
            {
                "securitySchemes": {
                    "oauth": {
                        "type": "oauth2",
                        "flows": {
                            "password": {
                                "tokenUrl": "/v2/token",
                                "scopes": {"read": "", "write": ""},
                            }
                        },
                    }
                }
            },
        ),
    ),
    "api-security-component-oauth-scope-removed": (
        "an OAuth scope was removed from a scheme",
        _doc({}, {"securitySchemes": _OAUTH}),
        _doc(
            {},
            {
                "securitySchemes": {
                    "oauth": {
                        "type": "oauth2",
                        "flows": {"password": {"tokenUrl": "/token", "scopes": {"read": ""}}},
                    }
                }
            },
        ),
    ),
    "api-security-component-oauth-scope-added": (
        "an OAuth scope was added to a scheme",
        _doc(
            {},
            {
                "securitySchemes": {
                    "oauth": {
                        "type": "oauth2",
                        "flows": {"password": {"tokenUrl": "/token", "scopes": {"read": ""}}},
                    }
                }
            },
        ),
        _doc({}, {"securitySchemes": _OAUTH}),
    ),
}

# ids whose level depends on the situation; the example shows the first level
VARIABLE_LEVELS = {
    "api-security-added": "error when the operation was public before, info when it adds an alternative",
    "api-security-removed": "error when other requirements remain, info when the operation becomes public",
}


def _operation_level(ident: str) -> Level:
    summary, base, revision = OPERATION_EXAMPLES[ident]
    del summary
    changes = diff_documents(Document("base", base), Document("revision", revision))
    for change in changes:
        if change.id == ident:
            return change.level
    raise LookupError(f"the example of {ident} does not produce it")


def operation_examples() -> Iterator[Example]:
    for ident, (summary, base, revision) in OPERATION_EXAMPLES.items():
        level = _operation_level(ident)
        yield Example(
            ident,
            level,
            summary,
            base,
            revision,
            ident,
            _shown(
                base.get("paths") or base.get("webhooks") or base.get("components"),
                revision.get("paths") or revision.get("webhooks") or revision.get("components"),
            ),
        )


@functools.cache
def known_ids() -> frozenset[str]:
    """Every id the differ can report (for telling a typo in a severity file)."""
    schema_ids = {e.id for e in schema_examples()}
    return frozenset(schema_ids | set(OPERATION_EXAMPLES) | _EXTRA_IDS)


# ids without an example of their own: variants of documented ones
_EXTRA_IDS = frozenset(
    {
        "new-required-request-property-with-default",
        "request-property-became-required-with-default",
        "response-mediatype-enum-value-removed",
        "request-parameter-default-value-changed",
        "api-security-component-oauth-flow-removed",
    }
)


def all_examples() -> list[Example]:
    return [*operation_examples(), *schema_examples()]


# -- docs ----------------------------------------------------------------------------


def render_docs() -> str:
    examples = all_examples()
    lines = [
        "# Contract change ids",
        "",
        "<!-- generated by `python -m fastapi_architect.contract.catalog docs/contract-changes.md`; do not edit -->",
        "",
        "Every change `fastapi-architect contract diff` reports has an id. Where oasdiff",
        "reports the same change, the id is oasdiff's, so ignore lists and `--severity-levels`",
        "files carry over. Levels: **error** breaks existing clients, **warning** may break",
        "them, **info** does not (changelog material). Override any level with",
        "`--severity-levels`.",
        "",
        "Schema changes have one id per position of the schema: `request-body-*` (the whole",
        "request body), `request-property-*` (a property inside it), `request-parameter-*`,",
        "`request-parameter-property-*` (a property of an object parameter), `response-body-*`",
        "and `response-property-*`. The same change is usually an error in a request and info",
        "in a response, or the other way round: a request that accepts less breaks clients, a",
        "response that can contain more breaks clients.",
        "",
        f"{len({e.id for e in examples})} ids.",
        "",
        "## Paths, operations, parameters, bodies, responses, security",
        "",
    ]
    for example in operation_examples():
        lines += [f"### `{example.id}`", "", f"Level: **{example.level.label}**"]
        if example.id in VARIABLE_LEVELS:
            lines[-1] += f" ({VARIABLE_LEVELS[example.id]})"
        lines += [
            "",
            f"{example.summary[0].upper()}{example.summary[1:]}.",
            "",
            "```yaml",
            example.shown,
            "```",
            "",
        ]
    lines += ["## Schema changes", ""]
    families: dict[str, list[Example]] = {}
    for example in schema_examples():
        families.setdefault(example.family, []).append(example)
    for members in families.values():
        first = members[0]
        lines += [f"### {first.summary[0].upper()}{first.summary[1:]}", ""]
        lines += ["| id | level |", "|---|---|"]
        seen: set[str] = set()
        for member in members:
            if member.id in seen:
                continue
            seen.add(member.id)
            lines.append(f'| <a id="{member.id}"></a>`{member.id}` | {member.level.label} |')
        lines += ["", "```yaml", first.shown, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render_docs()
    if not argv:
        sys.stdout.write(text)
        return 0
    Path(argv[0]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
