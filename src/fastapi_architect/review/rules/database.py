"""FAA4xx: database efficiency. Queries multiplied by loops (N+1) are the most common
reason a FastAPI endpoint that is fast in development is slow in production."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from fastapi_architect.model.astutil import (
    assignment_targets,
    body_nodes,
    child_nodes,
    dotted,
    keyword,
    last_name,
    parameters,
    walk,
    walk_nodes,
)
from fastapi_architect.model.calls import passed_arguments, spreads
from fastapi_architect.model.project import Function, Module
from fastapi_architect.model.types import annotation_type, resolve_callee, unwrap_annotation
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.index import FunctionCache
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._memo import is_memoized
from fastapi_architect.review.rules._orm import (
    LAZY_QUERY_METHODS,
    LOADER_OPTIONS,
    QUERY_METHODS,
    SELECT_FUNCTIONS,
    FunctionFacts,
    OrmModel,
    OrmState,
    db_kind,
    function_query,
    is_test_module,
    lazy_query,
    query_chain,
    session_call,
    state,
)
from fastapi_architect.review.rules.injection import argument_for

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_MAX_DEPTH = 12
_REFERENCES = (
    "https://fastapi.tiangolo.com/tutorial/sql-databases/",
    "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
)

# --------------------------------------------------------------------------- loops


@dataclass(frozen=True)
class _Loop:
    node: ast.AST  # For, AsyncFor, While or a comprehension
    iter: ast.expr | None  # what is iterated (None for `while`)
    target: ast.expr | None


def iteration_loops(stack: list[ast.AST], node: ast.AST) -> Iterator[_Loop]:
    """The loops of the current function around `node`, innermost first, in which `node`
    runs once per iteration (so not in a `for` loop's iterable or `else:`, nor in the
    first iterable of a comprehension, which are evaluated once)."""
    chain = [*stack, node]
    for i in range(len(stack) - 1, -1, -1):
        ancestor, child = chain[i], chain[i + 1]
        if isinstance(ancestor, _SCOPES):
            return
        if isinstance(ancestor, (ast.For, ast.AsyncFor)):
            if any(child is stmt for stmt in ancestor.body):
                yield _Loop(ancestor, ancestor.iter, ancestor.target)
        elif isinstance(ancestor, ast.While):
            if child is ancestor.test or any(child is stmt for stmt in ancestor.body):
                yield _Loop(ancestor, None, None)
        elif isinstance(ancestor, _COMPREHENSIONS):
            first = ancestor.generators[0]
            grandchild = chain[i + 2] if i + 2 < len(chain) else None
            if (
                child is first
                and grandchild is not None
                and (grandchild is first.iter or grandchild is first.target)
            ):
                continue
            yield _Loop(ancestor, first.iter, first.target)


_LOOP_TYPES = frozenset({ast.For, ast.AsyncFor, ast.While, *_COMPREHENSIONS})
_SCOPE_TYPES = frozenset(_SCOPES)


def _inside_loop(stack: list[ast.AST]) -> bool:
    """Is there a loop (or comprehension) among the ancestors of the current function,
    the ones `iteration_loops` looks at? A cheap test for every call of the project
    (parsed trees hold the `ast` classes themselves, never subclasses)."""
    for ancestor in reversed(stack):
        kind = type(ancestor)
        if kind in _LOOP_TYPES:
            return True
        if kind in _SCOPE_TYPES:
            return False
    return False


def _names(target: ast.AST | None) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        out: set[str] = set()
        for element in target.elts:
            out |= _names(element)
        return out
    return set()


def _element_iter(target: ast.expr, iterable: ast.expr, name: str) -> ast.expr | None:
    """The collection whose elements `name` takes: `for a in X` → X,
    `for i, a in enumerate(X)` → X."""
    if isinstance(target, ast.Name):
        return iterable if target.id == name else None
    if (
        isinstance(target, ast.Tuple)
        and len(target.elts) == 2
        and isinstance(target.elts[1], ast.Name)
        and target.elts[1].id == name
        and isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "enumerate"
        and iterable.args
    ):
        return iterable.args[0]
    return None


def loop_binding(stack: list[ast.AST], node: ast.AST, name: str) -> tuple[ast.AST, ast.expr] | None:
    """The loop (or comprehension) that binds `name` where `node` reads it, and the
    collection iterated, when `node` runs once per element."""
    chain = [*stack, node]
    for i in range(len(stack) - 1, -1, -1):
        ancestor, child = chain[i], chain[i + 1]
        if isinstance(ancestor, _SCOPES):
            return None
        if isinstance(ancestor, (ast.For, ast.AsyncFor)) and name in _names(ancestor.target):
            if not any(child is stmt for stmt in ancestor.body):
                return None
            found = _element_iter(ancestor.target, ancestor.iter, name)
            return (ancestor, found) if found is not None else None
        if isinstance(ancestor, _COMPREHENSIONS):
            grandchild = chain[i + 2] if i + 2 < len(chain) else None
            position = next(
                (k for k, g in enumerate(ancestor.generators) if child is g),
                len(ancestor.generators),
            )
            for k in range(len(ancestor.generators) - 1, -1, -1):
                generator = ancestor.generators[k]
                if name not in _names(generator.target):
                    continue
                visible = k < position or (
                    k == position and any(grandchild is cond for cond in generator.ifs)
                )
                if not visible:
                    continue
                found = _element_iter(generator.target, generator.iter, name)
                return (generator, found) if found is not None else None
    return None


def _loop_bindings(stack: list[ast.AST], iterable: ast.expr) -> dict[str, ast.expr]:
    """Names that the loops enclosing `iterable` (within its function) bind, each with
    the collection it iterates; inner loops win. The loop that iterates `iterable`
    itself, and the ones inside it, bind nothing visible there."""
    out: dict[str, ast.expr] = {}
    start = 0
    for i, node in enumerate(stack):
        if isinstance(node, _SCOPES):
            start = i + 1
    for node in stack[start:]:
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, (ast.For, ast.AsyncFor)):
            if node.iter is iterable:
                break
            pairs = [(node.target, node.iter)]
        elif isinstance(node, _COMPREHENSIONS):
            for g in node.generators:
                if g.iter is iterable:
                    break
                pairs.append((g.target, g.iter))
        for target, iterable_ in pairs:
            for name in _names(target):
                found = _element_iter(target, iterable_, name)
                if found is not None:
                    out[name] = found
        if isinstance(node, _COMPREHENSIONS) and any(g.iter is iterable for g in node.generators):
            break
    return out


# --------------------------------------------------------------------------- origins


@dataclass(frozen=True)
class Origin:
    """ORM instances of `model`, loaded by a query whose loader options name the
    relationships in `loaded` (None: options we cannot read, so assume loaded)."""

    model: OrmModel
    loaded: frozenset[str] | None
    is_async: bool


def _merge(origins: list[Origin]) -> Origin | None:
    if not origins or any(o.model is not origins[0].model for o in origins):
        return None
    loaded: frozenset[str] | None = frozenset()
    for origin in origins:
        # Loaded on any path counts as loaded: the finding must hold on every path.
        loaded = None if origin.loaded is None or loaded is None else loaded | origin.loaded
    return Origin(origins[0].model, loaded, any(o.is_async for o in origins))


_ROW_CHANGING = frozenset(
    {
        "with_entities",
        "add_columns",
        "values",
        "value",
        "from_self",
        "with_only_columns",
        "add_column",
        "mappings",
        "tuples",
        "columns",
        "count",
        "exists",
        "subquery",
        "cte",
    }
)
_PASS_THROUGH = frozenset({"all", "unique", "fetchall", "yield_per"})
_SINGLE = frozenset({"first", "one", "one_or_none"})
_SCALAR_SINGLE = frozenset({"scalar_one", "scalar_one_or_none", "scalar"})
_CONTAINERS = frozenset({"list", "sorted", "reversed", "tuple", "set"})


class Origins:
    """Where ORM objects come from inside one function: queries, query results, local
    variables, relationship collections, project functions that return them."""

    def __init__(self, st: OrmState, loops: dict[str, ast.expr], top: Function | None) -> None:
        self.st = st
        # Loop variables of `top`, the function the analysis starts in.
        self.loops = loops
        self.top = top
        self.project = st.project
        self.index = st.index

    # ----------------------------------------------------------- collections

    def collection(
        self, expr: ast.expr, module: Module, fn: Function | None, depth: int = 0
    ) -> Origin | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            found = self.collection(expr.value, module, fn, depth + 1)
            return replace(found, is_async=True) if found else None
        if isinstance(expr, ast.Name):
            return self._local(expr.id, module, fn, depth, self.collection)
        if isinstance(expr, ast.Attribute):
            return self._related(expr, module, fn, depth, collection=True)
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        if isinstance(func, ast.Name) and func.id in _CONTAINERS and expr.args:
            return self.collection(expr.args[0], module, fn, depth + 1)
        if isinstance(func, ast.Attribute):
            chained = self._query_chain(expr, module, fn, depth)
            if chained is not None:
                return chained
            if func.attr in _PASS_THROUGH:
                found = self.collection(func.value, module, fn, depth + 1)
                if found is not None:
                    return found
            if func.attr == "scalars" and not expr.args:
                found = self._rows(func.value, module, fn, depth + 1)
                if found is not None:
                    return found
            hit = session_call(
                self.st, module, expr, fn, frozenset({"scalars", "exec", "stream_scalars"})
            )
            if hit is not None and expr.args:
                return self._statement_origin(expr.args[0], module, fn, depth, hit[1] == "async")
        return self._returned(expr, module, fn, depth, "collection")

    def _rows(
        self, expr: ast.expr, module: Module, fn: Function | None, depth: int
    ) -> Origin | None:
        """A `Result` of `session.execute(select(Model))`: its `.scalars()` are Models."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            found = self._rows(expr.value, module, fn, depth + 1)
            return replace(found, is_async=True) if found else None
        if isinstance(expr, ast.Name):
            return self._local(expr.id, module, fn, depth, self._rows)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            if expr.func.attr == "unique":
                return self._rows(expr.func.value, module, fn, depth + 1)
            hit = session_call(self.st, module, expr, fn, frozenset({"execute", "stream"}))
            if hit is not None and expr.args:
                return self._statement_origin(expr.args[0], module, fn, depth, hit[1] == "async")
        return None

    def _query_chain(
        self, expr: ast.Call, module: Module, fn: Function | None, depth: int
    ) -> Origin | None:
        """Legacy `session.query(Model).filter(...).options(...).all()`."""
        options: list[ast.Call] = []
        node: ast.expr = expr
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            hit = session_call(self.st, module, node, fn, frozenset({"query"}))
            if hit is not None:
                if len(node.args) != 1 or node.keywords:
                    return None
                model = self.index.models.get(self.project.resolve(module, node.args[0], fn) or "")
                if model is None:
                    return None
                return Origin(model, _loaded(options), hit[1] == "async")
            if node.func.attr in _ROW_CHANGING or node.func.attr in _SINGLE:
                return None
            if node.func.attr == "options":
                options.append(node)
            node = node.func.value
        return None

    def _statement_origin(
        self, stmt: ast.expr, module: Module, fn: Function | None, depth: int, is_async: bool
    ) -> Origin | None:
        found = self._statement(stmt, module, fn, depth + 1, set())
        if found is None:
            return None
        model, options = found
        return Origin(model, _loaded(options), is_async)

    def _statement(
        self, stmt: ast.expr, module: Module, fn: Function | None, depth: int, seen: set[str]
    ) -> tuple[OrmModel, list[ast.Call]] | None:
        """`select(Model)...options(...)`, directly or through (re)assigned locals."""
        if depth > _MAX_DEPTH:
            return None
        options: list[ast.Call] = []
        node: ast.expr = stmt
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _ROW_CHANGING:
                return None
            if node.func.attr == "options":
                options.append(node)
            node = node.func.value
        if isinstance(node, ast.Call):
            if self.project.resolve(module, node.func, fn) not in SELECT_FUNCTIONS:
                return None
            if len(node.args) < 1:
                return None
            model = self.index.models.get(self.project.resolve(module, node.args[0], fn) or "")
            return (model, options) if model is not None else None
        if isinstance(node, ast.Name) and fn is not None and node.id not in seen:
            seen.add(node.id)
            facts = self.st.facts_of(fn)
            values = facts.assigns.get(node.id)
            if not values or node.id in facts.params:
                return None
            base: OrmModel | None = None
            for _stmt, value in values:
                if value is None:
                    return None
                part = self._statement(value, module, fn, depth + 1, seen)
                if part is None:
                    if _rooted_at(value, node.id):
                        # `stmt = stmt.where(...)`: its options still count.
                        options.extend(_options_in_chain(value))
                        continue
                    return None
                if base is not None and part[0] is not base:
                    return None
                base = part[0]
                options.extend(part[1])
            return (base, options) if base is not None else None
        return None

    # ----------------------------------------------------------- single objects

    def instance(
        self, expr: ast.expr, module: Module, fn: Function | None, depth: int = 0
    ) -> Origin | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            found = self.instance(expr.value, module, fn, depth + 1)
            return replace(found, is_async=True) if found else None
        if isinstance(expr, ast.Name):
            bound = self.loops.get(expr.id) if fn is self.top else None
            if bound is not None:
                return self.collection(bound, module, fn, depth + 1)
            return self._local(expr.id, module, fn, depth, self.instance)
        if isinstance(expr, ast.Attribute):
            return self._related(expr, module, fn, depth, collection=False)
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        if isinstance(func, ast.Attribute):
            hit = session_call(self.st, module, expr, fn, frozenset({"get", "get_one"}))
            if hit is not None and expr.args:
                model = self.index.models.get(self.project.resolve(module, expr.args[0], fn) or "")
                if model is None:
                    return None
                options = keyword(expr, "options")
                loaded: frozenset[str] | None = frozenset()
                if options is not None:
                    loaded = (
                        _option_names(options.elts)
                        if isinstance(options, (ast.List, ast.Tuple))
                        else None
                    )
                return Origin(model, loaded, hit[1] == "async")
            if func.attr in _SINGLE or func.attr in _SCALAR_SINGLE:
                found = (
                    self._rows(func.value, module, fn, depth + 1)
                    if (func.attr in _SCALAR_SINGLE)
                    else None
                )
                if found is None:
                    found = self.collection(func.value, module, fn, depth + 1)
                if found is not None:
                    return found
            hit = session_call(self.st, module, expr, fn, frozenset({"scalar"}))
            if hit is not None and expr.args:
                return self._statement_origin(expr.args[0], module, fn, depth, hit[1] == "async")
        return self._returned(expr, module, fn, depth, "instance")

    # ----------------------------------------------------------- helpers

    def _related(
        self, expr: ast.Attribute, module: Module, fn: Function | None, depth: int, collection: bool
    ) -> Origin | None:
        """`owner.books` / `book.author`: the related model of a relationship attribute of an
        object we know, a collection (loadable: not `dynamic`/`write_only`) or a single one."""
        owner = self.instance(expr.value, module, fn, depth + 1)
        if owner is None:
            return None
        rel = owner.model.relationships.get(expr.attr)
        if rel is None:
            return None
        if collection:
            if rel.collection is False or rel.lazy in ("dynamic", "write_only"):
                return None
        elif rel.collection is not False:
            return None
        target = self.index.models.get(rel.target or "")
        return Origin(target, owner.loaded, owner.is_async) if target else None

    def _local(
        self,
        name: str,
        module: Module,
        fn: Function | None,
        depth: int,
        analyse: Callable[[ast.expr, Module, Function | None, int], Origin | None],
    ) -> Origin | None:
        if fn is None:
            return None
        facts = self.st.facts_of(fn)
        if name in facts.params or name in facts.loop_targets:
            return None
        values = facts.assigns.get(name)
        if not values:
            return None
        found: list[Origin] = []
        for _stmt, value in values:
            if value is None:
                return None
            origin = analyse(value, module, fn, depth + 1)
            if origin is None:
                return None
            found.append(origin)
        return _merge(found)

    def _returned(
        self, call: ast.Call, module: Module, fn: Function | None, depth: int, kind: str
    ) -> Origin | None:
        """ORM objects returned by a project function or method (one of the layers)."""
        callee_name = resolve_callee(self.project, module, call.func, fn)
        callee = self.project.function(callee_name)
        if callee is None or callee is fn:
            return None
        key = (f"returned-{kind}", id(callee.node))
        if key in self.st.memo:
            cached = self.st.memo[key]
            return cached if isinstance(cached, Origin) else None
        self.st.memo[key] = None  # recursion guard
        inner = Origins(self.st, {}, None)
        origins: list[Origin] = []
        complete = True
        for node in body_nodes(callee.node):
            if isinstance(node, (ast.Yield, ast.YieldFrom)):
                complete = False
                origins = []
                break
            if not isinstance(node, ast.Return) or node.value is None:
                continue
            value = node.value
            if _trivial(value):
                continue
            analyse = inner.collection if kind == "collection" else inner.instance
            # A fresh depth budget per function: results are memoized per callee, so
            # they must not depend on how deep the caller was (cycles hit the guard).
            origin = analyse(value, callee.module, callee, 0)
            if origin is None:
                complete = False
            else:
                origins.append(origin)
        result = _merge(origins) if complete else None
        if result is None and not complete:
            result = self._annotated(callee, kind)
        if result is not None and callee.is_async:
            result = replace(result, is_async=True)
        self.st.memo[key] = result
        return result

    def _annotated(self, callee: Function, kind: str) -> Origin | None:
        """Fallback on the return annotation (`-> list[Author]`), trusted only when the
        function itself queries and names no loader option anywhere."""
        base, _, base_module = unwrap_annotation(self.project, callee.module, callee.node.returns)
        if base is None:
            return None
        if kind == "collection":
            if not isinstance(base, ast.Subscript):
                return None
            origin = annotation_type(self.project, base_module, base.value) or ""
            if last_name(origin) not in (
                "list",
                "List",
                "Sequence",
                "Iterable",
                "set",
                "Set",
                "tuple",
                "Tuple",
                "Collection",
            ):
                return None
            elements = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
            element = annotation_type(self.project, base_module, elements[0])
        else:
            element = annotation_type(self.project, base_module, base)
        model = self.index.models.get(element or "")
        if model is None:
            return None
        query = function_query(self.st, callee)
        if query is None or _mentions_loader(callee):
            return None
        return Origin(model, frozenset(), callee.is_async)


