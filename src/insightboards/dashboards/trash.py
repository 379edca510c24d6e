"""The trash: a DELETE moves a board out of every table live boards are read from (so it
is gone from GET, lists, tag lookups and usages as before) into the trash, with its rows,
its last document and its access as they were. Its history stays. From the trash it can be
undeleted (put back exactly as it was, at the version it had) or purged, with its history;
boards trashed longer than the days kept are purged in the background (`purge_expired`).

Who may see, undelete or purge a trashed board: whoever may delete it, by its access as it
was when it was trashed (the same rules, as SQL over the trash's tables). Another
account's trash is never found (404)."""

from typing import Any

import sqlalchemy as sa

from insightboards.access import Caller
from insightboards.audit import repository as audit
from insightboards.clock import iso_in, now_iso
from insightboards.dashboards import checks, documents, repository, served, trash_repository
from insightboards.dashboards.documents import Served
from insightboards.dashboards.records import DashboardRecord, GrantRecord, ItemRecord, LabelRecord
from insightboards.database import Database
from insightboards.errors import Forbidden, NotFound
from insightboards.tables import AnyRow

_NOT_IN_TRASH = "The trash holds no such dashboard."


def move_in(
    conn: sa.Connection, caller: Caller, row: DashboardRecord, grants: list[GrantRecord]
) -> None:
    """Keep the board `row` (locked, about to be deleted) in the trash, as it is now."""
    items = repository.load_items(conn, row.account_id, [row.id])[row.id]
    labels = repository.load_labels(conn, row.account_id, [row.id])[row.id]
    trash_repository.move_in(conn, row, items, labels, grants, caller.user_id, now_iso())


def _summary(row: AnyRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "tag": row.tag,
        "isReport": row.is_report,
        "createdById": row.created_by_id,
        "version": row.version,
        "dateDeleted": row.date_deleted,
        "deletedById": row.deleted_by_id,
    }


def trashed(db: Database, caller: Caller, skip: int, take: int) -> dict[str, Any]:
    """A page of the trashed boards the caller may delete, last trashed first."""
    with db.read() as conn:
        rows, total = trash_repository.page(conn, caller, skip, take)
    return {"items": [_summary(row) for row in rows], "totalCount": total}


def _check_may_delete(conn: sa.Connection, caller: Caller, dashboard_id: str, doing: str) -> None:
    allowed = trash_repository.may_delete(conn, caller, dashboard_id)
    if allowed is None:
        raise NotFound(_NOT_IN_TRASH)
    if not allowed:
        raise Forbidden(f"You may not {doing} this dashboard.")


def undelete(db: Database, caller: Caller, dashboard_id: str) -> Served:
    """The trashed board back where it was, as it was (its id, tag, version, items, labels
    and access): 403 without delete on it, 402 or 403 past the plan's cap, 409 if another
    board took its tag meanwhile."""
    with db.write() as conn:
        _check_may_delete(conn, caller, dashboard_id, "undelete")
        checks.check_can_create(conn, caller)
        rows, document = trash_repository.taken_out(conn, caller.account_id, dashboard_id)
        row = DashboardRecord(**rows["board"], document=document)
        items = [ItemRecord(**item) for item in rows["items"]]
        labels = [LabelRecord(**label) for label in rows["labels"]]
        grants = [GrantRecord(**grant) for grant in rows["grants"]]
        if document is None:  # trashed before it had one (migration 0008)
            document = documents.encode(documents.render(row, items, labels, grants))
        repository.insert_dashboard(conn, {**rows["board"], "document": document})
        for table, children in zip(
            repository.CHILD_TABLES, (rows["items"], rows["labels"], rows["grants"]), strict=True
        ):
            repository.insert_children(conn, table, caller.account_id, dashboard_id, children)
        audit.record_board_event(conn, "undelete", caller.user_id, row)
        return served.after_change(
            conn, caller, (row._replace(document=document), grants, document)
        )


def purge(db: Database, caller: Caller, dashboard_id: str) -> None:
    """A trashed board, and its history, gone for good (needs delete on it)."""
    with db.write() as conn:
        _check_may_delete(conn, caller, dashboard_id, "delete")
        board = trash_repository.purge(conn, caller.account_id, dashboard_id)
        if board is None:  # its row is locked: only a purge between two statements of ours
            raise NotFound(_NOT_IN_TRASH)
        audit.record_board_event(conn, "purge", caller.user_id, board)


def purge_expired(db: Database, keep_days: int, batch: int = 200) -> int:
    """Purge every board trashed more than `keep_days` ago (0: none); how many. Each in a
    transaction of its own: its event holds its account's writes of boards back until it
    commits (audit/repository.py), and one holding several accounts' could deadlock with
    a user's purge or undelete."""
    if not keep_days:
        return 0
    moment, purged = iso_in(-keep_days), 0
    while True:
        with db.read() as conn:
            boards = trash_repository.trashed_before(conn, moment, batch)
        for account_id, dashboard_id in boards:
            with db.write() as conn:
                board = trash_repository.purge(conn, account_id, dashboard_id)
                if board is None:
                    continue  # undeleted since it was found
                audit.record_board_event(
                    conn, "purge", None, board, details={"expiredAfterDays": keep_days}
                )
        purged += len(boards)
        if len(boards) < batch:
            return purged
