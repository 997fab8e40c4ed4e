"""Product use cases: listing, reading, and changes by the owner (or a superuser)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFoundError, PermissionDeniedError
from app.models.product import Product
from app.models.user import User
from app.repositories.product import ProductRepository
from app.schemas.common import Page
from app.schemas.product import ProductCreate, ProductQuery, ProductRead, ProductUpdate


class ProductService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.products = ProductRepository(session)

    async def list(self, query: ProductQuery) -> Page[ProductRead]:
        items = await self.products.list(query)
        total = await self.products.count(query)
        return Page[ProductRead](
            items=[ProductRead.model_validate(item) for item in items],
            total=total,
            limit=query.limit,
            offset=query.offset,
        )

    async def get(self, product_id: int) -> ProductRead:
        return ProductRead.model_validate(await self._get(product_id))

    async def create(self, data: ProductCreate, owner: User) -> ProductRead:
        product = await self.products.add(Product(**data.model_dump(), owner=owner))
        await self.session.commit()
        return ProductRead.model_validate(product)

    async def update(self, product_id: int, data: ProductUpdate, actor: User) -> ProductRead:
        product = await self._get_for_change(product_id, actor)
        for field, value in data.model_dump(exclude_unset=True).items():
            setattr(product, field, value)
        await self.session.commit()
        return ProductRead.model_validate(product)

    async def delete(self, product_id: int, actor: User) -> None:
        product = await self._get_for_change(product_id, actor)
        await self.products.delete(product)
        await self.session.commit()

    async def _get(self, product_id: int) -> Product:
        product = await self.products.get(product_id)
        if product is None:
            raise NotFoundError(f"Product {product_id} does not exist.")
        return product

    async def _get_for_change(self, product_id: int, actor: User) -> Product:
        product = await self._get(product_id)
        if product.owner_id != actor.id and not actor.is_superuser:
            raise PermissionDeniedError("Only the owner of a product may change it.")
        return product
