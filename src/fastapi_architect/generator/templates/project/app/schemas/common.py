"""Schemas shared by every resource: the page envelope, problem details, safe text."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

T = TypeVar("T")

# Identifiers are 32-bit integers in the database: larger values can never match.
MAX_ID = 2_147_483_647
MAX_OFFSET = 1_000_000


def plain_text(value: str) -> str:
    # NUL and lone surrogates pass JSON decoding but no database can store them.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# Put it after any `StringConstraints`: `Annotated[str, StringConstraints(...), PlainText]`.
PlainText = AfterValidator(plain_text)


def decimal_json_schema(
    max_digits: int, decimal_places: int, *, positive: bool = False
) -> WithJsonSchema:
    """Document a bounded decimal as what it accepts: a JSON number, or a string of
    digits (the exact form, recommended for money). Answers carry the string form."""
    whole = max_digits - decimal_places
    step = 10**-decimal_places
    number: dict[str, Any] = {
        "type": "number",
        "maximum": float(10**whole - step),
        "multipleOf": step,
        ("exclusiveMinimum" if positive else "minimum"): 0,
    }
    return WithJsonSchema(
        {
            "anyOf": [
                number,
                {"type": "string", "pattern": _decimal_pattern(whole, decimal_places, positive)},
            ],
            "examples": ["19.99"],
        }
    )


def _decimal_pattern(whole: int, decimal_places: int, positive: bool) -> str:
    """Digits, at most `whole` before the point and `decimal_places` after it; when
    `positive`, at least one of them is not zero."""
    fraction = rf"(\.[0-9]{{1,{decimal_places}}})?" if decimal_places else ""
    if not positive:
        return rf"^[0-9]{{1,{whole}}}{fraction}$"
    # Either a non-zero integer part, or a zero one and a non-zero fraction.
    nonzero_fraction = "|".join(
        "0" * zeros + rf"[1-9][0-9]{{0,{decimal_places - 1 - zeros}}}"
        for zeros in range(decimal_places)
    )
    alternatives = [rf"[1-9][0-9]{{0,{whole - 1}}}{fraction}"]
    if decimal_places:
        alternatives.append(rf"\.(?:{nonzero_fraction})")
    return rf"^0*(?:{'|'.join(alternatives)})$"


def non_nullable(schema: dict[str, Any]) -> None:
    """`json_schema_extra` for optional fields of partial updates: they may be omitted,
    but `null` is refused, so the documented schema does not offer it."""
    variants = schema.pop("anyOf", None)
    if variants is None:
        return
    kept = [variant for variant in variants if variant.get("type") != "null"]
    if len(kept) == 1:
        schema.update(kept[0])
    else:
        schema["anyOf"] = kept


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total number of matching items."""

    items: list[T]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where the error is: body, query, path...")
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["Product 42 does not exist."])
    instance: str = Field(examples=["/api/v1/products/42"])
    request_id: str | None = Field(default=None, description="The X-Request-ID of the request")


class ValidationProblem(Problem):
    """A 422 problem, with one entry per invalid field."""

    errors: list[FieldError]


def problem_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these error statuses as problem details.
    Operations with a request body list 400 too: FastAPI answers it when the body
    cannot be decoded at all."""
    return {
        code: {
            "model": ValidationProblem if code == HTTPStatus.UNPROCESSABLE_ENTITY else Problem,
            "description": HTTPStatus(code).phrase,
        }
        for code in status_codes
    }
