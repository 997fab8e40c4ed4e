"""FAA7xx: OpenAPI docs and REST design. The status codes and shapes a client sees are
part of the contract generated SDKs and API consumers rely on."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from itertools import pairwise

from fastapi_architect.model.apps import Mount, Route
from fastapi_architect.model.astutil import (
    body_nodes,
    call_name,
    is_true,
    keyword,
    last_name,
    walk,
    walk_nodes,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.types import annotation_type, resolve_callee, unwrap_annotation
from fastapi_architect.review.context import ProjectContext
from fastapi_architect.review.index import FunctionCache
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._status_style import status_style
from fastapi_architect.review.rules.database import dead_statements, literal_arguments
from fastapi_architect.review.rules.validation import (
    SEQUENCE_TYPES,
    has_keyword_splat,
    is_response_expr,
    returned_values,
    route_label,
    site_order,
)
from fastapi_architect.review.status_names import suggested_name

_WORD = re.compile(r"[a-z0-9]+")
# Handler names that say "this makes a new resource".
_CREATE_VERBS = frozenset({"create", "add", "register", "signup"})
# Words in a handler name or in the last path segment that make a POST an action, not a
# creation: logging in hands out a token (OAuth2 mandates 200), a search reads, an upsert
# may update, and compute endpoints (OpenAI-compatible `create_chat_completion`, which
# answers 200 by that API's contract) return a result, not a stored resource.
_ACTION_WORDS = frozenset(
    {
        "login",
        "logout",
        "signin",
        "signout",
        "token",
        "tokens",
        "refresh",
        "search",
        "query",
        "filter",
        "lookup",
        "find",
        "count",
        "verify",
        "validate",
        "check",
        "preview",
        "calculate",
        "estimate",
        "compute",
        "simulate",
        "reset",
        "recover",
        "recovery",
        "test",
        "export",
        "download",
        "update",
        "upsert",
        "replace",
        "sync",
        "completion",
        "completions",
        "embedding",
        "embeddings",
        "transcription",
        "transcriptions",
        "translation",
        "translations",
        "speech",
        "moderation",
        "moderations",
        "prediction",
        "predictions",
        "predict",
        "inference",
        "infer",
        "generate",
        "summarize",
        "analyze",
        "classify",
        "detect",
        "convert",
        "render",
    }
)
# Update verbs that make a POST an update wherever they stand as a path segment of their
# own: `POST /channels/{id}/update/members/add` changes an existing channel's members,
# whatever its last segment or handler name says.
_UPDATE_SEGMENTS = frozenset({"update", "edit", "modify", "patch"})
# `create_*` handlers that hand out something other than a stored resource of this API:
# a token, a third-party checkout session, a presigned upload URL.
_NOT_RESOURCE_HANDLER_WORDS = frozenset(
    {"token", "tokens", "jwt", "session", "sessions", "url", "urls", "presigned", "signature"}
)
# `create_*` project helpers whose result is not the resource a route creates.
NOT_RESOURCE_WORDS = _NOT_RESOURCE_HANDLER_WORDS | frozenset(
    {
        "access",
        "refresh",
        "hash",
        "response",
        "engine",
        "connection",
        "context",
        "app",
        "router",
        "pool",
        "client",
        "error",
        "exception",
    }
)
SESSION_OWNERS = ("sqlalchemy.", "sqlmodel.")
SESSION_NAMES = frozenset({"db", "session", "db_session", "async_session", "sess"})
_VALIDATE_CONSTRUCTORS = frozenset(
    {"model_validate", "model_construct", "from_orm", "parse_obj", "sqlmodel_validate"}
)
_MAX_FOLLOW = 4


def path_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _last_literal_segment(path: str) -> str:
    for segment in reversed(path.split("/")):
        if segment and not segment.startswith("{"):
            return segment
    return ""


def _is_dry_run(words: list[str]) -> bool:
    """`dry_run`, `dry-run`, `dryRun` or `dryrun`: the request creates nothing."""
    return "dryrun" in words or ("dry", "run") in pairwise(words)


def _has_update_segment(path: str) -> bool:
    """A literal segment that is only an update verb (`/{id}/update/members/add`). A
    segment that merely contains one (`/update_requests/{id}/comments`) names a
    collection, not an action."""
    for segment in path.split("/"):
        words = path_words(segment)
        if len(words) == 1 and words[0] in _UPDATE_SEGMENTS and not segment.startswith("{"):
            return True
    return False


def _is_action(route: Route) -> bool:
    name = path_words(route.handler.name)
    words = set(name)
    dry_run = _is_dry_run(name)
    for path in (route.path, *route.full_paths):  # `prefix="/search"` with `post("")`
        segment = path_words(_last_literal_segment(path))
        words |= set(segment)
        dry_run = dry_run or _is_dry_run(segment)
        if _has_update_segment(path):
            return True
    return dry_run or bool(words & _ACTION_WORDS)


def _named_as_creation(name: str) -> bool:
    words = path_words(name)
    if not words or set(words) & _NOT_RESOURCE_HANDLER_WORDS:
        return False
    if words == ["add"]:
        return False  # a bare `add` is as often arithmetic (`POST /add`) as a collection
    if words[0] == "add" and ("to" in words[2:] or "into" in words[2:]):
        # `add_user_to_group`: links existing things to an existing parent, which gets
        # no new URL (a new object returned from the session is still seen by the body).
        return False
    return words[0] in _CREATE_VERBS or words[:2] == ["sign", "up"]


# Why a handler looks like it creates a resource whose status the decorator decides
# (empty when it does not).
_CREATIONS: FunctionCache[str] = FunctionCache()


def _strip_await(expr: ast.expr | None) -> ast.expr | None:
    return expr.value if isinstance(expr, ast.Await) else expr


def _is_class(project: Project, qualname: str) -> bool:
    if project.class_(qualname) is not None:
        return True
    # Outside classes (an ORM model from an installed package): CapWords by convention.
    return project.split(qualname)[0] is None and last_name(qualname)[:1].isupper()


def _builds_new_object(
    project: Project, fn: Function, expr: ast.expr | None, depth: int = 0
) -> str:
    """The class name when `expr` constructs a new object (`Item(...)`,
    `Item.model_validate(data)`, a list of them, or a local bound to one), else ""."""
    expr = _strip_await(expr)
    if expr is None or depth > _MAX_FOLLOW:
        return ""
    if isinstance(expr, ast.Name):
        return _builds_new_object(project, fn, fn.local_values.get(expr.id), depth + 1)
    if isinstance(expr, (ast.List, ast.Tuple)):
        for element in expr.elts:
            found = _builds_new_object(project, fn, element, depth + 1)
            if found:
                return found
        return ""
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
        return _builds_new_object(project, fn, expr.elt, depth + 1)
    if not isinstance(expr, ast.Call):
        return ""
    callee = resolve_callee(project, fn.module, expr.func, fn)
    if callee is None:
        return ""
    if _is_class(project, callee) and project.function(callee) is None:
        return last_name(callee)
    owner, _, method = callee.rpartition(".")
    if method in _VALIDATE_CONSTRUCTORS and owner and _is_class(project, owner):
        return last_name(owner)
    return ""


def _create_call(project: Project, fn: Function, expr: ast.expr | None) -> str:
    """The display name of a project `create*` function or method this expression
    calls (`crud.create_user(...)`, `await service.create(...)`, `await User.create(...)`)."""
    expr = _strip_await(expr)
    if not isinstance(expr, ast.Call):
        return ""
    callee = resolve_callee(project, fn.module, expr.func, fn)
    if callee is None:
        return ""
    words = path_words(last_name(callee))
    if not words or words[0] != "create" or set(words) & NOT_RESOURCE_WORDS:
        return ""
    target = project.function(callee)
    if target is not None:
        return target.display
    owner = callee.rpartition(".")[0]
    if owner and project.class_(owner) is not None:
        # An ORM class method the project does not define: `await User.create(**data)`.
        return f"{last_name(owner)}.{last_name(callee)}"
    return ""


def _session_adds(model: AppModel, fn: Function) -> dict[str, str]:
    """Locals holding new objects added to an ORM session: name -> class name."""
    out: dict[str, str] = {}
    for site in model.callgraph.calls_of(fn):
        func = site.node.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("add", "add_all")):
            continue
        owner_is_session = bool(site.target and site.target.startswith(SESSION_OWNERS))
        if not owner_is_session and not (
            isinstance(func.value, ast.Name) and func.value.id in SESSION_NAMES
        ):
            continue
        if not site.node.args or not isinstance(site.node.args[0], ast.Name):
            continue
        name = site.node.args[0].id
        built = _builds_new_object(model.project, fn, site.node.args[0])
        if built:
            out[name] = built
    return out


def _returned_names(fn: Function, value: ast.expr) -> set[str]:
    """Locals a returned value is made of, following local assignments a few steps
    (`return UserOut.model_validate(user)` → `user`)."""
    names: set[str] = set()
    todo: list[tuple[ast.expr, int]] = [(value, 0)]
    while todo:
        expr, depth = todo.pop()
        # A called local is not part of the value, its result is (`return await
        # handler(request)` where `handler = create_pass_through_route(...)`).
        callees = {
            id(node.func)
            for node in walk(expr)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        for node in walk(expr):
            if id(node) in callees:
                continue
            if isinstance(node, ast.Name) and node.id not in names:
                names.add(node.id)
                bound = fn.local_values.get(node.id)
                if bound is not None and depth < _MAX_FOLLOW:
                    todo.append((bound, depth + 1))
    return names


def _returns_response(project: Project, fn: Function, expr: ast.expr) -> bool:
    """Does this returned value build a `Response` object (`is_response_expr`), also
    through an unannotated project helper whose returns that this call can reach all
    build one: `send_request(url, stream=True)` in a proxy, where the helper returns a
    `StreamingResponse` with the upstream status under `if stream:` and JSON otherwise?"""
    if is_response_expr(project, fn, expr):
        return True
    call = _strip_await(expr)
    if isinstance(call, ast.Name):
        call = _strip_await(fn.local_values.get(call.id))
    if not isinstance(call, ast.Call):
        return False
    helper = project.function(resolve_callee(project, fn.module, call.func, fn))
    if helper is None or helper.node.returns is not None:
        return False  # an annotated helper is already read by its annotation
    values = literal_arguments(helper, call)
    dead = {id(n) for n in walk_nodes(list(dead_statements(helper.node.body, values)))}
    live = [v for v in returned_values(helper) if id(v) not in dead]
    return bool(live) and all(is_response_expr(project, helper, v) for v in live)


# Calls that look up an existing row: `crud.get_channel(...)`, `repo.find_by_name(...)`,
# `query.first()`, `result.scalar_one_or_none()`, `session.get(Model, id)`.
_LOOKUP_PREFIXES = ("get", "find", "fetch", "lookup", "load")
_LOOKUP_METHODS = frozenset({"first", "one_or_none", "scalar_one_or_none", "one", "scalar"})


def _is_lookup(project: Project, fn: Function, expr: ast.expr | None) -> bool:
    call = _strip_await(expr)
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    if isinstance(func, ast.Attribute):
        if func.attr in _LOOKUP_METHODS:
            return True
        if func.attr == "get":  # `session.get(Model, id)`, not `dict.get`
            return isinstance(func.value, ast.Name) and func.value.id in SESSION_NAMES
    callee = resolve_callee(project, fn.module, func, fn)
    name = last_name(callee) if callee else func.attr if isinstance(func, ast.Attribute) else ""
    words = path_words(name)
    return len(words) > 1 and words[0] in _LOOKUP_PREFIXES


def _found_names(test: ast.expr) -> list[str]:
    """The names an `if` test requires to be found: `if row:`, `if row is not None:`,
    `if row and ...:`."""
    if isinstance(test, ast.Name):
        return [test.id]
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return [test.left.id]
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return [name for value in test.values for name in _found_names(value)]
    return []


def _as_found(project: Project, fn: Function, value: ast.expr, name: str) -> bool:
    """Is a returned value the found row itself, or a view of it (`row`,
    `RowOut.model_validate(row)`, `RowOut(**row.model_dump())`, `row.to_dict()`), not
    something made with it (`create_item(parent)`)?"""
    value = _strip_await(value) or value
    if isinstance(value, ast.Name):
        return value.id == name
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    root: ast.expr = func
    while isinstance(root, ast.Attribute):
        root = root.value
    if isinstance(root, ast.Name) and root.id == name:
        return True  # `row.to_dict()`
    callee = resolve_callee(project, fn.module, func, fn)
    if callee is None:
        return False
    owner, _, method = callee.rpartition(".")
    if not (
        (_is_class(project, callee) and project.function(callee) is None)
        or (method in _VALIDATE_CONSTRUCTORS and owner and _is_class(project, owner))
    ):
        return False
    arguments = [*value.args, *(kw.value for kw in value.keywords)]
    return any(isinstance(n, ast.Name) and n.id == name for a in arguments for n in walk(a))


def _returns_found_row(project: Project, fn: Function) -> bool:
    """Does `fn` return an existing row it looked up (get-or-create): `existing =
    crud.get_link(...)` then `if existing: return existing` before making a new one?"""
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.If):
            continue
        found = [
            n for n in _found_names(node.test) if _is_lookup(project, fn, fn.local_values.get(n))
        ]
        if not found:
            continue
        for inner in walk_nodes(list(node.body)):
            if (
                isinstance(inner, ast.Return)
                and inner.value is not None
                and any(_as_found(project, fn, inner.value, name) for name in found)
            ):
                return True
    return False


# `store.aupsert(...)`, `crud.get_or_create(...)`, `repo.create_or_update(...)`: the
# name says a repeated call finds or replaces the row instead of making another.
_FIND_OR_MAKE = re.compile(
    r"upsert|(?:get|find|fetch|load|update)_?or_?(?:create|insert|add)"
    r"|(?:create|insert|add)_?or_?(?:get|update|replace)"
)


# Methods that turn an object into its answer, not into another object.
_CONVERSIONS = frozenset({"dict", "json", "dump", "serialize"})


# What a `to_*`/`as_*` method turns an object into when it only serializes it.
_SERIAL_FORMS = frozenset(
    {"dict", "json", "schema", "response", "pydantic", "model", "dto", "out", "api", "dump"}
)


def _conversion(method: str) -> bool:
    """`model_dump()`, `to_dict()`, `to_pydantic()`, `as_schema()`, `dump()`; not
    `to_order()`, which makes another object."""
    if method in _CONVERSIONS or method.startswith("model_dump"):
        return True
    prefix, _, form = method.partition("_")
    return prefix in ("to", "as") and form in _SERIAL_FORMS


def _upsert_result(project: Project, fn: Function, value: ast.expr | None, depth: int = 0) -> bool:
    """Is the value what an upsert gives: the call itself, the first argument of a
    conversion around it (`to_schema(await store.aupsert(...))`), any field of a model
    built from it (`ResponsesBulk(items=upsert(body))`), also through a local bound to
    it (`tag = await get_or_create_tag(...)`, `return to_schema(tag)`)? An upsert whose
    result only feeds another call (`create_post(body, tags=get_or_create_tags(...))`)
    does not make the returned value one."""
    if isinstance(value, ast.Starred):
        value = value.value
    value = _strip_await(value)
    if isinstance(value, ast.Name):
        value = _strip_await(fn.local_values.get(value.id))
    if not isinstance(value, ast.Call) or depth > 4:
        return False
    if _FIND_OR_MAKE.search((call_name(value) or "").lower()):
        return True
    func = value.func
    if _is_class(project, resolve_callee(project, fn.module, func, fn) or ""):
        parts = [*value.args, *(kw.value for kw in value.keywords)]
    elif not value.args and isinstance(func, ast.Attribute) and _conversion(func.attr):
        parts = [func.value]  # `tag.model_dump()`, `(await upsert(...)).to_dict()`
    else:
        parts = value.args[:1]
    return any(_upsert_result(project, fn, part, depth + 1) for part in parts)


def _gets_or_creates(project: Project, fn: Function, values: list[ast.expr]) -> bool:
    """Get-or-create: the handler, or the project function whose result it returns
    (`return crud.create_link(...)`, `link = ...; return link`), answers a repeated
    call with the row that exists (`_returns_found_row`), or what it returns comes from
    a call named as an upsert (`return await to_schema(await store.aupsert(...))`,
    also outside the project): 201 would mislabel it."""
    if _returns_found_row(project, fn):
        return True
    for value in values:
        if _upsert_result(project, fn, value):
            return True
        calls = [value, *(fn.local_values.get(n) for n in _returned_names(fn, value))]
        for call in calls:
            call = _strip_await(call)
            if not isinstance(call, ast.Call):
                continue
            helper = project.function(resolve_callee(project, fn.module, call.func, fn))
            if helper is not None and helper is not fn and _returns_found_row(project, helper):
                return True
    return False


def _creation_reason(model: AppModel, fn: Function, values: list[ast.expr]) -> str:
    """Why the handler looks like it creates a resource (empty when it does not)."""
    project = model.project
    if _named_as_creation(fn.name) and _returns_value(fn, values):
        return "is named like a create endpoint"
    added = _session_adds(model, fn)
    for value in values:
        direct = _create_call(project, fn, value)
        if direct:
            return f"returns what `{direct}` creates"
        for name in sorted(_returned_names(fn, value)):
            created = _create_call(project, fn, fn.local_values.get(name))
            if created:
                return f"returns what `{created}` creates"
            if name in added:
                return f"returns the new `{added[name]}` it adds to the session"
    return ""


def _returns_value(fn: Function, values: list[ast.expr]) -> bool:
    """Does the handler answer with a value: a `return <value>` and no `-> None`? One
    that returns nothing (it hands the work to a scheduler, or only stores) shows no
    created resource in its response, so its name alone does not make it a create."""
    returns = fn.node.returns
    annotated_none = isinstance(returns, ast.Constant) and returns.value is None
    return bool(values) and not annotated_none


def _sets_status(fn: Function) -> bool:
    """`response.status_code = 201` in the handler's body."""
    for node in body_nodes(fn.node):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "status_code" for t in targets):
                return True
    return False


