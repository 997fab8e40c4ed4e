"""User account schemas. No schema that leaves the API carries a password or its hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.schemas.common import plain_text

USERNAME_PATTERN = r"^[A-Za-z0-9_]{3,32}$"
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
PASSWORD_MIN_CLASSES = 3
EMAIL_MAX_LENGTH = 320  # the column's length

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]


def _character_classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=EMAIL_MAX_LENGTH)
    username: Username = Field(
        description="3 to 32 letters, digits or underscores; case-insensitive"
    )
    password: SecretStr = Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description=(
            f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters, with at least "
            f"{PASSWORD_MIN_CLASSES} of: lower case, upper case, digit, symbol; "
            "must not contain the username or the e-mail's local part"
        ),
    )

    # email-validator caps an address at 254 characters, counted after normalization
    # (case folding can lengthen it: "İ".lower() is two characters): it fits the column
    @field_validator("email", "username")
    @classmethod
    def _lower_case(cls, value: str) -> str:
        return value.lower()

    @field_validator("password")
    @classmethod
    def _strong_password(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        password = plain_text(value.get_secret_value())
        if _character_classes(password) < PASSWORD_MIN_CLASSES:
            raise ValueError(
                f"must contain at least {PASSWORD_MIN_CLASSES} of: lower case, upper case, "
                "digit, symbol"
            )
        lowered = password.lower()
        username = info.data.get("username")
        email = info.data.get("email")
        local_part = email.split("@", 1)[0] if email else None
        for personal in (username, local_part):
            if personal and len(personal) >= 3 and personal in lowered:
                raise ValueError("must not contain the username or the e-mail address")
        return value


class UserPublic(BaseModel):
    """What anyone may see of a user."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str


class UserRead(UserPublic):
    """What a user sees of their own account."""

    email: str
    is_active: bool
    is_superuser: bool
    created_at: datetime
