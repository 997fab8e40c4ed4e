"""FAA3xx (access to files, URLs and objects): request data that reaches the file system
(path traversal) or a redirect (open redirect), credentials sent in the query string,
authentication failures answered with the wrong status, and objects loaded by id
without an ownership check."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from fastapi_architect.model.apps import Route, status_code_value
from fastapi_architect.model.astutil import (
    argument,
    body_nodes,
    call_name,
    const_str,
    keyword,
    parameters,
    walk,
)
from fastapi_architect.model.dependencies import (
    depends_call,
    param_sites,
    resolve_target,
    walk_dependencies,
)
from fastapi_architect.model.project import Function
from fastapi_architect.model.types import infer_type, resolve_callee, unwrap_annotation
from fastapi_architect.review.context import FileContext, ProjectContext
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._orm import FunctionFacts, is_test_module, state
from fastapi_architect.review.rules.auth import CREDENTIAL_TYPES, reads_credential
from fastapi_architect.review.rules.errors import HTTP_EXCEPTIONS
from fastapi_architect.review.rules.injection import (
    Analysis,
    argument_for,
    dedupe,
    flatten_add,
)
from fastapi_architect.review.rules.security._common import (
    NOT_CREDENTIAL_PREFIXES,
    in_tests,
    jwt_of,
    name_matches,
    name_words,
)

# ------------------------------------------------------------------ request data flows

_REQUEST_TYPES = frozenset({"Request", "WebSocket", "HTTPConnection"})
_UPLOAD_TYPES = frozenset({"UploadFile"})
_FRAMEWORK_TYPES = frozenset({"Response", "BackgroundTasks", "SecurityScopes"})
_REQUEST_DATA_ATTRS = frozenset({"query_params", "path_params"})
_PATH_PARAM = re.compile(r"{\s*(\w+)\s*(?::\s*(\w+)\s*)?}")


@dataclass
class _Source:
    """A request parameter of the enclosing route or dependency."""

    name: str
    kind: str  # "value" | "request" | "upload"


class _Flow:
    """Which request parameters of a path operation (or dependency) an expression is
    computed from, through the function's locals. Values that cannot carry a path or a
    URL (numbers, UUIDs, enums, `Literal`, parameters validated by a `pattern=`, values
    checked against a fixed collection) and parameters filled by dependency functions
    (the current user, a session) are not request data."""

    def __init__(self, ctx: FileContext, fn: Function) -> None:
        self.ctx = ctx
        self.fn = fn
        st = state(ctx.model)
        self.analysis = Analysis(st, ctx.module, fn)
        self.facts: FunctionFacts = st.facts_of(fn)
        # Names checked against a fixed collection: a literal or UPPER_CASE one, or a
        # module-level name bound once at import (`x in root_static_files`).
        self.allowlisted = self.facts.guarded
        self.sources = self._sources()

    def _sources(self) -> dict[str, _Source]:
        project = self.ctx.project
        fn = self.fn
        filled: set[str] = set()
        for site in param_sites(project, fn):
            target = resolve_target(project, site)
            # A project class used as a dependency (`Depends()` on a query model) is
            # request data; anything else (a session, the user, a service) is not.
            if target is None or project.class_(target.qualname) is None:
                filled.add(site.param or "")
        out: dict[str, _Source] = {}
        for param, default in parameters(fn.node):
            name = param.arg
            if name in filled or name in ("self", "cls"):
                continue
            base, metadata, meta_module = unwrap_annotation(
                project, fn.module, param.annotation, fn.parent
            )
            markers = [*metadata, *([default] if default is not None else [])]
            if any(
                isinstance(m, ast.Call)
                and (keyword(m, "pattern") is not None or keyword(m, "regex") is not None)
                for m in markers
            ):
                continue  # validated against a pattern
            kind = "value"
            if isinstance(base, (ast.Name, ast.Attribute)):
                qualname = project.resolve(
                    meta_module, base, fn.parent if meta_module is fn.module else None
                )
                mro = [q.rsplit(".", 1)[-1] for q in project.mro(qualname)] if qualname else []
                if any(q in _REQUEST_TYPES for q in mro):
                    kind = "request"
                elif any(q in _UPLOAD_TYPES for q in mro):
                    kind = "upload"
                elif any(q in _FRAMEWORK_TYPES for q in mro):
                    continue
            if kind == "value" and self.analysis._safe_annotation(
                fn.module, param.annotation, fn.parent
            ):
                continue
            if name in self.allowlisted:
                continue
            out[name] = _Source(name, kind)
        return out

    def taint(
        self, expr: ast.expr | None, depth: int = 0, seen: frozenset[str] = frozenset()
    ) -> list[str]:
        """The request values `expr` is computed from, as labels (`filename`,
        `file.filename`, `request.query_params`)."""
        if expr is None or depth > 10:
            return []
        if isinstance(expr, ast.Constant):
            return []
        if isinstance(expr, ast.Name):
            return self._taint_name(expr.id, depth, seen)
        if isinstance(expr, ast.Attribute):
            root, chain = _chain(expr)
            if isinstance(root, ast.Name) and root.id in self.sources:
                source = self.sources[root.id]
                if source.kind == "upload":
                    return [f"{root.id}.filename"] if chain[:1] == ["filename"] else []
                if source.kind == "request":
                    for attr in chain:
                        if attr in _REQUEST_DATA_ATTRS:
                            return [f"{root.id}.{attr}"]
                    return []
            if expr.attr in ("name", "stem", "suffix", "suffixes") and isinstance(
                expr.value, ast.Call
            ):
                return []  # `Path(value).name`: the last component only
            return self.taint(expr.value, depth + 1, seen)
        if isinstance(expr, ast.Subscript):
            if _last_component(expr):
                return []
            return self.taint(expr.value, depth + 1, seen)
        if isinstance(expr, ast.Call):
            return self._taint_call(expr, depth, seen)
        if isinstance(expr, (ast.Lambda, ast.ListComp, ast.DictComp, ast.SetComp)):
            return []
        if isinstance(expr, ast.IfExp):
            # `".vue" if resource == "template" else ".js"`: the test only chooses a
            # branch, the value is one of the branches.
            return dedupe(
                self.taint(expr.body, depth + 1, seen) + self.taint(expr.orelse, depth + 1, seen)
            )
        out: list[str] = []
        for child in ast.iter_child_nodes(expr):
            if isinstance(child, ast.expr):
                out.extend(self.taint(child, depth + 1, seen))
            elif isinstance(child, ast.FormattedValue):
                out.extend(self.taint(child.value, depth + 1, seen))
        return dedupe(out)

    def _taint_name(self, name: str, depth: int, seen: frozenset[str]) -> list[str]:
        if name in seen:
            return []
        source = self.sources.get(name)
        if source is not None:
            return [name] if source.kind == "value" else []
        if name in self.facts.params or name in self.allowlisted:
            return []
        out: list[str] = []
        for node, value in self.facts.assigns.get(name, []):
            checked = node.value if isinstance(node, ast.AugAssign) else value
            if isinstance(node, (ast.With, ast.AsyncWith)):
                continue
            out.extend(self.taint(checked, depth + 1, seen | {name}))
        for iterable in self.facts.loop_iters.get(name, []):
            out.extend(self.taint(iterable, depth + 1, seen | {name}))
        return dedupe(out)

    def _taint_call(self, call: ast.Call, depth: int, seen: frozenset[str]) -> list[str]:
        project = self.ctx.project
        name = project.resolve(self.fn.module, call.func, self.fn) or ""
        short = name.rsplit(".", 1)[-1]
        if name in _SANITIZERS or short in _SANITIZER_NAMES:
            return []
        if project.function(name) is not None:
            return []  # a project function: what it returns is its own business
        out: list[str] = []
        if isinstance(call.func, ast.Attribute):
            out.extend(self.taint(call.func.value, depth + 1, seen))
            if call.func.attr not in _BUILDER_METHODS:
                return dedupe(out)  # `Files.get_by_id(id)`: a lookup, not the value
        elif name not in _BUILDERS:
            return []
        for arg in [*call.args, *(kw.value for kw in call.keywords)]:
            value = arg.value if isinstance(arg, ast.Starred) else arg
            out.extend(self.taint(value, depth + 1, seen))
        return dedupe(out)

    def mentions(self, expr: ast.AST, labels: list[str]) -> bool:
        """Does `expr` read one of the tainted values (or a local computed from one)?"""
        roots = {label.split(".", 1)[0] for label in labels}
        for node in walk(expr):
            if isinstance(node, ast.Name):
                if node.id in roots:
                    return True
                if (
                    node.id in self.facts.assigns
                    and set(
                        label.split(".", 1)[0]
                        for label in self._taint_name(node.id, 0, frozenset())
                    )
                    & roots
                ):
                    return True
        return False


_SANITIZERS = frozenset(
    {
        "os.path.basename",
        "posixpath.basename",
        "ntpath.basename",
        "werkzeug.utils.secure_filename",
        "werkzeug.security.safe_join",
        "werkzeug.utils.safe_join",
        "pathvalidate.sanitize_filename",
        "pathvalidate.sanitize_filepath",
        "uuid.UUID",
        "int",
        "len",
        "bool",
        "float",
        "hash",
    }
)
# Calls whose result is built from their arguments (paths, strings, URLs).
_BUILDERS = frozenset(
    {
        "os.path.join",
        "posixpath.join",
        "ntpath.join",
        "os.path.normpath",
        "os.path.abspath",
        "os.path.realpath",
        "os.path.expanduser",
        "os.fspath",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PurePosixPath",
        "pathlib.PosixPath",
        "anyio.Path",
        "str",
        "urllib.parse.urljoin",
        "urllib.parse.unquote",
        "urllib.parse.unquote_plus",
        "urllib.parse.quote",
        "urllib.parse.urlunparse",
        "urllib.parse.urlunsplit",
    }
)
_BUILDER_METHODS = frozenset(
    {
        "format",
        "join",
        "joinpath",
        "replace",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "removeprefix",
        "removesuffix",
        "with_name",
        "with_suffix",
        "with_stem",
        "resolve",
        "absolute",
        "expanduser",
        "decode",
        "encode",
    }
)
_SANITIZER_NAMES = frozenset({"secure_filename", "sanitize_filename", "safe_join", "basename"})


def _last_component(expr: ast.Subscript) -> bool:
    """`os.path.splitext(name)[1]` (the extension) and `name.split("/")[-1]` (the last
    component) cannot climb out of a directory."""
    call = expr.value
    if not isinstance(call, ast.Call):
        return False
    index = expr.slice
    value = index.value if isinstance(index, ast.Constant) else None
    if isinstance(index, ast.UnaryOp) and isinstance(index.operand, ast.Constant):
        value = -index.operand.value if isinstance(index.operand.value, int) else None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "splitext":
        return value == 1
    if isinstance(func, ast.Attribute) and func.attr in ("split", "rsplit") and call.args:
        return const_str(call.args[0]) == "/" and value == -1
    return False


def _chain(expr: ast.expr) -> tuple[ast.expr, list[str]]:
    """`request.query_params.get` → (`request`, ["query_params", "get"])."""
    attrs: list[str] = []
    while True:
        if isinstance(expr, ast.Attribute):
            attrs.append(expr.attr)
            expr = expr.value
        elif isinstance(expr, ast.Subscript):
            expr = expr.value
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            attrs.append(expr.func.attr)
            expr = expr.func.value
        else:
            break
    return expr, list(reversed(attrs))


def _flow(ctx: FileContext) -> _Flow | None:
    """The request-data flow of the enclosing route handler or dependency (None
    elsewhere, and in tests)."""
    fn = ctx.function()
    if fn is None or in_tests(ctx):
        return None
    if not ctx.model.routes_of(fn) and not ctx.model.is_dependency(fn):
        return None
    key = ("FAA314-flow", id(fn.node))
    memo = state(ctx.model).memo
    found = memo.get(key)
    if not isinstance(found, _Flow):
        found = _Flow(ctx, fn)
        memo[key] = found
    return found


def _labels(labels: list[str]) -> str:
    shown = ", ".join(f"`{label}`" for label in labels[:3])
    noun = "request value" if len(labels) == 1 else "request values"
    return f"{noun} {shown}"


def _path_converters(ctx: FileContext, fn: Function) -> dict[str, str]:
    """Path parameters of the routes `fn` handles, with their converter ("" for none)."""
    out: dict[str, str] = {}
    for route in ctx.model.routes_of(fn):
        for path in [route.path, *route.full_paths]:
            for match in _PATH_PARAM.finditer(path):
                out[match.group(1)] = match.group(2) or out.get(match.group(1), "")
    return out


# ------------------------------------------------------------------ FAA314

_FILE_FUNCTIONS = {
    "fastapi.responses.FileResponse": ("path",),
    "starlette.responses.FileResponse": ("path",),
    "open": ("file",),
    "builtins.open": ("file",),
    "io.open": ("file",),
    "os.open": ("path",),
    "aiofiles.open": ("file",),
    "aiofiles.threadpool.open": ("file",),
    "os.remove": ("path",),
    "os.unlink": ("path",),
    "os.rmdir": ("path",),
    "os.listdir": ("path",),
    "os.scandir": ("path",),
    "shutil.rmtree": ("path",),
    "shutil.copy": ("src", "dst"),
    "shutil.copyfile": ("src", "dst"),
    "shutil.copy2": ("src", "dst"),
    "shutil.move": ("src", "dst"),
    "aiofiles.os.remove": ("path",),
    "aiofiles.os.unlink": ("path",),
}
_PATH_METHODS = frozenset(
    {
        "open",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "unlink",
        "rmdir",
        "iterdir",
    }
)
# The last names of `_FILE_FUNCTIONS` and the `Path` methods: what a sink is called.
_SINK_NAMES = _PATH_METHODS | frozenset(name.rpartition(".")[2] for name in _FILE_FUNCTIONS)
_PATH_CLASSES = frozenset(
    {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "anyio.Path", "aiopath.AsyncPath"}
)
# Calls (by method or function name) that confine a path to a directory.
_CONFINING = frozenset(
    {
        "is_relative_to",
        "relative_to",
        "commonpath",
        "commonprefix",
        "safe_join",
        "secure_filename",
        "sanitize_filename",
        "sanitize_filepath",
        "isidentifier",
        "isalnum",
        "isdigit",
        "isdecimal",
        "isnumeric",
    }
)
_NORMALIZING = frozenset({"resolve", "realpath", "abspath", "normpath"})


def _confines_paths(fn: Function) -> bool:
    """Does the function check where a path leads: `resolve()` + `is_relative_to()`,
    `os.path.commonpath`, `realpath(...)` + `startswith(...)`, a `".." in name` test, or
    a regular-expression match?"""
    normalizes = False
    startswith = False
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Call):
            func = node.func
            short = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if short in _CONFINING:
                return True
            if short in _NORMALIZING:
                normalizes = True
            if short == "startswith":
                startswith = True
            if (
                short in ("match", "fullmatch", "search")
                and isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and (func.value.id in ("re", "regex") or func.value.id.isupper())
            ):
                return True
        elif isinstance(node, ast.Compare):
            for part in [node.left, *node.comparators]:
                text = const_str(part)
                if text is not None and (".." in text or text in ("/", "\\")):
                    return True
            if _parents_test(fn, node):
                return True
    return normalizes and startswith


def _parents_test(fn: Function, node: ast.Compare) -> bool:
    """`base.resolve() in path.resolve().parents`: pathlib's containment test, on a
    resolved path (`path.parents` of an unresolved `ROOT / name` still holds `ROOT`
    for `name = "../../etc/passwd"`)."""
    return any(
        isinstance(op, (ast.In, ast.NotIn))
        and isinstance(right, ast.Attribute)
        and right.attr == "parents"
        and _resolved(fn, right.value)
        for op, right in zip(node.ops, node.comparators, strict=True)
    )


def _resolved(fn: Function, expr: ast.expr, depth: int = 0) -> bool:
    """`p.resolve()`, `Path(os.path.realpath(p))`, or a local bound only to one (followed
    three steps: `a = tmp; tmp = a` binds two locals to each other)."""
    if isinstance(expr, ast.Name) and expr.id not in fn.param_names:
        bound = fn.local_values.get(expr.id)
        return bound is not None and depth < 3 and _resolved(fn, bound, depth + 1)
    return any(isinstance(sub, ast.Call) and call_name(sub) in _NORMALIZING for sub in walk(expr))


def _confines_strongly(fn: Function) -> bool:
    """A checker the caller can rely on: it returns a value and tests containment with
    `is_relative_to()`, `os.path.commonpath` or a resolved `.parents` membership.
    Kept with the function (a helper is asked at every sink that reaches it)."""
    found = fn.derived.get(_confines_strongly)
    if found is None:
        returns = confines = False
        for node in body_nodes(fn.node):
            if isinstance(node, ast.Return):
                returns = returns or node.value is not None
            elif isinstance(node, ast.Call):
                confines = confines or call_name(node) in ("is_relative_to", "commonpath")
            elif isinstance(node, ast.Compare):
                confines = confines or _parents_test(fn, node)
        found = fn.derived[_confines_strongly] = returns and confines
    return bool(found)


_CHECKER_WORDS = ("valid", "safe", "saniti", "check", "secure", "allowed", "ensure")


def _checked_by_helper(flow: _Flow, labels: list[str], sink: ast.AST) -> bool:
    """`validate_filename(name)`, `if not is_safe_path(path): ...`: the value is given to
    a helper whose name says it checks it, or, in the test of an `if`/`assert` before
    the sink, to a project function that checks containment itself
    (`if not is_path_inside(path, base): raise ...`, the helper testing
    `base.resolve() in path.resolve().parents`)."""
    tested: set[int] | None = None  # the nodes of the tests before the sink, when asked
    for node in body_nodes(flow.fn.node):
        if not isinstance(node, ast.Call):
            continue
        if not any(
            flow.mentions(arg, labels) for arg in [*node.args, *(k.value for k in node.keywords)]
        ):
            continue
        if any(w in (call_name(node) or "").lower() for w in _CHECKER_WORDS):
            return True
        if tested is None:
            tested = {
                id(sub)
                for test in body_nodes(flow.fn.node)
                if isinstance(test, (ast.If, ast.Assert))
                and test.lineno < getattr(sink, "lineno", 0)
                for sub in walk(test.test)
            }
        if id(node) not in tested:
            continue
        project = flow.ctx.project
        helper = project.function(resolve_callee(project, flow.fn.module, node.func, flow.fn))
        if helper is not None and helper is not flow.fn and _confines_strongly(helper):
            return True
    return False


def _pathish(flow: _Flow, expr: ast.expr, depth: int = 0) -> bool:
    """Is `expr` a `pathlib.Path` (built with `Path(...)`, `/`, or inferred)?"""
    if depth > 4:
        return False
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        return True
    if isinstance(expr, ast.Call):
        name = flow.ctx.project.resolve(flow.fn.module, expr.func, flow.fn) or ""
        if name in _PATH_CLASSES:
            return True
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in (
            "joinpath",
            "with_name",
            "with_suffix",
            "resolve",
            "absolute",
        ):
            return _pathish(flow, expr.func.value, depth + 1)
        return False
    if isinstance(expr, ast.Name):
        bindings = flow.facts.assigns.get(expr.id, [])
        if bindings and all(v is not None and _pathish(flow, v, depth + 1) for _, v in bindings):
            return True
    typ = infer_type(flow.ctx.project, flow.fn.module, expr, flow.fn)
    return typ is not None and typ in _PATH_CLASSES


@rule(
    code="FAA314",
    name="path-traversal-file-response",
    summary="A request value reaches `FileResponse`/`open()` as a path without being "
    "confined to a directory",
    severity="error",
    nodes=(ast.Call,),
    fix_title="Resolve the path and check `path.is_relative_to(BASE_DIR)` (or keep only "
    "`Path(name).name`)",
    cwe=("CWE-22",),
    owasp=("A01:2021", "API8:2023"),
    references=(
        "https://owasp.org/www-community/attacks/Path_Traversal",
        "https://cwe.mitre.org/data/definitions/22.html",
        "https://fastapi.tiangolo.com/advanced/custom-response/#fileresponse",
        "https://docs.python.org/3/library/pathlib.html#pathlib.PurePath.is_relative_to",
    ),
)
def path_traversal_file_response(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds path operations (and their dependencies) that pass a request value (a query or
    path parameter, `{name:path}` included, a body field, or an uploaded file's
    `UploadFile.filename`) into a file-system call: `FileResponse`, `open()`,
    `aiofiles.open`, `os.remove`, `shutil.copy`/`move`/`rmtree`, `os.listdir`, and
    `Path(...)` methods such as `read_bytes()`, `write_bytes()` or `unlink()`. The value
    is followed through `os.path.join`, `Path(...) / name`, f-strings and the function's
    locals.

    ## Why is this bad?
    `../../etc/passwd` (or an absolute path, which makes `os.path.join` and `/` drop the
    base directory) lets a caller read, overwrite or delete any file the server
    process can reach: configuration, keys, the database (CWE-22). An uploaded file's
    name is chosen by the client just like a query parameter.

    ## Known problems
    The function is not reported when it confines paths itself: `resolve()` followed
    by `is_relative_to()`/`relative_to()`, `os.path.commonpath`, `realpath(...)` with
    `startswith(...)`, `safe_join`/`secure_filename`, a `".." in name` test, a
    regular-expression match, `str.isidentifier()`/`isalnum()`, a
    `base in path.resolve().parents` test (on a resolved path), or when the value is
    given to a helper whose name says it checks it (`validate_filename(name)`) or, in an
    `if`/`assert` test before the sink, to a project function that returns the answer of
    `is_relative_to()`, `commonpath` or such a `.parents` test
    (`if not is_path_inside(path, base): raise ...`). Values that cannot hold a path are not followed: numbers,
    UUIDs, enums, `Literal`, parameters declared with `pattern=`, values checked
    against a fixed collection (a literal one, an UPPER_CASE constant, or a module-level
    name bound at import that no function of its module rebinds or changes in place,
    such as `root_static_files = list_static_files()` tested with
    `if file_path in root_static_files:`), `Path(name).name` and
    `os.path.basename(name)`.
    Values are followed inside one function; a project helper that builds the path is
    trusted.

    ## Example
    ```python
    @router.get("/files/{name:path}")
    async def download(name: str) -> FileResponse:
        return FileResponse(os.path.join(UPLOAD_DIR, name))
    ```

    ## Use instead
    ```python
    @router.get("/files/{name:path}")
    async def download(name: str) -> FileResponse:
        path = (UPLOAD_DIR / name).resolve()
        if not path.is_relative_to(UPLOAD_DIR.resolve()) or not path.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, "File not found")
        return FileResponse(path)
    ```

    ## Fix safety
    There is no automatic fix.
    """
    func = node.func
    short = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if short is None:
        return
    if isinstance(func, ast.Name) and func.id in ctx.module.imports:
        short = ctx.module.imports[func.id].rsplit(".", 1)[-1]  # `FileResponse as FR`
    if short not in _SINK_NAMES:
        return
    flow = _flow(ctx)
    if flow is None or not flow.sources:
        return
    name = ctx.resolve(func) or ""
    values: list[ast.expr] = []
    sink = short
    if name in _FILE_FUNCTIONS:
        for index, kw in enumerate(_FILE_FUNCTIONS[name]):
            value = argument(node, index, kw)
            if value is not None:
                values.append(value)
        sink = "FileResponse" if short == "FileResponse" else name
    elif isinstance(func, ast.Attribute) and short in _PATH_METHODS:
        if ctx.project.function(name) is not None or not _pathish(flow, func.value):
            return
        values.append(func.value)
        sink = f"Path.{short}()"
    else:
        return
    labels: list[str] = []
    for value in values:
        labels.extend(flow.taint(value))
    labels = dedupe(labels)
    if not labels or _confines_paths(flow.fn) or _checked_by_helper(flow, labels, node):
        return
    yield Report(
        node,
        f"`{sink}` gets a path built from {_labels(labels)}: path traversal; resolve it "
        "and check it stays inside the base directory",
    )


