"""What the fal provider needs from a request ledger and an upload cache, whatever holds them
(SQLite under the state folder, or PostgreSQL shared by many workers).

The exactly-once contract: ``claim`` hands the right to submit a request key to one caller at a
time, across processes and machines. Every other caller waits until the owner recorded its
request id (and then resumes that request) or until the owner is gone (its process died; then
the next caller claims the key). A key that already has a live request id is never submitted
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from video_agent.adapters.providers.base import ProviderError
from video_agent.adapters.providers.fal.ledger import LIVE, Entry

T = TypeVar("T")

CLAIM_WAIT_S = 300.0
"""Longest wait for another worker's submit of the same key to answer."""


@dataclass(frozen=True)
class Claim:
    """The outcome of ``claim``: either the right to submit (``charge_id``, the reserved cost)
    or another worker's live request to resume (``resume``)."""

    key: str
    charge_id: int | None = None
    resume: Entry | None = None


class RequestLedger(Protocol):
    async def get(self, key: str) -> Entry | None: ...

    async def entries(self, story_id: str | None = None) -> list[Entry]: ...

    def claim(self, *, key: str, story_id: str, scene: str, slot: str, endpoint: str,
              args_hash: str, args: dict[str, Any], cost: float, budget: float | None,
              wait_s: float = CLAIM_WAIT_S) -> contextlib.AbstractAsyncContextManager[Claim]:
        """Hold the right to submit ``key`` for the ``async with`` block (see the module).
        Raises ``BudgetExceeded`` when the estimate would pass ``budget``."""
        ...

    async def submitted(self, key: str, charge_id: int, request_id: str) -> None: ...

    async def release(self, key: str, charge_id: int, error: str) -> None: ...

    async def completed(self, key: str, result: dict[str, Any]) -> None: ...

    async def downloaded(self, key: str, path: str) -> None: ...

    async def failed(self, key: str, error: str, *, status: str = ...) -> None: ...

    async def spent(self, story_id: str) -> float: ...


class UploadCache(Protocol):
    """An image's content hash and storage host -> the URL it was uploaded to."""

    async def upload_url(self, sha256: str, host: str, max_age_s: float) -> str | None: ...

    async def remember_upload(self, sha256: str, host: str, url: str) -> None: ...

    async def forget_upload(self, sha256: str, host: str) -> None: ...


def resumable(entry: Entry | None) -> bool:
    return entry is not None and entry.status in LIVE and bool(entry.request_id)


async def claim_loop(key: str, *, try_lock: Callable[[], Awaitable[T | None]],
                     unlock: Callable[[Any], Awaitable[None]],
                     get: Callable[[str], Awaitable[Entry | None]],
                     reserve: Callable[[], Awaitable[int]], wait_s: float,
                     poll_s: float = 0.2) -> tuple[Claim, T | None]:
    """The claim protocol over a backend's liveness lock (``try_lock`` gives a token or None
    while another live owner holds the key; the lock dies with its process)."""
    deadline = time.monotonic() + wait_s
    while True:
        token = await try_lock()
        if token is not None:
            try:
                entry = await get(key)
                if resumable(entry):
                    await unlock(token)
                    return Claim(key, resume=entry), None
                charge = await reserve()
            except BaseException:
                await unlock(token)
                raise
            return Claim(key, charge_id=charge), token
        entry = await get(key)
        if resumable(entry):
            return Claim(key, resume=entry), None
        if time.monotonic() >= deadline:
            raise ProviderError(
                f"fal: another worker is submitting request {key[:12]} and recorded no request "
                f"id within {wait_s:g} s; nothing submitted", kind="timeout")
        await asyncio.sleep(poll_s)
