"""Resource names: every accepted spelling, every derived form, every refusal."""

from __future__ import annotations

import pytest

from fastapi_architect.generator.errors import GeneratorError
from fastapi_architect.generator.naming import pluralize, resource_name, to_snake


@pytest.mark.parametrize("spelling", ["order-line", "OrderLine", "order_line", "Order-Line"])
def test_every_spelling_gives_the_same_name(spelling: str) -> None:
    name = resource_name(spelling)
    assert name.singular == "order_line"
    assert name.plural == "order_lines"
    assert name.class_name == "OrderLine"
    assert name.table == "order_lines"
    assert name.route_prefix == "/order-lines"
    assert name.tag == "order-lines"
    assert name.title == "Order line"
    assert name.words == "order line"
    assert name.plural_words == "order lines"


@pytest.mark.parametrize(
    ("spelling", "snake"),
    [
        ("book", "book"),
        ("Book", "book"),
        ("HTTPLog", "http_log"),
        ("ApiKey", "api_key"),
        ("v2-item", "v2_item"),
        ("  author  ", "author"),
    ],
)
def test_snake_case(spelling: str, snake: str) -> None:
    assert resource_name(spelling).singular == snake


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("book", "books"),
        ("category", "categories"),
        ("day", "days"),
        ("key", "keys"),
        ("box", "boxes"),
        ("status", "statuses"),
        ("address", "addresses"),
        ("match", "matches"),
        ("wish", "wishes"),
        ("quiz", "quizes"),
        ("analysis", "analyses"),
        ("person", "people"),
        ("child", "children"),
        ("news", "news"),
        ("order_line", "order_lines"),
        ("sales_person", "sales_people"),
        ("y", "ys"),
    ],
)
def test_plural(singular: str, plural: str) -> None:
    assert pluralize(singular) == plural


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("", "invalid resource name ''"),
        ("1book", "starting with a letter"),
        ("order--line", "invalid resource name 'order--line'"),
        ("order__line", "invalid resource name 'order__line'"),
        ("_book", "invalid resource name '_book'"),
        ("book-", "invalid resource name 'book-'"),
        ("order line", "invalid resource name 'order line'"),
        ("bücher", "invalid resource name 'bücher'"),
        ("class", "'class' is a Python keyword"),
        ("import", "'import' is a Python keyword"),
        ("a" * 31, "longer than 30 characters"),
    ],
)
def test_refusals(spelling: str, message: str) -> None:
    with pytest.raises(GeneratorError) as caught:
        resource_name(spelling)
    assert message in str(caught.value)


def test_to_snake_says_none_for_no_name() -> None:
    assert to_snake("a b") is None
    assert to_snake("OrderLine") == "order_line"


def test_soft_keywords_are_names() -> None:
    assert resource_name("match").plural == "matches"
    assert resource_name("type").class_name == "Type"
