"""Names for HTTP statuses: FastAPI's `status.HTTP_404_NOT_FOUND` or the standard
library's `HTTPStatus.NOT_FOUND`, as a message suggests them and a fixer writes them."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Literal

Style = Literal["status", "HTTPStatus"]

# Statuses whose `fastapi.status` name changed to the RFC 9110 one: (new, older). The
# older `HTTPStatus` names stay as aliases in Python 3.13, which added the new ones.
RENAMED_STATUSES = {
    413: ("CONTENT_TOO_LARGE", "REQUEST_ENTITY_TOO_LARGE"),
    414: ("URI_TOO_LONG", "REQUEST_URI_TOO_LONG"),
    416: ("RANGE_NOT_SATISFIABLE", "REQUESTED_RANGE_NOT_SATISFIABLE"),
    422: ("UNPROCESSABLE_CONTENT", "UNPROCESSABLE_ENTITY"),
}


def httpstatus_member(code: int) -> str:
    """`NOT_FOUND` for 404: for a renamed status the older name, which every supported
    Python accepts (the name `HTTPStatus(422).name` gives depends on the Python version)."""
    if code in RENAMED_STATUSES:
        return RENAMED_STATUSES[code][1]
    return HTTPStatus(code).name


def status_constant(code: int) -> str | None:
    """`HTTP_404_NOT_FOUND` for 404; None for numbers that are no HTTP status or whose
    `fastapi.status` name depends on the Starlette version (RFC 9110's renames in
    Starlette 0.48: neither name works on every version)."""
    if code in RENAMED_STATUSES or code not in HTTPStatus._value2member_map_:
        return None
    return f"HTTP_{code}_{HTTPStatus(code).name}"


def httpstatus_name(code: int) -> str:
    return f"HTTPStatus.{httpstatus_member(code)}"


def suggested_name(style: Style, code: int) -> str:
    """The constant to write for `code`, closed by a backtick (an explanation may follow
    it). In the `status` style, for the statuses whose `status` name Starlette 0.48
    changed (`HTTP_422_UNPROCESSABLE_ENTITY` became `HTTP_422_UNPROCESSABLE_CONTENT`),
    neither name works on every supported version without a warning: the standard
    library's name does."""
    if style == "HTTPStatus":
        return f"{httpstatus_name(code)}`"
    if code in RENAMED_STATUSES:
        new, old = RENAMED_STATUSES[code]
        return (
            f"{httpstatus_name(code)}` (`from http import HTTPStatus`: Starlette 0.48 renamed "
            f"`status.HTTP_{code}_{old}` to `HTTP_{code}_{new}`)"
        )
    return f"status.{status_constant(code)}`"


# The suggestion as FAA706 (`use `...``) and FAA701 (`declare `status_code=...``) write it;
# an `HTTPStatus` name followed by the import to add is the one offered in the `status`
# style for a renamed status.
_SUGGESTION = re.compile(
    r"(?:use|declare) `(?:status_code=)?(HTTPStatus\.)?\w+[\w.]*`( \(`from http)?"
)


def suggests_httpstatus(message: str) -> bool:
    """Does a FAA701/FAA706 message ask for an `HTTPStatus` name in the `HTTPStatus`
    style? (Its fixer writes what the message suggests; a renamed status in the `status`
    style is declined, not rewritten.) Only the suggestion is read, not the route's
    path or the handler's name around it."""
    # The last one: the suggestion ends the message (or precedes its count).
    found = list(_SUGGESTION.finditer(message))
    return bool(found) and found[-1].group(1) is not None and found[-1].group(2) is None
