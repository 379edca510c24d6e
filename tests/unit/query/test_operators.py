"""The operator tables (query/operators.py): one entry per operator, each compiled against
its target alone. tests/query/test_filter.py asks them through whole filters."""

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa

from insightboards.access import Caller
from insightboards.errors import BadRequest
from insightboards.query.fields import ARRAYS, Kind, QueryContext
from insightboards.query.operands import FIELD_OPERATORS, TRUE, Budget
from insightboards.query.operators import (
    ELEMENT_OPERATORS,
    SCALAR_OPERATORS,
    ElementTarget,
    Target,
    compile_element,
    compile_scalar,
)
from insightboards.tables import dashboards

CONTEXT = QueryContext(Caller("a" * 24, "b" * 24, "member"), "sqlite")


def target(column: sa.ColumnElement[Any], kind: Kind, nullable: bool = False) -> Target:
    return Target("f", kind, column, nullable, True, None, {}, 0, Budget(), "sqlite")


def labels_name(ops: dict[str, Any] | None = None) -> ElementTarget:
    tags = ARRAYS["tags"]
    return ElementTarget("tags.name", tags, tags.fields["name"], ops or {}, 0, Budget(), CONTEXT)


def sql(condition: sa.ColumnElement[bool]) -> str:
    return str(condition.compile(compile_kwargs={"literal_binds": True}))


def test_every_operator_on_a_value_has_an_entry() -> None:
    # $options goes with $regex; $elemMatch is asked of arrays of objects only.
    assert set(SCALAR_OPERATORS) == FIELD_OPERATORS - {"$options", "$elemMatch"}
    assert set(ELEMENT_OPERATORS) < FIELD_OPERATORS


def test_a_comparison_leaves_out_null_values() -> None:
    condition = compile_scalar(target(dashboards.c.layout, Kind.STRING, nullable=True), "$gt", "m")
    assert sql(condition) == "dashboards.layout IS NOT NULL AND dashboards.layout > 'm'"


def test_equality_with_null_on_a_column_that_is_never_null_is_false() -> None:
    assert sql(compile_scalar(target(dashboards.c.name, Kind.STRING), "$eq", None)) == "false"


def test_a_value_of_another_type_matches_nothing() -> None:
    assert sql(compile_scalar(target(dashboards.c.version, Kind.NUMBER), "$gte", "2")) == "false"


def test_an_anchored_literal_regex_is_an_index_range() -> None:
    regex_target = target(dashboards.c.name, Kind.STRING)
    assert sql(compile_scalar(regex_target, "$regex", "^OKR")) == (
        "dashboards.name >= 'OKR' AND dashboards.name < 'OKS'"
    )


def test_not_negates_the_operators_it_holds() -> None:
    version = target(dashboards.c.version, Kind.NUMBER)
    inner = compile_scalar(version, "$lt", 3)
    assert sql(compile_scalar(version, "$not", {"$lt": 3})) == sql(sa.not_(sa.and_(TRUE, inner)))


def test_each_operator_spends_the_budget_and_a_nested_one_goes_deeper() -> None:
    budget = Budget()
    version = Target("v", Kind.NUMBER, dashboards.c.version, False, True, None, {}, 0, budget, "")
    compile_scalar(version, "$nin", [1, 2])  # $nin is $in negated, $in is one condition
    assert budget.nodes == 2
    with pytest.raises(BadRequest, match="nested deeper than"):
        compile_scalar(dataclasses.replace(version, depth=10), "$ne", 1)


def test_an_unknown_operator_is_refused() -> None:
    with pytest.raises(BadRequest, match="unknown operator \\$near on 'f'"):
        compile_scalar(target(dashboards.c.name, Kind.STRING), "$near", 1)
    with pytest.raises(BadRequest, match="\\$elemMatch needs an array of objects"):
        compile_scalar(target(dashboards.c.name, Kind.STRING), "$elemMatch", {"a": 1})


def test_some_element_meets_an_operator_without_an_entry_of_its_own() -> None:
    assert "$gt" not in ELEMENT_OPERATORS
    condition = sql(compile_element(labels_name(), "$gt", "m"))
    assert condition.startswith("dashboards.id IN (SELECT dashboard_labels.dashboard_id")
    assert condition.endswith("AND dashboard_labels.name > 'm')")


def test_ne_on_elements_is_no_element_equal() -> None:
    equal = compile_element(labels_name(), "$eq", "okr")
    assert sql(compile_element(labels_name(), "$ne", "okr")) == sql(sa.not_(equal))


def test_null_on_elements_also_matches_a_board_without_any() -> None:
    # A label's name is never null: only boards without labels match.
    condition = sql(compile_element(labels_name(), "$lte", None))
    assert condition.startswith("(dashboards.id NOT IN (SELECT dashboard_labels.dashboard_id")
    assert condition.endswith("\nFROM dashboard_labels \nWHERE false)")