def _trivial(value: ast.expr) -> bool:
    # `return None`, `return []`: early exits that return no ORM object.
    if isinstance(value, ast.Constant) and value.value is None:
        return True
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return not value.elts
    return isinstance(value, ast.Dict) and not value.keys


def _rooted_at(expr: ast.expr, name: str) -> bool:
    node = expr
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    return isinstance(node, ast.Name) and node.id == name


def _options_in_chain(expr: ast.expr) -> list[ast.Call]:
    out: list[ast.Call] = []
    node = expr
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "options":
            out.append(node)
        node = node.func.value
    return out


_OTHER_OPTIONS = frozenset(
    {
        "lazyload",
        "load_only",
        "defer",
        "undefer",
        "undefer_group",
        "with_expression",
        "with_loader_criteria",
        "Load",
        "raiseload",
    }
)


def _loaded(options: list[ast.Call]) -> frozenset[str] | None:
    args: list[ast.expr] = []
    for call in options:
        if call.keywords:
            return None
        args.extend(call.args)
    return _option_names(args)


def _option_names(args: list[ast.expr]) -> frozenset[str] | None:
    """The relationship names loader options load (or make raise); None when an option
    cannot be read (`*opts`, a variable, `selectinload("*")`)."""
    names: set[str] = set()
    for arg in args:
        if isinstance(arg, ast.Starred):
            return None
        known = False
        for node in walk(arg):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            callee = (
                func.attr
                if isinstance(func, ast.Attribute)
                else (func.id if isinstance(func, ast.Name) else "")
            )
            if callee in _OTHER_OPTIONS:
                known = True
            if callee not in LOADER_OPTIONS:
                continue
            known = True
            for target in node.args:
                name = _attribute_name(target)
                if name is None or name == "*":
                    return None
                names.add(name)
        if not known:
            return None
    return frozenset(names)


def _attribute_name(expr: ast.expr) -> str | None:
    # `Author.books`, `"books"`, `Author.books.and_(...)`, `Author.books.of_type(X)`
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        expr = expr.func.value
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value.rsplit(".", 1)[-1]
    return None


def _mentions_loader(fn: Function) -> bool:
    for node in body_nodes(fn.node):
        if isinstance(node, ast.Attribute) and node.attr == "options":
            return True
        if isinstance(node, ast.Name) and node.id in LOADER_OPTIONS:
            return True
        if isinstance(node, ast.keyword) and node.arg == "options":
            return True
    return False


# --------------------------------------------------------------------------- FAA401


