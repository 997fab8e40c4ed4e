"""Field specs of `add resource`: `name:type[:option...]` and `name:ref:Resource[:option...]`.

Types, and what the generated API accepts:
- str: one line of text, trimmed, 1 to 255 characters (max=N), no NUL;
- text: free text, up to 10000 characters (max=N), no NUL;
- int: a 32-bit integer;
- decimal: a non-negative amount, 12 digits of which 2 after the point (a JSON number or
  a string; answers carry the string);
- bool; date (ISO 8601); uuid;
- datetime: ISO 8601 with a UTC offset (naive times are refused), stored and returned in UTC;
- email: an e-mail address, stored lower-cased, up to 320 characters (max=N);
- `ref:Resource`: a foreign key to that resource's `id`, always indexed; the column and the
  API field are named `<name>_id` (`author:ref:author` gives `author_id`). The resource
  must exist in the project, or be the one being added (then the field must be optional).
  A reference to a row that does not exist is answered 404; deleting a row that is still
  referenced is answered 409.

Options (after the type, separated by `:` or `,`):
- `optional`: the column is nullable and the field may be omitted or null;
- `unique`: a unique index (any type but text and bool); a taken value is answered 409;
- `index`: an index (any type but text; a ref is indexed anyway, so it changes nothing there);
  indexed and unique fields become exact-match filters of the list endpoint (datetime
  aside) and sort keys (str, email, int, decimal, date and datetime ones);
- `max=N`: the maximum length, N a positive integer up to 10485760; only for str (default
  255), email (default 320, at least 6) and text (default 10000, validated by the API only:
  the column stays unbounded).

A field name is snake_case, at most 40 characters (with `_id` for a ref), not a Python keyword,
and none of the names the generated code already uses (`id`, `created_at`, `owner_id`, ...),
see RESERVED.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi_architect.generator.errors import GeneratorError
from fastapi_architect.generator.naming import ResourceName, resource_name

TYPES = ("str", "text", "int", "decimal", "bool", "datetime", "date", "uuid", "email", "ref")
OPTIONS = ("optional", "unique", "index", "max=N")
MAX_LENGTH_LIMIT = 10_485_760  # PostgreSQL's largest varchar(n)
DEFAULT_MAX_LENGTH = {"str": 255, "email": 320, "text": 10_000}
MIN_EMAIL_LENGTH = 6  # a@b.io
MAX_NAME_LENGTH = 40
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")

# name -> why it cannot be a field name
RESERVED: dict[str, str] = {
    "id": "every model already has it (the primary key)",
    "created_at": "every model already has it (timestamps)",
    "updated_at": "every model already has it (timestamps)",
    "metadata": "SQLAlchemy's declarative base uses it",
    "registry": "SQLAlchemy's declarative base uses it",
    "awaitable_attrs": "SQLAlchemy's AsyncAttrs uses it",
    "date": "it would shadow the type `date` in the generated code",
    "datetime": "it would shadow the type `datetime` in the generated code",
    "decimal": "it would shadow the module `decimal` in the generated code",
    "uuid": "it would shadow the module `uuid` in the generated code",
    "str": "it would shadow the type `str` in the generated code",
    "int": "it would shadow the type `int` in the generated code",
    "bool": "it would shadow the type `bool` in the generated code",
    "mapped_column": "the generated model uses that function",
    "relationship": "the generated model uses that function",
    "field_validator": "the generated schemas use that decorator",
    "classmethod": "the generated schemas use that decorator",
    "owner": "every generated resource has an owner (the user who created it)",
    "owner_id": "every generated resource has an owner (the user who created it)",
    "limit": "the list endpoint uses it as a query parameter",
    "offset": "the list endpoint uses it as a query parameter",
    "sort": "the list endpoint uses it as a query parameter",
    **{
        name: "Pydantic's BaseModel has an attribute of that name"
        for name in (
            "construct",
            "copy",
            "dict",
            "from_orm",
            "json",
            "parse_file",
            "parse_obj",
            "parse_raw",
            "schema",
            "schema_json",
            "update_forward_refs",
            "validate",
        )
    },
}


@dataclass(frozen=True)
class Field:
    """One parsed field spec."""

    spec: str
    name: str  # attribute, column and API field name (a ref's ends with `_id`)
    type: str
    optional: bool = False
    unique: bool = False
    index: bool = False  # as asked; see `indexed`
    max_length: int | None = None  # as asked; see `length`
    target: ResourceName | None = None  # the referenced resource, for a ref

    @property
    def is_ref(self) -> bool:
        return self.type == "ref"

    @property
    def indexed(self) -> bool:
        """Whether the column gets a plain (non-unique) index."""
        return (self.index or self.is_ref) and not self.unique

    @property
    def length(self) -> int | None:
        """The longest value the API accepts (str, email and text), else None."""
        if self.type in DEFAULT_MAX_LENGTH:
            return self.max_length or DEFAULT_MAX_LENGTH[self.type]
        return None


def _fail(spec: str, reason: str) -> GeneratorError:
    return GeneratorError(f"invalid field spec {spec!r}: {reason}")


def _check_name(spec: str, name: str) -> None:
    if not name:
        raise _fail(spec, "the field name is missing (expected name:type[:options])")
    if not _SNAKE.fullmatch(name):
        raise _fail(
            spec,
            f"field name {name!r} is not snake_case (lower-case letters, digits and single "
            "underscores, starting with a letter)",
        )
    if len(name) > MAX_NAME_LENGTH:
        raise _fail(spec, f"field name {name!r} is longer than {MAX_NAME_LENGTH} characters")
    if keyword.iskeyword(name):
        raise _fail(spec, f"field name {name!r} is a Python keyword")
    if name.startswith("model_"):
        raise _fail(spec, f"field name {name!r} starts with 'model_', which Pydantic reserves")
    if name in RESERVED:
        raise _fail(spec, f"field name {name!r} is reserved: {RESERVED[name]}")


def _split_options(parts: Iterable[str]) -> list[str]:
    return [option.strip() for part in parts for option in part.split(",")]


def _parse_max(spec: str, value: str) -> int:
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise _fail(spec, f"max={value} is not a positive integer")
    number = int(value)
    if number > MAX_LENGTH_LIMIT:
        raise _fail(spec, f"max={value} is larger than {MAX_LENGTH_LIMIT}")
    return number


def parse_field(spec: str) -> Field:
    """Parse one `name:type[:options]` spec, or raise GeneratorError naming it."""
    parts = spec.strip().split(":")
    if len(parts) < 2:
        raise _fail(spec, "expected name:type[:options], e.g. title:str:max=100")
    name, type_ = parts[0].strip(), parts[1].strip()
    rest = parts[2:]
    target: ResourceName | None = None
    if type_ == "ref":
        if not rest or not rest[0].strip():
            raise _fail(spec, "a ref needs its resource: name:ref:Resource, e.g. author:ref:author")
        try:
            target = resource_name(rest[0])
        except GeneratorError as error:
            raise _fail(spec, error.message) from None
        rest = rest[1:]
        if not name.endswith("_id"):
            name = f"{name}_id"
    elif type_ not in TYPES:
        expected = ", ".join(TYPES[:-1]) + " or ref:Resource"
        raise _fail(spec, f"unknown type {type_!r} (expected {expected})")
    _check_name(spec, parts[0].strip())
    _check_name(spec, name)

    seen: set[str] = set()
    flags = {"optional": False, "unique": False, "index": False}
    max_length: int | None = None
    for option in _split_options(rest):
        key = option.split("=", 1)[0].strip() if "=" in option else option
        if key in seen:
            raise _fail(spec, f"option {key!r} is given twice")
        seen.add(key)
        if key in flags and "=" not in option:
            flags[key] = True
        elif key == "max" and "=" in option:
            max_length = _parse_max(spec, option.split("=", 1)[1].strip())
        elif key == "max":
            raise _fail(spec, "max needs a value: max=N")
        else:
            shown = option or "(empty)"
            raise _fail(spec, f"unknown option {shown!r} (expected {', '.join(OPTIONS)})")

    field = Field(
        spec=spec,
        name=name,
        type=type_,
        optional=flags["optional"],
        unique=flags["unique"],
        index=flags["index"],
        max_length=max_length,
        target=target,
    )
    _check_combination(field)
    return field


def _check_combination(field: Field) -> None:
    spec, type_ = field.spec, field.type
    if field.max_length is not None and type_ not in ("str", "email", "text"):
        raise _fail(spec, f"max=N applies to str, email and text, not to {type_}")
    if type_ == "email" and field.max_length is not None and field.max_length < MIN_EMAIL_LENGTH:
        raise _fail(spec, f"max={field.max_length} is too short for an e-mail address (min 6)")
    if type_ == "text" and (field.unique or field.index):
        option = "unique" if field.unique else "index"
        raise _fail(
            spec, f"{option} is not allowed on text (unbounded); use str with max=N instead"
        )
    if type_ == "bool" and field.unique:
        raise _fail(spec, "unique is not allowed on bool (a table could hold two rows at most)")


def parse_fields(specs: Iterable[str]) -> list[Field]:
    """Parse every spec; refuse an empty list and two fields with the same name."""
    fields: list[Field] = []
    by_name: dict[str, Field] = {}
    for spec in specs:
        field = parse_field(spec)
        if field.name in by_name:
            raise GeneratorError(
                f"invalid field spec {spec!r}: field {field.name!r} is already defined by "
                f"{by_name[field.name].spec!r}"
            )
        by_name[field.name] = field
        fields.append(field)
    if not fields:
        raise GeneratorError("give at least one field, e.g. name:str:max=100")
    return fields
