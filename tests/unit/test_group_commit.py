"""SQLite writes that arrive together share one commit, and each is still atomic and
answered only once it is durable (group_commit.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from insightboards.database import Database

WRITERS = 24


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'group.db'}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (n INTEGER PRIMARY KEY)")
    return db


def _notes(database: Database) -> set[int]:
    """What a connection of its own sees: committed rows only."""
    engine = sa.create_engine(database.url)
    try:
        with engine.connect() as conn:
            return {n for (n,) in conn.exec_driver_sql("SELECT n FROM notes")}
    finally:
        engine.dispose()


@contextmanager
def _commits_failing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every COMMIT in the block fails, as on a full disk."""
    original = sa.Connection.commit

    def failing_commit(self: sa.Connection) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sa.Connection, "commit", failing_commit)
    try:
        yield
    finally:
        monkeypatch.setattr(sa.Connection, "commit", original)


def test_writes_arriving_together_share_commits_and_each_is_atomic(database: Database) -> None:
    commits = 0

    @sa.event.listens_for(database.engine, "commit")
    def count(_connection: sa.Connection) -> None:
        nonlocal commits
        commits += 1

    started = threading.Barrier(WRITERS)
    seen_after_return: dict[int, bool] = {}

    def write(n: int) -> None:
        started.wait()
        with database.write() as conn:
            conn.exec_driver_sql(f"INSERT INTO notes (n) VALUES ({n})")
            conn.exec_driver_sql(f"INSERT INTO notes (n) VALUES ({1000 + n})")
            if n % 5 == 0:
                raise ValueError(n)  # rolls back this write alone, both rows
        seen_after_return[n] = n in _notes(database)

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = [pool.submit(write, n) for n in range(WRITERS)]
        failed = {n for n, outcome in enumerate(outcomes) if outcome.exception() is not None}

    assert failed == {n for n in range(WRITERS) if n % 5 == 0}
    kept = set(range(WRITERS)) - failed
    assert _notes(database) == kept | {1000 + n for n in kept}
    # Every write that returned was already visible to another connection: durable.
    assert seen_after_return == dict.fromkeys(kept, True)
    assert commits < len(kept), commits  # some shared a commit
    database.dispose()


