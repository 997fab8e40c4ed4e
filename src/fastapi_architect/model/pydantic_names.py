"""The names Pydantic and SQLModel give what the model and the rules recognise in a
schema class: its base classes, its field functions, what is not a field."""

from __future__ import annotations

BASE_MODEL = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel"})
# The roots of a schema class: Pydantic's `BaseModel` and SQLModel's `SQLModel`.
MODEL_BASES = BASE_MODEL | {"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"}
FIELD_FUNCTIONS = frozenset(
    {"pydantic.Field", "pydantic.fields.Field", "sqlmodel.Field", "sqlmodel.main.Field"}
)
# Class-body calls that declare no field.
NOT_FIELDS = frozenset(
    {
        "pydantic.PrivateAttr",
        "pydantic.fields.PrivateAttr",
        "sqlmodel.Relationship",
        "sqlmodel.main.Relationship",
    }
)
CLASSVAR = frozenset({"typing.ClassVar", "typing_extensions.ClassVar"})
