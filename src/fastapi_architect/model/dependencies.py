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
from typing import cast

from fastapi_architect.model.astutil import body_nodes, dotted, keyword, last_name, parameters
from fastapi_architect.model.constants import class_attribute, sequence_elements
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.model.types import infer_type, unwrap_annotation

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
    owner: Function | None = None  # the function whose parameter declares it


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
    owner: Function | None = None,
) -> DepSite | None:
    kind = depends_call(project, module, call, scope)
    if not kind or not isinstance(call, ast.Call):
        return None
    target = call.args[0] if call.args else keyword(call, "dependency")
    return DepSite(call, module, scope, level, target, annotation, param, kind == "security", owner)


def list_sites(
    project: Project, module: Module, expr: ast.expr | None, scope: Function | None, level: str
) -> list[DepSite]:
    """Sites from a `dependencies=[Depends(a), Depends(b)]` argument (also a list held
    by a constant, `*spread` into the list, or `a + b`)."""
    out: list[DepSite] = []
    for el_module, element, el_scope in sequence_elements(project, module, expr, scope):
        site = site_from_call(project, el_module, element, el_scope, level)
        if site is not None:
            out.append(site)
    return out


def param_sites(project: Project, fn: Function, level: str = "parameter") -> list[DepSite]:
    """Dependencies declared in a function's parameters (defaults, also a module-level
    name bound to `Depends(...)`, and `Annotated`). Worked out once per function and
    level (a dozen rules ask, for every route and every dependency); the caller gets its
    own list."""
    key = (param_sites, level)
    found = fn.derived.get(key)
    if found is None:
        found = fn.derived[key] = tuple(_param_sites(project, fn, level))
    return list(cast(tuple[DepSite, ...], found))


def _param_sites(project: Project, fn: Function, level: str) -> list[DepSite]:
    out: list[DepSite] = []
    scope = fn.parent
    for param, default in parameters(fn.node):
        base, metadata, meta_module = unwrap_annotation(project, fn.module, param.annotation, scope)
        if default is not None:
            site = site_from_call(project, fn.module, default, scope, level, base, param.arg, fn)
            if site is None and isinstance(default, (ast.Name, ast.Attribute)):
                # `services=DepContainer`, with `DepContainer = Depends(_container)` at
                # module level (here or imported).
                held = project.module_value(project.resolve(fn.module, default, scope))
                if held is not None:
                    site = site_from_call(
                        project, held[0], held[1], None, level, base, param.arg, fn
                    )
            if site is not None:
                out.append(site)
                continue
        for meta in metadata:
            meta_scope = scope if meta_module is fn.module else None
            site = site_from_call(
                project, meta_module, meta, meta_scope, level, base, param.arg, fn
            )
            if site is not None:
                out.append(site)
                break
    if fn.class_qualname is not None:
        out.extend(_class_attribute_sites(project, fn, level))
    return out


def _class_attribute_sites(project: Project, fn: Function, level: str) -> list[DepSite]:
    """Class-based views (`@cbv(router)` from fastapi-utils) declare shared dependencies
    as class attributes (`user: User = Depends(get_current_user)`); every route method
    of the class gets them."""
    cls = project.class_(fn.class_qualname)
    if cls is None or not any(
        last_name(
            project.resolve(cls.module, d.func if isinstance(d, ast.Call) else d)
            or dotted(d.func if isinstance(d, ast.Call) else d)
        )
        == "cbv"
        for d in cls.node.decorator_list
    ):
        return []  # FastAPI reads no class attribute of a plain class's bound method
    out: list[DepSite] = []
    for stmt in cls.node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        base, metadata, meta_module = unwrap_annotation(project, cls.module, stmt.annotation)
        candidates = [(cls.module, stmt.value)] if stmt.value is not None else []
        candidates += [(meta_module, meta) for meta in metadata]
        for module, expr in candidates:
            site = site_from_call(project, module, expr, None, level, base, stmt.target.id, fn)
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
    """What a declared dependency resolves to. Kept for the run (on the project): the
    routes of an app walk the same few dependency chains (`get_current_user` ->
    `oauth2_scheme`) over and over, and every site made for one declaration (its
    parameter's, its route's) resolves the same expression in the same scope."""
    expr = site.target if site.target is not None else site.annotation
    if expr is None:
        return None
    key = (id(expr), id(site.module), id(site.scope), id(site.owner))
    known = project.dependency_targets.get(key)
    if known is not None:  # the entry holds its expression: no other can have its id
        return cast(DepTarget | None, known[1])
    found = _target_of(project, site.module, expr, site.scope, 0, site.owner)
    project.dependency_targets[key] = (expr, found)
    return found


def _target_of(
    project: Project,
    module: Module,
    expr: ast.expr,
    scope: Function | None,
    depth: int,
    owner: Function | None = None,
) -> DepTarget | None:
    if depth > 6:
        return None
    if isinstance(expr, ast.Call):
        return _call_target(project, module, expr, scope)
    qualname = project.resolve(module, expr, scope)
    if qualname is None:
        return None
    found = _definition_target(project, qualname)
    if found is None and isinstance(expr, ast.Attribute):
        found = _bound_method_target(project, module, expr, scope)
    if found is not None:
        return found
    value = _value_of(project, qualname, expr, owner)
    if value is not None:
        value_module, value_expr, label = value
        inner = _target_of(project, value_module, value_expr, None, depth + 1)
        if inner is not None and not isinstance(value_expr, ast.Call):
            return inner  # `get_user = get_current_user`: the same dependency
        if inner is not None:
            return DepTarget(last_name(label), label, inner.function, inner.scheme)
    return DepTarget(last_name(qualname), qualname, None, None)


