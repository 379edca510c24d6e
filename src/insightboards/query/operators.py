"""A filter's field operators, as tables: each operator one small function that compiles it
against its target (the field it is asked of) to a two-valued SQL condition.

`SCALAR_OPERATORS` compile against one value (a column of `dashboards`, or a field of one
element of an array); `ELEMENT_OPERATORS` against a field of an array's elements, true when
some element meets them (MongoDB). A new operator is a new entry of the table.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from insightboards import sqlite_functions
from insightboards.access import ACTION_BITS
from insightboards.errors import BadRequest
from insightboards.query import regex
from insightboards.query.fields import (
    ArrayOfObjects,
    ElementField,
    JsonArrayOfObjects,
    Kind,
    QueryContext,
)
from insightboards.query.operands import (
    COMPARED,
    FALSE,
    STRING_COMPARE,
    TRUE,
    Budget,
    Condition,
    as_bound,
    as_list,
    as_typed,
    check_size,
    checked_operand,
    checked_operands,
    distinct_values,
    exists_operand,
    operator_document,
    regex_operand,
)

Array = ArrayOfObjects | JsonArrayOfObjects


@dataclasses.dataclass(frozen=True)
class Target:
    """One value that operators are asked of: at `path`, of `kind`, held by `column`
    (a column of its own when `is_column`, which an index can range over; else an
    expression), null where `nullable`, and there where `present` holds (None: always).
    `ops` is the operator document the operator came from ($regex takes its $options)."""

    path: str
    kind: Kind
    column: sa.ColumnElement[Any]
    nullable: bool
    is_column: bool
    present: Condition | None
    ops: dict[str, Any]
    depth: int
    budget: Budget
    dialect: str

    @property
    def not_null(self) -> Condition:
        return self.column.is_not(None) if self.nullable else TRUE

    def deeper(self, **changes: Any) -> "Target":
        return dataclasses.replace(self, depth=self.depth + 1, **changes)


def compile_scalar(target: Target, op: str, operand: Any) -> Condition:
    """One operator on one value: the building block of every comparison."""
    target.budget.spend(target.depth)
    if op in COMPARED:
        checked_operand(target.path, op, operand)
    compile_op = SCALAR_OPERATORS.get(op)
    if compile_op is None:
        if op == "$elemMatch":
            raise BadRequest(
                f"filter: $elemMatch needs an array of objects; '{target.path}' is not one"
            )
        raise BadRequest(f"filter: unknown operator {op} on '{target.path}'")
    return compile_op(target, operand)


def _again(target: Target, op: str, operand: Any) -> Condition:
    """Another operator on the same value, one level deeper."""
    return compile_scalar(target.deeper(), op, operand)


def _eq(target: Target, operand: Any) -> Condition:
    column = target.column
    if operand is None:
        is_null = column.is_(None) if target.nullable else FALSE
        present = target.present
        return sa.or_(is_null, sa.not_(present)) if present is not None else is_null
    if target.kind is Kind.ACTIONS:
        return actions_match(column, [operand])
    ok, sql_value = as_typed(target.kind, operand)
    if not ok:
        return FALSE
    if target.kind is Kind.BOOL and not target.is_column:
        return column if sql_value else sa.not_(column)
    return sa.and_(target.not_null, column == as_bound(target.kind, sql_value))


def _ne(target: Target, operand: Any) -> Condition:
    return sa.not_(_again(target, "$eq", operand))


def _comparison(op: str) -> Callable[[Target, Any], Condition]:
    def compare(target: Target, operand: Any) -> Condition:
        if operand is None:
            return _again(target, "$eq", None) if op in ("$gte", "$lte") else FALSE
        if target.kind is Kind.ACTIONS:
            # Action names compare as strings: pick the names that satisfy the comparison.
            if not isinstance(operand, str):
                return FALSE
            names = [a for a in ACTION_BITS if STRING_COMPARE[op](a, operand)]
            return actions_match(target.column, names)
        ok, sql_value = as_typed(target.kind, operand)
        if not ok:
            return FALSE
        if target.kind is Kind.BOOL:
            # false < true: each comparison is an equality, or always/never true.
            if (op, sql_value) in (("$gt", True), ("$lt", False)):
                return FALSE
            if (op, sql_value) in (("$gte", False), ("$lte", True)):
                return TRUE
            return _again(target, "$eq", op in ("$gt", "$gte"))
        bound = as_bound(target.kind, sql_value)
        return sa.and_(target.not_null, _SQL_COMPARISONS[op](target.column, bound))

    return compare


_SQL_COMPARISONS: dict[str, Callable[[sa.ColumnElement[Any], Any], Condition]] = {
    "$gt": lambda column, bound: column > bound,
    "$gte": lambda column, bound: column >= bound,
    "$lt": lambda column, bound: column < bound,
    "$lte": lambda column, bound: column <= bound,
}


def _in(target: Target, operand: Any) -> Condition:
    values = checked_operands(target.path, "$in", operand)
    if target.kind is Kind.ACTIONS:
        return actions_match(target.column, values, any_of=True)
    # Distinct values: `[true, true, ...]` is one comparison, not hundreds.
    typed = list(
        dict.fromkeys(
            v for ok, v in (as_typed(target.kind, x) for x in values if x is not None) if ok
        )
    )
    parts = []
    if typed and not (target.kind is Kind.BOOL and not target.is_column):
        in_list = target.column.in_([as_bound(target.kind, v) for v in typed])
        parts.append(sa.and_(target.not_null, in_list))
    elif typed:
        parts.extend(_again(target, "$eq", v) for v in typed)
    if None in values:
        parts.append(_again(target, "$eq", None))
    return sa.or_(FALSE, *parts)


def _nin(target: Target, operand: Any) -> Condition:
    return sa.not_(_again(target, "$in", operand))


def _exists(target: Target, operand: Any) -> Condition:
    exists = target.present if target.present is not None else TRUE
    return exists if exists_operand(target.path, operand) else sa.not_(exists)


def _regex(target: Target, operand: Any) -> Condition:
    pattern, options = regex_operand("$regex", operand, target.ops.get("$options", ""))
    column = target.column
    if target.kind is Kind.ACTIONS:
        return actions_regex(column, pattern, options)
    if target.kind is not Kind.STRING:
        return FALSE
    match = regex_match(target.dialect, column, pattern, options)
    prefix, whole = regex.literal_prefix(pattern, options)
    if prefix and target.is_column:
        # An anchored literal prefix is an index range; alone, it is the whole test.
        in_range = sa.and_(column >= prefix, column < regex.next_string(prefix))
        return in_range if whole else sa.and_(in_range, match)
    return sa.and_(target.not_null, match)


def _not(target: Target, operand: Any) -> Condition:
    if isinstance(operand, dict) and operand and all(k.startswith("$") for k in operand):
        inner = operator_document(target.path, operand)
        nested = target.deeper(ops=inner)
        conditions = (compile_scalar(nested, o, v) for o, v in inner.items() if o != "$options")
        return sa.not_(sa.and_(TRUE, *conditions))
    raise BadRequest(f"filter: $not on '{target.path}' takes an operator object")


def _all(target: Target, operand: Any) -> Condition:
    values = checked_operands(target.path, "$all", operand)
    if target.kind is Kind.ACTIONS:
        return actions_match(target.column, values, any_of=False) if values else FALSE
    # One value equals all of them only if they are all the same value.
    same = distinct_values(target.kind, values)
    return _again(target, "$eq", same[0]) if len(same) == 1 else FALSE


def _size(target: Target, operand: Any) -> Condition:
    check_size(operand)
    return FALSE  # a single value is no array


SCALAR_OPERATORS: dict[str, Callable[[Target, Any], Condition]] = {
    "$eq": _eq,
    "$ne": _ne,
    **{op: _comparison(op) for op in ("$gt", "$gte", "$lt", "$lte")},
    "$in": _in,
    "$nin": _nin,
    "$exists": _exists,
    "$regex": _regex,
    "$not": _not,
    "$all": _all,
    "$size": _size,
}


def regex_match(
    dialect: str, column: sa.ColumnElement[Any], pattern: str, options: str
) -> Condition:
    text = regex.literal_text(pattern, options)
    if text is not None:  # code points, case-sensitive, no wildcards (unlike LIKE)
        position = sa.func.strpos if dialect == "postgresql" else sa.func.instr
        return position(column, text) > 0
    if dialect == "postgresql":
        return column.bool_op("~")(regex.postgres_pattern(pattern, options))
    return column.bool_op("REGEXP")(regex.re2_pattern(pattern, options))


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


def actions_regex(column: sa.ColumnElement[Any], pattern: str, options: str) -> Condition:
    re2_pattern = regex.re2_pattern(pattern, options)
    names = [a for a in ACTION_BITS if sqlite_functions.regexp(re2_pattern, a)]
    return actions_match(column, names)


# --- a field of an array's elements ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ElementTarget:
    """A field of the elements of an array, which operators are asked of: an operator holds
    when some element meets it (MongoDB)."""

    path: str
    array: Array
    field: ElementField
    ops: dict[str, Any]
    depth: int
    budget: Budget
    context: QueryContext

    def any_element(self, op: str, operand: Any) -> Condition:
        """Some element's field meets `op`."""
        scope = self.array.scope(self.context)
        target = Target(
            self.path, self.field.kind, scope.column(self.field), self.field.nullable, True,
            None, self.ops, self.depth + 1, self.budget, self.context.dialect,
        )  # fmt: skip
        return scope.exists(compile_scalar(target, op, operand))

    def some_element(self) -> Condition:
        return self.array.scope(self.context).exists(TRUE)


