"""Point reads on the event loop's own thread, for the hottest GETs (SQLite only).

A GET of one board is one statement (the board, its grants and the auth counter), and a
cached caller one more: microseconds each on a connection the process keeps open. Through
the thread pool and SQLAlchemy's result machinery the same reads cost some twenty times
that, which under load was most of a request. The statements stay SQLAlchemy Core, defined
beside the others in the repositories, compiled once to SQLite's SQL here.

Only reads that cannot wait belong here: WAL readers never wait for a writer, and a point
read by primary key does a bounded amount of work. Everything else runs off the loop.
"""

import sqlite3
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from insightboards.prepared import Prepared


class LoopReads:
    """A read-only SQLite connection used by one thread, the event loop's."""

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA query_only=1")
        self._connection.execute("PRAGMA cache_size=-32768")
        self._dialect = sqlite.dialect()
        self._prepared: dict[sa.ClauseElement, Prepared] = {}

    def execute(self, statement: sa.ClauseElement, parameters: Mapping[str, Any]) -> list[Any]:
        """The rows of `statement` as plain tuples (booleans as 0 and 1, as SQLite keeps them)."""
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = Prepared(statement, self._dialect)
        return self._connection.execute(prepared.sql, prepared.parameters(parameters)).fetchall()

    def close(self) -> None:
        self._connection.close()
