"""The Database: SQLAlchemy Core work off the reactor thread, one transaction per unit.

As in Buildbot and Synapse, a store method hands a plain function ``fn(conn, ...)`` to
:meth:`Database.run` under a name; the function runs in a bounded thread pool inside one
transaction and must return plain data, never a live result. Deadlocks and lost
connections are retried with back-off; when the database stays away the caller gets
:class:`DatabaseUnavailable` (the API turns it into 503).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import Table, create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from twisted.application.service import Service
from twisted.internet import threads
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from bgserver.config import DatabaseSettings

T = TypeVar("T")
log = Logger()

#: MySQL/MariaDB error codes worth another attempt: deadlock, lock wait timeout, server
#: gone away, lost connection, cannot connect, server shutting down.
RETRY_MYSQL_CODES = frozenset({1213, 1205, 2006, 2013, 2003, 1053})


class DatabaseUnavailable(Exception):
    """The database could not do the work after all retries; nothing was committed."""

    #: What a client is told.
    answer = "the database is unavailable; nothing was changed, try again"


class CommitUncertain(DatabaseUnavailable):
    """The connection was lost while committing: the work may or may not be stored, so it
    is not run again (that could store it twice). A retry with the same Idempotency-Key
    is safe; the caller finds out which it was."""

    answer = ("the database went away while saving: the change may have been made; "
              "repeat it with the same Idempotency-Key")


def _mysql_code(exc: DBAPIError) -> int | None:
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_retryable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if _mysql_code(exc) in RETRY_MYSQL_CODES:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database table is locked" in message


def _sqlite_engine(settings: DatabaseSettings) -> Engine:
    url = make_url(settings.url)
    memory = url.database in (None, "", ":memory:")
    if not memory:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, echo=settings.echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        **({"poolclass": StaticPool} if memory else {"pool_size": settings.threads,
                                                     "max_overflow": 0}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, say when a transaction begins (see "begin" below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer takes the write lock up front so two writers never deadlock on upgrade.
        mode = "DEFERRED" if conn.get_execution_options().get("bg_readonly") else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_engine(settings: DatabaseSettings) -> Engine:
    if settings.is_sqlite:
        return _sqlite_engine(settings)
    return create_engine(
        settings.url, echo=settings.echo,
        pool_pre_ping=True, pool_recycle=3600,
        # every unit of work ends in COMMIT or ROLLBACK: no reset needed on check-in
        pool_reset_on_return=None,
        pool_size=settings.threads, max_overflow=2, pool_timeout=settings.connect_timeout,
        isolation_level="READ COMMITTED",
        connect_args={"connect_timeout": max(1, round(settings.connect_timeout)),
                      "charset": "utf8mb4", "read_timeout": 60, "write_timeout": 60},
    )


class Database(Service):
    """The one way into the store: ``run(name, fn, *args)`` -> Deferred of ``fn``'s result."""

    name = "database"

    def __init__(self, settings: DatabaseSettings, reactor: Any = None,
                 engine: Engine | None = None):
        if reactor is None:
            from twisted.internet import reactor  # noqa: PLC0415 - the global default
        self.settings = settings
        self.reactor = reactor
        self.engine = engine or make_engine(settings)
        self.threadpool = ThreadPool(minthreads=0, maxthreads=settings.threads, name="database")
        self._after_commit: list[Callable[[list], None]] = []
        #: Who publishes this process's events at once (None: the relays' polls do).
        self.relay_holder: str | None = None
        self.backoff = 0.05

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def startService(self) -> None:
        super().startService()
        self.threadpool.start()

    def stopService(self) -> Deferred:
        super().stopService()
        # Joining the pool blocks; do it off the reactor so in-flight work can finish.
        return threads.deferToThread(self._shutdown)

    def _shutdown(self) -> None:
        self.threadpool.stop()
        self.engine.dispose()

    def publish_after_commit(self, holder: str, callback: Callable[[list], None]) -> None:
        """Hand the events of each unit of work to ``callback`` on the reactor thread once
        the unit commits: the outbox relay publishes them from memory. Their outbox rows
        are stored claimed by ``holder``, so no other relay takes them meanwhile; if
        ``holder`` never marks them published, the claim lapses and any relay does."""
        self.relay_holder = holder
        self.on_commit(callback)

    def on_commit(self, callback: Callable[[list], None]) -> None:
        """Hand the events of each unit of work to ``callback`` on the reactor thread once
        the unit commits, before the unit's own result (caches forget what changed before
        whoever changed it reads again)."""
        self._after_commit.append(callback)

    def stop_publishing(self, callback: Callable[[list], None]) -> None:
        self._after_commit.remove(callback)
        self.relay_holder = None

    def run(self, name: str, fn: Callable[..., T], *args: Any, readonly: bool = False,
            retries: int | None = None, **kwargs: Any) -> "Deferred[T]":
        """Run ``fn(conn, *args, **kwargs)`` in one transaction in the pool."""
        return threads.deferToThreadPool(
            self.reactor, self.threadpool, self.run_sync, name, fn, *args,
            readonly=readonly, retries=retries, **kwargs)

    def run_sync(self, name: str, fn: Callable[..., T], *args: Any, readonly: bool = False,
                 retries: int | None = None, **kwargs: Any) -> T:
        """The same, in the calling thread (command-line tools, the pool's threads)."""
        attempts = retries if retries is not None else self.settings.retries
        for attempt in range(1, attempts + 1):
            committing = False
            try:
                with self.engine.connect() as conn:
                    if readonly:
                        conn.execution_options(bg_readonly=True)
                    conn.info.pop(EVENTS, None)
                    conn.info.pop(PENDING, None)  # left by a failed attempt
                    conn.info[RELAY_HOLDER] = self.relay_holder
                    with conn.begin():
                        result = fn(conn, *args, **kwargs)
                        flush_pending(conn)
                        committing = not readonly
                    emitted = conn.info.pop(EVENTS, None)
                if emitted:
                    for callback in self._after_commit:
                        self.reactor.callFromThread(callback, emitted)
                return result
            except DBAPIError as exc:
                if committing and exc.connection_invalidated:
                    log.warn("database work {name}: connection lost while committing; "
                             "not run again", name=name)
                    raise CommitUncertain(f"{name}: {exc.orig}") from exc
                if not is_retryable(exc):
                    raise
                if attempt >= attempts:
                    log.warn("database work {name} failed after {attempts} attempts: {error}",
                             name=name, attempts=attempts, error=str(exc.orig))
                    raise DatabaseUnavailable(f"{name}: {exc.orig}") from exc
                delay = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
                log.debug("database work {name} retried ({error}), attempt {attempt}",
                          name=name, error=str(exc.orig), attempt=attempt)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def ping(self) -> "Deferred[None]":
        """One quick round trip, no retries: for /health."""
        return self.run("ping", lambda conn: conn.execute(text("SELECT 1")).scalar_one(),
                        readonly=True, retries=1)


