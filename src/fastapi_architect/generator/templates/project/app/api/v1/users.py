"""Users: registration, the current account, public profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.deps import CurrentUser, IdPath, PasswordHasherDep, SessionDep
from app.schemas.common import problem_responses
from app.schemas.user import UserCreate, UserPublic, UserRead
from app.services.user import UserService

router = APIRouter(prefix="/users", tags=["users"])


async def get_user_service(session: SessionDep, hasher: PasswordHasherDep) -> UserService:
    return UserService(session, hasher=hasher)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a user",
    description="Open sign-up. `Location` names the new user's public profile.",
    operation_id="register_user",
    responses=problem_responses(400, 409, 422),
)
async def register_user(
    data: UserCreate, service: UserServiceDep, request: Request, response: Response
) -> UserRead:
    user = await service.register(data)
    response.headers["Location"] = str(request.url_for("get_user", user_id=user.id))
    return user


@router.get(
    "/me",
    status_code=status.HTTP_200_OK,
    summary="Get the current user",
    operation_id="read_current_user",
    responses=problem_responses(401),
)
async def read_current_user(current_user: CurrentUser) -> UserRead:
    return UserRead.model_validate(current_user)


@router.get(
    "/{user_id}",
    status_code=status.HTTP_200_OK,
    summary="Get a user's public profile",
    operation_id="get_user",
    responses=problem_responses(404, 422),
)
async def get_user(user_id: IdPath, service: UserServiceDep) -> UserPublic:
    return await service.get_public(user_id)
