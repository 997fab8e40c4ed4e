"""Readiness checks of the services the application depends on."""

from __future__ import annotations

from anyio import fail_after
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ServiceUnavailableError
from app.core.logging import get_logger
from app.schemas.health import HealthStatus

logger = get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


class HealthService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def readiness(self) -> HealthStatus:
        """OK when the database answers a trivial query in time; 503 otherwise."""
        try:
            with fail_after(CHECK_TIMEOUT_SECONDS):
                await self.session.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            logger.warning("database_not_ready", error=type(exc).__name__)
            raise ServiceUnavailableError("The database is not reachable.") from None
        return HealthStatus(checks={"database": "ok"})
