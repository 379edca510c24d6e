"""Table rows built from a request's input: a board's labels, grants and owner
permissions, its grid items and section headers. Pure: no SQL, no checks of who may write.
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

from insightboards import access
from insightboards.access import ALL_BITS, Caller
from insightboards.dashboards.records import ItemRecord, LabelRecord
from insightboards.dashboards.schemas import SECTION_HEADER, AccessIn, DashboardItemIn, LabelIn
from insightboards.errors import BadRequest
from insightboards.ids import new_id


def label_json(
    label: LabelIn, caller: Caller, now: str, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A label as stored. What the input leaves out of its id and stamps is kept from the
    label it replaces (`previous`, JSON as stored), else made new: a client that sends a
    label back without them (the vendor's sample body does) changes nothing."""
    previous = previous or {}
    earlier_children = previous.get("items") or []
    return {
        "id": label.id or previous.get("id") or new_id(),
        "name": label.name,
        "title": label.title,
        "isActive": label.isActive,
        "createdBy": label.createdBy or previous.get("createdBy") or caller.user_id,
        "dateCreated": label.dateCreated or previous.get("dateCreated") or now,
        "items": [
            label_json(child, caller, now, earlier_child)
            for child, earlier_child in zip(
                label.items, _matching(label.items, earlier_children), strict=True
            )
        ]
        if label.items
        else [],
    }


def _matching(
    labels: Sequence[LabelIn], earlier: Sequence[dict[str, Any]]
) -> list[dict[str, Any] | None]:
    """For each label, the earlier one it replaces: for a label sent with an id, the one with
    that id; for one sent without, the first one left with its name whose id no sent label
    names. None for a new label. No earlier label is replaced twice, so ids stay unique."""
    if not earlier:  # a new board's labels
        return [None] * len(labels)
    named_ids = {label.id for label in labels if label.id}
    by_id = {e.get("id"): e for e in earlier if e.get("id") in named_ids}
    left = [e for e in earlier if e.get("id") not in named_ids]
    found: list[dict[str, Any] | None] = []
    for label in labels:
        if label.id:
            found.append(by_id.pop(label.id, None))
            continue
        match = next((e for e in left if e.get("name") == label.name), None)
        if match is not None:
            left.remove(match)
        found.append(match)
    return found


def label_rows(
    labels: Sequence[LabelIn],
    caller: Caller,
    now: str,
    board_created: str,
    earlier: Sequence[LabelRecord] = (),
) -> list[dict[str, Any]]:
    """The rows of a board's labels; `board_created` is the board's dateCreated, `earlier`
    the labels they replace."""
    stored = [
        {
            "id": e.label_id,
            "name": e.name,
            "createdBy": e.created_by,
            "dateCreated": e.date_created,
            "items": e.children,
        }
        for e in earlier
    ]
    rows = []
    names: set[str] = set()
    for position, (label, previous) in enumerate(
        zip(labels, _matching(labels, stored), strict=True)
    ):
        data = label_json(label, caller, now, previous)
        rows.append(
            {
                "position": position,
                "label_id": data["id"],
                "name": data["name"],
                "title": data["title"],
                "is_active": data["isActive"],
                "created_by": data["createdBy"],
                "date_created": data["dateCreated"],
                "children": data["items"],
                "board_created": board_created,
                "repeated": data["name"] in names,
            }
        )
        names.add(data["name"])
    return rows


