"""Build the static app model from parsed files: one walk per scope feeds the app
scanner (routers, routes, includes) and the call graph."""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi_architect.model.apps import (
    REGISTRATION_METHODS,
    AppScanner,
    Mount,
    Route,
    RouterObj,
)
from fastapi_architect.model.astutil import CHILDLESS, child_fields, outer_nodes
from fastapi_architect.model.callgraph import CallGraph, CallSite
from fastapi_architect.model.dependencies import (
    AuthResolver,
    DepSite,
    param_sites,
    walk_dependencies,
)
from fastapi_architect.model.project import Function, Module, Project, top_level_statements
from fastapi_architect.model.types import resolve_callee


@dataclass
class AppModel:
    project: Project
    routers: dict[str, RouterObj]
    routes: list[Route]
    callgraph: CallGraph
    auth: AuthResolver
    unresolved_includes: int = 0
    # Handler node id -> its routes, for rules that look at a function and ask "is it a route?"
    routes_by_handler: dict[int, list[Route]] = field(default_factory=dict)
    _dependency_functions: set[int] | None = None
    # What the review derives from the whole project (`review.index`), built once per run
    # and dropped with the model.
    derived: dict[object, object] = field(default_factory=dict, repr=False, compare=False)

    def release(self) -> None:
        """Break the model's reference cycles (a module and its functions and classes, a
        router and its includes, ...) so that dropping it frees it at once by reference
        counting. Otherwise a review leaves millions of objects for one pass of the cyclic
        collector (about a second on 200,000 lines). The model is unusable afterwards."""
        project = self.project
        for group in (
            project.module_list,
            project.functions.values(),
            project.classes.values(),
            self.routers.values(),
            self.routes,
        ):
            for item in group:
                vars(item).clear()
        vars(project).clear()
        vars(self).clear()

    def routes_of(self, fn: Function | None) -> list[Route]:
        if fn is None:
            return []
        return self.routes_by_handler.get(id(fn.node), [])

    def route_sites(self, route: Route) -> list[DepSite]:
        """Every dependency that applies to a route (first mount), outermost first."""
        mount_deps = (
            route.mounts[0].dependencies if route.mounts else list(route.router.dependencies)
        )
        return [*mount_deps, *route.dependencies, *param_sites(self.project, route.handler)]

    def auth_chain(
        self, route: Route, mount: Mount, params: list[DepSite] | None = None
    ) -> list[str] | None:
        """What authenticates a route at one of its mounts: the dependency chain down to
        the security scheme, an app-wide auth middleware, or None."""
        if params is None:
            params = param_sites(self.project, route.handler)
        sites = [*mount.dependencies, *route.dependencies, *params]
        chain = self.auth.first_chain(sites)
        if chain is None:
            # The middleware of every app on the way (a mounted app's and its parent's).
            for app in [r for r in mount.chain if r.kind == "app"]:
                chain = middleware_auth(app.middleware)
                if chain is not None:
                    break
        if chain is None:
            # `Security(authorize)`: FastAPI's declaration of a security dependency, also
            # when what it calls is only built at run time (`authorize = make_provider()`).
            for site, target in walk_dependencies(self.project, sites):
                if site.security:
                    return [f"{target.name} (Security)"]
        return chain

    def is_dependency(self, fn: Function) -> bool:
        """Is this function used as a FastAPI dependency anywhere (at any depth)?"""
        if self._dependency_functions is None:
            self._dependency_functions = self._collect_dependency_functions()
        return id(fn.node) in self._dependency_functions

    def _collect_dependency_functions(self) -> set[int]:
        found: set[int] = set()
        sites: list[DepSite] = []
        for route in self.routes:
            sites.extend(self.route_sites(route))
            for mount in route.mounts[1:]:
                sites.extend(mount.dependencies)
        for router in self.routers.values():
            sites.extend(router.dependencies)
        for _site, target in walk_dependencies(self.project, sites):
            if target.function is not None:
                found.add(id(target.function.node))
        return found


