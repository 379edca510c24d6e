"""Labels sent without their stamps keep those of the label they replace
(input_rows.label_rows): by id for a label sent with one, else by name among the labels no
sent id claims; never two labels with the same id."""

from insightboards.access import Caller
from insightboards.dashboards.input_rows import label_rows
from insightboards.dashboards.records import LabelRecord
from insightboards.dashboards.schemas import LabelIn

CALLER = Caller("a" * 24, "b" * 24, "admin")
NOW = "2026-12-07T20:00:00.000Z"


def _earlier(label_id: str, name: str, created: str) -> LabelRecord:
    return LabelRecord(
        "a" * 24, "d" * 24, 0, label_id, name, None, True, "c" * 24, created, [], NOW, False
    )


def _rows(sent: list[dict[str, object]], earlier: list[LabelRecord]) -> list[dict[str, object]]:
    labels = [LabelIn.model_validate(label) for label in sent]
    return label_rows(labels, CALLER, NOW, NOW, earlier)


def test_a_label_without_stamps_keeps_those_of_the_label_with_its_name() -> None:
    (row,) = _rows([{"name": "x"}], [_earlier("L1", "x", "2026-01-01T00:00:00.000Z")])
    assert (row["label_id"], row["date_created"], row["created_by"]) == (
        "L1",
        "2026-01-01T00:00:00.000Z",
        "c" * 24,
    )


def test_a_label_named_by_its_id_is_never_taken_by_another_with_its_name() -> None:
    earlier = [_earlier("L1", "x", "2026-01-01T00:00:00.000Z")]
    first, second = _rows([{"name": "x"}, {"id": "L1", "name": "renamed"}], earlier)
    assert second["label_id"] == "L1" and second["date_created"] == "2026-01-01T00:00:00.000Z"
    assert first["label_id"] != "L1" and first["date_created"] == NOW  # a new label


def test_a_label_sent_with_a_new_id_takes_nothing_from_a_namesake() -> None:
    (row,) = _rows([{"id": "L9", "name": "x"}], [_earlier("L1", "x", "2026-01-01T00:00:00.000Z")])
    assert (row["label_id"], row["date_created"], row["created_by"]) == ("L9", NOW, "b" * 24)
