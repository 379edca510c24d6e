"""Shared fixtures: a real server per database backend, and tenants to call it with."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from insightboards import provisioning
from insightboards.accounts import service as accounts
from insightboards.database import Database
from tests.e2e.harness import (
    Api,
    Server,
    Tenant,
    backends,
    server_on_fresh_database,
)
from tests.progress import register

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.hookimpl(trylast=True)  # after the terminal reporter exists
def pytest_configure(config: pytest.Config) -> None:
    register(config)


@pytest.fixture(scope="session", params=backends())
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A running `insightboards serve` on a fresh database of each backend."""
    with server_on_fresh_database(request.param, tmp_path_factory.mktemp(request.param)) as s:
        yield s


def make_tenant(server: Server, name: str = "Tenant") -> Tenant:
    """An account with a user of each role and a token each, made by the functions the
    `insightboards admin` commands call (tests/e2e/test_cli.py runs the commands; seven of
    them here cost seconds of process start-up per tenant)."""
    database = Database(server.database_url)
    try:
        account_id = provisioning.create_account(database, name)
        users: dict[str, str] = {}
        tokens: dict[str, str] = {}
        for role in ("admin", "member", "viewer"):
            email = f"{role}@{name.lower()}.example"
            users[role] = accounts.create_user(database, account_id, email, None, role)
            tokens[role] = accounts.create_token(database, account_id, users[role])
    finally:
        database.dispose()
    return Tenant(account_id, users, tokens)


@pytest.fixture(scope="session")
def tenant(server: Server) -> Tenant:
    return make_tenant(server, "Acme")


@pytest.fixture(scope="session")
def other_tenant(server: Server) -> Tenant:
    return make_tenant(server, "Globex")


@pytest.fixture
def clients(server: Server) -> Iterator[Callable[..., Api]]:
    """Make API clients; they are closed after the test."""
    made: list[Api] = []

    def make(token: str | None, account_id: str | None = None) -> Api:
        made.append(Api(server.base_url, token, account_id))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def api(clients: Callable[..., Api], tenant: Tenant) -> Api:
    """The first tenant's admin, naming the account in gtmhub-accountId."""
    return clients(tenant.tokens["admin"], tenant.account_id)


@pytest.fixture
def member_api(clients: Callable[..., Api], tenant: Tenant) -> Api:
    return clients(tenant.tokens["member"])


@pytest.fixture
def viewer_api(clients: Callable[..., Api], tenant: Tenant) -> Api:
    return clients(tenant.tokens["viewer"])


@pytest.fixture
def other_api(clients: Callable[..., Api], other_tenant: Tenant) -> Api:
    """The second tenant's admin."""
    return clients(other_tenant.tokens["admin"], other_tenant.account_id)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium for a module's browser tests (tests/e2e/browser.py)."""
    from tests.e2e.browser import headless_chromium

    with headless_chromium() as launched:
        yield launched
