"""Reading and changing boards: get, merge updates, deletes, item saves, reports and tag
usages (creating.py makes new boards; checks.py holds what both check first).

Each public function is one transaction. Reads check `read`; changes check the action they
need (see access/); another account's dashboard is indistinguishable from a missing one.
"""

import dataclasses
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from insightboards import access
from insightboards.access import Caller
from insightboards.access import boards as access_boards
from insightboards.audit import repository as audit
from insightboards.clock import now_iso
from insightboards.dashboards import (
    checks,
    documents,
    history,
    input_rows,
    list_repository,
    merging,
    repository,
    served,
    served_repository,
    trash,
)
from insightboards.dashboards.documents import Served
from insightboards.dashboards.limits import DEFAULT_LIMITS, Limits, labels_in
from insightboards.dashboards.records import DashboardRecord, GrantRecord
from insightboards.dashboards.schemas import DashboardItemIn, DashboardUpdate
from insightboards.database import Database
from insightboards.errors import BadRequest, NotFound
from insightboards.ids import new_id
from insightboards.query import projection as projection_module

# --- the document a change writes ----------------------------------------------------------


Change = tuple[DashboardRecord, list[GrantRecord], bytes]


def _rendered_change(
    conn: sa.Connection, row: DashboardRecord, values: dict[str, Any], limits: Limits | None
) -> Change:
    """The next version of the locked board `row` with `values`, its grants and its
    document, rendered from the children as the transaction left them."""
    changed = row._replace(**values, version=row.version + 1)
    account_id, board_id = row.account_id, row.id
    grants = repository.load_grants(conn, account_id, [board_id])[board_id]
    stored = documents.rendered(
        changed,
        repository.load_items(conn, account_id, [board_id])[board_id],
        repository.load_labels(conn, account_id, [board_id])[board_id],
        grants,
        limits,
    )
    return changed, grants, stored


def _write(
    conn: sa.Connection,
    caller: Caller,
    row: DashboardRecord,
    values: dict[str, Any],
    change: Change,
    kind: str,
    fields: list[str],
    limits: Limits,
) -> Change:
    """Write `values` and the change's version and document over `row`, and record the
    version (history.py; `kind` says how it was made, `fields` what it changed). One
    UPDATE: on PostgreSQL a second one of a row this transaction changed re-checks its
    foreign key, a share lock on the account that deadlocks against a clone holding it."""
    repository.update(conn, row.account_id, row.id, {**values, "document": change[2]}, row.version)
    after = change[0]
    recorded = history.record_change(conn, caller, row, after, kind, fields, limits)
    audit.record_board_event(
        conn,
        recorded,
        caller.user_id,
        after,
        new_grants=change[1],
        details={"changedFields": fields},
        date=after.date_updated,
    )
    return change


class NothingChanged(Exception):
    """A change that would leave the board as it is: its transaction rolls back (the rows
    it rewrote alike), and the board is answered as it was, at the version it has."""

    def __init__(self, version: int, board: Served | None = None) -> None:
        self.version = version
        self.board = board


# --- operations ----------------------------------------------------------------------------


def boards_held(db: Database) -> int:
    """How many boards the database holds, in every account (for its maintenance)."""
    with db.read() as conn:
        return list_repository.boards_held(conn)


def get(db: Database, caller: Caller, dashboard_id: str) -> Served:
    with db.read() as conn:
        row = served_repository.served_row(conn, caller.account_id, dashboard_id)
        if row is None:
            raise NotFound("Dashboard not found.")
        return served.one_board(conn, caller, row, not_found="")


def get_by_tag(db: Database, caller: Caller, tag: str) -> Served:
    not_found = f"No dashboard with tag '{tag}'."
    with db.read() as conn:
        tagged = repository.get_by_tag(conn, caller.account_id, tag)
        row = served_repository.served_row(conn, caller.account_id, tagged.id) if tagged else None
        if row is None:
            raise NotFound(not_found)
        return served.one_board(conn, caller, row, not_found=not_found)


