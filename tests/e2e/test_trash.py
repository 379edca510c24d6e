"""The trash over HTTP, on both databases: a DELETE moves a board there (gone from every
read of live boards, as before); the trash lists what the caller may delete; undelete puts
the board back exactly; purge removes it and its history; the plan's cap does not count
trashed boards; access and tenancy as for live boards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from insightboards.accounts import service as accounts
from insightboards.dashboards import trash
from insightboards.database import Database
from insightboards.tables import trashed_dashboards
from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, Tenant
from tests.e2e.test_dashboards import assert_problem, unique_tag


def _trash(api: Api, **params: Any) -> dict[str, Any]:
    response = api.client.get("/dashboards/trash", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _trashed_ids(api: Api) -> list[str]:
    return [board["id"] for board in _trash(api, take=1000)["items"]]


def test_a_deleted_board_goes_to_the_trash_and_comes_back_as_it_was(
    api: Api, tenant: Tenant
) -> None:
    label = unique_tag()
    created = api.create(
        name="Binned",
        tag=unique_tag(),
        tags=[{"name": label}],
        insights=[{"insightId": "a", "sizeX": 3}],
        sectionHeaders=[{"sectionHeader": {"header": "Head"}}],
    )
    board_id = created["id"]
    renamed = api.client.put(f"/dashboards/{board_id}", json={"name": "Binned 2"}).json()
    assert api.client.delete(f"/dashboards/{board_id}").status_code == 204

    # Gone from every read of live boards.
    assert_problem(api.get(board_id), 404)
    assert_problem(api.client.get(f"/dashboards/tag/{created['tag']}"), 404)
    assert api.list(filter=f'{{"tags.name": "{label}"}}')["totalCount"] == 0
    usages = api.client.get("/dashboards/tags/usages").json()["items"]
    assert label not in {usage["tagName"] for usage in usages}
    assert_problem(api.client.put(f"/dashboards/{board_id}", json={"name": "x"}), 404)

    # In the trash, last deleted first.
    page = _trash(api)
    entry = next(board for board in page["items"] if board["id"] == board_id)
    assert entry["name"] == "Binned 2" and entry["tag"] == created["tag"]
    assert entry["version"] == 2 and entry["deletedById"] == tenant.users["admin"]
    assert entry["createdById"] == tenant.users["admin"] and entry["isReport"] is False
    assert page["totalCount"] >= 1

    back = api.client.post(f"/dashboards/{board_id}/undelete")
    assert back.status_code == 200, back.text
    assert back.headers["etag"] == '"2"'
    assert back.json() == renamed
    assert api.get(board_id).json() == renamed
    assert api.client.get(f"/dashboards/tag/{created['tag']}").status_code == 200
    assert api.list(filter=f'{{"tags.name": "{label}"}}')["totalCount"] == 1
    assert board_id not in _trashed_ids(api)
    # Its history came through; it goes on from where it was.
    versions = api.client.get(f"/dashboards/{board_id}/versions").json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    assert (
        api.client.put(f"/dashboards/{board_id}", json={"name": "Binned 3"}).json()["version"] == 3
    )
    assert_problem(api.client.post(f"/dashboards/{board_id}/undelete"), 404)


def test_undelete_is_refused_when_the_tag_was_taken_meanwhile(api: Api) -> None:
    tag = unique_tag()
    first = api.create(name="First", tag=tag)
    assert api.client.delete(f"/dashboards/{first['id']}").status_code == 204
    api.create(name="Second", tag=tag)
    conflict = assert_problem(api.client.post(f"/dashboards/{first['id']}/undelete"), 409)
    assert tag in conflict["detail"]
    assert first["id"] in _trashed_ids(api)  # still there, to undelete once the tag is free


def test_purge_removes_the_board_and_its_history(api: Api) -> None:
    board_id = api.create(name="Purged")["id"]
    assert api.client.delete(f"/dashboards/{board_id}").status_code == 204
    assert api.client.delete(f"/dashboards/trash/{board_id}").status_code == 204
    assert board_id not in _trashed_ids(api)
    assert_problem(api.client.post(f"/dashboards/{board_id}/undelete"), 404)
    assert_problem(api.client.delete(f"/dashboards/trash/{board_id}"), 404)
    assert_problem(api.client.delete("/dashboards/trash/not-an-id"), 404)


def test_the_trash_shows_each_caller_what_they_may_delete(
    api: Api, member_api: Api, viewer_api: Api, other_api: Api, tenant: Tenant
) -> None:
    private = api.create(name="Admin's own", access={"inherits": False, "permissions": []})
    members = member_api.create(name="Member's own")
    for board in (private, members):
        assert api.client.delete(f"/dashboards/{board['id']}").status_code == 204
    # The member may delete their own board, not the admin's private one.
    assert members["id"] in _trashed_ids(member_api)
    assert private["id"] not in _trashed_ids(member_api)
    assert_problem(member_api.client.post(f"/dashboards/{private['id']}/undelete"), 403)
    assert_problem(member_api.client.delete(f"/dashboards/trash/{private['id']}"), 403)
    # A viewer may delete nothing; another account sees none of it.
    assert not {private["id"], members["id"]} & set(_trashed_ids(viewer_api))
    assert_problem(viewer_api.client.post(f"/dashboards/{members['id']}/undelete"), 403)
    assert not {private["id"], members["id"]} & set(_trashed_ids(other_api))
    assert_problem(other_api.client.post(f"/dashboards/{private['id']}/undelete"), 404)
    assert_problem(other_api.client.delete(f"/dashboards/trash/{members['id']}"), 404)
    back = member_api.client.post(f"/dashboards/{members['id']}/undelete")
    assert back.status_code == 200, back.text
    assert back.json()["createdById"] == tenant.users["member"]


def test_the_trash_pages(server: Server, clients: Callable[..., Api]) -> None:
    tenant = make_tenant(server, "TrashPages")
    api = clients(tenant.tokens["admin"])
    ids = [api.create(name=f"b{n}")["id"] for n in range(5)]
    for board_id in ids:
        assert api.client.delete(f"/dashboards/{board_id}").status_code == 204
    page = _trash(api, skip=1, take=2)
    assert page["totalCount"] == 5
    assert [board["id"] for board in page["items"]] == [ids[3], ids[2]]
    assert _trash(api, take=0) == {"items": [], "totalCount": 5}


def test_trashed_boards_do_not_count_against_the_plan(
    server: Server, clients: Callable[..., Api]
) -> None:
    tenant = make_tenant(server, "TrashCap")
    api = clients(tenant.tokens["admin"])
    database = Database(server.database_url)
    try:
        accounts.set_plan(database, tenant.account_id, "starter", 1, False)
    finally:
        database.dispose()
    first = api.create(name="one")
    assert api.client.delete(f"/dashboards/{first['id']}").status_code == 204
    api.create(name="two")  # the trashed board leaves room
    assert_problem(api.client.post(f"/dashboards/{first['id']}/undelete"), 402)


def test_boards_trashed_longer_than_kept_are_purged(
    server: Server, clients: Callable[..., Api]
) -> None:
    tenant = make_tenant(server, "TrashAge")
    api = clients(tenant.tokens["admin"])
    old, recent = api.create(name="old")["id"], api.create(name="recent")["id"]
    for board_id in (old, recent):
        assert api.client.delete(f"/dashboards/{board_id}").status_code == 204
    database = Database(server.database_url)
    try:
        with database.write() as conn:
            t = trashed_dashboards
            conn.execute(
                sa.update(t)
                .where(t.c.account_id == tenant.account_id, t.c.id == old)
                .values(date_deleted="2026-01-01T00:00:00.000Z")
            )
        assert trash.purge_expired(database, 30) >= 1
    finally:
        database.dispose()
    assert _trashed_ids(api) == [recent]
