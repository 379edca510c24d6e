"""Health checks over HTTP: no token needed, nothing of any account in them, and readiness
that follows the database's schema."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from insightboards.database import Database, head_revision
from tests.e2e.harness import (
    Api,
    Server,
    create_postgres_database,
    drop_postgres_database,
    postgres_reachable,
    start_server,
)
from tests.e2e.test_dashboards import assert_problem


def _set_revision(server: Server, revision: str) -> None:
    database = Database(server.database_url)
    try:
        with database.write() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    finally:
        database.dispose()


def test_liveness_and_readiness_need_no_token_and_say_nothing_else(server: Server) -> None:
    alive = httpx.get(f"{server.base_url}/healthz")
    ready = httpx.get(f"{server.base_url}/readyz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    document = httpx.get(f"{server.base_url}/openapi.json").json()
    for path in ("/healthz", "/readyz"):
        operation = document["paths"][path]["get"]
        assert operation["summary"] and operation["description"] and not operation.get("security")


def test_a_schema_other_than_this_versions_is_not_ready_until_it_is_again(
    server: Server,
) -> None:
    """A server whose database another version migrated (or rolled back) must get no
    traffic: 503, saying why without naming revisions, paths or drivers; alive all along."""
    _set_revision(server, "0001")
    try:
        response = httpx.get(f"{server.base_url}/readyz")
        problem = assert_problem(response, 503)
        assert "schema" in problem["detail"] and "0001" not in response.text
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    finally:
        _set_revision(server, head_revision())
    assert httpx.get(f"{server.base_url}/readyz").status_code == 200


def test_a_database_that_stops_answering_is_not_ready(tmp_path: Path) -> None:
    """PostgreSQL gone from under a running server (its database dropped, its connections
    cut): /readyz answers 503 at once, naming neither the server nor the driver's error;
    /healthz still 200, since restarting the process would not bring the database back."""
    if not postgres_reachable():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    url, name = create_postgres_database()
    server = start_server(url, tmp_path / "server.log")
    try:
        assert httpx.get(f"{server.base_url}/readyz").status_code == 200
        drop_postgres_database(name)
        response = httpx.get(f"{server.base_url}/readyz", timeout=30)
        problem = assert_problem(response, 503)
        assert problem["detail"] == "The database does not answer."
        for secret in (name, "127.0.0.1", "psycopg", "postgres"):
            assert secret not in response.text
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    finally:
        server.stop()
        drop_postgres_database(name)


def test_head_is_answered_as_get_without_a_body(server: Server, api: Api) -> None:
    """Load balancers and link checkers send HEAD: the GET's status and headers, no body."""
    board = api.create()
    token_headers = api.client.headers
    for path, headers in [
        ("/healthz", {}),
        ("/readyz", {}),
        ("/docs", {}),
        (f"/results/api/v1/dashboards/{board['id']}", token_headers),
        ("/results/api/v2/dashboards?take=1", token_headers),
    ]:
        get = httpx.get(f"{server.base_url}{path}", headers=headers)
        head = httpx.head(f"{server.base_url}{path}", headers=headers)
        assert head.status_code == 200, path  # (httpx reads no body after a HEAD)
        assert head.headers["content-type"] == get.headers["content-type"], path
        assert head.headers["content-length"] == str(len(get.content)), path
        assert head.headers.get("etag") == get.headers.get("etag"), path
