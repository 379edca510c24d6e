"""Dashboard rules: access, tags, merge updates, item saves, clones, reports and plans.

Each public function is one transaction. Reads check `read`; changes check the action they
need (see access.py); another account's dashboard is indistinguishable from a missing one.
"""

import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from insightboards import access
from insightboards.access import Action, Caller
from insightboards.accounts import repository as accounts_repository
from insightboards.clock import now_iso
from insightboards.dashboards import documents, input_rows, repository, served
from insightboards.dashboards.documents import Served
from insightboards.dashboards.limits import DEFAULT_LIMITS, Limits, count_nested
from insightboards.dashboards.records import (
    DashboardRecord,
    GrantRecord,
    ItemRecord,
    LabelRecord,
)
from insightboards.dashboards.schemas import (
    CloneRequest,
    DashboardCreate,
    DashboardItemIn,
    DashboardUpdate,
    LabelIn,
)
from insightboards.database import Database
from insightboards.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PaymentRequired,
    PreconditionFailed,
)
from insightboards.ids import new_id
from insightboards.query import projection as projection_module

_TAG_ALPHABET = string.ascii_lowercase + string.digits
BUILTIN_REPORTS = (("Performance", "performance-report"), ("Process", "process-report"))


# --- tags ----------------------------------------------------------------------------------


def _new_tag() -> str:
    return "".join(secrets.choice(_TAG_ALPHABET) for _ in range(9))


# --- the document a change writes ----------------------------------------------------------


def _rendered(
    row: DashboardRecord,
    items: Sequence[ItemRecord],
    labels: Sequence[LabelRecord],
    grants: Sequence[GrantRecord],
    limits: Limits | None,
) -> bytes:
    """The stored document of a board as a change leaves it; past the limits the change is
    refused (and rolled back)."""
    document = documents.render(row, items, labels, grants)
    try:
        stored = documents.encode(document)
    except TypeError as error:  # orjson writes no integer past 64 bits (1e20 read as one)
        raise BadRequest(f"The board holds a number too large to store: {error}.") from None
    if limits is not None:
        limits.check_board(document, len(stored))
    return stored


def _write_changed(
    conn: sa.Connection,
    row: DashboardRecord,
    values: dict[str, Any],
    limits: Limits | None,
) -> tuple[DashboardRecord, list[GrantRecord], bytes]:
    """Write `values` and the next version of the locked board `row`, with its document:
    the row as written, the children as the transaction left them. One UPDATE: on
    PostgreSQL a second one of a row this transaction changed re-checks its foreign key,
    a share lock on the account that deadlocks against a clone holding it."""
    changed = row._replace(**values, version=row.version + 1)
    account_id, board_id = row.account_id, row.id
    grants = repository.load_grants(conn, account_id, [board_id])[board_id]
    stored = _rendered(
        changed,
        repository.load_items(conn, account_id, [board_id])[board_id],
        repository.load_labels(conn, account_id, [board_id])[board_id],
        grants,
        limits,
    )
    repository.update(conn, account_id, board_id, {**values, "document": stored}, row.version)
    return changed, grants, stored


# --- checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AuthorizedBoard:
    """A dashboard row with its grants and what the caller may do with it (the checks
    below authorize an action against `allowed`)."""

    row: DashboardRecord
    grants: list[GrantRecord]
    allowed: list[Action]


def _with_allowed_actions(
    conn: sa.Connection, caller: Caller, row: DashboardRecord
) -> _AuthorizedBoard:
    grants = repository.load_grants(conn, caller.account_id, [row.id])[row.id]
    return _AuthorizedBoard(
        row, grants, access.from_bits(documents.allowed_actions(caller, row, grants))
    )


def _load_authorized(
    conn: sa.Connection, caller: Caller, dashboard_id: str, action: Action
) -> _AuthorizedBoard:
    """The dashboard, if it exists in the caller's account and the caller may `action` it.

    A change locks the row until the transaction ends, so that concurrent changes to one
    board queue instead of colliding.
    """
    row = repository.get(conn, caller.account_id, dashboard_id, for_update=action != "read")
    if row is None:
        raise NotFound("Dashboard not found.")
    authorized = _with_allowed_actions(conn, caller, row)
    if action not in authorized.allowed:
        if row.is_report and action != "read":
            raise Forbidden("Reports are read-only.")
        raise Forbidden(f"You may not {action} this dashboard.")
    return authorized


