"""The API contract: what the code declares now, compared with a committed OpenAPI
snapshot (FAA712).

The code's side is read statically (`model.openapi_static`): it knows some things for
sure and others not at all. Both documents are therefore reduced to the same
knowledge before the contract differ compares them: a parameter, property, status code
or operation the code's side cannot see or cannot be sure of is left out of the
snapshot's side too, so that an unchanged app never differs from its snapshot.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Any

from fastapi_architect.contract.changes import Change, Level
from fastapi_architect.contract.differ import diff_documents
from fastapi_architect.contract.document import HTTP_METHODS, Document, load_document
from fastapi_architect.contract.refs import Resolver
from fastapi_architect.model.openapi_static import (
    ArrayShape,
    Body,
    ObjectShape,
    Operation,
    Shape,
    StaticApi,
    param_key,
    path_key,
    static_apis,
)
from fastapi_architect.model.project import Module
from fastapi_architect.review.context import ProjectContext
from fastapi_architect.review.finding import Severity
from fastapi_architect.review.registry import Report, rule

_LEVELS: dict[Level, Severity] = {Level.ERROR: "error", Level.WARNING: "warning"}
_PARAMETER_PLACES = ("query", "header", "cookie")
Json = dict[str, Any]


@rule(
    code="FAA712",
    name="breaking-api-change",
    summary="A change in the code breaks clients of the committed OpenAPI snapshot",
    severity="error",
    scope="project",
    fix_title="Keep the old contract (add, do not remove or tighten), or version the API",
    references=(
        "https://fastapi.tiangolo.com/how-to/separate-openapi-schemas/",
        "https://github.com/oasdiff/oasdiff/blob/main/docs/BREAKING-CHANGES-EXAMPLES.md",
    ),
)
def breaking_api_change(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Compares the API the code declares now with a committed OpenAPI snapshot of it
    (`contract-snapshot`) and reports every change that breaks existing clients: a path
    operation removed or moved, a new required query, header or cookie parameter, a
    parameter removed or made required, a request body added or made required, a
    request field that became required, a response field removed or made optional, a
    success status code changed. Each finding carries the contract differ's change id
    (oasdiff's vocabulary, see `fastapi-architect contract diff`).

    The code is read statically, without importing it: the rule compares only what the
    source makes certain (routes and their full paths, parameters from the signature
    and from every dependency, Pydantic models of the project used as request body or
    `response_model`), and leaves out of the comparison whatever it cannot see.

    ## Why is this bad?
    Clients were written against the published contract. Removing a route or a
    response field, or requiring something clients do not send, makes their requests
    fail or their parsing break, usually in production and for clients you do not
    control. "Never break the contract" is only a rule when something checks it.

    ## Known problems
    The rule is off until a snapshot is configured. It does not see routes or
    parameters added by outside code (for example a library that registers routes on
    the app), by an `openapi_extra=` or by a custom `app.openapi`: it then compares
    less rather than guess. Types and constraints of parameters and fields, and
    security requirements, are not compared (`fastapi-architect contract diff` compares
    everything, on two documents generated from the app).
    A removed path is reported on the router it belonged to (the longest router
    prefix it was under), else on the app.

    ## Example
    The snapshot has `GET /items/{item_id}` with an optional query parameter `q`;
    the code now reads:
    ```python
    @router.get("/items/{item_id}")
    def read_item(item_id: int, q: str, verbose: bool):  # `q` and `verbose` now required
        ...
    ```

    ## Use instead
    ```python
    @router.get("/items/{item_id}")
    def read_item(item_id: int, q: str | None = None, verbose: bool = False):
        ...
    ```
    For a change that must break, publish it as a new version (`/v2/items/...`) and
    deprecate the old operation (`deprecated=True`) before removing it; when the break
    is accepted, regenerate the snapshot
    (`fastapi-architect contract snapshot --app app.main:app -o openapi.json`).

    ## Fix safety
    No automatic fix: only you can decide whether a contract may change.

    ## Options
    `contract-snapshot` (path of the committed OpenAPI document, JSON or YAML, relative
    to the `pyproject.toml`). Without it the rule does nothing. A missing or invalid
    snapshot is a configuration error (exit 2).
    """
    path = ctx.config.contract_snapshot
    if path is None:
        return
    snapshot = load_document(str(path))
    api = _choose(static_apis(ctx.model), snapshot.data)
    if api is None:
        return
    base, revision = reduced_documents(api, snapshot.data)
    changes = diff_documents(Document(snapshot.name, base), Document("code", revision))
    operations = {(op.method, path_key(op.path)): op for op in api.operations.values()}
    for change in changes:
        severity = _LEVELS.get(change.level)
        if severity is None:
            continue
        module, node = _location(api, operations, change)
        yield Report(node, _message(change, path.name), module=module, severity=severity)


