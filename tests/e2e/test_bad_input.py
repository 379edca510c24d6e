"""Bad input of every kind gets a 4xx problem, never a 500, and leaves the data alone."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, admin
from tests.e2e.test_dashboards import assert_problem

SOME_ID = "0123456789abcdef01234567"
JSON = "application/json"

HOSTILE = [
    ("GET", "/dashboards/tag/%00", None, None),
    ("GET", "/dashboards/tag/" + "x" * 5000, None, None),
    ("GET", "/dashboards?skip=99999999999999999999999", None, None),
    ("GET", "/dashboards?take=abc", None, None),
    ("GET", "/dashboards?fields=name%00", None, None),
    ("GET", "/dashboards?sort=%00", None, None),
    ("GET", "/dashboards?filter={name:{$foo:1}}", None, None),
    ("GET", "/dashboards?filter={nope:1}", None, None),
    ("GET", "/dashboards?filter=[1]", None, None),
    ("GET", "/dashboards?filter={name:", None, None),
    ("GET", "/dashboards/tags/usages?fields=" + "{" * 50, None, None),
    ("GET", "/dashboards", b"{not json", JSON),
    ("POST", "/dashboards", b"[" * 100_000 + b"]" * 100_000, JSON),
    ("POST", "/dashboards", b"\xff\xfe", JSON),
    ("POST", "/dashboards", b'{"name":"x"}', "text/plain"),
    ("POST", "/dashboards", b'{"name":"x\\u0000"}', JSON),
    ("POST", "/dashboards", b'{"name":"\\ud800"}', JSON),
    ("POST", "/dashboards", b'{"name":"x","insights":[{"row":99999999999999999999}]}', JSON),
    ("POST", "/dashboards", b'{"name":"x","insights":[{"insightState":{"metadata":'
                            b'{"count":1e400}}}]}', JSON),
    ("POST", "/dashboards", b'{"name":"x","tags":[{"name":"a","id":"\\ud800"}]}', JSON),
    ("POST", "/dashboards", b'{"name":"' + b"n" * 600 + b'"}', JSON),
    ("POST", "/dashboards", b'{"name":"x","access":{"permissions":[{"principalKind":"x",'
                            b'"principalId":"y","grant":[]}]}}', JSON),
    ("PUT", f"/dashboards/items/{SOME_ID}", b'{"id":"\\u0000"}', JSON),
    ("PUT", f"/dashboards/{SOME_ID}", b"null", JSON),
    ("POST", f"/dashboards/{SOME_ID}/clone", b'{"tag":"has space"}', JSON),
    ("PATCH", f"/dashboards/{SOME_ID}", None, None),
    ("GET", "/nothing-here", None, None),
    # A number read as an integer past 64 bits, which no stored document can hold.
    ("POST", "/dashboards",
     b'{"name":"x","insights":[{"insightState":{"metadata":{"count":1e20}}}]}', JSON),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "content_type"), HOSTILE)
def test_hostile_requests_get_4xx_problems(
    api: Api, method: str, path: str, body: bytes | None, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.client.request(method, path, content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


def test_oversized_bodies_get_413(api: Api) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert_problem(api.client.post("/dashboards", content=big, headers={"Content-Type": JSON}), 413)


ENDPOINTS = [
    ("GET", "/results/api/v2/dashboards"),
    ("GET", "/results/api/v1/dashboards"),
    ("POST", "/results/api/v1/dashboards"),
    ("GET", "/results/api/v1/dashboards/reports"),
    ("GET", "/results/api/v1/dashboards/tags/usages"),
    ("GET", "/results/api/v1/dashboards/tag/sometag"),
    ("GET", f"/results/api/v1/dashboards/{SOME_ID}"),
    ("PUT", f"/results/api/v1/dashboards/{SOME_ID}"),
    ("DELETE", f"/results/api/v1/dashboards/{SOME_ID}"),
    ("POST", f"/results/api/v1/dashboards/{SOME_ID}/clone"),
    ("PUT", f"/results/api/v1/dashboards/items/{SOME_ID}"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_token(server: Server, method: str, path: str) -> None:
    response = httpx.request(method, f"{server.base_url}{path}", json={"name": "x"})
    assert_problem(response, 401)
    assert response.json()["detail"]


def test_every_endpoint_answers_402_for_a_suspended_account(server: Server) -> None:
    suspended = make_tenant(server, "Frozen")
    admin(server.database_url, "suspend-account", "--account", suspended.account_id)
    token = suspended.tokens["admin"]
    for method, path in ENDPOINTS:
        response = httpx.request(
            method,
            f"{server.base_url}{path}",
            json={"name": "x"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert_problem(response, 402)


def test_a_put_with_no_field_it_knows_is_refused_and_changes_nothing(api: Api) -> None:
    """`{"titel": "New"}` answered 200 and bumped the version, breaking every other
    client's If-Match; now a 400 naming the fields a PUT takes."""
    board = api.create(name="Kept")
    for body in ({"titel": "New"}, {}):
        response = api.client.put(f"/dashboards/{board['id']}", json=body)
        problem = assert_problem(response, 400)
        assert "name, tag, archived" in problem["detail"], problem
    after = api.get(board["id"]).json()
    assert (after["name"], after["version"]) == ("Kept", board["version"])
    renamed = api.client.put(f"/dashboards/{board['id']}", json={"name": "New", "titel": "x"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "New"


def test_a_list_body_with_a_misspelt_key_is_refused(api: Api) -> None:
    """A list body `{"filtr": ...}` listed every board; now a 400 naming the keys a list's
    body holds."""
    api.create(name="one")
    response = api.client.request("GET", "/dashboards", json={"filtr": {"name": "one"}})
    problem = assert_problem(response, 400)
    assert "unknown key 'filtr'" in problem["detail"], problem
    assert "filter, sort, fields, skip, take, limit" in problem["detail"], problem
    listed = api.client.request("GET", "/dashboards", json={"filter": {"name": "one"}})
    assert listed.status_code == 200 and listed.json()["totalCount"] >= 1


def test_a_body_not_labelled_json_is_told_so(api: Api) -> None:
    """A body sent as text/plain, or with no Content-Type, is not read as JSON: the 400
    says what to send instead of only that the body is not an object."""
    board = api.create(name="kept")
    for content_type in ("text/plain", None):
        headers = {"Content-Type": content_type} if content_type else {}
        for method, path in (("POST", "/dashboards"), ("PUT", f"/dashboards/{board['id']}")):
            response = api.client.request(method, path, content=b'{"name": "x"}', headers=headers)
            problem = assert_problem(response, 400)
            assert "Content-Type: application/json" in problem["detail"], problem
            assert (content_type or "no Content-Type") in problem["detail"], problem
    assert api.get(board["id"]).json()["name"] == "kept"
