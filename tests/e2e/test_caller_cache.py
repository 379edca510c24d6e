"""Each process keeps token -> caller in memory; a change made by an admin command still
takes effect at once, in every worker process, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_tenant
from tests.e2e.harness import Server, Tenant, admin, backends, fresh_database, start_server

# Enough requests on fresh connections that both workers answer some of them.
REQUESTS = 16


@pytest.fixture(scope="module", params=backends())
def two_workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp(f"workers-{request.param}")
    with fresh_database(request.param, directory) as url:
        running = start_server(url, directory / "server.log", extra_args=("--workers", "2"))
        try:
            yield running
        finally:
            running.stop()


def _statuses(server: Server, token: str, path: str) -> set[int]:
    """The statuses of REQUESTS GETs of `path`, each on a connection of its own (the kernel
    spreads new connections over the workers)."""
    statuses = set()
    for _ in range(REQUESTS):
        response = httpx.get(
            f"{server.base_url}/results/api/v1{path}",
            headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            timeout=30,
        )
        statuses.add(response.status_code)
    return statuses


def test_a_revoked_token_is_refused_by_every_worker_at_once(two_workers: Server) -> None:
    tenant = make_tenant(two_workers, "Revoked")
    token = admin(
        two_workers.database_url,
        "create-token",
        "--account",
        tenant.account_id,
        "--user",
        tenant.users["member"],
    )["token"]
    assert _statuses(two_workers, token, "/dashboards?take=1") == {200}  # cached everywhere
    admin(two_workers.database_url, "revoke-token", "--token", token)
    assert _statuses(two_workers, token, "/dashboards?take=1") == {401}
    assert _statuses(two_workers, tenant.tokens["member"], "/dashboards?take=1") == {200}


def test_a_new_team_member_reads_the_teams_board_at_once(two_workers: Server) -> None:
    tenant = make_tenant(two_workers, "Teams")
    url = two_workers.database_url
    team = admin(url, "create-team", "--account", tenant.account_id, "--name", "T")["id"]
    with httpx.Client(
        base_url=f"{two_workers.base_url}/results/api/v1",
        headers={"Authorization": f"Bearer {tenant.tokens['admin']}"},
    ) as owner:
        _team_changes_take_effect_at_once(two_workers, tenant, team, owner)


def _team_changes_take_effect_at_once(
    two_workers: Server, tenant: Tenant, team: str, owner: httpx.Client
) -> None:
    url = two_workers.database_url
    access = {
        "inherits": False,
        "permissions": [{"principalKind": "team", "principalId": team, "grant": ["read"]}],
    }
    created = owner.post("/dashboards", json={"name": "team only", "access": access})
    assert created.status_code == 201, created.text
    board = created.json()["id"]
    member = tenant.tokens["member"]
    assert _statuses(two_workers, member, f"/dashboards/{board}") == {403}
    assert owner.get(f"/dashboards/{board}").json()["usersCount"] == 1

    def change_team(change: str) -> None:
        account, user = tenant.account_id, tenant.users["member"]
        admin(url, "change-team", "--account", account, "--team", team, change, user)

    change_team("--add")
    assert _statuses(two_workers, member, f"/dashboards/{board}") == {200}
    assert owner.get(f"/dashboards/{board}").json()["usersCount"] == 2
    change_team("--remove")
    assert _statuses(two_workers, member, f"/dashboards/{board}") == {403}


def test_a_suspended_account_is_refused_at_once(two_workers: Server) -> None:
    tenant = make_tenant(two_workers, "Suspended")
    token = tenant.tokens["admin"]
    assert _statuses(two_workers, token, "/dashboards/reports") == {200}
    admin(two_workers.database_url, "suspend-account", "--account", tenant.account_id)
    assert _statuses(two_workers, token, "/dashboards/reports") == {402}
    admin(two_workers.database_url, "resume-account", "--account", tenant.account_id)
    assert _statuses(two_workers, token, "/dashboards/reports") == {200}


def _create_statuses(server: Server, token: str, name: str) -> set[int]:
    """The statuses of REQUESTS creates, each on a connection of its own."""
    statuses = set()
    for _ in range(REQUESTS):
        response = httpx.post(
            f"{server.base_url}/results/api/v1/dashboards",
            json={"name": name},
            headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            timeout=30,
        )
        statuses.add(response.status_code)
    return statuses


def test_a_create_checks_the_cached_caller_in_its_own_transaction(two_workers: Server) -> None:
    """Creates take the caller last cached for their token and check the auth counter in
    the write itself: a token revoked, or an account suspended, after it was cached writes
    nothing, in any worker."""
    tenant = make_tenant(two_workers, "CreateRevoked")
    url, account = two_workers.database_url, tenant.account_id
    token = admin(url, "create-token", "--account", account, "--user", tenant.users["member"])
    assert _create_statuses(two_workers, token["token"], "cached") == {201}  # cached everywhere
    admin(url, "revoke-token", "--token", token["token"])
    assert _create_statuses(two_workers, token["token"], "revoked") == {401}

    owner = tenant.tokens["admin"]
    assert _create_statuses(two_workers, owner, "cached") == {201}
    admin(url, "suspend-account", "--account", account)
    assert _create_statuses(two_workers, owner, "suspended") == {402}
    admin(url, "resume-account", "--account", account)

    names = httpx.get(
        f"{two_workers.base_url}/results/api/v1/dashboards",
        params={"fields": "name", "take": "500"},
        headers={"Authorization": f"Bearer {owner}"},
        timeout=30,
    ).json()["items"]
    assert not {"revoked", "suspended"} & {board["name"] for board in names}
    assert len([board for board in names if board["name"] == "cached"]) == 2 * REQUESTS
