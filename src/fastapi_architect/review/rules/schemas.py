"""FAA1xx: what the response and request *schemas* are made of.

A response contract must be a Pydantic schema written for clients, not the ORM class
(FAA105), and nothing reachable from it may carry a credential (FAA106). Request models
must not be poured wholesale into ORM objects (FAA107), Pydantic 1 idioms do not belong
in a Pydantic 2 project (FAA108), and every route parameter needs a type (FAA103).

The project-wide indexes come from the model: ORM classes from `_orm.state(...)`, route
contracts from `AppModel.routes`, classes and their bases from `Project`.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_architect.model.apps import Mount, Route, status_code_value
from fastapi_architect.model.astutil import (
    body_nodes,
    const_str,
    keyword,
    last_name,
    parameters,
    statements,
    walk,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.dependencies import param_sites, resolve_target, walk_dependencies
from fastapi_architect.model.project import ClassInfo, Function, Module, Project
from fastapi_architect.model.pydantic_names import (
    CLASSVAR,
    FIELD_FUNCTIONS,
    MODEL_BASES,
    NOT_FIELDS,
    is_pydantic_model,
)
from fastapi_architect.model.types import ANNOTATED, infer_type, unwrap_annotation
from fastapi_architect.review.context import FileContext, ProjectContext
from fastapi_architect.review.index import ModelCache, may_resolve_to
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules import _orm
from fastapi_architect.review.rules._orm import is_test_module
from fastapi_architect.review.rules.errors import HTTP_EXCEPTIONS

_MAX_DEPTH = 8

_LITERAL = frozenset({"typing.Literal", "typing_extensions.Literal"})
_SECRET_TYPES = frozenset(
    f"pydantic.{module}{name}"
    for module in ("", "types.")
    for name in ("SecretStr", "SecretBytes", "Secret")
)
_SERIALIZERS = frozenset(
    {
        "pydantic.field_serializer",
        "pydantic.functional_serializers.field_serializer",
        "pydantic.model_serializer",
        "pydantic.functional_serializers.model_serializer",
    }
)
_VALIDATORS = frozenset(
    {
        "pydantic.field_validator",
        "pydantic.functional_validators.field_validator",
        "pydantic.validator",
        "pydantic.class_validators.validator",
        "pydantic.v1.validator",
    }
)
# A validator calling one of these replaces the value before it is sent (`redact(v)`).
_REDACTING_WORDS = ("redact", "mask", "obfuscat", "hide")
_MODEL_SERIALIZERS = frozenset(
    {"pydantic.model_serializer", "pydantic.functional_serializers.model_serializer"}
)
_OAUTH2_FORMS = frozenset(
    f"fastapi.security{module}.{name}"
    for module in ("", ".oauth2")
    for name in ("OAuth2PasswordRequestForm", "OAuth2PasswordRequestFormStrict")
)


# ------------------------------------------------------------------ route contracts


@dataclass(frozen=True)
class Contract:
    """The response contract of a route: `response_model=` or the return annotation."""

    route: Route
    expr: ast.expr
    module: Module
    scope: Function | None
    declared: bool  # `response_model=` (else the return annotation)


def route_contract(route: Route) -> Contract | None:
    if route.kind != "http":
        return None
    handler = route.handler
    if "response_model" in route.keywords:
        expr = route.keywords["response_model"]
        if isinstance(expr, ast.Constant) and expr.value is None:
            return None  # FastAPI's opt-out: no response model at all
        scope = handler.parent if handler.module is route.module else None
        return Contract(route, expr, route.module, scope, True)
    returns = handler.node.returns
    if returns is None:
        return None
    return Contract(route, returns, handler.module, handler.parent, False)


def named_types(
    project: Project,
    module: Module,
    expr: ast.expr | None,
    scope: Function | None,
    depth: int = 0,
) -> Iterator[str]:
    """Every class an annotation names, through `Optional`, unions, containers,
    `Annotated` (its first argument), generic models (`Page[BookRead]`: both) and
    module-level type aliases. `Literal[...]` contents are values, not types."""
    if expr is None or depth > _MAX_DEPTH:
        return
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, str):
            try:
                parsed = ast.parse(expr.value, mode="eval").body
            except SyntaxError:
                return
            yield from named_types(project, module, parsed, scope, depth + 1)
        return
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        yield from named_types(project, module, expr.left, scope, depth + 1)
        yield from named_types(project, module, expr.right, scope, depth + 1)
        return
    if isinstance(expr, ast.Tuple):
        for element in expr.elts:
            yield from named_types(project, module, element, scope, depth + 1)
        return
    if isinstance(expr, ast.Subscript):
        origin = project.resolve(module, expr.value, scope)
        elements = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        if origin in _LITERAL:
            return
        if origin in ANNOTATED:
            elements = elements[:1]
        elif origin is not None and project.class_(origin) is not None:
            yield project.canonical(origin)
        for element in elements:
            yield from named_types(project, module, element, scope, depth + 1)
        return
    if isinstance(expr, (ast.Name, ast.Attribute)):
        qualname = project.resolve(module, expr, scope)
        if qualname is None:
            return
        alias = project.module_value(qualname)
        if alias is not None and isinstance(alias[1], (ast.Subscript, ast.BinOp)):
            yield from named_types(project, alias[0], alias[1], None, depth + 1)
            return
        yield project.canonical(qualname)


def _production_contracts(model: AppModel) -> Iterator[Contract]:
    for route in model.routes:
        if is_test_module(route.module) or is_test_module(route.handler.module):
            continue
        contract = route_contract(route)
        if contract is not None:
            yield contract


# ------------------------------------------------------------------ FAA105


@rule(
    code="FAA105",
    name="orm-model-as-response",
    summary="A route's response model is an ORM class (SQLAlchemy model, SQLModel `table=True`)",
    severity="warning",
    scope="project",
    fix_title="Declare a Pydantic read schema (`BookRead`) with `from_attributes=True`",
    cwe=("CWE-213",),
    owasp=("API3:2023",),
    references=(
        "https://fastapi.tiangolo.com/tutorial/sql-databases/#create-multiple-models",
        "https://sqlmodel.tiangolo.com/tutorial/fastapi/multiple-models/",
        "https://docs.pydantic.dev/latest/concepts/models/#arbitrary-class-instances",
    ),
)
def orm_model_as_response(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operations whose response contract, `response_model=` or the return
    annotation, is an ORM class: a SQLAlchemy declarative model (`DeclarativeBase`,
    `declarative_base()`, Flask-SQLAlchemy `db.Model`) or a SQLModel class declared with
    `table=True`. The class may be wrapped (`list[Book]`, `Book | None`,
    `Page[Book]`, a type alias). The ORM classes are found project-wide.

    ## Why is this bad?
    The table *is* the API then: every column, including the ones added later
    (`password_hash`, `is_admin`, internal notes), is sent to clients, and a database
    migration becomes a breaking API change. Lazy-loaded relationships are read while
    the response is serialized, which is an N+1 query or, with an async session, a
    `MissingGreenlet` error. A plain SQLAlchemy class is not even a valid Pydantic
    field type: FastAPI refuses it when the app starts.

    ## Known problems
    SQLModel classes without `table=True` are plain Pydantic models and are not
    flagged; neither are `response_model=None` (FastAPI's opt-out) and routes in test
    modules. Only the contract itself and its type arguments are checked, not the
    fields of a Pydantic response model (a nested ORM class there is not reported).

    ## Example
    ```python
    class Book(Base):
        __tablename__ = "books"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
        owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    @router.get("/books/{book_id}", response_model=Book)
    async def read_book(book_id: int, session: SessionDep): ...
    ```

    ## Use instead
    ```python
    class BookRead(BaseModel):
        model_config = ConfigDict(from_attributes=True)

        id: int
        title: str

    @router.get("/books/{book_id}")
    async def read_book(book_id: int, session: SessionDep) -> BookRead: ...
    ```

    ## Fix safety
    There is no automatic fix: which columns clients may see is a design decision.
    """
    project = ctx.project
    index = _orm.state(ctx.model).index
    if not index.models:
        return
    seen: set[tuple[int, str]] = set()
    for contract in _production_contracts(ctx.model):
        for qualname in named_types(project, contract.module, contract.expr, contract.scope):
            orm = index.models.get(qualname)
            if orm is None or (id(contract.expr), qualname) in seen:
                continue
            seen.add((id(contract.expr), qualname))
            where = "`response_model=`" if contract.declared else "the return annotation"
            kind = (
                "a SQLModel table"
                if any(n in MODEL_BASES for n in project.mro(qualname))
                else "an ORM model"
            )
            yield Report(
                contract.expr,
                f"`{contract.route.handler.name}` uses {kind}, `{orm.name}`, as "
                f"{where}: every column is sent to clients; declare a Pydantic read schema",
                module=contract.module,
            )


