"""A board's history over HTTP, on both databases: every change makes a version with its
kind, author, time and changed fields; a version's document; the JSON Patch between two;
restore; and who may see and restore what."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonpatch
import pytest
import sqlalchemy as sa

from insightboards.config import Settings
from insightboards.dashboards import history, trash_repository
from insightboards.dashboards.limits import Limits
from insightboards.database import Database
from insightboards.tables import dashboard_versions
from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, Tenant, backends, server_on_fresh_database
from tests.e2e.test_dashboards import assert_problem

CALLER_FIELDS = {"usersCount", "currentUserAllowedActions", "readOnly"}


def _versions(api: Api, board_id: str, **params: Any) -> dict[str, Any]:
    response = api.client.get(f"/dashboards/{board_id}/versions", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _version(api: Api, board_id: str, number: int) -> dict[str, Any]:
    response = api.client.get(f"/dashboards/{board_id}/versions/{number}")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _put(api: Api, board_id: str, **body: Any) -> dict[str, Any]:
    response = api.client.put(f"/dashboards/{board_id}", json=body)
    assert response.status_code == 200, response.text
    board: dict[str, Any] = response.json()
    return board


def _stored(board: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in board.items() if key not in CALLER_FIELDS}


def test_every_change_makes_a_version(api: Api, tenant: Tenant) -> None:
    created = api.create(name="History", tags=[{"name": "h"}], insights=[{"insightId": "a"}])
    board_id = created["id"]
    renamed = _put(api, board_id, name="History 2")
    item = renamed["insights"][0]
    saved = api.client.put(f"/dashboards/items/{board_id}", json={**item, "sizeX": 5})
    assert saved.status_code == 204, saved.text
    layout = api.client.put(f"/dashboards/items/{board_id}", json=[{**item, "row": 7}])
    assert layout.status_code == 204, layout.text
    access = {"inherits": False, "permissions": []}
    shared = _put(api, board_id, access=access)
    assert shared["version"] == 5

    page = _versions(api, board_id)
    assert page["totalCount"] == 5
    assert [v["version"] for v in page["items"]] == [5, 4, 3, 2, 1]
    assert [v["kind"] for v in page["items"]] == ["access", "layout", "item", "update", "create"]
    assert {v["userId"] for v in page["items"]} == {tenant.users["admin"]}
    assert page["items"][0]["changedFields"] == ["access"]
    assert page["items"][3]["changedFields"] == ["name"]
    assert page["items"][2]["changedFields"] == ["insights"]
    assert page["items"][4]["date"] == created["dateCreated"]
    assert page["items"][0]["date"] == shared["dateUpdated"]
    # Newest first, paged.
    assert [v["version"] for v in _versions(api, board_id, skip=1, take=2)["items"]] == [4, 3]
    # A PUT that changes nothing makes no version.
    _put(api, board_id, name="History 2")
    assert _versions(api, board_id)["totalCount"] == 5


def test_a_version_is_the_board_as_it_was(api: Api) -> None:
    created = api.create(name="Before", insights=[{"insightId": "a", "sizeX": 2}])
    board_id = created["id"]
    changed = _put(api, board_id, name="After", archived=True)
    assert _version(api, board_id, 1) == _stored(created)
    assert _version(api, board_id, 2) == _stored(changed)
    assert_problem(api.client.get(f"/dashboards/{board_id}/versions/3"), 404)


def test_the_diff_is_a_json_patch_between_two_versions(api: Api) -> None:
    created = api.create(name="One", insights=[{"insightId": "a"}, {"insightId": "b"}])
    board_id = created["id"]
    second = _put(api, board_id, name="Two", insights=[created["insights"][0]])
    response = api.client.get(f"/dashboards/{board_id}/versions/1/diff/2")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json-patch+json"
    patch = response.json()
    assert {"op": "replace", "path": "/name", "value": "Two"} in patch
    # Applied to version 1, it gives version 2; the reverse patch goes back.
    assert jsonpatch.apply_patch(_stored(created), patch) == _stored(second)
    back = api.client.get(f"/dashboards/{board_id}/versions/2/diff/1").json()
    assert jsonpatch.apply_patch(_stored(second), back) == _stored(created)
    assert api.client.get(f"/dashboards/{board_id}/versions/2/diff/2").json() == []
    assert_problem(api.client.get(f"/dashboards/{board_id}/versions/1/diff/9"), 404)


def test_restore_makes_a_new_version_equal_to_the_old_one(api: Api) -> None:
    created = api.create(
        name="Original",
        tags=[{"name": "kept", "title": "Kept"}],
        insights=[{"insightId": "a", "sizeX": 2}, {"insightId": "b"}],
        sectionHeaders=[{"sectionHeader": {"header": "Top"}, "row": 0}],
    )
    board_id = created["id"]
    _put(api, board_id, name="Changed", tags=[], insights=[created["insights"][1]])
    restored = api.client.post(f"/dashboards/{board_id}/versions/1/restore")
    assert restored.status_code == 200, restored.text
    assert restored.headers["etag"] == '"3"'
    board = restored.json()
    assert board["version"] == 3
    assert [i["insightId"] for i in board["insights"]] == ["a", "b"]
    assert board["name"] == "Original"
    assert board["tags"] == created["tags"]  # the labels' ids and stamps come back too
    # Equal to version 1 but for what the restore stamps on it.
    stamps = {"version", "dateUpdated", "insights", "sectionHeaders"}
    assert {k: v for k, v in board.items() if k not in stamps} == {
        k: v for k, v in created.items() if k not in stamps
    }
    assert [(i["id"], i["sizeX"]) for i in board["insights"]] == [
        (i["id"], i["sizeX"]) for i in created["insights"]
    ]
    assert board["sectionHeaders"][0]["sectionHeader"]["header"] == "Top"
    top = _versions(api, board_id)["items"][0]
    assert (top["version"], top["kind"]) == (3, "restore")
    assert "name" in top["changedFields"]
    assert api.get(board_id).json() == board


def test_restore_honours_if_match_and_needs_update(
    api: Api, member_api: Api, viewer_api: Api
) -> None:
    created = api.create(name="Guarded")
    board_id = created["id"]
    _put(api, board_id, name="Guarded 2")
    path = f"/dashboards/{board_id}/versions/1/restore"
    assert_problem(api.client.post(path, headers={"If-Match": '"1"'}), 412)
    assert_problem(viewer_api.client.post(path), 403)
    assert _versions(viewer_api, board_id)["totalCount"] == 2  # reading history needs read
    done = api.client.post(path, headers={"If-Match": '"2"'})
    assert done.status_code == 200, done.text
    # A board that is that version already keeps its version.
    again = api.client.post(path)
    assert again.status_code == 200
    assert again.json()["version"] == 3


def test_restoring_access_needs_modify_permissions(api: Api, tenant: Tenant, clients: Any) -> None:
    member = tenant.users["member"]
    grant = {"general": ["read", "update"]}
    created = api.create(
        name="Shared",
        access={
            "inherits": False,
            "permissions": [{"principalKind": "user", "principalId": member, "grant": grant}],
        },
    )
    board_id = created["id"]
    _put(
        api,
        board_id,
        access={
            "inherits": True,
            "permissions": [{"principalKind": "user", "principalId": member, "grant": grant}],
        },
    )
    member_api = clients(tenant.tokens["member"])
    assert_problem(member_api.client.post(f"/dashboards/{board_id}/versions/1/restore"), 403)
    assert _versions(api, board_id)["totalCount"] == 2


def test_history_is_private_to_the_account_and_to_readers(
    api: Api, viewer_api: Api, other_api: Api
) -> None:
    private = api.create(name="Private", access={"inherits": False, "permissions": []})
    board_id = private["id"]
    for path in ("versions", "versions/1", "versions/1/diff/1"):
        assert_problem(other_api.client.get(f"/dashboards/{board_id}/{path}"), 404)
        assert_problem(viewer_api.client.get(f"/dashboards/{board_id}/{path}"), 403)
    assert_problem(other_api.client.post(f"/dashboards/{board_id}/versions/1/restore"), 404)
    for bad in ("versions/0", "versions/x", "versions/1/diff/-1"):
        response = api.client.get(f"/dashboards/{board_id}/{bad}")
        assert response.status_code in (400, 404), response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_clones_start_their_own_history(api: Api) -> None:
    source = api.create(name="Source")
    _put(api, source["id"], name="Source 2")
    clone = api.client.post(f"/dashboards/{source['id']}/clone", json={})
    assert clone.status_code == 201, clone.text
    page = _versions(api, clone.json()["id"])
    assert [(v["version"], v["kind"]) for v in page["items"]] == [(1, "clone")]
    assert _versions(api, clone.json()["id"], skip=1) == {"items": [], "totalCount": 1}
    assert _versions(api, clone.json()["id"], take=0) == {"items": [], "totalCount": 1}


@pytest.fixture(scope="module", params=backends())
def short_history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Tenant]]:
    directory: Path = tmp_path_factory.mktemp(f"history-{request.param}")
    with server_on_fresh_database(
        request.param, directory, {"INSIGHTBOARDS_HISTORY_KEEP_VERSIONS": "3"}
    ) as server:
        yield server, make_tenant(server, "ShortHistory")


def test_a_board_keeps_the_versions_it_is_set_to(short_history: tuple[Server, Tenant]) -> None:
    server, tenant = short_history
    api = Api(server.base_url, tenant.tokens["admin"])
    try:
        board_id = api.create(name="v1")["id"]
        for number in range(2, 7):
            _put(api, board_id, name=f"v{number}")
        page = _versions(api, board_id)
        assert [v["version"] for v in page["items"]] == [6, 5, 4]
        assert page["totalCount"] == 3
        assert _version(api, board_id, 4)["name"] == "v4"
        assert_problem(api.client.get(f"/dashboards/{board_id}/versions/3"), 404)
        assert_problem(api.client.post(f"/dashboards/{board_id}/versions/2/restore"), 404)
    finally:
        api.close()


def test_history_routes_in_openapi(server: Server) -> None:
    document = httpx.get(f"{server.base_url}/openapi.json").json()
    paths = document["paths"]
    prefix = "/results/api/v1/dashboards/{dashboardId}/versions"
    assert "get" in paths[prefix]
    assert "get" in paths[f"{prefix}/{{version}}"]
    assert "get" in paths[f"{prefix}/{{version}}/diff/{{other}}"]
    assert "post" in paths[f"{prefix}/{{version}}/restore"]


@pytest.fixture(scope="module", params=backends())
def dated_history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Tenant]]:
    directory: Path = tmp_path_factory.mktemp(f"dated-{request.param}")
    with server_on_fresh_database(
        request.param, directory, {"INSIGHTBOARDS_HISTORY_KEEP_DAYS": "7"}
    ) as server:
        yield server, make_tenant(server, "DatedHistory")


def _age_versions(server: Server, board_id: str) -> None:
    """Make every kept version of the board a year old."""
    database = Database(server.database_url)
    try:
        with database.write() as conn:
            v = dashboard_versions
            conn.execute(
                sa.update(v)
                .where(v.c.dashboard_id == board_id)
                .values(date="2025-01-01T00:00:00.000Z")
            )
    finally:
        database.dispose()


def test_versions_past_the_days_kept_go_but_the_last_two(
    dated_history: tuple[Server, Tenant],
) -> None:
    server, tenant = dated_history
    api = Api(server.base_url, tenant.tokens["admin"])
    try:
        board_id = api.create(name="v1")["id"]
        for number in (2, 3):
            _put(api, board_id, name=f"v{number}")
        _age_versions(server, board_id)
        # A change after a long idle keeps the version it replaces.
        _put(api, board_id, name="v4")
        assert [v["version"] for v in _versions(api, board_id)["items"]] == [4, 3]
        # Boards that no longer change, live or trashed, lose theirs in the background.
        other = api.create(name="w1")["id"]
        for number in (2, 3, 4):
            _put(api, other, name=f"w{number}")
        assert api.client.delete(f"/dashboards/{other}").status_code == 204
        _age_versions(server, other)
        database = Database(server.database_url)
        try:
            limits = Limits.from_settings(Settings(history_keep_days=7))
            assert history.drop_expired(database, limits) == 2  # w1 and w2
        finally:
            database.dispose()
        assert api.client.post(f"/dashboards/{other}/undelete").status_code == 200
        assert [v["version"] for v in _versions(api, other)["items"]] == [4, 3]
        assert [v["version"] for v in _versions(api, board_id)["items"]] == [4, 3]
    finally:
        api.close()


def test_a_purge_of_a_board_the_trash_no_longer_holds_keeps_its_history(
    server: Server, tenant: Tenant, api: Api
) -> None:
    """The hourly purge finds a board in the trash, then an undelete takes it out before the
    purge gets to it: the live board's history stays."""
    board_id = api.create(name="Live")["id"]
    _put(api, board_id, name="Live 2")
    database = Database(server.database_url)
    try:
        with database.write() as conn:
            assert trash_repository.purge(conn, tenant.account_id, board_id) is None
    finally:
        database.dispose()
    assert _versions(api, board_id)["totalCount"] == 2
