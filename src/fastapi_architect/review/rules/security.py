"""FAA3xx (secrets and credentials): JWT verification, hard-coded secrets, password hashing,
and credentials written to logs."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from fastapi_architect.model.astutil import (
    argument,
    body_nodes,
    const_str,
    dotted,
    keyword,
    last_name,
    parameters,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import ClassInfo, Function, Module, Project
from fastapi_architect.model.types import annotation_type, infer_type, resolve_callee
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.finding import Severity
from fastapi_architect.review.registry import Report, rule

# ===================================================================== shared helpers


@dataclass
class _State:
    """Facts computed once per review (one model at a time) and shared by the rules."""

    model: AppModel
    guards: dict[tuple[int, str], bool] = field(default_factory=dict)
    tests: dict[int, bool] = field(default_factory=dict)
    classes_by_node: dict[int, ClassInfo] | None = None
    class_kinds: dict[str, str] = field(default_factory=dict)
    auth_models: dict[str, bool] = field(default_factory=dict)
    verified_decode: dict[int, bool] = field(default_factory=dict)
    name_uses: dict[tuple[int, str], tuple[frozenset[str], bool]] = field(default_factory=dict)
    hibp: dict[int, bool] = field(default_factory=dict)
    kdf_inputs: dict[tuple[int, str], bool] = field(default_factory=dict)
    scripts: dict[int, bool] = field(default_factory=dict)


_STATE: list[_State] = []


def _state(model: AppModel) -> _State:
    # One review at a time: keep the facts of the current model only.
    if not _STATE or _STATE[0].model is not model:
        _STATE[:] = [_State(model)]
    return _STATE[0]


_GUARDS: dict[str, tuple[str, ...]] = {
    "jwt": ("jwt", "jose", "authlib", "joserfc"),
    "hash": ("hashlib", "passlib", "bcrypt"),
}


def _imports(ctx: FileContext, key: str) -> bool:
    """The cheap per-module guard, memoized because node rules ask it for every call."""
    state = _state(ctx.model)
    slot = (id(ctx.module), key)
    found = state.guards.get(slot)
    if found is None:
        found = ctx.module.imports_anything(*_GUARDS[key])
        state.guards[slot] = found
    return found


def _in_tests(ctx: FileContext) -> bool:
    """Test suites use throwaway keys, decode tokens unverified to inspect them, and print
    fixtures: none of it ships, so these rules stay out of them."""
    state = _state(ctx.model)
    found = state.tests.get(id(ctx.module))
    if found is None:
        parts = ctx.module.relpath.split("/")
        name = parts[-1]
        found = (
            name == "conftest.py"
            or name.startswith("test_")
            or name.endswith("_test.py")
            or any(p in ("tests", "test", "testing") for p in parts[:-1])
        )
        state.tests[id(ctx.module)] = found
    return found


_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+[0-9]*|[0-9]+")


def _words(name: str) -> list[str]:
    """`SECRET_KEY` → [secret, key]; `tokenUrl` → [token, url]; `APIKey` → [api, key]."""
    return [w.lower() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _WORD_RE.findall(part)]


def _keyword_hits(
    words: list[str], keywords: tuple[tuple[str, ...], ...]
) -> Iterator[tuple[list[str], list[str], bool]]:
    """Each occurrence of a keyword in the words: (words before, words after, numbered),
    where `numbered` says the keyword carried a digit suffix (`password2`)."""
    stripped = [w.rstrip("0123456789") for w in words]
    for i in range(len(words)):
        for kw in keywords:
            n = len(kw)
            if tuple(stripped[i : i + n]) == kw:
                numbered = words[i + n - 1] != stripped[i + n - 1]
                yield words[:i], words[i + n :], numbered


def _name_matches(
    name: str,
    keywords: tuple[tuple[str, ...], ...],
    tails: frozenset[str],
    bad_prefixes: frozenset[str],
    allow_numbered: bool = True,
) -> bool:
    """Does the name *denote* one of the keywords? `SECRET_KEY` does, `SECRET_KEY_NAME` and
    `TOKEN_TYPE` do not: every word after the keyword must be in `tails`, no word before it
    in `bad_prefixes`."""
    for prefix, tail, numbered in _keyword_hits(_words(name), keywords):
        if numbered and not allow_numbered:
            continue
        if all(w in tails for w in tail) and not any(w in bad_prefixes for w in prefix):
            return True
    return False


class _Unknown:
    """A value that cannot be known statically."""


_UNKNOWN = _Unknown()
_FIELD_FUNCS = frozenset({"pydantic.Field", "pydantic.fields.Field", "sqlmodel.Field"})


def _evaluate(
    project: Project, module: Module, expr: ast.AST | None, scope: Function | None, depth: int = 0
) -> object:
    """The value an expression has when it is built from literals, constants (also in other
    modules), locals of the function and settings-class defaults; `_UNKNOWN` otherwise.
    Lists come back as lists and dicts as dicts with the keys that are literal strings."""
    if expr is None or depth > 8:
        return _UNKNOWN
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return [
            _UNKNOWN
            if isinstance(e, ast.Starred)
            else _evaluate(project, module, e, scope, depth + 1)
            for e in expr.elts
        ]
    if isinstance(expr, ast.Dict):
        out: dict[str, object] = {}
        for k, v in zip(expr.keys, expr.values, strict=False):
            key = const_str(k)
            if key is not None:
                out[key] = _evaluate(project, module, v, scope, depth + 1)
        return out
    if isinstance(expr, ast.Call):
        if not expr.args and project.resolve(module, expr.func, scope) == "dict":
            return {
                kw.arg: _evaluate(project, module, kw.value, scope, depth + 1)
                for kw in expr.keywords
                if kw.arg
            }
        return _UNKNOWN
    if isinstance(expr, ast.Name):
        fn = scope
        while fn is not None:
            if expr.id in fn.local_values:
                value = fn.local_values[expr.id]
                if value is None:
                    return _UNKNOWN
                return _evaluate(project, fn.module, value, fn, depth + 1)
            if any(p.arg == expr.id for p, _ in parameters(fn.node)):
                return _UNKNOWN
            fn = fn.parent
        found = project.module_value(project.resolve_name(module, expr.id))
        if found is not None:
            return _evaluate(project, found[0], found[1], None, depth + 1)
        return _UNKNOWN
    if isinstance(expr, ast.Attribute):
        found = project.module_value(project.resolve(module, expr, scope))
        if found is not None:
            return _evaluate(project, found[0], found[1], None, depth + 1)
        owner = infer_type(project, module, expr.value, scope)
        default = _class_default(project, owner, expr.attr)
        if default is not None:
            return _evaluate(project, default[0], default[1], None, depth + 1)
    return _UNKNOWN


def _class_default(
    project: Project, class_qualname: str | None, attr: str
) -> tuple[Module, ast.expr] | None:
    """The default of a class attribute (`ALGORITHM: str = "HS256"` on a settings class),
    `Field(default=...)` unwrapped."""
    if class_qualname is None or project.class_(class_qualname) is None:
        return None
    for name in project.mro(class_qualname):
        info = project.class_(name)
        if info is None:
            continue
        for stmt in info.node.body:
            target: ast.expr | None = None
            if isinstance(stmt, ast.AnnAssign):
                target = stmt.target
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            if not (isinstance(target, ast.Name) and target.id == attr) or value is None:
                continue
            if (
                isinstance(value, ast.Call)
                and project.resolve(info.module, value.func) in _FIELD_FUNCS
            ):
                inner = argument(value, 0, "default")
                return (info.module, inner) if inner is not None else None
            return info.module, value
    return None


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _has_kwargs(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _show(expr: ast.AST) -> str:
    text = dotted(expr)
    if text is not None:
        return text
    try:
        text = ast.unparse(expr)
    except Exception:  # pragma: no cover - unparse handles every parsed node
        return "value"
    return text if len(text) <= 60 else text[:57] + "..."


# ===================================================================== JWT libraries


@dataclass(frozen=True)
class _JwtCall:
    library: str  # "pyjwt" | "jose" | "authlib" | "joserfc"
    op: str  # "decode" | "encode" | "claims" | "header"
    instance: bool = False  # authlib `JsonWebToken(...)` instance: algorithms fixed at creation


_JWT_OPS = {
    "decode": "decode",
    "decode_complete": "decode",
    "encode": "encode",
    "get_unverified_claims": "claims",
    "get_unverified_header": "header",
    "get_unverified_headers": "header",
}
_PYJWT_OWNERS = frozenset(
    {
        "jwt",
        "jwt.api_jwt",
        "jwt.api_jws",
        "jwt.PyJWT",
        "jwt.PyJWS",
        "jwt.api_jwt.PyJWT",
        "jwt.api_jws.PyJWS",
    }
)
_AUTHLIB_DEFAULT = frozenset({"authlib.jose.jwt", "authlib.jose.rfc7519.jwt"})
_AUTHLIB_INSTANCE = frozenset(
    {
        "authlib.jose.JsonWebToken",
        "authlib.jose.rfc7519.JsonWebToken",
        "authlib.jose.jwt.JsonWebToken",
    }
)


def _classify_jwt(name: str) -> _JwtCall | None:
    owner, _, func = name.rpartition(".")
    op = _JWT_OPS.get(func)
    if op is None:
        return None
    if owner in ("jose.jwt", "jose.jws"):
        return _JwtCall("jose", op)
    if owner in _PYJWT_OWNERS:
        return _JwtCall("pyjwt", op)
    if owner in _AUTHLIB_DEFAULT:
        return _JwtCall("authlib", op)
    if owner in _AUTHLIB_INSTANCE:
        return _JwtCall("authlib", op, instance=True)
    if owner == "joserfc.jwt":
        return _JwtCall("joserfc", op)
    return None


def _jwt_call(ctx: FileContext, call: ast.Call) -> _JwtCall | None:
    short = _call_name(call)
    if isinstance(call.func, ast.Name) and short is not None:
        # `from jose.jwt import decode as jose_decode`
        short = last_name(ctx.module.imports.get(short, short))
    if short not in _JWT_OPS or not _imports(ctx, "jwt"):
        return None
    return _jwt_of(ctx.project, ctx.module, call, ctx.function())


def _jwt_of(
    project: Project, module: Module, call: ast.Call, scope: Function | None
) -> _JwtCall | None:
    name = resolve_callee(project, module, call.func, scope)
    # A project module or wrapper that happens to be called `jwt` is not the library.
    if name is None or project.function(name) is not None:
        return None
    return _classify_jwt(name)


def _display(call: ast.Call) -> str:
    return _show(call.func)


_HMAC_ALG = re.compile(r"^HS\d+$", re.IGNORECASE)
_ASYMMETRIC_ALG = re.compile(r"^(?:RS|PS|ES)\d+K?$|^EdDSA$|^Ed(?:25519|448)$", re.IGNORECASE)
_CHECKED_CLAIMS = ("verify_signature", "verify_exp", "verify_aud")
# Claims a caller may read from an unverified token only to find how to verify it
# (which issuer's keys, which key), or to schedule a refresh.
_PEEK_KEYS = frozenset({"iss", "kid", "tid", "alg", "typ", "exp", "iat", "nbf"})
_HEADER_KEY_SOURCES = frozenset({"jku", "x5u", "jwk", "x5c"})
_WEAKER_EFFECT = {"verify_exp": "expired tokens", "verify_aud": "tokens for other audiences"}


def _options(
    project: Project, module: Module, call: ast.Call, scope: Function | None
) -> tuple[list[str], ast.expr | None]:
    """The claim checks a decode call switches off through `options=` (a literal dict, a
    `dict(...)` call, or a variable/constant bound to one)."""
    expr = keyword(call, "options")
    if expr is None and len(call.args) > 3:
        expr = call.args[3]
    if expr is None:
        return [], None
    value = _evaluate(project, module, expr, scope)
    if not isinstance(value, dict):
        return [], expr
    disabled = [k for k in _CHECKED_CLAIMS if value.get(k) is False]
    required = value.get("require")
    if isinstance(required, (list, tuple)) and "exp" in required and "verify_exp" in disabled:
        # `"require": ["exp"]` with `verify_exp` off: the code checks the expiry itself
        # (against an injected clock, with its own skew), it does not skip it.
        disabled.remove("verify_exp")
    return disabled, expr


def _signature_off(
    project: Project, module: Module, call: ast.Call, scope: Function | None
) -> bool:
    disabled, _ = _options(project, module, call, scope)
    if "verify_signature" in disabled:
        return True
    # PyJWT 1.x: `jwt.decode(token, verify=False)`.
    verify = keyword(call, "verify")
    return verify is not None and _evaluate(project, module, verify, scope) is False


def _algorithms_expr(call: ast.Call, jc: _JwtCall) -> ast.expr | None:
    if jc.op == "encode":
        return argument(call, 2, "algorithm")
    return argument(call, 2, "algorithms")


# ===================================================================== FAA302


def _header_source(ctx: FileContext, expr: ast.AST, depth: int = 0) -> bool:
    """Is this the unverified header of a token (`jwt.get_unverified_header(token)`, or a
    local bound to it)?"""
    if depth > 4:
        return False
    if isinstance(expr, ast.Call):
        jc = _jwt_call(ctx, expr)
        return jc is not None and jc.op == "header"
    if isinstance(expr, ast.Name):
        fn = ctx.function()
        value = fn.local_values.get(expr.id) if fn is not None else None
        return value is not None and _header_source(ctx, value, depth + 1)
    return False


def _alg_from_header(ctx: FileContext, expr: ast.AST, depth: int = 0) -> bool:
    """Does the `algorithms` value come from the token's own `alg` header?"""
    if depth > 4:
        return False
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return any(_alg_from_header(ctx, e, depth + 1) for e in expr.elts)
    if isinstance(expr, ast.Subscript) and const_str(expr.slice) == "alg":
        return _header_source(ctx, expr.value)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and expr.args
        and const_str(expr.args[0]) == "alg"
    ):
        return _header_source(ctx, expr.func.value)
    if isinstance(expr, ast.Name):
        fn = ctx.function()
        value = fn.local_values.get(expr.id) if fn is not None else None
        return value is not None and _alg_from_header(ctx, value, depth + 1)
    return False


