from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from app.deps import CurrentUser, SessionDep
from app.models import Author
from app.schemas import AuthorCreate, AuthorOut, AuthorWithBooks, BookOut
from app.services import authors as authors_service

router = APIRouter()


@router.get("", response_model=list[AuthorWithBooks])
def list_authors(
    db: SessionDep,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[AuthorWithBooks]:
    authors = db.scalars(select(Author).order_by(Author.name).offset(skip).limit(limit)).all()
    result = []
    for a in authors:
        books = [BookOut.model_validate(b) for b in a.books]
        result.append(AuthorWithBooks(id=a.id, name=a.name, bio=a.bio, books=books))
    return result


@router.get("/{author_id}", response_model=AuthorWithBooks)
def get_author(author_id: int, db: SessionDep) -> Author:
    author = authors_service.get_author_with_books(db, author_id)
    if author is None:
        raise HTTPException(status_code=404, detail="Author not found")
    return author


@router.post("", response_model=AuthorOut)
def create_author(payload: AuthorCreate, db: SessionDep, current_user: CurrentUser) -> Author:
    return authors_service.create_author(db, payload)
