"""All SQL about dashboards, their items, labels and grants.

Every statement is scoped by account id first. Children of a page of dashboards are loaded
with one query per child table, never one query per dashboard.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql import operators

from insightboards.access import READ, ReadCount, allowed_predicate
from insightboards.dashboards.records import DashboardRecord, GrantRecord, ItemRecord, LabelRecord
from insightboards.tables import (
    AnyRow,
    dashboard_counts,
    dashboard_grants,
    dashboard_items,
    dashboard_labels,
    dashboards,
    users,
)

Row = AnyRow
Child = TypeVar("Child", ItemRecord, LabelRecord, GrantRecord)


def insert_dashboard(conn: sa.Connection, values: dict[str, Any]) -> None:
    conn.execute(dashboards.insert().values(**values))


def get(
    conn: sa.Connection, account_id: str, dashboard_id: str, for_update: bool = False
) -> DashboardRecord | None:
    """One dashboard; `for_update` locks its row (PostgreSQL) until the transaction ends."""
    query = sa.select(dashboards).where(
        dashboards.c.account_id == account_id, dashboards.c.id == dashboard_id
    )
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else DashboardRecord._make(row)


def get_by_tag(conn: sa.Connection, account_id: str, tag: str) -> DashboardRecord | None:
    row = conn.execute(
        sa.select(dashboards).where(dashboards.c.account_id == account_id, dashboards.c.tag == tag)
    ).first()
    return None if row is None else DashboardRecord._make(row)


def tag_taken(conn: sa.Connection, account_id: str, tag: str, except_id: str | None = None) -> bool:
    query = sa.select(dashboards.c.id).where(
        dashboards.c.account_id == account_id, dashboards.c.tag == tag
    )
    if except_id is not None:
        query = query.where(dashboards.c.id != except_id)
    return conn.execute(query.limit(1)).first() is not None


def count_owned(conn: sa.Connection, account_id: str) -> int:
    """Dashboards that count against a plan's cap: all but the built-in reports."""
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(dashboards)
        .where(dashboards.c.account_id == account_id, sa.not_(dashboards.c.is_report))
    ).scalar_one()


def update(
    conn: sa.Connection,
    account_id: str,
    dashboard_id: str,
    values: dict[str, Any],
    expected_version: int | None = None,
) -> bool:
    """Apply `values` and bump the version; False if the row (at that version) is gone."""
    statement = dashboards.update().where(
        dashboards.c.account_id == account_id, dashboards.c.id == dashboard_id
    )
    if expected_version is not None:
        statement = statement.where(dashboards.c.version == expected_version)
    result = conn.execute(statement.values(version=dashboards.c.version + 1, **values))
    return result.rowcount > 0


def delete(
    conn: sa.Connection, account_id: str, dashboard_id: str, expected_version: int | None = None
) -> bool:
    statement = dashboards.delete().where(
        dashboards.c.account_id == account_id, dashboards.c.id == dashboard_id
    )
    if expected_version is not None:
        statement = statement.where(dashboards.c.version == expected_version)
    return conn.execute(statement).rowcount > 0


def _replace_children(
    conn: sa.Connection,
    table: sa.Table,
    account_id: str,
    dashboard_id: str,
    rows: list[dict[str, Any]],
) -> None:
    conn.execute(
        table.delete().where(table.c.account_id == account_id, table.c.dashboard_id == dashboard_id)
    )
    if rows:
        conn.execute(
            table.insert(),
            [{"account_id": account_id, "dashboard_id": dashboard_id, **row} for row in rows],
        )


def replace_items(
    conn: sa.Connection, account_id: str, dashboard_id: str, rows: list[dict[str, Any]]
) -> None:
    _replace_children(conn, dashboard_items, account_id, dashboard_id, rows)


def replace_labels(
    conn: sa.Connection, account_id: str, dashboard_id: str, rows: list[dict[str, Any]]
) -> None:
    _replace_children(conn, dashboard_labels, account_id, dashboard_id, rows)


def replace_grants(
    conn: sa.Connection, account_id: str, dashboard_id: str, rows: list[dict[str, Any]]
) -> None:
    _replace_children(conn, dashboard_grants, account_id, dashboard_id, rows)


def get_item(
    conn: sa.Connection, account_id: str, dashboard_id: str, item_id: str
) -> ItemRecord | None:
    row = conn.execute(
        sa.select(dashboard_items).where(
            dashboard_items.c.account_id == account_id,
            dashboard_items.c.dashboard_id == dashboard_id,
            dashboard_items.c.id == item_id,
        )
    ).first()
    return None if row is None else ItemRecord._make(row)


