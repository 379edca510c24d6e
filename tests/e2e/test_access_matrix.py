# ruff: noqa: E501  (the matrix reads best one caller to a line)
"""Who may do what: every endpoint for every kind of caller, and lists that agree.

Each cell runs on a board of its own, created by its owner (a member) with
`inherits: false`, so that only the owner and the board's grants decide:
- the "team" board grants team T (the teammate's team) read and update;
- the "role" board grants the role `member` read.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import make_tenant
from tests.e2e.harness import Server, Tenant, admin

ENDPOINTS = ["get", "tag", "update", "items", "delete", "clone", "permissions"]

# caller -> (board, expected status per endpoint, whether lists and usages show the board)
MATRIX: dict[str, tuple[str, dict[str, int], bool]] = {
    "owner": ("team", dict(get=200, tag=200, update=200, items=204, delete=204, clone=201, permissions=200), True),
    "account admin": ("team", dict(get=403, tag=404, update=403, items=403, delete=403, clone=403, permissions=403), False),
    "member via team": ("team", dict(get=200, tag=200, update=200, items=204, delete=403, clone=201, permissions=403), True),
    "member via role": ("role", dict(get=200, tag=200, update=403, items=403, delete=403, clone=201, permissions=403), True),
    "member without grant": ("team", dict(get=403, tag=404, update=403, items=403, delete=403, clone=403, permissions=403), False),
    "viewer": ("team", dict(get=403, tag=404, update=403, items=403, delete=403, clone=403, permissions=403), False),
    "viewer via role grant": ("viewer-role", dict(get=200, tag=200, update=403, items=403, delete=403, clone=403, permissions=403), True),
    "another account's admin": ("team", dict(get=404, tag=404, update=404, items=404, delete=404, clone=404, permissions=404), False),
    "no token": ("team", dict(get=401, tag=401, update=401, items=401, delete=401, clone=401, permissions=401), False),
    "revoked token": ("team", dict(get=401, tag=401, update=401, items=401, delete=401, clone=401, permissions=401), False),
}  # fmt: skip


@dataclass
class World:
    server: Server
    tenant: Tenant
    users: dict[str, str]
    tokens: dict[str, str | None]
    team: str

    def client(self, caller: str) -> httpx.Client:
        token = self.tokens[caller]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=f"{self.server.base_url}/results/api/v1", headers=headers, timeout=30
        )

    def board(self, kind: str, label: str | None = None) -> dict[str, Any]:
        grants = {
            "team": [{"principalKind": "team", "principalId": self.team, "grant": ["read", "update"]}],
            "role": [{"principalKind": "role", "principalId": "member", "grant": ["read"]}],
            "viewer-role": [{"principalKind": "role", "principalId": "viewer", "grant": ["read", "update", "delete"]}],
            "open": [],
        }[kind]  # fmt: skip
        body = {
            "name": f"{kind} board",
            "tag": f"m{uuid.uuid4().hex[:12]}",
            "access": {"inherits": kind == "open", "permissions": grants},
            "tags": [{"name": label or f"l{uuid.uuid4().hex[:8]}"}],
            "insights": [{"insightId": "i1"}],
        }
        return self.created_by_owner(body)

    def created_by_owner(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.client("owner") as client:
            response = client.post("/dashboards", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture(scope="session")
def world(server: Server) -> World:
    tenant = make_tenant(server, "Matrix")
    url, account = server.database_url, tenant.account_id

    def user(email: str, role: str) -> tuple[str, str]:
        user_id = admin(url, "create-user", "--account", account, "--email", email, "--role", role)[
            "id"
        ]
        token = admin(url, "create-token", "--account", account, "--user", user_id)["token"]
        return user_id, token

    owner, owner_token = user("owner@matrix.example", "member")
    teammate, teammate_token = user("team@matrix.example", "member")
    outsider, outsider_token = user("outsider@matrix.example", "member")
    team = admin(url, "create-team", "--account", account, "--name", "T", "--member", teammate)[
        "id"
    ]
    revoked = admin(url, "create-token", "--account", account, "--user", teammate)["token"]
    admin(url, "revoke-token", "--token", revoked)
    other = make_tenant(server, "MatrixOther")
    return World(
        server=server,
        tenant=tenant,
        users={"owner": owner, "member via team": teammate, "member without grant": outsider},
        tokens={
            "owner": owner_token,
            "account admin": tenant.tokens["admin"],
            "member via team": teammate_token,
            "member via role": outsider_token,
            "member without grant": outsider_token,
            "viewer": tenant.tokens["viewer"],
            "viewer via role grant": tenant.tokens["viewer"],
            "another account's admin": other.tokens["admin"],
            "no token": None,
            "revoked token": revoked,
        },
        team=team,
    )


def _call(client: httpx.Client, endpoint: str, board: dict[str, Any]) -> httpx.Response:
    board_url = f"/dashboards/{board['id']}"
    return {
        "get": lambda: client.get(board_url),
        "tag": lambda: client.get(f"/dashboards/tag/{board['tag']}"),
        "update": lambda: client.put(board_url, json={"name": "changed"}),
        "items": lambda: client.put(f"/dashboards/items/{board['id']}", json={"insightId": "new"}),
        "delete": lambda: client.delete(board_url),
        "clone": lambda: client.post(f"{board_url}/clone", json={}),
        "permissions": lambda: client.put(board_url, json={"access": {"inherits": True}}),
    }[endpoint]()


CELLS = [(caller, endpoint) for caller in MATRIX for endpoint in ENDPOINTS]


@pytest.mark.parametrize(("caller", "endpoint"), CELLS, ids=[f"{c}-{e}" for c, e in CELLS])
def test_access_matrix(world: World, caller: str, endpoint: str) -> None:
    kind, expected, _listed = MATRIX[caller]
    board = world.board(kind)
    with world.client(caller) as client:
        response = _call(client, endpoint, board)
    assert response.status_code == expected[endpoint], response.text
    with world.client("owner") as owner:
        after = owner.get(f"/dashboards/{board['id']}")
    if response.status_code >= 400:
        # A refused request changes nothing.
        assert after.status_code == 200 and after.json() == board


@pytest.mark.parametrize("caller", list(MATRIX))
def test_lists_counts_tags_and_usages_agree_with_the_single_board_rule(
    world: World, caller: str
) -> None:
    label = f"agree{uuid.uuid4().hex[:8]}"
    boards = [world.board(kind, label) for kind in ("team", "role", "viewer-role", "open")]
    with world.client(caller) as client:
        readable = {
            b["id"] for b in boards if client.get(f"/dashboards/{b['id']}").status_code == 200
        }
        by_tag = {
            b["id"] for b in boards if client.get(f"/dashboards/tag/{b['tag']}").status_code == 200
        }
        listed = client.get("/dashboards", params={"filter": json.dumps({"tags.name": label})})
        usages = client.get("/dashboards/tags/usages")
    if MATRIX[caller][1]["get"] == 401:
        assert listed.status_code == usages.status_code == 401
        return
    page = listed.json()
    assert {item["id"] for item in page["items"]} == readable == by_tag
    assert page["totalCount"] == len(readable)
    usage = [u for u in usages.json()["items"] if u["tagName"] == label]
    assert set(usage[0]["dashboardsIds"] if usage else []) == readable
    _, _, listed_flag = MATRIX[caller]
    board_of_row = {"team": boards[0], "role": boards[1], "viewer-role": boards[2]}[
        MATRIX[caller][0]
    ]
    assert (board_of_row["id"] in readable) is listed_flag


def test_allowed_actions_and_users_count_follow_the_grants(world: World) -> None:
    board = world.board("team")
    with world.client("member via team") as client:
        seen = client.get(f"/dashboards/{board['id']}").json()
    assert seen["currentUserAllowedActions"] == ["read", "update"] and seen["readOnly"] is False
    # Readers: the owner and the teammate.
    assert seen["usersCount"] == 2
    role_board = world.board("role")
    # Readers: every member (owner, teammate, outsider and the tenant's member).
    assert role_board["usersCount"] == 4


def test_team_membership_changes_take_effect_at_once(world: World) -> None:
    board = world.board("team")
    url, account = world.server.database_url, world.tenant.account_id
    outsider = world.users["member without grant"]
    with world.client("member without grant") as client:
        assert client.get(f"/dashboards/{board['id']}").status_code == 403
        admin(url, "change-team", "--account", account, "--team", world.team, "--add", outsider)
        assert client.get(f"/dashboards/{board['id']}").status_code == 200
        admin(url, "change-team", "--account", account, "--team", world.team, "--remove", outsider)
        assert client.get(f"/dashboards/{board['id']}").status_code == 403


# --- regressions of known failure patterns of dashboard servers ---------------------------


def test_update_is_checked_like_create_no_self_granting(world: World) -> None:
    board = world.board("team")
    with world.client("member via team") as client:
        grab = {"access": {"inherits": False, "permissions": [
            {"principalKind": "user", "principalId": world.users["member via team"],
             "grant": ["read", "update", "delete", "modifyPermissions"]},
        ]}}  # fmt: skip
        assert client.put(f"/dashboards/{board['id']}", json=grab).status_code == 403
        claim = {"createdById": world.users["member via team"]}
        # Alone, a server-owned field is no field a PUT takes: 400.
        assert client.put(f"/dashboards/{board['id']}", json=claim).status_code == 400
        # Beside one, it is ignored, as every key a PUT does not take.
        owner_claim = client.put(f"/dashboards/{board['id']}", json={**claim, "name": "mine"})
        assert owner_claim.status_code == 200
        assert owner_claim.json()["createdById"] == world.users["owner"]
        assert client.delete(f"/dashboards/{board['id']}").status_code == 403


def test_a_viewer_cannot_delete_through_the_api_even_when_granted(world: World) -> None:
    board = world.board("viewer-role")  # the role grant names delete
    with world.client("viewer") as client:
        assert client.get(f"/dashboards/{board['id']}").json()["currentUserAllowedActions"] == [
            "read"
        ]
        assert client.delete(f"/dashboards/{board['id']}").status_code == 403


def test_cloning_someone_elses_board_keeps_its_audience(world: World) -> None:
    board = world.board("team")
    with world.client("member via team") as client:
        clone = client.post(f"/dashboards/{board['id']}/clone", json={}).json()
    assert clone["createdById"] == world.users["member via team"]
    # Shared as the original is; the teammate owns it, with the default owner permissions.
    assert clone["access"] == {
        "inherits": False,
        "ownerPermissions": {"grant": {"general": ["read", "update", "delete", "modifyPermissions"]}, "deny": {"general": []}},
        "permissions": board["access"]["permissions"],
    }  # fmt: skip
    # The original's owner gains nothing on the clone: not in the team, they cannot read it.
    with world.client("owner") as owner:
        assert owner.get(f"/dashboards/{clone['id']}").status_code == 403


def test_the_owner_cloning_keeps_the_grants(world: World) -> None:
    board = world.board("team")
    with world.client("owner") as owner:
        clone = owner.post(f"/dashboards/{board['id']}/clone", json={}).json()
    assert clone["access"]["permissions"] == board["access"]["permissions"]
    assert clone["access"]["inherits"] is False


def test_a_frozen_board_denies_its_owner(world: World) -> None:
    with world.client("owner") as owner:
        body = {
            "name": "frozen",
            "access": {"inherits": True, "ownerPermissions": {"deny": ["update", "delete"]}},
        }
        board = owner.post("/dashboards", json=body).json()
        assert board["currentUserAllowedActions"] == ["read", "modifyPermissions"]
        assert owner.put(f"/dashboards/{board['id']}", json={"name": "x"}).status_code == 403
        assert owner.delete(f"/dashboards/{board['id']}").status_code == 403
        # Unfreezing is a permissions change, which the owner still may make.
        unfreeze = {"access": {"inherits": True, "ownerPermissions": {"deny": []}}}
        assert owner.put(f"/dashboards/{board['id']}", json=unfreeze).status_code == 200
        assert owner.delete(f"/dashboards/{board['id']}").status_code == 204


# --- a clone is shared as its source, never wider ----------------------------------------

# The users of the matrix's account, one of each kind.
USERS = ["owner", "account admin", "member via team", "member via role", "viewer"]


def _published_board(world: World) -> dict[str, Any]:
    """Private, shared with team T (read, update) and the role member (read), and frozen by
    its owner (no update or delete), so that the owner's own permissions are in play too."""
    body = {
        "name": "published board",
        "access": {
            "inherits": False,
            "ownerPermissions": {"deny": ["update", "delete"]},
            "permissions": [
                {"principalKind": "team", "principalId": world.team, "grant": ["read", "update"]},
                {"principalKind": "role", "principalId": "member", "grant": ["read"]},
            ],
        },
        "tags": [{"name": "published"}],
        "insights": [{"insightId": "i1"}],
    }
    return world.created_by_owner(body)


