"""The project index: modules by name, their imports and definitions, and name resolution.

Everything is keyed by *qualified names* (`app.services.pricing.get_rate`,
`app.main.create_app.app` for a local of a function, `requests.get` for outside code).
`Project.resolve` turns an expression into such a name, following project imports and
re-exports, so that rules can ask "is this `fastapi.Depends`?" whatever the import style.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_architect.model.astutil import FunctionNode, body_nodes, statements

_MAX_HOPS = 12


@dataclass(eq=False)
class Function:
    qualname: str
    module: Module
    node: FunctionNode
    class_qualname: str | None = None
    parent: Function | None = None
    # Simple local bindings: name -> last assigned value (None for non-assignment bindings).
    local_values: dict[str, ast.expr | None] = field(default_factory=dict)
    # The names of its parameters (`*args` and `**kwargs` included): name resolution asks
    # for nearly every function's.
    param_names: frozenset[str] = frozenset()
    # What the review derives from this function's own code, computed once per run and
    # kept with it (keyed by the function that derives it).
    derived: dict[object, object] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.node.name

    def binds(self, name: str) -> bool:
        """Is `name` a parameter or local of this function (not of an enclosing one)?"""
        return name in self.local_values or name in self.param_names

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    @property
    def display(self) -> str:
        """Short dotted name for messages: `pricing.get_rate`, `BookService.create`."""
        local = self.qualname[len(self.module.name) + 1 :]
        return f"{self.module.name.rsplit('.', 1)[-1]}.{local}"


@dataclass(eq=False)
class ClassInfo:
    qualname: str
    module: Module
    node: ast.ClassDef
    bases: list[str]  # resolved qualified names of the bases (unresolvable ones left out)
    methods: dict[str, Function] = field(default_factory=dict)


@dataclass(eq=False)
class Module:
    name: str
    path: Path
    relpath: str
    tree: ast.Module
    source: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)  # local qualname -> Function
    classes: dict[str, ClassInfo] = field(default_factory=dict)  # local qualname -> class
    assignments: dict[str, ast.expr] = field(default_factory=dict)  # module-level name -> value
    annotations: dict[str, ast.expr] = field(
        default_factory=dict
    )  # module-level name -> annotation
    # What the review derives from this module's own code, computed once per run and
    # kept with it (keyed by the function that derives it), like `Function.derived`.
    derived: dict[object, object] = field(default_factory=dict, repr=False)

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def may_spell(self, *words: str) -> bool:
        """Can this module's code name one of `words` (a cheap guard before a walk)? False
        only when its text holds none of them and is plain ASCII: a non-ASCII identifier
        may be another spelling (NFKC) of one of the words."""
        source = self.source
        return not source.isascii() or any(word in source for word in words)

    def imports_anything(self, *prefixes: str) -> bool:
        """Cheap guard for rules: does this module import any of these top-level packages?"""
        for target in self.imports.values():
            for prefix in prefixes:
                if target == prefix or target.startswith(prefix + "."):
                    return True
        return False


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: dict[str, Module] = {}  # primary and alias names -> module
        self.module_list: list[Module] = []
        self.functions: dict[str, Function] = {}
        self.classes: dict[str, ClassInfo] = {}
        self.function_by_node: dict[int, Function] = {}
        self._canonical_cache: dict[str, str] = {}
        # (scope or module id, callee text) -> resolved callee; filled by `types.resolve_callee`.
        self.callee_cache: dict[tuple[int, str], str | None] = {}
        self._instance_attributes: dict[int, dict[str, tuple[Function, ast.expr, bool]]] = {}
        # ids of (a dependency's expression, its module, scope, owner) -> (the expression,
        # what it resolves to); filled by `dependencies.resolve_target`. Holding the
        # expression keeps its id its own; modules and functions live as long as this.
        self.dependency_targets: dict[tuple[int, int, int, int], tuple[object, object]] = {}
        # class node id -> its class-level annotations; filled by `types._attribute_type`.
        self.class_annotations: dict[int, dict[str, ast.expr]] = {}
        # (class qualname, attribute, inference depth) -> the attribute's type; filled by
        # `types._attribute_type`.
        self.attribute_types: dict[tuple[str, str, int], str | None] = {}
        # Filled once the project is complete (`finish`): before that a name may still
        # gain a module or a base.
        self._split_cache: dict[str, tuple[Module | None, str]] | None = None
        self._mro_cache: dict[str, list[str]] | None = None

    # ----------------------------------------------------------------- building

    def add_module(self, module: Module, aliases: list[str]) -> None:
        self.module_list.append(module)
        # A module's own name wins over another module's alias of the same name.
        current = self.modules.get(module.name)
        if current is None or current.name != module.name:
            self.modules[module.name] = module
        for name in aliases:
            self.modules.setdefault(name, module)
        _index_module(module)
        for fn in module.functions.values():
            self.functions[fn.qualname] = fn
            self.function_by_node[id(fn.node)] = fn
        for cls in module.classes.values():
            self.classes[cls.qualname] = cls

    def is_module_name_taken(self, name: str) -> bool:
        """Is `name` already the own name of a module (not only an alias)?"""
        current = self.modules.get(name)
        return current is not None and current.name == name

    def finish(self) -> None:
        """Resolve class bases once every module is known. A generic base is its class
        (`Injector[Service]` is `Injector`)."""
        for cls in self.classes.values():
            cls.bases = [
                b
                for b in (
                    self.resolve(cls.module, e.value if isinstance(e, ast.Subscript) else e)
                    for e in cls.node.bases
                )
                if b is not None
            ]
        self._split_cache = {}
        self._mro_cache = {}

    # ----------------------------------------------------------------- resolution

    def resolve(self, module: Module, expr: ast.AST, scope: Function | None = None) -> str | None:
        """The canonical qualified name an expression refers to, or None."""
        if isinstance(expr, ast.Name):
            return self.resolve_name(module, expr.id, scope)
        if isinstance(expr, ast.Attribute):
            base = self.resolve(module, expr.value, scope)
            if base is None:
                return None
            return self.canonical(f"{base}.{expr.attr}")
        return None

    def resolve_name(self, module: Module, name: str, scope: Function | None = None) -> str | None:
        fn = scope
        while fn is not None:
            if name in fn.local_values:
                return f"{fn.qualname}.{name}"
            if name in fn.param_names:
                return f"{fn.qualname}.{name}"
            nested = module.functions.get(_local(fn) + "." + name)
            if nested is not None:
                return nested.qualname
            fn = fn.parent
        if name in module.imports:
            return self.canonical(module.imports[name])
        if name in module.functions or name in module.classes or name in module.assignments:
            return f"{module.name}.{name}"
        for star in module.star_imports:
            target = self.modules.get(star)
            if target is not None and (
                name in target.functions or name in target.classes or name in target.assignments
            ):
                return f"{target.name}.{name}"
        if name in module.annotations:
            return f"{module.name}.{name}"
        return name

    def canonical(self, qualname: str) -> str:
        """Follow re-exports (`from .items import router` in a package) to the definition."""
        cached = self._canonical_cache.get(qualname)
        if cached is not None:
            return cached
        result = qualname
        for _ in range(_MAX_HOPS):
            nxt = self._hop(result)
            if nxt is None or nxt == result:
                break
            result = nxt
        self._canonical_cache[qualname] = result
        return result

    def _hop(self, qualname: str) -> str | None:
        module, rest = self.split(qualname)
        if module is None or not rest:
            if module is not None and module.name != qualname:
                return module.name  # an alias name of the module
            return None
        head, _, tail = rest.partition(".")
        if head in module.functions or head in module.classes or head in module.assignments:
            canon = f"{module.name}.{rest}"
            return canon if canon != qualname else None
        if head in module.imports:
            target = module.imports[head]
            return f"{target}.{tail}" if tail else target
        sub = self.modules.get(f"{module.name}.{head}")
        if sub is not None:
            return f"{sub.name}.{tail}" if tail else sub.name
        return None

    def split(self, qualname: str) -> tuple[Module | None, str]:
        """The longest project-module prefix of a name, and the rest."""
        cache = self._split_cache
        if cache is not None:
            found = cache.get(qualname)
            if found is not None:
                return found
        parts = qualname.split(".")
        result: tuple[Module | None, str] = (None, qualname)
        for i in range(len(parts), 0, -1):
            module = self.modules.get(".".join(parts[:i]))
            if module is not None:
                result = (module, ".".join(parts[i:]))
                break
        if cache is not None:
            cache[qualname] = result
        return result

    def function(self, qualname: str | None) -> Function | None:
        if qualname is None:
            return None
        fn = self.functions.get(qualname)
        if fn is None:
            fn = self.functions.get(self.canonical(qualname))
        return fn

    def class_(self, qualname: str | None) -> ClassInfo | None:
        if qualname is None:
            return None
        cls = self.classes.get(qualname)
        if cls is None:
            cls = self.classes.get(self.canonical(qualname))
        return cls

    def module_value(self, qualname: str | None) -> tuple[Module, ast.expr] | None:
        """The value assigned to a module-level variable (`settings = Settings()`)."""
        if qualname is None:
            return None
        module, rest = self.split(self.canonical(qualname))
        if module is None or "." in rest or rest not in module.assignments:
            return None
        return module, module.assignments[rest]

    def local_value(self, qualname: str) -> tuple[Function, ast.expr] | None:
        """The value last assigned to a function's local (`app` in `create_app`)."""
        owner, _, name = qualname.rpartition(".")
        fn = self.functions.get(owner)
        if fn is None:
            return None
        value = fn.local_values.get(name)
        return (fn, value) if value is not None else None

    def mro(self, class_qualname: str) -> list[str]:
        """The class and its ancestors (project classes expanded, outside ones as named).
        The list is shared once the project is complete: do not change it."""
        cache = self._mro_cache
        if cache is not None:
            found = cache.get(class_qualname)
            if found is not None:
                return found
        out: list[str] = []
        todo = [class_qualname]
        while todo and len(out) < 64:
            name = todo.pop(0)
            if name in out:
                continue
            out.append(name)
            cls = self.class_(name)
            if cls is not None:
                todo.extend(cls.bases)
        if cache is not None:
            cache[class_qualname] = out
        return out

    def is_subclass(self, class_qualname: str | None, bases: frozenset[str]) -> bool:
        if class_qualname is None:
            return False
        return any(name in bases for name in self.mro(class_qualname))

    def method(self, class_qualname: str, name: str) -> Function | None:
        for cls_name in self.mro(class_qualname):
            cls = self.class_(cls_name)
            if cls is not None and name in cls.methods:
                return cls.methods[name]
        return None

    def instance_attributes(self, cls: ClassInfo) -> dict[str, tuple[Function, ast.expr, bool]]:
        """What `__init__` assigns to `self.<attr>`: attr -> (`__init__`, the annotation if
        the assignment has one else the value, whether it is the annotation). Built once
        per class."""
        cached = self._instance_attributes.get(id(cls))
        if cached is not None:
            return cached
        found: dict[str, tuple[Function, ast.expr, bool]] = {}
        init = cls.methods.get("__init__")
        if init is not None:
            for node in body_nodes(init.node):
                _self_assignment(init, node, found)
        self._instance_attributes[id(cls)] = found
        return found

    def enclosing_class(self, fn: Function) -> ClassInfo | None:
        return self.classes.get(fn.class_qualname) if fn.class_qualname else None


