"""The `insightboards` command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from insightboards.accounts.service import hash_token
from tests.e2e.harness import run_cli, start_server


def test_admin_commands_print_one_json_object(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    account = json.loads(
        run_cli(url, "admin", "create-account", "--name", "Initech", "--plan", "pro").stdout
    )
    user = json.loads(
        run_cli(
            url,
            "admin",
            "create-user",
            "--account",
            account["id"],
            "--email",
            "a@b.c",
            "--role",
            "admin",
        ).stdout
    )
    team = json.loads(
        run_cli(
            url,
            "admin",
            "create-team",
            "--account",
            account["id"],
            "--name",
            "Ops",
            "--member",
            user["id"],
        ).stdout
    )
    token = json.loads(
        run_cli(
            url, "admin", "create-token", "--account", account["id"], "--user", user["id"]
        ).stdout
    )
    for output in (account, user, team):
        assert set(output) == {"id"} and len(output["id"]) == 24
    assert token["token"].startswith(f"ib_{account['id']}_")
    for args in (
        ("set-plan", "--account", account["id"], "--max-dashboards", "3"),
        ("suspend-account", "--account", account["id"]),
        ("resume-account", "--account", account["id"]),
    ):
        assert json.loads(run_cli(url, "admin", *args).stdout) == {"id": account["id"]}
    assert json.loads(run_cli(url, "admin", "revoke-token", "--token", token["token"]).stdout) == {
        "revoked": True
    }


def test_admin_errors_go_to_stderr_with_a_nonzero_exit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    account = json.loads(run_cli(url, "admin", "create-account", "--name", "A").stdout)["id"]
    for args in (
        ("create-user", "--account", "0123456789abcdef01234567", "--email", "x@y.z"),
        ("create-token", "--account", account, "--user", "0123456789abcdef01234567"),
        (
            "create-team",
            "--account",
            account,
            "--name",
            "T",
            "--member",
            "0123456789abcdef01234567",
        ),
        ("revoke-token", "--token", "nonsense"),
        ("set-plan", "--account", account, "--max-dashboards", "lots"),
        ("create-user", "--account", account, "--email", "x@y.z", "--role", "owner"),
    ):
        result = run_cli(url, "admin", *args, check=False)
        assert result.returncode != 0, args
        assert result.stdout == "" and result.stderr.strip(), args
    run_cli(url, "admin", "create-user", "--account", account, "--email", "dup@y.z")
    duplicate = run_cli(
        url, "admin", "create-user", "--account", account, "--email", "dup@y.z", check=False
    )
    assert duplicate.returncode == 1 and "exists" in duplicate.stderr


def test_serve_creates_the_demo_account_only_on_first_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = start_server(url, tmp_path / "first.log")
    try:
        account, token = first.demo_credentials()
        response = httpx.get(
            f"{first.base_url}/results/api/v2/dashboards",
            headers={"Authorization": f"Bearer {token}", "gtmhub-accountId": account},
        )
        assert response.status_code == 200 and response.json()["totalCount"] == 2
        assert "curl -H 'Authorization: Bearer" in first.log_path.read_text()
    finally:
        first.stop()
    second = start_server(url, tmp_path / "second.log")
    try:
        assert "token:" not in second.log_path.read_text()
        # The data and the token survive the restart.
        response = httpx.get(
            f"{second.base_url}/results/api/v2/dashboards",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
    finally:
        second.stop()


def test_database_errors_are_one_line_not_a_traceback(tmp_path: Path) -> None:
    for url in ("postgresql://nobody@127.0.0.1:1/none", "bogus://"):
        result = run_cli(url, "admin", "create-account", "--name", "x", check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("insightboards: ")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for args in (("--name", ""), ("--name", "n" * 201), ("--name", "x", "--plan", "p" * 65)):
        result = run_cli(url, "admin", "create-account", *args, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr, args


def test_admin_lists_accounts_users_and_teams_and_names_its_database(tmp_path: Path) -> None:
    """A lost user id or account id is found with the admin commands, not by opening the
    database; each command says on stderr which database it used (absolute, so that a
    command run from another folder is seen to use another file)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def admin(*args: str) -> dict[str, object]:
        result = run_cli(url, "admin", *args)
        assert result.returncode == 0, result.stderr
        assert f"insightboards: database sqlite:///{tmp_path / 'cli.db'}" in result.stderr
        output: dict[str, object] = json.loads(result.stdout)
        return output

    assert admin("list-accounts") == {"accounts": []}
    account = str(admin("create-account", "--name", "Initech")["id"])
    ada = str(admin("create-user", "--account", account, "--email", "Ada@Example.COM")["id"])
    bo = str(
        admin("create-user", "--account", account, "--email", "bo@x.io", "--role", "viewer")["id"]
    )
    team = str(admin("create-team", "--account", account, "--name", "Ops", "--member", bo)["id"])
    (listed,) = admin("list-accounts")["accounts"]  # type: ignore[misc]
    assert (listed["id"], listed["name"], listed["suspended"]) == (account, "Initech", False)
    assert admin("list-users", "--account", account)["users"] == [
        {"id": ada, "email": "Ada@example.com", "name": "Ada@example.com", "role": "member"},
        {"id": bo, "email": "bo@x.io", "name": "bo@x.io", "role": "viewer"},
    ]
    assert admin("list-teams", "--account", account)["teams"] == [
        {"id": team, "name": "Ops", "members": [bo]}
    ]
    for bad in ("not-an-email", "a@", "two@@x.io"):
        refused = run_cli(
            url, "admin", "create-user", "--account", account, "--email", bad, check=False
        )
        assert refused.returncode == 1 and "is not an email address" in refused.stderr, bad
    missing = run_cli(url, "admin", "list-users", "--account", "0" * 24, check=False)
    assert missing.returncode == 1 and "No account" in missing.stderr


