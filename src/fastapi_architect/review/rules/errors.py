"""FAA6xx: errors, exception handling, middleware."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus

from fastapi_architect.model.apps import status_code_value
from fastapi_architect.model.astutil import (
    argument,
    body_nodes,
    keyword,
    last_name,
    parameters,
    walk,
    walk_nodes,
)
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.constants import class_attribute
from fastapi_architect.model.dependencies import param_sites
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.pydantic_names import BASE_MODEL
from fastapi_architect.model.types import annotation_type, resolve_callee
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.finding import Severity
from fastapi_architect.review.index import (
    FunctionCache,
    ModelCache,
    may_resolve_to,
    project_index,
)
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._callsites import registration_calls
from fastapi_architect.review.rules._parsing import does_io, parser_call
from fastapi_architect.review.rules.validation import is_response_expr

HTTP_EXCEPTIONS = frozenset(
    {
        "fastapi.HTTPException",
        "fastapi.exceptions.HTTPException",
        "starlette.exceptions.HTTPException",
    }
)


@rule(
    code="FAA602",
    name="http-exception-returned",
    summary="An `HTTPException` is returned instead of raised",
    severity="error",
    nodes=(ast.Return,),
    fix_title="Replace `return` with `raise`",
    references=("https://fastapi.tiangolo.com/tutorial/handling-errors/",),
)
def http_exception_returned(node: ast.Return, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `return HTTPException(...)` in path operations, dependencies and other
    functions of a FastAPI project. Exception factories are not reported: helpers
    (not routes or dependencies) annotated to return an exception, or whose every
    `return` builds one, hand the exception to callers that raise it
    (`raise not_found(item_id)`).

    ## Why is this bad?
    A returned exception is not an error to FastAPI: it is serialized as the response
    body with status 200 (or the route's `status_code`). The client that asked for a
    missing item gets a success. Exceptions must be raised to become error responses.

    ## Example
    ```python
    @router.get("/books/{book_id}")
    def read_book(book_id: int, db: SessionDep) -> BookOut:
        book = db.get(Book, book_id)
        if book is None:
            return HTTPException(status_code=404, detail="Book not found")
        return book
    ```

    ## Use instead
    ```python
            raise HTTPException(status_code=404, detail="Book not found")
    ```

    ## Fix safety
    Safe, applied by `--fix`: replacing `return` with `raise` keeps the exception and
    makes it take effect.
    """
    value = node.value
    if not (
        isinstance(value, ast.Call)
        and may_resolve_to(ctx.model, value.func, HTTP_EXCEPTIONS)
        and ctx.resolve(value.func) in HTTP_EXCEPTIONS
    ):
        return
    fn = ctx.function()
    if fn is not None and _exception_factory(ctx.model, fn):
        return
    yield Report(node, "`HTTPException` is returned, not raised: the client gets a success status")


_FACTORIES: FunctionCache[bool] = FunctionCache()


def _exception_factory(model: AppModel, fn: Function) -> bool:
    """A helper that builds the exception for its callers to raise (`raise
    not_found(item_id)`): not a route or a dependency, and either annotated to return an
    exception or returning nothing but exceptions. Returning one is its job."""
    return _FACTORIES.get(model, fn, lambda: _is_factory(model, fn))


def _is_factory(model: AppModel, fn: Function) -> bool:
    if model.routes_of(fn) or model.is_dependency(fn):
        return False
    project = model.project
    returns = fn.node.returns
    if returns is not None:
        for node in walk(returns):
            if isinstance(node, (ast.Name, ast.Attribute)) and is_exception_type(
                project, project.resolve(fn.module, node, fn.parent)
            ):
                return True
    values = [
        n.value for n in body_nodes(fn.node) if isinstance(n, ast.Return) and n.value is not None
    ]
    return bool(values) and all(
        isinstance(v, ast.Call)
        and is_exception_type(project, project.resolve(fn.module, v.func, fn))
        for v in values
    )


# ------------------------------------------------------------------ FAA601

_RESPONSES = frozenset(
    {
        f"{package}.{name}"
        for package in ("fastapi.responses", "starlette.responses")
        for name in (
            "Response",
            "JSONResponse",
            "ORJSONResponse",
            "UJSONResponse",
            "PlainTextResponse",
            "HTMLResponse",
        )
    }
    | {"fastapi.Response"}
)
_TRACEBACK = frozenset(
    {
        "traceback.format_exc",
        "traceback.format_exception",
        "traceback.format_exception_only",
        "traceback.format_tb",
        "traceback.format_stack",
    }
)
_TO_TEXT = frozenset({"str", "repr", "format", "ascii"})
# Attributes of an exception that carry its (library) message or internals: the
# arguments, the DB driver error and the SQL of SQLAlchemy errors, subprocess output,
# the upstream response of HTTP client errors.
_LEAKY_ATTRS = frozenset(
    {
        "args",
        "orig",
        "message",
        "msg",
        "statement",
        "params",
        "stderr",
        "stdout",
        "output",
        "strerror",
        "response",
        "text",
        "reason",
        "__cause__",
        "__context__",
        "__traceback__",
    }
)
# HTTP status errors whose attribute holds only the upstream status line, not text
# about the server: aiohttp's `raise_for_status()` sets `ClientResponseError.message`
# to the reason phrase ("Not Found"), urllib's `HTTPError.reason`/`.msg` are the same.
# Their `str(e)` still carries the request URL.
_STATUS_LINE_ERRORS: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        (
            f"aiohttp.{module}{name}"
            for module in ("", "client_exceptions.")
            for name in (
                "ClientResponseError",
                "ContentTypeError",
                "WSServerHandshakeError",
                "TooManyRedirects",
            )
        ),
        frozenset({"message"}),
    ),
    "urllib.error.HTTPError": frozenset({"reason", "msg"}),
}
# The status line of an error's upstream response (`e.response.reason_phrase` of
# httpx, `e.response.reason` of requests): its body (`.text`, `.json()`) may leak.
_RESPONSE_STATUS_LINE = frozenset({"status", "status_code", "reason", "reason_phrase"})
# Exceptions whose message is written for the client: request validation, and errors
# about the token the client sent. A 4xx response may repeat them.
_CLIENT_ERRORS = frozenset(
    {
        "ValueError",
        "UnicodeError",
        "UnicodeDecodeError",
        "json.JSONDecodeError",
        "json.decoder.JSONDecodeError",
        "pydantic.ValidationError",
        "pydantic_core.ValidationError",
        "pydantic_core._pydantic_core.ValidationError",
        "fastapi.exceptions.RequestValidationError",
        "fastapi.exceptions.WebSocketRequestValidationError",
        "email_validator.EmailNotValidError",
        "jose.JWTError",
        "jose.ExpiredSignatureError",
        "jose.exceptions.JWTError",
        "jose.exceptions.ExpiredSignatureError",
        "jose.exceptions.JWTClaimsError",
        "jwt.PyJWTError",
        "jwt.InvalidTokenError",
        "jwt.ExpiredSignatureError",
        "jwt.DecodeError",
        "jwt.exceptions.PyJWTError",
        "jwt.exceptions.InvalidTokenError",
        "jwt.exceptions.ExpiredSignatureError",
        "jwt.exceptions.DecodeError",
        # The multipart parser's messages: too many files or fields, part too large.
        "starlette.formparsers.MultiPartException",
        # Errors about a template or a document the client sent to be parsed/validated.
        "jinja2.TemplateSyntaxError",
        "jinja2.exceptions.TemplateSyntaxError",
        "jsonschema.ValidationError",
        "jsonschema.exceptions.ValidationError",
        *HTTP_EXCEPTIONS,
    }
)
_BROAD = frozenset({"Exception", "BaseException"})
# What decoding JSON raises: its message is only a parse position, at any status.
_JSON_ERRORS = frozenset(
    {
        "ValueError",
        "json.JSONDecodeError",
        "json.decoder.JSONDecodeError",
        "requests.JSONDecodeError",
        "requests.exceptions.JSONDecodeError",
    }
)
_JSON_LOADS = frozenset({"json.loads", "orjson.loads", "ujson.loads"})
# Raised only by a parser, about the bytes it was given ("File is not a zip file",
# "Incorrect padding"): the message describes the data, never the server, at any status.
_DATA_FORMAT_ERRORS = frozenset(
    {
        "zipfile.BadZipFile",
        "zipfile.BadZipfile",
        "tarfile.ReadError",
        "binascii.Error",
        "tomllib.TOMLDecodeError",
        "xml.etree.ElementTree.ParseError",
        "xml.parsers.expat.ExpatError",
    }
)
_MODEL_VALIDATORS = frozenset(
    {"model_validate", "model_validate_json", "model_validate_strings", "parse_obj", "parse_raw"}
)
_ADAPTER_VALIDATORS = frozenset({"validate_python", "validate_json", "validate_strings"})
_ADAPTERS = frozenset({"pydantic.TypeAdapter", "pydantic.type_adapter.TypeAdapter"})
_BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass
class _LeakState:
    model: AppModel
    # Exception handler function node id -> the exception classes it handles.
    handlers: dict[int, list[str]]
    project_roots: frozenset[str]
    # (Project exception class, classes caught before it) -> the places the project
    # builds it from an outside error's text (`_foreign_wraps`).
    wraps: dict[tuple[str, tuple[str, ...]], list[_Wrap]] = field(default_factory=dict)


