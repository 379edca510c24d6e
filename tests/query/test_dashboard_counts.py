"""dashboard_counts, kept by triggers, always equals a count of the account's inheriting boards.

The unfiltered list's totalCount starts from it (access.ReadCount), so a drift would be a
wrong total; every way a board is written is checked, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from insightboards import provisioning
from insightboards.access import Caller
from insightboards.accounts import service as accounts
from insightboards.dashboards import creating, service
from insightboards.dashboards.schemas import CloneRequest, DashboardCreate, DashboardUpdate
from insightboards.database import Database, upgrade_schema
from insightboards.tables import dashboard_counts, dashboards
from tests.e2e.harness import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as database_url:
        yield database_url


def _kept_and_counted(database: Database) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
    """Per account: (kept (boards, inheriting), counted (boards, inheriting))."""
    counted = (
        sa.select(
            dashboards.c.account_id,
            sa.func.count().label("boards"),
            sa.func.sum(sa.case((dashboards.c.inherits, 1), else_=0)).label("inheriting"),
        )
        .group_by(dashboards.c.account_id)
        .subquery()
    )
    query = sa.select(
        counted.c.account_id,
        dashboard_counts.c.boards,
        dashboard_counts.c.inheriting,
        counted.c.boards,
        counted.c.inheriting,
    ).join_from(
        counted,
        dashboard_counts,
        dashboard_counts.c.account_id == counted.c.account_id,
        isouter=True,
    )
    with database.read() as conn:
        return {
            row[0]: ((row[1], row[2]), (int(row[3]), int(row[4]))) for row in conn.execute(query)
        }


def _assert_true(database: Database) -> dict[str, int]:
    """The kept counts equal the counted ones; returns each account's inheriting boards."""
    state = _kept_and_counted(database)
    for account, (kept, counted) in state.items():
        assert kept == counted, (account, state)
    return {account: kept[1] for account, (kept, _) in state.items()}


def _owner(database: Database, name: str) -> Caller:
    account = provisioning.create_account(database, name)
    return Caller(
        account,
        accounts.create_user(database, account, f"{name}@e.example", None, "admin"),
        "admin",
    )


def test_every_write_keeps_the_count(url: str) -> None:
    upgrade_schema(url)
    database = Database(url)
    first, second = _owner(database, "first"), _owner(database, "second")
    assert _assert_true(database) == {first.account_id: 2, second.account_id: 2}  # reports

    private = {"access": {"inherits": False, "permissions": []}}
    created = [
        creating.create(database, first, DashboardCreate.model_validate({"name": f"b{n}"}))
        for n in range(3)
    ]
    walled = creating.create(
        database, first, DashboardCreate.model_validate({"name": "walled", **private})
    )
    creating.create(database, second, DashboardCreate.model_validate({"name": "other"}))
    assert _assert_true(database) == {first.account_id: 5, second.account_id: 3}

    # Changing `inherits` either way, and a change that leaves it alone.
    service.update(database, first, created[0].id, DashboardUpdate.model_validate(private), None)
    assert _assert_true(database)[first.account_id] == 4
    inherit = {"access": {"inherits": True, "permissions": []}}
    service.update(database, first, walled.id, DashboardUpdate.model_validate(inherit), None)
    service.update(database, first, created[1].id, DashboardUpdate(name="renamed"), None)
    assert _assert_true(database)[first.account_id] == 5

    creating.clone(database, first, walled.id, CloneRequest())
    creating.clone(database, first, created[0].id, CloneRequest())  # not inheriting
    assert _assert_true(database)[first.account_id] == 6

    service.delete(database, first, created[1].id, None)  # inheriting
    service.delete(database, first, created[0].id, None)  # not inheriting
    assert _assert_true(database) == {first.account_id: 5, second.account_id: 3}

    # Writes by hand, many rows at once, keep it too.
    with database.write() as conn:
        conn.execute(
            dashboards.update()
            .where(dashboards.c.account_id == first.account_id)
            .values(inherits=False)
        )
    assert _assert_true(database) == {first.account_id: 0, second.account_id: 3}
    with database.write() as conn:
        conn.execute(dashboards.delete().where(dashboards.c.account_id == second.account_id))
    assert _kept_and_counted(database) == {first.account_id: ((6, 0), (6, 0))}
    with database.read() as conn:
        left = conn.execute(
            sa.select(dashboard_counts.c.boards, dashboard_counts.c.inheriting).where(
                dashboard_counts.c.account_id == second.account_id
            )
        ).one()
    assert tuple(left) == (0, 0)
    database.dispose()


def test_the_migration_counts_the_boards_already_there(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", "insightboards:migrations")
    upgrade_schema(url)
    database = Database(url)
    owner = _owner(database, "before")  # two inheriting reports
    creating.create(database, owner, DashboardCreate.model_validate({"name": "inheriting"}))
    creating.create(
        database,
        owner,
        DashboardCreate.model_validate(
            {"name": "walled", "access": {"inherits": False, "permissions": []}}
        ),
    )
    # The boards as the schema before the counts held them.
    with database.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    database.dispose()
    upgrade_schema(url)
    database = Database(url)
    assert _assert_true(database) == {owner.account_id: 3}
    database.dispose()
