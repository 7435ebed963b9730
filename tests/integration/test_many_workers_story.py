"""A whole story through the CLI with checkpoints, the fal ledger and caches in PostgreSQL and
the clips in S3 (moto on loopback), against the fake fal server: the same scenes and clip facts as
with SQLite and the output folder, nothing paid twice on a rerun, no secret stored."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

import fakefal_fixtures
import shared_state_fixtures
from conftest import run_cli, still, write_story
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.adapters.storage.s3 import S3Storage
from video_agent_dev.fakefal import DUMMY_KEY
from videocheck import assert_spec_clip

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal
pg_dsn = shared_state_fixtures.pg_dsn
s3_server = shared_state_fixtures.s3_server
s3_env = shared_state_fixtures.s3_env

pytestmark = pytest.mark.slow

FACTS = ("duration", "resolution", "fps", "provider", "model", "slot", "generation_params",
         "scene_elements", "cost_usd")


def facts(metadata: dict[str, Any]) -> dict[str, Any]:
    return {**{k: metadata[k] for k in FACTS},
            "verdict": metadata["quality"]["verdict"],
            "provider_args": {k: v for k, v in metadata["provider_args"].items()
                              if k != "image_url"}}


def test_story_on_postgres_and_s3_matches_sqlite_and_folder(
        fake_fal, pg_dsn: str, s3_env: dict[str, str], tmp_path: Path) -> None:
    fake_fal.call(lambda: fake_fal.fake.set_scenario("*", latency_s=0.2))
    story_id = f"workers_{uuid.uuid4().hex[:8]}"
    story = write_story(tmp_path / "story.json", story_id, [
        {"scene_number": 1, "scene_content": "A slow push-in on the harbour at dawn.",
         "image_path": str(still(tmp_path / "a.jpg")), "layer1_analysis": "Slow push-in."},
        {"scene_number": 2, "scene_content": "A gentle pan across the market.",
         "image_path": str(still(tmp_path / "b.jpg", seed=1)), "layer1_analysis": "Pan."}])
    env = {**fake_fal.env(), "FAL_HOME_DIR": str(tmp_path / "fal_home")}
    common = ("--primary", f"fal:{DEFAULT_PRIMARY}", "--fallback", "local")

    local = run_cli("run", str(story), "--out", str(tmp_path / "local"), *common, env=env)
    assert local.returncode == 0, local.stdout + local.stderr
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 2}

    bucket_url = f"s3://clips/{story_id}-run"
    out = tmp_path / "worker"
    shared = ("--out", str(out), "--checkpoints", pg_dsn, "--storage", bucket_url)
    first = run_cli("run", str(story), *shared, *common, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 4}, "its own ledger: submitted anew"
    assert "s3://clips/" in first.stdout

    storage = S3Storage(bucket_url, work_root=out)
    for scene in ("1", "2"):
        stored = json.loads((tmp_path / "local" / story_id / f"scene_{scene}" /
                             "metadata.json").read_text())
        video = asyncio.run(storage.current(story_id, scene))
        assert video is not None and video.version == 1
        assert facts(video.metadata) == facts(stored["metadata"])
        clip = tmp_path / f"s3_scene_{scene}.mp4"
        clip.write_bytes(httpx.get(video.video_url).content)
        assert_spec_clip(clip)
        assert DUMMY_KEY not in video.model_dump_json()

    # Nothing of the run stayed on this worker's disk but its copies of the stills.
    assert not any(p.suffix == ".mp4" for p in out.rglob("*"))
    assert not (out / ".state" / "checkpoints.sqlite").exists()
    assert not (out / ".state" / "fal_ledger.sqlite3").exists()
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT status, submits, args FROM fal_requests"
                            " WHERE story_id = %s", (story_id,)).fetchall()
        stills = conn.execute("SELECT count(*) FROM still_images").fetchone()
    assert sorted((r[0], r[1]) for r in rows) == [("downloaded", 1), ("downloaded", 1)]
    assert all(DUMMY_KEY not in (r[2] or "") for r in rows)
    assert stills == (2,)

    # Another worker (another output folder) resumes nothing and pays nothing.
    other = ("--out", str(tmp_path / "worker2"), "--checkpoints", pg_dsn,
             "--storage", bucket_url)
    again = run_cli("run", str(story), *other, *common, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 4}
    assert asyncio.run(storage.versions(story_id, "1")) == [1]

    status = run_cli("status", story_id, *other, env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.count("done") == 2, status.stdout