def _creation(model: AppModel, fn: Function) -> str:
    """Why the handler looks like it creates a resource, when the decorator's status is
    the one it answers with: not when it sets the status itself, returns a `Response`
    object, or answers a repeated call with the row that exists (get-or-create)."""
    project = model.project
    values = returned_values(fn)
    reason = _creation_reason(model, fn, values)
    if (
        not reason
        or _sets_status(fn)
        or any(_returns_response(project, fn, v) for v in values)
        or _gets_or_creates(project, fn, values)
    ):
        return ""
    return reason


def _deprecated_mount(mount: Mount) -> bool:
    """Does FastAPI mark the operations served through this mount deprecated: an
    `APIRouter(deprecated=True)` or `include_router(..., deprecated=True)` on the way
    (a mounted sub-application starts afresh)?"""
    deprecated = False
    for index, router in enumerate(mount.chain):
        if index:
            parent = mount.chain[index - 1]
            includes = [i for i in parent.includes if i.child is router]
            if any(i.kind == "mount" for i in includes):
                deprecated = False
            elif includes and all(is_true(keyword(i.node, "deprecated")) for i in includes):
                deprecated = True
        if is_true(keyword(router.node, "deprecated")):
            deprecated = True
    return deprecated


def _is_deprecated(route: Route) -> bool:
    """Is the operation deprecated (`deprecated=True` on the decorator, or on the
    router or `include_router` it is served through, at every place it is served)?"""
    if is_true(route.keywords.get("deprecated")):
        return True
    mounts = route.mounts or [Mount(None, route.path, [], [], [route.router])]
    return all(_deprecated_mount(m) for m in mounts)


