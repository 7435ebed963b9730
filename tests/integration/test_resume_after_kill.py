"""A run killed with SIGKILL mid-story resumes without generating finished scenes again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, still, write_story

pytestmark = pytest.mark.slow


def ok_renders(out: Path, story_id: str) -> dict[str, int]:
    journal = out / story_id / "attempts.jsonl"
    counts: dict[str, int] = {}
    for line in journal.read_text().splitlines() if journal.exists() else []:
        entry = json.loads(line)
        if entry["outcome"] == "ok":
            counts[entry["scene"]] = counts.get(entry["scene"], 0) + 1
    return counts


def test_sigkill_then_resume(tmp_path: Path) -> None:
    scenes = [{"scene_number": n, "scene_content": f"Scene {n}: a slow pan across the hills.",
               "image_path": str(still(tmp_path / f"s{n}.jpg", seed=n)),
               "layer1_analysis": "Slow pan left to right, hold for 8 seconds."}
              for n in range(1, 5)]
    story = write_story(tmp_path / "story.json", "killed", scenes)
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "video_agent", "run", str(story), "--out", str(out),
         "--max-concurrency", "1"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    stored: set[str] = set()
    try:
        while time.monotonic() < deadline and child.poll() is None:
            stored = {p.parent.name for p in (out / "killed").glob("scene_*/video.mp4")}
            if len(stored) >= 2:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the run must still be going when it is killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert 2 <= len(stored) < 4
    assert not list((out / "killed").glob("scene_*/.*.part")), "no half-published files"
    before = ok_renders(out, "killed")

    resumed = run_cli("run", str(story), "--out", str(out), "--max-concurrency", "1")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = ok_renders(out, "killed")
    for name in stored:
        key = name.removeprefix("scene_")
        assert after[key] == before[key] == 1, f"finished scene {key} was rendered again"
    assert set(after) == {"1", "2", "3", "4"}
    assert all(count <= 2 for count in after.values())
    for n in range(1, 5):
        assert (out / "killed" / f"scene_{n}" / "video.mp4").is_file()
