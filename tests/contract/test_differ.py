"""The differ understands documents, not their text: normalization of emission
noise, `$ref` cycles, parameter identity, path templates, invalid inputs."""

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from fastapi_architect.contract.changes import Level
from fastapi_architect.contract.differ import diff_documents
from fastapi_architect.contract.document import Document, DocumentError, load_document


def doc(
    paths: dict[str, Any], schemas: dict[str, Any] | None = None, version: str = "3.1.0"
) -> Document:
    data: dict[str, Any] = {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": paths,
    }
    if schemas is not None:
        data["components"] = {"schemas": schemas}
    return Document("doc.json", data)


def body_op(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "/items": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema}},
                },
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": schema}},
                    }
                },
            }
        }
    }


def ids(base: Document, revision: Document) -> list[str]:
    return [c.id for c in diff_documents(base, revision)]


# -- normalization: the same schema written differently is no change ---------------

ITEM = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}

SAME_MEANING = [
    pytest.param(
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        {"type": "string", "nullable": True},
        id="anyOf-null-vs-nullable",
    ),
    pytest.param(
        {"type": ["string", "null"]}, {"type": "string", "nullable": True}, id="type-list-null"
    ),
    pytest.param(
        {"anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}]},
        {"allOf": [{"$ref": "#/components/schemas/Item"}], "nullable": True},
        id="nullable-ref-in-allOf",
    ),
    pytest.param(
        {"$ref": "#/components/schemas/Item", "nullable": True},
        {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Item"}]},
        id="ref-sibling-nullable-vs-oneOf-null",
    ),
    pytest.param({"const": "a"}, {"enum": ["a"]}, id="const-vs-enum"),
    pytest.param({"$ref": "#/components/schemas/Item"}, ITEM, id="ref-vs-inline"),
    pytest.param(
        {"allOf": [{"$ref": "#/components/schemas/Item"}], "description": "the item"},
        {"$ref": "#/components/schemas/Item"},
        id="allOf-wrapper-vs-ref",
    ),
    pytest.param(
        {"title": "A", "description": "x", "type": "string", "example": "a"},
        {"type": "string", "title": "B", "examples": ["b"]},
        id="titles-and-examples",
    ),
    pytest.param(
        {"type": "integer", "maximum": 10, "exclusiveMaximum": True},
        {"type": "integer", "exclusiveMaximum": 10},
        id="exclusiveMaximum-3.0-vs-3.1",
    ),
    pytest.param(
        {"type": "string", "format": "binary"},
        {"type": "string", "contentMediaType": "application/octet-stream"},
        id="format-binary-vs-contentMediaType",
    ),
    pytest.param({"type": "string", "pattern": ""}, {"type": "string"}, id="empty-pattern"),
]


@pytest.mark.parametrize(("before", "after"), SAME_MEANING)
def test_same_schema_written_differently_is_no_change(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    schemas = {"Item": ITEM}
    base = doc(body_op(before), schemas)
    revision = doc(body_op(after), schemas)
    assert ids(base, revision) == []
    assert ids(revision, base) == []


def test_key_order_is_no_change() -> None:
    schema = {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
    }
    shuffled = {
        "properties": {"b": {"type": "integer"}, "a": {"type": "string"}},
        "required": ["b", "a"],
        "type": "object",
    }
    assert ids(doc(body_op(schema)), doc(body_op(shuffled))) == []


def test_nullable_change_is_still_seen_through_the_normalization() -> None:
    base = doc(body_op({"type": "string"}))
    revision = doc(body_op({"anyOf": [{"type": "string"}, {"type": "null"}]}))
    found = {(c.id, c.level) for c in diff_documents(base, revision)}
    assert ("request-body-became-nullable", Level.INFO) in found
    assert ("response-body-became-nullable", Level.ERROR) in found


# -- a real FastAPI document rewritten in OpenAPI 3.0 style -------------------------


def _rewrite_30_style(
    node: Any, schemas: dict[str, Any], rng: random.Random, depth: int = 0
) -> Any:
    """Spell a FastAPI 3.1 document the way older emitters did: nullable instead
    of anyOf-null, refs inlined (one level), titles dropped, keys shuffled."""
    if isinstance(node, list):
        return [_rewrite_30_style(v, schemas, rng, depth) for v in node]
    if not isinstance(node, dict):
        return node
    if set(node) >= {"anyOf"} and len(node["anyOf"]) == 2 and {"type": "null"} in node["anyOf"]:
        other = next(m for m in node["anyOf"] if m != {"type": "null"})
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if "$ref" in other:
            new = {"allOf": [other], **rest, "nullable": True}
        else:
            new = {**other, **rest, "nullable": True}
        return _rewrite_30_style(new, schemas, rng, depth)
    if "$ref" in node and depth < 1 and node["$ref"].startswith("#/components/schemas/"):
        target = schemas[node["$ref"].rsplit("/", 1)[-1]]
        return _rewrite_30_style(copy.deepcopy(target), schemas, rng, depth + 1)
    if "const" in node:
        node = {**{k: v for k, v in node.items() if k != "const"}, "enum": [node["const"]]}
    items = [
        (k, _rewrite_30_style(v, schemas, rng, depth)) for k, v in node.items() if k != "title"
    ]
    rng.shuffle(items)
    return dict(items)


def test_fastapi_document_rewritten_in_older_style_has_no_changes() -> None:
    from enum import Enum
    from typing import Literal

    from fastapi import FastAPI, Query
    from pydantic import BaseModel, Field

    class Color(str, Enum):
        red = "red"
        blue = "blue"

    class Tag(BaseModel):
        name: str = Field(max_length=20)

    class Pet(BaseModel):
        id: int
        name: str = Field(min_length=1, max_length=50)
        color: Color | None = None
        kind: Literal["pet"] = "pet"
        tags: list[Tag] = []
        parent: Tag | None = None
        weight: float | None = Field(default=None, gt=0, le=100)

    app = FastAPI()

    @app.get("/pets", response_model=list[Pet])
    def list_pets(limit: int = Query(10, le=100), color: Color | None = None) -> list[Pet]:
        return []

    @app.post("/pets", response_model=Pet, status_code=201)
    def create_pet(pet: Pet) -> Pet:
        return pet

    original = app.openapi()
    schemas = original["components"]["schemas"]
    rewritten = _rewrite_30_style(copy.deepcopy(original), schemas, random.Random(7))
    rewritten["openapi"] = "3.0.3"
    text = json.dumps(rewritten)
    assert '"nullable": true' in text and '{"type": "null"}' not in text and '"title"' not in text
    base, revision = Document("3.1.json", original), Document("3.0.json", rewritten)
    assert diff_documents(base, revision) == []
    assert diff_documents(revision, base) == []


# -- $ref cycles -----------------------------------------------------------------------


def test_recursive_schemas_terminate_and_report_changes_once() -> None:
    def node(max_children: int) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "children": {
                    "type": "array",
                    "maxItems": max_children,
                    "items": {"$ref": "#/components/schemas/Node"},
                },
                "other": {"$ref": "#/components/schemas/Other"},
            },
        }

    other = {"type": "object", "properties": {"back": {"$ref": "#/components/schemas/Node"}}}
    paths = body_op({"$ref": "#/components/schemas/Node"})
    base = doc(paths, {"Node": node(10), "Other": other})
    revision = doc(paths, {"Node": node(5), "Other": other})
    changes = diff_documents(base, revision)
    # maxItems 10 -> 5: a request accepts fewer items (error), a response holds fewer (info);
    # reported once per direction, not again at other/back/children
    assert [(c.id, c.level) for c in changes] == [
        ("request-property-max-items-decreased", Level.ERROR),
        ("response-property-max-items-decreased", Level.INFO),
    ]
    assert all(
        c.pointer == "/components/schemas/Node/properties/children/maxItems" for c in changes
    )


def test_self_referencing_ref_chain_does_not_hang() -> None:
    schemas = {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}
    paths = body_op({"$ref": "#/components/schemas/A"})
    assert ids(doc(paths, schemas), doc(paths, schemas)) == []


# -- parameters and paths -------------------------------------------------------------


def _param(name: str, location: str = "query", **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": location, "schema": {"type": "string"}, **extra}


def test_parameter_moved_between_path_level_and_operation_level_is_no_change() -> None:
    ok = {"200": {"description": "OK"}}
    base = doc(
        {
            "/a/{id}": {
                "parameters": [_param("id", "path", required=True), _param("q")],
                "get": {"responses": ok},
            }
        }
    )
    revision = doc(
        {
            "/a/{id}": {
                "get": {
                    "parameters": [_param("q"), _param("id", "path", required=True)],
                    "responses": ok,
                }
            }
        }
    )
    assert ids(base, revision) == []


def test_renamed_path_parameter_is_not_a_removed_path() -> None:
    ok = {"200": {"description": "OK"}}
    base = doc(
        {"/a/{id}": {"get": {"parameters": [_param("id", "path", required=True)], "responses": ok}}}
    )
    revision = doc(
        {
            "/a/{item_id}": {
                "get": {"parameters": [_param("item_id", "path", required=True)], "responses": ok}
            }
        }
    )
    assert ids(base, revision) == []


def test_header_parameters_match_case_insensitively() -> None:
    ok = {"200": {"description": "OK"}}
    base = doc({"/a": {"get": {"parameters": [_param("X-Token", "header")], "responses": ok}}})
    revision = doc({"/a": {"get": {"parameters": [_param("x-token", "header")], "responses": ok}}})
    assert ids(base, revision) == []


def test_removed_parameter_is_an_error_and_a_deprecated_one_is_info() -> None:
    ok = {"200": {"description": "OK"}}
    revision = doc({"/a": {"get": {"responses": ok}}})
    plain = doc({"/a": {"get": {"parameters": [_param("q")], "responses": ok}}})
    past = doc(
        {
            "/a": {
                "get": {
                    "parameters": [_param("q", deprecated=True, **{"x-sunset": "2020-01-01"})],
                    "responses": ok,
                }
            }
        }
    )
    future = doc(
        {
            "/a": {
                "get": {
                    "parameters": [_param("q", deprecated=True, **{"x-sunset": "2999-01-01"})],
                    "responses": ok,
                }
            }
        }
    )
    assert [(c.id, c.level) for c in diff_documents(plain, revision)] == [
        ("request-parameter-removed", Level.ERROR)
    ]
    assert [(c.id, c.level) for c in diff_documents(past, revision)] == [
        ("request-parameter-removed-with-deprecation", Level.INFO)
    ]
    assert [(c.id, c.level) for c in diff_documents(future, revision)] == [
        ("request-parameter-removed-before-sunset", Level.ERROR)
    ]


def test_changes_are_sorted_and_carry_operation_and_path() -> None:
    ok = {"200": {"description": "OK"}}
    base = doc(
        {
            "/b": {"get": {"responses": ok}},
            "/a": {"post": {"responses": ok}, "get": {"responses": ok}},
        }
    )
    revision = doc({})
    changes = diff_documents(base, revision)
    assert [(c.path, c.operation) for c in changes] == [
        ("/a", "GET"),
        ("/a", "POST"),
        ("/b", "GET"),
    ]
    assert {c.id for c in changes} == {"api-path-removed-without-deprecation"}


# -- invalid documents ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "reason", "line"),
    [
        ("bad.json", '{\n  "openapi": "3.1.0",\n  "paths": {,}\n}', "invalid JSON", 3),
        ("bad.yaml", "openapi: 3.1.0\npaths:\n  /a: [\n", "invalid YAML", None),
        ("list.yaml", "- a\n- b\n", "expected an OpenAPI object", 1),
        ("nover.yaml", "info: {}\npaths: {}\n", "`openapi` field is missing", 1),
        ("swagger.yaml", "swagger: '2.0'\npaths: {}\n", "Swagger 2.0 is not supported", 1),
        ("v4.yaml", "openapi: 4.0.0\npaths: {}\n", "unsupported OpenAPI version", 1),
        ("paths.yaml", "openapi: 3.0.0\npaths: [1]\n", "`paths` must be a mapping", 2),
        ("slash.yaml", "openapi: 3.0.0\npaths:\n  pets: {}\n", "must start with '/'", 3),
        (
            "param.yaml",
            "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      parameters:\n        - in: query\n",
            "needs `name` and `in`",
            6,
        ),
        ("empty.yaml", "", "empty document", None),
    ],
)
def test_invalid_documents_say_file_line_and_reason(
    tmp_path: Path, name: str, text: str, reason: str, line: int | None
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(DocumentError) as info:
        load_document(name, cwd=tmp_path)
    assert info.value.source == name
    assert reason in info.value.reason
    if line is not None:
        assert info.value.line == line
        assert str(info.value).startswith(f"{name}:{line}: ")


def test_non_utf8_document_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(
        "openapi: 3.0.0\ninfo:\n  title: caf\xe9\n".encode("latin-1")
    )
    with pytest.raises(DocumentError, match="not UTF-8") as info:
        load_document("latin1.yaml", cwd=tmp_path)
    assert info.value.line == 3


def test_yaml_and_json_of_the_same_document_are_equal(tmp_path: Path) -> None:
    data = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "OK"}}}}},
    }
    (tmp_path / "a.json").write_text(json.dumps(data))
    (tmp_path / "a.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        200: {description: OK}\n"
    )
    assert load_document("a.json", cwd=tmp_path).data == load_document("a.yaml", cwd=tmp_path).data


