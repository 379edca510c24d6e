"""The SQL of lists: a page's ids, from an index or by walking one, and the counts a list
answers with (kept per account by triggers, or visiting the matches). Every statement is
scoped by account id first."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators

from insightboards.access import ReadCount
from insightboards.prepared import Prepared, prepare
from insightboards.tables import dashboard_counts, dashboard_labels, dashboards


class PageQuery:
    """The ids of a page of the boards matching `where`, in the order of `order_by` (ties
    broken by id), with the account, skip and take as parameters: compiled once per
    dialect, however many pages it answers. Building and compiling the statement, or
    SQLAlchemy's cache-key walk over the read rule, cost more than SQLite's answer."""

    def __init__(
        self,
        where: Sequence[sa.ColumnElement[bool]],
        order_by: Sequence[sa.ColumnElement[Any]],
        statement: sa.Select[tuple[str]] | None = None,
    ) -> None:
        self.where = where
        self.order_by = order_by
        # Placeholder values, given at each execution: compiling a filter's IN lists
        # (render_postcompile) takes every parameter's value.
        self._statement = (
            statement
            if statement is not None
            else (
                sa.select(dashboards.c.id)
                .where(dashboards.c.account_id == sa.bindparam("account_id", ""), *where)
                .order_by(*order_by, _tie_breaker(order_by))
                .offset(sa.bindparam("skip", 0, type_=sa.Integer))
                .limit(sa.bindparam("take", 0, type_=sa.Integer))
            )
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


def count_of(account_id: str, *conditions: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
    """How many boards of the account meet `conditions`, as a scalar subquery (with no read
    rule among them: from the conditions' index alone where they have one)."""
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
    total = inheriting - count_of(account_id, rule.denied) + count_of(account_id, rule.other)
    return int(conn.execute(sa.select(total)).scalar_one())


# Each label row with its board's row (for the read rule).
LABELS_OF_BOARDS = dashboard_labels.join(
    dashboards,
    sa.and_(
        dashboards.c.account_id == dashboard_labels.c.account_id,
        dashboards.c.id == dashboard_labels.c.dashboard_id,
    ),
)


def labelled_count(
    account_id: str, labelled: sa.ColumnElement[bool], names_one_label: bool
) -> sa.ScalarSelect[int]:
    """How many boards have a label meeting `labelled`, from the label index alone: its
    entries not `repeated` when `labelled` is a label name alone (each such board is one of
    them), else the distinct boards of its entries."""
    labels = dashboard_labels
    if names_one_label:
        count = sa.select(sa.func.count()).where(labels.c.repeated == sa.false())
    else:
        count = sa.select(sa.func.count(sa.distinct(labels.c.dashboard_id)))
    return count.where(labels.c.account_id == account_id, labelled).scalar_subquery()


def label_page_query(
    named: sa.ColumnElement[bool], read_rule: sa.ColumnElement[bool], descending: bool
) -> "PageQuery":
    """The ids of a page of the boards with a label named `named` (fields.names_one_label),
    in the order of their dateCreated (ties broken by id): the label index's own order, so
    the page is its first skip + take entries that the caller may read."""
    labels = dashboard_labels
    order = [labels.c.board_created, labels.c.dashboard_id]
    statement = (
        sa.select(labels.c.dashboard_id)
        .select_from(LABELS_OF_BOARDS)
        .where(
            labels.c.account_id == sa.bindparam("account_id", ""),
            named,
            labels.c.repeated == sa.false(),
            read_rule,
        )
        .order_by(*(key.desc() if descending else key.asc() for key in order))
        .offset(sa.bindparam("skip", 0, type_=sa.Integer))
        .limit(sa.bindparam("take", 0, type_=sa.Integer))
    )
    return PageQuery([named, read_rule], [], statement=statement)


def count_less_unread_query(
    account_id: str,
    matches: sa.ScalarSelect[int],
    matching: sa.ColumnElement[bool],
    rule: ReadCount,
) -> sa.Select[Any]:
    """One row: `matches`, how many boards match a filter whoever reads them, and, when the
    parameter `uninherited` is at most that many times the parameter `ratio`, how many of
    the boards `matching` the caller may not read (else NULL, and not counted). One
    statement, so one snapshot on PostgreSQL too.

    The boards the caller may not read are those they own and denied themselves reading,
    and those not inheriting the account's defaults that neither ownership nor a grant
    opens to them: two ranges of ix_dashboards_inherits, the first within the caller's own
    boards, the second all the boards that do not inherit."""
    counted = sa.select(matches.label("boards")).subquery()
    worth_it = sa.bindparam("uninherited", 0.0, type_=sa.Float) <= (
        counted.c.boards * sa.bindparam("ratio", 1.0, type_=sa.Float)
    )
    unread = count_of(account_id, rule.denied, matching) + count_of(
        account_id, rule.unread_uninherited, matching
    )
    return sa.select(counted.c.boards, sa.case((worth_it, unread), else_=sa.null()))


def _tie_breaker(order_by: Sequence[sa.ColumnElement[Any]]) -> sa.ColumnElement[Any]:
    """Ties are broken by id, in the direction of the last sort key: every index ends in id,
    so the index then yields the rows already in order."""
    last = order_by[-1] if order_by else None
    if isinstance(last, sa.UnaryExpression) and last.modifier is operators.desc_op:
        return dashboards.c.id.desc()
    return dashboards.c.id.asc()
