"""The audit trail: what happened in each account, by whom, when

One row per event (insightboards/audit/): every change of a board, tokens made and
revoked, admin commands. Nothing is recorded for what happened before this migration.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("date", sa.String(24), nullable=False),
        sa.Column("user_id", sa.String(24), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("dashboard_id", sa.String(24), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_account_events")),
    )
    op.create_index("ix_account_events_account_id_seq", "account_events", ["account_id", "seq"])


def downgrade() -> None:
    op.drop_table("account_events")
