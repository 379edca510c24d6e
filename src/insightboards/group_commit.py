"""SQLite writes committed in groups: one fsync for the writes that arrive together.

SQLite has one writer at a time, and with `synchronous=FULL` each commit waits for an
fsync, which under load was most of a write's time. Here the writes of one process run one
after the other on one connection, as before; but while others are queued, a write that
finishes does not commit: it releases its savepoint and hands the transaction to the next,
and the last of the group commits for all of them. Each write is still atomic (an error
rolls back its savepoint alone) and still answered only once its group has committed (its
`with` block returns then, or raises if that commit failed). The order of the writes in a
group is the order they ran in, each seeing the ones before it, as if each had committed.

A write can also be handed over as a function (`submit`): one writer thread of the
process runs those queued at that moment one after the other in one turn, and resolves
their futures once their group has committed. That spares each such write a thread of its
own waiting for its turn (the event loop's creates: api/fast_paths.py), whose hand-offs of
the turn and of the GIL cost more than the write.

Committed pages are copied from the WAL into the database file (a checkpoint) by a thread
of their own, `WalCheckpointer`, not by the commit that crosses SQLite's threshold: there
it held a group's answers back for a fifth of the writer's time.
"""

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
_log = logging.getLogger(__name__)

# The most writes one transaction gathers: enough to share an fsync among every request in
# flight, few enough that the first of them is not kept waiting long.
GROUP_LIMIT = 64
# The writer's connection checkpoints only a WAL this many frames long (4 KiB each): one
# that the checkpointer's copies have not let SQLite start again from its beginning, as a
# WAL can only restart when no write is running. SQLite's own threshold is 1,000.
WRITER_CHECKPOINT_FRAMES = 10_000
# The checkpointer copies at most this often: each copy ends with an fsync of the database
# file, and commits gathered together copy a page written by several of them once.
CHECKPOINT_INTERVAL_SECONDS = 0.05


