"""FAA3xx (authentication and cross-origin access): routes nobody guards, and CORS that
lets any site send credentialed requests."""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise

from fastapi_architect.model.apps import Mount, Route, RouterObj, status_code_value
from fastapi_architect.model.astutil import (
    argument,
    assignment_targets,
    body_nodes,
    const_str,
    dotted,
    keyword,
    last_name,
    parameters,
    statements,
    walk,
    walk_nodes,
    without_docstring,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.calls import passed_arguments
from fastapi_architect.model.dependencies import (
    DepSite,
    list_sites,
    param_sites,
    walk_dependencies,
)
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.pydantic_names import MODEL_BASES
from fastapi_architect.model.types import annotation_type, resolve_callee, unwrap_annotation
from fastapi_architect.review.context import FileContext, ProjectContext
from fastapi_architect.review.index import project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._http import HTTP_CONNECTION, REQUEST, RESPONSE
from fastapi_architect.review.rules._orm import is_test_module
from fastapi_architect.review.rules._webhooks import (
    SDK_DELIVERY_CHECKS,
    SDK_SIGNATURE_PREDICATES,
)
from fastapi_architect.review.rules._worker_apps import internal_only
from fastapi_architect.review.rules.errors import HTTP_EXCEPTIONS

# ------------------------------------------------------------------ FAA301 vocabulary

_MUTATING = ("POST", "PUT", "PATCH", "DELETE")

# Handlers that are public by design, whatever their path: login/logout, sign-up,
# password recovery, e-mail and account confirmation, the OAuth2 token endpoint, and
# inbound webhooks or provider callbacks (those authenticate the *caller* by a
# signature, not by a user dependency). fnmatch patterns on the lower-cased name.
_PUBLIC_HANDLERS = (
    "login*",
    "*_login",
    "signin*",
    "sign_in*",
    "signup*",
    "sign_up*",
    "register*",
    "logout*",
    "log_out*",
    "signout*",
    "sign_out*",
    "*password_reset*",
    "reset_password*",
    "recover_password*",
    "forgot_password*",
    "password_recovery*",
    "verify_email*",
    "confirm_email*",
    "verify_account*",
    "confirm_account*",
    "activate_account*",
    "*token*",
    "refresh*",
    # `POST /verify` with the e-mail token in the body (fastapi-users): the token is
    # the credential.
    "verify",
    "confirm",
    # The second login step (`POST /auths/mfa/verify`): the challenge token issued by
    # the password step is the credential, checked with the code in the body.
    "verify_mfa",
    "*mfa_challenge",
    "verify_2fa",
    "*2fa_challenge",
    "verify_otp",
    "*otp_challenge",
    "verify_totp",
    "*webhook*",
    "*callback",
)
LOGIN_FORMS = frozenset(
    {
        "fastapi.security.OAuth2PasswordRequestForm",
        "fastapi.security.OAuth2PasswordRequestFormStrict",
        "fastapi.security.oauth2.OAuth2PasswordRequestForm",
        "fastapi.security.oauth2.OAuth2PasswordRequestFormStrict",
    }
)
CREDENTIAL_TYPES = frozenset(
    {
        "fastapi.security.HTTPAuthorizationCredentials",
        "fastapi.security.HTTPBasicCredentials",
        "fastapi.security.SecurityScopes",
        "fastapi.security.http.HTTPAuthorizationCredentials",
        "fastapi.security.http.HTTPBasicCredentials",
        "fastapi.security.oauth2.SecurityScopes",
    }
)
_HEADER_PARAMS = frozenset(
    {
        "fastapi.Header",
        "fastapi.Cookie",
        "fastapi.params.Header",
        "fastapi.params.Cookie",
        "fastapi.param_functions.Header",
        "fastapi.param_functions.Cookie",
    }
)

# Name words that say a call (`_AUTH_CALL_WORDS`) or, more loosely, a dependency
# (`_AUTH_WORDS`) authenticates or authorizes. Matched on whole words of the name
# (snake_case and CamelCase split), so `get_author` is not `auth` and `get_session` (the
# database) is not a login session.
_AUTH_CALL_WORDS = frozenset(
    {
        "auth",
        "authn",
        "authz",
        "authenticate",
        "authenticated",
        "authentication",
        "authorize",
        "authorized",
        "authorization",
        "authorise",
        "authorised",
    }
)
_AUTH_WORDS = _AUTH_CALL_WORDS | frozenset(
    {
        "oauth",
        "oauth2",
        "login",
        "jwt",
        "bearer",
        "token",
        "apikey",
        "credential",
        "credentials",
        "permission",
        "permissions",
        "superuser",
        "admin",
        "principal",
        "signature",
        "role",
        "roles",
        "rbac",
        "acl",
    }
)
_AUTH_PAIRS = frozenset(
    {
        ("api", "key"),
        ("logged", "in"),
        ("login", "required"),
        ("verify", "key"),
        ("current", "user"),
        ("current", "active"),
        ("current", "account"),
        ("current", "member"),
        ("current", "identity"),
        ("current", "staff"),
    }
)
_CHECK_VERBS = frozenset(
    {"verify", "validate", "check", "decode", "require", "ensure", "assert", "has", "is"}
)
_CHECKED = frozenset(
    {
        "token",
        "jwt",
        "key",
        "signature",
        "permission",
        "permissions",
        "role",
        "roles",
        "admin",
        "superuser",
        "access",
        "scope",
        "scopes",
        "owner",
        "auth",
        "login",
        "credentials",
        "password",
    }
)
# Header and cookie names that carry credentials.
_CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "apikey",
        "x-token",
        "x-auth-token",
        "x-access-token",
        "access_token",
        "access-token",
    }
)
_CREDENTIAL_PARAM_WORDS = frozenset(
    {"authorization", "token", "apikey", "jwt", "bearer", "secret", "credentials", "session"}
)
_REQUIRES = frozenset({"starlette.authentication.requires"})
_REQUEST_AUTH_ATTRS = frozenset({"user", "auth", "current_user"})
_STATE_AUTH_ATTRS = frozenset(
    {"user", "current_user", "user_id", "claims", "principal", "identity"}
)

_DEV_VALUES = frozenset({"local", "dev", "development", "test", "testing", "debug"})
_PROD_VALUES = frozenset({"prod", "production", "live"})
_DEV_FLAGS = frozenset(
    {
        "debug",
        "is_dev",
        "is_local",
        "is_development",
        "dev_mode",
        "local_dev",
        "testing",
        "is_testing",
        "is_test",
    }
)

_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+")


def _words(name: str) -> list[str]:
    return [w.lower() for part in name.split("_") for w in _WORD_RE.findall(part)]


def _auth_name(name: str) -> bool:
    words = _words(name)
    if any(w in _AUTH_WORDS for w in words):
        return True
    return any(pair in _AUTH_PAIRS for pair in pairwise(words))


def _public_handler(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, p) for p in _PUBLIC_HANDLERS)


# Words of a handler name that say it serves the app's own accounts.
_ACCOUNT_WORDS = frozenset(
    {"login", "logon", "signin", "signup", "logout", "signout", "password", "passwd"}
    | {"email", "account", "registration"}
)
# `register` alone, or with a word that says whose account (`register_user`, not
# `register_worker` of an internal service).
_REGISTERED = frozenset({"user", "users", "account", "me", "new"})
_ACCOUNT_PAIRS = frozenset({("sign", "in"), ("sign", "up"), ("log", "in"), ("log", "out")})


def _account_flow(name: str) -> bool:
    """A public handler named for the app's own accounts (`login`,
    `login_for_access_token`, `signup`, `reset_password`, `verify_email_token`...), not
    for a webhook or a callback (`register_webhook`): the app has accounts to
    authenticate. A name that only mentions a token (pyspur's `store_token`) or a
    refresh (`refresh_cache`) says nothing of them."""
    words = _words(name)
    if {"webhook", "webhooks", "callback"} & set(words):
        return False
    if "register" in words and (words == ["register"] or _REGISTERED & set(words)):
        return True
    return bool(_ACCOUNT_WORDS & set(words)) or any(
        pair in _ACCOUNT_PAIRS for pair in pairwise(words)
    )


def _path_matches(path: str, patterns: Iterable[str]) -> bool:
    candidates = {path, path.rstrip("/") or "/"}
    return any(fnmatch.fnmatchcase(c, p) for c in candidates for p in patterns)


# ------------------------------------------------------------------ FAA301 per-model state


@dataclass
class _AuthState:
    model: AppModel
    dependency_verdicts: dict[str, bool] = field(default_factory=dict)
    function_verdicts: dict[int, bool] = field(default_factory=dict)
    pure_functions: dict[int, bool] = field(default_factory=dict)
    middleware_verdicts: dict[str, bool] = field(default_factory=dict)
    guarded_calls: dict[int, set[int]] = field(default_factory=dict)
    verdicts: dict[int, str] | None = None


def _state(model: AppModel) -> _AuthState:
    return project_index(model, _AuthState)


# ------------------------------------------------------------------ FAA301 heuristics


def _refuses_access(project: Project, fn: Function, node: ast.Raise) -> bool:
    """Does this `raise` refuse access (401/403, or an exception named for it)?"""
    exc = node.exc
    if not isinstance(exc, ast.Call):
        return False
    callee = project.resolve(fn.module, exc.func, fn)
    if callee in HTTP_EXCEPTIONS:
        status = keyword(exc, "status_code")
        if status is None and exc.args:
            status = exc.args[0]
        return status_code_value(status) in (401, 403)
    words = _words(last_name(callee))
    return any(
        w in ("unauthorized", "unauthorised", "forbidden", "unauthenticated", "permission")
        for w in words
    ) or ("not", "authenticated") in pairwise(words)