# ------------------------------------------------------------------ FAA106

_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# In `sensitive_kind` the *last* word names what a field holds: `password_changed_at` is a time.
_HASH_WORDS = frozenset({"hash", "hashed", "digest", "salt", "encrypted", "enc"})
_KEY_QUALIFIERS = frozenset({"api", "apikey", "private", "secret", "signing", "encryption"})
# Tokens that coordinate writes rather than prove identity, made to be sent to the client
# and back: optimistic-concurrency versions (`version_token`, an ETag the client returns
# in `If-Match`), locks, leases, idempotency and sync tokens. Aligned with the words
# FAA309 (security/web_rules.py) does not take for secrets.
_COORDINATION_TOKENS = frozenset(
    {
        "version",
        "revision",
        "etag",
        "concurrency",
        "lock",
        "lease",
        "fencing",
        "idempotency",
        "sync",
    }
)
# Tokens that are not credentials: paging cursors, CSRF tokens meant for the client, and
# the coordination tokens above.
_HARMLESS_TOKENS = _COORDINATION_TOKENS | frozenset(
    {"page", "next", "prev", "previous", "cursor", "continuation", "csrf"}
)
# `has_password`, `is_secret`, `requires_token`: flags about a secret, not the secret.
_FLAG_PREFIXES = frozenset({"has", "is", "needs", "requires", "must", "can", "should", "use"})
# Values of these types cannot hold a password or a token.
_HARMLESS_TYPES = frozenset(
    {
        "bool",
        "int",
        "float",
        "datetime.datetime",
        "datetime.date",
        "datetime.time",
        "datetime.timedelta",
    }
)
# RFC 6749 §5.1 access token response fields.
_OAUTH2_FIELDS = frozenset({"access_token", "refresh_token", "id_token", "token_type"})
_ISSUING_WORDS = frozenset(
    {
        "token",
        "tokens",
        "login",
        "signin",
        "signup",
        "register",
        "refresh",
        "oauth",
        "oauth2",
        "auth",
        "session",
        "sessions",
        "credential",
        "credentials",
        "key",
        "keys",
        "apikey",
        "apikeys",
        "secret",
        "secrets",
        "2fa",
        "mfa",
        "otp",
        "totp",
    }
)
_ISSUING_PAIRS = frozenset({("sign", "in"), ("sign", "up"), ("log", "in")})


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


def sensitive_kind(name: str) -> str | None:
    """`"password"`, `"token"`, `"secret"`, `"key"` or `"ssn"` when a field named `name`
    holds a credential or such personal data; None otherwise."""
    words = _words(name)
    if not words or words[0] in _FLAG_PREFIXES:
        return None
    last = words[-1]
    if last in ("password", "passwd", "pwd", "passphrase") or (
        last in _HASH_WORDS and any(w in ("password", "passwd", "pwd") for w in words)
    ):
        return "password"
    if words[-3:] == ["social", "security", "number"] or last == "ssn":
        return "ssn"
    if last in ("cvv", "cvc") or words[-2:] == ["card", "number"]:
        return "card"
    if last == "secret":
        return "secret"
    if last == "token":
        if len(words) > 1 and words[-2] in _HARMLESS_TOKENS:
            return None
        return "token"
    if last in ("key", "apikey") and (
        last == "apikey" or (len(words) > 1 and words[-2] in _KEY_QUALIFIERS)
    ):
        return "key"
    return None


@dataclass
class _FieldFacts:
    node: ast.AnnAssign
    cls: ClassInfo
    name: str
    aliases: tuple[str, ...]
    excluded: bool
    secret_type: bool
    annotation: ast.expr


@dataclass
class _ModelFacts:
    fields: list[_FieldFacts] = field(default_factory=list)
    custom: bool = False  # a `@model_serializer`: the output is whatever it builds


def _decorator_names(project: Project, cls: ClassInfo) -> Iterator[tuple[str, ast.Call | None]]:
    for stmt in cls.node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in stmt.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call is not None else decorator
                name = project.resolve(cls.module, target)
                if name in _SERIALIZERS:
                    yield name, call


def _redacted_fields(project: Project, cls: ClassInfo) -> Iterator[str]:
    """Fields named by a `@field_validator`/`@validator` whose body calls a function named
    like `redact`/`mask`/`obfuscate`/`hide`: the model only ever holds the masked value."""
    for stmt in cls.node.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        names: list[str] = []
        for decorator in stmt.decorator_list:
            if isinstance(decorator, ast.Call) and (
                project.resolve(cls.module, decorator.func) in _VALIDATORS
            ):
                names.extend(n for n in (const_str(a) for a in decorator.args) if n)
        if not names:
            continue
        redacts = any(
            isinstance(node, ast.Call)
            and any(
                w in last_name(project.resolve(cls.module, node.func) or "").lower()
                for w in _REDACTING_WORDS
            )
            for node in walk(stmt)
        )
        if redacts:
            yield from names


def _model_facts(project: Project, qualname: str, cache: dict[str, _ModelFacts]) -> _ModelFacts:
    found = cache.get(qualname)
    if found is not None:
        return found
    facts = cache[qualname] = _ModelFacts()
    serialized: set[str] = set()
    by_name: dict[str, _FieldFacts] = {}
    for name in reversed(project.mro(qualname)):
        cls = project.class_(name)
        if cls is None:
            continue
        for decorator, call in _decorator_names(project, cls):
            if decorator in _MODEL_SERIALIZERS:
                facts.custom = True
            elif call is not None:
                serialized.update(s for s in (const_str(a) for a in call.args) if s)
                if any(const_str(a) == "*" for a in call.args):
                    facts.custom = True
        serialized.update(_redacted_fields(project, cls))
        for stmt in cls.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                info = _field_facts(project, cls, stmt)
                if info is not None:
                    by_name[info.name] = info
    for info in by_name.values():
        if info.name in serialized:
            info.excluded = True  # a `@field_serializer` decides what is sent
    facts.fields = list(by_name.values())
    return facts


def _is_field(project: Project, cls: ClassInfo, stmt: ast.AnnAssign) -> bool:
    """Does this annotated name of a model's body declare a field (not a private or
    `ClassVar` attribute, `model_config`, a `PrivateAttr()`)?"""
    assert isinstance(stmt.target, ast.Name)
    name = stmt.target.id
    if name.startswith("_") or name == "model_config":
        return False
    module = cls.module
    annotation = stmt.annotation
    head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    if project.resolve(module, head) in CLASSVAR:
        return False
    return not (
        isinstance(stmt.value, ast.Call) and project.resolve(module, stmt.value.func) in NOT_FIELDS
    )


def _field_facts(project: Project, cls: ClassInfo, stmt: ast.AnnAssign) -> _FieldFacts | None:
    assert isinstance(stmt.target, ast.Name)
    if not _is_field(project, cls, stmt):
        return None
    name = stmt.target.id
    module = cls.module
    annotation = stmt.annotation
    base, metadata, meta_module = unwrap_annotation(project, module, annotation)
    calls: list[tuple[Module, ast.Call]] = []
    if (
        isinstance(stmt.value, ast.Call)
        and project.resolve(module, stmt.value.func) in FIELD_FUNCTIONS
    ):
        calls.append((module, stmt.value))
    for meta in metadata:
        if isinstance(meta, ast.Call) and project.resolve(meta_module, meta.func) in (
            FIELD_FUNCTIONS
        ):
            calls.append((meta_module, meta))
    aliases: list[str] = []
    excluded = False
    for _, call in calls:
        for key in ("alias", "serialization_alias"):
            alias = const_str(keyword(call, key))
            if alias:
                aliases.append(alias)
        exclude = keyword(call, "exclude")
        if exclude is not None and not (
            isinstance(exclude, ast.Constant) and exclude.value in (False, None)
        ):
            excluded = True
    secret = any(
        q in _SECRET_TYPES
        for q in named_types(project, meta_module, base, None)
        if base is not None
    ) or any(q in _SECRET_TYPES for q in named_types(project, module, annotation, None))
    return _FieldFacts(stmt, cls, name, tuple(aliases), excluded, secret, annotation)


def _harmless_type(project: Project, info: _FieldFacts) -> bool:
    types = set(named_types(project, info.cls.module, info.annotation, None))
    types.discard("None")
    return bool(types) and types <= _HARMLESS_TYPES


