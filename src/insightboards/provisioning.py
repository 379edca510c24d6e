"""New accounts as the admin commands and the first start make them: the account, and the
boards every account starts with (its built-in reports). Above both domains, so that
accounts (below dashboards: a board's creator is checked against its account's plan) need
not know about boards."""

from dataclasses import dataclass

from insightboards.accounts import service as accounts
from insightboards.dashboards import creating
from insightboards.database import Database

# The account id of the demo account made on first start: the one in the vendor's examples.
DEMO_ACCOUNT_ID = "5be26318e5274a0007f17f61"


def create_account(
    db: Database, name: str, plan: str = accounts.DEFAULT_PLAN, account_id: str | None = None
) -> str:
    """A new account, with its built-in Performance and Process reports."""
    return accounts.create_account(db, name, plan, account_id, seed=creating.create_builtin_reports)


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    user_id: str
    token: str


def ensure_demo_account(db: Database) -> DemoAccount | None:
    """On an empty database, a demo account (the vendor examples' id), admin user and token."""
    if accounts.any_account_exists(db):
        return None
    account_id = create_account(db, "Demo", account_id=DEMO_ACCOUNT_ID)
    user_id = accounts.create_user(db, account_id, "demo@example.com", "Demo Admin", "admin")
    return DemoAccount(account_id, user_id, accounts.create_token(db, account_id, user_id))
