"""Resource names: one user spelling (`order-line`, `OrderLine`, `order_line`) → every form.

The name given to `add resource` is the singular; the table, the router module, the route
prefix and the test module use the plural, made with the ordinary English rules (a short
list of irregular and uncountable words aside).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from fastapi_architect.generator.errors import GeneratorError

_SPELLING = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_LENGTH = 30  # of the singular; the generated code is checked for format up to it

_IRREGULAR = {
    "child": "children",
    "foot": "feet",
    "goose": "geese",
    "man": "men",
    "mouse": "mice",
    "ox": "oxen",
    "person": "people",
    "tooth": "teeth",
    "woman": "women",
}
_UNCOUNTABLE = frozenset(
    {"data", "equipment", "feedback", "information", "news", "series", "software", "species"}
)


@dataclass(frozen=True)
class ResourceName:
    """Every spelling of one resource name that the generated code needs."""

    singular: str  # order_line: module of the model, schemas, repository, service
    plural: str  # order_lines: table, router module, test module

    @property
    def class_name(self) -> str:
        """`OrderLine`: the model class and the prefix of the schema/repository/service classes."""
        return "".join(word.capitalize() for word in self.singular.split("_"))

    @property
    def table(self) -> str:
        """`order_lines`."""
        return self.plural

    @property
    def route_prefix(self) -> str:
        """`/order-lines`."""
        return "/" + self.plural.replace("_", "-")

    @property
    def tag(self) -> str:
        """`order-lines`: the OpenAPI tag of the router."""
        return self.plural.replace("_", "-")

    @property
    def title(self) -> str:
        """`Order line`: the singular for people (messages, summaries)."""
        return self.singular.replace("_", " ").capitalize()

    @property
    def words(self) -> str:
        """`order line`: the singular inside a sentence."""
        return self.singular.replace("_", " ")

    @property
    def plural_words(self) -> str:
        """`order lines`: the plural inside a sentence."""
        return self.plural.replace("_", " ")


def to_snake(spelling: str) -> str | None:
    """`OrderLine`, `order-line`, `order_line` → `order_line`; None when it is no name."""
    if not _SPELLING.fullmatch(spelling):
        return None
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", spelling)
    words = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", words)
    snake = words.replace("-", "_").lower()
    return snake if _SNAKE.fullmatch(snake) else None


def pluralize(singular: str) -> str:
    """Plural of a snake_case name: only its last word changes (`order_line` → `order_lines`)."""
    head, _, last = singular.rpartition("_")
    prefix = f"{head}_" if head else ""
    return prefix + _plural_word(last)


def _plural_word(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _UNCOUNTABLE:
        return word
    if word.endswith("sis"):
        return word[:-2] + "es"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def resource_name(spelling: str) -> ResourceName:
    """Parse a resource name given on the command line, or raise GeneratorError."""
    snake = to_snake(spelling.strip())
    if snake is None:
        raise GeneratorError(
            f"invalid resource name {spelling!r}: use letters, digits, '-' or '_', starting "
            "with a letter (e.g. order-line, OrderLine or order_line)"
        )
    if len(snake) > MAX_LENGTH:
        raise GeneratorError(
            f"invalid resource name {spelling!r}: {snake!r} is longer than {MAX_LENGTH} characters"
        )
    plural = pluralize(snake)
    for form in (snake, plural):
        if keyword.iskeyword(form):
            raise GeneratorError(
                f"invalid resource name {spelling!r}: {form!r} is a Python keyword and "
                "cannot name a module"
            )
    return ResourceName(singular=snake, plural=plural)
