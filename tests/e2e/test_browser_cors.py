"""The vendor's jQuery example, run in a real browser from a page of another origin: it reads
the dashboards when INSIGHTBOARDS_CORS_ORIGINS names that origin, and the browser refuses
the answer otherwise.

tests/e2e/test_cors.py checks the CORS headers over HTTP; only a browser shows that they are
the ones it needs (the example's GET sends Authorization and Content-Type, so Chromium asks
with a preflight first). The example is read from the vendor's reference page
(vendor_reference.txt) and run as printed, with only the host and the token substituted.
Its page is served by a small HTTP server in the test, on another port, with jQuery from
static/vendor/ (npm's jquery package: dist/jquery.min.js and its licence, pinned with its
integrity in static/vendor/package-lock.json; npm is not needed to run the tests).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, server_on_fresh_database

HERE = Path(__file__).parent
VENDOR = HERE / "static" / "vendor"
JQUERY = VENDOR / "jquery" / "jquery.min.js"
LOCKED_JQUERY = json.loads((VENDOR / "package-lock.json").read_text())["packages"][
    "node_modules/jquery"
]
VENDOR_HOST = "https://app.quantive.com"
BOARD_NAME = "Seen from a browser"


def vendor_list_example() -> str:
    """The reference page's jQuery example for GET /results/api/v2/dashboards, as printed."""
    page = (HERE / "vendor_reference.txt").read_text()
    found = re.search(
        r'^var settings = \{ "url": "https://app\.quantive\.com/results/api/v2/dashboards",'
        r' "method": "GET",.*?\$\.ajax\(settings\)\.done\(.*?\);$',
        page,
        flags=re.M | re.S,
    )
    assert found, "the vendor's jQuery example for GET /results/api/v2/dashboards"
    return found.group(0)


# Before the example: jQuery's defaults get a success and an error callback, which $.ajax
# hangs on each request's done and fail, so the example's own call reports its outcome, as
# text in #outcome and as window.reported. (Not window.outcome: an element's id is a
# property of window too, so `window.outcome` was the <pre> before jQuery reported, and a
# test that came in before the answer read the element.) The empty icon spares a
# /favicon.ico request, whose 404 Chromium would log as an error.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>The vendor's jQuery example</title>
<link rel="icon" href="data:,"></head>
<body>
<pre id="outcome">waiting</pre>
<script src="/jquery.min.js"></script>
<script>
function report(outcome) {
  window.reported = outcome;
  document.getElementById("outcome").textContent = JSON.stringify(outcome);
}
$.ajaxSetup({
  success: function (body, text, xhr) { report({failed: false, status: xhr.status, body: body}); },
  error: function (xhr, text, error) {
    report({failed: true, status: xhr.status, text: text, body: xhr.responseText || null});
  },
});
window.jqueryVersion = jQuery.fn.jquery;
</script>
<script>
EXAMPLE
</script>
</body></html>
"""


@dataclass
class PageServer:
    """Serves the example's pages and jQuery from its own origin."""

    origin: str
    pages: dict[str, bytes]

    def publish(self, name: str, html: str) -> str:
        self.pages[f"/{name}.html"] = html.encode()
        return f"{self.origin}/{name}.html"


