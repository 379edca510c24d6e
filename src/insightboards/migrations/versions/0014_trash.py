"""The trash: deleted boards kept until undeleted or purged

A DELETE moves a board here (dashboards/trash.py) out of the tables that live boards are
read from, so every read of live boards stays as it was. A trashed board keeps the columns
and grants the access rules read, its last document, and its rows to put back.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trashed_dashboards",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("is_report", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.String(24), nullable=False),
        sa.Column("inherits", sa.Boolean(), nullable=False),
        sa.Column("owner_grant", sa.Integer(), nullable=False),
        sa.Column("owner_deny", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("date_deleted", sa.String(24), nullable=False),
        sa.Column("deleted_by_id", sa.String(24), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_trashed_dashboards")),
    )
    op.create_index(
        "ix_trashed_dashboards_date_deleted",
        "trashed_dashboards",
        ["account_id", "date_deleted", "id"],
    )
    op.create_index("ix_trashed_dashboards_purge", "trashed_dashboards", ["date_deleted"])
    op.create_table(
        "trashed_dashboard_grants",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("dashboard_id", sa.String(24), nullable=False),
        sa.Column("principal_kind", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "dashboard_id"],
            ["trashed_dashboards.account_id", "trashed_dashboards.id"],
            name="fk_trashed_dashboard_grants_trashed_dashboards",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id",
            "dashboard_id",
            "principal_kind",
            "principal_id",
            name=op.f("pk_trashed_dashboard_grants"),
        ),
    )


def downgrade() -> None:
    op.drop_table("trashed_dashboard_grants")
    op.drop_index("ix_trashed_dashboards_purge", table_name="trashed_dashboards")
    op.drop_index("ix_trashed_dashboards_date_deleted", table_name="trashed_dashboards")
    op.drop_table("trashed_dashboards")
