from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, status
from sqlalchemy.exc import SQLAlchemyError

from app.deps import CurrentUser, SessionDep
from app.models import Book, Order, OrderItem
from app.schemas import OrderCreate, OrderOut, ShippingMethod
from app.services import notifications
from app.services import orders as orders_service

router = APIRouter()

SHIPPING_METHODS = [
    ShippingMethod(code="standard", name="Standard delivery", price=Decimal("3.90"), estimated_days=4),
    ShippingMethod(code="express", name="Express delivery", price=Decimal("9.90"), estimated_days=1),
    ShippingMethod(code="pickup", name="Pick up in store", price=Decimal("0.00"), estimated_days=2),
]


@router.get("", response_model=list[OrderOut])
def list_my_orders(
    db: SessionDep,
    current_user: CurrentUser,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Sequence[Order]:
    return orders_service.list_for_user(db, current_user.id, skip=skip, limit=limit)


@router.get("/shipping-methods", response_model=list[ShippingMethod])
def list_shipping_methods() -> list[ShippingMethod]:
    return SHIPPING_METHODS


@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def create_order(
    payload: OrderCreate,
    db: SessionDep,
    current_user: CurrentUser,
    background_tasks: BackgroundTasks,
) -> Order:
    order = Order(user_id=current_user.id, status="pending", total=Decimal("0"))
    for item in payload.items:
        book = db.get(Book, item.book_id)
        if book is None:
            raise HTTPException(status_code=404, detail=f"Book {item.book_id} not found")
        if book.stock < item.quantity:
            raise HTTPException(status_code=409, detail=f"Not enough stock for book {book.id}")
        book.stock -= item.quantity
        order.items.append(OrderItem(book_id=book.id, quantity=item.quantity, unit_price=book.price))
        order.total += book.price * item.quantity

    db.add(order)
    try:
        db.commit()
    except SQLAlchemyError as e:
        db.rollback()
        raise HTTPException(status_code=500, detail=str(e))
    db.refresh(order)

    background_tasks.add_task(notifications.send_order_confirmation, current_user.email, order.id)
    return order