@rule(
    code="FAA401",
    name="orm-lazy-load-in-loop",
    summary="A relationship is lazy-loaded once per row in a loop over query results (N+1)",
    severity="warning",
    nodes=(ast.Attribute,),
    fix_title="Eager-load the relationship with `selectinload()` in the query",
    references=_REFERENCES,
)
def orm_lazy_load_in_loop(node: ast.Attribute, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds a loop (or comprehension) over ORM objects loaded by a query that reads a
    `relationship()` attribute of each object, when the query has no loader option for
    it (`selectinload`, `joinedload`, `subqueryload`, `contains_eager`, `raiseload`)
    and the relationship is not eager by itself (`lazy="selectin"`, `"joined"`,
    `"subquery"`, `"immediate"`, also through SQLModel's `sa_relationship_kwargs`).

    The query is followed through local variables (`result = await db.execute(stmt)`,
    `for a in result.scalars()`), statements built in several steps
    (`stmt = stmt.options(...)`), legacy `db.query(Model)` chains, project functions and
    methods of the service or repository layer that return the objects, and nested
    loops over relationship collections (`for b in author.books: b.publisher`).

    ## Why is this bad?
    A lazy relationship emits one `SELECT` the first time it is read on each object, so
    a list endpoint returning 100 authors with their books runs 101 queries. The cost
    grows with the page size and the latency of the database. With `AsyncSession` lazy
    loading is not even possible: the attribute access raises `MissingGreenlet`.

    ## Known problems
    Only relationships of a model the loop variable is known to be are checked, and
    only when the loading query is visible in the project, so objects passed in as
    parameters are not followed. Loader options are matched by relationship name, so
    an option for a same-named relationship of another model hides a finding.
    Relationships read implicitly by a Pydantic `model_validate(obj)` are not seen.
    `lazy="dynamic"`/`"write_only"` relationships (query objects) and test modules
    are not reported.

    ## Example
    ```python
    @router.get("/authors", response_model=list[AuthorWithBooks])
    def list_authors(db: SessionDep) -> list[AuthorWithBooks]:
        authors = db.scalars(select(Author)).all()
        return [
            AuthorWithBooks(name=a.name, books=[b.title for b in a.books])
            for a in authors
        ]
    ```

    ## Use instead
    ```python
        authors = db.scalars(select(Author).options(selectinload(Author.books))).all()
    ```
    or declare the relationship eager: `relationship(lazy="selectin")`.

    ## Fix safety
    There is no automatic fix: the right loader (`selectinload` for collections,
    `joinedload` for many-to-one) depends on the data.
    """
    if not isinstance(node.ctx, ast.Load) or not isinstance(node.value, ast.Name):
        return
    st = state(ctx.model)
    if node.attr not in st.index.relationship_names or is_test_module(ctx.module):
        return
    name = node.value.id
    binding = loop_binding(ctx.stack, node, name)
    if binding is None:
        return
    loop, iterable = binding
    fn = ctx.function()
    key = ("FAA401-origin", id(iterable))
    if key in st.memo:
        origin = st.memo[key]
    else:
        origins = Origins(st, _loop_bindings(ctx.stack, iterable), fn)
        origin = origins.collection(iterable, ctx.module, fn)
        st.memo[key] = origin
    if not isinstance(origin, Origin):
        return
    rel = origin.model.relationships.get(node.attr)
    if rel is None or not rel.lazy_loads:
        return
    if origin.loaded is None or node.attr in origin.loaded:
        return
    seen = ("FAA401", id(loop), name, node.attr)
    if seen in st.reported:
        return
    st.reported.add(seen)
    owner = st.index.models.get(rel.owner)
    where = ast.unparse(iterable)
    where = where if len(where) <= 40 else where[:37] + "..."
    message = (
        f"`{name}.{node.attr}` lazy-loads `{owner.name if owner else origin.model.name}."
        f"{node.attr}` once per item of `{where}` (N+1 queries)"
    )
    if origin.is_async:
        message += "; with `AsyncSession` it raises `MissingGreenlet`"
        yield Report(node, message, severity="error")
        return
    yield Report(node, message)


# --------------------------------------------------------------------------- FAA402


def _lazy(
    st: OrmState, fn: Function | None, call: ast.Call, parent_of: Callable[[int], ast.AST | None]
) -> bool:
    """A `session.query(...)` that never runs by itself: its chain ends in `.subquery()`
    and friends, or it is bound to a local whose every use does
    (`q = session.query(Tag.id).filter(...)` then `filters.append(q.exists())`)."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "query"):
        return False
    if lazy_query(call, parent_of):
        return True
    top, _last = query_chain(call, parent_of)
    assign = parent_of(id(top))
    if fn is None or not (
        isinstance(assign, ast.Assign)
        and len(assign.targets) == 1
        and isinstance(assign.targets[0], ast.Name)
    ):
        return False
    name = assign.targets[0].id
    key = ("FAA402-lazy-local", id(assign))
    if key not in st.memo:
        loads = 0
        lazy_uses = 0
        for node in body_nodes(fn.node):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                loads += 1
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == name
                and node.attr in LAZY_QUERY_METHODS
            ):
                lazy_uses += 1
        st.memo[key] = loads > 0 and loads == lazy_uses
    return bool(st.memo[key])


def _stack_parent(stack: list[ast.AST]) -> Callable[[int], ast.AST | None]:
    """Parent lookup (by node id) over the engine's ancestor stack (outermost first).
    Its table is built at the first lookup: most calls in a loop never ask."""
    position: dict[int, int] = {}

    def parent_of(node_id: int) -> ast.AST | None:
        if not stack:
            return None
        if not position:
            position.update((id(node), i) for i, node in enumerate(stack))
        i = position.get(node_id)
        if i is None:
            return stack[-1]  # the node being checked: its parent is the innermost ancestor
        return stack[i - 1] if i > 0 else None

    return parent_of


@dataclass(frozen=True)
class _Tree:
    """A function's whole tree, nested functions included: the parent of each node
    (by node id) and the reads of each name."""

    parents: dict[int, ast.AST]
    loads: dict[str, list[ast.Name]]


_TREES: FunctionCache[_Tree] = FunctionCache()


def _tree(st: OrmState, fn: Function) -> _Tree:
    """Built once per function: several reads of one helper are checked against it."""

    def compute() -> _Tree:
        parents: dict[int, ast.AST] = {}
        loads: dict[str, list[ast.Name]] = {}
        for node in walk(fn.node):
            for child in child_nodes(node):
                parents[id(child)] = node
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                loads.setdefault(node.id, []).append(node)
        return _Tree(parents, loads)

    return _TREES.get(st.model, fn, compute)


_BATCH_NAME = re.compile(r"^_*(attempts?|retry|retries|tries|try_|batch\w*|chunk\w*|page\w*)$")
_BATCH_WORDS = frozenset({"batch", "chunk", "page", "partition"})
_BATCH_CALL = re.compile(r"(batch|chunk|partition|page|slice|window|grouper)", re.IGNORECASE)
_BOUNDED_ITERATORS = frozenset({"itertools.count", "itertools.repeat", "itertools.cycle"})


def _fixed_collection(expr: ast.expr) -> bool:
    """A literal tuple/list/set written out element by element: a handful of items."""
    return isinstance(expr, (ast.Tuple, ast.List, ast.Set)) and not any(
        isinstance(e, ast.Starred) for e in expr.elts
    )


_CASTS = frozenset({"typing.cast", "typing_extensions.cast"})


def _uncast(ctx: FileContext, expr: ast.expr) -> ast.expr:
    """`cast(list[Block], [Webhook, Secret])` is its second argument at run time."""
    while (
        isinstance(expr, ast.Call)
        and len(expr.args) == 2
        and not expr.keywords
        and (ctx.resolve(expr.func) or "") in _CASTS
    ):
        expr = expr.args[1]
    return expr


_SINGLE_ADDS = frozenset({"add", "append", "appendleft", "insert"})


def _grown_by_hand(st: OrmState, fn: Function, name: str, passed: ast.AST | None = None) -> bool:
    """Is the local `name` only returned, compared, and grown one item at a time outside
    any loop (`names.add(alias)` under an `if`)? Passed anywhere else (but as `passed`,
    the use in question), it could grow without bound."""
    tree = _tree(st, fn)
    parents = tree.parents
    for node in tree.loads.get(name, []):
        if node is passed:
            continue
        parent = parents.get(id(node))
        if isinstance(parent, (ast.Return, ast.Compare)):
            continue
        call = parents.get(id(parent))
        if not (
            isinstance(parent, ast.Attribute)
            and parent.attr in _SINGLE_ADDS
            and isinstance(call, ast.Call)
            and call.func is parent
            and not any(isinstance(a, ast.Starred) for a in call.args)
        ):
            return False
        up: ast.AST | None = call
        while up is not None and up is not fn.node:
            if isinstance(up, (ast.For, ast.AsyncFor, ast.While, *_COMPREHENSIONS, *_SCOPES)):
                return False
            up = parents.get(id(up))
    return True


def _fixed_return(st: OrmState, fn: Function) -> bool:
    """Does `fn` return a handful of items: a literal collection written out element by
    element, or a local bound only to one and grown only by single-item `add`/`append`
    calls outside any loop (`names = {name}`, then `if alias: names.add(alias)`)?"""
    key = ("FAA402-fixed-return", id(fn.node))
    if key not in st.memo:
        facts = st.facts_of(fn)
        values = [n.value for n in body_nodes(fn.node) if isinstance(n, ast.Return)]

        def fixed(value: ast.expr | None) -> bool:
            if value is None:
                return False
            if _fixed_collection(value):
                return True
            if not isinstance(value, ast.Name) or value.id in facts.params:
                return False
            bindings = facts.assigns.get(value.id, [])
            return (
                bool(bindings)
                and all(v is not None and _fixed_collection(v) for _n, v in bindings)
                and _grown_by_hand(st, fn, value.id)
            )

        st.memo[key] = bool(values) and all(fixed(v) for v in values)
    return bool(st.memo[key])


def _fixed(ctx: FileContext, fn: Function | None, expr: ast.expr) -> bool:
    """A literal collection (seen through `typing.cast` by the caller, `_uncast`), or a
    call to a project helper that returns one (`for name in resolve_names(name)`)."""
    if isinstance(expr, ast.Await):
        expr = expr.value
    if _fixed_collection(expr):
        return True
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, (ast.Name, ast.Attribute))):
        return False
    st = state(ctx.model)
    callee = st.project.function(resolve_callee(st.project, ctx.module, expr.func, fn))
    return callee is not None and callee is not fn and _fixed_return(st, callee)


def collection_loop(loop: _Loop, ctx: FileContext, call: ast.Call) -> bool:
    """Is this a loop over a collection of data (so a query in it runs N times)?

    Not: `while` loops (pagination, polling, retries), `range()` loops other than
    `range(len(x))` (retries, fixed pages), tenacity retry loops, fixed literal
    collections, also through `typing.cast` and locals bound only to them, and
    module-level constants (`for role in DEFAULT_ROLES`), batches and
    chunks (the query in them is the batch load), and loops whose query filters on the
    loop variable with `in_()` (also in a statement first bound to a local in the loop
    body: `stmt = stmt.where(pid.in_(ids))`).
    """
    iterable = loop.iter
    if iterable is None:
        return False
    targets = _names(loop.target)
    if any(_BATCH_NAME.match(t) or _BATCH_WORDS & set(t.lower().split("_")) for t in targets):
        return False  # `for metric_key_batch in batches`: one query per batch is the fix
    iterable = _uncast(ctx, iterable)
    fn = ctx.function()
    if _fixed(ctx, fn, iterable):
        return False
    if isinstance(iterable, ast.Name) and fn is not None:
        bindings = state(ctx.model).facts_of(fn).assigns.get(iterable.id, [])
        if bindings and all(
            v is not None and _fixed(ctx, fn, _uncast(ctx, v)) for _n, v in bindings
        ):
            return False  # `statuses = ["paid", "shipped"]`, `cast(list[T], [A, B])`
    if isinstance(iterable, ast.Call):
        callee = ctx.resolve(iterable.func) or ""
        if callee == "range":
            # `range(len(ids))` walks a collection by index; a step means pages.
            return len(iterable.args) < 3 and any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len"
                for a in iterable.args
                for n in walk(a)
            )
        if callee.startswith(("tenacity.", "stamina.")) or callee in _BOUNDED_ITERATORS:
            return False
        if _BATCH_CALL.search(last_name(callee)):
            return False
    root: ast.expr = iterable
    while True:
        if isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        elif (
            # `DEFAULTS.items()`: the entries of a module-level constant
            isinstance(root, ast.Call)
            and isinstance(root.func, ast.Attribute)
            and root.func.attr in ("items", "keys", "values")
            and not root.args
        ):
            root = root.func.value
        else:
            break
    if isinstance(root, ast.Name) and _module_level(ctx, root.id, fn):
        return False
    for expr in _statement_parts(ctx, fn, loop, call):
        for node in walk(expr):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "in_"
                and any(
                    isinstance(n, ast.Name) and n.id in targets for a in node.args for n in walk(a)
                )
            ):
                return False
    return True


def _statement_parts(
    ctx: FileContext, fn: Function | None, loop: _Loop, call: ast.expr
) -> Iterator[ast.expr]:
    """The query call (or any expression), then the values that the locals it reads are
    bound to inside the loop (`stmt = base.where(pid.in_(ids))`; `stmt =
    stmt.group_by(pid)`), transitively: the statement built in a local before it is
    sent."""
    yield call
    if fn is None:
        return
    inside = {id(n) for n in walk(loop.node)}
    assigns = state(ctx.model).facts_of(fn).assigns
    seen: set[str] = set()
    pending = [n.id for n in walk(call) if isinstance(n, ast.Name)]
    while pending and len(seen) < _MAX_DEPTH:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for node, value in assigns.get(name, []):
            if value is None or id(node) not in inside:
                continue
            yield value
            pending.extend(n.id for n in walk(value) if isinstance(n, ast.Name))


def _with_bindings(facts: FunctionFacts, roots: list[ast.expr]) -> Iterator[ast.expr]:
    """`roots`, then the values of the locals they read, transitively (a bounded number
    of names): the statement, or the list, a function builds in locals."""
    pending = list(roots)
    seen: set[str] = set()
    while pending:
        expr = pending.pop()
        yield expr
        for node in walk(expr):
            if (
                isinstance(node, ast.Name)
                and node.id in facts.assigns
                and node.id not in seen
                and len(seen) < _MAX_DEPTH
            ):
                seen.add(node.id)
                pending.extend(v for _n, v in facts.assigns[node.id] if v is not None)


_CONVERSIONS = frozenset({"list", "tuple", "set", "frozenset", "sorted"})
_VIEWS = frozenset({"keys", "values"})