def _mixed(algorithms: list[str]) -> tuple[str, str] | None:
    hmac = next((a for a in algorithms if _HMAC_ALG.match(a)), None)
    asym = next((a for a in algorithms if _ASYMMETRIC_ALG.match(a)), None)
    return (hmac, asym) if hmac and asym else None


_ALLOWLIST_CONSTRUCTORS = frozenset(
    {
        "authlib.jose.JsonWebToken",
        "authlib.jose.rfc7519.JsonWebToken",
        "joserfc.jws.JWSRegistry",
        "joserfc.jwt.JWSRegistry",
    }
)


@rule(
    code="FAA302",
    name="jwt-algorithms-not-pinned",
    summary="A JWT is decoded without a pinned list of algorithms, or with one the token "
    "itself chooses",
    severity="error",
    nodes=(ast.Call,),
    fix_title='Pass `algorithms=["HS256"]` (one family, from configuration)',
    cwe=("CWE-347",),
    owasp=("API2:2023",),
    references=(
        "https://fastapi.tiangolo.com/tutorial/security/oauth2-jwt/",
        "https://pyjwt.readthedocs.io/en/stable/algorithms.html",
    ),
)
def jwt_algorithms_not_pinned(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds JWT decoding that lets the token pick its own verification algorithm:
    - `jwt.decode(token, key)` without `algorithms=` with python-jose (`from jose import
      jwt`), PyJWT (`import jwt`) or joserfc, and the default Authlib instance
      (`authlib.jose.jwt.decode`), whose allowed algorithms are all registered ones;
    - `algorithms=` taken from the token's unverified header
      (`[jwt.get_unverified_header(token)["alg"]]`);
    - an allow-list that mixes HMAC (`HS256`) with RSA/EC (`RS256`, `ES256`) algorithms,
      in `jwt.decode`, Authlib's `JsonWebToken([...])` or joserfc's `JWSRegistry`.

    `algorithms=[settings.ALGORITHM]` with `ALGORITHM = "HS256"` (a constant, settings
    field or any value that does not come from the token) counts as pinned.

    ## Why is this bad?
    The `alg` header is written by whoever made the token. If the verifier accepts the
    algorithm the token names, an attacker who knows the RSA *public* key signs a token
    with `HS256` using that public key as the HMAC secret, and the server accepts it
    (algorithm confusion: CVE-2024-33663 in python-jose, CVE-2022-29217 in PyJWT,
    CVE-2024-37568 in Authlib). Mixing HMAC and RSA/EC algorithms in one allow-list
    reopens the same hole.

    With PyJWT 2.x a call without `algorithms=` raises `DecodeError` on every request,
    so the dependency fails for every user: a crash rather than a vulnerability, but
    reported here too (PyJWT 1.x accepted any algorithm).

    ## Known problems
    python-jose is barely maintained (releases stalled for years, key-confusion fixes
    came late); the FastAPI docs moved to PyJWT. Prefer PyJWT or joserfc for new code.
    A joserfc call without `algorithms=` is reported as `info` and Authlib's default
    instance as `warning`: both check key types (Authlib since 1.3.1), so pinning is
    defense in depth there.

    ## Example
    ```python
    from jose import jwt

    def decode_token(token: str) -> dict[str, Any]:
        return jwt.decode(token, settings.SECRET_KEY)
    ```

    ## Use instead
    ```python
    import jwt

    def decode_token(token: str) -> dict[str, Any]:
        return jwt.decode(token, settings.SECRET_KEY, algorithms=[settings.ALGORITHM])
    ```

    ## Fix safety
    No automatic fix: the right algorithm depends on how tokens are issued.
    """
    jc = _jwt_call(ctx, node)
    if jc is None:
        yield from _mixed_allowlist(node, ctx)
        return
    if _in_tests(ctx):
        return
    if jc.op != "decode" or _signature_off(ctx.project, ctx.module, node, ctx.function()):
        return  # an unverified decode is FAA303's finding
    shown = _display(node)
    if jc.library == "authlib":
        if not jc.instance:
            yield Report(
                node,
                f"`{shown}` (Authlib's default instance) accepts every registered algorithm: "
                "the token header chooses",
                severity="warning",
            )
        return
    algorithms = _algorithms_expr(node, jc)
    if algorithms is None:
        if _has_kwargs(node):
            return
        if jc.library == "pyjwt":
            message = (
                f"`{shown}` is called without `algorithms=`: PyJWT ≥2 raises `DecodeError` "
                "on every call (PyJWT 1.x let the token header choose)"
            )
            yield Report(node, message)
        elif jc.library == "jose":
            yield Report(
                node,
                f"`{shown}` (python-jose) is called without `algorithms=`: the token header "
                "chooses the algorithm",
            )
        else:
            yield Report(
                node,
                f"`{shown}` (joserfc) is called without `algorithms=`: any recommended "
                "algorithm the header names is accepted",
                severity="info",
            )
        return
    if _alg_from_header(ctx, algorithms):
        yield Report(
            node,
            f"`{shown}` takes `algorithms` from the token's unverified header: the attacker "
            "chooses the algorithm",
        )
        return
    mixed = _mixed(_strings(_evaluate(ctx.project, ctx.module, algorithms, ctx.function())))
    if mixed is not None:
        yield Report(
            node,
            f"`{shown}` allows both `{mixed[0]}` and `{mixed[1]}`: mixing HMAC and RSA/EC "
            "algorithms enables key confusion",
        )


def _mixed_allowlist(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    if _call_name(node) not in ("JsonWebToken", "JWSRegistry") or not _imports(ctx, "jwt"):
        return
    if _in_tests(ctx):
        return
    name = ctx.resolve(node.func)
    if name not in _ALLOWLIST_CONSTRUCTORS:
        return
    expr = argument(node, 0, "algorithms")
    mixed = _mixed(_strings(_evaluate(ctx.project, ctx.module, expr, ctx.function())))
    if mixed is not None:
        yield Report(
            node,
            f"`{last_name(name)}` allows both `{mixed[0]}` and `{mixed[1]}`: mixing HMAC and "
            "RSA/EC algorithms enables key confusion",
        )


# ===================================================================== FAA303


def _has_verified_decode(ctx: FileContext, fn: Function) -> bool:
    """Does the function also verify a token properly? Then an unverified decode in it is
    a peek (read `iss`/`kid` to find the key), not the trust decision."""
    state = _state(ctx.model)
    found = state.verified_decode.get(id(fn.node))
    if found is None:
        found = False
        for sub in body_nodes(fn.node):
            if not isinstance(sub, ast.Call) or _call_name(sub) not in (
                "decode",
                "decode_complete",
            ):
                continue
            jc = _jwt_of(ctx.project, fn.module, sub, fn)
            if (
                jc is not None
                and jc.op == "decode"
                and not _signature_off(ctx.project, fn.module, sub, fn)
            ):
                found = True
                break
        state.verified_decode[id(fn.node)] = found
    return found


def _keyed(expr: ast.AST) -> tuple[str, ast.expr] | None:
    """`x["kid"]` / `x.get("kid")` → ("kid", x)."""
    if isinstance(expr, ast.Subscript):
        key = const_str(expr.slice)
        return (key, expr.value) if key is not None else None
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and expr.args
    ):
        key = const_str(expr.args[0])
        return (key, expr.func.value) if key is not None else None
    return None


def _uses(ctx: FileContext, fn: Function, name: str) -> tuple[frozenset[str], bool]:
    """How a local is read in a function: the literal keys it is indexed with, and whether
    it is used any other way (returned, passed on, iterated...)."""
    state = _state(ctx.model)
    slot = (id(fn.node), name)
    cached = state.name_uses.get(slot)
    if cached is not None:
        return cached
    keys: set[str] = set()
    keyed: set[int] = set()
    loads: list[ast.Name] = []
    for sub in body_nodes(fn.node):
        found = _keyed(sub)
        if found is not None and isinstance(found[1], ast.Name) and found[1].id == name:
            keys.add(found[0])
            keyed.add(id(found[1]))
        elif isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, ast.Load):
            loads.append(sub)
    result = (frozenset(keys), any(id(n) not in keyed for n in loads))
    state.name_uses[slot] = result
    return result


def _assigned_name(ctx: FileContext, node: ast.AST) -> str | None:
    parent = ctx.parent()
    if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1:
        target = parent.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if (
        isinstance(parent, ast.AnnAssign)
        and parent.value is node
        and isinstance(parent.target, ast.Name)
    ):
        return parent.target.id
    return None


def _direct_key(ctx: FileContext, node: ast.Call) -> tuple[bool, str | None]:
    """Is the call's result indexed right away (`f(t)["iss"]`, `f(t).get("iss")`), and
    with which literal key?"""
    parent = ctx.parent()
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return True, const_str(parent.slice)
    if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == "get":
        grand = ctx.stack[-2] if len(ctx.stack) > 1 else None
        found = _keyed(grand) if grand is not None else None
        return True, found[0] if found is not None else None
    return False, None


def _read_keys(ctx: FileContext, node: ast.Call) -> frozenset[str] | None:
    """The literal keys read from the call's result, directly or through the local it is
    assigned to; None when the result is used some other way."""
    direct, key = _direct_key(ctx, node)
    if direct:
        return frozenset({key}) if key is not None else None
    fn = ctx.function()
    name = _assigned_name(ctx, node)
    if fn is None or name is None:
        return None
    keys, other = _uses(ctx, fn, name)
    return None if other else keys


def _is_peek(ctx: FileContext, node: ast.Call) -> bool:
    """Unverified claims that only serve to find how to verify the token."""
    fn = ctx.function()
    if fn is None:
        return False
    if _has_verified_decode(ctx, fn):
        return True
    keys = _read_keys(ctx, node)
    return keys is not None and keys <= _PEEK_KEYS


def _header_key_use(ctx: FileContext, node: ast.Call) -> str | None:
    """A key *location* taken from the unverified header (`jku`, `x5u`, `jwk`, `x5c`)."""
    direct, key = _direct_key(ctx, node)
    if direct:
        return key if key in _HEADER_KEY_SOURCES else None
    fn = ctx.function()
    name = _assigned_name(ctx, node)
    if fn is None or name is None:
        return None
    keys, _ = _uses(ctx, fn, name)
    found = sorted(keys & _HEADER_KEY_SOURCES)
    return found[0] if found else None


@rule(
    code="FAA303",
    name="jwt-verification-disabled",
    summary="A JWT is accepted without verifying its signature, expiry or audience",
    severity="error",
    nodes=(ast.Call,),
    fix_title="Verify the signature: remove `verify_signature: False` and pass the key and "
    "`algorithms=`",
    cwe=("CWE-347", "CWE-345"),
    owasp=("API2:2023",),
    references=(
        "https://fastapi.tiangolo.com/tutorial/security/oauth2-jwt/",
        "https://pyjwt.readthedocs.io/en/stable/usage.html#reading-the-claimset-without-validation",
    ),
)
def jwt_verification_disabled(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds JWTs that are trusted without verification:
    - `jwt.decode(..., options={"verify_signature": False})` (PyJWT, python-jose), also
      when the options dict is bound to a variable or constant first, and PyJWT 1.x
      `jwt.decode(token, verify=False)`;
    - python-jose `jwt.get_unverified_claims(token)` whose claims are used;
    - `options` that switch off `verify_exp` or `verify_aud` (reported as `warning`);
    - `algorithms=["none"]` when decoding, `algorithm="none"` when encoding;
    - a key location (`jku`, `x5u`, `jwk`, `x5c`) read from `get_unverified_header`.

    An unverified read is not reported when it is only a *peek*: the same function also
    decodes the token with verification (multi-issuer setups read `iss` first to pick the
    keys), or only `iss`/`kid`/`tid`/`alg`/`typ`/`exp`/`iat`/`nbf` are read from it.
    Reading `kid` from `get_unverified_header` to look a key up in a JWKS is the normal
    pattern and is not reported.

    ## Why is this bad?
    Without signature verification anyone can write a token with `"sub": "admin"` and the
    API believes it. Disabling the expiry check keeps stolen tokens valid forever;
    disabling the audience check accepts tokens issued for another service.

    ## Known problems
    Claims read unverified because an API gateway already verified the token are
    reported: the trust assumption deserves a `# noqa: FAA303` with the reason. Options
    built up key by key (`opts["verify_exp"] = False`) are not followed. `verify_exp`
    switched off while `"require"` lists `"exp"` is not reported: the expiry is checked
    by hand (an injected clock, a custom skew).

    ## Example
    ```python
    def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
        payload = jwt.decode(token, options={"verify_signature": False})
        return get_user(payload["sub"])
    ```

    ## Use instead
    ```python
        payload = jwt.decode(token, settings.SECRET_KEY, algorithms=[settings.ALGORITHM])
    ```

    ## Fix safety
    No automatic fix.
    """
    jc = _jwt_call(ctx, node)
    if jc is None or _in_tests(ctx):
        return
    shown = _display(node)
    if jc.op == "encode":
        algorithm = _evaluate(ctx.project, ctx.module, _algorithms_expr(node, jc), ctx.function())
        if isinstance(algorithm, str) and algorithm.lower() == "none":
            yield Report(
                node, f'`{shown}` signs with `algorithm="none"`: the token has no signature'
            )
        return
    if jc.op == "header":
        key = _header_key_use(ctx, node)
        if key is not None:
            yield Report(
                node,
                f"`{key}` is read from the unverified token header: the token chooses the key "
                "that verifies it",
            )
        return
    if jc.op == "claims":
        if not _is_peek(ctx, node):
            yield Report(node, f"`{shown}` returns claims without verifying the signature")
        return
    # decode
    algorithms = _algorithms_expr(node, jc)
    values = _strings(_evaluate(ctx.project, ctx.module, algorithms, ctx.function()))
    if any(v.lower() == "none" for v in values):
        yield Report(node, f'`{shown}` accepts `algorithms=["none"]`: unsigned tokens pass')
        return
    disabled, options = _options(ctx.project, ctx.module, node, ctx.function())
    source = (
        f" (options from `{_show(options)}`)"
        if isinstance(options, (ast.Name, ast.Attribute))
        else ""
    )
    if _signature_off(ctx.project, ctx.module, node, ctx.function()):
        if not _is_peek(ctx, node):
            how = (
                "`verify_signature: False`" if "verify_signature" in disabled else "`verify=False`"
            )
            yield Report(
                node,
                f"`{shown}` runs with {how}{source}: the claims are trusted without a "
                "signature check",
            )
        return
    weaker = [k for k in disabled if k != "verify_signature"]
    if weaker:
        checks = ", ".join(f"`{k}`" for k in weaker)
        effects = [_WEAKER_EFFECT[k] for k in weaker]
        yield Report(
            node,
            f"`{shown}` switches off {checks}{source}: {' and '.join(effects)} are accepted",
            severity="warning",
        )


# ===================================================================== FAA304

_SECRET_KEYWORDS: tuple[tuple[str, ...], ...] = (
    ("secret",),
    ("password",),
    ("passwd",),
    ("pwd",),
    ("passphrase",),
    ("pass",),
    ("token",),
    ("api", "key"),
    ("apikey",),
    ("private", "key"),
    ("signing", "key"),
    ("encryption", "key"),
    ("jwt", "key"),
)
_SECRET_TAILS = frozenset(
    {
        "key",
        "value",
        "val",
        "str",
        "string",
        "bytes",
        "b64",
        "base64",
        "hex",
        "raw",
        "pem",
        "access",
        "secret",
        "text",
        "plain",
    }
)
_NOT_SECRET_PREFIXES = frozenset(
    {
        "hashed",
        "hash",
        "is",
        "has",
        "use",
        "enable",
        "enabled",
        "require",
        "required",
        "show",
        "min",
        "max",
        "num",
        "n",
        "len",
        "no",
        "invalid",
        "expired",
        "missing",
        "wrong",
        "bad",
        "incorrect",
        "err",
        "error",
        "msg",
        "message",
        "grant",
        "on",
        # Tokenizer and pagination tokens are not credentials.
        "eos",
        "bos",
        "pad",
        "unk",
        "sep",
        "cls",
        "mask",
        "special",
        "start",
        "end",
        "next",
        "page",
        "continuation",
        "cursor",
    }
)
_PLACEHOLDER_RE = re.compile(
    r"<[^>]*>|\[[^\]]*\]|\$\{[^}]*\}|\{\{[^}]*\}\}|x{3,}|\*{3,}|\.{3,}|-{3,}|"
    r"(?:change|replace|update|set)[-_ ]?(?:me|this|it)(?:[-_ ].*)?|"
    r"your[-_ ].*|(?:dummy|example|sample|placeholder|todo|fixme|tbd|redacted)(?:[-_ ].*)?",
    re.IGNORECASE,
)
_DSN_RE = re.compile(
    r"^[a-zA-Z][a-zA-Z0-9+.\-]*://(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@(?P<host>[^/?#\s]*)"
)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"})
_FILE_NAME_RE = re.compile(r"[\w./\\-]+\.(?:pem|key|crt|cer|der|p12|pfx|json|txt|env|ya?ml|pub)")
_ENV_NAME_RE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_HEADER_NAME_RE = re.compile(r"[Xx]-[A-Za-z0-9-]+")
_AUTH_SCHEME_WORDS = frozenset({"bearer", "basic", "digest", "authorization", "token", "jwt"})
_PEM_MARK = "-----BEGIN "

_SETTINGS_BASES = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic.v1.env_settings.BaseSettings",
    }
)
_MODEL_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.v1.BaseModel",
        "sqlmodel.SQLModel",
        "typing.NamedTuple",
        "typing.TypedDict",
        "typing_extensions.TypedDict",
    }
)
_ENUM_BASES = frozenset({"enum.Enum", "enum.StrEnum", "enum.IntEnum", "enum.Flag", "enum.IntFlag"})
_DATACLASS_DECORATORS = frozenset(
    {
        "dataclasses.dataclass",
        "pydantic.dataclasses.dataclass",
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attrs.define",
        "attrs.frozen",
        "attr.frozen",
    }
)
_ENV_GETTERS = frozenset(
    {"os.getenv", "os.environ.get", "os.environ.setdefault", "decouple.config"}
)
_STARLETTE_CONFIG = frozenset({"starlette.config.Config", "decouple.AutoConfig", "decouple.Config"})
# Keyword arguments that carry documentation, not values.
_DOC_KEYWORDS = frozenset(
    {"description", "help", "example", "examples", "title", "summary", "doc", "deprecated"}
)


@lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    return _name_matches(name, _SECRET_KEYWORDS, _SECRET_TAILS, _NOT_SECRET_PREFIXES)


def _placeholder(value: str) -> bool:
    return _PLACEHOLDER_RE.fullmatch(value.strip()) is not None


def _secret_value(name: str, value: str) -> bool:
    """Is this literal a secret (not a label, path, header name or message) for this name?"""
    v = value.strip()
    if not v:
        return False
    if _PEM_MARK in v:
        return True
    if _placeholder(v):
        # A placeholder ships as the secret when nobody sets the variable; for a key
        # issued by another service it is only a dummy the service rejects.
        return not _issued_credential(name)
    if any(c.isspace() for c in v):
        return False  # a message ("Invalid token"), not a key
    if v.startswith(("/", "./", "../", "~/")) or _FILE_NAME_RE.fullmatch(v):
        return False  # a route (`tokenUrl`) or a key file
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://", v) and _DSN_RE.match(v) is None:
        return False  # a URL without credentials (token endpoint)
    if _HEADER_NAME_RE.fullmatch(v) or v.lower() in _AUTH_SCHEME_WORDS:
        return False  # a header name or auth scheme
    if _ENV_NAME_RE.fullmatch(v):
        return False  # the name of the environment variable that holds the secret
    if _KEY_PATH_RE.fullmatch(v) or _SENTINEL_RE.fullmatch(v):
        # An attribute key or URN (`"gen_ai.usage.input_tokens"`,
        # `"urn:ietf:params:oauth:token-type:access_token"`), or a `__sentinel__`.
        return False
    if _spells_name(name, v):
        return False  # `CSRF_TOKEN_KEY = "csrftoken"`: the name of the field
    if _issued_credential(name) and _plain_label(name, v):
        return False  # `token="ui-token"`, `api_key="fake-api-key"`: not a provider key
    # A label: the value repeats the secret word of the name (`ACCESS_TOKEN =
    # "access_token"`, `fb_api_key = "api_key"`, `"password"` as an OAuth2 grant type).
    # `POSTGRES_PASSWORD = "postgres"` repeats a word too, but not the secret one.
    value_words = _words(v)
    if value_words and next(_keyword_hits(value_words, _SECRET_KEYWORDS), None) is not None:
        joined = "_" + "_".join(_words(name)) + "_"
        if "_" + "_".join(value_words) + "_" in joined:
            return False
    return True


