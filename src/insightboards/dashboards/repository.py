"""The SQL that writes boards, their items, labels and grants, and reads them to change
them (served_repository.py reads boards as callers are served them, list_repository.py
the pages and counts of lists).

Every statement is scoped by account id first. Children of a page of dashboards are loaded
with one query per child table, never one query per dashboard.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from insightboards.dashboards.list_repository import LABELS_OF_BOARDS
from insightboards.dashboards.records import (
    DashboardRecord,
    GrantRecord,
    ItemRecord,
    LabelRecord,
)
from insightboards.errors import Conflict
from insightboards.prepared import prepare
from insightboards.tables import (
    AnyRow,
    dashboard_grants,
    dashboard_items,
    dashboard_labels,
    dashboards,
)

Row = AnyRow
CHILD_TABLES = (dashboard_items, dashboard_labels, dashboard_grants)
Child = TypeVar("Child", ItemRecord, LabelRecord, GrantRecord)
Record = TypeVar("Record", DashboardRecord, ItemRecord)


def _first(conn: sa.Connection, query: sa.Select[Any], record: type[Record]) -> Record | None:
    """The first row of `query` (a select of a whole table) as `record`, or None."""
    row = conn.execute(query).first()
    return None if row is None else record._make(row)


# Built once, so that SQLAlchemy finds their compiled form in its cache instead of building
# and keying a new statement for every write.
_INSERT = {table.name: table.insert() for table in (dashboards, *CHILD_TABLES)}
_DELETE_CHILDREN = {
    table.name: table.delete().where(
        table.c.account_id == sa.bindparam("account_id"),
        table.c.dashboard_id == sa.bindparam("dashboard_id"),
    )
    for table in CHILD_TABLES
}


class TagTaken(Conflict):
    """Another board of the account has the tag (checked first, or the unique index found it
    taken by a concurrent write)."""

    def __init__(self, tag: str | None) -> None:
        super().__init__(f"A dashboard with tag '{tag}' already exists.")


def _insert(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    prepare(_INSERT[table.name], conn.dialect).insert(conn, rows)


def insert_dashboard(conn: sa.Connection, values: dict[str, Any]) -> None:
    try:
        _insert(conn, dashboards, [values])
    except sa.exc.IntegrityError:
        raise TagTaken(values["tag"]) from None


def get(
    conn: sa.Connection,
    account_id: str,
    dashboard_id: str,
    for_update: bool = False,
    for_share: bool = False,
) -> DashboardRecord | None:
    """One dashboard; `for_update` locks its row (PostgreSQL) until the transaction ends,
    `for_share` only against those who lock it for update (its writers)."""
    query = sa.select(dashboards).where(
        dashboards.c.account_id == account_id, dashboards.c.id == dashboard_id
    )
    if for_update or for_share:
        query = query.with_for_update(read=not for_update)
    return _first(conn, query, DashboardRecord)


_BOARDS = sa.select(dashboards).where(
    dashboards.c.account_id == sa.bindparam("account_id"),
    dashboards.c.id.in_(sa.bindparam("ids", expanding=True)),
)


def get_many(conn: sa.Connection, account_id: str, ids: Sequence[str]) -> list[DashboardRecord]:
    """The dashboards `ids` that exist, in no particular order."""
    if not ids:
        return []
    rows = conn.execute(_BOARDS, {"account_id": account_id, "ids": list(ids)})
    return [DashboardRecord._make(row) for row in rows]


def get_by_tag(conn: sa.Connection, account_id: str, tag: str) -> DashboardRecord | None:
    query = sa.select(dashboards).where(
        dashboards.c.account_id == account_id, dashboards.c.tag == tag
    )
    return _first(conn, query, DashboardRecord)


# Statements of every create, built once (see _INSERT).
_TAG_TAKEN = (
    sa.select(dashboards.c.id)
    .where(
        dashboards.c.account_id == sa.bindparam("account_id"),
        dashboards.c.tag == sa.bindparam("tag"),
        dashboards.c.id != sa.bindparam("except_id"),
    )
    .limit(1)
)
_COUNT_OWNED = (
    sa.select(sa.func.count())
    .select_from(dashboards)
    .where(dashboards.c.account_id == sa.bindparam("account_id"), sa.not_(dashboards.c.is_report))
)


def tag_taken(conn: sa.Connection, account_id: str, tag: str, except_id: str | None = None) -> bool:
    rows = prepare(_TAG_TAKEN, conn.dialect).rows(
        conn, account_id=account_id, tag=tag, except_id=except_id or ""
    )
    return bool(rows)


def count_owned(conn: sa.Connection, account_id: str) -> int:
    """Dashboards that count against a plan's cap: all but the built-in reports."""
    return conn.execute(_COUNT_OWNED, {"account_id": account_id}).scalar_one()


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
    try:
        result = conn.execute(statement.values(version=dashboards.c.version + 1, **values))
    except sa.exc.IntegrityError:
        raise TagTaken(values.get("tag")) from None
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
        _DELETE_CHILDREN[table.name], {"account_id": account_id, "dashboard_id": dashboard_id}
    )
    insert_children(conn, table, account_id, dashboard_id, rows)


