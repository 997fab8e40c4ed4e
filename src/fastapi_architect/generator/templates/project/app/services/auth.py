"""Authentication use cases: password login (rate limited), refresh-token rotation with
reuse detection, and resolving the user behind an access token."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AuthenticationError, RateLimitedError
from app.core.logging import get_logger
from app.core.rate_limit import RateLimiter
from app.core.security import InvalidTokenError, PasswordHasher, TokenManager, hash_token
from app.models.refresh_token import RefreshToken
from app.models.user import User
from app.repositories.refresh_token import RefreshTokenRepository
from app.repositories.user import UserRepository
from app.schemas.auth import TokenPair
from app.schemas.common import MAX_ID
from app.schemas.user import PASSWORD_MAX_LENGTH

logger = get_logger(__name__)

MAX_LOGIN_LENGTH = 320
WRONG_CREDENTIALS = "Incorrect username, e-mail address or password."


def _login_key(client: str, login: str) -> tuple[str, str, str]:
    # A digest keeps rate-limit keys short whatever the client sends.
    return ("login", client, hashlib.sha256(login.encode()).hexdigest()[:32])


class AuthService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        hasher: PasswordHasher,
        tokens: TokenManager,
        login_limiter: RateLimiter,
    ) -> None:
        self.session = session
        self.hasher = hasher
        self.tokens = tokens
        self.login_limiter = login_limiter
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)

    async def login(self, login: str, password: str, *, client: str) -> TokenPair:
        """Tokens for the e-mail address or username `login`. Failures are counted per
        client address and login; past the limit every attempt is refused with 429."""
        login = login.strip().lower()
        key = _login_key(client, login)
        retry_after = await self.login_limiter.retry_after(*key)
        if retry_after is not None:
            raise RateLimitedError(retry_after)
        user = await self._check_password(login, password)
        if user is None:
            await self.login_limiter.hit(*key)
            logger.info("login_failed", client=client)
            raise AuthenticationError(WRONG_CREDENTIALS)
        await self.login_limiter.reset(*key)
        return await self._issue_pair(user, family_id=uuid4().hex)

    async def _check_password(self, login: str, password: str) -> User | None:
        """The active user with this login and password, else None. A missing user
        costs one hash verification too, so timing does not tell whether it exists."""
        # Input no account can match skips the lookup, not the hashing time.
        usable = (
            0 < len(login) <= MAX_LOGIN_LENGTH
            and "\x00" not in login
            and len(password) <= PASSWORD_MAX_LENGTH
        )
        user = await self.users.get_by_login(login) if usable else None
        if user is None:
            await self.hasher.verify_dummy(password[:PASSWORD_MAX_LENGTH])
            return None
        valid, new_hash = await self.hasher.verify(password, user.password_hash)
        if not valid or not user.is_active:
            return None
        if new_hash is not None:  # the hashing parameters changed: upgrade the hash
            user.password_hash = new_hash
        return user

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token: the presented one becomes used and a new pair of the
        same family is issued. A token presented twice revokes its whole family."""
        try:
            claims = self.tokens.decode(refresh_token, "refresh")
        except InvalidTokenError:
            raise AuthenticationError("Invalid refresh token.", invalid_token=True) from None
        stored = await self.refresh_tokens.get_by_hash(hash_token(refresh_token))
        if stored is None or str(stored.user_id) != claims.subject:
            raise AuthenticationError("Invalid refresh token.", invalid_token=True)
        now = datetime.now(UTC)
        if not await self.refresh_tokens.mark_used(stored.id, now):
            await self.refresh_tokens.revoke_family(stored.family_id, now)
            await self.session.commit()
            logger.warning(
                "refresh_token_reused", user_id=stored.user_id, family_id=stored.family_id
            )
            raise AuthenticationError("Refresh token already used.", invalid_token=True)
        user = await self.users.get(stored.user_id)
        if user is None or not user.is_active:
            await self.session.commit()
            raise AuthenticationError("Invalid refresh token.", invalid_token=True)
        return await self._issue_pair(user, family_id=stored.family_id)

    async def user_from_access_token(self, token: str) -> User:
        """The active user an access token was issued to; 401 for anything else."""
        try:
            claims = self.tokens.decode(token, "access")
        except InvalidTokenError:
            raise AuthenticationError(
                "Invalid or expired access token.", invalid_token=True
            ) from None
        subject = claims.subject
        user_id = (
            int(subject) if subject.isascii() and subject.isdecimal() and len(subject) <= 10 else 0
        )
        user = await self.users.get(user_id) if 0 < user_id <= MAX_ID else None
        if user is None or not user.is_active:
            raise AuthenticationError("Invalid or expired access token.", invalid_token=True)
        return user

    async def _issue_pair(self, user: User, *, family_id: str) -> TokenPair:
        access = self.tokens.issue(str(user.id), "access")
        refresh = self.tokens.issue(str(user.id), "refresh")
        await self.refresh_tokens.add(
            RefreshToken(
                user_id=user.id,
                family_id=family_id,
                token_hash=hash_token(refresh.token),
                expires_at=refresh.expires_at,
            )
        )
        await self.session.commit()
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=int(self.tokens.access_ttl.total_seconds()),
        )
