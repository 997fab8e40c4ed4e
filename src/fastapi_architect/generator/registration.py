"""The two edits `add resource` makes to existing files, located with `ast` and applied
as line insertions, so the rest of each file stays byte for byte the same:

- app/api/v1/router.py: `from app.api.v1 import <module>` and, after the last existing
  one, `api_router.include_router(<module>.router)`;
- app/models/__init__.py: `from app.models.<module> import <Class>` and `"<Class>"` in
  `__all__`.

Imports go at their sorted place among their siblings (isort order), after the last one
otherwise. Each edit leaves the text unchanged when the registration is already there.
"""

from __future__ import annotations

import ast

from fastapi_architect.generator.errors import GeneratorError


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _insert_line(text: str, after_line: int, line: str) -> str:
    """Insert `line` after line number `after_line` (1-based; 0 inserts at the top)."""
    lines = _lines(text)
    newline = _newline(text)
    if after_line > 0 and not lines[after_line - 1].endswith(("\n", "\r")):
        lines[after_line - 1] += newline
    lines.insert(after_line, line + newline)
    return "".join(lines)


def _parse(text: str, where: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as error:
        raise GeneratorError(f"cannot parse {where}: {error}") from None


def _import_line(module: ast.Module, siblings: list[tuple[str, ast.ImportFrom]], key: str) -> int:
    """The line after which an import sorted by `key` goes among `siblings` (imports with
    their sort keys): before the first greater one, else after the last one, else after
    the last import of the module (0 when there is none)."""
    for sibling_key, node in siblings:
        if sibling_key.lower() > key.lower():
            return node.lineno - 1
    if siblings:
        return max(node.end_lineno or node.lineno for _, node in siblings)
    imports = [node for node in module.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return max((node.end_lineno or node.lineno for node in imports), default=0)


def register_router(text: str, module_name: str) -> str:
    """Import `app.api.v1.<module_name>` and include its router in `api_router`."""
    where = "app/api/v1/router.py"
    tree = _parse(text, where)
    include = f"api_router.include_router({module_name}.router)"
    imported = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "app.api.v1"
        and any(alias.name == module_name and alias.asname is None for alias in node.names)
        for node in tree.body
    )
    included = any(ast.unparse(node) == include for node in tree.body)
    if imported and included:
        return text

    anchor = None
    for node in tree.body:
        if _is_include(node) or (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "api_router" for t in node.targets)
        ):
            anchor = node
    if anchor is None:
        raise GeneratorError(f"{where} has no `api_router = APIRouter(...)` to add a router to")
    if not included:
        text = _insert_line(text, anchor.end_lineno or anchor.lineno, include)
    if not imported:
        siblings = [
            (node.names[0].name, node)
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module == "app.api.v1" and node.level == 0
        ]
        after = _import_line(tree, siblings, module_name)
        text = _insert_line(text, after, f"from app.api.v1 import {module_name}")
    return text


def _is_include(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "include_router"
        and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id == "api_router"
    )


def register_model(text: str, module_name: str, class_name: str) -> str:
    """Import `<Class>` from `app.models.<module_name>` and list it in `__all__`."""
    where = "app/models/__init__.py"
    tree = _parse(text, where)
    package = f"app.models.{module_name}"
    imported = any(
        isinstance(node, ast.ImportFrom)
        and node.module == package
        and any(alias.name == class_name for alias in node.names)
        for node in tree.body
    )
    text = _add_to_all(text, tree, class_name, where)
    if not imported:
        tree = _parse(text, where)
        siblings = [
            (node.module, node)
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module is not None
            and node.module.startswith("app.models.")
        ]
        after = _import_line(tree, siblings, package)
        text = _insert_line(text, after, f"from {package} import {class_name}")
    return text


def _add_to_all(text: str, tree: ast.Module, name: str, where: str) -> str:
    """Insert `"name"` in the `__all__` list, at its sorted place, in the list's style."""
    listing: ast.List | ast.Tuple | None = None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            listing = node.value
    if listing is None:
        raise GeneratorError(f"{where} has no literal `__all__` list to add {name!r} to")
    items = [item for item in listing.elts if isinstance(item, ast.Constant)]
    if any(item.value == name for item in items):
        return text
    lines = _lines(text)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def position(line: int, column: int) -> int:
        # ast columns are UTF-8 byte offsets; the project's files are ASCII here
        return offsets[line - 1] + column

    multiline = listing.lineno != listing.end_lineno
    greater = [item for item in items if str(item.value).lower() > name.lower()]
    if greater:
        first = greater[0]
        start = position(first.lineno, first.col_offset)
        if multiline and lines[first.lineno - 1][: first.col_offset].strip() == "":
            indent = lines[first.lineno - 1][: first.col_offset]
            insertion = f'"{name}",{_newline(text)}{indent}'
        else:
            insertion = f'"{name}", '
        return text[:start] + insertion + text[start:]
    if not items:
        end = position(listing.end_lineno or listing.lineno, (listing.end_col_offset or 1) - 1)
        return text[:end] + f'"{name}"' + text[end:]
    last = items[-1]
    end = position(last.end_lineno or last.lineno, last.end_col_offset or 0)
    has_comma = text[end:].lstrip(" \t").startswith(",")
    if multiline and lines[last.lineno - 1][: last.col_offset].strip() == "":
        indent = lines[last.lineno - 1][: last.col_offset]
        if has_comma:
            comma_end = text.index(",", end) + 1
            return text[:comma_end] + f'{_newline(text)}{indent}"{name}",' + text[comma_end:]
        return text[:end] + f',{_newline(text)}{indent}"{name}",' + text[end:]
    return text[:end] + f', "{name}"' + text[end:]
