"""No input the API accepts can make a later read fail.

Random boards (every field, labels nested to the deepest allowed, any Unicode text,
dates across years 1 to 9999 with offsets, the vendor's odd forms) are created, updated and
given items over HTTP; each stored board must then be readable by id and by tag, listable with
every projection and with a filter on each of its labels, present in tag usages, clonable
and deletable; what is refused is refused whole, and the account's lists keep working.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.harness import Api
from tests.e2e.test_dashboards import assert_problem

EXAMPLES = int(os.environ.get("INSIGHTBOARDS_STORED_FUZZ_EXAMPLES", "25"))
# Every top-level field of a served dashboard, each asked for alone in a projection.
DOCUMENT_FIELDS = [
    "name", "tag", "archived", "isReport", "layout", "createdById", "dateCreated",
    "dateUpdated", "version", "access", "settings", "parameters", "tags", "insights",
    "sectionHeaders", "source", "appsCount", "notificationsCount", "insightsCount",
    "sectionHeadersCount", "usersCount", "currentUserAllowedActions", "readOnly",
]  # fmt: skip

# Any character a JSON string can carry to a database: no NUL, no lone surrogate.
text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
names = text.filter(bool)
identifiers = st.text("abcdef0123456789-_", min_size=1, max_size=24)
offsets = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
).map(lambda moment: moment.isoformat())
timestamps = st.one_of(moments, st.dates().map(lambda day: day.isoformat()))
ALL_ACTIONS = ["read", "update", "delete", "modifyPermissions"]
actions = st.lists(st.sampled_from(["read", "update", "delete", "modifyPermissions"]), max_size=4)
small = st.integers(min_value=0, max_value=100_000)


def labels(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    # Wide near the top, a chain further down: deep trees stay under the labels cap.
    width = 2 if depth <= 3 else 1
    children = st.lists(labels(depth - 1), max_size=width) if depth > 1 else st.just([])
    return st.fixed_dictionaries(
        {"name": names},
        optional={
            "id": identifiers,
            "title": st.none() | text,
            "isActive": st.booleans() | st.booleans().map(lambda b: {"IsActive": b}),
            "createdBy": identifiers,
            "dateCreated": timestamps,
            "items": children,
        },
    )


def _chain(depth: int) -> dict[str, Any]:
    label: dict[str, Any] = {"name": "leaf"}
    for _ in range(depth - 1):
        label = {"name": "link", "items": [label]}
    return label


# Trees of up to 10 levels (the deepest the API takes), and now and then a chain of up to
# 140, which must be refused or else stored readable.
label_trees = st.lists(
    st.one_of(labels(2), labels(10), st.integers(1, 140).map(_chain)), max_size=3
)
setting = st.fixed_dictionaries(
    {},
    optional={
        "name": text,
        "value": st.none() | text,
        "valueDisplayName": text,
        "valueDisplayNameAsArray": st.lists(text, max_size=3),
        "dynamicValues": st.lists(st.fixed_dictionaries({}, optional={"teamId": text}), max_size=2),
    },
)
# The vendor's one-string form of settings, `name: "session", value: "..."`.
setting_strings = st.lists(
    st.tuples(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text("abc xyz", max_size=8)),
    min_size=1,
    max_size=3,
).map(lambda pairs: ", ".join(f'{key}: "{value}"' for key, value in pairs))
settings_lists = st.lists(setting, max_size=3) | setting_strings
parameter = st.fixed_dictionaries(
    {},
    optional={
        "id": text,
        "key": text,
        "title": text,
        "defaultValue": st.none() | text,
        "predefinedValues": st.lists(text, max_size=3),
    },
)
insight = st.fixed_dictionaries(
    {},
    optional={
        "id": identifiers,
        "type": text,
        "row": small,
        "col": small,
        "sizeX": small.map(lambda n: n + 1 if n < 100_000 else n),
        "insightId": identifiers,
        "insightName": text,
        "insightTitle": text,
        "filters": st.lists(text, max_size=3),
        "settings": settings_lists,
        "insightRequiredEntities": st.lists(
            st.fixed_dictionaries({}, optional={"dataSourceIds": st.lists(text, max_size=2)}),
            max_size=2,
        ),
        "insightSource": st.fixed_dictionaries({}, optional={"sourceApplication": text}),
        "insightState": st.fixed_dictionaries(
            {},
            optional={
                "error": text,
                "status": text,
                "metadata": st.fixed_dictionaries(
                    {}, optional={"count": st.integers(-(2**62), 2**62), "names": text}
                ),
            },
        ),
    },
)
section_header = st.fixed_dictionaries(
    {"type": st.just("sectionHeader")},
    optional={"header": text, "subHeader": text, "row": small, "col": small},
) | st.fixed_dictionaries({"sectionHeader": st.fixed_dictionaries({}, optional={"header": text})})
access = st.fixed_dictionaries(
    {},
    optional={
        "inherits": st.booleans(),
        # The owner (the caller) keeps every right, in each of the accepted forms, so that
        # the later steps are allowed; what other principals get is random.
        "ownerPermissions": st.fixed_dictionaries(
            {},
            optional={
                "grant": st.sampled_from([ALL_ACTIONS, {"general": ALL_ACTIONS}]),
                "deny": st.sampled_from([[], {"general": []}]),
            },
        ),
        "permissions": st.lists(
            st.fixed_dictionaries(
                {
                    "principalKind": st.sampled_from(["user", "team", "role", "account"]),
                    "principalId": identifiers,
                    "grant": actions,
                }
            ),
            max_size=3,
        ),
    },
)
board_fields = {
    "archived": st.booleans(),
    "layout": st.none() | text,
    "settings": settings_lists,
    "parameters": st.lists(parameter, max_size=3),
    "tags": label_trees,
    "access": access,
    "insights": st.lists(insight, max_size=4, unique_by=lambda i: i.get("id", uuid.uuid4())),
    "sectionHeaders": st.lists(section_header, max_size=2),
}
boards = st.fixed_dictionaries({"name": names}, optional=board_fields)
updates = st.fixed_dictionaries({}, optional={"name": names, **board_fields})


def _assert_lists(api: Api) -> None:
    for fields in (None, "tags", "insights,sectionHeaders"):
        response = api.v2.get("/dashboards", params={"fields": fields} if fields else {})
        assert response.status_code == 200, response.text


def _check_readable(api: Api, board: dict[str, Any]) -> None:
    by_id = api.get(board["id"])
    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == board
    by_tag = api.client.get(f"/dashboards/tag/{board['tag']}")
    assert by_tag.status_code == 200 and by_tag.json() == board, by_tag.text
    listed = api.list(filter=json.dumps({"id": board["id"]}))
    assert listed["items"] == [board]
    for field in DOCUMENT_FIELDS:
        projected = api.list(filter=json.dumps({"id": board["id"]}), fields=field)["items"]
        assert projected == [
            {"id": board["id"], "accountId": board["accountId"], field: board[field]}
        ]
    for name in {label["name"] for label in board["tags"]}:
        page = api.list(filter=json.dumps({"tags.name": name, "id": board["id"]}), fields="id")
        assert page["totalCount"] == 1
    usages = api.client.get("/dashboards/tags/usages", params={"fields": "tagName,dashboardsIds"})
    assert usages.status_code == 200, usages.text
    carried = {
        usage["tagName"]
        for usage in usages.json()["items"]
        if board["id"] in usage["dashboardsIds"]
    }
    assert carried == {label["name"] for label in board["tags"]}
    _assert_lists(api)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=boards, update=updates, item=insight | section_header)
def test_every_stored_board_reads_lists_clones_and_deletes(
    api: Api, body: dict[str, Any], update: dict[str, Any], item: dict[str, Any]
) -> None:
    created = api.client.post("/dashboards", json=body)
    if created.status_code != 201:  # refused as a whole, at the door
        assert_problem(created, 400)
        _assert_lists(api)
        return
    board = created.json()
    _check_readable(api, board)

    updated = api.client.put(f"/dashboards/{board['id']}", json=update)
    if updated.status_code == 200:
        board = updated.json()
    else:
        assert_problem(updated, 400)
    _check_readable(api, board)

    saved = api.client.put(f"/dashboards/items/{board['id']}", json=item)
    assert saved.status_code == 204, (item, saved.text)
    board = api.get(board["id"]).json()
    _check_readable(api, board)

    clone = api.client.post(f"/dashboards/{board['id']}/clone", json={})
    assert clone.status_code == 201, clone.text
    _check_readable(api, clone.json())
    for dashboard_id in (clone.json()["id"], board["id"]):
        assert api.client.delete(f"/dashboards/{dashboard_id}").status_code == 204
        assert_problem(api.get(dashboard_id), 404)