def _object_type(project: Project, info: _FieldFacts) -> bool:
    """A field typed by project classes that are not strings: `password: FieldBehaviour |
    None` describes a form field, it does not hold one (a nested model's own fields are
    still checked)."""
    types = set(named_types(project, info.cls.module, info.annotation, None))
    types.discard("None")
    return bool(types) and all(
        project.class_(q) is not None
        and not any(b in ("str", "bytes", "builtins.str", "builtins.bytes") for b in project.mro(q))
        for q in types
    )


def _literal_names(expr: ast.expr | None) -> set[str] | None:
    """`{"password"}`, `["a", "b"]`, `("a",)` or a dict's keys; None when not literal."""
    if isinstance(expr, (ast.Set, ast.List, ast.Tuple)):
        out = {const_str(e) for e in expr.elts}
    elif isinstance(expr, ast.Dict):
        out = {const_str(k) for k in expr.keys if k is not None}
    else:
        return None
    if None in out:
        return None
    return {s for s in out if s is not None}


_ACCEPTED_STATUSES = frozenset({201, 202})
_HEADER_MARKERS = frozenset(
    {"fastapi.Header", "fastapi.params.Header", "fastapi.param_functions.Header"}
)


def _status_code(route: Route) -> int | None:
    expr = route.keywords.get("status_code")
    if isinstance(expr, ast.Constant) and isinstance(expr.value, int):
        return expr.value
    if isinstance(expr, (ast.Attribute, ast.Name)):
        match = re.match(r"HTTP_(\d{3})_", last_name(ast.unparse(expr)))
        if match:
            return int(match.group(1))
    return None


def _hands_back_token(project: Project, route: Route, info: _FieldFacts) -> bool:
    """A token the route issues on creation (a `POST` answering 201/202 with a field named
    just `token`: a polling or claim handle) or echoes back from a request header (the
    client sent it)."""
    if (
        info.name == "token"
        and "POST" in route.methods
        and _status_code(route) in _ACCEPTED_STATUSES
    ):
        return True
    handler = route.handler
    for param, default in parameters(handler.node):
        if sensitive_kind(param.arg) != "token":
            continue
        _base, metadata, meta_module = unwrap_annotation(
            project, handler.module, param.annotation, handler.parent
        )
        calls = [(handler.module, default), *((meta_module, m) for m in metadata)]
        for owner, call in calls:
            if isinstance(call, ast.Call) and project.resolve(owner, call.func) in _HEADER_MARKERS:
                return True
    return False


def _is_issuing_route(project: Project, route: Route) -> bool:
    """A route that hands out credentials on purpose: an OAuth2 password form login,
    or a path whose last fixed segment is `token`, `login`, `api-keys`, ..."""
    segments = [s for s in route.full_paths[0].split("/") if s and not s.startswith("{")]
    if segments:
        words = [w.lower() for w in re.split(r"[^A-Za-z0-9]+", segments[-1]) if w]
        if set(words) & _ISSUING_WORDS or set(itertools.pairwise(words)) & _ISSUING_PAIRS:
            return True
    handler = route.handler
    for param, _ in parameters(handler.node):
        if param.annotation is None:
            continue
        for qualname in named_types(project, handler.module, param.annotation, handler.parent):
            if qualname in _OAUTH2_FORMS:
                return True
    for site in param_sites(project, handler):
        target = resolve_target(project, site)
        if target is not None and target.qualname in _OAUTH2_FORMS:
            return True
    return False


