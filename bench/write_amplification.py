"""What one create writes on SQLite: WAL frames (a page each) and CPU per create, and which
tables and indexes those frames belong to, with creates committed 16 to a group as the
service's writer commits them under load.

Creates go through the service's own create (dashboards/service.py) in process, no HTTP.
The boards are shaped like the performance harness's: 10 labels out of a pool of 30, 3 to 12
insights, each naming a random insight id.

    .venv/bin/python bench/write_amplification.py                 # at 1k and 10k boards
    .venv/bin/python bench/write_amplification.py --sizes 10000 \
        --without-index ix_dashboard_items_insight

`--without-index` drops an index after the schema is made: what that index costs a create
(the service's queries still run without it, some of them visiting every board).
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from insightboards import provisioning
from insightboards.accounts import service as accounts
from insightboards.dashboards import creating
from insightboards.dashboards.schemas import DashboardCreate
from insightboards.database import Database, upgrade_schema

GROUP = 16
MEASURED = 1600
# fmt: off
WORDS = (
    "revenue", "pipeline", "churn", "growth", "hiring", "quality", "support", "retention",
    "onboarding", "margin", "velocity", "roadmap", "launch", "security", "uptime", "costs",
    "marketing", "sales", "partner", "brand", "product", "design", "research", "finance",
    "legal", "people", "culture", "training", "platform", "mobile",
)
# fmt: on
WAL_HEADER_BYTES = 32


def board(rng: random.Random, n: int) -> DashboardCreate:
    insights = [
        {
            "insightId": f"{rng.getrandbits(96):024x}",
            "insightName": f"{rng.choice(WORDS)}-{rng.choice(WORDS)}",
            "row": (index // 3) * 4,
            "col": (index % 3) * 4,
            "sizeX": rng.choice((2, 3, 4)),
            "sizeY": rng.choice((2, 3, 4)),
        }
        for index in range(rng.randint(3, 12))
    ]
    labels = [
        {"name": f"team-{word}", "title": word.title(), "isActive": rng.random() < 0.9}
        for word in rng.sample(WORDS, 10)
    ]
    name = " ".join(w.title() for w in rng.sample(WORDS, 3))
    body: dict[str, Any] = {"name": f"{name} {n}", "tag": f"t{n}", "insights": insights}
    return DashboardCreate.model_validate({**body, "tags": labels})


def measure(size: int, without: list[str]) -> None:
    directory = tempfile.mkdtemp(prefix="ib-write-")
    path = f"{directory}/bench.db"
    url = f"sqlite:///{path}"
    upgrade_schema(url)
    with sqlite3.connect(path) as conn:
        for index in without:
            conn.execute(f'DROP INDEX "{index}"')
    database = Database(url)
    account = provisioning.create_account(database, "Bench")
    user = accounts.create_user(database, account, "admin@bench.example", None, "admin")
    caller = accounts.authenticate(database, accounts.create_token(database, account, user))
    rng = random.Random(size)
    bodies = [board(rng, n) for n in range(size + MEASURED)]

    def create_group(group: list[DashboardCreate]) -> None:
        plans = [creating.plan_create(caller, body) for body in group]
        with database.write() as conn:
            for plan in plans:
                creating.run_create(conn, caller, plan)

    for start in range(0, size, GROUP):
        create_group(bodies[start : min(start + GROUP, size)])
    checkpointer = sqlite3.connect(path)
    checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal, pages, cpu = Path(f"{path}-wal"), collections.Counter[int](), 0.0
    for start in range(size, size + MEASURED, GROUP):
        began = time.thread_time()
        create_group(bodies[start : start + GROUP])
        cpu += time.thread_time() - began
        # The WAL holds this group's frames alone: it was emptied after the last one.
        pages.update(frame_pages(wal.read_bytes()))
        checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    owner = dict(checkpointer.execute("SELECT pageno, name FROM dbstat"))
    checkpointer.close()
    shutil.rmtree(directory, ignore_errors=True)
    by_tree = collections.Counter[str]()
    for page, frames in pages.items():
        by_tree[owner.get(page, "(freed since)")] += frames
    print(
        f"{size:>8} boards: {pages.total() / MEASURED:5.1f} WAL frames and"
        f" {cpu / MEASURED * 1e6:5.0f} us of CPU a create (groups of {GROUP})"
    )
    for name, frames in by_tree.most_common(9):
        print(f"{'':>10}{frames / MEASURED:5.1f}  {name}")


def frame_pages(wal: bytes) -> list[int]:
    """The page number of each frame in a WAL file (a 32-byte header, then frames of a
    24-byte header, whose first 4 bytes are the page number, and the page)."""
    if len(wal) < WAL_HEADER_BYTES:
        return []
    page_size = int.from_bytes(wal[8:12], "big")
    frame = 24 + page_size
    return [
        int.from_bytes(wal[offset : offset + 4], "big")
        for offset in range(WAL_HEADER_BYTES, len(wal) - frame + 1, frame)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--without-index", action="append", default=[])
    args = parser.parse_args()
    print(f"{MEASURED} creates measured after each size; below each, WAL frames a create by b-tree")
    for size in args.sizes:
        measure(size, args.without_index)


if __name__ == "__main__":
    main()
