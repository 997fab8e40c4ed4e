"""Version 1 of the API: one `include_router` per resource."""

from fastapi import APIRouter

from app.api.v1 import auth
from app.api.v1 import products
from app.api.v1 import users

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth.router)
api_router.include_router(users.router)
api_router.include_router(products.router)
