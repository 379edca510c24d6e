"""All SQL about accounts, users, teams and API tokens."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from insightboards.loop_reads import LoopReads
from insightboards.prepared import prepare
from insightboards.tables import (
    AnyRow,
    accounts,
    api_tokens,
    auth_changes,
    team_members,
    teams,
    token_uses,
    users,
)


def insert_account(
    conn: sa.Connection, *, account_id: str, name: str, plan: str, date_created: str
) -> None:
    conn.execute(
        accounts.insert().values(
            id=account_id, name=name, plan=plan, suspended=False, date_created=date_created
        )
    )


_ACCOUNT = sa.select(accounts).where(accounts.c.id == sa.bindparam("account_id"))
# Every create reads it: built once, run through the driver (prepared.py).
# What a create reads of its account, in one statement (each statement of a write hands
# the GIL over and waits to take it back): the plan and its cap (the account's row locked,
# PostgreSQL), the auth counter, and how many users the account has.
_CREATION_FACTS = (
    sa.select(
        accounts.c.plan,
        accounts.c.max_dashboards,
        sa.select(auth_changes.c.counter).where(auth_changes.c.id == 1).scalar_subquery(),
        sa.select(sa.func.count())
        .select_from(users)
        .where(users.c.account_id == accounts.c.id)
        .scalar_subquery(),
    )
    .where(accounts.c.id == sa.bindparam("account_id"))
    .with_for_update(of=accounts)
)


def creation_facts(conn: sa.Connection, account_id: str) -> tuple[str, int | None, int, int] | None:
    """The account's plan, its cap, the auth counter and the number of its users, the
    account's row locked (PostgreSQL) until the transaction ends; None if no such account."""
    rows = prepare(_CREATION_FACTS, conn.dialect).rows(conn, account_id=account_id)
    if not rows:
        return None
    plan, cap, counter, users_count = rows[0]
    return plan, cap, int(counter), int(users_count)


def get_account(conn: sa.Connection, account_id: str) -> AnyRow | None:
    return conn.execute(_ACCOUNT, {"account_id": account_id}).first()


def any_account_exists(conn: sa.Connection) -> bool:
    return conn.execute(sa.select(accounts.c.id).limit(1)).first() is not None


def update_account(conn: sa.Connection, account_id: str, **values: Any) -> bool:
    result = conn.execute(accounts.update().where(accounts.c.id == account_id).values(**values))
    return result.rowcount > 0


def insert_user(
    conn: sa.Connection, *, account_id: str, user_id: str, email: str, name: str, role: str
) -> None:
    conn.execute(
        users.insert().values(account_id=account_id, id=user_id, email=email, name=name, role=role)
    )


def get_user(conn: sa.Connection, account_id: str, user_id: str) -> AnyRow | None:
    return conn.execute(
        sa.select(users).where(users.c.account_id == account_id, users.c.id == user_id)
    ).first()


def count_users_in(conn: sa.Connection, account_id: str, user_ids: list[str]) -> int:
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(users)
        .where(users.c.account_id == account_id, users.c.id.in_(user_ids))
    ).scalar_one()


def insert_team(
    conn: sa.Connection, *, account_id: str, team_id: str, name: str, member_ids: list[str]
) -> None:
    conn.execute(teams.insert().values(account_id=account_id, id=team_id, name=name))
    if member_ids:
        conn.execute(
            team_members.insert(),
            [{"account_id": account_id, "team_id": team_id, "user_id": u} for u in member_ids],
        )


def team_exists(conn: sa.Connection, account_id: str, team_id: str) -> bool:
    query = sa.select(teams.c.id).where(teams.c.account_id == account_id, teams.c.id == team_id)
    return conn.execute(query).first() is not None


def add_team_members(
    conn: sa.Connection, account_id: str, team_id: str, member_ids: list[str]
) -> None:
    present = team_members.c.user_id.in_(member_ids)
    existing = {
        row.user_id
        for row in conn.execute(
            sa.select(team_members.c.user_id).where(
                team_members.c.account_id == account_id, team_members.c.team_id == team_id, present
            )
        )
    }
    new = [u for u in member_ids if u not in existing]
    if new:
        conn.execute(
            team_members.insert(),
            [{"account_id": account_id, "team_id": team_id, "user_id": u} for u in new],
        )


def remove_team_members(
    conn: sa.Connection, account_id: str, team_id: str, member_ids: list[str]
) -> None:
    conn.execute(
        team_members.delete().where(
            team_members.c.account_id == account_id,
            team_members.c.team_id == team_id,
            team_members.c.user_id.in_(member_ids),
        )
    )


# Statements run on every request are built once: SQLAlchemy then computes their cache key
# once, instead of walking the expression on each execution.
_TEAM_IDS = sa.select(team_members.c.team_id).where(
    team_members.c.account_id == sa.bindparam("account_id"),
    team_members.c.user_id == sa.bindparam("user_id"),
)


def team_ids_of(conn: sa.Connection, account_id: str, user_id: str) -> frozenset[str]:
    rows = conn.execute(_TEAM_IDS, {"account_id": account_id, "user_id": user_id})
    return frozenset(row.team_id for row in rows)


def insert_token(
    conn: sa.Connection,
    *,
    account_id: str,
    user_id: str,
    token_hash: str,
    date_created: str,
    date_expires: str | None,
) -> None:
    conn.execute(
        api_tokens.insert().values(
            account_id=account_id,
            user_id=user_id,
            token_hash=token_hash,
            date_created=date_created,
            date_expires=date_expires,
        )
    )


