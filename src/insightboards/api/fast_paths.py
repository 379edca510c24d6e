"""The hottest calls, answered before FastAPI when nothing about them is unusual: a GET of
one board by id, a list whose query is all in the query string, and a create.

They are the API's most frequent calls, and FastAPI's per-request machinery (dependencies,
parameter validation, exception middleware, a thread-pool trip) cost as much as the work
itself. Here a call is answered at once when its token's caller is cached at the current
auth counter (a create checks the counter in its write's own transaction) and its rate
budget allows it: a board when it exists with a stored document
and the caller may read it, on the event loop; a list when each parameter is one plainly
valid value, on the event loop when it is small and quick (SQLite), else on the lists'
own threads (a filter, sort or fields the service refuses is answered here with its
problem document, as the route would); a create when its body is
JSON that the request model takes (the service's refusals answered here too). Anything else
(no token, an unknown or changed one, a missing or forbidden board, a parameter FastAPI
would refuse or one it does not know, a body the model refuses, an in-memory database) goes
on to the FastAPI route, with the body it sent, which answers it, errors included, as the
OpenAPI document says; these answers are the same as the routes'.
"""

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

import anyio.to_thread
import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import Connection
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from insightboards.access import Caller
from insightboards.accounts import service as accounts_service
from insightboards.accounts.service import CallerCache
from insightboards.api import problems
from insightboards.api.dashboards import board_response
from insightboards.api.json_body import MAX_JSON_DEPTH, shape_problem
from insightboards.dashboards import creating, listing, served
from insightboards.dashboards.documents import Served
from insightboards.dashboards.schemas import MAX_SKIP, MAX_TAKE, DashboardCreate, ListQuery
from insightboards.errors import InsightboardsError, TooManyRequests
from insightboards.query.projection import MAX_FIELDS_LENGTH

# The list parameters' bounds, as the route declares them (api/dashboards.py, schemas.py).
_WHOLE_NUMBERS = {"skip": MAX_SKIP, "take": MAX_TAKE, "limit": MAX_TAKE}
_TEXTS = {"fields": MAX_FIELDS_LENGTH, "sort": 1000, "filter": 100_000}
_DIGITS = re.compile(r"[0-9]{1,10}")
Headers = list[tuple[bytes, bytes]]
logger = logging.getLogger(__name__)


