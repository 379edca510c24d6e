"""The schema, as SQLAlchemy Core tables.

Every table is keyed by account first: the account id leads every primary key and every
index, so that each query is scoped by account and the tables can be distributed by it.
Dashboard items, labels and grants have tables of their own so that they can be queried
across dashboards (tag usages, access checks), not only read back as a blob.
Timestamps are ISO 8601 UTC strings of fixed width, which sort and compare correctly as
text on every database.
"""

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(24)
TIMESTAMP = sa.String(24)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("plan", sa.String(64), nullable=False),
    sa.Column("max_dashboards", sa.Integer, nullable=True),
    sa.Column("suspended", sa.Boolean, nullable=False, default=False),
    sa.Column("date_created", TIMESTAMP, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.UniqueConstraint("account_id", "email"),
)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
)

team_members = sa.Table(
    "team_members",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("team_id", ID, primary_key=True),
    sa.Column("user_id", ID, primary_key=True),
    sa.ForeignKeyConstraint(["account_id", "team_id"], ["teams.account_id", "teams.id"]),
    sa.ForeignKeyConstraint(["account_id", "user_id"], ["users.account_id", "users.id"]),
    sa.Index(None, "account_id", "user_id", "team_id"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    # sha256 of the whole token; the token itself is never stored.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("date_created", TIMESTAMP, nullable=False),
    sa.Column("date_revoked", TIMESTAMP, nullable=True),
    # When the token stops working; None: never (migration 0011).
    sa.Column("date_expires", TIMESTAMP, nullable=True),
    sa.ForeignKeyConstraint(["account_id", "user_id"], ["users.account_id", "users.id"]),
)

# When each token was last used, to within accounts.token_uses.RECORD_EVERY_SECONDS. Apart
# from api_tokens, whose every change moves the auth_changes counter (migration 0012).
token_uses = sa.Table(
    "token_uses",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("date_last_used", TIMESTAMP, nullable=False),
)

# One row whose counter triggers move on every change to accounts, users, teams, team_members
# and api_tokens (migration 0009): a process that caches token -> caller knows from it when
# to look again.
auth_changes = sa.Table(
    "auth_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("counter", sa.BigInteger, nullable=False),
)

# The columns the read rule (access/sql.py) looks at, besides id.
READ_RULE_COLUMNS = ("inherits", "owner_grant", "owner_deny", "created_by_id")

dashboards = sa.Table(
    "dashboards",
    metadata,
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("tag", sa.String(64), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("is_report", sa.Boolean, nullable=False),
    sa.Column("layout", sa.String(200), nullable=True),
    sa.Column("created_by_id", ID, nullable=False),
    sa.Column("date_created", TIMESTAMP, nullable=False),
    sa.Column("date_updated", TIMESTAMP, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("source_application", sa.String(64), nullable=True),
    sa.Column("source_id", sa.String(64), nullable=True),
    sa.Column("inherits", sa.Boolean, nullable=False),
    # Action bit masks (see access/rules.py).
    sa.Column("owner_grant", sa.Integer, nullable=False),
    sa.Column("owner_deny", sa.Integer, nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    # The board's API document as JSON, less the fields that depend on the caller or on the
    # account's users (dashboards/documents.py), written in every transaction that changes
    # the board. NULL for boards written before migration 0008, until filled in.
    sa.Column("document", sa.LargeBinary, nullable=True),
    sa.UniqueConstraint("account_id", "tag"),
    # Each index orders by its field, then id (the tie-breaker of every sort), and carries the
    # columns of the read rule, so lists and counts are answered from the index alone.
    # Boards found by id (from a label, insight or grant filter) are checked against the read
    # rule, and sorted by date, from this index alone.
    sa.Index(
        "ix_dashboards_read_rule",
        "account_id",
        "id",
        *READ_RULE_COLUMNS,
        "date_created",
        "date_updated",
    ),
    sa.Index("ix_dashboards_name", "account_id", "name", "id", *READ_RULE_COLUMNS),
    sa.Index(
        "ix_dashboards_created_by_id", "account_id", "created_by_id", "id", *READ_RULE_COLUMNS[:-1]
    ),
    sa.Index("ix_dashboards_date_created", "account_id", "date_created", "id", *READ_RULE_COLUMNS),
    sa.Index("ix_dashboards_date_updated", "account_id", "date_updated", "id", *READ_RULE_COLUMNS),
    sa.Index(
        "ix_dashboards_archived", "account_id", "archived", "is_report", "id", *READ_RULE_COLUMNS
    ),
    # Counting the boards a caller may read: the inheriting ones in one range, without a test
    # per board (access.ReadCount), then the few others.
    sa.Index(
        "ix_dashboards_inherits",
        "account_id",
        "inherits",
        "created_by_id",
        "owner_deny",
        "owner_grant",
        "id",
    ),
)

# How many boards each account has, and how many of them inherit the account's defaults
# (every user reads those), kept by triggers on `dashboards` (migration 0005) in the
# transaction that changes them: an unfiltered list counts what the caller may read without
# visiting every board, and a filtered one sizes its walk of a sort index.
dashboard_counts = sa.Table(
    "dashboard_counts",
    metadata,
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("boards", sa.Integer, nullable=False),
    sa.Column("inheriting", sa.Integer, nullable=False),
)

dashboard_items = sa.Table(
    "dashboard_items",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("dashboard_id", ID, primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    # "insight" or "sectionHeader"
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("col", sa.Integer, nullable=False),
    sa.Column("size_x", sa.Integer, nullable=False),
    sa.Column("size_y", sa.Integer, nullable=False),
    sa.Column("insight_id", sa.String(64), nullable=True),
    sa.Column("insight_name", sa.String(500), nullable=True),
    sa.Column("header", sa.String(1000), nullable=True),
    sa.Column("sub_header", sa.String(1000), nullable=True),
    # The rest of the item as sent (filters, settings, insightState, ...).
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("created_by_id", ID, nullable=True),
    sa.Column("modified_by_id", ID, nullable=True),
    sa.Column("date_created", TIMESTAMP, nullable=False),
    sa.Column("date_updated", TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(
        ["account_id", "dashboard_id"],
        ["dashboards.account_id", "dashboards.id"],
        ondelete="CASCADE",
    ),
    sa.Index("ix_dashboard_items_insight", "account_id", "insight_id", "dashboard_id"),
)

dashboard_labels = sa.Table(
    "dashboard_labels",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("dashboard_id", ID, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("label_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(500), nullable=True),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("date_created", TIMESTAMP, nullable=True),
    # Nested child labels, as sent.
    sa.Column("children", sa.JSON, nullable=False),
    # The board's dateCreated, and whether an earlier label of the board has this name
    # (input_rows.label_rows sets both): in the label index, each board with a label is
    # one entry with `repeated` false, in the order of the boards' creation.
    sa.Column("board_created", TIMESTAMP, nullable=False),
    sa.Column("repeated", sa.Boolean, nullable=False),
    sa.ForeignKeyConstraint(
        ["account_id", "dashboard_id"],
        ["dashboards.account_id", "dashboards.id"],
        ondelete="CASCADE",
    ),
    # Label filters find their boards here (a label's newest boards first, and its count,
    # from the index alone); tag usages read every label of an account in this order, and
    # their titles, from the index alone.
    sa.Index(
        "ix_dashboard_labels_name",
        "account_id",
        "name",
        "board_created",
        "dashboard_id",
        "position",
        "title",
        "repeated",
    ),
)

dashboard_grants = sa.Table(
    "dashboard_grants",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("dashboard_id", ID, primary_key=True),
    # "user", "team", "role" or "account"
    sa.Column("principal_kind", sa.String(16), primary_key=True),
    sa.Column("principal_id", sa.String(64), primary_key=True),
    sa.Column("actions", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(
        ["account_id", "dashboard_id"],
        ["dashboards.account_id", "dashboards.id"],
        ondelete="CASCADE",
    ),
    sa.Index(
        "ix_dashboard_grants_principal",
        "account_id",
        "principal_kind",
        "principal_id",
        "dashboard_id",
    ),
)

# Every version of every board (dashboards/history.py): how it was made, by whom, when, and
# which top-level fields of the document it changed. A version's document is stored here
# once the board moves past it; until then it is dashboards.document. A board's first
# version is recorded when the board moves past it (its row tells it until then), so that
# a create writes nothing here.
dashboard_versions = sa.Table(
    "dashboard_versions",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("dashboard_id", ID, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    # create, clone, update, access, items, layout, restore; "earlier" for the version a
    # board had when history began to be kept (migration 0013)
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("user_id", ID, nullable=True),
    sa.Column("date", TIMESTAMP, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("document", sa.LargeBinary, nullable=True),
)

# The trash (dashboards/trash.py): deleted boards, out of every table the API reads live
# boards from, until undeleted or purged. A trashed board keeps the columns the access
# rules read (named as in `dashboards`, so that access/sql.py applies to it), its grants
# (as in `dashboard_grants`), its last document, and its rows as they were, to put back.
trashed_dashboards = sa.Table(
    "trashed_dashboards",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("tag", sa.String(64), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("is_report", sa.Boolean, nullable=False),
    sa.Column("created_by_id", ID, nullable=False),
    sa.Column("inherits", sa.Boolean, nullable=False),
    sa.Column("owner_grant", sa.Integer, nullable=False),
    sa.Column("owner_deny", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("date_deleted", TIMESTAMP, nullable=False),
    sa.Column("deleted_by_id", ID, nullable=False),
    sa.Column("document", sa.LargeBinary, nullable=True),
    # {"board": the dashboards row less its document, "items", "labels", "grants": rows}
    sa.Column("rows", sa.JSON, nullable=False),
    sa.Index("ix_trashed_dashboards_date_deleted", "account_id", "date_deleted", "id"),
    # Purging walks every account's boards trashed before a moment.
    sa.Index("ix_trashed_dashboards_purge", "date_deleted"),
)

trashed_dashboard_grants = sa.Table(
    "trashed_dashboard_grants",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("dashboard_id", ID, primary_key=True),
    sa.Column("principal_kind", sa.String(16), primary_key=True),
    sa.Column("principal_id", sa.String(64), primary_key=True),
    sa.Column("actions", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(
        ["account_id", "dashboard_id"],
        ["trashed_dashboards.account_id", "trashed_dashboards.id"],
        ondelete="CASCADE",
        # Named here: the convention's name is past PostgreSQL's 63 characters.
        name="fk_trashed_dashboard_grants_trashed_dashboards",
    ),
)

# What happened in each account, in the order it happened (audit/): every change of a
# board, and tokens made and revoked, and each admin command. Who (a user, or none for an
# admin command), what (`kind`, and `details`: never a token or a request body), when,
# which board. `seq` orders the events of all accounts; `account_seq` numbers an account's
# own, 1, 2, 3, ... in the order they commit (the audit trail's and the change feed's ids:
# nothing in them tells of other accounts).
account_events = sa.Table(
    "account_events",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("account_id", ID, nullable=False),
    sa.Column("account_seq", sa.BigInteger, nullable=False),
    sa.Column("date", TIMESTAMP, nullable=False),
    sa.Column("user_id", ID, nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("dashboard_id", ID, nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("details", sa.JSON, nullable=False),
    # For a board's event, the board's read rule as it stood then (named as in `dashboards`,
    # so that access/sql.py applies to it; its grants are in `version_grants`): the change
    # feed (feed/) shows the event to those who could read the board at that moment. Null
    # for other events, and for events recorded before migration 0016.
    sa.Column("created_by_id", ID, nullable=True),
    sa.Column("inherits", sa.Boolean, nullable=True),
    sa.Column("owner_grant", sa.Integer, nullable=True),
    sa.Column("owner_deny", sa.Integer, nullable=True),
    sa.Column("is_report", sa.Boolean, nullable=True),
    # An account's events newest first. Filters (a board, a user, a kind, a time) walk
    # them: an index for each would cost every create its own insert (perf.py's creates
    # went from 52 to 50 % of the limit with three indexes).
    sa.Index("ix_account_events_account_seq", "account_id", "account_seq", unique=True),
)

# Each account's last event number (account_events.account_seq), on PostgreSQL. A new event
# takes the next under the row's lock, held until its transaction commits: an account's
# events commit in the order of their numbers, which the change feed relies on (a reader
# that has seen number n never later finds one below it). SQLite, which commits one
# writer at a time, numbers by the account's highest plus one and leaves this table as
# migration 0016 filled it.
account_event_counters = sa.Table(
    "account_event_counters",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)

# The grants each version of a board had (as in `dashboard_grants`), from migration 0016 on:
# what the read rule of a board's event (account_events) needs beside its columns. Kept
# for as long as the events are.
version_grants = sa.Table(
    "version_grants",
    metadata,
    sa.Column("account_id", ID, primary_key=True),
    sa.Column("dashboard_id", ID, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("principal_kind", sa.String(16), primary_key=True),
    sa.Column("principal_id", sa.String(64), primary_key=True),
    sa.Column("actions", sa.Integer, nullable=False),
)

# A result row of any shape (rows are read by column name).
AnyRow = sa.Row[*tuple[Any, ...]]
