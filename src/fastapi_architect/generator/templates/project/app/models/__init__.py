"""Every model, imported so that `Base.metadata` (Alembic's target) knows all tables."""

from app.db.base import Base
from app.models.product import Product
from app.models.refresh_token import RefreshToken
from app.models.user import User

__all__ = [
    "Base",
    "Product",
    "RefreshToken",
    "User",
]
