"""Boards as each caller is served them: the stored document (dashboards.documents), or one
rendered from the tables for a board that has none yet, with the caller's fields spliced in.
"""

import itertools
import operator
from collections.abc import Callable, Sequence

import orjson
import sqlalchemy as sa

from insightboards import access
from insightboards.access import Caller
from insightboards.access import boards as access_boards
from insightboards.dashboards import documents, repository, served_repository
from insightboards.dashboards.documents import Served
from insightboards.dashboards.records import DashboardRecord, GrantRecord, ServedRecord
from insightboards.database import Database
from insightboards.loop_reads import LoopReads
from insightboards.query import projection as projection_module


def _render_from_tables(
    conn: sa.Connection,
    account_id: str,
    rows: Sequence[DashboardRecord],
    grants: dict[str, list[GrantRecord]],
) -> dict[str, bytes]:
    """The stored form of each board's document, rendered from its rows."""
    ids = [row.id for row in rows]
    items = repository.load_items(conn, account_id, ids)
    labels = repository.load_labels(conn, account_id, ids)
    return {
        row.id: documents.encode(
            documents.render(row, items[row.id], labels[row.id], grants[row.id])
        )
        for row in rows
    }


def stored_documents(
    conn: sa.Connection,
    account_id: str,
    rows: Sequence[ServedRecord],
    grants: dict[str, list[GrantRecord]],
) -> list[bytes]:
    """Each board's stored document; rendered from the tables for a board that has none yet
    (written before migration 0008 and not yet filled in)."""
    missing = [row.id for row in rows if row.document is None]
    rendered = {}
    if missing:
        whole = repository.get_many(conn, account_id, missing)
        rendered = _render_from_tables(conn, account_id, whole, grants)
    return [row.document if row.document is not None else rendered[row.id] for row in rows]


def _store_documents(conn: sa.Connection, account_id: str, ids: list[str]) -> None:
    """Render boards of one account whose documents are missing, and store them."""
    rows = repository.get_many(conn, account_id, ids)
    grants = repository.load_grants(conn, account_id, ids)
    for dashboard_id, stored in _render_from_tables(conn, account_id, rows, grants).items():
        repository.store_document(conn, account_id, dashboard_id, stored)


def after_change(
    conn: sa.Connection,
    caller: Caller,
    changed: tuple[DashboardRecord, list[GrantRecord], bytes],
    users_count: int | None = None,
) -> Served:
    """The board as the change left it, as the caller is now served it. `users_count`, the
    account's users when known, spares a board every one of them reads a query."""
    row, grants, stored = changed
    if users_count is not None and access.everyone_reads(row.inherits, row.owner_deny):
        readers = users_count
    else:
        readers = served_repository.readers_count(conn, caller.account_id, row.id)
    bits = documents.allowed_actions(caller, row, grants)
    return Served(row.id, row.version, documents.splice(stored, readers, bits))


def one_board(conn: sa.Connection, caller: Caller, row: ServedRecord, not_found: str) -> Served:
    """A board the caller asked for by id or tag, if they may read it."""
    grants = {row.id: served_repository.grants_of(conn, caller.account_id, row.id)}
    bits = documents.allowed_actions(caller, row, grants[row.id])
    access_boards.check_readable(bits, not_found)
    stored = stored_documents(conn, caller.account_id, [row], grants)[0]
    return Served(row.id, row.version, documents.splice(stored, row.readers, bits))


async def get_on_loop(
    reads: LoopReads,
    caller_at: Callable[[int], Caller | None],
    account_id: str,
    dashboard_id: str,
) -> tuple[Caller, Served] | None:
    """The board, when the event loop can serve it at once (api/fast_paths.py): the
    request's caller is cached at the current auth counter (`caller_at(counter)`), the board
    has a stored document and the caller may read it. None leaves the answer, whatever it
    is, to `get`."""
    found = await served_repository.served_on_loop(reads, account_id, dashboard_id)
    if found is None:
        return None
    row, counter, grants = found
    caller = caller_at(counter)
    if caller is None or row.document is None:
        return None
    bits = documents.allowed_actions(caller, row, grants)
    if not bits & access.READ:
        return None
    return caller, Served(row.id, row.version, documents.splice(row.document, row.readers, bits))


def store_missing_documents(db: Database, batch: int = 200) -> int:
    """Fill in the documents of boards written before migration 0008; how many."""
    after, stored = ("", ""), 0
    while True:
        with db.write() as conn:
            keys = repository.without_document(conn, after, batch)
            # In key order, so by account; stored as they are: the limits apply to changes,
            # not to boards kept.
            for account_id, of_account in itertools.groupby(keys, key=operator.itemgetter(0)):
                _store_documents(conn, account_id, [board_id for _, board_id in of_account])
        if not keys:
            return stored
        stored += len(keys)
        after = keys[-1]


def page(
    conn: sa.Connection,
    caller: Caller,
    page_ids: list[str],
    projection: projection_module.Projection | None,
) -> list[bytes]:
    """The boards `page_ids` as the caller is served them (JSON, each projected if asked)."""
    boards = served_repository.served_page(conn, caller.account_id, page_ids)
    rows = [row for row, _ in boards]
    grants = {row.id: row_grants for row, row_grants in boards}
    page = []
    for row, stored in zip(
        rows, stored_documents(conn, caller.account_id, rows, grants), strict=True
    ):
        readers = row.readers
        bits = documents.allowed_actions(caller, row, grants[row.id])
        if projection is None:
            page.append(documents.splice(stored, readers, bits))
        else:
            whole = documents.decode(stored) | documents.caller_fields(readers, bits)
            kept = projection_module.apply(whole, projection, always=("id", "accountId"))
            page.append(orjson.dumps(kept))
    return page
