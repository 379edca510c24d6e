"""The audit trail as an account's admins read it: what happened, by whom, when, to which
board; filtered and paged. Nothing else of the account's users may read it."""

from typing import Any

from insightboards.access import Caller
from insightboards.audit import repository
from insightboards.audit.repository import EventFilter
from insightboards.database import Database
from insightboards.errors import Forbidden


def events(
    db: Database, caller: Caller, where: EventFilter, skip: int, take: int
) -> dict[str, Any]:
    """A page of the caller's account's events, newest first (403 unless an admin)."""
    if caller.role != "admin":
        raise Forbidden("Only the account's admins may read its audit trail.")
    with db.read() as conn:
        rows, total = repository.page(conn, caller.account_id, where, skip, take)
    items = [
        {
            "id": row.account_seq,
            "date": row.date,
            "userId": row.user_id,
            "kind": row.kind,
            "dashboardId": row.dashboard_id,
            "version": row.version,
            "details": row.details,
        }
        for row in rows
    ]
    return {"items": items, "totalCount": total}
