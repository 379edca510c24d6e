"""MongoDB-style filters, compiled to one SQL predicate over `dashboards`.

`compile_filter(document, context)` returns a boolean SQL expression. Every value is a bound
parameter; every path is looked up in the field catalogue (fields.py). Array paths follow
MongoDB: `{"tags.name": "okr"}` matches a board with any label named okr; each operator on
an array path may be met by a different element, `$elemMatch` asks one element for all.
Every expression produced here is two-valued (never SQL NULL), so `$not` and `$nor` are
plain negations. The operators themselves are tables in operators.py; their operands are
checked in operands.py.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from insightboards.errors import BadRequest
from insightboards.query.fields import (
    ANY_ARRAY,
    ARRAYS,
    SCALARS,
    ElementField,
    QueryContext,
    Scalar,
)
from insightboards.query.operands import (
    COMPARISONS,
    FALSE,
    LOGICAL,
    MAX_ARRAY_SIZE,
    MAX_ELEM_MATCHES,
    SURROGATE,
    TRUE,
    Budget,
    Condition,
    as_list,
    check_size,
    exists_operand,
    is_empty_array,
    operator_document,
)
from insightboards.query.operators import (
    Array,
    ElementTarget,
    Target,
    compile_element,
    compile_scalar,
)


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
        ops = operator_document(path, value)
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


def _reject_bad_text(document: Any) -> None:
    """No stored text holds NUL or a lone surrogate, and neither can be bound as a parameter
    (PostgreSQL refuses NUL; no driver encodes a surrogate): a 400, early."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise BadRequest("filter: text may not contain NUL characters")
            if SURROGATE.search(value):
                raise BadRequest("filter: text may not contain lone surrogates (\\ud800-\\udfff)")
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


# --- the compiler ------------------------------------------------------------------------


class _Compiler:
    def __init__(self, context: QueryContext) -> None:
        self.context = context
        self.budget = Budget()

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
            if key in LOGICAL:
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
        ops = operator_document(path, value)
        target = Target(
            path, spec.kind, spec.expression(self.context), spec.nullable, spec.is_column,
            spec.present(self.context) if spec.present else None, ops, depth, self.budget,
            self.context.dialect,
        )  # fmt: skip
        return sa.and_(
            TRUE, *(compile_scalar(target, op, operand) for op, operand in ops.items()
                    if op != "$options")
        )  # fmt: skip

    # arrays of objects

    def on_array(self, path: str, array: Array, value: Any, depth: int) -> Condition:
        ops = operator_document(path, value)
        conditions = []
        for op, operand in ops.items():
            self.budget.spend(depth)
            if op == "$size":
                size = check_size(operand)
                count = array.scope(self.context).count()
                conditions.append(count == size if size <= MAX_ARRAY_SIZE else FALSE)
            elif op == "$exists":
                conditions.append(TRUE if exists_operand(path, operand) else FALSE)
            elif op == "$elemMatch":
                conditions.append(self.elem_match(path, array, operand, depth + 1))
            elif op == "$all":
                values = as_list(op, operand)
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
                empties = [is_empty_array(path, v) for v in as_list(op, operand)]
                equal_any = self.array_equals(path, array, []) if any(empties) else FALSE
                conditions.append(equal_any if op == "$in" else sa.not_(equal_any))
            elif op in COMPARISONS:
                # Objects never compare with a value (MongoDB compares types first).
                is_empty_array(path, operand)
                conditions.append(FALSE)
            else:
                raise BadRequest(f"filter: {op} is not supported on '{path}'")
        return sa.and_(TRUE, *conditions)

    def array_equals(self, path: str, array: Array, value: Any) -> Condition:
        """A whole array of objects equals `[]` when it has no elements, and never a value."""
        if is_empty_array(path, value):
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
            ops = operator_document(f"{path}.{sub}", value)
            target = Target(
                f"{path}.{sub}", field.kind, scope.column(field), field.nullable, True, None,
                ops, inner_depth, self.budget, self.context.dialect,
            )  # fmt: skip
            return sa.and_(
                TRUE, *(compile_scalar(target, op, v) for op, v in ops.items() if op != "$options")
            )

        return scope.exists(self.document(operand, depth, element_condition))

    def on_element_field(
        self, path: str, array: Array, field: ElementField, value: Any, depth: int
    ) -> Condition:
        """A field of the elements of an array: true when any element matches (MongoDB)."""
        ops = operator_document(path, value)
        target = ElementTarget(path, array, field, ops, depth, self.budget, self.context)
        conditions = []
        for op, operand in ops.items():
            if op == "$options":
                continue
            self.budget.spend(depth)
            conditions.append(compile_element(target, op, operand))
        return sa.and_(TRUE, *conditions)
