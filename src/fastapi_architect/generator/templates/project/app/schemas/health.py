"""Health check answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthStatus(BaseModel):
    status: Literal["ok"] = "ok"
    checks: dict[str, Literal["ok"]] = {}
