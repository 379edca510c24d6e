"""Three-way merges of a change made to an older version of a board (the version its
If-Match names) with the changes made since: pure, no database (service.py applies them).

Each side's changes are found against the base version, the one the client read: a
top-level field whose value differs from the base's, an item (by id) added, removed or
different. Values are compared as the request model reads them (a board's document read as
a PUT body), so a client that sends back what it read, changed in one place, changed that
place only. Two changes conflict when they touch the same field, or the same item, and
leave it different; otherwise the merged change is the request's changes applied to the
board as it is now."""

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from insightboards.dashboards.schemas import DashboardItemIn, DashboardUpdate
from insightboards.errors import PreconditionFailed

ITEM_FIELDS = ("insights", "sectionHeaders")
T = TypeVar("T", bound=BaseModel)


class MergeConflict(PreconditionFailed):
    """The change and the changes made since touch the same fields or items: 412, whose
    `errors` name each by its JSON Pointer in the board (an item by its id)."""

    def __init__(self, base: int, current: int, paths: Sequence[str]) -> None:
        since = f"changed since version {base} too, to something else"
        super().__init__(
            f"The dashboard was changed by someone else since version {base} (now at version "
            f"{current}), in the same places as this change: {', '.join(paths)}; reload it "
            "and try again.",
            errors=[{"field": path, "message": since} for path in paths],
        )
        self.conflicts = list(paths)


def _pointer(field: str, item_id: str) -> str:
    """The JSON Pointer (RFC 6901) of an item by its id."""
    return f"/{field}/{item_id.replace('~', '~0').replace('/', '~1')}"


def _canonical(item: DashboardItemIn) -> dict[str, Any]:
    """An item as what it stores: a section header's text in one form, nested or flat."""
    data = item.model_dump(exclude={"header", "subHeader", "sectionHeader"})
    return {**data, "headerText": item.header_text if item.is_section_header else None}


def _read(model: type[T], value: Any) -> T:
    """A stored document (or part) as the request model reads it; one kept before a bound
    that refuses it now cannot be merged with (412, as a stale If-Match was before)."""
    try:
        return model.model_validate(value)
    except ValidationError:
        raise PreconditionFailed(
            "The dashboard was changed by someone else, and the version this change was made "
            "to cannot be merged with it; reload it and try again."
        ) from None


def _items(document: dict[str, Any], field: str) -> list[DashboardItemIn]:
    return [_read(DashboardItemIn, item) for item in document.get(field, [])]


def _by_id(items: Sequence[DashboardItemIn]) -> dict[str, dict[str, Any]]:
    return {item.id: _canonical(item) for item in items if item.id}


def _item_changes(
    base: Sequence[DashboardItemIn], changed: Sequence[DashboardItemIn]
) -> dict[str, dict[str, Any] | None]:
    """id -> the item as `changed` has it (None: removed), for each item that differs."""
    before, after = _by_id(base), _by_id(changed)
    changes: dict[str, dict[str, Any] | None] = {
        item_id: item for item_id, item in after.items() if before.get(item_id) != item
    }
    changes.update({item_id: None for item_id in before.keys() - after.keys()})
    return changes


def merge_items(
    field: str,
    base: Sequence[DashboardItemIn],
    current: Sequence[DashboardItemIn],
    mine: Sequence[DashboardItemIn],
) -> tuple[list[DashboardItemIn], list[str]]:
    """The current items with the changes `mine` made to `base` (items without an id are
    new ones, added), and the pointers of the items both changed differently. An order
    of the items that `mine` changed is kept, unless the board's changes since put the
    same items in another order (a conflict at `/field`)."""
    theirs = _item_changes(base, current)
    ours = _item_changes(base, mine)
    conflicts = [
        _pointer(field, item_id)
        for item_id, change in ours.items()
        if item_id in theirs and theirs[item_id] != change
    ]
    base_ids = [item.id for item in base if item.id]
    current_ids = {item.id for item in current if item.id}
    mine_ids = {item.id for item in mine if item.id}
    kept = [i for i in base_ids if i in mine_ids and i in current_ids]  # in all three

    def order(items: Sequence[DashboardItemIn]) -> list[str]:
        return [item.id for item in items if item.id in kept]

    my_order, their_order = order(mine), order(current)
    if my_order == kept:  # the order as it was: the current one stays
        return _in_current_order(current, mine, ours), conflicts
    if their_order != kept and their_order != my_order:
        return [], [*conflicts, f"/{field}"]
    current_by_id = {item.id: item for item in current if item.id}
    merged = [
        item
        if not item.id or item.id in ours or item.id not in current_by_id
        else current_by_id[item.id]
        for item in mine
        if not item.id or item.id in current_by_id or item.id not in base_ids
    ]
    added_since = [item for item in current if item.id and item.id not in base_ids]
    return merged + [item for item in added_since if item.id not in mine_ids], conflicts


