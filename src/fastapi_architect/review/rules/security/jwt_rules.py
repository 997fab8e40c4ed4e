"""FAA302 and FAA303: JWTs decoded without pinned algorithms or without verification."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from fastapi_architect.model.astutil import (
    argument,
    body_nodes,
    call_name,
    const_str,
    dotted,
    keyword,
    last_name,
    statements,
    walk,
    walk_nodes,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._callsites import callers_of
from fastapi_architect.review.rules._orm import is_test_module
from fastapi_architect.review.rules.security._common import (
    JwtCall,
    assigned_name,
    display,
    evaluate,
    imports_jwt,
    in_tests,
    jwt_call,
    jwt_of,
    keyed_read,
    local_value,
    module_constant,
    security_state,
    show_code,
    strings_of,
)

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
    value = evaluate(project, module, expr, scope)
    if not isinstance(value, dict):
        return [], expr
    disabled = [k for k in _CHECKED_CLAIMS if value.get(k) is False]
    required = value.get("require")
    if isinstance(required, (list, tuple)) and "exp" in required and "verify_exp" in disabled:
        # `"require": ["exp"]` with `verify_exp` off: the code checks the expiry itself
        # (against an injected clock, with its own skew), it does not skip it.
        disabled.remove("verify_exp")
    return disabled, expr


# Words of a name for a token's expiry, and for the current time.
_EXPIRY_WORDS = frozenset({"exp", "expires", "expiry", "expiration", "expired"})
_CLOCK_CALLS = frozenset(
    {
        "time.time",
        "time.time_ns",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
    }
)


def _checks_expiry_by_hand(ctx: FileContext) -> bool:
    """Is the expiry of what this function decodes checked by hand: an `if`, `while` or
    `assert` test, or a value assigned or returned, comparing a claim (`payload.exp`, `claims["exp"]`, `claims.get("exp")`)
    or a name for the expiry (`expires_at`) with the clock (`time.time()`,
    `datetime.now(...)`, a name for now), in the decoding function or a project function
    it calls, or else in every caller outside the tests (or a project function that
    caller calls)? Skyvern decodes in one helper and checks `payload.exp < time.time()` in
    its caller, or in a validator the caller runs."""
    fn = ctx.function()
    if fn is None:
        return False
    model = ctx.model
    if _checks_expiry(model, fn):
        return True
    callers = [
        (caller, module)
        for caller, module, _ in callers_of(model).get(id(fn.node), ())
        if not is_test_module(module)
    ]
    return bool(callers) and all(
        caller is not None and _checks_expiry(model, caller) for caller, _module in callers
    )


def _checks_expiry(model: AppModel, fn: Function) -> bool:
    """Does the function, or a project function it calls, test an expiry against the
    clock?"""
    project = model.project
    scopes = [fn]
    scopes.extend(
        callee
        for site in model.callgraph.calls_of(fn)
        if (callee := project.function(site.target)) is not None
    )
    for scope in scopes:
        for stmt in statements(scope.node.body):
            # A test (`if`, `while`, `assert`), or a value kept or returned (`expired =
            # ...`, `return payload["exp"] < time.time()`): not one only printed.
            if isinstance(stmt, (ast.If, ast.While, ast.Assert)):
                tested: ast.expr | None = stmt.test
            elif isinstance(stmt, (ast.Return, ast.Assign, ast.AnnAssign)):
                tested = stmt.value
            else:
                continue
            if tested is None:
                continue
            for compare in walk(tested):
                if not isinstance(compare, ast.Compare):
                    continue
                operands = [compare.left, *compare.comparators]
                if any(_names_expiry(o) for o in operands) and any(
                    _names_now(project, scope.module, o) for o in operands
                ):
                    return True
    return False


def _words_of(name: str) -> set[str]:
    return set(name.lower().split("_"))


def _names_expiry(expr: ast.expr) -> bool:
    """A claim read (`payload.exp`, `claims["exp"]`, `claims.get("exp")`) or a local
    named for the expiry (`expires_at`, `existing_expiration`): not another object's
    attribute such as `user.password_expires_at`."""
    for node in walk(expr):
        if isinstance(node, ast.Attribute) and node.attr == "exp":
            return True
        if isinstance(node, ast.Name) and _words_of(node.id) & _EXPIRY_WORDS:
            return True
        if isinstance(node, ast.Subscript) and const_str(node.slice) == "exp":
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and const_str(node.args[0]) == "exp"
        ):
            return True
    return False


def _names_now(project: Project, module: Module, expr: ast.expr) -> bool:
    for node in walk(expr):
        if isinstance(node, ast.Call) and project.resolve(module, node.func) in _CLOCK_CALLS:
            return True
        if isinstance(node, ast.Name) and "now" in _words_of(node.id):
            return True
    return False


def _signature_off(
    project: Project, module: Module, call: ast.Call, scope: Function | None
) -> bool:
    disabled, _ = _options(project, module, call, scope)
    if "verify_signature" in disabled:
        return True
    # PyJWT 1.x: `jwt.decode(token, verify=False)`.
    verify = keyword(call, "verify")
    return verify is not None and evaluate(project, module, verify, scope) is False


def _algorithms_expr(call: ast.Call, jc: JwtCall) -> ast.expr | None:
    if jc.op == "encode":
        return argument(call, 2, "algorithm")
    return argument(call, 2, "algorithms")


# ------------------------------------------------------------------ FAA302


def _has_kwargs(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


def _header_source(ctx: FileContext, expr: ast.AST, depth: int = 0) -> bool:
    """Is this the unverified header of a token (`jwt.get_unverified_header(token)`, or a
    local bound to it)?"""
    if depth > 4:
        return False
    if isinstance(expr, ast.Call):
        jc = jwt_call(ctx, expr)
        return jc is not None and jc.op == "header"
    if isinstance(expr, ast.Name):
        value = local_value(ctx, expr.id)
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
        value = local_value(ctx, expr.id)
        return value is not None and _alg_from_header(ctx, value, depth + 1)
    return False


_JOSERFC_KEY_CLASSES = frozenset({"OctKey", "RSAKey", "ECKey", "OKPKey"})
_JOSERFC_KEY_TYPES = frozenset({"oct", "RSA", "EC", "OKP"})


def _joserfc_key_call(name: str | None, call: ast.Call) -> bool:
    """`OctKey.import_key(...)`, `RSAKey.generate_key(...)`, `jwk.import_key(data, "oct")`,
    `jwk.generate_key("EC", "P-256")` (`name` is the resolved callee): a call that returns
    one key of one type."""
    name = name or ""
    if not name.startswith("joserfc."):
        return False
    owner, _, method = name.rpartition(".")
    if method not in ("import_key", "generate_key"):
        return False
    if last_name(owner) in _JOSERFC_KEY_CLASSES:
        return True
    # The module-level helpers (and `JWKRegistry`'s) take the key type as an argument.
    key_type = (
        argument(call, 1, "key_type") if method == "import_key" else argument(call, 0, "key_type")
    )
    return const_str(key_type) in _JOSERFC_KEY_TYPES if key_type is not None else False


def _single_joserfc_key(ctx: FileContext, expr: ast.AST | None, depth: int = 0) -> bool:
    """Is the key given to joserfc one `OctKey`/`RSAKey`/`ECKey`/`OKPKey` (built right
    there, or bound to a local or module constant)? joserfc checks that the header's
    algorithm fits the key's type (`alg.check_key`), so such a key admits one family:
    an `OctKey` only HMAC, an `RSAKey` only RSA. A `KeySet`, a callable or an unknown
    value is not followed."""
    if expr is None or depth > 4:
        return False
    if isinstance(expr, ast.Call):
        return _joserfc_key_call(ctx.resolve(expr.func), expr)
    if isinstance(expr, ast.Name):
        value = local_value(ctx, expr.id)
        if value is not None:
            return _single_joserfc_key(ctx, value, depth + 1)
    found = module_constant(ctx, expr) if isinstance(expr, ast.expr) else None
    if found is not None:
        # `KEY = OctKey.import_key(settings.secret)` at module level, here or imported.
        module, value = found
        return isinstance(value, ast.Call) and _joserfc_key_call(
            ctx.project.resolve(module, value.func), value
        )
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
    applies=imports_jwt,
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
    defense in depth there. Not reported: a joserfc call whose key is one `OctKey`,
    `RSAKey`, `ECKey` or `OKPKey` (`OctKey.import_key(secret)`, `jwk.import_key(data,
    "oct")`, or a local or module constant bound to one). joserfc accepts only the
    algorithms that fit the key's type, so such a key pins the family. A `KeySet`, a
    key callable, or a key whose type is not known is still reported.

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
    jc = jwt_call(ctx, node)
    if jc is None:
        yield from _mixed_allowlist(node, ctx)
        return
    if in_tests(ctx):
        return
    if jc.op != "decode" or _signature_off(ctx.project, ctx.module, node, ctx.function()):
        return  # an unverified decode is FAA303's finding
    shown = display(node)
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
        elif not _single_joserfc_key(ctx, argument(node, 1, "key")):
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
    yield from _mixed_algorithms(node, ctx, algorithms, shown)


def _mixed_allowlist(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    if call_name(node) not in ("JsonWebToken", "JWSRegistry"):
        return
    if in_tests(ctx):
        return
    name = ctx.resolve(node.func)
    if name not in _ALLOWLIST_CONSTRUCTORS:
        return
    yield from _mixed_algorithms(node, ctx, argument(node, 0, "algorithms"), last_name(name))


def _mixed_algorithms(
    node: ast.Call, ctx: FileContext, algorithms: ast.expr | None, shown: str
) -> Iterator[Report]:
    """An allow-list (`algorithms=`, or a constructor's) that mixes HMAC with RSA/EC."""
    mixed = _mixed(strings_of(evaluate(ctx.project, ctx.module, algorithms, ctx.function())))
    if mixed is not None:
        yield Report(
            node,
            f"`{shown}` allows both `{mixed[0]}` and `{mixed[1]}`: mixing HMAC and RSA/EC "
            "algorithms enables key confusion",
        )


# ------------------------------------------------------------------ FAA303


def _has_verified_decode(ctx: FileContext, fn: Function) -> bool:
    """Does the function also verify a token properly? Then an unverified decode in it is
    a peek (read `iss`/`kid` to find the key), not the trust decision."""
    state = security_state(ctx.model)
    found = state.verified_decode.get(id(fn.node))
    if found is None:
        found = False
        for sub in body_nodes(fn.node):
            if not isinstance(sub, ast.Call) or call_name(sub) not in (
                "decode",
                "decode_complete",
            ):
                continue
            jc = jwt_of(ctx.project, fn.module, sub, fn)
            if (
                jc is not None
                and jc.op == "decode"
                and not _signature_off(ctx.project, fn.module, sub, fn)
            ):
                found = True
                break
        state.verified_decode[id(fn.node)] = found
    return found


def _uses(ctx: FileContext, fn: Function, name: str) -> tuple[frozenset[str], bool]:
    """How a local is read in a function: the literal keys it is indexed with, and whether
    it is used any other way (returned, passed on, iterated...)."""
    state = security_state(ctx.model)
    slot = (id(fn.node), name)
    cached = state.name_uses.get(slot)
    if cached is not None:
        return cached
    keys: set[str] = set()
    keyed: set[int] = set()
    loads: list[ast.Name] = []
    for sub in body_nodes(fn.node):
        found = keyed_read(sub)
        if found is not None and isinstance(found[1], ast.Name) and found[1].id == name:
            keys.add(found[0])
            keyed.add(id(found[1]))
        elif isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, ast.Load):
            loads.append(sub)
    result = (frozenset(keys), any(id(n) not in keyed for n in loads))
    state.name_uses[slot] = result
    return result