def _rights(world: World, board_id: str) -> dict[str, set[str]]:
    """What each of USERS may do with the board; an empty set: not even read it."""
    rights: dict[str, set[str]] = {}
    for user in USERS:
        with world.client(user) as client:
            response = client.get(f"/dashboards/{board_id}")
        assert response.status_code in (200, 403), response.text
        ok = response.status_code == 200
        rights[user] = set(response.json()["currentUserAllowedActions"]) if ok else set()
    return rights


def _readers(rights: dict[str, set[str]]) -> set[str]:
    return {user for user, actions in rights.items() if "read" in actions}


# Each kind of caller that may read the published board and create boards.
@pytest.mark.parametrize("cloner", ["owner", "member via team", "member via role"])
def test_a_clone_is_shared_as_its_source_and_never_wider(world: World, cloner: str) -> None:
    source = _published_board(world)
    with world.client(cloner) as client:
        response = client.post(f"/dashboards/{source['id']}/clone", json={})
    assert response.status_code == 201, response.text
    clone = response.json()
    before, after = _rights(world, source["id"]), _rights(world, clone["id"])
    assert _readers(after) <= _readers(before) | {cloner}, (before, after)
    gains = {user: after[user] - before[user] for user in USERS if user != cloner}
    assert gains == {user: set() for user in gains}, (before, after)
    # The cloner owns the clone, with the default owner permissions: it is a new board of
    # theirs, and the source's owner permissions were about the source's owner.
    assert after[cloner] == {"read", "update", "delete", "modifyPermissions"}
    assert clone["access"]["inherits"] is False
    assert clone["access"]["permissions"] == source["access"]["permissions"]


# caller -> expected status of the account-level endpoints
ACCOUNT_ENDPOINTS: dict[str, dict[str, int]] = {
    "owner": dict(create=201, list=200, reports=200, usages=200),
    "account admin": dict(create=201, list=200, reports=200, usages=200),
    "member via team": dict(create=201, list=200, reports=200, usages=200),
    "member without grant": dict(create=201, list=200, reports=200, usages=200),
    "viewer": dict(create=403, list=200, reports=200, usages=200),
    "another account's admin": dict(create=201, list=200, reports=200, usages=200),
    "no token": dict(create=401, list=401, reports=401, usages=401),
    "revoked token": dict(create=401, list=401, reports=401, usages=401),
}


@pytest.mark.parametrize("caller", list(ACCOUNT_ENDPOINTS))
def test_account_level_endpoints(world: World, caller: str) -> None:
    with world.client(caller) as client:
        statuses = {
            "create": client.post("/dashboards", json={"name": f"by {caller}"}).status_code,
            "list": client.get("/dashboards").status_code,
            "reports": client.get("/dashboards/reports").status_code,
            "usages": client.get("/dashboards/tags/usages").status_code,
        }
    assert statuses == ACCOUNT_ENDPOINTS[caller]
