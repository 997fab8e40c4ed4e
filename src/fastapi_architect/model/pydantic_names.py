"""The names Pydantic and SQLModel give what the model and the rules recognise in a
schema class: its base classes, its field functions, what is not a field."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi_architect.model.project import Project

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


def is_pydantic_model(project: Project, qualname: str | None) -> bool:
    """A project class with Pydantic's `BaseModel` or SQLModel's `SQLModel` among its
    ancestors."""
    return (
        qualname is not None
        and project.class_(qualname) is not None
        and project.is_subclass(qualname, MODEL_BASES)
    )