def _direct_key(ctx: FileContext, node: ast.Call) -> tuple[bool, str | None]:
    """Is the call's result indexed right away (`f(t)["iss"]`, `f(t).get("iss")`), and
    with which literal key?"""
    parent = ctx.parent()
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return True, const_str(parent.slice)
    if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == "get":
        grand = ctx.stack[-2] if len(ctx.stack) > 1 else None
        found = keyed_read(grand) if grand is not None else None
        return True, found[0] if found is not None else None
    return False, None


def _read_keys(ctx: FileContext, node: ast.Call) -> frozenset[str] | None:
    """The literal keys read from the call's result, directly or through the local it is
    assigned to; None when the result is used some other way."""
    direct, key = _direct_key(ctx, node)
    if direct:
        return frozenset({key}) if key is not None else None
    fn = ctx.function()
    name = assigned_name(ctx, node)
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
    name = assigned_name(ctx, node)
    if fn is None or name is None:
        return None
    keys, _ = _uses(ctx, fn, name)
    found = sorted(keys & _HEADER_KEY_SOURCES)
    return found[0] if found else None


def _token_arg(node: ast.Call) -> ast.expr | None:
    found = argument(node, 0, "jwt")
    return found if found is not None else keyword(node, "token")


def _mentions(fn: Function, expr: ast.expr, token: str) -> bool:
    """Does `expr` hold the token expression, directly or through a local's value
    (`data = {"access_token": form.token}; client.userinfo(token=data)`)?"""
    for sub in walk_nodes([expr]):
        if isinstance(sub, ast.expr) and ast.dump(sub) == token:
            return True
        if isinstance(sub, ast.Name):
            bound = fn.local_values.get(sub.id)
            if bound is not None and any(
                isinstance(n, ast.expr) and ast.dump(n) == token for n in walk_nodes([bound])
            ):
                return True
    return False


