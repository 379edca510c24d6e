"""Per-account counts of boards and of inheriting boards, kept by triggers

An unfiltered list's total was a count over every board of the account (linear in the
account's size); most boards inherit the account's defaults, which let everyone read, so
their number, kept here, answers most of that count at once (access.ReadCount). The number
of boards sizes the walk of a sort index (list_repository.walk_page_ids).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Insert: add the board (the account's row is made by its first board). Delete and a change
# of `inherits`: adjust that row. Any write to `dashboards`, by this
# service or by hand, keeps the count true.
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER dashboard_counts_insert AFTER INSERT ON dashboards
    BEGIN
        INSERT INTO dashboard_counts (account_id, boards, inheriting)
        VALUES (NEW.account_id, 1, CASE WHEN NEW.inherits THEN 1 ELSE 0 END)
        ON CONFLICT (account_id) DO UPDATE
        SET boards = boards + 1, inheriting = inheriting + excluded.inheriting;
    END
    """,
    """
    CREATE TRIGGER dashboard_counts_delete AFTER DELETE ON dashboards
    BEGIN
        UPDATE dashboard_counts
        SET boards = boards - 1, inheriting = inheriting - CASE WHEN OLD.inherits THEN 1 ELSE 0 END
        WHERE account_id = OLD.account_id;
    END
    """,
    """
    CREATE TRIGGER dashboard_counts_update AFTER UPDATE OF inherits ON dashboards
    WHEN OLD.inherits IS NOT NEW.inherits
    BEGIN
        UPDATE dashboard_counts
        SET inheriting = inheriting + CASE WHEN NEW.inherits THEN 1 ELSE -1 END
        WHERE account_id = NEW.account_id;
    END
    """,
)

POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION dashboard_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO dashboard_counts AS counts (account_id, boards, inheriting)
            VALUES (NEW.account_id, 1, CASE WHEN NEW.inherits THEN 1 ELSE 0 END)
            ON CONFLICT (account_id) DO UPDATE
            SET boards = counts.boards + 1, inheriting = counts.inheriting + excluded.inheriting;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE dashboard_counts
            SET boards = boards - 1,
                inheriting = inheriting - CASE WHEN OLD.inherits THEN 1 ELSE 0 END
            WHERE account_id = OLD.account_id;
        ELSIF OLD.inherits IS DISTINCT FROM NEW.inherits THEN
            UPDATE dashboard_counts
            SET inheriting = inheriting + CASE WHEN NEW.inherits THEN 1 ELSE -1 END
            WHERE account_id = NEW.account_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER dashboard_counts_keep
    AFTER INSERT OR DELETE OR UPDATE OF inherits ON dashboards
    FOR EACH ROW EXECUTE FUNCTION dashboard_counts_keep()
    """,
)


def upgrade() -> None:
    op.create_table(
        "dashboard_counts",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("boards", sa.Integer(), nullable=False),
        sa.Column("inheriting", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_dashboard_counts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_dashboard_counts")),
    )
    op.execute(
        "INSERT INTO dashboard_counts (account_id, boards, inheriting)"
        " SELECT account_id, COUNT(*), SUM(CASE WHEN inherits THEN 1 ELSE 0 END) FROM dashboards"
        " GROUP BY account_id"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER dashboard_counts_keep ON dashboards")
        op.execute("DROP FUNCTION dashboard_counts_keep()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER dashboard_counts_{name}")
    op.drop_table("dashboard_counts")
