"""Lists of boards: a filter, sort and page turned into a few statements.

The page's ids come from an index (or a walk of one, list_repository.list_page), the total from
the cheapest exact count (see _count_less_unread), the boards from their stored
documents (dashboards.served).
"""

import dataclasses
import functools
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from insightboards import access
from insightboards.access import Caller
from insightboards.dashboards import list_repository, served
from insightboards.dashboards.limits import DEFAULT_LIMITS, Limits
from insightboards.dashboards.schemas import ListQuery
from insightboards.database import Database, QueryTimeout, RegexRefused
from insightboards.errors import BadRequest
from insightboards.prepared import Prepared
from insightboards.query import list_query
from insightboards.query.fields import QueryContext
from insightboards.query.projection import Projection
from insightboards.tables import dashboards

DEFAULT_TAKE = 100
# From this many boards in the account, a filtered list counts its matches beside the page
# (Database.read_aside). Handing the count to another thread costs ~0.5 ms, more than the
# count itself in small accounts (SQLite, label filter over HTTP, p50: +1.1 ms at 1k boards,
# +1.5 ms at 10k where the bounded walk also gave up, -4.5 ms at 100k).
COUNT_ASIDE_FROM = 20_000
# A filter counts its matches whoever reads them (from an index alone where it can: a label,
# a name prefix, an owner) less those the caller may not read, when the boards that do not
# inherit the account's defaults, each tested, are at most this many per match; otherwise
# it tests each match against the read rule (_count_less_unread).
UNINHERITED_PER_MATCH = 1.0


@dataclass(frozen=True)
class _FilterStatements:
    """The statements of a filter (or none) compiled for one caller: its conditions, and
    what counting its matches needs."""

    # Whether there is a filter: without one, the boards are all those the caller may read.
    filtered: bool
    read_rule: sa.ColumnElement[bool]
    # The filter and the read rule.
    where: list[sa.ColumnElement[bool]]
    # The same boards, tested board by board (SQLite, a sort an index holds; see
    # list_repository.Walk); None when the walk cannot help.
    walk_where: list[sa.ColumnElement[bool]] | None
    # How many boards match whoever reads them, and how many of those the caller may not
    # read (see _count_less_unread).
    count_less_unread: Prepared | None
    # For a filter that only names a label (fields.names_one_label): that condition over
    # label rows, whose index holds a page in the order of dateCreated; else None.
    named_label: sa.ColumnElement[bool] | None = None
    # The page statements of each sort asked for (pages): `where`'s, and the walk's.
    _pages: dict[str | None, tuple[list_repository.PageQuery, list_repository.PageQuery | None]] = (
        dataclasses.field(default_factory=dict, compare=False)
    )

    def pages(
        self, sort: str | None, order: list[sa.ColumnElement[Any]]
    ) -> tuple[list_repository.PageQuery, list_repository.PageQuery | None]:
        """The page statements for `sort` (whose ORDER BY terms are `order`)."""
        found = self._pages.get(sort)
        if found is None:
            walk = self.walk_where
            by_age = _by_date_created(order)
            if self.named_label is not None and by_age is not None:
                found = (
                    list_repository.label_page_query(self.named_label, self.read_rule, by_age),
                    None,
                )
            else:
                found = (
                    list_repository.PageQuery(self.where, order),
                    None if walk is None else list_repository.PageQuery(walk, order),
                )
            self._pages[sort] = found
        return found


def _by_date_created(order: list[sa.ColumnElement[Any]]) -> bool | None:
    """For a sort by dateCreated alone, whether it is descending; else None."""
    key = list_query.one_sort_key(order)
    return key[1] if key is not None and key[0] is dashboards.c.date_created else None