# ------------------------------------------------------------------ FAA315

_REDIRECTS = frozenset(
    {"fastapi.responses.RedirectResponse", "starlette.responses.RedirectResponse"}
)
_URLJOIN = frozenset({"urllib.parse.urljoin", "urlparse.urljoin"})
# Words in a called function's name that say it vets a URL.
_URL_CHECK_WORDS = ("safe", "allow", "valid", "trusted", "check", "verify", "whitelist")


def _leading_taint(flow: _Flow, expr: ast.expr, depth: int = 0) -> list[str]:
    """The request values that decide where a URL points: the ones it starts with (or
    the host after a bare scheme). `f"/items/{x}"` and `BASE + x` point where the code
    says, whatever `x` is; `x`, `f"/{x}"`, `f"https://{x}"` and `urljoin(BASE, x)` do
    not."""
    if depth > 8:
        return []
    if isinstance(expr, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.FormattedValue) else v for v in expr.values]
        return _leading_parts(flow, parts, depth)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _leading_parts(flow, flatten_add(expr), depth)
    if isinstance(expr, ast.IfExp):
        return dedupe(
            _leading_taint(flow, expr.body, depth + 1)
            + _leading_taint(flow, expr.orelse, depth + 1)
        )
    if isinstance(expr, ast.BoolOp):
        return dedupe([t for v in expr.values for t in _leading_taint(flow, v, depth + 1)])
    if isinstance(expr, ast.Name):
        if expr.id in flow.sources or expr.id in flow.facts.params:
            return flow.taint(expr)
        out: list[str] = []
        for node, value in flow.facts.assigns.get(expr.id, []):
            if value is not None and not isinstance(node, (ast.AugAssign, ast.With, ast.AsyncWith)):
                out.extend(_leading_taint(flow, value, depth + 1))
        return dedupe(out)
    if isinstance(expr, ast.Call):
        name = flow.ctx.project.resolve(flow.fn.module, expr.func, flow.fn) or ""
        if name in _URLJOIN and len(expr.args) >= 2:
            return dedupe(_leading_taint(flow, expr.args[0], depth + 1) + flow.taint(expr.args[1]))
        if name == "str" and expr.args:
            return _leading_taint(flow, expr.args[0], depth + 1)
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in ("strip", "lstrip", "rstrip"):
            return _leading_taint(flow, expr.func.value, depth + 1)
        if isinstance(expr.func, ast.Attribute) and expr.func.attr == "get":
            return flow.taint(expr)  # `request.query_params.get("next")`
        return []
    if isinstance(expr, (ast.Attribute, ast.Subscript)):
        return flow.taint(expr)
    return []


