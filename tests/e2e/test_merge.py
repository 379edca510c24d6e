"""Changes sent with a stale If-Match are merged with the changes made since, on both
databases, when they do not touch the same fields or items; a true conflict gets 412 with
each conflicting place."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.e2e.harness import Api, Server, Tenant
from tests.e2e.test_dashboards import assert_problem

MERGED = "insightboards-merged-from"


def _board(api: Api, count: int = 2) -> dict[str, Any]:
    return api.create(
        name="Shared",
        insights=[{"insightId": f"i{n}", "row": n, "sizeX": 2} for n in range(count)],
    )


def _save_item(api: Api, board_id: str, item: dict[str, Any], if_match: int) -> httpx.Response:
    return api.client.put(
        f"/dashboards/items/{board_id}", json=item, headers={"If-Match": f'"{if_match}"'}
    )


def test_two_clients_saving_different_tiles_both_land(api: Api, member_api: Api) -> None:
    board = _board(api)
    first, second = board["insights"]
    mine = _save_item(api, board["id"], {**first, "sizeX": 5}, 1)
    assert mine.status_code == 204 and mine.headers["etag"] == '"2"'
    assert MERGED not in mine.headers
    theirs = _save_item(api, board["id"], {**second, "row": 9}, 1)  # read at version 1
    assert theirs.status_code == 204, theirs.text
    assert theirs.headers["etag"] == '"3"'
    assert theirs.headers[MERGED] == "1"
    now = api.get(board["id"]).json()
    assert [(i["sizeX"], i["row"]) for i in now["insights"]] == [(5, 0), (2, 9)]


def test_two_clients_changing_the_same_tile_conflict(api: Api) -> None:
    board = _board(api)
    first = board["insights"][0]
    assert _save_item(api, board["id"], {**first, "sizeX": 5}, 1).status_code == 204
    refused = assert_problem(_save_item(api, board["id"], {**first, "sizeX": 7}, 1), 412)
    assert refused["errors"] == [
        {"field": f"/items/{first['id']}", "message": refused["errors"][0]["message"]}
    ]
    # The same change from both sides is no conflict.
    same = _save_item(api, board["id"], {**first, "sizeX": 5}, 1)
    assert same.status_code == 204, same.text
    assert api.get(board["id"]).json()["insights"][0]["sizeX"] == 5


def test_a_put_of_fields_merges_with_a_layout_change(api: Api) -> None:
    board = _board(api)
    first = board["insights"][0]
    assert _save_item(api, board["id"], {**first, "col": 4}, 1).status_code == 204
    # A second tab sends back the whole board it read at version 1, renamed.
    response = api.client.put(
        f"/dashboards/{board['id']}", json={**board, "name": "Renamed"}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert response.headers[MERGED] == "1" and response.headers["etag"] == '"3"'
    merged = response.json()
    assert merged["name"] == "Renamed"
    assert merged["insights"][0]["col"] == 4  # the other tab's move survives
    assert api.get(board["id"]).json() == merged


def test_a_put_of_items_merges_with_a_rename(api: Api) -> None:
    board = _board(api)
    renamed = api.client.put(
        f"/dashboards/{board['id']}", json={"name": "First"}, headers={"If-Match": '"1"'}
    )
    assert renamed.status_code == 200
    second = board["insights"][1]
    added = {"insightId": "new", "row": 5}
    response = api.client.put(
        f"/dashboards/{board['id']}",
        json={"insights": [board["insights"][0], {**second, "sizeY": 3}, added]},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["name"] == "First"
    assert [(i["insightId"], i["sizeY"]) for i in merged["insights"]] == [
        ("i0", 1),
        ("i1", 3),
        ("new", 1),
    ]


def test_the_same_field_changed_on_both_sides_conflicts(api: Api) -> None:
    board = _board(api)
    path = f"/dashboards/{board['id']}"
    assert api.client.put(path, json={"name": "A", "archived": True}).status_code == 200
    refused = assert_problem(
        api.client.put(path, json={"name": "B", "archived": True}, headers={"If-Match": '"1"'}),
        412,
    )
    assert [error["field"] for error in refused["errors"]] == ["/name"]
    assert api.get(board["id"]).json()["name"] == "A"
    # A removed tile that the other side changed conflicts too.
    first, second = board["insights"]
    assert _save_item(api, board["id"], {**first, "sizeY": 4}, 2).status_code == 204
    refused = assert_problem(
        api.client.put(path, json={"insights": [second]}, headers={"If-Match": '"2"'}), 412
    )
    assert [error["field"] for error in refused["errors"]] == [f"/insights/{first['id']}"]


def test_a_version_the_board_does_not_keep_cannot_be_merged(api: Api) -> None:
    board = _board(api)
    path = f"/dashboards/{board['id']}"
    assert_problem(api.client.put(path, json={"name": "x"}, headers={"If-Match": '"7"'}), 412)
    assert_problem(api.client.put(path, json={"name": "x"}, headers={"If-Match": '"0"'}), 412)
    assert api.get(board["id"]).json()["version"] == 1


def test_twenty_parallel_saves_of_different_tiles_with_one_if_match_all_land(
    server: Server, tenant: Tenant
) -> None:
    api = Api(server.base_url, tenant.tokens["admin"])
    try:
        board = _board(api, 20)

        def save(item: dict[str, Any]) -> httpx.Response:
            with httpx.Client(
                base_url=f"{server.base_url}/results/api/v1",
                headers={"Authorization": f"Bearer {tenant.tokens['admin']}"},
                timeout=60,
            ) as client:
                return client.put(
                    f"/dashboards/items/{board['id']}",
                    json={**item, "sizeY": 4},
                    headers={"If-Match": '"1"'},
                )

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(save, board["insights"]))
        assert [answer.status_code for answer in answers] == [204] * 20
        now = api.get(board["id"]).json()
        assert now["version"] == 21
        assert {item["sizeY"] for item in now["insights"]} == {4}
        assert sorted(int(a.headers["etag"].strip('"')) for a in answers) == list(range(2, 22))
    finally:
        api.close()


def test_if_match_past_any_version_number_is_412(api: Api) -> None:
    board = _board(api)
    huge = {"If-Match": '"3000000000"'}
    path = f"/dashboards/{board['id']}"
    assert_problem(api.client.put(path, json={"name": "x"}, headers=huge), 412)
    item = board["insights"][0]
    assert_problem(api.client.put(f"/dashboards/items/{board['id']}", json=item, headers=huge), 412)
    assert_problem(api.client.put(f"/dashboards/items/{board['id']}", json=[], headers=huge), 412)


def test_a_new_order_made_on_an_older_version_is_merged(api: Api) -> None:
    board = _board(api)
    path = f"/dashboards/{board['id']}"
    assert api.client.put(path, json={"name": "Renamed"}).status_code == 200
    first, second = board["insights"]
    reordered = api.client.put(
        path, json={"insights": [second, first]}, headers={"If-Match": '"1"'}
    )
    assert reordered.status_code == 200, reordered.text
    assert reordered.headers[MERGED] == "1"
    merged = reordered.json()
    assert merged["name"] == "Renamed"
    assert [i["id"] for i in merged["insights"]] == [second["id"], first["id"]]