def _check_version(row: DashboardRecord, expected_version: int | None) -> None:
    if expected_version is not None and row.version != expected_version:
        raise PreconditionFailed(
            f"The dashboard was changed by someone else (now at version {row.version}); "
            "reload it and try again."
        )


def _check_tag_free(
    conn: sa.Connection, account_id: str, tag: str, except_id: str | None = None
) -> None:
    if repository.tag_taken(conn, account_id, tag, except_id):
        raise repository.TagTaken(tag)


def _free_tag(conn: sa.Connection, account_id: str, wanted: str | None) -> str:
    if wanted is not None:
        _check_tag_free(conn, account_id, wanted)
        return wanted
    while True:
        tag = _new_tag()
        if not repository.tag_taken(conn, account_id, tag):
            return tag


def _check_creator(caller: Caller) -> None:
    if caller.role not in access.CREATOR_ROLES:
        raise Forbidden(f"A {caller.role} may not create dashboards.")


def _check_can_create(conn: sa.Connection, caller: Caller) -> None:
    _check_creator(caller)
    # Locked, so that concurrent creates cannot all pass the cap at once.
    locked = accounts_repository.lock_plan(conn, caller.account_id)
    assert locked is not None
    plan, cap = locked
    if cap is not None and repository.count_owned(conn, caller.account_id) >= cap:
        raise PaymentRequired(
            f"The account's plan '{plan}' allows at most {cap} dashboards; "
            "delete one or upgrade the plan."
        )


@dataclass(frozen=True)
class _NewBoard:
    """A board about to be inserted: its rows and its stored document."""

    columns: dict[str, Any]
    items: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    grants: list[dict[str, Any]]
    row: DashboardRecord
    grant_records: list[GrantRecord]
    stored: bytes


def _new_board(
    account_id: str,
    columns: dict[str, Any],
    items: list[dict[str, Any]],
    labels: list[dict[str, Any]],
    grants: list[dict[str, Any]],
    limits: Limits | None,
) -> _NewBoard:
    """A new board's rows and its document, rendered from them (past the limits, refused)."""
    board_id = columns["id"]
    row = DashboardRecord(account_id=account_id, **columns, document=None)
    grant_records = [GrantRecord(account_id, board_id, **grant) for grant in grants]
    stored = _rendered(
        row,
        [ItemRecord(account_id, board_id, **item) for item in items],
        [LabelRecord(account_id, board_id, **label) for label in labels],
        grant_records,
        limits,
    )
    return _NewBoard(columns, items, labels, grants, row, grant_records, stored)


def _insert_new(
    conn: sa.Connection, new: _NewBoard
) -> tuple[DashboardRecord, list[GrantRecord], bytes]:
    """Insert a new board, its children and its document."""
    account_id, board_id = new.row.account_id, new.row.id
    repository.insert_dashboard(
        conn, {"account_id": account_id, **new.columns, "document": new.stored}
    )
    for table, rows in zip(
        repository.CHILD_TABLES, (new.items, new.labels, new.grants), strict=True
    ):
        repository.insert_children(conn, table, account_id, board_id, rows)
    return new.row, new.grant_records, new.stored


# --- operations ----------------------------------------------------------------------------


def _labels_in(labels: Sequence[LabelIn]) -> int:
    return count_nested(labels, lambda label: label.items)


@dataclass(frozen=True)
class CreatePlan:
    """A create checked and built before its transaction: the new board, and for a board
    whose tag the service picks, how to build it again under another."""

    board: _NewBoard
    retagged: Callable[[str], _NewBoard] | None


