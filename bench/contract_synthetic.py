"""A large synthetic OpenAPI 3.1 document with deep `$ref` recursion, and a mutated revision.

Used by bench/contract_speed.py (2,000 operations) and tests/test_bench_contract.py (a small
instance). Deterministic: the same `operations` and `seed` always give equal documents (one
seeded `random.Random`, no sets, no time).

    base = synthetic_document(2000, seed=SEED)
    revision, mutations = mutate(base, seed=SEED)

Each resource `R` has five operations (list, create, read, update, delete) on
`/v1/<group>/<rs>` and `/v1/<group>/<rs>/{r_id}`, and ten schemas:

- `R`: `allOf [Entity, Audited, {...}]`, whose properties reach `RStatus` (an enum), `R`
  itself (`parent`, nullable as `anyOf [$ref, null]`), the next resource (`next`: one chain
  through every resource, closed into a cycle), two random resources (`related`, a `oneOf`
  of refs), `RTree`, `REvent`, `Account` and `Attribute`;
- `RTree`: a recursive tree (`children` is an array of itself, `parent` is itself);
- `REvent`: `oneOf [RCreated, RDeleted, RMoved]` with a discriminator; each is
  `allOf [EventBase, {...}]`, and `RCreated` holds an `R` again (a cycle through `oneOf`);
- `RCreate`, `RUpdate`: request bodies with bounds, patterns and enums, a recursive tree and
  a `oneOf` of shared kinds;
- `RPage`: the list response.

Shared: `Entity` leads into `Link0000 -> Link0001 -> ... -> Link0000`, a cycle of
`chain_length` schemas (default: a quarter of the operations) with a few side branches;
`Account` and `Team` refer to each other and themselves; `Error` nests itself; `Attribute`
and `AttributeList` recurse through `oneOf`.

`mutate` returns a changed copy — a few removed properties (one deep in the link chain),
tightened bounds, removed enum values and one removed path — and says what it changed.
"""

from __future__ import annotations

import json
import random
from typing import Any

SEED = 20_250_301
OPERATIONS_PER_RESOURCE = 5

JSON = dict[str, Any]

NOUNS: tuple[str, ...] = (
    "agent", "address", "alert", "approval", "article", "asset", "audit", "badge",
    "balance", "batch", "booking", "branch", "budget", "bundle", "campaign", "card",
    "carrier", "cart", "catalog", "category", "certificate", "channel", "charge", "claim",
    "client", "contract", "coupon", "course", "credit", "customer", "delivery", "deposit",
    "device", "discount", "dispute", "document", "driver", "estimate", "expense", "feature",
    "grant", "incident", "invoice", "job", "ledger", "lease", "license", "listing",
    "manifest", "meeting", "member", "merchant", "message", "metric", "order", "package",
    "partner", "payment", "payout", "permit", "plan", "product", "project", "quote",
    "receipt", "refund", "region", "report", "reservation", "shipment", "store", "survey",
    "task", "tenant", "template", "ticket", "transfer", "vehicle", "vendor", "wallet",
)  # fmt: skip
GROUPS: tuple[str, ...] = (
    "billing", "catalog", "crm", "fleet", "hr", "inventory", "logistics", "marketing",
    "ops", "payments", "reporting", "sales", "security", "support",
)  # fmt: skip
STATUSES: tuple[str, ...] = ("draft", "active", "paused", "archived")
EXTRA_STATUSES: tuple[str, ...] = ("pending", "blocked", "expired", "review")


def ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _camel(text: str) -> str:
    return "".join(part.capitalize() for part in text.replace("-", "_").split("_"))


def _resource_names(count: int) -> list[tuple[str, str]]:
    """(slug, SchemaName) per resource: `invoice`, then `invoice2` once the nouns run out."""
    names = []
    for index in range(count):
        noun, generation = NOUNS[index % len(NOUNS)], index // len(NOUNS)
        slug = noun if generation == 0 else f"{noun}{generation + 1}"
        names.append((slug, _camel(slug)))
    return names


def _plural(slug: str) -> str:
    stem = slug.rstrip("0123456789")
    digits = slug[len(stem) :]
    if stem.endswith("y") and stem[-2:-1] not in "aeiou":
        stem = stem[:-1] + "ie"
    elif stem.endswith(("s", "x", "ch", "sh")):
        stem += "e"
    return f"{stem}s{'-' + digits if digits else ''}"


def _name_field() -> JSON:
    return {"type": "string", "minLength": 1, "maxLength": 120, "pattern": "^[A-Za-z0-9 _.-]+$"}


