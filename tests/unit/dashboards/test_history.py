"""What a version records (dashboards/history.py): the fields a change touched, and the
version a board's row tells before any change recorded it. Pure, no database."""

from insightboards.dashboards import documents, history
from tests.unit.dashboards.test_documents import NOW, OWNER, board, item


def _stored(**given: object) -> bytes:
    row = board()._replace(**given)
    return documents.encode(documents.render(row, [], [], []))


def test_changed_fields_leave_out_the_stamps_of_a_write() -> None:
    before = _stored()
    assert history.changed_fields(before, _stored(version=2, date_updated="2027-01-01")) == []
    after = _stored(name="Renamed", archived=True, version=2)
    assert history.changed_fields(before, after) == ["archived", "name"]


def test_changed_fields_see_the_items() -> None:
    row = board()
    before = documents.encode(documents.render(row, [item(0)], [], []))
    after = documents.encode(documents.render(row, [item(0), item(1, "sectionHeader")], [], []))
    assert history.changed_fields(before, after) == [
        "sectionHeaders",
        "sectionHeadersCount",
    ]


def test_a_board_never_changed_was_made_by_its_creator() -> None:
    first = history.unrecorded(board()._replace(document=b"{}"))
    assert (first.version, first.kind, first.user_id, first.date) == (1, "create", OWNER, NOW)
    assert first.document == b"{}"
    clone = history.unrecorded(board(source_application="clone", source_id="s" * 24))
    assert clone.kind == "clone"


def test_a_version_from_before_history_has_no_known_author() -> None:
    earlier = history.unrecorded(board()._replace(version=7, date_updated="2026-12-08"))
    assert (earlier.version, earlier.kind, earlier.user_id) == (7, "earlier", None)
    assert earlier.date == "2026-12-08"
    assert earlier.fields == []
