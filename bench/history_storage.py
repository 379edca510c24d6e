"""What board history costs on disk, on SQLite: bytes a stored version takes (its row in
dashboard_versions and that table's index) against bytes a board takes (its rows in every
board table and their indexes), and against the board's own document.

Boards are shaped like the performance harness's (bench/write_amplification.py's `board`);
each is created, renamed, has one tile moved, and its layout saved: four versions each, the
kinds a board most often goes through. Runs the service's own create, update and item save
in process, no HTTP. Sizes come from SQLite's dbstat (pages in use, each table and index).

    .venv/bin/python bench/history_storage.py              # 1,000 boards
    .venv/bin/python bench/history_storage.py --boards 5000
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from write_amplification import board

from insightboards import provisioning
from insightboards.accounts import service as accounts
from insightboards.dashboards import creating, documents, service
from insightboards.dashboards.schemas import DashboardItemIn, DashboardUpdate
from insightboards.database import Database, upgrade_schema

BOARD_TABLES = ("dashboards", "dashboard_items", "dashboard_labels", "dashboard_grants")
HISTORY_TABLES = ("dashboard_versions",)


def bytes_by_table(path: str) -> dict[str, int]:
    """Bytes in use of each table with its indexes (dbstat: cells and their headers)."""
    connection = sqlite3.connect(path)
    names = dict(connection.execute("SELECT name, tbl_name FROM sqlite_master"))
    used: dict[str, int] = {}
    for name, size in connection.execute(
        "SELECT name, sum(pgsize - unused) FROM dbstat GROUP BY name"
    ):
        table = names.get(name, name)
        used[table] = used.get(table, 0) + int(size)
    connection.close()
    return used


def measure(count: int) -> None:
    directory = tempfile.mkdtemp(prefix="ib-history-")
    path = f"{directory}/bench.db"
    url = f"sqlite:///{path}"
    upgrade_schema(url)
    database = Database(url)
    account = provisioning.create_account(database, "Bench")
    user = accounts.create_user(database, account, "admin@bench.example", None, "admin")
    caller = accounts.authenticate(database, accounts.create_token(database, account, user))
    rng = random.Random(count)
    document_bytes = 0
    for n in range(count):
        created = creating.create(database, caller, board(rng, n))
        renamed = service.update(
            database, caller, created.id, DashboardUpdate(name=f"Renamed {n}"), None
        )
        tiles = documents.decode(renamed.body.rsplit(b',"currentUserAllowedActions"', 1)[0])
        tile = tiles["insights"][0]
        moved = DashboardItemIn.model_validate({**tile, "row": tile["row"] + 40})
        service.save_items(database, caller, created.id, moved, None)
        layout = [DashboardItemIn.model_validate(t) for t in tiles["insights"][1:]]
        service.save_items(database, caller, created.id, layout, None)
    with database.read() as conn:
        stored = conn.exec_driver_sql("SELECT sum(length(document)) FROM dashboards").scalar()
        versions = conn.exec_driver_sql("SELECT count(*) FROM dashboard_versions").scalar()
        kept = conn.exec_driver_sql(
            "SELECT count(*), sum(length(document)) FROM dashboard_versions "
            "WHERE document IS NOT NULL"
        ).one()
    database.dispose()
    document_bytes = int(stored or 0)
    used = bytes_by_table(path)
    shutil.rmtree(directory, ignore_errors=True)
    board_bytes = sum(used.get(t, 0) for t in BOARD_TABLES)
    history_bytes = sum(used.get(t, 0) for t in HISTORY_TABLES)
    print(f"{count} boards, {versions} versions ({kept[0]} with a stored document):")
    print(f"  a board's document:             {document_bytes / count:8.0f} bytes")
    print(f"  a board, all its rows + indexes: {board_bytes / count:8.0f} bytes")
    print(f"  a version, row + index:          {history_bytes / versions:8.0f} bytes (average)")
    if kept[0]:
        print(f"  a stored version's document:     {kept[1] / kept[0]:8.0f} bytes")
    per_stored = history_bytes / max(kept[0], 1)
    print(
        f"  the history, per version holding a document: {per_stored:8.0f} bytes = "
        f"{per_stored / (document_bytes / count):.2f}x a board's document, "
        f"{per_stored / (board_bytes / count):.2f}x all of a board's rows"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=1000)
    args = parser.parse_args()
    measure(args.boards)


if __name__ == "__main__":
    main()
