"""The SQL of the audit trail (tables.account_events): events recorded, and a page of an
account's events with their count. Every statement is scoped by account id first."""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from insightboards.clock import now_iso
from insightboards.prepared import prepare
from insightboards.tables import AnyRow, account_events

_e = account_events
_COLUMNS = [column for column in _e.c if column.name != "seq"]
# Named apart from the columns; inline: no RETURNING of the new seq (PostgreSQL).
_INSERT = (
    _e.insert()
    .values({c.name: sa.bindparam(f"e_{c.name}", type_=c.type) for c in _COLUMNS})
    .inline()
)


def record(
    conn: sa.Connection,
    account_id: str,
    kind: str,
    user_id: str | None,
    *,
    dashboard_id: str | None = None,
    version: int | None = None,
    details: dict[str, Any] | None = None,
    date: str | None = None,
) -> None:
    """One event, in the transaction of what it records."""
    prepare(_INSERT, conn.dialect).insert(
        conn,
        [
            {
                "e_account_id": account_id,
                "e_date": date or now_iso(),
                "e_user_id": user_id,
                "e_kind": kind,
                "e_dashboard_id": dashboard_id,
                "e_version": version,
                "e_details": details or {},
            }
        ],
    )


@dataclass(frozen=True)
class EventFilter:
    user_id: str | None = None
    dashboard_id: str | None = None
    kind: str | None = None
    since: str | None = None  # date >= since
    until: str | None = None  # date < until


def page(
    conn: sa.Connection, account_id: str, where: EventFilter, skip: int, take: int
) -> tuple[list[AnyRow], int]:
    """A page of the account's events that pass `where`, newest first, and their count."""
    conditions = [_e.c.account_id == account_id]
    for column, value in (
        (_e.c.user_id, where.user_id),
        (_e.c.dashboard_id, where.dashboard_id),
        (_e.c.kind, where.kind),
    ):
        if value is not None:
            conditions.append(column == value)
    if where.since is not None:
        conditions.append(_e.c.date >= where.since)
    if where.until is not None:
        conditions.append(_e.c.date < where.until)
    rows = conn.execute(
        sa.select(_e).where(*conditions).order_by(_e.c.seq.desc()).offset(skip).limit(take)
    ).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(_e).where(*conditions))
    return list(rows), int(total.scalar_one())
