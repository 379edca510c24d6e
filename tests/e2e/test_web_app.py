"""The web app at `/`, in a real browser that can reach no host but the service's own: sign
in with an API token (kept in sessionStorage, never in a URL), then the boards list, searched
by name and paged with its total, through the public list API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.conftest import make_tenant
from tests.e2e.harness import Api, Server, Tenant, server_on_fresh_database

TOKEN_KEY = "insightboards.token"


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The page is the same on either database; one is enough for a browser's time.
    with server_on_fresh_database("sqlite", tmp_path_factory.mktemp("webapp")) as running:
        yield running


@pytest.fixture(scope="module")
def people(sqlite_server: Server) -> Tenant:
    return make_tenant(sqlite_server, "Webapp")


@pytest.fixture
def page(browser: Browser, sqlite_server: Server) -> Iterator[tuple[Page, list[str], list[str]]]:
    """A tab that reaches the server alone; the URLs it asked for, and those refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    asked: list[str] = []
    foreign: list[str] = []

    def route(route: Route) -> None:
        url = route.request.url
        asked.append(url)
        if url.startswith(sqlite_server.base_url):
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    tab.route("**/*", route)
    yield tab, asked, foreign
    context.close()


def _boards(server: Server, tenant: Tenant, prefix: str, count: int) -> list[dict[str, Any]]:
    api = Api(server.base_url, tenant.tokens["member"])
    try:
        return [
            api.create(name=f"{prefix} {n:02d}", tags=[{"name": f"{prefix.lower()}-label"}])
            for n in range(count)
        ]
    finally:
        api.close()


def _sign_in(tab: Page, server: Server, token: str) -> None:
    tab.goto(f"{server.base_url}/")
    tab.get_by_label("API token").fill(token)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("heading", name="Boards", exact=True)).to_be_visible()


def test_sign_in_shows_the_boards_and_keeps_the_token_out_of_urls(
    page: tuple[Page, list[str], list[str]], sqlite_server: Server, people: Tenant
) -> None:
    tab, asked, foreign = page
    prefix = f"Signed{uuid.uuid4().hex[:6]}"
    _boards(sqlite_server, people, prefix, 2)
    token = people.tokens["member"]
    _sign_in(tab, sqlite_server, token)
    expect(tab.get_by_role("cell", name=f"{prefix} 01")).to_be_visible()
    expect(tab.get_by_role("cell", name=f"{prefix.lower()}-label").first).to_be_visible()
    assert tab.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == token
    assert all(token not in url for url in asked)
    assert foreign == []
    # A reload keeps the tab signed in; signing out forgets the token.
    tab.reload()
    expect(tab.get_by_role("cell", name=f"{prefix} 01")).to_be_visible()
    tab.get_by_role("button", name="Sign out").click()
    expect(tab.get_by_label("API token")).to_be_visible()
    assert tab.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_an_unknown_token_is_refused_with_a_message(
    page: tuple[Page, list[str], list[str]], sqlite_server: Server
) -> None:
    tab, _, _ = page
    tab.goto(f"{sqlite_server.base_url}/")
    tab.get_by_label("API token").fill("ib_" + "0" * 24 + "_" + "x" * 43)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("alert")).to_have_text("That token is not known, or no longer valid.")
    expect(tab.get_by_role("heading", name="Boards", exact=True)).to_be_hidden()


def test_search_by_name_and_paging_with_the_total(
    page: tuple[Page, list[str], list[str]], sqlite_server: Server, people: Tenant
) -> None:
    tab, asked, _ = page
    prefix = f"Paged{uuid.uuid4().hex[:6]}"
    _boards(sqlite_server, people, prefix, 23)
    _sign_in(tab, sqlite_server, people.tokens["member"])
    tab.get_by_label("Search by name").fill(prefix.lower())  # any case
    expect(tab.locator("#total")).to_have_text("23 boards, showing 1 to 20")
    expect(tab.locator("#rows tr")).to_have_count(20)
    tab.get_by_role("button", name="Next").click()
    expect(tab.locator("#total")).to_have_text("23 boards, showing 21 to 23")
    expect(tab.locator("#rows tr")).to_have_count(3)
    expect(tab.get_by_role("button", name="Next")).to_be_disabled()
    # Newest changed first: the first made is last.
    expect(tab.locator("#rows tr").last.locator("td").first).to_have_text(f"{prefix} 00")
    # The list asked only for the fields it shows.
    lists = [url for url in asked if "/results/api/v2/dashboards?" in url and "fields=" in url]
    assert lists and all("fields=id%2Cname%2Ctags%7Bname%7D%2CdateUpdated" in u for u in lists)
    # Sorted by name instead: the first made is first.
    tab.get_by_label("Sort by").select_option(label="Name")
    expect(tab.locator("#total")).to_have_text("23 boards, showing 1 to 20")
    expect(tab.locator("#rows tr").first.locator("td").first).to_have_text(f"{prefix} 00")
    # Text that is not a pattern is searched for as it is.
    tab.get_by_label("Search by name").fill(f"{prefix} 0(")
    expect(tab.locator("#total")).to_have_text("0 boards")


