"""The rules about one board that the dashboard services apply before they write: who may
create a board and how many the plan allows, what a change needs, how a refusal is
answered, and what a clone keeps of its source's access. What a caller may do with a board
is rules.py's."""

from collections.abc import Collection

from insightboards.access.rules import CREATOR_ROLES, READ, Action, Caller
from insightboards.errors import Forbidden, NotFound, PaymentRequired


def check_creator(caller: Caller) -> None:
    if caller.role not in CREATOR_ROLES:
        raise Forbidden(f"A {caller.role} may not create dashboards.")


def check_plan_allows_another(plan: str, cap: int | None, owned: int) -> None:
    """An account whose plan caps its boards (None: no cap) creates no more once it owns
    `cap` of them; the built-in reports are not counted."""
    if cap is not None and owned >= cap:
        raise PaymentRequired(
            f"The account's plan '{plan}' allows at most {cap} dashboards; "
            "delete one or upgrade the plan."
        )


def needed_for_update(fields_sent: Collection[str]) -> Action:
    """A PUT of `access` alone is a permissions change, which a frozen board's owner (denied
    `update`) may still make; anything else needs `update`."""
    return "modifyPermissions" if set(fields_sent) == {"access"} else "update"


def check_allowed(action: Action, allowed: Collection[Action], is_report: bool) -> None:
    """403 unless `action` is among those `allowed` on a board of the caller's account (a
    missing board, or one of another account, is a 404 before this is asked)."""
    if action in allowed:
        return
    if is_report and action != "read":
        raise Forbidden("Reports are read-only.")
    raise Forbidden(f"You may not {action} this dashboard.")


def check_may_change_permissions(allowed: Collection[Action]) -> None:
    """A change that alters a board's access needs `modifyPermissions` beside what the rest
    of the change needs."""
    if "modifyPermissions" not in allowed:
        raise Forbidden("You may not modify the permissions of this dashboard.")


def check_readable(allowed_bits: int, not_found: str) -> None:
    """A board the caller may not read: asked for by id or tag (`not_found` says how), it is
    not confirmed to exist (404); otherwise 403."""
    if allowed_bits & READ:
        return
    if not_found:
        raise NotFound(not_found)
    raise Forbidden("You may not read this dashboard.")


def clone_keeps_access(source_is_report: bool) -> bool:
    """Whether a clone keeps its source's `inherits` and grants.

    The clone is shown to those its source is shown to: a member who may read a private
    board must not make its content readable by the whole account. The cloner owns it with
    the default owner permissions, as any board they create (the source's concerned its
    owner, and a copy's owner could post its content anew). A report, which everyone reads,
    gives a board with the defaults.
    """
    return not source_is_report
