"""listing.list_page_on_loop: a small, quick list answered on the calling thread (the event
loop) on SQLite, equal to list_page's answer; a list over its budget gives up, and its query
is then left to the threads for a while."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from insightboards import database as database_module
from insightboards import provisioning
from insightboards.access import Caller
from insightboards.accounts import service as accounts
from insightboards.dashboards import creating, listing
from insightboards.dashboards.schemas import DashboardCreate, ListQuery
from insightboards.database import Database, upgrade_schema


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Database, Caller]]:
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    upgrade_schema(url)
    database = Database(url)
    try:
        account_id = provisioning.create_account(database, "Loop")
        user_id = accounts.create_user(database, account_id, "a@loop.example", None, "admin")
        caller = accounts.authenticate(
            database, accounts.create_token(database, account_id, user_id)
        )
        for number in range(60):
            labels = [{"name": "odd" if number % 2 else "even", "title": "Parity"}]
            body = {"name": f"Board {number}", "tags": labels}
            creating.create(database, caller, DashboardCreate.model_validate(body))
        yield database, caller
    finally:
        database.dispose()


def _label_query(label: str, take: int = 10) -> ListQuery:
    return ListQuery.model_construct(
        skip=None,
        take=take,
        fields=None,
        sort="-dateCreated",
        filter=json.dumps({"tags.name": label}),
    )


def test_a_quick_list_is_answered_on_the_loop_as_on_a_thread(
    seeded: tuple[Database, Caller],
) -> None:
    database, caller = seeded
    query = _label_query("odd")
    on_loop = listing.list_page_on_loop(database, caller, query)
    assert on_loop is not None
    assert on_loop == listing.list_page(database, caller, query)
    page = json.loads(on_loop)
    assert (page["count"], page["totalCount"]) == (10, 30)
    assert {board["name"] for board in page["items"]} <= {f"Board {n}" for n in range(1, 60, 2)}


def test_a_large_page_is_left_to_the_threads(seeded: tuple[Database, Caller]) -> None:
    database, caller = seeded
    assert listing.list_page_on_loop(database, caller, _label_query("odd", take=500)) is None


def test_a_list_over_its_budget_gives_up_and_its_query_goes_to_the_threads_for_a_while(
    seeded: tuple[Database, Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, caller = seeded
    query = _label_query("even")
    monkeypatch.setattr(listing, "_RETRY_FIRST", 3)

    def over_budget() -> None:
        # Cut off at SQLite's first look at the clock, after a few instructions.
        monkeypatch.setattr(listing, "LOOP_BUDGET_MS", 0)
        monkeypatch.setattr(database_module, "_PROGRESS_STEPS", 10)

    def within_budget() -> None:
        monkeypatch.setattr(listing, "LOOP_BUDGET_MS", 60_000)
        monkeypatch.setattr(database_module, "_PROGRESS_STEPS", 5000)

    over_budget()
    assert listing.list_page_on_loop(database, caller, query) is None
    within_budget()
    # Remembered: the next three runs are not tried on the loop, though they would now be
    # within the budget.
    for _ in range(3):
        assert listing.list_page_on_loop(database, caller, query) is None
    # Another query of the same account is tried still.
    assert listing.list_page_on_loop(database, caller, _label_query("odd")) is not None
    # Then tried again; over the budget again, it waits twice as long.
    over_budget()
    assert listing.list_page_on_loop(database, caller, query) is None
    within_budget()
    for _ in range(6):
        assert listing.list_page_on_loop(database, caller, query) is None
    # Within the budget at last: answered on the loop, and forgotten.
    answer = listing.list_page_on_loop(database, caller, query)
    assert answer is not None and json.loads(answer)["totalCount"] == 30
    assert listing.list_page_on_loop(database, caller, query) is not None
    assert json.loads(listing.list_page(database, caller, query))["totalCount"] == 30


def test_an_in_memory_database_is_not_read_on_the_loop() -> None:
    database = Database("sqlite:///:memory:")
    try:
        assert database.read_on_loop(5) is None
    finally:
        database.dispose()
