"""The SQL of the trash (tables.trashed_dashboards): a board moved in with its rows, the
page of what a caller may delete, one trashed board, and purges. Every statement is scoped
by account id first, but the purge of boards trashed long enough, which spans accounts."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from insightboards import access
from insightboards.access import Caller
from insightboards.dashboards.records import DashboardRecord, GrantRecord, ItemRecord, LabelRecord
from insightboards.tables import (
    AnyRow,
    dashboard_versions,
    trashed_dashboard_grants,
    trashed_dashboards,
)

_t = trashed_dashboards
_g = trashed_dashboard_grants
# What a trash page shows of each board.
SUMMARY = (
    _t.c.id,
    _t.c.name,
    _t.c.tag,
    _t.c.is_report,
    _t.c.created_by_id,
    _t.c.version,
    _t.c.date_deleted,
    _t.c.deleted_by_id,
)


def move_in(
    conn: sa.Connection,
    row: DashboardRecord,
    items: Sequence[ItemRecord],
    labels: Sequence[LabelRecord],
    grants: Sequence[GrantRecord],
    deleted_by_id: str,
    when: str,
) -> None:
    """Keep a board that is being deleted, with its rows as they are."""
    board = row._asdict()
    document = board.pop("document")
    rows = {
        "board": board,
        "items": [item._asdict() for item in items],
        "labels": [label._asdict() for label in labels],
        "grants": [grant._asdict() for grant in grants],
    }
    conn.execute(
        _t.insert(),
        {
            "account_id": row.account_id,
            "id": row.id,
            "tag": row.tag,
            "name": row.name,
            "is_report": row.is_report,
            "created_by_id": row.created_by_id,
            "inherits": row.inherits,
            "owner_grant": row.owner_grant,
            "owner_deny": row.owner_deny,
            "version": row.version,
            "date_deleted": when,
            "deleted_by_id": deleted_by_id,
            "document": document,
            "rows": rows,
        },
    )
    if grants:
        conn.execute(_g.insert(), [grant._asdict() for grant in grants])


def _may_delete(caller: Caller) -> sa.ColumnElement[bool]:
    return access.caller_predicate_on(caller, "delete", _t, _g)


def page(conn: sa.Connection, caller: Caller, skip: int, take: int) -> tuple[list[AnyRow], int]:
    """The trashed boards of the caller's account that the caller may delete (as their
    access was when trashed), last trashed first, and how many there are."""
    mine = sa.and_(_t.c.account_id == caller.account_id, _may_delete(caller))
    rows = conn.execute(
        sa.select(*SUMMARY)
        .where(mine)
        .order_by(_t.c.date_deleted.desc(), _t.c.id.desc())
        .offset(skip)
        .limit(take)
    ).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(_t).where(mine)).scalar_one()
    return list(rows), int(total)


def may_delete(conn: sa.Connection, caller: Caller, dashboard_id: str) -> bool | None:
    """Whether the caller may delete (undelete, purge) the trashed board; None if the
    account's trash holds no such board. Its row is locked (PostgreSQL) until the
    transaction ends."""
    found = conn.execute(
        sa.select(_may_delete(caller))
        .where(_t.c.account_id == caller.account_id, _t.c.id == dashboard_id)
        .with_for_update(of=_t)
    ).first()
    return None if found is None else bool(found[0])


def taken_out(
    conn: sa.Connection, account_id: str, dashboard_id: str
) -> tuple[dict[str, Any], bytes | None]:
    """A trashed board's rows and document, out of the trash."""
    rows, document = conn.execute(
        sa.select(_t.c.rows, _t.c.document).where(
            _t.c.account_id == account_id, _t.c.id == dashboard_id
        )
    ).one()
    _remove(conn, account_id, dashboard_id)
    return rows, document


def _remove(conn: sa.Connection, account_id: str, dashboard_id: str) -> bool:
    """Whether the trash held the board (it no longer does)."""
    # Its grants explicitly: PostgreSQL would cascade, SQLite too, but only where the
    # connection enforces foreign keys.
    conn.execute(
        _g.delete().where(_g.c.account_id == account_id, _g.c.dashboard_id == dashboard_id)
    )
    removed = conn.execute(
        _t.delete().where(_t.c.account_id == account_id, _t.c.id == dashboard_id)
    )
    return removed.rowcount > 0


_RULE = (
    _t.c.account_id,
    _t.c.id,
    _t.c.version,
    _t.c.created_by_id,
    _t.c.inherits,
    _t.c.owner_grant,
    _t.c.owner_deny,
    _t.c.is_report,
)


def purge(conn: sa.Connection, account_id: str, dashboard_id: str) -> AnyRow | None:
    """A trashed board gone for good, its history with it: its id, version and read rule
    as it was (audit.BoardAtEvent); None if the trash no longer held it (undeleted
    meanwhile: its history is the live board's again)."""
    board = conn.execute(
        sa.select(*_RULE).where(_t.c.account_id == account_id, _t.c.id == dashboard_id)
    ).first()
    if board is None or not _remove(conn, account_id, dashboard_id):
        return None
    v = dashboard_versions
    conn.execute(v.delete().where(v.c.account_id == account_id, v.c.dashboard_id == dashboard_id))
    return board


def trashed_before(conn: sa.Connection, moment: str, limit: int) -> list[tuple[str, str]]:
    """(account id, board id) of up to `limit` boards trashed before `moment`."""
    query = sa.select(_t.c.account_id, _t.c.id).where(_t.c.date_deleted < moment).limit(limit)
    return [(account_id, board_id) for account_id, board_id in conn.execute(query)]
