"""Each Dashboards endpoint over HTTP, with every status code the vendor lists for it."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.harness import Api

PROBLEM = "application/problem+json"


def unique_tag() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def insight(**fields: Any) -> dict[str, Any]:
    return {
        "insightId": "ins-1",
        "insightName": "Revenue",
        "row": 0,
        "col": 0,
        "sizeX": 2,
        "sizeY": 1,
    } | fields


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# --- create -------------------------------------------------------------------------------


def test_create_returns_201_location_and_the_full_dashboard(api: Api) -> None:
    tag = unique_tag()
    response = api.client.post(
        "/dashboards",
        json={
            "name": "Sales",
            "tag": tag,
            "insights": [insight()],
            "sectionHeaders": [{"header": "Top", "subHeader": "line", "row": 1}],
            "tags": [{"name": "okr", "title": "OKR", "items": [{"name": "child"}]}],
            "parameters": [{"key": "quarter", "title": "Quarter"}],
            "id": "000000000000000000000000",
            "createdById": "someone-else",
            "isReport": True,
            "insightsCount": 99,
        },
    )
    assert response.status_code == 201, response.text
    board = response.json()
    assert response.headers["location"] == f"/results/api/v1/dashboards/{board['id']}"
    assert response.headers["etag"] == '"1"'
    # Server-owned fields are never taken from input.
    assert board["id"] != "000000000000000000000000" and len(board["id"]) == 24
    assert board["isReport"] is False and board["createdById"] != "someone-else"
    assert board["insightsCount"] == 1 and board["sectionHeadersCount"] == 1
    assert board["tag"] == tag and board["version"] == 1 and board["source"] is None
    assert board["insights"][0]["insightId"] == "ins-1" and board["insights"][0]["sizeX"] == 2
    header = board["sectionHeaders"][0]
    assert header["type"] == "sectionHeader" and header["row"] == 1
    assert (
        header["sectionHeader"]["header"] == "Top"
        and header["sectionHeader"]["subHeader"] == "line"
    )
    assert header["sectionHeaderId"] == header["sectionHeader"]["id"]
    assert board["tags"][0]["name"] == "okr" and board["tags"][0]["items"][0]["name"] == "child"
    assert board["parameters"][0]["key"] == "quarter"
    assert board["currentUserAllowedActions"] == ["read", "update", "delete", "modifyPermissions"]
    assert board["readOnly"] is False
    assert board["access"]["inherits"] is True and board["access"]["permissions"] == []
    assert board["dateCreated"].endswith("Z") and board["dateCreated"] == board["dateUpdated"]
    # Location leads to the same board.
    assert (
        api.client.get(response.headers["location"].removeprefix("/results/api/v1")).json() == board
    )


def test_create_generates_a_tag_when_none_is_given(api: Api) -> None:
    first, second = api.create(name="A"), api.create(name="B")
    assert first["tag"] and second["tag"] and first["tag"] != second["tag"]


def test_grid_fields_default_when_left_out(api: Api) -> None:
    board = api.create(insights=[{"insightId": "x"}])
    item = board["insights"][0]
    assert (item["row"], item["col"], item["sizeX"], item["sizeY"]) == (0, 0, 1, 1)


def test_create_with_a_taken_tag_is_409(api: Api) -> None:
    tag = unique_tag()
    api.create(tag=tag)
    assert_problem(api.client.post("/dashboards", json={"name": "Again", "tag": tag}), 409)


def test_malformed_json_is_400_problem(api: Api) -> None:
    response = api.client.post(
        "/dashboards", content=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )
    assert "JSON" in assert_problem(response, 400)["detail"]


def test_wrong_shapes_are_400_with_each_bad_field(api: Api) -> None:
    response = api.client.post(
        "/dashboards", json={"name": 5, "archived": "maybe", "insights": [{"row": -1}]}
    )
    fields = {error["field"] for error in assert_problem(response, 400)["errors"]}
    assert {"body.name", "body.archived", "body.insights.0.row"} <= fields
    for body in ([], "text", {"tags": "x"}, {"name": "x", "settings": "not a setting"}):
        assert_problem(api.client.post("/dashboards", json=body), 400)


# --- get ----------------------------------------------------------------------------------


def test_get_unknown_or_malformed_id_is_404(api: Api) -> None:
    assert_problem(api.get("0123456789abcdef01234567"), 404)
    assert_problem(api.get("not-an-id"), 404)


def test_get_by_tag(api: Api) -> None:
    board = api.create(tag=unique_tag())
    response = api.client.get(f"/dashboards/tag/{board['tag']}")
    assert response.status_code == 200 and response.json()["id"] == board["id"]
    assert_problem(api.client.get(f"/dashboards/tag/{unique_tag()}"), 404)


# --- list ---------------------------------------------------------------------------------


def test_list_pages_with_skip_and_take_under_v1_and_v2(api: Api) -> None:
    for index in range(3):
        api.create(name=f"page {index}")
    everything = api.list(take=1000)
    assert everything["count"] == len(everything["items"]) == everything["totalCount"] >= 5
    ids = [item["id"] for item in everything["items"]]
    assert ids == sorted(ids)
    page = api.list(skip=1, take=2)
    assert [item["id"] for item in page["items"]] == ids[1:3]
    assert page["count"] == 2 and page["totalCount"] == everything["totalCount"]
    v1 = api.client.get("/dashboards", params={"skip": 1, "take": 2}).json()
    assert v1 == page
    # `limit` is an alias of `take`; the query string wins over a JSON body.
    assert api.list(limit=1)["count"] == 1
    response = api.v2.request("GET", "/dashboards?take=2", json={"take": 1, "skip": 1})
    assert [item["id"] for item in response.json()["items"]] == ids[1:3]


def test_list_rejects_bad_paging(api: Api) -> None:
    for params in ({"take": -1}, {"take": 1001}, {"skip": -5}, {"take": "many"}):
        assert_problem(api.v2.get("/dashboards", params=params), 400)


def test_list_projection_keeps_id_and_account_id(api: Api, tenant: Any) -> None:
    api.create(name="projected", insights=[insight(row=3)])
    page = api.list(fields="name,insights{insightId,row}", take=1000)
    board = next(item for item in page["items"] if item["name"] == "projected")
    assert set(board) == {"id", "accountId", "name", "insights"}
    assert board["insights"] == [{"insightId": "ins-1", "row": 3}]
    assert board["accountId"] == tenant.account_id


def test_list_sort_descending_by_name(api: Api) -> None:
    mine = {f"sort {letter}" for letter in "bca"}
    for name in mine:
        api.create(name=name)
    names = [item["name"] for item in api.list(sort="-name", take=1000)["items"]]
    assert [name for name in names if name in mine] == ["sort c", "sort b", "sort a"]
    items = api.list(sort="archived", take=1000)["items"]
    keys = [(item["archived"], item["id"]) for item in items]
    assert keys == sorted(keys), "ordered by archived, ties broken by id"
    assert_problem(api.v2.get("/dashboards", params={"sort": "nope"}), 400)


# --- update -------------------------------------------------------------------------------


def test_update_merges_fields_and_keeps_what_is_absent(api: Api) -> None:
    board = api.create(
        name="Before",
        insights=[insight()],
        sectionHeaders=[{"header": "H"}],
        tags=[{"name": "keep"}],
    )
    response = api.client.put(
        f"/dashboards/{board['id']}", json={"name": "After", "archived": True}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "After" and updated["archived"] is True
    assert (
        updated["insights"] == board["insights"]
        and updated["sectionHeaders"] == board["sectionHeaders"]
    )
    assert updated["tags"] == board["tags"] and updated["tag"] == board["tag"]
    assert updated["version"] == 2 and response.headers["etag"] == '"2"'
    assert updated["dateUpdated"] >= board["dateUpdated"]
    assert api.get(board["id"]).json() == updated


def test_an_update_that_changes_nothing_keeps_the_version(api: Api) -> None:
    """Sending back what GET gave, or a name it already has, writes nothing: 200 with the
    board at the version it had, so no other client's If-Match breaks. A stale If-Match is
    still a 412, and a real change still moves the version on."""
    board = api.create(
        name="Same",
        insights=[insight()],
        sectionHeaders=[{"header": "H", "subHeader": "s"}],
        tags=[{"name": "okr", "title": "OKR"}],
        settings=[{"name": "s", "value": "v"}],
    )
    path = f"/dashboards/{board['id']}"
    for body in (board, {"name": "Same"}, {"tags": board["tags"], "archived": False}):
        response = api.client.put(path, json=body)
        assert response.status_code == 200, response.text
        assert response.json() == board and response.headers["etag"] == '"1"', body
    stale = api.client.put(path, json={"name": "Same"}, headers={"If-Match": '"7"'})
    assert_problem(stale, 412)
    renamed = api.client.put(path, json={"name": "Other"}, headers={"If-Match": '"1"'})
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    again = api.client.put(path, json={"name": "Other"}, headers={"If-Match": '"2"'})
    assert again.json()["version"] == 2 and api.get(board["id"]).json() == renamed.json()


def test_labels_sent_back_without_their_stamps_keep_them_and_the_version(api: Api) -> None:
    """The vendor's sample PUT body sends labels without dateCreated or createdBy (and a
    child label too): sent twice, the second changes nothing, and the labels keep the date
    they were first created, matched by id, else by name."""
    vendor_tags = [
        {
            "id": "string",
            "isActive": {"IsActive": False},
            "name": "string value",
            "title": "string value",
            "items": [{"name": "child"}],
        },
        {"name": "plain"},
    ]
    board = api.create(tags=[{"name": "plain", "title": "P"}])
    path = f"/dashboards/{board['id']}"
    first = api.client.put(path, json={"tags": vendor_tags})
    assert first.status_code == 200 and first.json()["version"] == 2
    labels = first.json()["tags"]
    assert labels[1]["dateCreated"] == board["tags"][0]["dateCreated"]  # by name
    assert labels[1]["id"] == board["tags"][0]["id"]
    second = api.client.put(path, json={"tags": vendor_tags})
    assert second.status_code == 200 and second.headers["etag"] == '"2"'
    assert second.json() == first.json()
    renamed = [{**vendor_tags[0], "name": "renamed"}, vendor_tags[1]]  # same id
    third = api.client.put(path, json={"tags": renamed}).json()
    assert third["version"] == 3
    assert third["tags"][0]["dateCreated"] == labels[0]["dateCreated"]
    assert third["tags"][0]["items"][0]["dateCreated"] == labels[0]["items"][0]["dateCreated"]


def test_an_item_save_that_changes_nothing_keeps_the_version(api: Api) -> None:
    """Saving an item as it is, or the layout GET gave, answers 204 at the same version."""
    board = api.create(insights=[insight()], sectionHeaders=[{"header": "H", "subHeader": "s"}])
    path = f"/dashboards/items/{board['id']}"
    item = board["insights"][0]
    layout = [*board["insights"], *board["sectionHeaders"]]
    for body in (item, layout, board["sectionHeaders"][0]):
        response = api.client.put(path, json=body)
        assert response.status_code == 204 and response.headers["etag"] == '"1"', body
    assert api.get(board["id"]).json() == board
    moved = api.client.put(path, json={**item, "row": item["row"] + 1})
    assert moved.status_code == 204 and moved.headers["etag"] == '"2"'


def test_update_replaces_insights_but_keeps_section_headers(api: Api) -> None:
    board = api.create(insights=[insight()], sectionHeaders=[{"header": "H"}])
    updated = api.client.put(
        f"/dashboards/{board['id']}", json={"insights": [insight(insightId="new")]}
    ).json()
    assert [i["insightId"] for i in updated["insights"]] == ["new"]
    assert updated["sectionHeaders"] == board["sectionHeaders"]


def test_update_accepts_the_vendor_forms_and_rejects_nulls(api: Api) -> None:
    board = api.create()
    response = api.client.put(
        f"/dashboards/{board['id']}",
        json={
            "settings": 'name: "session", value: "v1"',
            "tags": [{"name": "a", "isActive": {"IsActive": True}}],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"][0]["value"] == "v1"
    assert response.json()["tags"][0]["isActive"] is True
    assert_problem(api.client.put(f"/dashboards/{board['id']}", json={"name": None}), 400)


def test_update_to_a_taken_tag_is_409_and_changes_nothing(api: Api) -> None:
    first, second = api.create(tag=unique_tag()), api.create(tag=unique_tag(), name="second")
    response = api.client.put(
        f"/dashboards/{second['id']}", json={"tag": first["tag"], "name": "x"}
    )
    assert_problem(response, 409)
    assert api.get(second["id"]).json()["name"] == "second"


def test_update_unknown_id_is_404(api: Api) -> None:
    assert_problem(api.client.put("/dashboards/0123456789abcdef01234567", json={"name": "x"}), 404)


def test_if_match_guards_against_lost_updates(api: Api) -> None:
    board = api.create()
    url = f"/dashboards/{board['id']}"
    assert api.client.put(url, json={"name": "one"}, headers={"If-Match": '"1"'}).status_code == 200
    stale = api.client.put(url, json={"name": "two"}, headers={"If-Match": '"1"'})
    assert "changed" in assert_problem(stale, 412)["detail"]
    assert api.get(board["id"]).json()["name"] == "one"
    assert_problem(api.client.delete(url, headers={"If-Match": '"1"'}), 412)
    assert api.client.delete(url, headers={"If-Match": '"2"'}).status_code == 204


# --- delete -------------------------------------------------------------------------------


def test_delete_removes_from_get_lists_and_usages(api: Api) -> None:
    label = f"gone-{uuid.uuid4().hex[:6]}"
    board = api.create(tag=unique_tag(), tags=[{"name": label}])
    assert api.client.delete(f"/dashboards/{board['id']}").status_code == 204
    assert_problem(api.get(board["id"]), 404)
    assert_problem(api.client.get(f"/dashboards/tag/{board['tag']}"), 404)
    assert board["id"] not in [item["id"] for item in api.list(take=1000)["items"]]
    usages = api.client.get("/dashboards/tags/usages").json()["items"]
    assert label not in [usage["tagName"] for usage in usages]
    assert_problem(api.client.delete(f"/dashboards/{board['id']}"), 404)


# --- clone --------------------------------------------------------------------------------


def test_clone_copies_content_under_a_new_id_and_tag(api: Api, tenant: Any) -> None:
    original = api.create(
        name="Original",
        insights=[insight()],
        sectionHeaders=[{"header": "H"}],
        settings=[{"name": "session", "value": "q2"}],
        parameters=[{"key": "p"}],
        tags=[{"name": "okr"}],
    )
    tag = unique_tag()
    response = api.client.post(f"/dashboards/{original['id']}/clone", json={"tag": tag})
    assert response.status_code == 201, response.text
    copy = response.json()
    assert response.headers["location"] == f"/results/api/v1/dashboards/{copy['id']}"
    assert copy["id"] != original["id"] and copy["tag"] == tag
    assert copy["source"] == {"sourceApplication": "clone", "sourceId": original["id"]}
    assert copy["createdById"] == tenant.users["admin"]
    for key in ("name", "settings", "parameters", "insightsCount", "sectionHeadersCount"):
        assert copy[key] == original[key]
    assert [i["insightId"] for i in copy["insights"]] == ["ins-1"]
    assert copy["insights"][0]["dashboardId"] == copy["id"]
    assert [t["name"] for t in copy["tags"]] == ["okr"]
    # The copies are independent of the original.
    api.client.put(f"/dashboards/{copy['id']}", json={"insights": []})
    assert api.get(original["id"]).json()["insightsCount"] == 1


def test_clone_status_codes(api: Api) -> None:
    original = api.create(tag=unique_tag())
    assert_problem(
        api.client.post(f"/dashboards/{original['id']}/clone", json={"tag": original["tag"]}), 409
    )
    assert_problem(api.client.post("/dashboards/0123456789abcdef01234567/clone", json={}), 404)
    assert_problem(api.client.post(f"/dashboards/{original['id']}/clone", json={"tag": 7}), 400)
    assert api.client.post(f"/dashboards/{original['id']}/clone", json={}).status_code == 201


# --- items --------------------------------------------------------------------------------


def test_item_save_adds_then_replaces_one_item_by_id(api: Api) -> None:
    board = api.create(insights=[insight(insightId="keep")])
    url = f"/dashboards/items/{board['id']}"
    response = api.client.put(url, json=insight(insightId="added", row=2))
    assert response.status_code == 204 and response.content == b""
    after_add = api.get(board["id"]).json()
    assert [i["insightId"] for i in after_add["insights"]] == ["keep", "added"]
    added = after_add["insights"][1]
    assert api.client.put(url, json={**added, "row": 5, "sizeX": 3}).status_code == 204
    after_replace = api.get(board["id"]).json()
    assert after_replace["insightsCount"] == 2
    assert after_replace["insights"][1] | {"row": 0, "sizeX": 0} == added | {"row": 0, "sizeX": 0}
    assert (after_replace["insights"][1]["row"], after_replace["insights"][1]["sizeX"]) == (5, 3)
    assert after_replace["version"] == board["version"] + 2
    # An id that is not on the board adds the item under that id.
    assert api.client.put(url, json=insight(id="client-chosen")).status_code == 204
    assert "client-chosen" in [i["id"] for i in api.get(board["id"]).json()["insights"]]


def test_item_save_of_a_body_with_no_item_field_saves_nothing(api: Api) -> None:
    """The vendor page's sample body is a dashboard's name, tag and labels: 204 as the page
    says, and no empty tile added each time it is sent."""
    board = api.create(insights=[insight()])
    vendor_body = {
        "name": "OKR Performance",
        "tag": "phe6ery4o",
        "tags": [{"name": "x"}],
        "settings": 'name: "session", value: "602d03d90f20d5000195c7b3"',
    }
    for _ in range(2):
        response = api.client.put(f"/dashboards/items/{board['id']}", json=vendor_body)
        assert response.status_code == 204 and response.headers["etag"] == '"1"'
    after = api.get(board["id"]).json()
    assert after["insights"] == board["insights"] and after["version"] == 1
    added = api.client.put(f"/dashboards/items/{board['id']}", json={"insightId": "i2"})
    assert added.status_code == 204 and added.headers["etag"] == '"2"'


def test_item_save_of_a_section_header(api: Api) -> None:
    board = api.create()
    url = f"/dashboards/items/{board['id']}"
    body = {
        "type": "sectionHeader",
        "sectionHeader": {"header": "Q3", "subHeader": "goals"},
        "row": 4,
    }
    assert api.client.put(url, json=body).status_code == 204
    headers = api.get(board["id"]).json()["sectionHeaders"]
    assert (
        len(headers) == 1
        and headers[0]["sectionHeader"]["header"] == "Q3"
        and headers[0]["row"] == 4
    )


def test_item_save_array_replaces_the_whole_layout(api: Api) -> None:
    board = api.create(
        insights=[insight(insightId="a"), insight(insightId="b")],
        sectionHeaders=[{"header": "old"}],
    )
    kept = board["insights"][1]
    layout = [
        {**kept, "row": 9},
        insight(insightId="c"),
        {"type": "sectionHeader", "header": "new"},
    ]
    assert api.client.put(f"/dashboards/items/{board['id']}", json=layout).status_code == 204
    after = api.get(board["id"]).json()
    assert [i["insightId"] for i in after["insights"]] == ["b", "c"]
    assert after["insights"][0]["id"] == kept["id"] and after["insights"][0]["row"] == 9
    assert [h["sectionHeader"]["header"] for h in after["sectionHeaders"]] == ["new"]
    assert after["insightsCount"] == 2 and after["sectionHeadersCount"] == 1


def test_item_save_status_codes(api: Api, viewer_api: Api) -> None:
    board = api.create()
    url = f"/dashboards/items/{board['id']}"
    assert_problem(api.client.put(url, json={"row": "top"}), 400)
    assert_problem(api.client.put(url, json=[insight(id="dup"), insight(id="dup")]), 400)
    assert_problem(
        api.client.put("/dashboards/items/0123456789abcdef01234567", json=insight()), 404
    )
    assert_problem(viewer_api.client.put(url, json=insight()), 403)
    assert api.get(board["id"]).json()["insightsCount"] == 0


# --- reports ------------------------------------------------------------------------------


def test_reports_are_listed_readable_cloneable_and_read_only(api: Api) -> None:
    reports = api.client.get("/dashboards/reports").json()
    assert sorted(r["name"] for r in reports) == ["Performance", "Process"]
    report = api.get(reports[0]["id"]).json()
    assert report["isReport"] is True and report["readOnly"] is True
    assert report["currentUserAllowedActions"] == ["read"]
    assert_problem(api.client.put(f"/dashboards/{report['id']}", json={"name": "x"}), 403)
    assert_problem(api.client.delete(f"/dashboards/{report['id']}"), 403)
    assert_problem(api.client.put(f"/dashboards/items/{report['id']}", json=insight()), 403)
    copy = api.client.post(f"/dashboards/{report['id']}/clone", json={}).json()
    assert copy["isReport"] is False and copy["readOnly"] is False
    # Everyone reads a report, and its clone, which has the default access.
    assert copy["access"]["inherits"] is True and copy["access"]["permissions"] == []


# --- tag usages ---------------------------------------------------------------------------


def test_tag_usages_count_dashboards_per_label(api: Api) -> None:
    label = f"usage-{uuid.uuid4().hex[:6]}"
    first = api.create(tags=[{"name": label, "title": "Usage"}])
    second = api.create(tags=[{"name": label}, {"name": f"{label}-other"}])
    items = api.client.get("/dashboards/tags/usages").json()["items"]
    usage = next(u for u in items if u["tagName"] == label)
    assert usage == {
        "tagName": label,
        "tagTitle": "Usage",
        "dashboardsCount": 2,
        "dashboardsIds": sorted([first["id"], second["id"]]),
    }
    projected = api.client.get(
        "/dashboards/tags/usages", params={"fields": "dashboardsCount"}
    ).json()
    assert {"tagName": label, "dashboardsCount": 2} in projected["items"]
    assert_problem(api.client.get("/dashboards/tags/usages", params={"fields": "a{b"}), 400)


# --- openapi ------------------------------------------------------------------------------


def test_openapi_describes_every_endpoint_with_real_schemas(api: Api, server: Any) -> None:
    import httpx

    document = httpx.get(f"{server.base_url}/openapi.json").json()
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    for version in ("v1", "v2"):
        base = f"/results/api/{version}/dashboards"
        assert {
            ("GET", base),
            ("POST", base),
            ("GET", f"{base}/reports"),
            ("GET", f"{base}/tags/usages"),
            ("GET", f"{base}/tag/{{tag}}"),
            ("PUT", f"{base}/items/{{id}}"),
            ("GET", f"{base}/{{dashboardId}}"),
            ("PUT", f"{base}/{{dashboardId}}"),
            ("DELETE", f"{base}/{{dashboardId}}"),
            ("POST", f"{base}/{{dashboardId}}/clone"),
        } <= operations
    public = document["components"]["schemas"]["DashboardPublic"]
    seed_keys = {
        "access", "appsCount", "archived", "createdById", "currentUserAllowedActions", "id",
        "insights", "insightsCount", "isReport", "layout", "name", "notificationsCount",
        "parameters", "readOnly", "sectionHeaders", "sectionHeadersCount", "settings",
        "source", "tag", "tags", "usersCount",
    }  # fmt: skip
    assert seed_keys <= set(public["properties"])
    for owned in ("id", "createdById", "insightsCount", "currentUserAllowedActions", "readOnly"):
        assert public["properties"][owned].get("readOnly") is True
    assert httpx.get(f"{server.base_url}/docs").status_code == 200


def test_label_dates_are_normalized_iso_timestamps(api: Api) -> None:
    board = api.create(tags=[{"name": "a", "dateCreated": "2024-01-01T02:00:00.000000+02:00"}])
    assert board["tags"][0]["dateCreated"] == "2024-01-01T00:00:00.000Z"
    assert_problem(
        api.client.post(
            "/dashboards", json={"name": "x", "tags": [{"name": "a", "dateCreated": "soon"}]}
        ),
        400,
    )


def test_an_item_may_move_between_insights_and_section_headers(api: Api) -> None:
    board = api.create(insights=[insight(id="i1")], sectionHeaders=[{"id": "s1", "header": "H"}])
    response = api.client.put(
        f"/dashboards/{board['id']}", json={"insights": [insight(id="i1"), insight(id="s1")]}
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert [i["id"] for i in moved["insights"]] == ["i1", "s1"] and moved["sectionHeaders"] == []


def test_item_save_answers_with_the_new_etag(api: Api) -> None:
    board = api.create()
    response = api.client.put(f"/dashboards/items/{board['id']}", json=insight())
    assert response.status_code == 204 and response.headers["etag"] == '"2"'
    # Made at version 1, the save of a new item is merged with the one made since.
    stale = api.client.put(
        f"/dashboards/items/{board['id']}", json=insight(), headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 204 and stale.headers["etag"] == '"3"'
    assert stale.headers["insightboards-merged-from"] == "1"
    assert api.get(board["id"]).json()["insightsCount"] == 2
    unknown = api.client.put(
        f"/dashboards/items/{board['id']}", json=insight(), headers={"If-Match": '"9"'}
    )
    assert_problem(unknown, 412)


def test_an_item_saves_errors_name_the_fields_not_the_models(api: Api) -> None:
    """The body is one item or a list of them: an error names the field of what was sent."""
    board = api.create()
    path = f"/dashboards/items/{board['id']}"
    one = assert_problem(api.client.put(path, json={"row": "x"}), 400)
    assert [e["field"] for e in one["errors"]] == ["body.row"]
    assert one["detail"].startswith("body.row: ")
    listed = assert_problem(api.client.put(path, json=[{"sizeX": 0}]), 400)
    assert [e["field"] for e in listed["errors"]] == ["body.0.sizeX"]
