"""/docs and /redoc work on a machine without internet access: every file their pages load
is served by the service itself."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.harness import Server


@pytest.mark.parametrize(
    ("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]
)
def test_the_api_docs_load_nothing_from_another_host(
    server: Server, page: str, script: str
) -> None:
    html = httpx.get(f"{server.base_url}{page}")
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    loaded = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]""", html.text)
    loaded += re.findall(r"""(?:url|spec-url)\s*:\s*['"]([^'"]+)['"]""", html.text)
    assert any(path.endswith(script) for path in loaded), loaded
    assert "/openapi.json" in html.text
    for path in loaded:
        assert path.startswith("/") and not path.startswith("//"), path  # this host only
        asset = httpx.get(f"{server.base_url}{path}")
        assert asset.status_code == 200 and asset.content, path
    assert "http" not in html.text  # no absolute URL at all
    if page == "/docs":
        assert '"validatorUrl": null' in html.text  # no call to Swagger's online validator


def test_every_parameter_of_every_operation_is_described(server: Server) -> None:
    document = httpx.get(f"{server.base_url}/openapi.json").json()
    undescribed = [
        (method.upper(), path, parameter["name"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    assert undescribed == []
