"""FAA309 to FAA313 (web-facing configuration): secrets compared in non-constant time, a
`TrustedHostMiddleware` that trusts every host, debug mode or the auto-reloader left on,
interactive docs served in every environment, and session or token cookies without
`HttpOnly`/`Secure`/`SameSite`."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from functools import lru_cache
from itertools import pairwise

from fastapi_architect.model.apps import APP_CLASSES
from fastapi_architect.model.astutil import (
    argument,
    call_name,
    const_str,
    keyword,
    last_name,
    parameters,
    walk,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.dependencies import param_sites, resolve_target
from fastapi_architect.model.project import Function, Project
from fastapi_architect.model.pydantic_names import is_pydantic_model
from fastapi_architect.model.types import ANNOTATED, infer_type, resolve_callee
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.index import may_resolve_to, project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules import _orm
from fastapi_architect.review.rules.auth import (
    LOGIN_FORMS,
    MIDDLEWARE,
    constant_value,
    dev_only_test,
    environment_comparison,
)
from fastapi_architect.review.rules.security._common import (
    NOT_CREDENTIAL_PREFIXES,
    at_startup,
    evaluate,
    in_tests,
    keyed_read,
    keyword_hits,
    literal_string,
    local_value,
    module_constant,
    name_words,
    show_code,
)

# ------------------------------------------------------------------ shared helpers

_APPS = APP_CLASSES | {"starlette.applications.Starlette", "starlette.Starlette"}
_PROD_VALUES = frozenset({"prod", "production", "live", "staging", "stage"})
_PROD_FLAGS = frozenset({"is_production", "is_prod", "production", "in_production"})


def _prod_only_test(test: ast.expr) -> bool:
    """`settings.is_production`, `ENV == "production"`: the `else` branch of such a test
    runs only outside production."""
    if isinstance(test, (ast.Name, ast.Attribute)):
        name = test.id if isinstance(test, ast.Name) else test.attr
        return name.lower() in _PROD_FLAGS
    found = environment_comparison(test)
    if found is None:
        return False
    op, values = found
    return isinstance(op, (ast.Eq, ast.In)) and all(v in _PROD_VALUES for v in values)


def _branches(ctx: FileContext, node: ast.AST) -> Iterator[tuple[ast.expr, bool]]:
    """(test, in the body) of every `if` statement or conditional expression the node is
    inside, innermost last."""
    chain = [*ctx.stack, node]
    for parent, child in pairwise(chain):
        if isinstance(parent, ast.If) and child is not parent.test:
            yield parent.test, any(s is child for s in parent.body)
        elif isinstance(parent, ast.IfExp) and child is not parent.test:
            yield parent.test, child is parent.body


def _dev_only(ctx: FileContext, node: ast.AST) -> bool:
    """Runs only in development: in the body of `if settings.DEBUG:` /
    `if settings.ENVIRONMENT == "local":` / `if in_debug_mode():`, or in the `else` of
    `if settings.is_production:`."""

    def dev(test: ast.expr) -> bool:
        return dev_only_test(test) or _dev_predicate(ctx, test)

    return any(
        (dev(test) or _negated(test, _prod_only_test))
        if in_body
        else (_prod_only_test(test) or _negated(test, dev))
        for test, in_body in _branches(ctx, node)
    )


_DEV_MODE_WORDS = frozenset({"debug", "dev", "develop", "development"})
_ENV_READS = frozenset({"os.getenv", "os.environ"})


def _dev_predicate(ctx: FileContext, test: ast.expr) -> bool:
    """`in_debug_mode()`, `is_dev()`: a call of a project function named for debug or
    development mode that reads the environment (`os.getenv`, `os.environ`), itself or
    through a project function it calls (khoj's `is_env_var_true("KHOJ_DEBUG")`)."""
    if not isinstance(test, ast.Call):
        return False
    project = ctx.project
    fn = project.function(resolve_callee(project, ctx.module, test.func, ctx.function()))
    if fn is None or _DEV_MODE_WORDS.isdisjoint(name_words(fn.name)):
        return False
    if _reads_environment(ctx, fn):
        return True
    for sub in walk(fn.node):
        if isinstance(sub, ast.Call):
            callee = project.function(resolve_callee(project, fn.module, sub.func, fn))
            if callee is not None and callee is not fn and _reads_environment(ctx, callee):
                return True
    return False


def _reads_environment(ctx: FileContext, fn: Function) -> bool:
    return any(
        isinstance(sub, (ast.Name, ast.Attribute))
        and ctx.project.resolve(fn.module, sub, fn) in _ENV_READS
        for sub in walk(fn.node)
    )


def _negated(test: ast.expr, check: Callable[[ast.expr], bool]) -> bool:
    """`not settings.is_production` for the production check, and so on."""
    return isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and check(test.operand)


def _main_guard(test: ast.expr) -> bool:
    """`if __name__ == "__main__":`"""
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and {
            const_str(test.left) or (test.left.id if isinstance(test.left, ast.Name) else ""),
            const_str(test.comparators[0])
            or (test.comparators[0].id if isinstance(test.comparators[0], ast.Name) else ""),
        }
        == {"__name__", "__main__"}
    )


def _under_main(ctx: FileContext, node: ast.AST) -> bool:
    return any(in_body and _main_guard(test) for test, in_body in _branches(ctx, node))


class _Marker:
    """A sentinel: an option not passed, a value not known statically."""


_MISSING = _Marker()
_UNKNOWN = _Marker()
_GATED = _Marker()
_UNKNOWN_EXTRA = "**"


def _literal(ctx: FileContext, expr: ast.expr | None) -> ast.expr | None:
    """The expression behind a local or module constant (`DEBUG = True`)."""
    return constant_value(ctx, expr) if expr is not None else None


def _is_true(ctx: FileContext, expr: ast.expr | None) -> bool:
    found = _literal(ctx, expr)
    return isinstance(found, ast.Constant) and found.value is True


def _app_dirs(model: AppModel) -> tuple[frozenset[str], frozenset[int]]:
    """The top-level folders holding an app, and the modules that create one."""
    found = {id(r.module): r.module for r in model.routers.values() if r.kind == "app"}
    top = frozenset(m.relpath.split("/")[0] for m in found.values() if "/" in m.relpath)
    return top, frozenset(found)


def _app_module(ctx: FileContext) -> bool:
    """A module of the application: it creates a `FastAPI()` app, or it sits in the same
    top-level package as one (`app/cli.py` next to `app/main.py`). A `run.py` or
    `scripts/dev.py` beside the package is a script, not an app module."""
    dirs, modules = project_index(ctx.model, _app_dirs)
    if id(ctx.module) in modules:
        return True
    relpath = ctx.module.relpath
    return "/" in relpath and relpath.split("/")[0] in dirs


# ------------------------------------------------------------------ FAA309

