"""An index to count readable boards: inheriting boards in one range, then the others

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ["account_id", "inherits", "created_by_id", "owner_deny", "owner_grant", "id"]


def upgrade() -> None:
    op.create_index("ix_dashboards_inherits", "dashboards", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_dashboards_inherits", table_name="dashboards")
