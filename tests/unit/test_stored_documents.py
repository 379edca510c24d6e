"""Stored documents never drift from the tables: after any sequence of writes (creates,
updates, item and layout saves, clones, deletes, new users, team changes, new and revoked
tokens), every GET and every list page, for every caller (as its token authenticates it,
through the process's cache), equals the board rendered afresh from its rows with the
caller's fields worked out in Python."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insightboards import access, provisioning
from insightboards.access import Caller
from insightboards.accounts import repository as accounts_repository
from insightboards.accounts import service as accounts
from insightboards.dashboards import creating, documents, listing, repository, served, service
from insightboards.dashboards.schemas import (
    CloneRequest,
    DashboardCreate,
    DashboardItemIn,
    DashboardUpdate,
    ListQuery,
)
from insightboards.database import Database, upgrade_schema
from insightboards.errors import InsightboardsError, Unauthorized
from insightboards.tables import dashboards, users
from tests.e2e.harness import fresh_database

LABELS = ["okr", "kpi", "sales"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    directory: Path = tmp_path_factory.mktemp(f"documents-{request.param}")
    with fresh_database(request.param, directory) as url:
        upgrade_schema(url)
        database = Database(url)
        account = provisioning.create_account(database, "Documents")
        people = {
            role: accounts.create_user(database, account, f"{role}@docs.example", None, role)
            for role in ("admin", "member", "viewer")
        }
        team = accounts.create_team(database, account, "T", [people["member"]])
        tokens = {
            key: accounts.create_token(database, account, user) for key, user in people.items()
        }
        yield {
            "db": database,
            "account": account,
            "people": people,
            "team": team,
            "tokens": tokens,
            # Callers are served as the API serves them: from their tokens, through one
            # cache for the whole run, which every change must invalidate.
            "callers": accounts.CallerCache(),
        }
        database.dispose()


def _caller(database: Database, account: str, user_id: str) -> Caller:
    with database.read() as conn:
        role = accounts_repository.get_user(conn, account, user_id).role
        teams = accounts_repository.team_ids_of(conn, account, user_id)
    return Caller(account, user_id, role, teams)


def _expected(database: Database, caller: Caller, board_id: str) -> dict[str, Any] | None:
    """The board rendered afresh, with usersCount counted user by user in Python; None if
    the caller may not read it."""
    account = caller.account_id
    with database.read() as conn:
        row = repository.get(conn, account, board_id)
        assert row is not None
        grants = repository.load_grants(conn, account, [board_id])[board_id]
        items = repository.load_items(conn, account, [board_id])[board_id]
        labels = repository.load_labels(conn, account, [board_id])[board_id]
        people = [r.id for r in conn.execute(users.select().where(users.c.account_id == account))]
    policy = documents.policy(row, grants)
    readers = sum(
        1
        for user_id in people
        if access.allowed_bits(_caller(database, account, user_id), policy) & access.READ
    )
    bits = access.allowed_bits(caller, policy)
    if not bits & access.READ:
        return None
    document = documents.render(row, items, labels, grants)
    return document | documents.caller_fields(readers, bits)


def _boards(database: Database, account: str) -> list[str]:
    with database.read() as conn:
        query = dashboards.select().where(dashboards.c.account_id == account)
        return [row.id for row in conn.execute(query)]


def _item(rng: random.Random, ids: list[str]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "row": rng.randint(0, 5),
        "col": rng.randint(0, 5),
        "sizeX": rng.randint(1, 4),
    }
    if ids and rng.random() < 0.5:
        item["id"] = rng.choice(ids)
    if rng.random() < 0.5:
        item |= {"type": "sectionHeader", "header": rng.choice(["H", "Sales"])}
    else:
        item |= {"insightId": rng.choice(["i1", "i2"]), "insightName": "x"}
    return item


def _access(rng: random.Random, world: dict[str, Any]) -> dict[str, Any]:
    kind, principal = rng.choice(
        [("team", world["team"]), ("role", "viewer"), ("user", world["people"]["viewer"])]
    )
    grant = {"general": rng.choice([["read"], ["read", "update"]])}
    permissions = [{"principalKind": kind, "principalId": principal, "grant": grant}]
    return {"inherits": rng.random() < 0.5, "permissions": rng.choice([[], permissions])}


def _board_items(database: Database, account: str, board_id: str) -> list[str]:
    with database.read() as conn:
        return [item.id for item in repository.load_items(conn, account, [board_id])[board_id]]


def _write(rng: random.Random, world: dict[str, Any]) -> None:
    """One write, drawn at random; refusals (403, 404, 409, ...) are writes too."""
    database, account, people = world["db"], world["account"], world["people"]
    actor = _caller(database, account, people[rng.choice(["admin", "member"])])
    boards = _boards(database, account)
    kinds = ["create", "user", "team", "token"] + (
        ["update", "item", "layout", "clone", "delete"] if boards else []
    )
    kind = rng.choice(kinds)
    board = rng.choice(boards) if boards else ""
    items = _board_items(database, account, board) if board else []
    try:
        if kind == "create":
            body = {
                "name": rng.choice(["A", "B"]),
                "tags": [{"name": name} for name in rng.sample(LABELS, rng.randint(0, 2))],
                "insights": [_item(rng, []) for _ in range(rng.randint(0, 2))],
            }
            if rng.random() < 0.5:
                body["access"] = _access(rng, world)
            creating.create(database, actor, DashboardCreate.model_validate(body))
        elif kind == "update":
            body = {
                "name": "renamed",
                "tags": [{"name": rng.choice(LABELS)}],
                "access": _access(rng, world),
                "insights": [_item(rng, items)],
                "archived": rng.random() < 0.5,
            }
            fields = rng.sample(sorted(body), rng.randint(1, len(body)))
            update = DashboardUpdate.model_validate({field: body[field] for field in fields})
            service.update(database, actor, board, update, None)
        elif kind == "item":
            service.save_items(
                database, actor, board, DashboardItemIn.model_validate(_item(rng, items)), None
            )
        elif kind == "layout":
            layout = [
                DashboardItemIn.model_validate(_item(rng, [])) for _ in range(rng.randint(0, 3))
            ]
            service.save_items(database, actor, board, layout, None)
        elif kind == "clone":
            creating.clone(database, actor, board, CloneRequest())
        elif kind == "delete":
            service.delete(database, actor, board, None)
        elif kind == "user":
            role = rng.choice(["admin", "member", "viewer"])
            new = accounts.create_user(
                database, account, f"u{len(people)}-{role}@docs.example", None, role
            )
            key = f"user{len(people)}"
            people[key] = new
            world["tokens"][key] = accounts.create_token(database, account, new)
        elif kind == "token":  # a new token for someone, the old one revoked
            key = rng.choice(sorted(people))
            old = world["tokens"][key]
            world["tokens"][key] = accounts.create_token(database, account, people[key])
            accounts.revoke_token(database, old)
            with pytest.raises(Unauthorized):
                accounts.authenticate(database, old, world["callers"])
        else:
            person = [people[rng.choice(sorted(people))]]
            added = rng.random() < 0.5
            accounts.change_team_members(
                database, account, world["team"], person if added else [], [] if added else person
            )
    except InsightboardsError:
        pass


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32), writes=st.integers(1, 6))
def test_every_read_equals_a_fresh_render_after_any_writes(
    world: dict[str, Any], seed: int, writes: int
) -> None:
    """The writes draw on the state the earlier examples left (one database per backend),
    so they come from a generator seeded by hypothesis, not from its own draws."""
    database, account = world["db"], world["account"]
    rng = random.Random(seed)
    for _ in range(writes):
        _write(rng, world)
    boards = _boards(database, account)
    # As api/fast_paths.py serves a GET, on an event loop of the test's own.
    loop = asyncio.Runner()
    loop_reads = loop.run(database.open_loop_reads())
    for key, user_id in world["people"].items():
        caller = accounts.authenticate(database, world["tokens"][key], world["callers"])
        assert caller == _caller(database, account, user_id)  # the cache is never stale
        expected = {board: _expected(database, caller, board) for board in boards}
        for board, document in expected.items():
            if document is None:
                with pytest.raises(InsightboardsError):
                    service.get(database, caller, board)
            else:
                assert service.get(database, caller, board).parsed() == document
            if loop_reads is not None:
                fast = loop.run(
                    served.get_on_loop(loop_reads, lambda _, c=caller: c, account, board)
                )
                assert (fast and fast[1].parsed()) == document
        listed = orjson.loads(listing.list_page(database, caller, ListQuery(take=1000, sort="id")))
        readable = sorted(board for board, document in expected.items() if document is not None)
        assert listed["items"] == [expected[board] for board in readable]
        assert listed["totalCount"] == len(readable)
    if loop_reads is not None:
        loop.run(loop_reads.close())
    loop.close()


def test_boards_without_a_stored_document_are_rendered_then_filled_in(
    world: dict[str, Any],
) -> None:
    """Boards written before migration 0008 have no document: reads render them from the
    tables, and store_missing_documents (run at start) stores theirs."""
    database, account = world["db"], world["account"]
    caller = _caller(database, account, world["people"]["admin"])
    # Grants in an order of their own, which the index of the grants table does not keep.
    permissions = [
        {"principalKind": kind, "principalId": principal, "grant": {"general": ["read"]}}
        for kind, principal in (("user", "zed"), ("account", account), ("role", "admin"))
    ]
    access_in = {"inherits": False, "permissions": permissions}
    created = [
        creating.create(
            database,
            caller,
            DashboardCreate.model_validate(
                {"name": f"old {n}", "tags": [{"name": "okr"}], "access": access_in}
            ),
        )
        for n in range(3)
    ]
    before = {board.id: board.parsed() for board in created}
    assert [p["principalKind"] for p in created[0].parsed()["access"]["permissions"]] == [
        "user",
        "account",
        "role",
    ]
    with database.write() as conn:
        conn.execute(dashboards.update().values(document=None))
    listed = orjson.loads(listing.list_page(database, caller, ListQuery(take=1000)))
    assert {board["id"]: board for board in listed["items"] if board["id"] in before} == before
    assert {board: service.get(database, caller, board).parsed() for board in before} == before

    assert served.store_missing_documents(database, batch=2) == len(_boards(database, account))
    with database.read() as conn:
        stored = conn.execute(dashboards.select().where(dashboards.c.document.is_(None))).all()
    assert stored == []
    assert {board: service.get(database, caller, board).parsed() for board in before} == before
    assert served.store_missing_documents(database) == 0