def _request_properties(name: str) -> JSON:
    return {
        "name": _name_field(),
        "status": ref(f"{name}Status"),
        "amount": {"type": "number", "minimum": 0, "maximum": 1_000_000},
        "quantity": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 1000},
        "priority": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
        "tags": {
            "type": "array",
            "maxItems": 20,
            "items": {"type": "string", "minLength": 1, "maxLength": 32},
        },
        "parent_id": {"type": ["string", "null"], "format": "uuid"},
        "tree": ref(f"{name}Tree"),
        "kind": {
            "oneOf": [ref("KindPhysical"), ref("KindDigital")],
            "discriminator": {"propertyName": "kind"},
        },
    }


def _resource_schemas(
    name: str, next_name: str, related: tuple[str, str], rng: random.Random
) -> dict[str, JSON]:
    statuses = list(STATUSES) + rng.sample(EXTRA_STATUSES, rng.randint(0, 2))
    inline: JSON = {
        "type": "object",
        "required": ["name", "status", "amount", "owner"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 120},
            "status": ref(f"{name}Status"),
            "amount": {"type": "number", "minimum": 0, "maximum": 1_000_000},
            "quantity": {"type": "integer", "format": "int32", "minimum": 0},
            "description": {"type": ["string", "null"], "maxLength": 2000},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 32}},
            "parent": {"anyOf": [ref(name), {"type": "null"}]},
            "next": ref(next_name),
            "related": {"type": "array", "items": {"oneOf": [ref(related[0]), ref(related[1])]}},
            "tree": ref(f"{name}Tree"),
            "history": {"type": "array", "items": ref(f"{name}Event")},
            "owner": ref("Account"),
            "attributes": {"type": "object", "additionalProperties": ref("Attribute")},
        },
    }
    if rng.random() < 0.5:
        inline["properties"]["currency"] = {"type": "string", "enum": ["EUR", "USD", "GBP"]}
    update_props = _request_properties(name)
    for dropped in ("parent_id", "kind"):
        del update_props[dropped]
    event_mapping = {
        kind: f"#/components/schemas/{name}{kind.capitalize()}"
        for kind in ("created", "deleted", "moved")
    }
    return {
        name: {
            "title": name,
            "description": f"A {name} as the API returns it.",
            "allOf": [ref("Entity"), ref("Audited"), inline],
        },
        f"{name}Status": {"type": "string", "enum": statuses, "default": "draft"},
        f"{name}Tree": {
            "type": "object",
            "required": ["label"],
            "properties": {
                "label": {"type": "string", "maxLength": 80},
                "weight": {"type": "number", "minimum": 0},
                "children": {"type": "array", "items": ref(f"{name}Tree")},
                "parent": ref(f"{name}Tree"),
            },
        },
        f"{name}Event": {
            "oneOf": [ref(f"{name}Created"), ref(f"{name}Deleted"), ref(f"{name}Moved")],
            "discriminator": {"propertyName": "type", "mapping": event_mapping},
        },
        f"{name}Created": {
            "allOf": [
                ref("EventBase"),
                {
                    "type": "object",
                    "required": ["type", "item"],
                    "properties": {"type": {"const": "created"}, "item": ref(name)},
                },
            ]
        },
        f"{name}Deleted": {
            "allOf": [
                ref("EventBase"),
                {
                    "type": "object",
                    "required": ["type", "id"],
                    "properties": {
                        "type": {"const": "deleted"},
                        "id": {"type": "string", "format": "uuid"},
                    },
                },
            ]
        },
        f"{name}Moved": {
            "allOf": [
                ref("EventBase"),
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"const": "moved"},
                        "from": ref(f"{name}Tree"),
                        "to": ref(f"{name}Tree"),
                    },
                },
            ]
        },
        f"{name}Create": {
            "type": "object",
            "required": ["name", "status"],
            "properties": _request_properties(name),
            "additionalProperties": False,
        },
        f"{name}Update": {
            "type": "object",
            "minProperties": 1,
            "properties": update_props,
            "additionalProperties": False,
        },
        f"{name}Page": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {"type": "array", "items": ref(name)},
                "next_cursor": {"type": ["string", "null"]},
                "total": {"type": "integer", "minimum": 0},
            },
        },
    }


def _link_schemas(length: int) -> dict[str, JSON]:
    """A cycle `Link0000 -> ... -> Link<length-1> -> Link0000`, with side branches."""
    schemas: dict[str, JSON] = {}
    for index in range(length):
        link: JSON = {
            "type": "object",
            "required": ["rel"],
            "properties": {
                "rel": {"type": "string", "enum": ["self", "next", "prev", "up"]},
                "href": {"type": "string", "format": "uri", "maxLength": 2048},
                "next": ref(f"Link{(index + 1) % length:04d}"),
            },
        }
        if index % 10 == 0:  # branches make the chain a web of cycles, not a single ring
            link["properties"]["alt"] = {
                "oneOf": [ref(f"Link{(index + 7) % length:04d}"), ref(f"Link{index // 2:04d}")]
            }
        schemas[f"Link{index:04d}"] = link
    return schemas


