"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _accounts()
    _dashboards()
    _dashboard_indexes()
    _teams_users_and_tokens()
    _dashboard_grants()
    _dashboard_items()
    _dashboard_labels()
    _team_members()


def _accounts() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=False),
        sa.Column("max_dashboards", sa.Integer(), nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("date_created", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )


def _dashboards() -> None:
    op.create_table(
        "dashboards",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("is_report", sa.Boolean(), nullable=False),
        sa.Column("layout", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", sa.String(length=24), nullable=False),
        sa.Column("date_created", sa.String(length=24), nullable=False),
        sa.Column("date_updated", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_application", sa.String(length=64), nullable=True),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("inherits", sa.Boolean(), nullable=False),
        sa.Column("owner_grant", sa.Integer(), nullable=False),
        sa.Column("owner_deny", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_dashboards_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_dashboards")),
        sa.UniqueConstraint("account_id", "tag", name=op.f("uq_dashboards_account_id_tag")),
    )


def _dashboard_indexes() -> None:
    with op.batch_alter_table("dashboards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboards_account_id_archived_is_report"),
            ["account_id", "archived", "is_report"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dashboards_account_id_created_by_id"),
            ["account_id", "created_by_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dashboards_account_id_date_created"),
            ["account_id", "date_created"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dashboards_account_id_date_updated"),
            ["account_id", "date_updated"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dashboards_account_id_name"), ["account_id", "name"], unique=False
        )


def _teams_users_and_tokens() -> None:
    op.create_table(
        "teams",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_teams_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_teams")),
    )
    op.create_table(
        "users",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_users_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_users")),
        sa.UniqueConstraint("account_id", "email", name=op.f("uq_users_account_id_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=24), nullable=False),
        sa.Column("date_created", sa.String(length=24), nullable=False),
        sa.Column("date_revoked", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id", "user_id"],
            ["users.account_id", "users.id"],
            name=op.f("fk_api_tokens_account_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("account_id", "token_hash", name=op.f("pk_api_tokens")),
    )


def _dashboard_grants() -> None:
    op.create_table(
        "dashboard_grants",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("dashboard_id", sa.String(length=24), nullable=False),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "dashboard_id"],
            ["dashboards.account_id", "dashboards.id"],
            name=op.f("fk_dashboard_grants_account_id_dashboard_id_dashboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id",
            "dashboard_id",
            "principal_kind",
            "principal_id",
            name=op.f("pk_dashboard_grants"),
        ),
    )
    with op.batch_alter_table("dashboard_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_grants_account_id_principal_kind_principal_id"),
            ["account_id", "principal_kind", "principal_id"],
            unique=False,
        )


def _dashboard_items() -> None:
    op.create_table(
        "dashboard_items",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("dashboard_id", sa.String(length=24), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("col", sa.Integer(), nullable=False),
        sa.Column("size_x", sa.Integer(), nullable=False),
        sa.Column("size_y", sa.Integer(), nullable=False),
        sa.Column("insight_id", sa.String(length=64), nullable=True),
        sa.Column("insight_name", sa.String(length=500), nullable=True),
        sa.Column("header", sa.String(length=1000), nullable=True),
        sa.Column("sub_header", sa.String(length=1000), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.String(length=24), nullable=True),
        sa.Column("modified_by_id", sa.String(length=24), nullable=True),
        sa.Column("date_created", sa.String(length=24), nullable=False),
        sa.Column("date_updated", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "dashboard_id"],
            ["dashboards.account_id", "dashboards.id"],
            name=op.f("fk_dashboard_items_account_id_dashboard_id_dashboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "dashboard_id", "id", name=op.f("pk_dashboard_items")
        ),
    )
    with op.batch_alter_table("dashboard_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_items_account_id_insight_id"),
            ["account_id", "insight_id"],
            unique=False,
        )


def _dashboard_labels() -> None:
    op.create_table(
        "dashboard_labels",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("dashboard_id", sa.String(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("date_created", sa.String(length=24), nullable=True),
        sa.Column("children", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "dashboard_id"],
            ["dashboards.account_id", "dashboards.id"],
            name=op.f("fk_dashboard_labels_account_id_dashboard_id_dashboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "dashboard_id", "position", name=op.f("pk_dashboard_labels")
        ),
    )
    with op.batch_alter_table("dashboard_labels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_labels_account_id_name_dashboard_id"),
            ["account_id", "name", "dashboard_id"],
            unique=False,
        )


def _team_members() -> None:
    op.create_table(
        "team_members",
        sa.Column("account_id", sa.String(length=24), nullable=False),
        sa.Column("team_id", sa.String(length=24), nullable=False),
        sa.Column("user_id", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "team_id"],
            ["teams.account_id", "teams.id"],
            name=op.f("fk_team_members_account_id_team_id_teams"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "user_id"],
            ["users.account_id", "users.id"],
            name=op.f("fk_team_members_account_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("account_id", "team_id", "user_id", name=op.f("pk_team_members")),
    )
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_team_members_account_id_user_id_team_id"),
            ["account_id", "user_id", "team_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_members_account_id_user_id_team_id"))

    op.drop_table("team_members")
    with op.batch_alter_table("dashboard_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_labels_account_id_name_dashboard_id"))

    op.drop_table("dashboard_labels")
    with op.batch_alter_table("dashboard_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_items_account_id_insight_id"))

    op.drop_table("dashboard_items")
    with op.batch_alter_table("dashboard_grants", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_dashboard_grants_account_id_principal_kind_principal_id")
        )

    op.drop_table("dashboard_grants")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("teams")
    with op.batch_alter_table("dashboards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboards_account_id_name"))
        batch_op.drop_index(batch_op.f("ix_dashboards_account_id_date_updated"))
        batch_op.drop_index(batch_op.f("ix_dashboards_account_id_date_created"))
        batch_op.drop_index(batch_op.f("ix_dashboards_account_id_created_by_id"))
        batch_op.drop_index(batch_op.f("ix_dashboards_account_id_archived_is_report"))

    op.drop_table("dashboards")
    op.drop_table("accounts")
