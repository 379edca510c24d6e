"""Generated API tests: Schemathesis against the server's own OpenAPI document.

Every check (server errors, status codes, content types, headers, response schemas,
schema-valid requests accepted, schema-violating ones rejected, authentication), the
stateful phase following `Location` links, and at least 50 generated cases per operation,
on each database backend (INSIGHTBOARDS_SCHEMATHESIS_EXAMPLES=200 for a deeper run; the
suite must stay well under 15 minutes on two cores). The configuration is
tests/e2e/schemathesis.toml; the hooks (the `re2` format, the If-Match check) are
tests/e2e/schemathesis_hooks.py.

v1 is tested; the v2 routes are the same handlers (asserted below).

The coverage phase of `GET /dashboards` enumerates about 40,000 filters from the `Filter`
schema (7 minutes); it runs when INSIGHTBOARDS_SCHEMATHESIS_COVERAGE=full, not by default.
INSIGHTBOARDS_SCHEMATHESIS_EXAMPLES raises the number of cases per operation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import Server, backends, server_on_fresh_database

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIG = REPOSITORY / "tests" / "e2e" / "schemathesis.toml"
LIST_OPERATION = "list_dashboards_results_api_v1_dashboards_get"
EXAMPLES = int(os.environ.get("INSIGHTBOARDS_SCHEMATHESIS_EXAMPLES", "50"))
FULL_COVERAGE = os.environ.get("INSIGHTBOARDS_SCHEMATHESIS_COVERAGE") == "full"


def served_on(backend: str) -> Any:
    """The module's server fixture, on one backend: the PostgreSQL run is a module of its own
    (test_generated_api_postgresql.py), so that the suite's two processes run both at once."""

    @pytest.fixture(scope="module", params=[b for b in backends() if b == backend])
    def unthrottled_server(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Server]:
        """A server of its own: thousands of requests a minute, so no rate limit."""
        directory = tmp_path_factory.mktemp(f"schemathesis-{request.param}")
        # ... and long polls of the change feed that answer at once, not after their `wait`.
        no_limit = {
            "INSIGHTBOARDS_RATE_LIMIT_PER_MINUTE": "0",
            "INSIGHTBOARDS_FEED_LONGEST_WAIT_SECONDS": "0",
        }
        with server_on_fresh_database(request.param, directory, no_limit) as server:
            yield server

    return unthrottled_server


unthrottled_server = served_on("sqlite")


def _schemathesis(server: Server, directory: Path, *selection: str) -> str:
    account_id, token = server.demo_credentials()
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--header",
        f"gtmhub-accountId: {account_id}",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "20261129",
        "--no-color",
        *selection,
    ]
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    result = subprocess.run(
        command, cwd=directory, env=environment, capture_output=True, text=True, timeout=1200
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-30_000:]
    # Not vacuous: cases were generated and sent.
    assert " generated" in report and "0 generated" not in report, report[-5_000:]
    return report


def test_every_operation_but_the_list_passes_every_check_in_every_phase(
    unthrottled_server: Server, tmp_path: Path
) -> None:
    report = _schemathesis(
        unthrottled_server,
        tmp_path,
        "--include-path-regex",
        "^/results/api/v1/",
        "--exclude-operation-id",
        LIST_OPERATION,
    )
    # Each phase ran and passed (a phase with nothing to do is shown as skipped: ⏭).
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in report, report[-5_000:]


def test_the_list_passes_every_check(unthrottled_server: Server, tmp_path: Path) -> None:
    phases = "examples,coverage,fuzzing" if FULL_COVERAGE else "examples,fuzzing"
    report = _schemathesis(
        unthrottled_server,
        tmp_path,
        "--include-operation-id",
        LIST_OPERATION,
        "--phases",
        phases,
    )
    assert "✅ Fuzzing" in report, report[-5_000:]


def test_v2_is_v1_under_another_prefix(unthrottled_server: Server) -> None:
    document = httpx.get(f"{unthrottled_server.base_url}/openapi.json").json()
    paths = document["paths"]
    v1 = {p.removeprefix("/results/api/v1"): ops for p, ops in paths.items() if "/v1/" in p}
    v2 = {p.removeprefix("/results/api/v2"): ops for p, ops in paths.items() if "/v2/" in p}
    assert v1.keys() == v2.keys() and len(v1) == 16

    for path, operations in v1.items():
        # Identical but for the version in generated names (operation ids, titles).
        as_v2 = json.dumps(operations).replace("v1", "v2").replace("V1", "V2")
        assert as_v2 == json.dumps(v2[path]), path