def _message(change: Change, snapshot: str) -> str:
    where = f"`{change.operation} {change.path}`: " if change.operation else ""
    return f"{where}{change.message} (`{change.id}`, against `{snapshot}`)"


def _location(
    api: StaticApi, operations: Mapping[tuple[str, str], Operation], change: Change
) -> tuple[Module, ast.AST]:
    """The route's decorator; for an operation that is gone, the router its path was
    under (a remaining operation on the same path, else the longest router prefix),
    else the app."""
    key = (change.operation, path_key(change.path))
    found = operations.get(key)
    if found is not None:
        return found.route.module, found.route.node
    for (_method, other), op in operations.items():
        if other == key[1]:
            return op.route.router.module, op.route.router.node
    router = api.router_for(change.path) or api.app
    return router.module, router.node


def _choose(apis: list[StaticApi], snapshot: Mapping[str, Any]) -> StaticApi | None:
    """The app the snapshot documents: the one sharing the most operations with it."""
    if not apis:
        return None
    documented = {(method.upper(), path_key(template)) for template, method, _, _ in _ops(snapshot)}

    def score(api: StaticApi) -> tuple[int, int]:
        keys = {(m, path_key(p)) for m, p in api.operations}
        return len(keys & documented), len(keys)

    return max(apis, key=score)


def _ops(
    snapshot: Mapping[str, Any],
) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    """(template, method, operation, path item) of every documented operation."""
    refs = Resolver(snapshot)
    paths = snapshot.get("paths")
    if not isinstance(paths, Mapping):
        return
    for template, raw in paths.items():
        item = refs.node(raw)
        if not isinstance(item, Mapping):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, Mapping):
                yield str(template), method, op, item


# ------------------------------------------------------------------- reduction


def reduced_documents(api: StaticApi, snapshot: Mapping[str, Any]) -> tuple[Json, Json]:
    """(the snapshot, the code) reduced to what the code's side knows for sure."""
    refs = Resolver(snapshot)
    static = {(op.method, path_key(op.path)): op for op in api.operations.values()}
    ambiguous = {(method, path_key(p)) for method, p in api.ambiguous}
    # One template per path as the differ matches them; the code's side names the
    # operation as the code does now (a renamed path parameter is the same path).
    templates: dict[str, str] = {}
    code_templates: dict[str, str] = {op_key[1]: op.path for op_key, op in static.items()}
    base: dict[str, Json] = {}
    code: dict[str, Json] = {}
    matched: set[tuple[str, str]] = set()
    for template, method, op, item in _ops(snapshot):
        key = (method.upper(), path_key(template))
        if key in ambiguous or key in matched:
            continue
        found = static.get(key)
        template = templates.setdefault(key[1], template)
        if found is None:
            if not api.may_exist(key[0], template):
                base.setdefault(template, {}).setdefault(method, _gone(op))
            continue
        matched.add(key)
        b, c = _operation(found, item, op, refs)
        base.setdefault(template, {})[method] = b
        code.setdefault(code_templates[key[1]], {})[method] = c
    for key, added in static.items():
        if key not in matched:
            code.setdefault(code_templates[key[1]], {})[added.method.lower()] = {"responses": {}}
    return _document(base), _document(code)