_LEAK_CLASSES = HTTP_EXCEPTIONS | _RESPONSES
_SHORT_NAMES = frozenset(last_name(name) for name in _LEAK_CLASSES)


# Module id -> `_callee_names` of the module, for the run.
_CALLEE_NAMES: ModelCache[dict[int, frozenset[str]]] = ModelCache()


def _callee_names(model: AppModel, module: Module) -> frozenset[str]:
    """The names a call in `module` may use for `HTTPException` or a response class
    (empty: the module cannot build one, the rule skips it). Asked for every call and
    `return` of the project: one table lookup once the module is known."""
    table = _CALLEE_NAMES.get(model, dict)
    found = table.get(id(module))
    if found is not None:
        return found
    project = model.project
    names: set[str] = set()
    framework = any(s.split(".", 1)[0] in ("fastapi", "starlette") for s in module.star_imports)
    for alias, target in module.imports.items():
        if target.split(".", 1)[0] in ("fastapi", "starlette"):
            framework = True
        canonical = project.canonical(target)
        if canonical in _LEAK_CLASSES or (
            project.class_(canonical) is not None and project.is_subclass(canonical, _LEAK_CLASSES)
        ):
            names.add(alias)
    for cls in module.classes.values():
        if project.is_subclass(cls.qualname, _LEAK_CLASSES):
            names.add(cls.node.name)
    if framework:
        names |= _SHORT_NAMES
    found = frozenset(names)
    table[id(module)] = found
    return found


def leak_state(model: AppModel) -> _LeakState:
    """The exception handlers of the app and the project's top-level packages."""
    return project_index(model, _new_leak_state)


def _new_leak_state(model: AppModel) -> _LeakState:
    project = model.project
    handlers: dict[int, list[str]] = {}

    def register(module: Module, scope: Function | None, exc: ast.expr, target: ast.expr) -> None:
        fn = project.function(project.resolve(module, target, scope))
        name = project.resolve(module, exc, scope)
        if fn is not None and name is not None:
            handlers.setdefault(id(fn.node), []).append(project.canonical(name))

    # Every registration names `exception_handler` in the code (`@app.exception_handler`,
    # `add_exception_handler`, `exception_handlers=`): only the functions and calls of
    # modules that can spell it are looked at (none, in most projects).
    candidates = {id(m) for m in project.module_list if m.may_spell("exception_handler")}
    roots = frozenset(m.name.split(".", 1)[0] for m in project.module_list)
    if not candidates:
        return _LeakState(model, handlers, roots)
    for fn in project.functions.values():
        if not fn.node.decorator_list or id(fn.module) not in candidates:
            continue
        for decorator in fn.node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "exception_handler"
                and decorator.args
            ):
                name = project.resolve(fn.module, decorator.args[0], fn.parent)
                if name is not None:
                    handlers.setdefault(id(fn.node), []).append(project.canonical(name))
    # `app.add_exception_handler(Exc, handler)` and `FastAPI(exception_handlers={...})`,
    # from the call sites the model already collected (no second walk of the files).
    for scope, module, site in registration_calls(model):
        if id(module) not in candidates:
            continue
        call = site.node
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "add_exception_handler":
            if len(call.args) < 2:
                continue
            registration: list[tuple[ast.expr | None, ast.expr]] = [(call.args[0], call.args[1])]
        elif call.keywords:
            table = keyword(call, "exception_handlers")
            if not isinstance(table, ast.Dict):
                continue
            registration = list(zip(table.keys, table.values, strict=True))
        else:
            continue
        for key, value in registration:
            if key is not None:
                register(module, scope, key, value)
    return _LeakState(model, handlers, roots)


def is_exception_type(project: Project, name: str | None) -> bool:
    if name is None:
        return False
    for ancestor in project.mro(name):
        if project.class_(ancestor) is not None:
            continue  # a project class is an exception by its bases, not by its name
        if ancestor in _BUILTIN_EXCEPTIONS or last_name(ancestor).endswith(("Error", "Exception")):
            return True
    return False


def _exception_names(ctx: FileContext, state: _LeakState) -> dict[str, list[str]]:
    """Names bound to a caught exception where the node is: `except X as e` around it
    (in the same function), the exception parameter of an exception handler, or a
    parameter annotated with an exception class. Each with the classes it may hold."""
    names: dict[str, list[str]] = {}
    for node in reversed(ctx.stack):
        if isinstance(node, _SCOPES):
            break
        if isinstance(node, ast.ExceptHandler) and node.name and node.name not in names:
            caught = node.type
            elements = caught.elts if isinstance(caught, ast.Tuple) else [caught] if caught else []
            names[node.name] = [ctx.resolve(e) or "?" for e in elements] or ["BaseException"]
    fn = ctx.function()
    if fn is None:
        return names
    project = ctx.project
    handled = state.handlers.get(id(fn.node))
    params = [p for p, _default in parameters(fn.node)]
    for index, param in enumerate(params):
        if param.arg in names:
            continue
        typ = annotation_type(project, fn.module, param.annotation, fn.parent)
        if handled is not None and index == 1:
            names[param.arg] = handled if typ is None or typ == "Exception" else [typ]
        elif is_exception_type(project, typ):
            assert typ is not None
            names[param.arg] = [typ]
    return names


def _exception_ref(expr: ast.expr, names: dict[str, list[str]], bare: bool) -> str | None:
    """The exception name `expr` exposes: `e` itself (when `bare`), or `e.args`,
    `e.orig`, `e.args[0]`..."""
    while isinstance(expr, ast.Subscript):
        expr = expr.value
    if isinstance(expr, ast.Name):
        return expr.id if bare and expr.id in names else None
    root: ast.expr = expr
    first: str | None = None
    while isinstance(root, ast.Attribute):
        first = root.attr
        root = root.value
    if isinstance(root, ast.Name) and root.id in names and first in _LEAKY_ATTRS:
        return root.id
    return None


def _status_line(ctx: FileContext, expr: ast.expr, names: dict[str, list[str]]) -> bool:
    """Is `expr` only the status line of an HTTP error: `e.message` of an aiohttp
    `ClientResponseError` (caught as one, or narrowed by `if isinstance(e, ...)` in the
    `except` clause), or `e.response.status_code`/`.reason`/`.reason_phrase`?"""
    chain: list[str] = []
    while isinstance(expr, ast.Attribute):
        chain.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name) or expr.id not in names:
        return False
    if len(chain) == 2:
        return chain[1] == "response" and chain[0] in _RESPONSE_STATUS_LINE
    if len(chain) != 1:
        return False
    classes = _narrowed(ctx, expr.id, expr) or names[expr.id]
    project = ctx.project
    return all(
        any(chain[0] in _STATUS_LINE_ERRORS.get(a, ()) for a in project.mro(c)) for c in classes
    )


