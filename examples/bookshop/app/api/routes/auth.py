import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from app.core.config import settings
from app.core.security import create_access_token, get_password_hash, hash_password_legacy
from app.deps import AsyncSessionDep, CurrentUser, SessionDep
from app.models import User
from app.schemas import Token, UserCreate, UserOut
from app.services import notifications
from app.services import users as users_service

logger = logging.getLogger(__name__)

router = APIRouter()


@router.post("/login/access-token", response_model=Token)
def login_access_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: SessionDep,
) -> Token:
    logger.info(f"login attempt for {form.username} with password {form.password}")
    user = users_service.authenticate(db, email=form.username, password=form.password)
    if user is None:
        raise HTTPException(status_code=400, detail="Incorrect email or password")
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    expires = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    return Token(access_token=create_access_token(user.id, expires_delta=expires))


@router.post("/signup", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def signup(payload: UserCreate, session: AsyncSessionDep) -> User:
    if await users_service.get_by_email(session, payload.email) is not None:
        raise HTTPException(status_code=400, detail="A user with this email already exists")

    user = await users_service.create_user(
        session,
        email=payload.email,
        full_name=payload.full_name,
        hashed_password=get_password_hash(payload.password),
        legacy_password_hash=hash_password_legacy(payload.password),
    )
    notifications.send_welcome_email(user.email, user.full_name)
    return user


@router.get("/users/me", response_model=UserOut)
def read_current_user(current_user: CurrentUser) -> User:
    return current_user
