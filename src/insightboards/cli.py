"""The `insightboards` command line: `serve`, and the `admin` commands.

Every admin command prints exactly one JSON object on stdout; errors go to stderr with a
non-zero exit status.
"""

import argparse
import copy
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from insightboards import provisioning
from insightboards.access import ROLES
from insightboards.accounts import service as accounts
from insightboards.config import (
    CONFIG_VARIABLE,
    ConfigFileMissing,
    Settings,
    default_database_url,
    get_settings,
)
from insightboards.database import Database, upgrade_schema
from insightboards.errors import InsightboardsError

EXIT_ERROR = 1


def _add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (sqlite:///path or postgresql://...); "
        "default: $INSIGHTBOARDS_DATABASE_URL, the config file's, or insightboards.db in "
        "$XDG_DATA_HOME/insightboards (~/.local/share/insightboards)",
    )
    parser.add_argument(
        "--config",
        default=None,
        help=f"a TOML file of settings (default: ${CONFIG_VARIABLE}); the environment wins",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="insightboards", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    _add_database_option(serve)

    admin = commands.add_parser("admin", help="manage accounts, users, teams, tokens, plans")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = admin_commands.add_parser(name, help=help_text)
        _add_database_option(sub)
        return sub

    _add_account_commands(add)
    _add_people_commands(add)
    return parser


AddCommand = Callable[[str, str], argparse.ArgumentParser]


def _add_account_commands(add: AddCommand) -> None:
    sub = add("create-account", "create an account (with its Performance and Process reports)")
    sub.add_argument("--name", required=True)
    sub.add_argument("--plan", default=accounts.DEFAULT_PLAN)

    sub = add("set-plan", "set an account's plan and dashboard cap")
    sub.add_argument("--account", required=True)
    sub.add_argument("--plan")
    sub.add_argument(
        "--max-dashboards",
        help="the most dashboards the account may own (reports excluded), or 'unlimited'",
    )

    sub = add("suspend-account", "suspend an account: every API call gets 402")
    sub.add_argument("--account", required=True)

    sub = add("resume-account", "resume a suspended account")
    sub.add_argument("--account", required=True)

    add("list-accounts", "list the accounts: id, name, plan, cap, suspended, created")


def _add_people_commands(add: AddCommand) -> None:
    """Users, teams and tokens."""
    sub = add("create-user", "create a user in an account")
    sub.add_argument("--account", required=True)
    sub.add_argument("--email", required=True)
    sub.add_argument("--name")
    sub.add_argument("--role", choices=ROLES, default="member")

    sub = add("create-team", "create a team of users")
    sub.add_argument("--account", required=True)
    sub.add_argument("--name", required=True)
    sub.add_argument("--member", action="append", default=[], help="a user id; repeatable")

    sub = add("change-team", "add members to a team, or remove them")
    sub.add_argument("--account", required=True)
    sub.add_argument("--team", required=True)
    sub.add_argument("--add", action="append", default=[], help="a user id; repeatable")
    sub.add_argument("--remove", action="append", default=[], help="a user id; repeatable")

    sub = add("create-token", "create an API token for a user (shown once)")
    sub.add_argument("--account", required=True)
    sub.add_argument("--user", required=True)
    sub.add_argument(
        "--expires-in",
        type=float,
        metavar="DAYS",
        help="the token stops working this many days from now (fractions allowed); default: never",
    )

    sub = add(
        "list-tokens", "list an account's tokens: id, user, created, last used, expires, revoked"
    )
    sub.add_argument("--account", required=True)

    sub = add("revoke-token", "revoke an API token: itself, or its account and id (list-tokens)")
    sub.add_argument("--token")
    sub.add_argument("--account")
    sub.add_argument("--id", help="the token's id, as list-tokens shows it")

    sub = add("list-users", "list an account's users: id, email, name, role")
    sub.add_argument("--account", required=True)

    sub = add("list-teams", "list an account's teams, with their members' ids")
    sub.add_argument("--account", required=True)


def _max_dashboards(value: str | None) -> tuple[int | None, bool]:
    if value is None:
        return None, False
    if value == "unlimited":
        return None, True
    if not value.isdigit():
        raise InsightboardsError("--max-dashboards takes a whole number or 'unlimited'")
    return int(value), False


def _run_admin(args: argparse.Namespace, db: Database) -> dict[str, Any]:
    command = args.admin_command
    if command == "create-account":
        return {"id": provisioning.create_account(db, args.name, args.plan)}
    if command == "create-user":
        return {"id": accounts.create_user(db, args.account, args.email, args.name, args.role)}
    if command == "create-team":
        return {"id": accounts.create_team(db, args.account, args.name, args.member)}
    if command == "change-team":
        accounts.change_team_members(db, args.account, args.team, args.add, args.remove)
        return {"id": args.team}
    if command == "create-token":
        return {"token": accounts.create_token(db, args.account, args.user, args.expires_in)}
    if command == "revoke-token":
        if args.token is not None and args.id is None and args.account is None:
            accounts.revoke_token(db, args.token)
        elif args.token is None and args.id is not None and args.account is not None:
            accounts.revoke_token_by_id(db, args.account, args.id)
        else:
            raise InsightboardsError("revoke-token takes --token, or --account and --id")
        return {"revoked": True}
    if command == "set-plan":
        cap, clear = _max_dashboards(args.max_dashboards)
        accounts.set_plan(db, args.account, args.plan, cap, clear)
        return {"id": args.account}
    if command in ("suspend-account", "resume-account"):
        accounts.set_suspended(db, args.account, command == "suspend-account")
        return {"id": args.account}
    if command == "list-accounts":
        return {"accounts": accounts.list_accounts(db)}
    if command == "list-users":
        return {"users": accounts.list_users(db, args.account)}
    if command == "list-teams":
        return {"teams": accounts.list_teams(db, args.account)}
    if command == "list-tokens":
        return {"tokens": accounts.list_tokens(db, args.account)}
    raise AssertionError(command)


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus our loggers: JSON access lines on stdout."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["message"] = {"format": "%(message)s"}
    config["handlers"]["insightboards"] = {
        "class": "logging.StreamHandler",
        "formatter": "message",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["insightboards"] = {
        "handlers": ["insightboards"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def _serve(args: argparse.Namespace, database_url: str, settings: Settings) -> int:
    import uvicorn

    upgrade_schema(database_url)
    if settings.demo:
        db = Database(database_url)
        try:
            demo = provisioning.ensure_demo_account(db)
        finally:
            db.dispose()
        if demo is not None:
            base = f"http://{args.host}:{args.port}"
            print(
                "Created a demo account on this new database.\n"
                f"  account id: {demo.account_id}\n"
                f"  user id:    {demo.user_id}\n"
                f"  token:      {demo.token}   (shown once; stored only as a hash)\n"
                "Try:\n"
                f"  curl -H 'Authorization: Bearer {demo.token}' "
                f"-H 'gtmhub-accountId: {demo.account_id}' {base}/results/api/v2/dashboards\n",
                flush=True,
            )
    # Worker processes build the app from the environment.
    os.environ["INSIGHTBOARDS_DATABASE_URL"] = database_url
    uvicorn.run(
        "insightboards.api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        http="insightboards.api.transport:HardenedHttpToolsProtocol",
        loop="uvloop",
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        log_level="info",
        # Our own access log (api/access_log.py) replaces uvicorn's, which logs query strings.
        access_log=False,
        log_config=_log_config(),
    )
    return 0


# Where the embedded database was by default until 2026-12-07: relative to the folder a
# command ran in, so that one run elsewhere made a new, empty database there.
_OLD_DEFAULT = Path("data") / "insightboards.db"


def _note_the_old_default(database_url: str) -> None:
    if database_url == default_database_url() and _OLD_DEFAULT.is_file():
        kept = f"sqlite:///{_OLD_DEFAULT.resolve()}"
        print(
            f"insightboards: note: {_OLD_DEFAULT} (the default of earlier versions) is not "
            f"used; to keep using it, pass --database-url {kept}",
            file=sys.stderr,
        )


def _shown(database_url: str) -> str:
    """The URL without its password; a SQLite file by its absolute path."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return f"sqlite:///{Path(url.database).resolve()}"
    return url.render_as_string(hide_password=True)


def _settings_problem(error: Exception) -> str:
    """One line per wrong setting, naming it, without pydantic's links."""
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
        )
    config = os.environ.get(CONFIG_VARIABLE)
    where = f"{config}: " if config and not isinstance(error, ConfigFileMissing) else ""
    return f"{where}{error}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.config is not None:
        os.environ[CONFIG_VARIABLE] = args.config  # read by worker processes too
    try:
        # Read whole even when --database-url is given: a bad setting stops every command.
        settings = get_settings()
    except (ConfigFileMissing, ValueError) as error:  # pydantic's and TOML's errors alike
        print(f"insightboards: settings: {_settings_problem(error)}", file=sys.stderr)
        return EXIT_ERROR
    database_url = args.database_url or settings.database_url
    # Which database, so that a command run from another folder or with another
    # environment does not leave its reader guessing (never a password).
    print(f"insightboards: database {_shown(database_url)}", file=sys.stderr)
    _note_the_old_default(database_url)
    try:
        if args.command == "serve":
            return _serve(args, database_url, settings)
        upgrade_schema(database_url)
        db = Database(database_url)
        try:
            result = _run_admin(args, db)
        finally:
            db.dispose()
    except InsightboardsError as error:
        print(f"insightboards: {error.detail}", file=sys.stderr)
        return EXIT_ERROR
    except SQLAlchemyError as error:
        reason = str(error.orig if isinstance(error, DBAPIError) else error).splitlines()[0]
        print(f"insightboards: database error: {reason}", file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps(result))
    return 0