def _access_changes(
    row: DashboardRecord,
    grants: Sequence[GrantRecord],
    columns: dict[str, Any],
    new_grants: list[dict[str, Any]],
) -> bool:
    current = (
        row.inherits,
        row.owner_grant,
        row.owner_deny,
        sorted((g.principal_kind, g.principal_id, g.actions) for g in grants),
    )
    wanted = (
        columns["inherits"],
        columns["owner_grant"],
        columns["owner_deny"],
        sorted((g["principal_kind"], g["principal_id"], g["actions"]) for g in new_grants),
    )
    return current != wanted


def update(
    db: Database,
    caller: Caller,
    dashboard_id: str,
    body: DashboardUpdate,
    expected_version: int | None,
    limits: Limits = DEFAULT_LIMITS,
) -> Served:
    _check_update_counts(body, limits)
    try:
        return _update(db, caller, dashboard_id, body, expected_version, limits)
    except NothingChanged as unchanged:
        assert unchanged.board is not None
        return unchanged.board


def _update(
    db: Database,
    caller: Caller,
    dashboard_id: str,
    body: DashboardUpdate,
    expected_version: int | None,
    limits: Limits,
) -> Served:
    with db.write() as conn:
        return _update_in(conn, caller, dashboard_id, body, expected_version, limits, "update")


def _update_in(
    conn: sa.Connection,
    caller: Caller,
    dashboard_id: str,
    body: DashboardUpdate,
    expected_version: int | None,
    limits: Limits,
    kind: str,
) -> Served:
    """A PUT's change, in the transaction `conn` (`kind`: update, or restore)."""
    now = now_iso()
    needed = access_boards.needed_for_update(body.model_fields_set)
    authorized = checks.load_authorized(conn, caller, dashboard_id, needed)
    row = authorized.row
    base = _stale_base(conn, row, expected_version) if kind == "update" else None
    if base is None:
        checks.check_version(row, expected_version)
    else:
        assert expected_version is not None and row.document is not None
        body = merging.merge_update(
            expected_version, row.version, base, documents.decode(row.document), body
        )
    values = _changed_columns(conn, row, body, now)
    if body.access is not None:
        columns, new_grants = input_rows.access_columns(body.access)
        if _access_changes(row, authorized.grants, columns, new_grants):
            access_boards.check_may_change_permissions(authorized.allowed)
            values.update(columns)
            repository.replace_grants(conn, caller.account_id, dashboard_id, new_grants)
    if body.tags is not None:
        earlier = repository.load_labels(conn, caller.account_id, [dashboard_id])[dashboard_id]
        repository.replace_labels(
            conn,
            caller.account_id,
            dashboard_id,
            input_rows.label_rows(body.tags, caller, now, row.date_created, earlier),
        )
    if body.insights is not None or body.sectionHeaders is not None:
        _replace_layout_parts(conn, caller, row, body, now)
    change = _rendered_change(conn, row, values, limits)
    fields = history.changed_fields(row.document, change[2])
    if not fields:
        assert row.document is not None
        as_it_was = (row, change[1], row.document)
        raise NothingChanged(row.version, served.after_change(conn, caller, as_it_was))
    written = _write(conn, caller, row, values, change, kind, fields, limits)
    board = served.after_change(conn, caller, written)
    return board if base is None else dataclasses.replace(board, merged_from=expected_version)


def _stale_base(
    conn: sa.Connection, row: DashboardRecord, expected_version: int | None
) -> dict[str, Any] | None:
    """The document of the older version a change's If-Match names, to merge the change
    with those made since (merging.py); None when it names the current version or none.
    A version the board does not keep cannot be merged against: 412."""
    if expected_version is None or expected_version == row.version:
        return None
    if not 1 <= expected_version < row.version:  # never a version of this board
        checks.check_version(row, expected_version)
    stored = history.kept_document(conn, row, expected_version)
    if stored is None or row.document is None:
        checks.check_version(row, expected_version)
    assert stored is not None
    return documents.decode(stored)


