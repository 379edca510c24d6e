"""GET of one board by id, answered before FastAPI when nothing about it is unusual.

It is the API's most frequent call, and FastAPI's per-request machinery (dependencies, a
thread-pool trip, response validation) cost several times the work itself. Here a GET is
answered at once when its token's caller is cached at the current auth counter, its rate
budget allows it, the board exists with a stored document and the caller may read it.
Anything else (no token, an unknown or changed one, a missing or forbidden board, a
PostgreSQL database) goes on to the FastAPI route, which answers it, errors included, as
the OpenAPI document says; this answer is the same as that route's.
"""

import re
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from insightboards.access import Caller
from insightboards.accounts import service as accounts_service
from insightboards.accounts.service import CallerCache
from insightboards.dashboards import served
from insightboards.dashboards.documents import Served
from insightboards.errors import TooManyRequests


class FastBoardReads:
    def __init__(self, app: ASGIApp, api: FastAPI, prefixes: Iterable[str]) -> None:
        self.app = app
        self.api = api
        alternatives = "|".join(re.escape(prefix) for prefix in prefixes)
        self._board_path = re.compile(rf"(?:{alternatives})/dashboards/([0-9a-f]{{24}})")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        served = None
        if scope["type"] == "http" and scope["method"] == "GET":
            match = self._board_path.fullmatch(scope["path"])
            if match is not None:
                served = self._serve(scope, match.group(1))
        if served is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(served.body)),
            (b"etag", b'"%d"' % served.version),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": served.body})

    def _serve(self, scope: Scope, dashboard_id: str) -> Served | None:
        state = self.api.state
        reads = getattr(state, "loop_reads", None)
        if reads is None:
            return None
        token = account_header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    token = credentials
            elif name == b"gtmhub-accountid":
                account_header = value.decode("latin-1")
        if token is None:
            return None
        account_id = accounts_service.token_account(token)
        if account_id is None or account_header not in (None, account_id):
            return None
        token_hash = accounts_service.hash_token(token)
        callers: CallerCache = state.callers

        def caller_at(counter: int) -> Caller | None:
            return callers.get(token_hash, counter)

        found = served.get_on_loop(reads, caller_at, account_id, dashboard_id)
        if found is None:
            return None
        caller, board = found
        try:
            state.rate_limiter.spend(token_hash)
        except TooManyRequests:
            return None  # the route refuses it, with the problem document
        scope.setdefault("state", {})["account_id"] = caller.account_id  # for the access log
        return board
