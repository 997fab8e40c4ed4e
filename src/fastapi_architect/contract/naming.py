"""From a schema `Delta` and where its schema sits to a `Change`: the change id
(oasdiff's vocabulary where the same change is meant), its level and message.

Levels follow one principle: a request that accepts less breaks clients, a
response that can contain more breaks clients. Where oasdiff publishes a
different default level for the same id, its level is kept (noted inline) so
that ignore lists and severity files move over unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.schema_diff import REQUEST, Delta

E, W, I = Level.ERROR, Level.WARNING, Level.INFO  # noqa: E741 - a level table reads best short

# kind -> (level in a request, level in a response)
KIND_LEVELS: dict[str, tuple[Level, Level]] = {
    "type-changed": (E, E),
    "type-generalized": (I, E),
    "type-specialized": (E, I),
    "list-of-types-widened": (I, E),
    "list-of-types-narrowed": (E, I),
    "became-nullable": (I, E),
    "became-not-nullable": (E, I),
    "became-enum": (E, I),
    "enum-removed": (I, W),
    "enum-value-removed": (E, I),
    "enum-value-added": (I, W),
    "x-extensible-enum-value-removed": (E, I),
    "x-extensible-enum-value-added": (I, I),
    "pattern-added": (E, I),
    "pattern-removed": (I, E),
    "pattern-changed": (W, W),
    "default-value-added": (I, I),
    "default-value-removed": (I, I),
    "default-value-changed": (I, I),
    "multiple-of-set": (W, I),
    "multiple-of-unset": (I, W),
    "multiple-of-generalized": (I, E),
    "multiple-of-specialized": (E, I),
    "multiple-of-changed": (E, E),
    "format-added": (W, I),
    "format-removed": (I, W),
    "additional-properties-forbidden": (E, I),
    "additional-properties-allowed": (I, W),
    "unique-items-set": (E, I),
    "unique-items-unset": (I, E),
    "became-required": (E, I),
    "became-optional": (I, E),
    "deprecated": (I, I),
    "reactivated": (I, I),
    "one-of-added": (I, E),
    "one-of-removed": (E, I),
    "any-of-added": (I, E),
    "any-of-removed": (E, I),
    "all-of-added": (E, I),
    "all-of-removed": (I, E),
    "all-of-added-annotation-only": (I, I),
    "wrapped-in-one-of": (E, E),
    "discriminator-added": (I, I),
    "discriminator-removed": (I, I),
    "discriminator-property-name-changed": (I, I),
    "discriminator-mapping-added": (I, I),
    "discriminator-mapping-deleted": (I, I),
    "discriminator-mapping-changed": (I, I),
    "dependent-required-changed": (E, E),
    "content-encoding-changed": (E, E),
    "content-media-type-changed": (E, E),
    # oasdiff's levels: adding prefixItems to a request is info, to a response an error
    "prefix-items-added": (I, E),
    "prefix-items-removed": (E, I),
}
for _name in (
    "contains",
    "property-names",
    "if",
    "then",
    "else",
    "not",
    "unevaluated-items",
    "unevaluated-properties",
    "content-schema",
    "pattern-property",
    "dependent-schema",
):
    KIND_LEVELS[f"{_name}-added"] = (E, I)
    KIND_LEVELS[f"{_name}-removed"] = (I, E)
for _name, _loosens in (
    ("max", "max"),
    ("exclusive-max", "max"),
    ("max-length", "max"),
    ("max-items", "max"),
    ("max-properties", "max"),
    ("max-contains", "max"),
    ("min", "min"),
    ("exclusive-min", "min"),
    ("min-length", "min"),
    ("min-items", "min"),
    ("min-properties", "min"),
    ("min-contains", "min"),
):
    tighter = "decreased" if _loosens == "max" else "increased"
    looser = "increased" if _loosens == "max" else "decreased"
    KIND_LEVELS[f"{_name}-{tighter}"] = (E, I)
    KIND_LEVELS[f"{_name}-{looser}"] = (I, E)
    KIND_LEVELS[f"{_name}-set"] = (W, I)
    KIND_LEVELS[f"{_name}-unset"] = (I, W)


@dataclass(frozen=True, slots=True)
class Where:
    """Where a compared schema sits: enough to name and place its changes."""

    direction: str  # "request" or "response"
    scope: str  # "body", "parameter" or "header"
    operation: str
    path: str
    subject: str  # "the request body (application/json)", "the query parameter `limit`"
    location: str  # stable logical pointer of the schema's owner


def _prefix(where: Where, nested: bool) -> str:
    if where.direction == REQUEST:
        if where.scope == "parameter":
            return "request-parameter-property" if nested else "request-parameter"
        if where.scope == "header":
            return "request-header-property" if nested else "request-header"
        return "request-property" if nested else "request-body"
    if where.scope == "header":
        return "response-header-property" if nested else "response-header"
    return "response-property" if nested else "response-body"


def change_for(delta: Delta, where: Where) -> Change:
    request = where.direction == REQUEST
    prop = "/".join(delta.prop)
    # a parameter's array items are the parameter's values (oasdiff names them so too)
    nested = (
        any(t != "items" for t in delta.prop) if where.scope == "parameter" else bool(delta.prop)
    )
    ident, level = _id_and_level(delta, where, request, nested)
    subject = f"property `{prop}` of {where.subject}" if nested else where.subject
    location = f"{where.location}/{prop}" if nested else where.location
    return Change(
        id=ident,
        level=level,
        message=_message(delta, subject),
        operation=where.operation,
        path=where.path,
        pointer=delta.pointer,
        location=f"{location}#{delta.kind}",
        details={"before": delta.before, "after": delta.after}
        if delta.before or delta.after
        else {},
    )


def _id_and_level(delta: Delta, where: Where, request: bool, nested: bool) -> tuple[str, Level]:
    kind = delta.kind
    body = where.scope == "body"
    if kind == "added":
        if request:
            if delta.required:
                suffix = "-with-default" if delta.with_default else ""
                name = (
                    "new-required-request-property"
                    if body
                    else "new-required-request-parameter-property"
                )
                return name + suffix, E
            return (
                "new-optional-request-property"
                if body
                else "new-optional-request-parameter-property"
            ), I
        state = "required" if delta.required else "optional"
        return f"response-{state}-property-added", I
    if kind == "removed":
        if request:
            return ("request-property-removed" if body else "request-parameter-property-removed"), W
        if delta.required:
            return "response-required-property-removed", E
        return "response-optional-property-removed", W
    if kind == "became-required" and request and delta.with_default:
        return f"{_prefix(where, nested)}-became-required-with-default", E
    if kind == "enum-value-removed" and not request and body and not nested:
        return "response-mediatype-enum-value-removed", I
    # oasdiff: a parameter's changed default and a narrowed property type inside a
    # parameter are errors; a parameter losing its pattern is info
    if kind == "default-value-changed" and request and where.scope == "parameter" and not nested:
        return "request-parameter-default-value-changed", E
    levels = KIND_LEVELS.get(kind, (W, W))
    return f"{_prefix(where, nested)}-{kind}", levels[0 if request else 1]


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    return str(value)


_KEYWORDS = {
    "max": "maximum",
    "min": "minimum",
    "exclusive-max": "exclusiveMaximum",
    "exclusive-min": "exclusiveMinimum",
    "max-length": "maxLength",
    "min-length": "minLength",
    "max-items": "maxItems",
    "min-items": "minItems",
    "max-properties": "maxProperties",
    "min-properties": "minProperties",
    "max-contains": "maxContains",
    "min-contains": "minContains",
    "multiple-of": "multipleOf",
    "format": "format",
    "unique-items": "uniqueItems",
    "pattern": "pattern",
    "default-value": "default",
    "contains": "contains",
    "property-names": "propertyNames",
    "if": "if",
    "then": "then",
    "else": "else",
    "not": "not",
    "unevaluated-items": "unevaluatedItems",
    "unevaluated-properties": "unevaluatedProperties",
    "content-schema": "contentSchema",
    "content-encoding": "contentEncoding",
    "content-media-type": "contentMediaType",
    "pattern-property": "patternProperties",
    "dependent-schema": "dependentSchemas",
    "dependent-required": "dependentRequired",
    "prefix-items": "prefixItems",
    "one-of": "oneOf",
    "any-of": "anyOf",
    "all-of": "allOf",
    "all-of-added-annotation-only": "allOf",
    "discriminator": "discriminator",
    "discriminator-mapping": "discriminator mapping",
    "discriminator-property-name": "discriminator propertyName",
}
_ACTIONS = (
    "increased",
    "decreased",
    "set",
    "unset",
    "added",
    "removed",
    "changed",
    "deleted",
    "generalized",
    "specialized",
)


def _message(delta: Delta, subject: str) -> str:
    kind, before, after = delta.kind, delta.before, delta.after
    if kind == "added":
        state = "required" if delta.required else "optional"
        default = " with a default" if delta.with_default and delta.required else ""
        return f"added the {state} {subject}{default}"
    if kind == "removed":
        return f"removed the {'required ' if delta.required else ''}{subject}"
    if kind.startswith("became-") and kind != "became-enum":
        words = kind.replace("-", " ")
        extra = " (it has a default)" if delta.with_default and kind == "became-required" else ""
        return f"{subject} {words}{extra}"
    if kind in ("deprecated", "reactivated"):
        return f"{subject} was {'deprecated' if kind == 'deprecated' else 'reactivated (no longer deprecated)'}"
    if kind == "became-enum":
        return f"{subject} was restricted to the values {_fmt(after)}"
    if kind == "enum-removed":
        return f"{subject} is no longer restricted to the values {_fmt(before)}"
    if kind == "wrapped-in-one-of":
        return f"{subject} was replaced by a oneOf of alternatives"
    if kind.endswith("-value-removed"):
        which = "x-extensible-enum" if kind.startswith("x-") else "enum"
        return f"{subject}: removed the {which} values {_fmt(before)}"
    if kind.endswith("-value-added"):
        if kind.startswith("default"):
            return f"{subject}: added the default {_fmt(after)}"
        which = "x-extensible-enum" if kind.startswith("x-") else "enum"
        return f"{subject}: added the {which} values {_fmt(after)}"
    if kind.startswith("type-") or kind.startswith("list-of-types-"):
        how = {
            "type-changed": "changed",
            "type-generalized": "widened",
            "type-specialized": "narrowed",
        }
        verb = how.get(kind, kind.rsplit("-", 1)[-1])
        return f"{subject}: type {verb} from {_fmt(before)} to {_fmt(after)}"
    stem, _, action = kind.rpartition("-")
    if action not in _ACTIONS:
        return f"{subject}: {kind.replace('-', ' ')}"
    keyword = _KEYWORDS.get(stem, stem)
    if action in ("increased", "decreased", "changed", "generalized", "specialized"):
        if before is not None and after is not None:
            return f"{subject}: `{keyword}` {action} from {_fmt(before)} to {_fmt(after)}"
        return f"{subject}: `{keyword}` {action}"
    if action in ("set", "added"):
        value = f" {_fmt(after)}" if after is not None else ""
        return f"{subject}: `{keyword}`{value} added"
    value = f" (was {_fmt(before)})" if before is not None else ""
    return f"{subject}: `{keyword}` removed{value}"