_KEY_PATH_RE = re.compile(r"[a-z][a-z0-9_\-]*(?:[.:][a-z][a-z0-9_\-]*)+")
_SENTINEL_RE = re.compile(r"__\w+__")
_LABEL_RE = re.compile(r"[a-z]+(?:[-_ ][a-z]+)*")
# Credentials a service issues (API keys, tokens) are random strings; the ones people
# choose (passwords, signing secrets) may be plain words, and then they are the bug.
_ISSUED_KEYWORDS: tuple[tuple[str, ...], ...] = (("token",), ("api", "key"), ("apikey",))
_CHOSEN_KEYWORDS = tuple(k for k in _SECRET_KEYWORDS if k not in _ISSUED_KEYWORDS)
_CHOSEN_WORDS = frozenset(
    {"secret", "password", "passwd", "pass", "pwd", "admin", "root", "letmein", "private"}
)
_DUMMY_WORDS = frozenset(
    {
        "fake",
        "mock",
        "dummy",
        "test",
        "testing",
        "sample",
        "example",
        "placeholder",
        "sentinel",
        "unused",
        "none",
        "null",
        "empty",
        "redacted",
        "unknown",
        "anonymous",
    }
)
_KEYWORD_WORDS = frozenset(w for kw in _SECRET_KEYWORDS for w in kw)


@lru_cache(maxsize=4096)
def _issued_credential(name: str) -> bool:
    """Named as an API key or token, and not also as a password or secret."""
    return _name_matches(
        name, _ISSUED_KEYWORDS, _SECRET_TAILS, _NOT_SECRET_PREFIXES
    ) and not _name_matches(name, _CHOSEN_KEYWORDS, _SECRET_TAILS, _NOT_SECRET_PREFIXES)


def _plain_label(name: str, value: str) -> bool:
    """Lowercase words (`"ui-token"`, `"failed-to-connect-to-db"`, `"fake-api-key"`): a
    label or a dummy, never a key a provider issued. A single word counts only when it
    repeats the name or says it is a dummy; words that people pick as secrets do not."""
    if not _LABEL_RE.fullmatch(value):
        return False
    words = re.split(r"[-_ ]", value)
    if set(words) & _CHOSEN_WORDS:
        return False
    if len(words) > 1:
        return True
    return words[0] in _DUMMY_WORDS or words[0] in _words(name)


def _spells_name(name: str, value: str) -> bool:
    """Does the value spell a run of the name's words that holds the secret word, without
    separators (`CSRF_TOKEN_KEY = "csrftoken"`)? Then it is the field's name."""
    squashed = re.sub(r"[^a-z0-9]", "", value.lower())
    words = _words(name)
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            run = words[i:j]
            if "".join(run) == squashed and set(run) & _KEYWORD_WORDS:
                return True
    return False


def _dsn_password(value: str) -> tuple[str, bool] | None:
    """The inline password of a DSN and whether it looks like a local/dev placeholder."""
    match = _DSN_RE.match(value.strip())
    if match is None:
        return None
    password = match["password"]
    if any(t in password for t in ("$", "{", "}", "%s", "%(", "<", ">")):
        return None  # a template filled in at runtime
    host = match["host"].lower()
    hostname = host if host.startswith("[") else host.split(":")[0]
    # `guest:guest@rabbitmq`, `postgres:postgres@db`: a container's well-known default.
    weak = _placeholder(password) or password == match["user"] or hostname in _LOCAL_HOSTS
    return password, weak


def _severity(overridable: bool, lowered: bool) -> Severity:
    """A literal nothing overrides is the secret in production (`error`); a default that
    configuration overrides leaks only when the variable is missing (`warning`); either is
    one step lower when the value is an obvious placeholder."""
    if overridable:
        return "info" if lowered else "warning"
    return "warning" if lowered else "error"


def _literal(expr: ast.AST | None) -> str | None:
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, str):
            return expr.value
        if isinstance(expr.value, bytes):
            return expr.value.decode("latin-1")
    return None


def _class_info(ctx: FileContext, node: ast.ClassDef) -> ClassInfo | None:
    state = _state(ctx.model)
    if state.classes_by_node is None:
        state.classes_by_node = {id(c.node): c for c in ctx.project.classes.values()}
    return state.classes_by_node.get(id(node))


def _class_kind(ctx: FileContext, info: ClassInfo) -> str:
    """ "settings", "model" (fields overridable per instance), "enum" or "plain"."""
    state = _state(ctx.model)
    kind = state.class_kinds.get(info.qualname)
    if kind is None:
        mro = set(ctx.project.mro(info.qualname))
        if mro & _ENUM_BASES:
            kind = "enum"
        elif mro & _SETTINGS_BASES:
            kind = "settings"
        elif mro & _MODEL_BASES or any(
            ctx.project.resolve(info.module, d.func if isinstance(d, ast.Call) else d)
            in _DATACLASS_DECORATORS
            for d in info.node.decorator_list
        ):
            kind = "model"
        else:
            kind = "plain"
        state.class_kinds[info.qualname] = kind
    return kind


def _scope_of_statement(ctx: FileContext) -> tuple[str, ClassInfo | None]:
    """ "module", "class" (with its info) or "function" for the statement being visited."""
    for anc in reversed(ctx.stack):
        if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return "function", None
        if isinstance(anc, ast.ClassDef):
            return "class", _class_info(ctx, anc)
    return "module", None