def _self_assignment(
    init: Function, node: ast.AST, found: dict[str, tuple[Function, ast.expr, bool]]
) -> None:
    if isinstance(node, ast.AnnAssign):
        targets: list[ast.expr] = [node.target]
    elif isinstance(node, ast.Assign):
        targets = node.targets
    else:
        return
    for target in targets:
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and target.attr not in found
        ):
            if isinstance(node, ast.AnnAssign):
                found[target.attr] = (init, node.annotation, True)
            elif node.value is not None:
                found[target.attr] = (init, node.value, False)


def _local(fn: Function) -> str:
    return fn.qualname[len(fn.module.name) + 1 :]


def _param_names(node: FunctionNode) -> set[str]:
    a = node.args
    names = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
    if a.vararg:
        names.add(a.vararg.arg)
    if a.kwarg:
        names.add(a.kwarg.arg)
    return names


# --------------------------------------------------------------------- indexing


def _index_module(module: Module) -> None:
    _collect_imports(module)
    walrus = ":=" in module.source  # once per module: only then are expressions searched
    _collect_definitions(module, module.tree.body, "", None, None, walrus)


def _collect_imports(module: Module) -> None:
    # Imports anywhere in the file count (lazy imports inside app factories are common);
    # a module-level binding wins over a nested one of the same name.
    nested: dict[str, str] = {}
    for node, top in _import_nodes(module.tree, module.source):
        table = module.imports if top else nested
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    table[head] = head
        else:
            base = _import_base(module, node)
            if base is None:
                continue
            for alias in node.names:
                if alias.name == "*":
                    module.star_imports.append(base)
                    continue
                table[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    for name, target in nested.items():
        module.imports.setdefault(name, target)


def _import_nodes(tree: ast.Module, source: str) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    out: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
    top_ids: set[int] = set()
    for stmt in top_level_statements(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            out.append((stmt, True))
            top_ids.add(id(stmt))
    if not (_NESTED_IMPORT.search(source) or _INDENTED_IMPORT.match(source)):
        return out  # no indented import statement: nothing more to look for
    for node in _all_statements(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top_ids:
            out.append((node, False))
    return out


def _all_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of a module, function and class bodies included (imports are
    statements: no need to visit the expressions)."""
    for stmt in statements(body):
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from _all_statements(stmt.body)


# An indented import statement: blanks at the start of a line, then the keyword. Searched
# from a line break (which the regex engine finds much faster than trying a multiline `^`
# at every position), and matched at the start of the file.
_NESTED_IMPORT = re.compile(r"\n[ \t]+(?:import|from)\s")
_INDENTED_IMPORT = re.compile(r"[ \t]+(?:import|from)\s")


def _import_base(module: Module, node: ast.ImportFrom) -> str | None:
    if node.level == 0:
        return node.module or ""
    package = module.package
    parts = package.split(".") if package else []
    if node.level > len(parts):  # beyond the top-level package: an ImportError
        return None
    base_parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    base = ".".join(base_parts)
    if node.module:
        base = f"{base}.{node.module}" if base else node.module
    return base


def top_level_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module-level statements, looking into `if`/`try`/`with` blocks (TYPE_CHECKING,
    fallbacks), in source order."""
    if not any(type(stmt) in _BLOCK_TYPES for stmt in body):
        return list(body)  # most function bodies: nothing to look into
    out: list[ast.stmt] = []
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        out.append(stmt)
        stack.extend(reversed(_block_statements(stmt)))
    return out


_TRY_TYPES: tuple[type[ast.stmt], ...] = (
    (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
)


# The statements `_block_statements` looks into.
_BLOCK_TYPES: frozenset[type[ast.stmt]] = frozenset({ast.If, ast.With, *_TRY_TYPES})


def _block_statements(stmt: ast.stmt) -> list[ast.stmt]:
    if isinstance(stmt, ast.If):
        return [*stmt.body, *stmt.orelse]
    if isinstance(stmt, _TRY_TYPES):
        handlers: list[ast.excepthandler] = getattr(stmt, "handlers", [])
        body: list[ast.stmt] = getattr(stmt, "body", [])
        rest = [*getattr(stmt, "orelse", []), *getattr(stmt, "finalbody", [])]
        return [
            *body,
            *[s for h in handlers if isinstance(h, ast.ExceptHandler) for s in h.body],
            *rest,
        ]
    if isinstance(stmt, ast.With):
        return list(stmt.body)
    return []


def _collect_definitions(
    module: Module,
    body: list[ast.stmt],
    prefix: str,
    parent: Function | None,
    cls: ClassInfo | None,
    walrus: bool = True,
) -> None:
    for stmt in top_level_statements(body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local = f"{prefix}{stmt.name}"
            fn = Function(
                qualname=f"{module.name}.{local}",
                module=module,
                node=stmt,
                class_qualname=cls.qualname if cls else None,
                parent=parent,
                local_values=_local_bindings(stmt, walrus),
                param_names=frozenset(_param_names(stmt)),
            )
            module.functions[local] = fn
            if cls is not None:
                cls.methods[stmt.name] = fn
            _collect_definitions(module, stmt.body, f"{local}.", fn, None, walrus)
        elif isinstance(stmt, ast.ClassDef):
            local = f"{prefix}{stmt.name}"
            info = ClassInfo(f"{module.name}.{local}", module, stmt, bases=[])
            module.classes[local] = info
            _collect_definitions(module, stmt.body, f"{local}.", parent, info, walrus)
        elif parent is None and cls is None:
            _collect_assignment(module, stmt)


def _collect_assignment(module: Module, stmt: ast.stmt) -> None:
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                module.assignments[target.id] = stmt.value
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        module.annotations[stmt.target.id] = stmt.annotation
        if stmt.value is not None:
            module.assignments[stmt.target.id] = stmt.value
    elif (
        hasattr(ast, "TypeAlias")
        and isinstance(stmt, ast.TypeAlias)  # Python 3.12+
        and isinstance(stmt.name, ast.Name)
    ):
        module.assignments[stmt.name.id] = stmt.value


def _local_bindings(fn: FunctionNode, walrus: bool = True) -> dict[str, ast.expr | None]:
    """A function's simple local bindings: name -> last assigned value, None for names
    bound some other way (loop variables, unpacking, `except ... as e`). Only statements
    are visited, and expressions only when the module has a `:=` (`walrus`)."""
    out: dict[str, ast.expr | None] = {}
    for stmt in statements(fn.body):
        if type(stmt) in _BINDING_STATEMENTS:
            _bind_statement(stmt, out)
    if walrus:
        for node in body_nodes(fn):
            if isinstance(node, ast.NamedExpr):
                out[node.target.id] = node.value
    return out


# The statements `_bind_statement` binds names of (a cheap test before its chain of
# `isinstance`: most statements bind nothing).
_BINDING_STATEMENTS: frozenset[type[ast.stmt]] = frozenset(
    {ast.Assign, ast.AnnAssign, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.Try}
)


def _bind_statement(stmt: ast.stmt, out: dict[str, ast.expr | None]) -> None:
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            _bind_target(target, stmt.value, out)
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        out[stmt.target.id] = stmt.value
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            if item.optional_vars is not None:
                _bind_target(item.optional_vars, item.context_expr, out)
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        _bind_target(stmt.target, None, out, keep=True)
    elif isinstance(stmt, ast.Try):
        for handler in stmt.handlers:
            if handler.name:
                out[handler.name] = None


def _bind_target(
    target: ast.expr, value: ast.expr | None, out: dict[str, ast.expr | None], keep: bool = False
) -> None:
    """`x = v` binds x to v; `a, b = v` and loop variables bind names to unknown values
    (`keep`: an earlier assignment of a loop variable is kept)."""
    if isinstance(target, ast.Name):
        if keep:
            out.setdefault(target.id, value)
        else:
            out[target.id] = value
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _bind_target(element, None, out, keep)
    elif isinstance(target, ast.Starred):
        _bind_target(target.value, None, out, keep)
