"""The access rules, decided in Python and as SQL, must agree for every caller and board."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insightboards.access import (
    ACTIONS,
    ALL_BITS,
    Caller,
    Grant,
    Policy,
    allowed_actions,
    allowed_bits,
    caller_predicate,
    caller_read_count,
    caller_reads_events,
)
from insightboards.audit import repository as audit
from insightboards.dashboards import list_repository, served_repository
from insightboards.dashboards.records import DashboardRecord, GrantRecord
from insightboards.database import Database, upgrade_schema
from insightboards.tables import (
    account_events,
    accounts,
    dashboard_grants,
    dashboards,
    team_members,
    teams,
    users,
    version_grants,
)

ACCOUNT = "a" * 24
OWNER, OTHER = "1" * 24, "2" * 24
TEAM = "3" * 24


def caller(user: str = OTHER, role: str = "member", teams: frozenset[str] = frozenset()) -> Caller:
    return Caller(ACCOUNT, user, role, teams)  # type: ignore[arg-type]


def policy(**overrides: object) -> Policy:
    values: dict[str, object] = {
        "owner_id": OWNER,
        "inherits": True,
        "owner_grant": ALL_BITS,
        "owner_deny": 0,
        "is_report": False,
        "grants": (),
    }
    values.update(overrides)
    return Policy(**values)  # type: ignore[arg-type]


def test_owner_may_do_everything_unless_denied() -> None:
    assert allowed_actions(caller(OWNER), policy()) == list(ACTIONS)
    frozen = policy(owner_deny=2 | 4)
    assert allowed_actions(caller(OWNER), frozen) == ["read", "modifyPermissions"]
    # Deny wins over the admin default too.
    assert allowed_actions(caller(OWNER, "admin"), frozen) == ["read", "modifyPermissions"]


def test_inherits_gives_read_to_everyone_and_all_to_admins() -> None:
    assert allowed_actions(caller(), policy()) == ["read"]
    assert allowed_actions(caller(role="admin"), policy()) == list(ACTIONS)
    assert allowed_actions(caller(), policy(inherits=False)) == []
    assert allowed_actions(caller(role="admin"), policy(inherits=False)) == []


def test_grants_by_user_team_role_and_account() -> None:
    for grant, who in (
        (Grant("user", OTHER, 3), caller()),
        (Grant("team", TEAM, 3), caller(teams=frozenset({TEAM}))),
        (Grant("role", "member", 3), caller()),
        (Grant("account", ACCOUNT, 3), caller()),
    ):
        assert allowed_actions(who, policy(inherits=False, grants=(grant,))) == ["read", "update"]
    assert allowed_actions(caller(), policy(inherits=False, grants=(Grant("team", TEAM, 3),))) == []


def test_viewers_and_reports_never_get_more_than_read() -> None:
    everything = (Grant("user", OTHER, ALL_BITS),)
    assert allowed_actions(caller(role="viewer"), policy(grants=everything)) == ["read"]
    assert allowed_actions(caller(OWNER, "admin"), policy(is_report=True)) == ["read"]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('access')) / 'access.db'}"
    upgrade_schema(url)
    database = Database(url)
    with database.write() as conn:
        conn.execute(
            accounts.insert().values(
                id=ACCOUNT, name="A", plan="p", suspended=False, date_created="x"
            )
        )
        for user_id in (OWNER, OTHER):
            conn.execute(
                users.insert().values(
                    account_id=ACCOUNT, id=user_id, email=user_id, name="u", role="member"
                )
            )
        conn.execute(teams.insert().values(account_id=ACCOUNT, id=TEAM, name="t"))
        conn.execute(team_members.insert().values(account_id=ACCOUNT, team_id=TEAM, user_id=OTHER))
    yield database
    database.dispose()


principals = st.sampled_from(
    [
        ("user", OWNER),
        ("user", OTHER),
        ("team", TEAM),
        ("role", "member"),
        ("role", "admin"),
        ("account", ACCOUNT),
    ]
)
grant_lists = st.lists(
    st.tuples(principals, st.integers(0, ALL_BITS)), max_size=4, unique_by=lambda g: g[0]
)


# Masks beyond the API's bits too (a row written by other means): the SQL rule spells
# `mask & bit` as a list of masks for the planner's sake, and must still agree.
masks = st.one_of(st.integers(0, ALL_BITS), st.integers(-(2**31), 2**31 - 1))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    inherits=st.booleans(),
    owner_grant=masks,
    owner_deny=masks,
    is_report=st.booleans(),
    grants=grant_lists,
    user=st.sampled_from([OWNER, OTHER]),
    role=st.sampled_from(["admin", "member", "viewer"]),
    in_team=st.booleans(),
)
def test_sql_predicate_agrees_with_python(
    database: Database,
    inherits: bool,
    owner_grant: int,
    owner_deny: int,
    is_report: bool,
    grants: list[tuple[tuple[str, str], int]],
    user: str,
    role: str,
    in_team: bool,
) -> None:
    board = "b" * 24
    who = caller(user, role, frozenset({TEAM}) if in_team else frozenset())
    expected = allowed_bits(
        who,
        policy(
            inherits=inherits,
            owner_grant=owner_grant,
            owner_deny=owner_deny,
            is_report=is_report,
            grants=tuple(Grant(kind, principal, bits) for (kind, principal), bits in grants),
        ),
    )
    with database.write() as conn:
        conn.execute(dashboards.delete())
        conn.execute(
            dashboards.insert().values(
                account_id=ACCOUNT, id=board, tag="t", name="n", archived=False,
                is_report=is_report, created_by_id=OWNER, date_created="x", date_updated="x",
                version=1, inherits=inherits, owner_grant=owner_grant, owner_deny=owner_deny,
                settings=[], parameters=[],
            )
        )  # fmt: skip
        for position, ((kind, principal), bits) in enumerate(grants):
            conn.execute(
                dashboard_grants.insert().values(
                    account_id=ACCOUNT, dashboard_id=board, principal_kind=kind,
                    principal_id=principal, actions=bits, position=position,
                )
            )  # fmt: skip
        from_sql = 0
        for bit, action in zip((1, 2, 4, 8), ACTIONS, strict=True):
            query = sa.select(dashboards.c.id).where(caller_predicate(who, action))
            if conn.execute(query).first() is not None:
                from_sql |= bit
        readers = served_repository.readers_count(conn, ACCOUNT, board)
        readable_count = list_repository.count_readable(conn, ACCOUNT, caller_read_count(who))
        # The change feed judges an event by the rule the event kept: the board's then.
        # Recorded at version 2 and the board moved on to version 3, open to all, since.
        conn.execute(account_events.delete())
        conn.execute(version_grants.delete())
        stored = conn.execute(sa.select(dashboards).where(dashboards.c.id == board)).one()
        grant_rows = conn.execute(sa.select(dashboard_grants)).all()
        at_event = DashboardRecord._make(stored)._replace(version=2)
        audit.record_board_event(
            conn, "update", OWNER, at_event, new_grants=[GrantRecord(*g) for g in grant_rows]
        )
        conn.execute(
            dashboards.update().values(version=3, inherits=True, owner_grant=15, owner_deny=0)
        )
        conn.execute(dashboard_grants.delete())
        conn.execute(
            version_grants.insert().values(
                account_id=ACCOUNT, dashboard_id=board, version=3, principal_kind="account",
                principal_id=ACCOUNT, actions=ALL_BITS,
            )
        )  # fmt: skip
        events_read = conn.execute(
            sa.select(account_events.c.seq).where(caller_reads_events(who))
        ).all()
    assert from_sql == expected & ALL_BITS
    assert len(events_read) == expected & 1
    # The unfiltered list's total counts by another route (access.ReadCount): same rule, for
    # the masks the API writes (its index ranges list them).
    if 0 <= owner_deny <= ALL_BITS:
        assert readable_count == expected & 1
    # usersCount evaluates the same rule for every user of the account (both members here).
    stored_policy = policy(
        inherits=inherits,
        owner_grant=owner_grant,
        owner_deny=owner_deny,
        is_report=is_report,
        grants=tuple(Grant(kind, principal, bits) for (kind, principal), bits in grants),
    )
    expected_readers = sum(
        1
        for member in (caller(OWNER), caller(OTHER, teams=frozenset({TEAM})))
        if "read" in allowed_actions(member, stored_policy)
    )
    assert readers == expected_readers
