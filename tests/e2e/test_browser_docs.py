"""/docs and /redoc render every operation in a real browser that can reach no host but the
service's own.

tests/e2e/test_docs_offline.py reads the pages' HTML; this runs them: headless Chromium
loads each page with every request to another host refused, so a script, stylesheet or font
fetched from a CDN, or one the bundles load by themselves, leaves the page broken or is
caught here. With INSIGHTBOARDS_SCREENSHOTS=1 the Swagger UI test also refreshes the
screenshot in docs/images/api-docs.png (off by default, so test runs leave the tree alone).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, ViewportSize

from tests.e2e.harness import Server

SCREENSHOT = Path(__file__).parents[2] / "docs" / "images" / "api-docs.png"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}

# The vendor's ten Dashboards operations, as the vendor's reference names them (v1 paths).
V1_OPERATIONS = {
    ("GET", "/results/api/v1/dashboards"),
    ("POST", "/results/api/v1/dashboards"),
    ("GET", "/results/api/v1/dashboards/reports"),
    ("GET", "/results/api/v1/dashboards/tags/usages"),
    ("GET", "/results/api/v1/dashboards/tag/{tag}"),
    ("PUT", "/results/api/v1/dashboards/items/{id}"),
    ("GET", "/results/api/v1/dashboards/{dashboardId}"),
    ("PUT", "/results/api/v1/dashboards/{dashboardId}"),
    ("DELETE", "/results/api/v1/dashboards/{dashboardId}"),
    ("POST", "/results/api/v1/dashboards/{dashboardId}/clone"),
}


@dataclass
class OfflinePage:
    """A browser tab that reaches the server and nothing else."""

    page: Page
    foreign_requests: list[str] = field(default_factory=list)  # each refused
    last_request_at: float = field(default_factory=time.monotonic)

    def settle(self, quiet_seconds: float = 0.5) -> None:
        """Wait until the page has asked for nothing for `quiet_seconds` from now on: what it
        loads after it rendered (an image a component mounts, a lazy font) is asked for by
        then. Playwright's "networkidle" would not do: reached once, it is not waited for again.
        """
        called_at = time.monotonic()
        while time.monotonic() - max(self.last_request_at, called_at) < quiet_seconds:
            self.page.wait_for_timeout(100)


@pytest.fixture
def offline_page(browser: Browser, server: Server) -> Iterator[OfflinePage]:
    context = browser.new_context(viewport=VIEWPORT)
    tab = OfflinePage(context.new_page())
    own = (f"{server.base_url}/", f"blob:{server.base_url}/", "data:")

    # Refused rather than left to fail on DNS: where the docs are read, a CDN may answer.
    def only_the_server(route: Route) -> None:
        tab.last_request_at = time.monotonic()
        if route.request.url.startswith(own):
            route.continue_()
        else:
            tab.foreign_requests.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", only_the_server)
    try:
        yield tab
    finally:
        context.close()


def _documented_operations(server: Server) -> list[dict[str, Any]]:
    document = httpx.get(f"{server.base_url}/openapi.json").json()
    return [
        {"method": method.upper(), "path": path, **operation}
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_swagger_ui_renders_every_operation_with_files_from_the_server_alone(
    offline_page: OfflinePage, server: Server
) -> None:
    documented = {(o["method"], o["path"]) for o in _documented_operations(server)}
    assert documented >= V1_OPERATIONS
    page = offline_page.page
    page.goto(f"{server.base_url}/docs")
    # Swagger UI renders the operations of every tag at once, from /openapi.json.
    page.wait_for_function(
        "n => document.querySelectorAll('.opblock').length >= n", arg=len(documented)
    )
    rendered = page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(block => [
            block.querySelector('.opblock-summary-method').textContent,
            block.querySelector('.opblock-summary-path').dataset.path,
        ])""",
    )
    assert sorted(map(tuple, rendered)) == sorted(documented)
    assert page.locator(".info .title").inner_text().startswith("Insightboards")
    assert page.locator(".errors-wrapper").count() == 0  # Swagger UI's own load errors
    offline_page.settle()
    assert offline_page.foreign_requests == []
    if os.environ.get("INSIGHTBOARDS_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        # The first screen: the title and the v1 operations (the whole page is 6,000 pixels).
        page.set_viewport_size({"width": 1280, "height": 1100})
        page.screenshot(path=SCREENSHOT)


def _render_redoc(tab: OfflinePage, server: Server, operations: list[dict[str, Any]]) -> None:
    tab.page.goto(f"{server.base_url}/redoc")
    # ReDoc gives each operation's section a data-section-id ending in its operationId.
    tab.page.wait_for_function(
        "n => document.querySelectorAll('[data-section-id^=\"operation/\"]').length >= n",
        arg=len(operations),
    )


def test_redoc_renders_every_operation_with_files_from_the_server_alone(
    offline_page: OfflinePage, server: Server
) -> None:
    operations = _documented_operations(server)
    _render_redoc(offline_page, server, operations)
    page = offline_page.page
    sections = page.eval_on_selector_all(
        '[data-section-id^="operation/"]', "sections => sections.map(s => s.dataset.sectionId)"
    )
    assert sorted(sections) == sorted(f"operation/{o['operationId']}" for o in operations)
    text = page.inner_text("body")
    assert "Insightboards (" in text  # the title with the version
    for operation in operations:
        assert operation["summary"] in text, operation["summary"]


def test_redoc_asks_no_other_host(offline_page: OfflinePage, server: Server) -> None:
    _render_redoc(offline_page, server, _documented_operations(server))
    offline_page.settle()  # the logo is asked for after the render
    assert offline_page.foreign_requests == []