def _narrowed(ctx: FileContext, name: str, node: ast.expr) -> list[str] | None:
    """The classes of `if isinstance(name, X):` around `node` in the `except` clause
    that binds `name` (a broad `except Exception as e` that treats one class apart)."""
    bound = _binding_handler(ctx, name)
    if bound is None:
        return None
    handler = bound[1]
    found: list[str] | None = None
    innermost = 0
    for branch in walk_nodes(list(handler.body)):
        if not isinstance(branch, ast.If) or not branch.body:
            continue
        start, end = branch.body[0].lineno, branch.body[-1].end_lineno or branch.lineno
        if not start <= node.lineno <= end or start < innermost:
            continue
        test = branch.test
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            tests = test.values
        else:
            tests = [test]
        for part in tests:
            if (
                isinstance(part, ast.Call)
                and isinstance(part.func, ast.Name)
                and part.func.id == "isinstance"
                and len(part.args) == 2
                and isinstance(part.args[0], ast.Name)
                and part.args[0].id == name
            ):
                kinds = part.args[1]
                elements = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
                found, innermost = [ctx.resolve(e) or "?" for e in elements], start
    return found


def _sent_ref(
    ctx: FileContext, expr: ast.expr, names: dict[str, list[str]], bare: bool
) -> str | None:
    """`_exception_ref`, except for the status line of an HTTP error (`_status_line`)."""
    ref = _exception_ref(expr, names, bare)
    return None if ref is None or _status_line(ctx, expr, names) else ref


@dataclass(frozen=True)
class _Leak:
    node: ast.AST
    name: str | None  # the exception name, None for a formatted traceback
    text: str = ""  # how the message shows it, when not the node itself

    def describe(self) -> str:
        return self.text or f"`{_short(self.node)}`"


def _find_leak(
    ctx: FileContext, expr: ast.expr, names: dict[str, list[str]], depth: int = 0
) -> _Leak | None:
    todo: list[ast.AST] = [expr]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Lambda, ast.Compare)):
            continue  # a comparison's value is a bool, never the message
        if isinstance(node, ast.Attribute) and _status_line(ctx, node, names):
            continue  # `e.message` of `ClientResponseError`: the upstream reason phrase
        if isinstance(node, ast.IfExp):
            todo.extend([node.body, node.orelse])  # the test is not sent
            continue
        if (
            isinstance(node, ast.Subscript)
            and _exception_ref(node, names, bare=False) is None
            and isinstance(node.ctx, ast.Load)
        ):
            todo.append(node.value)  # `MESSAGES[str(e)]`: the key only looks up
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and _exception_ref(node.func.value, names, bare=True) is None
        ):
            # `MESSAGES.get(str(e), "Invalid response")`: the key only looks up.
            todo.extend([node.func.value, *node.args[1:], *(kw.value for kw in node.keywords)])
            continue
        if isinstance(node, ast.Call):
            callee = ctx.resolve(node.func)
            if callee in _TRACEBACK:
                return _Leak(node, None)
            if callee in _TO_TEXT and node.args:
                ref = _sent_ref(ctx, node.args[0], names, bare=True)
                if ref is not None:
                    return _Leak(node, ref)
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "format"
                and isinstance(node.func.value, ast.Constant)
            ):
                for arg in [*node.args, *(kw.value for kw in node.keywords)]:
                    ref = _sent_ref(ctx, arg, names, bare=True)
                    if ref is not None:
                        return _Leak(node, ref)
        elif isinstance(node, ast.JoinedStr):
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    ref = _sent_ref(ctx, value.value, names, bare=True)
                    if ref is not None:
                        return _Leak(node, ref)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
                operands = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
                for operand in operands:
                    ref = _sent_ref(ctx, operand, names, bare=True)
                    if ref is not None:
                        return _Leak(node, ref)
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            # A status-line attribute was skipped at the top of the loop.
            ref = _exception_ref(node, names, bare=False)
            if ref is not None:
                return _Leak(node, ref)
        elif isinstance(node, ast.Name) and depth == 0 and node.id not in names:
            # One hop through a local: `message = f"Failed: {e}"; raise HTTPException(500, message)`.
            fn = ctx.function()
            bound = fn.local_values.get(node.id) if fn is not None else None
            if bound is not None and _in_same_handler(ctx, bound):
                inner = _find_leak(ctx, bound, names, depth + 1)
                if inner is not None:
                    return _Leak(node, inner.name, f"`{node.id}` = {inner.describe()}")
        todo.extend(ast.iter_child_nodes(node))
    return None


def _in_same_handler(ctx: FileContext, value: ast.expr) -> bool:
    """Was `value` assigned inside the `except` clause the node is in? (The model keeps
    a local's last assignment, which may belong to another clause.)"""
    for node in reversed(ctx.stack):
        if isinstance(node, _SCOPES):
            return True
        if isinstance(node, ast.ExceptHandler):
            end = node.end_lineno or node.lineno
            return node.lineno <= value.lineno <= end
    return True


def status_value(expr: ast.expr | None, ctx: FileContext | None = None) -> int | None:
    value = status_code_value(expr)
    if value is not None:
        return value
    # `code = 413 if "size" in exc.message else 400` in the same `except` clause: the
    # highest status of the branches (a 5xx branch makes it a server error).
    fn = ctx.function() if ctx is not None else None
    if ctx is not None and fn is not None and isinstance(expr, ast.Name):
        bound = fn.local_values.get(expr.id)
        if bound is not None and _in_same_handler(ctx, bound):
            branches: list[ast.expr] = [bound]
            codes: list[int] = []
            while branches:
                branch = branches.pop()
                if isinstance(branch, ast.IfExp):
                    branches += [branch.body, branch.orelse]
                    continue
                code = status_code_value(branch)
                if code is None:
                    return None
                codes.append(code)
            return max(codes)
    if ctx is not None and isinstance(expr, ast.Attribute):
        declared = _declared_status(ctx, expr)
        if declared is not None:
            return declared
    # `HTTPStatus.INTERNAL_SERVER_ERROR` (and `.value`)
    if isinstance(expr, ast.Attribute) and expr.attr == "value":
        expr = expr.value
    if isinstance(expr, ast.Attribute):
        member = getattr(HTTPStatus, expr.attr, None)
        if isinstance(member, HTTPStatus):
            return int(member)
    return None


def _declared_status(ctx: FileContext, expr: ast.Attribute) -> int | None:
    """`exc.status_code` of `except AgentError as exc`, when the project classes it may
    hold all declare it in their class bodies (`status_code: int = 400`, inherited or
    overridden by a subclass, never set in `__init__`): the highest of them, so a
    subclass with a 5xx makes the response a server error."""
    if not isinstance(expr.value, ast.Name):
        return None
    bound = _binding_handler(ctx, expr.value.id)
    if bound is None:
        return None
    project = ctx.project
    codes: list[int] = []
    for name in _clause_classes(ctx, bound[1]):
        caught = project.class_(name)
        if caught is None:
            return None
        for member in _family(ctx.model, caught.qualname):
            value: ast.expr | None = None
            for ancestor in project.mro(member):
                cls = project.class_(ancestor)
                if cls is None:
                    if _builtin_class(ancestor.removeprefix("builtins.")) is None:
                        return None  # an outside base (`HTTPException`) may set it
                    continue
                if len(cls.bases) < len(cls.node.bases):
                    return None  # a base that did not resolve
                if expr.attr in project.instance_attributes(cls):
                    return None  # `self.status_code = status_code` in `__init__`
                if value is None:
                    value = class_attribute(cls, expr.attr)
            code = status_code_value(value)
            if code is None:
                return None
            codes.append(code)
    return max(codes) if codes else None


def _derived_classes(model: AppModel) -> dict[str, list[str]]:
    """Class name -> the project classes with it in their MRO (itself included, for a
    project class), in the project's class order: what `project.is_subclass(q, {name})`
    answers for every `q`, computed once instead of over all classes for each name."""
    project = model.project
    out: dict[str, list[str]] = {}
    for qualname in project.classes:
        for ancestor in project.mro(qualname):
            out.setdefault(ancestor, []).append(qualname)
    return out


def _family(model: AppModel, root: str) -> list[str]:
    """The class `root` and the project classes that derive from it."""
    below = project_index(model, _derived_classes).get(root, [])
    return [root, *(q for q in below if q != root)]


