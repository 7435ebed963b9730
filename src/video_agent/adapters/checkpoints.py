"""Checkpointers for the CLI and the server: SQLite under the output folder by default, or
PostgreSQL (``postgresql://...``) when several workers share stories.

The serializer is strict: it revives only the project's own state models (and LangGraph's safe
types), so a tampered checkpoint cannot instantiate arbitrary classes.

Thread safety: each checkpointer owns its connection (an ``aiosqlite`` connection, which runs
every statement on its own thread, or a psycopg connection) and is used from the event loop that
opened it; one is opened per run or server, never shared through a module-level cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiosqlite
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Durability
from pydantic import BaseModel

from video_agent import models

DURABILITY: Durability = "sync"
"""How the project's runs checkpoint (the CLI, the page, scene runs it starts on a server): each
step's checkpoint is written before the next step starts. LangGraph's default, ``"async"``, writes
it while the next step runs, so a kill could keep a step's side effects (an attempts-journal line,
a paid request) and lose the checkpoint of the step before it; the rerun would then ask for a new
clip where the killed run was judging the one it had."""


def state_serializer() -> JsonPlusSerializer:
    allowed = [("video_agent.models", name) for name, obj in vars(models).items()
               if inspect.isclass(obj) and issubclass(obj, BaseModel)
               and obj.__module__ == models.__name__]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


async def _use_wal(conn: aiosqlite.Connection) -> None:
    """Switch the file to WAL once (the file keeps it). Switching does not wait for a busy
    database, so while a run writes, a reader (``status``, the server) only checks the mode."""
    for _ in range(100):
        async with conn.execute("PRAGMA journal_mode") as cursor:
            row = await cursor.fetchone()
        if row and str(row[0]).lower() == "wal":
            return
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            await asyncio.sleep(0.05)
    raise sqlite3.OperationalError("checkpoints: could not switch the database to WAL")


def checkpoint_path(state_dir: Path) -> Path:
    return state_dir / "checkpoints.sqlite"


@contextlib.asynccontextmanager
async def sqlite_checkpointer(state_dir: Path) -> AsyncIterator[AsyncSqliteSaver]:
    """An ``AsyncSqliteSaver`` on ``<state_dir>/checkpoints.sqlite`` (created if missing).

    Every file touch runs off the event loop (the folder here, SQLite in aiosqlite's thread), so
    an async server (``langgraph dev`` with its blocking-call detector) can open it."""
    await asyncio.to_thread(state_dir.mkdir, parents=True, exist_ok=True)
    async with aiosqlite.connect(checkpoint_path(state_dir), timeout=30) as conn:
        await _use_wal(conn)
        await conn.execute("PRAGMA synchronous=NORMAL")
        saver = AsyncSqliteSaver(conn, serde=state_serializer())
        await saver.setup()
        yield saver


def describe(url: str | None) -> str:
    """Where checkpoints go, for messages: never shows a password."""
    if not url:
        return "sqlite"
    parsed = urlsplit(url)
    host = parsed.hostname or "local socket"
    return f"{parsed.scheme}://{host}{f':{parsed.port}' if parsed.port else ''}{parsed.path}"


def check_checkpoints(url: str | None) -> bool:
    """True for a ``postgresql://`` URL, False for SQLite (empty or ``sqlite``); a
    ``ValueError`` starting ``checkpoints:`` for any other URL or a missing extra."""
    if not url or url == "sqlite":
        return False
    scheme = urlsplit(url).scheme
    if scheme not in ("postgres", "postgresql"):
        raise ValueError(f"checkpoints: {scheme or url!r} is not supported "
                         "(use 'sqlite' or a postgresql:// URL)")
    try:
        import langgraph.checkpoint.postgres.aio  # noqa: F401
    except ImportError as exc:
        raise ValueError("checkpoints: PostgreSQL needs the 'postgres' extra "
                         "(pip install 'video-agent[postgres]')") from exc
    return True


async def probe_checkpoints(url: str | None, state_dir: Path) -> None:
    """Open the store once (creating its tables), so a server refuses a bad or unreachable
    store at start; ``ValueError`` as :func:`open_checkpointer` raises it."""
    if check_checkpoints(url):
        async with open_checkpointer(url, state_dir):
            pass


@contextlib.asynccontextmanager
async def open_checkpointer(url: str | None, state_dir: Path) -> AsyncIterator[Any]:
    """The checkpointer named by ``url``: empty or ``sqlite`` for the SQLite file under
    ``state_dir``, ``postgresql://...`` for PostgreSQL (tables created if missing)."""
    if not check_checkpoints(url):
        async with sqlite_checkpointer(state_dir) as saver:
            yield saver
        return
    assert url is not None
    import psycopg
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async with contextlib.AsyncExitStack() as stack:
        try:
            postgres = await stack.enter_async_context(
                AsyncPostgresSaver.from_conn_string(url, serde=state_serializer()))
            await postgres.setup()
        except psycopg.OperationalError as exc:
            raise ValueError(f"checkpoints: cannot reach {describe(url)} "
                             f"({str(exc).splitlines()[0] if str(exc) else exc})") from None
        yield postgres