def module_names(
    path: Path,
    root: Path,
    imported: Collection[str] | None = None,
    has_init: dict[Path, bool] | None = None,
) -> tuple[str, list[str], bool]:
    """The dotted name of a file, the other names it may be imported by, and whether it
    is a package (`__init__.py`).

    Candidates are the file's full dotted name (its `__init__.py` packages, walked above
    the root too: reviewing `pkg/server` still knows `pkg.server.exceptions`, and
    namespace folders inside a package included: `pkg/routers/x.py` without
    `routers/__init__.py` is `pkg.routers.x`), the name by its packages inside the root,
    and its path relative to the root and to `root/src` (which is how namespace packages
    without `__init__.py` are imported). The first candidate whose top-level name the
    project imports (`imported`, see `imported_roots`) is the name; without such
    evidence, the package name inside the root when the file is in a package there, else
    the path relative to `root/src` or the root. `has_init` caches the folders checked
    for an `__init__.py` (one dict for all the files of a project)."""
    is_package = path.name == "__init__.py"
    in_package, full, walked = _package_names(path, root, is_package, has_init)
    relative = _relative_names(path, root, is_package)
    # A file outside any package is named by its path only: its bare stem as a name
    # would shadow outside modules (`app/services/requests.py` is not `requests`).
    default = [walked, *relative] if in_package else [*relative]
    default = [c for c in dict.fromkeys(default) if c]
    candidates = [c for c in dict.fromkeys([full, *default]) if c]
    name = default[0] if default else (candidates[0] if candidates else path.stem)
    if imported:
        for candidate in candidates:
            if candidate.split(".", 1)[0] in imported:
                name = candidate
                break
        if name == full:
            # The project imports itself by the full name: a shorter name that is also
            # an imported top-level name is an outside module's (`chromadb/server/
            # fastapi/__init__.py` reviewed as `chromadb/server` is not `fastapi`).
            candidates = [
                c
                for c in candidates
                if not (full.endswith("." + c) and c.split(".", 1)[0] in imported)
            ]
    return name, [c for c in candidates if c != name], is_package


def _package_names(
    path: Path, root: Path, is_package: bool, has_init: dict[Path, bool] | None = None
) -> tuple[bool, str, str]:
    """Whether the file is in a package inside the root, its full dotted name (empty when
    it is in no package) and its dotted name inside the root.

    The package is the nearest folder above the file with an `__init__.py`, reached
    through namespace folders (no `__init__.py`) inside the root, or the folder just
    above a root that is itself a namespace folder; from there the name walks up while
    folders have an `__init__.py`, past the root too."""
    cache = {} if has_init is None else has_init

    def package(folder: Path) -> bool:
        found = cache.get(folder)
        if found is None:
            found = cache[folder] = (folder / "__init__.py").is_file()
        return found

    under_root = path.is_relative_to(root)
    folder = path.parent
    chain: list[Path] = []  # the package folders, innermost first
    while not package(folder):  # namespace folders inside the root, up to the package
        if not under_root or not folder.name.isidentifier() or folder == folder.parent:
            return False, "", ""
        chain.append(folder)
        if folder == root and not package(folder.parent):
            return False, "", ""
        folder = folder.parent
    nearest = folder
    while True:
        while package(folder) and folder != folder.parent:
            # Above the root, only folders that can be part of a dotted name.
            if under_root and not folder.name.isidentifier() and not folder.is_relative_to(root):
                break
            chain.append(folder)
            folder = folder.parent
        # namespace folders inside the root between two packages (`pkg/routers/audio/`
        # with no `routers/__init__.py`): part of the name when a package lies above them
        gap: list[Path] = []
        probe = folder
        while (
            under_root
            and probe.is_relative_to(root)
            and probe.name.isidentifier()
            and probe != probe.parent
            and not package(probe)
        ):
            gap.append(probe)
            probe = probe.parent
        if not gap or not package(probe):
            break
        chain.extend(gap)
        folder = probe
    if nearest not in chain:  # namespace folders in no package
        return False, "", ""
    chain.reverse()  # outermost first
    stem = [] if is_package else [path.stem]
    full = ".".join([f.name for f in chain] + stem)
    inside = chain[chain.index(root) :] if root in chain else chain
    walked = ".".join([f.name for f in inside] + stem)
    in_package = not under_root or nearest.is_relative_to(root)
    return in_package, full, walked


