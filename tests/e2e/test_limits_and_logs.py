"""Resource limits (body size, header size, rate) and the access log."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_tenant
from tests.e2e.harness import Server, Tenant, start_server
from tests.e2e.test_dashboards import assert_problem


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Tenant]]:
    """A server of its own, with a small per-token budget and a small body cap."""
    directory = tmp_path_factory.mktemp("limited")
    server = start_server(
        f"sqlite:///{directory / 'limited.db'}",
        directory / "server.log",
        {"INSIGHTBOARDS_RATE_LIMIT_PER_MINUTE": "5", "INSIGHTBOARDS_MAX_BODY_BYTES": "2048"},
    )
    yield server, make_tenant(server, "Limited")
    server.stop()


def _get(server: Server, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.base_url}/results/api/v1/dashboards/reports",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_each_token_has_its_own_request_budget(limited: tuple[Server, Tenant]) -> None:
    server, tenant = limited
    statuses = [_get(server, tenant.tokens["member"]).status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = _get(server, tenant.tokens["member"])
    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    # Another token is not affected.
    assert _get(server, tenant.tokens["viewer"]).status_code == 200


def test_the_body_cap_is_configurable_and_checked_while_streaming(
    limited: tuple[Server, Tenant],
) -> None:
    server, tenant = limited
    url = f"{server.base_url}/results/api/v1/dashboards"
    headers = {
        "Authorization": f"Bearer {tenant.tokens['admin']}",
        "Content-Type": "application/json",
    }
    declared = httpx.post(url, content=b"x" * 4096, headers=headers)
    assert_problem(declared, 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        for _ in range(64):
            yield b"x" * 1024

    streamed = httpx.post(url, content=chunks(), headers=headers)
    assert_problem(streamed, 413)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_memory_stays_flat_under_a_stream_of_oversized_requests(
    server: Server, tenant: Tenant
) -> None:
    url = f"{server.base_url}/results/api/v1/dashboards"
    headers = {
        "Authorization": f"Bearer {tenant.tokens['admin']}",
        "Content-Type": "application/json",
    }
    body = b"x" * (3 * 1024 * 1024)
    with httpx.Client(headers=headers) as client:
        for _ in range(10):  # warm up
            client.post(url, content=body)
        before = _rss_kib(server.process.pid)
        for _ in range(150):
            assert client.post(url, content=body).status_code == 413
        after = _rss_kib(server.process.pid)
    # 450 MiB were offered; the server's memory may not grow by more than a few MiB.
    assert after - before < 16 * 1024, (before, after)


def _raw_request(server: Server, request: bytes) -> bytes:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        return connection.recv(4096)


def test_oversized_headers_and_query_strings_get_4xx(server: Server, tenant: Tenant) -> None:
    token = tenant.tokens["admin"]
    huge_header = (
        b"GET /results/api/v1/dashboards/reports HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"X-Padding: "
        + b"a" * 200_000
        + b"\r\n\r\n"
    )
    huge_query = (
        b"GET /results/api/v2/dashboards?filter=" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {token}\r\n\r\n".encode()
    )  # fmt: skip
    malformed = b"GET /results/api/v2/dashboards HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"
    for request in (huge_header, huge_query, malformed):
        response = _raw_request(server, request)
        status_line = response.split(b"\r\n", 1)[0]
        status = int(status_line.split()[1])
        assert 400 <= status < 500, status_line
        # Refused by the HTTP parser, before any route: still a problem document.
        assert b"content-type: application/problem+json" in response.lower(), response[:300]


def test_one_access_log_line_per_request_without_tokens_or_bodies(
    server: Server, tenant: Tenant
) -> None:
    secret = f"secret-{uuid.uuid4().hex}"
    token = tenant.tokens["admin"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{server.base_url}/results/api/v1", headers=headers) as client:
        created = client.post("/dashboards", json={"name": secret, "tags": [{"name": secret}]})
        client.get(f"/dashboards/{created.json()['id']}", params={"fields": secret})
        client.get("/dashboards/reports", headers={"Authorization": "Bearer nope"})
    # A request's line is written once its response has gone out, within moments (the
    # server's other tests log too): wait for this test's last one.
    deadline = time.monotonic() + 10
    while True:
        log = server.log_path.read_text()
        lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        mine = [line for line in lines if line["path"].endswith(created.json()["id"])]
        after_mine = lines[lines.index(mine[-1]) :] if mine else []
        refused = [
            line
            for line in after_mine
            if line["status"] == 401 and line["path"].endswith("/dashboards/reports")
        ]
        if refused or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert token not in log and secret not in log and "nope" not in log
    assert mine and mine[-1]["method"] == "GET" and mine[-1]["status"] == 200
    assert mine[-1]["account_id"] == tenant.account_id and mine[-1]["duration_ms"] >= 0
    assert {"method", "path", "status", "duration_ms", "account_id"} == set(mine[-1])
    assert refused and refused[0]["account_id"] is None
