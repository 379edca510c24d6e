"""The audit trail over HTTP, on both databases: every change of a board, tokens made and
revoked and admin commands, by whom and when; filtered and paged; admins only; never a
token; one account's events never another's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, admin
from tests.e2e.test_dashboards import assert_problem


def _audit(api: Api, **params: Any) -> dict[str, Any]:
    response = api.client.get("/audit", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_every_change_of_a_board_is_recorded(server: Server, clients: Callable[..., Api]) -> None:
    tenant = make_tenant(server, "Audited")
    api = clients(tenant.tokens["admin"])
    member = clients(tenant.tokens["member"])
    board = member.create(name="Watched", insights=[{"insightId": "a"}])
    board_id = board["id"]
    member.client.put(f"/dashboards/{board_id}", json={"name": "Watched 2"})
    item = {**board["insights"][0], "sizeX": 4}
    assert member.client.put(f"/dashboards/items/{board_id}", json=item).status_code == 204
    assert member.client.put(f"/dashboards/items/{board_id}", json=[item]).status_code == 204
    assert api.client.post(f"/dashboards/{board_id}/versions/1/restore").status_code == 200
    assert api.client.post(f"/dashboards/{board_id}/clone", json={}).status_code == 201
    assert api.client.delete(f"/dashboards/{board_id}").status_code == 204
    assert api.client.post(f"/dashboards/{board_id}/undelete").status_code == 200

    events = _audit(api, dashboardId=board_id)
    kinds = [event["kind"] for event in events["items"]]
    assert kinds == [
        "dashboard.undelete",
        "dashboard.delete",
        "dashboard.restore",
        "dashboard.item",
        "dashboard.update",
        "dashboard.create",
    ]  # newest first; the layout save of the same item changed nothing, so no event
    assert events["totalCount"] == 6
    by_kind = {event["kind"]: event for event in events["items"]}
    assert by_kind["dashboard.create"]["userId"] == tenant.users["member"]
    assert by_kind["dashboard.create"]["version"] == 1
    assert by_kind["dashboard.update"]["details"] == {"changedFields": ["name"]}
    assert by_kind["dashboard.restore"]["userId"] == tenant.users["admin"]
    assert by_kind["dashboard.delete"]["version"] == 4
    clones = _audit(api, kind="dashboard.clone")["items"]
    assert len(clones) == 1 and clones[0]["userId"] == tenant.users["admin"]
    # Filtered by who.
    mine = _audit(api, userId=tenant.users["member"], dashboardId=board_id)["items"]
    assert [event["kind"] for event in mine] == [
        "dashboard.item",
        "dashboard.update",
        "dashboard.create",
    ]


def test_tokens_and_admin_commands_are_recorded_without_the_token(
    server: Server, clients: Callable[..., Api]
) -> None:
    tenant = make_tenant(server, "AuditedAdmin")
    api = clients(tenant.tokens["admin"])
    url, account = server.database_url, tenant.account_id
    token = admin(url, "create-token", "--account", account, "--user", tenant.users["viewer"])
    admin(url, "revoke-token", "--token", token["token"])
    admin(url, "set-plan", "--account", account, "--plan", "team", "--max-dashboards", "50")
    page = _audit(api, take=1000)
    kinds = [event["kind"] for event in page["items"]]
    assert kinds[:3] == ["plan.set", "token.revoke", "token.create"]
    assert kinds[-1] == "account.create"
    assert "user.create" in kinds
    created, revoked = page["items"][2], page["items"][1]
    assert created["userId"] is None  # an admin command
    assert created["details"]["forUserId"] == tenant.users["viewer"]
    assert created["details"]["tokenId"] == revoked["details"]["tokenId"]
    assert len(created["details"]["tokenId"]) == 12
    assert page["items"][0]["details"] == {"plan": "team", "maxDashboards": 50}
    body = str(page)
    assert token["token"] not in body and token["token"].split("_")[-1] not in body
    for secret in tenant.tokens.values():
        assert secret not in body


def test_the_trail_is_the_account_admins_alone(server: Server, clients: Callable[..., Api]) -> None:
    tenant, other = make_tenant(server, "AuditMine"), make_tenant(server, "AuditTheirs")
    mine = clients(tenant.tokens["admin"]).create(name="Mine")
    theirs = clients(other.tokens["admin"])
    assert_problem(clients(tenant.tokens["member"]).client.get("/audit"), 403)
    assert_problem(clients(tenant.tokens["viewer"]).client.get("/audit"), 403)
    seen = _audit(theirs, take=1000)["items"]
    assert mine["id"] not in {event["dashboardId"] for event in seen}
    assert _audit(theirs, dashboardId=mine["id"]) == {"items": [], "totalCount": 0}


def test_time_range_and_paging(server: Server, clients: Callable[..., Api]) -> None:
    tenant = make_tenant(server, "AuditPages")
    api = clients(tenant.tokens["admin"])
    boards = [api.create(name=f"b{n}") for n in range(3)]
    created = _audit(api, kind="dashboard.create")
    assert created["totalCount"] == 5  # the two built-in reports, then three boards
    assert [e["dashboardId"] for e in _audit(api, kind="dashboard.create", take=2)["items"]] == [
        boards[2]["id"],
        boards[1]["id"],
    ]
    second = boards[1]["dateCreated"]
    since = _audit(api, kind="dashboard.create", since=second)["items"]
    assert {e["dashboardId"] for e in since} >= {boards[1]["id"], boards[2]["id"]}
    until = _audit(api, kind="dashboard.create", until=second)["items"]
    assert boards[1]["id"] not in {e["dashboardId"] for e in until}
    assert_problem(api.client.get("/audit", params={"since": "yesterday"}), 400)
    assert_problem(api.client.get("/audit", params={"kind": "dashboard.nothing"}), 400)
