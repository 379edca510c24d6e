"""Engine creation, connection settings and transactions.

SQLite (the embedded default) runs in WAL mode with foreign keys on. Its driver's own
transaction handling is switched off so that write transactions can start with
BEGIN IMMEDIATE: the write lock is taken up front, and a concurrent writer waits
(busy_timeout) instead of failing halfway through with "database is locked".
"""

import asyncio
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from insightboards import sqlite_functions
from insightboards.group_commit import GroupCommit
from insightboards.loop_reads import LoopReads, open_loop_reads
from insightboards.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

_WRITE = "insightboards_write"
# Threads (and their connections) for reads that overlap a request's own (Database.read_aside).
ASIDE_READERS = 4
T = TypeVar("T")
_MIGRATION_LOCK = 28_661_502  # any constant shared by every Insightboards process


class QueryTimeout(Exception):
    def __init__(self, limit_ms: int) -> None:
        super().__init__(f"query cancelled after {limit_ms} ms")
        self.limit_ms = limit_ms


class RegexRefused(Exception):
    """PostgreSQL's regex engine refused a pattern (SQLSTATE 2201B), say as too complex."""


def normalize_url(url: str) -> str:
    """Map `postgresql://` to the psycopg 3 driver; leave every other URL alone."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def load_json(text: str | bytes) -> Any:
    """JSON columns as Python: orjson (a page of 50 boards decodes ~400 values). The API
    stores only strict JSON; the standard library still reads a row written by other means
    with NaN or Infinity in it, which orjson refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dump_json(value: Any) -> str:
    """Python as a JSON column: orjson (a create writes ~20 values: items' details, labels'
    children); the standard library for what orjson cannot write (integers past 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


# How PostgreSQL names the connections of reads with a time limit (pg_stat_activity).
TIMED_READS_APPLICATION_NAME = "insightboards-timed-reads"


def create_engine(url: str, statement_timeout_ms: int | None = None, **pool: int) -> sa.Engine:
    """An engine for `url`; `pool` overrides the connection pool's sizes. With
    `statement_timeout_ms` (PostgreSQL), an engine for reads that run each statement on
    its own (autocommit), cancelled past that time: see Database._timed_engine."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        sizes = {"pool_size": 10, "max_overflow": 20, **pool}
        # A timed read's connection is not pinged at checkout (a round trip of each list):
        # a read that finds it broken is run again (dashboards/listing.py, `list_page`).
        timed: dict[str, Any] = (
            {
                "isolation_level": "AUTOCOMMIT",
                "pool_pre_ping": False,
                "connect_args": {
                    "options": f"-c statement_timeout={int(statement_timeout_ms)}",
                    "application_name": TIMED_READS_APPLICATION_NAME,
                },
            }
            if statement_timeout_ms is not None
            else {"pool_pre_ping": True}
        )
        return sa.create_engine(
            url,
            json_serializer=dump_json,
            json_deserializer=load_json,
            **timed,
            **sizes,
        )

    kept: dict[str, int] = {}
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A connection made past the pool's size is closed when given back, and the next
        # opens anew with a cold page cache (wrk, 32 clients, label lists at 10k boards: 43
        # req/s with SQLAlchemy's default 5 + 10 overflow, 60 with 8 kept). Beyond a few
        # connections, reads only wait for the GIL (api/app.py).
        kept = {"pool_size": 8, "max_overflow": 0, "pool_timeout": 60}
    engine = sa.create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        json_serializer=dump_json,
        json_deserializer=load_json,
        **{**kept, **pool},
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # In WAL mode, NORMAL loses no committed transaction on an application crash;
        # FULL also survives a power loss, at the cost of an fsync per commit.
        cursor.execute("PRAGMA synchronous=FULL")
        # 32 MiB of page cache per connection (the default is 2 MiB): a list that checks
        # thousands of boards by id then finds their index pages in memory.
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.close()
        # `column REGEXP pattern` in filters, evaluated by RE2 (linear time).
        dbapi_connection.create_function("regexp", 2, sqlite_functions.regexp, deterministic=True)

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# SQLite calls the progress handler every this many virtual machine instructions: often
# enough to stop within a millisecond, rarely enough to cost nothing measurable.
_PROGRESS_STEPS = 5000