def credential_param(project: Project, fn: Function) -> bool:
    """A `Header()`/`Cookie()` parameter that carries a credential (`authorization`,
    `x_api_key`, `session_token`), or a parameter typed as security credentials."""
    for param, default in parameters(fn.node):
        base, metadata, meta_module = unwrap_annotation(
            project, fn.module, param.annotation, fn.parent
        )
        if base is not None:
            typ = project.resolve(
                meta_module, base, fn.parent if meta_module is fn.module else None
            )
            if typ in CREDENTIAL_TYPES:
                return True
        markers: list[tuple[Module, ast.expr]] = [(meta_module, m) for m in metadata]
        if default is not None:
            markers.append((fn.module, default))
        for module, marker in markers:
            if not isinstance(marker, ast.Call):
                continue
            if project.resolve(module, marker.func, None) not in _HEADER_PARAMS:
                continue
            alias = const_str(keyword(marker, "alias")) or param.arg
            words = set(_words(alias.replace("-", "_")))
            if (
                words & _CREDENTIAL_PARAM_WORDS
                or {"api", "key"} <= words
                or alias.lower() in ("x_key", "x-key")
            ):
                return True
    return False


def body_authenticates(project: Project, fn: Function, patterns: tuple[str, ...]) -> bool:
    """Does the function check credentials itself: refuse with 401/403, read the
    `Authorization` header, read `request.user`/`request.state.user` set by an auth
    middleware, or call an authentication function? A 403 that keeps a path inside its
    base folder (`if not full.is_relative_to(base): raise HTTPException(403)`) refuses
    a file, not a caller."""
    confinements = {
        id(stmt)
        for node in body_nodes(fn.node)
        if isinstance(node, ast.If) and _confines_path(node.test)
        for stmt in node.body
        if isinstance(stmt, ast.Raise)
    }
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Raise):
            if id(node) not in confinements and _refuses_access(project, fn, node):
                return True
        elif isinstance(node, (ast.Subscript, ast.Compare)) and reads_credential(node):
            return True
        elif isinstance(node, ast.Attribute):
            if (
                node.attr in _STATE_AUTH_ATTRS
                and isinstance(node.value, ast.Attribute)
                and (node.value.attr == "state")
            ):
                return True
            if (
                node.attr in _REQUEST_AUTH_ATTRS
                and isinstance(node.value, ast.Name)
                and (node.value.id in ("request", "req", "websocket", "conn", "connection"))
            ):
                return True
        elif isinstance(node, ast.Call):
            if reads_credential(node):
                return True
            callee = last_name(project.resolve(fn.module, node.func, fn))
            if callee and (
                _auth_call_name(callee) or any(fnmatch.fnmatchcase(callee, p) for p in patterns)
            ):
                return True
    return False


# Calls that make a path absolute and canonical, before it is compared with a base.
_PATH_NORMALIZERS = frozenset({"resolve", "realpath", "abspath", "normpath", "absolute"})


def _confines_path(test: ast.expr) -> bool:
    """`not full.is_relative_to(base)`, `os.path.commonpath([...]) != base`, or
    `not str(full).startswith(str(base.resolve()))` (a prefix test of normalized paths,
    not `token.startswith("Bearer ")`); joined by `and`/`or`, with other tests of the
    path only (`".." in name or not full.is_relative_to(base)`). A test that also
    reads anything else (`owner is None or ...`, `not valid_link(name, sig) or ...`,
    `doc.tenant_id != tenant_id or ...`) may refuse a caller."""
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    if isinstance(test, ast.BoolOp):
        return all(_path_test(value) for value in test.values) and any(
            _confines_path(value) for value in test.values
        )
    names = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in walk(test)
        if isinstance(node, ast.Call)
    }
    if names & {"is_relative_to", "commonpath"}:
        return True
    return "startswith" in names and bool(names & _PATH_NORMALIZERS)


# Predicates of a path or a file name that say nothing of the caller.
_PATH_PREDICATES = frozenset(
    {"startswith", "endswith", "is_symlink", "is_file", "is_dir", "exists", "is_absolute"}
    | {"isabs", "islink", "isfile", "isdir", "match", "is_reserved"}
)


def _path_test(test: ast.expr) -> bool:
    """A test of a path alone: a confinement, `".." in name`, `name.startswith("/")`,
    `target.is_symlink()`."""
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    if _confines_path(test):
        return True
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.In, ast.NotIn))
        and const_str(test.left) in _PATH_FRAGMENTS
    ):
        return True  # `".." in name`, `"/" in group`: a path's characters
    if _reads_identity(test):
        return False  # `user_id not in ALLOWED_IDS`, `"admin" not in role`
    if isinstance(test, ast.Compare):
        return all(isinstance(op, (ast.In, ast.NotIn)) for op in test.ops) and all(
            isinstance(part, (ast.Constant, ast.Name, ast.Attribute))
            for part in (test.left, *test.comparators)
        )
    return (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr in _PATH_PREDICATES
        and all(isinstance(arg, ast.Constant) for arg in test.args)
    )


# Words of a name that hold who the caller is (a name ending in `dir`, `path`... is a
# path: `user_dir`, `session_dir`).
_IDENTITY_WORDS = frozenset(
    {"user", "users", "owner", "role", "roles", "admin", "token", "session", "principal"}
    | {"account", "permission", "permissions", "credentials", "claims", "scopes", "tenant"}
    | {"email", "group", "groups", "client", "ip", "uid"}
)
_PATH_NAME_TAILS = frozenset({"dir", "path", "root", "folder", "file", "filename", "dirname"})
# What a traversal check looks for in a path.
_PATH_FRAGMENTS = frozenset({"..", "/", "\\", "\x00", "~"})


def _reads_identity(test: ast.expr) -> bool:
    """Does the test read who the caller is (`user_id`, `role`, `user.email`)?"""
    for node in walk(test):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if not isinstance(name, str):
            continue
        words = _words(name)
        if not words or words[-1] in _PATH_NAME_TAILS:
            continue
        if words[-1] == "name" and len(words) > 1 and words[-2] in ("file", "dir", "folder"):
            continue  # `file_name`
        if _IDENTITY_WORDS.intersection(words):
            return True
    return False


def _headers_or_cookies(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr in ("headers", "cookies")


def reads_credential(node: ast.AST) -> bool:
    """`request.headers.get("Authorization")`, `request.cookies["access_token"]`,
    `"x-api-key" in request.headers`."""
    key: ast.expr | None = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "get" and _headers_or_cookies(node.func.value) and node.args:
            key = node.args[0]
    elif isinstance(node, ast.Subscript) and _headers_or_cookies(node.value):
        key = node.slice
    elif (
        isinstance(node, ast.Compare)
        and len(node.comparators) == 1
        and isinstance(node.ops[0], (ast.In, ast.NotIn))
        and _headers_or_cookies(node.comparators[0])
    ):
        key = node.left
    name = const_str(key)
    return name is not None and name.lower() in _CREDENTIAL_HEADERS


def _auth_call_name(name: str) -> bool:
    """A call inside a handler that checks credentials: `authenticate(...)`,
    `verify_token(...)`, `check_permissions(...)`, `require_admin(...)`. Stricter than
    dependency names: a handler may well call `create_access_token` or `assign_role`."""
    words = _words(name)
    if any(w in _AUTH_CALL_WORDS for w in words):
        return True
    return any(
        (first in _CHECK_VERBS and second in _CHECKED) or (first, second) in _AUTH_PAIRS
        for first, second in pairwise(words)
    )


def _function_authenticates(state: _AuthState, fn: Function, patterns: tuple[str, ...]) -> bool:
    key = id(fn.node)
    cached = state.function_verdicts.get(key)
    if cached is None:
        project = state.model.project
        cached = credential_param(project, fn) or body_authenticates(project, fn, patterns)
        state.function_verdicts[key] = cached
    return cached


# ------------------------------------------------------------------ FAA301 delegated checks

# Words that name a credential carried in a request body or parameter
# (`challenge_token`, `reset_token`, `api_key`, `client_secret`).
_BODY_CREDENTIAL_WORDS = frozenset(
    {"token", "jwt", "bearer", "secret", "credential", "credentials", "apikey"}
)
_CONSTANT_TIME = frozenset({"hmac.compare_digest", "secrets.compare_digest"})
# Outside packages whose `decode`/`loads`/`verify` checks a signed token.
_TOKEN_LIBRARIES = frozenset({"jwt", "jose", "authlib", "joserfc", "itsdangerous"})
_TOKEN_CHECKS = frozenset({"decode", "loads", "verify", "deserialize", "unsign"})
_FLOW_DEPTH = 3


def _credential_name(name: str) -> bool:
    words = _words(name)
    return bool(set(words) & _BODY_CREDENTIAL_WORDS) or ("api", "key") in pairwise(words)


def _request_credential(handler: Function, expr: ast.expr) -> bool:
    """A credential the request carries: a handler parameter or a field of one named
    for a token or secret (`token`, `form.challenge_token`), also read through
    `SecretStr.get_secret_value()`."""
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get_secret_value"
        and not expr.args
    ):
        expr = expr.func.value
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return expr.value.id in handler.param_names and _credential_name(expr.attr)
    if isinstance(expr, ast.Name):
        return expr.id in handler.param_names and _credential_name(expr.id)
    return False


def _receiving_params(
    callee: Function, call: ast.Call, passes: Callable[[ast.expr], bool]
) -> list[str]:
    """The parameters of `callee` that receive an argument of `call` for which `passes`
    holds."""
    return [name for name, arg in passed_arguments(callee, call).items() if passes(arg)]


