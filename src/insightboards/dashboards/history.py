"""A board's history: every version, with how it was made (its kind), by whom, when, and
the top-level fields it changed; a version's document; the JSON Patch (RFC 6902) from one
version to another. Restoring a version is a change like a PUT (service.restore).

Each change records the version it makes in its own transaction (`record_change`), stores
the document of the version the board moves past, and drops what retention no longer
keeps (Limits.versions_kept, version_days_kept). A create records nothing: a board's
first version, like the one a board had when history began to be kept (migration 0013),
is told by the board's row (`unrecorded`) until a change records it. Old versions of
boards that no longer change are dropped by age in the background (`drop_expired`).
"""

from typing import Any

import jsonpatch
import orjson
import sqlalchemy as sa

from insightboards.access import Caller
from insightboards.clock import iso_in
from insightboards.dashboards import checks, documents
from insightboards.dashboards import history_repository as repository
from insightboards.dashboards.limits import Limits
from insightboards.dashboards.records import DashboardRecord
from insightboards.database import Database
from insightboards.errors import NotFound

# A PUT that changes nothing but `access` is recorded as an access change.
_ACCESS_ONLY = ["access"]


def changed_fields(before: bytes | None, after: bytes) -> list[str]:
    """The top-level fields in which two stored documents differ, less a write's stamps
    (documents.unstamped), all of the later one's when there is no earlier one (stored
    before migration 0008). None: a change that leaves the board as it was."""
    new = documents.unstamped(after)
    if before is None:
        return sorted(new)
    old = documents.unstamped(before)
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def unrecorded(row: DashboardRecord) -> repository.Version:
    """The board's current version as its row tells it, with its document: the first
    (made by its creator, as a create or a clone), or one made before history was kept."""
    first = row.version == 1
    kind = ("clone" if row.source_application == "clone" else "create") if first else "earlier"
    return repository.Version(
        version=row.version,
        kind=kind,
        user_id=row.created_by_id if first else None,
        date=row.date_updated,
        fields=[],
        document=row.document,
    )


def record_change(
    conn: sa.Connection,
    caller: Caller,
    before: DashboardRecord,
    after: DashboardRecord,
    kind: str,
    fields: list[str],
    limits: Limits,
) -> str:
    """The version `after` that the caller's change of kind `kind`, altering `fields`
    (changed_fields), makes of the board at `before`; the kind recorded (an update of
    access alone is an access change)."""
    if kind == "update" and fields == _ACCESS_ONLY:
        kind = "access"
    repository.record_change(
        conn,
        before.account_id,
        before.id,
        unrecorded(before),
        {
            "version": after.version,
            "kind": kind,
            "user_id": caller.user_id,
            "date": after.date_updated,
            "fields": fields,
        },
        limits.versions_kept,
        _dropped_before(limits),
    )
    return kind


def _dropped_before(limits: Limits) -> str:
    """Versions older than this are not kept ("" keeps every age)."""
    return iso_in(-limits.version_days_kept) if limits.version_days_kept else ""


def _version_item(version: repository.Version) -> dict[str, Any]:
    return {
        "version": version.version,
        "kind": version.kind,
        "userId": version.user_id,
        "date": version.date,
        "changedFields": version.fields,
    }


def _versions_page(
    conn: sa.Connection, row: DashboardRecord, skip: int, take: int
) -> tuple[list[repository.Version], int]:
    """The recorded versions, and the current one first if it is not recorded yet."""
    current = repository.recorded_version(conn, row.account_id, row.id, row.version)
    if current is not None:
        return repository.recorded(conn, row.account_id, row.id, skip, take)
    first = [unrecorded(row)] if skip == 0 and take > 0 else []
    page, total = repository.recorded(
        conn, row.account_id, row.id, max(skip - 1, 0), take - len(first)
    )
    return first + page, total + 1


def versions(
    db: Database, caller: Caller, dashboard_id: str, skip: int, take: int
) -> dict[str, Any]:
    """A page of the board's versions, newest first, and how many it keeps."""
    with db.read() as conn:
        row = checks.load_authorized(conn, caller, dashboard_id, "read").row
        page, total = _versions_page(conn, row, skip, take)
    return {"items": [_version_item(version) for version in page], "totalCount": total}


def kept_document(conn: sa.Connection, row: DashboardRecord, number: int) -> bytes | None:
    """Version `number`'s stored document (the current one's is on the board's row), None
    if the board does not keep it."""
    if number == row.version:
        return row.document
    found = repository.recorded_version(conn, row.account_id, row.id, number)
    return None if found is None else found.document


def version_stored(conn: sa.Connection, row: DashboardRecord, number: int) -> bytes:
    """Version `number`'s stored document, or NotFound (in a transaction that checked the
    caller's access to the board already)."""
    found = kept_document(conn, row, number)
    if found is None:
        raise NotFound(f"The dashboard keeps no version {number}.")
    return found


def version_document(db: Database, caller: Caller, dashboard_id: str, number: int) -> bytes:
    """The board as it was at version `number` (JSON): its document as stored, without the
    fields that depend on who asks (documents.CALLER_FIELDS)."""
    with db.read() as conn:
        row = checks.load_authorized(conn, caller, dashboard_id, "read").row
        return version_stored(conn, row, number) + b"}"


def diff(db: Database, caller: Caller, dashboard_id: str, first: int, second: int) -> bytes:
    """The JSON Patch that turns version `first` of the board into version `second`."""
    with db.read() as conn:
        row = checks.load_authorized(conn, caller, dashboard_id, "read").row
        before = documents.decode(version_stored(conn, row, first))
        after = documents.decode(version_stored(conn, row, second))
    return orjson.dumps(jsonpatch.make_patch(before, after).patch)


def drop_expired(db: Database, limits: Limits, batch: int = 500) -> int:
    """Drop, batch by batch, every version older than the days kept but each board's
    current one and the one before it; how many. A board's own changes drop its expired
    versions too; this is for boards that no longer change. Found in read transactions,
    dropped in short writes."""
    if not limits.version_days_kept:
        return 0
    dropped_before = _dropped_before(limits)
    after: tuple[str, str, int] = ("", "", 0)
    dropped = 0
    while True:
        with db.read() as conn:
            keys = repository.expired(conn, dropped_before, after, batch)
        if not keys:
            return dropped
        with db.write() as conn:
            dropped += repository.drop_expired(conn, dropped_before, keys)
        after = keys[-1]
