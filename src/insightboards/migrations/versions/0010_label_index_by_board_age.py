"""The label index holds each labelled board once, in the order of the boards' creation

A label's rows now carry their board's dateCreated (`board_created`) and whether an earlier
label of the board has the same name (`repeated`), and the label index is ordered by name,
then board_created, then board: the boards with a label are counted off the index
(`repeated` false, without DISTINCT), and a label's newest boards are its first entries,
where a page walked the date index and probed each board for the label.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INDEX = "ix_dashboard_labels_name"
_OLD_COLUMNS = ["account_id", "name", "dashboard_id", "position", "title"]
_NEW_COLUMNS = [
    "account_id",
    "name",
    "board_created",
    "dashboard_id",
    "position",
    "title",
    "repeated",
]


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite's batch mode would rebuild the table); the defaults only
    # fill the rows already there, until the updates below.
    op.add_column(
        "dashboard_labels",
        sa.Column("board_created", sa.String(24), nullable=False, server_default=""),
    )
    op.add_column(
        "dashboard_labels",
        sa.Column("repeated", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE dashboard_labels SET board_created = (SELECT d.date_created FROM dashboards d"
        " WHERE d.account_id = dashboard_labels.account_id"
        " AND d.id = dashboard_labels.dashboard_id)"
    )
    op.execute(
        "UPDATE dashboard_labels SET repeated = EXISTS (SELECT 1 FROM dashboard_labels e"
        " WHERE e.account_id = dashboard_labels.account_id"
        " AND e.dashboard_id = dashboard_labels.dashboard_id"
        " AND e.name = dashboard_labels.name AND e.position < dashboard_labels.position)"
    )
    if op.get_bind().dialect.name == "postgresql":
        # Every write sets both; a default would hide one that does not.
        op.alter_column("dashboard_labels", "board_created", server_default=None)
        op.alter_column("dashboard_labels", "repeated", server_default=None)
    op.drop_index(_INDEX, table_name="dashboard_labels")
    op.create_index(_INDEX, "dashboard_labels", _NEW_COLUMNS)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="dashboard_labels")
    op.create_index(_INDEX, "dashboard_labels", _OLD_COLUMNS)
    op.drop_column("dashboard_labels", "repeated")
    op.drop_column("dashboard_labels", "board_created")