def _in_current_order(
    current: Sequence[DashboardItemIn],
    mine: Sequence[DashboardItemIn],
    ours: dict[str, dict[str, Any] | None],
) -> list[DashboardItemIn]:
    """The current items, in their order, with `mine`'s changes: changed and removed in
    place, new ones at the end."""
    mine_by_id = {item.id: item for item in mine if item.id}
    merged: list[DashboardItemIn] = []
    for item in current:
        if item.id in ours:
            if ours[item.id] is not None:
                merged.append(mine_by_id[item.id])
        else:
            merged.append(item)
    present = {item.id for item in merged}
    return merged + [
        item for item in mine if not item.id or (item.id in ours and item.id not in present)
    ]


def merge_update(
    base_version: int,
    current_version: int,
    base: dict[str, Any],
    current: dict[str, Any],
    body: DashboardUpdate,
) -> DashboardUpdate:
    """The PUT `body`, made against the document `base`, as a PUT of the board now at
    `current`: the fields and items it changed, over the changes made since. MergeConflict
    when both changed the same field or item differently."""
    base_update = _read(DashboardUpdate, base)
    current_update = _read(DashboardUpdate, current)
    fields: dict[str, Any] = {}
    conflicts: list[str] = []
    for name in sorted(body.model_fields_set - set(ITEM_FIELDS)):
        mine, before, now = (getattr(u, name) for u in (body, base_update, current_update))
        if mine == before:
            continue  # sent as it was read: not a change
        if now != before and now != mine:
            conflicts.append(f"/{name}")
        fields[name] = mine
    for name in ITEM_FIELDS:
        if name not in body.model_fields_set:
            continue
        items, clashes = merge_items(
            name, _items(base, name), _items(current, name), getattr(body, name) or []
        )
        conflicts += clashes
        fields[name] = items
    if conflicts:
        raise MergeConflict(base_version, current_version, conflicts)
    return DashboardUpdate.model_construct(_fields_set=set(fields), **fields)


def merge_layout(
    base_version: int,
    current_version: int,
    base: dict[str, Any],
    current: dict[str, Any],
    mine: Sequence[DashboardItemIn],
) -> list[DashboardItemIn]:
    """A whole layout saved (insights and section headers in one list) against `base`, as a
    layout of the board now at `current`."""

    def layout(document: dict[str, Any]) -> list[DashboardItemIn]:
        return [*_items(document, "insights"), *_items(document, "sectionHeaders")]

    merged, conflicts = merge_items("items", layout(base), layout(current), mine)
    if conflicts:
        raise MergeConflict(base_version, current_version, conflicts)
    return merged


def check_item(
    base_version: int,
    current_version: int,
    base: dict[str, Any],
    current: dict[str, Any],
    item: DashboardItemIn,
) -> None:
    """One item saved against `base`: MergeConflict if the board's changes since changed
    that item (or removed it) and it is not the same now as the request makes it."""
    if not item.id:
        return

    def found(document: dict[str, Any]) -> dict[str, Any] | None:
        for name in ITEM_FIELDS:
            for candidate in _items(document, name):
                if candidate.id == item.id:
                    return _canonical(candidate)
        return None

    before, now = found(base), found(current)
    if now != before and now != _canonical(item):
        raise MergeConflict(base_version, current_version, [_pointer("items", item.id)])