# The statements of a compiled filter for its caller; list_query caches the compiled filters.
@functools.lru_cache(maxsize=1024)
def _statements(
    compiled: list_query.CompiledFilter | None,
    caller: Caller,
    dialect: sa.Dialect,
    walks_sort_index: bool,
) -> _FilterStatements:
    read_rule = access.caller_predicate(caller, "read")
    if compiled is None:
        return _FilterStatements(
            filtered=False,
            read_rule=read_rule,
            where=[read_rule],
            walk_where=None,
            count_less_unread=None,
        )
    walk = dialect.name == "sqlite" and walks_sort_index
    account_id = caller.account_id
    matches = (
        list_repository.count_of(account_id, compiled.condition)
        if compiled.label_rows is None
        # A filter that only asks for one kind of label: the boards with one.
        else list_repository.labelled_count(
            account_id, compiled.label_rows, compiled.names_one_label
        )
    )
    count_less_unread = list_repository.count_less_unread_query(
        account_id, matches, compiled.per_board, access.caller_read_count(caller)
    )
    return _FilterStatements(
        filtered=True,
        read_rule=read_rule,
        # The filter first: SQLite tests the terms in their order, and the read rule lets
        # most boards through where the filter stops most (a $regex count at 10k boards:
        # 1.8 -> 0.9 ms).
        where=[compiled.condition, read_rule],
        walk_where=[compiled.per_board, read_rule] if walk else None,
        count_less_unread=Prepared(count_less_unread, dialect),
        named_label=compiled.label_rows if compiled.names_one_label else None,
    )