def _in_sources(facts: FunctionFacts, expr: ast.expr, seen: set[str]) -> Iterator[str]:
    """The parameters that are the collection `expr` itself: named, read through
    locals, attributes (`filters.ids`), slices, comprehensions' iterables, `*` items,
    plain conversions (`sorted(ids)`) and `.keys()`/`.values()`. Not a parameter used
    inside another call (a subquery's `WHERE`) or as one item of a literal list."""
    if isinstance(expr, (ast.Await, ast.Starred)):
        yield from _in_sources(facts, expr.value, seen)
    elif isinstance(expr, ast.Name):
        if expr.id in facts.params:
            yield expr.id
        elif expr.id in facts.assigns and expr.id not in seen and len(seen) < _MAX_DEPTH:
            seen.add(expr.id)
            for _node, value in facts.assigns[expr.id]:
                if value is not None:
                    yield from _in_sources(facts, value, seen)
    elif isinstance(expr, ast.Attribute) or (
        isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice)
    ):
        yield from _in_sources(facts, expr.value, seen)
    elif isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        for generator in expr.generators:
            yield from _in_sources(facts, generator.iter, seen)
    elif isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        for element in expr.elts:
            if isinstance(element, ast.Starred):
                yield from _in_sources(facts, element.value, seen)
    elif isinstance(expr, (ast.BoolOp, ast.IfExp)):
        parts = expr.values if isinstance(expr, ast.BoolOp) else [expr.body, expr.orelse]
        for part in parts:
            yield from _in_sources(facts, part, seen)
    elif isinstance(expr, ast.Call) and len(expr.args) == 1 and not expr.keywords:
        if isinstance(expr.func, ast.Name) and expr.func.id in _CONVERSIONS:
            yield from _in_sources(facts, expr.args[0], seen)
    elif (
        isinstance(expr, ast.Call)
        and not expr.args
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in _VIEWS
    ):
        yield from _in_sources(facts, expr.func.value, seen)


def in_parameters(st: OrmState, fn: Function, query: ast.Call) -> frozenset[str]:
    """The parameters of `fn` that its `query` filters on with `in_()`
    (`where(col(T.id).in_(ids))`), also through the locals the statement or the list
    is built in (`_in_sources`). Not those only in a list written out item by item
    (`in_([f"k:{event.id}", f"k:{event.id}:{event.attempt}"])`): a handful of
    spellings of one item, not a group; nor one inside a subquery (`in_(select(O.id)
    .where(O.id == owner_id))`), one item that selects a group."""
    key = ("FAA402-in-params", id(query))
    if key not in st.memo:
        facts = st.facts_of(fn)
        found: set[str] = set()
        for part in _with_bindings(facts, [query]):
            for node in walk(part):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "in_"
                ):
                    for arg in node.args:
                        found.update(_in_sources(facts, arg, set()))
        st.memo[key] = frozenset(found)
    found_names = st.memo[key]
    return found_names if isinstance(found_names, frozenset) else frozenset()


def _fixed_argument(st: OrmState, caller: Function | None, value: ast.expr) -> bool:
    """A literal collection written out item by item, in the call (`load(db,
    [item.id])`) or in a local bound only to such literals and grown, if at all, by
    single adds outside loops (`ids = [item.id]`, then `load(db, ids)`)."""
    if _fixed_collection(value):
        return True
    if caller is None or not isinstance(value, ast.Name):
        return False
    facts = st.facts_of(caller)
    if value.id in facts.params or value.id in facts.loop_targets:
        return False
    bindings = facts.assigns.get(value.id, [])
    return (
        bool(bindings)
        and all(v is not None and _fixed_collection(v) for _n, v in bindings)
        and _grown_by_hand(st, caller, value.id, passed=value)
    )


def _batch_arguments(
    st: OrmState, caller: Function | None, callee: Function, query: ast.Call, call: ast.Call
) -> list[ast.expr]:
    """What `call` (in `caller`) passes for the parameters that the helper's `query`
    filters on with `in_()`: a collection per call, so one batched query each. A
    literal list written out item by item (`load(db, [item.id])`, also through a local:
    `_fixed_argument`) is a batch of one and does not count."""
    out: list[ast.expr] = []
    for name in sorted(in_parameters(st, callee, query)):
        value = argument_for(callee, call, name)
        if value is not None and not _fixed_argument(st, caller, value):
            out.append(value)
    return out


def _batched_per_item(
    ctx: FileContext, fn: Function | None, loop: _Loop, batches: list[ast.expr]
) -> bool:
    """Is one of `batches` (see `_batch_arguments`) built from the loop variable, also
    through a local bound in the loop body (`ids = [t.id for t in groups[g]]`)? The
    helper then runs one `in_()` query per group, the batched form of the fix."""
    targets = _names(loop.target)
    return any(
        isinstance(n, ast.Name) and n.id in targets
        for batch in batches
        for part in _statement_parts(ctx, fn, loop, batch)
        for n in walk(part)
    )


def _module_level(ctx: FileContext, name: str, fn: Function | None) -> bool:
    scope = fn
    while scope is not None:
        if scope.binds(name):
            return False
        scope = scope.parent
    module = ctx.module
    return (
        name in module.assignments
        or name in module.imports
        or name in module.classes
        or name in module.annotations
    )


_ADVISORY_LOCK = re.compile(r"\bpg_(try_)?advisory_(xact_)?lock(_shared)?\s*\(", re.IGNORECASE)


def _advisory_lock(call: ast.Call) -> bool:
    """`session.execute(text("SELECT pg_advisory_xact_lock(:key)"), ...)`: takes a
    lock, one per key by design, so it is not a query to batch."""
    if not call.args:
        return False
    sql = call.args[0]
    if isinstance(sql, ast.Call) and last_name(ast.unparse(sql.func)) == "text" and sql.args:
        sql = sql.args[0]
    return (
        isinstance(sql, ast.Constant)
        and isinstance(sql.value, str)
        and _ADVISORY_LOCK.search(sql.value) is not None
    )


# Statement constructors that write (`insert(T)`, `db.queries.insert(T)`, `sa.delete(T)`),
# legacy query chains that write (`session.query(T).filter(...).delete()`), session
# methods that write, and the first word of raw SQL that writes or signals.
_WRITE_CONSTRUCTORS = frozenset({"insert", "update", "delete", "upsert", "merge"})
_QUERY_WRITES = frozenset({"delete", "update"})
# The first word of a statement builder's name that says it writes (`insert_on_conflict`).
_WRITE_BUILDERS = frozenset({"insert", "update", "delete", "upsert"})
_SESSION_WRITES = frozenset(
    {
        "add",
        "add_all",
        "delete",
        "merge",
        "flush",
        "commit",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
        "execute_many",
    }
)
# Session methods that write the ORM object they are handed, and those that send the
# pending writes to the database.
_ROW_WRITES = frozenset({"add", "delete", "merge"})
_SENDS = frozenset({"commit", "flush"})
_WRITE_SQL = re.compile(
    r"^\s*(insert|update|delete|merge|replace|upsert|notify|truncate)\b", re.IGNORECASE
)
# Schema statements (DDL): no rows are read, one per item is a migration step.
_SCHEMA_SQL = re.compile(r"^\s*(create|alter|drop)\b", re.IGNORECASE)
# The first word of a project call that hands the session to a command.
_COMMAND_VERBS = frozenset(
    {
        "add",
        "clear",
        "create",
        "delete",
        "destroy",
        "insert",
        "mark",
        "patch",
        "purge",
        "put",
        "remove",
        "reset",
        "save",
        "set",
        "store",
        "update",
        "upsert",
        "write",
    }
)


def _sql_text(expr: ast.expr) -> str | None:
    """The leading literal of a `text("...")` statement or of a raw SQL string."""
    if isinstance(expr, ast.Call) and last_name(ast.unparse(expr.func)) == "text" and expr.args:
        expr = expr.args[0]
    if isinstance(expr, ast.JoinedStr) and expr.values:
        expr = expr.values[0]
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def _chained_on(expr: ast.expr | None, name: str) -> bool:
    """`stmt.where(...)`, `stmt.values(...).returning(...)`: a method chain on `name`."""
    if not isinstance(expr, ast.Call):
        return False
    root: ast.expr = expr
    while isinstance(root, ast.Call) and isinstance(root.func, ast.Attribute):
        root = root.func.value
    return isinstance(root, ast.Name) and root.id == name


def _write_statement(
    st: OrmState, fn: Function | None, expr: ast.expr, depth: int = 0, *, schema: bool = False
) -> bool:
    """Is `expr` an INSERT/UPDATE/DELETE (or upsert) statement: a chain built on a write
    constructor (`insert(T).values(...).on_conflict_do_update(...)`), raw SQL that
    writes (`text("DELETE FROM ...")`, `NOTIFY`) or changes the schema (`CREATE`,
    `ALTER`, `DROP`: no rows are read), or a local bound only to those and to
    chains on itself (`if override: stmt = stmt.on_conflict_do_update(...)`: refining a
    write statement keeps it a write), or what a project helper returns on every path
    (`_operation_sql(db, op)` returning `f"CREATE TABLE ..."` or `f"ALTER TABLE ..."`,
    also through further such helpers)? A parameter of `fn` is none of these, whatever
    `fn` binds it to on some path (`if sql is None: sql = text("UPDATE ...")`): the
    caller may pass a `SELECT`. Schema statements count only with `schema`: for the
    statement a loop sends itself, not as a write that a read guards or precedes."""
    if isinstance(expr, ast.Await):
        expr = expr.value
    if isinstance(expr, ast.Name):
        if fn is None or depth > 2 or any(p.arg == expr.id for p, _ in parameters(fn.node)):
            return False
        bindings = [
            value
            for _node, value in st.facts_of(fn).assigns.get(expr.id, [])
            if not _chained_on(value, expr.id)
        ]
        return bool(bindings) and all(
            value is not None and _write_statement(st, fn, value, depth + 1, schema=schema)
            for value in bindings
        )
    sql = _sql_text(expr)
    if sql is not None:
        return _WRITE_SQL.match(sql) is not None or (schema and _SCHEMA_SQL.match(sql) is not None)
    root: ast.expr = expr
    while (
        isinstance(root, ast.Call)
        and isinstance(root.func, ast.Attribute)
        and isinstance(root.func.value, ast.Call)
    ):
        root = root.func.value
    if not isinstance(root, ast.Call):
        return False
    name = last_name(ast.unparse(root.func))
    # A project's own builder named for the write (`insert_on_conflict(values, table=T)`).
    if name in _WRITE_CONSTRUCTORS or name.lstrip("_").split("_")[0] in _WRITE_BUILDERS:
        return True
    return root is expr and _returns_write(st, fn, expr, depth, schema)


def _returns_write(
    st: OrmState, fn: Function | None, call: ast.Call, depth: int, schema: bool
) -> bool:
    """Is `call` a call to a project function every `return` of which gives a statement
    that writes or changes the schema (`_write_statement`)? A helper returning a
    `SELECT` on any path is a read."""
    if fn is None or depth > 3 or not isinstance(call.func, (ast.Name, ast.Attribute)):
        return False
    callee = st.project.function(resolve_callee(st.project, fn.module, call.func, fn))
    if callee is None or callee is fn:
        return False
    key = (f"FAA402-returns-write-{depth}-{schema}", id(callee.node))
    if key not in st.memo:
        returns = [n.value for n in body_nodes(callee.node) if isinstance(n, ast.Return)]
        st.memo[key] = bool(returns) and all(
            value is not None and _write_statement(st, callee, value, depth + 1, schema=schema)
            for value in returns
        )
    return bool(st.memo[key])


def _statement_of(call: ast.Call) -> ast.expr | None:
    return call.args[0] if call.args else keyword(call, "statement")


def sends_write(st: OrmState, fn: Function | None, call: ast.Call) -> bool:
    """Does this session call send a statement that writes (`_write_statement`):
    `session.execute(insert(T).values(rows).returning(T.id))`, also through a local?"""
    statement = _statement_of(call)
    return statement is not None and _write_statement(st, fn, statement)


def _writing_query(
    st: OrmState,
    fn: Function | None,
    call: ast.Call,
    parent_of: Callable[[int], ast.AST | None],
    *,
    schema: bool = False,
) -> bool:
    """A session "query" call that writes: `session.execute(insert(T)...)` (also
    through a local), `session.scalar(update(T)...returning(...))`, raw SQL that
    writes, or a legacy `session.query(T).filter(...).delete()`/`.update({...})`; with
    `schema`, also one that changes the schema (`_write_statement`)."""
    if isinstance(call.func, ast.Attribute) and call.func.attr == "query":
        return query_chain(call, parent_of)[1] in _QUERY_WRITES
    statement = _statement_of(call)
    return statement is not None and _write_statement(st, fn, statement, schema=schema)


