"""The dashboard document as the query language sees it: each path, its type, its SQL.

A path is either a scalar (one value per dashboard: a column or an expression), an array of
objects kept as rows of a child table (`tags`, `insights`, `sectionHeaders`,
`access.permissions`), or a field of such an element (`tags.name`). Paths outside this
catalogue are refused with 400, so a filter can only ever reach these columns.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, UnaryExpression
from sqlalchemy.sql.selectable import Exists, ScalarSelect
from sqlalchemy.sql.visitors import replacement_traverse

from insightboards import access
from insightboards.access import ACTION_BITS, Caller
from insightboards.tables import dashboard_grants, dashboard_items, dashboard_labels, dashboards

d = dashboards


class Kind(Enum):
    STRING = "string"
    NUMBER = "number"
    BOOL = "boolean"
    DATE = "date"
    # A set of actions kept as a bit mask; compares like an array of action names.
    ACTIONS = "actions"


@dataclass(frozen=True)
class QueryContext:
    caller: Caller
    dialect: str
    # False: a condition on labels, items or grants is tested board by board, so that the
    # database can walk an index in the sort's order and stop after a page (SQLite only,
    # whose planner cannot weigh a LIMIT; see list_repository.list_page).
    child_rows_drive: bool = True
    # True: a condition on one label (item, grant) stays a condition on that element's row,
    # instead of "the board has such an element" (filter.label_rows_condition).
    element_rows: bool = False


Expression = Callable[[QueryContext], sa.ColumnElement[Any]]


@dataclass(frozen=True)
class Scalar:
    kind: Kind
    expression: Expression
    nullable: bool = False
    # False for expressions that are not plain columns (compared as booleans, not `= true`).
    is_column: bool = True
    # When the path may be missing from a document (`source.sourceId` when `source` is null).
    present: Expression | None = None


@dataclass(frozen=True)
class ElementField:
    kind: Kind
    # A column of the element table, or a key of a JSON object (JSON-backed fields).
    column: sa.ColumnElement[Any] | None = None
    nullable: bool = False
    json_key: str | None = None


def json_text(document: sa.ColumnElement[Any], key: str, dialect: str) -> sa.ColumnElement[Any]:
    """The value under `key` of a JSON object, as SQL text (NULL when absent or null)."""
    if dialect == "postgresql":
        return document.op("->>")(key)
    return sa.func.json_extract(document, f'$."{key}"')


class ElementScope:
    """The elements of one array, within one condition: their fields, and `any element`."""

    def column(self, field: ElementField) -> sa.ColumnElement[Any]:
        raise NotImplementedError

    def exists(self, condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        raise NotImplementedError

    def count(self) -> sa.ColumnElement[Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class ArrayOfObjects:
    """An array kept as rows of a child table."""

    table: sa.Table
    fields: dict[str, ElementField]
    # Which rows of the table belong to this array (items hold insights and section headers).
    selects: sa.ColumnElement[bool] | None = None

    def scope(self, context: QueryContext) -> ElementScope:
        if context.element_rows:
            return _RowScope(self, context)
        return _TableScope(self, context)


class _TableScope(ElementScope):
    def __init__(self, array: ArrayOfObjects, context: QueryContext) -> None:
        self.array = array
        self.context = context

    def column(self, field: ElementField) -> sa.ColumnElement[Any]:
        if field.json_key is not None:
            return json_text(self.array.table.c.details, field.json_key, self.context.dialect)
        assert field.column is not None
        return field.column

    def _own_rows(self) -> list[sa.ColumnElement[bool]]:
        if self.array.selects is None:
            return []
        return [self.array.selects]

    def exists(self, condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        """As `id IN (...)`: the element table's index then finds the boards, instead of one
        probe per board."""
        table = self.array.table
        query = sa.select(table.c.dashboard_id).where(
            table.c.account_id == self.context.caller.account_id, condition, *self._own_rows()
        )
        if self.context.child_rows_drive or self.context.dialect != "sqlite":
            return d.c.id.in_(query)
        # SQLite, walking a sort index: each board visited is probed for its own rows (the
        # primary key starts with the board), so the walk costs what it visits. As a lookup
        # table built from the subquery it cost every match of the account first.
        return (
            sa.exists()
            .where(
                table.c.account_id == d.c.account_id,
                *self._board_key(),
                table.c.dashboard_id == d.c.id,
                condition,
                *self._own_rows(),
            )
            .correlate_except(table)
        )

    def _board_key(self) -> list[sa.ColumnElement[bool]]:
        """The label index orders a name's boards by their dateCreated before their id: a
        probe for one board names both."""
        table = self.array.table
        if "board_created" not in table.c:
            return []
        return [table.c.board_created == d.c.date_created]

    def count(self) -> sa.ColumnElement[Any]:
        table = self.array.table
        return (
            sa.select(sa.func.count())
            .where(
                table.c.account_id == d.c.account_id,
                table.c.dashboard_id == d.c.id,
                *self._own_rows(),
            )
            .correlate_except(table)
            .scalar_subquery()
        )


def board_columns_tested(condition: sa.ColumnElement[bool]) -> frozenset[str]:
    """The columns of dashboards that a condition compiled board by board
    (child_rows_drive=False) tests itself, outside its label, item and grant subqueries."""
    found: set[str] = set()
    pending: list[Any] = [condition]
    while pending:
        element = pending.pop()
        if isinstance(element, Exists | ScalarSelect | sa.Select):
            continue
        if isinstance(element, sa.Column) and element.table is d:
            found.add(element.name)
            continue
        pending.extend(element.get_children())
    return frozenset(found)


def names_one_label(label_rows: sa.ColumnElement[bool]) -> bool:
    """Whether a condition on label rows (filter.label_rows_condition) is `name = X` alone:
    then every label of a board with that name meets it, and the label index's entries
    that are not `repeated` are the boards it matches, each once."""
    return (
        isinstance(label_rows, BinaryExpression)
        and label_rows.operator is operators.eq
        and label_rows.left is dashboard_labels.c.name
        and isinstance(label_rows.right, BindParameter)
    )


def without_index(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """`condition` with every column of dashboards behind SQLite's unary `+`, which no
    index serves: a statement then walks the index of its sort (or of its read rule) and
    tests each board, instead of reading the filter's matches off their index and sorting
    them all (a `$regex: "^OKR"` page of 50 at 100k boards, 12k matches: 1.2 -> 0.07 ms)."""

    def unindexed(element: Any, **_: Any) -> Any:
        if isinstance(element, sa.Column) and element.table is d:
            return UnaryExpression(element, operator=operators.custom_op("+"), type_=element.type)
        return None

    return replacement_traverse(condition, {}, unindexed)


class _RowScope(_TableScope):
    """One element row of the table itself: its condition is not wrapped in "some element
    of the board"."""

    def exists(self, condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return sa.and_(condition, *self._own_rows())


@dataclass(frozen=True)
class JsonArrayOfObjects:
    """An array of objects kept as JSON in a column of `dashboards` (settings, parameters)."""

    column: sa.ColumnElement[Any]
    fields: dict[str, ElementField]

    def scope(self, context: QueryContext) -> ElementScope:
        return _JsonScope(self, context)


class _JsonScope(ElementScope):
    def __init__(self, array: JsonArrayOfObjects, context: QueryContext) -> None:
        self.array = array
        self.dialect = context.dialect
        function = (
            sa.func.json_array_elements if self.dialect == "postgresql" else sa.func.json_each
        )
        self.elements = function(array.column).table_valued("value").alias()

    def column(self, field: ElementField) -> sa.ColumnElement[Any]:
        assert field.json_key is not None
        return json_text(self.elements.c.value, field.json_key, self.dialect)

    def exists(self, condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return sa.exists().select_from(self.elements).where(condition)

    def count(self) -> sa.ColumnElement[Any]:
        return sa.func.json_array_length(self.array.column)


def _column(column: sa.ColumnElement[Any]) -> Expression:
    return lambda _context: column


def _allowed_bits(context: QueryContext) -> sa.ColumnElement[Any]:
    """The caller's allowed actions on each dashboard, as a bit mask."""
    total: sa.ColumnElement[Any] = sa.literal(0)
    for action, bit in ACTION_BITS.items():
        total = total + sa.case((access.caller_predicate(context.caller, action), bit), else_=0)
    return total


def _item_count(kind: str) -> Expression:
    items = dashboard_items

    def count(_context: QueryContext) -> sa.ColumnElement[Any]:
        return (
            sa.select(sa.func.count())
            .where(
                items.c.account_id == d.c.account_id,
                items.c.dashboard_id == d.c.id,
                items.c.kind == kind,
            )
            .correlate_except(items)
            .scalar_subquery()
        )

    return count


_has_source = d.c.source_application.is_not(None)

SCALARS: dict[str, Scalar] = {
    "id": Scalar(Kind.STRING, _column(d.c.id)),
    "_id": Scalar(Kind.STRING, _column(d.c.id)),
    "accountId": Scalar(Kind.STRING, _column(d.c.account_id)),
    "name": Scalar(Kind.STRING, _column(d.c.name)),
    "tag": Scalar(Kind.STRING, _column(d.c.tag)),
    "archived": Scalar(Kind.BOOL, _column(d.c.archived)),
    "isReport": Scalar(Kind.BOOL, _column(d.c.is_report)),
    "layout": Scalar(Kind.STRING, _column(d.c.layout), nullable=True),
    "createdById": Scalar(Kind.STRING, _column(d.c.created_by_id)),
    "dateCreated": Scalar(Kind.DATE, _column(d.c.date_created)),
    "dateUpdated": Scalar(Kind.DATE, _column(d.c.date_updated)),
    "version": Scalar(Kind.NUMBER, _column(d.c.version)),
    "source.sourceApplication": Scalar(
        Kind.STRING, _column(d.c.source_application), nullable=True, present=lambda _c: _has_source
    ),
    "source.sourceId": Scalar(
        Kind.STRING, _column(d.c.source_id), nullable=True, present=lambda _c: _has_source
    ),
    "access.inherits": Scalar(Kind.BOOL, _column(d.c.inherits)),
    "access.ownerPermissions.grant.general": Scalar(Kind.ACTIONS, _column(d.c.owner_grant)),
    "access.ownerPermissions.deny.general": Scalar(Kind.ACTIONS, _column(d.c.owner_deny)),
    "appsCount": Scalar(Kind.NUMBER, lambda _c: sa.literal(0), is_column=False),
    "notificationsCount": Scalar(Kind.NUMBER, lambda _c: sa.literal(0), is_column=False),
    "insightsCount": Scalar(Kind.NUMBER, _item_count("insight"), is_column=False),
    "sectionHeadersCount": Scalar(Kind.NUMBER, _item_count("sectionHeader"), is_column=False),
    "currentUserAllowedActions": Scalar(Kind.ACTIONS, _allowed_bits, is_column=False),
    "readOnly": Scalar(
        Kind.BOOL,
        lambda context: sa.not_(access.caller_predicate(context.caller, "update")),
        is_column=False,
    ),
}

_labels = dashboard_labels
_items = dashboard_items
_grants = dashboard_grants
_item_grid = {
    "id": ElementField(Kind.STRING, _items.c.id),
    "dashboardId": ElementField(Kind.STRING, _items.c.dashboard_id),
    "row": ElementField(Kind.NUMBER, _items.c.row),
    "col": ElementField(Kind.NUMBER, _items.c.col),
    "sizeX": ElementField(Kind.NUMBER, _items.c.size_x),
    "sizeY": ElementField(Kind.NUMBER, _items.c.size_y),
}

ARRAYS: dict[str, ArrayOfObjects] = {
    "tags": ArrayOfObjects(
        _labels,
        {
            "id": ElementField(Kind.STRING, _labels.c.label_id),
            "name": ElementField(Kind.STRING, _labels.c.name),
            "title": ElementField(Kind.STRING, _labels.c.title, nullable=True),
            "isActive": ElementField(Kind.BOOL, _labels.c.is_active),
            "createdBy": ElementField(Kind.STRING, _labels.c.created_by, nullable=True),
            "dateCreated": ElementField(Kind.DATE, _labels.c.date_created, nullable=True),
        },
    ),
    "insights": ArrayOfObjects(
        _items,
        {
            **_item_grid,
            "insightId": ElementField(Kind.STRING, _items.c.insight_id, nullable=True),
            "insightName": ElementField(Kind.STRING, _items.c.insight_name, nullable=True),
            "insightTitle": ElementField(Kind.STRING, nullable=True, json_key="insightTitle"),
        },
        selects=_items.c.kind == "insight",
    ),
    "sectionHeaders": ArrayOfObjects(
        _items,
        {
            **_item_grid,
            "sectionHeader.header": ElementField(Kind.STRING, _items.c.header, nullable=True),
            "sectionHeader.subHeader": ElementField(
                Kind.STRING, _items.c.sub_header, nullable=True
            ),
        },
        selects=_items.c.kind == "sectionHeader",
    ),
    "access.permissions": ArrayOfObjects(
        _grants,
        {
            "principalKind": ElementField(Kind.STRING, _grants.c.principal_kind),
            "principalId": ElementField(Kind.STRING, _grants.c.principal_id),
            "grant.general": ElementField(Kind.ACTIONS, _grants.c.actions),
        },
    ),
}


def _json_strings(*keys: str) -> dict[str, ElementField]:
    return {key: ElementField(Kind.STRING, nullable=True, json_key=key) for key in keys}


JSON_ARRAYS: dict[str, JsonArrayOfObjects] = {
    "settings": JsonArrayOfObjects(
        d.c.settings, _json_strings("name", "value", "valueDisplayName")
    ),
    "parameters": JsonArrayOfObjects(
        d.c.parameters,
        _json_strings(
            "id",
            "key",
            "title",
            "defaultValue",
            "entityName",
            "entityTitleField",
            "entityValueField",
            "selectorType",
        ),
    ),
}
ANY_ARRAY: dict[str, ArrayOfObjects | JsonArrayOfObjects] = {**ARRAYS, **JSON_ARRAYS}

# Fields a list may be sorted by.
SORTABLE = {name: spec for name, spec in SCALARS.items() if spec.kind is not Kind.ACTIONS}
# Sort keys with an index of their own (account_id, key, id), tables.py: a page in this
# order can be read off the index, stopping after skip + take boards.
INDEXED_SORT_KEYS = frozenset({"id", "_id", "name", "createdById", "dateCreated", "dateUpdated"})


def known_paths() -> list[str]:
    paths = list(SCALARS)
    for array_name, array in ANY_ARRAY.items():
        paths.append(array_name)
        paths.extend(f"{array_name}.{sub}" for sub in array.fields)
    return sorted(paths)


# The `sort` grammar: a comma list of sortable fields, each with an optional `+` or `-`.
_SORT_KEY = (
    rf" *[+-]?(?:{'|'.join(re.escape(name) for name in sorted(SORTABLE, key=len, reverse=True))}) *"
)
SORT_PATTERN = rf"^(?:{_SORT_KEY}(?:,{_SORT_KEY})*)?$"
