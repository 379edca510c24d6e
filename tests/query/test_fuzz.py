"""Random and adversarial filters, sorts and projections: a result or a 400, nothing else."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insightboards import provisioning
from insightboards.access import Caller
from insightboards.accounts import service as accounts
from insightboards.dashboards import creating, listing
from insightboards.dashboards.schemas import DashboardCreate, ListQuery
from insightboards.database import Database, upgrade_schema
from insightboards.errors import BadRequest
from insightboards.query.fields import known_paths
from insightboards.query.operands import FIELD_OPERATORS, LOGICAL
from tests.e2e.harness import fresh_database

EXAMPLES = int(os.environ.get("INSIGHTBOARDS_FUZZ_EXAMPLES", "300"))
NASTY = ["'", '"', "\\", ".", "[", "]", "$", "*", "--", ";", "\x00", "'; DROP TABLE dashboards; --",
         "%", "_", "{", "}", "\u202e", "😀", "a.b.c", "$where", "__proto__", " ", ""]  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    directory = Path(tmp_path_factory.mktemp("fuzz"))
    with fresh_database(request.param, directory) as url:
        yield from _world(url)


def _world(url: str) -> Iterator[dict[str, Any]]:
    upgrade_schema(url)
    database = Database(url)
    account = provisioning.create_account(database, "Fuzz")
    user = accounts.create_user(database, account, "f@fuzz.example", None, "member")
    caller = Caller(account, user, "member")
    for n in range(5):
        body = {"name": f"b{n}", "tags": [{"name": "okr"}], "insights": [{"insightId": "i"}],
                "settings": [{"name": "s", "value": "v"}]}  # fmt: skip
        creating.create(database, caller, DashboardCreate.model_validate(body))
    yield {"db": database, "caller": caller}
    database.dispose()


keys = st.one_of(
    st.sampled_from(known_paths()),
    st.sampled_from(sorted(FIELD_OPERATORS | LOGICAL)),
    st.sampled_from(NASTY),
    st.text(max_size=12),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY), st.text(max_size=20),
    st.sampled_from(["2026-01-01", "(a+)+$", "^OKR", "[", "(?=x)", "\\1"]),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=25,
)
filters = st.one_of(
    st.dictionaries(keys, json_values, max_size=4),
    json_values,
    st.text(max_size=60),
    st.sampled_from(["{name: {$regex: '(a+)+$'}}", "{", "{a:b}", "[1,2]", "{$and: [{}]}", "null"]),
)
sorts = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.lists(st.sampled_from(known_paths() + NASTY), max_size=3).map(",".join),
)
projections = st.one_of(
    st.none(), st.text(max_size=30), st.sampled_from(["name,tags{name}", "a{b{c}}", "{", "x}"])
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    raw_filter=filters,
    sort=sorts,
    fields=projections,
    skip=st.integers(0, 10),
    take=st.integers(0, 20),
)
def test_any_query_gives_a_result_or_a_400(
    world: dict[str, Any],
    raw_filter: Any,
    sort: str | None,
    fields: str | None,
    skip: int,
    take: int,
) -> None:
    try:
        query = ListQuery.model_construct(
            filter=raw_filter, sort=sort, fields=fields, skip=skip, take=take
        )
        page = orjson.loads(listing.list_page(world["db"], world["caller"], query))
    except BadRequest as error:
        assert error.detail
        return
    assert page["count"] == len(page["items"]) <= take
    assert all(item["accountId"] == world["caller"].account_id for item in page["items"])
