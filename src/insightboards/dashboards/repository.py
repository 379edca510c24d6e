"""All SQL about dashboards, their items, labels and grants.

Every statement is scoped by account id first. Children of a page of dashboards are loaded
with one query per child table, never one query per dashboard.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import operators

from insightboards.access import READ, ReadCount, allowed_predicate
from insightboards.dashboards.records import (
    DashboardRecord,
    GrantRecord,
    ItemRecord,
    LabelRecord,
    ServedRecord,
)
from insightboards.errors import Conflict
from insightboards.loop_reads import LoopReads
from insightboards.prepared import Prepared, prepare
from insightboards.tables import (
    AnyRow,
    auth_changes,
    dashboard_counts,
    dashboard_grants,
    dashboard_items,
    dashboard_labels,
    dashboards,
    users,
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


_READERS = sa.select(_readers_expression()).where(
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
    _readers_expression().label("readers"),
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


class PageQuery:
    """The ids of a page of the boards matching `where`, in the order of `order_by` (ties
    broken by id), with the account, skip and take as parameters: compiled once per
    dialect, however many pages it answers. Building and compiling the statement, or
    SQLAlchemy's cache-key walk over the read rule, cost more than SQLite's answer."""

    def __init__(
        self, where: Sequence[sa.ColumnElement[bool]], order_by: Sequence[sa.ColumnElement[Any]]
    ) -> None:
        self.where = where
        self.order_by = order_by
        # Placeholder values, given at each execution: compiling a filter's IN lists
        # (render_postcompile) takes every parameter's value.
        self._statement = (
            sa.select(dashboards.c.id)
            .where(dashboards.c.account_id == sa.bindparam("account_id", ""), *where)
            .order_by(*order_by, _tie_breaker(order_by))
            .offset(sa.bindparam("skip", 0, type_=sa.Integer))
            .limit(sa.bindparam("take", 0, type_=sa.Integer))
        )
        self._prepared: dict[str, Prepared] = {}

    def ids(self, conn: sa.Connection, account_id: str, skip: int, take: int) -> list[str]:
        prepared = self._prepared.get(conn.dialect.name)
        if prepared is None:
            prepared = self._prepared[conn.dialect.name] = Prepared(self._statement, conn.dialect)
        return [
            board_id
            for (board_id,) in prepared.rows(conn, account_id=account_id, skip=skip, take=take)
        ]


@dataclass(frozen=True)
class Walk:
    """A filter's label, item and grant conditions tested board by board (SQLite), for a
    sort whose order an index holds: walking that index can stop after the page, where the
    filter's own form starts from the child table's index and visits, and sorts, every
    match. Which visits fewer boards depends on how many match: `matches` when counted
    already, None when the count runs beside the page (the walk then bounds itself)."""

    page: PageQuery
    board_count: int
    matches: int | None


def list_page(
    conn: sa.Connection,
    account_id: str,
    page: PageQuery,
    skip: int,
    take: int,
    walk: Walk | None = None,
) -> list[str]:
    """The ids of one page of the dashboards of `page` (or of `walk.page`, the same
    boards)."""
    if take == 0 or (walk is not None and skip >= walk.board_count):
        return []
    if walk is not None:
        if walk.matches is None:
            walked = walk_page_ids(
                conn, account_id, walk.page.where, walk.page.order_by, skip, take, walk.board_count
            )
            if walked is not None:
                return walked
        # With matches spread evenly, the walk visits (skip + take) * board_count / matches.
        elif (skip + take) * walk.board_count < walk.matches * walk.matches:
            page = walk.page
    # The indexes answer the page's ids without reading rows.
    return page.ids(conn, account_id, skip, take)


def walk_page_ids(
    conn: sa.Connection,
    account_id: str,
    where: Iterable[sa.ColumnElement[bool]],
    order_by: Sequence[sa.ColumnElement[Any]],
    skip: int,
    take: int,
    board_count: int,
) -> list[str] | None:
    """The page's ids, from walking the account's boards in the sort's order (one key with
    an index of its own) and testing each against `where`, for at most
    sqrt((skip + take) * board_count) boards; None when the page is not within them.

    With matches spread evenly, the walk reaches the page after (skip + take) *
    board_count / matches boards, while starting from the matches visits all of them: the
    walk is the shorter exactly when it ends within that bound. A walk cut short found the
    matches to be fewer than the bound, so it and the visit of the matches that follows cost
    at most twice the shorter of the two. No count is needed to choose, so the count can run
    beside.
    """
    visits = math.isqrt((skip + take) * board_count) + 1
    tie_breaker = _tie_breaker(order_by)
    order = [*order_by, tie_breaker]
    keys = [term.element for term in order if isinstance(term, sa.UnaryExpression)]
    assert len(keys) == len(order), order
    # The last board the walk may visit: the index finds it without testing any board.
    last = conn.execute(
        sa.select(*keys)
        .where(dashboards.c.account_id == account_id)
        .order_by(*order)
        .offset(visits - 1)
        .limit(1)
    ).first()
    bounded = list(where)
    if last is not None:
        if tie_breaker.modifier is operators.desc_op:
            bounded.append(sa.tuple_(*keys) >= sa.tuple_(*last))
        else:
            bounded.append(sa.tuple_(*keys) <= sa.tuple_(*last))
    page_ids = list(
        conn.execute(page_query(account_id, bounded, order_by, skip, take)).scalars().all()
    )
    return page_ids if len(page_ids) == take or last is None else None


def page_query(
    account_id: str,
    where: Iterable[sa.ColumnElement[bool]],
    order_by: Sequence[sa.ColumnElement[Any]],
    skip: int,
    take: int,
) -> sa.Select[str]:
    """The ids of a page of the boards matching `where`, ties broken by id."""
    return (
        sa.select(dashboards.c.id)
        .where(dashboards.c.account_id == account_id, *where)
        .order_by(*order_by, _tie_breaker(order_by))
        .offset(skip)
        .limit(take)
    )


def boards_held(conn: sa.Connection) -> int:
    """Boards of every account, from the counts the triggers keep (one row per account)."""
    total = sa.select(sa.func.coalesce(sa.func.sum(dashboard_counts.c.boards), 0))
    return int(conn.execute(total).scalar_one())


_ACCOUNT_COUNTS = sa.select(dashboard_counts.c.boards, dashboard_counts.c.inheriting).where(
    dashboard_counts.c.account_id == sa.bindparam("account_id")
)


def account_counts(conn: sa.Connection, account_id: str) -> tuple[int, int]:
    """How many dashboards the account has, and how many of them inherit the account's
    defaults (kept by triggers, see tables.dashboard_counts)."""
    for boards, inheriting in prepare(_ACCOUNT_COUNTS, conn.dialect).rows(
        conn, account_id=account_id
    ):
        return boards, inheriting
    return 0, 0


def _count_of(account_id: str, *conditions: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
    """How many boards of the account meet `conditions`, as a scalar subquery."""
    return (
        sa.select(sa.func.count())
        .select_from(dashboards)
        .where(dashboards.c.account_id == account_id, *conditions)
        .scalar_subquery()
    )


def count_matching(
    conn: sa.Connection, account_id: str, where: Iterable[sa.ColumnElement[bool]]
) -> int:
    query = sa.select(sa.func.count()).select_from(dashboards)
    return int(
        conn.execute(query.where(dashboards.c.account_id == account_id, *where)).scalar_one()
    )


def count_readable(conn: sa.Connection, account_id: str, rule: ReadCount) -> int:
    """How many dashboards of the account the caller may read (see access.ReadCount)."""
    inheriting = sa.func.coalesce(
        sa.select(dashboard_counts.c.inheriting)
        .where(dashboard_counts.c.account_id == account_id)
        .scalar_subquery(),
        0,
    )
    total = inheriting - _count_of(account_id, rule.denied) + _count_of(account_id, rule.other)
    return int(conn.execute(sa.select(total)).scalar_one())


def label_count_query(
    account_id: str,
    labelled: sa.ColumnElement[bool],
    matching: sa.ColumnElement[bool],
    rule: ReadCount,
) -> sa.Select[Any]:
    """One row: how many boards have a label meeting `labelled` (over rows of
    dashboard_labels, from the label index alone), and, when the parameter `uninherited`
    is at most that many times the parameter `ratio`, how many of the boards `matching`
    the caller may not read (else NULL, and not counted). One statement, so one snapshot
    on PostgreSQL too.

    The boards the caller may not read are those they own and denied themselves reading,
    and those not inheriting the account's defaults that neither ownership nor a grant
    opens to them: two ranges of ix_dashboards_inherits, the first within the caller's own
    boards, the second all the boards that do not inherit."""
    labels = dashboard_labels
    with_label = (
        sa.select(sa.func.count(sa.distinct(labels.c.dashboard_id)).label("boards"))
        .where(labels.c.account_id == account_id, labelled)
        .subquery()
    )
    worth_it = sa.bindparam("uninherited", 0.0, type_=sa.Float) <= (
        with_label.c.boards * sa.bindparam("ratio", 1.0, type_=sa.Float)
    )
    unread = _count_of(account_id, rule.denied, matching) + _count_of(
        account_id, rule.unread_uninherited, matching
    )
    return sa.select(with_label.c.boards, sa.case((worth_it, unread), else_=sa.null()))


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
