"""The ASGI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from insightboards import __version__
from insightboards.api import problems
from insightboards.api.dashboards import router as dashboards_router
from insightboards.api.limits import BodySizeLimit
from insightboards.config import Settings, get_settings
from insightboards.database import Database

API_PREFIXES = ("/results/api/v1", "/results/api/v2")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the schema must already be at the newest migration (`serve` sees to it)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = Database(settings.database_url)
        yield
        app.state.database.dispose()

    app = FastAPI(
        title="Insightboards",
        version=__version__,
        description="A self-hosted implementation of the Quantive Results Insightboards "
        "(Dashboards) API.",
        lifespan=lifespan,
    )
    for prefix in API_PREFIXES:
        app.include_router(dashboards_router, prefix=prefix)
    problems.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