def _leading_parts(flow: _Flow, parts: list[ast.expr], depth: int) -> list[str]:
    for part in parts:
        text = const_str(part)
        if text is not None:
            if text in ("", "/", "\\", "//") or text.endswith("://"):
                continue  # the next part still decides the host
            return []
        return _leading_taint(flow, part, depth + 1)
    return []


def _vets(flow: _Flow, labels: list[str]) -> bool:
    """Does the function test the value before redirecting: compare it, look it up in
    an allowlist, parse it (`urlparse(next).netloc`), call a checker on it
    (`is_safe_url(next)`), or match it against a pattern?"""
    for node in body_nodes(flow.fn.node):
        tests: list[ast.expr] = []
        if isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)):
            tests.append(node.test)
        elif isinstance(node, ast.Match):
            tests.append(node.subject)
        elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
            call = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(call, ast.Call):
                callee = flow.ctx.project.resolve(flow.fn.module, call.func, flow.fn) or ""
                if any(w in callee.rsplit(".", 1)[-1].lower() for w in _URL_CHECK_WORDS):
                    tests.append(call)
        for test in tests:
            if _substantive(test) and flow.mentions(test, labels):
                return True
    return False


def _substantive(test: ast.expr) -> bool:
    """Not just a presence test (`if next:`, `if next is None:`)."""
    for node in walk(test):
        if isinstance(node, ast.Call):
            return True
        if isinstance(node, ast.Compare) and not all(
            isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops
        ):
            return True
    return False