def restore(
    db: Database,
    caller: Caller,
    dashboard_id: str,
    number: int,
    expected_version: int | None,
    limits: Limits = DEFAULT_LIMITS,
) -> Served:
    """A new version of the board equal to its version `number`, made as a PUT of that
    version's document would make it (its access changed only with modifyPermissions;
    its tag refused if another board took it since). Nothing changes when the board is
    that already."""
    try:
        with db.write() as conn:
            row = checks.load_authorized(conn, caller, dashboard_id, "update").row
            stored = history.version_stored(conn, row, number)
            try:
                body = DashboardUpdate.model_validate(documents.decode(stored))
            except ValidationError as refused:  # kept before a bound that refuses it now
                raise BadRequest(
                    f"Version {number} cannot be restored: {refused.errors()[0]['msg']}."
                ) from None
            _check_update_counts(body, limits)
            return _update_in(conn, caller, dashboard_id, body, expected_version, limits, "restore")
    except NothingChanged as unchanged:
        assert unchanged.board is not None
        return unchanged.board


def _check_update_counts(body: DashboardUpdate, limits: Limits) -> None:
    sent_items = (
        len(body.insights or []) + len(body.sectionHeaders or [])
        if body.insights is not None or body.sectionHeaders is not None
        else None
    )
    limits.check_counts(
        items=sent_items, labels=None if body.tags is None else labels_in(body.tags)
    )


def _changed_columns(
    conn: sa.Connection, row: DashboardRecord, body: DashboardUpdate, now: str
) -> dict[str, Any]:
    """The board's columns that a PUT sets (a new tag checked free), and its update time."""
    values: dict[str, Any] = {"date_updated": now}
    for field in ("name", "archived", "layout"):
        if field in body.model_fields_set:
            values[field] = getattr(body, field)
    if body.tag is not None and body.tag != row.tag:
        checks.check_tag_free(conn, row.account_id, body.tag, except_id=row.id)
        values["tag"] = body.tag
    if body.settings is not None:
        values["settings"] = [s.model_dump(mode="json") for s in body.settings]
    if body.parameters is not None:
        values["parameters"] = [p.model_dump(mode="json") for p in body.parameters]
    return values


def _replace_layout_parts(
    conn: sa.Connection, caller: Caller, row: DashboardRecord, body: DashboardUpdate, now: str
) -> None:
    """A PUT may send `insights`, `sectionHeaders` or both; a part not sent is kept, less any
    item the sent part now holds (an item may move between the two)."""
    current = repository.load_items(conn, caller.account_id, [row.id])[row.id]
    by_id = {item.id: item for item in current}
    sent: list[DashboardItemIn] = [*(body.insights or [])]
    sent += input_rows.as_section_headers(body.sectionHeaders or [])
    sent_ids = {item.id for item in sent if item.id}
    kept = [
        item._asdict()
        for item in current
        if item.id not in sent_ids
        and (body.insights is None if item.kind == "insight" else body.sectionHeaders is None)
    ]
    for item_row in kept:
        del item_row["account_id"], item_row["dashboard_id"]
    rows = input_rows.layout_rows(sent, caller, now, by_id) + kept
    for position, item_row in enumerate(sorted(rows, key=_kind_then_position)):
        item_row["position"] = position
    repository.replace_items(conn, caller.account_id, row.id, rows)


def _kind_then_position(item_row: dict[str, Any]) -> tuple[bool, int]:
    return item_row["kind"] != "insight", item_row["position"]


def delete(db: Database, caller: Caller, dashboard_id: str, expected_version: int | None) -> None:
    """Move the board to the trash (trash.py)."""
    with db.write() as conn:
        authorized = checks.load_authorized(conn, caller, dashboard_id, "delete")
        checks.check_version(authorized.row, expected_version)
        trash.move_in(conn, caller, authorized.row, authorized.grants)
        repository.delete(conn, caller.account_id, dashboard_id, authorized.row.version)
        audit.record_board_event(conn, "delete", caller.user_id, authorized.row)


