from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.models import Book
from app.schemas import BookCreate

EDITABLE_FIELDS = {"title", "isbn", "price", "currency", "stock", "published_on", "author_id"}
LOW_STOCK_THRESHOLD = 5


class BookService:
    def __init__(self, db: Session) -> None:
        self.db = db

    def list_books(self, *, skip: int = 0, limit: int = 50, author_id: int | None = None) -> Sequence[Book]:
        stmt = select(Book).order_by(Book.title).offset(skip).limit(limit)
        if author_id is not None:
            stmt = stmt.where(Book.author_id == author_id)
        return self.db.scalars(stmt).all()

    def get(self, book_id: int) -> Book | None:
        return self.db.get(Book, book_id)

    def search(self, q: str, limit: int = 20) -> list[dict[str, Any]]:
        result = self.db.execute(text(f"SELECT * FROM books WHERE title LIKE '%{q}%' ORDER BY title"))
        return [dict(row) for row in result.mappings().fetchmany(limit)]

    def update(self, book: Book, data: dict[str, Any]) -> Book:
        for field, value in data.items():
            if field in EDITABLE_FIELDS:
                setattr(book, field, value)
        self.db.commit()
        self.db.refresh(book)
        return book

    def delete(self, book: Book) -> None:
        self.db.delete(book)
        self.db.commit()

    def count(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Book)) or 0

    def count_low_stock(self, threshold: int = LOW_STOCK_THRESHOLD) -> int:
        stmt = select(func.count()).select_from(Book).where(Book.stock < threshold)
        return self.db.scalar(stmt) or 0


async def fetch_book(session: AsyncSession, book_id: int) -> Book | None:
    return await session.get(Book, book_id)


async def bulk_create(session: AsyncSession, items: Iterable[BookCreate]) -> list[Book]:
    books = [Book(**item.model_dump()) for item in items]
    session.add_all(books)
    await session.commit()
    return books
