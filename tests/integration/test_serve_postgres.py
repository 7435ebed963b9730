"""Two served apps sharing one PostgreSQL (checkpoints, ledger) and one S3 bucket (clips), each
with its own output folder: a story started on the first is read and has a scene rerun on the
second. The ``serve`` command checks ``--checkpoints`` the way ``run`` does."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from test_serve_http import SERVE_CLI, read_events

import shared_state_fixtures
from conftest import still
from serve_fixtures import FAST, scene, serving

pg_dsn = shared_state_fixtures.pg_dsn
s3_server = shared_state_fixtures.s3_server
s3_env = shared_state_fixtures.s3_env

pytestmark = pytest.mark.slow


def checkpoint_rows(dsn: str, thread: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select count(*) from checkpoints where thread_id = %s",
                           (thread,)).fetchone()
    return int(row[0]) if row else 0


def test_story_started_on_one_server_is_read_and_rerun_on_another(
        pg_dsn: str, s3_env: dict[str, str], tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    still(images / "harbour.jpg")
    story_id = f"served_{uuid.uuid4().hex[:8]}"
    story = {"story_id": story_id, "scenes": [scene(1, "harbour.jpg"), scene(2, "later.jpg")]}
    shared = {"checkpoints": pg_dsn, "storage": f"s3://clips/{story_id}",
              "images_root": images, **FAST}
    first_out, second_out = tmp_path / "first", tmp_path / "second"
    with serving(first_out, **shared) as base, httpx.Client(base_url=base, timeout=30) as http:
        assert http.post("/api/stories", json=story).status_code == 202
        events = read_events(http, f"/api/stories/{story_id}/events")
        assert events[-1]["videos"] == ["1"] and events[-1]["failed"] == ["2"]
    assert checkpoint_rows(pg_dsn, story_id) > 0
    assert not (first_out / ".state" / "checkpoints.sqlite").exists(), "nothing in SQLite"

    with serving(second_out, **shared) as base, httpx.Client(base_url=base, timeout=30) as http:
        status = http.get(f"/api/stories/{story_id}").json()
        assert status["run"] == "finished"
        assert status["scenes"]["1"]["status"] == "done"
        assert status["scenes"]["2"]["status"] == "failed", status
        assert status["scenes"]["2"]["scene_content"] == story["scenes"][1]["scene_content"]

        shutil.copy(images / "harbour.jpg", images / "later.jpg")
        rerun = http.post(f"/api/stories/{story_id}/scenes/2/rerun")
        assert rerun.status_code == 202, rerun.text
        events = read_events(http, f"/api/stories/{story_id}/events")
        assert events[-1]["failed"] == [] and events[-1]["videos"] == ["1", "2"]
        scene2 = http.get(f"/api/stories/{story_id}/scenes/2").json()
        assert scene2["status"] == "done" and scene2["version"] == 1
        assert http.get(f"/api/stories/{story_id}/scenes/1").json()["version"] == 1
    assert not (second_out / ".state" / "checkpoints.sqlite").exists()


def serve_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SERVE_CLI, "serve", "--out", str(tmp_path),
                           "--port", "9", *args], capture_output=True, text=True, timeout=60)


def test_serve_refuses_unknown_or_unreachable_checkpoint_stores(tmp_path: Path) -> None:
    odd = serve_cli(tmp_path, "--checkpoints", "redis://x")
    assert odd.returncode == 2 and "--checkpoints: 'redis' is not supported" in odd.stderr
    down = serve_cli(tmp_path, "--checkpoints", "postgresql://user:s3cret@127.0.0.1:9/none")
    assert down.returncode == 2 and "--checkpoints: cannot reach" in down.stderr, down.stderr
    assert "s3cret" not in down.stdout + down.stderr