def _sure_statements(fn: Function, before: int) -> Iterator[ast.stmt]:
    """Simple statements that run before line `before` whenever it is reached: the
    function's top level, and the bodies of top-level `try`s whose every `except`
    clause ends with `raise` or `return` (a failure never falls through)."""
    for stmt in fn.node.body:
        if (stmt.end_lineno or stmt.lineno) >= before:
            return
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr)):
            yield stmt
        elif (
            isinstance(stmt, ast.Try)
            and stmt.handlers
            and all(isinstance(h.body[-1], (ast.Raise, ast.Return)) for h in stmt.handlers)
        ):
            yield from (
                s for s in stmt.body if isinstance(s, (ast.Assign, ast.AnnAssign, ast.Expr))
            )


def _accepted_by_issuer(ctx: FileContext, node: ast.Call) -> bool:
    """Was the same token sent to the issuer's userinfo endpoint first, in a call that
    always runs before the decode and whose failure stops the function? The issuer has
    then accepted the token, so its claims are authentic. (Introspection does not count:
    a rejected token comes back as `{"active": false}`, it does not raise.)"""
    fn = ctx.function()
    token = _token_arg(node)
    base = token
    while isinstance(base, ast.Attribute):
        base = base.value
    if fn is None or token is None or not isinstance(base, ast.Name) or dotted(token) is None:
        return False
    # The token's variable is a parameter that is never rebound.
    if base.id not in fn.param_names or any(
        isinstance(n, ast.Name) and n.id == base.id and isinstance(n.ctx, ast.Store)
        for n in body_nodes(fn.node)
    ):
        return False
    shape = ast.dump(token)
    for stmt in _sure_statements(fn, node.lineno):
        for call in walk_nodes([stmt]):
            if not isinstance(call, ast.Call):
                continue
            name = (call_name(call) or "").lower().replace("_", "")
            if "userinfo" in name and any(
                _mentions(fn, arg, shape) for arg in [*call.args, *(k.value for k in call.keywords)]
            ):
                return True
    return False


