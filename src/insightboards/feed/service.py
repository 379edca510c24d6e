"""The change feed as a caller reads it: the changes after a cursor that the caller could
read when they happened, and the cursor to go on from."""

from dataclasses import dataclass
from typing import Any

from insightboards.access import Caller
from insightboards.database import Database
from insightboards.feed import repository

# A read of changes that works longer than this is cancelled (and the stream ends; its
# client resumes from its last event).
TIME_LIMIT_MS = 5000


@dataclass(frozen=True)
class Changes:
    items: list[dict[str, Any]]
    # Where to go on from: past every change read, and when fewer than were asked for came,
    # past the account's newest board change too, readable or not (a cursor left behind the
    # changes a caller may not read would have every later read pass over them again).
    cursor: int
    # The account's newest board change when they were read (a stream waits for one after).
    newest: int


def changes_after(db: Database, caller: Caller, cursor: int, take: int) -> Changes:
    """Up to `take` changes after `cursor`, oldest first."""
    with db.read(TIME_LIMIT_MS) as conn:
        # Before the changes: one that commits between the two statements (PostgreSQL) is
        # read now and moves the cursor past `newest`; none can commit later below it, as
        # an account's events commit in the order of their numbers (tables.py).
        newest = repository.last_board_event(conn, caller.account_id)
        rows = repository.changes_after(conn, caller, cursor, take)
    items = [as_change(row) for row in rows]
    last = rows[-1].account_seq if rows else cursor
    return Changes(items, last if len(rows) == take else max(last, newest), newest)


def current_cursor(db: Database, caller: Caller) -> int:
    """The cursor of the account's newest board change: what follows it is news."""
    with db.read() as conn:
        return repository.last_board_event(conn, caller.account_id)


def as_change(row: Any) -> dict[str, Any]:
    """An event as the feed answers it."""
    return {
        "id": str(row.account_seq),
        "dashboardId": row.dashboard_id,
        "version": row.version,
        "kind": row.kind.removeprefix("dashboard."),
        "userId": row.user_id,
        "date": row.date,
        "changedFields": row.details.get("changedFields", []),
    }