@dataclass(frozen=True)
class _Wrap:
    """`raise CompactionError(str(exc))` in an `except Exception as exc` clause."""

    node: ast.Call
    caller: Function
    wrapped: str  # the class the wrapped exception was caught as

    def describe(self) -> str:
        return (
            f"`{_short(self.node)}` in `{self.caller.name}` wraps the text of "
            f"`{last_name(self.wrapped)}`"
        )


# Attributes of an error that hold a number or a status line, not its text.
_STATUS_ATTRS = _RESPONSE_STATUS_LINE | {"code", "errno"}


def _mentions_text(expr: ast.expr, name: str) -> bool:
    """Does `expr` use the exception `name` other than through a status attribute
    (`exc.response.status_code`, `exc.errno`)?"""
    status_only: set[int] = set()
    for node in walk(expr):
        if isinstance(node, ast.Attribute) and node.attr in _STATUS_ATTRS:
            root: ast.expr = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            status_only.add(id(root))
    return any(
        isinstance(node, ast.Name) and node.id == name and id(node) not in status_only
        for node in walk(expr)
    )


def _calls_outside(project: Project, fn: Function, body: list[ast.stmt]) -> bool:
    """Does a `try` body wait on or call code outside the project (a provider, a
    client library), or touch files, processes or sockets?"""
    nodes: list[ast.AST] = list(body)
    if does_io(project, fn.module, fn, nodes):
        return True
    for node in walk_nodes(nodes):
        if isinstance(node, ast.Await):
            return True
        if not isinstance(node, ast.Call):
            continue
        callee = resolve_callee(project, fn.module, node.func, fn)
        if (
            _plain_call(project, fn, node, callee)
            or project.function(callee) is not None
            or project.class_(callee) is not None
            or (callee is not None and _builtin_class(callee) is not None)
        ):
            continue
        return True
    return False


def _foreign_wraps(
    state: _LeakState, project: Project, name: str, earlier: tuple[str, ...]
) -> list[_Wrap]:
    """The places the project builds the exception class `name` (or a subclass not
    caught by the `earlier` clauses of the same `try`) from the text of an error it
    caught from outside code: `except Exception as exc: raise CompactionError(str(exc))
    from exc` around a provider call. The class's message is then not the project's
    own there."""
    key = (name, earlier)
    found = state.wraps.get(key)
    if found is not None:
        return found
    found = []
    caught = project.class_(name)
    root = caught.qualname if caught is not None else name
    callgraph = state.model.callgraph
    for member in _family(state.model, root):
        if earlier and _surely_catches(project, list(earlier), member):
            continue  # handled by an earlier clause
        for caller, site in callgraph.callers(member):
            fn = project.function(caller)
            wrap = _wrap_at(state, project, fn, site.node) if fn is not None else None
            if wrap is not None:
                found.append(wrap)
    state.wraps[key] = found
    return found


_REACH_DEPTH = 8


def _reached_from_try(ctx: FileContext, name: str) -> tuple[set[str], ast.Try] | None:
    """The project functions the `try` whose `except ... as name` holds the node may
    run (its calls, and theirs), with the `try`; None outside a `try` (an exception
    handler's parameter: anything may have raised it)."""
    fn = ctx.function()
    node = _enclosing_try(ctx, name)
    if fn is None or node is None:
        return None
    project = ctx.project
    callgraph = ctx.model.callgraph
    inside = {id(n) for n in walk_nodes(list(node.body))}
    todo: list[Function] = []
    for site in callgraph.calls_of(fn):
        if id(site.node) not in inside:
            continue
        callee = project.function(site.target)
        if callee is None:
            cls = project.class_(site.target)
            callee = project.method(cls.qualname, "__init__") if cls is not None else None
        if callee is not None:
            todo.append(callee)
    reached: set[str] = set()
    for _ in range(_REACH_DEPTH):
        following: list[Function] = []
        for callee in todo:
            if callee.qualname not in reached:
                reached.add(callee.qualname)
                following += callgraph.callees(project, callee)
        todo = following
    return reached, node


def _wrap_at(state: _LeakState, project: Project, fn: Function, call: ast.Call) -> _Wrap | None:
    arguments = [*call.args, *(kw.value for kw in call.keywords)]
    line = call.lineno
    for node in body_nodes(fn.node):
        if type(node) is not ast.Try:
            continue
        for handler in node.handlers:
            end = handler.end_lineno or handler.lineno
            if not handler.name or not handler.lineno <= line <= end:
                continue
            if not any(_mentions_text(a, handler.name) for a in arguments):
                continue
            caught = handler.type
            elements = caught.elts if isinstance(caught, ast.Tuple) else [caught] if caught else []
            classes = [project.resolve(fn.module, e, fn) for e in elements] or ["BaseException"]
            for cls in classes:
                if cls is not None and (
                    cls in _CLIENT_ERRORS
                    or cls in _DATA_FORMAT_ERRORS
                    or project.class_(cls) is not None
                    or _unseen_project_class(state, project, cls)
                ):
                    continue
                if _calls_outside(project, fn, node.body):
                    return _Wrap(call, fn, cls or "?")
    return None


def _client_safe(state: _LeakState, project: Project, classes: list[str]) -> bool:
    """Every class is project-defined (a domain error whose message the project wrote)
    or a validation/token error whose message is meant for the client."""
    for name in classes:
        if name in _CLIENT_ERRORS or project.class_(name) is not None:
            continue
        if _unseen_project_class(state, project, name):
            continue
        return False
    return True


def _unseen_project_class(state: _LeakState, project: Project, name: str) -> bool:
    """A class of the project's own top-level package defined outside the reviewed
    folder (`airflow.exceptions.X` when reviewing `airflow/api_fastapi`): the review
    sees neither its body nor the constructions outside the folder."""
    return (
        project.class_(name) is None
        and name.split(".", 1)[0] in state.project_roots
        and name not in _BUILTIN_EXCEPTIONS
    )


def _clause_classes(ctx: FileContext, clause: ast.ExceptHandler) -> list[str | None]:
    caught = clause.type
    if caught is None:
        return []
    elements = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return [ctx.resolve(e) for e in elements]


def _surely_catches(project: Project, caught: list[str], raised: str) -> bool:
    """Does `except (caught...)` catch every exception of class `raised` (the class or
    an ancestor is caught)? Unlike `_catches`, unknown classes do not."""
    targets = {project.canonical(c) for c in caught}
    builtin = [b for c in caught if (b := _builtin_class(c.removeprefix("builtins."))) is not None]
    for ancestor in project.mro(raised):
        if ancestor in targets or project.canonical(ancestor) in targets:
            return True
        base = _builtin_class(ancestor.removeprefix("builtins."))
        if base is not None and any(issubclass(base, b) for b in builtin):
            return True
    return False


def _inside(node: ast.AST, body: list[ast.stmt]) -> bool:
    return any(n is node for n in walk_nodes(list(body)))


def _earlier_classes(ctx: FileContext, name: str) -> tuple[str, ...]:
    """The classes the clauses before `except ... as name` in its `try` catch."""
    bound = _binding_handler(ctx, name)
    node = _enclosing_try(ctx, name)
    if bound is None or node is None:
        return ()
    return tuple(_caught_before(ctx, node, bound[1]))


def _caught_before(ctx: FileContext, node: ast.Try, clause: ast.ExceptHandler) -> list[str]:
    """The classes the clauses of `node` before `clause` catch."""
    out: list[str] = []
    for other in node.handlers:
        if other is clause:
            break
        out += [c for c in _clause_classes(ctx, other) if c is not None]
    return out


def _unreachable_clause(ctx: FileContext) -> bool:
    """Is the node in an `except` clause that nothing reaches, because an earlier
    clause of the same `try` catches each of its classes or a base class of it
    (`except AgentError` before `except CompactionError(AgentError)`)?"""
    project = ctx.project
    for index in range(len(ctx.stack) - 1, 0, -1):
        clause = ctx.stack[index]
        if isinstance(clause, _SCOPES):
            return False
        parent = ctx.stack[index - 1]
        # `except*` runs every matching clause: only a plain `try` shadows.
        if not isinstance(clause, ast.ExceptHandler) or type(parent) is not ast.Try:
            continue
        classes = _clause_classes(ctx, clause)
        earlier = _caught_before(ctx, parent, clause)
        if (
            earlier
            and classes
            and all(c is not None and _surely_catches(project, earlier, c) for c in classes)
        ):
            return True
    return False