class FastPaths:
    """In front of the FastAPI app `api`, which answers whatever this does not."""

    def __init__(self, api: FastAPI, prefixes: Iterable[str]) -> None:
        self.api = api
        alternatives = "|".join(re.escape(prefix) for prefix in prefixes)
        self._board_path = re.compile(rf"(?:{alternatives})/dashboards/([0-9a-f]{{24}})")
        self._list_path = re.compile(rf"(?:{alternatives})/dashboards")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer: tuple[bytes, Headers] | Response | None
        try:
            answer, receive = await self._answer(scope, receive)
        except Exception:  # as the routes' handler answers it (api/problems.py)
            logger.exception("answering %s %s failed", scope["method"], scope["path"])
            answer = problems.problem_response(500, "An unexpected error occurred.")
        if answer is None:
            await self.api(scope, receive, send)
            return
        if isinstance(answer, Response):
            await answer(scope, receive, send)
            return
        body, headers = answer
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            *headers,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(
        self, scope: Scope, receive: Receive
    ) -> tuple[tuple[bytes, Headers] | Response | None, Receive]:
        """The answer to a call this serves, or None; and the `receive` the route gets."""
        if scope["type"] != "http":
            return None, receive
        if scope["method"] == "GET":
            path = scope["path"]
            match = self._board_path.fullmatch(path)
            if match is not None:
                return await self._board(scope, match.group(1)), receive
            if self._list_path.fullmatch(path):
                return await self._list(scope), receive
        elif scope["method"] == "POST" and self._list_path.fullmatch(scope["path"]):
            return await self._create(scope, receive)
        return None, receive

    def _token(self, scope: Scope) -> tuple[str, str | None] | None:
        """The bearer token and the gtmhub-accountId header, when each is there once at most."""
        token = account_header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if token is not None or scheme.lower() != "bearer":
                    return None
                token = credentials
            elif name == b"gtmhub-accountid":
                if account_header is not None:
                    return None
                account_header = value.decode("latin-1")
        return None if token is None else (token, account_header)

    def _spend(self, scope: Scope, caller: Caller, token_hash: str) -> bool:
        try:
            self.api.state.rate_limiter.spend(token_hash)
        except TooManyRequests:
            return False  # the route refuses it, with the problem document
        scope.setdefault("state", {})["account_id"] = caller.account_id  # for the access log
        return True

    async def _board(self, scope: Scope, dashboard_id: str) -> tuple[bytes, Headers] | None:
        state = self.api.state
        reads = getattr(state, "loop_reads", None)
        found = self._token(scope)
        if reads is None or found is None:
            return None
        token, account_header = found
        account_id = accounts_service.token_account(token)
        if account_id is None or account_header not in (None, account_id):
            return None
        token_hash = accounts_service.hash_token(token)
        callers: CallerCache = state.callers

        def caller_at(counter: int) -> Caller | None:
            return callers.get(token_hash, counter)

        board = await served.get_on_loop(reads, caller_at, account_id, dashboard_id)
        if board is None or not self._spend(scope, board[0], token_hash):
            return None
        return board[1].body, [(b"etag", b'"%d"' % board[1].version)]

    async def _cached_caller(
        self, scope: Scope, *, checked_by_the_write: bool = False
    ) -> tuple[Caller, str, int | None] | None:
        """The request's caller, when its token is cached at the current auth counter and
        the gtmhub-accountId header agrees; the token; and None. With
        `checked_by_the_write`, the caller last cached for the token whatever the counter
        is now, and the counter it was cached at, which the write checks in its own
        transaction (a read of the counter here first cost the loop a tenth of a create)."""
        state = self.api.state
        reads = getattr(state, "loop_reads", None)
        found = self._token(scope)
        if reads is None or found is None:
            return None
        token, account_header = found
        counter: int | None = None
        caller: Caller | None
        if checked_by_the_write:
            cached = accounts_service.last_cached_caller(state.callers, token)
            counter, caller = cached if cached is not None else (None, None)
        else:
            caller = await accounts_service.cached_caller(reads, state.callers, token)
        if caller is None or account_header not in (None, caller.account_id):
            return None
        return caller, token, counter

    async def _list(self, scope: Scope) -> tuple[bytes, Headers] | Response | None:
        state = self.api.state
        query = _list_query(scope)
        if query is None or _has_body(scope):
            return None
        cached = await self._cached_caller(scope)
        if cached is None:
            return None
        caller, token, _ = cached
        if not self._spend(scope, caller, accounts_service.hash_token(token)):
            return None

        def page() -> bytes | InsightboardsError:
            try:
                return listing.list_page(state.database, caller, query, state.limits)
            except InsightboardsError as refused:
                return refused

        body: bytes | InsightboardsError | None
        try:
            body = listing.list_page_on_loop(state.database, caller, query)
        except InsightboardsError as refused:
            body = refused
        if body is None:
            body = await anyio.to_thread.run_sync(page, limiter=state.list_threads)
        if isinstance(body, InsightboardsError):
            # Answered here as the route's handler would (api/problems.py): sent on to the
            # route, it would spend the budget and run the query a second time.
            return problems.domain_error_response(body)
        return body, []

    async def _create(self, scope: Scope, receive: Receive) -> tuple[Response | None, Receive]:
        """The create's answer, or None and a `receive` that gives the route the same
        messages (the body read here, then the rest)."""
        state = self.api.state
        if scope["query_string"] or not _json_body(scope):
            return None, receive
        cached = await self._cached_caller(scope, checked_by_the_write=True)
        if cached is None:
            return None, receive
        caller, token, counter = cached
        assert counter is not None
        token_hash = accounts_service.hash_token(token)
        messages, body = await _read_body(receive)
        replay = _replaying(messages, receive)
        if body is None:  # the client left, or the body was too large (answered already)
            return None, replay
        try:
            parsed = orjson.loads(body)
            if shape_problem(parsed, MAX_JSON_DEPTH, state.limits.longest_list) is not None:
                return None, replay
            create = DashboardCreate.model_validate(parsed)
        except (orjson.JSONDecodeError, ValidationError):
            return None, replay
        if not self._spend(scope, caller, token_hash):
            return None, replay

        def written(conn: Connection) -> Served:
            return creating.run_create(conn, caller, plan, auth_counter=counter)

        try:
            # Built here, written by the database's writer (Database.write_from_loop).
            plan = creating.plan_create(caller, create, state.limits)
            board = await state.database.write_from_loop(written)
        except InsightboardsError as refused:
            return problems.domain_error_response(refused), replay
        except accounts_service.CallerChanged:
            # The route authenticates afresh, and answers; it spends for the request again.
            state.rate_limiter.refund(token_hash)
            return None, replay
        # The route's `request.url.path`: the path matched above has nothing to escape.
        location = f"{scope['path']}/{board.id}"
        return board_response(board, 201, location), replay


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages of the request's body, and the body; None if it did not come whole."""
    messages, chunks = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _json_body(scope: Scope) -> bool:
    """One Content-Type, and it is JSON: what FastAPI parses as the route's body."""
    kinds = [value for name, value in scope["headers"] if name == b"content-type"]
    if len(kinds) != 1:
        return False
    kind: str = kinds[0].decode("latin-1").split(";", 1)[0].strip().lower()
    return kind == "application/json"


def _list_query(scope: Scope) -> ListQuery | None:
    """The list query of the query string when every parameter is known, given once and
    plainly valid; None for anything the route should see."""
    values: dict[str, str] = {}
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if name in values or (name not in _WHOLE_NUMBERS and name not in _TEXTS):
            return None
        values[name] = value
    numbers = {}
    for name, bound in _WHOLE_NUMBERS.items():
        if name in values:
            if not _DIGITS.fullmatch(values[name]) or int(values[name]) > bound:
                return None
            numbers[name] = int(values[name])
    for name, longest in _TEXTS.items():
        if name in values and (len(values[name]) > longest or "\x00" in values[name]):
            return None
    take = numbers.get("take", numbers.get("limit"))
    return ListQuery.model_construct(
        skip=numbers.get("skip"),
        take=take,
        fields=values.get("fields"),
        sort=values.get("sort"),
        filter=values.get("filter"),
    )


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False
