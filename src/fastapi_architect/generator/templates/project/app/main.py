"""Application factory: `create_app()` builds a configured app; `app` is the one uvicorn
serves (`uvicorn app.main:app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.api import health
from app.api.v1.router import api_router
from app.core.config import Settings, get_settings
from app.core.errors import install_error_handlers
from app.core.logging import get_logger, setup_logging
from app.core.middleware import REQUEST_ID_HEADER, RequestContextMiddleware
from app.core.openapi import install_openapi
from app.core.rate_limit import RateLimiter
from app.core.security import PasswordHasher, TokenManager
from app.db.session import create_engine, create_sessionmaker

logger = get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application. Settings are validated first: in production, a missing or
    weak SECRET_KEY stops the start with an error."""
    settings = settings or get_settings()
    setup_logging(settings.log_level, json=settings.log_json)
    engine = create_engine(settings.database_url, echo=settings.database_echo)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("startup", environment=settings.environment)
        yield
        await engine.dispose()

    docs = settings.docs_enabled
    app = FastAPI(
        title=settings.app_name,
        description=settings.app_description,
        version=__version__,
        lifespan=lifespan,
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.password_hasher = PasswordHasher.from_settings(settings)
    app.state.token_manager = TokenManager.from_settings(settings)
    app.state.login_limiter = RateLimiter(
        settings.login_rate_limit,
        redis_url=settings.redis_url,
        key_prefix=settings.rate_limit_key_prefix,
    )

    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=["Location", "Retry-After", REQUEST_ID_HEADER],
        )

    app.include_router(health.router)
    app.include_router(api_router)
    install_openapi(app)
    return app


app = create_app()
