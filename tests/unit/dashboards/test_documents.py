"""A board's stored document (dashboards/documents.py), rendered from its rows and spliced
with each caller's fields: pure, no database."""

import dataclasses

import orjson
import pytest

from insightboards.access import ALL_BITS, READ, Caller
from insightboards.dashboards import documents, input_rows
from insightboards.dashboards.limits import DEFAULT_LIMITS
from insightboards.dashboards.records import DashboardRecord, GrantRecord, ItemRecord, LabelRecord
from insightboards.errors import BadRequest, ContentTooLarge

ACCOUNT, BOARD, OWNER = "a" * 24, "d" * 24, "b" * 24
NOW = "2026-12-07T10:00:00.000Z"
# The keys of the vendor's sample response, less those that depend on the caller.
STORED_KEYS = {
    "id", "accountId", "name", "tag", "archived", "isReport", "layout", "createdById",
    "dateCreated", "dateUpdated", "version", "access", "settings", "parameters", "tags",
    "insights", "sectionHeaders", "source", "appsCount", "notificationsCount",
    "insightsCount", "sectionHeadersCount",
}  # fmt: skip


def board(**given: object) -> DashboardRecord:
    access_columns, _ = input_rows.access_columns(None)
    columns = input_rows.new_board(BOARD, "t1", "Board", OWNER, NOW, access_columns, **given)
    return DashboardRecord(account_id=ACCOUNT, **columns, document=None)


def item(position: int, kind: str = "insight") -> ItemRecord:
    header = "Heading" if kind == "sectionHeader" else None
    details = {"sectionHeaderId": f"h{position}"} if header else {}
    return ItemRecord(
        ACCOUNT, BOARD, f"i{position}", position, kind, position, 0, 2, 2,
        "x" if kind == "insight" else None, None, header, None, details, OWNER, OWNER, NOW, NOW,
    )  # fmt: skip


def test_a_board_renders_every_stored_key_and_counts_its_items() -> None:
    label = LabelRecord(ACCOUNT, BOARD, 0, "l1", "okr", "OKR", True, OWNER, NOW, [], NOW, False)
    grant = GrantRecord(ACCOUNT, BOARD, "team", "t1", READ, 0)
    rendered = documents.render(
        board(), [item(0), item(1, "sectionHeader"), item(2)], [label], [grant]
    )
    assert set(rendered) == STORED_KEYS
    assert not STORED_KEYS & documents.CALLER_FIELDS
    assert (rendered["insightsCount"], rendered["sectionHeadersCount"]) == (2, 1)
    assert [i["id"] for i in rendered["insights"]] == ["i0", "i2"]
    assert rendered["tags"][0]["name"] == "okr"
    assert rendered["access"]["permissions"] == [
        {"principalKind": "team", "principalId": "t1", "grant": {"general": ["read"]}}
    ]
    assert rendered["source"] is None


def test_a_clone_names_its_source() -> None:
    rendered = documents.render(board(source_application="clone", source_id="s" * 24), [], [], [])
    assert rendered["source"] == {"sourceApplication": "clone", "sourceId": "s" * 24}


def test_the_stored_form_is_spliced_with_the_callers_fields() -> None:
    stored = documents.rendered(board(), [], [], [], DEFAULT_LIMITS)
    owner_view = orjson.loads(documents.splice(stored, 3, ALL_BITS))
    assert owner_view["usersCount"] == 3 and owner_view["readOnly"] is False
    assert owner_view["currentUserAllowedActions"] == [
        "read",
        "update",
        "delete",
        "modifyPermissions",
    ]
    reader_view = orjson.loads(documents.splice(stored, 3, READ))
    assert reader_view["currentUserAllowedActions"] == ["read"] and reader_view["readOnly"]
    assert documents.decode(stored) == documents.render(board(), [], [], [])


def test_what_the_owner_may_do_follows_the_rows() -> None:
    owner = Caller(ACCOUNT, OWNER, "member")
    stranger = Caller(ACCOUNT, "c" * 24, "member")
    assert documents.allowed_actions(owner, board(), []) == ALL_BITS
    assert documents.allowed_actions(stranger, board(), []) == READ  # the board inherits


def test_a_board_past_the_limits_or_unstorable_is_refused() -> None:
    with pytest.raises(BadRequest, match="too large to store"):
        documents.rendered(board(settings=[{"value": 10**20}]), [], [], [], DEFAULT_LIMITS)
    small = dataclasses.replace(DEFAULT_LIMITS, board_bytes=100)
    with pytest.raises(ContentTooLarge):
        documents.rendered(board(), [], [], [], small)
