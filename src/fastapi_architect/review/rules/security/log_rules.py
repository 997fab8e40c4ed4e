"""FAA308: passwords, tokens, secrets and authorization values written to logs."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import lru_cache

from fastapi_architect.model.astutil import const_str, dotted, keyword, last_name
from fastapi_architect.model.project import ClassInfo, Project
from fastapi_architect.model.types import annotation_type, infer_type, resolve_callee
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._http import HTTP_CONNECTION, REQUEST, WEBSOCKET
from fastapi_architect.review.rules.security._common import (
    NOT_CREDENTIAL_PREFIXES,
    SECRET_TYPES,
    in_tests,
    literal_string,
    local_value,
    module_constant,
    name_matches,
    name_words,
    outside_requests,
    security_state,
    show_code,
)
from fastapi_architect.review.rules.security.secret_rules import secret_value

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
_NOT_SENSITIVE_PREFIXES = NOT_CREDENTIAL_PREFIXES | frozenset(
    {
        "total",
        "count",
        # More pagination and sync tokens.
        "prev",
        "previous",
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
_REQUEST_TYPES = REQUEST | HTTP_CONNECTION | WEBSOCKET
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
    return name_matches(name, _SENSITIVE_KEYWORDS, _SENSITIVE_TAILS, _NOT_SENSITIVE_PREFIXES)


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
    return show_code(func), args, list(node.keywords)


_SCRIPT_DIRS = frozenset({"scripts", "script", "bin", "cli", "commands", "management", "tools"})


def _is_script(ctx: FileContext) -> bool:
    """A command-line script prints what it generates (`create_api_key.py` shows the new
    key once) by design: `print` there is output, not logging."""
    state = security_state(ctx.model)
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
        value = local_value(ctx, expr.id)
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
    state = security_state(ctx.model)
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
            if kind in SECRET_TYPES or kind in _NOT_CREDENTIAL_TYPES:
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
        value = fn.local_values.get(expr.id) if fn is not None else None
        if _sensitive_name(expr.id):
            if _not_credential_type(ctx, expr) or _code_constant(ctx, expr):
                return None
            if value is not None and _made_safe(value):
                return None  # `api_key = api_key[:8] + "*" * 15`
            return f"`{expr.id}`"
        model = _auth_model(ctx, expr)
        if model is not None:
            return f"`{expr.id}` (`{model}`)"
        if set(name_words(expr.id)) & _SAFE_NAME_WORDS:
            return None  # `hashed_token`: whatever it was built from, it says it is safe
        if value is not None and not isinstance(value, ast.Constant):
            inner = _sensitive(ctx, value, depth + 2)
            if inner:
                return f"`{expr.id}` (holding {inner})"
        return None
    if isinstance(expr, ast.Attribute):
        if _sensitive_name(expr.attr) or expr.attr == "credentials":
            return None if _not_credential_type(ctx, expr) else f"`{show_code(expr)}`"
        if expr.attr in ("headers", "cookies") and _is_request(ctx, expr.value):
            return f"all request {expr.attr} (`{show_code(expr)}`)"
        model = _auth_model(ctx, expr)
        if model is not None:
            return f"`{show_code(expr)}` (`{model}`)"
        return None
    if isinstance(expr, ast.Subscript):
        if isinstance(expr.slice, ast.Slice):
            return None if _masked(expr.slice) else _sensitive(ctx, expr.value, depth + 1)
        key = const_str(expr.slice)
        if key is None:
            return None
        if _is_headers(ctx, expr.value):
            return f"the `{key}` {_entry(expr.value)}" if _sensitive_header(key) else None
        return f"`{show_code(expr)}`" if _sensitive_name(key) else None
    if isinstance(expr, ast.Call):
        return _sensitive_call(ctx, expr, depth)
    return None


def _code_constant(ctx: FileContext, expr: ast.Name) -> bool:
    """A module-level constant the code spells out (`UPDATE_USER_PASSWORD =
    _get_rest_path("/users/update-password")`, a route): logging it shows nothing that
    is not in the source, unless the literal is itself a secret. Values read from the
    environment are not constants."""
    found = module_constant(ctx, expr)
    if found is None:
        return False
    module, value = found
    literal = literal_string(value)
    if literal is not None:
        return not secret_value(expr.id, literal)  # a literal secret leaks all the same
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
        return bool(set(name_words(name.rsplit(".", 1)[-1])) & _SAFE_CALL_WORDS)
    return False


def _safe_value(ctx: FileContext, expr: ast.expr) -> bool:
    """A value passed under a sensitive keyword (`token=short_token`) that is a constant,
    or masked or hashed before: here, or in the local it is read from."""
    if _made_safe(expr):
        return True
    if isinstance(expr, ast.Name):
        if set(name_words(expr.id)) & _SAFE_NAME_WORDS:
            return True
        fn = ctx.function()
        value = fn.local_values.get(expr.id) if fn is not None else None
        return value is not None and _made_safe(value)
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
            return f"the raw request body (`{show_code(expr)}`)"
        if method in ("get", "getlist") and expr.args and _is_headers(ctx, receiver):
            header = const_str(expr.args[0])
            if header is not None and _sensitive_header(header):
                return f"the `{header}` {_entry(receiver)}"
            return None
        if method in ("items", "values", "copy") and _is_headers(ctx, receiver):
            return f"all request {_entry(receiver)}s (`{show_code(receiver)}`)"
        if method in _DUMP_METHODS:
            if keyword(expr, "exclude") is not None or keyword(expr, "include") is not None:
                return None
            model = _auth_model(ctx, receiver)
            if model is not None:
                return f"`{show_code(expr)}` (`{model}`)"
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
    receiver named `logger`/`log`. A `print` outside request handling (module level,
    startup, a `launch()` function that shows the operator a private link, as gradio
    and Jupyter do) is reported at `info` severity only: it may be output on purpose,
    but stdout still ends up in a container's logs. Request handling is what a route,
    dependency, middleware or exception handler calls, as far as the call graph sees;
    a `print` reached only through calls it cannot follow is also reported as `info`.

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
    func = node.func
    # Asked of every call: the names `_log_call` accepts, checked without a call.
    if isinstance(func, ast.Attribute):
        if func.attr not in _LOG_METHODS:
            return
    elif not isinstance(func, ast.Name) or func.id != "print":
        return
    found_call = _log_call(ctx, node)
    if found_call is None or in_tests(ctx):
        return
    shown, args, keywords = found_call
    sink = "stdout" if shown == "print" else "the log"
    found = None
    for arg in args:
        found = _sensitive(ctx, arg)
        if found:
            break
    else:
        for kw in keywords:
            if kw.arg in _LOG_OPTION_KEYWORDS:
                continue
            if (
                kw.arg is not None
                and kw.arg != "extra"
                and _sensitive_name(kw.arg)
                and not _safe_value(ctx, kw.value)
            ):
                found = f"`{show_code(kw.value)}` (as `{kw.arg}`)"
                break
            found = _sensitive(ctx, kw.value)
            if found:
                break
    if not found:
        return
    if shown == "print" and outside_requests(ctx):
        # Output for the operator (gradio's `launch()` prints the private write link),
        # yet stdout still ends up in the container's logs: advice, not a warning.
        yield Report(
            node,
            f"`print` writes {found} to stdout outside request handling (startup or "
            "operator output), which container runtimes keep in the logs",
            severity="info",
        )
        return
    yield Report(node, f"`{shown}` writes {found} to {sink}")