def save_items(
    db: Database,
    caller: Caller,
    dashboard_id: str,
    body: DashboardItemIn | list[DashboardItemIn],
    expected_version: int | None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[int, int | None]:
    """One item upserted by id, or a list replacing the board's whole layout; the board's
    version after it (the same when nothing changed), and the older version a stale
    If-Match named when the save was merged with the changes since it (else None)."""
    try:
        return _save_items(db, caller, dashboard_id, body, expected_version, limits)
    except NothingChanged as unchanged:
        return unchanged.version, None


def _save_items(
    db: Database,
    caller: Caller,
    dashboard_id: str,
    body: DashboardItemIn | list[DashboardItemIn],
    expected_version: int | None,
    limits: Limits,
) -> tuple[int, int | None]:
    if isinstance(body, list):
        limits.check_counts(items=len(body))
    now = now_iso()
    with db.write() as conn:
        row = checks.load_authorized(conn, caller, dashboard_id, "update").row
        base = _stale_base(conn, row, expected_version)
        if base is not None:
            assert expected_version is not None and row.document is not None
            now_stored = documents.decode(row.document)
            if isinstance(body, list):
                body = merging.merge_layout(expected_version, row.version, base, now_stored, body)
            else:
                merging.check_item(expected_version, row.version, base, now_stored, body)
        if not isinstance(body, list) and not body.says_which_item:
            # Nothing to save (DashboardItemIn.says_which_item). Added, it was an empty tile
            # at row 0, col 0, one more each time the body was sent.
            return row.version, None
        if isinstance(body, list):
            current = repository.load_items(conn, caller.account_id, [dashboard_id])[dashboard_id]
            rows = input_rows.layout_rows(body, caller, now, {item.id: item for item in current})
            repository.replace_items(conn, caller.account_id, dashboard_id, rows)
        else:
            item_id = body.id or new_id()
            previous = repository.get_item(conn, caller.account_id, dashboard_id, item_id)
            position = (
                previous.position
                if previous is not None
                else repository.next_item_position(conn, caller.account_id, dashboard_id)
            )
            repository.upsert_item(
                conn,
                caller.account_id,
                dashboard_id,
                input_rows.item_row(
                    body,
                    item_id=item_id,
                    position=position,
                    caller=caller,
                    now=now,
                    previous=previous,
                ),
            )
        values = {"date_updated": now}
        change = _rendered_change(conn, row, values, limits)
        fields = history.changed_fields(row.document, change[2])
        if not fields:
            # Rolled back, as a PUT that changes nothing: a new version for the same board
            # would fail every other client's If-Match.
            raise NothingChanged(row.version)
        kind = "layout" if isinstance(body, list) else "item"
        version = _write(conn, caller, row, values, change, kind, fields, limits)[0].version
        return version, None if base is None else expected_version


def reports(db: Database, caller: Caller) -> list[dict[str, str]]:
    with db.read() as conn:
        rows = repository.reports(conn, caller.account_id, access.caller_predicate(caller, "read"))
    return [{"id": row.id, "name": row.name} for row in rows]


def tag_usages(db: Database, caller: Caller, fields: str | None) -> dict[str, Any]:
    projection = projection_module.parse_fields(fields) if fields else None
    with db.read() as conn:
        rows = repository.tag_usages(
            conn, caller.account_id, access.caller_predicate(caller, "read")
        )
    items: list[dict[str, Any]] = []
    ids: list[str] = []
    for name, title, dashboard_id in rows:  # by name, then the boards by age
        if not items or items[-1]["tagName"] != name:
            ids = []
            items.append({"tagName": name, "tagTitle": title, "dashboardsIds": ids})
        elif items[-1]["tagTitle"] is None:
            items[-1]["tagTitle"] = title
        if not ids or ids[-1] != dashboard_id:
            ids.append(dashboard_id)
    for item in items:
        item["dashboardsCount"] = len(item["dashboardsIds"])
    if projection is not None:
        # A usage is identified by its tag name, as a dashboard is by its id.
        items = [projection_module.apply(item, projection, always=("tagName",)) for item in items]
    return {"items": items}