def compile_element(target: ElementTarget, op: str, operand: Any) -> Condition:
    if op in ("$gte", "$lte") and operand is None:
        op = "$eq"  # as in MongoDB, null is only ever equal to null
    compile_op = ELEMENT_OPERATORS.get(op)
    if compile_op is None:
        return target.any_element(op, operand)
    return compile_op(target, operand)


def _element_eq(target: ElementTarget, operand: Any) -> Condition:
    if operand is None:  # no element at all, or one whose field is null
        return sa.or_(sa.not_(target.some_element()), target.any_element("$eq", None))
    return target.any_element("$eq", operand)


def _element_ne(target: ElementTarget, operand: Any) -> Condition:
    return sa.not_(compile_element(target, "$eq", operand))


def _element_in(target: ElementTarget, operand: Any) -> Condition:
    values = as_list("$in", operand)
    parts = [target.any_element("$in", [v for v in values if v is not None])]
    if None in values:
        parts.append(compile_element(target, "$eq", None))
    return sa.or_(*parts)


def _element_nin(target: ElementTarget, operand: Any) -> Condition:
    return sa.not_(compile_element(target, "$in", operand))


def _element_exists(target: ElementTarget, operand: Any) -> Condition:
    # Every element carries every field (null when unset), as the responses show.
    exists = target.some_element()
    return exists if exists_operand(target.path, operand) else sa.not_(exists)


