"""What `add resource` reads from the target project, statically (nothing is imported):
the layout it relies on, the models and their tables, and the Alembic revision chain."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from fastapi_architect.generator.errors import GeneratorError
from fastapi_architect.generator.fieldcode import RefTarget
from fastapi_architect.generator.naming import ResourceName

ROUTER = Path("app/api/v1/router.py")
MODELS_INIT = Path("app/models/__init__.py")
VERSIONS = Path("migrations/versions")

# module -> names the generated code imports from it
REQUIRED_NAMES: dict[Path, frozenset[str]] = {
    ROUTER: frozenset({"api_router"}),
    MODELS_INIT: frozenset({"__all__"}),
    Path("app/db/base.py"): frozenset({"Base", "IdMixin", "TimestampMixin"}),
    Path("app/models/user.py"): frozenset({"User"}),
    Path("app/schemas/common.py"): frozenset(
        {"MAX_ID", "MAX_OFFSET", "Page", "PlainText", "non_nullable", "problem_responses"}
    ),
    Path("app/schemas/user.py"): frozenset({"UserPublic"}),
    Path("app/api/deps.py"): frozenset({"CurrentUser", "IdPath", "SessionDep"}),
    Path("app/core/errors.py"): frozenset(
        {"ConflictError", "NotFoundError", "PermissionDeniedError"}
    ),
    Path("tests/conftest.py"): frozenset({"UserFactory"}),
}
_LEADING_NUMBER = re.compile(r"(\d+)")


def parse(project: Path, relative: Path) -> ast.Module:
    """Parse one file of the project, or refuse."""
    path = project / relative
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as error:
        raise GeneratorError(f"cannot read {relative.as_posix()}: {error}") from None


def bound_names(module: ast.Module) -> set[str]:
    """Names a module binds at its top level: imports, classes, functions, assignments."""
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def check_layout(project: Path, *, extra: dict[Path, frozenset[str]] | None = None) -> None:
    """Refuse unless `project` has the generated layout that `add resource` extends."""
    if not project.is_dir():
        raise GeneratorError(f"{project} is not a directory")
    required = dict(REQUIRED_NAMES)
    for path, names in (extra or {}).items():
        required[path] = required.get(path, frozenset()) | names
    hint = "; run it inside a project made by `fastapi-architect new` (or with its layout)"
    if not (project / VERSIONS).is_dir():
        raise GeneratorError(f"{VERSIONS.as_posix()}/ is missing in {project}{hint}")
    for relative, names in required.items():
        if not (project / relative).is_file():
            raise GeneratorError(f"{relative.as_posix()} is missing in {project}{hint}")
        missing = sorted(names - bound_names(parse(project, relative)))
        if missing:
            raise GeneratorError(
                f"{relative.as_posix()} does not define {', '.join(missing)}; "
                f"add resource needs the generated project layout{hint}"
            )


# ------------------------------------------------------------------ models


def _class(module: ast.Module, name: str) -> ast.ClassDef | None:
    for node in module.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    return None


def _assigned(body: list[ast.stmt], name: str) -> ast.expr | None:
    """The value last assigned to `name` in a body (`x = ...` or `x: T = ...`)."""
    found: ast.expr | None = None
    for node in body:
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found = node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and node.value is not None
        ):
            found = node.value
    return found


def _string_assignment(body: list[ast.stmt], name: str) -> str | None:
    value = _assigned(body, name)
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return None


def _has_integer_id(cls: ast.ClassDef) -> bool:
    if any(isinstance(base, ast.Name) and base.id == "IdMixin" for base in cls.bases):
        return True
    for node in cls.body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "id"
        ):
            return ast.unparse(node.annotation).replace(" ", "") in ("Mapped[int]", "int")
    return False


def find_model(project: Path, name: ResourceName) -> RefTarget | None:
    """The model of resource `name` (app/models/<singular>.py, class <Name>), if any;
    refuse one that is not usable as a reference target."""
    relative = Path("app/models") / f"{name.singular}.py"
    if not (project / relative).is_file():
        return None
    cls = _class(parse(project, relative), name.class_name)
    if cls is None:
        return None
    where = f"{name.class_name} ({relative.as_posix()})"
    table = _string_assignment(cls.body, "__tablename__")
    if table is None:
        raise GeneratorError(f"{where} has no literal __tablename__ to point a foreign key to")
    if not _has_integer_id(cls):
        raise GeneratorError(f"{where} has no integer `id` primary key (IdMixin) to point to")
    if name.class_name not in bound_names(parse(project, MODELS_INIT)):
        raise GeneratorError(f"{where} is not imported in {MODELS_INIT.as_posix()}")
    return RefTarget(
        class_name=name.class_name,
        module=f"app.models.{name.singular}",
        table=table,
        delete_path=_delete_path(project, name),
    )


def _router_prefix(module: ast.Module, variable: str) -> str | None:
    """The literal `prefix=` of `<variable> = APIRouter(...)` in a module."""
    value = _assigned(module.body, variable)
    if isinstance(value, ast.Call):
        for keyword in value.keywords:
            if keyword.arg == "prefix" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    return None


def _delete_path(project: Path, name: ResourceName) -> str | None:
    """`/api/v1/authors` when app/api/v1/<plural>.py is a generated-style router with a
    `delete_<singular>` route, registered in the v1 router."""
    relative = Path("app/api/v1") / f"{name.plural}.py"
    if not (project / relative).is_file():
        return None
    module = parse(project, relative)
    deletes = any(
        isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
        and node.name == f"delete_{name.singular}"
        for node in module.body
    )
    prefix = _router_prefix(module, "router")
    version = _router_prefix(parse(project, ROUTER), "api_router")
    if not deletes or prefix is None or version is None:
        return None
    if name.plural not in bound_names(parse(project, ROUTER)):
        return None
    return version + prefix


def tables(project: Path) -> dict[str, str]:
    """Table name -> where it is defined: every `__tablename__` of app/models and every
    `op.create_table` of the migrations."""
    found: dict[str, str] = {}
    for path in sorted((project / "app/models").glob("*.py")):
        relative = path.relative_to(project)
        for cls in parse(project, relative).body:
            if isinstance(cls, ast.ClassDef):
                table = _string_assignment(cls.body, "__tablename__")
                if table is not None:
                    found.setdefault(table, relative.as_posix())
    for path in sorted((project / VERSIONS).glob("*.py")):
        relative = path.relative_to(project)
        for node in ast.walk(parse(project, relative)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "create_table"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, relative.as_posix())
    return found


def route_prefixes(project: Path) -> dict[str, str]:
    """`APIRouter(prefix=...)` of every module in app/api/v1 -> the module."""
    found: dict[str, str] = {}
    for path in sorted((project / "app/api/v1").glob("*.py")):
        relative = path.relative_to(project)
        for node in ast.walk(parse(project, relative)):
            if isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id == "APIRouter")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "APIRouter")
            ):
                for keyword in node.keywords:
                    value = keyword.value
                    if (
                        keyword.arg == "prefix"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        found.setdefault(value.value, relative.as_posix())
    return found


# ------------------------------------------------------------------ migrations


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revisions: tuple[str, ...]
    path: str


def _down_revisions(value: ast.expr, where: str) -> tuple[str, ...]:
    if isinstance(value, ast.Constant) and value.value is None:
        return ()
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return (value.value,)
    if isinstance(value, ast.Tuple | ast.List) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in value.elts
    ):
        return tuple(str(item.value) for item in value.elts if isinstance(item, ast.Constant))
    raise GeneratorError(f"{where}: down_revision is not a literal (None, a string or a tuple)")


def revisions(project: Path) -> list[Revision]:
    """Every revision of migrations/versions, read statically."""
    found: list[Revision] = []
    for path in sorted((project / VERSIONS).glob("*.py")):
        relative = path.relative_to(project)
        where = relative.as_posix()
        module = parse(project, relative)
        revision = _string_assignment(module.body, "revision")
        down = _assigned(module.body, "down_revision")
        if revision is None and down is None and path.name == "__init__.py":
            continue
        if revision is None or down is None:
            raise GeneratorError(
                f"{where}: no literal `revision` and `down_revision` to chain the new revision to"
            )
        found.append(Revision(revision, _down_revisions(down, where), where))
    return found


def head(project: Path) -> tuple[str | None, list[Revision]]:
    """The single head revision (None when there is no revision yet), and all revisions."""
    found = revisions(project)
    referenced = {down for revision in found for down in revision.down_revisions}
    heads = [revision for revision in found if revision.revision not in referenced]
    if found and not heads:
        raise GeneratorError(f"{VERSIONS.as_posix()}: the revisions form a cycle, no head")
    if len(heads) > 1:
        listed = ", ".join(f"{h.revision} ({h.path})" for h in heads)
        raise GeneratorError(
            f"{VERSIONS.as_posix()} has several heads: {listed}; merge them first "
            "(alembic merge heads)"
        )
    return (heads[0].revision if heads else None), found


def next_revision(found: list[Revision], table: str) -> str:
    """`0002_create_<table>`: one more than the highest leading number, at most 32
    characters (the width of alembic_version.version_num)."""
    numbers = [int(m.group(1)) for r in found if (m := _LEADING_NUMBER.match(r.revision))]
    number = max(numbers, default=len(found)) + 1
    return f"{number:04d}_create_{table}"[:32].rstrip("_")