# A bulk or batch endpoint (`POST /me/responses/bulk`, `create_records_batch`) whose
# answer carries an outcome per item (`{item, error}`): a request may create some items,
# update others and fail the rest, so one `201 Created` would misstate it.
_BULK_WORDS = frozenset({"bulk", "batch"})
_OUTCOME_FIELDS = frozenset({"error", "errors"})


# Path segments that name no collection (`/api/batch`, `/v2/bulk`).
_GENERIC_SEGMENT = re.compile(r"api|v\d+|\d+")


def _is_bulk(route: Route) -> bool:
    """Does the handler name end with a collection then `bulk`/`batch`
    (`create_records_batch`, not `create_batch`), or the path with a literal segment
    before a last `bulk`/`batch` one (`/responses/bulk`, `/responses-bulk`; not `/batch`
    alone, which may name a batch resource)?"""
    name = path_words(route.handler.name)
    if len(name) > 1 and name[-1] in _BULK_WORDS and set(name[:-1]) - _CREATE_VERBS:
        return True
    for path in (route.path, *route.full_paths):
        literals = [s for s in path.split("/") if s and not s.startswith("{")]
        segment = path_words(literals[-1]) if literals else []
        if not segment or segment[-1] not in _BULK_WORDS:
            continue
        before = segment[:-1] or path_words(literals[-2] if len(literals) > 1 else "")
        if before and not _GENERIC_SEGMENT.fullmatch("".join(before)):
            return True
    return False


