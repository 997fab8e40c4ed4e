"""Dependencies shared by the routers: settings, database session, security services
and the authenticated user, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import AuthenticationError
from app.core.rate_limit import RateLimiter
from app.core.security import PasswordHasher, TokenManager
from app.db.session import get_session
from app.models.user import User
from app.schemas.common import MAX_ID
from app.services.auth import AuthService

# `auto_error=False`: a missing token is answered by `get_current_user`, as a problem.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_password_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


async def get_token_manager(request: Request) -> TokenManager:
    tokens: TokenManager = request.app.state.token_manager
    return tokens


async def get_login_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.login_limiter
    return limiter


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]
TokenManagerDep = Annotated[TokenManager, Depends(get_token_manager)]
LoginLimiterDep = Annotated[RateLimiter, Depends(get_login_limiter)]

# A path parameter holding a database id: out-of-range values are a 422, not a 500.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


async def get_auth_service(
    session: SessionDep,
    hasher: PasswordHasherDep,
    tokens: TokenManagerDep,
    limiter: LoginLimiterDep,
) -> AuthService:
    return AuthService(session, hasher=hasher, tokens=tokens, login_limiter=limiter)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def get_current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)], auth: AuthServiceDep
) -> User:
    """The active user a valid bearer access token names; 401 otherwise."""
    if not token:
        raise AuthenticationError("Not authenticated.")
    return await auth.user_from_access_token(token)


CurrentUser = Annotated[User, Depends(get_current_user)]
