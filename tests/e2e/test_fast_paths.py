"""GETs of one board, lists and creates are answered before FastAPI when nothing about them
is unusual (api/fast_paths.py); their answers are the routes', and every refusal still
comes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from insightboards.database import TIMED_READS_APPLICATION_NAME
from insightboards.loop_reads import POSTGRES_APPLICATION_NAME, POSTGRES_CONNECTIONS
from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, Tenant, admin, start_server
from tests.e2e.test_dashboards import assert_problem


def test_a_get_answers_as_the_routes_that_serve_the_same_board(api: Api) -> None:
    created = api.create(tags=[{"name": "fast"}], insights=[{"insightId": "i", "sizeX": 2}])
    for _ in range(3):  # the first may fill the token's cache entry; the rest are fast
        response = api.get(created["id"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["etag"] == '"1"'
        assert response.json() == created
    by_tag = api.client.get(f"/dashboards/tag/{created['tag']}")
    assert by_tag.content == response.content
    assert by_tag.headers["etag"] == response.headers["etag"]
    listed = api.list(filter=f'{{"tags.name": "fast", "id": "{created["id"]}"}}')
    assert listed["items"] == [created]
    # With a trailing slash, and by the v2 prefix.
    assert api.client.get(f"/dashboards/{created['id']}/").content == response.content
    assert api.v2.get(f"/dashboards/{created['id']}").content == response.content


def test_refusals_come_from_the_route(
    server: Server, api: Api, tenant: Tenant, other_tenant: Tenant
) -> None:
    private = api.create(access={"inherits": False, "permissions": []})
    assert api.get(private["id"]).status_code == 200
    base = f"{server.base_url}/results/api/v1/dashboards"
    viewer = {"Authorization": f"Bearer {tenant.tokens['viewer']}"}
    assert httpx.get(f"{base}/{private['id']}", headers=viewer).status_code == 403
    assert_problem(httpx.get(f"{base}/{'0' * 24}", headers=viewer), 404)
    foreign = {**viewer, "gtmhub-accountId": other_tenant.account_id}
    assert_problem(httpx.get(f"{base}/{private['id']}", headers=foreign), 403)
    assert_problem(httpx.get(f"{base}/{private['id']}", headers={"Authorization": "Bearer x"}), 401)
    other = {"Authorization": f"Bearer {other_tenant.tokens['admin']}"}
    assert_problem(httpx.get(f"{base}/{private['id']}", headers=other), 404)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Tenant]]:
    directory: Path = tmp_path_factory.mktemp("fast-limited")
    server = start_server(
        f"sqlite:///{directory / 'limited.db'}",
        directory / "server.log",
        {"INSIGHTBOARDS_RATE_LIMIT_PER_MINUTE": "5"},
    )
    yield server, make_tenant(server, "FastLimited")
    server.stop()


def test_a_cached_token_still_spends_its_budget_and_is_revoked_at_once(
    limited: tuple[Server, Tenant],
) -> None:
    server, tenant = limited
    base_url = f"{server.base_url}/results/api/v1"
    member = {"Authorization": f"Bearer {tenant.tokens['member']}"}
    with httpx.Client(base_url=base_url, headers=member) as client:
        created = client.post("/dashboards", json={"name": "budget"})  # 1 of 5
        assert created.status_code == 201
        path = f"/dashboards/{created.json()['id']}"
        assert [client.get(path).status_code for _ in range(4)] == [200] * 4
        refused = client.get(path)
    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1

    owner = {"Authorization": f"Bearer {tenant.tokens['admin']}"}
    with httpx.Client(base_url=base_url, headers=owner) as client:
        assert client.get(path).status_code == 200
        revoked = admin(server.database_url, "revoke-token", "--token", tenant.tokens["admin"])
        assert revoked == {"revoked": True}
        assert_problem(client.get(path), 401)


def test_a_list_answers_as_the_route_does(api: Api) -> None:
    first = api.create(name="fast list one", tags=[{"name": "fastlist"}])
    second = api.create(name="fast list two", tags=[{"name": "fastlist"}, {"name": "other"}])
    labelled = {"filter": '{"tags.name": "fastlist"}', "sort": "-dateCreated"}
    for query in (
        {**labelled, "take": "1"},
        {**labelled, "skip": "1", "limit": "5", "fields": "id,name,tags"},
        {"filter": '{name: {$regex: "^fast list"}}', "take": "0"},
        {},
    ):
        fast = api.client.get("/dashboards", params=query)
        # A parameter the fast path does not know sends the request to the route, which
        # ignores it.
        routed = api.client.get("/dashboards", params={**query, "via": "route"})
        assert fast.status_code == routed.status_code == 200, fast.text
        assert fast.headers["content-type"] == routed.headers["content-type"]
        assert fast.content == routed.content
    page = api.list(**labelled, take="1")
    assert page["totalCount"] == 2 and page["items"] == [second]
    assert api.list(**labelled, skip="1", take="1")["items"] == [first]


@pytest.mark.parametrize(
    "query",
    [
        {"take": "1001"},
        {"take": "-1"},
        {"skip": "x"},
        {"filter": "{nope: 1}"},
        {"filter": '{"tags.name": {"$bad": 1}}'},
        {"sort": "nope"},
        {"fields": "a" * 2001},
    ],
)
def test_a_list_the_route_refuses_is_refused(api: Api, query: dict[str, str]) -> None:
    assert_problem(api.client.get("/dashboards", params=query), 400)


def test_a_cached_token_spends_its_budget_on_lists_too(limited: tuple[Server, Tenant]) -> None:
    server, tenant = limited
    viewer = {"Authorization": f"Bearer {tenant.tokens['viewer']}"}
    with httpx.Client(base_url=f"{server.base_url}/results/api/v1", headers=viewer) as client:
        first = client.get("/dashboards", params={"take": "1"})  # caches the token
        # A list the service refuses costs one request, as on the route, and is answered
        # with the route's problem document.
        refused = client.get("/dashboards", params={"filter": "{name: {$regex: '('}}"})
        answers = [client.get("/dashboards", params={"take": "1"}) for _ in range(4)]
    assert first.status_code == 200
    assert_problem(refused, 400)
    assert "regex" in refused.json()["detail"]
    assert [answer.status_code for answer in answers[:3]] == [200] * 3
    assert_problem(answers[3], 429)


def test_a_create_answers_as_the_route_does(api: Api) -> None:
    api.list(take="1")  # the token's caller, cached: what the fast path needs
    body = {
        "name": "fast create",
        "tags": [{"name": "fastcreate"}],
        "insights": [{"insightId": "i", "sizeX": 2}],
    }
    fast = api.client.post("/dashboards", json=body)
    # A query parameter sends a create to the route, which ignores it.
    routed = api.client.post("/dashboards", params={"via": "route"}, json=body)
    assert fast.status_code == routed.status_code == 201, fast.text
    assert fast.headers.keys() == routed.headers.keys()
    assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"
    for answer in (fast, routed):
        created = answer.json()
        assert answer.headers["location"] == f"/results/api/v1/dashboards/{created['id']}"
        assert answer.headers["etag"] == '"1"'
        assert api.get(created["id"]).json() == created
    # The same board but for what each create makes its own.
    own = ("id", "tag", "dateCreated", "dateUpdated", "insights", "tags")
    assert {k: v for k, v in fast.json().items() if k not in own} == {
        k: v for k, v in routed.json().items() if k not in own
    }
    assert [insight["insightId"] for insight in fast.json()["insights"]] == ["i"]
    assert [label["name"] for label in fast.json()["tags"]] == ["fastcreate"]


def test_a_create_the_model_or_the_service_refuses_is_refused(
    api: Api, clients: Callable[..., Api], tenant: Tenant
) -> None:
    api.list(take="1")
    # The model's refusal comes from the route, which reads the body the fast path read.
    wrong = assert_problem(api.client.post("/dashboards", json={"name": 5}), 400)
    assert [error["field"] for error in wrong["errors"]] == ["body.name"]
    broken = api.client.post(
        "/dashboards", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(broken, 400)
    taken = api.create(name="taken")
    conflict = assert_problem(
        api.client.post("/dashboards", json={"name": "x", "tag": taken["tag"]}), 409
    )
    assert taken["tag"] in conflict["detail"]
    viewer = clients(tenant.tokens["viewer"])
    viewer.list(take="1")
    assert_problem(viewer.client.post("/dashboards", json={"name": "no"}), 403)


def test_a_cached_token_spends_its_budget_once_per_create(limited: tuple[Server, Tenant]) -> None:
    server, _ = limited
    tenant = make_tenant(server, "FastCreates")
    member = {"Authorization": f"Bearer {tenant.tokens['member']}"}
    with httpx.Client(base_url=f"{server.base_url}/results/api/v1", headers=member) as client:
        answers = [
            client.get("/dashboards", params={"take": "1"}),  # caches the token
            client.post("/dashboards", json={"name": "one", "tag": "fast-one"}),
            client.post("/dashboards", json={"name": 5}),  # the route refuses it
            client.post(
                "/dashboards", json={"name": "two", "tag": "fast-one"}
            ),  # the service refuses it
            client.get("/dashboards", params={"take": "1"}),
            client.post("/dashboards", json={"name": "six"}),
        ]
    assert [answer.status_code for answer in answers[:5]] == [200, 201, 400, 409, 200]
    assert_problem(answers[5], 429)


def test_gets_on_postgresql_survive_the_loss_of_the_loops_connections(
    server: Server, api: Api
) -> None:
    """The loop's PostgreSQL connections (loop_reads.py) are replaced when found broken (a
    server restart, an administrator's pg_terminate_backend), and the read run again."""
    if not server.database_url.startswith("postgresql"):
        pytest.skip("the loop's connections are PostgreSQL's")
    created = api.create(name="survivor")
    assert api.get(created["id"]).json() == created
    assert _terminate(server, POSTGRES_APPLICATION_NAME) == POSTGRES_CONNECTIONS
    # Each read that finds its connection broken runs again on a new one.
    answers = [api.get(created["id"]) for _ in range(2 * POSTGRES_CONNECTIONS)]
    assert [answer.status_code for answer in answers] == [200] * (2 * POSTGRES_CONNECTIONS)
    assert answers[-1].json() == created


