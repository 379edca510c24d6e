"""Statements compiled once and run through the driver (prepared.py) write what
SQLAlchemy's own execution would."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from insightboards import prepared
from insightboards.database import create_engine

notes = sa.Table(
    "notes",
    sa.MetaData(),
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("done", sa.Boolean, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("title", sa.String(50), nullable=True),
)


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'prepared.db'}")
    notes.create(engine)
    return engine


def _rows(count: int, first: int = 0) -> list[dict[str, object]]:
    return [
        {"n": n, "done": n % 2 == 0, "details": {"n": n, "tags": ["a", n]}, "title": f"t{n}"}
        for n in range(first, first + count)
    ]


@pytest.mark.parametrize("count", [1, 2, prepared.ROWS_AT_ONCE, 2 * prepared.ROWS_AT_ONCE + 7])
def test_insert_writes_every_row_converted_as_sqlalchemy_would(
    engine: sa.Engine, count: int
) -> None:
    statement = prepared.prepare(notes.insert(), engine.dialect)
    with engine.begin() as conn:
        statement.insert(conn, _rows(count))
    with engine.connect() as conn:
        read = [dict(row._mapping) for row in conn.execute(sa.select(notes).order_by(notes.c.n))]
    assert read == _rows(count)


def test_a_row_without_some_columns_gets_their_bound_values(engine: sa.Engine) -> None:
    statement = prepared.prepare(notes.insert(), engine.dialect)
    rows = [{k: v for k, v in row.items() if k != "title"} for row in _rows(3)]
    with engine.begin() as conn:
        statement.insert(conn, rows)
    with engine.connect() as conn:
        read = [dict(row._mapping) for row in conn.execute(sa.select(notes).order_by(notes.c.n))]
    assert read == [{**row, "title": None} for row in rows]


def test_several_rows_go_in_one_statement_per_chunk(engine: sa.Engine) -> None:
    statements: list[str] = []
    statement = prepared.prepare(notes.insert(), engine.dialect)
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.set_trace_callback(statements.append)
        statement.insert(conn, _rows(prepared.ROWS_AT_ONCE + 1))
        raw.set_trace_callback(None)
    inserts = [s for s in statements if s.startswith("INSERT")]
    assert len(inserts) == 2, inserts


def test_a_row_that_breaks_a_constraint_fails_the_insert_as_sqlalchemy_does(
    engine: sa.Engine,
) -> None:
    statement = prepared.prepare(notes.insert(), engine.dialect)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        statement.insert(conn, [*_rows(3), *_rows(1, first=1)])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(notes)).scalar_one() == 0
