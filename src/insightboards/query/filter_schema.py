"""The filter language as JSON Schema, for the OpenAPI document.

Built from the same field catalogue (fields.py) and limits as the compiler (filter.py), so
that a filter the schema admits is one the server accepts, and one it refuses is a 400.
tests/query/test_filter_schema.py holds the two to that. What JSON Schema cannot say is
in the descriptions: the node and depth budgets, and that `$regex` must be an RE2 pattern
(format `re2`, which a generic validator does not check).
"""

from typing import Any

from insightboards.query.fields import ANY_ARRAY, SCALARS, Kind
from insightboards.query.operands import MAX_DEPTH, MAX_ELEM_MATCHES, MAX_IN, MAX_NODES
from insightboards.query.regex import MAX_PATTERN_LENGTH

JsonSchema = dict[str, Any]
_NO_NUL = r"^[^\x00]*$"
_LOGICAL = ("$and", "$or", "$nor")
_EXISTS: JsonSchema = {"type": ["boolean", "number"]}


def _ref(name: str) -> JsonSchema:
    return {"$ref": f"#/components/schemas/{name}"}


def _schema_name(array_name: str) -> str:
    """`access.permissions` → `AccessPermissions`: a component-name fragment per array."""
    return "".join(part[:1].upper() + part[1:] for part in array_name.split("."))


def _logical(item: JsonSchema) -> JsonSchema:
    return {"type": "array", "minItems": 1, "items": item}


def _operators(name: str, *, size: bool = True) -> JsonSchema:
    """The operator object on a value: `{$gte: 2, $lt: 5}`, `{$regex: "^o", $options: "i"}`."""
    properties: dict[str, JsonSchema] = {
        op: _ref("FilterOperand") for op in ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
    }
    properties |= {op: _ref("FilterOperandList") for op in ("$in", "$nin", "$all")}
    properties |= {
        "$exists": _EXISTS,
        "$regex": _ref("FilterRegex"),
        "$options": {"type": "string", "pattern": "^[ims]*$"},
        "$not": _ref(name),
    }
    if size:
        properties["$size"] = _ref("FilterSize")
    return {
        "type": "object",
        "minProperties": 1,
        "properties": properties,
        "additionalProperties": False,
    }


def _condition(operators: str) -> JsonSchema:
    """A value to equal, or an operator object."""
    return {"anyOf": [_ref("FilterScalar"), _ref(operators)]}


def _array_components(array_name: str, fields: list[str]) -> dict[str, JsonSchema]:
    """An array of objects: its `$elemMatch` document and the conditions on the whole array."""
    name = _schema_name(array_name)
    element = {
        "type": "object",
        "propertyNames": {"enum": [*fields, *_LOGICAL]},
        "properties": {op: _logical(_ref(f"Filter{name}Element")) for op in _LOGICAL},
        "additionalProperties": _ref("FilterCondition"),
    }
    # Objects are never equal to a value: only `[]` (no elements) compares usefully.
    value_or_empty = {"anyOf": [_ref("FilterScalar"), {"type": "array", "maxItems": 0}]}
    element_match = {**_ref(f"Filter{name}Element"), "minProperties": 1}
    whole_array = {
        "type": "object",
        "minProperties": 1,
        "properties": {
            "$eq": value_or_empty,
            "$ne": value_or_empty,
            "$in": {"type": "array", "maxItems": MAX_IN, "items": value_or_empty},
            "$nin": {"type": "array", "maxItems": MAX_IN, "items": value_or_empty},
            **{op: value_or_empty for op in ("$gt", "$gte", "$lt", "$lte")},
            "$size": _ref("FilterSize"),
            "$exists": _EXISTS,
            "$elemMatch": element_match,
            "$all": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ELEM_MATCHES,
                "items": {
                    "type": "object",
                    "properties": {"$elemMatch": element_match},
                    "required": ["$elemMatch"],
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    }
    return {
        f"Filter{name}Element": element,
        f"Filter{name}": {"anyOf": [value_or_empty, whole_array]},
    }


def _operand_components() -> dict[str, JsonSchema]:
    """What the operators of a condition take, and the operators themselves."""
    return {
        "FilterScalar": {"type": ["string", "number", "boolean", "null"], "pattern": _NO_NUL},
        "FilterOperand": {
            "anyOf": [
                _ref("FilterScalar"),
                {
                    "type": "object",
                    "description": "A timestamp, in MongoDB's extended JSON.",
                    "properties": {"$date": {"type": "string", "pattern": _NO_NUL}},
                    "required": ["$date"],
                    "additionalProperties": False,
                },
            ]
        },
        "FilterOperandList": {
            "type": "array",
            "maxItems": MAX_IN,
            "items": _ref("FilterOperand"),
        },
        "FilterRegex": {
            "type": "string",
            "maxLength": MAX_PATTERN_LENGTH,
            "format": "re2",
            "pattern": _NO_NUL,
            "description": (
                "An RE2 regular expression: no backreferences, no lookaround, no Unicode "
                "classes (\\p{...}) or \\C; see docs/query-language.md."
            ),
        },
        "FilterSize": {"type": "integer", "minimum": 0},
        "FilterOperators": _operators("FilterOperators"),
        "FilterCondition": _condition("FilterOperators"),
        # Action lists seen through an array (`access.permissions.grant.general`): no $size.
        "FilterActionsOperators": _operators("FilterActionsOperators", size=False),
    }


def filter_components() -> dict[str, JsonSchema]:
    """The `Filter` schema and the components it refers to, by name."""
    components = _operand_components()
    # Most paths take the same conditions: one `additionalProperties` says so once (a schema
    # per path would multiply the work of every schema-driven test generator).
    names = list(SCALARS)
    properties: dict[str, JsonSchema] = {}
    for array_name, array in ANY_ARRAY.items():
        components |= _array_components(array_name, list(array.fields))
        names.append(array_name)
        properties[array_name] = _ref(f"Filter{_schema_name(array_name)}")
        for field_name, field in array.fields.items():
            names.append(f"{array_name}.{field_name}")
            if field.kind is Kind.ACTIONS:
                properties[f"{array_name}.{field_name}"] = _condition("FilterActionsOperators")
    properties |= {op: _logical(_ref("Filter")) for op in _LOGICAL}
    components["Filter"] = {
        "type": "object",
        "description": "A MongoDB query document (docs/query-language.md). At most "
        f"{MAX_NODES} conditions, nested at most {MAX_DEPTH} levels deep.",
        "propertyNames": {"enum": [*names, *_LOGICAL]},
        "properties": properties,
        "additionalProperties": _ref("FilterCondition"),
    }
    return components