def _session_argument(st: OrmState, fn: Function, call: ast.Call) -> bool:
    return any(
        isinstance(arg, (ast.Name, ast.Attribute)) and db_kind(st, fn.module, arg, fn) is not None
        for arg in (*call.args, *(kw.value for kw in call.keywords))
    )


def _write_call(st: OrmState, fn: Function, call: ast.Call) -> bool:
    """A write that is not a query: `session.add/delete/merge/flush/commit(...)`, or a
    command the session is handed to (`dag.clear(run_id=..., session=session)`,
    `crud.delete_note(db, note_id)`)."""
    if session_call(st, fn.module, call, fn, _SESSION_WRITES) is not None:
        return True
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    verb = name.lstrip("_").split("_", 1)[0].lower()
    return verb in _COMMAND_VERBS and _session_argument(st, fn, call)


def _writing_helper(st: OrmState, fn: Function, call: ast.Call) -> bool:
    """Is `call` a call to a project function whose own body writes (a session write,
    a statement that writes, a command handed the session), such as a helper that
    opens its own session (`set_failed(job_id)` running `session.query(T).filter(...)
    .update(...)` and `commit()`)? One hop: a write two calls away is not looked for."""
    key = ("FAA402-writing-call", id(call))
    if key not in st.memo:
        callee = (
            st.project.function(resolve_callee(st.project, fn.module, call.func, fn))
            if isinstance(call.func, (ast.Name, ast.Attribute))
            else None
        )
        st.memo[key] = callee is not None and callee is not fn and _writes_itself(st, callee)
    return bool(st.memo[key])


@dataclass(frozen=True)
class _Schema:
    objects: frozenset[str]  # the models and module-level tables named
    keys: frozenset[str]  # the columns compared (`T.c.job_id == key`), but a bare `id`


_EMPTY_SCHEMA = _Schema(frozenset(), frozenset())


def _schema_of(st: OrmState, fn: Function, roots: list[ast.expr]) -> _Schema:
    """The ORM models and module-level tables that `roots` (and the locals they read)
    name, and the columns they compare."""
    objects: set[str] = set()
    keys: set[str] = set()
    for part in _with_bindings(st.facts_of(fn), roots):
        for node in walk(part):
            if isinstance(node, ast.Name):
                qualname = st.project.resolve(fn.module, node, fn)
                if qualname is not None and _schema_object(st, qualname):
                    objects.add(qualname)
            elif isinstance(node, ast.Compare):
                keys.update(
                    side.attr
                    for side in (node.left, *node.comparators)
                    if isinstance(side, ast.Attribute) and side.attr not in ("id", "pk")
                )
    return _Schema(frozenset(objects), frozenset(keys))


def _schema_object(st: OrmState, qualname: str) -> bool:
    """An ORM model class, or a module-level Core table (`jobs = Table("jobs", ...)`)."""
    if st.index.model(qualname) is not None:
        return True
    module_name, _dot, name = qualname.rpartition(".")
    module = st.project.modules.get(module_name)
    value = module.assignments.get(name) if module is not None else None
    return isinstance(value, ast.Call) and last_name(ast.unparse(value.func)) == "Table"


def _call_roots(st: OrmState, fn: Function, call: ast.Call) -> list[ast.expr]:
    """What a session call works on: its arguments, and for a legacy `session.query(T)`
    the chain of methods called on it (`.filter(...)`); not the session."""
    roots: list[ast.expr] = [*call.args, *(kw.value for kw in call.keywords)]
    if isinstance(call.func, ast.Attribute) and call.func.attr == "query":
        chain = query_chain(call, _tree(st, fn).parents.get)[0]
        if isinstance(chain, ast.expr) and chain is not call:
            roots.extend(a for c in walk(chain) if isinstance(c, ast.Call) for a in c.args)
    return roots


def _read_schema(st: OrmState, fn: Function, check: ast.Call) -> _Schema:
    """What a read selects: the session query `check` itself, or the first query of the
    project helper it calls (`get_state(job_id)`)."""
    if session_call(st, fn.module, check, fn, QUERY_METHODS) is not None:
        return _schema_of(st, fn, _call_roots(st, fn, check))
    if not isinstance(check.func, (ast.Name, ast.Attribute)):
        return _EMPTY_SCHEMA
    callee = st.project.function(resolve_callee(st.project, fn.module, check.func, fn))
    query = function_query(st, callee) if callee is not None else None
    if callee is None or query is None:
        return _EMPTY_SCHEMA
    return _schema_of(st, callee, _call_roots(st, callee, query[0]))


def _written_schema(st: OrmState, fn: Function) -> _Schema:
    """What the writes in the body of `fn` name (see `_writes_itself`)."""
    key = ("FAA402-written-schema", id(fn.node))
    found = st.memo.get(key)
    if isinstance(found, _Schema):
        return found
    parents = _tree(st, fn).parents.get
    roots = [
        root
        for node in body_nodes(fn.node)
        if isinstance(node, ast.Call)
        and (
            _writing_query(st, fn, node, parents)
            if session_call(st, fn.module, node, fn, QUERY_METHODS) is not None
            else _write_call(st, fn, node)
        )
        for root in _call_roots(st, fn, node)
    ]
    schema = _schema_of(st, fn, roots)
    st.memo[key] = schema
    return schema


def _writes_what_is_read(st: OrmState, fn: Function, check: ast.Call, call: ast.Call) -> bool:
    """Does the project helper `call` writes on its own write what the read `check`
    selects: the same model or table, or one keyed by the same column (`job_info.c.
    spot_job_id` read, `spot.c.spot_job_id` updated)? A re-read of one table does not
    close a race on the write of another (a profile looked up, then an audit row added)."""
    callee = (
        st.project.function(resolve_callee(st.project, fn.module, call.func, fn))
        if isinstance(call.func, (ast.Name, ast.Attribute))
        else None
    )
    if callee is None:
        return False
    read, written = _read_schema(st, fn, check), _written_schema(st, callee)
    return not read.objects.isdisjoint(written.objects) or not read.keys.isdisjoint(written.keys)


def _writes_itself(st: OrmState, fn: Function) -> bool:
    key = ("FAA402-writes-itself", id(fn.node))
    if key not in st.memo:
        parents = _tree(st, fn).parents.get
        st.memo[key] = any(
            isinstance(node, ast.Call)
            and (
                _writing_query(st, fn, node, parents)
                if session_call(st, fn.module, node, fn, QUERY_METHODS) is not None
                else _write_call(st, fn, node)
            )
            for node in body_nodes(fn.node)
        )
    return bool(st.memo[key])


def _item_names(st: OrmState, fn: Function, call: ast.Call) -> frozenset[str]:
    """See `_call_items`; memoized per call: each read of a function is matched
    against every call after it."""
    key = ("FAA402-item-names", id(call))
    found = st.memo.get(key)
    if not isinstance(found, frozenset):
        found = st.memo[key] = frozenset(_call_items(st, fn, call))
    return found


def _call_items(st: OrmState, fn: Function, call: ast.Call) -> set[str]:
    """The parameters and locals (loop variables too) a call works on: in its arguments
    and receiver, and in the values of the locals it is passed (`session.execute(stmt)`),
    minus the session (also one a `with` block opens, `async with session_scope() as
    session`, whose type the rule may not know: a resource, not an item) and what it is
    opened from (`Session(engine)`), `self`/`cls` and namespaces used only to reach a
    class (`db.BlockDocument`)."""
    facts = st.facts_of(fn)
    todo: list[ast.AST] = [*call.args, *(kw.value for kw in call.keywords)]
    if isinstance(call.func, ast.Attribute):
        todo.append(call.func.value)
        if call.func.attr == "query":
            # A legacy chain names its item in the methods called on the query
            # (`session.query(T).filter(T.c.id == key).update(fields)`).
            todo.append(query_chain(call, _tree(st, fn).parents.get)[0])
    items: dict[str, bool] = {}  # name -> is it an item (not a resource)
    while todo:
        nodes = list(walk(todo.pop()))
        namespaces = {
            id(n.value)
            for n in nodes
            if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.attr[:1].isupper()
        }
        for node in nodes:
            if not isinstance(node, ast.Name) or id(node) in namespaces or node.id in items:
                continue
            name = node.id
            items[name] = not (
                name in ("self", "cls")
                or _opened_by_with(facts, name)
                or db_kind(st, fn.module, node, fn) is not None
            )
            if items[name]:
                todo.extend(v for _stmt, v in facts.assigns.get(name, []) if v is not None)
    return {
        name
        for name, item in items.items()
        if item and (name in facts.assigns or name in facts.params or name in facts.loop_targets)
    }


def _opened_by_with(facts: FunctionFacts, name: str) -> bool:
    bindings = facts.assigns.get(name, [])
    return bool(bindings) and all(isinstance(b, (ast.With, ast.AsyncWith)) for b, _v in bindings)


_MISSING = object()


def literal_arguments(callee: Function, call: ast.Call) -> dict[str, object]:
    """The parameters of `callee` this call leaves at (or passes) a literal, with its
    value: `self._write(session, row)` against `def _write(self, session, row,
    version_id=None)` gives `{"version_id": None}`. Empty when the call spreads
    `*args`/`**kwargs`; parameters the callee reassigns are left out. Under a decorator
    that may inject or reorder arguments (`@db_injector`), positional arguments cannot
    be matched to parameters, so only keywords and keyword-only defaults count."""
    if spreads(call):
        return {}
    node = callee.node
    signature = parameters(node)
    positional = {arg.arg for arg in [*node.args.posonlyargs, *node.args.args]}
    decorators = {dotted(d) for d in node.decorator_list}
    matched = decorators <= {"staticmethod", "classmethod"} or not call.args
    passed = (
        passed_arguments(callee, call)
        if matched
        else {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}
    )
    out: dict[str, object] = {}
    for arg, default in signature:
        name = arg.arg
        if name in callee.local_values:
            continue
        value = passed.get(name)
        if value is None and name in positional and not matched:
            continue
        if value is None:
            value = default
        if isinstance(value, ast.Constant):
            out[name] = value.value
    return out


def _never(test: ast.expr, truth: bool, values: dict[str, object]) -> bool:
    """Can `test` not have this truth when the parameters hold these literals
    (`if version_id:` with `version_id=None`, `if not force:` with `force=True`)?"""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _never(test.operand, not truth, values)
    if isinstance(test, ast.BoolOp):
        parts = (_never(v, truth, values) for v in test.values)
        # `a and b` is true only if both are, false only if one is; `or` the reverse.
        return any(parts) if isinstance(test.op, ast.And) == truth else all(parts)
    if isinstance(test, ast.Name):
        value = values.get(test.id, _MISSING)
        return value is not _MISSING and bool(value) != truth
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.left, ast.Name)
        and isinstance(test.ops[0], (ast.Is, ast.IsNot, ast.Eq, ast.NotEq))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        value = values.get(test.left.id, _MISSING)
        if value is _MISSING:
            return False
        is_none = isinstance(test.ops[0], (ast.Is, ast.Eq))
        return ((value is None) == is_none) != truth
    return False


def dead_statements(block: list[ast.stmt], values: dict[str, object]) -> Iterator[ast.stmt]:
    """The statements of a function body that cannot run when its parameters hold these
    literals: the branch of an `if` on them that the values rule out, and the rest of a
    block after `if not param: return` when the guard always returns."""
    for index, stmt in enumerate(block):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, ast.If):
            for branch, truth in ((stmt.body, True), (stmt.orelse, False)):
                if _never(stmt.test, truth, values):
                    yield from branch
                else:
                    yield from dead_statements(branch, values)
            if (
                not stmt.orelse
                and isinstance(stmt.body[-1], (ast.Return, ast.Raise))
                and _never(stmt.test, False, values)
            ):
                yield from block[index + 1 :]
                return
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list):
                yield from dead_statements(inner, values)
        for handler in getattr(stmt, "handlers", ()):
            yield from dead_statements(handler.body, values)
        for case in getattr(stmt, "cases", ()):
            yield from dead_statements(case.body, values)


# Climbed from a call to the expression that holds its result: `await`, the methods
# called on it (`(await session.execute(q)).scalars().first()`) and an index into it
# (`session.execute(q).fetchone()[0]`); a test of the result also climbs `not ...` and
# `... is None`.
_RESULT_CHAIN = (ast.Await, ast.Attribute, ast.Call, ast.Subscript)
_TESTED_CHAIN = (*_RESULT_CHAIN, ast.UnaryOp, ast.Compare)


