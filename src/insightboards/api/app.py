"""The ASGI application."""

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from insightboards import __version__, web
from insightboards.accounts import service as accounts_service
from insightboards.accounts.service import CallerCache
from insightboards.accounts.token_uses import FLUSH_SECONDS, TokenUses
from insightboards.api import docs_pages, problems
from insightboards.api.access_log import AccessLog
from insightboards.api.audit import router as audit_router
from insightboards.api.dashboards import MERGED_FROM
from insightboards.api.dashboards import router as dashboards_router
from insightboards.api.fast_paths import FastPaths
from insightboards.api.feed import router as feed_router
from insightboards.api.health import router as health_router
from insightboards.api.limits import BodySizeLimit
from insightboards.api.openapi_examples import add_examples
from insightboards.api.paths import CanonicalRequests
from insightboards.api.rate_limit import RateLimiter
from insightboards.config import Settings, get_settings
from insightboards.dashboards import history, served, service, trash
from insightboards.dashboards.limits import Limits
from insightboards.dashboards.schemas import without_null
from insightboards.database import Database
from insightboards.feed.watcher import CHANGE_WATCHER, ChangeWatcher
from insightboards.query.filter_schema import filter_components

logger = logging.getLogger(__name__)
API_PREFIXES = ("/results/api/v1", "/results/api/v2")
LIST_THREADS = 4


