"""Tokens, the gtmhub-accountId header, tenancy between accounts, and plans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, Tenant, admin
from tests.e2e.test_dashboards import assert_problem, unique_tag

SEED_ACCOUNT = "5be26318e5274a0007f17f61"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token",
        "Bearer ib_0123456789abcdef01234567_" + "A" * 43,
    ],
)
def test_missing_malformed_or_unknown_tokens_get_401(
    server: Server, authorization: str | None
) -> None:
    import httpx

    headers = {"Authorization": authorization} if authorization else {}
    for method, path in (
        ("GET", "/results/api/v2/dashboards"),
        ("POST", "/results/api/v1/dashboards"),
    ):
        response = httpx.request(
            method, f"{server.base_url}{path}", headers=headers, json={"name": "x"}
        )
        assert_problem(response, 401)


def test_a_revoked_token_gets_401_at_once(
    server: Server, tenant: Tenant, clients: Callable[..., Api]
) -> None:
    token = admin(
        server.database_url,
        "create-token",
        "--account",
        tenant.account_id,
        "--user",
        tenant.users["member"],
    )["token"]
    api = clients(token)
    assert api.v2.get("/dashboards").status_code == 200
    assert admin(server.database_url, "revoke-token", "--token", token) == {"revoked": True}
    assert_problem(api.v2.get("/dashboards"), 401)


def test_account_header(
    server: Server, tenant: Tenant, other_tenant: Tenant, clients: Callable[..., Api]
) -> None:
    token = tenant.tokens["admin"]
    assert clients(token).v2.get("/dashboards").status_code == 200
    assert clients(token, tenant.account_id).v2.get("/dashboards").status_code == 200
    body = assert_problem(clients(token, other_tenant.account_id).v2.get("/dashboards"), 403)
    assert other_tenant.account_id not in body["detail"]
    assert_problem(clients(token, "not-an-id").v2.get("/dashboards"), 400)
    # Header names are case-insensitive.
    lower = clients(token).v2.get(
        "/dashboards", headers={"GTMHUB-ACCOUNTID": other_tenant.account_id}
    )
    assert_problem(lower, 403)


def test_tokens_are_long_random_and_stored_only_as_hashes(server: Server, tenant: Tenant) -> None:
    import sqlalchemy as sa

    token = tenant.tokens["viewer"]
    secret = token.removeprefix(f"ib_{tenant.account_id}_")
    assert len(secret) == 43  # 256 bits, url-safe base64
    engine = sa.create_engine(server.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            stored = [tuple(row) for row in conn.execute(sa.text("SELECT * FROM api_tokens"))]
    finally:
        engine.dispose()
    assert stored and not any(secret in str(value) for row in stored for value in row)


def test_another_account_sees_and_changes_nothing(api: Api, other_api: Api) -> None:
    label = f"secret-{unique_tag()}"
    board = api.create(tag=unique_tag(), tags=[{"name": label}], insights=[{"insightId": "i"}])
    item = board["insights"][0]
    for response in (
        other_api.get(board["id"]),
        other_api.client.get(f"/dashboards/tag/{board['tag']}"),
        other_api.client.put(f"/dashboards/{board['id']}", json={"name": "pwned"}),
        other_api.client.delete(f"/dashboards/{board['id']}"),
        other_api.client.post(f"/dashboards/{board['id']}/clone", json={}),
        other_api.client.put(f"/dashboards/items/{board['id']}", json={**item, "row": 7}),
        other_api.client.put(f"/dashboards/items/{board['id']}", json=[]),
    ):
        assert_problem(response, 404)
    assert api.get(board["id"]).json() == board
    listed = other_api.list(take=1000)
    assert board["id"] not in {item["id"] for item in listed["items"]}
    assert all(item["accountId"] == other_api_account(other_api) for item in listed["items"])
    usages = other_api.client.get("/dashboards/tags/usages").json()["items"]
    assert label not in {usage["tagName"] for usage in usages}
    assert not {board["id"]} & {i for usage in usages for i in usage["dashboardsIds"]}
    other_reports = {r["id"] for r in other_api.client.get("/dashboards/reports").json()}
    my_reports = {r["id"] for r in api.client.get("/dashboards/reports").json()}
    assert other_reports and not other_reports & my_reports


def other_api_account(api: Api) -> str:
    header: str = api.client.headers["gtmhub-accountId"]
    return header


def test_the_same_tag_may_exist_in_two_accounts(api: Api, other_api: Api) -> None:
    tag = unique_tag()
    mine, theirs = api.create(tag=tag), other_api.create(tag=tag)
    assert mine["id"] != theirs["id"]
    assert api.client.get(f"/dashboards/tag/{tag}").json()["id"] == mine["id"]
    assert other_api.client.get(f"/dashboards/tag/{tag}").json()["id"] == theirs["id"]


def test_viewers_read_but_may_not_create_or_change(
    api: Api, viewer_api: Api, member_api: Api
) -> None:
    board = api.create()
    assert viewer_api.get(board["id"]).json()["currentUserAllowedActions"] == ["read"]
    assert viewer_api.get(board["id"]).json()["readOnly"] is True
    assert_problem(viewer_api.client.post("/dashboards", json={"name": "x"}), 403)
    assert_problem(viewer_api.client.put(f"/dashboards/{board['id']}", json={"name": "x"}), 403)
    assert_problem(viewer_api.client.delete(f"/dashboards/{board['id']}"), 403)
    # A member reads an admin's board, but only its owner and admins may change it.
    assert member_api.get(board["id"]).json()["currentUserAllowedActions"] == ["read"]
    assert_problem(member_api.client.put(f"/dashboards/{board['id']}", json={"name": "x"}), 403)
    own = member_api.create(name="member's")
    assert own["currentUserAllowedActions"] == ["read", "update", "delete", "modifyPermissions"]
    assert api.get(own["id"]).json()["readOnly"] is False
    assert api.get(board["id"]).json()["name"] == board["name"]


def test_users_count_counts_everyone_who_may_read(api: Api, tenant: Tenant) -> None:
    inherited = api.create()
    assert inherited["usersCount"] == 3
    private = api.create(access={"inherits": False, "permissions": []})
    assert private["usersCount"] == 1
    shared = api.create(
        access={
            "inherits": False,
            "permissions": [
                {"principalKind": "user", "principalId": tenant.users["viewer"], "grant": ["read"]}
            ],
        }
    )
    assert shared["usersCount"] == 2
    assert shared["access"]["permissions"][0]["grant"] == {"general": ["read"]}


def test_private_boards_are_hidden_from_lists_counts_and_usages(api: Api, member_api: Api) -> None:
    label = f"private-{unique_tag()}"
    board = api.create(tag=unique_tag(), tags=[{"name": label}], access={"inherits": False})
    assert_problem(member_api.get(board["id"]), 403)
    assert_problem(member_api.client.get(f"/dashboards/tag/{board['tag']}"), 404)
    before = member_api.list(take=1000)
    assert board["id"] not in {item["id"] for item in before["items"]}
    assert before["totalCount"] == before["count"]
    usages = member_api.client.get("/dashboards/tags/usages").json()["items"]
    assert label not in {usage["tagName"] for usage in usages}


def _fresh(server: Server, name: str) -> tuple[Tenant, str]:
    tenant = make_tenant(server, name)
    return tenant, tenant.tokens["admin"]


def test_suspended_accounts_get_402_everywhere_until_resumed(
    server: Server, clients: Callable[..., Api]
) -> None:
    tenant, token = _fresh(server, "Suspended")
    api = clients(token)
    board = api.create()
    admin(server.database_url, "suspend-account", "--account", tenant.account_id)
    for response in (
        api.v2.get("/dashboards"),
        api.get(board["id"]),
        api.client.post("/dashboards", json={"name": "x"}),
        api.client.get("/dashboards/reports"),
    ):
        assert_problem(response, 402)
    admin(server.database_url, "resume-account", "--account", tenant.account_id)
    assert api.get(board["id"]).status_code == 200


def test_the_plan_cap_limits_creates_and_clones(
    server: Server, clients: Callable[..., Api]
) -> None:
    tenant, token = _fresh(server, "Capped")
    api = clients(token)
    admin(
        server.database_url,
        "set-plan",
        "--account",
        tenant.account_id,
        "--plan",
        "starter",
        "--max-dashboards",
        "2",
    )
    first = api.create()
    api.create()
    over = assert_problem(api.client.post("/dashboards", json={"name": "third"}), 402)
    assert "2" in over["detail"] and "starter" in over["detail"]
    assert_problem(api.client.post(f"/dashboards/{first['id']}/clone", json={}), 402)
    # The built-in reports do not count, and deleting makes room.
    assert api.client.delete(f"/dashboards/{first['id']}").status_code == 204
    assert api.client.post("/dashboards", json={"name": "third"}).status_code == 201
    admin(
        server.database_url,
        "set-plan",
        "--account",
        tenant.account_id,
        "--max-dashboards",
        "unlimited",
    )
    assert api.client.post("/dashboards", json={"name": "fourth"}).status_code == 201


def test_team_membership_is_read_per_request(
    server: Server, tenant: Tenant, api: Api, clients: Callable[..., Api]
) -> None:
    team = admin(
        server.database_url, "create-team", "--account", tenant.account_id,
        "--name", f"t{unique_tag()}", "--member", tenant.users["member"],
    )["id"]  # fmt: skip
    board = api.create(
        access={
            "inherits": False,
            "permissions": [
                {
                    "principalKind": "team",
                    "principalId": team,
                    "grant": {"general": ["read", "update"]},
                }
            ],
        }
    )
    member = clients(tenant.tokens["member"])
    assert member.get(board["id"]).json()["currentUserAllowedActions"] == ["read", "update"]
    response = member.client.put(f"/dashboards/{board['id']}", json={"name": "renamed by team"})
    assert response.status_code == 200
    # Granting access is not the same as modifying permissions.
    change: dict[str, Any] = {"access": {"inherits": True}}
    assert_problem(member.client.put(f"/dashboards/{board['id']}", json=change), 403)