@rule(
    code="FAA106",
    name="sensitive-field-in-response-schema",
    summary="A response schema (or a model nested in it) has a password, secret, token or SSN "
    "field",
    severity="error",
    scope="project",
    fix_title="Remove the field from the response schema (or type it `SecretStr`)",
    cwe=("CWE-200", "CWE-522"),
    owasp=("API3:2023",),
    references=(
        "https://fastapi.tiangolo.com/tutorial/extra-models/",
        "https://fastapi.tiangolo.com/tutorial/response-model/",
        "https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/",
    ),
)
def sensitive_field_in_response_schema(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Follows every route's response contract (`response_model=` or the return
    annotation) through the Pydantic models it names, nested models, lists, unions and
    generic models included, and reports each field whose name says it holds a
    credential or comparable data: `password`, `hashed_password`, `password_hash`,
    `client_secret`, `api_key`, `private_key`, `reset_token`, `ssn`, `card_number`...
    The field is reported once, where the model declares it, naming the route that
    exposes it most (first one an app outside the tests serves without authentication,
    as far as the dependencies and auth middleware on the way show, then one that is not
    the caller's own data, `GET /users/{id}` before `GET /users/me`) and counting the
    other routes that send it (each path a route is served at counts).

    ## Why is this bad?
    Whatever the response model declares is serialized into every response: a password
    hash, an API secret or a reset token reaches every client that can call the route,
    ends up in browser caches, logs and API gateways, and an attacker who gets the
    hash can crack it offline.

    ## Known problems
    Not reported:
    - fields typed `SecretStr`/`SecretBytes` (serialized as `**********`), fields with
      `Field(exclude=True)` or a `@field_serializer`, fields named by a
      `@field_validator`/`@validator` that calls a function named like `redact`,
      `mask`, `obfuscate` or `hide`, models with a `@model_serializer`, and names left
      out by the route's literal `response_model_exclude=` / `response_model_include=`;
    - fields typed by project classes that are not `str`/`bytes` subclasses
      (`password: FieldBehaviour | None` describes a form field; a nested model's own
      fields are still checked);
    - `access_token`, `refresh_token`, `id_token` and `token_type` in a model that
      declares `access_token` (the OAuth2 token response of RFC 6749), and token, key
      and secret fields on routes that issue credentials: an OAuth2 password form
      login, or a path whose last fixed segment is `token`, `login`, `auth`, `refresh`,
      `session`, `api-keys`, `credentials`, `2fa`, `totp`..., and a `POST` whose
      response models are all among those of such a route (another sign-in step: an
      LDAP login or an MFA challenge answering with the `/signin` models). Passwords
      and SSNs are reported there too;
    - a field named `token` sent by a `POST` answering 201/202 (a polling or claim
      handle issued on creation), and token fields on a route that takes a token in a
      `Header()` parameter (the client's own token echoed back);
    - other credentials handed out once at creation (`POST /clients` answering with a
      `client_secret`) are reported, and so are internal APIs that hand secrets to
      trusted workers by design: add a `# noqa: FAA106` on the field;
    - names that only mention a secret: `password_changed_at`, `token_type`,
      `max_tokens`, `next_page_token`, `csrf_token`, `api_key_id`, `public_key`;
    - tokens that coordinate writes and are made to travel to the client and back:
      optimistic-concurrency tokens (`version_token`, `revision_token`,
      `concurrency_token`, like `etag` and `row_version`: the client returns them in
      `If-Match`), `lock_token`, `lease_token`, `fencing_token`, `idempotency_token`
      and `sync_token`;
    - ORM classes used as the response (FAA105 reports them) and test modules.

    ## Example
    ```python
    class UserOut(BaseModel):
        id: int
        email: EmailStr
        hashed_password: str

    @router.get("/users/me")
    async def read_me(user: CurrentUser) -> UserOut: ...
    ```

    ## Use instead
    ```python
    class UserOut(BaseModel):
        id: int
        email: EmailStr

    @router.get("/users/me")
    async def read_me(user: CurrentUser) -> UserOut: ...
    ```

    ## Fix safety
    There is no automatic fix: a field may have to move to an input-only model.
    """
    project = ctx.project
    orm = _orm.state(ctx.model).index.models
    cache: dict[str, _ModelFacts] = {}
    # field node id -> the field, and each route that sends it with how it reaches it
    sent: dict[int, tuple[_FieldFacts, list[tuple[Route, str]]]] = {}
    contracts = [
        (
            contract,
            [
                q
                for q in named_types(project, contract.module, contract.expr, contract.scope)
                if q not in orm and is_pydantic_model(project, q)
            ],
        )
        for contract in _production_contracts(ctx.model)
    ]
    sign_in_contracts: list[frozenset[str]] | None = None
    for contract, roots in contracts:
        route = contract.route
        excluded = _literal_names(route.keywords.get("response_model_exclude")) or set()
        included = _literal_names(route.keywords.get("response_model_include"))
        issuing: bool | None = None
        reached_here: set[int] = set()  # fields this route sends (`list[User] | User`: once)
        todo: list[tuple[str, str, bool]] = [(q, last_name(q), True) for q in roots]
        visited: set[str] = set()
        while todo:
            qualname, path, top = todo.pop(0)
            if qualname in visited or len(visited) > 64:
                continue
            visited.add(qualname)
            facts = _model_facts(project, qualname, cache)
            if facts.custom:
                continue
            has_access_token = any(
                f.name == "access_token" or "access_token" in f.aliases for f in facts.fields
            )
            for info in facts.fields:
                if info.excluded or info.secret_type or _harmless_type(project, info):
                    continue
                if top and (
                    info.name in excluded or (included is not None and info.name not in included)
                ):
                    continue
                kinds = [k for k in (sensitive_kind(n) for n in (info.name, *info.aliases)) if k]
                if kinds and id(info.node) not in reached_here and not _object_type(project, info):
                    kind = kinds[0]
                    allowed = False
                    if has_access_token and info.name in _OAUTH2_FIELDS:
                        allowed = True
                    elif kind in ("token", "secret", "key"):
                        if issuing is None:
                            issuing = _is_issuing_route(project, route)
                            if not issuing and "POST" in route.methods and roots:
                                # Another sign-in step (LDAP, SSO exchange, MFA) answers
                                # with what a recognised login route answers with.
                                if sign_in_contracts is None:
                                    sign_in_contracts = [
                                        frozenset(r)
                                        for c, r in contracts
                                        if r and _is_issuing_route(project, c.route)
                                    ]
                                issuing = any(set(roots) <= c for c in sign_in_contracts)
                        allowed = issuing or (
                            kind == "token" and _hands_back_token(project, route, info)
                        )
                    if not allowed:
                        reached_here.add(id(info.node))
                        sent.setdefault(id(info.node), (info, []))[1].append(
                            (route, f"{path}.{info.name}")
                        )
                for nested in named_types(project, info.cls.module, info.annotation, None):
                    if (
                        nested not in visited
                        and nested not in orm
                        and is_pydantic_model(project, nested)
                    ):
                        todo.append((nested, f"{path}.{info.name}", False))
    for info, routes in sent.values():
        route, shown = min(routes, key=lambda pair: _exposure_rank(ctx.model, pair[0]))
        others = sum(len(_served_paths(r)) for r, _ in routes) - 1
        also = f" and {others} other route{'s' if others > 1 else ''}" if others else ""
        yield Report(
            info.node,
            f"`{shown}` is sent in the response of `{route.handler.name}` "
            f"({_route_label(route)}){also}: remove it from the response schema",
            module=info.cls.module,
        )


def _exposure_rank(model: AppModel, route: Route) -> tuple[bool, bool]:
    """Which route to name for a field many routes send: first one that an app outside
    the tests serves without authentication (as far as the model sees: a dependency on
    the way, an auth middleware), then one that is not the caller's own data
    (`GET /users/{id}` before `GET /users/me`); in route order otherwise (`min` keeps it)."""
    open_mount = any(model.auth_chain(route, mount) is None for mount in _served_mounts(route))
    own = any(
        "me" in (segment for segment in path.split("/") if segment) for path in _served_paths(route)
    )
    return not open_mount, own


def _served_mounts(route: Route) -> list[Mount]:
    """The route's mounts on apps outside the tests."""
    return [m for m in route.mounts if m.app is None or not is_test_module(m.app.module)]


def _served_paths(route: Route) -> list[str]:
    """Where an app outside the tests serves the route (all its paths when only tests
    mount it)."""
    return [m.path for m in _served_mounts(route)] or route.full_paths


def _route_label(route: Route) -> str:
    methods = ",".join(m for m in route.methods if m not in ("HEAD", "OPTIONS")) or "ANY"
    return f"{methods} {_served_paths(route)[0]}"


# ------------------------------------------------------------------ FAA108

_V2_ROOTS = MODEL_BASES | frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.RootModel",
        "pydantic.root_model.RootModel",
    }
)
# v1 method -> its v2 name (None: no direct replacement).
_INSTANCE_METHODS: dict[str, str | None] = {
    "dict": "model_dump",
    "json": "model_dump_json",
    "copy": "model_copy",
}
_CLASS_METHODS: dict[str, str | None] = {
    "parse_obj": "model_validate",
    "parse_raw": "model_validate_json",
    "parse_file": None,
    "from_orm": "model_validate",
    "construct": "model_construct",
    "schema": "model_json_schema",
    "schema_json": None,
    "update_forward_refs": "model_rebuild",
    "validate": "model_validate",
}
_V1_DECORATORS: dict[str, str] = {
    **{f"pydantic{m}.validator": "@field_validator" for m in ("", ".class_validators")},
    **{
        f"pydantic{m}.root_validator": '@model_validator(mode="before"/"after")'
        for m in ("", ".class_validators")
    },
}
_V1_METHODS = frozenset(_INSTANCE_METHODS) | frozenset(_CLASS_METHODS)
_V1_DECORATOR_NAMES = frozenset(_V1_DECORATORS)
_CONFIG_RENAMES = {
    "orm_mode": "from_attributes",
    "allow_population_by_field_name": "populate_by_name",
    "schema_extra": "json_schema_extra",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_lower": "str_to_lower",
    "anystr_upper": "str_to_upper",
    "max_anystr_length": "str_max_length",
    "min_anystr_length": "str_min_length",
    "validate_all": "validate_default",
    "allow_mutation": "frozen",
    "keep_untouched": "ignored_types",
    "copy_on_model_validation": "revalidate_instances",
}
# Names only Pydantic 2 exports: a module importing one runs on Pydantic 2.
_V2_ONLY_NAMES = frozenset(
    f"pydantic.{name}"
    for name in (
        "field_validator",
        "model_validator",
        "field_serializer",
        "model_serializer",
        "computed_field",
        "ConfigDict",
        "TypeAdapter",
        "RootModel",
        "ValidationInfo",
        "AfterValidator",
        "BeforeValidator",
        "WithJsonSchema",
        "StringConstraints",
    )
)
_PIN_FILES = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "pyproject.toml",
    "requirements.txt",
    "requirements.in",
    "requirements-prod.txt",
    "requirements/base.txt",
    "requirements/prod.txt",
    "requirements/production.txt",
    "setup.cfg",
    "setup.py",
    "Pipfile",
)
_LOCK_VERSION = re.compile(
    r'name\s*=\s*"pydantic"\s*\n\s*version\s*=\s*"(\d+)\.'  # uv, poetry, pdm
    r'|"pydantic"\s*:\s*\{[^{}]*?"version"\s*:\s*"==(\d+)\.',  # Pipfile.lock
    re.DOTALL,
)
_REQUIREMENT = re.compile(
    r"""(?<![\w.-])pydantic(?![\w-])\s*(?:\[[^\]]*\])?\s*(?:=(?!=)\s*)?["']?\s*([^"'\n#;]*)""",
    re.IGNORECASE,
)
_POETRY_VERSION = re.compile(r"""\{[^}]*?version\s*=\s*["']([^"']*)["']""")
_V2_ONLY_PACKAGES = re.compile(r"(?<![\w-])(pydantic[-_]settings|pydantic[-_]core)(?![\w-])")
_V1_SPEC = re.compile(r"<\s*2(?:\.0)*(?![\d.])|<=\s*1\.|==\s*1\.|~=\s*1\.|\^\s*1\.|^\s*1\.")
_V2_SPEC = re.compile(r">=?\s*2(?:\.\d+)*\b|==\s*2\.|~=\s*2\.|\^\s*2|^\s*2\.")


def pin_file_candidates(root: Path) -> list[Path]:
    """Every file `pydantic_major` may read for a review rooted at `root`."""
    folders = [root, *list(root.parents)[:2]]
    return [folder / name for folder in folders for name in _PIN_FILES]


def pydantic_major(project: Project) -> int | None:
    """The Pydantic major version the project is written for, when it can be told: a
    lock file, a requirement pin (in the reviewed folder or up to two levels above it),
    else Pydantic-2-only imports in the code."""
    folder = project.root
    for _ in range(3):
        texts = {}
        for name in _PIN_FILES:
            path = folder / name
            if path.is_file():
                try:
                    texts[name] = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
        if texts:
            found = _major_from_pins(texts)
            if found is not None:
                return found
            break
        if folder.parent == folder:
            break
        folder = folder.parent
    for module in project.module_list:
        for target in module.imports.values():
            if target in _V2_ONLY_NAMES or target.startswith("pydantic_settings"):
                return 2
    return None


