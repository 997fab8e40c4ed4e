"""Top level of the differ: two documents in, a sorted list of changes out."""

from __future__ import annotations

import datetime as dt

from fastapi_architect.contract.changes import Change
from fastapi_architect.contract.document import HTTP_METHODS, Document
from fastapi_architect.contract.operations import OperationDiffer

_METHOD_ORDER = {m.upper(): i for i, m in enumerate(HTTP_METHODS)}


def diff_documents(
    base: Document, revision: Document, *, today: dt.date | None = None
) -> list[Change]:
    """Every change between `base` and `revision`, sorted by path, operation, pointer.

    `today` decides whether a sunset date has passed (default: the real date).
    """
    changes = OperationDiffer(base, revision, today).run()
    unique = list(dict.fromkeys(changes))
    unique.sort(key=lambda c: (c.path, _METHOD_ORDER.get(c.operation, 99), c.pointer, c.id))
    return unique
