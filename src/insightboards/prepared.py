"""Statements compiled once, run through the driver (dashboards/listing.py,
dashboards/repository.py, loop_reads.py)."""

import operator
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

# Rows in one multi-row insert: far below SQLite's 32,766 parameters for the widest table.
ROWS_AT_ONCE = 200


class Prepared:
    """A statement compiled once: run through the driver, it skips the compilation and the
    cache-key walk that SQLAlchemy does on every execution (~0.3 ms for a statement with
    the read rule in it, more than SQLite takes to answer it). For the hottest statements
    of lists (dashboards/listing.py, served_repository.served_page). Parameters bound in the
    statement are converted once; those given at execution go to the driver as they are,
    except for `insert`'s rows."""

    def __init__(self, statement: sa.ClauseElement, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        # Converted as each execution would (booleans to 0 and 1 on SQLite).
        bound = dict(compiled.params)
        for name, processor in compiled._bind_processors.items():
            if name in bound and bound[name] is not None:
                assert callable(processor), name  # a sequence is for tuple values, unused here
                bound[name] = processor(bound[name])
        self._bound = bound
        self._names = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._many: dict[int, str] = {}  # insert statements of several rows, by their count
        self._parameters = self._ordered(bound)
        # What SQLAlchemy does to each value before the driver sees it (JSON to text,
        # booleans to 0 and 1 on SQLite), for the rows that `insert` writes: per parameter,
        # in the driver's order, its name and converter.
        converters = compiled._bind_processors
        self._conversions = tuple(
            (name, converter if callable(converter) else None)
            for name in (self._names or compiled.binds)
            for converter in (converters.get(name),)
        )
        # The same, for a row that has every parameter (positional statements): its values
        # taken in one C call, then the few that need it converted in place.
        names = [name for name, _ in self._conversions]
        self._row_values = operator.itemgetter(*names) if len(names) > 1 else None
        self._converting = tuple(
            (index, convert) for index, (_, convert) in enumerate(self._conversions) if convert
        )

    def _ordered(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        if self._names is None:
            return dict(values)
        return tuple(values[name] for name in self._names)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters: `values` over those bound in the statement."""
        return self._ordered({**self._bound, **values}) if values else self._parameters

    def converted(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for `values`, each converted as SQLAlchemy would."""
        if self._names is not None and self._row_values is not None:
            try:
                row = list(self._row_values(values))
            except KeyError:  # a parameter left to its bound value: the general way below
                pass
            else:
                for index, convert_at in self._converting:
                    row[index] = convert_at(row[index])
                return tuple(row)
        parameters = []
        for name, convert in self._conversions:
            if name in values:
                value = values[name]
                parameters.append(value if convert is None else convert(value))
            else:
                parameters.append(self._bound[name])
        if self._names is None:
            return {
                name: value for (name, _), value in zip(self._conversions, parameters, strict=True)
            }
        return tuple(parameters)

    def insert(self, connection: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert the rows through the driver's own cursor: a create's rows spent more time
        in SQLAlchemy's execution machinery (~2 ms a board) than in the database. With
        positional parameters (SQLite), up to ROWS_AT_ONCE rows go in one statement: each
        statement lets go of the GIL and waits to take it back, which under load cost a
        create's writer more than the rows. Errors are SQLAlchemy's, as
        `connection.execute` raises them."""
        with _cursor(connection, self.sql) as cursor:
            if len(rows) == 1:
                cursor.execute(self.sql, self.converted(rows[0]))
            elif self._names is None or " VALUES " not in self.sql:
                cursor.executemany(self.sql, [self.converted(row) for row in rows])
            else:
                for start in range(0, len(rows), ROWS_AT_ONCE):
                    chunk = rows[start : start + ROWS_AT_ONCE]
                    values = [value for row in chunk for value in self.converted(row)]
                    cursor.execute(self._rows_sql(len(chunk)), values)

    def _rows_sql(self, count: int) -> str:
        """The insert of `count` rows in one statement (positional parameters)."""
        found = self._many.get(count)
        if found is None:
            head, _, row = self.sql.partition(" VALUES ")
            found = self._many[count] = f"{head} VALUES {', '.join([row] * count)}"
        return found

    def rows(self, connection: sa.Connection, **values: Any) -> list[tuple[Any, ...]]:
        """The rows as the driver gives them: tuples, with no conversion of their values
        (SQLite's booleans as 0 and 1, JSON as text). SQLAlchemy's result machinery cost
        as much as a page's statement."""
        with _cursor(connection, self.sql) as cursor:
            cursor.execute(self.sql, self.parameters(values))
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows


_PREPARED: dict[tuple[sa.ClauseElement, sa.Dialect], Prepared] = {}


def prepare(statement: sa.ClauseElement, dialect: sa.Dialect) -> Prepared:
    """`statement`, built once (at import), compiled once for `dialect`."""
    key = (statement, dialect)
    found = _PREPARED.get(key)
    if found is None:
        found = _PREPARED[key] = Prepared(statement, dialect)
    return found


@contextmanager
def _cursor(connection: sa.Connection, sql: str) -> Iterator[Any]:
    dialect = connection.dialect
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as error:
        # As SQLAlchemy's own execution does: a connection the server closed is thrown
        # away, with the pool's others (most likely closed too), and the error says so.
        lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
        if lost:
            connection.invalidate(error)
            connection.engine.dispose(close=False)
        raise sa.exc.DBAPIError.instance(
            sql,
            None,
            error,
            dialect.loaded_dbapi.Error,
            dialect=dialect,
            connection_invalidated=lost,
        ) from error
    finally:
        cursor.close()
