"""The common filters use an index, shown by the databases' own EXPLAIN."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from insightboards import access, provisioning
from insightboards.access import Caller
from insightboards.accounts import service as accounts
from insightboards.dashboards import creating, list_repository, listing, repository, service
from insightboards.dashboards.schemas import (
    CloneRequest,
    DashboardCreate,
    DashboardUpdate,
    ListQuery,
)
from insightboards.database import Database, upgrade_schema
from insightboards.query import list_query
from insightboards.query.fields import QueryContext
from insightboards.query.filter import compile_filter
from insightboards.tables import dashboard_counts, dashboards
from tests.e2e.harness import fresh_database

# filter -> (the index that must serve it, what SQLite's plan shows it searching by)
COMMON_FILTERS: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "Board 7"}, "ix_dashboards_name", "name=?"),
    ({"name": {"$regex": "^Board 1"}}, "ix_dashboards_name", "name>? AND name<?"),
    ({"tag": "t7"}, "uq_dashboards_account_id_tag", "tag=?"),
    ({"archived": True}, "ix_dashboards_archived", "archived=?"),
    ({"archived": False, "isReport": True}, "ix_dashboards_archived", "archived=? AND is_report=?"),
    ({"createdById": "OWNER"}, "ix_dashboards_created_by_id", "created_by_id=?"),
    ({"dateCreated": {"$gte": "2100-01-01"}}, "ix_dashboards_date_created", "date_created>?"),
    ({"dateUpdated": {"$lt": "2000-01-01"}}, "ix_dashboards_date_updated", "date_updated<?"),
    ({"tags.name": "okr"}, "ix_dashboard_labels_name", "name=?"),
    ({"insights.insightId": "i3"}, "ix_dashboard_items_insight", "insight_id=?"),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    directory = Path(tmp_path_factory.mktemp("explain"))
    with fresh_database(request.param, directory) as url:
        yield from _world(url)


def _world(url: str) -> Iterator[dict[str, Any]]:
    upgrade_schema(url)
    database = Database(url)
    account = provisioning.create_account(database, "Explain")
    owner = accounts.create_user(database, account, "o@e.example", None, "admin")
    caller = Caller(account, owner, "admin")
    for n in range(300):
        body = {
            "name": f"Board {n}",
            "tag": f"t{n}",
            "archived": n % 7 == 0,
            "tags": [{"name": ["okr", "kpi", "x"][n % 3]}],
            "insights": [{"insightId": f"i{n % 50}"}],
        }
        creating.create(database, caller, DashboardCreate.model_validate(body))
    database.refresh_statistics()
    yield {"db": database, "caller": caller}
    database.dispose()


def _plan(database: Database, caller: Caller, document: dict[str, Any]) -> str:
    condition = compile_filter(document, QueryContext(caller, database.dialect))
    query = sa.select(dashboards.c.id).where(
        dashboards.c.account_id == caller.account_id,
        access.caller_predicate(caller, "read"),
        condition,
    )
    compiled = query.compile(
        dialect=database.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    with database.read() as conn:
        if database.dialect == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            return "\n".join(str(row[-1]) for row in rows)
        # On a small table PostgreSQL rightly prefers a scan; forbid it to show the index serves.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}").all()
        return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(("document", "index", "searched_by"), COMMON_FILTERS)
def test_common_filters_use_an_index(
    seeded: dict[str, Any], document: dict[str, Any], index: str, searched_by: str
) -> None:
    database, caller = seeded["db"], seeded["caller"]
    document = {k: caller.user_id if v == "OWNER" else v for k, v in document.items()}
    plan = _plan(database, caller, document)
    if database.dialect == "sqlite":
        # SQLite names the index of a UNIQUE constraint itself (sqlite_autoindex_...).
        assert f"INDEX {index}" in plan or "tag=?" in searched_by, plan
        assert "INDEX" in plan and searched_by in plan, plan
        assert "SCAN dashboards" not in plan, plan
    else:
        assert (
            f"Index Scan using {index}" in plan
            or f"Index Only Scan using {index}" in plan
            or f"Bitmap Index Scan on {index}" in plan
        ), plan


def _sqlite_plan(database: Database, query: sa.Select[Any]) -> str:
    compiled = query.compile(
        dialect=database.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    with database.read() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return "\n".join(str(row[-1]) for row in rows)


def test_unfiltered_total_reads_the_kept_count_and_two_small_index_ranges(
    seeded: dict[str, Any],
) -> None:
    """No board is visited for the inheriting boards (dashboard_counts); the caller's own
    denied boards and the non-inheriting ones are each one range of ix_dashboards_inherits."""
    database, caller = seeded["db"], seeded["caller"]
    rule = access.caller_read_count(caller)
    if database.dialect == "sqlite":
        for condition in (rule.denied, rule.other):
            counted = sa.select(sa.func.count()).where(
                dashboards.c.account_id == caller.account_id, condition
            )
            plan = _sqlite_plan(database, counted)
            assert "INDEX ix_dashboards_inherits (account_id=? AND inherits=?" in plan, plan
    with database.read() as conn:
        # The 300 boards and the account's two built-in reports.
        assert list_repository.count_readable(conn, caller.account_id, rule) == 302
        kept = conn.execute(
            sa.select(dashboard_counts.c.inheriting).where(
                dashboard_counts.c.account_id == caller.account_id
            )
        ).scalar_one()
    assert kept == 302


def test_a_name_prefix_page_walks_the_id_order_and_counts_off_the_name_index(
    seeded: dict[str, Any],
) -> None:
    """SQLite: `$regex: "^Board 1"` in id order walks the boards by id, testing each name,
    instead of reading every match off the name index and sorting them; its total is the
    name index's range less the caller's unread boards, found in the short ranges of
    ix_dashboards_inherits (not by reading every board off a covering index)."""
    database, caller = seeded["db"], seeded["caller"]
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL's planner weighs the LIMIT itself")
    query = ListQuery(filter='{name: {$regex: "^Board 1"}}', take=10)
    plan = listing._plan(database, caller, query)
    assert plan.walk_page is not None
    walk = plan.walk_page._statement.params(account_id=caller.account_id, skip=0, take=10)
    walked = _sqlite_plan(database, walk)
    assert "(account_id=?)" in walked and "USE TEMP B-TREE" not in walked, walked
    compiled = list_query.compile_list_query(
        query.filter, None, None, QueryContext(caller, "sqlite")
    ).filter
    assert compiled is not None
    count = list_repository.count_less_unread_query(
        caller.account_id,
        list_repository.count_of(caller.account_id, compiled.condition),
        compiled.per_board,
        access.caller_read_count(caller),
    )
    counted = _sqlite_plan(database, count)
    assert "COVERING INDEX ix_dashboards_name (account_id=? AND name>? AND name<?)" in counted
    assert "ix_dashboards_inherits (account_id=? AND inherits=?)" in counted, counted
    assert "ix_dashboards_name (account_id=?)" not in counted, counted
    result = orjson.loads(listing.list_page(database, caller, query))
    # Board 1, Board 10-19, Board 100-199: 111, in id order like the whole list's.
    assert result["totalCount"] == 111
    everything = orjson.loads(listing.list_page(database, caller, ListQuery(take=1000)))
    in_id_order = [b["id"] for b in everything["items"] if b["name"].startswith("Board 1")]
    assert [b["id"] for b in result["items"]] == in_id_order[:10]


def test_a_label_page_by_age_reads_the_label_index_in_its_order(
    seeded: dict[str, Any],
) -> None:
    """SQLite: `{tags.name: X}` sorted by dateCreated is the label index's first entries
    (its order is name, the board's dateCreated, board): no sort, no walk of the boards;
    its total is the index's entries that are not `repeated`, without DISTINCT."""
    database, caller = seeded["db"], seeded["caller"]
    if database.dialect != "sqlite":
        pytest.skip("the plan's wording is SQLite's")
    for sort, descending in (("-dateCreated", True), ("dateCreated", False)):
        query = ListQuery(filter='{"tags.name": "okr"}', sort=sort, take=10)
        plan = listing._plan(database, caller, query)
        assert plan.walk_page is None
        page = plan.page._statement.params(account_id=caller.account_id, skip=0, take=10)
        read_off = _sqlite_plan(database, page)
        assert read_off.startswith(
            "SEARCH dashboard_labels USING COVERING INDEX ix_dashboard_labels_name"
            " (account_id=? AND name=?)"
        ), read_off
        assert "TEMP B-TREE" not in read_off, read_off
        everything = orjson.loads(
            listing.list_page(database, caller, ListQuery(sort=sort, take=1000))
        )["items"]
        okr = [b["id"] for b in everything if any(t["name"] == "okr" for t in b["tags"])]
        result = orjson.loads(listing.list_page(database, caller, query))
        assert [board["id"] for board in result["items"]] == okr[:10], descending
        assert result["totalCount"] == len(okr) == 100
    compiled = list_query.compile_list_query(
        '{"tags.name": "okr"}', None, None, QueryContext(caller, "sqlite")
    ).filter
    assert compiled is not None and compiled.names_one_label and compiled.label_rows is not None
    count = sa.select(list_repository.labelled_count(caller.account_id, compiled.label_rows, True))
    counted = _sqlite_plan(database, count)
    assert "COVERING INDEX ix_dashboard_labels_name (account_id=? AND name=?)" in counted
    assert "DISTINCT" not in counted, counted


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_label_keeps_its_boards_age_through_updates_clones_and_repeats(
    backend: str, tmp_path: Path
) -> None:
    """The label index orders boards by their dateCreated, which each label row carries:
    an update keeps the board's (not the time of the update), a clone has its own, and a
    board with a label twice is one board of that label's list."""
    with fresh_database(backend, tmp_path) as url:
        upgrade_schema(url)
        database = Database(url)
        account = provisioning.create_account(database, "Ages")
        caller = Caller(
            account, accounts.create_user(database, account, "a@e.example", None, "admin"), "admin"
        )

        def create(name: str, tags: list[dict[str, Any]]) -> str:
            body = DashboardCreate.model_validate({"name": name, "tags": tags})
            return creating.create(database, caller, body).parsed()["id"]

        def newest_first() -> tuple[list[str], int]:
            query = ListQuery(filter='{"tags.name": "okr"}', sort="-dateCreated")
            result = orjson.loads(listing.list_page(database, caller, query))
            return [board["name"] for board in result["items"]], result["totalCount"]

        oldest = create("oldest", [{"name": "okr"}])
        time.sleep(0.002)  # dateCreated has milliseconds
        create("middle", [{"name": "okr"}, {"name": "kpi"}, {"name": "okr"}])
        time.sleep(0.002)
        assert newest_first() == (["middle", "oldest"], 2)
        body = DashboardUpdate.model_validate({"tags": [{"name": "kpi"}, {"name": "okr"}]})
        service.update(database, caller, oldest, body, None)
        assert newest_first() == (["middle", "oldest"], 2)
        creating.clone(database, caller, oldest, CloneRequest(tag="copy"))
        assert newest_first() == (["oldest", "middle", "oldest"], 3)
        database.dispose()


def test_a_label_page_walks_the_sort_index_and_stops_when_matches_are_sparse(
    seeded: dict[str, Any],
) -> None:
    """SQLite: a label filter's page walks the date index board by board, for at most
    sqrt(wanted * boards) boards; when the page is not among them, it starts from the label
    index instead. Either way the page is the same."""
    database, caller = seeded["db"], seeded["caller"]
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL's planner weighs the LIMIT itself")
    walking = QueryContext(caller, database.dialect, child_rows_drive=False)
    read = access.caller_predicate(caller, "read")
    newest_first = [dashboards.c.date_created.desc()]

    def walk_where(document: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
        return [read, compile_filter(document, walking)]

    okr = {"tags.name": "okr"}  # 100 of the 300 boards
    bound = sa.tuple_(dashboards.c.date_created, dashboards.c.id) >= ("2000-01-01", "")
    walk = list_repository.page_query(
        caller.account_id, [*walk_where(okr), bound], newest_first, 0, 10
    )
    plan = _sqlite_plan(database, walk)
    # The index in the sort's order, from the newest down to the bound; no sorting.
    assert (
        "COVERING INDEX ix_dashboards_date_created (account_id=? AND (date_created,id)>(?,?))"
        in plan
    ), plan
    assert "USE TEMP B-TREE" not in plan, plan

    def expected(document: dict[str, Any]) -> list[str]:
        with database.read() as conn:
            return list(
                conn.execute(
                    sa.select(dashboards.c.id)
                    .where(compile_filter(document, QueryContext(caller, "sqlite")))
                    .order_by(dashboards.c.date_created.desc(), dashboards.c.id.desc())
                ).scalars()
            )

    sparse = {"tags.name": "okr", "archived": True}  # 15 of the 300 boards
    all_okr, all_sparse = expected(okr), expected(sparse)
    assert (len(all_okr), len(all_sparse)) == (100, 15)
    with database.read() as conn:
        boards, _ = list_repository.account_counts(conn, caller.account_id)
        assert boards == 302  # and the two built-in reports

        def walked(document: dict[str, Any], skip: int, take: int) -> list[str] | None:
            return list_repository.walk_page_ids(
                conn, caller.account_id, walk_where(document), newest_first, skip, take, boards
            )

        # 10 of 100 matches among 302 boards: found within the first sqrt(10 * 302) = 55.
        assert walked(okr, 0, 10) == all_okr[:10]
        # 10 of 15: about 3 among the first 55 boards; the walk gives up.
        assert walked(sparse, 0, 10) is None
        # Deep enough that the walk may visit every board: it answers, even a short page.
        assert walked(sparse, 295, 10) == []

    def listed(query: ListQuery) -> tuple[list[str], int]:
        result = orjson.loads(listing.list_page(database, caller, query))
        return [board["id"] for board in result["items"]], result["totalCount"]

    for document, matches in ((okr, all_okr), (sparse, all_sparse)):
        for skip, take in ((0, 10), (35, 10), (95, 10), (100, 10), (0, 100), (10, 0)):
            query = ListQuery(
                filter=json.dumps(document), sort="-dateCreated", skip=skip, take=take
            )
            assert listed(query) == (matches[skip : skip + take], len(matches)), (skip, take)


@pytest.mark.parametrize("count_aside", [False, True])
@pytest.mark.parametrize(
    "sort", [None, "id", "-id", "name", "-name", "createdById", "-dateCreated", "dateUpdated"]
)
def test_walks_page_like_the_whole_list_in_every_indexed_order(
    seeded: dict[str, Any], sort: str | None, count_aside: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 10 are the slices of the whole list (take 1000: a walk of every board), with
    the count taken first (the walk chosen by it) and, as in a large account, beside the page
    (the walk bounded at sqrt(wanted x 302) boards, given up when matches are sparse)."""
    database, caller = seeded["db"], seeded["caller"]
    if count_aside:
        monkeypatch.setattr(listing, "COUNT_ASIDE_FROM", 0)

    def ids(document: dict[str, Any], skip: int, take: int) -> list[str]:
        query = ListQuery(filter=json.dumps(document), sort=sort, skip=skip, take=take)
        return [
            board["id"]
            for board in orjson.loads(listing.list_page(database, caller, query))["items"]
        ]

    for document in ({"tags.name": "okr"}, {"tags.name": "okr", "archived": True}):
        whole = ids(document, 0, 1000)
        assert len(whole) in (100, 15)
        for skip in (0, 7, 40, 95, 99, 140):
            assert ids(document, skip, 10) == whole[skip : skip + 10], (document, sort, skip)


def test_tag_usages_read_the_label_index_alone_in_its_order(seeded: dict[str, Any]) -> None:
    database, caller = seeded["db"], seeded["caller"]
    if database.dialect != "sqlite":
        pytest.skip("the plan's wording is SQLite's")
    query = repository.tag_usages_query(caller.account_id, access.caller_predicate(caller, "read"))
    plan = _sqlite_plan(database, query)
    assert "COVERING INDEX ix_dashboard_labels_name (account_id=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_slow_list_queries_are_cancelled(seeded: dict[str, Any]) -> None:
    """On both databases a read with a time limit is cancelled past it, and the connection
    it held serves the next read normally."""
    from insightboards.database import QueryTimeout

    database: Database = seeded["db"]
    # A statement that would run for many seconds: a recursive count to 10**9 (SQLite),
    # a sleep (PostgreSQL).
    slow = (
        "SELECT pg_sleep(5)"
        if database.dialect == "postgresql"
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000)"
        " SELECT count(*) FROM n"
    )
    started = time.monotonic()
    with pytest.raises(QueryTimeout), database.read(time_limit_ms=200) as conn:
        conn.exec_driver_sql(slow)
    assert time.monotonic() - started < 2
    with database.read(time_limit_ms=200) as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    with database.read() as conn:  # no limit left behind on the pooled connection
        assert conn.exec_driver_sql("SELECT count(*) FROM dashboards").scalar() > 0


def test_a_regex_postgresql_refuses_is_a_400(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from insightboards.errors import BadRequest
    from insightboards.query import regex

    database: Database = seeded["db"]
    if database.dialect != "postgresql":
        pytest.skip("SQLite evaluates every pattern RE2 compiles")
    # Every translation compiles today; should one not ("too complex"), a 400, never a 500.
    monkeypatch.setattr(regex, "postgres_pattern", lambda pattern, options: "(")
    query = ListQuery(filter={"name": {"$regex": "Bo+ard"}})
    with pytest.raises(BadRequest, match=r"PostgreSQL cannot evaluate this \$regex"):
        orjson.loads(listing.list_page(database, seeded["caller"], query))