@rule(
    code="FAA315",
    name="open-redirect",
    summary="A request value decides where `RedirectResponse` sends the browser, with no "
    "allowlist check",
    severity="warning",
    nodes=(ast.Call,),
    fix_title="Redirect only to relative paths or to hosts in an allowlist",
    cwe=("CWE-601",),
    owasp=("A01:2021",),
    references=(
        "https://cheatsheetseries.owasp.org/cheatsheets/"
        "Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html",
        "https://cwe.mitre.org/data/definitions/601.html",
        "https://fastapi.tiangolo.com/advanced/custom-response/#redirectresponse",
    ),
)
def open_redirect(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `RedirectResponse(url)` calls in path operations (and their dependencies)
    whose target URL starts with a request value: a query parameter (`?next=`), a
    `{target:path}` path parameter, a body field or `request.query_params[...]`, used
    as the whole URL, after a bare `/` or scheme (`f"https://{host}"`), or as the
    second argument of `urljoin`.

    ## Why is this bad?
    A link on your own domain that forwards to any site
    (`https://shop.example/login?next=https://evil.example`) is what phishing needs:
    the victim sees the trusted host, then lands on the attacker's copy of the login
    page, or hands an OAuth code to it (CWE-601).

    ## Known problems
    URLs whose host the code fixes are not reported: `f"/items/{item_id}"`,
    `settings.FRONTEND_URL + path`, `request.url_for(...)`. Plain `{name}` path
    parameters cannot hold a `/` and are not followed. The call is not reported when
    the function tests the value first (compares it, looks it up in an allowlist,
    parses it with `urlparse`, calls a checker such as `is_safe_url(next)`, matches a
    pattern); whether the test is strict enough is not verified. Values are followed
    inside one function only, and a URL returned from a path operation declared with
    `response_class=RedirectResponse` is not followed.

    ## Example
    ```python
    @router.get("/login/done")
    async def login_done(next: str = "/") -> RedirectResponse:
        return RedirectResponse(next)
    ```

    ## Use instead
    ```python
    @router.get("/login/done")
    async def login_done(next: str = "/") -> RedirectResponse:
        target = urlparse(next)
        if target.scheme or target.netloc or not next.startswith("/"):
            next = "/"
        return RedirectResponse(next)
    ```

    ## Fix safety
    There is no automatic fix.
    """
    func = node.func
    short = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if isinstance(func, ast.Name) and func.id in ctx.module.imports:
        short = ctx.module.imports[func.id].rsplit(".", 1)[-1]
    if short != "RedirectResponse" or ctx.resolve(func) not in _REDIRECTS:
        return
    url = argument(node, 0, "url")
    if url is None:
        return
    flow = _flow(ctx)
    if flow is None or not flow.sources:
        return
    converters = _path_converters(ctx, flow.fn)
    labels = [
        label
        for label in _leading_taint(flow, url)
        if not (label in converters and converters[label] != "path")
    ]
    if not labels or _vets(flow, labels):
        return
    yield Report(
        node,
        f"`RedirectResponse` sends the browser to a URL taken from {_labels(labels)}: "
        "open redirect; allow only relative paths or known hosts",
    )


# ------------------------------------------------------------------ FAA316

_API_KEY_QUERY = frozenset({"fastapi.security.APIKeyQuery", "fastapi.security.api_key.APIKeyQuery"})
_PARAM_MARKERS = {
    f"{module}.{name}": name
    for module in ("fastapi", "fastapi.param_functions", "fastapi.params")
    for name in ("Query", "Path", "Header", "Cookie", "Body", "Form", "File")
}
_CREDENTIAL_KEYWORDS: tuple[tuple[str, ...], ...] = (
    ("token",),
    ("api", "key"),
    ("apikey",),
    ("password",),
    ("passwd",),
    ("secret",),
    ("jwt",),
)
# Words before the credential word that make it a one-time link token (e-mail
# verification, password reset, invitations, unsubscribe, shared links, webhook
# handshakes), which only works inside a URL, or something that is not a credential.
_LINK_PREFIXES = NOT_CREDENTIAL_PREFIXES | frozenset(
    {
        "reset",
        "verification",
        "verify",
        "confirm",
        "confirmation",
        "invite",
        "invitation",
        "activation",
        "unsubscribe",
        "email",
        "magic",
        "share",
        "sharing",
        "download",
        "csrf",
        "xsrf",
        "old",
        "new",
        "idempotency",
        "sync",
        "resume",
        "prev",
        "previous",
    }
)
# Handlers or paths that serve links from e-mails, OAuth redirects or webhooks, and
# streams a browser opens without headers (`EventSource`).
_LINK_ROUTE_WORDS = frozenset(
    {
        "verify",
        "verification",
        "confirm",
        "confirmation",
        "reset",
        "activate",
        "activation",
        "unsubscribe",
        "invite",
        "invitation",
        "accept",
        "callback",
        "webhook",
        "webhooks",
        "magic",
        "share",
        "shared",
        "download",
        "stream",
        "events",
        "sse",
        "ws",
        "websocket",
    }
)
_STR_TYPES = frozenset(
    {
        "str",
        "pydantic.SecretStr",
        "pydantic.types.SecretStr",
        "uuid.UUID",
    }
)


@lru_cache(maxsize=4096)
def _credential_name(name: str) -> bool:
    return name_matches(name, _CREDENTIAL_KEYWORDS, frozenset(), _LINK_PREFIXES)


def _link_route(route: Route) -> bool:
    words = set(name_words(route.handler.name))
    for path in [route.path, *route.full_paths]:
        words |= set(name_words(path))
    return bool(words & _LINK_ROUTE_WORDS)


def _signer(ctx: ProjectContext, fn: Function, expr: ast.expr, depth: int = 0) -> bool:
    """Is `expr` an itsdangerous serializer (`URLSafeSerializer(secret)`, or a local
    bound to one)?"""
    if isinstance(expr, ast.Name) and depth < 3:
        bound = fn.local_values.get(expr.id)
        return bound is not None and _signer(ctx, fn, bound, depth + 1)
    if not isinstance(expr, ast.Call):
        return False
    callee = ctx.project.resolve(fn.module, expr.func, fn) or ""
    return callee.startswith("itsdangerous.")


def _signed_cursor(ctx: ProjectContext, fn: Function, name: str) -> bool:
    """`token` is a signed continuation cursor: the function decodes it with an
    itsdangerous serializer (`URLSafeSerializer(secret).loads(token)`) and signs the
    next one itself (`.dumps(metadata)`), as airflow's log endpoint does. It carries
    pagination state, not a credential."""
    loads = dumps = False
    for node in walk(fn.node):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("loads", "dumps")
            and _signer(ctx, fn, node.func.value)
        ):
            continue
        if node.func.attr == "dumps":
            dumps = True
        elif node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == name:
            loads = True
    return loads and dumps


def _query_param(
    ctx: ProjectContext, fn: Function, param: ast.arg, default: ast.expr | None, path: set[str]
) -> bool:
    """Does FastAPI read this parameter from the query string?"""
    project = ctx.project
    base, metadata, meta_module = unwrap_annotation(project, fn.module, param.annotation, fn.parent)
    base_scope = fn.parent if meta_module is fn.module else None
    markers = [(meta_module, m, base_scope) for m in metadata]
    if isinstance(default, (ast.Name, ast.Attribute)):
        # `token=CurrentToken` where `CurrentToken = Security(...)`
        found = project.module_value(project.resolve(fn.module, default, fn.parent))
        if found is None or not isinstance(found[1], ast.Call):
            return False
        markers.append((found[0], found[1], None))
    elif default is not None:
        markers.append((fn.module, default, fn.parent))
    for module, marker, scope in markers:
        if depends_call(project, module, marker, scope):
            return False
        if isinstance(marker, ast.Call):
            kind = _PARAM_MARKERS.get(project.resolve(module, marker.func, scope) or "")
            if kind is not None:
                return kind == "Query"
    if param.arg in path:
        return False
    if base is None:
        return True
    if isinstance(base, ast.Constant) and base.value is None:
        return False
    if not isinstance(base, (ast.Name, ast.Attribute)):
        return False
    qualname = project.resolve(meta_module, base, base_scope)
    return qualname in _STR_TYPES


@rule(
    code="FAA316",
    name="credentials-in-query-string",
    summary="A token, API key or password is read from the query string",
    severity="warning",
    scope="route",
    fix_title="Read credentials from the `Authorization` header (`OAuth2PasswordBearer`, "
    "`HTTPBearer`, `APIKeyHeader`) or the request body",
    cwe=("CWE-598",),
    owasp=("API2:2023", "A04:2021"),
    references=(
        "https://cwe.mitre.org/data/definitions/598.html",
        "https://owasp.org/www-community/vulnerabilities/Information_exposure_through_query_strings_in_url",
        "https://fastapi.tiangolo.com/reference/security/#fastapi.security.APIKeyHeader",
    ),
)
def credentials_in_query_string(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds credentials that clients must send in the URL: an `APIKeyQuery` security
    scheme, and parameters of path operations (or of their dependencies, at any
    depth) named `token`, `access_token`, `api_key`, `apikey`, `password`, `secret` or
    `jwt` that FastAPI reads from the query string (declared with `Query()`, or plain
    `str` parameters that are not path parameters).

    ## Why is this bad?
    URLs are written to access logs, proxy and CDN logs, browser history and bookmarks,
    and sent onwards in the `Referer` header: a token in the query string leaks to
    everyone who can read any of them, and stays valid there (CWE-598). Headers and
    request bodies are not logged by default.

    ## Known problems
    Websocket routes are not reported (browsers cannot set headers on a websocket
    connection, so a query token is the usual way), nor streams opened with
    `EventSource`, nor one-time link tokens that only work inside a URL: handlers or
    paths about verification, confirmation, reset, invitations, unsubscribe links,
    OAuth callbacks, webhooks and shared links, and names such as `reset_token`,
    `verification_token`, `csrf_token`, `next_page_token` or `max_tokens`, nor a signed
    continuation cursor: a `token` the handler decodes with an itsdangerous serializer
    and whose successor it signs itself (`.loads(token)` and `.dumps(...)`). Parameters
    declared with `Header()`, `Cookie()`, `Body()`, `Form()` or `Depends()` are fine.

    ## Example
    ```python
    @router.get("/reports")
    def list_reports(api_key: str, session: SessionDep) -> list[ReportOut]:
        ...
    ```

    ## Use instead
    ```python
    api_key_header = APIKeyHeader(name="X-API-Key")

    @router.get("/reports")
    def list_reports(
        api_key: Annotated[str, Security(api_key_header)], session: SessionDep
    ) -> list[ReportOut]:
        ...
    ```

    ## Fix safety
    There is no automatic fix: clients must change how they send the credential.
    """
    if route.kind == "websocket" or is_test_module(route.handler.module):
        return
    project = ctx.project
    path: set[str] = set()
    for full in [route.path, *route.full_paths]:
        path |= {m.group(1) for m in _PATH_PARAM.finditer(full)}
    functions: list[Function] = [route.handler]
    sites = param_sites(project, route.handler)
    for mount in route.mounts:
        sites = [*sites, *mount.dependencies]
    memo = state(ctx.model).memo
    for site, target in walk_dependencies(project, [*route.dependencies, *sites]):
        if target.function is not None and target.scheme is None:
            functions.append(target.function)
        if target.scheme == "APIKeyQuery":
            found = project.module_value(target.qualname)
            where = found if found is not None else (site.module, site.node)
            key = ("FAA316-scheme", id(where[1]))
            if key not in memo and not is_test_module(where[0]):
                memo[key] = True
                yield Report(
                    where[1],
                    "`APIKeyQuery` makes clients send the API key in the URL, where logs "
                    "keep it; use `APIKeyHeader`",
                    where[0],
                )
    link: bool | None = None  # a link route reports no parameter: asked at the first one
    for fn in functions:
        for index, (param, default) in enumerate(parameters(fn.node)):
            if index == 0 and param.arg in ("self", "cls"):
                continue
            if not _credential_name(param.arg):
                continue
            if link is None:
                link = _link_route(route)
            if link:
                return
            if not _query_param(ctx, fn, param, default, path):
                continue
            if _signed_cursor(ctx, fn, param.arg):
                continue
            key = ("FAA316-param", id(param))
            if key in memo:
                continue
            memo[key] = True
            yield Report(
                param,
                f"`{param.arg}` is read from the query string: credentials in URLs end up "
                "in logs and browser history; send it in a header",
                fn.module,
            )


# ------------------------------------------------------------------ FAA318

_HEADER_MARKERS = frozenset(
    {
        "fastapi.Header",
        "fastapi.Cookie",
        "fastapi.params.Header",
        "fastapi.params.Cookie",
        "fastapi.param_functions.Header",
        "fastapi.param_functions.Cookie",
    }
)
_CREDENTIAL_WORDS = frozenset({"authorization", "token", "apikey", "jwt", "bearer", "credentials"})
# Words in a test that make it an authorization (or account state) check, where 403 or
# 400 is the right answer for a caller whose credential is valid.
_AUTHZ_WORDS = frozenset(
    {
        "scope",
        "scopes",
        "role",
        "roles",
        "permission",
        "permissions",
        "perm",
        "perms",
        "admin",
        "superuser",
        "staff",
        "active",
        "inactive",
        "disabled",
        "enabled",
        "verified",
        "banned",
        "blocked",
        "locked",
        "suspended",
        "plan",
        "tenant",
        "owner",
        "group",
        "groups",
        "access",
        "allowed",
        "is",
        "has",
        "can",
        "ip",
        "origin",
        "csrf",
        "rate",
    }
)
# Attributes of a credential or its claims that a validity test reads.
_CREDENTIAL_ATTRS = frozenset(
    {
        "scheme",
        "credentials",
        "get",
        "username",
        "sub",
        "subject",
        "exp",
        "expires",
        "expires_at",
        "expired",
        "is_expired",
        "revoked",
        "is_revoked",
        "token_type",
        "type",
        "strip",
        "lower",
        "startswith",
        "split",
    }
)
_WRONG_STATUSES = {400: "400", 403: "403", 404: "404"}
_VERIFY_WORDS = ("decode", "verify", "validate", "loads", "unsign")


def _credential_params(ctx: FileContext, fn: Function) -> set[str]:
    """Parameters that hold the raw credential: filled by a `fastapi.security` scheme,
    typed as security credentials, or read from an `Authorization`/API-key/token
    header or cookie."""
    project = ctx.project
    out: set[str] = set()
    for site in param_sites(project, fn):
        target = resolve_target(project, site)
        if target is not None and target.scheme is not None and site.param:
            out.add(site.param)
    for param, default in parameters(fn.node):
        base, metadata, meta_module = unwrap_annotation(
            project, fn.module, param.annotation, fn.parent
        )
        base_scope = fn.parent if meta_module is fn.module else None
        if (
            isinstance(base, (ast.Name, ast.Attribute))
            and project.resolve(meta_module, base, base_scope) in CREDENTIAL_TYPES
        ):
            out.add(param.arg)
            continue
        markers = [(meta_module, m, base_scope) for m in metadata]
        if default is not None:
            markers.append((fn.module, default, fn.parent))
        for module, marker, scope in markers:
            if not isinstance(marker, ast.Call):
                continue
            if project.resolve(module, marker.func, scope) not in _HEADER_MARKERS:
                continue
            alias = const_str(keyword(marker, "alias")) or param.arg
            words = set(name_words(alias))
            if words & _CREDENTIAL_WORDS or {"api", "key"} <= words:
                out.add(param.arg)
    return out


def _derived(facts: FunctionFacts, roots: set[str]) -> set[str]:
    """`roots` and every local computed from them (`payload = jwt.decode(token, ...)`,
    `user_id = payload.get("sub")`, `user = get_user(user_id)`)."""
    names = set(roots)
    changed = True
    while changed:
        changed = False
        for name, bindings in facts.assigns.items():
            if name in names:
                continue
            for node, value in bindings:
                checked = node.value if isinstance(node, ast.AugAssign) else value
                if checked is None and isinstance(node, (ast.Assign, ast.AnnAssign)):
                    checked = node.value  # tuple unpacking
                if checked is not None and any(
                    isinstance(n, ast.Name) and n.id in names for n in walk(checked)
                ):
                    names.add(name)
                    changed = True
                    break
    return names


def _test_words(test: ast.expr) -> set[str]:
    words: set[str] = set()
    for node in walk(test):
        if isinstance(node, ast.Attribute):
            words |= set(name_words(node.attr))
        elif isinstance(node, ast.Name):
            words |= set(name_words(node.id))
        text = const_str(node)
        if text is not None:
            words |= set(name_words(text))
    return words


def _credential_test(test: ast.expr, names: set[str]) -> bool:
    """Does the `if` test check the credential (its presence or validity, the claims it
    carries, or that its user exists), rather than what the caller may do? Reading
    any other attribute of the user (`user.is_active`, `user.org_id`) is the latter."""
    if not any(isinstance(n, ast.Name) and n.id in names for n in walk(test)):
        return False
    for node in walk(test):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in names
            and node.attr not in _CREDENTIAL_ATTRS
        ):
            return False
    return not (_test_words(test) & _AUTHZ_WORDS)