def test_a_create_whose_caller_changed_spends_its_budget_once(
    limited: tuple[Server, Tenant],
) -> None:
    """A create that finds the auth counter moved since its caller was cached goes to the
    route, which authenticates afresh: the request is counted once, not twice."""
    server, _ = limited
    tenant = make_tenant(server, "FastChanged")
    member = {"Authorization": f"Bearer {tenant.tokens['member']}"}
    with httpx.Client(base_url=f"{server.base_url}/results/api/v1", headers=member) as client:
        first = client.post("/dashboards", json={"name": "one"})  # 1 of 5, caches the token
        # Any auth change moves the counter: here, a token of another user.
        admin(
            server.database_url,
            "create-token",
            "--account",
            tenant.account_id,
            "--user",
            tenant.users["viewer"],
        )
        answers = [client.post("/dashboards", json={"name": name}) for name in "abcd"]
        refused = client.post("/dashboards", json={"name": "six"})
    assert [answer.status_code for answer in [first, *answers]] == [201] * 5
    assert_problem(refused, 429)


def test_lists_on_postgresql_survive_the_loss_of_their_connections(
    server: Server, api: Api
) -> None:
    """Lists read on connections that are not pinged at checkout (database.py,
    _timed_engine): one that finds its connection closed by the server is read again."""
    if not server.database_url.startswith("postgresql"):
        pytest.skip("the timed reads' connections are PostgreSQL's")
    label = f"survivor-{api.create(name='x')['id']}"
    created = api.create(name="listed", tags=[{"name": label}])
    query = {"filter": f'{{"tags.name": "{label}"}}'}
    assert [board["id"] for board in api.list(**query)["items"]] == [created["id"]]
    assert _terminate(server, TIMED_READS_APPLICATION_NAME) >= 1
    for _ in range(4):
        response = api.v2.get("/dashboards", params=query)
        assert response.status_code == 200, response.text
        assert [board["id"] for board in response.json()["items"]] == [created["id"]]


def _terminate(server: Server, application_name: str) -> int:
    """Close, from the server's side, the service's PostgreSQL connections of that name;
    how many."""
    url = make_url(server.database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin_db:
        terminated = admin_db.execute(
            # In the select list: a WHERE may call the function before testing the rest.
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            (application_name,),
        ).fetchone()
    assert terminated is not None
    return int(terminated[0])