def _credential_flow(
    project: Project, fn: Function, param: str, depth: int, seen: set[int]
) -> Iterator[Function]:
    """`fn` and the project functions its parameter `param` is passed on to, a few
    calls deep."""
    if id(fn.node) in seen or depth > _FLOW_DEPTH:
        return
    seen.add(id(fn.node))
    yield fn
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call):
            continue
        callee = project.function(resolve_callee(project, fn.module, node.func, fn))
        if callee is None:
            continue
        for name in _receiving_params(
            callee, node, lambda e: isinstance(e, ast.Name) and e.id == param
        ):
            yield from _credential_flow(project, callee, name, depth + 1, seen)


def _verifies_token(project: Project, fn: Function) -> bool:
    """Does `fn` compare a secret in constant time, or check a signed token
    (`jwt.decode`, itsdangerous `loads`)?"""
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call):
            continue
        callee = resolve_callee(project, fn.module, node.func, fn)
        if callee is None:
            continue
        if project.canonical(callee) in _CONSTANT_TIME:
            return True
        if callee.split(".", 1)[0] in _TOKEN_LIBRARIES and last_name(callee) in _TOKEN_CHECKS:
            return True
    return False


def _delegates_credential_check(project: Project, handler: Function) -> bool:
    """The handler hands a credential from the request (a challenge or reset token in
    the body) to project code that verifies it (a constant-time comparison or a
    signed-token check) and refuses access (401/403) when it does not match: the
    token is the credential, as for the second step of a login."""
    for node in body_nodes(handler.node):
        if not isinstance(node, ast.Call):
            continue
        arguments = [*node.args, *(kw.value for kw in node.keywords)]
        if not any(_request_credential(handler, a) for a in arguments):
            continue
        callee = project.function(resolve_callee(project, handler.module, node.func, handler))
        if callee is None:
            continue
        for param in _receiving_params(callee, node, lambda e: _request_credential(handler, e)):
            chain = list(_credential_flow(project, callee, param, 1, set()))
            refuses = any(
                isinstance(n, ast.Raise) and _refuses_access(project, f, n)
                for f in chain
                for n in body_nodes(f.node)
            )
            if refuses and any(_verifies_token(project, f) for f in chain):
                return True
    return False


# ------------------------------------------------------------------ FAA301 signed deliveries

_HMAC = frozenset({"hmac.new", "hmac.digest", "hmac.HMAC"})
_HELPER_DEPTH = 2


def _reads_any(expr: ast.AST, names: Iterable[str]) -> bool:
    wanted = set(names)
    return any(isinstance(n, ast.Name) and n.id in wanted for n in walk(expr))


def _call_arguments(call: ast.Call) -> list[ast.expr]:
    return [*call.args, *(kw.value for kw in call.keywords)]


def _stored_names(targets: list[ast.expr]) -> list[str]:
    """The names an assignment binds (`a`, `a, b`), not those it only reads
    (`ITEMS[item_id] = body` binds nothing)."""
    return [
        n.id
        for t in targets
        for n in walk(t)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]


def _derived_locals(fn: Function, sources: frozenset[str]) -> frozenset[str]:
    """`sources` and the locals of `fn` assigned from values that read them
    (`body = await request.body()`, `delivery = Delivery(headers=request.headers)`)."""
    assignments: list[tuple[list[str], ast.expr]] = []
    for stmt in statements(fn.node.body):
        value = getattr(stmt, "value", None)
        targets = assignment_targets(stmt)
        if value is not None and targets:
            assignments.append((_stored_names(targets), value))
    found = set(sources)
    changed = True
    while changed:
        changed = False
        for names, value in assignments:
            if not set(names) <= found and _reads_any(value, found):
                found.update(names)
                changed = True
    return frozenset(found)


def _callees(project: Project, fn: Function, call: ast.Call) -> list[Function]:
    """The project functions a call may run: the one it names, or those of a dispatch
    table it looks up (`verifier = _VERIFIERS.get(provider)` then `verifier(...)`)."""
    callee = project.function(resolve_callee(project, fn.module, call.func, fn))
    if callee is not None:
        return [callee]
    if not isinstance(call.func, ast.Name):
        return []
    lookup = fn.local_values.get(call.func.id)
    table: ast.expr | None = None
    if isinstance(lookup, ast.Subscript):
        table = lookup.value
    elif (
        isinstance(lookup, ast.Call)
        and isinstance(lookup.func, ast.Attribute)
        and lookup.func.attr == "get"
    ):
        table = lookup.func.value
    found = None if table is None else project.module_value(project.resolve(fn.module, table, fn))
    if found is None:
        return []
    module, entries = found
    if not isinstance(entries, ast.Dict):
        return []
    targets = (project.function(project.resolve(module, v)) for v in entries.values)
    return [t for t in targets if t is not None]


@dataclass(frozen=True)
class _RequestData:
    """The names of a function that hold request data: any (`request`, a header read
    from it, a dataclass wrapping it), the body or a value made from it, and an HMAC of
    the body (`expected = hmac.new(key, body, sha256).hexdigest()`)."""

    any: frozenset[str]
    body: frozenset[str]
    signed: frozenset[str]


# Reads of the request's body (`await request.body()`, `request.stream()`).
_BODY_READS = frozenset({"body", "stream", "json"})


def _body_read(node: ast.AST, request: frozenset[str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _BODY_READS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in request
    )


def _returns_body(helper: Function, request: frozenset[str]) -> bool:
    """A helper given the request that reads its body and answers something (a reader
    that caps the body's size): what it answers is taken for the body."""
    return any(_body_read(n, request) for n in body_nodes(helper.node)) and any(
        isinstance(n, ast.Return) and n.value is not None for n in body_nodes(helper.node)
    )


def _holds_body(
    project: Project, fn: Function, expr: ast.expr, request: frozenset[str], body: frozenset[str]
) -> bool:
    """Does `expr` hold the request's body: a name derived from it, a read of it, or
    the answer of a project helper that reads it?"""
    if _reads_any(expr, body):
        return True
    for node in walk(expr):
        if _body_read(node, request):
            return True
        if isinstance(node, ast.Call) and any(
            _returns_body(helper, params)
            for helper in _callees(project, fn, node)
            if (params := _receiving(helper, node, request))
        ):
            return True
    return False


def _receiving(callee: Function, call: ast.Call, names: frozenset[str]) -> frozenset[str]:
    """The parameters of `callee` given a value of `call` that reads `names`."""
    if not names:
        return frozenset()
    return frozenset(_receiving_params(callee, call, lambda e: _reads_any(e, names)))


def _data_in(callee: Function, call: ast.Call, data: _RequestData) -> _RequestData:
    """What the parameters of `callee` hold of the request when `call` runs it."""
    return _RequestData(
        _receiving(callee, call, data.any),
        _receiving(callee, call, data.body),
        _receiving(callee, call, data.signed),
    )


def _locals_of(fn: Function, seeds: Callable[[ast.expr], bool]) -> set[str]:
    """The locals of `fn` assigned a value for which `seeds` holds."""
    found: set[str] = set()
    for stmt in statements(fn.node.body):
        value = getattr(stmt, "value", None)
        targets = assignment_targets(stmt)
        if isinstance(value, ast.expr) and targets and seeds(value):
            found.update(_stored_names(targets))
    return found


def _data_of(project: Project, fn: Function, given: _RequestData, depth: int) -> _RequestData:
    """`given` (what the parameters of `fn` hold) extended to the locals of `fn`."""
    request = _derived_locals(fn, given.any)
    body = _derived_locals(
        fn,
        given.body | _locals_of(fn, lambda e: _holds_body(project, fn, e, request, frozenset())),
    )
    partial = _RequestData(request, body, given.signed)
    signed = set(given.signed)
    signed |= _locals_of(fn, lambda e: _signs_body(project, fn, e, partial, depth))
    signed |= _fed_macs(project, fn, request, body)
    return _RequestData(request, body, _derived_locals(fn, frozenset(signed)))


def _hmac_call(project: Project, fn: Function, node: ast.AST) -> ast.Call | None:
    if not isinstance(node, ast.Call):
        return None
    callee = resolve_callee(project, fn.module, node.func, fn)
    return node if callee is not None and project.canonical(callee) in _HMAC else None


def _fed_macs(
    project: Project, fn: Function, request: frozenset[str], body: frozenset[str]
) -> set[str]:
    """The HMAC objects of `fn` fed the body afterwards (`mac = hmac.new(key,
    digestmod=sha256)`, then `mac.update(body)`)."""
    fed: set[str] = set()
    for node in body_nodes(fn.node):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.args
        ):
            continue
        name = node.func.value.id
        made = fn.local_values.get(name)
        if (
            made is not None
            and _hmac_call(project, fn, made) is not None
            and _holds_body(project, fn, node.args[0], request, body)
        ):
            fed.add(name)
    return fed


def _signs_body(
    project: Project, fn: Function, expr: ast.expr, data: _RequestData, depth: int
) -> bool:
    """Does `expr` compute an HMAC whose message is the request's body (also with a
    timestamp prepended), itself or through a project helper that answers one of what
    it is given (`_hmac_hex(secret, body)`)?"""
    for node in walk(expr):
        made = _hmac_call(project, fn, node)
        if made is not None:
            message = argument(made, 1, "msg")
            if message is not None and _holds_body(project, fn, message, data.any, data.body):
                return True
            continue
        if depth <= 0 or not isinstance(node, ast.Call):
            continue
        for helper in _callees(project, fn, node):
            given = _data_in(helper, node, data)
            if not (given.body or given.any):
                continue
            inner = _data_of(project, helper, given, depth - 1)
            if any(
                isinstance(n, ast.Return)
                and n.value is not None
                and _signature(project, helper, n.value, inner, depth - 1)
                for n in body_nodes(helper.node)
            ):
                return True
    return False


def _signature(
    project: Project, fn: Function, expr: ast.expr, data: _RequestData, depth: int
) -> bool:
    """Does `expr` hold an HMAC of the request's body?"""
    return _reads_any(expr, data.signed) or _signs_body(project, fn, expr, data, depth)