@rule(
    code="FAA303",
    name="jwt-verification-disabled",
    summary="A JWT is accepted without verifying its signature, expiry or audience",
    severity="error",
    nodes=(ast.Call,),
    applies=imports_jwt,
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
    reported: the trust assumption deserves a `# noqa: FAA303` with the reason. Not
    reported: the same token (a parameter, never rebound) was first sent to the issuer's
    userinfo endpoint (`client.userinfo(token={"access_token": token})`) in a statement
    that always runs before the decode and whose failure raises or returns. Options
    built up key by key (`opts["verify_exp"] = False`) are not followed. `verify_exp`
    switched off while `"require"` lists `"exp"` is not reported: the expiry is checked
    by hand (an injected clock, a custom skew). Nor is it when an `if`, `while` or
    `assert` test, or a value assigned or returned (`return payload["exp"] <
    time.time()` in an `is_expired` helper), compares a claim (`payload.exp`, `claims["exp"]`, `claims.get("exp")`)
    or a name for the expiry (`expires_at`) with the clock (`time.time()`,
    `datetime.now()`, a name such as `now`) in the decoding function or a project
    function it calls, or else in every caller outside the tests (or a project function
    that caller calls): the expiry is checked by hand there. Whether that test guards the
    token's use is not checked.

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
    jc = jwt_call(ctx, node)
    if jc is None or in_tests(ctx):
        return
    shown = display(node)
    if jc.op == "encode":
        algorithm = evaluate(ctx.project, ctx.module, _algorithms_expr(node, jc), ctx.function())
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
        if not _is_peek(ctx, node) and not _accepted_by_issuer(ctx, node):
            yield Report(node, f"`{shown}` returns claims without verifying the signature")
        return
    # decode
    algorithms = _algorithms_expr(node, jc)
    values = strings_of(evaluate(ctx.project, ctx.module, algorithms, ctx.function()))
    if any(v.lower() == "none" for v in values):
        yield Report(node, f'`{shown}` accepts `algorithms=["none"]`: unsigned tokens pass')
        return
    disabled, options = _options(ctx.project, ctx.module, node, ctx.function())
    source = (
        f" (options from `{show_code(options)}`)"
        if isinstance(options, (ast.Name, ast.Attribute))
        else ""
    )
    if _signature_off(ctx.project, ctx.module, node, ctx.function()):
        if not _is_peek(ctx, node) and not _accepted_by_issuer(ctx, node):
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
    if "verify_exp" in weaker and _checks_expiry_by_hand(ctx):
        weaker.remove("verify_exp")
    if weaker:
        checks = ", ".join(f"`{k}`" for k in weaker)
        effects = [_WEAKER_EFFECT[k] for k in weaker]
        yield Report(
            node,
            f"`{shown}` switches off {checks}{source}: {' and '.join(effects)} are accepted",
            severity="warning",
        )
