"""Per process: which accounts have new events, told to the change feed's streams waiting on
them; and how many streams each token holds open.

While any stream waits, one task reads every `poll_seconds` the newest board event of each
account that has events past a floor (in the order of all accounts' events, `seq`): one
range of the events table for all of the process's streams, however many. A stream woken
reads its own changes itself, with the read rule in the database (feed/service.py). Every
process polls on its own: a change made through one worker wakes the streams of all of
them.

The floor trails the newest event seen. On SQLite, writes commit one at a time, in the order
of their events, so it need not trail at all. On PostgreSQL an event can commit after
events of other accounts that came after it (an account's own events commit in order,
tables.account_event_counters): the floor trails by `IN_FLIGHT` events, more than can be
under way at once.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter

import anyio

from insightboards.database import Database
from insightboards.feed import repository

logger = logging.getLogger(__name__)
# The app's lifespan state holds the process's watcher under this key: the server's HTTP
# protocol ends the streams through it when shutting down (api/transport.py).
CHANGE_WATCHER = "change_watcher"
IN_FLIGHT = {"sqlite": 0, "postgresql": 1000}
# With no stream waiting for this long, the polling stops (and starts again with the next).
IDLE_SECONDS = 30.0


class ChangeWatcher:
    def __init__(
        self,
        database: Database,
        *,
        poll_seconds: float,
        heartbeat_seconds: float,
        longest_wait_seconds: float,
        streams_per_token: int,
    ) -> None:
        self._database = database
        # A stream quiet this long sends a comment line, and a long poll waits at most this
        # long (api/feed.py).
        self.heartbeat_seconds = heartbeat_seconds
        self.longest_wait_seconds = longest_wait_seconds
        self._poll_seconds = poll_seconds
        self._in_flight = IN_FLIGHT.get(database.dialect, 1000)
        self._streams_per_token = streams_per_token
        self._streams: Counter[str] = Counter()
        # Each account's newest event seen since the polling (re)started.
        self._newest: dict[str, int] = {}
        self._waiting: dict[str, set[asyncio.Future[bool]]] = {}
        self._polling: asyncio.Task[None] | None = None
        # Moves once each start of the polling has read where it starts from: a stream that
        # read its changes before then reads them again (what happened while nothing polled
        # was seen by no one).
        self.generation = 0
        self._first_poll: asyncio.Event = asyncio.Event()
        self._ended = False

    # --- streams per token ---------------------------------------------------------------

    def open_stream(self, token_key: str) -> bool:
        """Count a stream of the token in; False (not counted) when it has as many open as
        it may."""
        if self._streams[token_key] >= self._streams_per_token:
            return False
        self._streams[token_key] += 1
        return True

    def close_stream(self, token_key: str) -> None:
        self._streams[token_key] -= 1
        if self._streams[token_key] <= 0:
            del self._streams[token_key]

    @property
    def ended(self) -> bool:
        return self._ended

    def end_streams(self) -> None:
        """The server is shutting down: every stream ends (its client reconnects, to
        another process or once this one is back, and resumes from its last event)."""
        self._ended = True
        self._first_poll.set()
        for account_id in self._waiting:
            self._answer(account_id, False)

    # --- waiting for news ----------------------------------------------------------------

    async def wait(self, account_id: str, newest: int, generation: int, timeout: float) -> bool:
        """Until the account has an event after `newest` (its newest when the stream read
        its changes, with `generation` as it was then): True, or False when `timeout`
        passes first or the streams end. True too when the stream should read again
        because what it read may be older than what the polling has seen."""
        if self._ended:
            return False
        if self._polling is None:
            self._start_polling()
        if not self._first_poll.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_poll.wait(), timeout)
            return not self._ended
        if generation != self.generation:
            return True
        if self._newest.get(account_id, 0) > newest:
            return True
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(account_id, set())
        waiting.add(future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return False
        finally:
            waiting.discard(future)
            if not waiting:
                self._waiting.pop(account_id, None)

    def _start_polling(self) -> None:
        self._newest.clear()
        self._first_poll = asyncio.Event()
        self._polling = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        try:
            floor = await anyio.to_thread.run_sync(self._newest_overall) - self._in_flight
            self.generation += 1
            self._first_poll.set()
            idle_since = time.monotonic()
            while not self._ended:
                if self._waiting:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > IDLE_SECONDS:
                    break
                await asyncio.sleep(self._poll_seconds)
                try:
                    news = await anyio.to_thread.run_sync(self._newest_by_account, floor)
                except Exception:  # the database away for a moment: the next poll retries
                    logger.exception("Looking for new events failed")
                    continue
                for account_id, seq, number in news:
                    floor = max(floor, seq - self._in_flight)
                    if number > self._newest.get(account_id, 0):
                        self._newest[account_id] = number
                        self._answer(account_id, True)
        finally:
            self._polling = None
            self._first_poll.set()

    def _answer(self, account_id: str, news: bool) -> None:
        """Answer the account's waiting streams: news (True), or the end (False)."""
        for future in self._waiting.get(account_id, ()):
            if not future.done():
                future.set_result(news)

    def _newest_overall(self) -> int:
        with self._database.read() as conn:
            return repository.newest(conn)

    def _newest_by_account(self, floor: int) -> list[tuple[str, int, int]]:
        with self._database.read() as conn:
            return repository.newest_by_account(conn, floor)

    async def close(self) -> None:
        self.end_streams()
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