def create_app(settings: Settings | None = None) -> ASGIApp:
    """Build the app; the schema must already be at the newest migration (`serve` sees to it).

    The FastAPI app serves the API; in front of it, plain ASGI layers log each request,
    bound the body, put requests in one form (api/paths.py) and answer the hottest calls
    (api/fast_paths.py).
    Outside FastAPI, those calls skip its own middleware (its error and telemetry layers
    each wrap every message sent): wrk GET by id at 10k boards, 59-69 % -> 69-76 % of
    perf.py's limit in the same minutes."""
    settings = settings or get_settings()
    # /docs and /redoc with Swagger UI's and ReDoc's files served by the app itself, not a
    # CDN: self-hosted servers often have no internet access.
    app = FastAPIOffline(
        title="Insightboards",
        version=__version__,
        description="A self-hosted implementation of the Quantive Results Insightboards "
        "(Dashboards) API.",
        lifespan=functools.partial(_lifespan, settings=settings),
        redirect_slashes=False,
        redoc_url=None,  # api/docs_pages.py serves it
        # No badge from Swagger's online validator: the page would send it the
        # document's address.
        swagger_ui_parameters={"validatorUrl": None},
    )
    for prefix in API_PREFIXES:
        # Before the dashboards' routes: /dashboards/{dashboardId} would take "changes".
        app.include_router(feed_router, prefix=prefix)
        app.include_router(dashboards_router, prefix=prefix)
        app.include_router(audit_router, prefix=prefix)
    app.include_router(health_router)
    docs_pages.install(app)
    web.install(app)
    problems.install(app)
    _describe_errors_as_problems(app)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.limits = Limits.from_settings(settings)
    app.state.callers = CallerCache()
    fast = FastPaths(app, API_PREFIXES)
    served: ASGIApp = BodySizeLimit(CanonicalRequests(fast), max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        served = _cross_origin(served, settings.cors_origins)
    return AccessLog(served)


def _cross_origin(app: ASGIApp, origins: list[str]) -> ASGIApp:
    """Browsers' cross-origin calls from the pages of `origins` (Starlette's CORS
    middleware): preflights answered for the headers the API reads, and the ones it
    answers with (ETag, Location) readable by the page. Tokens travel in a header, never
    in a cookie, so no credentials mode is needed."""
    return _CrossOrigin(
        app,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=[
            "Authorization",
            "gtmhub-accountId",
            "Content-Type",
            "If-Match",
            "Last-Event-ID",
        ],
        expose_headers=["ETag", "Location", MERGED_FROM],
        max_age=600,
    )


class _CrossOrigin(CORSMiddleware):
    """Starlette's CORS middleware, whose refused preflights are problem documents that
    say what was refused, like every other error of the API."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        return problems.problem_response(
            400,
            f"Cross-origin request refused (not allowed: {refused}); "
            "INSIGHTBOARDS_CORS_ORIGINS lists the web origins that may call the API.",
            headers={
                k: v
                for k, v in response.headers.items()
                if k.startswith("access-control") or k == "vary"
            },
        )


@asynccontextmanager
async def _lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """The database and what runs beside the requests, from start to shutdown."""
    database = Database(settings.database_url)
    app.state.database = database
    watcher = app.state.change_watcher = ChangeWatcher(
        database,
        poll_seconds=settings.feed_poll_seconds,
        heartbeat_seconds=settings.feed_heartbeat_seconds,
        longest_wait_seconds=settings.feed_longest_wait_seconds,
        streams_per_token=settings.feed_streams_per_token,
    )
    app.state.loop_reads = await database.open_loop_reads()
    # Lists the loop does not answer itself (listing.list_page_on_loop) run on threads
    # of their own, a few: with more, their threads mostly take the
    # GIL from one another (wrk, 32 clients, label lists at 10k boards: 70 req/s on the
    # 40 threads FastAPI's sync routes share, 92 on 4).
    app.state.list_threads = anyio.CapacityLimiter(LIST_THREADS)
    # Before the first request, so that every connection plans with statistics.
    board_count = await _refresh_statistics(database)
    maintenance = asyncio.create_task(_keep_statistics(database, settings, board_count))
    filling = asyncio.create_task(_store_missing_documents(database))
    token_uses = asyncio.create_task(_record_token_uses(database, app.state.callers.uses))
    expiring = asyncio.create_task(_drop_expired(database, app.state.limits, settings))
    # Everything built so far (the app, schemas, the ORM's caches) lives as long as the
    # process: moved out of the collector's view, full collections stop scanning it,
    # which removes pauses of tens of milliseconds from the latency tail.
    gc.collect()
    gc.freeze()
    yield {CHANGE_WATCHER: watcher}
    await watcher.close()
    maintenance.cancel()
    filling.cancel()
    token_uses.cancel()
    expiring.cancel()
    await _write_token_uses(database, app.state.callers.uses)  # those noted at the end
    if app.state.loop_reads is not None:
        await app.state.loop_reads.close()
    database.dispose()


# How often the number of boards is looked at between refreshes of the statistics.
STATISTICS_CHECK_SECONDS = 10


async def _keep_statistics(database: Database, settings: Settings, board_count: int | None) -> None:
    """Refresh the planners' statistics now and then, and soon after the boards' number has
    changed much: statistics taken of an empty database (a first start, then an import)
    make both planners guess, and a guess can cost a list a scan of every board."""
    loop = asyncio.get_running_loop()
    refreshed = loop.time()
    while True:
        await asyncio.sleep(min(STATISTICS_CHECK_SECONDS, settings.statistics_interval_seconds))
        due = loop.time() - refreshed >= settings.statistics_interval_seconds
        if not due and board_count is not None:
            try:
                now = await asyncio.to_thread(service.boards_held, database)
            except Exception:  # a busy database: look again later
                logger.exception("counting the boards failed")
                continue
            moved = abs(now - board_count)
            due = moved >= settings.statistics_after_boards and moved * 4 >= board_count
        if due:
            board_count = await _refresh_statistics(database)
            refreshed = loop.time()


async def _refresh_statistics(database: Database) -> int | None:
    """Refresh them; the number of boards they saw, None if that failed."""
    try:
        return await asyncio.to_thread(_refresh_and_count, database)
    except Exception:  # a busy database must not stop the server; try again later
        logger.exception("refreshing planner statistics failed")
        return None


def _refresh_and_count(database: Database) -> int:
    board_count = service.boards_held(database)
    database.refresh_statistics()
    return board_count


async def _record_token_uses(database: Database, uses: TokenUses) -> None:
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        await _write_token_uses(database, uses)


async def _write_token_uses(database: Database, uses: TokenUses) -> None:
    taken = uses.take()
    if not taken:
        return
    try:
        await asyncio.to_thread(accounts_service.record_token_uses, database, taken)
    except Exception:  # a busy or unreachable database: try again with the next ones
        logger.exception("recording the last use of tokens failed")
        uses.give_back(taken)


# How often versions and trashed boards past the days they are kept are looked for.
EXPIRED_SECONDS = 3600


async def _drop_expired(database: Database, limits: Limits, settings: Settings) -> None:
    """At start and every hour: versions older than the history's days, of boards that no
    longer change (a change drops its own board's), and boards trashed longer than the
    trash's days."""
    while limits.version_days_kept or settings.trash_keep_days:
        try:
            versions = await asyncio.to_thread(history.drop_expired, database, limits)
            boards = await asyncio.to_thread(
                trash.purge_expired, database, settings.trash_keep_days
            )
        except Exception:  # a busy database: the next round drops them
            logger.exception("dropping expired versions or trashed boards failed")
        else:
            if versions or boards:
                logger.info(
                    "dropped %d expired versions, purged %d trashed boards", versions, boards
                )
        await asyncio.sleep(EXPIRED_SECONDS)


async def _store_missing_documents(database: Database) -> None:
    """Boards from before stored documents are served rendered from their tables until
    this has stored theirs (once, after the upgrade)."""
    try:
        stored = await asyncio.to_thread(served.store_missing_documents, database)
    except Exception:  # served all the same; the next start tries again
        logger.exception("storing the documents of older boards failed")
        return
    if stored:
        logger.info("stored the documents of %d boards written before migration 0008", stored)


def _describe_errors_as_problems(app: FastAPI) -> None:
    """The OpenAPI document as the API behaves: invalid requests are 400 problem details, so
    FastAPI's generated 422 responses are dropped and a `Problem` schema is added."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path_item in document["paths"].values():
                for operation in path_item.values():
                    operation.get("responses", {}).pop("422", None)
                    # An HTTP parameter is a string or absent, never JSON null.
                    for parameter in operation.get("parameters", []):
                        without_null(parameter.get("schema", {}))
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            schemas["Problem"] = problems.Problem.model_json_schema()
            _describe_filter(document)
            add_examples(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_FILTER_DESCRIPTION = (
    'A MongoDB query document: `{"tags.name": "okr", "archived": false}`. '
    "The vendor's relaxed syntax is accepted as well, in the query string and as a string "
    "in a JSON body: unquoted keys, single-quoted strings, trailing commas "
    "(`{tags.name: 'okr'}`). See docs/query-language.md."
)


def _describe_filter(document: dict[str, Any]) -> None:
    """`filter` is a query document, not free text: the query parameter is declared as JSON
    content of the `Filter` schema (the relaxed syntax is a superset that the schema cannot
    spell), and so is the `filter` of a JSON body."""
    schemas = document["components"]["schemas"]
    schemas.update(filter_components())
    filter_ref = {"$ref": "#/components/schemas/Filter"}
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "filter" and parameter["in"] == "query":
                    parameter.pop("schema")
                    parameter["content"] = {"application/json": {"schema": filter_ref}}
                    parameter["description"] = _FILTER_DESCRIPTION
    schemas["ListQuery"]["properties"]["filter"] = {
        "anyOf": [filter_ref, {"type": "null"}],
        "description": _FILTER_DESCRIPTION,
    }