def _enclosing_try(ctx: FileContext, name: str) -> ast.Try | None:
    """The `try` statement whose `except ... as name` clause holds the node."""
    bound = _binding_handler(ctx, name)
    if bound is None or bound[0] == 0:
        return None
    parent = ctx.stack[bound[0] - 1]
    return parent if isinstance(parent, ast.Try) else None


def _binding_handler(ctx: FileContext, name: str) -> tuple[int, ast.ExceptHandler] | None:
    """The `except ... as name` clause around the node in its own scope, with its
    place in the ancestor stack."""
    for index in range(len(ctx.stack) - 1, -1, -1):
        node = ctx.stack[index]
        if isinstance(node, _SCOPES):
            return None
        if isinstance(node, ast.ExceptHandler) and node.name == name:
            return index, node
    return None


def _sole_calls(body: list[ast.stmt]) -> list[ast.Call] | None:
    """The one call of each statement of a `try` body made only of `x = call(...)`,
    `call(...)` or `return call(...)` (awaited or not), whose arguments call nothing;
    None for any other body."""
    calls: list[ast.Call] = []
    for stmt in body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Return)):
            value = stmt.value
        else:
            return None
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return None
        calls.append(value)
    return calls


def _calls_nothing(nodes: list[ast.expr]) -> bool:
    return not any(isinstance(n, ast.Call) for n in walk_nodes(list(nodes)))


def _is_model_call(ctx: FileContext, call: ast.Call) -> bool:
    """`Model(...)`, `Model.model_validate(...)` of a project Pydantic model, or
    `TypeAdapter(T).validate_python(...)`: they raise only `ValidationError`."""
    project = ctx.project
    arguments = [*call.args, *(kw.value for kw in call.keywords)]
    if not _calls_nothing(arguments):
        return False
    func = call.func
    target: ast.expr = func
    if isinstance(func, ast.Attribute) and func.attr in _ADAPTER_VALIDATORS:
        adapter = func.value
        return (
            isinstance(adapter, ast.Call)
            and ctx.resolve(adapter.func) in _ADAPTERS
            and _calls_nothing([*adapter.args, *(kw.value for kw in adapter.keywords)])
        )
    if isinstance(func, ast.Attribute) and func.attr in _MODEL_VALIDATORS:
        target = func.value
    name = ctx.resolve(target)
    return project.class_(name) is not None and project.is_subclass(name, BASE_MODEL)


def _is_json_call(ctx: FileContext, call: ast.Call) -> bool:
    """`response.json()` (an outside object) or `json.loads(text)`."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "json" and not call.args:
        return (
            not call.keywords
            and _calls_nothing([func.value])
            and ctx.project.function(ctx.resolve(func)) is None
        )
    return ctx.resolve(func) in _JSON_LOADS and _calls_nothing(
        [*call.args, *(kw.value for kw in call.keywords)]
    )


def _try_body_kind(ctx: FileContext, name: str, classes: list[str]) -> str | None:
    """'model' when a broad `except` guards a `try` body that only builds or validates
    Pydantic models (so it catches a `ValidationError`); 'json' when a JSON-decoding
    error (or a broad one) guards a body that only decodes JSON."""
    if not classes:
        return None
    broad = all(c in _BROAD for c in classes)
    if not broad and not all(c in _BROAD | _JSON_ERRORS for c in classes):
        return None
    node = _enclosing_try(ctx, name)
    calls = _sole_calls(node.body) if node is not None else None
    if not calls:
        return None
    if all(_is_json_call(ctx, call) for call in calls):
        return "json"
    if broad and all(_is_model_call(ctx, call) for call in calls):
        return "model"
    return None


# Methods that dump a request model back to plain data (`query.model_dump()`).
_DUMP_METHODS = frozenset({"model_dump", "model_dump_json", "dict"})
_NOT_PLAIN_EXPRS = (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)
_LOCAL_DEPTH = 3


def _client_params(ctx: FileContext, fn: Function) -> frozenset[str]:
    """The parameters of a path operation function that FastAPI fills from the request
    (path, query, header, cookie and body values): not its dependencies, nor the
    framework objects (`Request`, `Response`, `BackgroundTasks`)."""
    if not ctx.model.routes_of(fn):
        return frozenset()
    project = ctx.project
    dependencies = {site.param for site in param_sites(project, fn)}
    out: set[str] = set()
    for param, _default in parameters(fn.node):
        if param.arg in dependencies or param.arg in ("self", "cls"):
            continue
        typ = annotation_type(project, fn.module, param.annotation, fn.parent)
        if typ is not None and typ.split(".", 1)[0] in ("fastapi", "starlette"):
            continue
        out.add(param.arg)
    return frozenset(out)


def _plain_client_call(ctx: FileContext, fn: Function, call: ast.Call) -> bool:
    """A call that only reads or reshapes the value it is given (`_plain_call`), or
    dumps a request model (`query.model_dump()`)."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _DUMP_METHODS:
        return ctx.project.function(ctx.resolve(func)) is None
    return _plain_call(ctx.project, fn, call, ctx.resolve(func))


def _client_values(
    ctx: FileContext,
    fn: Function,
    expr: ast.expr,
    client: frozenset[str],
    depth: int = 0,
) -> int | None:
    """How many project parsers (`parser_call`) `expr` calls, when it is made only of
    the request's values (`client`), constants and locals bound to such values, through
    those parsers and plain calls (`_plain_client_call`); None when it is made of
    anything else."""
    bound: set[str] = set()
    skip: set[int] = set()
    parsers = 0
    for node in walk(expr):
        if id(node) in skip:
            continue
        if isinstance(node, _NOT_PLAIN_EXPRS):
            return None
        if isinstance(node, ast.comprehension):
            bound |= {n.id for n in walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Call):
            if parser_call(ctx, node):
                parsers += 1
                skip |= {id(n) for n in walk(node.func)}  # the parser, not a value
            elif not _plain_client_call(ctx, fn, node):
                return None
            elif isinstance(node.func, ast.Name) or ctx.resolve(node.func) in _JSON_LOADS:
                skip |= {id(n) for n in walk(node.func)}  # `json.loads`: a function, no value
    for node in walk(expr):
        if not isinstance(node, ast.Name) or id(node) in skip or node.id in bound:
            continue
        if node.id in fn.local_values:
            value = fn.local_values[node.id]
            if (
                value is None
                or depth >= _LOCAL_DEPTH
                or _client_values(ctx, fn, value, client, depth + 1) is None
            ):
                return None
        elif node.id not in client:
            return None
    return parsers


def _parses_client_input(ctx: FileContext, name: str) -> bool:
    """Does the `try` whose `except ... as name` holds the node only parse the
    request's own values with project parsers (`parses_client_input`)?"""
    node = _enclosing_try(ctx, name)
    return node is not None and parses_client_input(ctx, node)


def parses_client_input(ctx: FileContext, node: ast.Try) -> bool:
    """Does this `try` of a path operation only parse the request's own values with
    project parsers (`parser_call`)? Then what it raises describes the client's input:
    `[SpanQuery.from_dict(q.model_dump()) for q in body.queries]`, with no `await`, no
    I/O and no other call. FAA603 asks it too: a catch-all around such a `try` catches
    only the client's errors."""
    fn = ctx.function()
    if fn is None:
        return False
    client = _client_params(ctx, fn)
    if not client or does_io(ctx.project, ctx.module, fn, list(node.body)):
        return False
    parsers = 0
    for stmt in node.body:
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        elif not isinstance(stmt, (ast.Expr, ast.Return)):
            return False
        if stmt.value is None:
            return False
        found = _client_values(ctx, fn, stmt.value, client)
        if found is None:
            return False
        parsers += found
        for target in targets:
            for part in walk(target):
                if isinstance(part, ast.Name):
                    client |= {part.id}  # bound in the `try` from the request's values
                elif not isinstance(part, (ast.Tuple, ast.List, ast.Starred)):
                    return False  # `self.x = ...`, `data[k] = ...`
    return parsers > 0


