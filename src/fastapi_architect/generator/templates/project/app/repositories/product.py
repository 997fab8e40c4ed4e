"""Database access for products. Every query that returns products loads their owner
in the same statement (no N+1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.models.product import Product
from app.schemas.product import ProductQuery, ProductSort

# Products are always returned with their owner, loaded in the same query.
_WITH_OWNER = joinedload(Product.owner)

_SORT_COLUMNS = {
    ProductSort.CREATED_AT: Product.created_at,
    ProductSort.NAME: Product.name,
    ProductSort.PRICE: Product.price,
}


def _filters(query: ProductQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.owner_id is not None:
        conditions.append(Product.owner_id == query.owner_id)
    if query.min_price is not None:
        conditions.append(Product.price >= query.min_price)
    if query.max_price is not None:
        conditions.append(Product.price <= query.max_price)
    return conditions


def _order_by(sort: ProductSort) -> list[ColumnElement[Any]]:
    descending = sort.value.startswith("-")
    column = _SORT_COLUMNS[ProductSort(sort.value.removeprefix("-"))]
    # The id breaks ties, so that pages never overlap or skip rows.
    if descending:
        return [column.desc(), Product.id.desc()]
    return [column.asc(), Product.id.asc()]


class ProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, query: ProductQuery) -> Sequence[Product]:
        statement = (
            select(Product)
            .options(_WITH_OWNER)
            .where(*_filters(query))
            .order_by(*_order_by(query.sort))
            .limit(query.limit)
            .offset(query.offset)
        )
        return (await self.session.scalars(statement)).all()

    async def count(self, query: ProductQuery) -> int:
        statement = select(func.count()).select_from(Product).where(*_filters(query))
        return (await self.session.scalar(statement)) or 0

    async def get(self, product_id: int) -> Product | None:
        statement = select(Product).options(_WITH_OWNER).where(Product.id == product_id)
        return await self.session.scalar(statement)

    async def add(self, product: Product) -> Product:
        self.session.add(product)
        await self.session.flush()
        return product

    async def delete(self, product: Product) -> None:
        await self.session.delete(product)
        await self.session.flush()
