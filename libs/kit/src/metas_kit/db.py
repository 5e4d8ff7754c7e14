"""Async SQLAlchemy engine, sessions and the one-transaction-per-request dependency."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import MetaData, event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from metas_kit.sqlite_driver import one_hop_dbapi

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Each service owns its own MetaData (its own database), all with the same naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL (None for another backend or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def ensure_wal(url: str, *, wait_seconds: float = 10.0) -> None:
    """Put a SQLite file in WAL mode once, from one connection, before any pool opens its own.

    WAL is a property of the file and lasts, but the switch to it takes the file's exclusive lock and SQLite
    refuses it at once ("database is locked", no busy wait) while another connection holds a lock. Two pooled
    connections making the switch at the same moment on a new file (a service's first read beside its first
    background job) could thus fail a request. Called by the migrations and by ``make_engine``."""
    path = sqlite_file(url)
    if path is None:
        return
    deadline = time.monotonic() + wait_seconds
    conn = sqlite3.connect(path, timeout=wait_seconds, isolation_level=None)
    try:
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)  # another process is switching or writing: the lock is brief
    finally:
        conn.close()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers proceed during a write (the file is switched once by ``ensure_wal``; on a WAL file this is a
    # no-op that takes no lock); busy_timeout makes concurrent writers wait, not fail.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(
    url: str, *, pool_size: int = 12, max_overflow: int = 0, echo: bool = False, immediate: bool = True
) -> AsyncEngine:
    """PostgreSQL: a pool whose connections are checked for a closed socket at checkout (no round trip).
    SQLite: a small pool of connections with the pragmas set once each, one thread hand-off per statement
    (``metas_kit.sqlite_driver``), and pysqlite's implicit transactions replaced by explicit ones: BEGIN
    IMMEDIATE for writers (``immediate``), a plain deferred BEGIN for readers."""
    if url.startswith("sqlite"):
        # Before the pool opens any connection: the connect hook's pragma then finds the file in WAL already.
        ensure_wal(url)
        engine = create_async_engine(
            url,
            echo=echo,
            # A file: connections are cheap and the write lock serialises writers anyway (5 kept, 10 more at most).
            pool_size=min(pool_size, 5),
            max_overflow=10,
            connect_args={"timeout": 30},
            # aiosqlite's adapter with one hand-off to the connection's thread per statement (was four).
            module=one_hop_dbapi(),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        # SQLite takes one writer; BEGIN IMMEDIATE takes the write lock up front so two concurrent
        # read-then-write transactions serialise instead of one failing at commit with "database is locked".
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate if immediate else _sqlite_begin)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800)
    # No pre-ping (three round trips per checkout with asyncpg: BEGIN, a query, ROLLBACK): a pooled connection the
    # server closed (a restart) is found closed locally at checkout and replaced; one that dies unnoticed fails its
    # statement as a disconnect, which invalidates the whole pool and answers 503 + Retry-After (metas_kit.errors).
    event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
    return engine


def _replace_closed_connection(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Checkout hook: a connection whose socket the server closed is not handed out (the pool makes a new one)."""
    raw = getattr(dbapi_conn, "_connection", None)  # the driver's connection under SQLAlchemy's async adapter
    is_closed = getattr(raw, "is_closed", None)
    if callable(is_closed) and is_closed():
        raise DisconnectionError("The database closed this pooled connection.")


def _sqlite_connect(dbapi_conn: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_conn, record)
    # Transactions are begun explicitly by the "begin" hook, not implicitly by the driver.
    dbapi_conn.isolation_level = None


def _sqlite_begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The first word of a statement a read may send: anything else (INSERT, UPDATE, DELETE, DDL, COPY, LOCK, ...)
# on a read connection is a bug of the service, refused before it reaches the database.
READ_STATEMENTS = frozenset({"SELECT", "WITH", "SHOW", "VALUES"})


class WriteOnReadConnection(RuntimeError):
    """A GET/HEAD/OPTIONS request tried to write: its statements are not in a transaction."""


def _refuse_writes(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    first = statement.lstrip(" \n\t(").split(None, 1)[0].upper() if statement.strip() else ""
    if first not in READ_STATEMENTS:
        raise WriteOnReadConnection(f"A read request sent a {first or 'blank'} statement; reads may not write.")


def read_only_autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine for PostgreSQL reads: the same pool, in autocommit, so a read is its statements alone — no BEGIN
    and COMMIT round trips (two of a single-row read's three). PostgreSQL runs at READ COMMITTED, where every
    statement takes its own snapshot inside a transaction as well, so a read sees exactly what it saw inside one.
    What autocommit would change is a write (each statement would commit alone, and stay when the request
    fails): a read connection refuses any statement that is not a read."""
    reads = engine.execution_options(isolation_level="AUTOCOMMIT")
    event.listen(reads.sync_engine, "before_cursor_execute", _refuse_writes)
    return reads


class Database:
    """Engines + sessionmakers for one service; created in the lifespan, disposed on shutdown.

    On SQLite, reads (GET/HEAD/OPTIONS requests) get their own engine with deferred transactions so they never
    queue behind the write lock. On PostgreSQL they share the pool, in autocommit (``read_only_autocommit``)."""

    def __init__(self, url: str, *, pool_size: int = 12, max_overflow: int = 0) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        if url.startswith("sqlite"):
            self.read_engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow, immediate=False)
        else:
            self.read_engine = read_only_autocommit(self.engine)
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back when it raises.
    Nothing below the router calls commit(). Used with scope="function" so the commit happens before
    the response is sent: a failed commit becomes an error response, never a 200 for lost data."""
    async with request_session(request) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def is_read(request: Request) -> bool:
    """A GET/HEAD/OPTIONS request: served by the read engine (``Database``)."""
    return request.method in READ_METHODS


UnitOfWork = TypeVar("UnitOfWork", AsyncSession, AsyncConnection)


@asynccontextmanager
async def _one_transaction(unit: UnitOfWork) -> AsyncIterator[UnitOfWork]:
    """The request's transaction: committed when the block ends, rolled back when it raises (cancelled too)."""
    try:
        yield unit
    except BaseException:
        await unit.rollback()
        raise
    else:
        await unit.commit()


@asynccontextmanager
async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """``SessionDep`` without dependency injection, for the hottest reads (BENCHMARKS.md, request path): the same
    sessionmaker, committed when the block ends, rolled back when it raises — inside the endpoint, so before the
    response is sent, as ``SessionDep``'s function scope does. FastAPI's solving of a generator dependency costs
    more than the read itself on a small row."""
    db: Database = request.app.state.db
    maker = db.read_sessionmaker if is_read(request) else db.sessionmaker
    async with maker() as session, _one_transaction(session):
        yield session


# What a repository function that only sends Core statements accepts: the request's ORM session, or a Core
# connection (``request_connection``) — both execute a statement and give the same rows.
Executor = AsyncSession | AsyncConnection


@asynccontextmanager
async def request_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """``request_session`` without the ORM, for the hottest reads that only send Core statements: the same
    engine (reads: the read engine), committed when the block ends, rolled back when it raises. An ORM session
    around one small read costs about as much again as the read (its transaction object, autobegin, commit and
    close: 50–70 µs measured per read on both backends; BENCHMARKS.md, request path)."""
    db: Database = request.app.state.db
    engine = db.read_engine if is_read(request) else db.engine
    async with engine.connect() as conn, _one_transaction(conn):
        yield conn
