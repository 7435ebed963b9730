"""One bounded pool of worker threads for CPU work (gate passes, embedded renders).

Sized to the cores this process may use, so a story with many scenes never runs more decodes
and encodes at once than there are cores: the rest wait in the pool's queue holding nothing but
a path, which keeps memory flat in scene count. The event loop and the provider's I/O slots
(``--max-concurrency``) are separate from it: downloads and polls go on while every worker
is busy. PyAV, OpenCV and numpy release the GIL in their heavy loops, so threads suffice.

``VIDEO_AGENT_CPU_WORKERS`` overrides the size (an integer >= 1).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

ENV = "VIDEO_AGENT_CPU_WORKERS"

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_helpers: ThreadPoolExecutor | None = None


def cpu_workers() -> int:
    """Workers in the pool: ``VIDEO_AGENT_CPU_WORKERS``, else the cores this process may use."""
    raw = os.environ.get(ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{ENV}: {raw!r} is not an integer >= 1")
        return value
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def pool() -> ThreadPoolExecutor:
    """The process's CPU pool (made on first use)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=cpu_workers(), thread_name_prefix="cpu")
        return _pool


def helpers() -> ThreadPoolExecutor:
    """A second pool, as large, for the parts of one job that run beside it (the still read
    while a clip decodes, frame pairs tracked while other metrics are measured). Separate from
    ``pool()`` so a job waiting on its parts never waits for its own pool's workers."""
    global _helpers
    with _lock:
        if _helpers is None:
            _helpers = ThreadPoolExecutor(max_workers=cpu_workers(), thread_name_prefix="helper")
        return _helpers


async def run_cpu(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func`` in the CPU pool and await its result without blocking the event loop."""
    import asyncio  # here, not at the top: the gate's own process never starts a loop

    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), functools.partial(func, *args, **kwargs))
