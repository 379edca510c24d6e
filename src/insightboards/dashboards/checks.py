"""What the dashboard services check before they change anything: that the caller may do
what they ask (an unknown board and another account's look alike: 404), that the board is at
the version they saw, that a tag is free, that the plan allows another board. The rules
they apply are access.boards'; what is checked here is read from the database."""

import secrets
import string
from dataclasses import dataclass

import sqlalchemy as sa

from insightboards import access
from insightboards.access import Action, Caller
from insightboards.access import boards as access_boards
from insightboards.accounts import repository as accounts_repository
from insightboards.accounts.service import CallerChanged
from insightboards.dashboards import documents, repository
from insightboards.dashboards.records import DashboardRecord, GrantRecord
from insightboards.errors import NotFound, PreconditionFailed

_TAG_ALPHABET = string.ascii_lowercase + string.digits


def new_tag() -> str:
    """A tag for a board created without one: nine random lowercase letters and digits."""
    return "".join(secrets.choice(_TAG_ALPHABET) for _ in range(9))


@dataclass(frozen=True)
class AuthorizedBoard:
    """A dashboard row with its grants and what the caller may do with it (the checks
    below authorize an action against `allowed`)."""

    row: DashboardRecord
    grants: list[GrantRecord]
    allowed: list[Action]


def _with_allowed_actions(
    conn: sa.Connection, caller: Caller, row: DashboardRecord
) -> AuthorizedBoard:
    grants = repository.load_grants(conn, caller.account_id, [row.id])[row.id]
    return AuthorizedBoard(
        row, grants, access.from_bits(documents.allowed_actions(caller, row, grants))
    )


def load_authorized(
    conn: sa.Connection, caller: Caller, dashboard_id: str, action: Action
) -> AuthorizedBoard:
    """The dashboard, if it exists in the caller's account and the caller may `action` it.

    A change locks the row until the transaction ends, so that concurrent changes to one
    board queue instead of colliding.
    """
    row = repository.get(conn, caller.account_id, dashboard_id, for_update=action != "read")
    if row is None:
        raise NotFound("Dashboard not found.")
    authorized = _with_allowed_actions(conn, caller, row)
    access_boards.check_allowed(action, authorized.allowed, row.is_report)
    return authorized


def check_version(row: DashboardRecord, expected_version: int | None) -> None:
    if expected_version is not None and row.version != expected_version:
        raise PreconditionFailed(
            f"The dashboard was changed by someone else (now at version {row.version}); "
            "reload it and try again."
        )


def check_tag_free(
    conn: sa.Connection, account_id: str, tag: str, except_id: str | None = None
) -> None:
    if repository.tag_taken(conn, account_id, tag, except_id):
        raise repository.TagTaken(tag)


def free_tag(conn: sa.Connection, account_id: str, wanted: str | None) -> str:
    if wanted is not None:
        check_tag_free(conn, account_id, wanted)
        return wanted
    while True:
        tag = new_tag()
        if not repository.tag_taken(conn, account_id, tag):
            return tag


def check_can_create(conn: sa.Connection, caller: Caller, auth_counter: int | None = None) -> int:
    """That the caller may create a board, and the plan allows another (the account's row
    locked, so that concurrent creates cannot all pass the cap at once); the number of the
    account's users. With `auth_counter`, the one statement that reads the plan checks the
    counter too: the caller's cache entry must still hold, else CallerChanged and the write
    does nothing."""
    access_boards.check_creator(caller)
    facts = accounts_repository.creation_facts(conn, caller.account_id)
    assert facts is not None
    plan, cap, counter, users_count = facts
    if auth_counter is not None and counter != auth_counter:
        raise CallerChanged
    owned = repository.count_owned(conn, caller.account_id) if cap is not None else 0
    access_boards.check_plan_allows_another(plan, cap, owned)
    return users_count