_ACTIVE_TOKEN_USER = (
    sa.select(
        users.c.account_id,
        users.c.id.label("user_id"),
        users.c.role,
        accounts.c.suspended,
        api_tokens.c.date_expires,
    )
    .select_from(
        api_tokens.join(
            users,
            sa.and_(
                users.c.account_id == api_tokens.c.account_id,
                users.c.id == api_tokens.c.user_id,
            ),
        ).join(accounts, accounts.c.id == api_tokens.c.account_id)
    )
    .where(
        api_tokens.c.account_id == sa.bindparam("account_id"),
        api_tokens.c.token_hash == sa.bindparam("token_hash"),
        api_tokens.c.date_revoked.is_(None),
    )
)


def get_active_token_user(conn: sa.Connection, account_id: str, token_hash: str) -> AnyRow | None:
    """The user (joined with their account) behind an unrevoked token."""
    return conn.execute(
        _ACTIVE_TOKEN_USER, {"account_id": account_id, "token_hash": token_hash}
    ).first()


def active_token_hashes(conn: sa.Connection, account_id: str, hash_prefix: str) -> list[str]:
    """The hashes of the account's unrevoked tokens that start with `hash_prefix`."""
    query = sa.select(api_tokens.c.token_hash).where(
        api_tokens.c.account_id == account_id,
        api_tokens.c.token_hash.startswith(hash_prefix, autoescape=True),
        api_tokens.c.date_revoked.is_(None),
    )
    return list(conn.execute(query).scalars())


def revoke_token(conn: sa.Connection, account_id: str, token_hash: str, when: str) -> bool:
    result = conn.execute(
        api_tokens.update()
        .where(
            api_tokens.c.account_id == account_id,
            api_tokens.c.token_hash == token_hash,
            api_tokens.c.date_revoked.is_(None),
        )
        .values(date_revoked=when)
    )
    return result.rowcount > 0


_AUTH_CHANGES = sa.select(auth_changes.c.counter).where(auth_changes.c.id == 1)


def auth_changes_counter(conn: sa.Connection) -> int:
    """Moves with every change to accounts, users, teams and tokens (migration 0009)."""
    ((counter,),) = prepare(_AUTH_CHANGES, conn.dialect).rows(conn)
    return int(counter)


async def auth_changes_counter_on_loop(reads: LoopReads) -> int:
    ((counter,),) = await reads.execute(_AUTH_CHANGES, {})
    return int(counter)


def list_accounts(conn: sa.Connection) -> list[dict[str, Any]]:
    query = sa.select(
        accounts.c.id,
        accounts.c.name,
        accounts.c.plan,
        accounts.c.max_dashboards,
        accounts.c.suspended,
        accounts.c.date_created,
    ).order_by(accounts.c.date_created, accounts.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def list_users(conn: sa.Connection, account_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(users.c.id, users.c.email, users.c.name, users.c.role)
        .where(users.c.account_id == account_id)
        .order_by(users.c.email)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def list_teams(conn: sa.Connection, account_id: str) -> list[dict[str, Any]]:
    """Each team with its members' ids."""
    members = (
        sa.select(team_members.c.team_id, team_members.c.user_id)
        .where(team_members.c.account_id == account_id)
        .order_by(team_members.c.team_id, team_members.c.user_id)
    )
    by_team: dict[str, list[str]] = {}
    for team_id, user_id in conn.execute(members):
        by_team.setdefault(team_id, []).append(user_id)
    query = (
        sa.select(teams.c.id, teams.c.name)
        .where(teams.c.account_id == account_id)
        .order_by(teams.c.name, teams.c.id)
    )
    return [
        {"id": team_id, "name": name, "members": by_team.get(team_id, [])}
        for team_id, name in conn.execute(query)
    ]


# The start of a token's hash by which `list-tokens` names it (the hash of a token is the
# only thing stored of it, and its start is no help in guessing it).
TOKEN_ID_LENGTH = 12


def list_tokens(conn: sa.Connection, account_id: str) -> list[dict[str, Any]]:
    """The account's tokens by a short id (the start of their hash, never the token), with
    their user and dates."""
    query = (
        sa.select(
            sa.func.substr(api_tokens.c.token_hash, 1, TOKEN_ID_LENGTH).label("id"),
            api_tokens.c.user_id,
            api_tokens.c.date_created,
            token_uses.c.date_last_used,
            api_tokens.c.date_expires,
            api_tokens.c.date_revoked,
        )
        .select_from(
            api_tokens.outerjoin(
                token_uses,
                (token_uses.c.account_id == api_tokens.c.account_id)
                & (token_uses.c.token_hash == api_tokens.c.token_hash),
            )
        )
        .where(api_tokens.c.account_id == account_id)
        .order_by(api_tokens.c.date_created, api_tokens.c.token_hash)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def record_token_uses(conn: sa.Connection, uses: dict[tuple[str, str], str]) -> None:
    """Moves each (account, token hash)'s last use forward to the time given, never back."""
    if not uses:
        return
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    statement = insert(token_uses)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[token_uses.c.account_id, token_uses.c.token_hash],
            set_={"date_last_used": statement.excluded.date_last_used},
            where=token_uses.c.date_last_used < statement.excluded.date_last_used,
        ),
        [
            {"account_id": account_id, "token_hash": token_hash, "date_last_used": when}
            for (account_id, token_hash), when in sorted(uses.items())
        ],
    )