def next_item_position(conn: sa.Connection, account_id: str, dashboard_id: str) -> int:
    highest = conn.execute(
        sa.select(sa.func.max(dashboard_items.c.position)).where(
            dashboard_items.c.account_id == account_id,
            dashboard_items.c.dashboard_id == dashboard_id,
        )
    ).scalar_one()
    return 0 if highest is None else highest + 1


def upsert_item(
    conn: sa.Connection, account_id: str, dashboard_id: str, values: dict[str, Any]
) -> None:
    conn.execute(
        dashboard_items.delete().where(
            dashboard_items.c.account_id == account_id,
            dashboard_items.c.dashboard_id == dashboard_id,
            dashboard_items.c.id == values["id"],
        )
    )
    conn.execute(
        dashboard_items.insert().values(account_id=account_id, dashboard_id=dashboard_id, **values)
    )


def _of_boards(table: sa.Table) -> sa.Select[Any]:
    """Rows of `table` for the boards `ids` of an account, in each board's order. Built once
    per table (SQLAlchemy then computes the statement's cache key once)."""
    return (
        sa.select(table)
        .where(
            table.c.account_id == sa.bindparam("account_id"),
            table.c.dashboard_id.in_(sa.bindparam("ids", expanding=True)),
        )
        .order_by(table.c.dashboard_id, table.c.position)
    )


_CHILDREN = {
    table.name: _of_boards(table) for table in (dashboard_items, dashboard_labels, dashboard_grants)
}


def _children_by_dashboard(
    conn: sa.Connection, table: sa.Table, record: type[Child], account_id: str, ids: Sequence[str]
) -> defaultdict[str, list[Child]]:
    grouped: defaultdict[str, list[Child]] = defaultdict(list)
    if not ids:
        return grouped
    for row in conn.execute(_CHILDREN[table.name], {"account_id": account_id, "ids": list(ids)}):
        child = record._make(row)
        grouped[child.dashboard_id].append(child)
    return grouped


def load_items(
    conn: sa.Connection, account_id: str, ids: Sequence[str]
) -> defaultdict[str, list[ItemRecord]]:
    return _children_by_dashboard(conn, dashboard_items, ItemRecord, account_id, ids)


def load_labels(
    conn: sa.Connection, account_id: str, ids: Sequence[str]
) -> defaultdict[str, list[LabelRecord]]:
    return _children_by_dashboard(conn, dashboard_labels, LabelRecord, account_id, ids)


def load_grants(
    conn: sa.Connection, account_id: str, ids: Sequence[str]
) -> defaultdict[str, list[GrantRecord]]:
    return _children_by_dashboard(conn, dashboard_grants, GrantRecord, account_id, ids)


def _readers_expression() -> sa.ColumnElement[int]:
    """How many distinct users of the board's account may read the board (a row of
    `dashboards`). Built once: the expression does not depend on the caller."""
    readers = users.alias("readers")
    may_read = allowed_predicate(
        "read", account_id=readers.c.account_id, user_id=readers.c.id, role=readers.c.role
    )
    count = (
        sa.select(sa.func.count())
        .select_from(readers)
        .where(readers.c.account_id == dashboards.c.account_id, may_read)
        .scalar_subquery()
    )
    everyone = (
        sa.select(sa.func.count())
        .select_from(users)
        .where(users.c.account_id == dashboards.c.account_id)
        .scalar_subquery()
    )
    # The common case needs no per-user test: on a board that inherits the account's
    # defaults, and whose owner is not denied reading, every user of the account reads.
    everyone_reads = sa.and_(dashboards.c.inherits, dashboards.c.owner_deny.op("&")(READ) == 0)
    return sa.case((everyone_reads, everyone), else_=count)


_READERS = sa.select(dashboards.c.id, _readers_expression().label("readers")).where(
    dashboards.c.account_id == sa.bindparam("account_id"),
    dashboards.c.id.in_(sa.bindparam("ids", expanding=True)),
)


def readers_count(conn: sa.Connection, account_id: str, ids: Sequence[str]) -> dict[str, int]:
    """For each dashboard, how many distinct users of the account may read it."""
    if not ids:
        return {}
    rows = conn.execute(_READERS, {"account_id": account_id, "ids": list(ids)})
    return {row.id: row.readers for row in rows}


_BOARDS_BY_ID = sa.select(dashboards).where(
    dashboards.c.account_id == sa.bindparam("account_id"),
    dashboards.c.id.in_(sa.bindparam("ids", expanding=True)),
)


