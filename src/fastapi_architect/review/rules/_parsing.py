"""What counts as a parser of the client's input, shared by FAA601 and FAA603.

A `try` that only feeds the request's values to parsers fails only on the client's
input: FAA601 lets the parser's message reach the client, FAA603 lets a catch-all
answer 4xx around it. Both rules ask `parser_call` which calls are such parsers."""

from __future__ import annotations

import ast

from fastapi_architect.model.astutil import last_name, walk_nodes
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import Function, Module, Project
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.index import project_index
from fastapi_architect.review.rules._orm import db_kind, state

# Calls that touch files, processes or sockets: their `OSError`s carry paths and hosts.
IO_MODULES = frozenset(
    {"os", "shutil", "pathlib", "io", "tempfile", "subprocess", "socket", "aiofiles", "anyio"}
)
IO_NAMES = frozenset({"open", "io.open", "os.open", "os.fdopen"})
IO_METHODS = frozenset(
    {
        "open",
        "read",
        "readline",
        "readlines",
        "write",
        "writelines",
        "read_text",
        "write_text",
        "read_bytes",
        "write_bytes",
        "mkdir",
        "makedirs",
        "unlink",
        "remove",
        "rename",
        "replace",
        "rmdir",
        "rmtree",
        "touch",
        "stat",
        "chmod",
        "iterdir",
        "exists",
        "is_file",
        "is_dir",
        "glob",
        "rglob",
        "connect",
        "recv",
    }
)
# Name prefixes of a project function that only parses or checks the value it is given
# (`SpanQuery.from_dict(data)`, `parse_filter(text)`, `validate_cron(expr)`).
PARSE_PREFIXES = ("parse", "from_", "validate", "decode", "deserialize", "loads")


def does_io(project: Project, module: Module, scope: Function | None, nodes: list[ast.AST]) -> bool:
    """Does any call of these nodes touch files, processes or sockets?"""
    for node in walk_nodes(nodes):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr in IO_METHODS:
            return True
        callee = project.resolve(module, node.func, scope)
        if callee is not None and (callee in IO_NAMES or callee.split(".", 1)[0] in IO_MODULES):
            return True
    return False


def uses_database(model: AppModel, fn: Function, nodes: list[ast.AST]) -> bool:
    """Does the function call a method of a database session or connection (`db.get`,
    `session.execute`)? Its errors are about stored data, not the client's input."""
    st = state(model)
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and db_kind(st, fn.module, node.func.value, fn) is not None
        for node in walk_nodes(nodes)
    )


def project_roots(model: AppModel) -> frozenset[str]:
    """The top-level packages of the reviewed modules (`phoenix` for `phoenix.server.*`)."""
    return project_index(model, _roots)


def _roots(model: AppModel) -> frozenset[str]:
    return frozenset(m.name.split(".", 1)[0] for m in model.project.module_list)


def parser_call(ctx: FileContext, call: ast.Call) -> bool:
    """A call of a project function named like a parser (`SpanQuery.from_dict(data)`,
    `parse_filter(text)`): a plain (not async) function of the reviewed code that does
    no I/O and calls no database session, or a function of the project's own top-level package defined outside the
    reviewed folder (`phoenix.trace.dsl` when reviewing `phoenix/server`)."""
    callee = ctx.resolve(call.func)
    if callee is None or not last_name(callee).startswith(PARSE_PREFIXES):
        return False
    project = ctx.project
    fn = project.function(callee)
    if fn is not None:
        body: list[ast.AST] = list(fn.node.body)
        return (
            not fn.is_async
            and not does_io(project, fn.module, fn, body)
            and not uses_database(ctx.model, fn, body)
        )
    owner = callee.rpartition(".")[0]
    if (
        project.class_(callee) is not None
        or project.class_(owner) is not None
        or callee.split(".", 1)[0] not in project_roots(ctx.model)
    ):
        return False
    # The longest reviewed prefix must be a package whose submodule is not reviewed
    # (`phoenix` of `phoenix.trace.dsl.SpanQuery.from_dict`), not a reviewed module.
    module, rest = project.split(callee)
    head = rest.split(".", 1)[0]
    return module is None or (
        module.is_package
        and not any(
            head in names
            for names in (module.functions, module.classes, module.assignments, module.imports)
        )
    )