def _compares_signature(
    project: Project, fn: Function, call: ast.Call, data: _RequestData, depth: int
) -> bool:
    """Is `call` a constant-time comparison (`hmac.compare_digest`, or a project helper
    that answers one) of an HMAC of the body with other request data (the signature
    header)? A comparison of anything else (a CSRF token, an If-Match ETag) does not
    prove who sent the request."""
    callee = resolve_callee(project, fn.module, call.func, fn)
    if callee is None:
        return False
    operands = _call_arguments(call)
    if project.canonical(callee) in _CONSTANT_TIME:
        return any(
            _signature(project, fn, signed, data, depth)
            and any(_reads_any(other, data.any) for other in operands if other is not signed)
            for signed in operands
        )
    helper = project.function(callee)
    if helper is None or depth <= 0:
        return False
    inner = _data_of(project, helper, _data_in(helper, call, data), depth - 1)
    return any(
        isinstance(n, ast.Return)
        and n.value is not None
        and any(
            isinstance(c, ast.Call) and _compares_signature(project, helper, c, inner, depth - 1)
            for c in walk(n.value)
        )
        for n in body_nodes(helper.node)
    )


def _request_flow(
    project: Project, fn: Function, given: _RequestData, depth: int, seen: set[int]
) -> Iterator[tuple[Function, _RequestData]]:
    """`fn` and the project functions the request data reaches, a few calls deep, each
    with what its names hold of the request (parameters given it, locals derived)."""
    if id(fn.node) in seen or depth > _FLOW_DEPTH:
        return
    seen.add(id(fn.node))
    data = _data_of(project, fn, given, _HELPER_DEPTH)
    yield fn, data
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call) or not any(
            _reads_any(a, data.any) for a in _call_arguments(node)
        ):
            continue
        for callee in _callees(project, fn, node):
            passed = _data_in(callee, node, data)
            if passed.any:
                yield from _request_flow(project, callee, passed, depth + 1, seen)


def _negated(test: ast.expr, call: ast.Call) -> bool:
    """Is `call` under a `not` in the condition (`if not hmac.compare_digest(...)`)?"""
    return any(
        isinstance(n, ast.UnaryOp)
        and isinstance(n.op, ast.Not)
        and any(inner is call for inner in walk(n.operand))
        for n in walk(test)
    )


def _refuses_mismatch(project: Project, fn: Function, data: _RequestData) -> bool:
    """An `if` that compares an HMAC of the body with the request's signature in
    constant time and raises or returns on the branch where they do not match."""
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.If):
            continue
        for call in walk(node.test):
            if not (
                isinstance(call, ast.Call)
                and _compares_signature(project, fn, call, data, _HELPER_DEPTH)
            ):
                continue
            branch = node.body if _negated(node.test, call) else node.orelse
            if any(isinstance(s, (ast.Raise, ast.Return)) for s in statements(branch)):
                return True
    return False


def _verifies_request_signature(project: Project, handler: Function) -> bool:
    """A signed delivery (a provider webhook): the handler, or project code the request's
    body or headers are handed to (also wrapped in a dataclass, or through a dispatch
    table of verifiers), computes an HMAC of the body and compares it with request data
    (the signature header) in constant time, refusing (any raise or early return) when
    they differ. The signature authenticates the caller, whatever the rejection answers
    (some answer 404 on purpose). An HMAC of something else (a CSRF token made from the
    session cookie, an If-Match ETag) proves nothing about who sent the request."""
    sources = frozenset(
        param.arg
        for param, _default, typ in _param_types(project, handler)
        if typ in REQUEST or typ in HTTP_CONNECTION
    )
    if not sources:
        return False
    given = _RequestData(sources, frozenset(), frozenset())
    return any(
        _refuses_mismatch(project, fn, data) or _hands_to_verifier(project, fn, data)
        for fn, data in _request_flow(project, handler, given, 0, set())
    )


def _hands_to_verifier(project: Project, fn: Function, data: _RequestData) -> bool:
    """The request (its body or headers) is handed to a webhook SDK that verifies the
    signature itself: `await slack_handler.handle(request)` (Slack Bolt),
    `stripe.Webhook.construct_event(payload, sig_header, secret)`."""
    gating: set[int] = set()  # the calls (or locals bound to them) an `if` refuses on
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.If) or not any(
            isinstance(s, (ast.Raise, ast.Return))
            for s in (*statements(node.body), *statements(node.orelse))
        ):
            continue
        for part in walk(node.test):
            if isinstance(part, ast.Call):
                gating.add(id(part))
            elif isinstance(part, ast.Name):
                bound = fn.local_values.get(part.id)
                if isinstance(bound, ast.Await):
                    bound = bound.value
                if isinstance(bound, ast.Call):
                    gating.add(id(bound))
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call) or not any(
            _reads_any(a, data.any) for a in _call_arguments(node)
        ):
            continue
        callee = resolve_callee(project, fn.module, node.func, fn)
        if callee in SDK_DELIVERY_CHECKS or (
            callee in SDK_SIGNATURE_PREDICATES and id(node) in gating
        ):
            return True
    return False


def _auth_instance(project: Project, qualname: str | None) -> bool:
    """A module-level instance of an authenticating class from outside the project:
    `manager = LoginManager(SECRET, "/login")` (fastapi-login), `auth = JWTBearer()`."""
    found = project.module_value(qualname)
    if found is None or not isinstance(found[1], ast.Call):
        return False
    return _auth_name(last_name(project.resolve(found[0], found[1].func)))


def _auth_owner(project: Project, function: Function | None, qualname: str | None) -> bool:
    """A bound method or an outside function whose owner says it authenticates:
    `Depends(auth_service.get_user)`, `Depends(auth.current_user)`."""
    if function is not None or not qualname or "." not in qualname:
        return False
    owner = qualname.rsplit(".", 2)[-2]
    return _auth_name(owner)


def _dependencies_authenticate(
    state: _AuthState, sites: list[DepSite], patterns: tuple[str, ...]
) -> bool:
    """Beyond the model's auth chain: a `Security()` anywhere in the dependency tree, or a
    dependency whose name or body says it checks credentials."""
    project = state.model.project
    for site, target in walk_dependencies(project, sites):
        if site.security:
            return True
        key = target.qualname or target.name
        verdict = state.dependency_verdicts.get(key)
        if verdict is None:
            verdict = (
                _auth_name(target.name)
                or _auth_instance(project, target.qualname)
                or _auth_owner(project, target.function, target.qualname)
                or (
                    target.function is not None
                    and _function_authenticates(state, target.function, patterns)
                )
            )
            state.dependency_verdicts[key] = verdict
        if verdict:
            return True
    return False


def _middleware_authenticates(state: _AuthState, app: RouterObj) -> bool:
    """App-wide middleware that checks credentials: by name (the model already does
    that), from `FastAPI(middleware=[Middleware(...)])`, or a project middleware whose
    code reads the `Authorization` header or answers 401."""
    cached = state.middleware_verdicts.get(app.key)
    if cached is not None:
        return cached
    project = state.model.project
    names = [name for name, _node in app.middleware]
    listed = keyword(app.node, "middleware")
    if isinstance(listed, (ast.List, ast.Tuple)):
        for element in listed.elts:
            if isinstance(element, ast.Call) and element.args:
                names.append(project.resolve(app.module, element.args[0], app.scope) or "")
    verdict = False
    for name in names:
        if _auth_name(last_name(name)):
            verdict = True
            break
        functions: list[Function] = []
        fn = project.function(name)
        if fn is not None:
            functions.append(fn)
        elif project.class_(name) is not None:
            for method in ("dispatch", "__call__"):
                found = project.method(name, method)
                if found is not None:
                    functions.append(found)
        if any(body_authenticates(project, f, ()) for f in functions):
            verdict = True
            break
    state.middleware_verdicts[app.key] = verdict
    return verdict


def environment_comparison(test: ast.expr) -> tuple[ast.cmpop, list[str]] | None:
    """`ENV == "prod"`, `settings.environment in ("dev", "test")`: the operator and the
    lower-cased names compared with a variable named like an environment or a mode."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, right, op = test.left, test.comparators[0], test.ops[0]
    if const_str(left) is not None:
        left, right = right, left
    if not isinstance(left, (ast.Name, ast.Attribute)):
        return None
    subject = (left.id if isinstance(left, ast.Name) else left.attr).lower()
    if not any(word in subject for word in ("env", "stage", "mode")):
        return None
    values: list[str] = []
    if isinstance(right, (ast.Tuple, ast.List, ast.Set)):
        values = [v.lower() for v in (const_str(e) for e in right.elts) if v is not None]
    elif const_str(right) is not None:
        values = [str(const_str(right)).lower()]
    return (op, values) if values else None


def dev_only_test(test: ast.expr) -> bool:
    """`settings.ENVIRONMENT == "local"`, `ENV in ("dev", "test")`, `settings.DEBUG`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(dev_only_test(v) for v in test.values)
    if isinstance(test, (ast.Name, ast.Attribute)):
        name = test.id if isinstance(test, ast.Name) else test.attr
        return name.lower() in _DEV_FLAGS
    found = environment_comparison(test)
    if found is None:
        return False
    op, values = found
    if isinstance(op, (ast.Eq, ast.In)):
        return all(v in _DEV_VALUES for v in values)
    if isinstance(op, (ast.NotEq, ast.NotIn)):
        return any(v in _PROD_VALUES for v in values)
    return False


