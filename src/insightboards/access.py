"""Who may do what to a dashboard: the one definition of the access rules.

The rules are evaluated two ways from this module: `allowed_actions` decides a single
dashboard in Python, and `allowed_predicate` renders the same rules as a SQL predicate, so
that lists, counts and tag usages never include a dashboard the caller may not read.

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
from functools import lru_cache
from typing import Any, Literal

import sqlalchemy as sa

from insightboards.tables import dashboard_grants, dashboards, team_members

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


@dataclass(frozen=True)
class _RuleTerms:
    """The rule's parts for one action, as SQL over a row of `dashboards`."""

    as_owner: sa.ColumnElement[bool]
    from_inherits: sa.ColumnElement[bool]
    from_grants: sa.ColumnElement[bool]
    owner_denied: sa.ColumnElement[bool]


def _rule_terms(
    bit: int,
    account_id: sa.ColumnElement[str],
    user_id: sa.ColumnElement[str],
    role: sa.ColumnElement[str],
    team_ids: sa.ColumnElement[bool] | None,
) -> _RuleTerms:
    grants = dashboard_grants
    d = dashboards
    if team_ids is None:
        team_ids = grants.c.principal_id.in_(
            sa.select(team_members.c.team_id)
            .where(team_members.c.account_id == account_id, team_members.c.user_id == user_id)
            .correlate_except(team_members)
        )
    is_owner = d.c.created_by_id == user_id
    # Correlated explicitly: the predicate may sit several subqueries below `dashboards`.
    from_grants = (
        sa.exists()
        .where(
            grants.c.account_id == d.c.account_id,
            grants.c.dashboard_id == d.c.id,
            grants.c.actions.op("&")(bit) != 0,
            sa.or_(
                sa.and_(grants.c.principal_kind == "user", grants.c.principal_id == user_id),
                sa.and_(grants.c.principal_kind == "team", team_ids),
                sa.and_(grants.c.principal_kind == "role", grants.c.principal_id == role),
                sa.and_(grants.c.principal_kind == "account", grants.c.principal_id == account_id),
            ),
        )
        .correlate_except(grants)
    )
    return _RuleTerms(
        as_owner=sa.and_(is_owner, _has_bit(d.c.owner_grant, bit)),
        from_inherits=d.c.inherits if bit == READ else sa.and_(d.c.inherits, role == "admin"),
        from_grants=from_grants,
        owner_denied=sa.and_(is_owner, _has_bit(d.c.owner_deny, bit)),
    )


def _has_bit(column: sa.ColumnElement[int], bit: int) -> sa.ColumnElement[bool]:
    """`column & bit != 0`, spelled so that a planner can estimate it from the column's
    statistics: the masks with the bit, as a list, and the test itself for any value beyond
    them. PostgreSQL guesses that an expression such as `owner_deny & 1 = 0` holds for
    0.5 % of the rows; the read rule's `NOT (owner denied)` then seemed to leave 53 of
    10,000 boards, and a label list's page scanned every board and sorted the matches
    (40 ms at 10k boards; under 10 ms with the rule estimated rightly)."""
    # Written into the SQL: a list bound as a parameter is expanded at each execution.
    masks: list[sa.ColumnElement[Any]] = [
        sa.literal_column(str(mask)) for mask in range(ALL_BITS + 1) if mask & bit
    ]
    beyond = sa.not_(column.between(sa.literal_column("0"), sa.literal_column(str(ALL_BITS))))
    return sa.or_(column.in_(masks), sa.and_(beyond, column.op("&")(bit) != 0))


def allowed_predicate(
    action: Action,
    *,
    account_id: sa.ColumnElement[str],
    user_id: sa.ColumnElement[str],
    role: sa.ColumnElement[str],
    team_ids: sa.ColumnElement[bool] | None = None,
) -> sa.ColumnElement[bool]:
    """SQL: may the user (`user_id`, `role`) take `action` on the row of `dashboards`?

    The user may be the caller (bound parameters) or a column of `users` (to count readers).
    `team_ids` is a predicate on `dashboard_grants.principal_id` meaning "is one of the
    user's teams"; by default it is looked up in `team_members`.
    """
    bit = ACTION_BITS[action]
    terms = _rule_terms(bit, account_id, user_id, role, team_ids)
    # Inheritance first: it decides most boards, and SQL evaluates OR from the left.
    predicate = sa.and_(
        sa.or_(terms.from_inherits, terms.as_owner, terms.from_grants),
        sa.not_(terms.owner_denied),
    )
    if bit != READ:
        predicate = sa.and_(predicate, role != "viewer", sa.not_(dashboards.c.is_report))
    return predicate


def _as_parameters(caller: Caller) -> dict[str, sa.ColumnElement[Any]]:
    """The caller as bound parameters, for `allowed_predicate` and `_rule_terms`."""
    return {
        "account_id": sa.literal(caller.account_id),
        "user_id": sa.literal(caller.user_id),
        "role": sa.literal(caller.role),
        "team_ids": dashboard_grants.c.principal_id.in_(sorted(caller.team_ids))
        if caller.team_ids
        else sa.false(),
    }


@dataclass(frozen=True)
class ReadCount:
    """The read rule split for counting: readable = inheriting - denied + other.

    Most boards inherit the account's defaults, which let everyone read; their number is
    kept per account (table dashboard_counts), so counting them visits no board at all.
    `denied` (inherited, but the caller owns it and denied themselves reading) and `other`
    (not inherited, readable by ownership or a grant) are small sets, each one range of the
    index on (account_id, inherits, created_by_id, ...).
    """

    denied: sa.ColumnElement[bool]
    other: sa.ColumnElement[bool]
    # The boards that do not inherit and are not `other`: the caller may not read them.
    unread_uninherited: sa.ColumnElement[bool]


@lru_cache(maxsize=1024)
def caller_read_count(caller: Caller) -> ReadCount:
    terms = _rule_terms(READ, **_as_parameters(caller))
    readable_anyway = sa.and_(
        sa.or_(terms.as_owner, terms.from_grants), sa.not_(terms.owner_denied)
    )
    return ReadCount(
        # The masks that deny reading, as a list: one short range of the index each, where
        # `owner_deny & 1` would test every board the caller owns.
        denied=sa.and_(
            dashboards.c.inherits == sa.true(),
            dashboards.c.created_by_id == caller.user_id,
            dashboards.c.owner_deny.in_([mask for mask in range(ALL_BITS + 1) if mask & READ]),
        ),
        other=sa.and_(dashboards.c.inherits == sa.false(), readable_anyway),
        unread_uninherited=sa.and_(dashboards.c.inherits == sa.false(), sa.not_(readable_anyway)),
    )


# Building the expression costs ~0.3 ms; a script paging through a list asks the same again.
# SQL expressions are immutable, so one may be shared by any number of statements.
@lru_cache(maxsize=1024)
def caller_predicate(caller: Caller, action: Action = "read") -> sa.ColumnElement[bool]:
    """SQL: may `caller` take `action` on the row of `dashboards`?"""
    return allowed_predicate(action, **_as_parameters(caller))
