"""No member can break or stall the service for others: every nested input is bounded at the
door, every board is bounded in items, labels and size, a list is bounded in time, and odd
input of every kind is a 4xx problem, never a 500 (which would also drop the connection)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, Tenant, server_on_fresh_database
from tests.e2e.test_dashboards import assert_problem

JSON = {"Content-Type": "application/json"}
ITEMS_PER_BOARD = 500  # the defaults of the settings (docs/security.md)
LABELS_PER_BOARD = 500
BOARD_BYTES = 1024 * 1024


def _nested_label(depth: int) -> dict[str, Any]:
    label: dict[str, Any] = {"name": "leaf"}
    for _ in range(depth - 1):
        label = {"name": "branch", "items": [label]}
    return label


def _deep_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _assert_account_still_lists(api: Api) -> None:
    """What the attempts left behind (nothing) breaks no read of the account."""
    assert api.v2.get("/dashboards").status_code == 200
    assert api.v2.get("/dashboards", params={"fields": "tags,insights"}).status_code == 200
    assert api.v2.get("/dashboards/tags/usages").status_code == 200


# --- depth and breadth, at the door --------------------------------------------------------


def test_labels_nested_past_what_renders_are_refused_and_lists_keep_working(api: Api) -> None:
    """A 130-level label tree was stored, and every list of the account answered 500."""
    response = api.client.post("/dashboards", json={"name": "deep", "tags": [_nested_label(130)]})
    assert "64 levels" in assert_problem(response, 400)["detail"]
    _assert_account_still_lists(api)


@pytest.mark.parametrize("depth", [11, 20])
def test_labels_nest_at_most_ten_levels(api: Api, depth: int) -> None:
    board = api.create(tags=[_nested_label(10)])
    assert board["tags"][0]["items"][0]["items"][0]["name"] == "branch"
    created = api.client.post("/dashboards", json={"name": "x", "tags": [_nested_label(depth)]})
    assert "at most 10 levels" in json.dumps(assert_problem(created, 400))
    updated = api.client.put(f"/dashboards/{board['id']}", json={"tags": [_nested_label(depth)]})
    assert "at most 10 levels" in json.dumps(assert_problem(updated, 400))
    assert api.get(board["id"]).json()["version"] == 1


DEEP_BODIES = [
    ("POST", "/dashboards", {"name": "x", "ignored": _deep_list(65)}),
    ("POST", "/dashboards", {"name": "x", "settings": [{"name": "s", "junk": _deep_list(70)}]}),
    ("PUT", "/dashboards/{id}", {"parameters": [{"id": "p", "extra": _deep_list(80)}]}),
    ("PUT", "/dashboards/items/{id}", {"insightState": {"metadata": {"x": _deep_list(65)}}}),
    ("PUT", "/dashboards/items/{id}", [{"filters": ["a"], "more": _deep_list(65)}]),
    ("POST", "/dashboards/{id}/clone", {"tag": None, "deep": _deep_list(65)}),
    ("GET", "/dashboards", {"filter": {"$and": [{"name": "a", "x": _deep_list(65)}]}}),
]


@pytest.mark.parametrize(("method", "path", "body"), DEEP_BODIES)
def test_every_body_is_bounded_in_depth_wherever_the_nesting_is(
    api: Api, method: str, path: str, body: Any
) -> None:
    board = api.create()
    response = api.client.request(
        method, path.replace("{id}", board["id"]), content=json.dumps(body), headers=JSON
    )
    assert "64 levels" in assert_problem(response, 400)["detail"]
    assert api.get(board["id"]).json()["version"] == 1


TOO_BROAD = [
    ("settings", {"settings": [{"name": "s"}] * 101}),
    ("parameters", {"parameters": [{"id": "p"}] * 101}),
    ("valueDisplayNameAsArray", {"settings": [{"valueDisplayNameAsArray": ["v"] * 101}]}),
    ("permissions", {"access": {"permissions": [
        {"principalKind": "user", "principalId": f"u{n}", "grant": ["read"]} for n in range(501)
    ]}}),
    ("general", {"access": {"ownerPermissions": {"grant": ["read"] * 17}}}),
    ("filters", {"insights": [{"filters": ["f"] * 101}]}),
    ("insightRequiredEntities", {"insights": [{"insightRequiredEntities": [{}] * 101}]}),
    ("dataSourceIds", {"insights": [{"insightRequiredEntities": [{"dataSourceIds": ["d"] * 101}]}]}),  # noqa: E501
    ("settings of an item", {"insights": [{"settings": [{"name": "s"}] * 101}]}),
]  # fmt: skip


@pytest.mark.parametrize(("field", "body"), TOO_BROAD, ids=[field for field, _ in TOO_BROAD])
def test_every_list_inside_a_board_is_bounded(api: Api, field: str, body: dict[str, Any]) -> None:
    problem = assert_problem(api.client.post("/dashboards", json={"name": "x", **body}), 400)
    assert any(error["field"].endswith(field.split()[0]) for error in problem["errors"]), problem
    assert "at most" in json.dumps(problem)


# --- what a board may hold ------------------------------------------------------------------


def test_a_huge_layout_of_empty_items_is_refused_before_it_is_written(api: Api) -> None:
    """340,000 empty items in under 1 MiB took 12-16 s to save, holding SQLite's write lock."""
    board = api.create()
    body = b"[" + b",".join([b"{}"] * 340_000) + b"]"
    response = api.client.put(f"/dashboards/items/{board['id']}", content=body, headers=JSON)
    # Refused as parsed, before validation (which took the event loop seconds).
    assert "array of over 1000 elements" in assert_problem(response, 400)["detail"]
    assert api.get(board["id"]).json()["insightsCount"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "ignored": [0] * 1001},
        {"name": "x", "tags": [{"name": "a", "items": [{"name": "b"}] * 1001}]},
        {"name": "x", "parameters": [{"predefinedValues": [""] * 1001}]},
    ],
)
def test_no_array_in_a_body_is_longer_than_the_longest_list_the_api_takes(
    api: Api, body: dict[str, Any]
) -> None:
    response = api.client.post("/dashboards", json=body)
    assert "array of over 1000 elements" in assert_problem(response, 400)["detail"]