_SECRET_KEYWORDS: tuple[tuple[str, ...], ...] = (
    ("token",),
    ("api", "key"),
    ("apikey",),
    ("secret",),
    ("signature",),
    ("sig",),
    ("hmac",),
    ("credentials",),
    ("access", "key"),
    ("private", "key"),
    ("auth", "key"),
)
_SECRET_TAILS = frozenset(
    {"key", "value", "str", "bytes", "b", "header", "hex", "raw", "string", "encoded", "b64"}
)
# Tokens that coordinate work rather than prove identity: leases, locks, idempotency.
_NOT_SECRET_PREFIXES = NOT_CREDENTIAL_PREFIXES | {
    "type",
    "kind",
    "len",
    "count",
    "reservation",
    "lease",
    "lock",
    "fencing",
    "idempotency",
    "sync",
    "cancel",
    "cancellation",
    "resume",
    "pagination",
    "etag",
    "version",
    "trace",
    "correlation",
    "cache",
    "cached",
    "dispatch",
    "turn",
}
_WEAK_KEYWORDS: tuple[tuple[str, ...], ...] = (("signature",), ("sig",))
_STRING_METHODS = frozenset(
    {"encode", "decode", "strip", "lower", "upper", "rstrip", "lstrip", "hex", "get_secret_value"}
)
# Calls that read a value rather than compute one: a local bound to them is what its name says.
_GETTERS = frozenset({"get", "getenv", "pop", "getheader", "get_header"})
_HMAC_DIGESTS = frozenset({"hexdigest", "digest"})
_SQL_CALLS = frozenset(
    {
        "where",
        "filter",
        "filter_by",
        "having",
        "and_",
        "or_",
        "not_",
        "join",
        "outerjoin",
        "case",
        "exclude",
        "query",
        "select",
        "update",
        "delete",
    }
)


@lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    """`x_api_key`, `settings.API_KEY`, `expected_signature`, `X-Hub-Signature-256`; not
    `token_type`, `token_hash`, `max_tokens`, `next_page_token`."""
    for prefix, tail, _numbered in keyword_hits(name_words(name), _SECRET_KEYWORDS):
        if all(w in _SECRET_TAILS or w.isdigit() for w in tail) and not any(
            w in _NOT_SECRET_PREFIXES for w in prefix
        ):
            return True
    return False


_STRING_OPS = _STRING_METHODS | {
    "removeprefix",
    "removesuffix",
    "replace",
    "split",
    "rsplit",
    "partition",
    "rpartition",
}


def _strip_string_ops(expr: ast.expr) -> ast.expr:
    """`header.removeprefix("Bearer ").strip()` → `header`; `auth.split(" ")[1]` → `auth`."""
    for _ in range(8):
        if isinstance(expr, ast.Subscript):
            expr = expr.value
        elif (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in _STRING_OPS
        ):
            expr = expr.func.value
        else:
            break
    return expr


@lru_cache(maxsize=1024)
def _weak_name(name: str) -> bool:
    """Only "signature" says it is a secret: it may be a function's or a cache's."""
    words = name_words(name)
    strong = tuple(k for k in _SECRET_KEYWORDS if k not in _WEAK_KEYWORDS)
    return not any(True for _ in keyword_hits(words, strong))


def _presented(ctx: FileContext, expr: ast.expr) -> bool:
    """The value comes with the request: a parameter of the enclosing function (a header
    parameter, a dependency's argument) or read from `request.headers`."""
    base = _strip_string_ops(expr)
    fn = ctx.function()
    if isinstance(base, ast.Name) and fn is not None:
        return any(p.arg == base.id for p, _ in parameters(fn.node))
    return any(
        isinstance(sub, (ast.Name, ast.Attribute))
        and (sub.id if isinstance(sub, ast.Name) else sub.attr) in ("request", "headers")
        for sub in walk(base)
    )


def _hmac_digest(ctx: FileContext, expr: ast.expr) -> bool:
    """`hmac.new(key, body, sha256).hexdigest()`, `hmac.digest(key, body, "sha256")`."""
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in _HMAC_DIGESTS
        and isinstance(func.value, ast.Call)
    ):
        return ctx.resolve(func.value.func) in ("hmac.new", "hmac.HMAC")
    return ctx.resolve(func) == "hmac.digest"


def _secret_operand(ctx: FileContext, expr: ast.expr, depth: int = 0) -> str | None:
    """The name that says a compared value is a secret, or None."""
    if depth > 3:
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        # `"sha256=" + hmac.new(...).hexdigest()`
        return _secret_operand(ctx, expr.left, depth + 1) or _secret_operand(
            ctx, expr.right, depth + 1
        )
    if isinstance(expr, ast.JoinedStr):
        # `f"sha256={digest}"`
        for part in expr.values:
            if isinstance(part, ast.FormattedValue):
                found = _secret_operand(ctx, part.value, depth + 1)
                if found is not None:
                    return found
        return None
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr in _STRING_METHODS:
            return _secret_operand(ctx, func.value, depth + 1)
        if isinstance(func, ast.Name) and func.id in ("str", "bytes") and len(expr.args) == 1:
            return _secret_operand(ctx, expr.args[0], depth + 1)
        if _hmac_digest(ctx, expr):
            return "hmac"
        if call_name(expr) in _GETTERS and expr.args:
            # `request.headers.get("X-API-Key")`, `os.getenv("API_KEY")`
            key = const_str(expr.args[0])
            return key if key is not None and _secret_name(key) else None
        return None
    if isinstance(expr, ast.Name):
        bound = local_value(ctx, expr.id)
        if _secret_name(expr.id):
            # A local computed by some other call is what that call says it is, whatever
            # its name: `signature = inspect.signature(fn)`, `token = make_token()`.
            base = _strip_string_ops(bound) if bound is not None else None
            if (
                isinstance(base, ast.Call)
                and call_name(base) not in _GETTERS
                and _secret_operand(ctx, base, depth + 1) is None
            ):
                return None
            return expr.id
        # `expected = hmac.new(...).hexdigest()`, `expected = settings.API_KEY`
        if bound is not None and not isinstance(bound, ast.Name):
            return _secret_operand(ctx, bound, depth + 1)
        return None
    if isinstance(expr, ast.Attribute):
        return expr.attr if _secret_name(expr.attr) else None
    if isinstance(expr, ast.Subscript):
        key = const_str(expr.slice)
        return key if key is not None and _secret_name(key) else None
    return None


_CONFIG_WORDS = frozenset(
    {"settings", "config", "conf", "cfg", "env", "request", "headers", "credentials", "app"}
)


def _same_field(left: ast.expr, right: ast.expr) -> bool:
    """`current_session.token != session.token`: the same field of two stored records
    (a change check), not a presented credential against the expected secret."""
    if not (
        isinstance(left, ast.Attribute)
        and isinstance(right, ast.Attribute)
        and left.attr == right.attr
    ):
        return False
    for base in (left.value, right.value):
        name = show_code(base)
        if any(w in _CONFIG_WORDS for w in name_words(name)):
            return False
    return True


def _sentinel(expr: ast.expr) -> bool:
    """`PTU_SENTINEL_API_KEY`: a constant named as a marker value (a row that stands for
    something else), which no secret is compared with."""
    return (
        isinstance(expr, (ast.Name, ast.Attribute))
        and (expr.id if isinstance(expr, ast.Name) else expr.attr).isupper()
        and "sentinel" in name_words(show_code(expr))
    )


