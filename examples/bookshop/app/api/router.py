from fastapi import APIRouter, Depends

from app.api.routes import admin, auth, authors, books, orders
from app.deps import get_current_user

api_router = APIRouter()
api_router.include_router(auth.router, tags=["auth"])
api_router.include_router(books.router, prefix="/books", tags=["books"])
api_router.include_router(authors.router, prefix="/authors", tags=["authors"])
api_router.include_router(
    orders.router,
    prefix="/orders",
    tags=["orders"],
    dependencies=[Depends(get_current_user)],
)
api_router.include_router(admin.router, prefix="/admin", tags=["admin"])
