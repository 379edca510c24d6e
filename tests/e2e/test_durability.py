"""A server killed with SIGKILL while clients write loses no acknowledged write.

SQLite runs with `synchronous=FULL` in WAL mode: a transaction is on disk before its commit
returns, so a 201 or 204 the client saw survives a crash of the process (and of the
machine). PostgreSQL gives the same guarantee with its defaults (fsync, synchronous_commit).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from insightboards.database import Database
from tests.conftest import make_tenant
from tests.e2e.harness import fresh_database, start_server

WRITERS = 4


def _writer(
    base_url: str, token: str, stop: threading.Event, acknowledged: list[tuple[str, str]]
) -> None:
    """Creates boards and saves items on them until the server dies; records each 2xx."""
    with httpx.Client(
        base_url=f"{base_url}/results/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ) as client:
        while not stop.is_set():
            try:
                created = client.post("/dashboards", json={"name": "durable"})
                if created.status_code != 201:
                    continue
                board = created.json()["id"]
                acknowledged.append((board, ""))
                saved = client.put(
                    f"/dashboards/items/{board}", json={"id": "kept", "insightId": "i"}
                )
                if saved.status_code == 204:
                    acknowledged.append((board, "kept"))
            except httpx.TransportError:
                return


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_acknowledged_writes_survive_sigkill(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        server = start_server(url, tmp_path / "first.log", {"INSIGHTBOARDS_DEMO": "0"})
        tenant = make_tenant(server, "Durable")
        token = tenant.tokens["admin"]
        acknowledged: list[tuple[str, str]] = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=_writer, args=(server.base_url, token, stop, acknowledged))
            for _ in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-write: requests are in flight
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        assert len(acknowledged) >= 60, "the writers were writing when the server was killed"

        restarted = start_server(url, tmp_path / "second.log", {"INSIGHTBOARDS_DEMO": "0"})
        try:
            with httpx.Client(
                base_url=f"{restarted.base_url}/results/api/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ) as client:
                for board, item in acknowledged:
                    response = client.get(f"/dashboards/{board}")
                    assert response.status_code == 200, (board, response.text)
                    if item:
                        assert item in [i["id"] for i in response.json()["insights"]]
        finally:
            restarted.stop()
        if backend == "sqlite":
            database = Database(url)
            with database.read() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            database.dispose()