def _same_stored_key(ctx: FileContext, left: ast.expr, right: ast.expr) -> bool:
    """`record.get("refresh_token") == saved.get("refresh_token")`: the same key of two
    records the server holds (was it rotated by another process?). Not when a side may
    come with the request: a parameter of a route or dependency FastAPI fills, a local
    read from an awaited call (`payload = await request.json()`, `await
    websocket.receive_json()`), or the request itself."""
    one, other = keyed_read(left), keyed_read(right)
    if one is None or other is None or one[0] != other[0]:
        return False
    fn = ctx.function()
    if fn is None:
        return False
    client = (
        fn.param_names - _function_dependencies(ctx, fn)
        if _request_facing(ctx, fn)
        else frozenset()
    )
    for _key, base in (one, other):
        root = base
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if not isinstance(root, ast.Name) or root.id in client:
            return False
        if any(w in _CONFIG_WORDS or w in _REQUEST_PARTS for w in name_words(root.id)):
            return False
        if root.id in fn.param_names or root.id in ("self", "cls"):
            continue
        value = fn.local_values.get(root.id)
        if value is None or any(
            isinstance(node, ast.Await)
            or (isinstance(node, ast.Name) and node.id in client)
            or (isinstance(node, ast.Name) and set(name_words(node.id)) & _REQUEST_PARTS)
            for node in ast.walk(value)
        ):
            return False
    return True


_REQUEST_PARTS = frozenset({"request", "websocket", "headers", "cookies", "query", "form", "body"})


# Words that make a parameter the value a credential is checked against.
_EXPECTED_WORDS = frozenset(
    {
        "expected",
        "stored",
        "valid",
        "correct",
        "known",
        "configured",
        "config",
        "settings",
        "env",
        "secret",
        "saved",
        "server",
        "master",
        "admin",
        "required",
        "allowed",
        "reference",
        "real",
        "actual",
        "db",
        "computed",
        "calculated",
        "generated",
    }
)
# Words that make a parameter the presented credential: the other side is then the expected one.
_PRESENTED_WORDS = frozenset(
    {
        "provided",
        "given",
        "supplied",
        "received",
        "incoming",
        "submitted",
        "candidate",
        "presented",
        "claimed",
        "sent",
        "input",
        "header",
        "request",
    }
)


def _copied_name(ctx: FileContext, fn: Function, name: str) -> str | None:
    """The one name a local copies (`resolved = token`, `resolved = await token`,
    `resolved = token.strip()`), when every assignment to it is that copy or `None`;
    else None. A local copied in one branch and set otherwise in another
    (`expected = API_TOKEN`, then `if token: expected = token`) may hold the configured
    secret."""
    facts = _orm.state(ctx.model).facts_of(fn)
    bindings = facts.assigns.get(name)
    if not bindings or name in facts.loop_targets:
        return None
    sources: set[str] = set()
    for _stmt, value in bindings:
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Constant) and value.value is None:
            continue
        value = _strip_string_ops(value) if value is not None else None
        if not isinstance(value, ast.Name):
            return None
        sources.add(value.id)
    return sources.pop() if len(sources) == 1 else None


def _plain_parameter(ctx: FileContext, expr: ast.expr) -> list[str] | None:
    """The names of a parameter of the enclosing function that its caller passes as is
    (no `Header()`/`Depends()` default and no `Annotated` marker: a dependency's result
    may be the configured secret), and of the locals that copy it on the way
    (`resolved = token`): their names say which side is expected, too."""
    fn = ctx.function()
    base = _strip_string_ops(expr)
    if fn is None or not isinstance(base, ast.Name):
        return None
    names = [base.id]
    for _ in range(2):
        if names[-1] not in fn.local_values:
            break
        source = _copied_name(ctx, fn, names[-1])
        if source is None:
            return None
        names.append(source)
    for param, default in parameters(fn.node):
        if param.arg != names[-1]:
            continue
        if default is not None and not isinstance(default, ast.Constant):
            return None
        annotation = param.annotation
        if isinstance(annotation, ast.Subscript) and ctx.resolve(annotation.value) in ANNOTATED:
            return None
        return names
    return None


def _presented_pair(ctx: FileContext, left: ast.expr, right: ast.expr) -> bool:
    """`external_token != token` between two plain parameters (or locals that only
    copy them), none named as the expected value (`expected_token`, `stored_key`) nor as
    the presented one (which makes the other expected): two credentials handed in
    together (a cookie and a bearer token of one request), compared to skip a
    duplicate. No secret is there to leak."""
    for side in (left, right):
        names = _plain_parameter(ctx, side)
        if names is None or any(
            w in _EXPECTED_WORDS or w in _PRESENTED_WORDS
            for name in names
            for w in name_words(name)
        ):
            return False
    return True


def _normalized_copy(ctx: FileContext, left: ast.expr, right: ast.expr) -> bool:
    """`key = secret.strip()`, then `key != secret`: a value compared with a copy of
    itself made by string methods, to learn whether they changed it (a stray newline in
    a key file). Both sides are the same secret: no unknown one is being guessed."""
    fn = ctx.function()
    if fn is None:
        return False
    for copy, original in ((left, right), (right, left)):
        if not isinstance(copy, ast.Name):
            continue
        bound = fn.local_values.get(copy.id)
        if bound is None:
            continue
        base = _strip_string_ops(bound)
        if base is not bound and ast.dump(base) == ast.dump(original):
            return True
    return False


def _project_object(ctx: FileContext, expr: ast.expr) -> bool:
    """A value the project types as one of its own plain classes (`signature:
    ModelSignature`): every ancestor is a project class, none defines `__eq__` or is a
    record class (dataclass, attrs, Pydantic, which compare their fields): `==` compares
    identities, not secret text."""
    typ = infer_type(ctx.project, ctx.module, expr, ctx.function())
    if typ is None:
        return False
    for ancestor in ctx.project.mro(typ):
        if ancestor in ("object", "builtins.object"):
            continue
        cls = ctx.project.class_(ancestor)
        if cls is None or "__eq__" in cls.methods or cls.node.decorator_list:
            return False
    return True


def _literal_constant(ctx: FileContext, expr: ast.expr) -> bool:
    """A module-level constant bound to a string literal (`DEFAULT_API_KEY =
    "argilla.apikey"`, in this module or imported): it counts like the literal."""
    found = module_constant(ctx, expr)
    return found is not None and literal_string(found[1]) is not None


def _stored_against_constant(ctx: FileContext, left: ast.expr, right: ast.expr) -> bool:
    """`user.api_key == DEFAULT_API_KEY` in startup code (argilla warns that the default
    user kept the default key): a hard-coded constant compared with a value that does
    not come with the request (not a parameter, not `request.headers`), in code that
    runs only at startup (module level, a lifespan, a startup handler, a function only
    they call). Nobody can time a guess, as with a literal (`settings.API_KEY ==
    "changeme"`); compared with a presented key, or anywhere else (an authentication
    backend, a Starlette endpoint), it is reported."""
    for constant, other in ((left, right), (right, left)):
        if _literal_constant(ctx, constant) and not _presented(ctx, other):
            return at_startup(ctx)
    return False


