"""The SQLite request ledger (``Ledger``) behind the async ``RequestLedger`` protocol.

The right to submit a key is an exclusive ``flock`` on ``<state_dir>/fal_claims/<key>.lock``:
the operating system drops it when its process dies, so a crashed owner never blocks a rerun.

Thread safety: every call runs the synchronous ``Ledger`` in a worker thread (a SQLite connection
per operation), and every claim opens a lock file descriptor of its own: a ``flock`` belongs to
one open file, so two scenes of one process exclude each other just as two processes do.

Cancellation: taking, using and dropping the ``flock`` run in worker threads (file system calls
never block the event loop, which the LangGraph server checks), each shielded from the caller's
cancellation: a lock taken for a cancelled claim is dropped as soon as its thread hands it over,
a release is never dropped from the executor's queue, and a reservation under way when its claim
is cancelled keeps the lock until that thread has finished with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from video_agent.adapters.providers.fal.ledger import FAILED, Entry, Ledger
from video_agent.adapters.providers.fal.ledger_base import CLAIM_WAIT_S, Claim, claim_loop

T = TypeVar("T")


class _FileLock:
    """An exclusive ``flock`` on one open lock file, dropped by ``release`` once no worker thread
    started by ``run`` is still inside the claim (a cancelled caller does not stop its thread)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._guard = threading.Lock()
        self._busy = 0
        self._released = False
        self._closed = False

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` in a worker thread that keeps the lock held until it returns, even when the
        awaiting task is cancelled first (the thread is never dropped from the queue)."""
        with self._guard:
            if self._released:
                raise RuntimeError(f"fal: claim lock {self.fd} used after its release")
            self._busy += 1

        def call() -> T:
            try:
                return fn()
            finally:
                self._leave()

        return await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, call))

    def release(self) -> None:
        with self._guard:
            self._released = True
            close = self._busy == 0
        if close:
            self._close()

    def _leave(self) -> None:
        with self._guard:
            self._busy -= 1
            close = self._released and self._busy == 0
        if close:
            self._close()

    def _close(self) -> None:
        with self._guard:
            if self._closed:
                return
            self._closed = True
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)


async def _release(lock: _FileLock) -> None:
    """Drop ``lock`` in a worker thread; a cancelled caller does not stop the release."""
    await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, lock.release))


def _release_unclaimed(taking: asyncio.Future[_FileLock | None]) -> None:
    """Drop a lock whose claim was cancelled while its thread was taking it."""
    if not taking.cancelled() and taking.exception() is None and (lock := taking.result()):
        lock.release()  # on the loop: one flock and one close, never waiting


class SqliteLedger:
    """``RequestLedger`` and ``UploadCache`` on ``<state_dir>/fal_ledger.sqlite3``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.sync = Ledger(self.state_dir)

    def _try_lock(self, key: str) -> _FileLock | None:
        folder = self.state_dir / "fal_claims"
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return _FileLock(fd)

    @contextlib.asynccontextmanager
    async def claim(self, *, key: str, story_id: str, scene: str, slot: str, endpoint: str,
                    args_hash: str, args: dict[str, Any], cost: float, budget: float | None,
                    wait_s: float = CLAIM_WAIT_S) -> AsyncIterator[Claim]:
        held: list[_FileLock] = []

        async def try_lock() -> _FileLock | None:
            taking = asyncio.get_running_loop().run_in_executor(None, self._try_lock, key)
            try:
                lock = await asyncio.shield(taking)
            except asyncio.CancelledError:
                taking.add_done_callback(_release_unclaimed)  # the thread may still take it
                raise
            if lock is not None:
                held.append(lock)
            return lock

        async def unlock(lock: _FileLock) -> None:
            await _release(lock)

        async def reserve() -> int:
            return await held[-1].run(functools.partial(
                self.sync.reserve, key=key, story_id=story_id, scene=scene, slot=slot,
                endpoint=endpoint, args_hash=args_hash, args=args, cost=cost, budget=budget))

        claim, lock = await claim_loop(key, try_lock=try_lock, unlock=unlock, get=self.get,
                                       reserve=reserve, wait_s=wait_s)
        try:
            yield claim
        finally:
            if lock is not None:
                await _release(lock)

    async def get(self, key: str) -> Entry | None:
        return await asyncio.to_thread(self.sync.get, key)

    async def entries(self, story_id: str | None = None) -> list[Entry]:
        return await asyncio.to_thread(self.sync.entries, story_id)

    async def submitted(self, key: str, charge_id: int, request_id: str) -> None:
        await asyncio.to_thread(self.sync.submitted, key, charge_id, request_id)

    async def release(self, key: str, charge_id: int, error: str) -> None:
        await asyncio.to_thread(self.sync.release, key, charge_id, error)

    async def completed(self, key: str, result: dict[str, Any]) -> None:
        await asyncio.to_thread(self.sync.completed, key, result)

    async def downloaded(self, key: str, path: str) -> None:
        await asyncio.to_thread(self.sync.downloaded, key, path)

    async def failed(self, key: str, error: str, *, status: str = FAILED) -> None:
        await asyncio.to_thread(lambda: self.sync.failed(key, error, status=status))

    async def spent(self, story_id: str) -> float:
        return await asyncio.to_thread(self.sync.spent, story_id)

    async def upload_url(self, sha256: str, host: str, max_age_s: float) -> str | None:
        return await asyncio.to_thread(self.sync.upload_url, sha256, host, max_age_s)

    async def remember_upload(self, sha256: str, host: str, url: str) -> None:
        await asyncio.to_thread(self.sync.remember_upload, sha256, host, url)

    async def forget_upload(self, sha256: str, host: str) -> None:
        await asyncio.to_thread(self.sync.forget_upload, sha256, host)
