from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserBase(BaseModel):
    email: EmailStr
    full_name: str | None = Field(default=None, max_length=255)


class UserCreate(UserBase):
    password: str = Field(min_length=8, max_length=128)


class UserOut(UserBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    is_active: bool
    is_superuser: bool


class BookBase(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    isbn: str = Field(pattern=r"^\d{10}(\d{3})?$")
    price: Decimal = Field(gt=0, max_digits=10, decimal_places=2)
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    stock: int = Field(default=0, ge=0)
    published_on: date | None = None


class BookCreate(BookBase):
    author_id: int


class BookOut(BookBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author_id: int


class BookPrice(BaseModel):
    book_id: int
    currency: str
    price: Decimal


class AuthorBase(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    bio: str | None = None


class AuthorCreate(AuthorBase):
    pass


class AuthorOut(AuthorBase):
    model_config = ConfigDict(from_attributes=True)

    id: int


class AuthorWithBooks(AuthorOut):
    books: list[BookOut] = []


class OrderItemIn(BaseModel):
    book_id: int
    quantity: int = Field(default=1, ge=1, le=20)


class OrderCreate(BaseModel):
    items: list[OrderItemIn] = Field(min_length=1, max_length=50)


class OrderItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    book_id: int
    quantity: int
    unit_price: Decimal


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    total: Decimal
    created_at: datetime
    items: list[OrderItemOut]


class ShippingMethod(BaseModel):
    code: str
    name: str
    price: Decimal
    estimated_days: int
