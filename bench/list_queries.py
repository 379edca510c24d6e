"""List-query latency at 1k, 10k and 100k dashboards (SQLite by default, or --database-url).

Seeds dashboards (with items and labels) straight into the database in bulk, starts
`insightboards serve` on it, and times typical list queries over HTTP from one client:
by label, by name regex, by owner, and a sorted page 50 deep. Prints p50/p99 in ms, and
the server's resident memory after each size's queries.

    .venv/bin/python bench/list_queries.py                       # 1k, 10k, 100k on SQLite
    .venv/bin/python bench/list_queries.py --sizes 1000 10000 --requests 100
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import start_server

from insightboards import provisioning
from insightboards.access import ALL_BITS
from insightboards.accounts import service as accounts
from insightboards.dashboards import served
from insightboards.database import Database, upgrade_schema
from insightboards.ids import new_id
from insightboards.tables import dashboard_items, dashboard_labels, dashboards

PREFIXES = ["Sales", "Marketing", "OKR", "Engineering", "Support", "Finance", "People", "Ops"]
LABELS = [f"label{n}" for n in range(48)] + ["okr", "kpi"]
QUERIES: dict[str, dict[str, Any]] = {
    "by label": {"filter": '{"tags.name": "okr"}', "take": 50, "sort": "-dateCreated"},
    "by name regex": {"filter": '{name: {$regex: "^OKR"}}', "take": 50},
    "by owner": {"filter": "{createdById: OWNER}", "take": 50, "sort": "-dateUpdated"},
    "page 50, by name": {"sort": "name", "skip": 49 * 50, "take": 50},
}


def queries_for(size: int) -> dict[str, dict[str, Any]]:
    """QUERIES; where 50 pages of 50 exceed the boards, the deep page is the middle one."""
    pages = size // 50
    if pages >= 100:
        return QUERIES
    deep = {**QUERIES}
    del deep["page 50, by name"]
    deep[f"page {pages // 2}, by name"] = {
        "sort": "name",
        "skip": (pages // 2 - 1) * 50,
        "take": 50,
    }
    return deep


def seed(database: Database, account: str, owners: list[str], start: int, stop: int) -> None:
    rng = random.Random(start)
    for batch_start in range(start, stop, 5000):
        boards, items, labels = [], [], []
        for n in range(batch_start, min(stop, batch_start + 5000)):
            board_id = new_id()
            stamp = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:{n % 60:02d}.000Z"
            boards.append({
                "account_id": account, "id": board_id, "tag": f"b{n}", "is_report": False,
                "name": f"{rng.choice(PREFIXES)} board {n}", "archived": n % 10 == 0,
                "layout": None, "created_by_id": rng.choice(owners), "date_created": stamp,
                "date_updated": stamp, "version": 1, "source_application": None,
                "source_id": None, "inherits": True, "owner_grant": ALL_BITS, "owner_deny": 0,
                "settings": [], "parameters": [],
            })  # fmt: skip
            for position in range(3):
                items.append({
                    "account_id": account, "dashboard_id": board_id, "id": new_id(),
                    "position": position, "kind": "insight", "row": position, "col": 0,
                    "size_x": 2, "size_y": 1, "insight_id": f"insight{rng.randrange(500)}",
                    "insight_name": "Revenue", "header": None, "sub_header": None,
                    "details": {}, "created_by_id": None, "modified_by_id": None,
                    "date_created": stamp, "date_updated": stamp,
                })  # fmt: skip
            for position, name in enumerate(rng.sample(LABELS, rng.randint(1, 3))):
                labels.append({
                    "account_id": account, "dashboard_id": board_id, "position": position,
                    "label_id": name, "name": name, "title": name.upper(), "is_active": True,
                    "created_by": None, "date_created": stamp, "children": [],
                    "board_created": stamp, "repeated": False,
                })  # fmt: skip
        with database.write() as conn:
            conn.execute(dashboards.insert(), boards)
            conn.execute(dashboard_items.insert(), items)
            conn.execute(dashboard_labels.insert(), labels)


def percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--settle", type=float, default=30.0, help="seconds to wait after seeding 50k+ boards"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{directory}/bench.db"
        upgrade_schema(url)
        database = Database(url)
        account = provisioning.create_account(database, "Bench")
        owners = [
            accounts.create_user(database, account, f"u{n}@bench.example", None, "member")
            for n in range(20)
        ]
        caller = accounts.create_user(database, account, "admin@bench.example", None, "admin")
        token = accounts.create_token(database, account, caller)
        seeded = 0
        print(f"database: {url.split(':')[0]}; {args.requests} requests per query, one client")
        print(f"{'dashboards':>10}  {'query':<18} {'p50 ms':>8} {'p99 ms':>8} {'matches':>8}")
        for size in sorted(args.sizes):
            seed(database, account, owners, seeded, size)
            # Rows written in bulk have no stored document; store them as a start would.
            served.store_missing_documents(database)
            checkpoint(url)
            seeded = size
            # Just after writing 100k boards this machine answered the same queries up to
            # twice as slowly for half a minute or so (cause not found: no dirty pages, no
            # I/O pressure); the pause keeps that out of the figures.
            time.sleep(args.settle if size >= 50_000 else 0)
            server = start_server(url, Path(directory) / "server.log", {"INSIGHTBOARDS_DEMO": "0"})
            try:
                with httpx.Client(
                    base_url=f"{server.base_url}/results/api/v2",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                ) as client:
                    queries = {
                        label: {k: str(v).replace("OWNER", f'"{owners[0]}"') for k, v in q.items()}
                        for label, q in queries_for(size).items()
                    }
                    for label, (timings, total) in measure(client, queries, args.requests).items():
                        print(
                            f"{size:>10}  {label:<18} {statistics.median(timings):8.2f}"
                            f" {percentile(timings, 0.99):8.2f} {total:>8}",
                            flush=True,
                        )
                print(f"{size:>10}  {'server RSS':<18} {resident_mib(server.process.pid):8.0f} MiB")
            finally:
                server.stop()
        database.dispose()


ROUNDS = 5


def measure(
    client: httpx.Client, queries: dict[str, dict[str, str]], requests: int
) -> dict[str, tuple[list[float], int]]:
    """Each query's timings (ms) and total: ROUNDS rounds, each a share of every query's
    requests in turn, so that a slow minute of a shared machine falls on all of them."""
    results: dict[str, tuple[list[float], int]] = {label: ([], 0) for label in queries}
    for params in queries.values():
        client.get("/dashboards", params=params)  # warm up
    for round_number in range(ROUNDS):
        share = requests // ROUNDS + (round_number < requests % ROUNDS)
        for label, params in queries.items():
            timings, total = results[label]
            for _ in range(share):
                began = time.perf_counter()
                response = client.get("/dashboards", params=params)
                timings.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text
                total = response.json()["totalCount"]
            results[label] = (timings, total)
    return results


def checkpoint(url: str) -> None:
    """Moves the seed from SQLite's write-ahead log into the database file, as a running
    service keeps it (group_commit.WalCheckpointer), so that no read looks its pages up in
    a log of 100k boards."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def resident_mib(pid: int) -> float:
    """The process's resident memory (Linux), after the queries."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
