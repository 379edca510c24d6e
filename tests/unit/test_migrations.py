"""The Alembic migrations build exactly the schema that tables.py describes."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from insightboards.database import Database, upgrade_schema
from insightboards.tables import metadata
from tests.e2e.harness import fresh_database


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_table_definitions(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade_schema(url)
        upgrade_schema(url)  # a second run is a no-op
        database = Database(url)
        with database.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
        database.dispose()
    assert differences == []
