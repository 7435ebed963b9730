"""One psycopg connection pool per event loop and DSN, and the tables, created on first use.

The DDL is idempotent and runs inside a transaction-scoped advisory lock, so several processes
starting at once create each table exactly once.

Thread safety: a psycopg async pool (and every connection in it) belongs to the event loop that
opened it and is never handed to another loop; the per-loop tables are read and written under a
thread lock (never held across an ``await``), since loops in other threads use them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import weakref
from collections.abc import AsyncIterator

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from video_agent.adapters.checkpoints import describe

_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncConnectionPool]] = (
    weakref.WeakKeyDictionary())
_USERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()
_OPENING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary())
_TABLES_LOCK = threading.Lock()
"""Guards ``_POOLS``, ``_USERS`` and ``_OPENING`` (their per-loop entries are added and removed
from the threads running those loops)."""
MAX_CONNECTIONS = 20

SCHEMA = """
CREATE TABLE IF NOT EXISTS fal_requests (
  key TEXT PRIMARY KEY, story_id TEXT NOT NULL, scene TEXT NOT NULL, slot TEXT NOT NULL,
  endpoint TEXT NOT NULL, args_hash TEXT NOT NULL, status TEXT NOT NULL,
  request_id TEXT, cost DOUBLE PRECISION NOT NULL DEFAULT 0, args TEXT, result TEXT,
  video_path TEXT, error TEXT, submitted_at DOUBLE PRECISION,
  updated_at DOUBLE PRECISION NOT NULL, submits INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS fal_charges (
  id BIGSERIAL PRIMARY KEY, story_id TEXT NOT NULL, key TEXT NOT NULL, request_id TEXT,
  cost DOUBLE PRECISION NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS fal_charges_story ON fal_charges(story_id);
CREATE TABLE IF NOT EXISTS fal_uploads (
  sha256 TEXT NOT NULL, host TEXT NOT NULL, url TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (sha256, host));
CREATE TABLE IF NOT EXISTS still_images (
  sha256 TEXT PRIMARY KEY, format TEXT NOT NULL, data BYTEA NOT NULL,
  at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS still_urls (
  url TEXT PRIMARY KEY, sha256 TEXT NOT NULL REFERENCES still_images(sha256),
  width INTEGER NOT NULL, height INTEGER NOT NULL, format TEXT NOT NULL,
  at DOUBLE PRECISION NOT NULL);
"""


def lock_id(*parts: str) -> int:
    """A signed 64-bit advisory lock id for ``parts``."""
    digest = hashlib.sha256("\0".join(("video_agent", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def pool_for(dsn: str) -> AsyncConnectionPool:
    """The open pool for ``dsn`` on the running loop (tables created on its first opening).

    Raises ``ValueError`` naming the database (never its password) when it is unreachable.
    """
    loop = asyncio.get_running_loop()
    with _TABLES_LOCK:
        pools = _POOLS.setdefault(loop, {})
        opening = _OPENING.setdefault(loop, asyncio.Lock())
    if dsn in pools:
        return pools[dsn]
    async with opening:
        if dsn in pools:
            return pools[dsn]
        pool = AsyncConnectionPool(dsn, min_size=1, max_size=MAX_CONNECTIONS, open=False,
                                   kwargs={"autocommit": True, "row_factory": dict_row})
        try:
            await pool.open(wait=True, timeout=15)
            async with pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id("schema"),))
                await conn.execute(SCHEMA)
        except PoolTimeout:
            await pool.close()
            raise ValueError(f"state database: cannot reach {describe(dsn)}") from None
        except BaseException:
            await pool.close()
            raise
        pools[dsn] = pool
        return pool


async def close_pools() -> None:
    """Close every pool of the running loop."""
    loop = asyncio.get_running_loop()
    with _TABLES_LOCK:
        pools = _POOLS.pop(loop, {})
    for pool in pools.values():
        await pool.close()


@contextlib.asynccontextmanager
async def pools_in_use() -> AsyncIterator[None]:
    """Keep the running loop's pools open while any story run on it needs them; the last run
    to leave closes them (a server runs several stories on one loop)."""
    loop = asyncio.get_running_loop()
    with _TABLES_LOCK:
        _USERS[loop] = _USERS.get(loop, 0) + 1
    try:
        yield
    finally:
        with _TABLES_LOCK:
            _USERS[loop] -= 1
            last = not _USERS[loop]
        if last:
            await close_pools()
