"""The SQL of boards' history (tables.dashboard_versions): a version recorded with every
change, the document of the version a change moves past, retention, and the reads of
history. Every statement is scoped by account id first."""

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from insightboards.tables import dashboard_versions, dashboards

_v = dashboard_versions
_INSERT = _v.insert()
# Named apart from the columns, which an UPDATE's parameters may not be.
_THIS_BOARD = sa.and_(
    _v.c.account_id == sa.bindparam("of_account"),
    _v.c.dashboard_id == sa.bindparam("of_board"),
)
_KEEP_DOCUMENT = (
    _v.update()
    .where(_THIS_BOARD, _v.c.version == sa.bindparam("old_version"))
    .values(document=sa.bindparam("old_document"))
)
# A version past the count kept, or older than the days kept (the current one is kept).
_PRUNE = _v.delete().where(
    _THIS_BOARD,
    sa.or_(
        _v.c.version <= sa.bindparam("last_dropped"),
        sa.and_(_v.c.version < sa.bindparam("current"), _v.c.date < sa.bindparam("dropped_before")),
    ),
)


@dataclass(frozen=True)
class Version:
    """A version as its row holds it (document None: the current one, or one not kept)."""

    version: int
    kind: str
    user_id: str | None
    date: str
    fields: list[str]
    document: bytes | None


def record_change(
    conn: sa.Connection,
    account_id: str,
    dashboard_id: str,
    old: Version,
    new: dict[str, Any],
    keep_versions: int,
    dropped_before: str,
) -> None:
    """A change from version `old` (with its document) to `new` (version, kind, user_id,
    date, fields); versions past what is kept dropped. `old` is recorded if it was not."""
    board = {"of_account": account_id, "of_board": dashboard_id}
    columns = {"account_id": account_id, "dashboard_id": dashboard_id}
    kept = conn.execute(
        _KEEP_DOCUMENT, {**board, "old_version": old.version, "old_document": old.document}
    )
    if kept.rowcount == 0:
        conn.execute(_INSERT, {**columns, **dataclasses.asdict(old)})
    conn.execute(_INSERT, {**columns, **new, "document": None})
    conn.execute(
        _PRUNE,
        {
            **board,
            "last_dropped": new["version"] - keep_versions if keep_versions else 0,
            "current": new["version"],
            "dropped_before": dropped_before,
        },
    )


def recorded(
    conn: sa.Connection, account_id: str, dashboard_id: str, skip: int, take: int
) -> tuple[list[Version], int]:
    """A page of the versions recorded for a board, newest first (without documents), and
    how many there are."""
    board = {"of_account": account_id, "of_board": dashboard_id}
    page = conn.execute(
        sa.select(_v.c.version, _v.c.kind, _v.c.user_id, _v.c.date, _v.c.fields)
        .where(_THIS_BOARD)
        .order_by(_v.c.version.desc())
        .offset(skip)
        .limit(take),
        board,
    )
    total = conn.execute(sa.select(sa.func.count()).select_from(_v).where(_THIS_BOARD), board)
    return [Version(*row, document=None) for row in page], int(total.scalar_one())


def recorded_version(
    conn: sa.Connection, account_id: str, dashboard_id: str, number: int
) -> Version | None:
    """One recorded version, with its document if the board has moved past it."""
    row = conn.execute(
        sa.select(
            _v.c.version, _v.c.kind, _v.c.user_id, _v.c.date, _v.c.fields, _v.c.document
        ).where(_THIS_BOARD, _v.c.version == number),
        {"of_account": account_id, "of_board": dashboard_id},
    ).first()
    return None if row is None else Version(*row)


_DROP_ONE = _v.delete().where(_THIS_BOARD, _v.c.version == sa.bindparam("number"))


def drop_old(
    conn: sa.Connection, dropped_before: str, after: tuple[str, str, int], batch: int
) -> tuple[tuple[str, str, int] | None, int]:
    """Of the next `batch` versions after the key `after`, those older than `dropped_before`
    that are not their board's current version: dropped. The last key looked at (None when
    there were none) and how many were dropped."""
    d = dashboards
    key = sa.tuple_(_v.c.account_id, _v.c.dashboard_id, _v.c.version)
    rows = conn.execute(
        sa.select(
            _v.c.account_id,
            _v.c.dashboard_id,
            _v.c.version,
            _v.c.date,
            sa.func.coalesce(d.c.version == _v.c.version, False),
        )
        .outerjoin(d, sa.and_(d.c.account_id == _v.c.account_id, d.c.id == _v.c.dashboard_id))
        .where(key > sa.tuple_(*map(sa.literal, after)))
        .order_by(_v.c.account_id, _v.c.dashboard_id, _v.c.version)
        .limit(batch)
    ).all()
    if not rows:
        return None, 0
    old = [
        {"of_account": account, "of_board": board, "number": number}
        for account, board, number, date, current in rows
        if date < dropped_before and not current
    ]
    if old:
        conn.execute(_DROP_ONE, old)
    account, board, number = rows[-1][:3]
    return (account, board, number), len(old)