def _class_fields(project: Project, qualname: str) -> dict[str, tuple[ast.expr, Module]]:
    """The annotated fields of a project class and its project bases: name ->
    (annotation, the module it is written in)."""
    fields: dict[str, tuple[ast.expr, Module]] = {}
    for name in reversed(project.mro(qualname)):
        cls = project.class_(name)
        if cls is None:
            continue
        for stmt in cls.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                fields[stmt.target.id] = (stmt.annotation, cls.module)
    return fields


def _outcome_list(
    project: Project, module: Module, annotation: ast.expr, scope: Function | None
) -> bool:
    """`list[ResponseBulk]` where the item model has an `error`/`errors` field."""
    base, _meta, base_module = unwrap_annotation(project, module, annotation, scope)
    if not isinstance(base, ast.Subscript):
        return False
    base_scope = scope if base_module is module else None
    origin = project.resolve(base_module, base.value, base_scope)
    if origin is None or project.canonical(origin) not in SEQUENCE_TYPES:
        return False
    elements = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
    if not elements:
        return False  # `list[()]`
    item = annotation_type(project, base_module, elements[0], base_scope)
    if item is None or project.class_(item) is None:
        return False
    return bool(set(_class_fields(project, item)) & _OUTCOME_FIELDS)


def _sequence_field(
    project: Project, module: Module, annotation: ast.expr, scope: Function | None
) -> bool:
    """Is the annotation a list, tuple or other sequence type?"""
    base, _meta, base_module = unwrap_annotation(project, module, annotation, scope)
    if isinstance(base, ast.Subscript):
        base = base.value
    if base is None:
        return False
    origin = project.resolve(base_module, base, scope if base_module is module else None)
    return origin is not None and project.canonical(origin) in SEQUENCE_TYPES