def test_items_per_board_are_bounded_on_every_write_path(api: Api) -> None:
    full = [{"insightName": f"i{n}"} for n in range(ITEMS_PER_BOARD)]
    board = api.create(insights=full)
    assert board["insightsCount"] == ITEMS_PER_BOARD

    def refused(response: httpx.Response) -> None:
        assert f"at most {ITEMS_PER_BOARD} items" in assert_problem(response, 400)["detail"]

    over = [*full, {"insightName": "one more"}]
    refused(api.client.post("/dashboards", json={"name": "x", "insights": over}))
    refused(
        api.client.post(
            "/dashboards", json={"name": "x", "insights": full[:300], "sectionHeaders": full[:201]}
        )
    )
    refused(api.client.put(f"/dashboards/items/{board['id']}", json=over))
    # One more item on a full board; a PUT of one part onto a board whose other part fills it.
    refused(api.client.put(f"/dashboards/items/{board['id']}", json={"insightName": "extra"}))
    refused(
        api.client.put(f"/dashboards/{board['id']}", json={"sectionHeaders": [{"header": "h"}]})
    )
    stored = api.get(board["id"]).json()
    assert (stored["version"], stored["insightsCount"], stored["sectionHeadersCount"]) == (
        1,
        ITEMS_PER_BOARD,
        0,
    )
    # Replacing an item of a full board is not adding one.
    first = stored["insights"][0]
    saved = api.client.put(
        f"/dashboards/items/{board['id']}", json={**first, "insightName": "renamed"}
    )
    assert saved.status_code == 204, saved.text


def test_labels_per_board_are_bounded_nested_ones_included(api: Api) -> None:
    def refused(response: httpx.Response) -> None:
        assert f"at most {LABELS_PER_BOARD} labels" in assert_problem(response, 400)["detail"]

    flat = [{"name": f"l{n}"} for n in range(LABELS_PER_BOARD + 1)]
    refused(api.client.post("/dashboards", json={"name": "x", "tags": flat}))
    nested = [{"name": f"p{n}", "items": [{"name": "c"}] * 4} for n in range(101)]  # 505
    refused(api.client.post("/dashboards", json={"name": "x", "tags": nested}))
    board = api.create(tags=flat[:LABELS_PER_BOARD])
    refused(api.client.put(f"/dashboards/{board['id']}", json={"tags": nested}))
    assert len(api.get(board["id"]).json()["tags"]) == LABELS_PER_BOARD


