"""Accounts, users, teams, tokens and plans: what the admin commands and auth rely on."""

import hashlib
import re
import secrets
from collections.abc import Callable
from typing import Any

import email_validator
import sqlalchemy as sa

from insightboards.access import ROLES, Caller
from insightboards.accounts import repository
from insightboards.accounts.token_uses import TokenUses
from insightboards.audit import repository as audit
from insightboards.clock import iso_in, now_iso
from insightboards.database import Database
from insightboards.errors import BadRequest, NotFound, PaymentRequired, Unauthorized
from insightboards.ids import is_valid_id, new_id
from insightboards.loop_reads import LoopReads

DEFAULT_PLAN = "standard"
# `ib_<account id>_<43 url-safe characters: 256 random bits>`. The account id lets the
# token be looked up within its account, like every other row.
_TOKEN_PATTERN = re.compile(r"^ib_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$")

# What a new account is given beside its row, in the transaction that creates it:
# seed(connection, account id, the account's creation time). provisioning.py passes the
# built-in reports, so that accounts need not know about dashboards.
AccountSeed = Callable[[sa.Connection, str, str], None]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _split_token(token: str) -> str:
    """The account id inside a well-formed token; Unauthorized for anything else."""
    match = _TOKEN_PATTERN.match(token)
    if match is None:
        raise Unauthorized("The bearer token is not valid.")
    return match.group(1)


def _check_text(label: str, value: str, max_length: int) -> str:
    if not value.strip() or len(value) > max_length or "\x00" in value:
        raise BadRequest(f"{label} must be 1 to {max_length} characters")
    return value


def _require_account(conn: sa.Connection, account_id: str) -> None:
    if not is_valid_id(account_id) or repository.get_account(conn, account_id) is None:
        raise NotFound(f"No account {account_id}.")


def create_account(
    db: Database,
    name: str,
    plan: str = DEFAULT_PLAN,
    account_id: str | None = None,
    *,
    seed: AccountSeed,
) -> str:
    """A new account, with what `seed` gives it."""
    _check_text("--name", name, 200)
    _check_text("--plan", plan, 64)
    account_id = account_id or new_id()
    now = now_iso()
    with db.write() as conn:
        repository.insert_account(
            conn, account_id=account_id, name=name, plan=plan, date_created=now
        )
        audit.record(conn, account_id, "account.create", None, details={"plan": plan}, date=now)
        seed(conn, account_id, now)
    return account_id


def any_account_exists(db: Database) -> bool:
    with db.read() as conn:
        return repository.any_account_exists(conn)


def create_user(db: Database, account_id: str, email: str, name: str | None, role: str) -> str:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    _check_text("--email", email, 320)
    email = _valid_email(email)
    if name is not None:
        _check_text("--name", name, 200)
    user_id = new_id()
    with db.write() as conn:
        _require_account(conn, account_id)
        try:
            repository.insert_user(
                conn,
                account_id=account_id,
                user_id=user_id,
                email=email,
                name=name or email,
                role=role,
            )
        except sa.exc.IntegrityError:
            raise BadRequest(f"A user with email {email} exists in this account.") from None
        audit.record(
            conn, account_id, "user.create", None, details={"userId": user_id, "role": role}
        )
    return user_id


def _valid_email(email: str) -> str:
    """The address in its normal form (the domain in lower case), if it is one: its syntax
    is checked, not that mail reaches it (self-hosted servers often have no DNS to ask,
    and teams use internal domains such as `corp.internal` or `example.test`)."""
    try:
        checked = email_validator.validate_email(
            email, check_deliverability=False, globally_deliverable=False, test_environment=True
        )
        return checked.normalized
    except email_validator.EmailNotValidError as error:
        raise BadRequest(f"--email {email!r} is not an email address: {error}") from None


