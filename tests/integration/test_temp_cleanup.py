"""Temp folders around real runs: Ctrl-C and cancellation leave none; a failed scene keeps
none; a run removes what dead runs left but never the folder of a live run sharing the output."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fakefal_fixtures
from conftest import ROOT, interruptible, run_cli, still, write_story
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent.adapters.storage import LocalStorage, tempdirs
from video_agent.context import VideoAgentContext
from video_agent.runner import run_story
from video_agent.serve.runs import RunManager
from video_agent.story import load_story

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal


def story(tmp_path: Path, story_id: str = "tidy") -> Path:
    return write_story(tmp_path / "story.json", story_id, [
        {"scene_number": 1, "scene_content": "A slow pan across the hills.",
         "image_path": str(still(tmp_path / "s1.jpg", seed=1)),
         "layer1_analysis": "Slow pan left to right, 8 seconds."}])


def work_dirs(temp: Path) -> list[Path]:
    return [p for p in temp.glob("*/*") if p.is_dir()] if temp.is_dir() else []


def wait_for_work_dir(temp: Path, alive: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 120
    while not work_dirs(temp):
        assert time.monotonic() < deadline, "no work folder appeared"
        assert alive is None or alive.poll() is None, "the run ended before it rendered"
        time.sleep(0.05)


def test_ctrl_c_leaves_no_temp_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "video_agent", "run", str(story(tmp_path)),
                              "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, preexec_fn=interruptible)
    try:
        wait_for_work_dir(out / "temp", child)
        child.send_signal(signal.SIGINT)
        assert child.wait(60) != 0
    finally:
        if child.poll() is None:
            child.kill()
    assert list((out / "temp").iterdir()) == []


def test_a_run_sweeps_dead_runs_but_not_a_live_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    dead = out / "temp" / "0123abcd"  # left by a run killed before owner markers existed
    (dead / "clip.mp4.part").parent.mkdir(parents=True)
    (dead / "clip.mp4.part").write_bytes(b"x")
    live = LocalStorage(out).temp_dir("other+1+")  # this test process is a live owner
    (live / "clip.mp4.part").write_bytes(b"partial")
    done = run_cli("run", str(story(tmp_path)), "--out", str(out), "--primary", "local:draft")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not dead.exists()
    assert (live / "clip.mp4.part").read_bytes() == b"partial"
    assert work_dirs(out / "temp") == [live]


async def test_a_failed_scene_keeps_no_work_folder(fake_fal, tmp_path: Path) -> None:
    """Out of GPU on the primary is critical: the scene ends in generate_primary, after its work
    folder was made."""
    fake_fal.call(lambda: fake_fal.fake.set_scenario("*", gpu_error=True, latency_s=0.1))
    out = tmp_path / "out"
    ctx = VideoAgentContext(output_dir=str(out), primary=f"fal:{DEFAULT_PRIMARY}",
                            fallback="local:draft", provider_timeout_s=60)
    area = tempdirs.owned_area(out / "temp")
    run = await run_story(load_story(story(tmp_path, "falfail")), ctx)
    assert run.failed == ["1"] and run.errors["1"].stage == "generate_primary"
    journal = LocalStorage(out).attempts("falfail")
    assert [a["outcome"] for a in journal] == ["error"]  # the attempt made its work folder
    assert list(area.path.iterdir()) == []


@pytest.mark.slow
async def test_cancelled_server_run_leaves_no_work_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    manager = RunManager()
    ctx = VideoAgentContext(output_dir=str(out))
    manager.start(load_story(story(tmp_path, "cancelme")), ctx)
    area = tempdirs.owned_area(out / "temp")
    deadline = time.monotonic() + 120
    while not list(area.path.glob("cancelme+*")):
        assert time.monotonic() < deadline and manager.running("cancelme")
        await asyncio.sleep(0.05)
    assert manager.cancel("cancelme")
    await manager.wait("cancelme")
    assert manager.last("cancelme").error == "cancelled"  # type: ignore[union-attr]
    assert list(area.path.glob("cancelme+*")) == []
