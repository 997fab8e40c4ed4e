"""RFC 9457 problem details: every error answer is `application/problem+json`."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"


class AppError(Exception):
    """An expected failure the client should see, with its HTTP status."""

    status_code: int = HTTPStatus.INTERNAL_SERVER_ERROR
    default_detail: str = "The server could not complete the request."
    type: str = "about:blank"

    def __init__(self, detail: str | None = None, *, headers: Mapping[str, str] | None = None):
        self.detail = detail or self.default_detail
        self.headers = dict(headers or {})
        super().__init__(self.detail)

    @property
    def title(self) -> str:
        return HTTPStatus(self.status_code).phrase


class NotFoundError(AppError):
    status_code = HTTPStatus.NOT_FOUND
    default_detail = "The resource does not exist."


class ConflictError(AppError):
    status_code = HTTPStatus.CONFLICT
    default_detail = "The request conflicts with the current state of the resource."


class AuthenticationError(AppError):
    """401: missing or invalid credentials. Always carries `WWW-Authenticate`."""

    status_code = HTTPStatus.UNAUTHORIZED
    default_detail = "Not authenticated."

    def __init__(self, detail: str | None = None, *, invalid_token: bool = False):
        challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class PermissionDeniedError(AppError):
    status_code = HTTPStatus.FORBIDDEN
    default_detail = "You are not allowed to do this."


class RateLimitedError(AppError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    default_detail = "Too many attempts. Try again later."

    def __init__(self, retry_after: int, detail: str | None = None):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailableError(AppError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    default_detail = "The service is not ready."


def problem_response(
    request: Request,
    status_code: int,
    detail: str,
    *,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A problem details response for this request."""
    body: dict[str, Any] = {
        "type": type_,
        "title": HTTPStatus(status_code).phrase,
        "status": int(status_code),
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id is not None:
        body["request_id"] = request_id
    body.update(extensions or {})
    return JSONResponse(
        body, status_code=status_code, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE
    )


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        request, exc.status_code, exc.detail, type_=exc.type, headers=exc.headers
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    # Framework errors: unknown route (404), wrong method (405), and the like.
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
    return problem_response(request, exc.status_code, detail, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Never echo the input back: it may hold a password.
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    count = len(errors)
    return problem_response(
        request,
        HTTPStatus.UNPROCESSABLE_ENTITY,
        f"The request is invalid ({count} error{'s' if count != 1 else ''}).",
        extensions={"errors": errors},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer application, framework and validation errors with problem details.
    Unexpected exceptions become a 500 problem in the request context middleware."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
