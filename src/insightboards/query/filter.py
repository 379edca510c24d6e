"""MongoDB-style filters, compiled to one SQL predicate over `dashboards`.

`compile_filter(document, context)` returns a boolean SQL expression. Every value is a bound
parameter; every path is looked up in the field catalogue (fields.py). Array paths follow
MongoDB: `{"tags.name": "okr"}` matches a board with any label named okr; each operator on
an array path may be met by a different element, `$elemMatch` asks one element for all.
Every expression produced here is two-valued (never SQL NULL), so `$not` and `$nor` are
plain negations.
"""

import dataclasses
import math
import re
import sys
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from insightboards import sqlite_functions
from insightboards.access import ACTION_BITS
from insightboards.clock import TimestampOutOfRange, normalize_timestamp
from insightboards.errors import BadRequest
from insightboards.query import regex
from insightboards.query.fields import (
    ANY_ARRAY,
    ARRAYS,
    SCALARS,
    ArrayOfObjects,
    ElementField,
    JsonArrayOfObjects,
    Kind,
    QueryContext,
    Scalar,
)

MAX_DEPTH = 10
MAX_NODES = 500
MAX_IN = 500
# `$all` of `$elemMatch` objects: each is a subquery of its own.
MAX_ELEM_MATCHES = 50
# No array holds more elements than this: a larger `$size` matches nothing (and stays out of
# SQL, where it would overflow SQLite's integers).
MAX_ARRAY_SIZE = 2**31 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")