def _verifies(ctx: FileContext, fn: Function, body: list[ast.stmt], names: set[str]) -> bool:
    """Does a `try` body decode or verify the credential (a JWT library call, or a
    `decode`/`verify`/`validate`/`loads` call given the raw credential)?"""
    for stmt in body:
        for node in walk(stmt):
            if not isinstance(node, ast.Call):
                continue
            if jwt_of(ctx.project, fn.module, node, fn) is not None:
                return True
            func = node.func
            short = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if any(w in short.lower() for w in _VERIFY_WORDS) and any(
                isinstance(n, ast.Name) and n.id in names
                for arg in [*node.args, *(k.value for k in node.keywords)]
                for n in walk(arg)
            ):
                return True
    return False


def _wrong_status(ctx: FileContext, fn: Function, raise_node: ast.Raise) -> int | None:
    exc = raise_node.exc
    if isinstance(exc, ast.Name):
        # `credentials_exception = HTTPException(...)` earlier in the function
        value = fn.local_values.get(exc.id)
        if value is None and exc.id not in fn.local_values:
            found = ctx.project.module_value(ctx.project.resolve(fn.module, exc, fn))
            value = found[1] if found is not None else None
        exc = value
    if not isinstance(exc, ast.Call):
        return None
    if ctx.project.resolve(fn.module, exc.func, fn) not in HTTP_EXCEPTIONS:
        return None
    status_expr = argument(exc, 0, "status_code")
    code = status_code_value(status_expr)
    return code if code in _WRONG_STATUSES else None