def _document(paths: dict[str, Json]) -> Json:
    return {"openapi": "3.1.0", "info": {"title": "", "version": ""}, "paths": paths}


def _gone(op: Mapping[str, Any]) -> Json:
    """A removed operation: only what decides how bad its removal is."""
    return {**_deprecation(op), "responses": {}}


def _deprecation(node: Mapping[str, Any]) -> Json:
    return {k: node[k] for k in ("deprecated", "x-sunset") if k in node}


def _operation(
    static: Operation, item: Mapping[str, Any], op: Mapping[str, Any], refs: Resolver
) -> tuple[Json, Json]:
    base: Json = _deprecation(op)
    code: Json = dict(base)  # deprecation is not compared (it only informs)
    base["parameters"], code["parameters"] = _parameters(static, item, op, refs)
    bodies = _body(static.body, refs.node(op.get("requestBody")), refs)
    if bodies[0] is not None:
        base["requestBody"] = bodies[0]
    if bodies[1] is not None:
        code["requestBody"] = bodies[1]
    base["responses"], code["responses"] = _responses(static, op, refs)
    return base, code


def _parameters(
    static: Operation, item: Mapping[str, Any], op: Mapping[str, Any], refs: Resolver
) -> tuple[list[Json], list[Json]]:
    documented: dict[str, Mapping[str, Any]] = {}
    for source in (item.get("parameters"), op.get("parameters")):
        for raw in source if isinstance(source, list) else []:
            param = refs.node(raw)
            if isinstance(param, Mapping) and param.get("in") in _PARAMETER_PLACES:
                documented[param_key(str(param["in"]), str(param.get("name")))] = param
    base = [
        {"name": p.get("name"), "in": p.get("in"), "required": bool(p.get("required"))}
        | _deprecation(p)
        for key, p in documented.items()
        if static.params_complete or key in static.params
    ]
    code: list[Json] = []
    for key, param in static.params.items():
        known = documented.get(key)
        required = param.required
        if required is None:
            required = bool(known.get("required")) if known is not None else False
        name = known.get("name") if known is not None else param.name
        entry: Json = {"name": name, "in": param.location, "required": required}
        code.append(entry | (_deprecation(known) if known is not None else {}))
    return base, code


def _body(body: Body, documented: Any, refs: Resolver) -> tuple[Json | None, Json | None]:
    if body.kind == "unknown":
        return None, None
    had = documented if isinstance(documented, Mapping) else None
    base: Json | None = None
    if had is not None:
        base = {"required": bool(had.get("required")), "content": {}}
    if body.kind == "none":
        return base, None
    required = body.required
    if required is None:
        required = bool(had.get("required")) if had is not None else False
    code: Json = {"required": required, "content": {}}
    if body.kind == "json":
        content = had.get("content") if had is not None else None
        content = content if isinstance(content, Mapping) else {}
        old = content.get("application/json")
        old_schema = old.get("schema") if isinstance(old, Mapping) else None
        b, c = pair(body.shape, old_schema, refs)
        code["content"] = {"application/json": {"schema": c}}
        if base is not None:
            base["content"] = {str(media): {"schema": {}} for media in content}
            if "application/json" in content:
                base["content"]["application/json"] = {"schema": b}
    return base, code


def _responses(static: Operation, op: Mapping[str, Any], refs: Resolver) -> tuple[Json, Json]:
    documented = op.get("responses")
    documented = documented if isinstance(documented, Mapping) else {}
    base: Json = {}
    nodes: dict[str, Any] = {}
    for raw_code, node in documented.items():
        code = str(raw_code)
        if code.startswith("2") and (static.statuses_complete or code in static.statuses):
            base[code] = {"description": ""}
            nodes[code] = refs.node(node)
    code_side: Json = {code: {"description": ""} for code in sorted(static.statuses)}
    main = static.status
    if main is not None and static.response is not None and main in code_side:
        old = nodes.get(main)
        content = old.get("content") if isinstance(old, Mapping) else None
        media = content.get("application/json") if isinstance(content, Mapping) else None
        old_schema = media.get("schema") if isinstance(media, Mapping) else None
        b, c = pair(static.response, old_schema, refs)
        code_side[main]["content"] = {"application/json": {"schema": c}}
        if old_schema is not None:
            base[main]["content"] = {"application/json": {"schema": b}}
    return base, code_side


