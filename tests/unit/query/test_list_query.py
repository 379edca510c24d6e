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
    query = list_query.compile_list_query("{tags.name: 'okr'}", "-name", "name,tag", CONTEXT)
    compiled = query.filter
    assert compiled is not None
    assert compiled.columns_tested == frozenset() and compiled.label_rows is not None
    assert str(compiled.condition) != str(compiled.per_board)  # the latter board by board
    assert [str(term) for term in query.order] == ["dashboards.name DESC"]
    assert query.sorted_by_index and query.walks_sort_index and query.projection is not None
    other = list_query.compile_list_query({"name": "x"}, "name,tag", None, CONTEXT)
    assert other.filter is not None
    assert other.filter.columns_tested == {"name"} and other.filter.label_rows is None
    assert not other.sorted_by_index and not other.walks_sort_index and other.projection is None
    assert list_query.compile_list_query("", None, None, CONTEXT).filter is None


def test_a_filter_is_compiled_once_per_text_and_caller() -> None:
    first = list_query.compile_list_query("{name: 'x'}", None, None, CONTEXT).filter
    again = list_query.compile_list_query("{name: 'x'}", "name", None, CONTEXT).filter
    assert first is again
    other_caller = QueryContext(Caller("a" * 24, "c" * 24, "member"), "sqlite")
    assert (
        list_query.compile_list_query("{name: 'x'}", None, None, other_caller).filter is not first
    )


def test_compile_list_query_refuses_what_is_not_valid() -> None:
    with pytest.raises(BadRequest, match="unknown field 'colour'"):
        list_query.compile_list_query({"colour": 1}, None, None, CONTEXT)
    with pytest.raises(BadRequest, match="Cannot sort by 'colour'"):
        list_query.compile_list_query(None, "colour", None, CONTEXT)
    with pytest.raises(BadRequest):
        list_query.compile_list_query(None, None, "name{", CONTEXT)


@pytest.mark.parametrize(
    ("filter", "sort", "walks"),
    [
        ("{tags.name: 'okr'}", None, True),  # labels are tested by a probe per board
        ("{name: {$regex: '^OKR'}}", None, True),  # by id, testing each name
        ("{name: {$regex: '^OKR'}}", "-name", False),  # the name's own range is the page
        ("{createdById: 'u'}", "-dateUpdated", True),
        ("{createdById: 'u'}", "createdById", False),
        ("{id: {$in: ['a']}}", None, False),
        ("{$or: [{tags.name: 'a'}, {name: 'b'}]}", "name", False),
        ("{archived: true}", "name,tag", False),  # no index holds this order
        ("", "name", False),  # no filter: nothing to test
    ],
)
def test_a_page_walks_its_sort_index_unless_the_filter_tests_the_sort_key(
    filter: str, sort: str | None, walks: bool
) -> None:
    assert list_query.compile_list_query(filter, sort, None, CONTEXT).walks_sort_index is walks


def test_a_board_by_board_filter_keeps_its_columns_from_every_index_on_sqlite() -> None:
    compiled = list_query.compile_list_query("{name: 'x', tags.name: 'y'}", None, None, CONTEXT)
    assert compiled.filter is not None
    per_board = str(compiled.filter.per_board.compile())
    assert "+ dashboards.name = " in per_board, per_board
    # The label's own columns stay indexable: each board is one probe of the label index.
    assert "dashboard_labels.name = " in per_board, per_board
    postgres = QueryContext(CONTEXT.caller, "postgresql")
    on_postgres = list_query.compile_list_query("{name: 'z'}", None, None, postgres).filter
    assert on_postgres is not None and "+" not in str(on_postgres.per_board.compile())
