import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import ValidationError

from app.deps import AsyncSessionDep, CurrentUser, SessionDep
from app.models import Book, User
from app.schemas import BookCreate, BookOut, UserOut
from app.services import books as books_service
from app.services import users as users_service
from app.services.books import BookService

logger = logging.getLogger(__name__)

router = APIRouter()


def _require_superuser(user: User) -> None:
    if not user.is_superuser:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Not enough privileges")


@router.get("/users", response_model=list[UserOut])
def list_users(
    current_user: CurrentUser,
    db: SessionDep,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> Sequence[User]:
    _require_superuser(current_user)
    return users_service.list_users(db, skip=skip, limit=limit)


@router.get("/stats")
def store_stats(current_user: CurrentUser, db: SessionDep):
    _require_superuser(current_user)
    books = BookService(db)
    return {
        "users": users_service.count_users(db),
        "books": books.count(),
        "low_stock": books.count_low_stock(),
        "generated_at": datetime.now(timezone.utc).isoformat(),
    }


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: int, db: SessionDep) -> None:
    user = users_service.get_user(db, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    users_service.delete_user(db, user)
    logger.info("Deleted user %s", user_id)


@router.post("/books/import", response_model=list[BookOut], status_code=status.HTTP_201_CREATED)
async def import_books(
    request: Request,
    current_user: CurrentUser,
    session: AsyncSessionDep,
) -> list[Book]:
    _require_superuser(current_user)
    data = await request.json()
    try:
        items = [BookCreate.model_validate(entry) for entry in data["books"]]
    except (KeyError, TypeError, ValidationError) as exc:
        raise HTTPException(
            status_code=422, detail="Expected a JSON object with a 'books' list"
        ) from exc
    books = await books_service.bulk_create(session, items)
    logger.info("Imported %d books (user %s)", len(books), current_user.id)
    return books
