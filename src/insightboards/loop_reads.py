"""Point reads on the event loop, for the hottest GETs (api/fast_paths.py, api/deps.py).

A GET of one board is one statement (the board, its grants and the auth counter), and a
cached caller one more. Through the thread pool and SQLAlchemy's result machinery the same
reads cost some twenty times what the database takes, which under load was most of a
request. The statements stay SQLAlchemy Core, defined beside the others in the
repositories, compiled once here (prepared.py) and run by the driver itself:

- SQLite: the driver's own connection, on the loop's thread. A WAL reader never waits for
  a writer, and a point read by primary key does a bounded amount of work: microseconds.
- PostgreSQL: a few connections of psycopg's asyncio interface, taken in turn (autocommit:
  each statement reads one state of the database). The loop serves other requests while
  one waits for the server.

Only reads that cannot wait on other transactions belong here. Everything else runs off
the loop.

On PostgreSQL, point reads of one kind that arrive in the same turn of the loop go out as
one statement (KeyedReads): psycopg's work for a statement, ~80 us of the loop's CPU,
cost more than the rows, and under load many requests wait on the same turn.
"""

import asyncio
import itertools
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from insightboards.prepared import prepare

# PostgreSQL connections for the loop's reads, per process: a point read holds one for a
# round trip, so a few keep the server's cores busy without queueing in it.
POSTGRES_CONNECTIONS = 4
# A point read that takes this long is stuck (say, on a server under maintenance); its
# request then fails instead of holding one of the few connections.
POSTGRES_STATEMENT_TIMEOUT_MS = 5000
POSTGRES_APPLICATION_NAME = "insightboards-loop-reads"


class LoopReads(ABC):
    """Reads for the event loop's thread, of one database."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._keyed: dict[sa.Select[Any], KeyedReads] = {}

    def keyed(self, statement: sa.Select[Any]) -> "KeyedReads":
        """Reads of single rows of `statement` by key, gathered (see KeyedReads)."""
        found = self._keyed.get(statement)
        if found is None:
            found = self._keyed[statement] = KeyedReads(self, statement)
        return found

    @abstractmethod
    async def execute(
        self, statement: sa.ClauseElement, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The rows of `statement` as plain tuples, as the driver returns them (SQLite keeps
        booleans as 0 and 1)."""

    @abstractmethod
    async def close(self) -> None: ...


class SqliteLoopReads(LoopReads):
    """A read-only SQLite connection used by one thread, the event loop's."""

    def __init__(self, path: str) -> None:
        super().__init__(sqlite.dialect())
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA query_only=1")
        self._connection.execute("PRAGMA cache_size=-32768")

    async def execute(
        self, statement: sa.ClauseElement, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        prepared = prepare(statement, self.dialect)
        return self._connection.execute(prepared.sql, prepared.parameters(parameters)).fetchall()

    async def close(self) -> None:
        self._connection.close()


class PostgresLoopReads(LoopReads):
    """A few asyncio connections, taken in turn. A connection runs one statement at a time
    (psycopg queues the others on its lock), so each statement goes to the next one
    without a pool's checkout and return, which cost a third of a GET's time on the
    connections. psycopg prepares a statement on the server once a connection has run it
    a few times. A connection found closed (the server restarted, say) is replaced, and a
    read it broke is run again on the new one."""

    def __init__(self, url: str) -> None:
        super().__init__(postgresql.psycopg.dialect())  # type: ignore[no-untyped-call]
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._connections: list[psycopg.AsyncConnection[tuple[Any, ...]]] = []
        self._next = itertools.cycle(range(POSTGRES_CONNECTIONS))

    async def _connect(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo,
            autocommit=True,
            application_name=POSTGRES_APPLICATION_NAME,
            options=f"-c statement_timeout={POSTGRES_STATEMENT_TIMEOUT_MS}",
        )

    async def open(self) -> None:
        self._connections = [await self._connect() for _ in range(POSTGRES_CONNECTIONS)]

    async def execute(
        self, statement: sa.ClauseElement, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        prepared = prepare(statement, self.dialect)
        turn = next(self._next)
        for retry in (False, True):
            connection = await self._connection(turn)
            try:
                cursor = await connection.execute(prepared.sql, prepared.parameters(parameters))
                return await cursor.fetchall()
            except psycopg.OperationalError:
                # A read is safe to run again: once, on a new connection, if this one broke.
                if retry or not (connection.closed or connection.broken):
                    raise
        raise AssertionError("unreachable")

    async def _connection(self, turn: int) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        connection = self._connections[turn]
        if connection.closed or connection.broken:
            fresh = await self._connect()
            if self._connections[turn] is connection:
                self._connections[turn] = fresh
            else:  # another request replaced it meanwhile
                await fresh.close()
        return self._connections[turn]

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()


class KeyedReads:
    """Rows of one statement read by key, the keys asked for in the same turn of the event
    loop read together: the statement takes the parameters `group` and `keys` (a list)
    and returns the rows of those keys within that group (an account, say), each row's
    first column its key. A key is only ever answered from a read of its own group."""

    # The most keys one statement carries.
    MOST_KEYS = 64

    def __init__(self, reads: LoopReads, statement: sa.Select[Any]) -> None:
        self._reads = reads
        self._statement = statement
        self._waiting: dict[str, dict[str, list[asyncio.Future[tuple[Any, ...] | None]]]] = {}
        self._reading: set[asyncio.Task[None]] = set()  # kept from the collector

    async def read(self, group: str, key: str) -> tuple[Any, ...] | None:
        """The row of `key` in `group`, None if there is none."""
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._read_waiting)  # once the requests of this turn have asked
        answer: asyncio.Future[tuple[Any, ...] | None] = loop.create_future()
        self._waiting.setdefault(group, {}).setdefault(key, []).append(answer)
        return await answer

    def _read_waiting(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for group, by_key in waiting.items():
            keys = list(by_key)
            for start in range(0, len(keys), self.MOST_KEYS):
                chunk = {key: by_key[key] for key in keys[start : start + self.MOST_KEYS]}
                task = asyncio.create_task(self._answer(group, chunk))
                self._reading.add(task)
                task.add_done_callback(self._reading.discard)

    async def _answer(
        self, group: str, by_key: dict[str, list[asyncio.Future[tuple[Any, ...] | None]]]
    ) -> None:
        answers = [answer for answers in by_key.values() for answer in answers]
        try:
            rows = await self._reads.execute(
                self._statement, {"group": group, "keys": list(by_key)}
            )
        except Exception as error:
            for answer in answers:
                if not answer.done():
                    answer.set_exception(error)
            return
        except BaseException:  # cancelled: so are the reads that wait for it
            for answer in answers:
                answer.cancel()
            raise
        found = {row[0]: row for row in rows}
        for key, key_answers in by_key.items():
            for answer in key_answers:
                if not answer.done():  # its request may have been cancelled
                    answer.set_result(found.get(key))


async def open_loop_reads(url: str) -> LoopReads | None:
    """Reads on the loop for the database at `url` (a SQLAlchemy URL); None for an
    in-memory SQLite database, which another connection would see empty."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        reads = PostgresLoopReads(url)
        await reads.open()
        return reads
    if parsed.database in (None, "", ":memory:"):
        return None
    return SqliteLoopReads(parsed.database)