def _per_item_outcomes(route: Route, ctx: ProjectContext) -> bool:
    """Is the response model (`response_model=`, else the return annotation) a list of
    per-item outcomes, or a model with a field that is one (`ResponsesBulk.items`)?"""
    project = ctx.project
    handler = route.handler
    declared = route.keywords.get("response_model")
    module, scope = route.module, handler.parent if handler.module is route.module else None
    if declared is None:
        declared, module, scope = handler.node.returns, handler.module, handler.parent
    if declared is None:
        return False
    if _outcome_list(project, module, declared, scope):
        return True
    envelope = annotation_type(project, module, declared, scope)
    if envelope is None or project.class_(envelope) is None:
        return False
    # An envelope whose content is the outcome list: no `id` of its own (a `Batch`
    # resource with `id`, `status` and `results` is one new resource) and no other list.
    fields = _class_fields(project, envelope)
    if "id" in fields:
        return False
    lists = [
        (annotation, field_module)
        for annotation, field_module in fields.values()
        if _sequence_field(project, field_module, annotation, None)
    ]
    return len(lists) == 1 and _outcome_list(project, lists[0][1], lists[0][0], None)


def _candidate(route: Route, ctx: ProjectContext) -> bool:
    """Is this registration one the rule may report, by its decorator, path and
    router alone (before the handler's body is read)?"""
    # `api_route(methods=["GET", "POST"])` shares one status: 201 would change the GET too.
    if route.kind != "http" or set(route.methods) != {"POST"}:
        return False
    if "status_code" in route.keywords or has_keyword_splat(route) or _is_action(route):
        return False
    if _is_deprecated(route):
        return False  # kept for old clients: changing its status only breaks them
    if _is_bulk(route) and _per_item_outcomes(route, ctx):
        return False  # per-item outcomes: not one creation
    response_class = route.keywords.get("response_class")
    # A form post that redirects (303): 201 would not apply.
    return response_class is None or not last_name(
        ctx.project.resolve(route.module, response_class)
    ).endswith("RedirectResponse")


