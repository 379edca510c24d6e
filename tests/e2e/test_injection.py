"""SQL-ish and JSON-ish characters in field names and values: a 4xx or a literal match.

Never an SQL error, and never a row of another account, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.harness import Api
from tests.e2e.test_dashboards import assert_problem

NASTY = ["'", '"', "\\", "a.b", "[0]", "$", "*", "--", ";", "'; DROP TABLE dashboards; --",
         "%", "_", "\\'", "\")--", "1 OR 1=1", "${x}", "{$gt: ''}"]  # fmt: skip


@pytest.mark.parametrize("nasty", NASTY)
def test_nasty_values_match_literally_and_only_in_the_callers_account(
    api: Api, other_api: Api, nasty: str
) -> None:
    name = f"{nasty} {uuid.uuid4().hex[:8]}"
    mine = api.create(name=name, tags=[{"name": name}])
    other_api.create(name=name, tags=[{"name": name}])
    for condition in (
        {"name": name},
        {"tags.name": name},
        {"name": {"$in": [name]}},
        {"tags.name": {"$all": [name]}},
    ):
        page = api.list(filter=json.dumps(condition))
        assert [item["id"] for item in page["items"]] == [mine["id"]], condition
    # Regex metacharacters are refused or matched, never executed as SQL.
    response = api.v2.get("/dashboards", params={"filter": json.dumps({"name": {"$regex": nasty}})})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert all(item["accountId"] == mine["accountId"] for item in response.json()["items"])
    usages = api.client.get("/dashboards/tags/usages").json()["items"]
    assert [u["dashboardsIds"] for u in usages if u["tagName"] == name] == [[mine["id"]]]


@pytest.mark.parametrize("nasty", [*NASTY, "\x00", "name\x00"])
def test_nasty_field_names_sorts_and_projections_are_4xx(api: Api, nasty: str) -> None:
    for params in ({"filter": json.dumps({nasty: 1})}, {"sort": nasty}, {"sort": f"-{nasty}"}):
        response = api.v2.get("/dashboards", params=params)
        assert_problem(response, 400)
    projected = api.v2.get("/dashboards", params={"fields": nasty})
    assert projected.status_code in (200, 400), projected.text


@pytest.mark.parametrize("nasty", ["%00", "'", "%27%20OR%201%3D1", "%2e%2e%2fx", "a%2fb"])
def test_nasty_path_segments_are_404(api: Api, nasty: str) -> None:
    for path in (f"/dashboards/tag/{nasty}", f"/dashboards/{nasty}", f"/dashboards/items/{nasty}"):
        response = api.client.get(path) if "items" not in path else api.client.put(path, json={})
        assert 400 <= response.status_code < 500, (path, response.text)


def test_nul_in_values_is_refused_not_stored(api: Api) -> None:
    assert_problem(api.client.post("/dashboards", json={"name": "a\x00b"}), 400)
    response = api.v2.get("/dashboards", params={"filter": json.dumps({"name": "a\x00b"})})
    assert_problem(response, 400)
