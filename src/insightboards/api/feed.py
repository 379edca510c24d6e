"""HTTP route of the change feed (insightboards/feed/): Server-Sent Events, or a long poll
answered in JSON, of the changes of the boards the caller could read when they happened."""

import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.sse import EventSourceResponse, format_sse_event
from starlette.types import Receive, Scope, Send

from insightboards.access import Caller
from insightboards.api.dashboards import problem_responses
from insightboards.api.deps import CallerDep, DatabaseDep, caller_of
from insightboards.api.json_body import StrictJsonRoute, json_response
from insightboards.dashboards.schemas import ApiModel
from insightboards.database import Database
from insightboards.errors import (
    BadRequest,
    InsightboardsError,
    ServiceUnavailable,
    TooManyRequests,
)
from insightboards.feed import service
from insightboards.feed.watcher import ChangeWatcher

router = APIRouter(prefix="/dashboards", tags=["change feed"], route_class=StrictJsonRoute)

EVENT_STREAM = "text/event-stream"
# How long a browser's EventSource waits before it reconnects (the stream's `retry:`).
RECONNECT_MS = 2000
_CURSOR = r"^[0-9]{1,18}$"


class Change(ApiModel):
    id: str
    dashboardId: str
    version: int
    kind: str
    userId: str | None
    date: str
    changedFields: list[str]


class ChangesPage(ApiModel):
    items: list[Change]
    cursor: str


_STREAM_DESCRIPTION = (
    "With `Accept: text/event-stream`: a stream of Server-Sent Events, one per change, "
    "each `id:` the change's cursor and `data:` the change as JSON (as an item of the JSON "
    "form); a comment line (`: ping`) after each quiet spell of "
    "INSIGHTBOARDS_FEED_HEARTBEAT_SECONDS (15). It starts after `Last-Event-ID` (what a "
    "browser's EventSource sends when it reconnects), else after `since`, else with the next "
    "change; it ends when the server shuts down, and the client reconnects."
)


def _cursor(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise BadRequest(f"{name} must be a cursor the feed answered with: digits only.")
    return int(value)


@router.get(
    "/changes",
    response_model=ChangesPage,
    summary="Follow the changes of boards",
    description="Each change of a board (create, clone, update, access change, item or "
    "layout save, restore, delete, undelete, purge) as it happens, oldest first, of the "
    "boards the caller could read at the moment of the change: its board, version, kind, "
    "author, time and the top-level fields it changed. The JSON form is a long poll: with "
    "`since` (a cursor from an earlier answer) it answers as soon as there are changes after "
    "it, or after `wait` seconds with none; without `since` it answers at once with no "
    "changes and the cursor to start from. " + _STREAM_DESCRIPTION + " A token may hold "
    "INSIGHTBOARDS_FEED_STREAMS_PER_TOKEN (10) streams and polls open at once per worker "
    "process; beyond, 429.",
    responses=problem_responses(400, 401, 402, 403)
    | {
        200: {
            "description": "Changes, as JSON or as a stream of events.",
            "content": {
                EVENT_STREAM: {
                    "schema": {"type": "string"},
                    # Recorded from a server: a create, then a quiet spell.
                    "example": 'retry: 2000\n\ndata: {"id":"6","dashboardId":'
                    '"6b17416c260532f2f5310966","version":1,"kind":"create","userId":'
                    '"6b174168260532f2f5310965","date":"2026-12-07T23:29:48.569Z",'
                    '"changedFields":[]}\nid: 6\n\n: ping\n\n',
                }
            },
        },
        429: {"description": "The token holds as many streams open as it may."},
    },
)
async def dashboard_changes(
    request: Request,
    database: DatabaseDep,
    caller: CallerDep,
    since: Annotated[
        str | None,
        Query(pattern=_CURSOR, description="The cursor to go on from (an answer's `cursor`)."),
    ] = None,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=60,
            description="Seconds a long poll waits for a change (25; the server may cap it).",
        ),
    ] = 25,
    take: Annotated[
        int, Query(ge=1, le=1000, description="The most changes in one answer (100).")
    ] = 100,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="The last event a stream received."),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    watcher: ChangeWatcher = request.app.state.change_watcher
    token_hash = request.state.token_hash
    # HEAD asks for the headers alone: never a stream without end.
    streaming = request.method == "GET" and _accepts_event_stream(accept)
    start = _cursor("Last-Event-ID", last_event_id) if streaming else None
    if start is None:
        start = _cursor("since", since)
    if watcher.ended:
        raise ServiceUnavailable("The server is shutting down; try again in a moment.")
    if start is None:  # from now on: where "now" is, read before the answer begins
        start = await anyio.to_thread.run_sync(service.current_cursor, database, caller)
        if not streaming:
            return json_response({"items": [], "cursor": str(start)})
    if not watcher.open_stream(token_hash):
        raise TooManyRequests(
            "This token holds as many change streams and polls open as it may "
            "(INSIGHTBOARDS_FEED_STREAMS_PER_TOKEN); close one first.",
            headers={"Retry-After": "5"},
        )
    if not streaming:
        try:
            return json_response(await _long_poll(database, caller, watcher, start, take, wait))
        finally:
            watcher.close_stream(token_hash)
    again = functools.partial(caller_of, request.app.state, database, request.state.token)
    return _ChangeStream(
        _stream(database, again, watcher, start, take),
        release=lambda: watcher.close_stream(token_hash),
    )


