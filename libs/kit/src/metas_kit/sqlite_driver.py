"""SQLAlchemy's aiosqlite adapter with one thread hand-off per statement instead of four.

aiosqlite runs every call on the connection's own thread: SQLAlchemy's adapter makes a cursor (one hand-off),
executes (two: execute, then fetchall when the statement returns rows) and closes it (one more), each a queue put,
a wake-up of the worker thread and a callback back into the event loop. This cursor does all of it in one call on
that thread — make the sqlite3 cursor, execute, fetch every row, note ``description``, ``rowcount`` and
``lastrowid``, close — and serves the rows from memory, as the adapter already did after its ``fetchall``. Same
SQL, same connection, same transaction, same errors (raised through the adapter's own handler); commit, rollback
and server-side cursors (``stream``) are the adapter's unchanged.

Used by ``metas_kit.db.make_engine`` through ``create_async_engine(..., module=one_hop_dbapi())``. It rests on
internals of the pinned versions (sqlalchemy 2.1.9's ``AsyncAdapt_aiosqlite_*``, aiosqlite 0.22.1's
``Connection._execute`` and ``_conn``); tests/kit/test_kit_sqlite_driver.py checks the behaviour on them.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_


def _run(
    conn: sqlite3.Connection, operation: Any, parameters: Any, many: bool
) -> tuple[Any, int, Any, list[Any], bool]:
    """On the connection's thread: the whole statement, its rows, what the cursor tells of it and whether a
    transaction is open after it."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows, conn.in_transaction
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one hand-off to the connection's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor is opened here (the adapter's __init__ would spend a hand-off on it).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None  # nothing is open: the statement's cursor was closed on the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._one_hop(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._one_hop(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _one_hop(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        adapted: OneHopConnection = self._adapt_connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            adapted._in_transaction = True  # until the statement says otherwise (it may fail half-way)
            description, rowcount, lastrowid, rows, adapted._in_transaction = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """The adapter's connection with the one-hop cursor. It also knows whether a transaction is open (told by
    every statement it ran, and unknown — so assumed open — after a server-side cursor), so the rollback the pool
    does when a connection comes back after a COMMIT costs no hand-off: SQLite's own rollback does nothing then
    either."""

    __slots__ = ("_in_transaction",)
    _cursor_cls = OneHopCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._in_transaction = True  # not known yet

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            self._in_transaction = True  # its statements bypass the one-hop cursor
        return super().cursor(server_side)

    def commit(self) -> None:
        super().commit()
        self._in_transaction = False

    def rollback(self) -> None:
        if not self._in_transaction:
            return
        super().rollback()
        self._in_transaction = False


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
