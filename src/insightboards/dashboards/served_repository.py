"""Boards read as callers are served them: one board, a page of them, one read on the event
loop, with their grants and how many users of the account read each (the document's
`usersCount`). Every statement is scoped by account id first."""

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from insightboards import access
from insightboards.dashboards.records import GrantRecord, ServedRecord
from insightboards.loop_reads import LoopReads
from insightboards.prepared import prepare
from insightboards.tables import auth_changes, dashboard_grants, dashboards

_READERS = sa.select(access.readers_expression()).where(
    dashboards.c.account_id == sa.bindparam("account_id"),
    dashboards.c.id == sa.bindparam("id"),
)


def readers_count(conn: sa.Connection, account_id: str, dashboard_id: str) -> int:
    """How many distinct users of the account may read the dashboard (every write answers
    with it: through the driver, prepared.py)."""
    rows = prepare(_READERS, conn.dialect).rows(conn, account_id=account_id, id=dashboard_id)
    return int(rows[0][0])


# Boards as served (records.ServedRecord): one board's, and a page's (served_page).
_SERVED_COLUMNS = (
    *(dashboards.c[name] for name in ServedRecord._fields[:-1]),
    access.readers_expression().label("readers"),
)


_SERVED_ONE = sa.select(*_SERVED_COLUMNS).where(
    dashboards.c.account_id == sa.bindparam("account_id"),
    dashboards.c.id == sa.bindparam("id"),
)


_GRANTS_OF_ONE = (
    sa.select(dashboard_grants)
    .where(
        dashboard_grants.c.account_id == sa.bindparam("account_id"),
        dashboard_grants.c.dashboard_id == sa.bindparam("id"),
    )
    .order_by(dashboard_grants.c.position)
)


def _grants_json(dialect: str) -> sa.ScalarSelect[Any]:
    """A board's grants as a JSON array of [kind, principal, actions, position], in no
    particular order (NULL when none on PostgreSQL), for a statement over `dashboards`."""
    grants = dashboard_grants
    columns = (grants.c.principal_kind, grants.c.principal_id, grants.c.actions, grants.c.position)
    aggregate = (
        sa.func.json_group_array(sa.func.json_array(*columns))
        if dialect == "sqlite"
        else sa.func.json_agg(sa.func.json_build_array(*columns))
    )
    return (
        sa.select(aggregate)
        .where(
            grants.c.account_id == dashboards.c.account_id, grants.c.dashboard_id == dashboards.c.id
        )
        .scalar_subquery()
    )


def _served_page(dialect: str) -> sa.Select[Any]:
    """The boards of a page with their grants, in one statement; the ids come as one
    parameter (a JSON array on SQLite, an array on PostgreSQL), so its SQL never changes."""
    ids: sa.BindParameter[Any] = sa.bindparam("ids")
    listed: sa.ColumnElement[bool]
    if dialect == "sqlite":
        each: sa.Select[Any] = sa.select(sa.column("value")).select_from(sa.func.json_each(ids))
        listed = dashboards.c.id.in_(each)
    else:
        listed = dashboards.c.id == sa.any_(sa.cast(ids, postgresql.ARRAY(sa.String)))
    return sa.select(*_SERVED_COLUMNS, _grants_json(dialect)).where(
        dashboards.c.account_id == sa.bindparam("account_id"), listed
    )


_SERVED_PAGE = {dialect: _served_page(dialect) for dialect in ("sqlite", "postgresql")}


def _grant_records(account_id: str, board_id: str, grants: Any) -> list[GrantRecord]:
    """The grants of _grants_json (JSON text, or parsed by the driver), in their order."""
    if isinstance(grants, (str, bytes)):
        grants = orjson.loads(grants)
    records = [GrantRecord(account_id, board_id, *grant) for grant in grants or ()]
    return sorted(records, key=lambda grant: grant.position)


def served_page(
    conn: sa.Connection, account_id: str, ids: Sequence[str]
) -> list[tuple[ServedRecord, list[GrantRecord]]]:
    """The boards `ids` that exist, in that order, each with its grants."""
    if not ids:
        return []
    prepared = prepare(_SERVED_PAGE[conn.dialect.name], conn.dialect)
    listed = orjson.dumps(list(ids)).decode() if conn.dialect.name == "sqlite" else list(ids)
    by_id = {}
    for found in prepared.rows(conn, account_id=account_id, ids=listed):
        row = ServedRecord._make(found[:-1])
        by_id[row.id] = row, _grant_records(account_id, row.id, found[-1])
    return [by_id[board_id] for board_id in ids if board_id in by_id]


def served_row(conn: sa.Connection, account_id: str, dashboard_id: str) -> ServedRecord | None:
    for row in conn.execute(_SERVED_ONE, {"account_id": account_id, "id": dashboard_id}):
        return ServedRecord._make(row)
    return None


def grants_of(conn: sa.Connection, account_id: str, dashboard_id: str) -> list[GrantRecord]:
    rows = conn.execute(_GRANTS_OF_ONE, {"account_id": account_id, "id": dashboard_id})
    return [GrantRecord._make(row) for row in rows]


def _served_on_loop(dialect: str, *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """One statement, so one state of the database (no transaction needed): the boards
    `where` selects, each with its grants and the auth counter that a cached caller must
    match."""
    return sa.select(
        *_SERVED_COLUMNS,
        sa.select(auth_changes.c.counter).where(auth_changes.c.id == 1).scalar_subquery(),
        _grants_json(dialect),
    ).where(*where)


_SERVED_ON_LOOP = _served_on_loop(
    "sqlite",
    dashboards.c.account_id == sa.bindparam("account_id"),
    dashboards.c.id == sa.bindparam("id"),
)


# The boards `keys` of the account `group`, for the reads gathered on PostgreSQL
# (loop_reads.KeyedReads).
_SERVED_TOGETHER_ON_LOOP = _served_on_loop(
    "postgresql",
    dashboards.c.account_id == sa.bindparam("group"),
    dashboards.c.id == sa.any_(sa.bindparam("keys", type_=postgresql.ARRAY(sa.String))),
)


async def served_on_loop(
    reads: LoopReads, account_id: str, dashboard_id: str
) -> tuple[ServedRecord, int, list[GrantRecord]] | None:
    """The board, the auth counter and the board's grants, read by one statement; None if
    there is no such board."""
    if reads.dialect.name == "postgresql":
        row = await reads.keyed(_SERVED_TOGETHER_ON_LOOP).read(account_id, dashboard_id)
    else:
        rows = await reads.execute(_SERVED_ON_LOOP, {"account_id": account_id, "id": dashboard_id})
        row = rows[0] if rows else None
    if row is None:
        return None
    *board, counter, grants = row
    return ServedRecord._make(board), counter, _grant_records(account_id, dashboard_id, grants)
