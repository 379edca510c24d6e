"""Rows of the dashboard tables as typed named tuples.

The repository hands these out instead of SQLAlchemy rows: a named tuple's attribute is a
C-level lookup, where a Row's goes through `__getattr__` (about 0.2 µs each; presenting a page
of 50 boards reads some 4,000 of them). Each record's fields are its table's columns, in order
(tests/unit/test_records.py holds them together), so `Record._make(row)` of `select(table)`
is exact.
"""

from typing import Any, NamedTuple


class DashboardRecord(NamedTuple):
    account_id: str
    id: str
    tag: str
    name: str
    archived: bool
    is_report: bool
    layout: str | None
    created_by_id: str
    date_created: str
    date_updated: str
    version: int
    source_application: str | None
    source_id: str | None
    inherits: bool
    owner_grant: int
    owner_deny: int
    settings: Any
    parameters: Any
    document: bytes | None


class ItemRecord(NamedTuple):
    account_id: str
    dashboard_id: str
    id: str
    position: int
    kind: str
    row: int
    col: int
    size_x: int
    size_y: int
    insight_id: str | None
    insight_name: str | None
    header: str | None
    sub_header: str | None
    details: Any
    created_by_id: str | None
    modified_by_id: str | None
    date_created: str
    date_updated: str


class LabelRecord(NamedTuple):
    account_id: str
    dashboard_id: str
    position: int
    label_id: str
    name: str
    title: str | None
    is_active: bool
    created_by: str | None
    date_created: str | None
    children: Any
    board_created: str
    repeated: bool


class GrantRecord(NamedTuple):
    account_id: str
    dashboard_id: str
    principal_kind: str
    principal_id: str
    actions: int
    position: int


class ServedRecord(NamedTuple):
    """What serving a board reads from its row: the stored document, what the access rule
    and the headers need, and how many of the account's users read it (usersCount)."""

    id: str
    version: int
    created_by_id: str
    inherits: bool
    owner_grant: int
    owner_deny: int
    is_report: bool
    document: bytes | None
    readers: int
