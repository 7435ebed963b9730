"""Checkpoints in a real PostgreSQL server (127.0.0.1:5432, database ``test``; ``.ci/run``
starts it when it is down). Override with VIDEO_AGENT_TEST_PG."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import psycopg
import pytest

from conftest import run_cli, still, write_story

pytestmark = pytest.mark.slow

PG = os.environ.get("VIDEO_AGENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg() -> str:
    try:
        with psycopg.connect(PG, connect_timeout=5) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG} (start it, see .ci/run): {exc}")
    return PG


def checkpoint_rows(url: str, thread: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from checkpoints where thread_id = %s",
                           (thread,)).fetchone()
    return int(row[0]) if row else 0


def test_story_checkpoints_in_postgres_and_reruns_keep_videos(pg: str, tmp_path: Path) -> None:
    story_id = f"pg_{uuid.uuid4().hex[:12]}"
    story = write_story(tmp_path / "story.json", story_id, [
        {"scene_number": 1, "scene_content": "A slow push-in on the harbour.",
         "image_path": str(still(tmp_path / "a.jpg")), "layer1_analysis": "4 seconds."},
        {"scene_number": 2, "scene_content": "A missing still.",
         "image_path": str(tmp_path / "missing.jpg")}])
    out = tmp_path / "out"
    first = run_cli("run", str(story), "--out", str(out), "--checkpoints", pg,
                    "--primary", "local:draft")
    assert first.returncode == 1, first.stdout + first.stderr  # scene 2 fails
    assert checkpoint_rows(pg, story_id) > 0
    assert not (out / ".state" / "checkpoints.sqlite").exists(), "nothing went to SQLite"

    status = run_cli("status", story_id, "--out", str(out), "--checkpoints", pg)
    assert status.returncode == 0, status.stderr
    assert "finished" in status.stdout and "no such file" in status.stdout

    (tmp_path / "missing.jpg").write_bytes((tmp_path / "a.jpg").read_bytes())
    second = run_cli("run", str(story), "--out", str(out), "--checkpoints", pg,
                     "--primary", "local:draft")
    assert second.returncode == 0, second.stdout + second.stderr
    scenes = [json.loads(line)["scene"]
              for line in (out / story_id / "attempts.jsonl").read_text().splitlines()]
    assert scenes.count("1") == 1, "scene 1 was kept, not generated again"
    assert scenes.count("2") == 1


def test_unreachable_or_unknown_checkpoint_stores_are_clear_errors(tmp_path: Path) -> None:
    story = write_story(tmp_path / "story.json", "pgerr", [
        {"scene_number": 1, "scene_content": "x", "image_path": str(still(tmp_path / "a.jpg"))}])
    down = run_cli("run", str(story), "--out", str(tmp_path / "o"), "--checkpoints",
                   "postgresql://user:s3cret@127.0.0.1:9/none")
    assert down.returncode == 2 and "--checkpoints: cannot reach" in down.stderr
    assert "s3cret" not in down.stdout + down.stderr
    odd = run_cli("run", str(story), "--out", str(tmp_path / "o"), "--checkpoints", "redis://x")
    assert odd.returncode == 2 and "not supported" in odd.stderr
