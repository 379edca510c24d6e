"""Cross-origin calls from browsers (CORS), over HTTP: allowed only for the origins of
INSIGHTBOARDS_CORS_ORIGINS, with the headers the vendor's jQuery examples send."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_tenant
from tests.e2e.harness import Server, server_on_fresh_database

APP = "http://app.example:8080"
API = "/results/api/v2/dashboards"


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"INSIGHTBOARDS_CORS_ORIGINS": f" {APP}/ , http://other.example"}
    with server_on_fresh_database("sqlite", tmp_path_factory.mktemp("cors"), env) as server:
        yield server


def _preflight(server: Server, origin: str, path: str = API) -> httpx.Response:
    return httpx.options(
        f"{server.base_url}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, gtmhub-accountid, content-type, "
            "if-match",
        },
    )


def test_an_allowed_origins_preflight_and_answers_let_its_page_read_them(
    cors_server: Server,
) -> None:
    preflight = _preflight(cors_server, APP, f"{API}/0123456789abcdef01234567")
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == APP
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "gtmhub-accountid", "content-type", "if-match"):
        assert header in allowed, allowed
    tenant = make_tenant(cors_server, "Cors")
    headers = {
        "Origin": APP,
        "Authorization": f"Bearer {tenant.tokens['admin']}",
        "gtmhub-accountId": tenant.account_id,
    }
    created = httpx.post(f"{cors_server.base_url}{API}", json={"name": "b"}, headers=headers)
    assert created.status_code == 201
    # The answers of the fast paths (create, GET by id, lists) and of FastAPI alike.
    for response in (
        created,
        httpx.get(f"{cors_server.base_url}{API}/{created.json()['id']}", headers=headers),
        httpx.get(f"{cors_server.base_url}{API}", headers=headers),
        httpx.get(f"{cors_server.base_url}{API}/tags/usages", headers=headers),
    ):
        assert response.status_code in (200, 201), response.text
        assert response.headers["access-control-allow-origin"] == APP
        exposed = response.headers["access-control-expose-headers"].lower()
        assert "etag" in exposed and "location" in exposed


def test_another_origin_is_refused(cors_server: Server) -> None:
    preflight = _preflight(cors_server, "http://evil.example")
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.headers["content-type"] == "application/problem+json"
    detail = preflight.json()["detail"]
    assert "not allowed: origin" in detail and "INSIGHTBOARDS_CORS_ORIGINS" in detail
    assert "origin" in preflight.headers["vary"].lower()  # caches keep answers apart
    answer = httpx.get(f"{cors_server.base_url}/healthz", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in answer.headers


def test_without_the_setting_no_origin_is_allowed_and_allow_is_right(server: Server) -> None:
    preflight = _preflight(server, APP)
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.headers["allow"] == "GET, HEAD, POST"
    assert "INSIGHTBOARDS_CORS_ORIGINS" in preflight.json()["detail"]  # says why
    patch = httpx.patch(f"{server.base_url}{API}/0123456789abcdef01234567")
    assert (patch.status_code, patch.headers["allow"]) == (405, "DELETE, GET, HEAD, PUT")
    # The routes the OpenAPI document leaves out (the docs pages and their files) too.
    for path, allowed in [
        ("/docs", "GET, HEAD"),
        ("/redoc", "GET, HEAD"),
        ("/openapi.json", "GET, HEAD"),
        ("/static-offline-docs/swagger-ui.css", "GET, HEAD"),
        ("/healthz", "GET, HEAD"),
    ]:
        refused = httpx.post(f"{server.base_url}{path}")
        assert (refused.status_code, refused.headers["allow"]) == (405, allowed), path
    answer = httpx.get(f"{server.base_url}/healthz", headers={"Origin": APP})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


def test_any_origin_with_a_star(tmp_path: Path) -> None:
    env = {"INSIGHTBOARDS_CORS_ORIGINS": "*"}
    with server_on_fresh_database("sqlite", tmp_path, env) as server:
        preflight = _preflight(server, "http://anywhere.example")
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "*"
