"""Requests/s and p50/p99 latency under concurrent clients.

For each database (SQLite, and PostgreSQL when --postgres-url answers) and each worker count
(1 and 2), starts `insightboards serve --workers N` on a fresh database seeded with 1,000
dashboards, then for 1, 4 and 16 concurrent clients times get-by-id, a list page of 50,
create and update. Each measurement is a fixed number of requests (--requests).

    .venv/bin/python bench/throughput.py
    .venv/bin/python bench/throughput.py --requests 200 --clients 1 4
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.list_queries import seed
from tests.e2e.harness import start_server

from insightboards import provisioning
from insightboards.accounts import service as accounts
from insightboards.dashboards import served
from insightboards.database import Database, upgrade_schema

ROW = "{:<10} {:>7} {:>7}  {:<13} {:>9} {:>8} {:>8}"
Operation = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


def operations(ids: list[str]) -> dict[str, tuple[Operation, int]]:
    rng = random.Random(7)

    async def get(client: httpx.AsyncClient, _n: int) -> httpx.Response:
        return await client.get(f"/results/api/v1/dashboards/{rng.choice(ids)}")

    async def list_page(client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.get(
            "/results/api/v2/dashboards", params={"take": 50, "skip": (n * 50) % 950}
        )

    async def create(client: httpx.AsyncClient, _n: int) -> httpx.Response:
        body = {"name": "bench", "insights": [{"insightId": "i"}], "tags": [{"name": "okr"}]}
        return await client.post("/results/api/v1/dashboards", json=body)

    async def update(client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.put(
            f"/results/api/v1/dashboards/{rng.choice(ids)}", json={"name": f"n{n}"}
        )

    return {
        "get by id": (get, 200),
        "list page 50": (list_page, 200),
        "create": (create, 201),
        "update": (update, 200),
    }


async def measure(
    base_url: str, token: str, clients: int, requests: int, operation: Operation, expected: int
) -> tuple[float, float, float]:
    latencies: list[float] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60, limits=limits
    ) as client:

        async def worker() -> None:
            for n in counter:
                began = time.perf_counter()
                response = await operation(client, n)
                latencies.append((time.perf_counter() - began) * 1000)
                assert response.status_code == expected, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return (
        requests / elapsed,
        statistics.median(latencies),
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    )


def run(url: str, label: str, workers: int, args: argparse.Namespace, directory: Path) -> None:
    upgrade_schema(url)
    database = Database(url)
    account = provisioning.create_account(database, "Throughput")
    user = accounts.create_user(
        database, account, f"{uuid.uuid4().hex[:6]}@bench.example", None, "admin"
    )
    token = accounts.create_token(database, account, user)
    seed(database, account, [user], 0, 1000)
    served.store_missing_documents(database)  # as a start would
    with database.read() as conn:
        ids = [
            row[0]
            for row in conn.exec_driver_sql(
                f"SELECT id FROM dashboards WHERE account_id = '{account}' AND NOT is_report"
            )
        ]
    database.dispose()
    server = start_server(
        url,
        directory / f"{label}-{workers}.log",
        {"INSIGHTBOARDS_DEMO": "0"},
        ("--workers", str(workers)),
    )
    try:
        for clients in args.clients:
            for name, (operation, expected) in operations(ids).items():
                rate, p50, p99 = asyncio.run(
                    measure(server.base_url, token, clients, args.requests, operation, expected)
                )
                row = (label, workers, clients, name, f"{rate:.0f}", f"{p50:.2f}", f"{p99:.2f}")
                print(ROW.format(*row), flush=True)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(ROW.format("database", "workers", "clients", "operation", "req/s", "p50 ms", "p99 ms"))
    with tempfile.TemporaryDirectory() as directory:
        for workers in args.workers:
            run(
                f"sqlite:///{directory}/throughput-{workers}.db",
                "sqlite",
                workers,
                args,
                Path(directory),
            )
        try:
            import psycopg

            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                for workers in args.workers:
                    name = f"ib_throughput_{uuid.uuid4().hex[:8]}"
                    conn.execute(f'CREATE DATABASE "{name}"')
                    try:
                        run(
                            args.postgres_url.rsplit("/", 1)[0] + f"/{name}",
                            "postgresql",
                            workers,
                            args,
                            Path(directory),
                        )
                    finally:
                        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        except psycopg.OperationalError as error:
            print(f"PostgreSQL skipped: {error}")


if __name__ == "__main__":
    main()