# Words that make the name of a value a version of another one: the new value of a field
# compared with its old value.
_CHANGE_WORDS = frozenset(
    {"new", "old", "previous", "prev", "current", "latest", "updated", "rotated", "refreshed"}
)


def _changed_value(ctx: FileContext, left: ast.expr, right: ast.expr) -> bool:
    """`new_refresh_token != credentials.refresh_token`: the value a provider just
    returned, a local named as a version of the field, compared with the stored one of
    the same field, to learn whether it was rotated. Both are the server's own values:
    neither is a parameter or read from the request, nor, in a route or a dependency,
    a field of a parameter FastAPI fills from the request (`body.old_api_key` is what
    the client sends; `user.refresh_token` of a `Depends(get_current_user)` is not)."""
    words: list[list[str]] = []
    changed = False
    fn = ctx.function()
    if fn is None:
        return False
    # In a route or a dependency, the parameters FastAPI fills from the request (not
    # the `Depends()` ones: the current user's row is the server's).
    client = (
        fn.param_names - _function_dependencies(ctx, fn)
        if _request_facing(ctx, fn)
        else frozenset()
    )
    for side in (left, right):
        if isinstance(side, ast.Name):
            name = side.id
        elif isinstance(side, ast.Attribute):
            name = side.attr
            if isinstance(side.value, ast.Name) and side.value.id in client:
                return False
        else:
            return False
        side_words = name_words(name)
        if side_words and side_words[0] in _CHANGE_WORDS:
            if not (isinstance(side, ast.Name) and side.id in fn.local_values):
                return False  # a version must be a local the code computed
            side_words = side_words[1:]
            changed = True
        words.append(side_words)
    return (
        changed
        and bool(words[0])
        and words[0] == words[1]
        and not (_presented(ctx, left) or _presented(ctx, right))
    )


def _function_dependencies(ctx: FileContext, fn: Function) -> set[str | None]:
    """The parameters dependencies fill with the server's values (`Depends(get_current_user)`,
    also an outside `current_user(active=True)`), not a class FastAPI builds from the
    request (`form: OAuth2PasswordRequestForm = Depends()`, a Pydantic model, a project
    class whose `__init__` takes request values)."""
    project = ctx.project
    out: set[str | None] = set()
    for site in param_sites(project, fn):
        target = resolve_target(project, site)
        function = target.function if target is not None else None
        if function is not None and function.name == "__init__":
            if _takes_request_values(project, function):
                continue
        elif target is not None and function is None and target.qualname is not None:
            qualname = project.canonical(target.qualname)
            named = site.target is None or isinstance(site.target, (ast.Name, ast.Attribute))
            if (
                qualname in LOGIN_FORMS
                or is_pydantic_model(project, qualname)
                or _fields_from_request(project, qualname)  # a dataclass FastAPI fills
                or (
                    named  # an outside class: `Depends(Params)`
                    and project.class_(qualname) is None
                    and last_name(qualname)[:1].isupper()
                )
            ):
                continue
        out.add(site.param)
    return out


def _fields_from_request(project: Project, qualname: str) -> bool:
    """A project dataclass whose generated `__init__` takes a field FastAPI fills from
    the request (`api_key: str = Form()`, or no default); not one whose fields are all
    dependencies, nor a plain class FastAPI calls with no arguments."""
    cls = project.class_(qualname)
    if cls is None or not cls.node.decorator_list:
        return False
    for stmt in cls.node.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        value = stmt.value
        if not (
            isinstance(value, ast.Call)
            and last_name(project.resolve(cls.module, value.func, None)) in ("Depends", "Security")
        ):
            return True
    return False


def _takes_request_values(project: Project, init: Function) -> bool:
    """Does a class dependency's `__init__` take a parameter FastAPI fills from the
    request (one with no `Depends()`)?"""
    declared = {site.param for site in param_sites(project, init)}
    return any(name not in declared for name in init.param_names if name != "self")


def _request_facing(ctx: FileContext, fn: Function) -> bool:
    """Does FastAPI call the function with the request's values: a route handler or a
    dependency?"""
    return bool(ctx.routes()) or ctx.model.is_dependency(fn)


# Words that name a constant as the stand-in shipped before a real value is configured.
_PLACEHOLDER_WORDS = frozenset(
    {"default", "placeholder", "example", "sample", "dummy", "fake", "insecure", "unset"}
)
# Words that name a value as the server's own configured secret.
_CONFIGURED_WORDS = frozenset({"secret", "settings", "config", "configured", "env"})


def _still_placeholder(ctx: FileContext, left: ast.expr, right: ast.expr) -> bool:
    """`secret_key == PLACEHOLDER_SECRET_KEY`, `token_secret == DEFAULT_TOKEN_SECRET`:
    the server's configured secret (named so, and not a parameter the request fills)
    checked against the placeholder it ships with, to refuse to start on it. Neither
    side is a guess anyone can time."""
    for constant, other in ((left, right), (right, left)):
        if not (
            isinstance(constant, (ast.Name, ast.Attribute))
            and _PLACEHOLDER_WORDS.intersection(name_words(show_code(constant)))
            and _literal_constant(ctx, constant)
        ):
            continue
        if not _CONFIGURED_WORDS.intersection(name_words(show_code(_strip_string_ops(other)))):
            continue
        if not _presented(ctx, other):
            return True
        fn = ctx.function()
        return (
            fn is not None
            and not _request_facing(ctx, fn)
            and _plain_parameter(ctx, other) is not None
        )
    return False


def _sql_expression(ctx: FileContext, node: ast.Compare) -> bool:
    """`User.api_key == api_key` builds a SQL clause (a class attribute, or inside
    `.where()`/`.filter()`): the database compares, not Python."""
    for operand in (node.left, *node.comparators):
        if (
            isinstance(operand, ast.Attribute)
            and isinstance(operand.value, ast.Name)
            and ctx.project.class_(ctx.resolve(operand.value)) is not None
        ):
            return True
    for ancestor in reversed(ctx.stack):
        if isinstance(ancestor, ast.Call) and call_name(ancestor) in _SQL_CALLS:
            return True
        if isinstance(ancestor, (ast.stmt, ast.Lambda)):
            return False
    return False


