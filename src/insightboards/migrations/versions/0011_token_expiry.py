"""API tokens may expire

A token made with `admin create-token --expires-in DAYS` carries the moment it stops
working (`date_expires`); tokens made before, and those made without the option, do not
expire.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite's batch mode would rebuild the table and drop the
    # triggers of migration 0009).
    op.add_column("api_tokens", sa.Column("date_expires", sa.String(24), nullable=True))


def downgrade() -> None:
    op.drop_column("api_tokens", "date_expires")
