"""FAA305: passwords hashed with a fast digest or a weak scheme, or compared in plaintext."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from functools import lru_cache

from fastapi_architect.model.astutil import (
    argument,
    body_nodes,
    call_name,
    const_str,
    keyword,
    last_name,
    parameters,
    walk,
)
from fastapi_architect.model.project import Function, Module
from fastapi_architect.model.types import infer_type, resolve_callee
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules import _orm
from fastapi_architect.review.rules.security._common import (
    SECRET_TYPES,
    evaluate,
    in_tests,
    keyword_hits,
    literal_string,
    local_value,
    module_constant,
    module_imports,
    name_matches,
    name_words,
    security_state,
    show_code,
    strings_of,
)

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
    return name_matches(name, _PASSWORD_KEYWORDS, _PLAIN_TAILS, _NOT_PASSWORD_PREFIXES)


@lru_cache(maxsize=4096)
def _password_hash_name(name: str) -> bool:
    """Where a password hash is stored: `hashed_password`, `password_hash`."""
    return name_matches(name, _PASSWORD_KEYWORDS, _HASH_TAILS, _NOT_PASSWORD_HASH_PREFIXES)


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
    words = name_words(fn.name)
    if any(w in _NOT_PASSWORD_FUNCTION_WORDS for w in words):
        return False
    has_password = any(True for _ in keyword_hits(words, _PASSWORD_KEYWORDS))
    return has_password and any(w in _HASH_FUNCTION_WORDS for w in words)


def _breach_check(ctx: FileContext, fn: Function | None) -> bool:
    """Have I Been Pwned's range API wants the SHA-1 of the password: not storage."""
    if fn is None:
        return False
    state = security_state(ctx.model)
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
        if isinstance(anc, ast.Call) and call_name(anc) in _KDF_CALLS:
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
    state = security_state(ctx.model)
    slot = (id(fn.node), target)
    found = state.kdf_inputs.get(slot)
    if found is None:
        found = any(
            isinstance(sub, ast.Call)
            and call_name(sub) in _KDF_CALLS
            and any(
                isinstance(n, ast.Name) and n.id == target
                for a in [*sub.args, *(k.value for k in sub.keywords)]
                for n in walk(a)
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
def weak_password_hashing(node: ast.AST, ctx: FileContext) -> list[Report]:
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
    the literal is FAA304's), also wrapped in pydantic's `SecretStr("...")`/`SecretBytes`,
    read through a local and `.get_secret_value()`, or an UPPER_CASE constant imported from a package outside the
    reviewed tree (`from lfx.constants import LEGACY_DEFAULT_PASSWORD`), and test files.
    A constant read from the environment (`ADMIN_PASSWORD = os.environ[...]` or
    `os.getenv(...)`), or computed by any other call, is a configured password and is
    still reported.

    ## Why is this bad?
    MD5 and SHA-2 run billions of times per second on a GPU; without a per-user salt, a
    leaked table is cracked with precomputed dictionaries. Password hashes must be slow
    and salted (argon2id, bcrypt, scrypt, PBKDF2). A password compared in plaintext is
    stored in plaintext.

    ## Known problems
    The password is recognized by name; a digest of a value called `raw` or `s` is only
    found inside a password-hashing function (`hash_password`, `verify_password`) or when
    assigned to a password-hash name. A mapped column compared with the same field of a
    loaded row of its entity (`update(Auth).where(Auth.password == auth.password)`, a
    compare-and-swap on the stored hash) is not a plaintext check and is not reported.
    An UPPER_CASE name imported from outside the reviewed tree is taken for a fixed
    value, since its definition cannot be read; one that holds a configured password is
    missed.

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
    if isinstance(node, ast.Compare):
        found = list(_plaintext_compare(node, ctx))
    elif isinstance(node, ast.Call):
        # Most calls have no hashing function's name. A list, not a generator: this runs
        # for every call and comparison of the project.
        name = call_name(node)
        check = _HASH_CALLS.get(name) if name is not None else None
        if check is None or not module_imports(ctx, "hash"):
            return []
        found = list(check(node, ctx))
    else:
        return []
    return found if found and not in_tests(ctx) else []


def _bcrypt_gensalt(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    if ctx.resolve(node.func) == "bcrypt.gensalt":
        yield from _low_rounds(node, ctx, argument(node, 0, "rounds"), "`bcrypt.gensalt`")


def _passlib_scheme(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """`passlib.hash.md5_crypt.hash(...)`, `bcrypt.using(rounds=...)`."""
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
    elif scheme == "bcrypt" and call_name(node) == "using":
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
    schemes = strings_of(evaluate(ctx.project, ctx.module, argument(node, 0, "schemes"), fn))
    default = evaluate(ctx.project, ctx.module, keyword(node, "default"), fn)
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
    rounds = evaluate(ctx.project, ctx.module, expr, ctx.function())
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
    words = name_words(name)
    if any(w in _COMPARE_QUALIFIERS for w in words):
        return False
    return name_matches(
        name,
        tuple(k for k in _PASSWORD_KEYWORDS if k != ("pass",)),
        frozenset({"plain", "raw", "text"}),
        _COMPARE_QUALIFIERS,
        allow_numbered=False,
    )


# Methods that hand back the value they are called on, unwrapped or re-encoded.
_VALUE_METHODS = frozenset({"get_secret_value", "encode", "decode", "strip"})


def _fixed_literal(ctx: FileContext, module: Module, expr: ast.expr) -> bool:
    """A string literal of `module`, also wrapped in pydantic's `SecretStr("langflow")`.
    Any other call computes its value (`os.getenv("ADMIN_PASSWORD")`)."""
    if (
        isinstance(expr, ast.Call)
        and len(expr.args) == 1
        and not expr.keywords
        and ctx.project.resolve(module, expr.func) in SECRET_TYPES
    ):
        expr = expr.args[0]
    return literal_string(expr) is not None


def _outside_import(ctx: FileContext, expr: ast.expr) -> bool:
    """A name imported from a package outside the reviewed tree
    (`from lfx.constants import LEGACY_DEFAULT_PASSWORD`): its value is not visible."""
    if not isinstance(expr, ast.Name) or expr.id not in ctx.module.imports:
        return False
    qualname = ctx.resolve(expr)
    return qualname is not None and ctx.project.split(qualname)[0] is None


def _literal_constant(ctx: FileContext, expr: ast.expr, depth: int = 0) -> bool:
    """A module constant holding a fixed string (`_LEGACY_DEFAULT_PASSWORD = "..."` or
    `SecretStr("...")`), or an UPPER_CASE name imported from outside the reviewed tree,
    also read through a local and `.get_secret_value()`: comparing with it rejects a known value,
    it does not check a stored password (the literal itself is FAA304's). A constant
    read from the environment is a configured password and stays a plaintext check."""
    while (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in _VALUE_METHODS
    ):
        expr = expr.func.value
    if isinstance(expr, ast.Name) and depth < 3:
        bound = local_value(ctx, expr.id)
        if bound is not None:
            return _literal_constant(ctx, bound, depth + 1)
    found = module_constant(ctx, expr)
    if found is not None:
        return _fixed_literal(ctx, *found)
    return isinstance(expr, ast.Name) and expr.id.isupper() and _outside_import(ctx, expr)


def _row_of(ctx: FileContext, expr: ast.AST | None, entity: str) -> bool:
    """Is `expr` a loaded row of the ORM class `entity`: typed as the class or as its
    `<Class>Model`/`<Class>Response` schema, or named after it (`auth` for `Auth`)?"""
    if not isinstance(expr, ast.Name):
        return False
    name = last_name(entity)
    if expr.id == name.lower():
        return True
    typ = infer_type(ctx.project, ctx.module, expr, ctx.function())
    return typ is not None and (
        typ == entity or last_name(typ) in (f"{name}Model", f"{name}Response")
    )


def _stored_column_guard(ctx: FileContext, left: ast.expr, right: ast.expr) -> bool:
    """`Auth.password == auth.password`: a mapped column compared with the same field
    of a loaded row of that entity. Both hold the stored hash (a compare-and-swap
    guard in `update(Auth).where(...)`); no submitted password is involved."""
    if not (
        isinstance(left, ast.Attribute)
        and isinstance(right, ast.Attribute)
        and left.attr == right.attr
    ):
        return False
    index = _orm.state(ctx.model).index
    for column, row in ((left, right), (right, left)):
        entity = ctx.resolve(column.value)
        if entity is not None and index.model(entity) is not None:
            return _row_of(ctx, row.value, entity)
    return False


def _loader_of(ctx: FileContext, expr: ast.AST | None) -> str | None:
    """The function a local name was loaded from: `current = await get_auth(uid)` and
    `auth = auth or await get_auth(uid)` → `get_auth`."""
    fn = ctx.function()
    if not isinstance(expr, ast.Name) or fn is None:
        return None
    value = fn.local_values.get(expr.id)
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
        # `x = x or load()`: the fallback is the loader, the rest is the name itself.
        *given, value = value.values
        if not all(isinstance(v, ast.Name) and v.id == expr.id for v in given):
            return None
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return None
    return ctx.resolve(value.func) or ast.unparse(value.func)


def _same_record_snapshots(ctx: FileContext, left: ast.expr, right: ast.expr) -> bool:
    """`current.password != auth.password` where both rows come from the same loader
    (`get_auth(uid)` twice): two snapshots of one stored hash, compared to detect a
    change; no submitted password is involved."""
    if not (
        isinstance(left, ast.Attribute)
        and isinstance(right, ast.Attribute)
        and left.attr == right.attr
    ):
        return False
    loader = _loader_of(ctx, left.value)
    return loader is not None and loader == _loader_of(ctx, right.value)


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
    if _stored_column_guard(ctx, left, right):
        return
    if _same_record_snapshots(ctx, left, right):
        return
    yield Report(
        node,
        f"`{show_code(left)}` is compared in plaintext with `{show_code(right)}`: the password is "
        "stored unhashed",
    )


# What a call is checked for, by the callee's last name (`hashlib.sha256` -> sha256).
_HASH_CALLS: dict[str, Callable[[ast.Call, FileContext], Iterator[Report]]] = {
    **dict.fromkeys((*_FAST_HASHES, "new", "update"), _fast_password_hash),
    "CryptContext": _weak_crypt_context,
    "gensalt": _bcrypt_gensalt,
    **dict.fromkeys(("hash", "encrypt", "using", "genhash"), _passlib_scheme),
}
