"""The fal request ledger and upload cache in PostgreSQL (``RequestLedger``, ``UploadCache``).

Tables as in the SQLite ledger. The right to submit a key is a session advisory lock held on
one pooled connection for the claim: PostgreSQL releases it when the owner's connection drops,
so a crashed worker never blocks the others. A claim cancelled (or failing) while taking or
dropping that lock closes its connection rather than pool a session that may still hold it.
Charges are reserved under a per-story transaction lock, so concurrent workers cannot overshoot
a budget together.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from video_agent.adapters.postgres.pool import lock_id, pool_for
from video_agent.adapters.providers.fal.budget import BudgetExceeded, over_budget
from video_agent.adapters.providers.fal.ledger import (
    COMPLETED,
    DOWNLOADED,
    FAILED,
    RESERVED,
    SUBMITTED,
    Entry,
    _entry,
)
from video_agent.adapters.providers.fal.ledger_base import CLAIM_WAIT_S, Claim, claim_loop


class PostgresLedger:
    """``RequestLedger`` and ``UploadCache`` in the database named by ``dsn``."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def __repr__(self) -> str:
        return "PostgresLedger()"

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[AsyncConnection[Any]]:
        pool = await pool_for(self.dsn)
        async with pool.connection() as conn:
            yield conn

    # ------------------------------------------------------------------ requests

    async def get(self, key: str) -> Entry | None:
        async with self._conn() as conn:
            cur = await conn.execute("SELECT * FROM fal_requests WHERE key=%s", (key,))
            row = await cur.fetchone()
        return _entry(row) if row else None

    async def entries(self, story_id: str | None = None) -> list[Entry]:
        async with self._conn() as conn:
            if story_id is None:
                cur = await conn.execute("SELECT * FROM fal_requests ORDER BY updated_at")
            else:
                cur = await conn.execute(
                    "SELECT * FROM fal_requests WHERE story_id=%s ORDER BY updated_at",
                    (story_id,))
            rows = await cur.fetchall()
        return [_entry(r) for r in rows]

    @contextlib.asynccontextmanager
    async def claim(self, *, key: str, story_id: str, scene: str, slot: str, endpoint: str,
                    args_hash: str, args: dict[str, Any], cost: float, budget: float | None,
                    wait_s: float = CLAIM_WAIT_S) -> AsyncIterator[Claim]:
        pool = await pool_for(self.dsn)
        lock = lock_id("fal_request", key)

        async def try_lock() -> AsyncConnection[Any] | None:
            conn = await pool.getconn()
            try:
                cur = await conn.execute("SELECT pg_try_advisory_lock(%s) AS owned", (lock,))
                row = await cur.fetchone()
            except BaseException:
                # Cancelled or failed, the lock may be taken all the same: end the session.
                await _discard(pool, conn)
                raise
            if row and row["owned"]:  # type: ignore[call-overload]
                return conn
            await pool.putconn(conn)
            return None

        async def unlock(conn: AsyncConnection[Any]) -> None:
            try:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))
            except BaseException:
                await _discard(pool, conn)
                raise
            await pool.putconn(conn)

        async def reserve() -> int:
            return await self._reserve(key=key, story_id=story_id, scene=scene, slot=slot,
                                       endpoint=endpoint, args_hash=args_hash, args=args,
                                       cost=cost, budget=budget)

        claim, conn = await claim_loop(key, try_lock=try_lock, unlock=unlock, get=self.get,
                                       reserve=reserve, wait_s=wait_s)
        try:
            yield claim
        finally:
            if conn is not None:
                await unlock(conn)

    async def _reserve(self, *, key: str, story_id: str, scene: str, slot: str, endpoint: str,
                       args_hash: str, args: dict[str, Any], cost: float,
                       budget: float | None) -> int:
        now = time.time()
        async with self._conn() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id("budget", story_id),))
            # A reservation whose submit never got an id (a crash mid-submit) is replaced.
            await conn.execute("DELETE FROM fal_charges WHERE key=%s AND request_id IS NULL",
                               (key,))
            spent = await _spent(conn, story_id)
            if over_budget(spent, cost, budget):
                assert budget is not None
                raise BudgetExceeded(story_id=story_id, spent=spent, estimate=cost,
                                     budget=budget)
            cur = await conn.execute(
                "INSERT INTO fal_charges(story_id, key, cost, at) VALUES (%s,%s,%s,%s)"
                " RETURNING id", (story_id, key, cost, now))
            row = await cur.fetchone()
            await conn.execute(
                "INSERT INTO fal_requests(key, story_id, scene, slot, endpoint, args_hash,"
                " status, cost, args, updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
                " ON CONFLICT (key) DO UPDATE SET status=excluded.status, request_id=NULL,"
                " cost=excluded.cost, args=excluded.args, result=NULL, video_path=NULL,"
                " error=NULL, submitted_at=NULL, updated_at=excluded.updated_at",
                (key, story_id, scene, slot, endpoint, args_hash, RESERVED, cost,
                 json.dumps(args), now))
        assert row is not None
        return int(row["id"])

    async def submitted(self, key: str, charge_id: int, request_id: str) -> None:
        now = time.time()
        async with self._conn() as conn, conn.transaction():
            await conn.execute("UPDATE fal_charges SET request_id=%s WHERE id=%s",
                               (request_id, charge_id))
            await conn.execute(
                "UPDATE fal_requests SET status=%s, request_id=%s, submitted_at=%s,"
                " updated_at=%s, submits=submits+1 WHERE key=%s",
                (SUBMITTED, request_id, now, now, key))

    async def release(self, key: str, charge_id: int, error: str) -> None:
        async with self._conn() as conn, conn.transaction():
            await conn.execute("DELETE FROM fal_charges WHERE id=%s", (charge_id,))
            await conn.execute(
                "UPDATE fal_requests SET status=%s, error=%s, updated_at=%s WHERE key=%s",
                (FAILED, error, time.time(), key))

    async def completed(self, key: str, result: dict[str, Any]) -> None:
        await self._set(key, status=COMPLETED, result=json.dumps(result))

    async def downloaded(self, key: str, path: str) -> None:
        await self._set(key, status=DOWNLOADED, video_path=path)

    async def failed(self, key: str, error: str, *, status: str = FAILED) -> None:
        await self._set(key, status=status, error=error)

    async def _set(self, key: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        names = ", ".join(f"{name}=%s" for name in fields)  # names are this module's own
        async with self._conn() as conn:
            await conn.execute(f"UPDATE fal_requests SET {names} WHERE key=%s",
                               (*fields.values(), key))

    async def spent(self, story_id: str) -> float:
        async with self._conn() as conn:
            return await _spent(conn, story_id)

    # ------------------------------------------------------------------ uploads

    async def upload_url(self, sha256: str, host: str, max_age_s: float) -> str | None:
        async with self._conn() as conn:
            cur = await conn.execute(
                "SELECT url, at FROM fal_uploads WHERE sha256=%s AND host=%s", (sha256, host))
            row = await cur.fetchone()
        if row is None or time.time() - row["at"] > max_age_s:
            return None
        return str(row["url"])

    async def remember_upload(self, sha256: str, host: str, url: str) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO fal_uploads(sha256, host, url, at) VALUES (%s,%s,%s,%s)"
                " ON CONFLICT (sha256, host) DO UPDATE SET url=excluded.url, at=excluded.at",
                (sha256, host, url, time.time()))

    async def forget_upload(self, sha256: str, host: str) -> None:
        async with self._conn() as conn:
            await conn.execute("DELETE FROM fal_uploads WHERE sha256=%s AND host=%s",
                               (sha256, host))


async def _discard(pool: AsyncConnectionPool, conn: AsyncConnection[Any]) -> None:
    """Close ``conn`` (its session's advisory locks die with it) and hand it back to ``pool``,
    which replaces it: a connection still holding a claim never returns to the pool."""
    await conn.close()  # no await inside unless the pool asked for it; nothing to cancel
    await pool.putconn(conn)


async def _spent(conn: AsyncConnection[Any], story_id: str) -> float:
    cur = await conn.execute(
        "SELECT COALESCE(SUM(cost), 0) AS total FROM fal_charges WHERE story_id=%s", (story_id,))
    row = await cur.fetchone()
    return float(row["total"]) if row else 0.0
