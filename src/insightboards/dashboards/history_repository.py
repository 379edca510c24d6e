"""The SQL of boards' history (tables.dashboard_versions): a version recorded with every
change, the document of the version a change moves past, retention, and the reads of
history. Every statement is scoped by account id first."""

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from insightboards.tables import dashboard_versions, dashboards, trashed_dashboards

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
# A version past the count kept, or older than the days kept: never the current one, nor
# by age the one just replaced (a change after long idle must stay undoable and mergeable).
_PRUNE = _v.delete().where(
    _THIS_BOARD,
    sa.or_(
        _v.c.version <= sa.bindparam("last_dropped"),
        sa.and_(
            _v.c.version < sa.bindparam("previous"), _v.c.date < sa.bindparam("dropped_before")
        ),
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
            "previous": new["version"] - 1,
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


def _kept_by(boards: sa.Table) -> sa.ColumnElement[bool]:
    """The version is its board's current one, or the one just before (`boards`: live or
    trashed boards)."""
    return (
        sa.exists()
        .where(
            boards.c.account_id == _v.c.account_id,
            boards.c.id == _v.c.dashboard_id,
            boards.c.version <= _v.c.version + 1,
        )
        .correlate(_v)
    )


def _expired(dropped_before: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        _v.c.date < dropped_before,
        sa.not_(_kept_by(dashboards)),
        sa.not_(_kept_by(trashed_dashboards)),
    )


def expired(
    conn: sa.Connection, dropped_before: str, after: tuple[str, str, int], batch: int
) -> list[tuple[str, str, int]]:
    """The keys of up to `batch` versions after the key `after`, in key order, older than
    `dropped_before` and neither their board's current one nor the one before it."""
    key = sa.tuple_(_v.c.account_id, _v.c.dashboard_id, _v.c.version)
    rows = conn.execute(
        sa.select(_v.c.account_id, _v.c.dashboard_id, _v.c.version)
        .where(key > sa.tuple_(*map(sa.literal, after)), _expired(dropped_before))
        .order_by(_v.c.account_id, _v.c.dashboard_id, _v.c.version)
        .limit(batch)
    )
    return [(account_id, board_id, number) for account_id, board_id, number in rows]


def drop_expired(conn: sa.Connection, dropped_before: str, keys: list[tuple[str, str, int]]) -> int:
    """Drop the versions `keys` that are still expired; how many."""
    if not keys:
        return 0
    statement = _v.delete().where(
        _THIS_BOARD, _v.c.version == sa.bindparam("number"), _expired(dropped_before)
    )
    result = conn.execute(
        statement, [{"of_account": a, "of_board": b, "number": n} for a, b, n in keys]
    )
    return max(result.rowcount, 0)
