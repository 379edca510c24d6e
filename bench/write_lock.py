"""How long the largest writes a member may send take, and how long they make another
account's small writes wait (SQLite has one writer at a time).

Starts `insightboards serve` on a fresh SQLite file (or --database-url) and times, one at a
time, the heaviest writes the limits admit: a create and a whole-layout save of the most items
a board may hold (each under the 1 MiB body cap), a PUT of the most labels, a clone of the
full board, and a refused layout of 340,000 empty items. Then one client sends those writes
in a loop while another account creates small boards: its latencies show how long the writer
lock is ever held.

    .venv/bin/python bench/write_lock.py
    .venv/bin/python bench/write_lock.py --seconds 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import admin, start_server

from insightboards.dashboards.limits import DEFAULT_LIMITS

ITEMS = DEFAULT_LIMITS.items_per_board
LABELS = DEFAULT_LIMITS.labels_per_board
API = "/results/api/v1/dashboards"


def _client(base_url: str, database_url: str, name: str) -> httpx.Client:
    account = admin(database_url, "create-account", "--name", name)["id"]
    user = admin(
        database_url, "create-user", "--account", account, "--email", f"{name}@b.example",
        "--role", "admin",
    )["id"]  # fmt: skip
    token = admin(database_url, "create-token", "--account", account, "--user", user)["token"]
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )


def _full_layout() -> list[dict[str, Any]]:
    # About as much per item as the board's document cap leaves: ~1,700 bytes each as sent,
    # ~2,000 as served.
    return [
        {"insightName": f"insight {n}", "insightTitle": "t" * 300, "filters": ["f" * 600] * 2,
         "settings": [{"name": "s", "value": "v" * 100}]}
        for n in range(ITEMS)
    ]  # fmt: skip


def _timed(call: Any, *args: Any, **kwargs: Any) -> tuple[float, int]:
    started = time.perf_counter()
    response = call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database_url = args.database_url or f"sqlite:///{directory}/bench.db"
        env = {"INSIGHTBOARDS_RATE_LIMIT_PER_MINUTE": "0", "INSIGHTBOARDS_DEMO": "false"}
        server = start_server(database_url, Path(directory) / "server.log", env)
        try:
            heavy = _client(server.base_url, database_url, "heavy")
            light = _client(server.base_url, database_url, "light")
            layout = _full_layout()
            labels = [{"name": f"label-{n}", "title": "t" * 300} for n in range(LABELS)]
            created = heavy.post(API, json={"name": "full", "insights": layout})
            assert created.status_code == 201, created.text
            board = created.json()
            labelled = heavy.post(API, json={"name": "labelled"}).json()
            size = len(heavy.get(f"{API}/{board['id']}").content)
            print(f"a full board: {ITEMS} items, {size} bytes as served\n")
            writes = {
                f"create, {ITEMS} items": lambda: heavy.post(
                    API, json={"name": "full", "insights": layout}
                ),
                f"layout save, {ITEMS} items": lambda: heavy.put(
                    f"{API}/items/{board['id']}", json=layout
                ),
                f"PUT, {LABELS} labels": lambda: heavy.put(
                    f"{API}/{labelled['id']}", json={"tags": labels}
                ),
                "clone of the full board": lambda: heavy.post(
                    f"{API}/{board['id']}/clone", json={}
                ),
                "layout of 340,000 empty items": lambda: heavy.put(
                    f"{API}/items/{board['id']}",
                    content=b"[" + b",".join([b"{}"] * 340_000) + b"]",
                    headers={"Content-Type": "application/json"},
                ),
            }
            print(f"{'write':<32} {'status':>6} {'median ms':>10} {'max ms':>8}")
            for name, write in writes.items():
                times, status = [], 0
                for _ in range(5):
                    elapsed, status = _timed(write)
                    times.append(elapsed)
                print(
                    f"{name:<32} {status:>6} {statistics.median(times):>10.1f} {max(times):>8.1f}"
                )

            stop = time.monotonic() + args.seconds
            heavy_writes = list(writes.values())

            def hammer() -> None:
                n = 0
                while time.monotonic() < stop:
                    heavy_writes[n % len(heavy_writes)]()
                    n += 1

            small: list[float] = []
            alone = [_timed(light.post, API, json={"name": "small"})[0] for _ in range(50)]
            thread = threading.Thread(target=hammer)
            thread.start()
            while time.monotonic() < stop:
                small.append(_timed(light.post, API, json={"name": "small"})[0])
            thread.join()
            small.sort()
            print(
                f"\nanother account's small create alone: median {statistics.median(alone):.1f} ms;"
                f" beside the heavy writes ({len(small)} creates in {args.seconds:g} s): median "
                f"{statistics.median(small):.1f}, p99 {small[int(len(small) * 0.99)]:.1f}, "
                f"max {small[-1]:.1f} ms"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
