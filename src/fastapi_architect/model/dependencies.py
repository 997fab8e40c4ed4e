"""FastAPI dependencies: where they are declared, what they resolve to, and which of
them authenticate.

A dependency is declared by `Depends(x)`/`Security(x)` as a parameter default, inside
`Annotated[...]` (also through module-level aliases), in `dependencies=[...]` of a
decorator, a router, an `include_router` call or the app. Dependencies are followed
transitively: `get_current_active_user` → `get_current_user` → `oauth2_scheme`.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi_architect.model.astutil import body_nodes, keyword, last_name, parameters
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.types import unwrap_annotation

DEPENDS = frozenset(
    {
        "fastapi.Depends",
        "fastapi.params.Depends",
        "fastapi.param_functions.Depends",
    }
)
SECURITY = frozenset(
    {
        "fastapi.Security",
        "fastapi.params.Security",
        "fastapi.param_functions.Security",
    }
)
SECURITY_SCHEMES = frozenset(
    {
        "OAuth2PasswordBearer",
        "OAuth2AuthorizationCodeBearer",
        "OAuth2",
        "HTTPBearer",
        "HTTPBasic",
        "HTTPDigest",
        "HTTPBase",
        "APIKeyHeader",
        "APIKeyQuery",
        "APIKeyCookie",
        "APIKeyBase",
        "OpenIdConnect",
        "SecurityBase",
    }
)


def is_security_scheme_class(project: Project, qualname: str | None) -> bool:
    """A class from `fastapi.security` (any submodule) or a project subclass of one."""
    if qualname is None:
        return False
    for name in project.mro(qualname):
        if name.startswith("fastapi.security.") and last_name(name) in SECURITY_SCHEMES:
            return True
    return False


@dataclass(frozen=True, eq=False)
class DepSite:
    """One declared dependency. `target` is the callable expression (None for a bare
    `Depends()`, whose callable is the parameter's annotation, then in `annotation`)."""

    node: ast.expr
    module: Module
    scope: Function | None
    level: str  # parameter | decorator | router | include | app | subdependency
    target: ast.expr | None
    annotation: ast.expr | None = None
    param: str | None = None
    security: bool = False  # declared with Security() rather than Depends()


def depends_call(project: Project, module: Module, expr: ast.AST, scope: Function | None) -> str:
    """'depends', 'security' or '' for an expression that is (or is not) a Depends call."""
    if not isinstance(expr, ast.Call):
        return ""
    name = project.resolve(module, expr.func, scope)
    if name in DEPENDS:
        return "depends"
    if name in SECURITY:
        return "security"
    return ""


def site_from_call(
    project: Project,
    module: Module,
    call: ast.expr,
    scope: Function | None,
    level: str,
    annotation: ast.expr | None = None,
    param: str | None = None,
) -> DepSite | None:
    kind = depends_call(project, module, call, scope)
    if not kind or not isinstance(call, ast.Call):
        return None
    target = call.args[0] if call.args else keyword(call, "dependency")
    return DepSite(call, module, scope, level, target, annotation, param, kind == "security")


def list_sites(
    project: Project, module: Module, expr: ast.expr | None, scope: Function | None, level: str
) -> list[DepSite]:
    """Sites from a `dependencies=[Depends(a), Depends(b)]` argument."""
    if not isinstance(expr, (ast.List, ast.Tuple)):
        return []
    out: list[DepSite] = []
    for element in expr.elts:
        site = site_from_call(project, module, element, scope, level)
        if site is not None:
            out.append(site)
    return out


def param_sites(project: Project, fn: Function, level: str = "parameter") -> list[DepSite]:
    """Dependencies declared in a function's parameters (defaults and `Annotated`)."""
    out: list[DepSite] = []
    scope = fn.parent
    for param, default in parameters(fn.node):
        base, metadata, meta_module = unwrap_annotation(project, fn.module, param.annotation, scope)
        if default is not None:
            site = site_from_call(project, fn.module, default, scope, level, base, param.arg)
            if site is not None:
                out.append(site)
                continue
        for meta in metadata:
            meta_scope = scope if meta_module is fn.module else None
            site = site_from_call(project, meta_module, meta, meta_scope, level, base, param.arg)
            if site is not None:
                out.append(site)
                break
    return out


# ---------------------------------------------------------------- what a dependency is


@dataclass(frozen=True, eq=False)
class DepTarget:
    """What a dependency resolves to. `function` is the callable FastAPI will call (a
    function, a class `__init__` or an instance's `__call__`), when it is project code."""

    name: str  # for messages and chains: the function, variable or class name
    qualname: str | None
    function: Function | None
    scheme: str | None  # the fastapi.security class name, for security scheme instances


def resolve_target(project: Project, site: DepSite) -> DepTarget | None:
    expr = site.target
    module = site.module
    scope = site.scope
    if expr is None:
        if site.annotation is None:
            return None
        expr = site.annotation
    return _target_of(project, module, expr, scope, depth=0)


def _target_of(
    project: Project, module: Module, expr: ast.expr, scope: Function | None, depth: int
) -> DepTarget | None:
    if depth > 6:
        return None
    if isinstance(expr, ast.Call):
        # An instance (`Depends(RoleChecker("admin"))`, `Depends(HTTPBearer())`) or a
        # factory call (`Depends(require_role("admin"))`).
        callee = project.resolve(module, expr.func, scope)
        if is_security_scheme_class(project, callee):
            return DepTarget(last_name(callee), callee, None, _scheme_name(project, callee))
        cls = project.class_(callee)
        if cls is not None:
            return DepTarget(cls.node.name, cls.qualname, project.method(cls.qualname, "__call__"), None)
        factory = project.function(callee)
        if factory is not None:
            inner = _returned_function(project, factory)
            return DepTarget(factory.name, factory.qualname, inner, None)
        return DepTarget(last_name(callee), callee, None, None) if callee else None
    qualname = project.resolve(module, expr, scope)
    if qualname is None:
        return None
    fn = project.function(qualname)
    if fn is not None:
        return DepTarget(fn.name, fn.qualname, fn, None)
    cls = project.class_(qualname)
    if cls is not None:
        return DepTarget(cls.node.name, cls.qualname, project.method(cls.qualname, "__init__"), None)
    value = project.module_value(qualname)
    if value is not None and isinstance(value[1], ast.Call):
        inner_target = _target_of(project, value[0], value[1], None, depth + 1)
        if inner_target is not None:
            return DepTarget(last_name(qualname), qualname, inner_target.function, inner_target.scheme)
    return DepTarget(last_name(qualname), qualname, None, None)


def _scheme_name(project: Project, class_qualname: str | None) -> str:
    for name in project.mro(class_qualname or ""):
        if name.startswith("fastapi.security.") and last_name(name) in SECURITY_SCHEMES:
            return last_name(name)
    return last_name(class_qualname)


def _returned_function(project: Project, factory: Function) -> Function | None:
    for node in body_nodes(factory.node):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
            inner = project.function(f"{factory.qualname}.{node.value.id}")
            if inner is not None:
                return inner
    return None


def sub_sites(project: Project, target: DepTarget) -> list[DepSite]:
    """The dependencies of a dependency (its own `Depends` parameters)."""
    if target.function is None:
        return []
    return param_sites(project, target.function, level="subdependency")


def walk_dependencies(project: Project, sites: list[DepSite]) -> Iterator[tuple[DepSite, DepTarget]]:
    """Every dependency reachable from `sites`, each target once, depth first."""
    seen: set[str] = set()
    stack = list(reversed(sites))
    while stack:
        site = stack.pop()
        target = resolve_target(project, site)
        if target is None:
            continue
        key = target.qualname or f"{id(site.node)}"
        if key in seen:
            continue
        seen.add(key)
        yield site, target
        stack.extend(reversed(sub_sites(project, target)))


# ---------------------------------------------------------------- authentication


class AuthResolver:
    """Decides whether a dependency authenticates, with the chain that shows it.

    A dependency authenticates when it is a `fastapi.security` scheme (or a project
    subclass of one), when its name matches a configured auth-dependency pattern, or
    when one of its own dependencies authenticates.
    """

    def __init__(self, project: Project, patterns: tuple[str, ...]) -> None:
        self.project = project
        self.patterns = patterns
        self._cache: dict[str, list[str] | None] = {}

    def chain(self, site: DepSite) -> list[str] | None:
        target = resolve_target(self.project, site)
        if target is None:
            return None
        return self._chain(target, set())

    def first_chain(self, sites: list[DepSite]) -> list[str] | None:
        for site in sites:
            found = self.chain(site)
            if found is not None:
                return found
        return None

    def _chain(self, target: DepTarget, visiting: set[str]) -> list[str] | None:
        key = target.qualname or target.name
        if key in self._cache:
            return self._cache[key]
        if key in visiting:
            return None
        visiting.add(key)
        result: list[str] | None = None
        if target.scheme is not None:
            label = target.name
            result = [label if label == target.scheme else f"{label} ({target.scheme})"]
        else:
            # Follow down to the security scheme even when the name already matches, so
            # the chain shows what really authenticates.
            for sub in sub_sites(self.project, target):
                sub_target = resolve_target(self.project, sub)
                if sub_target is None:
                    continue
                found = self._chain(sub_target, visiting)
                if found is not None:
                    result = [target.name, *found]
                    break
            if result is None and self.matches(target):
                result = [target.name]
        visiting.discard(key)
        self._cache[key] = result
        return result

    def matches(self, target: DepTarget) -> bool:
        for pattern in self.patterns:
            if fnmatch.fnmatchcase(target.name, pattern):
                return True
            if target.qualname and fnmatch.fnmatchcase(target.qualname, pattern):
                return True
        return False