_COMPARISONS = {"$gt", "$gte", "$lt", "$lte"}
_COMPARED = {"$eq", "$ne", *_COMPARISONS}
_FIELD_OPERATORS = {
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists",
    "$regex", "$options", "$not", "$elemMatch", "$size", "$all",
}  # fmt: skip
_LOGICAL = {"$and", "$or", "$nor"}
_STRING_COMPARE: dict[str, Callable[[str, str], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
Array = ArrayOfObjects | JsonArrayOfObjects
TRUE: sa.ColumnElement[bool] = sa.true()
FALSE: sa.ColumnElement[bool] = sa.false()
Condition = sa.ColumnElement[bool]


class _Budget:
    """Counts nodes so that an oversized filter is refused before it reaches the database."""

    def __init__(self) -> None:
        self.nodes = 0

    def spend(self, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise BadRequest(f"filter: more than {MAX_NODES} conditions")
        if depth > MAX_DEPTH:
            raise BadRequest(f"filter: nested deeper than {MAX_DEPTH} levels")


def compile_filter(document: Any, context: QueryContext) -> Condition:
    """The SQL predicate of a filter document; BadRequest naming the first problem."""
    if not isinstance(document, dict):
        raise BadRequest("filter: must be an object")
    _reject_bad_text(document)
    return _Compiler(context).document(document, depth=0)


# The operators that one label must meet on its own (each is one "some label such that").
_ONE_LABEL = {"$eq", "$in", "$gt", "$gte", "$lt", "$lte", "$regex", "$elemMatch"}


def label_rows_condition(document: Any, context: QueryContext) -> Condition | None:
    """When `document` asks only that a board have a label meeting one condition
    (`{"tags.name": "okr"}`, `{"tags": {"$elemMatch": ...}}`), that condition over rows of
    dashboard_labels: the boards it matches are those rows' boards, which the label index
    counts without visiting a board. None for any other filter. `document` compiles."""
    if not isinstance(document, dict) or len(document) != 1:
        return None
    ((path, value),) = document.items()
    if path == "tags":
        if not (isinstance(value, dict) and set(value) == {"$elemMatch"}):
            return None
    elif path.startswith("tags.") and path[len("tags.") :] in ARRAYS["tags"].fields:
        ops = _Compiler.operators(path, value)
        asked = {op: operand for op, operand in ops.items() if op != "$options"}
        if len(asked) != 1:
            return None
        ((op, operand),) = asked.items()
        # A null also matches boards without labels; $ne, $nin, $not and $exists are about
        # all of a board's labels; $all and $size about several.
        if op not in _ONE_LABEL or operand is None:
            return None
        if op == "$in" and (not isinstance(operand, list) or None in operand):
            return None
    else:
        return None
    return compile_filter(document, dataclasses.replace(context, element_rows=True))


# Operators whose every match must have a matching label, item or grant.
_POSITIVE = {"$eq", "$in", "$all", "$gt", "$gte", "$lt", "$lte", "$regex", "$options", "$elemMatch"}


def starts_from_child_table(document: dict[str, Any]) -> bool:
    """Whether the filter requires a matching label, item or grant of every board it matches.

    Such a filter can find its boards from the child table's index, visiting every match, or
    walk the sort's index testing each board: repository.list_page chooses.
    """
    for key, value in document.items():
        if key == "$and" and isinstance(value, list):
            if any(isinstance(part, dict) and starts_from_child_table(part) for part in value):
                return True
        elif any(key == name or key.startswith(name + ".") for name in ARRAYS):
            if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
                in_values = value.get("$in", [])
                if (
                    set(value) <= _POSITIVE
                    and value.get("$eq", "") is not None
                    and not (isinstance(in_values, list) and None in in_values)
                ):
                    return True
            elif value is not None and not isinstance(value, (dict, list)):
                return True
    return False


def _reject_bad_text(document: Any) -> None:
    """No stored text holds NUL or a lone surrogate, and neither can be bound as a parameter
    (PostgreSQL refuses NUL; no driver encodes a surrogate): a 400, early."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise BadRequest("filter: text may not contain NUL characters")
            if _SURROGATE.search(value):
                raise BadRequest("filter: text may not contain lone surrogates (\\ud800-\\udfff)")
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


# --- values ------------------------------------------------------------------------------


def _normalize_date(value: Any) -> str | None:
    """An ISO 8601 timestamp (or `{"$date": ...}`) in the stored form; None if it is not one."""
    if isinstance(value, dict) and set(value) == {"$date"}:
        value = value["$date"]
    if not isinstance(value, str):
        return None
    try:
        return normalize_timestamp(value)
    except TimestampOutOfRange as error:
        raise BadRequest(f"filter: {error}") from None


def _typed(kind: Kind, value: Any) -> tuple[bool, Any]:
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
        normalized = _normalize_date(value)
        return normalized is not None, normalized
    return False, None


def _bound(kind: Kind, value: Any) -> Any:
    """A typed value as a bound parameter. Numbers carry their own SQL type: bound as the
    column's (a 32-bit integer), 2**40 would overflow on PostgreSQL instead of comparing."""
    if kind is Kind.NUMBER:
        return sa.literal(value, sa.BigInteger() if isinstance(value, int) else sa.Float())
    return value


def _operand(path: str, op: str, value: Any) -> Any:
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


def _operands(path: str, op: str, value: Any) -> list[Any]:
    return [_operand(path, op, item) for item in _as_list(op, value)]


def _distinct(kind: Kind, values: list[Any]) -> list[Any]:
    """The distinct values `values` compare as on a field of `kind` (1 and 1.0 are one,
    so are two spellings of one timestamp); [] when one of them can never be equal."""
    seen: dict[Any, Any] = {}
    for value in values:
        if value is None:
            seen.setdefault(None, None)
            continue
        ok, typed = _typed(kind, value)
        if not ok:
            return []
        seen.setdefault(typed, typed)
    return list(seen.values())


def _is_empty_array(path: str, value: Any) -> bool:
    """What a whole array of objects may be compared with: `[]`, or a value it never equals."""
    if isinstance(value, list) and not value:
        return True
    if isinstance(value, (dict, list)):
        raise BadRequest(f"filter: '{path}' holds objects; use $elemMatch or dotted paths")
    _operand(path, "$eq", value)
    return False


def _exists_operand(path: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value != 0
    raise BadRequest(f"filter: $exists on '{path}' takes true or false")


def _regex_operand(operator: str, value: Any, options: Any) -> tuple[str, str]:
    if not isinstance(value, str):
        raise BadRequest(f"filter: {operator} takes a string pattern")
    if not isinstance(options, str):
        raise BadRequest("filter: $options takes a string")
    regex.validate(value, options)
    return value, options


def _as_list(operator: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequest(f"filter: {operator} takes an array")
    if len(value) > MAX_IN:
        raise BadRequest(f"filter: {operator} takes at most {MAX_IN} values")
    return value


# --- the compiler ------------------------------------------------------------------------


class _Compiler:
    def __init__(self, context: QueryContext) -> None:
        self.context = context
        self.budget = _Budget()

    # documents and logical operators

    def document(
        self,
        document: dict[str, Any],
        depth: int,
        path_condition: Callable[[str, Any, int], Condition] | None = None,
    ) -> Condition:
        path_condition = path_condition or self.path
        conditions = []
        for key, value in document.items():
            self.budget.spend(depth)
            if key in _LOGICAL:
                conditions.append(self.logical(key, value, depth, path_condition))
            elif key.startswith("$"):
                raise BadRequest(f"filter: unknown operator {key}")
            else:
                conditions.append(path_condition(key, value, depth))
        return sa.and_(TRUE, *conditions) if conditions else TRUE

    def logical(
        self,
        operator: str,
        value: Any,
        depth: int,
        path_condition: Callable[[str, Any, int], Condition],
    ) -> Condition:
        if not isinstance(value, list) or not value:
            raise BadRequest(f"filter: {operator} takes a non-empty array of objects")
        parts = []
        for part in value:
            if not isinstance(part, dict):
                raise BadRequest(f"filter: {operator} takes a non-empty array of objects")
            parts.append(self.document(part, depth + 1, path_condition))
        if operator == "$and":
            return sa.and_(*parts)
        if operator == "$or":
            return sa.or_(*parts)
        return sa.not_(sa.or_(*parts))

    @staticmethod
    def operators(path: str, value: Any) -> dict[str, Any]:
        """The operator document for a path: `{$gt: 1}` as is, a plain value as `{$eq: v}`."""
        if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
            for key in value:
                if key not in _FIELD_OPERATORS:
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

    def path(self, path: str, value: Any, depth: int) -> Condition:
        if path in SCALARS:
            return self.on_scalar(path, SCALARS[path], value, depth)
        if path in ANY_ARRAY:
            return self.on_array(path, ANY_ARRAY[path], value, depth)
        for array_name, array in ANY_ARRAY.items():
            if path.startswith(array_name + "."):
                sub = path[len(array_name) + 1 :]
                if sub in array.fields:
                    return self.on_element_field(path, array, array.fields[sub], value, depth)
        raise BadRequest(f"filter: unknown field '{path}'")

    # scalars

    def on_scalar(self, path: str, spec: Scalar, value: Any, depth: int) -> Condition:
        expression = spec.expression(self.context)
        present = spec.present(self.context) if spec.present else None
        ops = self.operators(path, value)
        return sa.and_(
            TRUE,
            *(
                self.scalar_op(path, op, operand, ops, spec.kind, expression, spec.nullable,
                               spec.is_column, present, depth)
                for op, operand in ops.items()
                if op != "$options"
            ),
        )  # fmt: skip

    def scalar_op(
        self,
        path: str,
        op: str,
        operand: Any,
        ops: dict[str, Any],
        kind: Kind,
        column: sa.ColumnElement[Any],
        nullable: bool,
        is_column: bool,
        present: Condition | None,
        depth: int,
    ) -> Condition:
        """One operator on one value: the building block of every comparison."""
        self.budget.spend(depth)

        def again(other_op: str, other: Any) -> Condition:
            return self.scalar_op(
                path, other_op, other, ops, kind, column, nullable, is_column, present, depth + 1
            )

        not_null = column.is_not(None) if nullable else TRUE
        if op in _COMPARED:
            _operand(path, op, operand)
        if op == "$eq":
            if operand is None:
                is_null = column.is_(None) if nullable else FALSE
                return sa.or_(is_null, sa.not_(present)) if present is not None else is_null
            if kind is Kind.ACTIONS:
                return self.actions_match(column, [operand])
            ok, sql_value = _typed(kind, operand)
            if not ok:
                return FALSE
            if kind is Kind.BOOL and not is_column:
                return column if sql_value else sa.not_(column)
            return sa.and_(not_null, column == _bound(kind, sql_value))
        if op == "$ne":
            return sa.not_(again("$eq", operand))
        if op in _COMPARISONS:
            if operand is None:
                return again("$eq", None) if op in ("$gte", "$lte") else FALSE
            if kind is Kind.ACTIONS:
                # Action names compare as strings: pick the names that satisfy the comparison.
                if not isinstance(operand, str):
                    return FALSE
                names = [a for a in ACTION_BITS if _STRING_COMPARE[op](a, operand)]
                return self.actions_match(column, names)
            ok, sql_value = _typed(kind, operand)
            if not ok:
                return FALSE
            if kind is Kind.BOOL:
                # false < true: each comparison is an equality, or always/never true.
                if (op, sql_value) in (("$gt", True), ("$lt", False)):
                    return FALSE
                if (op, sql_value) in (("$gte", False), ("$lte", True)):
                    return TRUE
                return again("$eq", op in ("$gt", "$gte"))
            bound = _bound(kind, sql_value)
            compare = {"$gt": column > bound, "$gte": column >= bound,
                       "$lt": column < bound, "$lte": column <= bound}[op]  # fmt: skip
            return sa.and_(not_null, compare)
        if op == "$in":
            values = _operands(path, op, operand)
            if kind is Kind.ACTIONS:
                return self.actions_match(column, values, any_of=True)
            # Distinct values: `[true, true, ...]` is one comparison, not hundreds.
            typed = list(
                dict.fromkeys(
                    v for ok, v in (_typed(kind, x) for x in values if x is not None) if ok
                )
            )
            parts = []
            if typed and not (kind is Kind.BOOL and not is_column):
                parts.append(sa.and_(not_null, column.in_([_bound(kind, v) for v in typed])))
            elif typed:
                parts.extend(again("$eq", v) for v in typed)
            if None in values:
                parts.append(again("$eq", None))
            return sa.or_(FALSE, *parts)
        if op == "$nin":
            return sa.not_(again("$in", operand))
        if op == "$exists":
            exists = present if present is not None else TRUE
            return exists if _exists_operand(path, operand) else sa.not_(exists)
        if op == "$regex":
            pattern, options = _regex_operand(op, operand, ops.get("$options", ""))
            if kind is Kind.ACTIONS:
                return self.actions_regex(column, pattern, options)
            if kind is not Kind.STRING:
                return FALSE
            match = self.regex_match(column, pattern, options)
            prefix, whole = regex.literal_prefix(pattern, options)
            if prefix and is_column:
                # An anchored literal prefix is an index range; alone, it is the whole test.
                in_range = sa.and_(column >= prefix, column < regex.next_string(prefix))
                return in_range if whole else sa.and_(in_range, match)
            return sa.and_(not_null, match)
        if op == "$not":
            if isinstance(operand, dict) and operand and all(k.startswith("$") for k in operand):
                inner = self.operators(path, operand)
                return sa.not_(
                    sa.and_(TRUE, *(self.scalar_op(path, o, v, inner, kind, column, nullable,
                                                   is_column, present, depth + 1)
                                    for o, v in inner.items() if o != "$options"))
                )  # fmt: skip
            raise BadRequest(f"filter: $not on '{path}' takes an operator object")
        if op == "$all":
            values = _operands(path, op, operand)
            if kind is Kind.ACTIONS:
                return self.actions_match(column, values, any_of=False) if values else FALSE
            # One value equals all of them only if they are all the same value.
            same = _distinct(kind, values)
            return again("$eq", same[0]) if len(same) == 1 else FALSE
        if op == "$size":
            self.check_size(operand)
            return FALSE
        if op == "$elemMatch":
            raise BadRequest(f"filter: $elemMatch needs an array of objects; '{path}' is not one")
        raise BadRequest(f"filter: unknown operator {op} on '{path}'")

    @staticmethod
    def check_size(operand: Any) -> int:
        """A whole number of elements: `2` or `2.0`, as in JSON Schema and MongoDB."""
        if isinstance(operand, float) and operand.is_integer():
            operand = int(operand)
        if isinstance(operand, bool) or not isinstance(operand, int) or operand < 0:
            raise BadRequest("filter: $size takes a whole number")
        return operand

    def regex_match(self, column: sa.ColumnElement[Any], pattern: str, options: str) -> Condition:
        text = regex.literal_text(pattern, options)
        if text is not None:  # code points, case-sensitive, no wildcards (unlike LIKE)
            position = sa.func.strpos if self.context.dialect == "postgresql" else sa.func.instr
            return position(column, text) > 0
        if self.context.dialect == "postgresql":
            return column.bool_op("~")(regex.postgres_pattern(pattern, options))
        return column.bool_op("REGEXP")(regex.re2_pattern(pattern, options))

    @staticmethod
    def actions_match(
        column: sa.ColumnElement[Any], values: list[Any], any_of: bool = True
    ) -> Condition:
        """An action-set column holds any (or all) of the named actions."""
        bits = [ACTION_BITS[v] for v in values if isinstance(v, str) and v in ACTION_BITS]
        if not any_of and len(bits) < len(values):
            return FALSE
        if not bits:
            return FALSE
        mask = sum(set(bits))
        if any_of:
            return column.op("&")(mask) != 0
        return column.op("&")(mask) == mask

    def actions_regex(self, column: sa.ColumnElement[Any], pattern: str, options: str) -> Condition:
        names = [
            a
            for a in ACTION_BITS
            if sqlite_functions.regexp(regex.re2_pattern(pattern, options), a)
        ]
        return self.actions_match(column, names)

    # arrays of objects

    def on_array(self, path: str, array: Array, value: Any, depth: int) -> Condition:
        ops = self.operators(path, value)
        conditions = []
        for op, operand in ops.items():
            self.budget.spend(depth)
            if op == "$size":
                size = self.check_size(operand)
                count = array.scope(self.context).count()
                conditions.append(count == size if size <= MAX_ARRAY_SIZE else FALSE)
            elif op == "$exists":
                conditions.append(TRUE if _exists_operand(path, operand) else FALSE)
            elif op == "$elemMatch":
                conditions.append(self.elem_match(path, array, operand, depth + 1))
            elif op == "$all":
                values = _as_list(op, operand)
                if not values or not all(
                    isinstance(v, dict) and set(v) == {"$elemMatch"} for v in values
                ):
                    raise BadRequest(f"filter: $all on '{path}' takes $elemMatch objects")
                if len(values) > MAX_ELEM_MATCHES:
                    raise BadRequest(
                        f"filter: $all on '{path}' takes at most {MAX_ELEM_MATCHES} objects"
                    )
                conditions.extend(
                    self.elem_match(path, array, v["$elemMatch"], depth + 1) for v in values
                )
            elif op in ("$eq", "$ne"):
                equal = self.array_equals(path, array, operand)
                conditions.append(equal if op == "$eq" else sa.not_(equal))
            elif op in ("$in", "$nin"):
                # Each value is `[]` (no elements) or one that never matches: one test at most.
                empties = [_is_empty_array(path, v) for v in _as_list(op, operand)]
                equal_any = self.array_equals(path, array, []) if any(empties) else FALSE
                conditions.append(equal_any if op == "$in" else sa.not_(equal_any))
            elif op in _COMPARISONS:
                # Objects never compare with a value (MongoDB compares types first).
                _is_empty_array(path, operand)
                conditions.append(FALSE)
            else:
                raise BadRequest(f"filter: {op} is not supported on '{path}'")
        return sa.and_(TRUE, *conditions)

    def array_equals(self, path: str, array: Array, value: Any) -> Condition:
        """A whole array of objects equals `[]` when it has no elements, and never a value."""
        if _is_empty_array(path, value):
            return sa.not_(array.scope(self.context).exists(TRUE))
        return FALSE

    def elem_match(self, path: str, array: Array, operand: Any, depth: int) -> Condition:
        if not isinstance(operand, dict) or not operand:
            raise BadRequest(f"filter: $elemMatch on '{path}' takes a non-empty object")

        scope = array.scope(self.context)

        def element_condition(sub: str, value: Any, inner_depth: int) -> Condition:
            field = array.fields.get(sub)
            if field is None:
                raise BadRequest(f"filter: unknown field '{path}.{sub}'")
            ops = self.operators(f"{path}.{sub}", value)
            return sa.and_(
                TRUE,
                *(
                    self.scalar_op(f"{path}.{sub}", op, v, ops, field.kind, scope.column(field),
                                   field.nullable, True, None, inner_depth)
                    for op, v in ops.items()
                    if op != "$options"
                ),
            )  # fmt: skip

        return scope.exists(self.document(operand, depth, element_condition))

    def on_element_field(
        self, path: str, array: Array, field: ElementField, value: Any, depth: int
    ) -> Condition:
        """A field of the elements of an array: true when any element matches (MongoDB)."""
        ops = self.operators(path, value)
        conditions = []
        for op, operand in ops.items():
            if op == "$options":
                continue
            self.budget.spend(depth)
            conditions.append(self.element_op(path, array, field, op, operand, ops, depth))
        return sa.and_(TRUE, *conditions)

    def element_op(
        self,
        path: str,
        array: Array,
        field: ElementField,
        op: str,
        operand: Any,
        ops: dict[str, Any],
        depth: int,
    ) -> Condition:
        def any_element(element_op: str, element_operand: Any) -> Condition:
            scope = array.scope(self.context)
            condition = self.scalar_op(
                path, element_op, element_operand, ops, field.kind,
                scope.column(field), field.nullable, True, None, depth + 1,
            )  # fmt: skip
            return scope.exists(condition)

        if op in ("$gte", "$lte") and operand is None:
            op = "$eq"  # as in MongoDB, null is only ever equal to null
        if op == "$eq" and operand is None:
            # No element at all, or one whose field is null.
            no_elements = sa.not_(array.scope(self.context).exists(TRUE))
            return sa.or_(no_elements, any_element("$eq", None))
        if op == "$ne":
            return sa.not_(self.element_op(path, array, field, "$eq", operand, ops, depth))
        if op == "$nin":
            return sa.not_(self.element_op(path, array, field, "$in", operand, ops, depth))
        if op == "$in":
            values = _as_list(op, operand)
            parts = [any_element("$in", [v for v in values if v is not None])]
            if None in values:
                parts.append(self.element_op(path, array, field, "$eq", None, ops, depth))
            return sa.or_(*parts)
        if op == "$exists":
            # Every element carries every field (null when unset), as the responses show.
            exists = array.scope(self.context).exists(TRUE)
            return exists if _exists_operand(path, operand) else sa.not_(exists)
        if op == "$not":
            if not (isinstance(operand, dict) and operand):
                raise BadRequest(f"filter: $not on '{path}' takes an operator object")
            inner = self.operators(path, operand)
            return sa.not_(
                sa.and_(TRUE, *(self.element_op(path, array, field, o, v, inner, depth + 1)
                                for o, v in inner.items() if o != "$options"))
            )  # fmt: skip
        if op == "$all":
            values = _operands(path, op, operand)
            if field.kind is Kind.ACTIONS:
                actions = [v for v in values if v is not None]
                parts = [any_element("$all", actions)] if actions else []
                if None in values:
                    parts.append(self.element_op(path, array, field, "$eq", None, ops, depth))
                return sa.and_(*parts) if parts else FALSE
            # Each value may be met by a different element: one test per distinct value.
            distinct = _distinct(field.kind, values)
            equal_each = [self.element_op(path, array, field, "$eq", v, ops, depth)
                          for v in distinct]  # fmt: skip
            return sa.and_(*equal_each) if equal_each else FALSE
        if op in ("$size", "$elemMatch"):
            if field.kind is Kind.ACTIONS and op == "$size":
                self.check_size(operand)
                raise BadRequest(f"filter: $size is not supported on '{path}'")
            return any_element(op, operand)
        return any_element(op, operand)
