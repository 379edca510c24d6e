"""Each board keeps its API document, written with every change

A read served the board by loading its row, items, labels and grants and assembling them
in Python; the document (what GET answers, less the fields that depend on who asks or on
the account's users) is now stored on the row in the transaction that changes the board.
Boards written before this migration have none: the service renders those from the tables
when read, and fills them in at start (dashboards.served.store_missing_documents).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite's batch mode would rebuild the table,
    # and with it drop the triggers of migration 0005.
    op.add_column("dashboards", sa.Column("document", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("dashboards", "document")  # SQLite 3.35 and newer drop columns in place