# ------------------------------------------------------------------- schemas


def pair(shape: Shape | None, node: Any, refs: Resolver, depth: int = 0) -> tuple[Json, Json]:
    """(the snapshot's schema, the code's) reduced to the shape the code knows: object
    properties and their required-ness, array items; `{}` for the rest."""
    if shape is None or depth > 16:
        return {}, {}
    if node is None:
        return {}, emit(shape)
    target = _unwrap(node, refs)
    if not isinstance(target, Mapping):
        return {}, {}
    if isinstance(shape, ArrayShape):
        items = target.get("items")
        if not isinstance(items, Mapping):
            return {}, {}
        b, c = pair(shape.items, items, refs, depth + 1)
        return {"type": "array", "items": b}, {"type": "array", "items": c}
    documented = target.get("properties")
    if not isinstance(documented, Mapping):
        return {}, {}
    required = {n for n in target.get("required") or [] if isinstance(n, str)}
    base_props: Json = {}
    code_props: Json = {}
    for name, prop in shape.properties.items():
        old = documented.get(name)
        if old is None:
            code_props[name] = emit(prop.shape)
            continue
        flags = _visibility(old, refs)
        b, c = pair(prop.shape, old, refs, depth + 1)
        base_props[name] = b | flags
        code_props[name] = c | flags
    if shape.complete:
        for name, old in documented.items():
            if name not in shape.properties and name not in shape.skip:
                base_props[str(name)] = _visibility(old, refs)
    base: Json = {
        "type": "object",
        "properties": base_props,
        "required": sorted(n for n in required if n in base_props),
    }
    code_required = sorted(
        name
        for name, prop in shape.properties.items()
        if prop.required is True or (prop.required is None and name in required)
    )
    code: Json = {"type": "object", "properties": code_props, "required": code_required}
    return base, code


def emit(shape: Shape | None) -> Json:
    """The code's schema of a shape with nothing to compare it with."""
    if isinstance(shape, ArrayShape):
        return {"type": "array", "items": emit(shape.items)}
    if isinstance(shape, ObjectShape):
        return {
            "type": "object",
            "properties": {name: emit(prop.shape) for name, prop in shape.properties.items()},
            "required": sorted(n for n, p in shape.properties.items() if p.required is True),
        }
    return {}


def _visibility(node: Any, refs: Resolver) -> Json:
    """`readOnly`/`writeOnly`: the differ hides such properties in one direction."""
    out: Json = {}
    for candidate in (node, refs.node(node)):
        if isinstance(candidate, Mapping):
            for key in ("readOnly", "writeOnly"):
                if candidate.get(key) is True:
                    out[key] = True
    return out


def _unwrap(node: Any, refs: Resolver) -> Any:
    """The schema behind `$ref`, `allOf: [X]` and `anyOf`/`oneOf: [X, null]`."""
    for _ in range(8):
        node = refs.node(node)
        if not isinstance(node, Mapping):
            return node
        inner = None
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            inner = all_of[0]
        for key in ("anyOf", "oneOf"):
            members = node.get(key)
            if isinstance(members, list) and len(members) == 2:
                real = [m for m in members if not _is_null(refs.node(m))]
                if len(real) == 1:
                    inner = real[0]
        if inner is None:
            return node
        node = inner
    return node


def _is_null(node: Any) -> bool:
    return isinstance(node, Mapping) and node.get("type") in ("null", ["null"])
