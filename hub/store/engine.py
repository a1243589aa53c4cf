"""Engine creation: SQLite (WAL, one writer at a time) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from hub.private_files import FILE_MODE, private_dir

READ_ONLY = "lienthong_read_only"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, a busy timeout and write-locking transactions."""
    parsed = make_url(url)
    # A failed statement's parameters (citizen IDs, message bodies, key hashes) stay out of the
    # exception text, and so out of every log line that quotes it.
    kwargs.setdefault("hide_parameters", True)
    pooled = "poolclass" not in kwargs  # a NullPool takes no pool sizes
    if parsed.get_backend_name() != "sqlite":
        if pooled:
            kwargs.setdefault("pool_size", 10)
            kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        database = Path(parsed.database)
        if not database.parent.exists():
            private_dir(database.parent)
        if not database.exists():  # 0600 from the start; SQLite gives its -wal and -shm files the same mode
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    # Keep enough pooled connections for the API's thread pool: a fresh SQLite connection costs
    # the PRAGMAs below.
    if pooled:
        kwargs.setdefault("pool_size", 40)
        kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later writes can fail
        # with SQLITE_BUSY at once instead of waiting out the busy timeout. Readers (see
        # ``reading``) begin deferred and never wait for a writer under WAL.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def reading(engine: Engine) -> Connection:
    """A connection for read-only work (``with reading(engine) as conn: ...``)."""
    return engine.connect().execution_options(**{READ_ONLY: True})


def is_sqlite(engine: Engine) -> bool:
    """True when ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"
