"""Settings from a TOML file (`--config` or INSIGHTBOARDS_CONFIG), under the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import start_server


def _allows(base_url: str, origin: str) -> bool:
    preflight = httpx.options(
        f"{base_url}/results/api/v2/dashboards",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    return preflight.headers.get("access-control-allow-origin") == origin


def test_serve_reads_its_settings_from_the_file_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "insightboards.toml"
    config.write_text('cors_origins = ["http://from-file.example"]\ndemo = false\n')
    url = f"sqlite:///{tmp_path / 'served.db'}"
    server = start_server(url, tmp_path / "a.log", extra_args=("--config", str(config)))
    try:
        assert _allows(server.base_url, "http://from-file.example")
        assert "demo account" not in server.log_path.read_text()  # demo = false, from the file
    finally:
        server.stop()
    override = {
        "INSIGHTBOARDS_CORS_ORIGINS": "http://from-env.example",
        "INSIGHTBOARDS_CONFIG": str(config),
    }
    server = start_server(url, tmp_path / "b.log", extra_env=override)
    try:
        assert _allows(server.base_url, "http://from-env.example")
        assert not _allows(server.base_url, "http://from-file.example")
    finally:
        server.stop()


def test_admin_takes_the_database_from_the_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    config = tmp_path / "insightboards.toml"
    database = tmp_path / "from-file.db"
    config.write_text(f'database_url = "sqlite:///{database}"\n')
    listed = run_cli_without_url("admin", "list-accounts", "--config", str(config))
    assert listed.returncode == 0 and json.loads(listed.stdout) == {"accounts": []}
    assert f"database sqlite:///{database}" in listed.stderr and database.exists()
    config.write_text("rate_limit_per_minut = 5\n")  # misspelt
    refused = run_cli_without_url("admin", "list-accounts", "--config", str(config))
    assert refused.returncode == 1 and "rate_limit_per_minut" in refused.stderr
    missing = run_cli_without_url("admin", "list-accounts", "--config", str(tmp_path / "no.toml"))
    assert missing.returncode == 1 and "no config file at" in missing.stderr


@pytest.mark.parametrize("command", [("admin", "list-accounts"), ("serve", "--port", "1")])
def test_a_bad_setting_stops_every_command_with_one_line_and_no_database_made(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """With --database-url given too, and for serve: the file, a value from the environment
    or the file's very syntax is checked before anything is done, and said in one line."""
    database = tmp_path / "never.db"
    url = ("--database-url", f"sqlite:///{database}")
    malformed, misspelt = tmp_path / "malformed.toml", tmp_path / "misspelt.toml"
    malformed.write_text("rate_limit_per_minute = \n")
    misspelt.write_text("rate_limit_per_minut = 5\n")
    cases = [
        ((), {"INSIGHTBOARDS_CONFIG": str(malformed)}, "malformed.toml: Invalid value"),
        (("--config", str(misspelt)), {}, "rate_limit_per_minut: Extra inputs"),
        (("--config", str(tmp_path / "no.toml")), {}, "no config file at"),
        ((), {"INSIGHTBOARDS_RATE_LIMIT_PER_MINUTE": "abc"}, "rate_limit_per_minute: Input"),
    ]
    for options, env, said in cases:
        refused = run_cli_without_url(*command, *url, *options, env=env)
        assert refused.returncode == 1, (options, env, refused.stderr)
        assert refused.stderr.startswith("insightboards: settings: "), refused.stderr
        assert said in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert not database.exists()


def run_cli_without_url(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`insightboards ARGS...` with no INSIGHTBOARDS_ variable but those of `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTBOARDS_")}
    command = [sys.executable, "-m", "insightboards", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=clean | (env or {})
    )
