"""New boards: created from a request (planned before the transaction, then written), cloned
from another board, or the built-in reports an account starts with."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from insightboards.access import Caller
from insightboards.access import boards as access_boards
from insightboards.audit import repository as audit
from insightboards.clock import now_iso
from insightboards.dashboards import (
    checks,
    documents,
    input_rows,
    repository,
    served,
)
from insightboards.dashboards.documents import Served
from insightboards.dashboards.limits import DEFAULT_LIMITS, Limits, labels_in
from insightboards.dashboards.records import DashboardRecord, GrantRecord, ItemRecord, LabelRecord
from insightboards.dashboards.schemas import CloneRequest, DashboardCreate
from insightboards.database import Database
from insightboards.ids import new_id

BUILTIN_REPORTS = (("Performance", "performance-report"), ("Process", "process-report"))


@dataclass(frozen=True)
class NewBoard:
    """A board about to be inserted: its rows and its stored document."""

    columns: dict[str, Any]
    items: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    grants: list[dict[str, Any]]
    row: DashboardRecord
    grant_records: list[GrantRecord]
    stored: bytes


def new_board(
    account_id: str,
    columns: dict[str, Any],
    items: list[dict[str, Any]],
    labels: list[dict[str, Any]],
    grants: list[dict[str, Any]],
    limits: Limits | None,
) -> NewBoard:
    """A new board's rows and its document, rendered from them (past the limits, refused)."""
    board_id = columns["id"]
    row = DashboardRecord(account_id=account_id, **columns, document=None)
    grant_records = [GrantRecord(account_id, board_id, **grant) for grant in grants]
    stored = documents.rendered(
        row,
        [ItemRecord(account_id, board_id, **item) for item in items],
        [LabelRecord(account_id, board_id, **label) for label in labels],
        grant_records,
        limits,
    )
    return NewBoard(columns, items, labels, grants, row, grant_records, stored)


def insert_new(
    conn: sa.Connection, new: NewBoard
) -> tuple[DashboardRecord, list[GrantRecord], bytes]:
    """Insert a new board, its children and its document (its first version is told by its
    row: history.unrecorded)."""
    account_id, board_id = new.row.account_id, new.row.id
    repository.insert_dashboard(
        conn, {"account_id": account_id, **new.columns, "document": new.stored}
    )
    for table, rows in zip(
        repository.CHILD_TABLES, (new.items, new.labels, new.grants), strict=True
    ):
        repository.insert_children(conn, table, account_id, board_id, rows)
    row = new.row
    audit.record_board_event(
        conn,
        "clone" if row.source_application == "clone" else "create",
        None if row.is_report else row.created_by_id,
        row,
        new_grants=new.grant_records,
        date=row.date_created,
    )
    return new.row, new.grant_records, new.stored


@dataclass(frozen=True)
class CreatePlan:
    """A create checked and built before its transaction: the new board, and for a board
    whose tag the service picks, how to build it again under another."""

    board: NewBoard
    retagged: Callable[[str], NewBoard] | None


def plan_create(
    caller: Caller, body: DashboardCreate, limits: Limits = DEFAULT_LIMITS
) -> CreatePlan:
    """What `create` checks and builds before its transaction (no database needed)."""
    limits.check_counts(
        items=len(body.insights) + len(body.sectionHeaders), labels=labels_in(body.tags)
    )
    access_boards.check_creator(caller)
    now = now_iso()
    access_columns, grants = input_rows.access_columns(body.access)
    items = input_rows.layout_rows(
        [*body.insights, *input_rows.as_section_headers(body.sectionHeaders)], caller, now
    )
    labels = input_rows.label_rows(body.tags, caller, now, board_created=now)
    settings = [s.model_dump(mode="json") for s in body.settings]
    parameters = [p.model_dump(mode="json") for p in body.parameters]

    def tagged(tag: str) -> NewBoard:
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
        return new_board(caller.account_id, columns, items, labels, grants, limits)

    if body.tag is not None:
        return CreatePlan(tagged(body.tag), None)
    return CreatePlan(tagged(checks.new_tag()), tagged)


def run_create(
    conn: sa.Connection, caller: Caller, plan: CreatePlan, auth_counter: int | None = None
) -> Served:
    """The create's transaction: the plan's cap and tag checked, the board inserted. With
    `auth_counter`, the caller as cached at that counter, checked here (CallerChanged)."""
    users_count = checks.check_can_create(conn, caller, auth_counter)
    new = plan.board
    # A tag the client chose is checked by the unique index: the board's row goes in first
    # and fails alone (repository.TagTaken), one statement fewer for every create.
    if plan.retagged is not None:
        while repository.tag_taken(conn, caller.account_id, new.row.tag):
            new = plan.retagged(checks.new_tag())
    inserted = insert_new(conn, new)
    return served.after_change(conn, caller, inserted, users_count)


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
        insert_new(conn, new_board(account_id, columns, [], [], [], None))


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
        checks.load_authorized(conn, caller, dashboard_id, "read")
        checks.check_can_create(conn, caller)
        # A clone is all of its source at one moment. Every writer of a board first locks its
        # row for update; holding the row for share until the clone commits keeps them out
        # while its row, grants, items and labels are read below (PostgreSQL reads each
        # statement at a snapshot of its own; SQLite runs one writer at a time anyway), or
        # waits for one to commit and then reads what it wrote: a board deleted meanwhile is a
        # 404. Taken after the account's lock, which a board's writers never take (no
        # deadlock), so that one clone at a time per account holds the writers back.
        repository.get(conn, caller.account_id, dashboard_id, for_share=True)
        authorized = checks.load_authorized(conn, caller, dashboard_id, "read")
        original = authorized.row
        access_columns, grants = _access_of_clone(original, authorized.grants)
        columns = input_rows.new_board(
            new_dashboard_id,
            checks.free_tag(conn, caller.account_id, body.tag),
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
        new = new_board(
            caller.account_id,
            columns,
            _copied_items(items, caller, now),
            [input_rows.copied(label, board_created=now) for label in labels],
            grants,
            limits,
        )
        return served.after_change(conn, caller, insert_new(conn, new))


def _access_of_clone(
    original: DashboardRecord, grants: Sequence[GrantRecord]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The access columns and grants of a clone of `original` (access.boards says which)."""
    access_columns, _ = input_rows.access_columns(None)
    if not access_boards.clone_keeps_access(original.is_report):
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