EVENTS = "bg_events"
RELAY_HOLDER = "bg_relay_holder"


def note_event(conn: Connection, event: Any) -> str | None:
    """Keep an event this unit of work wrote to the outbox, for the relay after the commit;
    returns who will publish it at once (None: nobody in this process)."""
    conn.info.setdefault(EVENTS, []).append(event)
    return conn.info.get(RELAY_HOLDER)


PENDING = "bg_pending_rows"


def insert_later(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    """Queue a row that nothing reads back in this unit of work (an event, an audit row):
    the queued rows go in at the end of the unit, one statement per table, instead of one
    round trip each."""
    conn.info.setdefault(PENDING, []).append((table, row))


def flush_pending(conn: Connection) -> None:
    pending = conn.info.pop(PENDING, None)
    if not pending:
        return
    by_shape: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for table, row in pending:
        by_shape.setdefault((table, tuple(row)), []).append(row)
    for (table, names), rows in by_shape.items():
        insert_rows(conn, table, names, rows)


def insert_rows(conn: Connection, table: Table, names: tuple[str, ...],
                rows: list[dict[str, Any]]) -> None:
    """Rows of one shape in one many-row INSERT. Each value is converted by its column's
    type, as a statement would, but with the converters looked up once per column instead
    of per row and value: these rows (events, audit) are most of what a busy unit writes."""
    sql, converters = _row_insert(conn.dialect, table, names)
    conn.exec_driver_sql(sql, [tuple(_converted(row, names, converters)) for row in rows])


def insert_rows_returning_ids(conn: Connection, table: Table, names: tuple[str, ...],
                              rows: list[dict[str, Any]]) -> list[int]:
    """The same in one INSERT ... RETURNING (MariaDB, SQLite): the new ids in the rows'
    order. Ids of one statement's rows grow in the order of its VALUES."""
    sql, converters = _row_insert(conn.dialect, table, names)
    head, _, one = sql.partition(" VALUES ")
    flat = [value for row in rows for value in _converted(row, names, converters)]
    ids = conn.exec_driver_sql(
        f"{head} VALUES {', '.join([one] * len(rows))} RETURNING "
        f"{conn.dialect.identifier_preparer.quote(table.primary_key.columns[0].name)}",
        tuple(flat)).scalars().all()
    return sorted(ids)


def _converted(row: dict[str, Any], names: tuple[str, ...], converters: list) -> Iterator[Any]:
    return (convert(row[name]) if convert else row[name]
            for name, convert in zip(names, converters))


_ROW_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list]] = {}


def _row_insert(dialect, table: Table, names: tuple[str, ...]) -> tuple[str, list]:
    key = (dialect.name, table.name, names)
    found = _ROW_INSERTS.get(key)
    if found is None:
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
               f"({', '.join(quote(n) for n in names)}) VALUES ({', '.join([mark] * len(names))})")
        found = _ROW_INSERTS[key] = (sql, [table.c[n].type.bind_processor(dialect)
                                           for n in names])
    return found


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """``conn.begin_nested()`` for units that queue rows: what was queued before is written
    first; what was queued inside is dropped if the savepoint rolls back."""
    flush_pending(conn)
    events_before = len(conn.info.get(EVENTS, ()))
    with conn.begin_nested():
        try:
            yield
            flush_pending(conn)
        except BaseException:
            conn.info.pop(PENDING, None)
            del conn.info.get(EVENTS, [])[events_before:]  # their rows are gone too
            raise


@event.listens_for(Engine, "savepoint")
def _no_savepoint_over_queued_rows(conn, name) -> None:
    if conn.info.get(PENDING):
        raise RuntimeError("rows are queued: use storage.database.savepoint(), "
                           "not conn.begin_nested()")
