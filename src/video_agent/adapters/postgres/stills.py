"""The still cache in PostgreSQL (``StillCache``): verified stills by content hash, and the URLs
they were fetched from, for every worker. Each worker keeps its own local copy of a still under
its cache folder, written from the database the first time it needs one."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

from video_agent.adapters.images import FORMATS, atomic_write
from video_agent.adapters.postgres.pool import pool_for
from video_agent.models import LocalImage


class PostgresStillCache:
    def __init__(self, dsn: str, cache_dir: Path) -> None:
        self.dsn = dsn
        self.cache_dir = Path(cache_dir)

    def __repr__(self) -> str:
        return f"PostgresStillCache({str(self.cache_dir)!r})"

    async def lookup(self, url: str) -> LocalImage | None:
        pool = await pool_for(self.dsn)
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT sha256, width, height, format FROM still_urls WHERE url=%s", (url,))
            row = await cur.fetchone()
            if row is None:
                return None
            sha256, fmt = row["sha256"], row["format"]  # type: ignore[call-overload]
            path = self.cache_dir / f"{sha256}.{FORMATS[fmt]}"
            if not await asyncio.to_thread(path.is_file):
                cur = await conn.execute("SELECT data FROM still_images WHERE sha256=%s",
                                         (sha256,))
                blob = await cur.fetchone()
                data = bytes(blob["data"]) if blob else b""  # type: ignore[call-overload]
                if hashlib.sha256(data).hexdigest() != sha256:
                    return None  # fetch it again rather than trust a damaged copy
                await asyncio.to_thread(atomic_write, path, data)
        return LocalImage(path=str(path), sha256=sha256, width=row["width"],  # type: ignore[call-overload]
                          height=row["height"], format=fmt, source=url)  # type: ignore[call-overload]

    async def remember(self, url: str | None, image: LocalImage, data: bytes) -> None:
        pool = await pool_for(self.dsn)
        now = time.time()
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO still_images(sha256, format, data, at) VALUES (%s,%s,%s,%s)"
                " ON CONFLICT (sha256) DO NOTHING", (image.sha256, image.format, data, now))
            if url is not None:
                await conn.execute(
                    "INSERT INTO still_urls(url, sha256, width, height, format, at)"
                    " VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (url) DO UPDATE SET"
                    " sha256=excluded.sha256, width=excluded.width, height=excluded.height,"
                    " format=excluded.format, at=excluded.at",
                    (url, image.sha256, image.width, image.height, image.format, now))
