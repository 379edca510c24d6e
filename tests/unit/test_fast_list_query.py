"""Which list query strings the fast path answers itself (api/fast_paths.py); the rest go
to the FastAPI route, which validates them as the OpenAPI document says."""

from __future__ import annotations

import pytest

from insightboards.api.fast_paths import _list_query
from insightboards.dashboards.schemas import ListQuery


def query(text: str) -> ListQuery | None:
    return _list_query({"query_string": text.encode("latin-1")})


def test_plain_parameters_become_the_list_query() -> None:
    parsed = query("filter=%7B%22tags.name%22%3A%22okr%22%7D&sort=-dateCreated&take=50&skip=0")
    assert parsed is not None
    assert (parsed.filter, parsed.sort, parsed.take, parsed.skip, parsed.fields) == (
        '{"tags.name":"okr"}',
        "-dateCreated",
        50,
        0,
        None,
    )
    limited = query("limit=3&fields=id,name")
    assert limited is not None and (limited.take, limited.fields) == (3, "id,name")
    both = query("take=2&limit=3")  # take wins, as on the route
    assert both is not None and both.take == 2
    empty = query("")
    assert empty is not None and empty.take is None and empty.filter is None


@pytest.mark.parametrize(
    "text",
    [
        "take=1001",
        "take=-1",
        "take=+1",
        "take=",
        "take=1.0",
        "skip=99999999999",
        "take=1&take=2",
        "via=route",
        "filter=a%00b",
        "sort=" + "a" * 1001,
        "fields=" + "a" * 2001,
    ],
)
def test_anything_else_goes_to_the_route(text: str) -> None:
    assert query(text) is None
