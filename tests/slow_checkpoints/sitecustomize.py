"""On a process's ``PYTHONPATH``, makes every SQLite checkpoint write take 0.3 s longer, as on a
busy disk: a step that follows a checkpoint then runs well before that checkpoint is on disk,
unless the run waits for it (its durability)."""

import asyncio
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

DELAY_S = 0.3
_put = AsyncSqliteSaver.aput


async def _slow_put(self: AsyncSqliteSaver, *args: Any, **kwargs: Any) -> Any:
    await asyncio.sleep(DELAY_S)
    return await _put(self, *args, **kwargs)


AsyncSqliteSaver.aput = _slow_put  # type: ignore[method-assign]
