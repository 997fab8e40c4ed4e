from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Author
from app.schemas import AuthorCreate


def get_author_with_books(db: Session, author_id: int) -> Author | None:
    stmt = select(Author).where(Author.id == author_id).options(selectinload(Author.books))
    return db.scalars(stmt).first()


def create_author(db: Session, data: AuthorCreate) -> Author:
    author = Author(**data.model_dump())
    db.add(author)
    db.commit()
    db.refresh(author)
    return author
