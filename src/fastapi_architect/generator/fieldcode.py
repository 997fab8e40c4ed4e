"""What each field becomes in the generated files: model column, schema types, migration
column and index, list filter and sort key, and the values the generated tests send."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi_architect.generator.fields import Field
from fastapi_architect.generator.pycode import fit, if_line, literal

# Three rows for the tests: row i holds the values of rank RANKS[i], so that sorting on a
# field gives another order than the creation order. Rank 3 is the value of an update.
RANKS = (2, 0, 1)
UPDATE_RANK = 3
_LETTERS = "abcd"
HUGE = 100_000  # above this length, the "too long" test case is left out
DECIMAL_PRECISION, DECIMAL_SCALE = 12, 2

# type -> (Python type in the model and read schema, SQLAlchemy type in the model,
#          SQLAlchemy type in the migration)
_TYPES: dict[str, tuple[str, str, str]] = {
    "str": ("str", "String({length})", "sa.String(length={length})"),
    "email": ("str", "String({length})", "sa.String(length={length})"),
    "text": ("str", "Text", "sa.Text()"),
    "int": ("int", "Integer", "sa.Integer()"),
    "decimal": (
        "Decimal",
        f"Numeric({DECIMAL_PRECISION}, {DECIMAL_SCALE})",
        f"sa.Numeric(precision={DECIMAL_PRECISION}, scale={DECIMAL_SCALE})",
    ),
    "bool": ("bool", "Boolean", "sa.Boolean()"),
    "datetime": ("datetime", "UTCDateTime()", "sa.DateTime(timezone=True)"),
    "date": ("date", "Date", "sa.Date()"),
    "uuid": ("UUID", "Uuid", "sa.Uuid()"),
    "ref": ("int", 'ForeignKey("{table}.id")', "sa.Integer()"),
}
# the name each Python type is imported from
PY_IMPORTS = {
    "Decimal": ("decimal", "Decimal"),
    "datetime": ("datetime", "datetime"),
    "date": ("datetime", "date"),
    "UUID": ("uuid", "UUID"),
}
SORTABLE = frozenset({"str", "email", "int", "decimal", "date", "datetime"})
FILTERABLE = frozenset({"str", "email", "int", "decimal", "bool", "date", "uuid", "ref"})


def camel(snake: str) -> str:
    return "".join(word.capitalize() for word in snake.split("_"))


@dataclass(frozen=True)
class RefTarget:
    """The model a reference points to, as found in the project."""

    class_name: str  # Author
    module: str  # app.models.author
    table: str  # authors (its `__tablename__`)
    # `/api/v1/authors` when the project has a generated-style `delete_author` route under
    # it (the tests then check that a referenced row cannot be deleted), else None
    delete_path: str | None = None


@dataclass(frozen=True)
class FieldCode:
    """The generated code of one field in one resource."""

    field: Field
    table: str
    alias: str | None  # name of the schema type alias, when the type has constraints
    target: RefTarget | None = None  # for a ref
    plural: str = ""  # the resource's plural (the service's repository attribute)

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def py_type(self) -> str:
        return _TYPES[self.field.type][0]

    def _nullable(self, annotation: str) -> str:
        return f"{annotation} | None" if self.field.optional else annotation

    # ---------------------------------------------------------------- model

    @property
    def self_reference(self) -> bool:
        """A reference to the resource's own table (always optional)."""
        return self.target is not None and self.target.table == self.table

    @property
    def name_literal(self) -> str:
        return literal(self.name)

    @property
    def target_class(self) -> str:
        return self.target.class_name if self.target else ""

    @property
    def exists_method(self) -> str:
        """`author_exists`: the repository method that checks a reference."""
        return f"{self.name.removesuffix('_id')}_exists"

    @property
    def check_line(self) -> str:
        """The `if` of the service that refuses a reference to nothing (indented 8)."""
        condition = [
            f"{self.name} is not None",
            f"not await self.{self.plural}.{self.exists_method}({self.name})",
        ]
        return if_line(condition, indent=8)

    @property
    def sa_model_type(self) -> str:
        pattern = _TYPES[self.field.type][1]
        table = self.target.table if self.target else ""
        return pattern.format(length=self.field.length, table=table)

    @property
    def sa_model_name(self) -> str:
        """The name imported for the model's column type (`String`, `UTCDateTime`)."""
        return self.sa_model_type.split("(")[0]

    @property
    def model_line(self) -> str:
        args = [self.sa_model_type]
        if self.field.unique:
            args += ["unique=True", "index=True"]
        elif self.field.indexed:
            args.append("index=True")
        head = f"{self.name}: Mapped[{self._nullable(self.py_type)}] = mapped_column("
        return fit(head, args, ")", indent=4)

    # ---------------------------------------------------------------- schemas

    @property
    def alias_definition(self) -> str | None:
        """`Title = Annotated[...]` for the types that carry constraints."""
        field = self.field
        if self.alias is None:
            return None
        if field.type == "str":
            constraints = f"strip_whitespace=True, min_length=1, max_length={field.length}"
            parts = ["str", f"StringConstraints({constraints})", "PlainText"]
        elif field.type == "text":
            parts = ["str", f"StringConstraints(max_length={field.length})", "PlainText"]
        elif field.type == "email":
            # the length is checked once lower-cased ("İ".lower() is two characters)
            parts = ["EmailStr", "AfterValidator(str.lower)", f"Field(max_length={field.length})"]
        elif field.type == "int":
            parts = ["int", "Field(ge=-MAX_ID - 1, le=MAX_ID)"]
        elif field.type == "decimal":
            digits = f"max_digits={DECIMAL_PRECISION}, decimal_places={DECIMAL_SCALE}"
            schema = f"decimal_json_schema({DECIMAL_PRECISION}, {DECIMAL_SCALE})"
            parts = ["Decimal", f"Field(ge=0, {digits})", schema]
        else:  # ref
            parts = ["int", "Field(ge=1, le=MAX_ID)"]
        return fit(f"{self.alias} = Annotated[", parts, "]")

    @property
    def input_type(self) -> str:
        """The type of the field in the create and update schemas and the list filter."""
        if self.alias is not None:
            return self.alias
        return {"bool": "bool", "datetime": "UTCTime", "date": "date", "uuid": "UUID"}[
            self.field.type
        ]

    @property
    def create_line(self) -> str:
        if self.field.optional:
            return f"    {self.name}: {self.input_type} | None = None"
        return f"    {self.name}: {self.input_type}"

    @property
    def update_line(self) -> str:
        """Every field may be left out of an update; a required one may not be null, and
        its documented schema does not offer null."""
        if self.field.optional:
            return self.filter_line
        head = f"{self.name}: {self.input_type} | None = Field("
        return fit(head, ["default=None", "json_schema_extra=non_nullable"], ")", indent=4)

    @property
    def filter_line(self) -> str:
        return f"    {self.name}: {self.input_type} | None = None"

    @property
    def read_line(self) -> str:
        return f"    {self.name}: {self._nullable(self.py_type)}"

    @property
    def sortable(self) -> bool:
        return (self.field.unique or self.field.indexed) and self.field.type in SORTABLE

    @property
    def filterable(self) -> bool:
        return (self.field.unique or self.field.indexed) and self.field.type in FILTERABLE

    @property
    def filter_tested(self) -> bool:
        """Whether the tests check the filter (self-references are null in the tests)."""
        return self.filterable and not self.self_reference

    @property
    def sort_member(self) -> str:
        return self.name.upper()

    # ---------------------------------------------------------------- migration

    @property
    def sa_migration_type(self) -> str:
        return _TYPES[self.field.type][2].format(length=self.field.length)

    @property
    def column_line(self) -> str:
        nullable = "True" if self.field.optional else "False"
        args = [literal(self.name), self.sa_migration_type, f"nullable={nullable}"]
        return fit("sa.Column(", args, "),", indent=8)

    @property
    def index_name(self) -> str | None:
        if self.field.unique or self.field.indexed:
            return f"ix_{self.table}_{self.name}"
        return None

    @property
    def index_line(self) -> str | None:
        if self.index_name is None:
            return None
        args = [f"op.f({literal(self.index_name)})", literal(self.table), f"[{literal(self.name)}]"]
        if self.field.unique:
            args.append("unique=True")
        return fit("op.create_index(", args, ")", indent=4)

    @property
    def foreign_key_name(self) -> str | None:
        target = self.target
        return f"fk_{self.table}_{self.name}_{target.table}" if target else None

    @property
    def foreign_key_line(self) -> str | None:
        target = self.target
        if target is None or self.foreign_key_name is None:
            return None
        args = [
            f"[{literal(self.name)}]",
            f"[{literal(target.table + '.id')}]",
            f"name=op.f({literal(self.foreign_key_name)})",
        ]
        return fit("sa.ForeignKeyConstraint(", args, "),", indent=8)

    # ---------------------------------------------------------------- tests

    def sample(self, rank: int) -> object:
        """A valid JSON value of rank 0..3 (ordered by rank, all different)."""
        field, letter = self.field, _LETTERS[rank]
        length = field.length or 0
        if field.type in ("str", "text"):
            return f"{letter}-{field.name}"[:length]
        if field.type == "email":
            address = f"{letter}-{field.name.replace('_', '-')}@example.com"
            return address if len(address) <= length else f"{letter}@x.io"
        if field.type == "int":
            return (rank + 1) * 10
        if field.type == "decimal":
            return f"{(rank + 1) * 10}.50"
        if field.type == "bool":
            return rank % 2 == 0
        if field.type == "datetime":
            return f"2024-0{rank + 1}-01T12:00:00Z"
        if field.type == "date":
            return f"2024-0{rank + 1}-15"
        if field.type == "uuid":
            return f"00000000-0000-4000-8000-00000000000{rank + 1}"
        if self.self_reference:
            return None  # a row of the same table would show in the lists under test
        return 1  # ref: replaced at run time by the id of a real row

    def invalid_values(self) -> list[str]:
        """Python source of values the create endpoint must refuse (422)."""
        field = self.field
        values: list[str] = [] if field.optional else ["None"]
        length = field.length or 0
        if field.type in ("str", "text"):
            if field.type == "str":
                values += ['""', '"   "']
            if length < HUGE:
                values.append(f'"x" * {length + 1}')
            values += ['"nul\\u0000byte"', "42"]
        elif field.type == "email":
            values += ['"not-an-email"', '"a@b"', "42"]
        elif field.type == "int":
            values += ['"abc"', "1.5", "2147483648", "-2147483649"]
        elif field.type == "decimal":
            values += ['"abc"', '"NaN"', '"Infinity"', '"1.001"', '"-1"', '"12345678901.00"']
        elif field.type == "bool":
            values += ['"maybe"', "[]"]
        elif field.type == "datetime":
            values += ['"2024-01-01T12:00:00"', '"yesterday"', '"9999-12-31T23:00:00-05:00"']
        elif field.type == "date":
            values += ['"2024-13-01"', '"yesterday"']
        elif field.type == "uuid":
            values += ['"not-a-uuid"', "42"]
        else:  # ref
            values += ["0", '"abc"', "2147483648"]
        return values