@dataclass
class _Group:
    joined: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    # The submitted writes of the group and their results, answered when it ends.
    submitted: list[tuple["Future[Any]", Any]] = field(default_factory=list)

    def answer_submitted(self) -> None:
        failed = None if self.error is None else CommitFailed(str(self.error))
        for future, result in self.submitted:
            if failed is None:
                future.set_result(result)
            else:
                future.set_exception(failed)


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
        # Writes handed over as functions (`submit`), for the writer thread.
        self._submitted: deque[tuple[Callable[[sa.Connection], Any], Future[Any]]] = deque()
        self._submitted_ready = threading.Condition(self._counting)
        self._writer: threading.Thread | None = None
        self._closing = False
        self._checkpointer = WalCheckpointer(engine)

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        with self._counting:
            self._queued += 1
        self._turn.acquire()
        with self._counting:
            self._queued -= 1
        group, succeeded = None, False
        try:
            group = self._joined()
            assert self._connection is not None
            with self._savepoint(self._connection):
                yield self._connection
            group.joined += 1
            succeeded = True
        finally:
            self._end_turn(group, succeeded)

    def submit(self, work: Callable[[sa.Connection], T]) -> "Future[T]":
        """`work(connection)` as a write of its own, run by the writer thread: the future
        gives its result once its group has committed, or its error (CommitFailed if the
        commit failed). Cancelled before it runs, it does not run."""
        future: Future[T] = Future()
        with self._counting:
            if self._closing:
                raise RuntimeError("the database is closed")
            self._submitted.append((work, future))
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._run_submitted, name="writer")
                self._writer.daemon = True
                self._writer.start()
            self._submitted_ready.notify()
        return future

    def _run_submitted(self) -> None:
        while True:
            with self._counting:
                while not self._submitted and not self._closing:
                    self._submitted_ready.wait()
                if not self._submitted:
                    return
            try:
                self._run_turn()
            except Exception:  # the group's writes are answered: go on with the next
                _log.exception("The writer's turn failed.")

    def _run_turn(self) -> None:
        """One turn of the writer thread: the submitted writes, up to the group's limit."""
        self._turn.acquire()
        try:
            group = self._joined()
        except BaseException as error:  # no transaction: what is waiting cannot run
            self._turn.release()
            with self._counting:
                waiting, self._submitted = list(self._submitted), deque()
            for _, future in waiting:
                if future.set_running_or_notify_cancel():
                    future.set_exception(error)
            return
        try:
            while group.joined < GROUP_LIMIT:
                with self._counting:
                    if not self._submitted:
                        break
                    work, future = self._submitted.popleft()
                if future.set_running_or_notify_cancel():
                    self._run_one(work, future, group)
        finally:
            # Whoever ends the group answers its submitted writes: this thread goes
            # on with the next ones meanwhile.
            self._end_turn(group, succeeded=False)

    def _run_one(
        self, work: Callable[[sa.Connection], Any], future: "Future[Any]", group: _Group
    ) -> None:
        assert self._connection is not None
        try:
            with self._savepoint(self._connection):
                result = work(self._connection)
        except BaseException as error:  # this write alone is undone, and answered at once
            future.set_exception(error)
            return
        group.joined += 1
        group.submitted.append((future, result))

    def _joined(self) -> _Group:
        """The open transaction, begun if none is: the turn's holder calls it."""
        connection = self._open()
        if self._group is None:
            connection.begin()  # BEGIN IMMEDIATE: the engine's begin listener
            self._group = _Group()
        return self._group

    @staticmethod
    @contextmanager
    def _savepoint(connection: sa.Connection) -> Iterator[None]:
        # Through the driver, under one name: SQLAlchemy's savepoints each have a name
        # of their own, so each is compiled anew (a tenth of a create's time under load).
        driver = connection.connection.dbapi_connection
        assert driver is not None
        driver.execute("SAVEPOINT write")
        try:
            yield
        except BaseException:
            driver.execute("ROLLBACK TO SAVEPOINT write")
            driver.execute("RELEASE SAVEPOINT write")
            raise
        driver.execute("RELEASE SAVEPOINT write")

    def _open(self) -> sa.Connection:
        if self._connection is None or self._connection.closed:
            connection = self._engine.connect().execution_options(**self._options)
            driver = connection.connection.dbapi_connection
            assert driver is not None
            # Each write's savepoint keeps the pages it changes, as they were, in a
            # sub-journal, and a statement of several rows does the same: in memory, not
            # in temporary files (a create at 3k boards: 156 -> 55 pwrite calls, and a
            # fifth less of the writer's CPU). Both hold at most one write's pages.
            driver.execute("PRAGMA temp_store=MEMORY")
            driver.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_FRAMES}")
            self._connection = connection
        return self._connection

    def _end_turn(self, group: _Group | None, succeeded: bool) -> None:
        """Hand the open transaction to the next write, or commit it; for a write that
        succeeded, return once its group has committed."""
        if group is None:  # the transaction did not begin
            self._turn.release()
            return
        with self._counting:
            # The writer thread passes the group on to writers waiting in `write` only:
            # it runs the submitted ones itself.
            others = self._queued > 0 or (
                bool(self._submitted) and threading.current_thread() is not self._writer
            )
        if others and group.joined < GROUP_LIMIT:
            self._turn.release()
        else:
            try:
                self._end_group(group)
            finally:
                self._turn.release()
        if succeeded:
            group.done.wait()
            if group.error is not None:
                raise CommitFailed(str(group.error)) from group.error

    def _end_group(self, group: _Group) -> None:
        """Commit the open group (the turn's holder calls it); each of its writes learns
        how that went, even if ending it failed."""
        self._group = None
        try:
            self._finish(group)
        finally:
            group.done.set()
            group.answer_submitted()

    def _finish(self, group: _Group) -> None:
        assert self._connection is not None
        try:
            if group.joined:
                self._connection.commit()
                self._checkpointer.due()
            else:
                self._connection.rollback()
        except BaseException as error:
            group.error = error
            # The connection's state is unknown: start the next group on a new one.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Stop, once every write submitted or waiting for its turn has been answered."""
        with self._counting:
            self._closing = True
            self._submitted_ready.notify()
            writer = self._writer
        if writer is not None:
            writer.join()  # it runs what was submitted before it stops
        while True:
            with self._turn:
                with self._counting:
                    waiting = self._queued
                if not waiting:
                    # No one to hand an open transaction to: it is ended, not dropped.
                    if self._group is not None:
                        self._end_group(self._group)
                    if self._connection is not None:
                        self._connection.close()
                        self._connection = None
                    self._checkpointer.close()
                    return
            time.sleep(0.001)  # a write that has queued runs first


class WalCheckpointer:
    """Copies committed pages from the WAL into the database file, on a thread of its own
    with a connection of its own, after commits (at most every CHECKPOINT_INTERVAL_SECONDS).

    A passive checkpoint waits for no one: it copies what no reader still needs, while the
    writer goes on appending to the WAL. The copy and its fsync leave the GIL free, so the
    writer and the event loop go on meanwhile."""

    def __init__(self, engine: sa.Engine) -> None:
        database = engine.url.database
        self._path = database if database and database != ":memory:" else None
        self._due = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.checkpoints = 0  # run so far (for the tests)

    def due(self) -> None:
        """Something was committed: copy it soon."""
        if self._path is None:
            return
        with self._lock:
            if self._closing:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="checkpointer")
                self._thread.daemon = True
                self._thread.start()
        self._due.set()

    def _run(self) -> None:
        assert self._path is not None
        connection = sqlite3.connect(self._path, timeout=30, check_same_thread=False)
        try:
            while True:
                self._due.wait()
                if self._closing:
                    return
                self._due.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error:  # the writer's own checkpoints still bound the WAL
                    _log.exception("A WAL checkpoint failed.")
                time.sleep(CHECKPOINT_INTERVAL_SECONDS)
        finally:
            connection.close()

    def close(self) -> None:
        with self._lock:
            self._closing = True
            thread = self._thread
        self._due.set()
        if thread is not None:
            thread.join()