@rule(
    code="FAA701",
    name="create-route-status-code",
    summary=(
        "A POST path operation that creates a resource answers `200 OK` instead of `201 Created`"
    ),
    severity="info",
    scope="route",
    fix_title="Declare `status_code=status.HTTP_201_CREATED` (`HTTPStatus.CREATED` where the code uses it)",
    references=(
        "https://fastapi.tiangolo.com/tutorial/response-status-code/",
        "https://www.rfc-editor.org/rfc/rfc9110#name-201-created",
    ),
)
def create_route_status_code(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds POST path operations that create a resource but declare no `status_code`, so
    FastAPI answers `200 OK`. A route creates when its handler is named `create_*`,
    `add_*`, `register*` or `signup`, or when it returns what a project `create*`
    function or method made (`crud.create_user(...)`, `service.create(...)`,
    `await User.create(...)`), or returns a new object it added to the ORM session
    (`item = Item.model_validate(data); session.add(item)`).

    ## Why is this bad?
    `201 Created` tells clients that a new resource exists, and it is the status the
    OpenAPI schema documents, so generated clients and API tests expect it. A create
    endpoint that answers 200 is indistinguishable from an update or an action in the
    contract, and changing it later breaks clients that came to rely on 200.

    ## Known problems
    Not flagged:
    - a handler that returns what it gets by *calling* a factory's product
      (`forward = create_forwarder(url)` then `return forward(payload)`): the answer
      is the call's result, not a created resource;
    - a POST that declares any `status_code`: 202 for accepted work, 204, or an
      explicit 200 are deliberate;
    - a handler that sets `response.status_code` itself or returns a `Response` object
      (the decorator's status would not apply to it), also one an unannotated project
      helper returns on every path the call can take (a proxy helper called with
      `stream=True` that answers with the upstream status), and `response_class=`
      `RedirectResponse` (a form post answered with a redirect);
    - a registration for more methods than POST (`api_route(methods=["GET", "POST"])`),
      whose one status would apply to all of them, and a decorator with a `**kwargs`
      splat, which may hold the status;
    - actions, by a word in the handler name or the last path segment: `login`,
      `token`, `search`, `verify`, `validate`, `preview`, `simulate`, `estimate`, a dry
      run (`dry_run`, `dry-run`), `reset`, `refresh`, `export`, `update`/`upsert`, and
      compute endpoints such as `create_chat_completion` or `create_embedding`, which
      return a result rather than a stored resource (the OpenAI-compatible API they
      mimic answers 200);
    - updates, by an update verb standing as a path segment of its own anywhere in
      the path (`POST /channels/{id}/update/members/add`);
    - by name alone, a handler that returns no value (annotated `-> None`, or no
      `return <value>` anywhere): one that hands the work to a scheduler or a worker
      (`schedule(func=core.create_workspace)`) creates nothing in its response, and
      201 would claim it did (202 fits such work);
    - handlers that hand out a token, a third-party session or a presigned URL
      (`create_access_token`, `create_checkout_session`, `create_upload_url`), a
      bare `add` handler, and by name alone `add_<x>_to_<y>`, which links existing
      things to an existing parent (`add_user_to_group`; a new object it adds to the
      session and returns is still reported);
    - deprecated operations (`deprecated=True` on the decorator, on the `APIRouter` or
      on the `include_router` that serves them): they are kept for existing clients,
      and changing their status only breaks those;
    - bulk and batch endpoints (the handler name ends with a collection then `bulk` or
      `batch`, as `create_records_batch`, or the path with a literal segment before a
      last `bulk`/`batch` one, as `/responses/bulk`; `create_batch` at `POST /batch` may
      make one batch resource) whose response model is a list of per-item outcomes, or
      a model without an `id` whose only list field is one, the item model having an
      `error`/`errors` field (`POST /me/responses/bulk` answering
      `{items: [{item, error}]}`): one request may create some items, update others and
      fail the rest, so one `201` misstates it;
    - get-or-create handlers: the handler, or the project function whose result it
      returns, answers with a row it looked up (`existing = crud.get_link(...)`, a
      `.first()` or `.scalar_one_or_none()` query, `session.get(...)`) under `if
      existing:` before making a new one, so a fixed 201 would mislabel the repeat
      call (a get-or-create in code outside the reviewed folder is not seen), and
      handlers that return what a call named as an upsert or a get-or-create gives
      (`store.aupsert(...)`, `get_or_create_tag(...)`, `create_or_update(...)`), also
      wrapped in a conversion (`return to_schema(await store.aupsert(...))`).

    A handler registered more than once (`@router.post` stacked on
    `@v2_router.post`) is reported once, at its first registration the rule would
    report; the message counts the others.

    Creation detected through the body needs the created object to be returned, so a
    side effect such as an audit-log row does not count, and calls are followed one
    level (a handler calling a helper that calls `create_user` is not seen).

    ## Example
    ```python
    @router.post("", response_model=AuthorOut)
    def create_author(payload: AuthorCreate, db: SessionDep) -> Author:
        return authors_service.create_author(db, payload)
    ```

    ## Use instead
    ```python
    @router.post("", response_model=AuthorOut, status_code=status.HTTP_201_CREATED)
    def create_author(payload: AuthorCreate, db: SessionDep) -> Author:
        return authors_service.create_author(db, payload)
    ```

    ## Fix safety
    `--unsafe-fixes` adds `status_code=status.HTTP_201_CREATED` to the decorator
    (`HTTPStatus.CREATED` where the message suggests it: a module that imports
    `http.HTTPStatus` and not `status`, or a project where most modules do). It is
    unsafe: clients that compare with 200 exactly must be updated (the contract guard
    reports the changed status as breaking). Only the reported registration is changed:
    declare the status on the handler's other registrations too.
    """
    if not _candidate(route, ctx):
        return
    handler = route.handler
    # A handler registered more than once (`@router.post` stacked on `@v2_router.post`)
    # is reported once, at its first registration the rule would report.
    twins = [r for r in ctx.model.routes_of(handler) if r is route or _candidate(r, ctx)]
    twins.sort(key=site_order)
    if twins[0] is not route:
        return
    reason = _CREATIONS.get(ctx.model, handler, lambda: _creation(ctx.model, handler))
    if not reason:
        return
    others = len(twins) - 1
    also = ""
    if others:
        also = (
            f" (and at its {others} other registrations)"
            if others > 1
            else " (and at its other registration)"
        )
    yield Report(
        route.node,
        f"`{handler.name}` ({route_label(route)}) "
        f"{reason}, but answers `200 OK`: declare "
        f"`status_code={suggested_name(status_style(ctx.model, route.module), 201)}{also}",
    )
