import logging
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from app.db import get_db
from app.deps import AsyncSessionDep, BookServiceDep, CurrentUser, SessionDep
from app.models import Author, Book
from app.schemas import BookCreate, BookOut, BookPrice
from app.services import books as books_service
from app.services import pricing

logger = logging.getLogger(__name__)

router = APIRouter()

DEFAULT_QUOTE_CURRENCIES = ["USD", "GBP", "CHF"]


@router.get("", response_model=list[BookOut])
def list_books(
    service: BookServiceDep,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    author_id: int | None = None,
) -> Sequence[Book]:
    return service.list_books(skip=skip, limit=limit, author_id=author_id)


@router.get("/search", response_model=list[BookOut])
def search_books(
    q: Annotated[str, Query(min_length=2, max_length=100)],
    service: BookServiceDep,
) -> list[dict[str, Any]]:
    return service.search(q)


@router.get("/new-releases", response_model=list[BookOut])
async def new_releases(
    db: Session = Depends(get_db),
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
):
    return (
        db.query(Book)
        .filter(Book.published_on.is_not(None))
        .order_by(Book.published_on.desc())
        .limit(limit)
        .all()
    )


@router.get("/{book_id}", response_model=BookOut)
def get_book(book_id: int, service: BookServiceDep):
    book = service.get(book_id)
    if book is None:
        return HTTPException(status_code=404, detail="Book not found")
    return book


@router.get("/{book_id}/price", response_model=BookPrice)
async def get_book_price(
    book_id: int,
    session: AsyncSessionDep,
    currency: Annotated[str, Query(min_length=3, max_length=3)] = "EUR",
) -> BookPrice:
    book = await books_service.fetch_book(session, book_id)
    if book is None:
        raise HTTPException(status_code=404, detail="Book not found")
    try:
        rate = pricing.get_exchange_rate(currency)
    except pricing.ExchangeRateUnavailable:
        raise HTTPException(status_code=422, detail=f"Unsupported currency: {currency}") from None
    return BookPrice(book_id=book.id, currency=currency.upper(), price=pricing.convert(book.price, rate))


@router.get("/{book_id}/price-quotes", response_model=list[BookPrice])
async def get_book_price_quotes(
    book_id: int,
    session: AsyncSessionDep,
    currencies: Annotated[list[str] | None, Query()] = None,
) -> list[BookPrice]:
    book = await books_service.fetch_book(session, book_id)
    if book is None:
        raise HTTPException(status_code=404, detail="Book not found")

    quotes: list[BookPrice] = []
    for cur in currencies or DEFAULT_QUOTE_CURRENCIES:
        try:
            rate = await run_in_threadpool(pricing.get_exchange_rate, cur)
        except pricing.ExchangeRateUnavailable:
            continue
        quotes.append(
            BookPrice(book_id=book.id, currency=cur.upper(), price=pricing.convert(book.price, rate))
        )
    return quotes


@router.post("", response_model=BookOut, status_code=status.HTTP_201_CREATED)
def create_book(payload: BookCreate, db: SessionDep, current_user: CurrentUser) -> Book:
    if db.get(Author, payload.author_id) is None:
        raise HTTPException(status_code=404, detail="Author not found")
    book = Book(**payload.model_dump())
    db.add(book)
    db.commit()
    db.refresh(book)
    logger.info("Book %s created by user %s", book.id, current_user.id)
    return book


@router.patch("/{book_id}", response_model=BookOut)
def update_book(
    book_id: int,
    payload: dict,
    service: BookServiceDep,
    current_user: CurrentUser,
) -> Book:
    book = service.get(book_id)
    if book is None:
        raise HTTPException(status_code=404, detail="Book not found")
    logger.info("Book %s updated by user %s", book_id, current_user.id)
    return service.update(book, payload)


@router.delete("/{book_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_book(book_id: int, service: BookServiceDep, current_user: CurrentUser) -> None:
    book = service.get(book_id)
    if book is None:
        raise HTTPException(status_code=404, detail="Book not found")
    service.delete(book)
    logger.info("Book %s deleted by user %s", book_id, current_user.id)