def _guarded_calls(state: _AuthState, module: Module) -> set[int]:
    """Ids of calls that only run in a development environment (inside the body of an
    `if` on the environment), found by walking statements only, not expressions."""
    found = state.guarded_calls.get(id(module))
    if found is not None:
        return found
    found = set()
    todo: list[tuple[ast.stmt, bool]] = [(s, False) for s in module.tree.body]
    while todo:
        stmt, guarded = todo.pop()
        if guarded and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            found.add(id(stmt.value))
        if isinstance(stmt, ast.If):
            inner = guarded or dev_only_test(stmt.test)
            todo.extend((s, inner) for s in stmt.body)
            todo.extend((s, guarded) for s in stmt.orelse)
            continue
        for name in ("body", "orelse", "finalbody"):
            todo.extend((s, guarded) for s in getattr(stmt, name, []) or [])
        for handler in getattr(stmt, "handlers", []) or []:
            todo.extend((s, guarded) for s in handler.body)
    state.guarded_calls[id(module)] = found
    return found


def _dev_only_mount(state: _AuthState, mount: Mount) -> bool:
    """Is one of the `include_router` calls on the way only made in development
    (the full-stack template's `if settings.ENVIRONMENT == "local": ...private.router`)?"""
    for parent, child in pairwise(mount.chain):
        includes = [i for i in parent.includes if i.child is child]
        if includes and all(id(i.node) in _guarded_calls(state, i.module) for i in includes):
            return True
    return False


def _decorated_auth(project: Project, fn: Function) -> bool:
    """`@requires("authenticated")` (Starlette), `@login_required`, `@permission_required(...)`."""
    for decorator in fn.node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = project.resolve(fn.module, target, fn.parent)
        if name in _REQUIRES or _auth_name(last_name(name)):
            return True
    return False


def _unseen_auth_alias(project: Project, fn: Function) -> bool:
    """A parameter typed with an alias we cannot see whose name says it authenticates:
    `current_user: CurrentUser` when `app/api/deps.py` is not among the reviewed files."""
    for param, _default in parameters(fn.node):
        annotation = param.annotation
        if not isinstance(annotation, (ast.Name, ast.Attribute)):
            continue
        name = project.resolve(fn.module, annotation, fn.parent)
        if name is None or project.class_(name) is not None:
            continue
        if project.module_value(name) is None and _auth_name(last_name(name)):
            return True
    return False


# Packages whose calls issue or check the app's own credentials.
_CREDENTIAL_LIBRARIES = _TOKEN_LIBRARIES | frozenset(
    {"passlib", "bcrypt", "argon2", "pwdlib", "fastapi_users", "fastapi_login"}
)
# Words in a called function's name that say it deals with credentials.
_CREDENTIAL_CALL_WORDS = frozenset(
    {"password", "passwd", "token", "jwt", "login", "authenticate", "credentials"}
)


def _handles_credentials(
    state: _AuthState, fn: Function, patterns: tuple[str, ...], depth: int
) -> bool:
    """Does a public handler (or a project function it calls, two calls deep) issue or
    check credentials: take a login form, check them itself, call a token or password
    library or a function named for it (`create_access_token`, `verify_password`), or
    set a cookie? pyspur's `store_token`, which writes a Google token to a file, does
    none of it: its name alone does not show that the app authenticates."""
    project = state.model.project
    if _login_form(project, fn) or _function_authenticates(state, fn, patterns):
        return True
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr == "set_cookie":
            return True
        callee = resolve_callee(project, fn.module, node.func, fn)
        if callee is None:
            continue
        if callee.split(".", 1)[0] in _CREDENTIAL_LIBRARIES:
            return True
        if _CREDENTIAL_CALL_WORDS.intersection(_words(last_name(callee))):
            return True
        helper = project.function(callee)
        if (
            helper is not None
            and depth < 2
            and helper is not fn
            and _handles_credentials(state, helper, patterns, depth + 1)
        ):
            return True
    return False


def _login_form(project: Project, fn: Function) -> bool:
    for param, _default in parameters(fn.node):
        typ = annotation_type(project, fn.module, param.annotation, fn.parent)
        if typ is not None and project.canonical(typ) in LOGIN_FORMS:
            return True
    return False


def _mount_protected(
    ctx: ProjectContext, state: _AuthState, route: Route, mount: Mount, params: list[DepSite]
) -> bool:
    if ctx.model.auth_chain(route, mount, params) is not None:
        return True
    patterns = ctx.config.auth_dependencies
    if _dependencies_authenticate(
        state, [*mount.dependencies, *route.dependencies, *params], patterns
    ):
        return True
    if mount.app is not None and _middleware_authenticates(state, mount.app):
        return True
    if _dev_only_mount(state, mount):
        return True
    named = _named_sites(state, route, mount)
    return bool(named) and (
        ctx.model.auth.first_chain(named) is not None
        or _dependencies_authenticate(state, named, patterns)
    )


def _named_sites(state: _AuthState, route: Route, mount: Mount) -> list[DepSite]:
    """`dependencies=AUTH` where `AUTH = [Depends(get_current_user)]` is a module-level
    constant (or `AUTH + [...]`): the model reads literal lists only."""
    calls: list[tuple[Module, Function | None, ast.expr | None, str]] = []
    if isinstance(route.node, ast.Call):
        calls.append((route.module, None, keyword(route.node, "dependencies"), "decorator"))
    for router in mount.chain:
        calls.append((router.module, router.scope, keyword(router.node, "dependencies"), "router"))
    for parent, child in pairwise(mount.chain):
        for include in parent.includes:
            if include.child is child:
                calls.append(
                    (include.module, None, keyword(include.node, "dependencies"), "include")
                )
    out: list[DepSite] = []
    for module, scope, expr, level in calls:
        if expr is not None and not isinstance(expr, (ast.List, ast.Tuple)):
            out.extend(_sites_of(state.model.project, module, scope, expr, level, 0))
    return out


def _sites_of(
    project: Project,
    module: Module,
    scope: Function | None,
    expr: ast.expr,
    level: str,
    depth: int,
) -> list[DepSite]:
    if depth > 4:
        return []
    if isinstance(expr, (ast.List, ast.Tuple)):
        return list_sites(project, module, expr, scope, level)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return [
            *_sites_of(project, module, scope, expr.left, level, depth + 1),
            *_sites_of(project, module, scope, expr.right, level, depth + 1),
        ]
    if isinstance(expr, (ast.Name, ast.Attribute)):
        found = project.module_value(project.resolve(module, expr, scope))
        if found is not None:
            return _sites_of(project, found[0], None, found[1], level, depth + 1)
    return []


