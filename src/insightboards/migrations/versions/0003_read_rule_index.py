"""An index keyed by id that carries the read rule and the dates

Boards reached by id from a child-table filter are checked and sorted by date from it,
without reading their rows.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = [
    "account_id", "id", "inherits", "owner_grant", "owner_deny", "created_by_id",
    "date_created", "date_updated",
]  # fmt: skip


def upgrade() -> None:
    op.create_index("ix_dashboards_read_rule", "dashboards", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_dashboards_read_rule", table_name="dashboards")
