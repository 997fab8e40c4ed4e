"""FAA6xx: errors, exception handling, middleware."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fastapi_architect.review.context import FileContext
from fastapi_architect.review.registry import Report, rule

HTTP_EXCEPTIONS = frozenset(
    {
        "fastapi.HTTPException",
        "fastapi.exceptions.HTTPException",
        "starlette.exceptions.HTTPException",
    }
)


@rule(
    code="FAA602",
    name="http-exception-returned",
    summary="An `HTTPException` is returned instead of raised",
    severity="error",
    nodes=(ast.Return,),
    fix_title="Replace `return` with `raise`",
    references=("https://fastapi.tiangolo.com/tutorial/handling-errors/",),
)
def http_exception_returned(node: ast.Return, ctx: FileContext) -> Iterator[Report]:
    """## What it does
    Finds `return HTTPException(...)` in any function of a FastAPI project.

    ## Why is this bad?
    A returned exception is not an error to FastAPI: it is serialized as the response
    body with status 200 (or the route's `status_code`). The client that asked for a
    missing item gets a success. Exceptions must be raised to become error responses.

    ## Example
    ```python
    @router.get("/books/{book_id}")
    def read_book(book_id: int, db: SessionDep) -> BookOut:
        book = db.get(Book, book_id)
        if book is None:
            return HTTPException(status_code=404, detail="Book not found")
        return book
    ```

    ## Use instead
    ```python
            raise HTTPException(status_code=404, detail="Book not found")
    ```

    ## Fix safety
    Safe: replacing `return` with `raise` keeps the exception and makes it take effect.
    """
    value = node.value
    if isinstance(value, ast.Call) and ctx.resolve(value.func) in HTTP_EXCEPTIONS:
        yield Report(node, "`HTTPException` is returned, not raised: the client gets a success status")
