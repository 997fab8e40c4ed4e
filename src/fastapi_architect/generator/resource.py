"""`add resource`: plan every file of a new resource (refusing, with nothing written, at
the first problem), then write them.

The resource follows the project's Product: model (with an owner, the user who created
it), create/update/read schemas and the list query, repository (owner loaded in the same
query), service (changes by the owner or a superuser), router registered in the v1 router,
an Alembic revision chained after the single head, and tests.

    plan = plan_resource(Path("orders-service"), "order-line", ["quantity:int", ...])
    plan.describe()      # ["create app/models/order_line.py", ..., "modify app/..."]
    apply_plan(plan)     # writes; refuses if the project changed since the plan
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from fastapi_architect.generator.errors import GeneratorError
from fastapi_architect.generator.fieldcode import RefTarget
from fastapi_architect.generator.fields import Field, parse_fields
from fastapi_architect.generator.layout import (
    MODELS_INIT,
    ROUTER,
    VERSIONS,
    bound_names,
    check_layout,
    find_model,
    head,
    next_revision,
    parse,
    route_prefixes,
    tables,
)
from fastapi_architect.generator.naming import ResourceName, resource_name
from fastapi_architect.generator.registration import register_model, register_router
from fastapi_architect.generator.render import TEMPLATES, render_tree
from fastapi_architect.generator.resource_context import template_variables

RESOURCE_TEMPLATES = TEMPLATES / "resource"
MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names, and Alembic would see a change

# Names the generated functions use as local variables or parameters next to the
# resource's singular name (`order_line = await service.create(...)`).
RESERVED_RESOURCE_NAMES = frozenset(
    {
        "actor",
        "cls",
        "column",
        "conditions",
        "current_user",
        "data",
        "descending",
        "field",
        "item",
        "items",
        "location",
        "owner",
        "query",
        "request",
        "response",
        "self",
        "service",
        "session",
        "sort",
        "statement",
        "total",
        "value",
        "values",
    }
)


@dataclass(frozen=True)
class FileChange:
    """One file the plan writes: a new one (`original` is None) or an edited one."""

    path: Path  # relative to the project
    content: str
    original: str | None = None

    @property
    def action(self) -> str:
        return "create" if self.original is None else "modify"


@dataclass(frozen=True)
class ResourcePlan:
    """Everything `add resource` will write, computed without writing anything."""

    project: Path
    name: ResourceName
    fields: tuple[Field, ...]
    revision: str
    down_revision: str | None
    changes: tuple[FileChange, ...]

    @property
    def files(self) -> list[Path]:
        """The files written or modified, relative to the project, in writing order."""
        return [change.path for change in self.changes]

    def describe(self) -> list[str]:
        """`create app/models/book.py`, ..., `modify app/api/v1/router.py`."""
        return [f"{change.action} {change.path.as_posix()}" for change in self.changes]


def _target_files(name: ResourceName) -> dict[str, Path]:
    """Template name -> file of the project (the migration is named by its revision)."""
    return {
        "model.py": Path("app/models") / f"{name.singular}.py",
        "schemas.py": Path("app/schemas") / f"{name.singular}.py",
        "repository.py": Path("app/repositories") / f"{name.singular}.py",
        "service.py": Path("app/services") / f"{name.singular}.py",
        "router.py": Path("app/api/v1") / f"{name.plural}.py",
        "tests.py": Path("tests") / f"test_{name.plural}.py",
    }


def _check_new(project: Path, name: ResourceName) -> None:
    """Refuse a resource whose files, table, class, router or prefix already exist."""
    if name.singular in RESERVED_RESOURCE_NAMES:
        raise GeneratorError(
            f"resource name {name.singular!r} is reserved: the generated code uses it as a "
            "variable name; choose another one"
        )
    for path in _target_files(name).values():
        if (project / path).exists():
            raise GeneratorError(
                f"resource {name.singular!r} already exists: {path.as_posix()} is there"
            )
    existing_tables = tables(project)
    if name.table in existing_tables:
        raise GeneratorError(
            f"resource {name.singular!r} already exists: table {name.table!r} is defined "
            f"in {existing_tables[name.table]}"
        )
    if name.class_name in bound_names(parse(project, MODELS_INIT)):
        raise GeneratorError(
            f"resource {name.singular!r} already exists: {name.class_name} is imported in "
            f"{MODELS_INIT.as_posix()}"
        )
    if name.plural in bound_names(parse(project, ROUTER)):
        raise GeneratorError(
            f"resource {name.singular!r} already exists: {ROUTER.as_posix()} already "
            f"binds the name {name.plural!r}"
        )
    prefixes = route_prefixes(project)
    if name.route_prefix in prefixes:
        raise GeneratorError(
            f"resource {name.singular!r} already exists: the route prefix "
            f"{name.route_prefix!r} is used in {prefixes[name.route_prefix]}"
        )


def _resolve_targets(
    project: Path, name: ResourceName, fields: Sequence[Field]
) -> dict[str, RefTarget]:
    """Field name -> the model each reference points to; refuse references to nothing."""
    targets: dict[str, RefTarget] = {}
    for field in fields:
        if field.target is None:
            continue
        if field.target == name:
            if not field.optional:
                raise GeneratorError(
                    f"invalid field spec {field.spec!r}: a reference to the resource itself "
                    "must be optional (the first row has nothing to point to)"
                )
            targets[field.name] = RefTarget(
                name.class_name, f"app.models.{name.singular}", name.table
            )
            continue
        target = find_model(project, field.target)
        if target is None:
            raise GeneratorError(
                f"invalid field spec {field.spec!r}: resource {field.target.singular!r} does "
                f"not exist in this project (no class {field.target.class_name} in "
                f"app/models/{field.target.singular}.py); add it first"
            )
        targets[field.name] = target
    return targets


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # line endings kept as they are


def _check_identifiers(
    name: ResourceName, fields: Sequence[Field], targets: dict[str, RefTarget], owner: RefTarget
) -> None:
    identifiers = [name.table, f"pk_{name.table}", f"ix_{name.table}_created_at"]
    identifiers += [f"ix_{name.table}_owner_id", f"fk_{name.table}_owner_id_{owner.table}"]
    for field in fields:
        if field.unique or field.indexed:
            identifiers.append(f"ix_{name.table}_{field.name}")
        if field.name in targets:
            identifiers.append(f"fk_{name.table}_{field.name}_{targets[field.name].table}")
    for identifier in identifiers:
        if len(identifier) > MAX_IDENTIFIER:
            raise GeneratorError(
                f"the database name {identifier!r} would be longer than {MAX_IDENTIFIER} "
                "characters (PostgreSQL's limit); choose a shorter resource or field name"
            )


def _check_module(path: Path, source: str) -> None:
    """Refuse generated code that does not compile or binds one name twice (a resource or
    field name that clashes with a name the generated module imports)."""
    try:
        module = ast.parse(source, filename=path.as_posix())
        compile(module, path.as_posix(), "exec")
    except SyntaxError as error:
        raise GeneratorError(
            f"the generated {path.as_posix()} would not compile: {error}"
        ) from None
    seen: set[str] = set()
    for node in module.body:
        names: list[str] = []
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.asname or alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names = [node.name]
        for bound in names:
            if bound in seen and bound != "annotations":
                raise GeneratorError(
                    f"the name {bound!r} would be defined twice in {path.as_posix()}; "
                    "choose another resource or field name"
                )
            seen.add(bound)


def plan_resource(
    project: Path, name: str, specs: Sequence[str], *, now: datetime | None = None
) -> ResourcePlan:
    """Plan `add resource NAME SPEC...` in `project`; raise GeneratorError (nothing is
    written, ever) when the layout, the name or a field spec is wrong."""
    project = Path(project)
    resource = resource_name(name)
    fields = parse_fields(specs)
    extra: dict[Path, frozenset[str]] = {}
    if any(field.type == "datetime" for field in fields):
        extra[Path("app/db/base.py")] = frozenset({"UTCDateTime"})
    if any(field.type == "decimal" for field in fields):
        extra[Path("app/schemas/common.py")] = frozenset({"decimal_json_schema"})
    check_layout(project, extra=extra)
    _check_new(project, resource)
    targets = _resolve_targets(project, resource, fields)
    owner = find_model(project, resource_name("user"))
    if owner is None:  # check_layout saw app/models/user.py define User
        raise GeneratorError("app/models/user.py: User is not a model with a __tablename__")
    _check_identifiers(resource, fields, targets, owner)
    down_revision, found = head(project)
    revision = next_revision(found, resource.table)
    if any(r.revision == revision for r in found):
        raise GeneratorError(f"revision {revision!r} already exists in {VERSIONS.as_posix()}")
    migration = VERSIONS / f"{revision}.py"
    if (project / migration).exists():
        raise GeneratorError(f"{migration.as_posix()} already exists")

    variables = template_variables(
        resource,
        fields,
        targets,
        owner=owner,
        revision=revision,
        down_revision=down_revision,
        created=(now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S"),
    )
    rendered = {
        file.path.as_posix(): file.content.decode("utf-8")
        for file in render_tree(RESOURCE_TEMPLATES, variables)
    }
    destinations = {**_target_files(resource), "migration.py": migration}
    changes: list[FileChange] = []
    for template, destination in destinations.items():
        source = rendered[template]
        _check_module(destination, source)
        changes.append(FileChange(destination, source))

    models_text = _read(project / MODELS_INIT)
    router_text = _read(project / ROUTER)
    changes.append(
        FileChange(
            MODELS_INIT,
            register_model(models_text, resource.singular, resource.class_name),
            models_text,
        )
    )
    changes.append(FileChange(ROUTER, register_router(router_text, resource.plural), router_text))
    for change in changes[-2:]:
        _check_module(change.path, change.content)
    return ResourcePlan(
        project=project,
        name=resource,
        fields=tuple(fields),
        revision=revision,
        down_revision=down_revision,
        changes=tuple(changes),
    )


def apply_plan(plan: ResourcePlan) -> list[Path]:
    """Write the plan's files; refuse (writing nothing) when the project changed since
    the plan was made. Returns the files written, relative to the project."""
    for change in plan.changes:
        target = plan.project / change.path
        if change.original is None and target.exists():
            raise GeneratorError(f"{change.path.as_posix()} appeared since the plan was made")
        if change.original is not None and (
            not target.is_file() or _read(target) != change.original
        ):
            raise GeneratorError(f"{change.path.as_posix()} changed since the plan was made")
    for change in plan.changes:
        target = plan.project / change.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(change.content.encode("utf-8"))
    return plan.files


def add_resource(
    project: Path, name: str, specs: Sequence[str], *, dry_run: bool = False
) -> ResourcePlan:
    """Plan, then write unless `dry_run`; the plan lists the files either way."""
    plan = plan_resource(project, name, specs)
    if not dry_run:
        apply_plan(plan)
    return plan