def _result(
    call: ast.Call,
    parents: Callable[[int], ast.AST | None],
    chain: tuple[type[ast.AST], ...] = _RESULT_CHAIN,
    *,
    attributes: bool = True,
) -> tuple[ast.AST, ast.AST | None] | None:
    """The outermost expression of `chain` nodes around `call` that still holds its
    result, and that expression's parent. None when the result is handed to another call
    as an argument or used as a key, or, without `attributes`, when an attribute of it is
    read rather than called (`session.get(User, uid).email` uses the row) or it is
    indexed."""
    expr: ast.AST = call
    parent = parents(id(expr))
    while isinstance(parent, chain):
        if isinstance(parent, ast.Call) and parent.func is not expr:
            return None
        if isinstance(parent, ast.Subscript) and (parent.value is not expr or not attributes):
            return None  # the key of a lookup, or a column of the row read
        if (
            not attributes
            and isinstance(parent, ast.Attribute)
            and not isinstance(parents(id(parent)), ast.Call)
        ):
            return None
        expr, parent = parent, parents(id(parent))
    return expr, parent


def _existence_check(st: OrmState, fn: Function, call: ast.Call) -> list[ast.If]:
    """Is the result of this query only tested: in an `if` (`if await session.scalar(
    select(...)): return`), or through a local that is only tested, returned as is or
    changed (an upsert: `existing.value = v`) until it is rebound (`existing = ...; if
    existing: return existing`, `tag = ...; if tag is None: tag = Tag(name=name)`)? The
    `if`s that test it; none for a read whose rows are used."""
    tree = _tree(st, fn)
    nodes = tree.parents
    found = _result(call, nodes.get, _TESTED_CHAIN, attributes=False)
    if found is None:
        return []
    expr, parent = found
    if isinstance(parent, ast.If):
        return [parent] if expr is parent.test else []
    if not (isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is expr):
        return []
    targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
    if len(targets) != 1 or not isinstance(targets[0], ast.Name):
        return []
    name, line = targets[0].id, parent.end_lineno or parent.lineno
    rebound = [getattr(b, "lineno", 0) for b, _v in st.facts_of(fn).assigns.get(name, [])]
    end = min((n for n in rebound if n > line), default=float("inf"))
    tests: list[ast.If] = []
    for node in tree.loads.get(name, []):
        if not line < node.lineno < end:
            continue
        up: ast.AST | None = nodes.get(id(node))
        if isinstance(up, ast.Return) or _stored_into(node, nodes):
            continue
        child: ast.AST = node
        while isinstance(up, (ast.UnaryOp, ast.Compare, ast.BoolOp)):
            child, up = up, nodes.get(id(up))
        if not (isinstance(up, ast.If) and child is up.test):
            return []
        tests.append(up)
    return tests


_JUMPS = (ast.Continue, ast.Break, ast.Return, ast.Raise)


def _decided_by(tree: _Tree, tests: list[ast.If], write: ast.AST) -> bool:
    """Does one of the `tests` decide whether `write` runs: `write` sits in its body or
    `else`, or comes after an `if` whose body (or `else`) ends by leaving (`continue`,
    `break`, `return`, `raise`): `if get_state(job_id) == DONE: continue`, then the
    write of that job."""
    line = getattr(write, "lineno", 0)
    for test in tests:
        branches = (test.body, test.orelse)
        if line > (test.end_lineno or test.lineno) and any(
            branch and isinstance(branch[-1], _JUMPS) for branch in branches
        ):
            return True
        child: ast.AST = write
        up = tree.parents.get(id(write))
        while up is not None and up is not test:
            child, up = up, tree.parents.get(id(up))
        if up is test and child is not test.test:
            return True
    return False


def _stored_into(name: ast.Name, parents: dict[int, ast.AST]) -> bool:
    """`existing.value = v`, `existing.meta["k"] = v`, `existing.count += 1`: a column of
    the row `name` holds is assigned (the update half of an upsert), not read."""
    child: ast.AST = name
    up = parents.get(id(child))
    while isinstance(up, (ast.Attribute, ast.Subscript)) and up.value is child:
        if isinstance(up.ctx, ast.Store):
            return True
        child, up = up, parents.get(id(up))
    return False


def _writes(st: OrmState, fn: Function, call: ast.Call, query: bool) -> bool:
    """A session write or a command handed the session (`_write_call`), or, when `call`
    is a session query (`query`), one whose statement writes (`_writing_query`)."""
    key = ("FAA402-writes", id(call))
    if key not in st.memo:
        st.memo[key] = (
            _writing_query(st, fn, call, _tree(st, fn).parents.get)
            if query
            else _write_call(st, fn, call)
        )
    return bool(st.memo[key])


def _fetched(st: OrmState, fn: Function, check: ast.Call) -> set[str]:
    """The locals that hold the rows `check` loads: the one its result (or a method
    chain on it) is bound to, `row = (await session.execute(q)).scalars().first()`, or
    the loop variable of a `for` that iterates it directly (`for row in (await
    session.exec(q)).all()`), and the locals and loop variables taken from those
    (`row = result.scalars().first()`, `for row in rows`)."""
    found = _result(check, _tree(st, fn).parents.get)
    if found is None:
        return set()
    expr, parent = found
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        holder: ast.expr = parent.targets[0]
    elif isinstance(parent, (ast.For, ast.AsyncFor)) and parent.iter is expr:
        holder = parent.target
    else:
        return set()
    if not isinstance(holder, ast.Name):
        return set()
    names = {holder.id}
    facts = st.facts_of(fn)
    loops = [
        (loop.target.id, loop.iter)
        for loop in facts.loops
        if isinstance(loop, (ast.For, ast.AsyncFor)) and isinstance(loop.target, ast.Name)
    ]
    grew = True
    while grew:
        grew = False
        for name, bindings in facts.assigns.items():
            if name in names:
                continue
            for _node, value in bindings:
                while isinstance(value, (ast.Await, ast.Subscript)):
                    value = value.value
                if value is not None and any(_rooted_at(value, n) for n in names):
                    names.add(name)
                    grew = True
                    break
        for target, iterable in loops:
            if target not in names and any(_rooted_at(iterable, n) for n in names):
                names.add(target)
                grew = True
    return names


def _changed_row(target: ast.expr, names: set[str]) -> bool:
    """`row.title = ...`, `row.meta["k"] = ...`: an assignment to a column (or into
    one) of a row held in one of `names`."""
    if isinstance(target, ast.Subscript):
        target = target.value
    if not isinstance(target, ast.Attribute):
        return False
    base: ast.expr = target.value
    while isinstance(base, (ast.Attribute, ast.Subscript)):
        base = base.value
    return isinstance(base, ast.Name) and base.id in names


def _changes_fetched(st: OrmState, fn: Function, names: set[str], after: list[ast.AST]) -> bool:
    """Are the rows a read loads (held in `names`, see `_fetched`) then written, among
    `after`: changed (`row.title = ...`, `setattr(row, field, value)`) or handed to the
    session to write (`session.delete(row)`, `session.add(row)`), then sent
    (`session.commit()`, `flush()`)? The read is the load half of an ORM update of
    those rows, a per-item write like `update(T)`. A read whose rows are only returned
    or used is not, nor one whose changes are sent once after the loop (an upsert that
    `get`s each row)."""
    changed = False
    for node in after:
        targets = assignment_targets(node)
        if targets:
            changed = changed or any(_changed_row(t, names) for t in targets)
        elif isinstance(node, ast.Call):
            args = [*node.args, *(kw.value for kw in node.keywords)]
            rows = [a for a in args if isinstance(a, ast.Name) and a.id in names]
            if isinstance(node.func, ast.Name) and node.func.id == "setattr":
                changed = changed or (bool(rows) and rows[0] is node.args[0])
            elif rows and session_call(st, fn.module, node, fn, _ROW_WRITES) is not None:
                changed = True
            elif changed and session_call(st, fn.module, node, fn, _SENDS) is not None:
                return True
    return False


def _core_change(st: OrmState, fn: Function, call: ast.Call) -> bool:
    """A session query whose statement is a Core `update(T)`/`delete(T)` chain (also
    through a local), or a legacy `session.query(T).filter(...).update(fields)` (or
    `.delete()`): it changes rows that exist, as opposed to an insert."""
    if isinstance(call.func, ast.Attribute) and call.func.attr == "query":
        return (
            query_chain(call, _tree(st, fn).parents.get)[1] in _QUERY_WRITES
            and session_call(st, fn.module, call, fn, QUERY_METHODS) is not None
        )
    statement = _statement_of(call) if isinstance(call.func, ast.Attribute) else None
    if isinstance(statement, ast.Name):
        bindings = st.facts_of(fn).assigns.get(statement.id, [])
        values = [v for _node, v in bindings if v is not None and not _chained_on(v, statement.id)]
        statement = values[0] if len(values) == 1 else None
    root = statement
    while (
        isinstance(root, ast.Call)
        and isinstance(root.func, ast.Attribute)
        and isinstance(root.func.value, ast.Call)
    ):
        root = root.func.value
    return (
        isinstance(root, ast.Call)
        and last_name(ast.unparse(root.func)) in _QUERY_WRITES
        and session_call(st, fn.module, call, fn, QUERY_METHODS) is not None
    )


def _stored_local(target: ast.expr) -> str | None:
    """The local an assignment stores into: `x = ...`, `fields[key] = ...`, `obj.a = ...`."""
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


@dataclass(frozen=True)
class _Store:
    name: str  # the local stored into
    reads: frozenset[str]  # the names the stored value reads
    tested: frozenset[str]  # the names the `if`s around the store test


def _stores(st: OrmState, fn: Function) -> list[_Store]:
    """Every store into a local in `fn`, with what it reads and what the `if`s around it
    test: built once per function, `_fed_by` runs for each read of it."""
    key = ("FAA402-stores", id(fn.node))
    found = st.memo.get(key)
    if isinstance(found, list):
        return found
    tree = _tree(st, fn)
    stores: list[_Store] = []
    for node in body_nodes(fn.node):
        for target in assignment_targets(node):
            name = _stored_local(target)
            if name is None:
                continue
            value = getattr(node, "value", None)
            reads = (
                frozenset(n.id for n in walk(value) if isinstance(n, ast.Name))
                if isinstance(value, ast.AST)
                else frozenset()
            )
            stores.append(_Store(name, reads, _tested_names(tree, fn, node)))
    st.memo[key] = stores
    return stores


def _fed_by(st: OrmState, fn: Function, fed: set[str]) -> set[str]:
    """`fed` and the locals that take values from it: assigned, or stored into
    (`fields[T.c.reason] = reason + existing[0]`), from an expression that reads one of
    them, or under an `if` that tests one (`if previous == "RECOVERING":
    fields[T.c.recovered_at] = now`). The statement a read's values feed is then the one
    that reads those locals."""
    stores = _stores(st, fn)
    out = set(fed)
    for _round in range(_MAX_DEPTH):
        grew = False
        for store in stores:
            if store.name not in out and (
                not out.isdisjoint(store.reads) or not out.isdisjoint(store.tested)
            ):
                out.add(store.name)
                grew = True
        if not grew:
            break
    return out


def _tested_names(tree: _Tree, fn: Function, stmt: ast.AST) -> frozenset[str]:
    """The names the `if`s around `stmt` (in `fn`) test."""
    names: set[str] = set()
    child: ast.AST = stmt
    up = tree.parents.get(id(stmt))
    while up is not None and up is not fn.node:
        if isinstance(up, ast.If) and child is not up.test:
            names.update(n.id for n in walk(up.test) if isinstance(n, ast.Name))
        child, up = up, tree.parents.get(id(up))
    return frozenset(names)