def _message_raises(fn: Function, project: Project, name: str) -> bool | None:
    """Does `fn` raise the class `name` itself? True when every such `raise` has a
    project-written message (literals or f-string templates of its own values, or
    none: `_literal_message`), False when one carries other text, None when it raises
    no `name`."""
    found: bool | None = None
    for node in body_nodes(fn.node):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        exc = node.exc
        call = exc if isinstance(exc, ast.Call) else None
        if project.resolve(fn.module, call.func if call else exc, fn) != name:
            continue
        if call is not None and not _literal_message(project, fn, call):
            return False
        found = True
    return found


def _project_raised(ctx: FileContext, name: str, classes: list[str]) -> bool:
    """Builtin exceptions the project raises itself, with a fixed message: a project
    function called in the `try` body raises each class with string literals, and
    nothing in that body (or in the project functions it calls) touches files,
    processes or sockets, whose `OSError`s would carry paths."""
    fn = ctx.function()
    node = _enclosing_try(ctx, name)
    if fn is None or node is None:
        return False
    project = ctx.project
    body: list[ast.AST] = list(node.body)
    if does_io(project, ctx.module, fn, body):
        return False
    sites = {id(site.node): site for site in ctx.model.callgraph.calls_of(fn)}
    callees: list[Function] = []
    for call in walk_nodes(body):
        if not isinstance(call, ast.Call):
            continue
        site = sites.get(id(call))
        callee = project.function(site.target if site is not None else ctx.resolve(call.func))
        if callee is not None:
            if does_io(project, callee.module, callee, list(callee.node.body)):
                return False
            callees.append(callee)
    for cls in classes:
        if cls in _CLIENT_ERRORS or project.class_(cls) is not None:
            continue
        if cls not in _BUILTIN_EXCEPTIONS or cls in _BROAD:
            return False
        raised = [_message_raises(callee, project, cls) for callee in callees]
        if False in raised or True not in raised:
            return False
    return True


# Builtins whose errors carry no internals (a fixed text, or none at all).
_PLAIN_BUILTINS = frozenset(
    {
        "isinstance",
        "issubclass",
        "len",
        "bool",
        "callable",
        "hasattr",
        "id",
        "type",
        "any",
        "all",
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "sorted",
        "reversed",
        "enumerate",
        "zip",
        "range",
        "min",
        "max",
        "sum",
        "abs",
        "repr",
        "str",
    }
)
# Methods of builtin strings and containers, same.
_PLAIN_METHODS = frozenset(
    {
        "startswith",
        "endswith",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "casefold",
        "split",
        "rsplit",
        "splitlines",
        "partition",
        "rpartition",
        "join",
        "items",
        "keys",
        "values",
        "append",
        "add",
        "extend",
        "copy",
        "get_secret_value",
    }
)
_LOGGERS = frozenset({"log", "logger", "logging", "_log", "_logger"})
_RAISE_DEPTH = 3


def _builtin_class(name: str) -> type[BaseException] | None:
    value = getattr(builtins, name, None) if name in _BUILTIN_EXCEPTIONS else None
    return value if isinstance(value, type) and issubclass(value, BaseException) else None


def _catches(project: Project, caught: list[str], raised: str | None) -> bool:
    """May `except (caught...)` catch an exception of class `raised`? Unknown classes
    may."""
    if raised is None:
        return True
    unknown = False
    for ancestor in project.mro(raised):
        if ancestor in caught:
            return True
        base = _builtin_class(ancestor)
        if base is not None:
            if any(
                (c := _builtin_class(name)) is not None and issubclass(base, c) for name in caught
            ):
                return True
        else:
            cls = project.class_(ancestor)
            # An outside class, or a project class with a base that did not resolve.
            unknown = unknown or cls is None or len(cls.bases) < len(cls.node.bases)
    return unknown


# Attributes whose value is foreign text: exception internals, upstream responses.
_FOREIGN_ATTRS = _LEAKY_ATTRS | {"json", "__dict__"}


def _exception_locals(project: Project, fn: Function | None) -> frozenset[str]:
    """The names in `fn` that may hold an exception or text the project did not write:
    `except ... as e` names, parameters annotated with an exception class, and locals
    assigned from an expression that mentions one of those (`reason = str(e)`) or
    reads an upstream response or error attribute (`detail = resp.json()["error"]`)."""
    if fn is None:
        return frozenset()
    names: set[str] = set()
    for param, _default in parameters(fn.node):
        typ = annotation_type(project, fn.module, param.annotation, fn.parent)
        if is_exception_type(project, typ):
            names.add(param.arg)
    assigns: list[ast.Assign | ast.AnnAssign] = []
    for node in body_nodes(fn.node):
        if isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            assigns.append(node)
    changed = True
    while changed:
        changed = False
        for stmt in assigns:
            assert stmt.value is not None
            if not any(
                (isinstance(n, ast.Name) and n.id in names)
                or (isinstance(n, ast.Attribute) and n.attr in _FOREIGN_ATTRS)
                for n in walk(stmt.value)
            ):
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for n in walk(target):
                    if isinstance(n, ast.Name) and n.id not in names:
                        names.add(n.id)
                        changed = True
    return frozenset(names)


def _internal_text(
    project: Project, fn: Function | None, expr: ast.expr, exceptions: frozenset[str]
) -> bool:
    """Does a message part carry text the project did not write: an exception (or its
    text, `str(e)`, `e.args`), a traceback, an upstream response (`resp.text`,
    `resp.json()`), or the repr of an object (`{engine!r}`, `repr(client)`)?"""
    for node in walk(expr):
        if isinstance(node, ast.Name) and node.id in exceptions:
            return True
        if isinstance(node, ast.Attribute) and node.attr in _FOREIGN_ATTRS:
            return True
        if (
            isinstance(node, ast.FormattedValue)
            and node.conversion == ord("r")
            and not isinstance(node.value, (ast.Name, ast.Attribute))
        ):
            return True
        if isinstance(node, ast.Call):
            callee = project.resolve(fn.module, node.func, fn) if fn is not None else None
            if callee in _TRACEBACK or callee in ("sys.exc_info", "vars", "locals", "globals"):
                return True
            if callee == "repr" and not all(
                isinstance(a, (ast.Name, ast.Attribute)) for a in node.args
            ):
                return True
    return False


def _templated_part(
    project: Project, fn: Function | None, expr: ast.expr, exceptions: frozenset[str]
) -> bool:
    """A message argument the project wrote: a literal, or an f-string (or a `+` of
    such parts) whose fields are names and values of the project's own, or a plain
    name or attribute, none of them exception text (`_internal_text`)."""
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _templated_part(project, fn, expr.left, exceptions) and _templated_part(
            project, fn, expr.right, exceptions
        )
    if isinstance(expr, (ast.JoinedStr, ast.Name, ast.Attribute)):
        return not _internal_text(project, fn, expr, exceptions)
    # `"unexpected shape [{}], expected [{}]".format(got, want)`, `"no model %s" % name`
    fields: list[ast.expr] = []
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "format"
        and isinstance(expr.func.value, ast.Constant)
        and isinstance(expr.func.value.value, str)
    ):
        fields = [*expr.args, *(kw.value for kw in expr.keywords)]
    elif (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Mod)
        and isinstance(expr.left, ast.Constant)
        and isinstance(expr.left.value, str)
    ):
        fields = list(expr.right.elts) if isinstance(expr.right, ast.Tuple) else [expr.right]
    else:
        return False
    return all(
        not isinstance(field, ast.Starred) and _templated_part(project, fn, field, exceptions)
        for field in fields
    )


def _literal_message(project: Project, fn: Function | None, call: ast.Call) -> bool:
    """Is every argument of an exception constructor project-written text
    (`_templated_part`): `ValueError("Invalid model")`, `ValueError(f"Unknown model
    {name}")`, never `ValueError(f"bad config: {e}")`?"""
    exceptions = _exception_locals(project, fn)
    return all(
        _templated_part(project, fn, a, exceptions)
        for a in (*call.args, *(kw.value for kw in call.keywords))
    )


