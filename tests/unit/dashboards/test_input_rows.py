"""Rows built from a request (dashboards/input_rows.py): pure, no database."""

import pytest

from insightboards.access import ALL_BITS, Caller
from insightboards.dashboards import input_rows
from insightboards.dashboards.records import ItemRecord
from insightboards.dashboards.schemas import AccessIn, DashboardItemIn, LabelIn
from insightboards.errors import BadRequest

CALLER = Caller("a" * 24, "b" * 24, "member")
NOW = "2026-12-07T10:00:00.000Z"


def test_labels_keep_their_order_and_nest_their_children() -> None:
    labels = [
        LabelIn.model_validate({"name": "okr", "title": "OKR"}),
        LabelIn.model_validate({"name": "kpi", "items": [{"name": "q1"}]}),
        LabelIn.model_validate({"name": "okr", "title": "again"}),
    ]
    rows = input_rows.label_rows(labels, CALLER, NOW, board_created="2026-01-01T00:00:00.000Z")
    assert [(row["position"], row["name"], row["title"]) for row in rows] == [
        (0, "okr", "OKR"),
        (1, "kpi", None),
        (2, "okr", "again"),
    ]
    # The label index holds a board once per name: its later labels of a name are marked.
    assert [row["repeated"] for row in rows] == [False, False, True]
    assert {row["board_created"] for row in rows} == {"2026-01-01T00:00:00.000Z"}
    assert rows[0]["created_by"] == CALLER.user_id and rows[0]["date_created"] == NOW
    assert [child["name"] for child in rows[1]["children"]] == ["q1"]
    assert rows[1]["children"][0]["createdBy"] == CALLER.user_id


def test_no_access_given_means_the_defaults() -> None:
    assert input_rows.access_columns(None) == (
        {"inherits": True, "owner_grant": ALL_BITS, "owner_deny": 0},
        [],
    )


def test_grants_to_one_principal_are_merged() -> None:
    access_in = AccessIn.model_validate(
        {
            "inherits": False,
            "permissions": [
                {"principalKind": "user", "principalId": "u1", "grant": {"general": ["read"]}},
                {"principalKind": "team", "principalId": "t1", "grant": {"general": ["read"]}},
                {"principalKind": "user", "principalId": "u1", "grant": {"general": ["update"]}},
            ],
        }
    )
    columns, grants = input_rows.access_columns(access_in)
    assert columns["inherits"] is False
    assert [(g["principal_id"], g["position"]) for g in grants] == [("u1", 0), ("t1", 1)]
    assert grants[0]["actions"] == input_rows.access.to_bits(["read", "update"])


def test_a_layout_keeps_ids_sent_and_the_creation_of_items_it_had() -> None:
    kept = DashboardItemIn.model_validate({"id": "i1", "insightId": "x", "row": 0, "col": 0})
    new = DashboardItemIn.model_validate({"insightName": "y", "row": 1, "col": 0})
    before = ItemRecord(
        "a" * 24, "d" * 24, "i1", 0, "insight", 0, 0, 1, 1, "x", None, None, None, {},
        "creator", "creator", "2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00.000Z",
    )  # fmt: skip
    rows = input_rows.layout_rows([kept, new], CALLER, NOW, previous={"i1": before})
    assert rows[0]["id"] == "i1" and rows[1]["id"] not in ("", "i1")
    assert rows[0]["created_by_id"] == "creator" and rows[0]["modified_by_id"] == CALLER.user_id
    assert rows[0]["date_created"] == "2020-01-01T00:00:00.000Z"
    assert rows[1]["created_by_id"] == CALLER.user_id and rows[1]["date_created"] == NOW
    assert rows[1]["kind"] == "insight" and rows[1]["insight_name"] == "y"


def test_a_section_header_keeps_its_header_id() -> None:
    header = DashboardItemIn.model_validate(
        {"id": "h1", "type": "sectionHeader", "row": 0, "col": 0}
    )
    before = ItemRecord(
        "a" * 24, "d" * 24, "h1", 0, "sectionHeader", 0, 0, 1, 1, None, None, "Old", None,
        {"sectionHeaderId": "sh1"}, "c", "c", NOW, NOW,
    )  # fmt: skip
    (row,) = input_rows.layout_rows([header], CALLER, NOW, previous={"h1": before})
    assert row["kind"] == "sectionHeader" and row["details"] == {"sectionHeaderId": "sh1"}
    assert row["insight_id"] is None


def test_an_item_id_twice_in_one_layout_is_refused() -> None:
    item = DashboardItemIn.model_validate({"id": "i1", "row": 0, "col": 0})
    with pytest.raises(BadRequest, match="appears twice"):
        input_rows.layout_rows([item, item], CALLER, NOW)


def test_a_new_board_is_at_version_one_with_what_was_given() -> None:
    access_columns, _ = input_rows.access_columns(None)
    columns = input_rows.new_board(
        "d" * 24, "tag1", "Board", CALLER.user_id, NOW, access_columns, archived=True
    )
    assert columns["version"] == 1 and columns["archived"] is True and columns["layout"] is None
    assert columns["date_created"] == columns["date_updated"] == NOW
    with pytest.raises(AssertionError):
        input_rows.new_board("d" * 24, "t", "B", "u", NOW, access_columns, colour="red")
