"""Lists of boards: a filter, sort and page turned into a few statements.

The page's ids come from an index (or a walk of one, repository.list_page), the total from
the cheapest count that is exact (see _count_matches), the boards from their stored
documents (dashboards.served).
"""

import dataclasses
import functools
import re
from typing import Any

import sqlalchemy as sa

from insightboards import access
from insightboards.access import Caller
from insightboards.dashboards import repository, served
from insightboards.dashboards.limits import DEFAULT_LIMITS, Limits
from insightboards.dashboards.schemas import ListQuery
from insightboards.database import Database, QueryTimeout, RegexRefused
from insightboards.errors import BadRequest
from insightboards.query import projection as projection_module
from insightboards.query import relaxed_json
from insightboards.query.fields import INDEXED_SORT_KEYS, SORT_PATTERN, SORTABLE, QueryContext
from insightboards.query.filter import compile_filter, starts_from_child_table

DEFAULT_TAKE = 100
# From this many boards in the account, a filtered list counts its matches beside the page
# (Database.read_aside). Handing the count to another thread costs ~0.5 ms, more than the
# count itself in small accounts (SQLite, label filter over HTTP, p50: +1.1 ms at 1k boards,
# +1.5 ms at 10k where the bounded walk also gave up, -4.5 ms at 100k).
COUNT_ASIDE_FROM = 20_000


def order_by(sort: str | None, context: QueryContext) -> list[sa.ColumnElement[Any]]:
    """`-dateCreated,name` as ORDER BY terms; the grammar is SORT_PATTERN (in the OpenAPI)."""
    if not sort:
        return []
    order: list[sa.ColumnElement[Any]] = []
    for part in sort.split(","):
        key = part.strip(" ")
        name = key[1:] if key[:1] in ("+", "-") else key
        spec = SORTABLE.get(name)
        if spec is None:
            raise BadRequest(f"Cannot sort by '{name}'; sortable: {', '.join(sorted(SORTABLE))}.")
        expression = spec.expression(context)
        order.append(expression.desc() if key.startswith("-") else expression.asc())
    if not re.fullmatch(SORT_PATTERN, sort):
        raise BadRequest("sort: expected field names separated by commas, each with + or -")
    return order


def _parse_filter(raw: dict[str, Any] | str | None) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    document = relaxed_json.parse(raw) if isinstance(raw, str) else raw
    if not isinstance(document, dict):
        raise BadRequest("filter: must be an object")
    return document


def check_query(db: Database, caller: Caller, query: ListQuery) -> None:
    """BadRequest unless the filter, sort and fields of `query` are valid."""
    context = QueryContext(caller, db.dialect)
    document = _parse_filter(query.filter)
    if document:
        compile_filter(document, context)
    order_by(query.sort, context)
    if query.fields:
        projection_module.parse_fields(query.fields)


def list_page(
    db: Database, caller: Caller, query: ListQuery, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """A page of the boards the caller may read, as the JSON body of the answer."""
    context = QueryContext(caller, db.dialect)
    read_rule = access.caller_predicate(caller, "read")
    conditions = [read_rule]
    walk_conditions: list[sa.ColumnElement[bool]] | None = None
    document = _parse_filter(query.filter)
    if document:
        conditions.append(compile_filter(document, context))
        if (
            db.dialect == "sqlite"
            and starts_from_child_table(document)
            and _sorted_by_index(query.sort)
        ):
            walking = dataclasses.replace(context, child_rows_drive=False)
            walk_conditions = [read_rule, compile_filter(document, walking)]
    skip = query.skip or 0
    take = query.take if query.take is not None else DEFAULT_TAKE
    projection = projection_module.parse_fields(query.fields) if query.fields else None
    count = functools.partial(
        _count_matches,
        account_id=caller.account_id,
        where=conditions,
        read_count=None if document else access.caller_read_count(caller),
    )
    try:
        with db.read(time_limit_ms=limits.list_time_limit_ms) as conn:
            boards = repository.account_size(conn, caller.account_id) if document else 0
            # A filter's count visits every match; in a large account it runs beside the
            # page, on another core.
            counting = (
                db.read_aside(count, limits.list_time_limit_ms)
                if document and boards >= COUNT_ASIDE_FROM
                else None
            )
            total = None if counting is not None else count(conn)
            page_ids: list[str] = []
            if total is None or skip < total:
                page_ids = repository.list_page(
                    conn,
                    caller.account_id,
                    where=conditions,
                    order_by=order_by(query.sort, context),
                    skip=skip,
                    take=take,
                    walk=None
                    if walk_conditions is None
                    else repository.Walk(walk_conditions, boards, total),
                )
            page = served.page(conn, caller, page_ids, projection)
        if counting is not None:
            total = counting.result()
    except QueryTimeout:
        raise BadRequest(
            f"The query took longer than {limits.list_time_limit_ms} ms; narrow the filter."
        ) from None
    except RegexRefused as refused:
        # The translation is valid PostgreSQL; its engine may still find it too large.
        raise BadRequest(f"filter: PostgreSQL cannot evaluate this $regex: {refused}") from None
    assert total is not None
    return b'{"items":[%s],"count":%d,"totalCount":%d}' % (b",".join(page), len(page), total)


def _count_matches(
    conn: sa.Connection,
    account_id: str,
    where: list[sa.ColumnElement[bool]],
    read_count: access.ReadCount | None,
) -> int:
    """How many boards match `where`; `read_count`, for an unfiltered list, counts the same
    boards faster."""
    if read_count is not None:
        return repository.count_readable(conn, account_id, read_count)
    return repository.count_matching(conn, account_id, where)


def _sorted_by_index(sort: str | None) -> bool:
    """No sort (id order) or one key with an index of its own."""
    keys = [key.strip(" ").lstrip("+-") for key in (sort or "id").split(",")]
    return len(keys) == 1 and keys[0] in INDEXED_SORT_KEYS
