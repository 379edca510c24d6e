"""The Alembic migrations build exactly the schema that tables.py describes."""

from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from insightboards import provisioning
from insightboards.access import Caller
from insightboards.accounts import service as accounts
from insightboards.dashboards import creating, listing, service
from insightboards.dashboards.schemas import DashboardCreate, ListQuery
from insightboards.database import Database, upgrade_schema
from insightboards.tables import (
    account_event_counters,
    account_events,
    dashboard_labels,
    metadata,
    version_grants,
)
from tests.e2e.harness import fresh_database


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_table_definitions(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade_schema(url)
        upgrade_schema(url)  # a second run is a no-op
        database = Database(url)
        with database.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
        database.dispose()
    assert differences == []


def _migrations_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "insightboards:migrations")
    return config


def _admin_of_a_new_account(database: Database) -> Caller:
    account = provisioning.create_account(database, "old")
    user = accounts.create_user(database, account, "a@old.example", None, "admin")
    return Caller(account, user, "admin")


def _label_tree(depth: int) -> list[dict[str, Any]]:
    """`children` of a label that nest `depth - 1` more levels (the row is level 1)."""
    children: list[dict[str, Any]] = []
    for level in range(depth - 1):
        children = [
            {
                "id": f"l{level}",
                "name": "nested",
                "title": None,
                "isActive": True,
                "createdBy": "someone",
                "dateCreated": "2026-01-01T00:00:00.000Z",
                "items": children,
            }
        ]
    return children


def _depth(children: list[dict[str, Any]]) -> int:
    return 1 + max((_depth(child["items"]) for child in children), default=0)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_label_trees_too_deep_to_render_are_cut_and_others_kept(
    backend: str, tmp_path: Path
) -> None:
    """A board stored with labels 150 levels deep (accepted before labels were bounded)
    made every list of its account fail; after the migration it renders, cut to 100 levels,
    and a tree of 40 levels, which rendered all along, is kept whole."""
    config = _migrations_config()
    with fresh_database(backend, tmp_path) as url:
        upgrade_schema(url)
        database = Database(url)
        caller = _admin_of_a_new_account(database)
        body = {"name": "labelled", "tags": [{"name": "deep"}, {"name": "shallow"}]}
        board = creating.create(database, caller, DashboardCreate.model_validate(body))
        # Back to the schema of that time (boards without stored documents), and the board
        # as it could then be stored.
        with database.write() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0006")
        with database.write() as conn:
            for position, depth in ((0, 150), (1, 40)):
                conn.execute(
                    dashboard_labels.update()
                    .where(
                        dashboard_labels.c.dashboard_id == board.id,
                        dashboard_labels.c.position == position,
                    )
                    .values(children=_label_tree(depth))
                )
        database.dispose()
        with pytest.raises(orjson.JSONEncodeError):  # what a list of the account met
            page_depth = {"items": [{"tags": [{"items": _label_tree(150)}]}]}
            orjson.dumps(page_depth)

        upgrade_schema(url)
        database = Database(url)
        page = orjson.loads(listing.list_page(database, caller, ListQuery()))
        labels = service.get(database, caller, board.id).parsed()["tags"]
        assert [b["tags"] for b in page["items"] if b["id"] == board.id] == [labels]
        database.dispose()
    assert [label["name"] for label in labels] == ["deep", "shallow"]
    assert _depth(labels[0]["items"]) == 100  # the row's label and 99 levels below it
    assert labels[1]["items"] == _label_tree(40)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_labels_written_before_0010_get_their_boards_age_and_repeats(
    backend: str, tmp_path: Path
) -> None:
    """Migration 0010 fills in each label row's board_created (its board's dateCreated) and
    repeated (an earlier label of the board has the name), which the label index orders and
    counts by: after it, a label list of old boards is the same as one of new boards."""
    config = _migrations_config()
    with fresh_database(backend, tmp_path) as url:
        upgrade_schema(url)
        database = Database(url)
        caller = _admin_of_a_new_account(database)
        tags = [{"name": "okr"}, {"name": "kpi"}, {"name": "okr"}]
        boards = [
            creating.create(
                database, caller, DashboardCreate.model_validate({"name": f"b{n}", "tags": tags})
            ).parsed()
            for n in range(3)
        ]
        with database.write() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0009")
        database.dispose()
        upgrade_schema(url)
        database = Database(url)
        labels = dashboard_labels.c
        with database.read() as conn:
            rows = conn.execute(
                sa.select(labels.dashboard_id, labels.board_created, labels.repeated).order_by(
                    labels.dashboard_id, labels.position
                )
            ).all()
        by_id = {board["id"]: board for board in boards}
        assert [row.board_created for row in rows] == [
            by_id[row.dashboard_id]["dateCreated"] for row in rows
        ]
        assert [row.repeated for row in rows] == [False, False, True] * 3
        query = ListQuery(filter='{"tags.name": "okr"}', sort="-dateCreated", take=2)
        page = orjson.loads(listing.list_page(database, caller, query))
        database.dispose()
    newest = sorted(boards, key=lambda board: (board["dateCreated"], board["id"]), reverse=True)
    assert [board["id"] for board in page["items"]] == [board["id"] for board in newest[:2]]
    assert page["totalCount"] == 3


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_events_before_0016_are_numbered_within_their_account_and_grants_kept(
    backend: str, tmp_path: Path
) -> None:
    """Migration 0016 numbers each account's events 1, 2, 3, ... in the order they were
    recorded, sets each account's counter to its last, and copies the grants of every
    board's current version; the next event takes the next number."""
    config = _migrations_config()
    with fresh_database(backend, tmp_path) as url:
        upgrade_schema(url)
        database = Database(url)
        first, second = _admin_of_a_new_account(database), _admin_of_a_new_account(database)
        shared = {
            "inherits": False,
            "permissions": [{"principalKind": "role", "principalId": "member", "grant": ["read"]}],
        }
        for caller in (first, second, first):
            creating.create(
                database, caller, DashboardCreate.model_validate({"name": "b", "access": shared})
            )
        with database.write() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0015")
        database.dispose()
        upgrade_schema(url)
        database = Database(url)
        with database.read() as conn:
            counters = dict(conn.execute(sa.select(account_event_counters)).all())
        creating.create(database, second, DashboardCreate.model_validate({"name": "after"}))
        events = account_events.c
        with database.read() as conn:
            rows = conn.execute(
                sa.select(events.account_id, events.account_seq).order_by(events.seq)
            ).all()
            grants = conn.execute(
                sa.select(version_grants.c.account_id, version_grants.c.version)
            ).all()
        database.dispose()
    for account in (first.account_id, second.account_id):
        numbers = [row.account_seq for row in rows if row.account_id == account]
        assert numbers == list(range(1, len(numbers) + 1))
        # As the migration left it: before the create event of the board made after.
        made_after = 1 if account == second.account_id else 0
        assert counters[account] == numbers[-1] - made_after
    assert sorted(grants) == sorted(
        [(first.account_id, 1), (first.account_id, 1), (second.account_id, 1)]
    )
