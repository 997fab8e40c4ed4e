"""FAA3xx (secrets and credentials): JWT verification, hard-coded secrets, password hashing,
and credentials written to logs. Importing the package registers its rules, one module per
concern; `_common` holds what they share."""

from fastapi_architect.review.rules.security import (  # noqa: F401
    access_rules,
    hash_rules,
    jwt_rules,
    log_rules,
    secret_rules,
    web_rules,
)
