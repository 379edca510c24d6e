"""The SQL of the change feed: an account's board events after a cursor (their number within
the account, `account_seq`), kept to those the caller could read at the event, in the
database (access.caller_reads_events); where an account's events end; and which accounts
have new ones."""

import sqlalchemy as sa

from insightboards.access import Caller, caller_reads_events
from insightboards.tables import AnyRow, account_events

_e = account_events
_CHANGE_COLUMNS = (
    _e.c.account_seq,
    _e.c.date,
    _e.c.user_id,
    _e.c.kind,
    _e.c.dashboard_id,
    _e.c.version,
    _e.c.details,
)
# The feed's events: those of boards.
_BOARD_EVENT = _e.c.created_by_id.is_not(None)


def changes_after(conn: sa.Connection, caller: Caller, cursor: int, take: int) -> list[AnyRow]:
    """The first `take` board events of the caller's account after `cursor`, oldest first,
    that the caller could read when they happened (events without a read rule, recorded
    before the feed began, are none of them)."""
    statement = (
        sa.select(*_CHANGE_COLUMNS)
        .where(
            _e.c.account_id == caller.account_id,
            _e.c.account_seq > cursor,
            _BOARD_EVENT,
            caller_reads_events(caller),
        )
        .order_by(_e.c.account_seq)
        .limit(take)
    )
    return list(conn.execute(statement).all())


def last_board_event(conn: sa.Connection, account_id: str) -> int:
    """The number of the account's newest board event; 0 if none."""
    statement = sa.select(sa.func.max(_e.c.account_seq)).where(
        _e.c.account_id == account_id, _BOARD_EVENT
    )
    return int(conn.execute(statement).scalar_one() or 0)


def newest_by_account(conn: sa.Connection, after: int) -> list[tuple[str, int, int]]:
    """Each account with board events after `seq` `after` (the order of all accounts'
    events): its newest one's `seq` and its number within the account."""
    statement = (
        sa.select(_e.c.account_id, sa.func.max(_e.c.seq), sa.func.max(_e.c.account_seq))
        .where(_e.c.seq > after, _BOARD_EVENT)
        .group_by(_e.c.account_id)
    )
    rows = conn.execute(statement).all()
    return [(account, int(seq), int(number)) for account, seq, number in rows]


def newest(conn: sa.Connection) -> int:
    """The seq of the newest event of any account, of any kind; 0 if none."""
    return int(conn.execute(sa.select(sa.func.max(_e.c.seq))).scalar_one() or 0)
