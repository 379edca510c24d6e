"""A list's query in the query language: its filter (a document, or the vendor's relaxed
JSON text), its sort and its fields, parsed, checked and compiled for one caller. What
statements answer it is dashboards/listing.py's to plan."""

import re
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from insightboards.errors import BadRequest
from insightboards.query import projection, relaxed_json
from insightboards.query.fields import INDEXED_SORT_KEYS, SORT_PATTERN, SORTABLE, QueryContext
from insightboards.query.filter import (
    compile_filter,
    label_rows_condition,
    starts_from_child_table,
)
from insightboards.query.operands import Condition


def parse_filter(raw: dict[str, Any] | str | None) -> dict[str, Any] | None:
    """The filter document; None for no filter (absent or empty text)."""
    if raw is None or raw == "":
        return None
    document = relaxed_json.parse(raw) if isinstance(raw, str) else raw
    if not isinstance(document, dict):
        raise BadRequest("filter: must be an object")
    return document


def order_by(sort: str | None, context: QueryContext) -> list[sa.ColumnElement[Any]]:
    """`-dateCreated,name` as ORDER BY terms; the grammar is SORT_PATTERN (in the OpenAPI)."""
    if not sort:
        return []
    order: list[sa.ColumnElement[Any]] = []
    for part in sort.split(","):
        key = part.strip(" ")
        name = key[1:] if key[:1] in ("+", "-") else key
        spec = SORTABLE.get(name)
        if spec is None:
            raise BadRequest(f"Cannot sort by '{name}'; sortable: {', '.join(sorted(SORTABLE))}.")
        expression = spec.expression(context)
        order.append(expression.desc() if key.startswith("-") else expression.asc())
    if not re.fullmatch(SORT_PATTERN, sort):
        raise BadRequest("sort: expected field names separated by commas, each with + or -")
    return order


def sorted_by_index(sort: str | None) -> bool:
    """No sort (id order) or one key with an index of its own."""
    keys = [key.strip(" ").lstrip("+-") for key in (sort or "id").split(",")]
    return len(keys) == 1 and keys[0] in INDEXED_SORT_KEYS


@dataclass(frozen=True)
class CompiledFilter:
    """A filter compiled for one caller, in the forms a list's statements need."""

    # The boards it matches (a condition on labels, items or grants may start from them).
    condition: Condition
    # The same boards, tested board by board (for a walk of a sort's index).
    per_board: Condition
    # Whether every board it matches has a matching label, item or grant, so that a page
    # may walk the sort's index instead (list_repository.list_page chooses).
    starts_from_child_table: bool
    # For a filter that only asks for one kind of label: that condition over label rows.
    label_rows: Condition | None


def compile_list_filter(document: dict[str, Any], context: QueryContext) -> CompiledFilter:
    return CompiledFilter(
        condition=compile_filter(document, context),
        per_board=compile_filter(document, replace(context, child_rows_drive=False)),
        starts_from_child_table=starts_from_child_table(document),
        label_rows=label_rows_condition(document, context),
    )


def check_list_query(
    filter: dict[str, Any] | str | None, sort: str | None, fields: str | None, context: QueryContext
) -> None:
    """BadRequest unless the filter, sort and fields are valid."""
    document = parse_filter(filter)
    if document:
        compile_filter(document, context)
    order_by(sort, context)
    if fields:
        projection.parse_fields(fields)