def _relative_names(path: Path, root: Path, is_package: bool) -> list[str]:
    """The file's path as a dotted name, relative to `root/src` and to `root`."""
    out: list[str] = []
    for base in (root / "src", root):
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        parts = list(rel.with_suffix("").parts)
        if is_package:
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            out.append(".".join(parts))
    return out


def imported_roots(trees: Iterable[ast.Module]) -> set[str]:
    """The top-level names of the absolute imports at module level (`app` for
    `from app.api import deps`): evidence of how the project names its own modules."""
    roots: set[str] = set()
    for tree in trees:
        for stmt in top_level_statements(tree.body):
            if isinstance(stmt, ast.Import):
                roots.update(alias.name.split(".", 1)[0] for alias in stmt.names)
            elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
                roots.add(stmt.module.split(".", 1)[0])
    return roots


def build_model(
    files: Iterable[tuple[Path, str, ast.Module]], root: Path, auth_patterns: tuple[str, ...]
) -> AppModel:
    project = Project(root)
    files = list(files)
    imported = imported_roots(tree for _path, _source, tree in files)
    has_init: dict[Path, bool] = {}
    for path, source, tree in files:
        name, aliases, is_package = module_names(path, root, imported, has_init)
        if project.is_module_name_taken(name):
            # Two files with one name (`src/pkg/x.py` and `pkg/x.py`): keep both apart.
            taken = name
            name = next((a for a in aliases if not project.is_module_name_taken(a)), name)
            aliases = [a for a in (taken, *aliases) if a != name]
        try:
            relpath = path.relative_to(root).as_posix()
        except ValueError:
            relpath = path.as_posix()
        module = Module(
            name=name, path=path, relpath=relpath, tree=tree, source=source, is_package=is_package
        )
        project.add_module(module, aliases)
    project.finish()

    scanner = AppScanner(project)
    scanner.collect_router_bindings()
    graph = CallGraph()
    for module in project.module_list:
        _scan_scope(project, module, None, module.tree.body, scanner, graph)
        for fn in module.functions.values():
            _scan_scope(project, module, fn, fn.node.body, scanner, graph)
        for cls in module.classes.values():
            # Class bodies run at import time: class-based views (`@cbv(router)`)
            # register routes on their methods there.
            owner = project.functions.get(cls.qualname.rpartition(".")[0])
            _scan_scope(project, module, owner, cls.node.body, scanner, graph, cls.qualname)
    scanner.finish(graph)

    model = AppModel(
        project=project,
        routers=scanner.routers,
        routes=scanner.routes,
        callgraph=graph,
        auth=AuthResolver(project, auth_patterns),
        unresolved_includes=scanner.unresolved_includes,
    )
    for route in scanner.routes:
        model.routes_by_handler.setdefault(id(route.handler.node), []).append(route)
    return model


