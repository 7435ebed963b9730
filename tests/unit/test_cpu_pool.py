"""The CPU pool: sized to the cores, bounded, and never blocking the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from video_agent import cpu_pool


def test_size_comes_from_the_environment_or_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cpu_pool.ENV, raising=False)
    import os

    assert cpu_pool.cpu_workers() == len(os.sched_getaffinity(0))
    monkeypatch.setenv(cpu_pool.ENV, "3")
    assert cpu_pool.cpu_workers() == 3
    for bad in ("0", "-2", "two"):
        monkeypatch.setenv(cpu_pool.ENV, bad)
        with pytest.raises(ValueError, match=f"{cpu_pool.ENV}: '{bad}'"):
            cpu_pool.cpu_workers()


def test_at_most_pool_size_jobs_run_at_once_and_the_loop_keeps_ticking() -> None:
    workers = cpu_pool.pool()._max_workers
    lock = threading.Lock()
    running = peak = 0

    def job() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.15)  # stands for a pass holding a worker
        with lock:
            running -= 1

    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick = asyncio.create_task(ticker())
        await asyncio.gather(*(cpu_pool.run_cpu(job) for _ in range(3 * workers)))
        tick.cancel()
        return ticks

    ticks = asyncio.run(main())
    assert peak == workers
    assert ticks >= 3 * 0.15 / 0.01 * 0.5  # the loop ran throughout the queued jobs
