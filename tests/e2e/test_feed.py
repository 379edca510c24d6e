"""The change feed (GET /dashboards/changes) over HTTP, on both databases: a stream of
Server-Sent Events and a long poll, each change seen in order within a second of being made
in another process, only for boards the caller could read at that moment; resumed with
Last-Event-ID; heartbeats; a bound on each token's open streams; streams ended at shutdown."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_tenant
from tests.e2e.harness import Server, admin, backends, fresh_database, start_server

FEED = "/results/api/v2/dashboards/changes"
HEARTBEAT_SECONDS = 3
STREAMS_PER_TOKEN = 3
SETTINGS = {
    "INSIGHTBOARDS_FEED_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
    "INSIGHTBOARDS_FEED_STREAMS_PER_TOKEN": str(STREAMS_PER_TOKEN),
}


@dataclass
class Servers:
    """Two servers on one database: `streams` with two worker processes, where the streams
    are read, and `writes`, another process, where most changes are made."""

    streams: Server
    writes: Server


@pytest.fixture(scope="module", params=backends())
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    directory: Path = tmp_path_factory.mktemp(f"feed-{request.param}")
    with fresh_database(request.param, directory) as url:
        streams = start_server(
            url, directory / "streams.log", SETTINGS, extra_args=("--workers", "2")
        )
        writes = start_server(url, directory / "writes.log", SETTINGS)
        try:
            yield Servers(streams, writes)
        finally:
            streams.stop()
            writes.stop()


def _headers(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


class Stream:
    """An event stream read on a thread of its own: its events (and comment lines) queue up
    as they arrive, with the moment each did."""

    def __init__(self, server: Server, token: str, **headers: str) -> None:
        self.items: queue.Queue[tuple[float, Any]] = queue.Queue()
        self.status: int | None = None
        # The cursor the stream starts after: the id its first frame carries.
        self.start_id: str | None = None
        self._client = httpx.Client(base_url=server.base_url, timeout=30)
        self._headers = _headers(token, Accept="text/event-stream", **headers)
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._opened.wait(10), "the stream did not open"

    def _read(self) -> None:
        try:
            with self._client.stream("GET", FEED, headers=self._headers) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                if response.status_code != 200:
                    response.read()
                    self.problem = response.json()
                    return
                for line in response.iter_lines():
                    if line.startswith("id:") and self.start_id is None:
                        self.start_id = line[3:].strip()
                        self._opened.set()  # with `retry:`, the first thing a stream sends
                    elif line.startswith(":"):
                        self.items.put((time.monotonic(), line))
                    elif line.startswith("data:"):
                        self.items.put((time.monotonic(), json.loads(line[5:])))
        except httpx.HTTPError:
            pass  # closed by the test
        finally:
            self._opened.set()
            self.items.put((time.monotonic(), None))

    def next_change(self, timeout: float) -> tuple[float, dict[str, Any]]:
        """The next event (comment lines passed over) and when it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            arrived, item = self.items.get(timeout=max(0.0, deadline - time.monotonic()))
            assert item is not None, "the stream ended"
            if isinstance(item, dict):
                return arrived, item

    def no_change_for(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                _, item = self.items.get(timeout=left)
            except queue.Empty:
                return True
            if isinstance(item, dict) or item is None:
                return False
        return True

    def close(self) -> None:
        self._client.close()
        self._thread.join(10)


def _create(server: Server, token: str, **body: Any) -> dict[str, Any]:
    """A board made on a connection of its own (a worker the kernel picks)."""
    body.setdefault("name", "Board")
    response = httpx.post(
        f"{server.base_url}/results/api/v1/dashboards",
        json=body,
        headers=_headers(token, Connection="close"),
        timeout=30,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _put(server: Server, token: str, board_id: str, **body: Any) -> None:
    response = httpx.put(
        f"{server.base_url}/results/api/v1/dashboards/{board_id}",
        json=body,
        headers=_headers(token),
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _poll(server: Server, token: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{server.base_url}{FEED}", params=params, headers=_headers(token), timeout=90)


def test_a_stream_sees_each_change_in_order_within_a_second(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Streamed")
    member, admin = tenant.tokens["member"], tenant.tokens["admin"]
    stream = Stream(servers.streams, member)
    try:
        assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
        latencies = []
        # One at a time, from the other process and from either worker of the stream's own.
        for number, server in enumerate([servers.writes, servers.streams] * 3):
            made = time.monotonic()
            board = _create(server, member, name=f"Streamed {number}")
            arrived, change = stream.next_change(timeout=5)
            latencies.append(arrived - made)
            assert change["dashboardId"] == board["id"]
            assert change["kind"] == "create"
            assert change["version"] == 1
            assert change["userId"] == tenant.users["member"]
        assert max(latencies) < 1.0, latencies

        # Several at once, of several kinds, by two authors: each in the order it was made.
        board = _create(servers.writes, member, name="Several")
        _put(servers.writes, admin, board["id"], name="Several, renamed")
        deleted = httpx.delete(
            f"{servers.writes.base_url}/results/api/v1/dashboards/{board['id']}",
            headers=_headers(member),
        )
        assert deleted.status_code == 204
        undeleted = httpx.post(
            f"{servers.writes.base_url}/results/api/v1/dashboards/{board['id']}/undelete",
            headers=_headers(member),
        )
        assert undeleted.status_code == 200, undeleted.text
        seen = [stream.next_change(timeout=2)[1] for _ in range(4)]
        assert [(c["kind"], c["version"]) for c in seen] == [
            ("create", 1),
            ("update", 2),
            ("delete", 2),
            ("undelete", 2),
        ]
        assert {c["dashboardId"] for c in seen} == {board["id"]}
        assert seen[1]["userId"] == tenant.users["admin"]
        assert seen[1]["changedFields"] == ["name"]
        ids = [int(c["id"]) for c in seen]
        assert ids == sorted(ids)
    finally:
        stream.close()


def test_a_stream_resumes_after_its_last_event_id(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Resumed")
    token = tenant.tokens["member"]
    stream = Stream(servers.streams, token)
    try:
        first = _create(servers.writes, token, name="Before the break")
        _, last_seen = stream.next_change(timeout=5)
        assert last_seen["dashboardId"] == first["id"]
    finally:
        stream.close()
    missed = [_create(servers.writes, token, name=f"Missed {n}")["id"] for n in range(3)]
    resumed = Stream(servers.streams, token, **{"Last-Event-ID": last_seen["id"]})
    try:
        got = [resumed.next_change(timeout=5)[1]["dashboardId"] for _ in missed]
        assert got == missed
        assert resumed.no_change_for(0.5)
    finally:
        resumed.close()
    # The JSON form from the same cursor answers the same.
    page = _poll(servers.streams, token, since=last_seen["id"]).json()
    assert [c["dashboardId"] for c in page["items"]] == missed
    assert page["cursor"] == page["items"][-1]["id"]


def test_a_long_poll_answers_as_soon_as_a_change_is_made(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Polled")
    token = tenant.tokens["member"]
    start = _poll(servers.streams, token)
    assert start.status_code == 200
    assert start.json()["items"] == []
    cursor = start.json()["cursor"]

    made: dict[str, Any] = {}

    def make_later() -> None:
        time.sleep(0.5)
        made["at"] = time.monotonic()
        made["board"] = _create(servers.writes, token, name="Polled")

    maker = threading.Thread(target=make_later)
    maker.start()
    answer = _poll(servers.streams, token, since=cursor, wait=20)
    answered = time.monotonic()
    maker.join()
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert [c["dashboardId"] for c in page["items"]] == [made["board"]["id"]]
    assert answered - made["at"] < 1.0
    # Nothing new: a poll with no wait answers at once with the same cursor.
    began = time.monotonic()
    empty = _poll(servers.streams, token, since=page["cursor"], wait=0).json()
    assert empty == {"items": [], "cursor": page["cursor"]}
    assert time.monotonic() - began < 2
    # ... and one that waits, after its wait.
    began = time.monotonic()
    assert _poll(servers.streams, token, since=page["cursor"], wait=1).json()["items"] == []
    assert time.monotonic() - began >= 1


def test_only_changes_of_boards_readable_at_the_moment_are_sent(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Private")
    other = make_tenant(servers.streams, "Elsewhere")
    owner, viewer = tenant.tokens["member"], tenant.tokens["viewer"]
    private = {"inherits": False, "permissions": []}
    shared = {
        "inherits": False,
        "permissions": [
            {"principalKind": "user", "principalId": tenant.users["viewer"], "grant": ["read"]}
        ],
    }
    others_cursor = _poll(servers.streams, other.tokens["admin"]).json()["cursor"]
    stream = Stream(servers.streams, viewer)
    try:
        hidden = _create(servers.writes, owner, name="Hidden", access=private)
        public = _create(servers.writes, owner, name="Public")
        assert stream.next_change(timeout=5)[1]["dashboardId"] == public["id"]

        _put(servers.writes, owner, hidden["id"], access=shared)  # now the viewer may read
        _put(servers.writes, owner, hidden["id"], name="Shared")
        _put(servers.writes, owner, hidden["id"], access=private)  # and now not
        _put(servers.writes, owner, hidden["id"], name="Hidden again")
        _put(servers.writes, owner, public["id"], name="Public, renamed")
        seen = [stream.next_change(timeout=5)[1] for _ in range(3)]
        assert [(c["dashboardId"], c["kind"]) for c in seen] == [
            (hidden["id"], "access"),
            (hidden["id"], "update"),
            (public["id"], "update"),
        ]
        assert stream.no_change_for(0.5)
    finally:
        stream.close()
    # Another account's caller sees none of it.
    page = _poll(servers.streams, other.tokens["admin"], since=others_cursor, wait=0).json()
    assert page["items"] == []


def test_a_quiet_stream_sends_heartbeats(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Quiet")
    stream = Stream(servers.streams, tenant.tokens["member"])
    try:
        opened = time.monotonic()
        arrived, line = stream.items.get(timeout=HEARTBEAT_SECONDS + 2)
        assert line == ": ping"
        assert HEARTBEAT_SECONDS * 0.8 <= arrived - opened < HEARTBEAT_SECONDS + 1.5
        _, line = stream.items.get(timeout=HEARTBEAT_SECONDS + 2)
        assert line == ": ping"
    finally:
        stream.close()


def test_each_token_holds_a_bounded_number_of_streams(servers: Servers) -> None:
    # One worker process: the bound is per token and process.
    tenant = make_tenant(servers.writes, "Bounded")
    token = tenant.tokens["member"]
    streams = [Stream(servers.writes, token) for _ in range(STREAMS_PER_TOKEN)]
    try:
        assert all(s.status == 200 for s in streams)
        refused = Stream(servers.writes, token)
        assert refused.status == 429
        assert "INSIGHTBOARDS_FEED_STREAMS_PER_TOKEN" in refused.problem["detail"]
        refused.close()
        polled = _poll(servers.writes, token, since=0, wait=0)
        assert polled.status_code == 429
        assert polled.headers["content-type"] == "application/problem+json"
        # Another token of the same user's account is not held back.
        assert _poll(servers.writes, tenant.tokens["admin"], since=0, wait=0).status_code == 200
        streams.pop().close()
        deadline = time.monotonic() + 5
        while _poll(servers.writes, token, since=0, wait=0).status_code != 200:
            assert time.monotonic() < deadline, "a closed stream's place was not given back"
            time.sleep(0.1)
    finally:
        for stream in streams:
            stream.close()


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"since": "abc"}, {}),
        ({"since": "-1"}, {}),
        ({"since": "1" * 19}, {}),
        ({"since": "0", "wait": "61"}, {}),
        ({"since": "0", "take": "0"}, {}),
        ({}, {"Accept": "text/event-stream", "Last-Event-ID": "x1"}),
    ],
)
def test_a_cursor_that_is_not_one_is_refused(
    servers: Servers, params: dict[str, str], headers: dict[str, str]
) -> None:
    tenant = make_tenant(servers.streams, "Refused")
    response = httpx.get(
        f"{servers.streams.base_url}{FEED}",
        params=params,
        headers=_headers(tenant.tokens["member"], **headers),
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_the_feed_needs_a_token(servers: Servers) -> None:
    response = httpx.get(f"{servers.streams.base_url}{FEED}", timeout=30)
    assert response.status_code == 401


def test_shutdown_ends_open_streams(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        server = start_server(url, tmp_path / "server.log", SETTINGS)
        tenant = make_tenant(server, "Shutdown")
        stream = Stream(server, tenant.tokens["member"])
        began = time.monotonic()
        server.process.terminate()
        server.process.wait(timeout=10)
        assert time.monotonic() - began < 5
        _, end = stream.items.get(timeout=5)
        while end is not None and not isinstance(end, dict):  # heartbeats before the end
            _, end = stream.items.get(timeout=5)
        assert end is None
        stream.close()
        server.log_file.close()


def test_the_feed_is_in_the_openapi_document(servers: Servers) -> None:
    document = httpx.get(f"{servers.streams.base_url}/openapi.json", timeout=30).json()
    operation = document["paths"]["/results/api/v2/dashboards/changes"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/event-stream"}
    assert {p["name"] for p in operation["parameters"]} >= {
        "since",
        "wait",
        "take",
        "Last-Event-ID",
    }


def test_a_stream_that_saw_no_change_resumes_from_where_it_started(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Restarted")
    token = tenant.tokens["member"]
    first = Stream(servers.streams, token)
    start = first.start_id
    first.close()
    assert start is not None and start.isdigit()
    made = _create(servers.writes, token, name="While away")
    again = Stream(servers.streams, token, **{"Last-Event-ID": start})
    try:
        assert again.next_change(timeout=5)[1]["dashboardId"] == made["id"]
    finally:
        again.close()
    # Last-Event-ID wins over since: a browser reconnecting keeps its original URL.
    both = httpx.Client(base_url=servers.streams.base_url, timeout=30)
    with both.stream(
        "GET",
        FEED,
        params={"since": "0"},
        headers=_headers(token, Accept="text/event-stream", **{"Last-Event-ID": start}),
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                assert json.loads(line[5:])["dashboardId"] == made["id"]
                break
    both.close()


def test_the_cursor_moves_past_changes_the_caller_may_not_read(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Passed")
    viewer, owner = tenant.tokens["viewer"], tenant.tokens["member"]
    cursor = _poll(servers.streams, viewer).json()["cursor"]
    hidden = {"inherits": False, "permissions": []}
    for n in range(3):
        _create(servers.writes, owner, name=f"Not yours {n}", access=hidden)
    page = _poll(servers.streams, viewer, since=cursor, wait=0).json()
    assert page["items"] == []
    assert int(page["cursor"]) > int(cursor)
    # The owner's cursor from the same point sees all three.
    owners = _poll(servers.streams, owner, since=cursor, wait=0).json()
    assert len(owners["items"]) == 3
    assert owners["cursor"] == page["cursor"]


def test_take_pages_through_the_changes(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Paged")
    token = tenant.tokens["member"]
    cursor = _poll(servers.streams, token).json()["cursor"]
    made = [_create(servers.writes, token, name=f"Paged {n}")["id"] for n in range(3)]
    first = _poll(servers.streams, token, since=cursor, take=2).json()
    assert [c["dashboardId"] for c in first["items"]] == made[:2]
    assert first["cursor"] == first["items"][-1]["id"]
    rest = _poll(servers.streams, token, since=first["cursor"], take=2).json()
    assert [c["dashboardId"] for c in rest["items"]] == made[2:]


def test_changes_made_at_once_by_many_clients_all_arrive_in_order(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Crowded")
    token = tenant.tokens["member"]
    stream = Stream(servers.streams, token)
    try:
        made: list[str] = []
        lock = threading.Lock()

        def create(n: int) -> None:
            server = (servers.writes, servers.streams)[n % 2]
            board = _create(server, token, name=f"Crowded {n}")
            with lock:
                made.append(board["id"])

        threads = [threading.Thread(target=create, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seen = [stream.next_change(timeout=5)[1] for _ in made]
        assert sorted(c["dashboardId"] for c in seen) == sorted(made)
        ids = [int(c["id"]) for c in seen]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert stream.no_change_for(0.5)
    finally:
        stream.close()


def test_a_stream_ends_once_its_token_is_revoked(servers: Servers) -> None:
    tenant = make_tenant(servers.streams, "Revoked")
    token = admin(
        servers.streams.database_url,
        "create-token",
        "--account",
        tenant.account_id,
        "--user",
        tenant.users["member"],
    )["token"]
    stream = Stream(servers.streams, token)
    try:
        _create(servers.writes, token, name="Seen")
        stream.next_change(timeout=5)
        admin(servers.streams.database_url, "revoke-token", "--token", token)
        _create(servers.writes, tenant.tokens["member"], name="Not seen")
        _, end = stream.items.get(timeout=5)
        while isinstance(end, str):  # a heartbeat before the end
            _, end = stream.items.get(timeout=5)
        assert end is None, end
    finally:
        stream.close()


def test_cursors_tell_nothing_of_other_accounts(servers: Servers) -> None:
    # Two accounts made alike number their events alike, whatever happens in between.
    first, second = make_tenant(servers.streams, "Numbered"), make_tenant(servers.streams, "Alike")
    for n in range(5):
        _create(servers.writes, first.tokens["member"], name=f"Busy {n}")
    one = _create(servers.writes, second.tokens["member"], name="Quiet")
    page = _poll(servers.streams, second.tokens["member"], since=0, wait=0).json()
    firsts = _poll(servers.streams, first.tokens["member"], since=0, wait=0).json()
    assert page["items"][-1]["dashboardId"] == one["id"]
    assert page["items"][-1]["id"] == firsts["items"][len(page["items"]) - 1]["id"]
    assert int(page["cursor"]) < int(firsts["cursor"])
