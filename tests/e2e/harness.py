"""A real server process on a real database, and the clients the end-to-end tests use.

The server is started as a user would start it (`insightboards serve`), on a fresh SQLite
file, and on a fresh PostgreSQL database when one answers on 127.0.0.1:5432.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "INSIGHTBOARDS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def postgres_reachable() -> bool:
    """Whether the PostgreSQL half of the suite can run; CI demands it (.ci/run)."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except Exception as error:
        if os.environ.get("INSIGHTBOARDS_REQUIRE_POSTGRES") == "1":
            raise RuntimeError(f"PostgreSQL is required but unreachable: {error}") from error
        return False


def create_postgres_database() -> tuple[str, str]:
    """A new empty database; returns (its URL, its name)."""
    import psycopg

    name = f"insightboards_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database of `backend` ("sqlite" or "postgresql"), dropped
    afterwards; the test is skipped when PostgreSQL is wanted but not there (unless CI
    requires it, see postgres_reachable)."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'insightboards.db'}"
        return
    if not postgres_reachable():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    url, name = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)


def backends() -> list[str]:
    """The database backends the end-to-end tests run on."""
    return ["sqlite", "postgresql"] if postgres_reachable() else ["sqlite"]


@contextmanager
def server_on_fresh_database(
    backend: str, directory: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """A running `insightboards serve` on a new database of `backend`, stopped afterwards."""
    with fresh_database(backend, directory) as database_url:
        running = start_server(database_url, directory / "server.log", extra_env)
        try:
            yield running
        finally:
            running.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_cli(database_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `insightboards ARGS... --database-url URL` as a user would."""
    command = [sys.executable, "-m", "insightboards", *args, "--database-url", database_url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed: {result.stderr}")
    return result


def admin(database_url: str, *args: str) -> dict[str, Any]:
    output: dict[str, Any] = json.loads(run_cli(database_url, "admin", *args).stdout)
    return output


@dataclass
class Server:
    base_url: str
    database_url: str
    process: subprocess.Popen[str]
    log_path: Path
    log_file: IO[str]

    def demo_credentials(self) -> tuple[str, str]:
        """The demo account id and token that the first start printed."""
        log = self.log_path.read_text()
        account = re.search(r"account id:\s+(\S+)", log)
        token = re.search(r"token:\s+(\S+)", log)
        assert account and token, log
        return account.group(1), token.group(1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what a crash or a power cut leaves."""
        self.process.kill()
        self.process.wait()
        self.log_file.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def start_server(
    database_url: str,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Server:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "insightboards",
            "serve",
            "--port",
            str(port),
            "--database-url",
            database_url,
            *extra_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise RuntimeError(f"server exited: {log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/openapi.json", timeout=2).status_code == 200:
                return Server(base_url, database_url, process, log_path, log)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    log.close()
    raise RuntimeError(f"server did not start: {log_path.read_text()}")


@dataclass
class Tenant:
    """An account with one user of each role, each with a token."""

    account_id: str
    users: dict[str, str]
    tokens: dict[str, str]


class Api:
    """An HTTP client for one caller."""

    def __init__(self, base_url: str, token: str | None, account_id: str | None = None) -> None:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if account_id is not None:
            headers["gtmhub-accountId"] = account_id
        self.client = httpx.Client(
            base_url=f"{base_url}/results/api/v1", headers=headers, timeout=30
        )
        self.v2 = httpx.Client(base_url=f"{base_url}/results/api/v2", headers=headers, timeout=30)

    def close(self) -> None:
        self.client.close()
        self.v2.close()

    def create(self, **body: Any) -> dict[str, Any]:
        body.setdefault("name", "Board")
        response = self.client.post("/dashboards", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def get(self, dashboard_id: str) -> httpx.Response:
        return self.client.get(f"/dashboards/{dashboard_id}")

    def list(self, **params: Any) -> dict[str, Any]:
        response = self.v2.get("/dashboards", params=params)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page