def test_a_definition_first_met_inside_a_cycle_is_complete_when_used_alone() -> None:
    # GET /nodes reaches Other through Node (the cycle Node -> Other -> Node is cut
    # there); GET /others uses Other directly and must still see Node's change
    def node(max_children: int) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "children": {
                    "type": "array",
                    "maxItems": max_children,
                    "items": {"type": "string"},
                },
                "other": {"$ref": "#/components/schemas/Other"},
            },
        }

    other = {"type": "object", "properties": {"back": {"$ref": "#/components/schemas/Node"}}}

    def get(ref: str) -> dict[str, Any]:
        content = {"application/json": {"schema": {"$ref": ref}}}
        return {"get": {"responses": {"200": {"description": "OK", "content": content}}}}

    paths = {
        "/nodes": get("#/components/schemas/Node"),
        "/others": get("#/components/schemas/Other"),
    }
    changes = diff_documents(
        doc(paths, {"Node": node(10), "Other": other}),
        doc(paths, {"Node": node(5), "Other": other}),
    )
    assert [(c.path, c.message.split(" of ")[0]) for c in changes] == [
        ("/nodes", "property `children`"),
        ("/others", "property `back/children`"),
    ]


def test_extending_a_definition_through_allof_is_not_breaking() -> None:
    # GitHub's API did this between two releases: `$ref X` became `allOf [X, {extra}]`
    options = {
        "type": "object",
        "nullable": True,
        "properties": {"runner": {"type": "string"}, "label": {"type": "string"}},
    }
    extended = {
        "allOf": [
            {"$ref": "#/components/schemas/Options"},
            {"type": "object", "properties": {"advanced": {"type": "boolean"}}},
        ]
    }
    base = doc(
        body_op({"type": "object", "properties": {"o": {"$ref": "#/components/schemas/Options"}}}),
        {"Options": options},
    )
    revision = doc(body_op({"type": "object", "properties": {"o": extended}}), {"Options": options})
    changes = diff_documents(base, revision)
    assert [(c.id, c.level) for c in changes] == [
        ("new-optional-request-property", Level.INFO),
        ("response-optional-property-added", Level.INFO),
    ]
    assert {c.pointer for c in changes} == {
        "/paths/~1items/post/requestBody/content/application~1json/schema/properties/o/allOf/1/properties/advanced",
        "/paths/~1items/post/responses/200/content/application~1json/schema/properties/o/allOf/1/properties/advanced",
    }


