"""The variables of the resource templates: names, per-field code, import blocks, and the
blocks whose layout depends on name lengths (rendered here in ruff format style)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi_architect.generator.fieldcode import (
    PY_IMPORTS,
    RANKS,
    FieldCode,
    RefTarget,
    camel,
)
from fastapi_architect.generator.fields import Field
from fastapi_architect.generator.naming import ResourceName
from fastapi_architect.generator.pycode import LINE_LENGTH, Imports, chain, explode, fit, literal

_ALIASED = frozenset({"str", "text", "email", "int", "decimal", "ref"})


def signature(name: str, params: Sequence[str], returns: str = "None") -> str:
    """`async def name(params) -> returns:` at the top level, wrapped like ruff does."""
    return fit(f"async def {name}(", params, f") -> {returns}:")


def assignment(target: str, value: str, indent: int = 0) -> str:
    """`target = value`, the value in parentheses on its own line when too long."""
    pad = " " * indent
    flat = f"{pad}{target} = {value}"
    inner = f"{pad}    {value}"
    if len(flat) <= LINE_LENGTH or len(inner) > LINE_LENGTH:
        return flat
    return f"{pad}{target} = (\n{inner}\n{pad})"


def _codes(
    name: ResourceName, fields: Sequence[Field], targets: dict[str, RefTarget]
) -> list[FieldCode]:
    C = name.class_name
    taken = {
        "Annotated", "AfterValidator", "AwareDatetime", "BaseModel", "ConfigDict", "Decimal",
        "EmailStr", "Field", "MAX_ID", "MAX_OFFSET", "PlainText", "StrEnum", "StringConstraints",
        "UTC", "UTCTime", "UUID", "UserPublic",
        f"{C}Create", f"{C}Update", f"{C}Read", f"{C}Sort", f"{C}Query",
    }  # fmt: skip
    codes: list[FieldCode] = []
    for field in fields:
        alias = None
        if field.type in _ALIASED:
            alias = camel(field.name)
            while alias in taken:
                alias += "Value"
            taken.add(alias)
        codes.append(
            FieldCode(
                field=field,
                table=name.table,
                alias=alias,
                target=targets.get(field.name),
                plural=name.plural,
            )
        )
    return codes


def _python_types(codes: Sequence[FieldCode], imports: Imports) -> None:
    for code in codes:
        if code.py_type in PY_IMPORTS:
            imports.add(*PY_IMPORTS[code.py_type])


def _model_imports(name: ResourceName, codes: Sequence[FieldCode], owner: RefTarget) -> str:
    imports = Imports()
    _python_types(codes, imports)
    imports.add("sqlalchemy", "ForeignKey")
    imports.add("sqlalchemy.orm", "Mapped", "mapped_column", "relationship")
    imports.add("app.db.base", "Base", "IdMixin", "TimestampMixin")
    imports.add(owner.module, owner.class_name)
    for code in codes:
        if code.sa_model_name == "UTCDateTime":
            imports.add("app.db.base", "UTCDateTime")
        else:
            imports.add("sqlalchemy", code.sa_model_name)
    return imports.render()


def _schema_imports(name: ResourceName, codes: Sequence[FieldCode], validator: bool) -> str:
    types = {code.field.type for code in codes}
    imports = Imports()
    _python_types(codes, imports)
    imports.add("datetime", "datetime")
    imports.add("enum", "StrEnum")
    imports.add("pydantic", "BaseModel", "ConfigDict", "Field")
    imports.add("app.schemas.common", "MAX_ID", "MAX_OFFSET")
    imports.add("app.schemas.user", "UserPublic")
    if types & _ALIASED or "datetime" in types:
        imports.add("typing", "Annotated")
    if types & {"str", "text"}:
        imports.add("pydantic", "StringConstraints")
        imports.add("app.schemas.common", "PlainText")
    if "decimal" in types:
        imports.add("app.schemas.common", "decimal_json_schema")
    if "email" in types:
        imports.add("pydantic", "AfterValidator", "EmailStr")
    if "datetime" in types:
        imports.add("datetime", "UTC")
        imports.add("pydantic", "AfterValidator", "AwareDatetime")
    if "date" in types:
        imports.add("datetime", "date")
    if "uuid" in types:
        imports.add("uuid", "UUID")
    if validator:
        imports.add("pydantic", "field_validator")
        imports.add("app.schemas.common", "non_nullable")
    return imports.render()


def _repository_imports(name: ResourceName, codes: Sequence[FieldCode]) -> str:
    C, module = name.class_name, f"app.models.{name.singular}"
    imports = Imports()
    imports.add("collections.abc", "Sequence")
    imports.add("typing", "Any")
    imports.add("sqlalchemy", "ColumnElement", "func", "select")
    imports.add("sqlalchemy.ext.asyncio", "AsyncSession")
    imports.add("sqlalchemy.orm", "joinedload")
    imports.add(module, C)
    imports.add(f"app.schemas.{name.singular}", f"{C}Query", f"{C}Sort")
    for code in codes:
        if code.target is not None:
            imports.add("sqlalchemy", "exists")
            imports.add(code.target.module, code.target.class_name)
    return imports.render()


def _service_imports(name: ResourceName, codes: Sequence[FieldCode], owner: RefTarget) -> str:
    C, s = name.class_name, name.singular
    imports = Imports()
    imports.add("sqlalchemy.exc", "IntegrityError")
    imports.add("sqlalchemy.ext.asyncio", "AsyncSession")
    imports.add("app.core.errors", "ConflictError", "NotFoundError", "PermissionDeniedError")
    imports.add(f"app.models.{s}", C)
    imports.add(owner.module, owner.class_name)
    imports.add(f"app.repositories.{s}", f"{C}Repository")
    imports.add("app.schemas.common", "Page")
    imports.add(f"app.schemas.{s}", f"{C}Create", f"{C}Query", f"{C}Read", f"{C}Update")
    if any(code.target for code in codes):
        imports.add("typing", "Any")
    return imports.render()


def _router_imports(name: ResourceName) -> str:
    C, s = name.class_name, name.singular
    imports = Imports()
    imports.add("typing", "Annotated")
    imports.add("fastapi", "APIRouter", "Depends", "Query", "Request", "Response", "status")
    imports.add("app.api.deps", "CurrentUser", "IdPath", "SessionDep")
    imports.add("app.schemas.common", "Page", "problem_responses")
    imports.add(f"app.schemas.{s}", f"{C}Create", f"{C}Query", f"{C}Read", f"{C}Update")
    imports.add(f"app.services.{s}", f"{C}Service")
    return imports.render()


def _test_imports(codes: Sequence[FieldCode], owner: RefTarget) -> str:
    imports = Imports()
    imports.add("collections.abc", "Callable", "Iterator")
    imports.add("typing", "Any")
    imports.add_module("httpx").add_module("pytest")
    imports.add("sqlalchemy", "event")
    imports.add("sqlalchemy.ext.asyncio", "AsyncEngine")
    imports.add(owner.module, owner.class_name)
    imports.add("tests.conftest", "UserFactory")
    targets = [code.target for code in codes if code.target and not code.self_reference]
    if targets:
        imports.add_module("itertools")
        imports.add("datetime", "UTC", "date", "datetime")
        imports.add("decimal", "Decimal")
        imports.add("uuid", "UUID", "uuid4")
        imports.add("sqlalchemy.ext.asyncio", "AsyncSession")
        imports.add("app.models", "Base")
        for target in targets:
            imports.add(target.module, target.class_name)
    return imports.render()


def _string_list(target: str, values: Sequence[str]) -> str:
    return fit(f"{target} = [", [literal(value) for value in values], "]")


def _listing(head: str, items: Sequence[str]) -> str:
    """`head` + a list with one item per line (items already indented, with their comma)."""
    return "\n".join([head + "[", *items, "]"])


def _test_constants(codes: Sequence[FieldCode]) -> str:
    rows = []
    for rank in RANKS:
        pairs = [f"{literal(code.name)}: {literal(code.sample(rank))}" for code in codes]
        rows.append(fit("{", pairs, "},", indent=4))
    blocks = [_listing("ROWS: list[dict[str, Any]] = ", rows)]
    required = [code.name for code in codes if not code.field.optional]
    optional = [code.name for code in codes if code.field.optional]
    unique = [code.name for code in codes if code.field.unique and not code.self_reference]
    references = [code.name for code in codes if code.target is not None]
    for constant, names in (
        ("REQUIRED", required),
        ("OPTIONAL", optional),
        ("UNIQUE", unique),
        ("REFERENCES", references),
    ):
        if names:
            blocks.append(_string_list(constant, names))
    deletable = [
        fit("(", [literal(code.name), literal(code.target.delete_path)], "),", indent=4)
        for code in codes
        if code.target is not None and code.target.delete_path and not code.self_reference
    ]
    if deletable:
        blocks.append(_listing("REFERENCED: list[tuple[str, str]] = ", deletable))
    invalid = [
        fit("(", [literal(code.name), value], "),", indent=4)
        for code in codes
        for value in code.invalid_values()
    ]
    blocks.append(_listing("INVALID: list[tuple[str, Any]] = ", invalid))
    return "\n".join(blocks)


def _cases(names: str, cases: Sequence[str]) -> str:
    """`@pytest.mark.parametrize(names, [cases])`, exploded."""
    listing = explode("[", cases, "]")
    return explode("@pytest.mark.parametrize(", [names, listing], ")")


def _sort_cases(codes: Sequence[FieldCode]) -> str:
    cases = ['("created_at", [0, 1, 2])', '("-created_at", [2, 1, 0])']
    ascending = sorted(range(len(RANKS)), key=lambda index: RANKS[index])
    order = ", ".join(str(index) for index in ascending)
    reverse = ", ".join(str(index) for index in reversed(ascending))
    for code in codes:
        if code.sortable:
            cases.append(f'("{code.name}", [{order}])')
            cases.append(f'("-{code.name}", [{reverse}])')
    return _cases('("sort", "expected")', cases)


def _filter_cases(codes: Sequence[FieldCode]) -> str:
    cases = [f'("{code.name}", 1)' for code in codes if code.filter_tested]
    return _cases('("field", "index")', cases) if cases else ""


def template_variables(
    name: ResourceName,
    fields: Sequence[Field],
    targets: dict[str, RefTarget],
    *,
    owner: RefTarget,
    revision: str,
    down_revision: str | None,
    created: str,
) -> dict[str, object]:
    """Everything the templates under templates/resource use."""
    codes = _codes(name, fields, targets)
    C, s = name.class_name, name.singular
    required = [code.name for code in codes if not code.field.optional]
    validator = (
        fit("@field_validator(", [literal(n) for n in required], ")", indent=4) if required else ""
    )
    unique = [code.name for code in codes if code.field.unique]
    refs = [code for code in codes if code.target is not None]
    if unique:
        message = f"Another {name.words} already has this {' or '.join(unique)}."
    else:
        message = f"The {name.words} conflicts with the current state of the data."
    # the service answers any IntegrityError with 409: a unique value or a referenced row
    # taken or deleted concurrently, or the owner deleted meanwhile (its foreign key)
    conflict = [409]
    create_codes = [400, 401] + ([404] if refs else []) + conflict + [422]
    update_codes = [400, 401, 403, 404, *conflict, 422]
    owner_fk = f'ForeignKey("{owner.table}.id", ondelete="CASCADE")'
    owner_constraint = [
        '["owner_id"]',
        f'["{owner.table}.id"]',
        f'name=op.f("fk_{name.table}_owner_id_{owner.table}")',
        'ondelete="CASCADE"',
    ]
    return {
        "name": name,
        "C": C,
        "s": s,
        "id": f"{s}_id",
        "article": "an" if name.words[0] in "aeiou" else "a",
        "fields": codes,
        "refs": refs,
        "sortable": [code for code in codes if code.sortable],
        "filterable": [code for code in codes if code.filterable],
        "aliases": [code.alias_definition for code in codes if code.alias_definition],
        "has_datetime": any(code.field.type == "datetime" for code in codes),
        "has_required": bool(required),
        "has_optional": any(code.field.optional for code in codes),
        "has_unique": any(code.field.unique and not code.self_reference for code in codes),
        "not_null_validator": validator,
        "sort_line": f"    sort: {C}Sort = {C}Sort.CREATED_AT_DESC",
        "conflict_line": assignment("CONFLICT", literal(message)),
        "create_codes": ", ".join(map(str, create_codes)),
        "update_codes": ", ".join(map(str, update_codes)),
        "owner_line": fit(
            "owner_id: Mapped[int] = mapped_column(", [owner_fk, "index=True"], ")", indent=4
        ),
        "owner_relationship": fit(
            f"owner: Mapped[{owner.class_name}] = relationship(",
            ['lazy="raise"']
            + (["foreign_keys=[owner_id]"] if any(c.target == owner for c in refs) else []),
            ")",
            indent=4,
        ),
        "owner_foreign_key": fit("sa.ForeignKeyConstraint(", owner_constraint, "),", indent=8),
        "revision": revision,
        "revision_literal": literal(revision),
        "down_revision": down_revision,
        "down_revision_literal": literal(down_revision),
        "create_date": created,
        "constants": _test_constants(codes),
        "sort_cases": _sort_cases(codes),
        "filter_cases": _filter_cases(codes),
        "update_field": next((c for c in codes if not c.self_reference), codes[0]).name,
        "made_refs": [code for code in refs if not code.self_reference],
        "has_referenced": any(
            c.target and c.target.delete_path and not c.self_reference for c in refs
        ),
        "imports": {
            "model": _model_imports(name, codes, owner),
            "schemas": _schema_imports(name, codes, bool(required)),
            "repository": _repository_imports(name, codes),
            "service": _service_imports(name, codes, owner),
            "router": _router_imports(name),
            "tests": _test_imports(codes, owner),
        },
        "fit": fit,
        "chain": chain,
        "sig": signature,
    }
