"""Covering indexes for list queries

Each dashboards index now orders by its field, then id, and carries the columns of the read
rule, so that a filtered, sorted, counted list is answered from one index. The child-table
indexes carry the dashboard id, so that a label or insight filter finds its boards from the
index alone.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

READ_RULE = ["inherits", "owner_grant", "owner_deny", "created_by_id"]
OLD_DASHBOARD_INDEXES = {
    "ix_dashboards_account_id_name": ["account_id", "name"],
    "ix_dashboards_account_id_created_by_id": ["account_id", "created_by_id"],
    "ix_dashboards_account_id_date_created": ["account_id", "date_created"],
    "ix_dashboards_account_id_date_updated": ["account_id", "date_updated"],
    "ix_dashboards_account_id_archived_is_report": ["account_id", "archived", "is_report"],
}
NEW_DASHBOARD_INDEXES = {
    "ix_dashboards_name": ["account_id", "name", "id", *READ_RULE],
    "ix_dashboards_created_by_id": ["account_id", "created_by_id", "id", *READ_RULE[:-1]],
    "ix_dashboards_date_created": ["account_id", "date_created", "id", *READ_RULE],
    "ix_dashboards_date_updated": ["account_id", "date_updated", "id", *READ_RULE],
    "ix_dashboards_archived": ["account_id", "archived", "is_report", "id", *READ_RULE],
}
CHILD_INDEXES = {
    # table: (old name, old columns, new name, new columns)
    "dashboard_items": (
        "ix_dashboard_items_account_id_insight_id",
        ["account_id", "insight_id"],
        "ix_dashboard_items_insight",
        ["account_id", "insight_id", "dashboard_id"],
    ),
    "dashboard_grants": (
        "ix_dashboard_grants_account_id_principal_kind_principal_id",
        ["account_id", "principal_kind", "principal_id"],
        "ix_dashboard_grants_principal",
        ["account_id", "principal_kind", "principal_id", "dashboard_id"],
    ),
}


def upgrade() -> None:
    for name in OLD_DASHBOARD_INDEXES:
        op.drop_index(name, table_name="dashboards")
    for name, columns in NEW_DASHBOARD_INDEXES.items():
        op.create_index(name, "dashboards", columns)
    for table, (old_name, _old, new_name, new_columns) in CHILD_INDEXES.items():
        op.drop_index(old_name, table_name=table)
        op.create_index(new_name, table, new_columns)


def downgrade() -> None:
    for table, (old_name, old_columns, new_name, _new) in CHILD_INDEXES.items():
        op.drop_index(new_name, table_name=table)
        op.create_index(old_name, table, old_columns)
    for name in NEW_DASHBOARD_INDEXES:
        op.drop_index(name, table_name="dashboards")
    for name, columns in OLD_DASHBOARD_INDEXES.items():
        op.create_index(name, "dashboards", columns)