def list_page(
    conn: sa.Connection,
    account_id: str,
    where: Iterable[sa.ColumnElement[bool]],
    order_by: Sequence[sa.ColumnElement[Any]],
    skip: int,
    take: int,
    scan_where: Iterable[sa.ColumnElement[bool]] | None = None,
    read_count: ReadCount | None = None,
) -> tuple[list[DashboardRecord], int]:
    """One page of dashboards matching `where`, and how many match in all.

    `scan_where` is the same filter with its label, item and grant conditions tested board
    by board (SQLite), given when an index holds the sort's order. Walking that index stops
    after the page, where `where` would visit every match from the child table's index and
    sort them all; the count, taken first, tells which of the two visits fewer boards.
    `read_count`, for an unfiltered list, counts the same boards as `where` faster.
    """
    conditions = [dashboards.c.account_id == account_id, *where]
    if read_count is not None:
        total = count_readable(conn, account_id, read_count)
    else:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(dashboards).where(*conditions)
        ).scalar_one()
    if skip >= total or take == 0:
        return [], total
    if scan_where is not None and walk_is_shorter(conn, skip + take, total):
        conditions = [dashboards.c.account_id == account_id, *scan_where]
    page = sa.select(dashboards.c.id).where(*conditions)
    page = page.order_by(*order_by, _tie_breaker(order_by)).offset(skip).limit(take)
    # The page's ids first, which the indexes answer without reading rows.
    page_ids = list(conn.execute(page).scalars())
    rows = conn.execute(_BOARDS_BY_ID, {"account_id": account_id, "ids": page_ids})
    by_id = {row.id: row for row in map(DashboardRecord._make, rows)}
    return [by_id[dashboard_id] for dashboard_id in page_ids], total


def count_readable(conn: sa.Connection, account_id: str, rule: ReadCount) -> int:
    """How many dashboards of the account the caller may read (see access.ReadCount)."""

    def count(condition: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
        return (
            sa.select(sa.func.count())
            .select_from(dashboards)
            .where(dashboards.c.account_id == account_id, condition)
            .scalar_subquery()
        )

    inheriting = sa.func.coalesce(
        sa.select(dashboard_counts.c.inheriting)
        .where(dashboard_counts.c.account_id == account_id)
        .scalar_subquery(),
        0,
    )
    total = inheriting - count(rule.denied) + count(rule.other)
    return int(conn.execute(sa.select(total)).scalar_one())


def walk_is_shorter(conn: sa.Connection, wanted: int, matches: int) -> bool:
    """Whether walking the sort index to the `wanted`-th of `matches` boards visits fewer
    boards than the `matches` themselves. With matches spread evenly, the walk visits
    wanted * boards / matches; `boards` is the table's size (all accounts: an over-estimate,
    which errs towards the visit whose cost is bounded by the matches)."""
    boards = _estimated_table_size(conn)
    return boards is not None and wanted * boards < matches * matches


def _estimated_table_size(conn: sa.Connection) -> int | None:
    """Rows of `dashboards` by SQLite's last ANALYZE (Database.refresh_statistics)."""
    try:
        stat = conn.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1"
            " WHERE tbl = 'dashboards' AND idx = 'ix_dashboards_read_rule'"
        ).scalar()
    except sa.exc.OperationalError:  # no ANALYZE yet: no sqlite_stat1 table
        return None
    return int(stat.split()[0]) if stat else None


def _tie_breaker(order_by: Sequence[sa.ColumnElement[Any]]) -> sa.ColumnElement[Any]:
    """Ties are broken by id, in the direction of the last sort key: every index ends in id,
    so the index then yields the rows already in order."""
    last = order_by[-1] if order_by else None
    if isinstance(last, sa.UnaryExpression) and last.modifier is operators.desc_op:
        return dashboards.c.id.desc()
    return dashboards.c.id.asc()


def reports(conn: sa.Connection, account_id: str, readable: sa.ColumnElement[bool]) -> list[Row]:
    return list(
        conn.execute(
            sa.select(dashboards.c.id, dashboards.c.name)
            .where(dashboards.c.account_id == account_id, dashboards.c.is_report, readable)
            .order_by(dashboards.c.id)
        )
    )


def tag_usages(conn: sa.Connection, account_id: str, readable: sa.ColumnElement[bool]) -> list[Row]:
    """(label name, label title, dashboard id) for every label on a readable dashboard."""
    labels = dashboard_labels
    query = (
        sa.select(labels.c.name, labels.c.title, labels.c.dashboard_id)
        .select_from(
            labels.join(
                dashboards,
                sa.and_(
                    dashboards.c.account_id == labels.c.account_id,
                    dashboards.c.id == labels.c.dashboard_id,
                ),
            )
        )
        .where(labels.c.account_id == account_id, readable)
        .order_by(labels.c.name, labels.c.dashboard_id, labels.c.position)
    )
    return list(conn.execute(query))