def plan_create(
    caller: Caller, body: DashboardCreate, limits: Limits = DEFAULT_LIMITS
) -> CreatePlan:
    """What `create` checks and builds before its transaction (no database needed)."""
    limits.check_counts(
        items=len(body.insights) + len(body.sectionHeaders), labels=_labels_in(body.tags)
    )
    _check_creator(caller)
    now = now_iso()
    access_columns, grants = input_rows.access_columns(body.access)
    items = input_rows.layout_rows(
        [*body.insights, *input_rows.as_section_headers(body.sectionHeaders)], caller, now
    )
    labels = input_rows.label_rows(body.tags, caller, now)
    settings = [s.model_dump(mode="json") for s in body.settings]
    parameters = [p.model_dump(mode="json") for p in body.parameters]

    def tagged(tag: str) -> _NewBoard:
        columns = input_rows.new_board(
            new_id(),
            tag,
            body.name,
            caller.user_id,
            now,
            access_columns,
            archived=body.archived,
            layout=body.layout,
            settings=settings,
            parameters=parameters,
        )
        return _new_board(caller.account_id, columns, items, labels, grants, limits)

    if body.tag is not None:
        return CreatePlan(tagged(body.tag), None)
    return CreatePlan(tagged(_new_tag()), tagged)


def run_create(conn: sa.Connection, caller: Caller, plan: CreatePlan) -> Served:
    """The create's transaction: the plan's cap and tag checked, the board inserted."""
    _check_can_create(conn, caller)
    new = plan.board
    if plan.retagged is None:
        _check_tag_free(conn, caller.account_id, new.row.tag)
    else:
        while repository.tag_taken(conn, caller.account_id, new.row.tag):
            new = plan.retagged(_new_tag())
    inserted = _insert_new(conn, new)
    return served.after_change(conn, caller, inserted)


def create(
    db: Database, caller: Caller, body: DashboardCreate, limits: Limits = DEFAULT_LIMITS
) -> Served:
    # Built before the transaction, which holds the account's writers back for as long as it
    # lasts (SQLite writes one at a time; on PostgreSQL creates queue for the account's row).
    plan = plan_create(caller, body, limits)
    with db.write() as conn:
        return run_create(conn, caller, plan)


def create_builtin_reports(conn: sa.Connection, account_id: str, now: str) -> None:
    """Every account's read-only Performance and Process reports."""
    for name, tag in BUILTIN_REPORTS:
        access_columns, _ = input_rows.access_columns(None)
        # Reports belong to the account, not to a user.
        columns = input_rows.new_board(
            new_id(), tag, name, account_id, now, access_columns, is_report=True
        )
        _insert_new(conn, _new_board(account_id, columns, [], [], [], None))


def boards_held(db: Database) -> int:
    """How many boards the database holds, in every account (for its maintenance)."""
    with db.read() as conn:
        return repository.boards_held(conn)


def get(db: Database, caller: Caller, dashboard_id: str) -> Served:
    with db.read() as conn:
        row = repository.served_row(conn, caller.account_id, dashboard_id)
        if row is None:
            raise NotFound("Dashboard not found.")
        return served.one_board(conn, caller, row, not_found="")


def get_by_tag(db: Database, caller: Caller, tag: str) -> Served:
    not_found = f"No dashboard with tag '{tag}'."
    with db.read() as conn:
        tagged = repository.get_by_tag(conn, caller.account_id, tag)
        row = repository.served_row(conn, caller.account_id, tagged.id) if tagged else None
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
    now = now_iso()
    # A PUT of `access` alone is a permissions change, which a frozen board's owner (denied
    # `update`) may still make; anything else needs `update`.
    needed: Action = "modifyPermissions" if body.model_fields_set == {"access"} else "update"
    with db.write() as conn:
        authorized = _load_authorized(conn, caller, dashboard_id, needed)
        row = authorized.row
        _check_version(row, expected_version)
        values = _changed_columns(conn, row, body, now)
        if body.access is not None:
            columns, new_grants = input_rows.access_columns(body.access)
            if _access_changes(row, authorized.grants, columns, new_grants):
                if "modifyPermissions" not in authorized.allowed:
                    raise Forbidden("You may not modify the permissions of this dashboard.")
                values.update(columns)
                repository.replace_grants(conn, caller.account_id, dashboard_id, new_grants)
        if body.tags is not None:
            repository.replace_labels(
                conn, caller.account_id, dashboard_id, input_rows.label_rows(body.tags, caller, now)
            )
        if body.insights is not None or body.sectionHeaders is not None:
            _replace_layout_parts(conn, caller, row, body, now)
        return served.after_change(conn, caller, _write_changed(conn, row, values, limits))


