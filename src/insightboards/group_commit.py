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
"""

import logging
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
            self._connection = self._engine.connect().execution_options(**self._options)
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
                    return
            time.sleep(0.001)  # a write that has queued runs first
