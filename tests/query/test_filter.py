"""The filter parser and compiler: every operator compiles, every error is a clear 400."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from insightboards.access import Caller
from insightboards.errors import BadRequest
from insightboards.query import regex
from insightboards.query.fields import QueryContext, board_columns_tested, known_paths
from insightboards.query.filter import compile_filter, label_rows_condition
from insightboards.query.operands import MAX_DEPTH, MAX_IN, MAX_NODES
from insightboards.query.relaxed_json import parse

CONTEXT = QueryContext(Caller("a" * 24, "b" * 24, "member"), "sqlite")


def sql(document: dict[str, Any]) -> str:
    return str(compile_filter(document, CONTEXT).compile(compile_kwargs={"literal_binds": True}))


# --- relaxed JSON ---------------------------------------------------------------------------


def test_relaxed_json_accepts_the_vendor_forms() -> None:
    assert parse('{name: {$in: ["sales","marketing"]}}') == {
        "name": {"$in": ["sales", "marketing"]}
    }
    assert parse("{_id: '5be26318e5274a0007f17f61'}") == {"_id": "5be26318e5274a0007f17f61"}
    assert parse('{tags.name: "okr", n: -1.5e3, x: null, y: true,}') == {
        "tags.name": "okr",
        "n": -1500.0,
        "x": None,
        "y": True,
    }
    assert parse('{"quoted key": [1, [2], {}]}') == {"quoted key": [1, [2], {}]}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "unexpected end"),
        ("{", "expected a key"),
        ("{a}", "expected ':'"),
        ("{a:}", "expected a value"),
        ("[1 2]", "expected ',' or ']'"),
        ("{a:1} x", "unexpected text"),
        ("{a:'open", "unterminated string"),
        ("[" * 40 + "]" * 40, "nested deeper"),
    ],
)
def test_relaxed_json_errors_name_the_position(text: str, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        parse(text)


# --- operators ------------------------------------------------------------------------------

EVERY_OPERATOR = [
    {"name": "x"},
    {"name": {"$eq": "x"}},
    {"name": {"$ne": "x"}},
    {"version": {"$gt": 1, "$lt": 5}},
    {"dateCreated": {"$gte": "2026-01-01", "$lte": {"$date": "2027-01-01T00:00:00Z"}}},
    {"tag": {"$in": ["a", "b", None]}},
    {"tag": {"$nin": ["a"]}},
    {"layout": {"$exists": True}},
    {"name": {"$regex": "^OKR", "$options": "i"}},
    {"name": {"$not": {"$regex": "x"}}},
    {"tags": {"$elemMatch": {"name": "okr", "isActive": True}}},
    {"tags": {"$size": 2}},
    {"tags.name": {"$all": ["okr", "kpi"]}},
    {"tags": {"$all": [{"$elemMatch": {"name": "okr"}}]}},
    {"$and": [{"archived": False}, {"isReport": False}]},
    {"$or": [{"name": "a"}, {"tags.name": "b"}]},
    {"$nor": [{"name": "a"}]},
    {"currentUserAllowedActions": "update"},
    {"access.permissions": {"$elemMatch": {"principalKind": "team", "grant.general": "read"}}},
    {"_id": "5be26318e5274a0007f17f61"},
]


@pytest.mark.parametrize("document", EVERY_OPERATOR)
def test_every_operator_compiles_with_values_bound_not_inlined(document: dict[str, Any]) -> None:
    text = str(compile_filter(document, CONTEXT).compile())
    for value in ("'x'", "'okr'", "OKR"):
        assert value not in text, "user values are bound parameters"


def test_every_catalogued_path_compiles() -> None:
    for path in known_paths():
        assert compile_filter({path: {"$exists": True}}, CONTEXT) is not None


def test_id_and__id_are_the_same_field() -> None:
    assert sql({"id": "abc"}) == sql({"_id": "abc"})


def test_label_filters_find_boards_from_the_label_index() -> None:
    text = sql({"tags.name": "okr"})
    assert "dashboards.id IN (SELECT dashboard_labels.dashboard_id" in text


def test_anchored_literal_regex_becomes_a_range() -> None:
    assert "dashboards.name >= 'OKR' AND dashboards.name < 'OKS'" in sql(
        {"name": {"$regex": "^OKR"}}
    )
    assert "REGEXP" not in sql({"name": {"$regex": "^OKR"}})
    assert "REGEXP" in sql({"name": {"$regex": "^OKR.*board"}})
    assert "REGEXP" in sql({"name": {"$regex": "^okr", "$options": "i"}})


def test_a_literal_regex_is_a_substring_test() -> None:
    assert "instr(dashboards.name, '50%_off') > 0" in sql({"name": {"$regex": "50%_off"}})
    assert "REGEXP" in sql({"name": {"$regex": "50.off"}})
    assert "REGEXP" in sql({"name": {"$regex": "off", "$options": "i"}})
    postgres = QueryContext(CONTEXT.caller, "postgresql")
    compiled = compile_filter({"name": {"$regex": "off"}}, postgres)
    assert "strpos(dashboards.name, 'off') > 0" in str(
        compiled.compile(compile_kwargs={"literal_binds": True})
    )


def label_rows_sql(document: dict[str, Any]) -> str | None:
    condition = label_rows_condition(document, CONTEXT)
    if condition is None:
        return None
    return str(condition.compile(compile_kwargs={"literal_binds": True}))


def test_a_filter_for_one_kind_of_label_is_a_condition_on_label_rows() -> None:
    assert label_rows_sql({"tags.name": "okr"}) == "dashboard_labels.name = 'okr'"
    assert "dashboard_labels.name IN ('a', 'b')" in (
        label_rows_sql({"tags.name": {"$in": ["a", "b"]}}) or ""
    )
    assert "REGEXP" in (label_rows_sql({"tags.title": {"$regex": "^o", "$options": "i"}}) or "")
    elem = label_rows_sql({"tags": {"$elemMatch": {"name": "okr", "isActive": True}}}) or ""
    assert "dashboard_labels.name = 'okr'" in elem and "dashboard_labels.is_active" in elem
    assert "EXISTS" not in elem and "dashboards." not in elem


@pytest.mark.parametrize(
    "document",
    [
        {"tags.name": None},  # also boards without labels
        {"tags.name": {"$in": ["a", None]}},
        {"tags.name": {"$ne": "okr"}},  # about all of a board's labels
        {"tags.name": {"$nin": ["okr"]}},
        {"tags.name": {"$not": {"$eq": "okr"}}},
        {"tags.name": {"$exists": True}},
        {"tags.name": {"$all": ["a", "b"]}},  # two labels, maybe different ones
        {"tags.name": {"$gte": "a", "$lte": "b"}},
        {"tags": {"$size": 1}},
        {"tags.name": "okr", "archived": False},  # also a board field
        {"$or": [{"tags.name": "a"}, {"tags.name": "b"}]},
        {"insights.insightId": "i1"},
    ],
)
def test_other_filters_are_not_label_conditions(document: dict[str, Any]) -> None:
    assert label_rows_sql(document) is None


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "must be an object"),
        ({"nope": 1}, "unknown field 'nope'"),
        ({"tags.nope": 1}, "unknown field 'tags.nope'"),
        ({"tags": {"$elemMatch": {"nope": 1}}}, "unknown field 'tags.nope'"),
        ({"$where": "1"}, "unknown operator \\$where"),
        ({"name": {"$foo": 1}}, "unknown operator \\$foo"),
        ({"name": {"$options": "x"}}, "only i, m and s"),
        ({"name": {"$options": 1}}, "takes a string"),
        ({"name": {"$regex": 5}}, "takes a string pattern"),
        ({"name": {"$regex": "a", "$options": "x"}}, "only i, m and s"),
        ({"name": {"$regex": "(a)\\1"}}, "not supported"),
        ({"name": {"$regex": "a" * (regex.MAX_PATTERN_LENGTH + 1)}}, "longer than"),
        ({"name": {"$in": "a"}}, "takes an array"),
        ({"name": {"$in": list(range(MAX_IN + 1))}}, f"at most {MAX_IN}"),
        ({"name": {"$not": "a"}}, "takes an operator object"),
        ({"tags": {"$size": -1}}, "whole number"),
        ({"tags": {"$elemMatch": []}}, "non-empty object"),
        ({"tags": {"$all": ["a"]}}, "takes \\$elemMatch objects"),
        ({"tags": {"$regex": "a"}}, "not supported on 'tags'"),
        ({"tags": {"name": "a"}}, "whole object"),
        ({"name": {"$gt": 1, "plain": 2}}, "mixes operators and fields"),
        ({"$and": []}, "non-empty array"),
        ({"$or": [1]}, "non-empty array of objects"),
        ({"version": {"$gt": float("nan")}}, "finite"),
        ({"access.permissions.grant.general": {"$size": 1}}, "not supported"),
    ],
)
def test_errors_are_400s_that_say_what_is_wrong(document: Any, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        compile_filter(document, CONTEXT)


def test_size_and_depth_limits() -> None:
    deep: dict[str, Any] = {"name": "x"}
    for _ in range(MAX_DEPTH + 1):
        deep = {"$and": [deep]}
    with pytest.raises(BadRequest, match="nested deeper"):
        compile_filter(deep, CONTEXT)
    wide = {"$or": [{"name": str(n)} for n in range(MAX_NODES + 1)]}
    with pytest.raises(BadRequest, match=f"more than {MAX_NODES}"):
        compile_filter(wide, CONTEXT)


def test_postgres_regex_keeps_mongodb_line_rules() -> None:
    # `.` never a newline but with s, `^` a line's start with m, as RE2 reads them.
    assert regex.postgres_pattern("^a.b", "") == "(?<=^)a[^\\u000a]b"
    assert regex.postgres_pattern("^a", "im") == "(?<=^|\\u000a)[Aa]"
    assert regex.postgres_pattern("a.", "s") == "a[\\u0000-\\U0010ffff]"
    assert regex.postgres_pattern("a$", "ms") == "a(?=$|\\u000a)"


def test_type_mismatches_compare_nothing_as_in_mongodb() -> None:
    # A number never equals a string field: the column is not even consulted.
    assert "dashboards.name" not in sql({"name": 5})
    assert "dashboards.name" in sql({"name": "5"})


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"tags.name": "okr"}, set()),
        ({"insights.insightId": {"$in": ["a", "b"]}}, set()),
        ({"$and": [{"archived": False}, {"access.permissions.principalId": "u"}]}, {"archived"}),
        ({"$or": [{"tags.name": "a"}, {"name": "b"}]}, {"name"}),
        ({"tags": {"$size": 0}}, set()),
        ({"settings.name": "s"}, set()),
        ({"name": "x", "createdById": "u"}, {"name", "created_by_id"}),
        ({"dateCreated": {"$gt": "2026-01-01"}}, {"date_created"}),
        ({"_id": "x"}, {"id"}),
    ],
)
def test_which_board_columns_a_filter_tests_itself(
    document: dict[str, Any], expected: set[str]
) -> None:
    """What decides whether a page may walk a sort's index (list_query.walks_sort_index):
    columns of dashboards, not those inside a label, item or grant subquery."""
    board_by_board = replace(CONTEXT, child_rows_drive=False)
    assert board_columns_tested(compile_filter(document, board_by_board)) == expected
