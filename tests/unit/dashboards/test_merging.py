"""Three-way merges (dashboards/merging.py): each side's changes found against the base
version, applied to the board as it is now, conflicts named by place. Pure, no database."""

from typing import Any

import pytest

from insightboards.dashboards import merging
from insightboards.dashboards.schemas import DashboardItemIn, DashboardUpdate


def _doc(name: str = "Board", **items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "archived": False, "insights": [], "sectionHeaders": [], **items}


def _tile(item_id: str, **given: Any) -> dict[str, Any]:
    return {"id": item_id, "insightId": f"x{item_id}", "row": 0, "sizeX": 2, **given}


def _put(**body: Any) -> DashboardUpdate:
    return DashboardUpdate.model_validate(body)


def test_a_field_sent_as_it_was_read_is_not_a_change() -> None:
    base = _doc("Read", insights=[_tile("a")])
    current = _doc("Renamed", insights=[_tile("a")])
    merged = merging.merge_update(1, 2, base, current, _put(name="Read", archived=True))
    assert merged.model_fields_set == {"archived"}
    assert merged.archived is True


def test_different_fields_merge_and_the_same_field_conflicts() -> None:
    base, current = _doc("Read"), _doc("Theirs")
    assert merging.merge_update(1, 2, base, current, _put(archived=True)).archived is True
    with pytest.raises(merging.MergeConflict) as refused:
        merging.merge_update(1, 2, base, current, _put(name="Mine"))
    assert refused.value.conflicts == ["/name"]
    assert refused.value.status_code == 412
    same = merging.merge_update(1, 2, base, current, _put(name="Theirs"))
    assert same.name == "Theirs"


def test_items_merge_by_id() -> None:
    base = _doc(insights=[_tile("a"), _tile("b"), _tile("c")])
    current = _doc(insights=[_tile("a", row=5), _tile("b"), _tile("c")])  # they moved a
    mine = [_tile("a"), _tile("b", sizeX=4), {"insightId": "new"}]  # I resized b, dropped c
    merged = merging.merge_update(1, 2, base, current, _put(insights=mine))
    assert [(i.id, i.row, i.sizeX) for i in merged.insights or []] == [
        ("a", 5, 2),
        ("b", 0, 4),
        (None, 0, 1),
    ]


def test_an_item_changed_on_both_sides_or_removed_on_one_conflicts() -> None:
    base = _doc(insights=[_tile("a"), _tile("b")])
    current = _doc(insights=[_tile("a", row=5), _tile("b")])
    with pytest.raises(merging.MergeConflict) as both:
        merging.merge_update(1, 2, base, current, _put(insights=[_tile("a", row=7), _tile("b")]))
    assert both.value.conflicts == ["/insights/a"]
    with pytest.raises(merging.MergeConflict) as removed:
        merging.merge_update(1, 2, base, current, _put(insights=[_tile("b")]))
    assert removed.value.conflicts == ["/insights/a"]


def test_section_headers_compare_by_their_text_in_either_form() -> None:
    nested = {"id": "h", "type": "sectionHeader", "sectionHeader": {"header": "Top"}}
    flat = {"id": "h", "type": "sectionHeader", "header": "Top"}
    base = _doc(sectionHeaders=[nested])
    current = _doc(sectionHeaders=[{**nested, "row": 3}])
    merged = merging.merge_update(1, 2, base, current, _put(sectionHeaders=[flat], name="N"))
    assert [(h.id, h.row) for h in merged.sectionHeaders or []] == [("h", 3)]


def test_one_item_saved_conflicts_only_with_a_change_to_that_item() -> None:
    base = _doc(insights=[_tile("a"), _tile("b")])
    current = _doc(insights=[_tile("a", row=5), _tile("b")])
    merging.check_item(1, 2, base, current, DashboardItemIn.model_validate(_tile("b", row=9)))
    merging.check_item(1, 2, base, current, DashboardItemIn.model_validate({"insightId": "n"}))
    with pytest.raises(merging.MergeConflict) as refused:
        merging.check_item(1, 2, base, current, DashboardItemIn.model_validate(_tile("a")))
    assert refused.value.conflicts == ["/items/a"]


def test_a_whole_layout_merges_insights_and_headers_together() -> None:
    header = {"id": "h", "type": "sectionHeader", "header": "Top"}
    base = _doc(insights=[_tile("a")], sectionHeaders=[header])
    current = _doc(insights=[_tile("a", row=2)], sectionHeaders=[header])
    layout = [DashboardItemIn.model_validate(i) for i in (_tile("a"), {**header, "row": 8})]
    merged = merging.merge_layout(1, 2, base, current, layout)
    assert [(i.id, i.row) for i in merged] == [("a", 2), ("h", 8)]


def _order(base: list[str], current: list[dict[str, Any]], mine: list[dict[str, Any]]) -> Any:
    return merging.merge_update(
        1,
        2,
        _doc(insights=[_tile(i) for i in base]),
        _doc(insights=current),
        _put(insights=mine),
    )


def test_an_order_changed_on_one_side_is_kept_with_the_other_sides_changes() -> None:
    merged = _order(["a", "b", "c"], [_tile("a"), _tile("b", row=5), _tile("c")], [
        _tile("c"), _tile("a"), _tile("b")
    ])  # fmt: skip
    assert [(i.id, i.row) for i in merged.insights] == [("c", 0), ("a", 0), ("b", 5)]
    theirs_reordered = _order(["a", "b"], [_tile("b"), _tile("a")], [_tile("a", row=3), _tile("b")])
    assert [(i.id, i.row) for i in theirs_reordered.insights] == [("b", 0), ("a", 3)]
    added_since = _order(["a", "b"], [_tile("a"), _tile("b"), _tile("d")], [_tile("b"), _tile("a")])
    assert [i.id for i in added_since.insights] == ["b", "a", "d"]


def test_two_different_orders_conflict() -> None:
    with pytest.raises(merging.MergeConflict) as refused:
        _order(["a", "b", "c"], [_tile("b"), _tile("a"), _tile("c")], [
            _tile("c"), _tile("b"), _tile("a")
        ])  # fmt: skip
    assert refused.value.conflicts == ["/insights"]


def test_pointers_escape_ids() -> None:
    with pytest.raises(merging.MergeConflict) as refused:
        merging.merge_update(
            1,
            2,
            _doc(insights=[_tile("a/b~c")]),
            _doc(insights=[_tile("a/b~c", row=1)]),
            _put(insights=[_tile("a/b~c", row=2)]),
        )
    assert refused.value.conflicts == ["/insights/a~1b~0c"]
