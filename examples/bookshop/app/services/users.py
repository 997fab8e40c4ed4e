from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.security import verify_password
from app.models import User


def authenticate(db: Session, *, email: str, password: str) -> User | None:
    user = db.scalars(select(User).where(User.email == email)).first()
    if user is None or not verify_password(password, user.hashed_password):
        return None
    return user


def get_user(db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def list_users(db: Session, *, skip: int = 0, limit: int = 100) -> Sequence[User]:
    return db.scalars(select(User).order_by(User.id).offset(skip).limit(limit)).all()


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def delete_user(db: Session, user: User) -> None:
    db.delete(user)
    db.commit()


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.scalars(select(User).where(User.email == email))
    return result.first()


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    full_name: str | None,
    hashed_password: str,
    legacy_password_hash: str | None = None,
) -> User:
    user = User(
        email=email,
        full_name=full_name,
        hashed_password=hashed_password,
        legacy_password_hash=legacy_password_hash,
    )
    session.add(user)
    await session.commit()
    await session.refresh(user)
    return user