def _major_from_pins(texts: dict[str, str]) -> int | None:
    for name in ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock"):
        text = texts.get(name)
        if text is None:
            continue
        match = _LOCK_VERSION.search(text)
        if match:
            return int(match.group(1) or match.group(2))
    majors: set[int] = set()
    v2_companion = False
    for text in texts.values():
        for match in _REQUIREMENT.finditer(text):
            spec = match.group(1)
            if spec.startswith("{"):  # poetry: `pydantic = {version = "^2.5", extras = [...]}`
                inline = _POETRY_VERSION.match(text, match.start(1))
                spec = inline.group(1) if inline else ""
            if _V1_SPEC.search(spec):
                majors.add(1)
            elif _V2_SPEC.search(spec):
                majors.add(2)
        if _V2_ONLY_PACKAGES.search(text):
            v2_companion = True
    if 1 in majors:
        return 1
    if 2 in majors or v2_companion:
        return 2
    return None


_MAJOR: ModelCache[list[int | None]] = ModelCache()


def _is_v2(ctx: FileContext) -> bool:
    return _MAJOR.get(ctx.model, lambda: [pydantic_major(ctx.project)])[0] == 2


def _is_settings(project: Project, qualname: str | None) -> bool:
    return qualname is not None and any(
        name.startswith("pydantic_settings.") for name in project.mro(project.canonical(qualname))
    )


def _is_v2_model(project: Project, qualname: str | None) -> bool:
    return (
        qualname is not None
        and project.class_(qualname) is not None
        and any(name in _V2_ROOTS for name in project.mro(project.canonical(qualname)))
    )


def _class_info(ctx: FileContext, node: ast.ClassDef) -> ClassInfo | None:
    for info in ctx.module.classes.values():
        if info.node is node:
            return info
    return None


