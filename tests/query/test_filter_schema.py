"""The `Filter` JSON Schema of the OpenAPI document agrees with the filter compiler.

Schemathesis trusts the schema: what it admits must compile, what it refuses must be a 400.
Here both judge the same documents, well-formed ones (the property test's generator) and
random ones (the fuzzer's). Two refusals lie outside what JSON Schema can say, and are
described in the schema's text instead: the node and depth budget, and RE2's syntax.
"""

from __future__ import annotations

import math
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insightboards.access import Caller
from insightboards.errors import BadRequest
from insightboards.query.fields import QueryContext
from insightboards.query.filter import compile_filter
from insightboards.query.filter_schema import filter_components
from tests.query import test_filter_property, test_fuzz

VALIDATOR = jsonschema_rs.Draft202012Validator(
    {"$ref": "#/components/schemas/Filter", "components": {"schemas": filter_components()}}
)
CONTEXT = QueryContext(Caller("a" * 24, "b" * 24, "admin"), "sqlite")
# Refusals JSON Schema cannot express (the schema's descriptions state them).
_OUTSIDE_THE_SCHEMA = ("more than", "nested deeper", "$regex is not supported")


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _compiler_accepts(document: Any) -> bool | None:
    try:
        compile_filter(document, CONTEXT)
    except BadRequest as error:
        if any(reason in error.detail for reason in _OUTSIDE_THE_SCHEMA):
            return None
        return False
    return True


def _agree(document: Any) -> None:
    accepted = _compiler_accepts(document)
    if accepted is not None:
        assert VALIDATOR.is_valid(document) == accepted, document


@settings(max_examples=400, deadline=None)
@given(document=test_filter_property.filters())
def test_well_formed_filters_are_judged_alike(document: dict[str, Any]) -> None:
    _agree(document)


@settings(max_examples=600, deadline=None)
@given(
    document=st.one_of(
        test_fuzz.json_values, st.dictionaries(test_fuzz.keys, test_fuzz.json_values, max_size=4)
    )
)
def test_random_documents_are_judged_alike(document: Any) -> None:
    if _finite(document):
        _agree(document)


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        ({"name": "okr"}, True),
        ({"name": ["okr"]}, False),
        ({"name": {"$in": ["a", None, {"$date": "2026-01-01"}]}}, True),
        ({"name": {"$in": [["a"]]}}, False),
        ({"tags.name": {"$all": [["a"]]}}, False),
        ({"dateCreated": {"$gte": {"$date": "2026-01-01"}}}, True),
        ({"tags": []}, True),
        ({"tags": {"$in": [[], "x"]}}, True),
        ({"tags": {"$eq": [{"name": "okr"}]}}, False),
        ({"settings": {"$gt": []}}, True),  # found by the random documents above
        ({"settings": {"$gt": [{"name": "s"}]}}, False),
        ({"tags": {"$size": 2.0}}, True),
        ({"tags": {"$all": [{"$elemMatch": {"name": "a"}}]}}, True),
        ({"tags": {"$elemMatch": {}}}, False),
        ({"name": {"$elemMatch": {"a": 1}}}, False),
        ({"access.permissions.grant.general": {"$size": 1}}, False),
        ({"currentUserAllowedActions": {"$size": 1}}, True),
        ({"name": {"$exists": "yes"}}, False),
        ({"name": {"$options": "i"}}, True),
        ({"name": {"$regex": "a", "$options": None}}, False),
        ({"$or": [{"name": "a"}, {"$and": [{"tags.name": "b"}]}]}, True),
        ({"$or": []}, False),
        ({"name": "a\x00"}, False),
        ({"nope": 1}, False),
    ],
)
def test_examples_are_judged_alike(document: dict[str, Any], valid: bool) -> None:
    assert VALIDATOR.is_valid(document) is valid
    assert _compiler_accepts(document) is valid
