"""OAuth2 password flow with rotating refresh tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import AuthServiceDep
from app.schemas.auth import RefreshRequest, TokenPair
from app.schemas.common import problem_responses

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    status_code=status.HTTP_200_OK,
    summary="Log in with a password",
    description=(
        "OAuth2 password grant. `username` accepts the username or the e-mail address. "
        "Repeated failures from one address for one account are refused with 429."
    ),
    operation_id="issue_token",
    responses=problem_responses(400, 401, 422, 429),
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    auth: AuthServiceDep,
    request: Request,
    response: Response,
) -> TokenPair:
    client = request.client.host if request.client else "unknown"
    response.headers["Cache-Control"] = "no-store"
    return await auth.login(form.username, form.password, client=client)


@router.post(
    "/refresh",
    status_code=status.HTTP_200_OK,
    summary="Exchange a refresh token for a new pair",
    description=(
        "The refresh token rotates: each one works once. Presenting a used one revokes "
        "every token descended from the same login."
    ),
    operation_id="refresh_token",
    responses=problem_responses(400, 401, 422),
)
async def refresh_token(
    data: RefreshRequest, auth: AuthServiceDep, response: Response
) -> TokenPair:
    response.headers["Cache-Control"] = "no-store"
    return await auth.refresh(data.refresh_token)
