"""Password hashing (Argon2id through pwdlib) and JSON Web Tokens (PyJWT, one pinned
algorithm, `exp`/`iat`/`sub`/`type`/`jti` claims required)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import uuid4

import jwt
from anyio import to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import Settings

TokenType = Literal["access", "refresh"]
REQUIRED_CLAIMS = ["exp", "iat", "sub", "type", "jti"]


class PasswordHasher:
    """Argon2id hashing, run in a worker thread so that it never blocks the event loop."""

    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._context = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism),)
        )
        # Verified against when the account does not exist, so that a wrong user name
        # costs the same time as a wrong password.
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(16))

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        return cls(
            time_cost=settings.password_hash_time_cost,
            memory_cost=settings.password_hash_memory_cost,
            parallelism=settings.password_hash_parallelism,
        )

    async def hash(self, password: str) -> str:
        return await to_thread.run_sync(self._context.hash, password)

    async def verify(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """Whether the password matches, and a new hash when the stored one uses outdated
        parameters (store it)."""
        return await to_thread.run_sync(self._context.verify_and_update, password, password_hash)

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification, for an account that does not exist."""
        await to_thread.run_sync(self._context.verify, password, self._dummy_hash)


class InvalidTokenError(Exception):
    """The token is malformed, wrongly signed, expired, or of the wrong type."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    type: TokenType
    jti: str
    issued_at: datetime
    expires_at: datetime


class TokenManager:
    """Signs and verifies JWTs with the secret key and the one algorithm of the settings."""

    def __init__(
        self,
        *,
        secret_key: str,
        algorithm: str,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
    ) -> None:
        self._key = secret_key
        self._algorithm = algorithm
        self._ttl: dict[TokenType, timedelta] = {"access": access_ttl, "refresh": refresh_ttl}

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenManager:
        return cls(
            secret_key=settings.secret_key.get_secret_value(),
            algorithm=settings.jwt_algorithm,
            access_ttl=timedelta(minutes=settings.access_token_expire_minutes),
            refresh_ttl=timedelta(days=settings.refresh_token_expire_days),
        )

    @property
    def access_ttl(self) -> timedelta:
        return self._ttl["access"]

    def issue(self, subject: str, token_type: TokenType) -> IssuedToken:
        now = datetime.now(UTC)
        expires_at = now + self._ttl[token_type]
        jti = uuid4().hex
        claims = {
            "sub": subject,
            "type": token_type,
            "jti": jti,
            "iat": now,
            "exp": expires_at,
        }
        token = jwt.encode(claims, self._key, algorithm=self._algorithm)
        return IssuedToken(token=token, jti=jti, expires_at=expires_at)

    def decode(self, token: str, expected_type: TokenType) -> TokenClaims:
        """Verify signature, algorithm, expiry and required claims, then the token type."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        if claims["type"] != expected_type:
            raise InvalidTokenError(f"expected a {expected_type} token")
        return TokenClaims(
            subject=claims["sub"],
            type=claims["type"],
            jti=str(claims["jti"]),
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )


def hash_token(token: str) -> str:
    """The stored form of a refresh token. Tokens are long random values, so a plain
    SHA-256 is enough (no salt or stretching needed, unlike passwords)."""
    return hashlib.sha256(token.encode()).hexdigest()
