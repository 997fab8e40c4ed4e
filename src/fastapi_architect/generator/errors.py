"""The one error the generator raises: a message for the user, nothing written."""

from __future__ import annotations


class GeneratorError(Exception):
    """A refusal of `new` or `add resource`, with a message that says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
