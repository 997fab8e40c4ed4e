"""Products: a public, paginated catalogue; changes by the owner or a superuser."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.api.deps import CurrentUser, IdPath, SessionDep
from app.schemas.common import Page, problem_responses
from app.schemas.product import ProductCreate, ProductQuery, ProductRead, ProductUpdate
from app.services.product import ProductService

router = APIRouter(prefix="/products", tags=["products"])


async def get_product_service(session: SessionDep) -> ProductService:
    return ProductService(session)


ProductServiceDep = Annotated[ProductService, Depends(get_product_service)]


@router.get(
    "",
    status_code=status.HTTP_200_OK,
    summary="List products",
    description="A page of products, filtered and sorted on indexed columns.",
    operation_id="list_products",
    responses=problem_responses(422),
)
async def list_products(
    query: Annotated[ProductQuery, Query()], service: ProductServiceDep
) -> Page[ProductRead]:
    return await service.list(query)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a product",
    description="The authenticated user becomes the owner. `Location` names the new product.",
    operation_id="create_product",
    responses=problem_responses(400, 401, 422),
)
async def create_product(
    data: ProductCreate,
    current_user: CurrentUser,
    service: ProductServiceDep,
    request: Request,
    response: Response,
) -> ProductRead:
    product = await service.create(data, owner=current_user)
    response.headers["Location"] = str(request.url_for("get_product", product_id=product.id))
    return product


@router.get(
    "/{product_id}",
    status_code=status.HTTP_200_OK,
    summary="Get a product",
    operation_id="get_product",
    responses=problem_responses(404, 422),
)
async def get_product(product_id: IdPath, service: ProductServiceDep) -> ProductRead:
    return await service.get(product_id)


@router.patch(
    "/{product_id}",
    status_code=status.HTTP_200_OK,
    summary="Update a product",
    description="Only the fields sent are changed. Owner or superuser only.",
    operation_id="update_product",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def update_product(
    product_id: IdPath,
    data: ProductUpdate,
    current_user: CurrentUser,
    service: ProductServiceDep,
) -> ProductRead:
    return await service.update(product_id, data, actor=current_user)


@router.delete(
    "/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a product",
    description="Owner or superuser only.",
    operation_id="delete_product",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_product(
    product_id: IdPath, current_user: CurrentUser, service: ProductServiceDep
) -> None:
    await service.delete(product_id, actor=current_user)