@pytest.fixture(scope="module")
def page_server() -> Iterator[PageServer]:
    pages: dict[str, bytes] = {"/jquery.min.js": JQUERY.read_bytes()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            kind = "text/javascript" if self.path.endswith(".js") else "text/html"
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test's output is no place for an access log

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield PageServer(f"http://127.0.0.1:{httpd.server_port}", pages)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture(scope="module")
def cors_server(
    page_server: PageServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server whose INSIGHTBOARDS_CORS_ORIGINS names the page server's origin only."""
    env = {"INSIGHTBOARDS_CORS_ORIGINS": page_server.origin}
    directory = tmp_path_factory.mktemp("browser-cors")
    with server_on_fresh_database("sqlite", directory, env) as server:
        yield server


@dataclass
class Account:
    token: str
    board: dict[str, Any]
    listing: dict[str, Any]  # GET /results/api/v2/dashboards over plain HTTP


def account_with_a_board(server: Server, name: str) -> Account:
    tenant = make_tenant(server, name)
    api = Api(server.base_url, tenant.tokens["admin"])
    try:
        board = api.create(name=BOARD_NAME)
        return Account(tenant.tokens["admin"], board, api.list())
    finally:
        api.close()


@pytest.fixture(scope="module")
def allowed_account(cors_server: Server) -> Account:
    return account_with_a_board(cors_server, "BrowserAllowed")


@dataclass
class Outcome:
    """What the page showed and what the browser's console said."""

    reported: dict[str, Any]  # window.reported
    shown: str  # the page's text
    jquery_version: str
    logged: list[Any]  # the example's console.log(response)
    errors: list[str]  # the browser's own complaints


def run_vendor_example(
    browser: Browser, page_server: PageServer, page_host: str, api: Server, token: str
) -> Outcome:
    """Open a page at http://PAGE_HOST:<page server's port> running the vendor's example
    against `api` with `token`, and wait for jQuery to report."""
    example = vendor_list_example().replace(VENDOR_HOST, api.base_url)
    example = example.replace("{token}", token)
    url = page_server.publish(f"example-{page_host}", PAGE.replace("EXAMPLE", example))
    url = url.replace("127.0.0.1", page_host, 1)
    context = browser.new_context()
    try:
        page = context.new_page()
        messages: list[ConsoleMessage] = []
        # A lambda, not messages.append: Playwright sets an attribute on each handler.
        page.on("console", lambda message: messages.append(message))
        page.goto(url)
        page.wait_for_function("() => window.reported !== undefined", timeout=10_000)
        return Outcome(
            reported=page.evaluate("() => window.reported"),
            shown=page.inner_text("body"),
            jquery_version=page.evaluate("() => window.jqueryVersion"),
            logged=[m.args[0].json_value() for m in messages if m.type == "log"],
            errors=[m.text for m in messages if m.type == "error"],
        )
    finally:
        context.close()


def test_the_vendored_jquery_is_the_locked_one() -> None:
    assert LOCKED_JQUERY["integrity"].startswith("sha512-")
    assert JQUERY.read_text().startswith(f"/*! jQuery v{LOCKED_JQUERY['version']} |")
    assert (JQUERY.parent / "LICENSE.txt").read_text().startswith("Copyright OpenJS Foundation")


def test_an_allowed_origin_reads_the_dashboards_with_the_vendors_example(
    browser: Browser, page_server: PageServer, cors_server: Server, allowed_account: Account
) -> None:
    outcome = run_vendor_example(
        browser, page_server, "127.0.0.1", cors_server, allowed_account.token
    )
    assert outcome.errors == []
    assert outcome.reported["failed"] is False and outcome.reported["status"] == 200
    body = outcome.reported["body"]
    assert allowed_account.board["id"] in [item["id"] for item in body["items"]]
    # The board and the account's two reports, as plain HTTP sees them.
    assert body["count"] == body["totalCount"] == allowed_account.listing["totalCount"] == 3
    assert body == allowed_account.listing | {"items": body["items"]}
    assert outcome.logged == [body]  # the example's own done() ran, with the same answer
    assert BOARD_NAME in outcome.shown
    assert outcome.jquery_version == LOCKED_JQUERY["version"]  # the page ran the vendored one


def _assert_refused(outcome: Outcome, api: Server) -> None:
    """jQuery's fail ran with status 0, the example's done did not, nothing of the answer
    reached the page, and Chromium says why: CORS, not a network error."""
    assert outcome.reported == {"failed": True, "status": 0, "text": "error", "body": None}
    assert outcome.logged == []
    assert BOARD_NAME not in outcome.shown
    refusals = [e for e in outcome.errors if "has been blocked by CORS policy" in e]
    assert refusals and f"{api.base_url}/results/api/v2/dashboards" in refusals[0], outcome.errors


def test_an_origin_the_setting_does_not_name_is_refused(
    browser: Browser, page_server: PageServer, cors_server: Server, allowed_account: Account
) -> None:
    # The same page server as `localhost`: another origin for the browser.
    outcome = run_vendor_example(
        browser, page_server, "localhost", cors_server, allowed_account.token
    )
    _assert_refused(outcome, cors_server)


def test_without_the_setting_the_browser_refuses_the_answer(
    browser: Browser, page_server: PageServer, server: Server
) -> None:
    account = account_with_a_board(server, "BrowserRefused")
    assert account.board["id"] in [item["id"] for item in account.listing["items"]]  # it's there
    outcome = run_vendor_example(browser, page_server, "127.0.0.1", server, account.token)
    _assert_refused(outcome, server)
