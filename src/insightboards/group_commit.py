"""SQLite writes committed in groups: one fsync for the writes that arrive together.

SQLite has one writer at a time, and with `synchronous=FULL` each commit waits for an
fsync, which under load was most of a write's time. Here the writes of one process run one
after the other on one connection, as before; but while others are queued, a write that
finishes does not commit: it releases its savepoint and hands the transaction to the next,
and the last of the group commits for all of them. Each write is still atomic (an error
rolls back its savepoint alone) and still answered only once its group has committed (its
`with` block returns then, or raises if that commit failed). The order of the writes in a
group is the order they ran in, each seeing the ones before it, as if each had committed.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

# The most writes one transaction gathers: enough to share an fsync among every request in
# flight, few enough that the first of them is not kept waiting long.
GROUP_LIMIT = 64


@dataclass
class _Group:
    joined: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class CommitFailed(Exception):
    """The transaction a write had joined did not commit: the write did not happen."""


class GroupCommit:
    def __init__(self, engine: sa.Engine, **write_options: bool) -> None:
        self._engine = engine
        self._options = write_options
        self._turn = threading.Lock()  # held by the write that runs
        self._counting = threading.Lock()
        self._queued = 0  # writes waiting for their turn
        self._connection: sa.Connection | None = None
        self._group: _Group | None = None  # the open transaction, between turns too

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        with self._counting:
            self._queued += 1
        self._turn.acquire()
        with self._counting:
            self._queued -= 1
        group, succeeded = None, False
        try:
            connection = self._open()
            if self._group is None:
                connection.begin()  # BEGIN IMMEDIATE: the engine's begin listener
                self._group = _Group()
            group = self._group
            # Through the driver, under one name: SQLAlchemy's savepoints each have a name
            # of their own, so each is compiled anew (a tenth of a create's time under load).
            driver = connection.connection.dbapi_connection
            assert driver is not None
            driver.execute("SAVEPOINT write")
            try:
                yield connection
            except BaseException:
                driver.execute("ROLLBACK TO SAVEPOINT write")
                driver.execute("RELEASE SAVEPOINT write")
                raise
            driver.execute("RELEASE SAVEPOINT write")
            group.joined += 1
            succeeded = True
        finally:
            self._end_turn(group, succeeded)

    def _open(self) -> sa.Connection:
        if self._connection is None or self._connection.closed:
            self._connection = self._engine.connect().execution_options(**self._options)
        return self._connection

    def _end_turn(self, group: _Group | None, succeeded: bool) -> None:
        """Hand the open transaction to the next write, or commit it; for a write that
        succeeded, return once its group has committed."""
        if group is None:  # the transaction did not begin
            self._turn.release()
            return
        with self._counting:
            others = self._queued > 0
        if others and group.joined < GROUP_LIMIT:
            self._turn.release()
        else:
            self._group = None
            try:
                self._finish(group)
            finally:
                group.done.set()
                self._turn.release()
        if succeeded:
            group.done.wait()
            if group.error is not None:
                raise CommitFailed(str(group.error)) from group.error

    def _finish(self, group: _Group) -> None:
        assert self._connection is not None
        try:
            if group.joined:
                self._connection.commit()
            else:
                self._connection.rollback()
        except BaseException as error:
            group.error = error
            # The connection's state is unknown: start the next group on a new one.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        with self._turn:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
