"""A list's query parsed and compiled (query/list_query.py)."""

import pytest

from insightboards.access import Caller
from insightboards.errors import BadRequest
from insightboards.query import list_query
from insightboards.query.fields import QueryContext

CONTEXT = QueryContext(Caller("a" * 24, "b" * 24, "member"), "sqlite")


def test_a_filter_is_a_document_or_relaxed_json_text() -> None:
    assert list_query.parse_filter("{tags.name: 'okr'}") == {"tags.name": "okr"}
    assert list_query.parse_filter({"name": "x"}) == {"name": "x"}
    assert list_query.parse_filter("") is None and list_query.parse_filter(None) is None
    with pytest.raises(BadRequest, match="filter: must be an object"):
        list_query.parse_filter("[1, 2]")


def test_a_sort_is_sortable_keys_each_with_its_direction() -> None:
    order = list_query.order_by("-dateCreated,name", CONTEXT)
    assert [str(term) for term in order] == ["dashboards.date_created DESC", "dashboards.name ASC"]
    assert list_query.order_by(None, CONTEXT) == []
    with pytest.raises(BadRequest, match="Cannot sort by 'colour'"):
        list_query.order_by("colour", CONTEXT)
    with pytest.raises(BadRequest, match="Cannot sort by '\\+name'"):
        list_query.order_by("++name", CONTEXT)


def test_only_one_indexed_key_sorts_by_index() -> None:
    assert list_query.sorted_by_index(None) and list_query.sorted_by_index("-dateCreated")
    assert not list_query.sorted_by_index("name,tag")


def test_a_label_filter_compiles_in_every_form_a_list_needs() -> None:
    compiled = list_query.compile_list_filter({"tags.name": "okr"}, CONTEXT)
    assert compiled.starts_from_child_table and compiled.label_rows is not None
    assert str(compiled.condition) != str(compiled.per_board)  # the latter board by board
    other = list_query.compile_list_filter({"name": "x"}, CONTEXT)
    assert not other.starts_from_child_table and other.label_rows is None


def test_check_list_query_refuses_what_the_list_would() -> None:
    list_query.check_list_query("{name: 'x'}", "name", "name,tag", CONTEXT)
    with pytest.raises(BadRequest, match="unknown field 'colour'"):
        list_query.check_list_query({"colour": 1}, None, None, CONTEXT)
    with pytest.raises(BadRequest):
        list_query.check_list_query(None, None, "name{", CONTEXT)