@rule(
    code="FAA108",
    name="pydantic-v1-api",
    summary="Pydantic 1 API (`.dict()`, `@validator`, `class Config`...) in a Pydantic 2 project",
    severity="warning",
    nodes=(ast.Call, ast.ClassDef, ast.ImportFrom),
    fix_title="Use the Pydantic 2 name (`.model_dump()`, `@field_validator`, `model_config`)",
    references=(
        "https://docs.pydantic.dev/latest/migration/",
        "https://docs.pydantic.dev/latest/api/config/",
        "https://docs.pydantic.dev/latest/concepts/pydantic_settings/",
    ),
)
def pydantic_v1_api(node: ast.AST, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    In a project that runs on Pydantic 2, finds the Pydantic 1 idioms:
    - `.dict()`, `.json()`, `.copy()` on an instance of a project model, and
      `.parse_obj()`, `.parse_raw()`, `.from_orm()`, `.construct()`, `.schema()`,
      `.update_forward_refs()`... on a project model class;
    - `@validator` and `@root_validator`;
    - a `class Config:` inside a model (`orm_mode`, `allow_population_by_field_name`,
      `schema_extra`, `json_encoders`...), and `json_encoders` in `model_config`;
    - `from pydantic import BaseSettings`, which Pydantic 2 refuses at import time
      (reported as an error).

    The project runs on Pydantic 2 when a lock file (`uv.lock`, `poetry.lock`,
    `pdm.lock`, `Pipfile.lock`) says so, when `pyproject.toml`, `requirements*.txt`,
    `setup.cfg` or `setup.py` pins `pydantic>=2` (or depends on `pydantic-settings`),
    looked up in the reviewed folder and up to two folders above; without any pin,
    when the code imports a name only Pydantic 2 has (`field_validator`,
    `ConfigDict`, `pydantic_settings`...). A Pydantic 1 project is never reported.

    ## Why is this bad?
    Pydantic 2 keeps the old names only as deprecated shims: each call emits a
    `PydanticDeprecatedSince20` warning, some behave differently (`from_orm` needs
    `from_attributes=True`, `@validator` runs with different arguments), and Pydantic
    3 removes them. Code written half in each dialect is also harder to read and to
    review: the next contributor copies the old idiom.

    ## Known problems
    Instance methods are only reported when the receiver's type is known to be a
    project Pydantic model (a typed parameter, a constructor call, a typed
    attribute): `response.json()` on an HTTP response is never reported. Models built
    on the `pydantic.v1` compatibility package are Pydantic 1 models and are left
    alone, and so is code written for both versions: a `try`/`except ImportError`
    fallback, or a function or branch that tests the Pydantic version
    (`if PYDANTIC_V2:`).

    ## Example
    ```python
    class BookRead(BaseModel):
        title: str

        class Config:
            orm_mode = True

        @validator("title")
        def strip(cls, value: str) -> str:
            return value.strip()

    data = payload.dict(exclude_unset=True)
    ```

    ## Use instead
    ```python
    class BookRead(BaseModel):
        model_config = ConfigDict(from_attributes=True)

        title: str

        @field_validator("title")
        @classmethod
        def strip(cls, value: str) -> str:
            return value.strip()

    data = payload.model_dump(exclude_unset=True)
    ```

    ## Fix safety
    `--unsafe-fixes` renames the methods (`.dict()` to `.model_dump()`, `.parse_obj()` to
    `.model_validate()`...) where the arguments mean the same in Pydantic 2, and turns a
    simple `@validator` into `@field_validator` + `@classmethod`. Unsafe: a receiver the
    review took for a model might not be one. `@root_validator`, `class Config`,
    `json_encoders` and the `BaseSettings` import are left to you.
    """
    if isinstance(node, ast.Call):  # (asked first: nearly every node is a call)
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in _V1_METHODS:
            return  # most calls: not a Pydantic 1 method name
        found = list(_v1_call(node, ctx))
    elif isinstance(node, ast.ImportFrom):
        found = list(_v1_import(node, ctx))
    elif isinstance(node, ast.ClassDef):
        found = list(_v1_class(node, ctx))
    else:
        return
    # Only for what would be reported: the ancestors are unparsed to read the tests.
    if found and not _compat_code(ctx):
        yield from found


_VERSION_TEST = re.compile(r"pydantic|\b(?:IS_|USE_)?V[12]\b", re.IGNORECASE)


def _compat_code(ctx: FileContext) -> bool:
    """Code written for both major versions: a `try`/`except ImportError` fallback, or a
    branch on the Pydantic version (`if PYDANTIC_V2:`, `if VERSION.startswith("1")`)."""
    for ancestor in ctx.stack:
        if isinstance(ancestor, ast.Try) and any(
            h.type is not None
            and re.search(r"ImportError|ModuleNotFoundError", ast.unparse(h.type))
            for h in ancestor.handlers
        ):
            return True
        if isinstance(ancestor, (ast.If, ast.IfExp)) and _VERSION_TEST.search(
            ast.unparse(ancestor.test)
        ):
            return True
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            isinstance(stmt, ast.If) and _VERSION_TEST.search(ast.unparse(stmt.test))
            for stmt in ancestor.body
        ):
            return True
    return False


def _v1_import(node: ast.ImportFrom, ctx: FileContext) -> Iterator[Report]:
    if node.level or node.module not in ("pydantic", "pydantic.env_settings"):
        return
    if not any(alias.name == "BaseSettings" for alias in node.names):
        return
    if not _is_v2(ctx):
        return
    yield Report(
        node,
        f"`from {node.module} import BaseSettings` fails on Pydantic 2: import it from "
        "`pydantic_settings`",
        severity="error",
    )


def _v1_call(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    func = node.func
    if not isinstance(func, ast.Attribute):
        return
    name = func.attr
    if name not in _INSTANCE_METHODS and name not in _CLASS_METHODS:
        return
    if not _is_v2(ctx):
        return
    project = ctx.project
    fn = ctx.function()
    receiver = func.value
    owner: str | None = None
    owner_qualname: str | None = None
    if name in _CLASS_METHODS and isinstance(receiver, (ast.Name, ast.Attribute)):
        resolved = project.resolve(ctx.module, receiver, fn)
        if _is_v2_model(project, resolved):
            owner, owner_qualname = last_name(resolved), resolved
    if owner is None and name in _INSTANCE_METHODS:
        inferred = infer_type(project, ctx.module, receiver, fn)
        if _is_v2_model(project, inferred) and not _is_class_ref(project, ctx, receiver, fn):
            owner, owner_qualname = last_name(inferred), inferred
    if owner is None:
        return
    method = project.method(project.canonical(owner_qualname), name) if owner_qualname else None
    if method is not None:
        return  # the project's own method of that name
    new = _INSTANCE_METHODS.get(name) if name in _INSTANCE_METHODS else _CLASS_METHODS[name]
    instead = f"use `.{new}()`" if new else "it has no Pydantic 2 equivalent"
    yield Report(node, f"`.{name}()` on `{owner}` is Pydantic 1 API: {instead}")


def _is_class_ref(
    project: Project, ctx: FileContext, receiver: ast.expr, fn: Function | None
) -> bool:
    """`Model.copy` (the class itself, not an instance)."""
    if not isinstance(receiver, (ast.Name, ast.Attribute)):
        return False
    return project.class_(project.resolve(ctx.module, receiver, fn)) is not None


def _v1_class(node: ast.ClassDef, ctx: FileContext) -> Iterator[Report]:
    project = ctx.project
    # What the body holds decides first: the class and its bases are only looked up for
    # the few classes with a candidate (a method decorator, `class Config`, encoders).
    # (One pass over the body for the three: this runs for every class of the project.)
    decorators: list[ast.expr] = []
    configs: list[ast.ClassDef] = []
    encoders: list[ast.AST] = []  # `json_encoders` in `model_config`
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign):
            target = stmt.target
            if isinstance(target, ast.Name) and target.id == "model_config":
                encoders.extend(_json_encoders(stmt.value))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorators.extend(stmt.decorator_list)
        elif isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
            configs.append(stmt)
        elif isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "model_config" for t in stmt.targets
        ):
            encoders.extend(_json_encoders(stmt.value))
    v1_decorators: list[tuple[ast.expr, str | None]] = []
    for decorator in decorators:
        expr = decorator.func if isinstance(decorator, ast.Call) else decorator
        if may_resolve_to(ctx.model, expr, _V1_DECORATOR_NAMES):
            qualname = project.resolve(ctx.module, expr)
            if qualname in _V1_DECORATORS:
                v1_decorators.append((decorator, qualname))
    if not v1_decorators and not configs and not encoders:
        return
    info = _class_info(ctx, node)
    is_model = info is not None and _is_v2_model(project, info.qualname)
    if not is_model:
        encoders = []
    if not v1_decorators and not (is_model and configs) and not encoders:
        return
    if not _is_v2(ctx):
        return
    for decorator, qualname in v1_decorators:
        assert qualname is not None
        yield Report(
            decorator,
            f"`@{last_name(qualname)}` is Pydantic 1 API: use "
            f"`{_V1_DECORATORS[qualname]}` (with `@classmethod`)",
        )
    if is_model:
        for config in configs:
            keys = _config_keys(config)
            renamed = [f"`{k}` is `{_CONFIG_RENAMES[k]}`" for k in keys if k in _CONFIG_RENAMES]
            detail = f" ({', '.join(renamed)})" if renamed else ""
            if "json_encoders" in keys:
                detail += " and `json_encoders` is deprecated: use `@field_serializer`"
            # Settings classes take `SettingsConfigDict`: `ConfigDict` lacks `env_prefix`,
            # `env_file` and the other settings keys.
            settings = _is_settings(project, info.qualname if info else None)
            config_dict = (
                "SettingsConfigDict(...)` (from `pydantic_settings`)"
                if settings
                else "ConfigDict(...)`"
            )
            yield Report(
                config,
                f"`class Config` in `{node.name}` is Pydantic 1 API: use "
                f"`model_config = {config_dict}{detail}",
            )
    for encoder in encoders:
        yield Report(
            encoder,
            f"`json_encoders` in `{node.name}.model_config` is deprecated in Pydantic 2: use "
            "`@field_serializer` or an `Annotated` `PlainSerializer`",
        )


def _config_keys(config: ast.ClassDef) -> list[str]:
    keys: list[str] = []
    for stmt in config.body:
        targets = (
            stmt.targets
            if isinstance(stmt, ast.Assign)
            else [stmt.target]
            if isinstance(stmt, ast.AnnAssign)
            else []
        )
        keys.extend(t.id for t in targets if isinstance(t, ast.Name))
    return keys


def _json_encoders(value: ast.expr | None) -> list[ast.AST]:
    """The `json_encoders` entries of a `model_config = ConfigDict(...)` (or a dict)."""
    if isinstance(value, ast.Call):
        return [kw for kw in value.keywords if kw.arg == "json_encoders"]
    if isinstance(value, ast.Dict):
        return [k for k in value.keys if k is not None and const_str(k) == "json_encoders"]
    return []


# ------------------------------------------------------------------ FAA107

# Columns a client must never set itself: identity, ownership, privileges, money.
_PRIVILEGED = frozenset(
    {
        "id",
        "is_admin",
        "is_superuser",
        "is_staff",
        "is_active",
        "is_verified",
        "email_verified",
        "role",
        "roles",
        "permissions",
        "owner_id",
        "created_by",
        "created_by_id",
        "tenant_id",
        "hashed_password",
        "password_hash",
        "balance",
        "credits",
    }
)
_DUMPS = frozenset({"model_dump", "dict"})
_ENCODERS = frozenset({"fastapi.encoders.jsonable_encoder"})
_ADMIN_WORDS = frozenset(
    {"admin", "admins", "superuser", "staff", "root", "role", "roles", "permission", "permissions"}
)


@dataclass(frozen=True)
class _Source:
    """Request data poured into an ORM object: which model, and which of its fields."""

    model: str
    fields: frozenset[str] | None  # None: every field, extra ones included


@dataclass
class _MassState:
    bodies: dict[str, list[Route]]  # model qualname -> routes not limited to admins
    # (route id, model qualname) -> the handler's parameters of that model
    params: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    fields: dict[str, frozenset[str]] = field(default_factory=dict)  # `_known_fields`
    # model qualname -> its column names (`_orm_columns`)
    columns: dict[str, set[str]] = field(default_factory=dict)
    # (route id, model qualname) -> field -> line of the first check that refuses it
    guards: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)
    # ids of the nodes of every route handler, admin-only ones included
    handlers: set[int] = field(default_factory=set)


_MASS: ModelCache[_MassState] = ModelCache()


def _admin_only(model: AppModel, route: Route) -> bool:
    for _site, target in walk_dependencies(model.project, model.route_sites(route)):
        if set(_words(target.name)) & _ADMIN_WORDS:
            return True
    return False


def _mass_state(model: AppModel) -> _MassState:
    project = model.project
    st = _MassState({})
    admin: dict[int, bool] = {}
    for route in model.routes:
        handler = route.handler
        st.handlers.add(id(handler.node))
        for param, _ in parameters(handler.node):
            for qualname in named_types(project, handler.module, param.annotation, handler.parent):
                if not _is_v2_model(project, qualname) and not is_pydantic_model(project, qualname):
                    continue
                key = id(route)
                if key not in admin:
                    admin[key] = _admin_only(model, route)
                if admin[key]:
                    continue
                routes = st.bodies.setdefault(qualname, [])
                if not routes or routes[-1] is not route:
                    routes.append(route)
                st.params.setdefault((key, qualname), set()).add(param.arg)
    return st


def _reads_caller(handler: Function, test: ast.expr, caller: set[str]) -> bool:
    """Does `test` read one of the `caller` parameters, directly (`user.is_superuser`,
    `await is_administrator(user)`) or through a local bound to such a value
    (`is_admin = await is_administrator(user)`)?"""
    for sub in walk(test):
        if not isinstance(sub, ast.Name):
            continue
        if sub.id in caller:
            return True
        value = handler.local_values.get(sub.id)
        if value is not None and any(
            isinstance(n, ast.Name) and n.id in caller for n in walk(value)
        ):
            return True
    return False


def _refuses_access(project: Project, handler: Function, raises: list[ast.Raise]) -> bool:
    """Does one of the `raise`s answer 401/403 (`HTTPException(status.HTTP_403_FORBIDDEN)`)?"""
    for node in raises:
        exc = node.exc
        if not isinstance(exc, ast.Call):
            continue
        if project.resolve(handler.module, exc.func, handler) not in HTTP_EXCEPTIONS:
            continue
        status = keyword(exc, "status_code")
        if status is None and exc.args:
            status = exc.args[0]
        if status_code_value(status) in (401, 403):
            return True
    return False


def _guards(project: Project, route: Route, params: set[str]) -> dict[str, int]:
    """The request-model fields the handler refuses itself: an `if` that tests
    `<param>.<field>` and raises (`if not user.is_superuser and upd.is_superuser: raise
    HTTPException(403)`), by field, with the line of the first such check. A check of
    the value alone (`if upd.role not in ROLES: raise HTTPException(422)`) lets anyone
    through with `"admin"`: the test must also read another handler parameter (the
    caller), or the branch must answer 401/403."""
    handler = route.handler
    caller = {param.arg for param, _ in parameters(handler.node)} - params
    out: dict[str, int] = {}
    for node in body_nodes(handler.node):
        if not isinstance(node, ast.If):
            continue
        raises = [s for s in statements(node.body) if isinstance(s, ast.Raise)]
        if not raises or not (
            _reads_caller(handler, node.test, caller) or _refuses_access(project, handler, raises)
        ):
            continue
        for sub in walk(node.test):
            if (
                isinstance(sub, ast.Attribute)
                and isinstance(sub.value, ast.Name)
                and sub.value.id in params
            ):
                out[sub.attr] = min(out.get(sub.attr, node.lineno), node.lineno)
    return out


def _unguarded(
    project: Project,
    st: _MassState,
    model: str,
    fields: set[str],
    write: ast.AST,
    fn: Function | None,
) -> tuple[Route, set[str]] | None:
    """The first route taking `model` that leaves some of `fields` unchecked, and the
    fields left unchecked by any route. A write inside a route handler is reached only
    through that handler's routes, so only they count; a check there counts only above
    the write."""
    routes = st.bodies[model]
    if fn is not None and id(fn.node) in st.handlers:
        routes = [route for route in routes if route.handler.node is fn.node]
    first: Route | None = None
    left: set[str] = set()
    for route in routes:
        key = (id(route), model)
        guards = st.guards.get(key)
        if guards is None:
            guards = st.guards[key] = _guards(project, route, st.params.get(key, set()))
        same_function = fn is not None and fn.node is route.handler.node
        before = getattr(write, "lineno", 0)
        unchecked = {
            f for f in fields if f not in guards or (same_function and guards[f] >= before)
        }
        if unchecked and first is None:
            first = route
        left |= unchecked
    return (first, left) if first is not None else None


def _extra_allowed(project: Project, qualname: str) -> bool:
    for name in project.mro(qualname):
        cls = project.class_(name)
        if cls is None:
            continue
        for stmt in cls.node.body:
            for sub in walk(stmt) if isinstance(stmt, (ast.Assign, ast.ClassDef)) else ():
                if (isinstance(sub, ast.keyword) and sub.arg == "extra") or (
                    isinstance(sub, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "extra" for t in sub.targets)
                ):
                    value = sub.value
                else:
                    continue
                text = const_str(value) or (value.attr if isinstance(value, ast.Attribute) else "")
                if text == "allow":
                    return True
    return False


def _known_fields(project: Project, qualname: str, st: _MassState) -> frozenset[str] | None:
    """The model's fields; None when a base outside the project may add more."""
    for name in project.mro(qualname):
        if project.class_(name) is None and name not in _V2_ROOTS and name != "typing.Generic":
            return None
    found = st.fields.get(qualname)
    if found is None:
        # Only the names: what `_model_facts` says of each field (aliases, secret
        # types...) is not needed here.
        found = st.fields[qualname] = frozenset(
            stmt.target.id
            for name in project.mro(qualname)
            if (cls := project.class_(name)) is not None
            for stmt in cls.node.body
            if isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and _is_field(project, cls, stmt)
        )
    return found


def _source(
    ctx: FileContext, expr: ast.expr, fn: Function | None, st: _MassState, depth: int = 0
) -> _Source | None:
    """What request model `expr` is (an instance) or was dumped from (`.model_dump()`)."""
    project = ctx.project
    if depth > 3:
        return None
    if isinstance(expr, ast.Name) and fn is not None and fn.local_values.get(expr.id) is not None:
        value = fn.local_values[expr.id]
        assert value is not None
        return _source(ctx, value, fn, st, depth + 1)
    if isinstance(expr, ast.Call):
        func = expr.func
        if project.resolve(ctx.module, func, fn) in _ENCODERS and expr.args:
            return _source(ctx, expr.args[0], fn, st, depth + 1)
        if isinstance(func, ast.Attribute) and func.attr in _DUMPS:
            inner = _source(ctx, func.value, fn, st, depth + 1)
            if inner is None or inner.fields is None:
                return inner
            fields = set(inner.fields)
            include = _literal_names(keyword(expr, "include"))
            exclude = _literal_names(keyword(expr, "exclude"))
            if keyword(expr, "include") is not None:
                if include is None:
                    return None
                fields &= include
            if keyword(expr, "exclude") is not None:
                if exclude is None:
                    return None
                fields -= exclude
            return _Source(inner.model, frozenset(fields))
        return None
    inferred = infer_type(project, ctx.module, expr, fn)
    if inferred is None or not is_pydantic_model(project, inferred):
        return None
    inferred = project.canonical(inferred)
    if inferred not in st.bodies:
        return None  # not a model any non-admin request carries
    if _extra_allowed(project, inferred):
        return _Source(inferred, None)
    known = _known_fields(project, inferred, st)
    return _Source(inferred, known) if known is not None else None


def _orm_columns(project: Project, qualname: str) -> set[str]:
    names: set[str] = set()
    for name in project.mro(qualname):
        cls = project.class_(name)
        if cls is None:
            continue
        for stmt in cls.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                names.add(stmt.target.id)
            elif isinstance(stmt, ast.Assign):
                names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    return names


def _explicit_keys(call: ast.Call) -> set[str]:
    """Keys the call sets itself (`Book(**data, owner_id=user.id)`, `update={...}`)."""
    keys = {kw.arg for kw in call.keywords if kw.arg is not None and kw.arg != "update"}
    update = keyword(call, "update")
    if isinstance(update, ast.Dict):
        keys.update(s for s in (const_str(k) for k in update.keys if k is not None) if s)
    return keys


_MASS_METHODS = frozenset({"model_validate", "sqlmodel_update"})


@rule(
    code="FAA107",
    name="mass-assignment",
    summary="An ORM object is built or updated from a whole request model that carries "
    "privileged fields (`is_admin`, `role`, `owner_id`, `id`)",
    severity="warning",
    nodes=(ast.Call,),
    fix_title="Drop the privileged fields from the request model, or set them explicitly",
    cwe=("CWE-915",),
    owasp=("API3:2023", "API6:2023"),
    references=(
        "https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/",
        "https://cheatsheetseries.owasp.org/cheatsheets/Mass_Assignment_Cheat_Sheet.html",
        "https://sqlmodel.tiangolo.com/tutorial/fastapi/update/",
    ),
)
def mass_assignment(node: ast.AST, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds ORM objects built or updated from everything a request model holds:
    `Book(**payload.model_dump())`, `Book.model_validate(payload)` (SQLModel),
    `book.sqlmodel_update(payload.model_dump(exclude_unset=True))`, or a loop
    `for key, value in payload.model_dump().items(): setattr(book, key, value)`, when
    the request model declares a field that is a privileged column of the ORM class
    (`id`, `is_admin`, `is_superuser`, `is_active`, `role`, `permissions`,
    `owner_id`, `tenant_id`, `created_by`, `hashed_password`, `balance`...), or accepts
    extra fields (`extra="allow"`). The request model must be the body (or another
    parameter) of at least one route that is not restricted to administrators.

    ## Why is this bad?
    Every field of the request model becomes a column value: a client that sends
    `"is_admin": true` or `"owner_id": 1` promotes itself or takes over another
    user's object (OWASP API3:2023, Broken Object Property Level Authorization). The
    request model usually starts safe and gains the field later, when someone reuses
    it for an admin screen.

    ## Known problems
    Not reported: fields left out with a literal `exclude=`/`include=`, keys the call
    sets itself (`Book(**data, owner_id=user.id)`, `update={"owner_id": ...}`), and
    request models only accepted by routes whose dependencies name an administrator
    (`get_current_active_superuser`, `require_admin`, `check_permissions`...). Nor is
    a privileged field that every route taking the model refuses itself: its handler
    tests `<param>.<field>` in an `if` whose branch raises (`if not user.is_superuser
    and upd.is_superuser: raise HTTPException(403)`), above the write when the handler
    writes itself; the finding names only the fields some route leaves unchecked (a
    check that logs and goes on does not count). The check must be about the caller:
    its test also reads another handler parameter (`user.is_superuser`, `await
    is_administrator(user)`, or a local bound to one), or its branch answers 401/403;
    a check of the value alone (`if upd.role not in ROLES: raise HTTPException(422)`)
    does not count. A write inside a route handler is judged by that handler's routes
    only; one in a helper (`crud.update_user`) by every route taking the model. A
    request model whose type cannot be inferred is not followed.

    ## Example
    ```python
    class UserUpdate(BaseModel):
        email: EmailStr | None = None
        is_superuser: bool | None = None

    @router.patch("/me")
    def update_me(data: UserUpdate, user: CurrentUser, session: SessionDep) -> UserRead:
        user.sqlmodel_update(data.model_dump(exclude_unset=True))
        ...
    ```

    ## Use instead
    ```python
    class UserUpdateMe(BaseModel):
        email: EmailStr | None = None

    @router.patch("/me")
    def update_me(data: UserUpdateMe, user: CurrentUser, session: SessionDep) -> UserRead:
        user.sqlmodel_update(data.model_dump(exclude_unset=True))
        ...
    ```

    ## Fix safety
    There is no automatic fix: which fields a client may set is a design decision.
    """
    assert isinstance(node, ast.Call)
    func = node.func
    is_setattr = isinstance(func, ast.Name) and func.id == "setattr"
    is_method = isinstance(func, ast.Attribute) and func.attr in _MASS_METHODS
    # Asked of every call: leave at once when none of the three shapes can match (most
    # calls have no keywords, so no generator is made for them).
    keywords = node.keywords
    if not (is_setattr or is_method or (keywords and any(kw.arg is None for kw in keywords))):
        return
    starred = [kw.value for kw in node.keywords if kw.arg is None]
    project = ctx.project
    orm = _orm.state(ctx.model).index
    if not orm.models:
        return
    fn = ctx.function()
    st = _MASS.get(ctx.model, lambda: _mass_state(ctx.model))
    target: str | None = None
    sources: list[ast.expr] = []
    if starred:
        target = project.resolve(ctx.module, func, fn)
        sources = starred
    elif is_method and isinstance(func, ast.Attribute):
        if func.attr == "model_validate":
            target = project.resolve(ctx.module, func.value, fn)
        else:
            target = _orm_target(ctx, func.value, fn, orm)
        sources = node.args[:1]
    elif is_setattr and len(node.args) == 3:
        target = _orm_target(ctx, node.args[0], fn, orm)
        loop = _setattr_loop(ctx, node)
        sources = [loop] if loop is not None else []
    model = orm.models.get(project.canonical(target)) if target else None
    if model is None or not sources:
        return
    columns = st.columns.get(model.qualname)
    if columns is None:
        columns = st.columns[model.qualname] = _orm_columns(project, model.qualname)
    columns = columns & _PRIVILEGED
    if not columns:
        return
    explicit = _explicit_keys(node) if not is_setattr else set()
    for expr in sources:
        source = _source(ctx, expr, fn, st)
        if source is None:
            continue
        exposed = columns if source.fields is None else columns & source.fields
        exposed -= explicit
        found = _unguarded(project, st, source.model, exposed, node, fn) if exposed else None
        if found is None:
            continue
        route, exposed = found
        names = ", ".join(f"`{n}`" for n in sorted(exposed))
        how = "accepts extra fields, so it can set" if source.fields is None else "sets"
        yield Report(
            node,
            f"`{model.name}` is filled from the whole `{last_name(source.model)}`, which "
            f"{how} {names} (sent to `{route.handler.name}`, {_route_label(route)})",
        )
        return


def _orm_target(
    ctx: FileContext, expr: ast.expr, fn: Function | None, orm: _orm.OrmIndex
) -> str | None:
    """The ORM class of an object: its inferred type, or `session.get(Book, id)`."""
    project = ctx.project
    inferred = infer_type(project, ctx.module, expr, fn)
    if inferred is not None and project.canonical(inferred) in orm.models:
        return inferred
    value: ast.expr | None = expr
    if isinstance(expr, ast.Name) and fn is not None:
        value = fn.local_values.get(expr.id)
    if isinstance(value, ast.Await):
        value = value.value
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in ("get", "get_one")
        and value.args
    ):
        return project.resolve(ctx.module, value.args[0], fn)
    return inferred


def _setattr_loop(ctx: FileContext, call: ast.Call) -> ast.expr | None:
    """`for key, value in <source>.items(): setattr(obj, key, value)`: the source."""
    key = call.args[1]
    if not isinstance(key, ast.Name):
        return None
    for ancestor in reversed(ctx.stack):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return None
        if isinstance(ancestor, ast.For) and isinstance(ancestor.target, ast.Tuple):
            names = [e.id for e in ancestor.target.elts if isinstance(e, ast.Name)]
            iterator = ancestor.iter
            if (
                names[:1] == [key.id]
                and isinstance(iterator, ast.Call)
                and isinstance(iterator.func, ast.Attribute)
                and iterator.func.attr == "items"
            ):
                return iterator.func.value
    return None


# ------------------------------------------------------------------ FAA103

# Parameters FastAPI fills itself when typed; by name, an untyped one is left alone.
_SPECIAL_NAMES = frozenset(
    {"request", "response", "background_tasks", "websocket", "security_scopes", "self", "cls"}
)
_DEPENDS_OR_SECURITY = frozenset(
    f"fastapi{module}.{name}"
    for module in ("", ".params", ".param_functions")
    for name in ("Depends", "Security")
)
_PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")


def _dependency_default(project: Project, handler: Function, default: ast.expr | None) -> bool:
    """`db=Depends(get_db)`, or a name bound to one at module level, here or imported
    (airflow's `DepContainer = Depends(_container)` used as `services=DepContainer`)."""
    module: Module = handler.module
    scope: Function | None = handler.parent
    for _ in range(4):
        if isinstance(default, ast.Call):
            return project.resolve(module, default.func, scope) in _DEPENDS_OR_SECURITY
        if not isinstance(default, (ast.Name, ast.Attribute)):
            return False
        found = project.module_value(project.resolve(module, default, scope))
        if found is None:
            return False
        module, default = found
        scope = None
    return False


def _reads_name(fn: Function, name: str) -> bool:
    return any(
        isinstance(node, ast.Name) and node.id == name
        for stmt in fn.node.body
        for node in walk(stmt)
    )


@rule(
    code="FAA103",
    name="untyped-route-parameter",
    summary="A path operation parameter has no type annotation",
    severity="warning",
    scope="project",
    fix_title="Annotate the parameter (`item_id: int`, `q: str | None = None`)",
    references=(
        "https://fastapi.tiangolo.com/tutorial/path-params/#path-parameters-with-types",
        "https://fastapi.tiangolo.com/tutorial/query-params/",
    ),
)
def untyped_route_parameter(ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds parameters of path operation functions that have no type annotation (and are
    not a `Depends()`/`Security()` dependency): `def read_item(item_id, q=None)`.

    ## Why is this bad?
    FastAPI decides what a parameter is, and how it is validated, from its annotation.
    Without one the value is passed through as the raw string of the URL: `limit=10`
    arrives as `"10"` when a client sends it, `item_id` is never checked to be a
    number, and the OpenAPI schema (and every generated client) shows an untyped
    parameter.

    ## Known problems
    Not reported: parameters named `request`, `response`, `background_tasks`,
    `websocket` or `security_scopes` (they only get their special meaning from an
    annotation, but an untyped one is left to the author), `self`/`cls`, `*args` and
    `**kwargs`, dependencies (`db=Depends(get_db)`, or a module-level name bound to
    `Depends(...)`/`Security(...)`, here or imported: `services=DepContainer`),
    Starlette-style `app.route(...)` handlers, routes in test modules, and parameters
    named with a leading `_` that the handler never reads (`def api_not_found(_)` on a
    `/{_:path}` catch-all).

    ## Example
    ```python
    @router.get("/items/{item_id}")
    async def read_item(item_id, q=None, limit=10): ...
    ```

    ## Use instead
    ```python
    @router.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None, limit: int = 10): ...
    ```

    ## Fix safety
    There is no automatic fix: the right type is the author's to choose.
    """
    project = ctx.project
    seen: set[int] = set()
    for route in ctx.model.routes:
        handler = route.handler
        if id(handler.node) in seen or is_test_module(handler.module):
            continue
        node = route.node
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("route", "add_route", "websocket_route", "add_websocket_route")
        ):
            continue
        seen.add(id(handler.node))
        path_names = set(_PATH_PARAM.findall(" ".join([route.path, *route.full_paths])))
        for param, default in parameters(handler.node):
            if param.annotation is not None or param.arg in _SPECIAL_NAMES:
                continue
            if _dependency_default(project, handler, default):
                continue
            if param.arg.startswith("_") and not _reads_name(handler, param.arg):
                continue  # `def api_not_found(_)`: a catch-all whose value is ignored
            kind = "path" if param.arg in path_names else "query"
            yield Report(
                param,
                f"`{param.arg}` of `{handler.name}` has no type annotation: FastAPI passes "
                f"it on as an unvalidated string {kind} parameter",
                module=handler.module,
            )