def _shared_schemas() -> dict[str, JSON]:
    return {
        "Entity": {
            "type": "object",
            "required": ["id", "created_at"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "created_at": {"type": "string", "format": "date-time"},
                "links": {"type": "array", "items": ref("Link0000")},
            },
        },
        "Audited": {
            "allOf": [
                ref("Entity"),
                {
                    "type": "object",
                    "properties": {
                        "created_by": ref("Account"),
                        "updated_by": {"anyOf": [ref("Account"), {"type": "null"}]},
                    },
                },
            ]
        },
        "Account": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string", "maxLength": 200},
                "manager": {"anyOf": [ref("Account"), {"type": "null"}]},
                "teams": {"type": "array", "items": ref("Team")},
            },
        },
        "Team": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "members": {"type": "array", "items": ref("Account")},
                "parent": {"anyOf": [ref("Team"), {"type": "null"}]},
            },
        },
        "Attribute": {
            "oneOf": [{"type": "string"}, {"type": "number"}, ref("AttributeList")],
        },
        "AttributeList": {"type": "array", "items": ref("Attribute")},
        "EventBase": {
            "type": "object",
            "required": ["type", "at"],
            "properties": {
                "type": {"type": "string"},
                "at": {"type": "string", "format": "date-time"},
                "actor": ref("Account"),
            },
        },
        "KindPhysical": {
            "type": "object",
            "required": ["kind", "weight_kg"],
            "properties": {
                "kind": {"const": "physical"},
                "weight_kg": {"type": "number", "exclusiveMinimum": 0},
            },
        },
        "KindDigital": {
            "type": "object",
            "required": ["kind"],
            "properties": {
                "kind": {"const": "digital"},
                "download_url": {"type": "string", "format": "uri"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": ref("Error")},
            },
        },
    }


def _error_response(description: str) -> JSON:
    return {
        "description": description,
        "content": {"application/json": {"schema": ref("Error")}},
    }


def _json_content(schema: JSON) -> JSON:
    return {"application/json": {"schema": schema}}


def _operations(slug: str, name: str, group: str, count: int) -> list[tuple[str, str, JSON]]:
    """(path, method, operation) for the first `count` of the resource's five operations."""
    collection = f"/v1/{group}/{_plural(slug)}"
    item = f"{collection}/{{{slug}_id}}"
    read, write = [{"oauth2": [f"{group}:read"]}], [{"oauth2": [f"{group}:write"]}]
    not_found = {"$ref": "#/components/responses/NotFound"}
    ops: list[tuple[str, str, JSON]] = [
        (
            collection,
            "get",
            {
                "operationId": f"list_{slug}",
                "summary": f"List {_plural(slug)}",
                "tags": [group],
                "security": read,
                "parameters": [
                    {"$ref": "#/components/parameters/Limit"},
                    {"$ref": "#/components/parameters/Cursor"},
                    {"name": "status", "in": "query", "schema": ref(f"{name}Status")},
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                ],
                "responses": {
                    "200": {"description": "A page", "content": _json_content(ref(f"{name}Page"))},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                },
            },
        ),
        (
            collection,
            "post",
            {
                "operationId": f"create_{slug}",
                "tags": [group],
                "security": write,
                "requestBody": {"required": True, "content": _json_content(ref(f"{name}Create"))},
                "responses": {
                    "201": {
                        "description": "Created",
                        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                        "content": _json_content(ref(name)),
                    },
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                },
            },
        ),
        (
            item,
            "get",
            {
                "operationId": f"read_{slug}",
                "tags": [group],
                "security": read,
                "responses": {
                    "200": {"description": "OK", "content": _json_content(ref(name))},
                    "404": not_found,
                },
            },
        ),
        (
            item,
            "patch",
            {
                "operationId": f"update_{slug}",
                "tags": [group],
                "security": write,
                "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": ref(f"{name}Update")},
                        "application/merge-patch+json": {"schema": ref(f"{name}Update")},
                    },
                },
                "responses": {
                    "200": {"description": "OK", "content": _json_content(ref(name))},
                    "404": not_found,
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                },
            },
        ),
        (
            item,
            "delete",
            {
                "operationId": f"delete_{slug}",
                "tags": [group],
                "security": write,
                "responses": {"204": {"description": "Deleted"}, "404": not_found},
            },
        ),
    ]
    return ops[:count]