def test_a_boards_document_is_bounded_in_size_and_growing_it_past_is_413(api: Api) -> None:
    """Each request is under the 1 MiB body cap; the board they would build is not."""
    heavy = {"insightName": "heavy", "filters": ["f" * 10_000] * 35}  # ~350 KB each
    board = api.create(insights=[heavy, heavy])
    too_big = api.client.put(f"/dashboards/items/{board['id']}", json=heavy)
    assert f"at most {BOARD_BYTES} bytes" in assert_problem(too_big, 413)["detail"]
    assert api.client.put(
        f"/dashboards/{board['id']}", json={"sectionHeaders": [{"header": "h"}], "insights": [
            heavy, heavy, heavy]}
    ).status_code == 413  # fmt: skip
    stored = api.get(board["id"])
    assert stored.json()["version"] == 1 and stored.json()["insightsCount"] == 2
    assert len(stored.content) < BOARD_BYTES
    clone = api.client.post(f"/dashboards/{board['id']}/clone", json={})
    assert clone.status_code == 201, clone.text


# --- odd input is a 4xx problem, never a 500 --------------------------------------------------

BIG_NUMBER = "9" * 5000
EARLY = "0001-01-01T00:00:00+01:00"  # before year 1 in UTC
LATE = "9999-12-31T23:00:00-02:00"  # after year 9999 in UTC
LIST = "/dashboards"


def _query(document: dict[str, Any]) -> str:
    """A list URL with `document` as its filter (json.dumps writes a lone surrogate as an
    escape, as a client would send it)."""
    return f"{LIST}?filter={quote(json.dumps(document))}"


def _body(document: Any) -> str:
    return json.dumps(document)


ODD_REQUESTS = [
    ("5,000-digit number in a filter", "GET", LIST + "?filter={version:" + BIG_NUMBER + "}", None),
    (
        "5,000-digit number in a body filter",
        "GET",
        LIST,
        '{"filter":{"version":' + BIG_NUMBER + "}}",
    ),
    (
        "5,000-digit number in a body",
        "POST",
        LIST,
        '{"name":"x","tags":[{"name":' + BIG_NUMBER + "}]}",
    ),
    ("early date in a filter", "GET", _query({"dateCreated": {"$gt": EARLY}}), None),
    ("late date in a filter", "GET", _query({"tags.dateCreated": LATE}), None),
    (
        "early $date in a body filter",
        "GET",
        LIST,
        _body({"filter": {"dateUpdated": {"$lt": {"$date": EARLY}}}}),
    ),
    (
        "early label date",
        "POST",
        LIST,
        _body({"name": "x", "tags": [{"name": "a", "dateCreated": EARLY}]}),
    ),
    (
        "late label date",
        "PUT",
        "/dashboards/{id}",
        _body({"tags": [{"name": "a", "dateCreated": LATE}]}),
    ),
    (
        "late nested label date",
        "POST",
        LIST,
        _body(
            {"name": "x", "tags": [{"name": "a", "items": [{"name": "b", "dateCreated": LATE}]}]}
        ),
    ),
    ("lone surrogate in a filter", "GET", _query({"name": "\ud800"}), None),
    ("lone surrogate as a filter key", "GET", _query({"\udc00": 1}), None),
    ("lone surrogate in a body filter", "GET", LIST, _body({"filter": {"name": "\ud800"}})),
    (
        "lone surrogate in a body filter string",
        "GET",
        LIST,
        _body({"filter": _body({"name": "\ud800"})}),
    ),
    ("lone surrogate in a name", "POST", LIST, _body({"name": "\ud800"})),
    ("lone surrogate in an ignored field", "POST", LIST, _body({"name": "x", "other": "\udfff"})),
    (
        "lone surrogate in an item",
        "PUT",
        "/dashboards/items/{id}",
        _body({"insightName": "\ud800"}),
    ),
    ("lone surrogate in a clone tag", "POST", "/dashboards/{id}/clone", _body({"tag": "\ud800"})),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [case[1:] for case in ODD_REQUESTS],
    ids=[case[0] for case in ODD_REQUESTS],
)
def test_odd_input_is_a_400_problem(api: Api, method: str, path: str, body: str | None) -> None:
    board = api.create()
    headers = JSON if body is not None else {}
    response = api.client.request(
        method, path.replace("{id}", board["id"]), content=body, headers=headers
    )
    assert_problem(response, 400)
    assert api.get(board["id"]).json()["version"] == 1


