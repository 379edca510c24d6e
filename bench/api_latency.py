"""Latency of the basic endpoints over HTTP, and how it changes with the number of dashboards.

Starts `insightboards serve` on a fresh database (SQLite by default, or --database-url),
seeds dashboards through the API, then times sequential requests from one client:
get-by-id, a list page of 50, create and update. Prints requests/s and p50/p99 in ms.

    .venv/bin/python bench/api_latency.py --sizes 100 1000 --requests 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import admin, start_server

BOARD = {
    "name": "Bench board",
    "insights": [{"insightId": f"i{n}", "row": n, "sizeX": 2} for n in range(6)],
    "sectionHeaders": [{"header": "Section"}],
    "tags": [{"name": "okr"}, {"name": "sales"}],
}


def measure(label: str, count: int, call: Callable[[int], httpx.Response], expected: int) -> None:
    timings = []
    started = time.perf_counter()
    for index in range(count):
        begin = time.perf_counter()
        response = call(index)
        timings.append((time.perf_counter() - begin) * 1000)
        assert response.status_code == expected, response.text
    elapsed = time.perf_counter() - started
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"  {label:<14} {count / elapsed:8.1f} req/s   p50 {statistics.median(timings):6.2f} ms"
        f"   p99 {p99:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{directory}/bench.db"
        server = start_server(url, Path(directory) / "server.log", {"INSIGHTBOARDS_DEMO": "0"})
        try:
            account = admin(url, "create-account", "--name", "Bench")["id"]
            user = admin(
                url, "create-user", "--account", account, "--email", "b@x.y", "--role", "admin"
            )["id"]
            token = admin(url, "create-token", "--account", account, "--user", user)["token"]
            client = httpx.Client(
                base_url=f"{server.base_url}/results/api/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            ids: list[str] = []
            for size in sorted(args.sizes):
                while len(ids) < size:
                    ids.append(client.post("/dashboards", json=BOARD).json()["id"])
                print(f"{size} dashboards ({url.split(':')[0]}):")
                measure(
                    "get by id",
                    args.requests,
                    lambda i: client.get(f"/dashboards/{ids[i % len(ids)]}"),
                    200,
                )
                measure(
                    "list page 50",
                    args.requests,
                    lambda i, size=size: client.get(
                        "/dashboards", params={"take": 50, "skip": (i * 50) % size}
                    ),
                    200,
                )
                measure(
                    "update",
                    args.requests,
                    lambda i: client.put(
                        f"/dashboards/{ids[i % len(ids)]}", json={"name": f"n{i}"}
                    ),
                    200,
                )
                created: list[str] = []
                measure("create", args.requests, lambda i, made=created: _create(client, made), 201)
                for dashboard_id in created:
                    client.delete(f"/dashboards/{dashboard_id}")
            client.close()
        finally:
            server.stop()


def _create(client: httpx.Client, created: list[str]) -> httpx.Response:
    response = client.post("/dashboards", json=BOARD)
    created.append(response.json()["id"])
    return response


if __name__ == "__main__":
    main()
