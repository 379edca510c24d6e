"""Database.read_aside: on SQLite a read on another thread and connection, beside the
caller's own transaction; on PostgreSQL nothing (the caller reads in its own)."""

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from insightboards.database import Database, upgrade_schema
from tests.e2e.harness import fresh_database


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_read_aside_runs_beside_the_callers_transaction(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade_schema(url)
        database = Database(url)
        try:
            seen: list[tuple[str, object]] = []

            def work(conn: sa.Connection) -> int:
                seen.append((threading.current_thread().name, conn.connection.dbapi_connection))
                return int(conn.execute(sa.text("SELECT 41 + 1")).scalar_one())

            with database.read() as mine:
                started = database.read_aside(work)
                own_connection = mine.connection.dbapi_connection
                if backend == "postgresql":
                    assert started is None
                    return
                assert started is not None
                assert started.result(timeout=10) == 42
            ((thread, connection),) = seen
            assert thread.startswith("read-aside") and thread != threading.current_thread().name
            assert connection is not own_connection
        finally:
            database.dispose()


def test_an_error_aside_reaches_the_caller(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'aside.db'}")
    try:
        started = database.read_aside(lambda conn: conn.execute(sa.text("SELECT nope")).all())
        assert started is not None
        with pytest.raises(sa.exc.OperationalError, match="no such column"):
            started.result(timeout=10)
    finally:
        database.dispose()


def test_an_in_memory_database_reads_nothing_aside() -> None:
    database = Database("sqlite:///:memory:")
    try:
        assert database.read_aside(lambda conn: 1) is None
    finally:
        database.dispose()