def _accepts_event_stream(accept: str | None) -> bool:
    """Whether `Accept` names text/event-stream (with a q above 0)."""
    for entry in (accept or "").lower().split(","):
        media, *parameters = (part.replace(" ", "") for part in entry.split(";"))
        if media == EVENT_STREAM:
            q = next((p[2:] for p in parameters if p.startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return True  # a q that is no number: taken as absent
    return False


async def _long_poll(
    database: Database,
    caller: Caller,
    watcher: ChangeWatcher,
    cursor: int,
    take: int,
    wait: float,
) -> dict[str, Any]:
    deadline = time.monotonic() + min(wait, watcher.longest_wait_seconds)
    while True:
        generation = watcher.generation
        changes = await anyio.to_thread.run_sync(
            service.changes_after, database, caller, cursor, take
        )
        left = deadline - time.monotonic()
        if changes.items or left <= 0 or watcher.ended:
            return {"items": changes.items, "cursor": str(changes.cursor)}
        await watcher.wait(caller.account_id, changes.newest, generation, left)


class _ChangeStream(EventSourceResponse):
    """A stream that gives back its place among the token's streams once it ends, however
    it ends (a client gone before the first event included)."""

    def __init__(self, events: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        super().__init__(events, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


async def _stream(
    database: Database,
    caller_now: Callable[[], Awaitable[Caller]],
    watcher: ChangeWatcher,
    cursor: int,
    take: int,
) -> AsyncIterator[bytes]:
    # The cursor at once, as the last event's id: a client that reconnects before any change
    # came resumes from where it started, missing nothing.
    yield format_sse_event(retry=RECONNECT_MS, id=str(cursor))
    heartbeat = watcher.heartbeat_seconds
    last_sent = time.monotonic()
    while not watcher.ended:
        generation = watcher.generation
        try:
            # Looked up again before each read (a point read while the token's caller is
            # cached): a token revoked, an account suspended, a user's role or teams changed
            # take effect on open streams too.
            caller = await caller_now()
        except InsightboardsError:
            return
        changes = await anyio.to_thread.run_sync(
            service.changes_after, database, caller, cursor, take
        )
        for change in changes.items:
            yield format_sse_event(data_str=orjson.dumps(change).decode(), id=change["id"])
        cursor = changes.cursor
        if changes.items:
            last_sent = time.monotonic()
            if len(changes.items) == take:
                continue  # there may be more
        quiet = heartbeat - (time.monotonic() - last_sent)
        woken = quiet > 0 and await watcher.wait(
            caller.account_id, changes.newest, generation, quiet
        )
        if not woken and not watcher.ended and time.monotonic() - last_sent >= heartbeat:
            # With the cursor, which may have moved past changes the caller may not read.
            yield format_sse_event(comment="ping", id=str(cursor))
            last_sent = time.monotonic()