@rule(
    code="FAA301",
    name="route-without-auth",
    summary="A mutating or private route has no authentication dependency on any level",
    severity="error",
    scope="route",
    fix_title="Add an authentication dependency (`CurrentUser`, `Depends(get_current_user)`) "
    "to the route or its router",
    cwe=("CWE-306",),
    owasp=("API2:2023", "API5:2023"),
    references=(
        "https://fastapi.tiangolo.com/tutorial/security/get-current-user/",
        "https://fastapi.tiangolo.com/tutorial/bigger-applications/#dependencies",
    ),
)
def route_without_auth(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds routes that change state (`POST`, `PUT`, `PATCH`, `DELETE`), or whose full path
    matches a configured private path, although nothing on the way authenticates the
    caller. The *effective* dependency set is checked at every place the route is
    mounted: parameter `Depends()`/`Security()` (also through `Annotated` aliases such
    as `CurrentUser`), the decorator's `dependencies=`, `APIRouter(dependencies=)`,
    `include_router(..., dependencies=)`, `FastAPI(dependencies=)` and app-wide
    authentication middleware. A `dependencies=` list is read where the code spells it
    out: a list, a name bound to one, what a function appends to it, or what a project
    function called without arguments returns (`dependencies=get_dependencies()`; with
    arguments, which list it returns depends on them, and none is read). A dependency authenticates when it is a
    `fastapi.security` scheme, depends on one (at any depth, class-based dependencies
    included), matches a configured auth-dependency name, is declared with `Security()`,
    or checks credentials itself (reads the `Authorization` or an API-key header,
    answers 401/403).

    ## Why is this bad?
    An unauthenticated mutating endpoint lets anyone on the network create, change or
    delete data (OWASP API2 Broken Authentication, API5 Broken Function Level
    Authorization). FastAPI applies no authentication by default, and a route added to
    a router that lacks `dependencies=` is silently public; hiding it with
    `include_in_schema=False` does not protect it.

    ## Known problems
    Routes are public by design when their full path matches `public-paths` (health,
    docs, `/token`, `/login/*`, `/signup`, `/auth/*`, webhooks...) or their handler name
    says so: `login*`, `*token*`, `signup*`, `register*`, `refresh*`, `logout*`,
    password reset/recovery, `verify_email*`, the second login step of MFA
    (`verify_mfa`, `*mfa_challenge`, `verify_otp`...), `*webhook*`, `*callback`; a handler
    taking `OAuth2PasswordRequestForm` is a login endpoint. A handler that checks
    credentials itself (answers 401/403, reads the `Authorization` header or
    `request.user`, carries `@requires(...)`/`@login_required`) counts as protected
    (not for a 403 that keeps a requested path inside its base folder, `if not
    full.is_relative_to(base)`: it refuses a file, not a caller), and so does one that
    hands a token from the request (`form.challenge_token`, a
    first-login MFA enrollment step) to project code that checks it (a constant-time
    comparison or a signed-token decode) and answers 401/403 when it does not match.
    So does a signed delivery (a provider webhook under any name): the handler, or
    project code the request's body or headers are handed to (also wrapped in a
    dataclass, or through a module-level dispatch table of verifiers, a few calls
    deep), computes an HMAC of the request body (`hmac.new(key, body, sha256)`, also
    with a timestamp prepended, through a helper, of a body read by a size-capping
    helper, or fed with `mac.update(body)`) and compares that HMAC with other request
    data (the signature header) in constant time (`hmac.compare_digest`, or a helper
    returning it) in an `if` that raises or returns when they differ, whatever the
    rejection answers (some answer 404 on purpose). A comparison nobody refuses on,
    one of data that is not the request's, or one of an HMAC of anything but the
    body (a CSRF token signed from the session cookie, an ETag checked against
    `If-Match`) does not count. A request handed to a webhook SDK that checks the
    signature itself counts too (`await slack_handler.handle(request)` of Slack Bolt,
    `stripe.Webhook.construct_event(body, signature, secret)`, Svix, Standard
    Webhooks; Twilio's `RequestValidator.validate` and Slack's `SignatureVerifier`,
    which only answer, when an `if` on their answer raises or returns).
    Routes included only in a development environment (`if settings.ENVIRONMENT ==
    "local": ...`), websocket routes, routes in test files, and routers not reachable
    from any app found when some `include_router` calls could not be resolved are
    skipped, and so is a no-op handler without dependencies: its body (after the
    docstring) is only `pass`/`...` or returns a constant answer (`return {"success":
    True}`); `return None` and an empty list still count as a stub for real code. So is
    a handler without dependencies that only computes its answer: one that takes no
    client input (no parameter but the `Request`) and answers module constants and
    settings wrapped in responses, pydantic models or dataclasses without an
    `__init__` or validators of their own, the route's `response_model`, or the result
    of project helpers that do the same (an RPC-style API that sends reads as `POST`:
    `POST /api/server/get_info` returning the server version); and one that only
    answers with a `RedirectResponse` built from the request URL and path or query
    values. Any other call (outside code, the database, a helper that writes or is
    outside the reviewed folder), an attribute or item assignment, or a body
    parameter keeps it reported. When
    no route of the project authenticates at all (an internal service behind a
    gateway, or an app that has no authentication yet), only the first unprotected
    route is reported (a public handler shows that the app authenticates: a login,
    sign-up, logout or password reset by its name; one named only for a token, a
    webhook or a callback when it handles credentials, a login form, a token or
    password library, a function named for them, a cookie it sets; pyspur's
    `store_token`, which keeps a Google token in a file, does not); so is it for each app none of whose routes authenticates in a
    project whose other apps do (a separate worker or internal app, created with its
    own `FastAPI()`; a sub-app mounted in an app that authenticates is not separate).
    A handler registered at several paths is reported once, on its first registration.
    Routes served only by an internal worker app are skipped: an app built by a factory
    that only worker processes (`multiprocessing.Process(target=...)`) run with
    `uvicorn.run(app, host="127.0.0.1")`; other local processes are its only clients,
    and the app or proxy in front of them is the boundary that authenticates.

    ## Example
    ```python
    router = APIRouter(prefix="/users")

    @router.delete("/{user_id}")
    def delete_user(user_id: int, session: SessionDep) -> None:
        crud.delete_user(session, user_id)
    ```

    ## Use instead
    ```python
    @router.delete("/{user_id}", dependencies=[Depends(get_current_active_superuser)])
    def delete_user(user_id: int, session: SessionDep) -> None:
        crud.delete_user(session, user_id)
    ```
    or protect the whole router: `APIRouter(prefix="/users", dependencies=[Depends(get_current_user)])`.

    ## Fix safety
    There is no automatic fix: which dependency is right depends on the project.

    ## Options
    `auth-dependencies` (extra names of authentication dependencies), `public-paths`
    (full paths that are public by design), `private-paths` (full paths that need
    authentication for every method, reads included).
    """
    message = _route_verdicts(ctx, _state(ctx.model)).get(id(route))
    if message is not None:
        yield Report(route.node, message, route.module)


@dataclass
class _Unprotected:
    """One handler's unguarded registrations: its routes (first one reports), the
    methods named in the finding, and the mounts where nothing authenticates."""

    routes: list[Route]
    methods: tuple[str, ...]
    mounts: list[Mount]


def _position(route: Route) -> tuple[str, int]:
    return route.module.relpath, getattr(route.node, "lineno", 0)


def _app_key(mount: Mount) -> str | None:
    """The application serving a mount (None for a router no app includes)."""
    return mount.app.key if mount.app is not None else None


def _route_verdicts(ctx: ProjectContext, state: _AuthState) -> dict[int, str]:
    """Every reported route's message (by `id(route)`), computed once per run.

    A handler registered at several paths (`@app.post("/upload")` stacked on
    `@app.post("/api/upload")`) is one finding, on its first registration. An app where
    no route authenticates (a separate internal service, or an app with no
    authentication yet) gets one finding, on its first unguarded handler, not one per
    route; when nothing in the whole project authenticates, one finding says so."""
    if state.verdicts is not None:
        return state.verdicts
    authenticated: set[str | None] = set()  # apps where some route authenticates
    by_handler: dict[int, _Unprotected] = {}
    for route in sorted(ctx.model.routes, key=_position):
        found, shown = _evaluate(ctx, state, route)
        authenticated.update(_app_key(m) for m in shown)
        if found is None or internal_only(ctx.model, route):
            continue
        methods, mounts = found
        merged = by_handler.get(id(route.handler))
        if merged is None:
            by_handler[id(route.handler)] = _Unprotected([route], methods, list(mounts))
        else:
            merged.routes.append(route)
            merged.mounts.extend(mounts)
    any_auth = bool(authenticated)
    verdicts: dict[int, str] = {}
    first_of_app: set[str | None] = set()
    project_reported = False
    for item in by_handler.values():
        first = item.routes[0]
        paths = list(dict.fromkeys(m.path for m in item.mounts))
        more = len(paths) - 1
        where = f" (and {more} more path{'s' if more > 1 else ''})" if more > 0 else ""
        message = (
            f"`{', '.join(item.methods)} {paths[0]}` (`{first.handler.name}`){where} "
            "has no authentication dependency"
        )
        if not any_auth:
            # Nothing in the project authenticates: one finding says it, not one per route.
            if project_reported:
                continue
            project_reported = True
            message += ", and no route in this project has one"
        else:
            apps = {_app_key(m) for m in item.mounts}
            # A router no app includes belongs to the project as a whole.
            if not any(key is None or key in authenticated for key in apps):
                # Served only by apps where no route authenticates: one finding per app.
                if apps <= first_of_app:
                    continue
                first_of_app.update(apps)
                app = next(m.app for m in item.mounts if m.app is not None)
                message += (
                    f", and no route of its app (`{app.name}` in `{app.module.relpath}`) has one"
                )
        verdicts[id(first)] = message
    state.verdicts = verdicts
    return verdicts


def _constant(expr: ast.expr) -> bool:
    """`True`, `"ok"`, `None`, and lists, tuples and dicts of those."""
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return all(_constant(e) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(k is not None and _constant(k) for k in expr.keys) and all(
            _constant(v) for v in expr.values
        )
    return False


def _no_op(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A handler that does nothing: after the docstring, only `pass`/`...`, or a single
    `return` of a constant answer (`return {"success": True}`), like gradio's `/reset`
    kept for old clients. `return None` and `return []` are not: they read as a stub
    standing for code left out, as does an empty container."""
    body = without_docstring(node.body)
    if len(body) != 1:
        return False
    stmt = body[0]
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis
    if not isinstance(stmt, ast.Return) or stmt.value is None:
        return False
    value = stmt.value
    if isinstance(value, ast.Constant):
        return value.value is not None
    if isinstance(value, ast.Dict):
        return bool(value.keys) and _constant(value)
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return bool(value.elts) and _constant(value)
    return False


# ------------------------------------------------------------------ FAA301 answers that change nothing

_RESPONSE_CLASSES = (
    "Response",
    "JSONResponse",
    "HTMLResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "ORJSONResponse",
    "UJSONResponse",
)
_RESPONSES = frozenset(
    f"{package}.{name}"
    for package in ("fastapi.responses", "starlette.responses")
    for name in _RESPONSE_CLASSES
) | {"fastapi.Response"}
_REDIRECTS = frozenset(
    {"fastapi.responses.RedirectResponse", "starlette.responses.RedirectResponse"}
)
_URLS = frozenset({"fastapi.datastructures.URL", "starlette.datastructures.URL"})
_DATA_MODELS = frozenset(
    {
        *MODEL_BASES,
        "pydantic_settings.BaseSettings",
        "pydantic.BaseSettings",
        "typing.NamedTuple",
        "typing.TypedDict",
        "typing_extensions.TypedDict",
        "enum.Enum",
        "enum.IntEnum",
        "enum.StrEnum",
    }
)
_DATACLASSES = frozenset({"dataclasses.dataclass", "pydantic.dataclasses.dataclass"})
# Methods that run project code when a model is built (an `__init__` that may write).
_CONSTRUCTION_HOOKS = frozenset({"__init__", "__post_init__", "__new__", "model_post_init"})
# Decorators that leave a helper's body the only code that runs.
_PLAIN_DECORATORS = frozenset(
    {"functools.cache", "functools.lru_cache", "staticmethod", "classmethod"}
)
_PURE_BUILTINS = frozenset(
    {
        "str",
        "int",
        "float",
        "bool",
        "len",
        "repr",
        "format",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "sorted",
        "min",
        "max",
        "sum",
        "abs",
        "round",
        "any",
        "all",
        "isinstance",
        "typing.cast",
    }
)
# `str` and starlette `URL` methods: those that give text, and the other pure ones.
_TEXT_RESULTS = frozenset(
    {
        "format",
        "join",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "replace",
        "removeprefix",
        "removesuffix",
        "include_query_params",
        "replace_query_params",
        "remove_query_params",
    }
)
_TEXT_METHODS = _TEXT_RESULTS | {"split", "rsplit", "startswith", "endswith", "partition"}
_REQUEST_TYPES = REQUEST | HTTP_CONNECTION | RESPONSE
_REQUEST_MAPPINGS = frozenset({"headers", "query_params", "path_params", "cookies"})
_PLAIN_TYPES = frozenset({"str", "int", "float", "bool", "uuid.UUID"})
_PATH_OR_QUERY = frozenset(
    {
        "fastapi.Path",
        "fastapi.Query",
        "fastapi.params.Path",
        "fastapi.params.Query",
        "fastapi.param_functions.Path",
        "fastapi.param_functions.Query",
    }
)