def test_a_property_removed_inside_an_allof_member_is_seen() -> None:
    pet = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name"],
    }
    smaller = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    schema = {
        "allOf": [
            {"$ref": "#/components/schemas/Pet"},
            {"type": "object", "properties": {"id": {"type": "integer"}}},
        ]
    }
    changes = diff_documents(
        doc(body_op(schema), {"Pet": pet}), doc(body_op(schema), {"Pet": smaller})
    )
    assert [(c.id, c.pointer) for c in changes] == [
        ("request-property-removed", "/components/schemas/Pet/properties"),
        ("response-optional-property-removed", "/components/schemas/Pet/properties"),
    ]


def test_a_renamed_security_scheme_with_the_same_definition_is_no_change() -> None:
    def api(name: str) -> Document:
        data = {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/a": {
                    "get": {"security": [{name: []}], "responses": {"200": {"description": "OK"}}}
                }
            },
            "components": {
                "securitySchemes": {
                    name: {
                        "type": "oauth2",
                        "flows": {"password": {"tokenUrl": "token", "scopes": {}}},
                    }
                }
            },
        }
        return Document(f"{name}.json", data)

    assert diff_documents(api("OAuth2PasswordBearer"), api("JWT")) == []


def test_yaml_1_1_booleans_stay_strings(tmp_path: Path) -> None:
    text = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - {in: query, name: on, schema: {enum: [yes, no, maybe]}}\n      responses: {'200': {description: OK}}\n"
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text.replace("[yes, no, maybe]", "['yes', 'no', maybe]"))
    a, b = load_document("a.yaml", cwd=tmp_path), load_document("b.yaml", cwd=tmp_path)
    param = a.data["paths"]["/a"]["get"]["parameters"][0]
    assert param["name"] == "on" and param["schema"]["enum"] == ["yes", "no", "maybe"]
    assert diff_documents(a, b) == []


