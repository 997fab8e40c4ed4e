"""Top level of the differ: two documents in, a sorted list of changes out."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from fastapi_architect.contract.changes import Change
from fastapi_architect.contract.document import HTTP_METHODS, Document, DocumentError
from fastapi_architect.contract.operations import OperationDiffer

_METHOD_ORDER = {m.upper(): i for i, m in enumerate(HTTP_METHODS)}
# Schemas are compared recursively, and real documents chain `$ref`s hundreds of
# definitions deep (each one a handful of Python frames): the comparison runs in
# a thread with room for that, not in the caller's default-sized stack.
_STACK_BYTES = 512 * 1024 * 1024
_RECURSION_LIMIT = 250_000
T = TypeVar("T")


def diff_documents(
    base: Document,
    revision: Document,
    *,
    today: dt.date | None = None,
    warnings: list[str] | None = None,
) -> list[Change]:
    """Every change between `base` and `revision`, sorted by path, operation, pointer.

    `today` decides whether a sunset date has passed (default: the real date).
    References to other files are not followed: each one is named in `warnings`
    when a list is given. A local reference that points nowhere makes the
    document invalid: `DocumentError`.
    """
    differ = OperationDiffer(base, revision, today)
    changes = _with_deep_stack(differ.run)
    for doc, resolver in ((base, differ.rb), (revision, differ.rr)):
        dangling = sorted(ref for ref in resolver.unresolved if ref.startswith("#"))
        if dangling:
            raise DocumentError(doc.name, f"$ref {dangling[0]!r} points to nothing in the document")
        if warnings is not None:
            warnings.extend(
                f"{doc.name}: $ref {ref!r} to another file is not followed: its changes are not compared"
                for ref in sorted(resolver.unresolved)
            )
    unique = list(dict.fromkeys(changes))
    unique.sort(key=lambda c: (c.path, _METHOD_ORDER.get(c.operation, 99), c.pointer, c.id))
    return unique


def _with_deep_stack(work: Callable[[], T]) -> T:
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size(_STACK_BYTES)
    try:
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        worker = threading.Thread(target=run, name="contract-diff")
        worker.start()
    finally:
        threading.stack_size(old_size)
    worker.join()
    sys.setrecursionlimit(old_limit)
    if failure:
        raise failure[0]
    return outcome[0]
