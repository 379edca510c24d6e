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


# A clone racing with layout saves and a delete of its source: each save writes a layout of
# its own generation, so a clone that mixes two moments, or misses a part, matches no state.
LAYOUT_SIZE = 6
RACE_ROUNDS = 8
RACE_CLONERS = 6
RACE_SAVES = 6

State = tuple[str, tuple[str, ...], tuple[str, ...]]  # name, insight ids, label names


def _generation(k: int) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    items = [{"insightId": f"g{k}-i{j}", "row": j} for j in range(LAYOUT_SIZE)]
    return items, [{"name": f"g{k}-l{j}"} for j in range(LAYOUT_SIZE)]


def _state(board: dict[str, Any]) -> State:
    return (
        board["name"],
        tuple(item["insightId"] for item in board["insights"]),
        tuple(label["name"] for label in board["tags"]),
    )


def _race_one_board(client: httpx.Client) -> tuple[list[State], list[tuple[int, State | None]]]:
    """Clones of one board while it is saved RACE_SAVES times, then deleted: the states the
    board went through, and each clone's answer."""
    items, labels = _generation(0)
    created = client.post("/dashboards", json={"name": "g0", "insights": items, "tags": labels})
    assert created.status_code == 201, created.text
    board_id = created.json()["id"]
    states = [_state(created.json())]

    def save() -> None:
        try:
            for k in range(1, RACE_SAVES + 1):
                items, labels = _generation(k)
                name, _, label_names = states[-1]
                if k % 2:  # the whole board: name, items and labels in one PUT
                    response = client.put(
                        f"/dashboards/{board_id}",
                        json={"name": f"g{k}", "insights": items, "tags": labels},
                    )
                    assert response.status_code == 200, response.text
                    name, label_names = f"g{k}", tuple(label["name"] for label in labels)
                else:  # a layout save: the item array replaces every item
                    response = client.put(f"/dashboards/items/{board_id}", json=items)
                    assert response.status_code == 204, response.text
                states.append((name, tuple(item["insightId"] for item in items), label_names))
        finally:
            assert client.delete(f"/dashboards/{board_id}").status_code == 204

    def clone_until_gone(_: int) -> list[tuple[int, State | None]]:
        answers: list[tuple[int, State | None]] = []
        for _attempt in range(500):
            response = client.post(f"/dashboards/{board_id}/clone", json={})
            state = _state(response.json()) if response.status_code == 201 else None
            answers.append((response.status_code, state))
            if response.status_code != 201:
                break
        return answers

    with ThreadPoolExecutor(max_workers=RACE_CLONERS + 1) as pool:
        cloning = [pool.submit(clone_until_gone, i) for i in range(RACE_CLONERS)]
        pool.submit(save).result()
        answers = [answer for future in cloning for answer in future.result()]
    return states, answers


def test_a_clone_is_all_of_its_source_at_one_moment_or_a_404(server: Server) -> None:
    tenant = make_tenant(server, "CloneRace")
    statuses: Counter[int] = Counter()
    torn: list[State | None] = []
    with _client(server, tenant.tokens["member"]) as client:
        for _round in range(RACE_ROUNDS):
            states, answers = _race_one_board(client)
            for status, state in answers:
                statuses[status] += 1
                if status == 201 and state not in states:
                    torn.append(state)
    assert set(statuses) <= {201, 404} and statuses[404] == RACE_ROUNDS * RACE_CLONERS, statuses
    assert not torn, (
        f"{len(torn)} of {statuses[201]} clones match no state of their source: {torn[:3]}"
    )
