"""The built-in rules. Importing this package registers them all (one module per concern)."""

from fastapi_architect.review.rules import (  # noqa: F401
    architecture,
    auth,
    concurrency,
    contract,
    database,
    errors,
    injection,
    rest,
    security,
    tool,
    validation,
)