def synthetic_document(
    operations: int = 2000, *, seed: int = SEED, chain_length: int | None = None
) -> JSON:
    """An OpenAPI 3.1 document with exactly `operations` operations (see the module doc)."""
    if operations < 1:
        raise ValueError("operations must be at least 1")
    rng = random.Random(seed)
    resource_count = -(-operations // OPERATIONS_PER_RESOURCE)
    names = _resource_names(resource_count)
    schema_names = [name for _, name in names]
    chain = chain_length if chain_length is not None else max(8, operations // 4)

    schemas: dict[str, JSON] = _shared_schemas()
    schemas.update(_link_schemas(chain))
    paths: dict[str, JSON] = {}
    left = operations
    for index, (slug, name) in enumerate(names):
        group = GROUPS[index % len(GROUPS)]
        related = (rng.choice(schema_names), rng.choice(schema_names))
        next_name = schema_names[(index + 1) % resource_count]
        schemas.update(_resource_schemas(name, next_name, related, rng))
        count = min(left, OPERATIONS_PER_RESOURCE)
        left -= count
        for path, method, operation in _operations(slug, name, group, count):
            item = paths.setdefault(path, {})
            if "{" in path and "parameters" not in item:
                item["parameters"] = [
                    {
                        "name": f"{slug}_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ]
            item[method] = operation

    scopes: dict[str, str] = {}
    for group in GROUPS:
        scopes[f"{group}:read"] = f"Read {group}"
        scopes[f"{group}:write"] = f"Change {group}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "Synthetic contract benchmark", "version": "1.0.0"},
        "servers": [{"url": "https://api.example.test"}],
        "security": [{"oauth2": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
                "Cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                "IfMatch": {"name": "If-Match", "in": "header", "schema": {"type": "string"}},
            },
            "responses": {
                "NotFound": _error_response("Not found"),
                "Unauthorized": _error_response("Not authenticated"),
                "ValidationFailed": _error_response("The request is not valid"),
            },
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://auth.example.test/token",
                            "scopes": scopes,
                        }
                    },
                }
            },
        },
    }


def _resources(document: JSON) -> list[str]:
    schemas = document["components"]["schemas"]
    return sorted(key[: -len("Create")] for key in schemas if key.endswith("Create"))


def mutate(document: JSON, *, seed: int = SEED) -> tuple[JSON, list[str]]:
    """A changed copy of `document` and what was changed (`kind: JSON pointer`).

    Some resources lose a response property, some request bounds tighten, some enums lose a
    value, one link deep in the `Link` cycle loses a property, and one item path goes away.
    """
    revision: JSON = json.loads(json.dumps(document))  # a deep copy, ~10x faster than deepcopy
    rng = random.Random(seed + 1)
    schemas = revision["components"]["schemas"]
    resources = _resources(revision)
    picked = rng.sample(resources, min(len(resources), 8))
    removed_props, tightened, narrowed = picked[:3], picked[3:6], picked[6:8]
    done: list[str] = []
    revision["info"]["version"] = "1.1.0"

    for name in removed_props:
        inline = schemas[name]["allOf"][2]
        prop = rng.choice(["quantity", "tags", "description", "amount"])
        del inline["properties"][prop]
        if prop in inline["required"]:
            inline["required"].remove(prop)
        done.append(f"property removed: /components/schemas/{name}/allOf/2/properties/{prop}")

    links = sorted(key for key in schemas if key.startswith("Link"))
    deep = links[len(links) // 2]
    del schemas[deep]["properties"]["href"]
    done.append(f"property removed: /components/schemas/{deep}/properties/href")

    for name in tightened:
        props = schemas[f"{name}Create"]["properties"]
        bound, value = rng.choice(
            [("name", "maxLength"), ("quantity", "maximum"), ("amount", "minimum")]
        )
        props[bound][value] = {"maxLength": 60, "maximum": 100, "minimum": 1}[value]
        done.append(f"bound tightened: /components/schemas/{name}Create/properties/{bound}/{value}")

    for name in narrowed:
        enum = schemas[f"{name}Status"]["enum"]
        enum.remove("paused")
        done.append(f"enum value removed: /components/schemas/{name}Status/enum (paused)")
        priority = schemas[f"{name}Create"]["properties"]["priority"]["enum"]
        priority.remove(5)
        done.append(
            f"enum value removed: /components/schemas/{name}Create/properties/priority/enum (5)"
        )

    item_paths = sorted(path for path in revision["paths"] if path.endswith("_id}"))
    if item_paths:
        gone = rng.choice(item_paths)
        del revision["paths"][gone]
        done.append(f"path removed: {gone}")
    return revision, done
