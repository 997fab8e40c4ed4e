"""Field specs: every type and option, the derived properties, and every refusal."""

from __future__ import annotations

import pydantic
import pytest

from fastapi_architect.generator.errors import GeneratorError
from fastapi_architect.generator.fields import RESERVED, Field, parse_field, parse_fields
from fastapi_architect.generator.naming import resource_name


@pytest.mark.parametrize(
    "type_", ["str", "text", "int", "decimal", "bool", "datetime", "date", "uuid", "email"]
)
def test_every_plain_type(type_: str) -> None:
    field = parse_field(f"value:{type_}")
    assert field == Field(spec=f"value:{type_}", name="value", type=type_)
    assert not field.optional and not field.unique and not field.indexed


def test_options_in_any_order_with_either_separator() -> None:
    colon = parse_field("title:str:unique:optional:max=80")
    comma = parse_field("title:str:optional,max=80,unique")
    for field in (colon, comma):
        assert (field.name, field.type, field.optional, field.unique) == (
            "title",
            "str",
            True,
            True,
        )
        assert field.max_length == 80 and field.length == 80
    assert parse_field("title:str:index").indexed


def test_unique_gives_a_unique_index_not_a_plain_one() -> None:
    field = parse_field("code:str:unique:index")
    assert field.unique and field.index and not field.indexed


@pytest.mark.parametrize(("type_", "length"), [("str", 255), ("email", 320), ("text", 10_000)])
def test_default_lengths(type_: str, length: int) -> None:
    assert parse_field(f"x:{type_}").length == length


def test_no_length_for_other_types() -> None:
    assert parse_field("x:int").length is None


@pytest.mark.parametrize(
    ("spec", "name", "target"),
    [
        ("author:ref:author", "author_id", "author"),
        ("author_id:ref:Author", "author_id", "author"),
        ("line:ref:order-line", "line_id", "order_line"),
        ("line:ref:OrderLine:optional", "line_id", "order_line"),
    ],
)
def test_references(spec: str, name: str, target: str) -> None:
    field = parse_field(spec)
    assert field.name == name
    assert field.is_ref and field.indexed
    assert field.target == resource_name(target)


def test_a_reference_may_be_unique_and_ignores_index() -> None:
    assert parse_field("author:ref:author:unique").unique
    assert parse_field("author:ref:author:index").indexed


def test_parse_fields_keeps_the_order() -> None:
    fields = parse_fields(["b:int", "a:str", "c:ref:author"])
    assert [field.name for field in fields] == ["b", "a", "c_id"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("title", "expected name:type[:options]"),
        (":str", "the field name is missing"),
        ("title:string", "unknown type 'string' (expected str, text, int"),
        ("title:Str", "unknown type 'Str'"),
        ("title:", "unknown type ''"),
        ("Title:str", "field name 'Title' is not snake_case"),
        ("order-no:int", "field name 'order-no' is not snake_case"),
        ("2nd:int", "is not snake_case"),
        ("a__b:int", "is not snake_case"),
        ("x" * 41 + ":int", "longer than 40 characters"),
        ("class:str", "field name 'class' is a Python keyword"),
        ("id:int", "field name 'id' is reserved: every model already has it"),
        ("created_at:datetime", "field name 'created_at' is reserved"),
        ("updated_at:datetime", "field name 'updated_at' is reserved"),
        ("owner_id:int", "field name 'owner_id' is reserved"),
        ("owner:ref:user", "field name 'owner' is reserved"),
        ("limit:int", "field name 'limit' is reserved"),
        ("offset:int", "field name 'offset' is reserved"),
        ("sort:str", "field name 'sort' is reserved"),
        ("metadata:text", "field name 'metadata' is reserved"),
        ("date:date", "would shadow the type `date`"),
        ("json:text", "Pydantic's BaseModel has an attribute of that name"),
        ("model_name:str", "starts with 'model_'"),
        ("id:ref:author", "field name 'id' is reserved"),
        ("x:ref", "a ref needs its resource"),
        ("x:ref:", "a ref needs its resource"),
        ("x:ref:1author", "invalid resource name '1author'"),
        ("x:ref:class", "is a Python keyword"),
        ("title:str:bogus", "unknown option 'bogus' (expected optional, unique, index, max=N)"),
        ("title:str:", "unknown option '(empty)'"),
        ("title:str:unique,", "unknown option '(empty)'"),
        ("title:str:max", "max needs a value: max=N"),
        ("title:str:max=", "max= is not a positive integer"),
        ("title:str:max=0", "max=0 is not a positive integer"),
        ("title:str:max=-3", "max=-3 is not a positive integer"),
        ("title:str:max=ten", "max=ten is not a positive integer"),
        ("title:str:max=²", "max=² is not a positive integer"),
        ("title:str:max=10485761", "max=10485761 is larger than 10485760"),
        ("title:str:optional=yes", "unknown option 'optional=yes'"),
        ("title:str:unique:unique", "option 'unique' is given twice"),
        ("title:str:max=3:max=4", "option 'max' is given twice"),
        ("count:int:max=5", "max=N applies to str, email and text, not to int"),
        ("author:ref:author:max=5", "max=N applies to str, email and text, not to ref"),
        ("mail:email:max=5", "max=5 is too short for an e-mail address"),
        ("body:text:unique", "unique is not allowed on text"),
        ("body:text:index", "index is not allowed on text"),
        ("flag:bool:unique", "unique is not allowed on bool"),
    ],
)
def test_refusals_name_the_spec(spec: str, message: str) -> None:
    with pytest.raises(GeneratorError) as caught:
        parse_field(spec)
    assert str(caught.value).startswith(f"invalid field spec {spec!r}: ")
    assert message in str(caught.value)


def test_duplicate_fields_are_refused() -> None:
    with pytest.raises(GeneratorError) as caught:
        parse_fields(["title:str", "price:decimal", "title:text"])
    assert str(caught.value) == (
        "invalid field spec 'title:text': field 'title' is already defined by 'title:str'"
    )


def test_a_reference_clashing_with_a_plain_field_is_refused() -> None:
    with pytest.raises(GeneratorError, match="'author_id' is already defined by 'author_id:int'"):
        parse_fields(["author_id:int", "author:ref:author"])


def test_at_least_one_field() -> None:
    with pytest.raises(GeneratorError, match="give at least one field"):
        parse_fields([])


def test_reserved_covers_the_public_attributes_of_pydantic_models() -> None:
    public = {name for name in dir(pydantic.BaseModel) if not name.startswith("_")}
    assert {name for name in public if not name.startswith("model_")} <= RESERVED.keys()