def _guards_write(st: OrmState, fn: Function, check: ast.Call, after: list[ast.AST]) -> bool:
    """Is `check` an existence check (its result only tested, see `_existence_check`)
    followed, among `after` (what runs after it in its function or loop body), by a
    write of the same item: get-or-create, whether `existing = ...; if existing:
    return existing` then an insert, or `if read(...) is None: create(...)`, or a fresh
    re-read that decides whether a project helper writing on its own runs
    (`if get_state(job_id) == DONE: continue`, then `set_failed(job_id)`); or does it
    load the rows that a write among `after` then changes (`_changes_fetched`), or
    whose values feed (`_fed_by`) a Core `update()`/`delete()` or a legacy
    `session.query(T)...update(fields)` of the same item (a compare-and-swap: `row =
    ...; update(T).where(T.id == key, T.stamp == row.stamp)`, or a read-modify-write)?
    Such a read is part of a per-item write (FAA409's concern). A read whose values are
    only returned or used elsewhere is not."""
    names = _item_names(st, fn, check)
    tests = _existence_check(st, fn, check)

    def writes(node: ast.Call) -> bool:
        query = session_call(st, fn.module, node, fn, QUERY_METHODS) is not None
        if _writes(st, fn, node, query):
            return True
        # A helper that writes on its own (its own session) counts only behind a test
        # of the read that decides whether it runs: a fresh re-read that skips the item.
        return (
            not query
            and bool(tests)
            and _writing_helper(st, fn, node)
            and _decided_by(_tree(st, fn), tests, node)
            and _writes_what_is_read(st, fn, check, node)
        )

    def same_item_write(fed: set[str] | None) -> bool:
        return bool(names) and any(
            isinstance(node, ast.Call)
            and writes(node)
            and bool(names & (items := _item_names(st, fn, node)))
            and (fed is None or (bool(fed & items) and _core_change(st, fn, node)))
            for node in after
        )

    if tests and same_item_write(None):
        return True
    fed = _fetched(st, fn, check)  # the locals holding the rows it loads
    return bool(fed) and (
        _changes_fetched(st, fn, fed, after) or same_item_write(_fed_by(st, fn, fed))
    )


_ENTITY_METHODS = frozenset({"get", "get_one", "query"})


def _selected(st: OrmState, fn: Function, check: ast.Call) -> frozenset[str]:
    """What the read `check` selects rows of: the ORM models and tables it names
    (`_read_schema`), and the classes handed to `select()` (also through locals) or to
    `session.get()`/`session.query()` as they resolve, even when a star re-export
    (`from .database import *`) hides the model's definition."""
    out = set(_read_schema(st, fn, check).objects)
    roots = _call_roots(st, fn, check)
    calls = [
        node
        for part in _with_bindings(st.facts_of(fn), roots)
        for node in walk(part)
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
    ]
    for call in [check, *calls]:
        if call is check:
            picks = isinstance(call.func, ast.Attribute) and call.func.attr in _ENTITY_METHODS
        else:
            picks = st.project.resolve(fn.module, call.func, fn) in SELECT_FUNCTIONS
        entity = call.args[0] if picks and call.args else None
        if isinstance(entity, (ast.Name, ast.Attribute)):
            qualname = st.project.resolve(fn.module, entity, fn)
            if qualname is not None:
                out.add(qualname)
    return frozenset(out)


def _new_row(st: OrmState, fn: Function, expr: ast.expr | None, models: frozenset[str]) -> bool:
    """`Workspace(name=name)`: a new instance of one of the `models` (`_selected`)."""
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, (ast.Name, ast.Attribute))):
        return False
    return st.project.resolve(fn.module, expr.func, fn) in models


def _none_test(test: ast.expr, name: str) -> bool:
    """`name is None`, `not name`."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id == name
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == name
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.Eq))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    )


def _found_or_new(st: OrmState, fn: Function, check: ast.Call) -> bool:
    """Does `fn` return, at every `return`, the row `check` finds or else a new, unsaved
    instance of the model it selects: `return workspace or Workspace(name=name)` (also
    on the query itself), or `if workspace is None: workspace = Workspace(name=name)`
    then `return workspace`? The read half of a get-or-create whose insert is the
    caller's (argilla's `get_or_new_workspace`)."""
    models = _selected(st, fn, check)
    found = _result(check, _tree(st, fn).parents.get)
    if not models or found is None:
        return False
    read = found[0]
    held = _fetched(st, fn, check)
    body = list(body_nodes(fn.node))

    def replaced(name: str) -> bool:
        return any(
            isinstance(node, ast.If)
            and _none_test(node.test, name)
            and any(
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == name
                and _new_row(st, fn, stmt.value, models)
                for stmt in node.body
            )
            for node in body
        )

    def found_or_new(value: ast.expr | None) -> bool:
        if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
            first, *rest = value.values
            return (
                (first is read or (isinstance(first, ast.Name) and first.id in held))
                and len(rest) == 1
                and _new_row(st, fn, rest[0], models)
            )
        return isinstance(value, ast.Name) and value.id in held and replaced(value.id)

    returns = [node.value for node in body if isinstance(node, ast.Return)]
    return bool(returns) and all(found_or_new(value) for value in returns)


_HANDED_ON = (ast.Await, ast.keyword, ast.List, ast.Tuple, ast.Set, ast.Starred)


def _handed_to_write(
    st: OrmState,
    fn: Function,
    expr: ast.AST,
    parent_of: Callable[[int], ast.AST | None] | None = None,
) -> bool:
    """Is the value of `expr` handed to a write: an argument of a session write or of a
    command handed the session (`_write_call`), as is or inside lists, comprehensions
    and new ORM model instances (`session.add(User(workspaces=[await
    get_or_new_workspace(session, w.name) for w in names]))`)? `parent_of` finds the
    parents of `expr` (by default the function's tree)."""
    parents = parent_of if parent_of is not None else _tree(st, fn).parents.get
    child, up = expr, parents(id(expr))
    while up is not None and not isinstance(up, ast.stmt):
        if isinstance(up, _COMPREHENSIONS):
            if child is not getattr(up, "elt", None):
                return False
        elif isinstance(up, ast.Call):
            if child is up.func:
                return False
            if _write_call(st, fn, up):
                return True
            qualname = (
                st.project.resolve(fn.module, up.func, fn)
                if isinstance(up.func, (ast.Name, ast.Attribute))
                else None
            )
            if qualname is None or st.index.model(qualname) is None:
                return False
        elif not isinstance(up, _HANDED_ON):
            return False
        child, up = up, parents(id(up))
    return False


def _result_written(
    st: OrmState, fn: Function, call: ast.Call, parent_of: Callable[[int], ast.AST | None]
) -> bool:
    """Is what `call` returns handed to a write (`_handed_to_write`), directly or
    through the local it is bound to (`workspace = await get_or_new_workspace(...)`,
    then `session.add(workspace)`)? Only the loads this binding reaches count: those
    after it, in the body of the loop it runs in (a write after the loop gets the last
    row only), and before the next binding of the name (`workspace =
    Workspace(name="default")`, then `session.add(workspace)`). `parent_of` finds the
    ancestors of `call` (the engine's stack: the function's whole tree is only built
    when the result is bound to a local, for the loads of that local)."""
    if _handed_to_write(st, fn, call, parent_of):
        return True
    expr: ast.AST = call
    up = parent_of(id(call))
    if isinstance(up, ast.Await):
        expr, up = up, parent_of(id(up))
    if not (
        isinstance(up, ast.Assign)
        and up.value is expr
        and len(up.targets) == 1
        and isinstance(up.targets[0], ast.Name)
    ):
        return False
    name = up.targets[0].id
    end = up.end_lineno or up.lineno
    scope: list[ast.AST] = [up]
    child: ast.AST = up
    parent = parent_of(id(up))
    while parent is not None and parent is not fn.node:
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)) and any(
            stmt is child for stmt in parent.body
        ):
            scope = list(parent.body)
            break
        child, parent = parent, parent_of(id(parent))
    else:
        scope = list(fn.node.body)
    nodes = [n for n in walk_nodes(scope) if isinstance(n, ast.Name) and n.id == name]
    stop = min(
        (n.lineno for n in nodes if isinstance(n.ctx, ast.Store) and n.lineno > end),
        default=None,
    )
    return any(
        isinstance(node.ctx, ast.Load)
        and node.lineno > end
        and (stop is None or node.lineno <= stop)
        and _handed_to_write(st, fn, node)
        for node in nodes
    )


def _sql_parameters(
    st: OrmState, caller: Function | None, fn: Function, call: ast.Call, *, schema: bool = False
) -> frozenset[str]:
    """The parameters of the wrapper `fn` that `call` (in `caller`) passes SQL that
    writes (`_write_statement`): `db.execute("UPDATE wallets SET ...", values)` against
    `def execute(self, query, values=None)` gives `{"query"}`. None under a decorator
    that may reorder arguments."""
    decorators = {dotted(d) for d in fn.node.decorator_list}
    if caller is None or not decorators <= {"staticmethod", "classmethod"}:
        return frozenset()
    return frozenset(
        name
        for name, value in passed_arguments(fn, call).items()
        if _write_statement(st, caller, value, schema=schema)
    )


def _rewrites(st: OrmState, fn: Function, call: ast.Call, name: str) -> bool:
    """Is `call` (in `fn`) a project function handed only the local `name`, that returns
    the parameter it lands in, changed at most by methods called on it (`query =
    query.replace("?", "%s")`, `return query`): a rewrite of the same SQL?"""
    if not (
        len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == name
        and isinstance(call.func, (ast.Name, ast.Attribute))
    ):
        return False
    callee = st.project.function(resolve_callee(st.project, fn.module, call.func, fn))
    if callee is None or callee is fn:
        return False
    param = next(
        (p for p, value in passed_arguments(callee, call).items() if value is call.args[0]), None
    )
    if param is None:
        return False
    returns = [n.value for n in body_nodes(callee.node) if isinstance(n, ast.Return)]
    bindings = st.facts_of(callee).assigns.get(param, [])
    return (
        bool(returns)
        and all(isinstance(v, ast.Name) and v.id == param for v in returns)
        and all(_chained_on(v, param) for _node, v in bindings)
    )


def _passes_sql(st: OrmState, fn: Function, call: ast.Call, names: frozenset[str]) -> bool:
    """Does the session call `call` in the wrapper `fn` send the SQL one of the
    parameters `names` holds, as is or through `text()` and a rewrite (`_rewrites`):
    `self.conn.execute(text(self.rewrite_query(query)), params)`?"""
    statement = _statement_of(call) if names else None
    if isinstance(statement, ast.Call) and last_name(ast.unparse(statement.func)) == "text":
        statement = statement.args[0] if len(statement.args) == 1 else None
    if isinstance(statement, ast.Name):
        return statement.id in names
    return isinstance(statement, ast.Call) and any(
        _rewrites(st, fn, statement, name) for name in names
    )


