"""The server keeps the query planners' statistics: taken at start, and again soon after the
number of boards has moved much (an import into a fresh database), not only every ten
minutes."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.e2e.harness import backends, server_on_fresh_database

BOARDS = 40


def _rows_in_statistics(database_url: str) -> float:
    """How many boards the planner's statistics say there are (0 before any)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as connection:
            row = connection.execute(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'dashboards' LIMIT 1"
            ).fetchone()
        return float(row[0].split()[0]) if row else 0.0
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        (tuples,) = connection.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'dashboards'"
        ).fetchone()  # type: ignore[misc]
    return float(tuples)


@pytest.mark.parametrize("backend", backends())
def test_statistics_are_refreshed_once_the_boards_have_grown(backend: str, tmp_path: Path) -> None:
    env = {"INSIGHTBOARDS_STATISTICS_AFTER_BOARDS": "20"}
    with server_on_fresh_database(backend, tmp_path, env) as server:
        account, token = server.demo_credentials()
        before = _rows_in_statistics(server.database_url)
        assert before < BOARDS
        headers = {"Authorization": f"Bearer {token}", "gtmhub-accountId": account}
        with httpx.Client(base_url=f"{server.base_url}/results/api/v1", headers=headers) as api:
            for number in range(BOARDS):
                assert api.post("/dashboards", json={"name": f"b{number}"}).status_code == 201
        deadline = time.monotonic() + 40  # checked every 10 s; the interval is 600 s
        while _rows_in_statistics(server.database_url) < BOARDS:
            assert time.monotonic() < deadline, "the statistics were not refreshed"
            time.sleep(0.5)
        if backend == "postgresql":
            autovacuum, vacuums = _vacuums(server.database_url)
            if autovacuum == "off":  # the server vacuums instead: at start, and once grown
                assert vacuums >= 2


def _vacuums(database_url: str) -> tuple[str, int]:
    """PostgreSQL's autovacuum setting, and how often `dashboards` was vacuumed by hand."""
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        row = connection.execute(
            "SELECT current_setting('autovacuum'), vacuum_count FROM pg_stat_user_tables"
            " WHERE relname = 'dashboards'"
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1])
