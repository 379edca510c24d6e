"""Database.read_aside: a read on another thread and connection, beside the caller's own
transaction, with the same time limit; nothing for an in-memory SQLite database."""

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from insightboards.database import Database, QueryTimeout, upgrade_schema
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
                assert started is not None
                assert started.result(timeout=10) == 42
                own_connection = mine.connection.dbapi_connection
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


def test_a_slow_read_aside_is_cancelled_on_postgresql(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        database = Database(url)
        try:
            started = database.read_aside(
                lambda conn: conn.exec_driver_sql("SELECT pg_sleep(2)").all(), time_limit_ms=50
            )
            assert started is not None
            with pytest.raises(QueryTimeout):
                started.result(timeout=10)
        finally:
            database.dispose()


def test_an_in_memory_database_reads_nothing_aside() -> None:
    database = Database("sqlite:///:memory:")
    try:
        assert database.read_aside(lambda conn: 1) is None
    finally:
        database.dispose()