def _plain_call(project: Project, fn: Function, call: ast.Call, callee: str | None) -> bool:
    """A call whose errors say nothing about internals: plain builtins, methods of
    strings and containers, logging, `json.loads` (a parse position)."""
    if callee in _PLAIN_BUILTINS or callee in _JSON_LOADS:
        return True
    func = call.func
    if not isinstance(func, ast.Attribute) or project.function(callee) is not None:
        return False
    if func.attr in _PLAIN_METHODS:
        return True
    receiver = func.value
    owner = (
        receiver.id
        if isinstance(receiver, ast.Name)
        else receiver.attr
        if isinstance(receiver, ast.Attribute)
        else ""
    )
    return owner.lower() in _LOGGERS


def _raises_only_literals(
    project: Project,
    fn: Function,
    nodes: list[ast.AST],
    caught: list[str],
    depth: int,
    seen: set[int],
    found: list[ast.Raise],
) -> bool:
    """Is every way these nodes (in `fn`, and the project functions they call) can
    raise one of the `caught` classes a `raise` with a project-written message, a
    literal or an f-string template (`_literal_message`, collected in `found`)? Any other call (outside code) may raise anything; a subscript raises
    `KeyError` with its key."""
    lookups = _catches(project, caught, "KeyError") or _catches(project, caught, "IndexError")
    attributes = _catches(project, caught, "AttributeError")
    for node in walk_nodes(nodes):
        if isinstance(node, ast.Raise):
            exc = node.exc
            if exc is None:
                return False  # a bare re-raise: whatever was caught
            call = exc if isinstance(exc, ast.Call) else None
            raised = project.resolve(fn.module, call.func if call else exc, fn)
            if raised is None or (
                call is None and project.class_(raised) is None and not _builtin_class(raised)
            ):
                return False  # `raise error`: a value of unknown message
            if _catches(project, caught, raised):
                if call is not None and not _literal_message(project, fn, call):
                    return False
                found.append(node)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if lookups and not isinstance(node.slice, ast.Constant):
                return False
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if attributes:
                return False
        elif isinstance(node, ast.Call):
            callee = resolve_callee(project, fn.module, node.func, fn)
            if _plain_call(project, fn, node, callee) or (
                callee is not None and _builtin_class(callee) is not None
            ):
                continue  # building a builtin exception raises nothing
            target = project.function(callee)
            cls = project.class_(callee)
            if target is None and cls is not None:
                if project.is_subclass(cls.qualname, BASE_MODEL):
                    if _catches(project, caught, "ValueError"):
                        return False  # a `ValidationError`, about the input
                    continue
                target = project.method(cls.qualname, "__init__")
                if target is None:
                    continue
            if target is None or depth >= _RAISE_DEPTH:
                return False
            if id(target.node) in seen:
                continue
            seen.add(id(target.node))
            if not _raises_only_literals(
                project, target, list(target.node.body), caught, depth + 1, seen, found
            ):
                return False
    return True


def _app_written_message(ctx: FileContext, name: str, classes: list[str]) -> bool:
    """`except (KeyError, ValueError) as e` around code that raises those classes only
    as `raise ValueError("Invalid model")` (here or in the project functions it calls),
    with nothing else that could raise them: the message is the project's own text."""
    fn = ctx.function()
    node = _enclosing_try(ctx, name)
    if fn is None or node is None or not classes:
        return False
    project = ctx.project
    for cls in classes:
        if cls in _BROAD or (_builtin_class(cls) is None and project.class_(cls) is None):
            return False
    found: list[ast.Raise] = []
    return _raises_only_literals(
        project, fn, list(node.body), classes, 0, {id(fn.node)}, found
    ) and bool(found)


_OWN_TEXT_METHODS = ("__init__", "__str__", "__repr__")


def _builds_own_text(project: Project, fn: Function) -> bool:
    """Does an exception class's `__init__`/`__str__` only combine its arguments with
    literals (calling nothing but `super()` and plain builtins)?"""
    exceptions = _exception_locals(project, fn)
    for node in body_nodes(fn.node):
        if isinstance(node, ast.JoinedStr) and _internal_text(project, fn, node, exceptions):
            return False
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and (func.id == "super" or func.id in _PLAIN_BUILTINS):
            continue
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "super"
        ):
            continue
        return False
    return True


def _templated_class(ctx: FileContext, state: _LeakState, classes: list[str]) -> bool:
    """Project exception classes whose text the project always writes: every place the
    project builds one (or a subclass) passes literals or f-string templates of its
    own values (`DagError(f"Cannot load Dag {dag_id!r}")`, `DagError(dag_id) from
    err`), never exception text, and their `__init__`/`__str__` only combine those
    arguments with literals. The class and its constructions must be in the project,
    or the class is the project's own but defined outside the reviewed folder: then
    only the constructions the review sees (maybe none) can show it carries other text."""
    if not classes:
        return False
    project = ctx.project
    callgraph = ctx.model.callgraph
    for name in classes:
        unseen = _unseen_project_class(state, project, name)
        if project.class_(name) is None and not unseen:
            return False
        family = [name] if unseen else []
        family += project_index(ctx.model, _derived_classes).get(name, [])
        built = unseen
        for qualname in family:
            for ancestor in project.mro(qualname):
                if project.class_(ancestor) is None:
                    continue
                for method in _OWN_TEXT_METHODS:
                    own = project.function(f"{ancestor}.{method}")
                    if own is not None and not _builds_own_text(project, own):
                        return False
            for caller, site in callgraph.callers(qualname):
                built = True
                if not _literal_message(project, project.function(caller), site.node):
                    return False
        if not built:
            return False
    return True


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