def list_page(
    db: Database, caller: Caller, query: ListQuery, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """A page of the boards the caller may read, as the JSON body of the answer."""
    plan = _plan(db, caller, query)
    counted_aside = functools.partial(db.read_aside, time_limit_ms=limits.list_time_limit_ms)

    def read_page() -> bytes:
        with db.read(time_limit_ms=limits.list_time_limit_ms) as conn:
            return _page(conn, caller, plan, counted_aside)

    try:
        try:
            return read_page()
        except sa.exc.DBAPIError as error:
            # A connection the server closed (a restart, pg_terminate_backend): the pool
            # is renewed, and the list, which changes nothing, is read again.
            if not error.connection_invalidated:
                raise
            return read_page()
    except QueryTimeout:
        raise BadRequest(
            f"The query took longer than {limits.list_time_limit_ms} ms; narrow the filter."
        ) from None
    except RegexRefused as refused:
        # The translation is valid PostgreSQL; its engine may still find it too large.
        raise BadRequest(f"filter: PostgreSQL cannot evaluate this $regex: {refused}") from None


# A list the event loop answers itself (list_page_on_loop) works at most this long (CPU
# time, its Python work in the transaction included), and has a page of at most this many
# boards: meanwhile no other request is served. A list sent to a thread instead is far
# slower under load (it waits for the loop's GIL at every row), so the budget leaves room
# for a first run on cold pages: at 5 ms, the first lists of 10 of a wrk run's 30 labels
# (10k boards) went over it, and the run served half as many (~230 req/s, not 420-470).
LOOP_BUDGET_MS = 20
LOOP_TAKE = 100
# Queries (account, filter, sort) that went over the budget run on the threads: the next
# _RETRY_FIRST of them, then a try on the loop again, as the first run may have found the
# file's pages cold; each further miss doubles the wait, up to _RETRY_MOST, so a query that
# is slow costs the loop one budget in at least _RETRY_FIRST runs of it.
_RETRY_FIRST = 16
_RETRY_MOST = 1024
_OVER_BUDGET_KEPT = 1024


@dataclass
class _Backoff:
    runs_left: int  # on the threads, before the next try on the loop
    wait: int  # the runs it was set to wait at its last miss


_OVER_BUDGET: "OrderedDict[tuple[str, str | None, str | None], _Backoff]" = OrderedDict()


def list_page_on_loop(db: Database, caller: Caller, query: ListQuery) -> bytes | None:
    """list_page, answered on the calling thread (the event loop) when the list is small and
    quick: None, having done at most LOOP_BUDGET_MS of work, when it is not, or when the
    database cannot be read from the loop; list_page on a thread answers it then.

    A list of a SQLite file does its work between two GIL releases per row; on a thread it
    takes the GIL back from the loop hundreds of times, each a futex wake-up (wrk, 32
    clients, label lists of 50 at 10k boards: 333 req/s on 4 threads, 475 on the loop)."""
    if isinstance(query.filter, dict):  # from a body: not a fast path's
        return None
    take = query.take if query.take is not None else DEFAULT_TAKE
    if take > LOOP_TAKE:
        return None
    key = (caller.account_id, query.filter, query.sort)
    backoff = _OVER_BUDGET.get(key)
    if backoff is not None and backoff.runs_left > 0:
        backoff.runs_left -= 1
        return None
    plan = _plan(db, caller, query)
    reading = db.read_on_loop(LOOP_BUDGET_MS)
    if reading is None:
        return None
    try:
        with reading as conn:
            body = _page(conn, caller, plan, read_aside=None)
    except QueryTimeout:
        wait = _RETRY_FIRST if backoff is None else min(backoff.wait * 2, _RETRY_MOST)
        _OVER_BUDGET[key] = _Backoff(runs_left=wait, wait=wait)
        _OVER_BUDGET.move_to_end(key)
        if len(_OVER_BUDGET) > _OVER_BUDGET_KEPT:
            _OVER_BUDGET.popitem(last=False)
        return None
    if backoff is not None:
        del _OVER_BUDGET[key]
    return body


@dataclass(frozen=True)
class _Plan:
    """A list query, parsed and compiled for its caller."""

    statements: _FilterStatements
    page: list_repository.PageQuery
    walk_page: list_repository.PageQuery | None
    skip: int
    take: int
    projection: Projection | None


def _plan(db: Database, caller: Caller, query: ListQuery) -> _Plan:
    """BadRequest for a filter, sort or fields that is not valid."""
    compiled = list_query.compile_list_query(
        query.filter, query.sort, query.fields, QueryContext(caller, db.dialect)
    )
    statements = _statements(compiled.filter, caller, db.engine.dialect, compiled.walks_sort_index)
    page, walk_page = statements.pages(query.sort or None, compiled.order)
    return _Plan(
        statements=statements,
        page=page,
        walk_page=walk_page,
        skip=query.skip or 0,
        take=query.take if query.take is not None else DEFAULT_TAKE,
        projection=compiled.projection,
    )


# Database.read_aside, with the list's time limit; None to count on the list's connection.
ReadAside = Callable[[Callable[[sa.Connection], int]], "Future[int] | None"]


def _page(conn: sa.Connection, caller: Caller, plan: _Plan, read_aside: ReadAside | None) -> bytes:
    statements = plan.statements
    counting: Future[int] | None = None
    board_count = 0
    total: int | None
    if not statements.filtered:
        total = list_repository.count_readable(
            conn, caller.account_id, access.caller_read_count(caller)
        )
    else:
        board_count, inheriting = list_repository.account_counts(conn, caller.account_id)
        uninherited = board_count - inheriting
        total = (
            _count_less_unread(conn, statements, uninherited)
            # Matches are at most the boards: they cannot outnumber these.
            if uninherited <= board_count * UNINHERITED_PER_MATCH
            else None
        )
        if total is None:
            count = functools.partial(
                list_repository.count_matching, account_id=caller.account_id, where=statements.where
            )
            # This count visits every match; in a large account it runs beside the page, on
            # another core.
            if board_count >= COUNT_ASIDE_FROM and read_aside is not None:
                counting = read_aside(count)
            total = count(conn) if counting is None else None
    page_ids: list[str] = []
    if total is None or plan.skip < total:
        walk = plan.walk_page
        page_ids = list_repository.list_page(
            conn,
            caller.account_id,
            plan.page,
            skip=plan.skip,
            take=plan.take,
            walk=None if walk is None else list_repository.Walk(walk, board_count, total),
        )
    page = served.page(conn, caller, page_ids, plan.projection)
    if counting is not None:
        total = counting.result()
    assert total is not None
    return b'{"items":[%s],"count":%d,"totalCount":%d}' % (b",".join(page), len(page), total)


def _count_less_unread(
    conn: sa.Connection, statements: _FilterStatements, uninherited: int
) -> int | None:
    """The matches of a filter, counted as the boards that match whoever reads them (from
    the filter's index alone where it has one, without visiting the boards) less those the
    caller may not read: few to look for in most accounts, as most boards inherit the
    account's defaults (access.ReadCount). None when the boards that do not inherit
    outnumber the matches: testing each match is then cheaper."""
    assert statements.count_less_unread is not None
    (counts,) = statements.count_less_unread.rows(
        conn, uninherited=float(uninherited), ratio=UNINHERITED_PER_MATCH
    )
    matches, unread = counts[0], counts[1]
    return None if unread is None else int(matches - unread)
