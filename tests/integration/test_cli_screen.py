"""What ``video-agent run`` says on screen: no silent downgrade (preflight, fallback notes),
Ctrl-C with a way back, and a resumed run that shows its kept scenes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import fakefal_fixtures
from conftest import ROOT, interruptible, run_cli, still, write_story
from video_agent.adapters.providers.fal.endpoints import DEFAULT_PRIMARY
from video_agent_dev.fakefal import FakeFalServer

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal


def set_scenario(server: FakeFalServer, endpoint: str = "*", **fields: Any) -> None:
    server.call(lambda: server.fake.set_scenario(endpoint, **fields))


def story(tmp_path: Path, story_id: str = "screen", scenes: int = 1) -> Path:
    return write_story(tmp_path / "story.json", story_id, [
        {"scene_number": n, "scene_content": f"Scene {n}: a slow pan across the hills.",
         "image_path": str(still(tmp_path / f"s{n}.jpg", seed=n)),
         "layer1_analysis": "Slow pan left to right, 4 seconds."} for n in range(1, scenes + 1)])


def no_fal_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET")}


def test_a_fal_primary_without_a_key_stops_before_any_scene(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "video_agent", "run", str(story(tmp_path)), "--out", str(out),
         "--primary", f"fal:{DEFAULT_PRIMARY}"], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env={**no_fal_env(), "COLUMNS": "200"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: --primary: no fal.ai key in the environment variable FAL_KEY (set it, or use a "
        "local provider)"]
    assert not (out / "screen").exists(), "no scene started"


def test_an_unreachable_fal_host_stops_before_any_scene(tmp_path: Path) -> None:
    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {**no_fal_env(), "FAL_KEY": "k", "FAL_QUEUE_RUN_HOST": f"127.0.0.1:{port}",
           "FAL_RUN_HOST": f"127.0.0.1:{port}", "NO_PROXY": "127.0.0.1", "COLUMNS": "200"}
    env.pop("HTTPS_PROXY", None)
    env.pop("https_proxy", None)
    result = subprocess.run(
        [sys.executable, "-m", "video_agent", "run", str(story(tmp_path)), "--out",
         str(tmp_path / "out"), "--fallback", f"fal:{DEFAULT_PRIMARY}"], cwd=ROOT,
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: --fallback: fal.ai is unreachable (127.0.0.1:{port}")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_scene_made_by_the_fallback_says_so_on_screen_and_in_the_table(
        fake_fal: FakeFalServer, tmp_path: Path) -> None:
    set_scenario(fake_fal, DEFAULT_PRIMARY, submit_error=500, submit_error_times=99)
    env = {**fake_fal.env(), "FAL_HOME_DIR": str(tmp_path / "fal_home")}
    result = run_cli("run", str(story(tmp_path)), "--out", str(tmp_path / "out"), "--primary",
                     f"fal:{DEFAULT_PRIMARY}", "--fallback", "local:draft", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    asked = f"asked for fal:{DEFAULT_PRIMARY}, made by local:embedded-draft"
    assert f"scene 1: {asked}" in result.stderr
    assert "500" in result.stderr.split(asked)[1].splitlines()[0], "the reason is given"
    assert asked in result.stdout and "stored (fallback)" in result.stderr


def work_dirs(temp: Path) -> list[Path]:
    return [p for p in temp.glob("*/*") if p.is_dir()] if temp.is_dir() else []


def test_ctrl_c_says_how_to_resume_and_leaves_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "video_agent", "run",
                              str(story(tmp_path, scenes=3)),
                              "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=interruptible)
    try:
        deadline = time.monotonic() + 120
        while not work_dirs(out / "temp"):
            assert time.monotonic() < deadline and child.poll() is None, "nothing rendered"
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert "run the same command again to resume screen" in err
    assert "Warning" not in err and "Traceback" not in err, err
    assert list((out / "temp").iterdir()) == []


@pytest.mark.slow
def test_a_resumed_run_shows_the_kept_scenes_as_done(tmp_path: Path) -> None:
    """Killed while rendering scene 2 (scene 1 stored): the rerun lists scene 1 as kept from the
    start and renders scene 2 live."""
    path, out = story(tmp_path, "resumed", scenes=2), tmp_path / "out"
    killed = run_cli("run", str(path), "--out", str(out), "--max-concurrency", "1",
                     env={"VIDEO_AGENT_KILL_AT": "render_mid_encode:2"})
    assert killed.returncode == -signal.SIGKILL
    assert (out / "resumed" / "scene_1" / "video.mp4").is_file()
    again = run_cli("run", str(path), "--out", str(out), "--max-concurrency", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    lines = {line.split()[1]: line for line in again.stderr.splitlines()
             if line.startswith("scene ")}
    assert "kept (stored before)" in lines["1"] and "100%" in lines["1"]
    assert "stored" in lines["2"] and "kept" not in lines["2"]
    assert "story resumed (resumed)" in again.stdout
