"""A counter of changes to who may call: accounts, users, teams, members and tokens

The service keeps token -> caller in memory (accounts.service.CallerCache) and reads this
counter on each request: an entry cached before the counter last moved is looked up again.
Triggers move it, so that every change made by the admin commands, or by hand, takes effect
on every running process at once.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("accounts", "users", "teams", "team_members", "api_tokens")
_BUMP = "UPDATE auth_changes SET counter = counter + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "auth_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_changes")),
    )
    op.execute("INSERT INTO auth_changes (id, counter) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION auth_changes_bump() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_auth_changes AFTER INSERT OR UPDATE OR DELETE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION auth_changes_bump()"
            )
        return
    for table in TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_auth_changes_{event.lower()} AFTER {event} ON {table}"
                f" BEGIN {_BUMP}; END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql:
            op.execute(f"DROP TRIGGER {table}_auth_changes ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_auth_changes_{event}")
    if postgresql:
        op.execute("DROP FUNCTION auth_changes_bump()")
    op.drop_table("auth_changes")
