"""The Alembic migrations build exactly the schema that tables.py describes."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from insightboards.database import Database, upgrade_schema
from insightboards.tables import metadata
from tests.e2e.harness import create_postgres_database, drop_postgres_database, postgres_reachable


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_table_definitions(backend: str, tmp_path: Path) -> None:
    name = None
    if backend == "postgresql":
        if not postgres_reachable():
            pytest.skip("no PostgreSQL on 127.0.0.1:5432")
        url, name = create_postgres_database()
    else:
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    try:
        upgrade_schema(url)
        upgrade_schema(url)  # a second run is a no-op
        database = Database(url)
        with database.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
        database.dispose()
        assert differences == []
    finally:
        if name:
            drop_postgres_database(name)