def test_the_default_database_is_the_users_whatever_the_folder(tmp_path: Path) -> None:
    """With no URL given, every command uses insightboards.db in the user's data folder, so
    that an admin command run from another folder finds the server's accounts instead of
    making an empty database there; a database at the old default (./data) is pointed at."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSIGHTBOARDS_", "XDG_"))}
    env["HOME"] = str(home)
    expected = home / ".local" / "share" / "insightboards" / "insightboards.db"

    def admin_in(folder: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "insightboards", "admin", *args]
        run_env = {**env, **extra}
        return subprocess.run(
            command, capture_output=True, text=True, timeout=60, cwd=folder, env=run_env
        )

    made = admin_in(tmp_path / "one", "create-account", "--name", "Here")
    assert made.returncode == 0 and f"database sqlite:///{expected}" in made.stderr
    listed = admin_in(tmp_path / "two", "list-accounts")
    assert [a["name"] for a in json.loads(listed.stdout)["accounts"]] == ["Here"]
    assert not (tmp_path / "one" / "data").exists() and not (tmp_path / "two" / "data").exists()
    elsewhere = tmp_path / "xdg"
    moved = admin_in(tmp_path / "one", "list-accounts", XDG_DATA_HOME=str(elsewhere))
    assert f"database sqlite:///{elsewhere / 'insightboards' / 'insightboards.db'}" in moved.stderr
    old = tmp_path / "old"
    (old / "data").mkdir(parents=True)
    (old / "data" / "insightboards.db").touch()
    noted = admin_in(old, "list-accounts")
    assert "data/insightboards.db (the default of earlier versions) is not used" in noted.stderr
    assert f"--database-url sqlite:///{old / 'data' / 'insightboards.db'}" in noted.stderr


def _account_and_user(url: str) -> tuple[str, str]:
    """A new account's id and its one user's, made with the admin commands."""
    account = json.loads(run_cli(url, "admin", "create-account", "--name", "T").stdout)["id"]
    user = json.loads(
        run_cli(url, "admin", "create-user", "--account", account, "--email", "t@t.io").stdout
    )["id"]
    return account, user


def test_a_token_made_to_expire_stops_working_and_tokens_are_listed_without_secrets(
    tmp_path: Path,
) -> None:
    """`create-token --expires-in DAYS`: the token works until then and gets 401 after,
    though the server cached its caller meanwhile; `list-tokens` shows ids and dates (the
    last use too, recorded by the running server), never a token."""
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    account, user = _account_and_user(url)
    base = ("admin", "create-token", "--account", account, "--user", user)
    for bad in ("0", "-1", "40000"):
        refused = run_cli(url, *base, "--expires-in", bad, check=False)
        assert refused.returncode == 1 and "--expires-in" in refused.stderr, bad
    server = start_server(url, tmp_path / "server.log", {"INSIGHTBOARDS_DEMO": "0"})
    try:

        def status(token: str) -> httpx.Response:
            return httpx.get(
                f"{server.base_url}/results/api/v2/dashboards/0123456789abcdef01234567",
                headers={"Authorization": f"Bearer {token}"},
            )

        short = json.loads(run_cli(url, *base, "--expires-in", "0.0001").stdout)["token"]  # 8.6 s
        lasting = json.loads(run_cli(url, *base).stdout)["token"]
        assert status(short).status_code == 404  # known, and now cached by the server
        # Timed from the expiry the command stored: starting the command takes a second or
        # more on a busy machine.
        (expires,) = (
            t["date_expires"]
            for t in json.loads(run_cli(url, "admin", "list-tokens", "--account", account).stdout)[
                "tokens"
            ]
            if t["date_expires"] is not None
        )
        left = (datetime.fromisoformat(expires) - datetime.now(UTC)).total_seconds()
        assert left > 0, "too slow to see the token work before it expires"
        time.sleep(left + 0.5)
        expired = status(short)
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]
        assert status(lasting).status_code == 404
        unused = json.loads(run_cli(url, *base).stdout)["token"]
        # The running server records a use within about a second, without a restart.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            tokens = json.loads(run_cli(url, "admin", "list-tokens", "--account", account).stdout)
            if tokens["tokens"][1]["date_last_used"] is not None:
                break
            time.sleep(0.3)
        assert tokens["tokens"][1]["date_last_used"] is not None, "not recorded while running"
    finally:
        server.stop()
    listed = run_cli(url, "admin", "list-tokens", "--account", account).stdout
    assert short not in listed and lasting not in listed and unused not in listed
    tokens = json.loads(listed)["tokens"]
    assert [len(t["id"]) for t in tokens] == [12, 12, 12]
    assert {t["user_id"] for t in tokens} == {user}
    assert tokens[0]["date_expires"] is not None and tokens[1]["date_expires"] is None
    used_short, used_lasting = tokens[0]["date_last_used"], tokens[1]["date_last_used"]
    assert used_short is not None and tokens[0]["date_created"] <= used_short
    assert used_lasting is not None and tokens[1]["date_created"] <= used_lasting
    assert tokens[2]["date_last_used"] is None


def test_a_lost_token_is_revoked_by_the_id_list_tokens_shows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'revoke.db'}"
    account, user = _account_and_user(url)
    base = ("admin", "create-token", "--account", account, "--user", user)
    lost, kept = (json.loads(run_cli(url, *base).stdout)["token"] for _ in range(2))
    listed = json.loads(run_cli(url, "admin", "list-tokens", "--account", account).stdout)
    lost_id = next(t["id"] for t in listed["tokens"] if hash_token(lost).startswith(t["id"]))
    revoke = ("admin", "revoke-token", "--account", account, "--id")
    assert json.loads(run_cli(url, *revoke, lost_id).stdout) == {"revoked": True}
    again = run_cli(url, *revoke, lost_id, check=False)
    assert again.returncode == 1 and "No such active token" in again.stderr
    for bad in (("--id", "xyz"), ("--token", kept, "--id", lost_id), ()):
        refused = run_cli(url, "admin", "revoke-token", "--account", account, *bad, check=False)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, bad
    tokens = json.loads(run_cli(url, "admin", "list-tokens", "--account", account).stdout)
    revoked = {t["id"]: t["date_revoked"] is not None for t in tokens["tokens"]}
    assert revoked == {lost_id: True, hash_token(kept)[:12]: False}