@rule(
    code="FAA304",
    name="hardcoded-secret",
    summary="A secret key, password, token or DSN password is written in the source",
    severity="error",
    nodes=(ast.Assign, ast.AnnAssign, ast.Call),
    fix_title="Read the secret from the environment through a `BaseSettings` field without a "
    "default",
    cwe=("CWE-798",),
    owasp=("API2:2023", "API8:2023"),
    references=(
        "https://fastapi.tiangolo.com/advanced/settings/",
        "https://docs.pydantic.dev/latest/concepts/pydantic_settings/",
    ),
)
def hardcoded_secret(node: ast.AST, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds secrets written as literals:
    - module- and class-level constants named like a secret (`SECRET_KEY`, `JWT_SECRET`,
      `API_KEY`, `DB_PASSWORD`, `GITHUB_TOKEN`, `PRIVATE_KEY`...);
    - `BaseSettings` fields with such names and a literal default, `Field(default="...")`
      included (pydantic-settings and pydantic v1, also through project base classes),
      and fields of models and dataclasses;
    - keyword arguments with such names (`SessionMiddleware(secret_key="...")`,
      `redis.Redis(password="...")`), and the key of `jwt.encode(payload, "literal")`;
    - literal fallbacks of environment reads: `os.getenv("SECRET_KEY", "dev")`,
      `os.environ.get`, `decouple.config`, starlette's `Config(...)(default=...)`, and
      `SECRET_KEY = os.getenv("SECRET_KEY") or "dev"`;
    - DSNs with an inline password (`postgresql://user:pass@host/db`) anywhere they are
      assigned or passed.

    Not reported: values computed at startup (`secrets.token_urlsafe(32)`, the official
    template's default), empty strings, names that are not secrets (`token_url`,
    `TOKEN_TYPE`, `password_min_length`, `SECRET_KEY_NAME = "X-API-Key"`), values that
    are paths, header names, environment variable names, messages or labels
    (`ACCESS_TOKEN = "access_token"`, `CSRF_TOKEN_KEY = "csrftoken"`, Enum members),
    attribute keys and URNs (`INPUT_TOKEN_KEY = "gen_ai.usage.input_tokens"`),
    `__sentinel__` values, DSNs whose password is a template
    (`postgresql://user:${PASSWORD}@...`) or absent, and files under `tests/`,
    `testing/`, `test_*.py` and `conftest.py`. API keys and tokens are issued by a
    service as random strings, so in those slots (not in passwords or signing secrets)
    lowercase labels and dummies (`token="ui-token"`, `api_key="fake-api-key"`) and
    placeholders (`api_key="<empty>"`) are not reported either.

    Severity: a constant nothing overrides is the production secret (`error`); a settings
    default or environment fallback leaks only when the variable is missing (`warning`).
    Obvious placeholders (`"changethis"`, `"change-me"`, `"your-secret-key"`, `"<...>"`,
    `"xxx"`, `"..."`, `"${...}"`, whole-value matches only) and DSNs pointing at
    `localhost` or repeating the user as password (`guest:guest@rabbitmq`) lower the
    severity by one step (`info` for a settings default): they still ship if nobody sets
    the variable.

    ## Why is this bad?
    A secret in the source is in every clone, fork, CI log and container image. With the
    JWT signing key anyone can mint a token for any user; a settings default is used
    silently in production whenever the environment variable is missing.

    ## Known problems
    Names decide what is a secret, so `KEY = "..."` used as an HMAC key is only found
    when it reaches `jwt.encode`/`jwt.decode`. Locals inside functions and dict literals
    (`{"password": "..."}`, OpenAPI examples, fake databases in tutorials) are not
    checked, except for DSNs with a password.

    ## Example
    ```python
    class Settings(BaseSettings):
        SECRET_KEY: str = "super-secret-change-me-123"
    ```

    ## Use instead
    ```python
    class Settings(BaseSettings):
        SECRET_KEY: str  # required: the app refuses to start without it
    ```
    or `SECRET_KEY: str = secrets.token_urlsafe(32)` for a per-process key in development.

    ## Fix safety
    No automatic fix. Rotate the secret: it is already public.
    """
    found = list(
        _secret_in_call(node, ctx) if isinstance(node, ast.Call) else _secret_assigned(node, ctx)
    )
    if found and not _in_tests(ctx):
        yield from found


def _secret_assigned(node: ast.AST, ctx: FileContext) -> Iterator[Report]:
    if isinstance(node, ast.AnnAssign):
        targets: list[ast.expr] = [node.target]
        value = node.value
    elif isinstance(node, ast.Assign):
        targets = node.targets
        value = node.value
    else:
        return
    if value is None:
        return
    found = _assigned_literal(ctx, value)
    if found is None:
        return
    literal, source = found
    names = [
        t.id if isinstance(t, ast.Name) else t.attr
        for t in targets
        if isinstance(t, (ast.Name, ast.Attribute))
    ]
    dsn = _dsn_password(literal)
    if not names or (dsn is None and not any(_secret_name(n) for n in names)):
        return
    where, info = _scope_of_statement(ctx)
    kind = _class_kind(ctx, info) if info is not None else "plain"
    if kind == "enum":
        return
    overridable = source != "value" or (where == "class" and kind in ("settings", "model"))
    if dsn is not None:
        yield Report(
            node,
            f"`{names[0]}` holds a DSN with an inline password",
            severity=_severity(overridable, dsn[1]),
        )
        return
    if where == "function":
        return
    for name in names:
        if not _secret_name(name) or not _secret_value(name, literal):
            continue
        if source == "fallback":
            message = f"`{name}` falls back to a hard-coded secret"
        elif overridable:
            owner = f" of `{info.node.name}`" if info is not None else ""
            message = f"`{name}`{owner} has a hard-coded default secret"
        else:
            message = f"`{name}` is a hard-coded secret"
        yield Report(node, message, severity=_severity(overridable, _placeholder(literal)))
        return


def _assigned_literal(ctx: FileContext, value: ast.expr) -> tuple[str, str] | None:
    """The literal an assignment stores, seen through `Field(default=...)`, `SecretStr(...)`
    and `... or "fallback"`, and where it comes from: "value", "field" (a default) or
    "fallback"."""
    source = "value"
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or) and len(value.values) > 1:
        # `SECRET_KEY = os.getenv("SECRET_KEY") or "dev-key"`: a fallback, like a default.
        value = value.values[-1]
        source = "fallback"
    if isinstance(value, ast.Call) and _call_name(value) == "Field":
        if ctx.resolve(value.func) not in _FIELD_FUNCS:
            return None
        default = argument(value, 0, "default")
        if default is None:
            return None
        value = default
        source = "field"
    if isinstance(value, ast.Call) and _call_name(value) in ("SecretStr", "SecretBytes"):
        # `SecretStr("...")` masks the repr, not the source.
        if ctx.resolve(value.func) not in _SECRET_TYPES or not value.args:
            return None
        value = value.args[0]
    literal = _literal(value)
    return (literal, source) if literal is not None else None


def _secret_in_call(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    # 1. The key of `jwt.encode(payload, "literal")` / `jwt.decode(token, "literal")`.
    jc = _jwt_call(ctx, node)
    if jc is not None and jc.op in ("encode", "decode"):
        found = _literal_jwt_key(ctx, argument(node, 1, "key"))
        if found is not None:
            what = f"the hard-coded key {found[0]}" if found[0] else "a hard-coded key"
            yield Report(
                node,
                f"`{_display(node)}` {'signs' if jc.op == 'encode' else 'verifies'} with {what}",
                severity=_severity(False, _placeholder(found[1])),
            )
            return
    # 2. Literal fallbacks of environment reads.
    env = _env_fallback(ctx, node)
    if env is not None:
        yield from env
        return
    # 3. Keyword arguments named like secrets, and DSN literals in any argument.
    candidates = list(_literal_arguments(node))
    # A field default is judged with the field's name, at the assignment.
    if candidates and ctx.resolve(node.func) not in _FIELD_FUNCS:
        yield from candidates[:1]


def _literal_arguments(node: ast.Call) -> Iterator[Report]:
    for kw in node.keywords:
        if kw.arg is None or kw.arg in _DOC_KEYWORDS:
            continue
        literal = _literal(kw.value)
        if literal is None:
            continue
        dsn = _dsn_password(literal)
        if dsn is not None:
            yield Report(
                kw.value,
                f"`{kw.arg}=` is a DSN with an inline password",
                severity=_severity(False, dsn[1]),
            )
            return
        if _secret_name(kw.arg) and _secret_value(kw.arg, literal):
            yield Report(
                kw.value,
                f"`{kw.arg}=` is passed a hard-coded secret",
                severity=_severity(False, _placeholder(literal)),
            )
            return
    for arg in node.args:
        literal = _literal(arg)
        dsn = _dsn_password(literal) if literal is not None else None
        if dsn is not None:
            yield Report(
                arg,
                f"`{_display(node)}` is passed a DSN with an inline password",
                severity=_severity(False, dsn[1]),
            )
            return


def _literal_jwt_key(ctx: FileContext, expr: ast.expr | None) -> tuple[str, str] | None:
    if expr is None:
        return None
    literal = _literal(expr)
    if literal is not None:
        return ("", literal) if literal.strip() else None
    # A constant whose name says "secret" is reported where it is assigned; one named
    # `KEY` or `SIGNING` would slip through, so report it here.
    if isinstance(expr, (ast.Name, ast.Attribute)):
        name = expr.id if isinstance(expr, ast.Name) else expr.attr
        if _secret_name(name):
            return None
        fn = ctx.function()
        if isinstance(expr, ast.Name) and fn is not None and expr.id in fn.local_values:
            return None  # a local: computed per call, too dynamic to judge
        found = ctx.project.module_value(ctx.resolve(expr))
        if found is not None:
            literal = _literal(found[1])
            if literal is not None and literal.strip():
                return f"`{name}`", literal
    return None


def _env_fallback(ctx: FileContext, node: ast.Call) -> list[Report] | None:
    """`os.getenv("SECRET_KEY", "dev")` and friends. None when the call is not an env read."""
    callee = _call_name(node) or ""
    if isinstance(node.func, ast.Name):
        if callee != "getenv" and not callee.lower().endswith("config"):
            return None
    elif callee not in ("getenv", "get", "setdefault", "config"):
        return None
    if not any(_literal(a) for a in node.args[1:3]) and not any(
        kw.arg == "default" and _literal(kw.value) for kw in node.keywords
    ):
        return None  # no literal fallback: nothing to report, skip the resolution
    name = ctx.resolve(node.func)
    default: ast.expr | None
    if name in _ENV_GETTERS:
        if name == "decouple.config":
            default = keyword(node, "default")
        else:
            default = argument(node, 1, "default")
    else:
        owner = infer_type(ctx.project, ctx.module, node.func, ctx.function())
        if owner not in _STARLETTE_CONFIG:
            return None
        default = argument(node, 2, "default")
    literal = _literal(default)
    if literal is None:
        return []
    env_name = const_str(argument(node, 0, "key")) or ""
    target = _assigned_name(ctx, node) or ""
    dsn = _dsn_password(literal)
    if dsn is not None:
        return [
            Report(
                node,
                f"the fallback of `{env_name or target}` is a DSN with an inline password",
                severity=_severity(True, dsn[1]),
            )
        ]
    for label in (env_name, target):
        if label and _secret_name(label) and _secret_value(label, literal):
            return [
                Report(
                    node,
                    f"`{label}` falls back to a hard-coded secret when the variable is unset",
                    severity=_severity(True, _placeholder(literal)),
                )
            ]
    return []


# ===================================================================== FAA305

_PASSWORD_KEYWORDS: tuple[tuple[str, ...], ...] = (
    ("password",),
    ("passwd",),
    ("pwd",),
    ("passphrase",),
    ("pass",),
    ("pw",),
)
_PLAIN_TAILS = frozenset(
    {"plain", "raw", "bytes", "str", "text", "input", "value", "candidate", "encoded", "utf8", "b"}
)
_HASH_TAILS = _PLAIN_TAILS | {"hash", "hashed", "digest", "hex", "hexdigest"}
_NOT_PASSWORD_PREFIXES = frozenset(
    {"hashed", "hash", "encrypted", "is", "has", "num", "min", "max"}
)
_NOT_PASSWORD_HASH_PREFIXES = frozenset({"is", "has", "num", "min", "max"})
_COMPARE_QUALIFIERS = frozenset(
    {
        "hashed",
        "hash",
        "encrypted",
        "new",
        "old",
        "current",
        "confirm",
        "confirmation",
        "confirmed",
        "repeat",
        "repeated",
        "again",
        "retype",
        "retyped",
        "verify",
        "check",
        "previous",
        "prev",
        "second",
        "is",
        "has",
    }
)
_FAST_HASHES = frozenset(
    {
        "md5",
        "sha1",
        "sha224",
        "sha256",
        "sha384",
        "sha512",
        "sha3_224",
        "sha3_256",
        "sha3_384",
        "sha3_512",
        "blake2b",
        "blake2s",
    }
)
_HASH_FUNCTION_WORDS = frozenset(
    {"hash", "hashed", "encrypt", "encode", "digest", "verify", "check", "make", "set"}
)
_NOT_PASSWORD_FUNCTION_WORDS = frozenset(
    {"reset", "token", "recovery", "forgot", "link", "email", "code", "otp"}
)
_WEAK_SCHEMES = frozenset(
    {
        "plaintext",
        "ldap_plaintext",
        "roundup_plaintext",
        "md5_crypt",
        "apr_md5_crypt",
        "sun_md5_crypt",
        "des_crypt",
        "bsdi_crypt",
        "bigcrypt",
        "crypt16",
        "sha1_crypt",
        "ldap_md5",
        "ldap_salted_md5",
        "ldap_sha1",
        "ldap_salted_sha1",
        "ldap_md5_crypt",
        "ldap_des_crypt",
        "hex_md4",
        "hex_md5",
        "hex_sha1",
        "hex_sha256",
        "hex_sha512",
        "mysql323",
        "mysql41",
        "postgres_md5",
        "oracle10",
        "oracle11",
        "lmhash",
        "nthash",
        "msdcc",
        "msdcc2",
        "cisco_pix",
        "cisco_asa",
        "cisco_type7",
        "htdigest",
    }
)
# Many thousand SHA-2 rounds: far better than a bare digest, but GPU-friendly and not on
# OWASP's list (argon2id, scrypt, bcrypt, PBKDF2).
_SLOW_SHA_SCHEMES = frozenset(
    {"sha256_crypt", "sha512_crypt", "ldap_sha256_crypt", "ldap_sha512_crypt"}
)
_TRANSPARENT_CALLS = frozenset({"str", "bytes", "bytearray", "memoryview"})
_BCRYPT_MIN_ROUNDS = 10


@lru_cache(maxsize=4096)
def _password_name(name: str) -> bool:
    """A plaintext password value: `password`, `form.password`, `plain_pwd`."""
    return _name_matches(name, _PASSWORD_KEYWORDS, _PLAIN_TAILS, _NOT_PASSWORD_PREFIXES)


@lru_cache(maxsize=4096)
def _password_hash_name(name: str) -> bool:
    """Where a password hash is stored: `hashed_password`, `password_hash`."""
    return _name_matches(name, _PASSWORD_KEYWORDS, _HASH_TAILS, _NOT_PASSWORD_HASH_PREFIXES)


def _mentions(expr: ast.AST, depth: int = 0) -> Iterator[tuple[str, ast.AST]]:
    """The names whose *values* flow into an expression: variables, attributes, literal
    dict keys; through string building and `.encode()`, not into other calls' results."""
    if depth > 10:
        return
    if isinstance(expr, ast.Name):
        yield expr.id, expr
    elif isinstance(expr, ast.Attribute):
        yield expr.attr, expr
    elif isinstance(expr, ast.Subscript):
        key = const_str(expr.slice)
        if key is not None:
            yield key, expr
        else:
            yield from _mentions(expr.value, depth + 1)
    elif isinstance(expr, ast.Call):
        if isinstance(expr.func, ast.Attribute):
            # A method of the value itself (`password.encode()`, `"".join([salt, pw])`).
            yield from _mentions(expr.func.value, depth + 1)
            for a in expr.args:
                yield from _mentions(a, depth + 1)
        elif isinstance(expr.func, ast.Name) and expr.func.id in _TRANSPARENT_CALLS:
            for a in expr.args:
                yield from _mentions(a, depth + 1)
    elif isinstance(expr, ast.BinOp):
        yield from _mentions(expr.left, depth + 1)
        yield from _mentions(expr.right, depth + 1)
    elif isinstance(expr, ast.JoinedStr):
        for v in expr.values:
            if isinstance(v, ast.FormattedValue):
                yield from _mentions(v.value, depth + 1)
    elif isinstance(expr, (ast.Tuple, ast.List)):
        for e in expr.elts:
            yield from _mentions(e, depth + 1)


def _hash_target(ctx: FileContext, node: ast.Call) -> str | None:
    """Where the digest goes: the assigned name, attribute or keyword, through
    `.hexdigest()` and similar."""
    child: ast.AST = node
    for anc in reversed(ctx.stack):
        if isinstance(anc, ast.Attribute) and anc.value is child:
            child = anc
            continue
        if isinstance(anc, ast.Call) and anc.func is child:
            child = anc
            continue
        if isinstance(anc, (ast.Assign, ast.AnnAssign)):
            targets = anc.targets if isinstance(anc, ast.Assign) else [anc.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    return t.id
                if isinstance(t, ast.Attribute):
                    return t.attr
            return None
        if isinstance(anc, ast.keyword):
            return anc.arg
        if isinstance(anc, ast.Dict):
            # `{"pw_hash": hashlib.sha256(...).hexdigest()}`
            for key, value in zip(anc.keys, anc.values, strict=False):
                if value is child:
                    return const_str(key)
        return None
    return None


def _password_function(fn: Function) -> bool:
    """`hash_password`, `get_password_hash`, `verify_password`, `set_password`..."""
    words = _words(fn.name)
    if any(w in _NOT_PASSWORD_FUNCTION_WORDS for w in words):
        return False
    has_password = any(True for _ in _keyword_hits(words, _PASSWORD_KEYWORDS))
    return has_password and any(w in _HASH_FUNCTION_WORDS for w in words)


def _breach_check(ctx: FileContext, fn: Function | None) -> bool:
    """Have I Been Pwned's range API wants the SHA-1 of the password: not storage."""
    if fn is None:
        return False
    state = _state(ctx.model)
    found = state.hibp.get(id(fn.node))
    if found is None:
        lowered = fn.name.lower()
        found = any(w in lowered for w in ("pwned", "hibp", "breach"))
        if not found:
            for sub in body_nodes(fn.node):
                text = const_str(sub)
                if text is not None and "pwnedpasswords" in text:
                    found = True
                    break
        state.hibp[id(fn.node)] = found
    return found


_KDF_CALLS = frozenset(
    {
        "hashpw",
        "checkpw",
        "pbkdf2_hmac",
        "scrypt",
        "kdf",
        "hash",
        "verify",
        "verify_and_update",
        "hash_secret",
        "verify_secret",
        "hash_password",
    }
)


def _prehash(ctx: FileContext, fn: Function | None) -> bool:
    """SHA-256 of the password fed to bcrypt (around its 72-byte limit) or another slow
    KDF is a pre-hash, not the stored hash: directly (`bcrypt.hashpw(b64encode(sha256(pw)
    .digest()), salt)`) or through a local passed to the KDF later in the function."""
    target: str | None = None
    for anc in reversed(ctx.stack):
        if isinstance(anc, ast.Call) and _call_name(anc) in _KDF_CALLS:
            return True
        if isinstance(anc, (ast.Assign, ast.AnnAssign)):
            targets = anc.targets if isinstance(anc, ast.Assign) else [anc.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                target = targets[0].id
            break
        if isinstance(anc, (ast.stmt, ast.Lambda)):
            break
    if fn is None or target is None:
        return False
    state = _state(ctx.model)
    slot = (id(fn.node), target)
    found = state.kdf_inputs.get(slot)
    if found is None:
        found = any(
            isinstance(sub, ast.Call)
            and _call_name(sub) in _KDF_CALLS
            and any(
                isinstance(n, ast.Name) and n.id == target
                for a in [*sub.args, *(k.value for k in sub.keywords)]
                for n in ast.walk(a)
            )
            for sub in body_nodes(fn.node)
        )
        state.kdf_inputs[slot] = found
    return found


def _fast_hash_name(callee: str) -> str | None:
    """`hashlib.sha256` → sha256; `hashlib.sha256.update` → sha256 (an inferred hash object)."""
    parts = callee.split(".")
    if len(parts) < 2 or parts[0] != "hashlib" or parts[1] not in _FAST_HASHES:
        return None
    if len(parts) == 2 or (len(parts) == 3 and parts[2] == "update"):
        return parts[1]
    return None


@rule(
    code="FAA305",
    name="weak-password-hashing",
    summary="A password is hashed with a fast digest or a weak scheme, or compared in plaintext",
    severity="error",
    nodes=(ast.Call, ast.Compare),
    fix_title="Hash passwords with `pwdlib`/passlib using argon2 or bcrypt, and verify with "
    "`verify()`",
    cwe=("CWE-916", "CWE-328"),
    owasp=("API2:2023",),
    references=(
        "https://fastapi.tiangolo.com/tutorial/security/oauth2-jwt/#password-hashing",
        "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html",
    ),
)
def weak_password_hashing(node: ast.AST, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds passwords stored or checked in a way that does not resist cracking:
    - `hashlib.md5/sha1/sha256/sha512/...(...)` (also `hashlib.new(...)` and `.update()`
      on a hash object) when the hashed value is named like a password (`password`,
      `form.password`, `pwd`, `passphrase`), the digest is assigned to a password-hash
      name (`hashed_password = ...`), or the enclosing function hashes or verifies
      passwords (`def hash_password(raw)`);
    - passlib `CryptContext(schemes=[...])` whose default scheme is `plaintext`,
      `md5_crypt`, `des_crypt` or similar (error), or `sha256_crypt`/`sha512_crypt`
      (warning); a weak scheme listed after the default, for verifying legacy hashes,
      is fine;
    - bcrypt cost below 10 (`bcrypt.gensalt(rounds=4)`, `bcrypt__rounds=4`);
    - plaintext comparison of a stored and a submitted password
      (`user.password == form.password`).

    Not reported: `hashlib.pbkdf2_hmac`/`scrypt`, digests of files or tokens
    (`hashlib.sha256(file_bytes)`, password-*reset* tokens), `usedforsecurity=False`,
    the SHA-1 prefix sent to Have I Been Pwned, a SHA-256 pre-hash fed to bcrypt (around
    its 72-byte limit), a digest that is one field of a cache-key f-string
    (`f"client_id={cid}|password={sha256(pw).hexdigest()}"`), comparisons between two submitted passwords
    (`new_password == current_password`, `password == password_confirm`), comparisons
    with a literal constant (`password == _LEGACY_DEFAULT_PASSWORD`, a denylist check;
    the literal is FAA304's), and test files.

    ## Why is this bad?
    MD5 and SHA-2 run billions of times per second on a GPU; without a per-user salt, a
    leaked table is cracked with precomputed dictionaries. Password hashes must be slow
    and salted (argon2id, bcrypt, scrypt, PBKDF2). A password compared in plaintext is
    stored in plaintext.

    ## Known problems
    The password is recognized by name; a digest of a value called `raw` or `s` is only
    found inside a password-hashing function (`hash_password`, `verify_password`) or when
    assigned to a password-hash name.

    ## Example
    ```python
    def hash_password(password: str) -> str:
        return hashlib.sha256(password.encode()).hexdigest()
    ```

    ## Use instead
    ```python
    from pwdlib import PasswordHash

    password_hash = PasswordHash.recommended()

    def hash_password(password: str) -> str:
        return password_hash.hash(password)
    ```

    ## Fix safety
    No automatic fix: existing hashes need a migration (verify with the old scheme at
    login, re-hash with the new one).
    """
    found = list(
        _plaintext_compare(node, ctx)
        if isinstance(node, ast.Compare)
        else _weak_hash_call(node, ctx)
    )
    if found and not _in_tests(ctx):
        yield from found


def _weak_hash_call(node: ast.AST, ctx: FileContext) -> Iterator[Report]:
    if not isinstance(node, ast.Call):
        return
    callee_short = _call_name(node)
    if callee_short is None or not _imports(ctx, "hash"):
        return
    if callee_short in _FAST_HASHES or callee_short in ("new", "update"):
        yield from _fast_password_hash(node, ctx)
    elif callee_short == "CryptContext":
        yield from _weak_crypt_context(node, ctx)
    elif callee_short == "gensalt":
        if ctx.resolve(node.func) == "bcrypt.gensalt":
            yield from _low_rounds(node, ctx, argument(node, 0, "rounds"), "`bcrypt.gensalt`")
    elif callee_short in ("hash", "encrypt", "using", "genhash"):
        name = ctx.resolve(node.func)
        if name is None or not name.startswith("passlib.hash."):
            return
        scheme = name.split(".")[2] if name.count(".") >= 3 else ""
        if scheme in _WEAK_SCHEMES or scheme in _SLOW_SHA_SCHEMES:
            yield Report(
                node,
                f"passwords are hashed with passlib's `{scheme}`",
                severity="error" if scheme in _WEAK_SCHEMES else "warning",
            )
        elif scheme == "bcrypt" and callee_short == "using":
            yield from _low_rounds(node, ctx, keyword(node, "rounds"), "`bcrypt.using`")


def _fast_password_hash(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    fn = ctx.function()
    callee = resolve_callee(ctx.project, ctx.module, node.func, fn)
    if callee is None:
        return
    data: ast.expr | None
    if callee == "hashlib.new":
        algorithm = const_str(argument(node, 0, "name"))
        if algorithm is None or algorithm.lower() not in _FAST_HASHES:
            return
        digest = algorithm.lower()
        data = argument(node, 1, "data")
    else:
        found = _fast_hash_name(callee)
        if found is None:
            return
        digest = found
        data = argument(node, 0, "data") or keyword(node, "string")
    usedforsecurity = keyword(node, "usedforsecurity")
    if isinstance(usedforsecurity, ast.Constant) and usedforsecurity.value is False:
        return
    if data is None:
        return
    what = f"`hashlib.{digest}`"
    hashed = next((n for n, _ in _mentions(data) if _password_name(n)), None)
    if hashed is not None:
        message = f"`{hashed}` is hashed with {what}"
    else:
        target = _hash_target(ctx, node)
        if target is not None and _password_hash_name(target):
            message = f"`{target}` is computed with {what}"
        elif fn is not None and _password_function(fn):
            params = {p.arg for p, _ in parameters(fn.node)} - {"self", "cls"}
            hashed = next(
                (n for n, e in _mentions(data) if isinstance(e, ast.Name) and n in params), None
            )
            if hashed is None:
                return
            message = f"`{fn.name}` hashes `{hashed}` with {what}"
        else:
            return
    if _breach_check(ctx, fn) or _prehash(ctx, fn) or _in_fingerprint(ctx):
        return
    yield Report(node, f"{message}: a fast digest is not a password hash")


def _in_fingerprint(ctx: FileContext) -> bool:
    """The digest is one field of an f-string with others (`f"client_id={cid}|password=
    {sha256(pw).hexdigest()}"`): a cache key that tells configurations apart, not a
    stored password hash."""
    for ancestor in reversed(ctx.stack):
        if isinstance(ancestor, ast.JoinedStr):
            fields = [v for v in ancestor.values if isinstance(v, ast.FormattedValue)]
            return len(fields) > 1
        if isinstance(ancestor, (ast.stmt, ast.Lambda)):
            return False
    return False


def _weak_crypt_context(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    if ctx.resolve(node.func) not in ("passlib.context.CryptContext", "passlib.apps.CryptContext"):
        return
    fn = ctx.function()
    schemes = _strings(_evaluate(ctx.project, ctx.module, argument(node, 0, "schemes"), fn))
    default = _evaluate(ctx.project, ctx.module, keyword(node, "default"), fn)
    chosen = default if isinstance(default, str) else (schemes[0] if schemes else None)
    if chosen in _WEAK_SCHEMES:
        yield Report(node, f"`CryptContext` hashes new passwords with `{chosen}`")
        return
    if chosen in _SLOW_SHA_SCHEMES:
        yield Report(
            node,
            f"`CryptContext` hashes new passwords with `{chosen}`: prefer argon2 or bcrypt",
            severity="warning",
        )
        return
    if "bcrypt" in schemes:
        for kw in node.keywords:
            if kw.arg in ("bcrypt__rounds", "bcrypt__default_rounds", "bcrypt__min_rounds"):
                yield from _low_rounds(node, ctx, kw.value, f"`{kw.arg}`")


def _low_rounds(
    node: ast.Call, ctx: FileContext, expr: ast.expr | None, what: str
) -> Iterator[Report]:
    if expr is None:
        return
    rounds = _evaluate(ctx.project, ctx.module, expr, ctx.function())
    if isinstance(rounds, int) and not isinstance(rounds, bool) and rounds < _BCRYPT_MIN_ROUNDS:
        yield Report(
            node,
            f"{what} uses bcrypt cost {rounds}: below {_BCRYPT_MIN_ROUNDS} it is cheap to crack",
            severity="warning",
        )


def _compared_name(expr: ast.expr) -> tuple[str, ast.AST | None] | None:
    """(name, base object) of a compared value: `user.password` → (password, user)."""
    if isinstance(expr, ast.Name):
        return expr.id, None
    if isinstance(expr, ast.Attribute):
        return expr.attr, expr.value
    if isinstance(expr, ast.Subscript):
        key = const_str(expr.slice)
        if key is not None:
            return key, expr.value
    return None


@lru_cache(maxsize=4096)
def _plain_password_operand(name: str) -> bool:
    words = _words(name)
    if any(w in _COMPARE_QUALIFIERS for w in words):
        return False
    return _name_matches(
        name,
        tuple(k for k in _PASSWORD_KEYWORDS if k != ("pass",)),
        frozenset({"plain", "raw", "text"}),
        _COMPARE_QUALIFIERS,
        allow_numbered=False,
    )


def _literal_constant(ctx: FileContext, expr: ast.expr) -> bool:
    """A module-level constant holding a string literal (`_LEGACY_DEFAULT_PASSWORD`):
    comparing with it rejects a known value, it does not check a stored password (the
    literal itself is FAA304's)."""
    if not isinstance(expr, (ast.Name, ast.Attribute)):
        return False
    fn = ctx.function()
    if isinstance(expr, ast.Name) and fn is not None and expr.id in fn.local_values:
        return False
    found = ctx.project.module_value(ctx.resolve(expr))
    return found is not None and _literal(found[1]) is not None


def _plaintext_compare(node: ast.Compare, ctx: FileContext) -> Iterator[Report]:
    if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
        return
    left, right = node.left, node.comparators[0]
    a, b = _compared_name(left), _compared_name(right)
    if a is None or b is None:
        return
    if not (_plain_password_operand(a[0]) and _plain_password_operand(b[0])):
        return
    if ast.dump(left) == ast.dump(right):
        return
    if a[1] is not None and b[1] is not None and ast.dump(a[1]) == ast.dump(b[1]):
        return  # two fields of one submitted form (`body.password != body.password_2`)
    if _literal_constant(ctx, left) or _literal_constant(ctx, right):
        return
    yield Report(
        node,
        f"`{_show(left)}` is compared in plaintext with `{_show(right)}`: the password is "
        "stored unhashed",
    )


# ===================================================================== FAA308

_LOG_METHODS = frozenset(
    {
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "fatal",
        "log",
        "msg",
        "trace",
        "success",
    }
)
_LOGGER_NAMES = frozenset({"logger", "log", "logging", "_logger", "_log", "loguru", "structlog"})
_LOG_MODULES = ("logging.", "loguru.", "structlog.")
_LOG_OPTION_KEYWORDS = frozenset(
    {"exc_info", "stack_info", "stacklevel", "sep", "end", "file", "flush"}
)
_SENSITIVE_KEYWORDS: tuple[tuple[str, ...], ...] = (
    ("password",),
    ("passwd",),
    ("pwd",),
    ("passphrase",),
    ("secret",),
    ("token",),
    ("api", "key"),
    ("apikey",),
    ("private", "key"),
    ("authorization",),
    ("auth", "header"),
)
# Not "header": `token_header` is the JWT header (alg, kid), not a credential.
_SENSITIVE_TAILS = frozenset(
    {"value", "str", "string", "bytes", "raw", "plain", "b64", "hex", "key"}
)
_NOT_SENSITIVE_PREFIXES = frozenset(
    {
        "hashed",
        "hash",
        "is",
        "has",
        "num",
        "max",
        "min",
        "total",
        "n",
        "len",
        "no",
        "count",
        # Tokenizer and pagination tokens are not credentials.
        "eos",
        "bos",
        "pad",
        "unk",
        "sep",
        "cls",
        "mask",
        "special",
        "start",
        "end",
        "next",
        "page",
        "prev",
        "previous",
        "continuation",
        "cursor",
        "sync",
        # Prices, leases and slots: `input_cost_per_token`, `reservation_token`.
        "per",
        "cost",
        "price",
        "reservation",
        "lease",
        "cancel",
        "cancellation",
        "idempotency",
    }
)
# What a credential is never held in: a slot or lease id (`token: UUID`), a count.
_NOT_CREDENTIAL_TYPES = frozenset(
    {"uuid.UUID", "uuid.uuid1", "uuid.uuid4", "int", "float", "bool", "datetime.datetime"}
)
# Words in a variable's own name that say its value was made safe to show.
_SAFE_NAME_WORDS = frozenset({"hashed", "hash", "masked", "redacted", "obfuscated"})
_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_REQUEST_TYPES = frozenset(
    {
        "fastapi.Request",
        "fastapi.requests.Request",
        "starlette.requests.Request",
        "starlette.requests.HTTPConnection",
        "fastapi.WebSocket",
        "fastapi.websockets.WebSocket",
        "starlette.websockets.WebSocket",
    }
)
_EXTERNAL_AUTH_TYPES = frozenset(
    {
        "fastapi.security.OAuth2PasswordRequestForm",
        "fastapi.security.OAuth2PasswordRequestFormStrict",
        "fastapi.security.oauth2.OAuth2PasswordRequestForm",
        "fastapi.security.oauth2.OAuth2PasswordRequestFormStrict",
        "fastapi.security.HTTPBasicCredentials",
        "fastapi.security.HTTPAuthorizationCredentials",
        "fastapi.security.http.HTTPBasicCredentials",
        "fastapi.security.http.HTTPAuthorizationCredentials",
    }
)
_SECRET_TYPES = frozenset(
    {
        "pydantic.SecretStr",
        "pydantic.SecretBytes",
        "pydantic.types.SecretStr",
        "pydantic.types.SecretBytes",
        "pydantic.v1.SecretStr",
        "pydantic.v1.SecretBytes",
    }
)
_EXTERNAL_AUTH_CLASS_RE = re.compile(r"^[A-Z]\w*(?:Login|Credentials|Password)\w*$")
_DUMP_METHODS = frozenset({"model_dump", "model_dump_json", "dict", "json"})
_BODY_METHODS = frozenset({"body", "json", "form", "stream"})
_TRANSPARENT_METHODS = frozenset(
    {"encode", "decode", "strip", "lstrip", "rstrip", "lower", "upper", "hex", "copy"}
)
_TRANSPARENT_FUNCS = frozenset(
    {
        "str",
        "repr",
        "dict",
        "list",
        "tuple",
        "bytes",
        "format",
        "json.dumps",
        "fastapi.encoders.jsonable_encoder",
    }
)
_MASK_MAX = 20


@lru_cache(maxsize=4096)
def _sensitive_name(name: str) -> bool:
    return _name_matches(name, _SENSITIVE_KEYWORDS, _SENSITIVE_TAILS, _NOT_SENSITIVE_PREFIXES)


def _log_call(
    ctx: FileContext, node: ast.Call
) -> tuple[str, list[ast.expr], list[ast.keyword]] | None:
    """(display name, message args, keyword args) of a logging or `print` call."""
    func = node.func
    if isinstance(func, ast.Name):
        if func.id != "print" or ctx.resolve(func) != "print" or _is_script(ctx):
            return None
        return "print", list(node.args), list(node.keywords)
    if not isinstance(func, ast.Attribute) or func.attr not in _LOG_METHODS:
        return None
    receiver = dotted(func.value)
    short = receiver.rsplit(".", 1)[-1].lower() if receiver else ""
    if not (short in _LOGGER_NAMES or short.endswith("logger")):
        callee = resolve_callee(ctx.project, ctx.module, func, ctx.function())
        if callee is None or not callee.startswith(_LOG_MODULES):
            return None
    args = list(node.args)
    if func.attr == "log" and args:
        args = args[1:]  # the level
    return _show(func), args, list(node.keywords)


_SCRIPT_DIRS = frozenset({"scripts", "script", "bin", "cli", "commands", "management", "tools"})


def _is_script(ctx: FileContext) -> bool:
    """A command-line script prints what it generates (`create_api_key.py` shows the new
    key once) by design: `print` there is output, not logging."""
    state = _state(ctx.model)
    found = state.scripts.get(id(ctx.module))
    if found is None:
        parts = ctx.module.relpath.split("/")
        found = any(p in _SCRIPT_DIRS for p in parts[:-1]) or any(
            isinstance(stmt, ast.If)
            and isinstance(stmt.test, ast.Compare)
            and isinstance(stmt.test.left, ast.Name)
            and stmt.test.left.id == "__name__"
            for stmt in ctx.module.tree.body
        )
        state.scripts[id(ctx.module)] = found
    return found


def _is_request(ctx: FileContext, expr: ast.AST) -> bool:
    kind = infer_type(ctx.project, ctx.module, expr, ctx.function())
    if kind is not None:
        return kind in _REQUEST_TYPES
    return isinstance(expr, ast.Name) and expr.id in ("request", "req")


def _is_headers(ctx: FileContext, expr: ast.AST, depth: int = 0) -> bool:
    """`request.headers` or `request.cookies` (or a local bound to them)."""
    if isinstance(expr, ast.Attribute) and expr.attr in ("headers", "cookies"):
        return _is_request(ctx, expr.value)
    if isinstance(expr, ast.Name) and depth < 2:
        fn = ctx.function()
        value = fn.local_values.get(expr.id) if fn is not None else None
        return value is not None and _is_headers(ctx, value, depth + 1)
    return False


def _entry(expr: ast.AST) -> str:
    cookies = isinstance(expr, ast.Attribute) and expr.attr == "cookies"
    return "cookie" if cookies else "header"


def _sensitive_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SENSITIVE_HEADERS or "session" in lowered or _sensitive_name(name)


def _auth_model(ctx: FileContext, expr: ast.AST) -> str | None:
    """The class of a value whose repr or dump carries a credential: a model with a
    plaintext secret field (`password`, `access_token`, `api_key`, not `SecretStr`), or
    FastAPI's login form and credentials classes."""
    kind = infer_type(ctx.project, ctx.module, expr, ctx.function())
    if kind is None:
        return None
    if kind in _EXTERNAL_AUTH_TYPES:
        return last_name(kind)
    info = ctx.project.class_(kind)
    if info is None:
        short = last_name(kind)
        return short if _EXTERNAL_AUTH_CLASS_RE.match(short) and "." in kind else None
    state = _state(ctx.model)
    verdict = state.auth_models.get(info.qualname)
    if verdict is None:
        verdict = _has_secret_field(ctx.project, info)
        state.auth_models[info.qualname] = verdict
    return info.node.name if verdict else None


def _has_secret_field(project: Project, info: ClassInfo) -> bool:
    for name in project.mro(info.qualname):
        cls = project.class_(name)
        if cls is None:
            continue
        for stmt in cls.node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            if not _sensitive_name(stmt.target.id):
                continue
            kind = annotation_type(project, cls.module, _field_type(project, cls, stmt.annotation))
            if kind in _SECRET_TYPES or kind in _NOT_CREDENTIAL_TYPES:
                continue
            if project.class_(kind) is not None:
                continue  # a structure (`token: GeneratedToken`), not a credential string
            return True
    return False


_FIELD_WRAPPERS = frozenset(
    f"{module}.{name}"
    for module in ("typing", "typing_extensions")
    for name in ("ReadOnly", "Required", "NotRequired", "ClassVar", "Final")
)


def _field_type(project: Project, cls: ClassInfo, annotation: ast.expr) -> ast.expr:
    """`ReadOnly[X]`, `NotRequired[X]` (TypedDict) and friends: the field's type is X."""
    while isinstance(annotation, ast.Subscript) and (
        project.resolve(cls.module, annotation.value) in _FIELD_WRAPPERS
    ):
        annotation = annotation.slice
    return annotation


def _masked(slice_: ast.Slice) -> bool:
    """`token[:4]` / `token[-4:]`: a short prefix or suffix identifies, it does not leak."""
    if slice_.step is not None:
        return False
    upper, lower = slice_.upper, slice_.lower
    if lower is None and isinstance(upper, ast.Constant) and isinstance(upper.value, int):
        return 0 < upper.value <= _MASK_MAX
    if (
        upper is None
        and isinstance(lower, ast.UnaryOp)
        and isinstance(lower.op, ast.USub)
        and isinstance(lower.operand, ast.Constant)
        and isinstance(lower.operand.value, int)
    ):
        return 0 < lower.operand.value <= _MASK_MAX
    return False


def _sensitive(ctx: FileContext, expr: ast.AST, depth: int = 0) -> str | None:
    """What credential a logged expression carries, for the message; None if none."""
    if depth > 6:
        return None
    if isinstance(expr, ast.JoinedStr):
        for v in expr.values:
            if isinstance(v, ast.FormattedValue):
                found = _sensitive(ctx, v.value, depth + 1)
                if found:
                    return found
        return None
    if isinstance(expr, ast.BinOp):
        return _sensitive(ctx, expr.left, depth + 1) or _sensitive(ctx, expr.right, depth + 1)
    if isinstance(expr, ast.BoolOp):
        for v in expr.values:
            found = _sensitive(ctx, v, depth + 1)
            if found:
                return found
        return None
    if isinstance(expr, ast.IfExp):
        return _sensitive(ctx, expr.body, depth + 1) or _sensitive(ctx, expr.orelse, depth + 1)
    if isinstance(expr, (ast.Await, ast.Starred)):
        return _sensitive(ctx, expr.value, depth + 1)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        for e in expr.elts:
            found = _sensitive(ctx, e, depth + 1)
            if found:
                return found
        return None
    if isinstance(expr, ast.Dict):
        return _sensitive_dict(ctx, expr, depth)
    if isinstance(expr, ast.Name):
        fn = ctx.function()
        if fn is not None and expr.id in fn.local_values and fn.local_values[expr.id] is None:
            # A loop variable: `for token in llm.stream(...)` iterates text tokens.
            return None
        if _sensitive_name(expr.id):
            if _not_credential_type(ctx, expr) or _code_constant(ctx, expr):
                return None
            bound = fn.local_values.get(expr.id) if fn is not None else None
            if bound is not None and _made_safe(bound):
                return None  # `api_key = api_key[:8] + "*" * 15`
            return f"`{expr.id}`"
        model = _auth_model(ctx, expr)
        if model is not None:
            return f"`{expr.id}` (`{model}`)"
        if set(_words(expr.id)) & _SAFE_NAME_WORDS:
            return None  # `hashed_token`: whatever it was built from, it says it is safe
        value = fn.local_values.get(expr.id) if fn is not None else None
        if value is not None and not isinstance(value, ast.Constant):
            inner = _sensitive(ctx, value, depth + 2)
            if inner:
                return f"`{expr.id}` (holding {inner})"
        return None
    if isinstance(expr, ast.Attribute):
        if _sensitive_name(expr.attr) or expr.attr == "credentials":
            return None if _not_credential_type(ctx, expr) else f"`{_show(expr)}`"
        if expr.attr in ("headers", "cookies") and _is_request(ctx, expr.value):
            return f"all request {expr.attr} (`{_show(expr)}`)"
        model = _auth_model(ctx, expr)
        if model is not None:
            return f"`{_show(expr)}` (`{model}`)"
        return None
    if isinstance(expr, ast.Subscript):
        if isinstance(expr.slice, ast.Slice):
            return None if _masked(expr.slice) else _sensitive(ctx, expr.value, depth + 1)
        key = const_str(expr.slice)
        if key is None:
            return None
        if _is_headers(ctx, expr.value):
            return f"the `{key}` {_entry(expr.value)}" if _sensitive_header(key) else None
        return f"`{_show(expr)}`" if _sensitive_name(key) else None
    if isinstance(expr, ast.Call):
        return _sensitive_call(ctx, expr, depth)
    return None


def _code_constant(ctx: FileContext, expr: ast.Name) -> bool:
    """A module-level constant the code spells out (`UPDATE_USER_PASSWORD =
    _get_rest_path("/users/update-password")`, a route): logging it shows nothing that
    is not in the source, unless the literal is itself a secret. Values read from the
    environment are not constants."""
    fn = ctx.function()
    if fn is not None and expr.id in fn.local_values:
        return False
    found = ctx.project.module_value(ctx.resolve(expr))
    if found is None:
        return False
    module, value = found
    literal = _literal(value)
    if literal is not None:
        return not _secret_value(expr.id, literal)  # a literal secret leaks all the same
    if not isinstance(value, ast.Call) or value.keywords:
        return False
    callee = ctx.project.function(ctx.project.resolve(module, value.func))
    return (
        callee is not None
        and bool(value.args)
        and all(isinstance(a, ast.Constant) for a in value.args)
    )


def _not_credential_type(ctx: FileContext, expr: ast.expr) -> bool:
    """`token: UUID` (a concurrency slot), `token = uuid4()`: named like a credential,
    typed as something no credential is."""
    kind = infer_type(ctx.project, ctx.module, expr, ctx.function())
    return kind in _NOT_CREDENTIAL_TYPES


_SAFE_CALL_WORDS = frozenset({"hash", "hashed", "mask", "masked", "redact", "obfuscate"})


def _made_safe(expr: ast.expr) -> bool:
    """A value masked (`token[:8] + "***"`) or hashed (`hash_token(token)`) before use."""
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
        return _masked(expr.slice)
    if isinstance(expr, ast.BinOp):
        return _made_safe(expr.left) and _made_safe(expr.right)
    if isinstance(expr, ast.JoinedStr):
        return all(_made_safe(v.value) for v in expr.values if isinstance(v, ast.FormattedValue))
    if isinstance(expr, ast.Call):
        name = dotted(expr.func) or ""
        return bool(set(_words(name.rsplit(".", 1)[-1])) & _SAFE_CALL_WORDS)
    return False


def _sensitive_dict(ctx: FileContext, expr: ast.Dict, depth: int) -> str | None:
    for k, v in zip(expr.keys, expr.values, strict=False):
        key = const_str(k)
        if key is not None and _sensitive_name(key) and not _made_safe(v):
            return f"the `{key}` entry"
        found = _sensitive(ctx, v, depth + 1)
        if found:
            return found
    return None


def _sensitive_call(ctx: FileContext, expr: ast.Call, depth: int) -> str | None:
    func = expr.func
    if isinstance(func, ast.Attribute):
        method, receiver = func.attr, func.value
        if method == "format" and isinstance(receiver, ast.Constant):
            for a in [*expr.args, *(kw.value for kw in expr.keywords)]:
                found = _sensitive(ctx, a, depth + 1)
                if found:
                    return found
            return None
        if method == "join" and isinstance(receiver, ast.Constant) and expr.args:
            return _sensitive(ctx, expr.args[0], depth + 1)
        if method in _BODY_METHODS and _is_request(ctx, receiver):
            return f"the raw request body (`{_show(expr)}`)"
        if method in ("get", "getlist") and expr.args and _is_headers(ctx, receiver):
            header = const_str(expr.args[0])
            if header is not None and _sensitive_header(header):
                return f"the `{header}` {_entry(receiver)}"
            return None
        if method in ("items", "values", "copy") and _is_headers(ctx, receiver):
            return f"all request {_entry(receiver)}s (`{_show(receiver)}`)"
        if method in _DUMP_METHODS:
            if keyword(expr, "exclude") is not None or keyword(expr, "include") is not None:
                return None
            model = _auth_model(ctx, receiver)
            if model is not None:
                return f"`{_show(expr)}` (`{model}`)"
            return None
        if method in _TRANSPARENT_METHODS:
            return _sensitive(ctx, receiver, depth + 1)
        return None
    if isinstance(func, ast.Name) and expr.args:
        name = ctx.resolve(func)
        if name in _TRANSPARENT_FUNCS:
            return _sensitive(ctx, expr.args[0], depth + 1)
    return None


@rule(
    code="FAA308",
    name="sensitive-data-logged",
    summary="A password, token, secret or authorization value is written to the logs",
    severity="warning",
    nodes=(ast.Call,),
    fix_title="Log an identifier (`user.id`) or a masked prefix instead of the credential",
    cwe=("CWE-532",),
    owasp=("API8:2023",),
    references=(
        "https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html#data-to-exclude",
        "https://fastapi.tiangolo.com/tutorial/security/oauth2-jwt/",
    ),
)
def sensitive_data_logged(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `logger.*`, `logging.*`, loguru/structlog and `print` calls whose arguments carry
    a credential: variables or attributes named like a password, token, secret, API key
    or authorization value (`form.password`, `access_token`, `settings.SECRET_KEY`,
    `credentials.credentials`), the request headers as a whole or their `Authorization`,
    `Cookie` and API-key entries, raw request bodies (`await request.body()`), and whole
    auth models or their `model_dump()`/`.dict()` (a model with a plaintext `password`,
    `token` or `api_key` field, `OAuth2PasswordRequestForm`, `HTTPBasicCredentials`). The
    values are found inside f-strings, `%` arguments, `.format()`, `extra={...}` and
    structlog keyword arguments.

    Not reported: words in the message text (`logger.info("password reset requested")`),
    `token_type`, `len(token)`, other calls' results, masked slices (`token[:4]`,
    `token[-4:]`, up to 20 characters, less than the header of a JWT), booleans such as `password_changed`, hashes
    (`hashed_password`), `SecretStr` fields (their repr is masked), dumps with
    `exclude=`/`include=`, loop variables (`for token in llm.stream(...)` yields text
    tokens), tokenizer, pagination, pricing and lease tokens (`max_tokens`, `next_token`,
    `input_cost_per_token`, `reservation_token`), values typed as something no credential
    is (`token: UUID`, a concurrency slot), values masked or hashed before use
    (`key = key[:8] + "***"`, `{"token": hash_token(token)}`, a variable named
    `hashed_token`), module constants the code spells out (a route path
    named `UPDATE_USER_PASSWORD`), fields that hold a structure (`token:
    GeneratedToken`), `print` in
    command-line scripts (under `scripts/`, `bin/`, `cli/`... or with an
    `if __name__ == "__main__":` block, where printing a generated key is the output),
    and test files.

    ## Why is this bad?
    Logs are copied to aggregators, shared in tickets and kept for months, with weaker
    access control than the user table. A logged password or bearer token is a
    credential anyone with log access can replay.

    ## Known problems
    Credentials are recognized by name and by type: a token held in a variable called
    `value` is missed, and a variable called `token` that holds something else is
    reported. Loggers are recognized by type (`logging`, loguru, structlog) or by a
    receiver named `logger`/`log`.

    ## Example
    ```python
    @router.post("/login/access-token")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
        logger.info(f"login attempt for {form.username} with password {form.password}")
    ```

    ## Use instead
    ```python
        logger.info("login attempt for %s", form.username)
    ```

    ## Fix safety
    No automatic fix.
    """
    found_call = _log_call(ctx, node)
    if found_call is None or _in_tests(ctx):
        return
    shown, args, keywords = found_call
    sink = "stdout" if shown == "print" else "the log"
    for arg in args:
        found = _sensitive(ctx, arg)
        if found:
            yield Report(node, f"`{shown}` writes {found} to {sink}")
            return
    for kw in keywords:
        if kw.arg in _LOG_OPTION_KEYWORDS:
            continue
        if (
            kw.arg is not None
            and kw.arg != "extra"
            and _sensitive_name(kw.arg)
            and not isinstance(kw.value, ast.Constant)
        ):
            yield Report(node, f"`{shown}` writes `{_show(kw.value)}` (as `{kw.arg}`) to {sink}")
            return
        found = _sensitive(ctx, kw.value)
        if found:
            yield Report(node, f"`{shown}` writes {found} to {sink}")
            return
