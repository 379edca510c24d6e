"""A board's API document: rendered from its rows when it changes, stored, and served with
the caller's fields spliced in.

The stored part is what every caller sees alike. Three fields are not in it: `usersCount`,
which changes with the account's users and teams, and `currentUserAllowedActions` and
`readOnly`, the caller's own. They are the document's last keys, so a read appends them
to the stored bytes without parsing them: what is stored is the JSON object less its
closing brace.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from insightboards import access
from insightboards.access import Action, Caller, Grant, Policy
from insightboards.dashboards.limits import Limits
from insightboards.dashboards.records import (
    DashboardRecord,
    GrantRecord,
    ItemRecord,
    LabelRecord,
    ServedRecord,
)
from insightboards.errors import BadRequest

CALLER_FIELDS = frozenset({"usersCount", "currentUserAllowedActions", "readOnly"})


def policy(row: DashboardRecord | ServedRecord, grants: Sequence[GrantRecord]) -> Policy:
    return Policy(
        owner_id=row.created_by_id,
        inherits=row.inherits,
        owner_grant=row.owner_grant,
        owner_deny=row.owner_deny,
        is_report=row.is_report,
        grants=tuple(Grant(g.principal_kind, g.principal_id, g.actions) for g in grants),
    )


def allowed_actions(
    caller: Caller, row: DashboardRecord | ServedRecord, grants: Sequence[GrantRecord]
) -> int:
    """What `caller` may do with the board, as action bits (access/rules.py)."""
    return access.allowed_bits(caller, policy(row, grants))


def _item(item: ItemRecord) -> dict[str, Any]:
    grid = {
        "id": item.id,
        "dashboardId": item.dashboard_id,
        "row": item.row,
        "col": item.col,
        "sizeX": item.size_x,
        "sizeY": item.size_y,
    }
    if item.kind == "sectionHeader":
        header_id = item.details["sectionHeaderId"]
        return {
            **grid,
            "accountId": item.account_id,
            "type": "sectionHeader",
            "sectionHeaderId": header_id,
            "sectionHeader": {
                "id": header_id,
                "accountId": item.account_id,
                "header": item.header,
                "subHeader": item.sub_header,
                "createdById": item.created_by_id,
                "modifiedById": item.modified_by_id,
                "dateCreated": item.date_created,
                "dateUpdated": item.date_updated,
            },
        }
    details = item.details
    return {
        **grid,
        "type": details.get("type") or "insight",
        "insightId": item.insight_id,
        "insightName": item.insight_name,
        "insightTitle": details.get("insightTitle"),
        "filters": details.get("filters", []),
        "settings": details.get("settings", []),
        "insightRequiredEntities": details.get("insightRequiredEntities", []),
        "insightSource": details.get("insightSource"),
        "insightState": details.get("insightState"),
    }


def _label(label: LabelRecord) -> dict[str, Any]:
    return {
        "id": label.label_id,
        "name": label.name,
        "title": label.title,
        "isActive": label.is_active,
        "createdBy": label.created_by,
        "dateCreated": label.date_created,
        "items": label.children,
    }


def _grant(bits: int) -> dict[str, list[Action]]:
    return {"general": access.from_bits(bits)}


def render(
    row: DashboardRecord,
    items: Sequence[ItemRecord],
    labels: Sequence[LabelRecord],
    grants: Sequence[GrantRecord],
) -> dict[str, Any]:
    """The board's document from its rows, without the caller's fields (CALLER_FIELDS)."""
    insights = [_item(i) for i in items if i.kind == "insight"]
    headers = [_item(i) for i in items if i.kind == "sectionHeader"]
    source = (
        {"sourceApplication": row.source_application, "sourceId": row.source_id}
        if row.source_application is not None
        else None
    )
    return {
        "id": row.id,
        "accountId": row.account_id,
        "name": row.name,
        "tag": row.tag,
        "archived": row.archived,
        "isReport": row.is_report,
        "layout": row.layout,
        "createdById": row.created_by_id,
        "dateCreated": row.date_created,
        "dateUpdated": row.date_updated,
        "version": row.version,
        "access": _access(row, grants),
        "settings": row.settings,
        "parameters": row.parameters,
        "tags": [_label(label) for label in labels],
        "insights": insights,
        "sectionHeaders": headers,
        "source": source,
        "appsCount": 0,
        "notificationsCount": 0,
        "insightsCount": len(insights),
        "sectionHeadersCount": len(headers),
    }


def _access(row: DashboardRecord, grants: Sequence[GrantRecord]) -> dict[str, Any]:
    return {
        "inherits": row.inherits,
        "ownerPermissions": {"grant": _grant(row.owner_grant), "deny": _grant(row.owner_deny)},
        "permissions": [
            {
                "principalKind": g.principal_kind,
                "principalId": g.principal_id,
                "grant": _grant(g.actions),
            }
            for g in grants
        ],
    }


def encode(document: dict[str, Any]) -> bytes:
    """The stored form: the JSON object without its closing brace, ready to be extended."""
    return orjson.dumps(document)[:-1]


def rendered(
    row: DashboardRecord,
    items: Sequence[ItemRecord],
    labels: Sequence[LabelRecord],
    grants: Sequence[GrantRecord],
    limits: Limits | None,
) -> bytes:
    """The stored document of a board as a change leaves it; past the limits the change is
    refused (and rolled back)."""
    document = render(row, items, labels, grants)
    try:
        stored = encode(document)
    except TypeError as error:  # orjson writes no integer past 64 bits (1e20 read as one)
        raise BadRequest(f"The board holds a number too large to store: {error}.") from None
    if limits is not None:
        limits.check_board(document, len(stored))
    return stored


# What a write stamps on a board, and on each section header it saves, whatever changed.
_BOARD_STAMPS = ("dateUpdated", "version")
_HEADER_STAMPS = ("modifiedById", "dateUpdated")


def unstamped(stored: bytes) -> dict[str, Any]:
    """A stored document, parsed, less the stamps of the write that stored it."""
    document = decode(stored)
    for key in _BOARD_STAMPS:
        document.pop(key, None)
    for item in document.get("sectionHeaders", []):
        for key in _HEADER_STAMPS:
            item.get("sectionHeader", {}).pop(key, None)
    return document


def decode(stored: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(stored + b"}")
    return parsed


@functools.cache
def _caller_tail(bits: int) -> bytes:
    allowed = orjson.dumps(access.from_bits(bits))
    read_only = b"false" if bits & access.ACTION_BITS["update"] else b"true"
    return b',"currentUserAllowedActions":' + allowed + b',"readOnly":' + read_only + b"}"


def splice(stored: bytes, users_count: int, allowed_bits: int) -> bytes:
    """The whole document for one caller: the stored part and the caller's fields."""
    return b'%s,"usersCount":%d%s' % (stored, users_count, _caller_tail(allowed_bits))


def caller_fields(users_count: int, allowed_bits: int) -> dict[str, Any]:
    """CALLER_FIELDS as values, for a document that is parsed (projections)."""
    return {
        "usersCount": users_count,
        "currentUserAllowedActions": access.from_bits(allowed_bits),
        "readOnly": not allowed_bits & access.ACTION_BITS["update"],
    }


@dataclass(frozen=True)
class Served:
    """A board as one caller is served it: the JSON body, and what the headers need."""

    id: str
    version: int
    body: bytes
    # The version a stale If-Match named, when the change was merged with those since.
    merged_from: int | None = None

    def parsed(self) -> dict[str, Any]:
        document: dict[str, Any] = orjson.loads(self.body)
        return document
