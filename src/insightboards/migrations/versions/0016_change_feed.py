"""The change feed: each account numbers its own events, and a board's event keeps the
board's read rule as it stood then

The feed (insightboards/feed/) shows a board's event only to those who could read the board
at the moment of the change, and its cursors are events' numbers within their account
(`account_seq`, also the audit trail's ids), which tell nothing of other accounts. An
account's next number comes from its row in `account_event_counters`, whose lock makes an
account's events commit in the order of their numbers. An event of a board carries the
columns the access rules read, and `version_grants` the grants of each version of a board.
The grants of every board's current version, live or trashed, are copied in here, so that
a later delete, undelete or purge of a board changed before this migration finds them.

Revision ID: 0016
Revises: 0015
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_RULE_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "created_by_id": sa.String(24),
    "inherits": sa.Boolean(),
    "owner_grant": sa.Integer(),
    "owner_deny": sa.Integer(),
    "is_report": sa.Boolean(),
}


def upgrade() -> None:
    with op.batch_alter_table("account_events") as events:
        events.add_column(sa.Column("account_seq", sa.BigInteger(), nullable=True))
        for name, type_ in _RULE_COLUMNS.items():
            events.add_column(sa.Column(name, type_, nullable=True))
    # The events so far, numbered within their account in the order of `seq`.
    op.execute(
        "UPDATE account_events SET account_seq = numbered.n FROM (SELECT seq, "
        "row_number() OVER (PARTITION BY account_id ORDER BY seq) AS n "
        "FROM account_events) AS numbered WHERE account_events.seq = numbered.seq"
    )
    with op.batch_alter_table("account_events") as events:
        events.alter_column("account_seq", existing_type=sa.BigInteger(), nullable=False)
        events.drop_index("ix_account_events_account_id_seq")
        events.create_index(
            "ix_account_events_account_seq", ["account_id", "account_seq"], unique=True
        )
    op.create_table(
        "account_event_counters",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_event_counters")),
    )
    op.execute(
        "INSERT INTO account_event_counters (account_id, last_seq) "
        "SELECT account_id, max(account_seq) FROM account_events GROUP BY account_id"
    )
    op.create_table(
        "version_grants",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("dashboard_id", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("principal_kind", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id",
            "dashboard_id",
            "version",
            "principal_kind",
            "principal_id",
            name=op.f("pk_version_grants"),
        ),
    )
    for boards, grants in (
        ("dashboards", "dashboard_grants"),
        ("trashed_dashboards", "trashed_dashboard_grants"),
    ):
        op.execute(
            "INSERT INTO version_grants (account_id, dashboard_id, version, principal_kind, "
            "principal_id, actions) "
            f"SELECT g.account_id, g.dashboard_id, b.version, g.principal_kind, "
            f"g.principal_id, g.actions FROM {grants} AS g JOIN {boards} AS b "
            "ON b.account_id = g.account_id AND b.id = g.dashboard_id"
        )


def downgrade() -> None:
    op.drop_table("version_grants")
    op.drop_table("account_event_counters")
    with op.batch_alter_table("account_events") as events:
        events.drop_index("ix_account_events_account_seq")
        events.create_index("ix_account_events_account_id_seq", ["account_id", "seq"])
        for name in _RULE_COLUMNS:
            events.drop_column(name)
        events.drop_column("account_seq")
