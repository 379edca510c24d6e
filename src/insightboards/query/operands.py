"""The values of a filter: its limits, its operator documents, and the operands each
operator takes, checked and typed as the field they are compared with (query/operators.py
compiles the operators, query/filter.py the documents)."""

import math
import re
import sys
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from insightboards.clock import TimestampOutOfRange, normalize_timestamp
from insightboards.errors import BadRequest
from insightboards.query import regex
from insightboards.query.fields import Kind

MAX_DEPTH = 10
MAX_NODES = 500
MAX_IN = 500
# `$all` of `$elemMatch` objects: each is a subquery of its own.
MAX_ELEM_MATCHES = 50
# No array holds more elements than this: a larger `$size` matches nothing (and stays out of
# SQL, where it would overflow SQLite's integers).
MAX_ARRAY_SIZE = 2**31 - 1
SURROGATE = re.compile("[\ud800-\udfff]")

COMPARISONS = {"$gt", "$gte", "$lt", "$lte"}
COMPARED = {"$eq", "$ne", *COMPARISONS}
FIELD_OPERATORS = {
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists",
    "$regex", "$options", "$not", "$elemMatch", "$size", "$all",
}  # fmt: skip
LOGICAL = {"$and", "$or", "$nor"}
STRING_COMPARE: dict[str, Callable[[str, str], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
TRUE: sa.ColumnElement[bool] = sa.true()
FALSE: sa.ColumnElement[bool] = sa.false()
Condition = sa.ColumnElement[bool]


class Budget:
    """Counts nodes so that an oversized filter is refused before it reaches the database."""

    def __init__(self) -> None:
        self.nodes = 0

    def spend(self, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise BadRequest(f"filter: more than {MAX_NODES} conditions")
        if depth > MAX_DEPTH:
            raise BadRequest(f"filter: nested deeper than {MAX_DEPTH} levels")


def normalize_date(value: Any) -> str | None:
    """An ISO 8601 timestamp (or `{"$date": ...}`) in the stored form; None if it is not one."""
    if isinstance(value, dict) and set(value) == {"$date"}:
        value = value["$date"]
    if not isinstance(value, str):
        return None
    try:
        return normalize_timestamp(value)
    except TimestampOutOfRange as error:
        raise BadRequest(f"filter: {error}") from None


def as_typed(kind: Kind, value: Any) -> tuple[bool, Any]:
    """(True, the SQL value) when `value` has the field's type; MongoDB compares only those."""
    if kind is Kind.STRING:
        return isinstance(value, str), value
    if kind is Kind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False, None
        if isinstance(value, int) and abs(value) > 2**53:
            try:
                return True, float(value)
            except OverflowError:  # beyond any double: compares like the largest one
                return True, math.copysign(sys.float_info.max, value)
        return True, value
    if kind is Kind.BOOL:
        return isinstance(value, bool), value
    if kind is Kind.DATE:
        normalized = normalize_date(value)
        return normalized is not None, normalized
    return False, None


def as_bound(kind: Kind, value: Any) -> Any:
    """A typed value as a bound parameter. Numbers carry their own SQL type: bound as the
    column's (a 32-bit integer), 2**40 would overflow on PostgreSQL instead of comparing."""
    if kind is Kind.NUMBER:
        return sa.literal(value, sa.BigInteger() if isinstance(value, int) else sa.Float())
    return value


def checked_operand(path: str, op: str, value: Any) -> Any:
    """A value to compare with: a string, number, boolean, null, or `{"$date": "..."}`.

    Nothing stored under a path that takes operators is an array or an object, so comparing
    one with such a value is a mistake (arrays of objects are asked with `$elemMatch`)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest("filter: numbers must be finite")
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict) and set(value) == {"$date"} and isinstance(value["$date"], str):
        return value
    raise BadRequest(
        f"filter: {op} on '{path}' takes a string, number, boolean, null or {{$date: ...}}"
    )


def checked_operands(path: str, op: str, value: Any) -> list[Any]:
    return [checked_operand(path, op, item) for item in as_list(op, value)]


def distinct_values(kind: Kind, values: list[Any]) -> list[Any]:
    """The distinct values `values` compare as on a field of `kind` (1 and 1.0 are one,
    so are two spellings of one timestamp); [] when one of them can never be equal."""
    seen: dict[Any, Any] = {}
    for value in values:
        if value is None:
            seen.setdefault(None, None)
            continue
        ok, typed = as_typed(kind, value)
        if not ok:
            return []
        seen.setdefault(typed, typed)
    return list(seen.values())


def is_empty_array(path: str, value: Any) -> bool:
    """What a whole array of objects may be compared with: `[]`, or a value it never equals."""
    if isinstance(value, list) and not value:
        return True
    if isinstance(value, (dict, list)):
        raise BadRequest(f"filter: '{path}' holds objects; use $elemMatch or dotted paths")
    checked_operand(path, "$eq", value)
    return False


def exists_operand(path: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value != 0
    raise BadRequest(f"filter: $exists on '{path}' takes true or false")


def regex_operand(operator: str, value: Any, options: Any) -> tuple[str, str]:
    if not isinstance(value, str):
        raise BadRequest(f"filter: {operator} takes a string pattern")
    if not isinstance(options, str):
        raise BadRequest("filter: $options takes a string")
    regex.validate(value, options)
    return value, options


def as_list(operator: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequest(f"filter: {operator} takes an array")
    if len(value) > MAX_IN:
        raise BadRequest(f"filter: {operator} takes at most {MAX_IN} values")
    return value


def operator_document(path: str, value: Any) -> dict[str, Any]:
    """The operator document for a path: `{$gt: 1}` as is, a plain value as `{$eq: v}`."""
    if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
        for key in value:
            if key not in FIELD_OPERATORS:
                raise BadRequest(f"filter: unknown operator {key} on '{path}'")
        if "$options" in value and "$regex" not in value:
            # Options for no pattern change nothing (MongoDB refuses them; a generated
            # request cannot tell, as JSON Schema's dependentRequired is rarely honoured).
            if not isinstance(value["$options"], str):
                raise BadRequest("filter: $options takes a string")
            regex.validate_options(value["$options"])
        return value
    if isinstance(value, dict):
        if any(k.startswith("$") for k in value):
            raise BadRequest(f"filter: '{path}' mixes operators and fields")
        raise BadRequest(
            f"filter: '{path}' compared with a whole object; compare its fields with "
            "dotted paths instead"
        )
    return {"$eq": value}


def check_size(operand: Any) -> int:
    """A whole number of elements: `2` or `2.0`, as in JSON Schema and MongoDB."""
    if isinstance(operand, float) and operand.is_integer():
        operand = int(operand)
    if isinstance(operand, bool) or not isinstance(operand, int) or operand < 0:
        raise BadRequest("filter: $size takes a whole number")
    return operand
