"""A claim on the PostgreSQL ledger cancelled while it takes or drops its advisory lock never
hands the pool a session that still holds the lock (other workers would wait out their
timeout for a submitter that no longer exists)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

import shared_state_fixtures
from video_agent.adapters.postgres import PostgresLedger, close_pools, pool_for
from video_agent.adapters.postgres.pool import lock_id
from video_agent.adapters.providers.fal.ledger import request_key

pg_dsn = shared_state_fixtures.pg_dsn

pytestmark = pytest.mark.slow

KEY = request_key("story", "1", "primary", "a/b", "hash")


def _held_elsewhere(dsn: str) -> bool:
    """Whether some other session holds the claim lock of ``KEY`` (asked from a fresh one)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_id("fal_request", KEY),)
                           ).fetchone()
        assert row is not None
        return not row[0]


def _stall(monkeypatch: pytest.MonkeyPatch, query: str, *, after: bool) -> asyncio.Event:
    """Make the first ``query`` run by a pooled connection wait forever, just before it is sent
    or just after its answer came (where a cancellation lands); return an event set there."""
    reached = asyncio.Event()
    real = psycopg.AsyncConnection.execute

    async def execute(self: psycopg.AsyncConnection[Any], sql: Any, *args: Any,
                      **kwargs: Any) -> Any:
        if query not in str(sql) or reached.is_set():
            return await real(self, sql, *args, **kwargs)
        cursor = await real(self, sql, *args, **kwargs) if after else None
        reached.set()
        await asyncio.Event().wait()
        return cursor

    monkeypatch.setattr(psycopg.AsyncConnection, "execute", execute)
    return reached


async def _cancel_claim_at(dsn: str, reached: asyncio.Event) -> tuple[bool, int | None]:
    """Claim ``KEY``, cancel the claim where it stalls; return whether another session still
    finds the lock held and what a next claim in this worker gets."""
    ledger = PostgresLedger(dsn)
    await pool_for(dsn)

    async def claim() -> None:
        async with ledger.claim(key=KEY, story_id="story", scene="1", slot="primary",
                                endpoint="a/b", args_hash="hash", args={}, cost=0.25,
                                budget=None, wait_s=0.5):
            pass

    try:
        task = asyncio.create_task(claim())
        await asyncio.wait_for(reached.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        held = await asyncio.to_thread(_held_elsewhere, dsn)
        async with ledger.claim(key=KEY, story_id="story", scene="1", slot="primary",
                                endpoint="a/b", args_hash="hash", args={}, cost=0.25,
                                budget=None, wait_s=0.5) as again:
            return held, again.charge_id
    finally:
        await close_pools()


def test_a_claim_cancelled_as_its_lock_is_granted_does_not_keep_it(
        pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> tuple[bool, int | None]:
        reached = _stall(monkeypatch, "pg_try_advisory_lock", after=True)
        return await _cancel_claim_at(pg_dsn, reached)

    held, charge = asyncio.run(main())
    assert not held, "no pooled session holds the cancelled claim's lock"
    assert charge is not None


def test_a_claim_cancelled_while_dropping_its_lock_does_not_keep_it(
        pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> tuple[bool, int | None]:
        reached = _stall(monkeypatch, "pg_advisory_unlock", after=False)
        return await _cancel_claim_at(pg_dsn, reached)

    held, charge = asyncio.run(main())
    assert not held, "no pooled session holds the cancelled claim's lock"
    assert charge is not None
