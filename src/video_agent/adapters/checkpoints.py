"""Checkpointers for the CLI and the server: SQLite under the output folder by default.

The serializer is strict: it revives only the project's own state models (and LangGraph's safe
types), so a tampered checkpoint cannot instantiate arbitrary classes.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pydantic import BaseModel

from video_agent import models


def state_serializer() -> JsonPlusSerializer:
    allowed = [("video_agent.models", name) for name, obj in vars(models).items()
               if inspect.isclass(obj) and issubclass(obj, BaseModel)
               and obj.__module__ == models.__name__]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


def checkpoint_path(state_dir: Path) -> Path:
    return state_dir / "checkpoints.sqlite"


@contextlib.asynccontextmanager
async def sqlite_checkpointer(state_dir: Path) -> AsyncIterator[AsyncSqliteSaver]:
    """An ``AsyncSqliteSaver`` on ``<state_dir>/checkpoints.sqlite`` (created if missing)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(checkpoint_path(state_dir)) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        saver = AsyncSqliteSaver(conn, serde=state_serializer())
        await saver.setup()
        yield saver