def list_accounts(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        return repository.list_accounts(conn)


def list_users(db: Database, account_id: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        _require_account(conn, account_id)
        return repository.list_users(conn, account_id)


def list_teams(db: Database, account_id: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        _require_account(conn, account_id)
        return repository.list_teams(conn, account_id)


def create_team(db: Database, account_id: str, name: str, member_ids: list[str]) -> str:
    _check_text("--name", name, 200)
    team_id = new_id()
    members = sorted(set(member_ids))
    with db.write() as conn:
        _require_account(conn, account_id)
        if repository.count_users_in(conn, account_id, members) != len(members):
            raise NotFound("Every member must be a user of the account.")
        repository.insert_team(
            conn, account_id=account_id, team_id=team_id, name=name, member_ids=members
        )
        audit.record(
            conn, account_id, "team.create", None, details={"teamId": team_id, "members": members}
        )
    return team_id


def change_team_members(
    db: Database, account_id: str, team_id: str, add: list[str], remove: list[str]
) -> None:
    """Add and remove members; what they may see changes with their next request."""
    with db.write() as conn:
        _require_account(conn, account_id)
        if not repository.team_exists(conn, account_id, team_id):
            raise NotFound(f"No team {team_id} in account {account_id}.")
        added = sorted(set(add))
        if repository.count_users_in(conn, account_id, added) != len(added):
            raise NotFound("Every member must be a user of the account.")
        removed = sorted(set(remove))
        repository.add_team_members(conn, account_id, team_id, added)
        repository.remove_team_members(conn, account_id, team_id, removed)
        audit.record(
            conn,
            account_id,
            "team.change",
            None,
            details={"teamId": team_id, "added": added, "removed": removed},
        )


def create_token(
    db: Database, account_id: str, user_id: str, expires_in_days: float | None = None
) -> str:
    """A new API token for the user, which stops working `expires_in_days` from now (None:
    never). Only its hash is stored: this is the one time it is seen."""
    if expires_in_days is not None and not 0 < expires_in_days <= MAX_TOKEN_DAYS:
        raise BadRequest(f"--expires-in takes a number of days above 0, at most {MAX_TOKEN_DAYS}")
    token = f"ib_{account_id}_{secrets.token_urlsafe(32)}"
    with db.write() as conn:
        _require_account(conn, account_id)
        if repository.get_user(conn, account_id, user_id) is None:
            raise NotFound(f"No user {user_id} in account {account_id}.")
        repository.insert_token(
            conn,
            account_id=account_id,
            user_id=user_id,
            token_hash=hash_token(token),
            date_created=now_iso(),
            date_expires=None if expires_in_days is None else iso_in(expires_in_days),
        )
        audit.record(
            conn,
            account_id,
            "token.create",
            None,
            details=_token_details(hash_token(token), user_id),
        )
    return token


def _token_details(token_hash: str, user_id: str | None = None) -> dict[str, Any]:
    """A token as the audit trail names it: by the id list-tokens shows, never itself."""
    details: dict[str, Any] = {"tokenId": token_hash[: repository.TOKEN_ID_LENGTH]}
    if user_id is not None:
        details["forUserId"] = user_id
    return details


def list_tokens(db: Database, account_id: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        _require_account(conn, account_id)
        return repository.list_tokens(conn, account_id)


def revoke_token(db: Database, token: str) -> None:
    try:
        account_id = _split_token(token)
    except Unauthorized:
        raise BadRequest("That is not an Insightboards token.") from None
    with db.write() as conn:
        if not repository.revoke_token(conn, account_id, hash_token(token), now_iso()):
            raise NotFound("No such active token.")
        audit.record(
            conn, account_id, "token.revoke", None, details=_token_details(hash_token(token))
        )


def revoke_token_by_id(db: Database, account_id: str, token_id: str) -> None:
    """Revoke the token `list-tokens` names `token_id`: for a token whose holder lost it."""
    length = repository.TOKEN_ID_LENGTH
    if not re.fullmatch(f"[0-9a-f]{{{length}}}", token_id):
        raise BadRequest(f"--id takes a token's id as list-tokens shows it ({length} hex digits)")
    with db.write() as conn:
        _require_account(conn, account_id)
        hashes = repository.active_token_hashes(conn, account_id, token_id)
        if len(hashes) != 1:
            raise NotFound("No such active token." if not hashes else "That id names two tokens.")
        repository.revoke_token(conn, account_id, hashes[0], now_iso())
        audit.record(conn, account_id, "token.revoke", None, details=_token_details(hashes[0]))


def set_plan(
    db: Database, account_id: str, plan: str | None, max_dashboards: int | None, clear_cap: bool
) -> None:
    values: dict[str, object] = {}
    if plan is not None:
        values["plan"] = _check_text("--plan", plan, 64)
    if clear_cap:
        values["max_dashboards"] = None
    elif max_dashboards is not None:
        if max_dashboards < 0:
            raise BadRequest("--max-dashboards must be 0 or more")
        values["max_dashboards"] = max_dashboards
    with db.write() as conn:
        _require_account(conn, account_id)
        if values:
            repository.update_account(conn, account_id, **values)
            details = {"plan": values.get("plan"), "maxDashboards": values.get("max_dashboards")}
            audit.record(conn, account_id, "plan.set", None, details=details)


def set_suspended(db: Database, account_id: str, suspended: bool) -> None:
    with db.write() as conn:
        _require_account(conn, account_id)
        repository.update_account(conn, account_id, suspended=suspended)
        kind = "account.suspend" if suspended else "account.resume"
        audit.record(conn, account_id, kind, None)


# The longest a token made to expire may live (days): about a hundred years.
MAX_TOKEN_DAYS = 36_500
# Distinct tokens a process keeps callers for; one more starts the cache afresh.
CACHED_CALLERS = 10_000


class CallerCache:
    """Token -> caller, for as long as nothing that decides who may call has changed and the
    token has not expired: an entry holds the auth_changes counter it was looked up at and
    its token's expiry, and a request that reads another counter, or comes after the
    expiry, looks the token up again."""

    def __init__(self, size: int = CACHED_CALLERS, uses: TokenUses | None = None) -> None:
        self._size = size
        self._callers: dict[str, tuple[int, str | None, Caller]] = {}
        # Every caller this cache gives out is a use of its token.
        self.uses = uses if uses is not None else TokenUses()

    def get(self, token_hash: str, counter: int) -> Caller | None:
        entry = self._callers.get(token_hash)
        if entry is None or entry[0] != counter:
            return None
        expires, caller = entry[1], entry[2]
        if expires is not None and now_iso() >= expires:
            return None
        self.uses.note(caller.account_id, token_hash)
        return caller

    def latest(self, token_hash: str) -> tuple[int, Caller] | None:
        """The caller last looked up for the token, and the counter it was looked up at,
        whatever the counter is now: for a write that checks the counter itself, in its
        transaction (dashboards.checks.check_can_create). None if there is none, or the token
        has expired."""
        entry = self._callers.get(token_hash)
        if entry is None or (entry[1] is not None and now_iso() >= entry[1]):
            return None
        self.uses.note(entry[2].account_id, token_hash)
        return entry[0], entry[2]

    def keep(self, token_hash: str, counter: int, expires: str | None, caller: Caller) -> None:
        if len(self._callers) >= self._size:
            self._callers.clear()
        self._callers[token_hash] = (counter, expires, caller)
        self.uses.note(caller.account_id, token_hash)


def record_token_uses(db: Database, uses: dict[tuple[str, str], str]) -> None:
    """Writes token uses taken from a TokenUses: (account, token hash) -> when."""
    with db.write() as conn:
        repository.record_token_uses(conn, uses)


def authenticate(db: Database, token: str, cache: CallerCache | None = None) -> Caller:
    """The caller behind a bearer token: 401 if unknown or revoked, 402 if suspended.
    Only tokens that pass are cached; a failure is looked up each time."""
    account_id = _split_token(token)
    token_hash = hash_token(token)
    with db.read() as conn:
        # Read before the token: a change that commits in between moves the counter past
        # what this lookup is cached at (PostgreSQL reads each statement afresh).
        counter = repository.auth_changes_counter(conn)
        cached = cache.get(token_hash, counter) if cache is not None else None
        if cached is not None:
            return cached
        row = repository.get_active_token_user(conn, account_id, token_hash)
        if row is None:
            raise Unauthorized("The bearer token is unknown or revoked.")
        if row.date_expires is not None and row.date_expires <= now_iso():
            raise Unauthorized("The bearer token has expired.")
        if row.suspended:
            raise PaymentRequired("This account is suspended.")
        team_ids = repository.team_ids_of(conn, account_id, row.user_id)
    caller = Caller(account_id=account_id, user_id=row.user_id, role=row.role, team_ids=team_ids)
    if cache is not None:
        cache.keep(token_hash, counter, row.date_expires, caller)
    return caller


class CallerChanged(Exception):
    """Something that decides who may call changed since the caller was looked up: the
    write that checked it (in its own transaction, which orders it after every auth change
    committed before it) did nothing, and the request must be authenticated afresh."""


def token_account(token: str) -> str | None:
    """The account id inside a well-formed token, None for anything else."""
    match = _TOKEN_PATTERN.match(token)
    return None if match is None else match.group(1)


async def cached_caller(reads: LoopReads, cache: CallerCache, token: str) -> Caller | None:
    """The caller behind `token` if the cache holds it at the current counter; None when
    only `authenticate` can tell (an unknown token, a change since, a refusal)."""
    if _TOKEN_PATTERN.match(token) is None:
        return None
    return cache.get(hash_token(token), await repository.auth_changes_counter_on_loop(reads))


def last_cached_caller(cache: CallerCache, token: str) -> tuple[int, Caller] | None:
    """The caller last cached for `token` and its counter, unchecked (CallerCache.latest)."""
    if _TOKEN_PATTERN.match(token) is None:
        return None
    return cache.latest(hash_token(token))