def _first_read_query(
    st: OrmState,
    fn: Function,
    call: ast.Call | None = None,
    caller: Function | None = None,
    *,
    written: bool = False,
) -> tuple[ast.Call, str] | None:
    """The first query of a helper's body that reads: not a statement that writes
    (a per-item write is row-by-row writing, FAA409's concern), not an advisory lock,
    not a `session.query(...)` chain that builds a subquery, and not a re-read of what
    the helper has just written (`dag.clear(run_id=run.run_id, session=session)` then
    `session.scalar(select(DagRun).where(DagRun.id == run.id))`): such a helper is a
    per-item command, and the read is part of it. Neither is a read that is part of a
    per-item write of the same item (`_guards_write`): an existence check that guards it
    (get-or-create: `existing = session.scalar(...)`, `if existing: return existing`,
    then an insert), the load of rows that are then changed and sent (`row.title = ...`,
    `session.commit()`), or a read whose values feed a Core `update()`/`delete()` (a
    compare-and-swap). Code that cannot run for this `call` is skipped: `if
    version_id:` when the call leaves `version_id` at `None`. Neither is a query that
    sends the SQL the call passes a wrapper, when that SQL writes
    (`db.execute("UPDATE ...", values)` with `self.conn.execute(text(query), values)`
    in `execute`: `_passes_sql`), nor, when the caller hands what the helper returns
    to a write (`written`), a read whose row or a new instance of its model is
    returned (get-or-new, `_found_or_new`): the caller's insert completes it."""
    values = literal_arguments(fn, call) if call is not None else {}
    dead = {id(n) for n in walk_nodes(list(dead_statements(fn.node.body, values)))}
    # A statement that writes is one for `schema` too (`_write_statement` only adds the
    # schema statements then): without any of those, there is none that writes.
    statements = (
        _sql_parameters(st, caller, fn, call, schema=True) if call is not None else frozenset()
    )
    sql = _sql_parameters(st, caller, fn, call) if call is not None and statements else frozenset()
    ddl = statements - sql
    key = ("FAA402-read-written" if written else "FAA402-read", id(fn.node))
    cached = not dead and not sql and not ddl
    if cached and key in st.memo:
        found = st.memo[key]
        return found if isinstance(found, tuple) else None
    body = [n for n in body_nodes(fn.node) if id(n) not in dead]
    order = {id(n): index for index, n in enumerate(body)}
    nodes = [n for n in body if isinstance(n, ast.Call) and not _advisory_lock(n)]
    items: set[str] = set()  # what the helper has written
    wrote = False
    result: tuple[ast.Call, str] | None = None
    for node in nodes:
        hit = session_call(st, fn.module, node, fn, QUERY_METHODS)
        if hit is not None and lazy_query(node, _tree(st, fn).parents.get):
            continue
        if _writes(st, fn, node, hit is not None) or (
            hit is not None and _passes_sql(st, fn, node, sql)
        ):
            wrote = True
            items |= _item_names(st, fn, node)
            continue
        if hit is None:
            continue
        if _passes_sql(st, fn, node, ddl) or _writing_query(
            st, fn, node, _tree(st, fn).parents.get, schema=True
        ):
            continue  # changes the schema: reads no rows, and is no write a read is part of
        if wrote and items & _item_names(st, fn, node):
            continue  # reloads what was just written
        if _guards_write(st, fn, node, body[order[id(node)] + 1 :]):
            continue
        if written and _found_or_new(st, fn, node):
            continue
        result = (node, hit[0])
        break
    if cached:
        st.memo[key] = result
    return result


def _per_item_write_in_loop(st: OrmState, fn: Function, loop: _Loop, call: ast.Call) -> bool:
    """Is `call` a read that is part of a per-item write written in the body of the
    `for` loop around it (`_guards_write`): the existence check of a get-or-create
    (`if read(...) is None: create(...)`), the load of rows that are then changed and
    sent, or the read of a compare-and-swap? `_first_read_query` leaves the same reads
    when a helper holds them."""
    if not isinstance(loop.node, (ast.For, ast.AsyncFor)):
        return False
    nodes = list(walk_nodes(list(loop.node.body)))
    index = next((i for i, n in enumerate(nodes) if n is call), None)
    return index is not None and _guards_write(st, fn, call, nodes[index + 1 :])


@rule(
    code="FAA402",
    name="query-in-loop",
    summary="A database query runs once per item of a loop",
    severity="warning",
    nodes=(ast.Call,),
    fix_title="Load the rows in one query before the loop (`where(Model.id.in_(ids))`)",
    references=_REFERENCES,
)
def query_in_loop(node: ast.Call, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds session queries (`execute`, `scalars`, `scalar`, `get`, `query`, SQLModel's
    `exec`, their `await`ed `AsyncSession` forms) inside a `for` loop or a
    comprehension over a collection, in any function of the project. A call to a
    project function or method (a repository, service or CRUD helper) whose own body
    runs such a query counts too (one hop), so `crud.get_user(db, uid)` in a loop is
    reported at the call; the helper is read as that call runs it, so a query behind
    `if version_id:` does not count for a call that leaves `version_id` at `None` (or
    passes any literal that rules the branch out). A legacy `session.query(...)` chain
    that ends in a SQL expression (`.subquery()`, `.exists()`, `.cte()`, `.label()`),
    directly or through
    a local used only that way, builds part of one statement and sends nothing, so
    building filters in a loop is not reported; nor is a loop over batches
    (`for id_batch in id_batches`), where one query per batch is the fix. Only reads
    count: a statement that writes (`insert()`/`update()`/`delete()` chains, upserts,
    a project builder named for the write such as `insert_on_conflict(values, ...)`,
    raw `INSERT`/`UPDATE`/`DELETE`/`NOTIFY` SQL, `session.query(...).delete()`, also
    when refined under an `if` as `stmt = stmt.where(...)`, or SQL returned by a project
    helper whose every `return` is such a statement), in the loop or as a helper's only
    query, is row-by-row writing (FAA409's concern), and schema statements (raw
    `CREATE`/`ALTER`/`DROP` SQL, one migration step per item) are not reads either,
    though no write that makes a read before or after them part of it; also
    when the
    loop hands the SQL to a project wrapper that passes it on to the session as is or
    through `text()` and a rewrite that returns it (`db.execute("UPDATE ...", values)`
    with `self.conn.execute(text(self.rewrite_query(query)), values)` in `execute`;
    a `SELECT` through it still counts), and
    a helper's re-read of the item it has just written (a write, or a command handed
    the session such as `dag.clear(run_id=run.run_id, session=session)`, then a query
    on the same names) is part of that per-item command, as is an existence check that
    only guards the helper's write of the same item (get-or-create: `existing = ...`,
    `if existing: return existing`, then an insert; or an upsert whose found row is
    only changed, `if existing: existing.value = v`, else an insert of the same key,
    with or without a flush: the next iteration's query autoflushes the write), in the
    helper or written in the loop body (`if read(...) is None: create(...)`), or a
    helper that returns the row it finds or else a new instance of the model it
    selects (`return workspace or Workspace(name=name)`, or `if workspace is None:
    workspace = Workspace(name=name)`) when the loop hands what it returns to a write
    (`session.add(User(workspaces=[await get_or_new_workspace(session, n) for n in
    names]))`, or a command handed the session; through a local, only in the loop body
    and before the name is bound again), and so is
    a read of rows that are then changed (`row.title = ...`, `setattr(row, ...)`, `session.delete(row)`) and
    sent with `commit()`/`flush()`: an ORM update, in the helper or the loop body,
    whether the rows are first bound to a local or the query is itself the `for`
    iterable (`for row in (await session.exec(q)).all(): row.state = ...`), or
    whose values feed a Core `update()`/`delete()` or a legacy
    `session.query(T).filter(...).update(fields)`/`.delete()` of the same item (a
    compare-and-swap, `update(T).where(T.id == key, T.stamp == row.stamp)`, or a
    read-modify-write, `prev = session.execute(select(T.c.status)...).fetchone()[0]`,
    `if prev == "RECOVERING": fields[T.c.recovered_at] = now`, then the update of that
    row with `fields`). A fresh re-read of the loop item whose result only decides
    whether a project helper that writes on its own (opening its own session) runs
    for the same key is part of that write too: `if get_state(job_id) == DONE:
    continue`, then `set_failed(job_id)`, where the re-read closes a race; the test
    must decide the write (hold it, or leave the iteration before it), the helper must
    write the model or table the read selects (or one keyed by the same column, such
    as `job_id`; a plain `id` does not count), so a profile looked up before an audit
    row is added still counts, and a session the loop opens (`with session_scope() as
    session`) is not a shared key.

    ## Why is this bad?
    Each iteration is a round trip to the database: an order with 50 items becomes 50
    `SELECT`s for what one `WHERE id IN (...)` query returns. The endpoint gets slower
    with every item and holds a connection for the whole loop.

    ## Known problems
    Loops that are bounded by design are not reported: `while` loops (pagination,
    polling), `range()` loops other than `range(len(...))` (retries such as
    `for attempt in range(3)`, pages such as `range(0, n, BATCH)`), tenacity/stamina
    retry loops, loops over literal or module-level constant collections
    (`for role in DEFAULT_ROLES`; a literal seen through `typing.cast(...)` or a local
    bound only to literals counts, and so does a project helper returning a literal
    grown only by single `add`/`append` calls outside loops, such as the input name
    plus one alternate spelling), loops over batches/chunks/pages, and loops whose
    query filters with `in_()` on the loop variable (`for p, ids in per_p.items()`),
    also when the statement is first built in a local in the loop body
    (`stmt = base.add_columns(...)`, `stmt = stmt.where(pid.in_(ids))`, then
    `session.stream(stmt)`): one batched query per group. The same holds for a helper
    whose query filters with `in_()` on one of its parameters (`in_(ids)`, also through
    locals, comprehensions and conversions such as `sorted(ids)`) when the call passes
    it a collection built from the loop variable (`for g in bad: mark(session,
    ids=[t.id for t in groups[g]])`); a parameter inside a subquery of the `in_()`
    (`in_(select(O.id).where(O.id == owner_id))`) is one item, not a group, and a
    literal list written out item by item (`load(session, [item.id])`, also bound to
    a local first, `ids = [item.id]`, or `in_([f"k:{e.id}", ...])` in the helper) is
    one item too: both still count. A `text()` statement that only
    takes a PostgreSQL advisory lock (`SELECT pg_advisory_xact_lock(:key)`) is a lock
    per key by design, not a query, and neither is a helper whose only statement it is.
    Test modules are skipped.
    Sessions are recognized by their type (`Session`, `AsyncSession`, a
    `sessionmaker` instance, what a `get_db` dependency yields), so untyped objects
    are only trusted under the usual names (`db`, `session`), or when a `with` block
    opens them from a factory the app keeps on its state (`async with
    request.app.state.db() as conn:`) and uses them like a session (`conn.scalars(...)`,
    `conn.execute(select(...))`). Only SQLAlchemy and
    SQLModel sessions (and `databases.Database`) are covered, not raw asyncpg or
    DB-API connections.

    ## Example
    ```python
    for item in payload.items:
        book = db.get(Book, item.book_id)
        order.total += book.price * item.quantity
    ```

    ## Use instead
    ```python
    ids = [item.book_id for item in payload.items]
    books = {b.id: b for b in db.scalars(select(Book).where(Book.id.in_(ids)))}
    for item in payload.items:
        book = books[item.book_id]
    ```

    ## Fix safety
    There is no automatic fix.
    """
    if not _inside_loop(ctx.stack):
        return  # most calls: `iteration_loops` would find nothing
    loops = iteration_loops(ctx.stack, node)
    first = next(loops, None)
    if first is None or is_test_module(ctx.module):
        return
    st = state(ctx.model)
    fn = ctx.function()
    hit = session_call(st, ctx.module, node, fn, QUERY_METHODS)
    parent_of = _stack_parent(ctx.stack)
    if hit is not None and _lazy(st, fn, node, parent_of):
        return  # builds a subquery for one statement after the loop
    if hit is not None and _advisory_lock(node):
        return  # `pg_advisory_xact_lock(:key)`: one lock per key is the point
    if hit is not None and _writing_query(st, fn, node, parent_of, schema=True):
        return  # one INSERT/UPDATE/DELETE per item: row-by-row writing (FAA409), not a read
    message_head: str
    batches: list[ast.expr] = []
    if hit is not None:
        message_head = f"`{hit[0]}` runs a query"
    else:
        if not isinstance(node.func, (ast.Name, ast.Attribute)):
            return
        callee = st.project.function(resolve_callee(st.project, ctx.module, node.func, fn))
        if callee is None or callee is fn or is_memoized(callee, ctx.project):
            return
        written = fn is not None and _result_written(st, fn, node, parent_of)
        inner = _first_read_query(st, callee, node, fn, written=written)
        if inner is None:
            return
        batches = _batch_arguments(st, fn, callee, inner[0], node)
        owner = st.project.enclosing_class(callee)
        label = f"{owner.node.name}.{callee.name}" if owner else callee.display
        message_head = f"`{label}()` runs a query (`{inner[1]}`)"
    for loop in (first, *loops):
        if batches and _batched_per_item(ctx, fn, loop, batches):
            continue  # the helper's `in_()` takes a group built from this loop's item
        if collection_loop(loop, ctx, node):
            if fn is not None and _per_item_write_in_loop(st, fn, first, node):
                return  # part of a per-item write in the loop body (FAA409's concern)
            assert loop.iter is not None
            where = ast.unparse(loop.iter)
            where = where if len(where) <= 40 else where[:37] + "..."
            yield Report(node, f"{message_head} once per item of `{where}` (N+1 queries)")
            return
