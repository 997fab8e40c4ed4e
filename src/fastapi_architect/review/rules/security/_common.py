"""Helpers shared by the FAA3xx secrets-and-credentials rules: per-review caches,
module guards, name matching, a small constant evaluator and JWT call recognition."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi_architect.model.astutil import (
    argument,
    const_str,
    dotted,
    last_name,
    parameters,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import ClassInfo, Function, Module, Project
from fastapi_architect.model.pydantic_names import FIELD_FUNCTIONS
from fastapi_architect.model.types import infer_type, resolve_callee
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.index import project_index
from fastapi_architect.review.rules._callsites import callers_of
from fastapi_architect.review.rules._orm import is_test_module
from fastapi_architect.review.rules.concurrency import serving_coroutines, startup_handlers


@dataclass
class _State:
    """Facts computed once per review (one model at a time) and shared by the rules."""

    model: AppModel
    # All rules: module guards and test files, by module id.
    guards: dict[tuple[int, str], bool] = field(default_factory=dict)
    tests: dict[int, bool] = field(default_factory=dict)
    # FAA304: what kind of class a constant is declared in.
    classes_by_node: dict[int, ClassInfo] | None = None
    class_kinds: dict[str, str] = field(default_factory=dict)
    # FAA308: models with a plaintext secret field, modules that are scripts.
    auth_models: dict[str, bool] = field(default_factory=dict)
    scripts: dict[int, bool] = field(default_factory=dict)
    # FAA303: functions that also verify a token, how a local is read.
    verified_decode: dict[int, bool] = field(default_factory=dict)
    name_uses: dict[tuple[int, str], tuple[frozenset[str], bool]] = field(default_factory=dict)
    # FAA305: breach checks and KDF inputs, by function.
    hibp: dict[int, bool] = field(default_factory=dict)
    kdf_inputs: dict[tuple[int, str], bool] = field(default_factory=dict)


def security_state(model: AppModel) -> _State:
    return project_index(model, _State)


_GUARDS: dict[str, tuple[str, ...]] = {
    "jwt": ("jwt", "jose", "authlib", "joserfc"),
    "hash": ("hashlib", "passlib", "bcrypt"),
}


def imports_jwt(module: Module) -> bool:
    """The module guard of the JWT rules (`applies=`): the module imports a JWT library."""
    return module.imports_anything(*_GUARDS["jwt"])


def module_imports(ctx: FileContext, key: str) -> bool:
    """The cheap per-module guard, memoized because node rules ask it for every call."""
    state = security_state(ctx.model)
    slot = (id(ctx.module), key)
    found = state.guards.get(slot)
    if found is None:
        found = ctx.module.imports_anything(*_GUARDS[key])
        state.guards[slot] = found
    return found


def in_tests(ctx: FileContext) -> bool:
    """Test suites use throwaway keys, decode tokens unverified to inspect them, and print
    fixtures: none of it ships, so these rules stay out of them."""
    state = security_state(ctx.model)
    found = state.tests.get(id(ctx.module))
    if found is None:
        # `testing/` too: test helpers and fake credentials live there.
        found = is_test_module(ctx.module) or "testing" in ctx.module.relpath.split("/")[:-1]
        state.tests[id(ctx.module)] = found
    return found


_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+[0-9]*|[0-9]+")


# Words before a credential word that make the name something else: a hash, a flag or a
# count about it (`hashed_password`, `has_token`, `max_tokens`), or a tokenizer or
# pagination token (`eos_token`, `next_page_token`).
NOT_CREDENTIAL_PREFIXES = frozenset(
    {
        "hashed",
        "hash",
        "is",
        "has",
        "num",
        "min",
        "max",
        "n",
        "len",
        "no",
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


def name_words(name: str) -> list[str]:
    """`SECRET_KEY` → [secret, key]; `tokenUrl` → [token, url]; `APIKey` → [api, key]."""
    return [w.lower() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _WORD_RE.findall(part)]


def keyword_hits(
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


def name_matches(
    name: str,
    keywords: tuple[tuple[str, ...], ...],
    tails: frozenset[str],
    bad_prefixes: frozenset[str],
    allow_numbered: bool = True,
) -> bool:
    """Does the name *denote* one of the keywords? `SECRET_KEY` does, `SECRET_KEY_NAME` and
    `TOKEN_TYPE` do not: every word after the keyword must be in `tails`, no word before it
    in `bad_prefixes`."""
    for prefix, tail, numbered in keyword_hits(name_words(name), keywords):
        if numbered and not allow_numbered:
            continue
        if all(w in tails for w in tail) and not any(w in bad_prefixes for w in prefix):
            return True
    return False


class _Unknown:
    """A value that cannot be known statically."""


_UNKNOWN = _Unknown()


def evaluate(
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
            else evaluate(project, module, e, scope, depth + 1)
            for e in expr.elts
        ]
    if isinstance(expr, ast.Dict):
        out: dict[str, object] = {}
        for k, v in zip(expr.keys, expr.values, strict=False):
            key = const_str(k)
            if key is not None:
                out[key] = evaluate(project, module, v, scope, depth + 1)
        return out
    if isinstance(expr, ast.Call):
        if not expr.args and project.resolve(module, expr.func, scope) == "dict":
            return {
                kw.arg: evaluate(project, module, kw.value, scope, depth + 1)
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
                return evaluate(project, fn.module, value, fn, depth + 1)
            if any(p.arg == expr.id for p, _ in parameters(fn.node)):
                return _UNKNOWN
            fn = fn.parent
        found = project.module_value(project.resolve_name(module, expr.id))
        if found is not None:
            return evaluate(project, found[0], found[1], None, depth + 1)
        return _UNKNOWN
    if isinstance(expr, ast.Attribute):
        found = project.module_value(project.resolve(module, expr, scope))
        if found is not None:
            return evaluate(project, found[0], found[1], None, depth + 1)
        owner = infer_type(project, module, expr.value, scope)
        default = _class_default(project, owner, expr.attr)
        if default is not None:
            return evaluate(project, default[0], default[1], None, depth + 1)
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
                and project.resolve(info.module, value.func) in FIELD_FUNCTIONS
            ):
                inner = argument(value, 0, "default")
                return (info.module, inner) if inner is not None else None
            return info.module, value
    return None


def strings_of(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def show_code(expr: ast.AST) -> str:
    text = dotted(expr)
    if text is not None:
        return text
    try:
        text = ast.unparse(expr)
    except Exception:  # pragma: no cover - unparse handles every parsed node
        return "value"
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class JwtCall:
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


def _classify_jwt(name: str) -> JwtCall | None:
    owner, _, func = name.rpartition(".")
    op = _JWT_OPS.get(func)
    if op is None:
        return None
    if owner in ("jose.jwt", "jose.jws"):
        return JwtCall("jose", op)
    if owner in _PYJWT_OWNERS:
        return JwtCall("pyjwt", op)
    if owner in _AUTHLIB_DEFAULT:
        return JwtCall("authlib", op)
    if owner in _AUTHLIB_INSTANCE:
        return JwtCall("authlib", op, instance=True)
    if owner == "joserfc.jwt":
        return JwtCall("joserfc", op)
    return None


def jwt_call(ctx: FileContext, call: ast.Call) -> JwtCall | None:
    # Asked of every call by several rules: `call_name` inlined.
    func = call.func
    if isinstance(func, ast.Attribute):
        short = func.attr
    elif isinstance(func, ast.Name):
        short = func.id
        imported = ctx.module.imports.get(short)
        if imported is not None:
            # `from jose.jwt import decode as jose_decode`
            short = last_name(imported)
    else:
        return None
    if short not in _JWT_OPS or not module_imports(ctx, "jwt"):
        return None
    return jwt_of(ctx.project, ctx.module, call, ctx.function())


def jwt_of(
    project: Project, module: Module, call: ast.Call, scope: Function | None
) -> JwtCall | None:
    name = resolve_callee(project, module, call.func, scope)
    # A project module or wrapper that happens to be called `jwt` is not the library.
    if name is None or project.function(name) is not None:
        return None
    return _classify_jwt(name)


def display(call: ast.Call) -> str:
    return show_code(call.func)


def literal_string(expr: ast.AST | None) -> str | None:
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, str):
            return expr.value
        if isinstance(expr.value, bytes):
            return expr.value.decode("latin-1")
    return None


def local_value(ctx: FileContext, name: str) -> ast.expr | None:
    """The expression a local of the enclosing function is bound to (None for a loop
    variable, a parameter or a name that is not local)."""
    fn = ctx.function()
    return fn.local_values.get(name) if fn is not None else None


def module_constant(ctx: FileContext, expr: ast.expr) -> tuple[Module, ast.expr] | None:
    """The module-level value a name or attribute refers to, with its module; None for a
    local of the enclosing function (computed per call) and anything else."""
    if not isinstance(expr, (ast.Name, ast.Attribute)):
        return None
    fn = ctx.function()
    if isinstance(expr, ast.Name) and fn is not None and expr.id in fn.local_values:
        return None
    return ctx.project.module_value(ctx.resolve(expr))


def assigned_name(ctx: FileContext, node: ast.AST) -> str | None:
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


SECRET_TYPES = frozenset(
    {
        "pydantic.SecretStr",
        "pydantic.SecretBytes",
        "pydantic.types.SecretStr",
        "pydantic.types.SecretBytes",
        "pydantic.v1.SecretStr",
        "pydantic.v1.SecretBytes",
    }
)


def _serving_functions(model: AppModel) -> set[int]:
    """The functions that run while a request is served: route handlers, dependencies,
    the coroutines on the server's loop (middleware, exception handlers), and every
    project function they call, at any depth. Lifespans, startup code, `launch()`-style
    entry points and command-line functions are not among them. Computed once per run."""
    return project_index(model, _find_serving_functions)


def _find_serving_functions(model: AppModel) -> set[int]:
    project = model.project
    todo: list[Function] = [route.handler for route in model.routes]
    todo += [fn for fn in project.functions.values() if model.is_dependency(fn)]
    todo += serving_coroutines(model)
    seen: set[int] = set()
    while todo:
        fn = todo.pop()
        if id(fn.node) in seen:
            continue
        seen.add(id(fn.node))
        for site in model.callgraph.calls_of(fn):
            callee = project.function(site.target)
            if callee is not None and id(callee.node) not in seen:
                todo.append(callee)
    return seen


def outside_requests(ctx: FileContext) -> bool:
    """Is the current code outside request handling (startup, a `launch()` function,
    module level)? Functions defined inside a serving function count as serving."""
    serving = _serving_functions(ctx.model)
    fn: Function | None = ctx.function()
    while fn is not None:
        if id(fn.node) in serving:
            return False
        fn = fn.parent
    return True


def _startup_functions(model: AppModel) -> set[int]:
    """The functions that only run at startup or shutdown: lifespans and the handlers of
    `on_startup=`/`on_shutdown=`, `@app.on_event(...)` and `add_event_handler(...)`, and
    the project functions they call whose every known caller is one of these (or
    module-level code); none of them serves a request. Computed once per run."""
    return project_index(model, _find_startup_functions)


def _find_startup_functions(model: AppModel) -> set[int]:
    project = model.project
    roots = {fn.qualname: fn for fn in reversed(startup_handlers(model))}
    callers = callers_of(model)
    serving = _serving_functions(model)
    reach: dict[str, Function] = {}
    todo = list(roots.values())
    while todo:
        fn = todo.pop()
        if fn.qualname in reach or id(fn.node) in serving:
            continue
        reach[fn.qualname] = fn
        for site in model.callgraph.calls_of(fn):
            callee = project.function(site.target)
            if callee is not None and callee.qualname not in reach:
                todo.append(callee)
    # Drop what some other function calls too (a route, a Starlette endpoint, a backend),
    # until only functions called from startup code are left.
    sites_of = {
        name: callers.get(id(callee.node), ()) if (callee := project.function(name)) else ()
        for name in reach
    }
    changed = True
    while changed:
        changed = False
        for name in list(reach):
            if name in roots:
                continue
            if any(
                scope is not None and scope.qualname not in reach for scope, _, _ in sites_of[name]
            ):
                del reach[name]
                changed = True
    return {id(fn.node) for fn in reach.values()}


def at_startup(ctx: FileContext) -> bool:
    """Does the current code run only at startup (module level, a lifespan, a startup or
    shutdown handler, or a function only they call, or one defined inside those)? Known
    request handling (routes, dependencies, middleware and what they call) never does."""
    fn: Function | None = ctx.function()
    if fn is None:
        return True
    serving = _serving_functions(ctx.model)
    startup = _startup_functions(ctx.model)
    while fn is not None:
        if id(fn.node) in serving:
            return False
        if id(fn.node) in startup:
            return True
        fn = fn.parent
    return False


def keyed_read(expr: ast.AST) -> tuple[str, ast.expr] | None:
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