def access_columns(access_in: AccessIn | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Dashboard columns and grant rows for an `access` input (None: the defaults)."""
    if access_in is None:
        return {"inherits": True, "owner_grant": ALL_BITS, "owner_deny": 0}, []
    owner = access_in.ownerPermissions
    columns = {
        "inherits": access_in.inherits,
        "owner_grant": access.to_bits(owner.grant.general)
        if owner is not None and owner.grant is not None
        else ALL_BITS,
        "owner_deny": access.to_bits(owner.deny.general)
        if owner is not None and owner.deny is not None
        else 0,
    }
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for permission in access_in.permissions:
        key = (permission.principalKind, permission.principalId)
        if key not in merged:
            merged[key] = {
                "principal_kind": key[0],
                "principal_id": key[1],
                "actions": 0,
                "position": len(merged),
            }
        merged[key]["actions"] |= access.to_bits(permission.grant.general)
    return columns, list(merged.values())


def item_row(
    item: DashboardItemIn,
    *,
    item_id: str,
    position: int,
    caller: Caller,
    now: str,
    previous: ItemRecord | None,
) -> dict[str, Any]:
    common = {
        "id": item_id,
        "position": position,
        "row": item.row,
        "col": item.col,
        "size_x": item.sizeX,
        "size_y": item.sizeY,
        "created_by_id": previous.created_by_id if previous is not None else caller.user_id,
        "modified_by_id": caller.user_id,
        "date_created": previous.date_created if previous is not None else now,
        "date_updated": now,
        # Every row has every column, so that a layout inserts as one batch.
        "insight_id": None,
        "insight_name": None,
        "header": None,
        "sub_header": None,
    }
    if item.is_section_header:
        return {**common, **_section_header_columns(item, previous)}
    return {
        **common,
        "kind": "insight",
        "insight_id": item.insightId,
        "insight_name": item.insightName,
        "details": item.model_dump(mode="json", include=_INSIGHT_DETAILS),
    }


# What of an insight is kept as sent, in its row's `details`.
_INSIGHT_DETAILS = {
    "type",
    "insightTitle",
    "filters",
    "settings",
    "insightRequiredEntities",
    "insightSource",
    "insightState",
}


def _section_header_columns(item: DashboardItemIn, previous: ItemRecord | None) -> dict[str, Any]:
    """A section header keeps the header id it had (a new one if it was none)."""
    header, sub_header = item.header_text
    previous_header_id = (
        previous.details.get("sectionHeaderId")
        if previous is not None and previous.kind == "sectionHeader"
        else None
    )
    return {
        "kind": "sectionHeader",
        "header": header,
        "sub_header": sub_header,
        "details": {"sectionHeaderId": previous_header_id or new_id()},
    }


def as_section_headers(items: Sequence[DashboardItemIn]) -> list[DashboardItemIn]:
    """Items sent under `sectionHeaders` are section headers, whatever their `type` says."""
    return [item.model_copy(update={"type": SECTION_HEADER}) for item in items]


def layout_rows(
    items: Sequence[DashboardItemIn],
    caller: Caller,
    now: str,
    previous: dict[str, ItemRecord] | None = None,
) -> list[dict[str, Any]]:
    """Rows for a whole layout; ids sent are kept, missing ones are generated."""
    previous = previous or {}
    seen: set[str] = set()
    rows = []
    for position, item in enumerate(items):
        item_id = item.id or new_id()
        if item_id in seen:
            raise BadRequest(f"Item id {item_id} appears twice in the layout.")
        seen.add(item_id)
        rows.append(
            item_row(
                item,
                item_id=item_id,
                position=position,
                caller=caller,
                now=now,
                previous=previous.get(item_id),
            )
        )
    return rows


def new_board(
    board_id: str,
    tag: str,
    name: str,
    created_by_id: str,
    now: str,
    access_columns: dict[str, Any],
    **given: Any,
) -> dict[str, Any]:
    """The columns of a new board at version 1: those `given` (archived, layout, settings,
    parameters, is_report, source_application, source_id) over the defaults."""
    columns = {
        "id": board_id,
        "tag": tag,
        "name": name,
        "archived": False,
        "is_report": False,
        "layout": None,
        "created_by_id": created_by_id,
        "date_created": now,
        "date_updated": now,
        "version": 1,
        "source_application": None,
        "source_id": None,
        "settings": [],
        "parameters": [],
        **access_columns,
    }
    unknown = set(given) - set(columns)
    assert not unknown, unknown
    return {**columns, **given}


def copied(child: NamedTuple, **changes: Any) -> dict[str, Any]:
    """A child row of one board (an item, label or grant) as the columns of another's."""
    row = child._asdict()
    del row["account_id"], row["dashboard_id"]
    return {**row, **changes}
