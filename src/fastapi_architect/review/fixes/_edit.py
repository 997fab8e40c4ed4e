"""Small libcst helpers shared by the fixers: which name `fastapi.status` has in a
module, and appending a keyword argument to a call in the call's own layout."""

from __future__ import annotations

import sys

import libcst as cst

from fastapi_architect.review.fixes._base import FixContext, Import

# The packages `status` is imported from (`from fastapi import status`).
STATUS_PACKAGES = ("fastapi", "starlette")


class Names(cst.CSTVisitor):
    """Every name the module reads or binds (attribute names and keyword names aside);
    names bound by `from x import ...` too unless `imports=False`."""

    def __init__(self, imports: bool = True) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.imports = imports

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if self.imports and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                bound = alias.asname.name if alias.asname else alias.name
                if isinstance(bound, cst.Name):
                    self.names.add(bound.value)
        return False


def status_module_name(ctx: FixContext) -> tuple[str, Import | None] | str:
    """The name `fastapi.status` is bound to in the module, and the import to add when it
    is not imported yet; or why it cannot be used (`status` already means something else)."""
    return imported_name(ctx, STATUS_PACKAGES, "status", "fastapi")


def httpstatus_class_name(ctx: FixContext) -> tuple[str, Import | None] | str:
    """The name `http.HTTPStatus` is bound to in the module, and the import to add when
    it is not imported yet; or why it cannot be used."""
    return imported_name(ctx, ("http",), "HTTPStatus", "http")


def imported_name(
    ctx: FixContext, modules: tuple[str, ...], name: str, default_module: str
) -> tuple[str, Import | None] | str:
    """The name a module-level `from <one of modules> import <name>` binds, and None; or
    `name` with the import to add from `default_module` when nothing imports it; or why
    it cannot be used (`name` already means something else in the module)."""
    for statement in ctx.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                continue
            if small.relative or small.module is None:
                continue
            if ctx.module.code_for_node(small.module) not in modules:
                continue
            for alias in small.names:
                if isinstance(alias.name, cst.Name) and alias.name.value == name:
                    bound = alias.asname.name if alias.asname else alias.name
                    if isinstance(bound, cst.Name):
                        return bound.value, None
    names = Names()
    ctx.module.visit(names)
    if name in names.names:
        return f"the name `{name}` already means something else in this module"
    return name, Import(default_module, name)


def status_attribute(module_name: str, constant: str) -> cst.Attribute:
    return cst.Attribute(value=cst.Name(module_name), attr=cst.Name(constant))


def append_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `name=value` added after its last argument, following the call's layout
    (one line, or one argument per line with a trailing comma), comments kept in place."""
    new = cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    trailing = last.comma
    if not isinstance(trailing, cst.Comma):
        # The space before `)` (a newline, in a call spread over lines) moves to the new last.
        args[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        return call.with_changes(
            args=[*args, new.with_changes(whitespace_after_arg=last.whitespace_after_arg)]
        )
    after = trailing.whitespace_after
    if not isinstance(after, cst.ParenthesizedWhitespace):
        # `f(a, b,)` on one line
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return call.with_changes(args=[*args, new.with_changes(comma=trailing)])
    # One argument per line: the new one goes on its own line, indented like the others.
    lead = call.whitespace_before_args
    if not isinstance(lead, cst.ParenthesizedWhitespace) and len(args) >= 2:
        lead = args[-2].comma.whitespace_after if isinstance(args[-2].comma, cst.Comma) else lead
    if not isinstance(lead, cst.ParenthesizedWhitespace):
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return call.with_changes(args=[*args, new.with_changes(comma=trailing)])
    args[-1] = last.with_changes(
        comma=trailing.with_changes(
            whitespace_after=cst.ParenthesizedWhitespace(
                first_line=after.first_line,  # a comment after the old last argument
                empty_lines=[],
                indent=lead.indent,
                last_line=lead.last_line,
            )
        )
    )
    closing = cst.Comma(
        whitespace_after=cst.ParenthesizedWhitespace(
            first_line=cst.TrailingWhitespace(),
            empty_lines=after.empty_lines,
            indent=after.indent,
            last_line=after.last_line,
        )
    )
    return call.with_changes(args=[*args, new.with_changes(comma=closing)])


def _sort_key(name: str) -> tuple[int, str]:
    """ruff's (isort's) order inside `from x import ...`: CONSTANTS, Classes, functions."""
    if name.isupper() and len(name) > 1:
        return 0, name
    if name[:1].isupper():
        return 1, name
    return 2, name


def _without_comment(comma: cst.Comma) -> cst.Comma:
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        return comma.with_changes(
            whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace())
        )
    return comma


def add_to_from_import(node: cst.ImportFrom, name: str) -> cst.ImportFrom:
    """`node` with `name` imported too, at its sorted place, in the statement's layout."""
    if isinstance(node.names, cst.ImportStar):
        return node
    names = list(node.names)
    if any(alias.asname is None and alias.name.value == name for alias in names):
        return node
    new = cst.ImportAlias(name=cst.Name(name))
    keys = [_sort_key(alias.evaluated_name) for alias in names]
    at = next((i for i, key in enumerate(keys) if key > _sort_key(name)), len(names))
    before = names[at - 1].comma if 0 < at < len(names) else None
    if isinstance(before, cst.Comma):
        names.insert(at, new.with_changes(comma=_without_comment(before)))
        return node.with_changes(names=names)
    last = names[-1]
    trailing = last.comma
    if not isinstance(trailing, cst.Comma):
        names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return node.with_changes(names=[*names, new])
    after = trailing.whitespace_after
    lead: cst.BaseParenthesizableWhitespace | None = None
    if len(names) >= 2 and isinstance(names[-2].comma, cst.Comma):
        lead = names[-2].comma.whitespace_after
    elif node.lpar is not None:
        lead = node.lpar.whitespace_after
    if not (
        isinstance(after, cst.ParenthesizedWhitespace)
        and isinstance(lead, cst.ParenthesizedWhitespace)
    ):
        names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return node.with_changes(names=[*names, new.with_changes(comma=trailing)])
    names[-1] = last.with_changes(
        comma=trailing.with_changes(
            whitespace_after=cst.ParenthesizedWhitespace(
                first_line=after.first_line, indent=lead.indent, last_line=lead.last_line
            )
        )
    )
    closing = cst.Comma(
        whitespace_after=cst.ParenthesizedWhitespace(
            first_line=cst.TrailingWhitespace(),
            empty_lines=after.empty_lines,
            indent=after.indent,
            last_line=after.last_line,
        )
    )
    return node.with_changes(names=[*names, new.with_changes(comma=closing)])


