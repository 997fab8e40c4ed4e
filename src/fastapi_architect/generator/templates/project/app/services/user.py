"""User use cases: registration and profiles."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ConflictError, NotFoundError
from app.core.security import PasswordHasher
from app.models.user import User
from app.repositories.user import UserRepository
from app.schemas.user import UserCreate, UserPublic, UserRead


class UserService:
    def __init__(self, session: AsyncSession, *, hasher: PasswordHasher) -> None:
        self.session = session
        self.hasher = hasher
        self.users = UserRepository(session)

    async def register(self, data: UserCreate) -> UserRead:
        if await self.users.get_by_email(data.email) is not None:
            raise ConflictError("A user with this e-mail address already exists.")
        if await self.users.get_by_username(data.username) is not None:
            raise ConflictError("This username is already taken.")
        user = User(
            email=data.email,
            username=data.username,
            password_hash=await self.hasher.hash(data.password.get_secret_value()),
        )
        try:
            await self.users.add(user)
            await self.session.commit()
        except IntegrityError:
            # Another request registered the same e-mail or username in between.
            await self.session.rollback()
            raise ConflictError("This e-mail address or username is already taken.") from None
        return UserRead.model_validate(user)

    async def get_public(self, user_id: int) -> UserPublic:
        user = await self.users.get(user_id)
        if user is None:
            raise NotFoundError(f"User {user_id} does not exist.")
        return UserPublic.model_validate(user)