@contextmanager
def _sqlite_time_limit(connection: sa.Connection, time_limit_ms: int) -> Iterator[None]:
    """Interrupt the statements of this transaction once they have worked `time_limit_ms`.

    SQLite has no statement timeout; a progress handler that answers "stop" makes the
    running statement fail with "interrupted", and the transaction is then rolled back. The
    time is the thread's CPU time: a query that waits for a core under load is not cut off
    for the wait, one that works for a second is. (Under 32 concurrent clients, lists whose
    median took over a second of mostly waiting were cancelled by a wall-clock limit.)
    """
    raw = connection.connection.driver_connection
    assert raw is not None
    deadline = time.thread_time() + time_limit_ms / 1000
    expired = False

    def past_deadline() -> int:
        nonlocal expired
        expired = time.thread_time() > deadline
        return int(expired)

    raw.set_progress_handler(past_deadline, _PROGRESS_STEPS)
    try:
        yield
    except sa.exc.OperationalError as error:
        if expired:
            raise QueryTimeout(time_limit_ms) from error
        raise
    finally:
        raw.set_progress_handler(None, 0)


class Database:
    """The one place transactions begin and commit."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = create_engine(self.url)
        self.dialect = self.engine.dialect.name
        # SQLite has one writer at a time: the writes of this process queue for one
        # connection and commit in groups (group_commit.py). Only writers of other processes
        # meet SQLite's busy handler, whose sleeps would otherwise stretch the latency tail.
        self._group_commit = (
            GroupCommit(self.engine, **{_WRITE: True}) if self.dialect == "sqlite" else None
        )
        # A database runs each query on one core; a read on another connection, on a thread
        # of its own (the drivers let go of the GIL while they wait), overlaps the request's.
        # Its own engine, one connection per thread, so an aside read never waits for a
        # connection that a request waiting for it holds. (An in-memory SQLite database
        # would be another, empty one on another connection.)
        # PostgreSQL's reads with a time limit (_timed_engine), by engine and limit.
        self._timed_engines: dict[tuple[int, int], sa.Engine] = {}
        self._timed_lock = threading.Lock()
        self._aside_engine: sa.Engine | None = None
        self._aside_threads: ThreadPoolExecutor | None = None
        if self.dialect != "sqlite" or make_url(self.url).database not in (None, "", ":memory:"):
            self._aside_engine = create_engine(self.url, pool_size=ASIDE_READERS, max_overflow=0)
            self._aside_threads = ThreadPoolExecutor(ASIDE_READERS, "read-aside")
        # The event loop's own connection to a SQLite file (read_on_loop): only the loop's
        # thread uses it, and never across an await, so it is always free; the loop never
        # waits for a connection that a thread holds.
        self._loop_engine: sa.Engine | None = None
        if self.dialect == "sqlite" and self._aside_engine is not None:
            self._loop_engine = create_engine(self.url, pool_size=1, max_overflow=0, pool_timeout=0)

    @contextmanager
    def read(self, time_limit_ms: int | None = None) -> Iterator[sa.Connection]:
        """A read transaction; statements past `time_limit_ms` are cancelled (QueryTimeout):
        on PostgreSQL each statement after that long, on SQLite the whole transaction after
        that much work (CPU time)."""
        with self._read(self.engine, time_limit_ms) as connection:
            yield connection

    def read_on_loop(self, time_limit_ms: int) -> AbstractContextManager[sa.Connection] | None:
        """A read transaction for the event loop's thread, as `read` (SQLite's work cut off
        after `time_limit_ms` of CPU time, QueryTimeout); None where the loop must not read
        itself: PostgreSQL (its reads wait on the network) and in-memory SQLite."""
        if self._loop_engine is None:
            return None
        return self._read(self._loop_engine, time_limit_ms)

    def read_aside(
        self, work: Callable[[sa.Connection], T], time_limit_ms: int | None = None
    ) -> "Future[T] | None":
        """Start `work` in a read transaction of its own (as `read`), on another thread, to
        overlap with the caller's; None for an in-memory database. The two transactions each
        see the database as of their own start, as two statements do under PostgreSQL's
        READ COMMITTED."""
        if self._aside_threads is None:
            return None
        return self._aside_threads.submit(self._run_aside, work, time_limit_ms)

    def _run_aside(self, work: Callable[[sa.Connection], T], time_limit_ms: int | None) -> T:
        assert self._aside_engine is not None
        with self._read(self._aside_engine, time_limit_ms) as connection:
            return work(connection)

    def _timed_engine(self, engine: sa.Engine, time_limit_ms: int) -> sa.Engine:
        """PostgreSQL: for reads with a time limit on `engine`'s behalf, an engine whose
        connections run each statement on its own (autocommit) with that statement
        timeout. Under READ COMMITTED each statement sees the database afresh anyway; in a
        transaction, its BEGIN, SET LOCAL and COMMIT were three of a list's seven round
        trips to the server."""
        key = (id(engine), time_limit_ms)
        with self._timed_lock:
            timed = self._timed_engines.get(key)
            if timed is None:
                pool = engine.pool
                sizes = {"pool_size": pool.size(), "max_overflow": pool._max_overflow}  # type: ignore[attr-defined]
                timed = self._timed_engines[key] = create_engine(
                    self.url, statement_timeout_ms=time_limit_ms, **sizes
                )
            return timed

    @contextmanager
    def _read(self, engine: sa.Engine, time_limit_ms: int | None) -> Iterator[sa.Connection]:
        timed = time_limit_ms is not None and self.dialect == "postgresql"
        if timed:
            assert time_limit_ms is not None
            engine = self._timed_engine(engine, time_limit_ms)
        with engine.connect() as connection, nullcontext() if timed else connection.begin():
            limit: AbstractContextManager[None] = nullcontext()
            if time_limit_ms is not None and not timed:
                limit = _sqlite_time_limit(connection, time_limit_ms)
            try:
                with limit:
                    yield connection
            except sa.exc.OperationalError as error:
                if type(error.orig).__name__ == "QueryCanceled":
                    raise QueryTimeout(time_limit_ms or 0) from error
                raise
            except sa.exc.DataError as error:
                if getattr(error.orig, "sqlstate", None) == "2201B":
                    raise RegexRefused(error.orig.diag.message_primary) from error  # type: ignore[union-attr]
                raise

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction, committed when the block ends (on SQLite, perhaps together
        with others: the block returns once its write is durable)."""
        if self._group_commit is not None:
            with self._group_commit.write() as connection:
                yield connection
            return
        with self.engine.connect() as connection, connection.begin():
            yield connection

    async def write_from_loop(self, work: Callable[[sa.Connection], T]) -> T:
        """`work(connection)` as a write transaction (as `write`), for the event loop to
        await: on SQLite it is run by the group commit's writer thread, with the writes
        queued beside it, instead of on a thread of its own that waits for its turn."""
        if self._group_commit is not None:
            return await asyncio.wrap_future(self._group_commit.submit(work))

        def written() -> T:
            with self.write() as connection:
                return work(connection)

        return await anyio.to_thread.run_sync(written)

    async def open_loop_reads(self) -> LoopReads | None:
        """Point reads on the event loop (loop_reads.py); None for an in-memory database."""
        return await open_loop_reads(self.url)

    def refresh_statistics(self) -> None:
        """Let the query planner know the tables' shapes (run at start and every few minutes).

        Without statistics SQLite may scan every board to test a label filter, instead of
        starting from the label index; a sampled ANALYZE takes milliseconds. PostgreSQL's
        autovacuum does this too, but only after enough changes; where it is off, this
        vacuums the service's tables as well.
        """
        if self.dialect == "postgresql" and self._autovacuum_off():
            # Nothing else marks pages all-visible then: every index-only scan (a label
            # list's count, the read rule's ranges) reads the table too, and it bloats.
            # VACUUM takes no lock that blocks reads or writes, and runs outside a
            # transaction.
            ours = ", ".join(table.name for table in metadata.sorted_tables)
            with self.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    f"VACUUM (ANALYZE) {ours}"
                )
            return
        with self.write() as connection:
            if self.dialect == "sqlite":
                connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
        if self.dialect == "sqlite":
            # A SQLite connection reads the statistics when it opens: start afresh.
            self.engine.dispose()
            for engine in (self._aside_engine, self._loop_engine):
                if engine is not None:
                    engine.dispose()

    def _autovacuum_off(self) -> bool:
        with self.read() as connection:
            setting = connection.exec_driver_sql("SELECT current_setting('autovacuum')")
            return bool(setting.scalar_one() == "off")

    def schema_revision(self) -> str | None:
        """The Alembic revision the database's schema is at (None: no schema)."""
        with self.read() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return version.scalar()

    def dispose(self) -> None:
        if self._group_commit is not None:
            self._group_commit.close()
        if self._aside_threads is not None:
            self._aside_threads.shutdown()
        for engine in (self._aside_engine, self._loop_engine, *self._timed_engines.values()):
            if engine is not None:
                engine.dispose()
        self.engine.dispose()


def _alembic_config() -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "insightboards:migrations")
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest Alembic revision: the schema this version of the service needs."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade_schema(url: str) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command

    config = _alembic_config()
    database = Database(url)
    try:
        with database.write() as connection:
            if database.dialect == "postgresql":
                # Processes starting together upgrade one after the other (SQLite's
                # BEGIN IMMEDIATE already serializes them).
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        database.dispose()