def find_from_import(module: cst.Module, name: str) -> cst.ImportFrom | None:
    """The first top-level `from name import ...` (not relative, not `*`)."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, cst.ImportFrom)
                and not small.relative
                and small.module is not None
                and module.code_for_node(small.module) == name
                and not isinstance(small.names, cst.ImportStar)
            ):
                return small
    return None


def _section(module_name: str) -> int:
    """Where isort/ruff put an absolute import: `__future__`, the standard library, the
    others (relative imports, section 3, are told apart by `_import_key`)."""
    root = module_name.split(".")[0]
    if root == "__future__":
        return 0
    return 1 if root in sys.stdlib_module_names else 2


def _import_key(statement: cst.CSTNode, module: cst.Module) -> tuple[int, bool, str] | None:
    """The place isort's (and ruff's) default order gives an import statement: its
    section, then plain `import x` before `from x import y`, then the module name."""
    if not isinstance(statement, cst.SimpleStatementLine) or not statement.body:
        return None
    first = statement.body[0]
    if isinstance(first, cst.ImportFrom):
        if first.relative or first.module is None:
            return 3, True, "~"  # relative imports come last
        name = module.code_for_node(first.module)
        return _section(name), True, name.lower()
    if isinstance(first, cst.Import):
        name = module.code_for_node(first.names[0].name)
        return _section(name), False, name.lower()
    return None


def add_import_statement(module: cst.Module, item: Import) -> cst.Module | None:
    """`module` with `from item.module import item.name` added to its leading imports, in
    its isort section and sorted place; None when the module has no leading imports."""
    body = list(module.body)
    start = 0
    if (
        body
        and isinstance(body[0], cst.SimpleStatementLine)
        and isinstance(body[0].body[0], cst.Expr)
    ):
        start = 1  # the docstring
    keys: list[tuple[int, bool, str]] = []
    for statement in body[start:]:
        found = _import_key(statement, module)
        if found is None:
            break
        keys.append(found)
    if not keys:
        return None
    end = start + len(keys)
    key = (_section(item.module), True, item.module.lower())
    at = next((start + i for i, other in enumerate(keys) if other > key), end)
    statement = cst.parse_statement(
        f"from {item.module} import {item.name}{module.default_newline}",
        config=module.config_for_parsing,
    )
    assert isinstance(statement, cst.SimpleStatementLine)
    # One blank line between sections, none within one; a first import keeps the lines
    # that stood before the old first (after the docstring).
    after_other_section = at > start and keys[at - start - 1][0] != key[0]
    lead: list[cst.EmptyLine] = [cst.EmptyLine()] if after_other_section else []
    if at < end:
        following = body[at]
        assert isinstance(following, cst.SimpleStatementLine)
        blank = [line for line in following.leading_lines if line.comment is None]
        comments = [line for line in following.leading_lines if line.comment is not None]
        if at == start:
            lead = blank
        before_other_section = keys[at - start][0] != key[0]
        body[at] = following.with_changes(
            leading_lines=[*([cst.EmptyLine()] if before_other_section else []), *comments]
        )
    statement = statement.with_changes(leading_lines=lead)
    body.insert(at, statement)
    return module.with_changes(body=body)


def remove_from_import(node: cst.ImportFrom, name: str) -> cst.ImportFrom:
    """`node` without the alias `name` (kept when it is the only name imported)."""
    if isinstance(node.names, cst.ImportStar) or len(node.names) < 2:
        return node
    names = list(node.names)
    at = next(
        (i for i, a in enumerate(names) if a.asname is None and a.evaluated_name == name), None
    )
    if at is None:
        return node
    removed = names.pop(at)
    if at == len(names):  # it was the last: the one before takes its comma (or none)
        comma = removed.comma
        names[-1] = names[-1].with_changes(
            comma=_without_comment(comma) if isinstance(comma, cst.Comma) else comma
        )
    return node.with_changes(names=names)
