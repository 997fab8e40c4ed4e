"""The built-in rules. Importing this package registers them all (one module per concern)."""

from fastapi_architect.review.rules import (  # noqa: F401
    architecture,
    async_io,
    auth,
    concurrency,
    contract,
    database,
    errors,
    handlers,
    injection,
    layering,
    openapi_docs,
    orm_usage,
    rest,
    schemas,
    security,
    tool,
    validation,
)