def _element_not(target: ElementTarget, operand: Any) -> Condition:
    if not (isinstance(operand, dict) and operand):
        raise BadRequest(f"filter: $not on '{target.path}' takes an operator object")
    inner = operator_document(target.path, operand)
    nested = dataclasses.replace(target, ops=inner, depth=target.depth + 1)
    conditions = (compile_element(nested, o, v) for o, v in inner.items() if o != "$options")
    return sa.not_(sa.and_(TRUE, *conditions))


def _element_all(target: ElementTarget, operand: Any) -> Condition:
    values = checked_operands(target.path, "$all", operand)
    if target.field.kind is Kind.ACTIONS:
        actions = [v for v in values if v is not None]
        parts = [target.any_element("$all", actions)] if actions else []
        if None in values:
            parts.append(compile_element(target, "$eq", None))
        return sa.and_(*parts) if parts else FALSE
    # Each value may be met by a different element: one test per distinct value.
    distinct = distinct_values(target.field.kind, values)
    equal_each = [compile_element(target, "$eq", v) for v in distinct]
    return sa.and_(*equal_each) if equal_each else FALSE


def _element_size(target: ElementTarget, operand: Any) -> Condition:
    if target.field.kind is Kind.ACTIONS:
        check_size(operand)
        raise BadRequest(f"filter: $size is not supported on '{target.path}'")
    return target.any_element("$size", operand)


# The operators whose meaning over elements is not "some element meets it".
ELEMENT_OPERATORS: dict[str, Callable[[ElementTarget, Any], Condition]] = {
    "$eq": _element_eq,
    "$ne": _element_ne,
    "$in": _element_in,
    "$nin": _element_nin,
    "$exists": _element_exists,
    "$not": _element_not,
    "$all": _element_all,
    "$size": _element_size,
}
