"""Every version of every board: history to list, compare and restore

One row per version (dashboards/history.py). The current version's document stays on the
board's row; a version's document is copied here when the board moves past it. The version
a board is at now is recorded, as of kind "earlier" (who made it and what it changed were
not recorded), when it next changes.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_versions",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("dashboard_id", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(24), nullable=True),
        sa.Column("date", sa.String(24), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint(
            "account_id", "dashboard_id", "version", name=op.f("pk_dashboard_versions")
        ),
    )


def downgrade() -> None:
    op.drop_table("dashboard_versions")
