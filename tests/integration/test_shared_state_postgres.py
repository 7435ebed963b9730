"""The fal request ledger and the upload and still caches in a real PostgreSQL database shared by
several workers (separate event loops, connections and state folders; separate processes for the
kill), against the fake fal server through the real fal-client."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiohttp import web
from PIL import Image

import fakefal_fixtures
import shared_state_fixtures
from fakefal_fixtures import make_request, make_still
from loopback import loopback_server
from video_agent.adapters.images import ImageSource
from video_agent.adapters.postgres import PostgresLedger, PostgresStillCache, close_pools, pool_for
from video_agent.adapters.providers.fal import make_fal_provider
from video_agent.adapters.providers.fal.budget import BudgetExceeded
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.adapters.providers.fal.ledger import request_key
from video_agent.adapters.state_stores import state_stores
from video_agent.models import GenerationResult
from video_agent_dev.fakefal import DUMMY_KEY

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal
pg_dsn = shared_state_fixtures.pg_dsn

pytestmark = pytest.mark.slow


def in_threads(count: int, work: Any) -> list[Any]:
    """Run ``work(i)`` (a coroutine function) in ``count`` threads, each with its own event loop,
    released together; return the results (or raise the first error)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        async def main() -> Any:
            try:
                barrier.wait(30)
                return await work(i)
            finally:
                await close_pools()
        try:
            results[i] = asyncio.run(main())
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def tables(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables"
                            " WHERE table_schema = current_schema() ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def test_concurrent_first_use_creates_the_tables_once(pg_dsn: str) -> None:
    in_threads(4, lambda i: pool_for(pg_dsn))
    assert tables(pg_dsn) == ["fal_charges", "fal_requests", "fal_uploads", "still_images",
                              "still_urls"]


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_two_workers_submit_one_request_once(backend: str, fake_fal, pg_dsn: str,
                                             tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", DUMMY_KEY)
    # The submit hangs a little, so the second worker arrives while the first one holds the key.
    fake_fal.call(lambda: fake_fal.fake.set_scenario("*", submit_delay_s=1.5, latency_s=0.5,
                                                     width=320, height=180))
    image = make_still(tmp_path / "still.png")
    dsn = pg_dsn if backend == "postgres" else None

    async def worker(i: int) -> GenerationResult:
        # PostgreSQL workers share nothing on disk (as on two machines); SQLite ones share .state.
        state = tmp_path / (f"worker{i}" if dsn else "shared") / ".state"
        provider = make_fal_provider(DEFAULT_PRIMARY, state_dir=state,
                                     timeout_s=60, budget_usd=None, state_db=dsn)
        request = make_request(image, tmp_path / f"work{i}")
        return await provider.generate(request, lambda f, m: None)

    results = in_threads(2, worker)
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}
    assert results[0].request_id == results[1].request_id
    # The second worker waited on the claim and followed the first one's request.
    assert sorted(bool(r.details.get("submitted_elsewhere")) for r in results) == [False, True]
    for result in results:
        assert Path(result.path).is_file() and result.details["submits"] == 1
    if dsn:
        entries = asyncio.run(_entries(dsn))
        assert [(e.status, e.submits) for e in entries] == [("downloaded", 1)]
        assert DUMMY_KEY.split(":")[1] not in repr(entries)


async def _entries(dsn: str) -> list[Any]:
    try:
        return await PostgresLedger(dsn).entries()
    finally:
        await close_pools()


CHILD = """
import asyncio, sys
from pathlib import Path
from video_agent.adapters.providers.fal import make_fal_provider
from video_agent.models import GenerationRequest

request = GenerationRequest.model_validate_json(Path(sys.argv[1]).read_text())
provider = make_fal_provider(sys.argv[2], state_dir=Path(sys.argv[3]), timeout_s=60,
                             budget_usd=None, state_db=sys.argv[4] or None)
asyncio.run(provider.generate(request, lambda f, m: None))
"""


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_a_worker_killed_holding_the_claim_does_not_block_the_others(
        backend: str, fake_fal, pg_dsn: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", DUMMY_KEY)
    dsn = pg_dsn if backend == "postgres" else ""
    # PostgreSQL workers share the database only; SQLite ones share the state folder.
    state_a, state_b = ((tmp_path / "a" / ".state", tmp_path / "b" / ".state") if dsn else
                        (tmp_path / "shared" / ".state",) * 2)
    fake_fal.call(lambda: fake_fal.fake.set_scenario("*", latency_s=0.3, width=320,
                                                     height=180))
    image = make_still(tmp_path / "still.png")
    request = make_request(image, tmp_path / "work")
    request_file = tmp_path / "request.json"
    request_file.write_text(request.model_dump_json())
    env = {**os.environ, **fake_fal.env(), "FAL_HOME_DIR": str(tmp_path / "fal_home"),
           "VIDEO_AGENT_KILL_AT": "fal_claimed"}
    child = subprocess.run([sys.executable, "-c", CHILD, str(request_file), DEFAULT_PRIMARY,
                            str(state_a), dsn], env=env,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -9, child.stderr  # killed after its claim, before the submit
    assert fake_fal.fake.submits == {}

    async def rerun() -> tuple[GenerationResult, float]:
        provider = make_fal_provider(DEFAULT_PRIMARY, state_dir=state_b,
                                     timeout_s=60, budget_usd=None, state_db=dsn or None)
        try:
            result = await provider.generate(request, lambda f, m: None)
            return result, await state_stores(state_b, dsn or None).ledger.spent("story")
        finally:
            await close_pools()

    result, spent = asyncio.run(rerun())
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}
    assert Path(result.path).is_file()
    assert spent == pytest.approx(result.cost), "the dead claim's charge was replaced"


def test_the_budget_holds_across_workers(pg_dsn: str) -> None:
    async def claim(i: int) -> str:
        ledger = state_stores(Path("/nonexistent"), pg_dsn).ledger
        key = request_key("budget", str(i), "primary", "a/b", "h")
        try:
            async with ledger.claim(key=key, story_id="budget", scene=str(i), slot="primary",
                                    endpoint="a/b", args_hash="h", args={}, cost=0.3,
                                    budget=0.5) as held:
                assert held.charge_id is not None
                await ledger.submitted(key, held.charge_id, f"req-{i}")
                return "charged"
        except BudgetExceeded:
            return "refused"

    assert sorted(in_threads(3, claim)) == ["charged", "refused", "refused"]


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (20, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
async def image_server() -> AsyncIterator[tuple[str, dict[str, int]]]:
    hits: dict[str, int] = {}

    async def handle(request: web.Request) -> web.Response:
        hits[request.path] = hits.get(request.path, 0) + 1
        return web.Response(body=jpeg(), content_type="image/jpeg")

    async with loopback_server(handle) as base:
        yield base, hits


async def test_stills_and_uploads_are_fetched_once_for_every_worker(
        image_server, pg_dsn: str, tmp_path: Path) -> None:
    base, hits = image_server
    try:
        first = await ImageSource(
            tmp_path / "a", allow_private_urls=True,
            stills=PostgresStillCache(pg_dsn, tmp_path / "a")).resolve(f"{base}/still.jpg")
        # Another worker, another disk: the still comes from the database, not the network.
        second = await ImageSource(
            tmp_path / "b", allow_private_urls=True,
            stills=PostgresStillCache(pg_dsn, tmp_path / "b")).resolve(f"{base}/still.jpg")
        assert hits == {"/still.jpg": 1}
        assert second.sha256 == first.sha256 and Path(second.path).parent == tmp_path / "b"
        assert Path(second.path).read_bytes() == jpeg()

        ledger = PostgresLedger(pg_dsn)
        await ledger.remember_upload(first.sha256, "host", "https://cdn.test/x.jpg")
        assert await PostgresLedger(pg_dsn).upload_url(first.sha256, "host", 60) == (
            "https://cdn.test/x.jpg")
        assert await ledger.upload_url(first.sha256, "other", 60) is None
        assert await ledger.upload_url(first.sha256, "host", -1) is None
        await ledger.forget_upload(first.sha256, "host")
        assert await ledger.upload_url(first.sha256, "host", 60) is None
    finally:
        await close_pools()


def test_bad_state_database_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="state_db: 'mysql' is not supported"):
        state_stores(tmp_path, "mysql://x/y")

    async def unreachable() -> None:
        await pool_for("postgresql://nobody:secret-pw@127.0.0.1:1/none?connect_timeout=1")

    with pytest.raises(ValueError, match="state database: cannot reach") as info:
        asyncio.run(unreachable())
    assert "secret-pw" not in str(info.value)