@rule(
    code="FAA601",
    name="exception-detail-leak",
    summary="The text of a caught exception or a traceback is sent to the client",
    severity="error",
    nodes=(ast.Call, ast.Return),
    fix_title="Log the exception and send a generic message",
    cwe=("CWE-209",),
    owasp=("API8:2023",),
    references=(
        "https://fastapi.tiangolo.com/tutorial/handling-errors/",
        "https://owasp.org/Top10/A05_2021-Security_Misconfiguration/",
    ),
)
def exception_detail_leak(node: ast.Call | ast.Return, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds error responses that carry the text of a caught exception:
    `HTTPException(detail=str(e))`, `detail=f"...{e}"`, `repr(e)`, `e.args`, `e.orig`,
    `traceback.format_exc()`, `JSONResponse(content={"error": str(exc)})`, or a route
    returning `{"error": str(e)}`, where `e` is bound by an enclosing `except ... as e`,
    is the exception parameter of an exception handler (`@app.exception_handler`,
    `add_exception_handler`) or a parameter typed as an exception.

    ## Why is this bad?
    Library and driver messages describe internals: SQL statements and constraint
    names (`IntegrityError`), file paths, hostnames, upstream responses, stack traces
    (CWE-209). They help an attacker map the system and are useless to the client.
    With a 5xx status this is an error; for other statuses a warning.

    ## Known problems
    A 4xx (or unknown) status is fine when the exception is project-defined (a domain
    error whose message the project wrote) or a validation error meant for the client:
    `ValueError`, Pydantic's `ValidationError`, `RequestValidationError`,
    `HTTPException`, JSON decoding and JWT errors, starlette's `MultiPartException`,
    jinja2's `TemplateSyntaxError` and jsonschema's `ValidationError`. A project
    class is not trusted, at any status, when code the `try` may run (its calls, and
    theirs, through the call graph) builds it or a subclass from the text of an error
    caught from outside code: `except Exception as exc: raise CompactionError(str(exc))`
    around a provider call or other I/O (not a status attribute such as
    `exc.response.status_code`, nor a client-safe or project error); the message names
    that construction. A call through a callback (`anyio.to_thread.run_sync(fn)`) is not
    followed. A message is
    project-written when it is a literal or an f-string template of the project's own
    values (`f"Unknown model {name}"`), not one that interpolates another exception
    (`f"failed: {e}"`, `str(e)`), a traceback, an upstream response or the repr of an
    object. A builtin exception counts as project-written when a project function
    called in the `try` raises it with such a message and nothing in the `try` touches
    files, processes or sockets. At any status, nothing is reported for a project
    exception class whose every construction in the project (its subclasses' too)
    passes such messages (`raise DagError(dag_id) from err`) and whose `__init__`/
    `__str__` only fill templates with its arguments (for a class of the project's
    top-level package defined outside the reviewed folder, which the review cannot
    read, only the constructions it sees count: it is trusted unless one of them
    passes another exception's text); nor when the caught classes (not
    `Exception`) can only come from `raise X("literal")` in the `try` body or in the
    project functions it calls, with nothing else there that could raise them (no
    outside call but plain builtins, string and container methods, logging and
    `json.loads`; no subscript by a variable key when `KeyError`/`IndexError` is
    caught): the message is the project's own text. Neither is an exception text
    used only as a lookup key (`MESSAGES.get(str(e), "...")`) or in a comparison.
    A broad `except Exception` around a `try` body that only builds or
    validates Pydantic models is taken as a `ValidationError`; one around a body that
    only decodes JSON (`response.json()`, `json.loads`) is not reported at any status
    (the message is a parse position), nor are the errors only a parser raises about
    the bytes it was given (`zipfile.BadZipFile`, `tarfile.ReadError`,
    `binascii.Error`, XML and TOML parse errors). Any `except` around a `try` body
    that only feeds the request's own values (path, query and body parameters, not
    dependencies, and locals made of them through plain calls such as
    `query.model_dump()` or `json.loads(form_field)`) to project parsers, functions named `parse*`, `from_*`,
    `validate*`, `decode*`, `deserialize*` or `loads*` (of the reviewed code, plain
    functions that do no I/O; or of the project's top-level package defined outside
    the reviewed folder, `SpanQuery.from_dict` of `phoenix.trace.dsl` when reviewing
    `phoenix/server`), with no `await`, is taken as an error about the client's
    input, like a `ValidationError` (FAA603 shares this check). A status bound to a local in the `except` clause
    (`code = 413 if ... else 400`) counts as its highest branch; `exc.status_code` of
    `except DomainError as exc` counts as the highest `status_code` that the caught
    project classes, their ancestors and subclasses declare in their class bodies (a
    subclass with `status_code = 503` makes it a server error); one set in
    `__init__` or by an outside base stays unknown. An `except` clause that an
    earlier clause of the same `try` makes unreachable (`except AgentError` before
    `except CompactionError`, a subclass; `except Exception` before `except
    ValueError`) is not reported: nothing reaches it. The status line of
    an HTTP status error is not its text: aiohttp's `ClientResponseError.message` (the
    reason phrase, also under `if isinstance(e, ClientResponseError)`), urllib's
    `HTTPError.reason` and `e.response.status_code`/`.reason`/`.reason_phrase` are not
    reported; `str(e)` of the same error (with the URL) is. A response a project
    helper builds and the route returns (`return await form.error_response(f"...{e!r}")`)
    has the helper's status, which the message does not guess (not the route's 200).

    ## Example
    ```python
    try:
        db.commit()
    except SQLAlchemyError as e:
        db.rollback()
        raise HTTPException(status_code=500, detail=str(e))
    ```

    ## Use instead
    ```python
    except SQLAlchemyError:
        db.rollback()
        logger.exception("Could not save the order")
        raise HTTPException(status_code=500, detail="Could not save the order") from None
    ```

    ## Fix safety
    There is no automatic fix: the right client message depends on the error.
    """
    # Called for every call and `return` of the project: the checks that settle almost
    # all of them come first, the node's own syntax before any lookup.
    payload: ast.expr | None
    status: int | None
    if isinstance(node, ast.Return):
        value = node.value
        if value is None:
            return
        for ancestor in ctx.stack:
            if isinstance(ancestor, ast.ExceptHandler):
                break
        else:
            return
        if not _callee_names(ctx.model, ctx.module):
            return
        if isinstance(value, ast.Call) and response_kind(ctx, value) is not None:
            return
        routes = ctx.routes()
        if not routes:
            return
        payload, status = value, routes[0].status_code or 200
        what = "The response body"
    else:
        func = node.func
        short = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if short is None or short not in _callee_names(ctx.model, ctx.module):
            return
        kind = response_kind(ctx, node)
        if kind is None:
            return
        if kind == "exception":
            payload = argument(node, 1, "detail")
            status = status_value(argument(node, 0, "status_code"), ctx)
            what = "`HTTPException` detail"
        else:
            status_expr = argument(node, 1, "status_code")
            payload, status = argument(node, 0, "content"), status_value(status_expr, ctx)
            if status_expr is None:
                status = 200
            what = "The response content"
    if payload is None:
        return
    state = leak_state(ctx.model)
    names = _exception_names(ctx, state)
    leak = _find_leak(ctx, payload, names)
    if leak is None or _unreachable_clause(ctx):
        return
    fn = ctx.function()
    if (
        isinstance(node, ast.Return)
        and fn is not None
        and is_response_expr(ctx.project, fn, payload)
    ):
        # `return await form.error_response(f"... {e!r}")`: a response a project helper
        # builds, with a status of its own (a form page's error answers 400). Asked only
        # of a leak: this rule sees every `return` of the project.
        status = None
    server_error = status is not None and status >= 500
    status_text = f" in a {status} response" if status is not None else ""
    if leak.name is None:
        yield Report(
            leak.node,
            f"{what} sends a stack trace ({leak.describe()}) to the client{status_text}",
            severity="error" if server_error else "warning",
        )
        return
    classes = names.get(leak.name, [])
    if classes and all(c in _DATA_FORMAT_ERRORS for c in classes):
        return
    if _app_written_message(ctx, leak.name, classes) or _templated_class(ctx, state, classes):
        return
    kind = _try_body_kind(ctx, leak.name, classes)
    if kind == "json":
        return
    if kind is None and _parses_client_input(ctx, leak.name):
        kind = "parse"
    # A broad `except` around a model construction catches a `ValidationError`; around
    # project parsers of the request's values, errors about the client's input.
    effective = ["pydantic.ValidationError"] if kind in ("model", "parse") else classes
    client_error = status is not None and 400 <= status < 500
    project = ctx.project
    # A project class the project also builds from an outside error's text, in code
    # the `try` may run.
    earlier = _earlier_classes(ctx, leak.name)
    wraps = [
        found
        for c in effective
        if project.class_(c) is not None or _unseen_project_class(state, project, c)
        for found in _foreign_wraps(state, project, c, earlier)
    ]
    # The call graph walk from the `try`, only when there is a wrap to place.
    reach = _reached_from_try(ctx, leak.name) if wraps else None
    wrap = next(
        (
            found
            for found in wraps
            if reach is None
            or found.caller.qualname in reach[0]
            or (found.caller is ctx.function() and _inside(found.node, reach[1].body))
        ),
        None,
    )
    if wrap is None and (
        _client_safe(state, project, effective)
        or (client_error and _project_raised(ctx, leak.name, classes))
    ):
        if not server_error:
            return
        severity: Severity = "warning"
    else:
        severity = "error" if server_error else "warning"
    caught = " | ".join(f"`{last_name(c)}`" for c in classes)
    wrapped = f": {wrap.describe()}" if wrap is not None else ""
    yield Report(
        leak.node,
        f"{what} sends the message of {caught} ({leak.describe()}) to the "
        f"client{status_text}{wrapped}",
        severity=severity,
    )


def response_kind(ctx: FileContext, call: ast.Call) -> str | None:
    """'exception' for `HTTPException` (and project subclasses), 'response' for the
    response classes, None otherwise."""
    name = ctx.resolve(call.func)
    if name is None:
        return None
    if name in HTTP_EXCEPTIONS:
        return "exception"
    if name in _RESPONSES:
        return "response"
    if ctx.project.class_(name) is not None:
        if ctx.project.is_subclass(name, HTTP_EXCEPTIONS):
            return "exception"
        if ctx.project.is_subclass(name, _RESPONSES):
            return "response"
    return None