def test_renaming_a_union_member_is_no_change() -> None:
    def api(name: str, mapping: bool) -> Document:
        schemas = {
            n: {
                "type": "object",
                "properties": {"kind": {"const": n.lower()}, "x": {"type": "string"}},
            }
            for n in (name, "Bank")
        }
        union: dict[str, Any] = {
            "oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in (name, "Bank")]
        }
        union["discriminator"] = {"propertyName": "kind"}
        if mapping:
            union["discriminator"]["mapping"] = {
                "card": f"#/components/schemas/{name}",
                "bank": "#/components/schemas/Bank",
            }
        schemas[name]["properties"]["kind"] = {"const": "card"}
        return doc(body_op(union), schemas)

    for mapping in (True, False):
        changes = diff_documents(api("Card", mapping), api("PaymentCard", mapping))
        assert [c.id for c in changes if c.level > Level.INFO] == []
        assert not any("one-of" in c.id for c in changes)


def test_siblings_of_a_ref_are_compared() -> None:
    schemas = {"Sort": {"type": "string", "enum": ["relevance", "date"]}}

    def api(**siblings: Any) -> Document:
        return doc(body_op({"$ref": "#/components/schemas/Sort", **siblings}), schemas)

    assert ids(api(default="relevance"), api(default="date")) == [
        "request-body-default-value-changed",
        "response-body-default-value-changed",
    ]
    assert ids(api(), api(maxLength=5))[0] == "request-body-max-length-set"
    assert ids(api(description="a"), api(description="b")) == []


def test_optional_to_required_header_is_one_change_not_two() -> None:
    ok = {"200": {"description": "OK"}}
    optional = {
        "name": "X-Id",
        "in": "header",
        "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    }
    required = {"name": "X-Id", "in": "header", "required": True, "schema": {"type": "string"}}
    base = doc({"/a": {"get": {"parameters": [optional], "responses": ok}}})
    revision = doc({"/a": {"get": {"parameters": [required], "responses": ok}}})
    assert ids(base, revision) == ["request-parameter-became-required"]


def test_zero_lower_bounds_are_no_bounds() -> None:
    assert (
        ids(doc(body_op({"type": "object", "minProperties": 0})), doc(body_op({"type": "object"})))
        == []
    )
    assert (
        ids(doc(body_op({"type": "string", "minLength": 0})), doc(body_op({"type": "string"})))
        == []
    )
