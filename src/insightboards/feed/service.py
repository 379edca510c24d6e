"""The change feed as a caller reads it: the changes after a cursor that the caller could
read when they happened, and the cursor to go on from."""

from dataclasses import dataclass
from typing import Any

from insightboards.access import Caller
from insightboards.database import Database
from insightboards.feed import repository


@dataclass(frozen=True)
class Changes:
    items: list[dict[str, Any]]
    # Where to go on from: the last change answered, or the cursor asked with.
    cursor: int
    # The account's newest event when they were read (a stream waits for one after it).
    newest: int


def changes_after(db: Database, caller: Caller, cursor: int, take: int) -> Changes:
    """Up to `take` changes after `cursor`, oldest first."""
    with db.read() as conn:
        # Before the changes: an event committed between the two is read again next time,
        # never passed over (feed/watcher.py wakes a stream for any event after `newest`).
        newest = repository.last_event(conn, caller.account_id)
        rows = repository.changes_after(conn, caller, cursor, take)
    items = [as_change(row) for row in rows]
    return Changes(items, rows[-1].seq if rows else cursor, newest)


def current_cursor(db: Database, caller: Caller) -> int:
    """The cursor of the account's newest event: what follows it is news."""
    with db.read() as conn:
        return repository.last_event(conn, caller.account_id)


def as_change(row: Any) -> dict[str, Any]:
    """An event as the feed answers it."""
    return {
        "id": str(row.seq),
        "dashboardId": row.dashboard_id,
        "version": row.version,
        "kind": row.kind.removeprefix("dashboard."),
        "userId": row.user_id,
        "date": row.date,
        "changedFields": row.details.get("changedFields", []),
    }
