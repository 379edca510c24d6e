"""SQLite writes that arrive together share one commit, and each is still atomic and
answered only once it is durable (group_commit.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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

    original = sa.Connection.commit

    def failing_commit(self: sa.Connection) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sa.Connection, "commit", failing_commit)
    with pytest.raises(group_commit.CommitFailed), database.write() as conn:
        conn.exec_driver_sql("INSERT INTO notes (n) VALUES (1)")
    monkeypatch.setattr(sa.Connection, "commit", original)
    assert _notes(database) == set()
    with database.write() as conn:  # the next group starts afresh
        conn.exec_driver_sql("INSERT INTO notes (n) VALUES (2)")
    assert _notes(database) == {2}
    database.dispose()
