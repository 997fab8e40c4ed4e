"""Database access for users."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.user import User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def get_by_username(self, username: str) -> User | None:
        return await self.session.scalar(select(User).where(User.username == username))

    async def get_by_login(self, login: str) -> User | None:
        """The user whose e-mail address or username is `login` (both stored lower-case;
        a username cannot contain `@`, so at most one row matches)."""
        statement = select(User).where(or_(User.email == login, User.username == login))
        return await self.session.scalar(statement)

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user