def test_label_chips_archived_boards_and_reports_apart(
    page: tuple[Page, list[str], list[str]], sqlite_server: Server, people: Tenant
) -> None:
    tab, _, _ = page
    prefix = f"Chips{uuid.uuid4().hex[:6]}"
    _boards(sqlite_server, people, prefix, 3)  # three with the label "<prefix>-label"
    api = Api(sqlite_server.base_url, people.tokens["member"])
    try:
        api.create(name=f"{prefix} archived", archived=True)
        reports = api.client.get("/dashboards/reports").json()
    finally:
        api.close()
    assert reports, "a new account starts with built-in reports"
    _sign_in(tab, sqlite_server, people.tokens["member"])

    chip = tab.get_by_role("button", name=f"{prefix.lower()}-label (3)")
    chip.click()
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(tab.locator("#total")).to_have_text("3 boards, showing 1 to 3")
    chip.click()  # off again
    expect(chip).to_have_attribute("aria-pressed", "false")

    tab.get_by_label("Search by name").fill(f"{prefix} archived")
    expect(tab.locator("#total")).to_have_text("0 boards")
    tab.get_by_label("Include archived boards").check()
    expect(tab.locator("#total")).to_have_text("1 board, showing 1 to 1")

    # Reports are listed apart, never among the boards.
    report_list = tab.get_by_role("region", name="Reports")
    for report in reports:
        expect(report_list.get_by_text(report["name"], exact=True)).to_be_visible()
    tab.get_by_label("Search by name").fill(reports[0]["name"])
    expect(tab.locator("#total")).to_have_text("0 boards")


def test_a_board_is_drawn_from_its_grid(
    page: tuple[Page, list[str], list[str]], sqlite_server: Server, people: Tenant
) -> None:
    tab, _, foreign = page
    name = f"Grid{uuid.uuid4().hex[:6]}"
    api = Api(sqlite_server.base_url, people.tokens["member"])
    try:
        board = api.create(
            name=name,
            tags=[{"name": "grid-label"}],
            insights=[
                {"insightId": "a" * 24, "insightName": "revenue", "row": 0, "col": 0,
                 "sizeX": 6, "sizeY": 4},
                {"insightId": "b" * 24, "insightName": "churn", "row": 0, "col": 6,
                 "sizeX": 6, "sizeY": 4},
            ],
            sectionHeaders=[
                {"header": "Second half", "subHeader": "From July", "row": 4, "col": 0,
                 "sizeX": 12, "sizeY": 1},
            ],
        )  # fmt: skip
    finally:
        api.close()
    viewer = people.tokens["viewer"]
    _sign_in(tab, sqlite_server, viewer)
    tab.get_by_label("Search by name").fill(name)
    tab.get_by_role("link", name=name).click()
    expect(tab.get_by_role("heading", name=name, exact=True)).to_be_visible()
    assert tab.url.endswith(f"#/boards/{board['id']}")
    expect(tab.locator("#board-meta")).to_contain_text("Labels: grid-label")
    expect(tab.locator("#board-meta")).to_contain_text("You may read.")
    tiles = tab.get_by_role("list", name="Tiles").get_by_role("listitem")
    expect(tiles).to_have_count(3)
    placed = tab.evaluate(
        """() => [...document.querySelectorAll('#grid > *')].map((e) => {
            const style = getComputedStyle(e);
            return [e.querySelector('h3').textContent, style.gridColumnStart,
                    style.gridColumnEnd, style.gridRowStart];
        })"""
    )
    assert placed == [
        ["revenue", "1", "span 6", "1"],
        ["churn", "7", "span 6", "1"],
        ["Second half", "1", "span 12", "5"],
    ]
    expect(tab.get_by_text("From July")).to_be_visible()
    # The address opens the board again after a reload; back goes to the list.
    tab.reload()
    expect(tab.get_by_role("heading", name=name, exact=True)).to_be_visible()
    tab.get_by_role("link", name="All boards").click()
    expect(tab.get_by_role("heading", name="Boards", exact=True)).to_be_visible()
    # A board of another account is not found, and says so.
    tab.goto(f"{sqlite_server.base_url}/#/boards/{'0' * 24}")
    expect(tab.locator("#board-error")).to_contain_text("not found")
    assert foreign == []


def test_the_list_and_an_open_board_follow_changes_made_elsewhere(
    page: tuple[Page, list[str], list[str]], sqlite_server: Server, people: Tenant
) -> None:
    tab, _, _ = page
    prefix = f"Live{uuid.uuid4().hex[:6]}"
    _sign_in(tab, sqlite_server, people.tokens["member"])
    tab.get_by_label("Search by name").fill(prefix)
    expect(tab.locator("#total")).to_have_text("0 boards")
    tab.wait_for_timeout(300)  # the page's change stream is open by now
    # Made by someone else, through the API: the list shows it within about a second.
    api = Api(sqlite_server.base_url, people.tokens["admin"])
    try:
        made = api.create(name=f"{prefix} made elsewhere")
        expect(tab.locator("#total")).to_have_text("1 board, showing 1 to 1", timeout=1500)
        tab.get_by_role("link", name=f"{prefix} made elsewhere").click()
        expect(tab.get_by_role("heading", name=f"{prefix} made elsewhere")).to_be_visible()
        renamed = api.client.put(f"/dashboards/{made['id']}", json={"name": f"{prefix} renamed"})
        assert renamed.status_code == 200, renamed.text
        expect(tab.get_by_role("heading", name=f"{prefix} renamed")).to_be_visible(timeout=1500)
    finally:
        api.close()