def _param_types(
    project: Project, fn: Function
) -> list[tuple[ast.arg, ast.expr | None, str | None]]:
    """The function's parameters (a method's `self` left out) with their defaults and
    resolved annotation types."""
    out = []
    params = parameters(fn.node)
    if fn.class_qualname is not None and params:
        params = params[1:]
    for param, default in params:
        out.append(
            (param, default, annotation_type(project, fn.module, param.annotation, fn.parent))
        )
    return out


@dataclass
class _Pure:
    """Does code only compute an answer? Its statements assign locals, branch and
    return; every call builds a response, a data model or a URL, is a pure builtin or
    a `str`/`URL` method, or calls a project helper that is itself pure. Names and
    attributes (module constants, settings, the request's URL) are read freely."""

    state: _AuthState
    # Outside classes the route declares as its answer (`response_model=ServerInfo`).
    models: frozenset[str] = frozenset()

    @property
    def project(self) -> Project:
        return self.state.model.project

    def block(self, fn: Function, body: list[ast.stmt], text: dict[str, bool]) -> bool:
        """`text` maps the locals bound so far to whether they hold a `str` or `URL`."""
        for stmt in body:
            if isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, (ast.Expr, ast.Return)):
                if stmt.value is not None and not self.expr(fn, stmt.value, text):
                    return False
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if len(names) != len(targets):
                    return False  # an attribute or item write
                if stmt.value is None:
                    continue
                if not self.expr(fn, stmt.value, text):
                    return False
                holds = self.text(fn, stmt.value, text)
                for name in names:
                    if isinstance(stmt, ast.AugAssign):
                        text[name] = holds and text.get(name, False)
                    else:
                        text[name] = holds
            elif isinstance(stmt, ast.If):
                if not self.expr(fn, stmt.test, text):
                    return False
                then, other = dict(text), dict(text)
                if not self.block(fn, stmt.body, then) or not self.block(fn, stmt.orelse, other):
                    return False
                text.clear()
                text.update({k: then.get(k, False) and other.get(k, False) for k in then | other})
            else:
                return False
        return True

    def expr(self, fn: Function, expr: ast.expr, text: dict[str, bool]) -> bool:
        for node in walk(expr):
            if isinstance(node, (ast.Lambda, ast.Yield, ast.YieldFrom)):
                return False
            if isinstance(node, ast.Await) and not isinstance(node.value, ast.Call):
                return False
            if isinstance(node, ast.Call) and not self.call(fn, node, text):
                return False
        return True

    def call(self, fn: Function, call: ast.Call, text: dict[str, bool]) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute):
            if func.attr in _TEXT_METHODS and self.text(fn, func.value, text):
                return True
            if func.attr == "url_for" and self.request(fn, func.value):
                return True
            if (
                func.attr == "get"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr in _REQUEST_MAPPINGS
                and self.request(fn, func.value.value)
            ):
                return True
        project = self.project
        callee = resolve_callee(project, fn.module, func, fn)
        if callee is None:
            return False
        if callee in _PURE_BUILTINS:
            return True
        name = project.canonical(callee)
        if name in _RESPONSES or name in _URLS or name in self.models:
            return True
        cls = project.class_(name)
        if cls is not None:
            return self.model_class(cls.qualname)
        target = project.function(name)
        return target is not None and self.function(target)

    def model_class(self, qualname: str) -> bool:
        """A project response class or data model whose construction runs no project
        code (no `__init__`, `__post_init__` or validator of its own)."""
        project = self.project
        mro = project.mro(qualname)
        known = False
        for name in mro:
            if name in _RESPONSES or name in _DATA_MODELS:
                known = True
            cls = project.class_(name)
            if cls is None:
                continue
            if any(
                project.resolve(cls.module, _decorator(d)) in _DATACLASSES
                for d in cls.node.decorator_list
            ):
                known = True
            for method_name, method in cls.methods.items():
                if method_name in _CONSTRUCTION_HOOKS or any(
                    "validator" in last_name(dotted(_decorator(d))).lower()
                    for d in method.node.decorator_list
                ):
                    return False
        return known

    def function(self, fn: Function) -> bool:
        """A project helper that only computes its answer (memoized; a recursive one
        is not)."""
        verdicts = self.state.pure_functions
        key = id(fn.node)
        cached = verdicts.get(key)
        if cached is not None:
            return cached
        verdicts[key] = False
        project = self.project
        verdict = all(
            project.resolve(fn.module, _decorator(d), fn.parent) in _PLAIN_DECORATORS
            for d in fn.node.decorator_list
        ) and _Pure(self.state).block(fn, without_docstring(fn.node.body), {})
        verdicts[key] = verdict
        return verdict

    def text(self, fn: Function, expr: ast.expr, text: dict[str, bool]) -> bool:
        """Does `expr` hold a `str` or a starlette `URL`?"""
        if isinstance(expr, ast.Constant):
            return isinstance(expr.value, str)
        if isinstance(expr, ast.JoinedStr):
            return True
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Mod)):
            return self.text(fn, expr.left, text)
        if isinstance(expr, ast.Name):
            return text.get(expr.id, False)
        if isinstance(expr, ast.Attribute):
            if expr.attr in ("url", "base_url") and self.request(fn, expr.value):
                return True
            return self.text(fn, expr.value, text)  # `url.path`
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute):
                if func.attr == "url_for":
                    return self.request(fn, func.value)
                return func.attr in _TEXT_RESULTS and self.text(fn, func.value, text)
            callee = resolve_callee(self.project, fn.module, func, fn)
            return callee in ("str", "repr", "format") or callee in _URLS
        return False

    def request(self, fn: Function, expr: ast.expr) -> bool:
        """Is `expr` a parameter of `fn` typed as the request?"""
        if not isinstance(expr, ast.Name) or expr.id not in fn.param_names:
            return False
        return any(
            param.arg == expr.id and typ in _REQUEST_TYPES
            for param, _default, typ in _param_types(self.project, fn)
        )


def _decorator(node: ast.expr) -> ast.expr:
    return node.func if isinstance(node, ast.Call) else node


def _answer_models(project: Project, route: Route) -> frozenset[str]:
    """The classes a route declares as its answer: `response_model=`, the handler's
    return annotation, and the classes inside them (`list[ServerInfo]`)."""
    handler = route.handler
    out: set[str] = set()
    sources: list[tuple[Module, ast.expr | None, Function | None]] = [
        (route.module, route.keywords.get("response_model"), None),
        (handler.module, handler.node.returns, handler.parent),
    ]
    for module, annotation, scope in sources:
        if annotation is None:
            continue
        for node in walk(annotation):
            if isinstance(node, (ast.Name, ast.Attribute)):
                name = project.resolve(module, node, scope)
                if name is not None and project.class_(name) is None:
                    out.add(project.canonical(name))
    return frozenset(out)


def _changes_nothing(state: _AuthState, route: Route) -> bool:
    """A handler that only computes its answer (see `_Pure`), and either answers with a
    redirect (from path or query values at most) or takes no client input and
    answers something: module configuration or constants, wrapped in models and
    responses (dstack's RPC-style `POST /api/server/get_info`)."""
    project = state.model.project
    handler = route.handler
    body = without_docstring(handler.node.body)
    if not body or not isinstance(body[-1], ast.Return):
        return False
    if handler.node.args.vararg is not None or handler.node.args.kwarg is not None:
        return False
    pure = _Pure(state, _answer_models(project, route))
    if not pure.block(handler, body, {}):
        return False
    answers = [n.value for n in walk_nodes(list(body)) if isinstance(n, ast.Return)]
    params = _param_types(project, handler)
    if all(isinstance(a, ast.Call) and _redirect(project, handler, a) for a in answers):
        return all(_path_or_query(project, handler, p, d, t) for p, d, t in params)
    if any(a is None or _empty(a) for a in answers):
        return False
    return all(typ in _REQUEST_TYPES for _param, _default, typ in params)


def _redirect(project: Project, fn: Function, call: ast.Call) -> bool:
    name = resolve_callee(project, fn.module, call.func, fn)
    return name is not None and project.is_subclass(project.canonical(name), _REDIRECTS)


def _empty(answer: ast.expr) -> bool:
    if isinstance(answer, ast.Constant):
        return answer.value is None
    if isinstance(answer, ast.Dict):
        return not answer.keys
    if isinstance(answer, (ast.List, ast.Tuple, ast.Set)):
        return not answer.elts
    return False


def _path_or_query(
    project: Project, fn: Function, param: ast.arg, default: ast.expr | None, typ: str | None
) -> bool:
    """A parameter that is the request, or a plain path or query value (not a body)."""
    if typ in _REQUEST_TYPES:
        return True
    if param.annotation is not None and typ not in _PLAIN_TYPES:
        return False
    _base, metadata, meta_module = unwrap_annotation(
        project, fn.module, param.annotation, fn.parent
    )
    markers = [(meta_module, m) for m in metadata if isinstance(m, ast.Call)]
    if isinstance(default, ast.Call):
        markers.append((fn.module, default))
    elif default is not None and not isinstance(default, ast.Constant):
        return False
    return all(
        project.resolve(module, marker.func, fn.parent if module is fn.module else None)
        in _PATH_OR_QUERY
        for module, marker in markers
    )