def _check_update_counts(body: DashboardUpdate, limits: Limits) -> None:
    sent_items = (
        len(body.insights or []) + len(body.sectionHeaders or [])
        if body.insights is not None or body.sectionHeaders is not None
        else None
    )
    limits.check_counts(
        items=sent_items, labels=None if body.tags is None else _labels_in(body.tags)
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
        _check_tag_free(conn, row.account_id, body.tag, except_id=row.id)
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
    with db.write() as conn:
        row = _load_authorized(conn, caller, dashboard_id, "delete").row
        _check_version(row, expected_version)
        repository.delete(conn, caller.account_id, dashboard_id, row.version)


def clone(
    db: Database,
    caller: Caller,
    dashboard_id: str,
    body: CloneRequest,
    limits: Limits = DEFAULT_LIMITS,
) -> Served:
    now = now_iso()
    new_dashboard_id = new_id()
    with db.write() as conn:
        # 404 or 403 before the plan's 403 or 402.
        _load_authorized(conn, caller, dashboard_id, "read")
        _check_can_create(conn, caller)
        # A clone is all of its source at one moment. Every writer of a board first locks its
        # row for update; holding the row for share until the clone commits keeps them out
        # while its row, grants, items and labels are read below (PostgreSQL reads each
        # statement at a snapshot of its own; SQLite runs one writer at a time anyway), or
        # waits for one to commit and then reads what it wrote: a board deleted meanwhile is a
        # 404. Taken after the account's lock, which a board's writers never take (no
        # deadlock), so that one clone at a time per account holds the writers back.
        repository.get(conn, caller.account_id, dashboard_id, for_share=True)
        authorized = _load_authorized(conn, caller, dashboard_id, "read")
        original = authorized.row
        access_columns, grants = _access_of_clone(original, authorized.grants)
        columns = input_rows.new_board(
            new_dashboard_id,
            _free_tag(conn, caller.account_id, body.tag),
            original.name,
            caller.user_id,
            now,
            access_columns,
            archived=original.archived,
            layout=original.layout,
            source_application="clone",
            source_id=original.id,
            settings=original.settings,
            parameters=original.parameters,
        )
        items = repository.load_items(conn, caller.account_id, [dashboard_id])[dashboard_id]
        labels = repository.load_labels(conn, caller.account_id, [dashboard_id])[dashboard_id]
        new = _new_board(
            caller.account_id,
            columns,
            _copied_items(items, caller, now),
            [input_rows.copied(label) for label in labels],
            grants,
            limits,
        )
        return served.after_change(conn, caller, _insert_new(conn, new))


def _access_of_clone(
    original: DashboardRecord, grants: Sequence[GrantRecord]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The access columns and grants of a clone of `original`.

    The clone is shown to those its source is shown to: a member who may read a private
    board must not make its content readable by the whole account. It keeps `inherits` and
    the grants; the cloner owns it with the default owner permissions, as any board they
    create (the source's concerned its owner, and a copy's owner could post its content
    anew). A report, which everyone reads, gives a board with the defaults.
    """
    access_columns, _ = input_rows.access_columns(None)
    if original.is_report:
        return access_columns, []
    access_columns["inherits"] = original.inherits
    return access_columns, [input_rows.copied(grant) for grant in grants]


def _copied_items(items: Sequence[ItemRecord], caller: Caller, now: str) -> list[dict[str, Any]]:
    """A clone's items: each under a new id, made by the cloner now (a section header
    under a new header id too)."""
    return [
        input_rows.copied(
            item,
            id=new_id(),
            created_by_id=caller.user_id,
            modified_by_id=caller.user_id,
            date_created=now,
            date_updated=now,
            **(
                {"details": {**item.details, "sectionHeaderId": new_id()}}
                if item.kind == "sectionHeader"
                else {}
            ),
        )
        for item in items
    ]


def save_items(
    db: Database,
    caller: Caller,
    dashboard_id: str,
    body: DashboardItemIn | list[DashboardItemIn],
    expected_version: int | None,
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """One item upserted by id, or a list replacing the board's whole layout; the new version."""
    if isinstance(body, list):
        limits.check_counts(items=len(body))
    now = now_iso()
    with db.write() as conn:
        row = _load_authorized(conn, caller, dashboard_id, "update").row
        _check_version(row, expected_version)
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
        changed, _, _ = _write_changed(conn, row, {"date_updated": now}, limits)
        return changed.version


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
    for name, title, dashboard_id in rows:  # by name, then dashboard
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
