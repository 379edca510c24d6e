"""The SQL of the audit trail (tables.account_events): events recorded (a board's with its
read rule, and the grants of the version it makes: tables.version_grants), and a page of an
account's events with their count. Every statement is scoped by account id first."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from insightboards.clock import now_iso
from insightboards.prepared import prepare
from insightboards.tables import (
    AnyRow,
    account_event_counters,
    account_events,
    version_grants,
)

_e = account_events
_n = account_event_counters
_VALUES = {
    c.name: sa.bindparam(f"e_{c.name}", type_=c.type)
    for c in _e.c
    if c.name not in ("seq", "account_seq")
}


# Written into the SQL: the driver takes only the statement's named parameters.
_ZERO, _ONE = sa.literal_column("0", sa.BigInteger), sa.literal_column("1", sa.BigInteger)


# PostgreSQL: the account's next number, its counter's row locked until the transaction
# ends (or made, for its first event), and the event, in one statement (a data-modifying
# WITH).
_NUMBERED = (
    postgresql.insert(_n)
    .values(account_id=sa.bindparam("e_account_id"), last_seq=_ONE)
    .on_conflict_do_update(
        index_elements=[_n.c.account_id], set_={"last_seq": _n.c.last_seq + _ONE}
    )
    .returning(_n.c.last_seq)
    .cte("numbered")
)
_POSTGRES_INSERT = (
    _e.insert()
    .add_cte(_NUMBERED)
    .from_select([*_VALUES, "account_seq"], sa.select(*_VALUES.values(), _NUMBERED.c.last_seq))
)
# SQLite writes one transaction at a time: the account's highest number plus one, in the
# insert itself (a statement more cost a create 5 %: each one lets go of the GIL and waits
# for it back). Inline: no RETURNING of the new seq.
_HIGHEST = (
    sa.select(sa.func.coalesce(sa.func.max(_e.c.account_seq), _ZERO) + _ONE)
    .where(_e.c.account_id == sa.bindparam("e_account_id"))
    .scalar_subquery()
)
_SQLITE_INSERT = _e.insert().values({**_VALUES, "account_seq": _HIGHEST}).inline()
_GRANT_INSERT = version_grants.insert()


def _insert_event(conn: sa.Connection, values: dict[str, Any]) -> None:
    statement = _POSTGRES_INSERT if conn.dialect.name == "postgresql" else _SQLITE_INSERT
    prepare(statement, conn.dialect).insert(conn, [values])


class BoardAtEvent(Protocol):
    """A board as an event records it: which, at which version, and its read rule (a row
    of `dashboards`, or of the trash)."""

    @property
    def account_id(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def created_by_id(self) -> str: ...
    @property
    def inherits(self) -> bool: ...
    @property
    def owner_grant(self) -> int: ...
    @property
    def owner_deny(self) -> int: ...
    @property
    def is_report(self) -> bool: ...


class GrantAtEvent(Protocol):
    """A grant of a board (a row of `dashboard_grants`)."""

    @property
    def principal_kind(self) -> str: ...
    @property
    def principal_id(self) -> str: ...
    @property
    def actions(self) -> int: ...


def _event(
    account_id: str,
    kind: str,
    user_id: str | None,
    details: dict[str, Any] | None,
    date: str | None,
) -> dict[str, Any]:
    """An event's parameters but for its board and the board's read rule."""
    return {
        "e_account_id": account_id,
        "e_date": date or now_iso(),
        "e_user_id": user_id,
        "e_kind": kind,
        "e_details": details or {},
    }


_NO_BOARD = dict.fromkeys(
    [
        "e_dashboard_id",
        "e_version",
        "e_created_by_id",
        "e_inherits",
        "e_owner_grant",
        "e_owner_deny",
        "e_is_report",
    ]
)


def record(
    conn: sa.Connection,
    account_id: str,
    kind: str,
    user_id: str | None,
    *,
    details: dict[str, Any] | None = None,
    date: str | None = None,
) -> None:
    """One event of the account (not of a board), in the transaction of what it records."""
    _insert_event(conn, {**_event(account_id, kind, user_id, details, date), **_NO_BOARD})


def record_board_event(
    conn: sa.Connection,
    kind: str,
    user_id: str | None,
    board: BoardAtEvent,
    *,
    new_grants: Sequence[GrantAtEvent] | None = None,
    details: dict[str, Any] | None = None,
    date: str | None = None,
) -> None:
    """One event of a board, with its read rule as it stands (the change feed's), in the
    transaction of what it records. `new_grants`: the grants of a version the event
    makes (an event of a version made before, such as a delete, has its grants)."""
    _insert_event(
        conn,
        {
            **_event(board.account_id, f"dashboard.{kind}", user_id, details, date),
            "e_dashboard_id": board.id,
            "e_version": board.version,
            "e_created_by_id": board.created_by_id,
            "e_inherits": board.inherits,
            "e_owner_grant": board.owner_grant,
            "e_owner_deny": board.owner_deny,
            "e_is_report": board.is_report,
        },
    )
    if new_grants:
        prepare(_GRANT_INSERT, conn.dialect).insert(
            conn,
            [
                {
                    "account_id": board.account_id,
                    "dashboard_id": board.id,
                    "version": board.version,
                    "principal_kind": grant.principal_kind,
                    "principal_id": grant.principal_id,
                    "actions": grant.actions,
                }
                for grant in new_grants
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
        sa.select(_e).where(*conditions).order_by(_e.c.account_seq.desc()).offset(skip).limit(take)
    ).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(_e).where(*conditions))
    return list(rows), int(total.scalar_one())
