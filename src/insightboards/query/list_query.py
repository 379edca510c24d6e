"""A list's query in the query language: its filter (a document, or the vendor's relaxed
JSON text), its sort and its fields, parsed, checked and compiled for one caller by
compile_list_query. What statements answer it is dashboards/listing.py's to plan."""

import functools
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators

from insightboards.errors import BadRequest
from insightboards.query import relaxed_json
from insightboards.query.fields import (
    INDEXED_SORT_KEYS,
    SORT_PATTERN,
    SORTABLE,
    QueryContext,
    board_columns_tested,
    names_one_label,
    without_index,
)
from insightboards.query.filter import compile_filter, label_rows_condition
from insightboards.query.operands import Condition
from insightboards.query.projection import Projection, parse_fields


# Identity, not value, is a compiled filter's equality: dashboards.listing keys its own
# caches by the object this module's cache hands out.
@dataclass(frozen=True, eq=False)
class CompiledFilter:
    """A filter compiled for one caller, in the forms a list's statements need."""

    # The boards it matches (a condition on labels, items or grants may start from them).
    condition: Condition
    # The same boards, tested board by board, on SQLite by no index (for a walk of a
    # sort's index).
    per_board: Condition
    # The columns of dashboards it tests itself (not those of labels, items or grants): a
    # sort by any other may walk its index (list_repository.list_page chooses).
    columns_tested: frozenset[str]
    # For a filter that only asks for one kind of label: that condition over label rows.
    label_rows: Condition | None
    # Whether that condition is `name = X` alone (fields.names_one_label).
    names_one_label: bool


@dataclass(frozen=True)
class CompiledListQuery:
    """A list's filter, sort and fields, compiled for one caller."""

    # None: no filter, the list is of every board the caller may read.
    filter: CompiledFilter | None
    # The sort as ORDER BY terms (none: id order).
    order: list[sa.ColumnElement[Any]]
    # No sort, or one key with an index of its own, which a page can be read off.
    sorted_by_index: bool
    # Whether a page may walk the sort's index, testing each board against the filter (a
    # filter that does not test the sort's own column, sorted by an index).
    walks_sort_index: bool
    projection: Projection | None


def compile_list_query(
    filter: dict[str, Any] | str | None, sort: str | None, fields: str | None, context: QueryContext
) -> CompiledListQuery:
    """BadRequest naming the first problem unless the filter, sort and fields are valid."""
    document = parse_filter(filter)
    compiled = None
    if document:
        # The text as the key (JSON from a body: orjson refuses integers past 64 bits).
        text = filter if isinstance(filter, str) else json.dumps(document)
        compiled = _compiled_filter(_FilterText(text, document), context)
    order = order_by(sort, context)
    indexed = sorted_by_index(sort)
    return CompiledListQuery(
        filter=compiled,
        order=order,
        sorted_by_index=indexed,
        walks_sort_index=(
            indexed and compiled is not None and _sort_column(order) not in compiled.columns_tested
        ),
        projection=parse_fields(fields) if fields else None,
    )


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


def one_sort_key(order: list[sa.ColumnElement[Any]]) -> tuple[sa.Column[Any], bool] | None:
    """For a sort by one column, that column and whether it is descending; else None."""
    if len(order) != 1:
        return None
    (term,) = order
    if not isinstance(term, sa.UnaryExpression) or not isinstance(term.element, sa.Column):
        return None
    return term.element, term.modifier is operators.desc_op


def _sort_column(order: list[sa.ColumnElement[Any]]) -> str:
    """The column of a sort by one indexed key (no sort: id)."""
    if not order:
        return "id"
    key = one_sort_key(order)
    assert key is not None
    return key[0].name


def sorted_by_index(sort: str | None) -> bool:
    keys = [key.strip(" ").lstrip("+-") for key in (sort or "id").split(",")]
    return len(keys) == 1 and keys[0] in INDEXED_SORT_KEYS


@dataclass(frozen=True)
class _FilterText:
    """A filter's text, the key of its compiled forms, with the document parsed from it."""

    text: str
    document: dict[str, Any] = field(compare=False, hash=False)


# Compiling a filter costs ~0.6 ms; a script or a page of the web app asks the same again.
# SQL expressions are immutable, so one may serve any number of statements.
@functools.lru_cache(maxsize=1024)
def _compiled_filter(filter_text: _FilterText, context: QueryContext) -> CompiledFilter:
    document = filter_text.document
    per_board = compile_filter(document, replace(context, child_rows_drive=False))
    label_rows = label_rows_condition(document, context)
    return CompiledFilter(
        condition=compile_filter(document, context),
        per_board=without_index(per_board) if context.dialect == "sqlite" else per_board,
        columns_tested=board_columns_tested(per_board),
        label_rows=label_rows,
        names_one_label=label_rows is not None and names_one_label(label_rows),
    )
