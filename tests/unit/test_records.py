"""Each record type has its table's columns, in the table's order (records.py relies on it)."""

import pytest
import sqlalchemy as sa

from insightboards.dashboards.records import (
    DashboardRecord,
    GrantRecord,
    ItemRecord,
    LabelRecord,
)
from insightboards.tables import dashboard_grants, dashboard_items, dashboard_labels, dashboards


@pytest.mark.parametrize(
    ("record", "table"),
    [
        (DashboardRecord, dashboards),
        (ItemRecord, dashboard_items),
        (LabelRecord, dashboard_labels),
        (GrantRecord, dashboard_grants),
    ],
)
def test_record_fields_are_the_table_columns_in_order(record: type, table: sa.Table) -> None:
    assert record._fields == tuple(table.c.keys())
