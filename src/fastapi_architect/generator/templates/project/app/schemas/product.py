"""Product schemas: create, update (partial), read, and the list query."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.schemas.common import (
    MAX_ID,
    MAX_OFFSET,
    PlainText,
    decimal_json_schema,
    non_nullable,
)
from app.schemas.user import UserPublic

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), PlainText
]
Description = Annotated[str, StringConstraints(max_length=5000), PlainText]
Price = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2),
    decimal_json_schema(12, 2, positive=True),
]
PriceFilter = Annotated[
    Decimal, Field(ge=0, max_digits=12, decimal_places=2), decimal_json_schema(12, 2)
]


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    price: Price


class ProductUpdate(BaseModel):
    """Only the fields present are changed; `null` is refused for required fields."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, json_schema_extra=non_nullable)
    description: Description | None = None
    price: Price | None = Field(default=None, json_schema_extra=non_nullable)

    @field_validator("name", "price")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    price: Decimal
    owner: UserPublic
    created_at: datetime
    updated_at: datetime


class ProductSort(StrEnum):
    """Sort keys; a leading `-` sorts descending. Every key is an indexed column."""

    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    NAME = "name"
    NAME_DESC = "-name"
    PRICE = "price"
    PRICE_DESC = "-price"


class ProductQuery(BaseModel):
    """Query parameters of the list endpoint: paging, sorting and filters."""

    limit: int = Field(default=20, ge=1, le=100, description="Page size, at most 100")
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    sort: ProductSort = ProductSort.CREATED_AT_DESC
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    min_price: PriceFilter | None = None
    max_price: PriceFilter | None = None