def _refusals(
    ctx: FileContext, fn: Function, names: set[str], roots: set[str]
) -> Iterator[tuple[ast.Raise, int, str]]:
    """Raises of 400/403/404 in branches that test the credential: `if` tests on it (or
    what was computed from it), and `except` handlers of a `try` that decodes it."""
    seen: set[int] = set()

    def visit(stmts: list[ast.stmt], why: str | None) -> Iterator[tuple[ast.Raise, int, str]]:
        for stmt in stmts:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(stmt, ast.Raise):
                if why is not None and id(stmt) not in seen:
                    code = _wrong_status(ctx, fn, stmt)
                    if code is not None:
                        seen.add(id(stmt))
                        yield stmt, code, why
                continue
            if isinstance(stmt, ast.If):
                checked = _credential_test(stmt.test, names)
                yield from visit(
                    stmt.body,
                    "a missing or invalid credential, or its unknown user," if checked else why,
                )
                # The `else` of a credential test is where the credential was fine.
                yield from visit(stmt.orelse, why)
                continue
            if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
                body = getattr(stmt, "body", [])
                yield from visit(body, why)
                decodes = _verifies(ctx, fn, body, roots)
                for handler in getattr(stmt, "handlers", []):
                    yield from visit(
                        handler.body, "a credential that fails to decode" if decodes else why
                    )
                yield from visit(getattr(stmt, "orelse", []), why)
                yield from visit(getattr(stmt, "finalbody", []), why)
                continue
            for field in ("body", "orelse"):
                block = getattr(stmt, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    yield from visit(block, why)
            for case in getattr(stmt, "cases", []):
                yield from visit(case.body, why)

    yield from visit(fn.node.body, None)


@rule(
    code="FAA318",
    name="auth-failure-wrong-status",
    summary="An authentication dependency answers a missing or invalid credential with "
    "403, 404 or 400 instead of 401",
    severity="warning",
    nodes=(ast.FunctionDef, ast.AsyncFunctionDef),
    fix_title='Raise `HTTPException(status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": '
    '"Bearer"})`',
    cwe=("CWE-287",),
    owasp=("API2:2023",),
    references=(
        "https://fastapi.tiangolo.com/tutorial/security/simple-oauth2/",
        "https://www.rfc-editor.org/rfc/rfc9110#name-401-unauthorized",
        "https://www.rfc-editor.org/rfc/rfc6750#section-3.1",
    ),
)
def auth_failure_wrong_status(
    node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> Iterator[Report]:
    """## What it does
    Finds authentication dependencies (functions used with `Depends()`/`Security()`
    that take a credential from a `fastapi.security` scheme, from
    `HTTPAuthorizationCredentials`, or from an `Authorization`, API-key or token header
    or cookie) that raise `HTTPException` with 400, 403 or 404 when the credential is
    missing, fails to decode or verify (an `except` after `jwt.decode`), carries no
    subject, or names a user who no longer exists.

    ## Why is this bad?
    401 Unauthorized with a `WWW-Authenticate` header is how HTTP says "who are you?":
    clients and SDKs react to it by refreshing the token or logging in again. 403 says
    "I know who you are, and you may not", so a client with an expired token gives up
    instead of refreshing; 404 for a deleted user's token, or 400, hides an
    authentication failure as a missing resource or a bad request, and monitoring
    cannot count failed logins.

    ## Known problems
    403 stays right for an authenticated caller who lacks a permission: branches that
    test roles, scopes, permissions, the superuser flag, ownership or the account state
    (`is_active`, `disabled`) are not reported, nor raises outside a branch that tests
    the credential. Exceptions of the project's own classes (which may map to 401 in a
    handler) are not followed.

    ## Example
    ```python
    async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)], session: SessionDep) -> User:
        try:
            payload = jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])
        except InvalidTokenError:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Could not validate credentials")
        user = session.get(User, payload["sub"])
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "User not found")
        return user
    ```

    ## Use instead
    ```python
    credentials_exception = HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    ```
    raised in both branches.

    ## Fix safety
    There is no automatic fix: clients may depend on the current status.
    """
    fn = ctx.project.function_by_node.get(id(node))
    # Most functions are no dependency: ask that first, the test-module check after.
    if fn is None or not ctx.model.is_dependency(fn) or in_tests(ctx):
        return
    roots = _credential_params(ctx, fn)
    facts = state(ctx.model).facts_of(fn)
    for name, bindings in facts.assigns.items():
        if any(value is not None and reads_credential(value) for _n, value in bindings):
            roots.add(name)
    if not roots:
        return
    names = _derived(facts, roots)
    # Values computed from other request parameters (`item = get(item_id, token)`): a
    # 404 about them is about the resource, not the credential.
    filled = {site.param for site in param_sites(ctx.project, fn) if site.param}
    special = {
        param.arg
        for param, _default in parameters(fn.node)
        if param.annotation is not None
        and set(name_words(ast.unparse(param.annotation)))
        & {"request", "websocket", "connection", "security", "response", "background"}
    }
    others = _derived(facts, set(facts.params) - roots - filled - special - {"self", "cls"})
    names -= others
    for raise_node, code, why in _refusals(ctx, fn, names, roots):
        yield Report(
            raise_node,
            f"`{fn.name}` answers {why} with {code}: authentication failures are 401 "
            "with a `WWW-Authenticate` header",
        )


# ------------------------------------------------------------------ FAA317

# Columns (or relationships) that say who a row belongs to.
_OWNER_FIELDS = frozenset(
    {
        "owner",
        "owner_id",
        "user",
        "user_id",
        "author",
        "author_id",
        "created_by",
        "created_by_id",
        "creator",
        "creator_id",
        "customer",
        "customer_id",
        "account_id",
        "tenant",
        "tenant_id",
        "organization_id",
        "organisation_id",
        "org_id",
        "workspace_id",
    }
)
# Authorship columns: posts and comments are often readable by everyone, so they only
# count for routes that change or delete the object.
_AUTHOR_FIELDS = frozenset(
    {"author", "author_id", "created_by", "created_by_id", "creator", "creator_id"}
)
# Dependencies for privileged callers, who may reach any object.
_PRIVILEGED_WORDS = frozenset(
    {"admin", "superuser", "staff", "role", "roles", "permission", "permissions", "scope", "scopes"}
)
_LOAD_METHODS = frozenset({"get", "get_one", "get_or_404", "one", "first", "scalar", "scalars"})
_QUERY_BUILDERS = frozenset({"select", "query"})


def _owner_field(ctx: ProjectContext, qualname: str | None, writes: bool = True) -> str | None:
    """The owner or tenant column of an ORM model, when it has one (authorship columns
    only for `writes`)."""
    orm = state(ctx.model).index.model(qualname)
    if orm is None:
        return None
    project = ctx.project
    for name in project.mro(orm.qualname):
        cls = project.class_(name)
        if cls is None:
            continue
        for stmt in cls.node.body:
            target: ast.expr | None = None
            if isinstance(stmt, ast.AnnAssign):
                target = stmt.target
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
            if (
                isinstance(target, ast.Name)
                and target.id in _OWNER_FIELDS
                and (writes or target.id not in _AUTHOR_FIELDS)
            ):
                return target.id
    return None


def _mentions(expr: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in walk(expr))


def _touches_owner(fn: Function) -> bool:
    """Does the function read or filter by an owner column (`item.owner_id`,
    `filter_by(owner_id=...)`, `Item.tenant_id == tenant.id`)?"""
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Attribute) and node.attr in _OWNER_FIELDS:
            return True
        if isinstance(node, ast.keyword) and node.arg in _OWNER_FIELDS:
            return True
    return False


def _loads_owned(
    ctx: ProjectContext, fn: Function, ids: set[str], writes: bool
) -> tuple[str, str] | None:
    """(model, owner column) of an owned ORM model this function loads by one of `ids`:
    `session.get(Item, item_id)`, `select(Item).where(Item.id == item_id)`,
    `db.query(Item).filter(Item.id == item_id)`, `.filter_by(id=item_id)`."""
    project = ctx.project
    models: list[str] = []
    by_id = False
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Call):
            func = node.func
            short = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if short in _LOAD_METHODS and isinstance(func, ast.Attribute) and len(node.args) >= 2:
                model = project.resolve(fn.module, node.args[0], fn)
                field = _owner_field(ctx, model, writes)
                if field is not None and _mentions(node.args[1], ids):
                    return (model or "", field or "")
            if short in _QUERY_BUILDERS and node.args:
                model = project.resolve(fn.module, node.args[0], fn)
                if _owner_field(ctx, model, writes) is not None:
                    models.append(model or "")
            if short == "filter_by" and any(
                kw.arg in ("id", "pk", "uuid") and _mentions(kw.value, ids) for kw in node.keywords
            ):
                by_id = True
        elif (
            isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
        ):
            sides = [node.left, node.comparators[0]]
            if any(_mentions(side, ids) for side in sides) and any(
                isinstance(side, ast.Attribute) and side.attr in ("id", "pk", "uuid")
                for side in sides
            ):
                by_id = True
    if models and by_id:
        model = models[0]
        return model, _owner_field(ctx, model, writes) or ""
    return None


