"""The access rules (rules.py) as SQL over a row of `dashboards`: may a user take an action
on it, how many users read it, and the read rule split for counting without visiting boards.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType

from insightboards.access.rules import ACTION_BITS, ALL_BITS, READ, Action, Caller
from insightboards.tables import (
    account_events,
    dashboard_grants,
    dashboards,
    team_members,
    users,
    version_grants,
)


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
    boards: sa.Table = dashboards,
    grants: sa.Table = dashboard_grants,
) -> _RuleTerms:
    d = boards
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
            *_grants_of(d, grants),
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


def _grants_of(boards: sa.Table, grants: sa.Table) -> tuple[sa.ColumnElement[bool], ...]:
    """Which rows of `grants` are the board's: its own, or for a board's event (a row of
    `account_events`), those of the board's version at the event (`version_grants`)."""
    if boards is account_events:
        return (
            grants.c.account_id == boards.c.account_id,
            grants.c.dashboard_id == boards.c.dashboard_id,
            grants.c.version == boards.c.version,
        )
    return grants.c.account_id == boards.c.account_id, grants.c.dashboard_id == boards.c.id


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
    boards: sa.Table = dashboards,
    grants: sa.Table = dashboard_grants,
) -> sa.ColumnElement[bool]:
    """SQL: may the user (`user_id`, `role`) take `action` on the row of `boards`?

    The user may be the caller (bound parameters) or a column of `users` (to count readers).
    `team_ids` is a predicate on `grants.principal_id` meaning "is one of the user's teams";
    by default it is looked up in `team_members`. `boards` and `grants` are `dashboards`
    and `dashboard_grants`, or tables with the same columns (the trash's), or the events
    of boards and the grants of the boards' versions (`account_events`, `version_grants`).
    """
    bit = ACTION_BITS[action]
    terms = _rule_terms(bit, account_id, user_id, role, team_ids, boards, grants)
    # Inheritance first: it decides most boards, and SQL evaluates OR from the left.
    predicate = sa.and_(
        sa.or_(terms.from_inherits, terms.as_owner, terms.from_grants),
        sa.not_(terms.owner_denied),
    )
    if bit != READ:
        predicate = sa.and_(predicate, role != "viewer", sa.not_(boards.c.is_report))
    return predicate


class _CallerParameters(TypedDict):
    account_id: sa.ColumnElement[str]
    user_id: sa.ColumnElement[str]
    role: sa.ColumnElement[str]
    team_ids: sa.ColumnElement[bool]


def _as_parameters(caller: Caller, grants: sa.Table = dashboard_grants) -> _CallerParameters:
    """The caller as bound parameters, for `allowed_predicate` and `_rule_terms`."""
    return {
        "account_id": sa.literal(caller.account_id),
        "user_id": sa.literal(caller.user_id),
        "role": sa.literal(caller.role),
        "team_ids": grants.c.principal_id.in_(sorted(caller.team_ids))
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


class _Rare(ColumnElement[bool]):
    """A condition that few rows meet, said so to SQLite's planner (`unlikely()`). From its
    statistics it guesses a boolean column false in half the rows, and any one value of a
    column with few values common: it then reads every board off an index that covers the
    filter rather than the short range of the few and a probe each (the boards that do not
    inherit, tested against a `$regex` at 100k boards: 13 ms, not 0.01). Other databases
    get the condition as it is."""

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (SQLAlchemy's own form)
        ("condition", InternalTraversal.dp_clauseelement)
    ]
    type = sa.Boolean()
    # A condition, not a boolean column: no `= 1` after it on SQLite.
    _is_implicitly_boolean = True

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition


@compiles(_Rare)
def _rare_elsewhere(element: _Rare, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.condition, **kw)


@compiles(_Rare, "sqlite")
def _rare_on_sqlite(element: _Rare, compiler: SQLCompiler, **kw: Any) -> str:
    return f"unlikely({compiler.process(element.condition, **kw)})"


@lru_cache(maxsize=1024)
def caller_read_count(caller: Caller) -> ReadCount:
    terms = _rule_terms(READ, **_as_parameters(caller))
    readable_anyway = sa.and_(
        sa.or_(terms.as_owner, terms.from_grants), sa.not_(terms.owner_denied)
    )
    # Few: a filter's count tests them only when they are fewer than its matches.
    uninherited = _Rare(dashboards.c.inherits == sa.false())
    return ReadCount(
        # The masks that deny reading, as a list: one short range of the index each, where
        # `owner_deny & 1` would test every board the caller owns.
        denied=sa.and_(
            dashboards.c.inherits == sa.true(),
            dashboards.c.created_by_id == caller.user_id,
            # Few: who denies themselves reading their own board?
            _Rare(
                dashboards.c.owner_deny.in_([mask for mask in range(ALL_BITS + 1) if mask & READ])
            ),
        ),
        other=sa.and_(uninherited, readable_anyway),
        unread_uninherited=sa.and_(uninherited, sa.not_(readable_anyway)),
    )


# Building the expression costs ~0.3 ms; a script paging through a list asks the same again.
# SQL expressions are immutable, so one may be shared by any number of statements.
@lru_cache(maxsize=1024)
def caller_predicate(caller: Caller, action: Action = "read") -> sa.ColumnElement[bool]:
    """SQL: may `caller` take `action` on the row of `dashboards`?"""
    return allowed_predicate(action, **_as_parameters(caller))


@lru_cache(maxsize=256)
def caller_predicate_on(
    caller: Caller, action: Action, boards: sa.Table, grants: sa.Table
) -> sa.ColumnElement[bool]:
    """`caller_predicate` over other tables of boards and their grants (the trash's)."""
    return allowed_predicate(action, **_as_parameters(caller, grants), boards=boards, grants=grants)


def caller_reads_events(caller: Caller) -> sa.ColumnElement[bool]:
    """SQL: could `caller` read the board of a row of `account_events` at that event, by
    the read rule the event keeps (the change feed)?"""
    return caller_predicate_on(caller, "read", account_events, version_grants)


def readers_expression() -> sa.ColumnElement[int]:
    """How many distinct users of the board's account may read the board (a row of
    `dashboards`): the document's `usersCount`. The expression does not depend on the
    caller."""
    readers = users.alias("readers")
    may_read = allowed_predicate(
        "read", account_id=readers.c.account_id, user_id=readers.c.id, role=readers.c.role
    )
    count = (
        sa.select(sa.func.count())
        .select_from(readers)
        .where(readers.c.account_id == dashboards.c.account_id, may_read)
        .scalar_subquery()
    )
    everyone = (
        sa.select(sa.func.count())
        .select_from(users)
        .where(users.c.account_id == dashboards.c.account_id)
        .scalar_subquery()
    )
    # The common case needs no per-user test: on a board that inherits the account's
    # defaults, and whose owner is not denied reading, every user of the account reads.
    everyone_reads = sa.and_(dashboards.c.inherits, dashboards.c.owner_deny.op("&")(READ) == 0)
    return sa.case((everyone_reads, everyone), else_=count)
