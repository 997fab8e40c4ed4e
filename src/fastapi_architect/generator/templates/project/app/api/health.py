"""Liveness and readiness probes (outside the versioned API)."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import SessionDep
from app.schemas.common import problem_responses
from app.schemas.health import HealthStatus
from app.services.health import HealthService

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    status_code=status.HTTP_200_OK,
    summary="Liveness probe",
    description="The process is up and serving requests. Checks nothing else.",
    operation_id="liveness",
)
async def liveness() -> HealthStatus:
    return HealthStatus()


@router.get(
    "/readyz",
    status_code=status.HTTP_200_OK,
    summary="Readiness probe",
    description="The application can serve traffic: the database answers.",
    operation_id="readiness",
    responses=problem_responses(503),
)
async def readiness(session: SessionDep) -> HealthStatus:
    return await HealthService(session).readiness()
