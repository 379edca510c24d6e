"""When each API token was last used

`admin list-tokens` shows it, so that unused tokens can be found and revoked. A table of its
own rather than a column of api_tokens: a change to api_tokens moves the auth_changes counter
(migration 0009), and with it every process's cache of callers.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_uses",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("date_last_used", sa.String(24), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "token_hash", name=op.f("pk_token_uses")),
    )


def downgrade() -> None:
    op.drop_table("token_uses")