def _scan_scope(
    project: Project,
    module: Module,
    scope: Function | None,
    body: list[ast.stmt],
    scanner: AppScanner,
    graph: CallGraph,
    key: str | None = None,
) -> None:
    """One walk over the code that runs in `scope` (see `astutil.walk_nodes` for what
    belongs to a scope), collecting call sites and registrations in source order
    (depth-first, children in field order). Inlined for speed: together with the rule
    walk, this loop visits every node of the project. Nodes that can hold no call, await
    or definition (names, literals, operators, imports) are never pushed."""
    calls: list[CallSite] = []
    awaited: set[int] = set()
    scan_types = _SCAN_TYPES
    scan_fields = _SCAN_FIELDS
    registration = REGISTRATION_METHODS
    visit_call = scanner.visit_call
    attribute, call, await_ = ast.Attribute, ast.Call, ast.Await
    stack: list[ast.AST] = [node for node in reversed(body) if type(node) in scan_types]
    pop, push = stack.pop, stack.append
    value: Any
    while stack:
        node: Any = pop()  # typed by the `kind` tests, which mypy does not follow
        kind = type(node)
        if kind is attribute:
            # `a.b.c`: only the innermost value can hold anything (usually a name).
            value = node.value
            while type(value) is attribute:
                value = value.value
            if type(value) in scan_types:
                push(value)
            continue
        if kind is call:
            func = node.func
            func_kind = type(func)
            # `AppScanner.visit_call` only records these two shapes: skip the method call
            # for the others (nearly all calls).
            if func_kind is call or (func_kind is attribute and func.attr in registration):
                visit_call(module, scope, node)
            target = resolve_callee(project, module, func, scope)
            calls.append(CallSite(node, target, id(node) in awaited))
            # The children by hand (a third of all nodes visited are a call's): keyword
            # values, arguments, then the callee, where only the innermost value of an
            # `a.b.c` can hold anything.
            for kw in reversed(node.keywords):
                value = kw.value
                if type(value) in scan_types:
                    push(value)
            for value in reversed(node.args):
                if type(value) in scan_types:
                    push(value)
            while func_kind is attribute:
                func = func.value
                func_kind = type(func)
            if func_kind in scan_types:
                push(func)
            continue
        if kind is await_:
            value = node.value
            if type(value) is call:
                awaited.add(id(value))
        elif kind in _SCOPE_TYPES:
            if kind is not ast.Lambda and kind is not ast.ClassDef:
                scanner.visit_function(module, scope, node)
            for value in reversed(outer_nodes(node)):
                if type(value) in scan_types:
                    push(value)
            continue
        # Pushed last field first, last item first: popped in source order.
        for name in scan_fields[kind]:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in reversed(value):
                    if type(item) in scan_types:
                        push(item)
            elif type(value) in scan_types:
                push(value)
    if key is None:
        key = scope.qualname if scope is not None else module.name
    graph.calls[key] = calls


_SCOPE_TYPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef})


def _node_types(base: type[ast.AST]) -> set[type[ast.AST]]:
    found: set[type[ast.AST]] = set()
    for sub in base.__subclasses__():
        found.add(sub)
        found |= _node_types(sub)
    return found


# What `_scan_scope` descends into: every node type that can hold a call, an await or a
# definition. Not names and literals (`CHILDLESS`), operators and expression contexts
# (no fields), imports (only aliases).
_SCAN_TYPES: frozenset[type[ast.AST]] = frozenset(
    t
    for t in _node_types(ast.AST)
    if t not in CHILDLESS
    and t not in (ast.Import, ast.ImportFrom)
    and not issubclass(t, (ast.operator, ast.cmpop, ast.boolop, ast.unaryop, ast.expr_context))
)
# The fields of each of them that can hold such nodes, last first (`op`/`ops` only ever
# hold operators).
_SCAN_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {
    t: tuple(reversed([f for f in child_fields(t) if f not in ("op", "ops")])) for t in _SCAN_TYPES
}


# Words in a middleware class or function name that say it authenticates requests.
_AUTH_MIDDLEWARE_WORDS = frozenset(
    {
        "auth",
        "authentication",
        "authenticate",
        "jwt",
        "apikey",
        "bearer",
        "login",
        "oauth",
        "oauth2",
        "token",
        "credentials",
    }
)
_NOT_AUTH_MIDDLEWARE = frozenset({"SessionMiddleware", "CORSMiddleware", "TrustedHostMiddleware"})
_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")


def middleware_auth(middleware: list[tuple[str, ast.AST]]) -> list[str] | None:
    """An app-wide middleware whose name says it authenticates protects every route.
    Names are compared by whole words: `CSRFTokenMiddleware` protects against CSRF, it
    does not authenticate."""
    for name, _node in middleware:
        short = name.rsplit(".", 1)[-1]
        if short in _NOT_AUTH_MIDDLEWARE:
            continue
        words = [w.lower() for w in _WORD_RE.findall(short)]
        if "csrf" in words or "xsrf" in words:
            continue
        joined = "".join(words)
        if _AUTH_MIDDLEWARE_WORDS.intersection(words) or "apikey" in joined:
            return [f"middleware {short}"]
    return None