_Found = tuple[tuple[str, ...], list[Mount]]


def _evaluate(
    ctx: ProjectContext, state: _AuthState, route: Route
) -> tuple[_Found | None, list[Mount]]:
    """The route's problem (the methods to name and its unguarded mounts; None when it
    is fine), and the mounts where it shows that its app authenticates."""
    if route.kind == "websocket" or is_test_module(route.module):
        return None, []
    project = ctx.project
    model = ctx.model
    handler = route.handler
    patterns = ctx.config.auth_dependencies
    if _public_handler(handler.name) or _login_form(project, handler):
        # Public by design, and a sign that the app authenticates: a login, sign-up or
        # logout by its name; a handler named only for a token, a webhook or a callback
        # when it handles credentials (not pyspur's `store_token` of a Google token).
        shows = _account_flow(handler.name) or _handles_credentials(state, handler, patterns, 0)
        return None, route.mounts if shows else []
    if _decorated_auth(project, handler) or _unseen_auth_alias(project, handler):
        return None, route.mounts
    params = param_sites(project, handler)
    if (
        not params
        and not route.dependencies
        and (_no_op(handler.node) or _changes_nothing(state, route))
    ):
        return None, []
    protected = [m for m in route.mounts if _mount_protected(ctx, state, route, m, params)]
    private = ctx.config.private_paths
    mutating = [m for m in route.methods if m in _MUTATING]
    unprotected = [
        m
        for m in route.mounts
        if m not in protected
        and (mutating or (private and _path_matches(m.path, private)))
        and not _path_matches(m.path, ctx.config.public_paths)
        and not (m.app is None and model.unresolved_includes > 0)
    ]
    if not unprotected:
        return None, protected
    if (
        _function_authenticates(state, handler, patterns)
        or _delegates_credential_check(project, handler)
        or _verifies_request_signature(project, handler)
    ):
        return None, route.mounts
    return (tuple(mutating) or route.methods, unprotected), protected


# ------------------------------------------------------------------ FAA306

_CORS = frozenset(
    {
        "fastapi.middleware.cors.CORSMiddleware",
        "starlette.middleware.cors.CORSMiddleware",
    }
)
MIDDLEWARE = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
_SCHEME_PREFIXES = (
    "https?://",
    "http://",
    "https://",
    "(http|https)://",
    "http(s)?://",
    "https*://",
)
_ANY = (".*", ".+", "(.*)", "(.+)")


def _wildcard_regex(pattern: str) -> bool:
    body = pattern.removeprefix("^").removesuffix("$")
    for prefix in _SCHEME_PREFIXES:
        if body.startswith(prefix):
            body = body[len(prefix) :]
            break
    return body in _ANY


def constant_value(ctx: FileContext, expr: ast.expr | None, depth: int = 0) -> ast.expr | None:
    """A literal behind a name: a local or module-level constant (not settings fields,
    which differ per deployment and are not ours to guess)."""
    if expr is None or depth > 4 or not isinstance(expr, ast.Name):
        return expr
    fn = ctx.function()
    if fn is not None and expr.id in fn.local_values:
        return constant_value(ctx, fn.local_values[expr.id], depth + 1)
    found = ctx.project.module_value(ctx.resolve(expr))
    if found is not None and found[0] is ctx.module:
        return constant_value(ctx, found[1], depth + 1)
    if found is not None:
        return found[1] if not isinstance(found[1], ast.Name) else None
    return None


def _wildcard_origins(ctx: FileContext, call: ast.Call) -> str | None:
    origins = constant_value(ctx, keyword(call, "allow_origins"))
    if const_str(origins) == "*":
        return 'allow_origins="*"'
    if isinstance(origins, (ast.List, ast.Tuple, ast.Set)) and any(
        const_str(e) == "*" for e in origins.elts
    ):
        return 'allow_origins=["*"]'
    regex = const_str(constant_value(ctx, keyword(call, "allow_origin_regex")))
    if regex is not None and _wildcard_regex(regex):
        return f"allow_origin_regex={regex!r}"
    return None


def _in_dev_branch(ctx: FileContext) -> bool:
    """Inside the body of `if settings.ENVIRONMENT == "local":` / `if settings.DEBUG:`."""
    return _in_if_body(ctx, dev_only_test)


def _in_configured_wildcard_branch(ctx: FileContext) -> bool:
    """Inside the body of `if "*" in allowed_origins:` / `if settings.CORS_ORIGINS ==
    ["*"]:` (the test, or one of the conditions it joins with `and`; no `not`, no `or`):
    the wildcard written there is the one the deployment configured for the origins."""
    return _in_if_body(
        ctx,
        lambda test: any(
            isinstance(part, ast.Compare) and _origins_wildcard_test(part)
            for part in _conjuncts(test)
        ),
    )


def _in_if_body(ctx: FileContext, holds: Callable[[ast.expr], bool]) -> bool:
    """Is the checked node in the body (not the `else`) of an `if` whose test `holds`?"""
    for parent, child in pairwise(ctx.stack):
        if (
            isinstance(parent, ast.If)
            and any(s is child for s in parent.body)
            and holds(parent.test)
        ):
            return True
    return False


def _conjuncts(test: ast.expr) -> list[ast.expr]:
    """What must all hold for the body to run: `a and b` gives both, anything else itself."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return [part for value in test.values for part in _conjuncts(value)]
    return [test]


def _origins_wildcard_test(node: ast.Compare) -> bool:
    """`"*" in origins`, `settings.CORS_ORIGINS == ["*"]`: a configured value named for
    the origins compared with `"*"`."""
    if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.In, ast.Eq)):
        return False
    sides = [node.left, node.comparators[0]]
    star = [side for side in sides if _is_star(side)]
    configured = [side for side in sides if isinstance(side, (ast.Name, ast.Attribute))]
    if len(star) != 1 or len(configured) != 1:
        return False
    target = configured[0]
    name = target.id if isinstance(target, ast.Name) else target.attr
    return "origin" in name.lower()


def _is_star(expr: ast.expr) -> bool:
    """`"*"` or `["*"]`."""
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)) and len(expr.elts) == 1:
        expr = expr.elts[0]
    return const_str(expr) == "*"


@rule(
    code="FAA306",
    name="cors-wildcard-with-credentials",
    summary="`CORSMiddleware` allows every origin, with credentials",
    severity="error",
    nodes=(ast.Call,),
    fix_title="List the allowed origins explicitly (from settings)",
    cwe=("CWE-942",),
    owasp=("API8:2023",),
    references=(
        "https://fastapi.tiangolo.com/tutorial/cors/",
        "https://www.starlette.io/middleware/#corsmiddleware",
    ),
)
def cors_wildcard_with_credentials(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `CORSMiddleware` configured with `allow_origins=["*"]` (or `"*"`, or a list
    constant holding `"*"`) or an `allow_origin_regex` that matches every origin
    (`".*"`, `"https?://.*"`), through `app.add_middleware(CORSMiddleware, ...)`,
    `Middleware(CORSMiddleware, ...)` in `FastAPI(middleware=[...])` or by wrapping the
    app. With `allow_credentials=True` it is an error; the wildcard alone is reported
    as advice.

    ## Why is this bad?
    Browsers refuse `Access-Control-Allow-Origin: *` on credentialed requests, but
    Starlette's `CORSMiddleware` does not send `*` then: when every origin is allowed
    and the request carries cookies, it **reflects the request's `Origin`**. Any web
    page the user visits can then call the API with the user's cookies and read the
    answers (CWE-942). Without credentials the wildcard is safe for truly public,
    cookie-less APIs, but is usually left over from development.

    ## Known problems
    Origins read from settings (`settings.BACKEND_CORS_ORIGINS`) are not checked: their
    value depends on the deployment. Neither is a wildcard configured only in a
    development branch (`if settings.ENVIRONMENT == "local":`, `if settings.DEBUG:`),
    nor, without credentials, one written in the branch of a test for a configured
    wildcard (the test or a condition it joins with `and`, on a value named for the
    origins: `if allowed_origins and "*" in allowed_origins:`, `if settings.CORS_ORIGINS
    == ["*"]:`): the deployment chose it there. With `allow_credentials=True` it is reported all the same.

    ## Example
    ```python
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    ```

    ## Use instead
    ```python
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.all_cors_origins,  # ["https://app.example.com"]
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    ```

    ## Fix safety
    There is no automatic fix: the allowed origins are the project's to list.
    """
    # Cheap syntactic guard first: only a CORS configuration names these keywords.
    if not node.keywords or not any(
        kw.arg in ("allow_origins", "allow_origin_regex") for kw in node.keywords
    ):
        return
    func = node.func
    wraps = isinstance(func, ast.Attribute) and func.attr == "add_middleware"
    if wraps or ctx.resolve(func) in MIDDLEWARE:
        # `app.add_middleware(CORSMiddleware, ...)` / `Middleware(CORSMiddleware, ...)`
        if not node.args or ctx.resolve(node.args[0]) not in _CORS:
            return
    elif ctx.resolve(func) not in _CORS:  # `app = CORSMiddleware(app, ...)`
        return
    wildcard = _wildcard_origins(ctx, node)
    if wildcard is None or _in_dev_branch(ctx):
        return
    credentials = constant_value(ctx, keyword(node, "allow_credentials"))
    if isinstance(credentials, ast.Constant) and credentials.value is True:
        yield Report(
            node,
            f"`CORSMiddleware` has `{wildcard}` with `allow_credentials=True`: Starlette "
            "reflects any `Origin`, so every site can make credentialed requests",
        )
    elif not _in_configured_wildcard_branch(ctx):  # the deployment asked for every origin
        yield Report(
            node,
            f"`CORSMiddleware` has `{wildcard}`: every site may call this API from a browser",
            severity="info",
        )