def _caller_params(ctx: ProjectContext, route: Route) -> tuple[list[str], bool]:
    """Parameters of the handler filled by an authenticating dependency (the current
    user), and whether any of them is a privileged caller (admin, superuser, scopes)."""
    project = ctx.project
    names: list[str] = []
    privileged = False
    for site in param_sites(project, route.handler):
        if not site.param or ctx.model.auth.chain(site) is None:
            continue
        names.append(site.param)
        target = resolve_target(project, site)
        label = [site.param, target.name if target is not None else ""]
        if isinstance(site.annotation, (ast.Name, ast.Attribute)):
            label.append(ast.unparse(site.annotation))
        if isinstance(site.node, ast.Call) and keyword(site.node, "scopes") is not None:
            privileged = True
        if any(set(name_words(text)) & _PRIVILEGED_WORDS for text in label):
            privileged = True
    # `current_user: CurrentAdmin` (an `Annotated` alias whose name says it)
    for param, _default in parameters(route.handler.node):
        if (
            param.arg in names
            and isinstance(param.annotation, (ast.Name, ast.Attribute))
            and set(name_words(ast.unparse(param.annotation))) & _PRIVILEGED_WORDS
        ):
            privileged = True
    return names, privileged


@rule(
    code="FAA317",
    name="missing-object-level-authz",
    summary="An authenticated route loads an owned object by its path id without "
    "comparing its owner with the caller",
    severity="warning",
    default_enabled=False,
    scope="route",
    fix_title="Compare the object's owner with the current user (or filter the query by "
    "it) and answer 404/403 otherwise",
    cwe=("CWE-639",),
    owasp=("API1:2023", "A01:2021"),
    references=(
        "https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/",
        "https://cwe.mitre.org/data/definitions/639.html",
        "https://fastapi.tiangolo.com/tutorial/security/get-current-user/",
    ),
)
def missing_object_level_authz(route: Route, ctx: ProjectContext) -> Iterator[Report]:
    """## What it does
    Finds path operations with an `{…_id}` path parameter and an authentication
    dependency (the current user) that load an ORM object by that id, directly
    (`session.get(Item, item_id)`, `select(Item).where(Item.id == item_id)`,
    `db.query(Item).filter(...)`) or through a project function they pass the id to,
    although the object's model has an owner or tenant column (`owner_id`, `user_id`,
    `tenant_id`, ...) and the handler never uses the current user: nothing compares
    the object's owner with the caller.

    This rule is a preview and is off by default; enable it with
    `--select FAA317`.

    ## Why is this bad?
    Broken object-level authorization (OWASP API1) is the most common API
    vulnerability: any logged-in user can read, change or delete another user's
    order, invoice or document by changing the number in the URL. Authentication
    says who the caller is; only a per-object check says what they may touch.

    ## Known problems
    It is a heuristic and stays quiet whenever the check may be elsewhere: when the
    handler uses the current user at all (passes it to a service, compares it, logs
    it), when it reads or filters by an owner column, when the object is loaded by a
    dependency, when the caller's dependency is for administrators (its name or
    annotation says admin, superuser, staff, role, permission or scopes), and when the
    model has no owner column (shared catalog data such as products); authorship
    columns (`author_id`, `created_by`) count only for routes that change or delete
    the object, since posts and comments are often readable by all. Routes that are
    only protected by router-level `dependencies=` are not reported (there is no caller
    object to compare with).

    ## Example
    ```python
    @router.get("/orders/{order_id}")
    def read_order(order_id: int, session: SessionDep, current_user: CurrentUser) -> OrderOut:
        order = session.get(Order, order_id)
        if order is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Order not found")
        return order
    ```

    ## Use instead
    ```python
        order = session.get(Order, order_id)
        if order is None or (order.owner_id != current_user.id and not current_user.is_superuser):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Order not found")
        return order
    ```

    ## Fix safety
    There is no automatic fix.
    """
    if route.kind == "websocket" or is_test_module(route.handler.module):
        return
    path_ids = {
        m.group(1)
        for m in _PATH_PARAM.finditer(route.path)
        if m.group(1) == "id" or m.group(1).endswith("_id")
    }
    handler = route.handler
    path_ids &= set(handler.param_names)
    if not path_ids:
        return
    callers, privileged = _caller_params(ctx, route)
    if not callers or privileged:
        return
    used = {
        node.id
        for node in body_nodes(handler.node)
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store)
    }
    if used & set(callers) or _touches_owner(handler):
        return
    facts = state(ctx.model).facts_of(handler)
    ids = _derived(facts, path_ids)
    writes = any(m not in ("GET", "HEAD", "OPTIONS") for m in route.methods)
    found = _loads_owned(ctx, handler, ids, writes)
    if found is None:
        found = _loads_through_callee(ctx, handler, ids, writes)
    if found is None:
        return
    model, column = found
    id_list = ", ".join(f"`{name}`" for name in sorted(path_ids))
    methods = ", ".join(route.methods)
    yield Report(
        route.node,
        f"`{methods} {route.full_paths[0]}` (`{handler.name}`) loads `{model.rsplit('.', 1)[-1]}` by "
        f"{id_list} for any authenticated caller: nothing compares its `{column}` with "
        "the current user",
        route.module,
    )


def _loads_through_callee(
    ctx: ProjectContext, handler: Function, ids: set[str], writes: bool
) -> tuple[str, str] | None:
    """One hop: a project function the handler passes the id to (and not the caller)."""
    project = ctx.project
    for node in body_nodes(handler.node):
        if not isinstance(node, ast.Call):
            continue
        args = [*node.args, *(kw.value for kw in node.keywords)]
        if not any(_mentions(a, ids) for a in args):
            continue
        callee = project.function(resolve_callee(project, handler.module, node.func, handler))
        if callee is None or _touches_owner(callee):
            continue
        inner: set[str] = set()
        for param, _default in parameters(callee.node):
            arg = argument_for(callee, node, param.arg)
            if arg is not None and _mentions(arg, ids):
                inner.add(param.arg)
        if not inner:
            continue
        facts = state(ctx.model).facts_of(callee)
        found = _loads_owned(ctx, callee, _derived(facts, inner), writes)
        if found is not None:
            return found
    return None
