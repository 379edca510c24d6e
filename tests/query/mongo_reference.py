"""A plain-Python evaluator of MongoDB query semantics over JSON documents.

It is the reference the SQL compiler is checked against: written independently of it,
straight from MongoDB's documented rules (path traversal through arrays, type-bracketed
comparisons, `null` matching missing fields, `$elemMatch` on one element).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

DATE_PATHS = {"dateCreated", "dateUpdated", "tags.dateCreated"}
_MISSING = object()


def matches(document: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, condition in query.items():
        if key == "$and":
            ok = all(matches(document, part) for part in condition)
        elif key == "$or":
            ok = any(matches(document, part) for part in condition)
        elif key == "$nor":
            ok = not any(matches(document, part) for part in condition)
        else:
            ok = _field_matches(document, "id" if key == "_id" else key, condition)
        if not ok:
            return False
    return True


def _resolve(document: Any, path: str) -> list[Any]:
    """Every value a dotted path reaches, descending into arrays of objects."""
    current = [document]
    for part in path.split("."):
        found = []
        for value in current:
            if isinstance(value, dict):
                if part in value:
                    found.append(value[part])
            elif isinstance(value, list):
                found.extend(e[part] for e in value if isinstance(e, dict) and part in e)
        current = found
    return current


def _is_operator_document(condition: Any) -> bool:
    return (
        isinstance(condition, dict)
        and bool(condition)
        and all(k.startswith("$") for k in condition)
    )


def _field_matches(document: dict[str, Any], path: str, condition: Any) -> bool:
    ops = condition if _is_operator_document(condition) else {"$eq": condition}
    values = _resolve(document, path)
    return all(
        _operator(path, values, op, argument, ops)
        for op, argument in ops.items()
        if op != "$options"
    )


def _candidates(values: list[Any]) -> list[Any]:
    result = []
    for value in values:
        result.append(value)
        if isinstance(value, list):
            result.extend(value)
    return result


def _type_class(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return _MISSING
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).replace(microsecond=parsed.microsecond // 1000 * 1000)
    return _MISSING


def _equal(path: str, candidate: Any, argument: Any) -> bool:
    if path in DATE_PATHS:
        left, right = _date(candidate), _date(argument)
        return left is not _MISSING and left == right
    return _type_class(candidate) == _type_class(argument) and candidate == argument


def _compare(path: str, op: str, candidate: Any, argument: Any) -> bool:
    if path in DATE_PATHS:
        left, right = _date(candidate), _date(argument)
        if left is _MISSING or right is _MISSING:
            return False
    else:
        if _type_class(candidate) != _type_class(argument) or _type_class(argument) not in (
            "number",
            "string",
            "bool",
        ):
            return False
        left, right = candidate, argument
    return {"$gt": left > right, "$gte": left >= right, "$lt": left < right, "$lte": left <= right}[
        op
    ]


def _eq(path: str, values: list[Any], argument: Any) -> bool:
    if argument is None:
        return not values or any(c is None for c in _candidates(values))
    return any(_equal(path, c, argument) for c in _candidates(values))


def _operator(path: str, values: list[Any], op: str, argument: Any, ops: dict[str, Any]) -> bool:
    if op == "$eq":
        return _eq(path, values, argument)
    if op == "$ne":
        return not _eq(path, values, argument)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if argument is None:
            return _eq(path, values, None) if op in ("$gte", "$lte") else False
        return any(_compare(path, op, c, argument) for c in _candidates(values))
    if op == "$in":
        return any(_eq(path, values, a) for a in argument)
    if op == "$nin":
        return not any(_eq(path, values, a) for a in argument)
    if op == "$exists":
        return bool(values) == bool(argument)
    if op == "$regex":
        flags = 0
        for letter in ops.get("$options", ""):
            flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[letter]
        pattern = re.compile(argument, flags)
        return any(isinstance(c, str) and pattern.search(c) for c in _candidates(values))
    if op == "$not":
        return not all(
            _operator(path, values, o, a, argument) for o, a in argument.items() if o != "$options"
        )
    if op == "$size":
        return any(isinstance(v, list) and len(v) == argument for v in values)
    if op == "$all":
        if not argument:
            return False
        if all(isinstance(a, dict) and "$elemMatch" in a for a in argument):
            return all(_operator(path, values, "$elemMatch", a["$elemMatch"], {}) for a in argument)
        return all(_eq(path, values, a) for a in argument)
    if op == "$elemMatch":
        return any(
            isinstance(v, list) and any(isinstance(e, dict) and matches(e, argument) for e in v)
            for v in values
        )
    raise ValueError(op)