def _call_target(
    project: Project, module: Module, call: ast.Call, scope: Function | None
) -> DepTarget | None:
    """An instance (`Depends(RoleChecker("admin"))`, `Depends(HTTPBearer())`) or a
    factory call (`Depends(require_role("admin"))`)."""
    callee = project.resolve(module, call.func, scope)
    if is_security_scheme_class(project, callee):
        return DepTarget(last_name(callee), callee, None, _scheme_name(project, callee))
    cls = project.class_(callee)
    if cls is not None:
        return DepTarget(
            cls.node.name, cls.qualname, project.method(cls.qualname, "__call__"), None
        )
    factory = project.function(callee)
    if factory is not None:
        return DepTarget(factory.name, factory.qualname, _returned_function(project, factory), None)
    return DepTarget(last_name(callee), callee, None, None) if callee else None


def _definition_target(project: Project, qualname: str) -> DepTarget | None:
    """A project function, or a class (FastAPI calls its `__init__`)."""
    fn = project.function(qualname)
    if fn is not None:
        return DepTarget(fn.name, fn.qualname, fn, None)
    cls = project.class_(qualname)
    if cls is not None:
        return DepTarget(
            cls.node.name, cls.qualname, project.method(cls.qualname, "__init__"), None
        )
    return None


def _bound_method_target(
    project: Project, module: Module, expr: ast.Attribute, scope: Function | None
) -> DepTarget | None:
    """`Depends(auth_handler.auth_wrapper)` where `auth_handler = AuthHandler()`."""
    cls = project.class_(infer_type(project, module, expr.value, scope))
    method = project.method(cls.qualname, expr.attr) if cls is not None else None
    if method is None:
        return None
    return DepTarget(method.name, method.qualname, method, None)


def _value_of(
    project: Project, qualname: str, expr: ast.expr, owner: Function | None
) -> tuple[Module, ast.expr, str] | None:
    """What a dependency name holds: a module-level variable (`oauth2_scheme =
    OAuth2PasswordBearer(...)`, `get_user = get_current_user`), or, in a method's
    parameter default, an attribute of its class (`security = HTTPBearer()` in the class
    body, then `Security(security)`)."""
    found = project.module_value(qualname)
    if found is not None and isinstance(found[1], (ast.Call, ast.Name, ast.Attribute)):
        return found[0], found[1], qualname
    if isinstance(expr, ast.Name) and owner is not None and owner.class_qualname:
        cls = project.class_(owner.class_qualname)
        value = class_attribute(cls, expr.id) if cls is not None else None
        if cls is not None and isinstance(value, (ast.Call, ast.Name, ast.Attribute)):
            return cls.module, value, f"{cls.qualname}.{expr.id}"
    return None


def _scheme_name(project: Project, class_qualname: str | None) -> str:
    for name in project.mro(class_qualname or ""):
        if name.startswith("fastapi.security.") and last_name(name) in SECURITY_SCHEMES:
            return last_name(name)
    return last_name(class_qualname)


def _returned_function(project: Project, factory: Function) -> Function | None:
    """What a dependency factory returns: a nested function (`return checker`), a project
    function, or an instance of a class with `__call__` (`return RoleChecker(role)`)."""
    for node in body_nodes(factory.node):
        if not (isinstance(node, ast.Return) and node.value is not None):
            continue
        value = node.value
        if isinstance(value, ast.Call):
            cls = project.class_(project.resolve(factory.module, value.func, factory))
            if cls is not None:
                method = project.method(cls.qualname, "__call__")
                if method is not None:
                    return method
            continue
        inner = project.function(project.resolve(factory.module, value, factory))
        if inner is not None:
            return inner
    return None


def target_key(target: DepTarget) -> str:
    """Identity of a dependency: `Depends(RoleChecker)` (its `__init__`) and
    `Depends(RoleChecker("admin"))` (its `__call__`) are different dependencies."""
    function = target.function.qualname if target.function is not None else ""
    return f"{target.qualname or target.name}|{function}|{target.scheme or ''}"


def sub_sites(project: Project, target: DepTarget) -> list[DepSite]:
    """The dependencies of a dependency (its own `Depends` parameters)."""
    if target.function is None:
        return []
    return param_sites(project, target.function, level="subdependency")


def walk_dependencies(
    project: Project, sites: list[DepSite]
) -> Iterator[tuple[DepSite, DepTarget]]:
    """Every dependency reachable from `sites`, each target once, depth first."""
    seen: set[str] = set()
    stack = list(reversed(sites))
    while stack:
        site = stack.pop()
        target = resolve_target(project, site)
        if target is None:
            continue
        key = target_key(target) if target.qualname else f"{id(site.node)}"
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
        key = target_key(target)
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
