"""Concurrent changes to one board queue instead of colliding, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, admin


def _parallel(count: int, call: Callable[[int], httpx.Response]) -> Counter[int]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return Counter(response.status_code for response in pool.map(call, range(count)))


def _client(server: Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.base_url}/results/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def test_concurrent_puts_with_the_same_if_match_let_exactly_one_through(
    server: Server, api: Api, tenant: Any
) -> None:
    board = api.create()
    with _client(server, tenant.tokens["admin"]) as client:
        statuses = _parallel(
            12,
            lambda i: client.put(
                f"/dashboards/{board['id']}",
                json={"name": f"writer {i}"},
                headers={"If-Match": '"1"'},
            ),
        )
    assert statuses == Counter({200: 1, 412: 11})
    assert api.get(board["id"]).json()["version"] == 2


def test_concurrent_item_saves_and_layout_puts_never_fail(
    server: Server, api: Api, tenant: Any
) -> None:
    board = api.create()
    with _client(server, tenant.tokens["admin"]) as client:
        saves = _parallel(
            10,
            lambda i: client.put(f"/dashboards/items/{board['id']}", json={"id": "same", "row": i}),
        )
        puts = _parallel(
            10,
            lambda i: client.put(
                f"/dashboards/{board['id']}",
                json={"insights": [{"id": "a", "row": i}], "tags": [{"name": f"t{i}"}]},
            ),
        )
    assert saves == Counter({204: 10}) and puts == Counter({200: 10})
    final = api.get(board["id"]).json()
    assert final["version"] == 21 and final["insightsCount"] == 1 and len(final["tags"]) == 1


def test_concurrent_creates_respect_the_plan_cap(
    server: Server, clients: Callable[..., Api]
) -> None:
    tenant = make_tenant(server, "Racing")
    admin(server.database_url, "set-plan", "--account", tenant.account_id, "--max-dashboards", "3")
    with _client(server, tenant.tokens["admin"]) as client:
        statuses = _parallel(10, lambda i: client.post("/dashboards", json={"name": f"n{i}"}))
    assert statuses == Counter({201: 3, 402: 7})
    assert clients(tenant.tokens["admin"]).list(filter="{isReport: false}")["totalCount"] == 3


def test_concurrent_creates_with_one_tag_give_one_201_and_409s(
    server: Server, api: Api, tenant: Any
) -> None:
    with _client(server, tenant.tokens["admin"]) as client:
        statuses = _parallel(
            10, lambda i: client.post("/dashboards", json={"name": "n", "tag": "race-tag"})
        )
    assert statuses == Counter({201: 1, 409: 9})
