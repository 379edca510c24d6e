"""Who may do what to a dashboard: the one definition of the access rules, in Python.

`allowed_actions` decides a single dashboard; sql.py renders the same rules as a SQL
predicate (`allowed_predicate`), so that lists, counts and tag usages never include a
dashboard the caller may not read; tests/unit/test_access.py checks the two agree.

The rules, for a caller in the dashboard's account:
- the owner (creator) may do what `ownerPermissions.grant` allows (by default everything),
  and never what `ownerPermissions.deny` withholds, whatever other rule would allow it;
- `inherits: true` adds the account defaults: everyone reads, account admins do all;
- each grant adds its actions to the principals it names (a user, every member of a team,
  every user with a role, or the whole account);
- a viewer never gets more than `read`; a report is never more than readable.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Action = Literal["read", "update", "delete", "modifyPermissions"]
ACTIONS: tuple[Action, ...] = ("read", "update", "delete", "modifyPermissions")
ACTION_BITS: dict[Action, int] = {"read": 1, "update": 2, "delete": 4, "modifyPermissions": 8}
ALL_BITS = 15
READ = ACTION_BITS["read"]

Role = Literal["admin", "member", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "member", "viewer")
PRINCIPAL_KINDS = ("user", "team", "role", "account")
# Account roles that may create dashboards.
CREATOR_ROLES = frozenset({"admin", "member"})


def to_bits(actions: Iterable[str]) -> int:
    bits = 0
    for action in actions:
        bits |= ACTION_BITS[action]  # type: ignore[index]
    return bits


def from_bits(bits: int) -> list[Action]:
    return [action for action in ACTIONS if bits & ACTION_BITS[action]]


@dataclass(frozen=True)
class Caller:
    """The authenticated user a request acts for."""

    account_id: str
    user_id: str
    role: Role
    team_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Grant:
    principal_kind: str
    principal_id: str
    actions: int


@dataclass(frozen=True)
class Policy:
    """What a dashboard says about access."""

    owner_id: str
    inherits: bool
    owner_grant: int
    owner_deny: int
    is_report: bool
    grants: tuple[Grant, ...] = ()


def _grant_applies(grant: Grant, caller: Caller) -> bool:
    kind, principal = grant.principal_kind, grant.principal_id
    return (
        (kind == "user" and principal == caller.user_id)
        or (kind == "team" and principal in caller.team_ids)
        or (kind == "role" and principal == caller.role)
        or (kind == "account" and principal == caller.account_id)
    )


def allowed_bits(caller: Caller, policy: Policy) -> int:
    """The actions `caller` may take on a dashboard of their own account, as a bit mask."""
    bits = 0
    is_owner = caller.user_id == policy.owner_id
    if is_owner:
        bits |= policy.owner_grant
    if policy.inherits:
        bits |= ALL_BITS if caller.role == "admin" else READ
    for grant in policy.grants:
        if _grant_applies(grant, caller):
            bits |= grant.actions
    if is_owner:
        bits &= ~policy.owner_deny
    if caller.role == "viewer" or policy.is_report:
        bits &= READ
    return bits


def allowed_actions(caller: Caller, policy: Policy) -> list[Action]:
    return from_bits(allowed_bits(caller, policy))


def everyone_reads(inherits: bool, owner_deny: int) -> bool:
    """Whether every user of the account may read a board: it inherits the account's
    defaults and its owner is not denied reading (sql.readers_expression's shortcut)."""
    return inherits and not owner_deny & READ