def insert_children(
    conn: sa.Connection,
    table: sa.Table,
    account_id: str,
    dashboard_id: str,
    rows: list[dict[str, Any]],
) -> None:
    """Rows of a child table (items, labels, grants) for a board that has none of them."""
    if rows:
        _insert(
            conn,
            table,
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
    query = sa.select(dashboard_items).where(
        dashboard_items.c.account_id == account_id,
        dashboard_items.c.dashboard_id == dashboard_id,
        dashboard_items.c.id == item_id,
    )
    return _first(conn, query, ItemRecord)


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


_CHILDREN = {table.name: _of_boards(table) for table in CHILD_TABLES}


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


def store_document(conn: sa.Connection, account_id: str, dashboard_id: str, stored: bytes) -> None:
    conn.execute(
        dashboards.update()
        .where(dashboards.c.account_id == account_id, dashboards.c.id == dashboard_id)
        .values(document=stored)
    )


def without_document(
    conn: sa.Connection, after: tuple[str, str], limit: int
) -> list[tuple[str, str]]:
    """(account id, board id) of up to `limit` boards past `after` that have no document."""
    key = sa.tuple_(dashboards.c.account_id, dashboards.c.id)
    query = (
        sa.select(dashboards.c.account_id, dashboards.c.id)
        .where(key > sa.tuple_(*map(sa.literal, after)), dashboards.c.document.is_(None))
        .order_by(dashboards.c.account_id, dashboards.c.id)
        .limit(limit)
    )
    return [(account_id, board_id) for account_id, board_id in conn.execute(query)]


def reports(conn: sa.Connection, account_id: str, readable: sa.ColumnElement[bool]) -> list[Row]:
    return list(
        conn.execute(
            sa.select(dashboards.c.id, dashboards.c.name)
            .where(dashboards.c.account_id == account_id, dashboards.c.is_report, readable)
            .order_by(dashboards.c.id)
        )
    )


def tag_usages(
    conn: sa.Connection, account_id: str, readable: sa.ColumnElement[bool]
) -> list[tuple[str, str | None, str]]:
    """(label name, label title, dashboard id) for every label on a readable dashboard, by
    name, then board, then the label's place on the board: the label index's own order."""
    # Plain tuples: an account's usages can be 100,000s of rows.
    query = tag_usages_query(account_id, readable)
    return [(name, title, board) for name, title, board in conn.execute(query)]


def tag_usages_query(
    account_id: str, readable: sa.ColumnElement[bool]
) -> sa.Select[str, str | None, str]:
    labels = dashboard_labels
    return (
        sa.select(labels.c.name, labels.c.title, labels.c.dashboard_id)
        .select_from(LABELS_OF_BOARDS)
        .where(labels.c.account_id == account_id, readable)
        .order_by(labels.c.name, labels.c.board_created, labels.c.dashboard_id, labels.c.position)
    )
