"""Token uses: noted at most once per interval in a process, written without moving the
auth_changes counter (which would empty every process's cache of callers), and never moved
back in time."""

from pathlib import Path

import pytest

from insightboards import provisioning
from insightboards.accounts import repository
from insightboards.accounts import service as accounts
from insightboards.accounts.token_uses import TokenUses
from insightboards.database import Database, upgrade_schema
from tests.e2e.harness import fresh_database


def test_a_token_is_noted_once_per_interval_and_failed_writes_are_kept() -> None:
    uses = TokenUses(record_every_seconds=3600)
    uses.note("a" * 24, "h1")
    uses.note("a" * 24, "h1")
    uses.note("a" * 24, "h2")
    taken = uses.take()
    assert sorted(taken) == [("a" * 24, "h1"), ("a" * 24, "h2")]
    uses.note("a" * 24, "h1")  # within the interval: nothing new
    assert uses.take() == {}
    uses.give_back(taken)
    assert uses.take() == taken
    always = TokenUses(record_every_seconds=0)
    always.note("a" * 24, "h1")
    always.take()
    always.note("a" * 24, "h1")
    assert list(always.take()) == [("a" * 24, "h1")]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_recorded_uses_move_forward_only_and_leave_the_auth_counter_alone(
    backend: str, tmp_path: Path
) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade_schema(url)
        database = Database(url)
        try:
            account = provisioning.create_account(database, "uses")
            user = accounts.create_user(database, account, "u@uses.example", None, "admin")
            token = accounts.create_token(database, account, user)
            unused = accounts.create_token(database, account, user)
            key = (account, accounts.hash_token(token))
            with database.read() as conn:
                counter = repository.auth_changes_counter(conn)
            accounts.record_token_uses(database, {key: "2026-12-07T10:00:00.000Z"})
            accounts.record_token_uses(database, {key: "2026-12-07T09:00:00.000Z"})  # older
            listed = {t["id"]: t for t in accounts.list_tokens(database, account)}
            with database.read() as conn:
                assert repository.auth_changes_counter(conn) == counter
        finally:
            database.dispose()
    assert listed[key[1][:12]]["date_last_used"] == "2026-12-07T10:00:00.000Z"
    assert listed[accounts.hash_token(unused)[:12]]["date_last_used"] is None