@rule(
    code="FAA309",
    name="timing-unsafe-secret-compare",
    summary="A token, API key or signature is compared with `==`/`!=`",
    severity="warning",
    nodes=(ast.Compare,),
    fix_title="Compare with `secrets.compare_digest()`",
    cwe=("CWE-208",),
    owasp=("API2:2023",),
    references=(
        "https://fastapi.tiangolo.com/advanced/security/http-basic-auth/#timing-attacks",
        "https://docs.python.org/3/library/secrets.html#secrets.compare_digest",
    ),
)
def timing_unsafe_secret_compare(node: ast.Compare, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `==`/`!=` between two secrets: an API key, token, signature or HMAC digest
    received with the request and the expected one (`x_api_key != settings.API_KEY`,
    `signature == hmac.new(key, body, sha256).hexdigest()`,
    `credentials.credentials != API_TOKEN`, `request.headers.get("X-API-Key") == API_KEY`).
    Both sides must name a secret (by their variable, attribute, dict key or header
    name), or one side must be an HMAC digest. When both are only called "signature",
    one of them must come with the request (a parameter of the function, or
    `request.headers`): a signature is not always a secret.

    A hard-coded key compared with one presented with the request
    (`x_api_key != "sk-live-..."`) is reported too. Not reported: other comparisons with
    a literal (`token_type != "bearer"`, `token is None`, `api_key == ""`,
    `token == "undefined"`, `settings.API_KEY == "changeme"`), values that only mention a secret (`token_type`, `token_hash`,
    `max_tokens`, `next_page_token`, `len(token)`), locals computed by another call
    (`signature = inspect.signature(fn)`), tokens that coordinate work rather than
    authenticate (`reservation.token`, `lock_token`, `cached_signature`,
    `item.dispatch_token`, `turn_token`), the same field
    of two records (`current_session.token != session.token`; also the same key,
    `record.get("refresh_token") == saved.get("refresh_token")`, when neither record
    comes with the request), a constant named as a sentinel (`row.api_key !=
    PTU_SENTINEL_API_KEY`), a module constant bound
    to a literal compared with a value the request does not present in code that runs
    only at startup (`user.api_key == DEFAULT_API_KEY` in a check the lifespan or a
    startup handler calls, and that nothing else calls), the server's configured secret
    checked against the placeholder constant it ships with, anywhere
    (`secret_key == PLACEHOLDER_SECRET_KEY`, `settings.api_key == DEFAULT_API_KEY`; the
    constant named as a default, placeholder or example, the value named as a secret or
    setting and not a parameter the request fills), a value compared with the new
    version of itself (`new_refresh_token != secrets.refresh_token`: was it rotated?),
    two plain parameters of
    the function (no `Header()`/`Depends()` marker; or locals whose every assignment
    copies one of them or sets `None`) named only as credentials, the locals included
    (`external_token != token`: two credentials of one request, compared to skip a
    duplicate; neither is the expected secret), a value compared with a copy
    of itself made by string methods (`key = secret.strip()`, then `key != secret`: did
    the file hold stray whitespace?), SQLAlchemy clauses
    (`select(ApiKey).where(ApiKey.key == api_key)`: the database compares), membership
    tests and test files.

    ## Why is this bad?
    `==` on strings stops at the first differing character, so the time it takes tells an
    attacker how many leading characters of their guess are right. Measured over many
    requests, that leaks the secret one character at a time (CWE-208).
    `secrets.compare_digest` takes the same time whatever the inputs.

    ## Known problems
    Secrets are recognized by name. Plaintext password comparisons are left to FAA305.
    Two plain parameters are reported only when a name says which is the expected
    secret (`expected_token`, `stored_key`, `secret`) or which is the presented one
    (`provided_token`); a helper `def check(token, api_key)` that takes both without
    saying so is missed. Values the project types as one of its own plain classes
    (`signature: ModelSignature`: every ancestor a project class, none with an `__eq__`
    or a class decorator) are compared by identity, not as secret text, and are not
    reported.
    A hard-coded key is also a leaked key: move it to settings as well.

    ## Example
    ```python
    async def verify_api_key(x_api_key: Annotated[str, Header()]) -> None:
        if x_api_key != settings.API_KEY:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED)
    ```

    ## Use instead
    ```python
    import secrets

    async def verify_api_key(x_api_key: Annotated[str, Header()]) -> None:
        if not secrets.compare_digest(x_api_key.encode(), settings.API_KEY.encode()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED)
    ```

    ## Fix safety
    No automatic fix: `compare_digest` needs both values as `bytes` or both as ASCII `str`.
    """
    if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
        return
    left, right = node.left, node.comparators[0]
    if isinstance(left, ast.Constant) or isinstance(right, ast.Constant):
        yield from _literal_compare(node, ctx, left, right)
        return
    a = _secret_operand(ctx, left)
    if a is None:
        return
    b = _secret_operand(ctx, right)
    if b is None or ast.dump(left) == ast.dump(right):
        return
    if (
        _same_field(left, right)
        or _same_stored_key(ctx, left, right)
        or _presented_pair(ctx, left, right)
        or _sentinel(left)
        or _sentinel(right)
    ):
        return
    if in_tests(ctx):
        return
    if _project_object(ctx, left) or _project_object(ctx, right):
        return  # `signature != inferred_signature` between two `ModelSignature`s
    if _normalized_copy(ctx, left, right) or _stored_against_constant(ctx, left, right):
        return
    if _changed_value(ctx, left, right) or _still_placeholder(ctx, left, right):
        return
    if _sql_expression(ctx, node):
        return
    if _weak_name(a) and _weak_name(b) and not (_presented(ctx, left) or _presented(ctx, right)):
        return  # two "signatures" of something else (a function, a cache, a schema)
    op = "==" if isinstance(node.ops[0], ast.Eq) else "!="
    yield Report(
        node,
        f"`{show_code(left)}` is compared with `{show_code(right)}` using `{op}`: the time taken "
        "leaks how much of the secret matches",
    )


# Literals that are markers, not secrets: `token == "undefined"`, `api_key == "changeme"`.
_SENTINELS = frozenset(
    {"undefined", "null", "none", "bearer", "basic", "anonymous", "changeme", "change-me"}
)
_SECRET_LITERAL_MIN = 8


def _literal_compare(
    node: ast.Compare, ctx: FileContext, left: ast.expr, right: ast.expr
) -> Iterator[Report]:
    """`x_api_key != "sk-live-..."`: a key presented with the request checked against a
    hard-coded one."""
    literal, other = (left, right) if isinstance(left, ast.Constant) else (right, left)
    text = literal.value if isinstance(literal, ast.Constant) else None
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if (
        not isinstance(text, str)
        or len(text) < _SECRET_LITERAL_MIN
        or " " in text
        or text.lower() in _SENTINELS
    ):
        return
    name = _secret_operand(ctx, other)
    if name is None or name == "hmac" or _weak_name(name) or not _presented(ctx, other):
        return
    if _sql_expression(ctx, node) or in_tests(ctx):
        return
    yield Report(
        node,
        f"`{show_code(other)}` is compared with a hard-coded value using "
        f"`{'==' if isinstance(node.ops[0], ast.Eq) else '!='}`: the time taken leaks how "
        "much of the secret matches",
    )


# ------------------------------------------------------------------ FAA310

_TRUSTED_HOST = frozenset(
    {
        "fastapi.middleware.trustedhost.TrustedHostMiddleware",
        "starlette.middleware.trustedhost.TrustedHostMiddleware",
    }
)
_MIDDLEWARE_OR_TRUSTED_HOST = MIDDLEWARE | _TRUSTED_HOST


@rule(
    code="FAA310",
    name="trusted-host-wildcard",
    summary="`TrustedHostMiddleware` accepts every `Host` header",
    severity="warning",
    nodes=(ast.Call,),
    fix_title="Pass `allowed_hosts=` the domains the app serves (from settings)",
    cwe=("CWE-183",),
    owasp=("API8:2023",),
    references=(
        "https://fastapi.tiangolo.com/advanced/middleware/#trustedhostmiddleware",
        "https://www.starlette.io/middleware/#trustedhostmiddleware",
    ),
)
def trusted_host_wildcard(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `TrustedHostMiddleware` added with `allowed_hosts=["*"]` (or a list constant
    holding `"*"`) or without `allowed_hosts` at all, which defaults to `["*"]`: through
    `app.add_middleware(TrustedHostMiddleware, ...)`, `Middleware(TrustedHostMiddleware,
    ...)` or by wrapping the app.

    Not reported: subdomain wildcards (`"*.example.com"`), hosts read from settings (their
    value depends on the deployment), a wildcard configured only in a development branch
    (`if settings.DEBUG:`), and test files.

    ## Why is this bad?
    The middleware exists to reject requests whose `Host` header is not one of the app's
    domains. With `"*"` it accepts every host, so it does nothing: absolute URLs the app
    builds from the request (`request.url_for(...)`, password-reset links, redirects)
    can be pointed at an attacker's domain with a forged `Host` header (host header
    poisoning), and caches can be poisoned the same way.

    ## Example
    ```python
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])
    ```

    ## Use instead
    ```python
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"]
    )
    ```

    ## Fix safety
    No automatic fix: the allowed hosts are the project's to list.
    """
    func = node.func
    wraps = isinstance(func, ast.Attribute) and func.attr == "add_middleware"
    if not wraps and not may_resolve_to(ctx.model, func, _MIDDLEWARE_OR_TRUSTED_HOST):
        return  # neither `Middleware(...)` nor `TrustedHostMiddleware(...)`
    if wraps or ctx.resolve(func) in MIDDLEWARE:
        if not node.args or ctx.resolve(node.args[0]) not in _TRUSTED_HOST:
            return
    elif ctx.resolve(func) not in _TRUSTED_HOST:
        return
    # `(TrustedHostMiddleware, hosts)` and `TrustedHostMiddleware(app, hosts)` alike.
    hosts = argument(node, 1, "allowed_hosts")
    if hosts is None:
        if any(kw.arg is None for kw in node.keywords) or any(
            isinstance(a, ast.Starred) for a in node.args
        ):
            return
        message = "`TrustedHostMiddleware` has no `allowed_hosts`: it defaults to `['*']`"
    else:
        value = _literal(ctx, hosts)
        if const_str(value) == "*":
            shown = '"*"'
        elif isinstance(value, (ast.List, ast.Tuple, ast.Set)) and any(
            const_str(e) == "*" for e in value.elts
        ):
            shown = '["*"]'
        else:
            return
        message = f"`TrustedHostMiddleware` has `allowed_hosts={shown}`"
    if _dev_only(ctx, node) or in_tests(ctx):
        return
    yield Report(node, f"{message}, so every `Host` header is accepted")


# ------------------------------------------------------------------ FAA311

_UVICORN_RUN = frozenset({"uvicorn.run", "uvicorn.main.run"})
_APPS_OR_UVICORN_RUN = _APPS | _UVICORN_RUN
_DEV_SCRIPT_DIRS = frozenset({"scripts", "script", "tools", "dev", "bin", "examples"})
_DEV_SCRIPT_NAMES = frozenset(
    {
        "dev",
        "debug",
        "local",
        "manage",
        "devserver",
        "dev_server",
        "run_dev",
        "rundev",
        "run_local",
        "start_dev",
        "serve_dev",
    }
)
_DEV_WORDS = frozenset({"dev", "debug", "local", "develop", "development", "devserver"})


def _dev_entry(ctx: FileContext) -> bool:
    """A development entry point: a function named `dev`/`run_dev`/`debug_server`, or a
    script under `scripts/` or named `dev.py`/`manage.py`."""
    fn = ctx.function()
    while fn is not None:
        if any(w in _DEV_WORDS for w in name_words(fn.name)):
            return True
        fn = fn.parent
    parts = ctx.module.relpath.split("/")
    stem = parts[-1].removesuffix(".py")
    return stem in _DEV_SCRIPT_NAMES or any(p in _DEV_SCRIPT_DIRS for p in parts[:-1])


@rule(
    code="FAA311",
    name="debug-or-reload-enabled",
    summary="`FastAPI(debug=True)` or `uvicorn.run(reload=True)` is hard-coded in the app",
    severity="warning",
    nodes=(ast.Call,),
    fix_title="Read `debug`/`reload` from settings, or start the dev server with "
    "`fastapi dev` / `uvicorn --reload`",
    cwe=("CWE-489", "CWE-209"),
    owasp=("API8:2023",),
    references=(
        "https://fastapi.tiangolo.com/deployment/manually/",
        "https://www.uvicorn.org/settings/#development",
        "https://www.starlette.io/applications/",
    ),
)
def debug_or_reload_enabled(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds debug settings written as literals into the application:
    - `FastAPI(debug=True)` (also `Starlette(debug=True)`, or `debug=DEBUG` with a
      module constant `DEBUG = True`);
    - `uvicorn.run(..., reload=True)` in an application module (one that creates the
      app, or another module of its package), at module level or in a function such as
      a `main()` console-script entry point. Under `if __name__ == "__main__":` of the
      module that creates the app it is reported as advice (info): `python main.py`
      would run the reloader.

    Not reported: values read from settings (`debug=settings.DEBUG`,
    `reload=settings.RELOAD`), calls in a development branch (`if settings.DEBUG:`,
    `if settings.ENVIRONMENT == "local":`, `if in_debug_mode():` when that project
    function is named for debug or development mode and reads `os.getenv`/`os.environ`,
    itself or through a project function it calls), `uvicorn.run` in a development script
    (`run.py`/`dev.py`/`scripts/` beside the package, under `if __name__ ==
    "__main__":`, or a function named `dev`/`run_dev`/`debug_server`), and test files.
    `host="0.0.0.0"` alone is not reported either: a server in a container must bind
    every interface (ruff S104 flags bind-all addresses generically); it is named in the
    message when it comes with `reload=True`.

    ## Why is this bad?
    With `debug=True`, Starlette answers every unhandled exception with an HTML page
    holding the traceback and source lines, disclosing code, paths and sometimes secrets
    to any client (CWE-209). `reload=True` starts uvicorn's development reloader: one
    worker, a file watcher polling the tree, a restart whenever a file changes; combined
    with `host="0.0.0.0"` a development server is exposed on the network. When these
    flags are literals, production runs with them as soon as this code path is used.

    ## Example
    ```python
    app = FastAPI(debug=True)


    def main() -> None:
        uvicorn.run("app.main:app", host="0.0.0.0", reload=True)
    ```

    ## Use instead
    ```python
    app = FastAPI(debug=settings.DEBUG)


    def main() -> None:
        uvicorn.run("app.main:app", host=settings.HOST, reload=settings.RELOAD)
    ```
    or run the development server with `fastapi dev` / `uvicorn app.main:app --reload`.

    ## Fix safety
    No automatic fix: where the setting comes from is the project's choice.
    """
    if not node.keywords or not may_resolve_to(ctx.model, node.func, _APPS_OR_UVICORN_RUN):
        return
    name = ctx.resolve(node.func)
    if name in _APPS:
        debug = keyword(node, "debug")
        if debug is None or not _is_true(ctx, debug):
            return
        if _dev_only(ctx, node) or _under_main(ctx, node) or in_tests(ctx):
            return
        yield Report(
            node,
            f"`{show_code(node.func)}(debug=True)` returns tracebacks to clients on every "
            "unhandled error",
        )
        return
    if name not in _UVICORN_RUN:
        return
    reload = keyword(node, "reload")
    if reload is None or not _is_true(ctx, reload):
        return
    if _dev_only(ctx, node) or in_tests(ctx) or _dev_entry(ctx) or not _app_module(ctx):
        return
    host = const_str(_literal(ctx, keyword(node, "host")))
    exposed = ' on every interface (`host="0.0.0.0"`)' if host in ("0.0.0.0", "::") else ""
    if _under_main(ctx, node):
        modules = project_index(ctx.model, _app_dirs)[1]
        if id(ctx.module) not in modules:
            return  # a `__main__` block of a helper module is a developer's entry point
        yield Report(
            node,
            f"`uvicorn.run(reload=True)` runs the development reloader{exposed} whenever "
            "this module is started with `python`",
            severity="info",
        )
        return
    yield Report(
        node,
        f"`uvicorn.run(reload=True)` runs the development reloader{exposed} in the "
        "application's start path",
    )


# ------------------------------------------------------------------ FAA312

_DOCS_KEYWORDS = ("docs_url", "redoc_url", "openapi_url")
_DEFAULT_DOCS = {"docs_url": "/docs", "redoc_url": "/redoc", "openapi_url": "/openapi.json"}
_ENV_WORDS = frozenset(
    {
        "env",
        "environment",
        "debug",
        "prod",
        "production",
        "dev",
        "development",
        "local",
        "stage",
        "staging",
        "mode",
        "docs",
        "openapi",
        "swagger",
        "redoc",
        "testing",
        "public",
        "expose",
    }
)


def _env_test(test: ast.expr) -> bool:
    """Does the test read something about the environment or the docs
    (`settings.ENVIRONMENT`, `DEBUG`, `settings.show_docs`, `os.getenv("ENV")`)?"""
    for sub in walk(test):
        name = None
        if isinstance(sub, ast.Name):
            name = sub.id
        elif isinstance(sub, ast.Attribute):
            name = sub.attr
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            name = sub.value
        if name is not None and any(w in _ENV_WORDS for w in name_words(name)):
            return True
    return False


def _app_calls(model: AppModel) -> frozenset[int]:
    return frozenset(id(r.node) for r in model.routers.values() if r.kind == "app")


def _bound_app(ctx: FileContext, node: ast.Call) -> bool:
    """The call creates an application the model knows (bound to a name, returned by a
    factory), not a throwaway `FastAPI()` passed as a placeholder."""
    if id(node) in project_index(ctx.model, _app_calls):
        return True
    return isinstance(ctx.parent(), (ast.Assign, ast.AnnAssign, ast.Return))


def _docs_url(ctx: FileContext, expr: ast.expr, depth: int = 0) -> object:
    """A docs URL keyword: its text (`"/docs"`, `f"{settings.API_V1_STR}/openapi.json"`:
    a prefix does not hide it), None when disabled, `_GATED` when a setting or a
    condition decides."""
    if depth > 4:
        return _GATED
    if isinstance(expr, ast.Constant):
        return expr.value if isinstance(expr.value, str) or expr.value is None else _GATED
    if isinstance(expr, (ast.JoinedStr, ast.BinOp)):
        if any(isinstance(sub, (ast.IfExp, ast.Call)) for sub in walk(expr)):
            return _GATED
        return show_code(expr)
    if isinstance(expr, ast.Name):
        found = constant_value(ctx, expr)
        if found is None or found is expr or isinstance(found, ast.Name):
            return _GATED
        return _docs_url(ctx, found, depth + 1)
    return _GATED


@rule(
    code="FAA312",
    name="docs-exposed-unconditionally",
    summary="`FastAPI()` serves `/docs`, `/redoc` and `/openapi.json` in every environment",
    severity="info",
    default_enabled=False,
    nodes=(ast.Call,),
    fix_title="Gate `docs_url`/`redoc_url`/`openapi_url` on a setting "
    '(`openapi_url="/openapi.json" if settings.SHOW_DOCS else None`)',
    cwe=("CWE-200",),
    owasp=("API8:2023", "API9:2023"),
    references=(
        "https://fastapi.tiangolo.com/how-to/conditional-openapi/",
        "https://fastapi.tiangolo.com/tutorial/metadata/#docs-urls",
    ),
)
def docs_exposed_unconditionally(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `FastAPI(...)` calls that keep the interactive docs and the OpenAPI schema at
    their default or literal URLs, with nothing that depends on the environment: no
    `docs_url`/`redoc_url`/`openapi_url` read from settings or chosen by a condition,
    no `openapi_url=None`, no `**kwargs`, and the call is not inside an `if` (or
    conditional expression) on the environment, debug flag or a docs setting.

    This rule is **opt-in** (enable it with `--select FAA312`): public APIs publish their
    docs on purpose.

    ## Why is this bad?
    `/docs`, `/redoc` and `/openapi.json` list every route, parameter and schema,
    including internal and admin endpoints, to anyone who asks. For a private or
    internal API that map makes reconnaissance trivial (CWE-200). FastAPI's guide
    recommends serving the docs only where a setting enables them.

    ## Known problems
    Docs disabled after the app is created (`app.openapi_url = None`) are not seen. An
    `openapi_url` kept at its default while only `docs_url`/`redoc_url` are disabled is
    reported: the schema is still public.

    ## Example
    ```python
    app = FastAPI(title="Billing")
    ```

    ## Use instead
    ```python
    app = FastAPI(
        title="Billing",
        openapi_url="/openapi.json" if settings.SHOW_DOCS else None,
    )
    ```
    With `openapi_url=None`, `/docs` and `/redoc` are disabled too.

    ## Fix safety
    No automatic fix: which environments show the docs is the project's choice.
    """
    if ctx.resolve(node.func) not in APP_CLASSES:
        return
    if any(kw.arg is None for kw in node.keywords) or node.args:
        return
    exposed: list[str] = []
    for key in _DOCS_KEYWORDS:
        expr = keyword(node, key)
        if expr is None:
            exposed.append(_DEFAULT_DOCS[key])
            continue
        url = _docs_url(ctx, expr)
        if url is _GATED:
            return  # read from settings or chosen by a condition
        if url is None:
            if key == "openapi_url":
                return  # no schema: no docs either
            continue
        # A URL built with a prefix is shown by its keyword.
        exposed.append(url if isinstance(url, str) and url.startswith("/") else key)
    if not exposed or in_tests(ctx) or not _bound_app(ctx, node):
        return
    if any(_env_test(test) or _main_guard(test) for test, _ in _branches(ctx, node)):
        return
    shown = ", ".join(f"`{u}`" for u in exposed)
    yield Report(node, f"`FastAPI()` serves {shown} in every environment")


# ------------------------------------------------------------------ FAA313

_COOKIE_WORDS = frozenset(
    {
        "session",
        "sessionid",
        "sess",
        "sid",
        "token",
        "jwt",
        "auth",
        "authorization",
        "remember",
        "refresh",
        "csrf",
        "xsrf",
        "apikey",
        "credentials",
        "login",
    }
)
_VALUE_WORDS = frozenset({"token", "jwt", "session", "sid", "credentials"})
_NOT_HTTPONLY = frozenset({"csrf", "xsrf"})


_COOKIE_ROOTS = ("session", "token", "jwt", "csrf", "xsrf", "apikey", "refresh")


def _cookie_words(words: list[str]) -> bool:
    """`session_id`, `access_token`, `sid`, and glued names: `csrftoken`, `sessionid`."""
    if any(w in NOT_CREDENTIAL_PREFIXES for w in words):
        return False
    return any(w in _COOKIE_WORDS or any(r in w for r in _COOKIE_ROOTS) for w in words) or (
        "api" in words and "key" in words
    )


def _value_names(expr: ast.expr) -> Iterator[str]:
    """Variable and attribute names whose value flows into the cookie value."""
    skip: set[int] = set()
    for sub in walk(expr):
        if isinstance(sub, ast.Call):
            skip.add(id(sub.func))
        if id(sub) in skip:
            continue
        if isinstance(sub, ast.Name):
            yield sub.id
        elif isinstance(sub, ast.Attribute):
            yield sub.attr


def _cookie_name(ctx: FileContext, key: ast.expr | None) -> tuple[str | None, list[str]]:
    """(literal name if known, words describing it)."""
    if key is None:
        return None, []
    value = evaluate(ctx.project, ctx.module, key, ctx.function())
    if isinstance(value, str):
        return value, name_words(value)
    # `settings.SESSION_COOKIE_NAME`, `COOKIE_NAME`: the constant's own name
    return None, [w for n in _value_names(key) for w in name_words(n) if w not in ("name", "key")]


def _option(
    ctx: FileContext, node: ast.Call, position: int, name: str, extra: dict[str, object]
) -> object:
    """The literal value of a `set_cookie` option: `_MISSING` when not passed,
    `_UNKNOWN` when it is computed."""
    expr = argument(node, position, name)
    if expr is None:
        return extra.get(name, _UNKNOWN if _UNKNOWN_EXTRA in extra else _MISSING)
    found = _literal(ctx, expr)
    if isinstance(found, ast.Constant):
        return found.value
    return _UNKNOWN


@rule(
    code="FAA313",
    name="insecure-cookie",
    summary="A session or token cookie is set without `httponly`, `secure` or `samesite`",
    severity="warning",
    nodes=(ast.Call,),
    fix_title='Pass `httponly=True, secure=True, samesite="lax"` to `set_cookie`',
    cwe=("CWE-1004", "CWE-614", "CWE-1275"),
    owasp=("API8:2023",),
    references=(
        "https://www.starlette.io/responses/#set-cookie",
        "https://fastapi.tiangolo.com/advanced/response-cookies/",
        "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#cookies",
    ),
)
def insecure_cookie(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `response.set_cookie(...)` calls that store a session or credential cookie
    (its name or its value says `session`, `sid`, `token`, `jwt`, `auth`, `refresh`,
    `remember`, `api_key`, `csrf`) without `httponly=True` or `secure=True`, or with
    `samesite=None` (no `SameSite` attribute at all).

    Not reported: other cookies (`theme`, `locale`), options read from settings
    (`secure=settings.COOKIE_SECURE`), `httponly` on CSRF cookies (the double-submit
    pattern needs JavaScript to read them), cookies being cleared (`value=""`,
    `max_age=0`), calls in a development branch (`if settings.DEBUG:`), and test files.
    Starlette's default `samesite="lax"` is fine, so a missing `samesite` is not reported.

    ## Why is this bad?
    Starlette's `set_cookie` defaults to `httponly=False` and `secure=False`. Without
    `HttpOnly`, any script injected into the page (XSS) can read the session token and
    send it away (CWE-1004). Without `Secure`, the browser also sends the cookie over
    plain HTTP, where anyone on the network can read it (CWE-614). Without `SameSite`,
    some browsers attach it to cross-site requests, enabling CSRF (CWE-1275).

    ## Example
    ```python
    @router.post("/login")
    async def login(response: Response, form: OAuth2PasswordRequestForm = Depends()):
        token = await auth.login(form.username, form.password)
        response.set_cookie("access_token", token)
    ```

    ## Use instead
    ```python
    response.set_cookie(
        "access_token", token, httponly=True, secure=True, samesite="lax"
    )
    ```

    ## Fix safety
    No automatic fix: `secure=True` cookies are not sent over plain-HTTP local
    development, so the project may want to read it from settings.
    """
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr != "set_cookie":
        return
    if not ctx.module.imports_anything("fastapi", "starlette"):
        return
    callee = resolve_callee(ctx.project, ctx.module, node.func, ctx.function())
    if callee is not None and ctx.project.function(callee) is not None:
        return  # a project helper (`auth.set_cookie(response, token)`), not Starlette's
    extra: dict[str, object] = {}
    for kw in node.keywords:
        if kw.arg is None:
            found = evaluate(ctx.project, ctx.module, kw.value, ctx.function())
            if isinstance(found, dict):
                extra.update(found)
            else:
                # Options not passed explicitly may be in there.
                extra[_UNKNOWN_EXTRA] = True
    if any(isinstance(a, ast.Starred) for a in node.args):
        return
    literal_name, words = _cookie_name(ctx, argument(node, 0, "key"))
    value = argument(node, 1, "value")
    if value is None:
        return  # an empty cookie: `set_cookie("session")` clears it
    if isinstance(_literal(ctx, value), ast.Constant):
        return  # `""` clears the cookie; a literal is the same for every user, not a credential
    for key in ("max_age", "expires"):
        limit = _option(ctx, node, 2 if key == "max_age" else 3, key, extra)
        if isinstance(limit, int) and not isinstance(limit, bool) and limit <= 0:
            return
    value_words = [w for n in _value_names(value) for w in name_words(n)]
    sensitive = _cookie_words(words) or (
        not NOT_CREDENTIAL_PREFIXES.intersection(value_words)
        and any(w in _VALUE_WORDS for w in value_words)
    )
    if not sensitive:
        return
    missing: list[str] = []
    httponly = _option(ctx, node, 7, "httponly", extra)
    csrf = any(root in w for w in words for root in _NOT_HTTPONLY)
    if (httponly is _MISSING or httponly is False or httponly is None) and not csrf:
        missing.append("`httponly=True`")
    secure = _option(ctx, node, 6, "secure", extra)
    if secure is _MISSING or secure is False or secure is None:
        missing.append("`secure=True`")
    samesite = _option(ctx, node, 8, "samesite", extra)
    if samesite is None:
        missing.append("`samesite`")
    if not missing or _dev_only(ctx, node) or in_tests(ctx):
        return
    shown = (
        f"`{literal_name}`"
        if literal_name is not None
        else f"`{show_code(argument(node, 0, 'key') or value)}`"
    )
    yield Report(node, f"cookie {shown} is set without {', '.join(missing)}")