@pytest.mark.parametrize("header", [b"\xb2", b"\xd9\xa3", b'"\xb9"', b"W/\xb3"])
def test_if_match_with_a_non_ascii_digit_never_matches(api: Api, header: bytes) -> None:
    """`²` is a digit to Python's str.isdigit, not to int(): it was a 500 on every change."""
    board = api.create()
    path = f"/dashboards/{board['id']}"
    item = f"/dashboards/items/{board['id']}"
    for method, url, body in (
        ("PUT", path, {"name": "n"}),
        ("PUT", item, {}),
        ("DELETE", path, None),
    ):
        response = api.client.request(method, url, json=body, headers={"If-Match": header})  # type: ignore[dict-item]
        assert_problem(response, 412)
    assert api.get(board["id"]).json()["version"] == 1


@pytest.mark.parametrize(
    "filter_document",
    [
        {"version": 2**40},
        {"version": {"$in": [1, 2**40]}},
        {"version": {"$lt": 2**40}},
        {"insightsCount": {"$lte": 2**35}},
        {"insights.row": {"$lt": 2**33}},
        {"insights": {"$elemMatch": {"sizeX": {"$ne": -(2**45)}}}},
        {"version": {"$gt": -(2**50)}},
    ],
)
def test_integers_beyond_32_bits_compare_as_numbers(
    api: Api, filter_document: dict[str, Any]
) -> None:
    """PostgreSQL answered 500 (`integer out of range`): the value was bound as the column's
    32-bit type."""
    tag = f"big-{abs(hash(json.dumps(filter_document))) % 10**9}"
    board = api.create(tag=tag, insights=[{"row": 1}])
    document = {"$and": [filter_document, {"tag": tag}]}
    page = api.list(filter=json.dumps(document))
    expected = [] if filter_document == {"version": 2**40} else [board["id"]]
    assert [item["id"] for item in page["items"]] == expected


def test_dates_before_year_1000_are_stored_in_the_fixed_width_form(api: Api) -> None:
    board = api.create(tags=[{"name": "old", "dateCreated": "0005-03-01"}])
    assert board["tags"][0]["dateCreated"] == "0005-03-01T00:00:00.000Z"
    page = api.list(filter=json.dumps({"tags.dateCreated": {"$lt": "0100-01-01"}}))
    assert board["id"] in [item["id"] for item in page["items"]]


# --- a list is bounded in time, on both databases -----------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hurried(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Tenant]]:
    """A server whose lists may run 50 ms."""
    directory = tmp_path_factory.mktemp(f"hurried-{request.param}")
    env = {"INSIGHTBOARDS_LIST_TIME_LIMIT_MS": "50", "INSIGHTBOARDS_RATE_LIMIT_PER_MINUTE": "0"}
    with server_on_fresh_database(request.param, Path(directory), env) as server:
        yield server, make_tenant(server, "Hurried")


def test_a_list_past_its_time_limit_is_cancelled_with_a_400(
    hurried: tuple[Server, Tenant],
) -> None:
    """160 `$regex` terms over 80,000 items ran 25 s on SQLite, which had no time limit."""
    server, tenant = hurried
    api = Api(server.base_url, tenant.tokens["admin"])
    try:
        layout = [{"insightName": f"insight number {n}"} for n in range(ITEMS_PER_BOARD)]
        for _ in range(8):
            api.create(insights=layout)
        regexes = {"$or": [{"insights.insightName": {"$regex": f"x{n}y"}} for n in range(160)]}
        response = api.v2.get("/dashboards", params={"filter": json.dumps(regexes)})
        assert "took longer than 50 ms" in assert_problem(response, 400)["detail"]
        # The server goes on serving, lists included.
        assert api.list(filter=json.dumps({"name": "Board"}), take=1)["totalCount"] == 8
    finally:
        api.close()
