"""A claim on the SQLite ledger cancelled at any await leaves nothing that makes the next claim
of its key wait: not the ``flock`` (taken or released in a worker thread the cancelled task no
longer waits for), nor a reservation still being written by such a thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from video_agent.adapters.providers.base import ProviderError
from video_agent.adapters.providers.fal import sqlite_ledger
from video_agent.adapters.providers.fal.ledger import request_key
from video_agent.adapters.providers.fal.sqlite_ledger import SqliteLedger

KEY = request_key("story", "1", "primary", "a/b", "hash")
T = TypeVar("T")


def _claim(ledger: SqliteLedger, wait_s: float = 0.5) -> Any:
    return ledger.claim(key=KEY, story_id="story", scene="1", slot="primary", endpoint="a/b",
                        args_hash="hash", args={"prompt": "p"}, cost=0.25, budget=None,
                        wait_s=wait_s)


async def _charge(ledger: SqliteLedger) -> int | None:
    async with _claim(ledger) as claim:
        return claim.charge_id


def _run(main: Callable[[], Awaitable[T]]) -> T:
    """``main()`` on a loop whose default executor has a single worker thread, so a test can
    keep every worker thread busy."""
    async def wrapped() -> T:
        asyncio.get_running_loop().set_default_executor(
            concurrent.futures.ThreadPoolExecutor(max_workers=1))
        return await main()

    return asyncio.run(wrapped())


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_claim_cancelled_while_its_release_waits_for_a_thread_frees_the_key(
        tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path)
    gate = threading.Event()

    async def main() -> int | None:
        loop = asyncio.get_running_loop()
        in_block = asyncio.Event()
        blocker: asyncio.Future[bool] | None = None

        async def holder() -> None:
            nonlocal blocker
            async with _claim(ledger):
                # Every worker thread is now busy: a release run in one would wait in the queue.
                blocker = loop.run_in_executor(None, gate.wait, 10)
                in_block.set()
            await asyncio.sleep(10)

        task = asyncio.create_task(holder())
        await in_block.wait()
        await asyncio.sleep(0)  # the holder leaves its block and awaits its release
        await _cancel(task)
        gate.set()
        assert blocker is not None and await blocker
        return await _charge(ledger)

    assert _run(main) is not None, "the cancelled claim's lock is gone"


def test_a_claim_cancelled_while_a_thread_takes_its_lock_frees_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Were the lock taken in a worker thread, the thread would finish taking it after the task
    was cancelled; the test holds such a thread right there."""
    ledger = SqliteLedger(tmp_path)
    taken, go = threading.Event(), threading.Event()
    real = SqliteLedger._try_lock

    def try_lock(self: SqliteLedger, key: str) -> Any:
        lock = real(self, key)
        if threading.current_thread() is not threading.main_thread():
            taken.set()
            go.wait(10)
        return lock

    monkeypatch.setattr(SqliteLedger, "_try_lock", try_lock)

    async def main() -> int | None:
        in_block = asyncio.Event()

        async def holder() -> None:
            async with _claim(ledger):
                in_block.set()
                await asyncio.sleep(10)

        task = asyncio.create_task(holder())
        while not (taken.is_set() or in_block.is_set()):
            await asyncio.sleep(0.01)
        await _cancel(task)
        go.set()
        await asyncio.sleep(0.1)  # a thread held above returns its lock to nobody
        return await _charge(ledger)

    assert _run(main) is not None, "the cancelled claim's lock is gone"


def test_a_reservation_still_being_written_keeps_the_key_until_it_is_done(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancelled claim's reservation goes on in its thread: nobody else may reserve the key
    (and have its request id wiped by that late write) until the thread has finished."""
    ledger = SqliteLedger(tmp_path)
    inside, go = threading.Event(), threading.Event()
    real = ledger.sync.reserve

    def reserve(**kwargs: Any) -> int:
        if not inside.is_set():  # the first reservation is held in its thread
            inside.set()
            go.wait(10)
        return real(**kwargs)

    monkeypatch.setattr(ledger.sync, "reserve", reserve)

    async def main() -> tuple[str, int | None]:
        task = asyncio.create_task(_charge(ledger))
        while not inside.is_set():
            await asyncio.sleep(0.01)
        await _cancel(task)
        try:
            await _charge(ledger)
            during = "claimed"
        except ProviderError as error:
            during = error.kind
        go.set()
        for _ in range(100):  # the orphaned reservation finishes, then the lock is dropped
            try:
                return during, await _charge(ledger)
            except ProviderError:
                await asyncio.sleep(0.05)
        return during, None

    during, after = asyncio.run(main())
    assert during == "timeout", "the key stayed held while the reservation was written"
    assert after is not None, "then it was freed"
    entry = ledger.sync.get(KEY)
    assert entry is not None and entry.status == "reserved"
    assert ledger.sync.spent("story") == pytest.approx(0.25), "one reservation, charged once"


def test_a_released_lock_is_not_used_again(tmp_path: Path) -> None:
    lock = SqliteLedger(tmp_path)._try_lock(KEY)
    assert lock is not None
    lock.release()
    with pytest.raises(RuntimeError, match="after its release"):
        asyncio.run(lock.run(lambda: None))
    assert isinstance(lock, sqlite_ledger._FileLock)
