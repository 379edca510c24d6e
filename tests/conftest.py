"""Shared fixtures: a real server per database backend, and tenants to call it with."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.e2e.harness import (
    Api,
    Server,
    Tenant,
    admin,
    backends,
    server_on_fresh_database,
)


@pytest.fixture(scope="session", params=backends())
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A running `insightboards serve` on a fresh database of each backend."""
    with server_on_fresh_database(request.param, tmp_path_factory.mktemp(request.param)) as s:
        yield s


def make_tenant(server: Server, name: str = "Tenant") -> Tenant:
    account_id = admin(server.database_url, "create-account", "--name", name)["id"]
    users: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for role in ("admin", "member", "viewer"):
        user_id = admin(
            server.database_url,
            "create-user",
            "--account",
            account_id,
            "--email",
            f"{role}@{name.lower()}.example",
            "--role",
            role,
        )["id"]
        users[role] = user_id
        tokens[role] = admin(
            server.database_url,
            "create-token",
            "--account",
            account_id,
            "--user",
            user_id,
        )["token"]
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