def test_a_failed_commit_fails_every_write_of_its_group(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group whose COMMIT fails leaves nothing behind, and each of its writes says so."""
    from insightboards import group_commit

    with (
        _commits_failing(monkeypatch),
        pytest.raises(group_commit.CommitFailed),
        database.write() as conn,
    ):
        conn.exec_driver_sql("INSERT INTO notes (n) VALUES (1)")
    assert _notes(database) == set()
    with database.write() as conn:  # the next group starts afresh
        conn.exec_driver_sql("INSERT INTO notes (n) VALUES (2)")
    assert _notes(database) == {2}
    database.dispose()


def _insert(n: int, fail: bool = False) -> Callable[[sa.Connection], int]:
    def work(conn: sa.Connection) -> int:
        conn.exec_driver_sql(f"INSERT INTO notes (n) VALUES ({n})")
        conn.exec_driver_sql(f"INSERT INTO notes (n) VALUES ({1000 + n})")
        if fail:
            raise ValueError(n)  # rolls back this write alone, both rows
        return n

    return work


def test_submitted_writes_share_commits_each_atomic_and_answered_once_durable(
    database: Database,
) -> None:
    """Writes handed to the writer thread (Database.write_from_loop) interleave with those
    written in `with database.write()` blocks; each is answered only after its commit."""
    commits = 0

    @sa.event.listens_for(database.engine, "commit")
    def count(_connection: sa.Connection) -> None:
        nonlocal commits
        commits += 1

    seen_when_answered: dict[int, bool] = {}

    async def submit_all() -> set[int]:
        async def one(n: int) -> int:
            result = await database.write_from_loop(_insert(n, fail=n % 5 == 0))
            seen_when_answered[n] = n in _notes(database)
            return result

        outcomes = await asyncio.gather(*(one(n) for n in range(WRITERS)), return_exceptions=True)
        assert all(isinstance(o, ValueError) for o in outcomes if not isinstance(o, int))
        return {o for o in outcomes if isinstance(o, int)}

    def write_beside(n: int) -> None:
        with database.write() as conn:
            conn.exec_driver_sql(f"INSERT INTO notes (n) VALUES ({n})")

    with ThreadPoolExecutor(8) as pool:
        beside = [pool.submit(write_beside, 500 + n) for n in range(8)]
        kept = asyncio.run(submit_all())
        for outcome in beside:
            outcome.result()

    assert kept == {n for n in range(WRITERS) if n % 5 != 0}
    assert _notes(database) == kept | {1000 + n for n in kept} | {500 + n for n in range(8)}
    assert seen_when_answered == dict.fromkeys(kept, True)
    assert commits < len(kept) + 8, commits  # some shared a commit
    database.dispose()


def test_a_failed_commit_fails_every_submitted_write_of_its_group(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from insightboards import group_commit

    with _commits_failing(monkeypatch), pytest.raises(group_commit.CommitFailed):
        asyncio.run(database.write_from_loop(_insert(1)))
    assert _notes(database) == set()
    assert asyncio.run(database.write_from_loop(_insert(2))) == 2  # the writer goes on
    assert _notes(database) == {2, 1002}
    database.dispose()


def test_a_submitted_write_cancelled_before_its_turn_does_not_run(database: Database) -> None:
    from insightboards.group_commit import GroupCommit

    commit = database._group_commit
    assert isinstance(commit, GroupCommit)
    with database.write() as conn:  # holds the turn: what is submitted now waits
        conn.exec_driver_sql("INSERT INTO notes (n) VALUES (7)")
        waiting = commit.submit(_insert(8))
        assert waiting.cancel()
    after = commit.submit(_insert(9))
    assert after.result(timeout=30) == 9
    assert _notes(database) == {7, 9, 1009}
    database.dispose()


def test_a_writer_turn_that_fails_does_not_stop_later_writes(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error escaping the writer thread's turn (here: after its commit) neither leaves
    later submitted writes unanswered nor holds back a `write()` block beside them."""
    from insightboards import group_commit

    finish = group_commit.GroupCommit._finish
    calls = 0

    def finish_then_fail_once(self: group_commit.GroupCommit, group: Any) -> None:
        nonlocal calls
        calls += 1
        finish(self, group)
        if calls == 1:
            raise RuntimeError("injected")

    monkeypatch.setattr(group_commit.GroupCommit, "_finish", finish_then_fail_once)
    assert asyncio.run(database.write_from_loop(_insert(1))) == 1  # committed, then the error

    def write_beside() -> None:
        with database.write() as conn:
            conn.exec_driver_sql("INSERT INTO notes (n) VALUES (3)")

    commit = database._group_commit
    assert isinstance(commit, group_commit.GroupCommit)
    later = commit.submit(_insert(2))
    beside = threading.Thread(target=write_beside, daemon=True)
    beside.start()
    assert later.result(timeout=30) == 2
    beside.join(timeout=30)
    assert not beside.is_alive()
    assert _notes(database) == {1, 1001, 2, 1002, 3}
    database.dispose()


def test_closing_waits_for_a_write_queued_behind_the_writer(database: Database) -> None:
    """A `write()` that has queued for its turn when the writer thread hands it the open
    transaction and stops: closing lets it run and commit, so that neither it nor the
    submitted write it shares a commit with is lost or wrongly acknowledged."""
    from insightboards.group_commit import GroupCommit

    commit = database._group_commit
    assert isinstance(commit, GroupCommit)
    turn = commit._turn

    class SlowToTakeTheTurn:
        """The turn, which thread `late` is slow to take once it has queued for it."""

        def acquire(self) -> bool:
            if threading.current_thread().name == "late":
                time.sleep(0.5)
            return turn.acquire()

        def release(self) -> None:
            turn.release()

        def __enter__(self) -> bool:
            return self.acquire()

        def __exit__(self, *_: object) -> None:
            self.release()

    commit._turn = SlowToTakeTheTurn()  # type: ignore[assignment]

    def late() -> None:
        with database.write() as conn:
            conn.exec_driver_sql("INSERT INTO notes (n) VALUES (2)")

    writer = threading.Thread(target=late, name="late")
    writer.start()
    time.sleep(0.05)  # `late` has queued
    submitted = commit.submit(_insert(1))
    time.sleep(0.1)  # the writer thread ran it and handed the transaction to `late`
    commit.close()
    writer.join(timeout=30)
    assert submitted.result(timeout=1) == 1
    assert _notes(database) == {1, 1001, 2}
    database.dispose()


def test_committed_pages_reach_the_database_file_without_the_writer_copying_them(
    database: Database,
) -> None:
    """The checkpointer thread copies committed pages out of the WAL: the database file
    grows though the writer's own connection would checkpoint only a far longer WAL."""
    from insightboards.group_commit import WRITER_CHECKPOINT_FRAMES, GroupCommit

    commit = database._group_commit
    assert isinstance(commit, GroupCommit)
    path = Path(database.engine.url.database or "")
    with database.write() as conn:
        conn.exec_driver_sql("CREATE TABLE pages (n INTEGER PRIMARY KEY, body BLOB)")
    before = path.stat().st_size
    for start in range(0, 200, 20):  # ~100 pages, far fewer frames than the writer's threshold
        with database.write() as conn:
            for n in range(start, start + 20):
                conn.exec_driver_sql("INSERT INTO pages VALUES (?, zeroblob(2000))", (n,))
    with database.write() as conn:
        autocheckpoint = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert autocheckpoint == WRITER_CHECKPOINT_FRAMES
    deadline = time.monotonic() + 5
    while path.stat().st_size < before + 100 * 2000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.stat().st_size >= before + 100 * 2000
    assert commit._checkpointer.checkpoints >= 1
    database.dispose()
    assert commit._checkpointer._thread is not None
    assert not commit._checkpointer._thread.is_alive()
