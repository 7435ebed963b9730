"""The whole Video Agent with fal.ai providers: real fal-client, fake fal server over HTTPS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fakefal_fixtures
from conftest import run_cli, still, write_story
from video_agent.adapters.providers.fal.endpoints import DEFAULT_FALLBACK, DEFAULT_PRIMARY
from video_agent.adapters.storage import tempdirs
from video_agent.context import VideoAgentContext
from video_agent.runner import run_story
from video_agent.story import load_story
from video_agent_dev.fakefal import DUMMY_KEY, FakeFalServer
from videocheck import assert_spec_clip

fake_fal_server = fakefal_fixtures.fake_fal_server
fake_fal = fakefal_fixtures.fake_fal

pytestmark = pytest.mark.slow


def set_scenario(server: FakeFalServer, endpoint: str = "*", **fields: Any) -> None:
    server.call(lambda: server.fake.set_scenario(endpoint, **fields))


def context(tmp_path: Path) -> VideoAgentContext:
    return VideoAgentContext(output_dir=str(tmp_path / "out"), primary=f"fal:{DEFAULT_PRIMARY}",
                             fallback=f"fal:{DEFAULT_FALLBACK}",
                             provider_timeout_s=60)


def story(tmp_path: Path) -> Path:
    return write_story(tmp_path / "story.json", "falstory", [
        {"scene_number": 1, "scene_content": "A slow push-in on the harbour at dawn.",
         "image_path": str(still(tmp_path / "a.jpg")),
         "layer1_analysis": "Slow push-in, 5 seconds."}])


async def test_primary_model_clip_is_repaired_to_spec_and_stored(fake_fal, tmp_path) -> None:
    set_scenario(fake_fal, latency_s=0.2)
    run = await run_story(load_story(story(tmp_path)), context(tmp_path))
    video = run.videos["1"]
    meta = video.metadata
    assert (meta["provider"], meta["model"], meta["slot"]) == ("fal", DEFAULT_PRIMARY, "primary")
    assert meta["request_id"] and meta["cost_usd"] > 0
    assert meta["quality"]["verdict"] in ("pass", "repaired")
    assert_spec_clip(Path(video.path))
    assert DUMMY_KEY not in Path(video.path).with_name("metadata.json").read_text()
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}

    again = await run_story(load_story(story(tmp_path)), context(tmp_path))
    assert again.videos["1"].version == 1
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}, "a finished scene is never paid twice"


async def test_primary_server_errors_route_to_the_fallback_model(fake_fal, tmp_path) -> None:
    set_scenario(fake_fal, DEFAULT_PRIMARY, submit_error=500, submit_error_times=99)
    set_scenario(fake_fal, DEFAULT_FALLBACK, latency_s=0.2)
    run = await run_story(load_story(story(tmp_path)), context(tmp_path))
    meta = run.videos["1"].metadata
    assert (meta["model"], meta["slot"]) == (DEFAULT_FALLBACK, "fallback")
    assert [(a["slot"], a["outcome"]) for a in meta["attempts"]] == [
        ("primary", "error"), ("fallback", "ok")]


async def test_out_of_gpu_is_critical_and_skips_the_fallback(fake_fal, tmp_path) -> None:
    set_scenario(fake_fal, DEFAULT_PRIMARY, gpu_error=True, latency_s=0.1)
    run = await run_story(load_story(story(tmp_path)), context(tmp_path))
    assert run.failed == ["1"]
    error = run.errors["1"]
    assert error.stage == "generate_primary" and "GPU" in error.message
    assert DEFAULT_FALLBACK not in fake_fal.fake.submits


def test_cli_with_fal_hosts_from_fal_clients_own_environment(fake_fal, tmp_path) -> None:
    """``video-agent run --primary fal:... --fallback local`` with only fal-client's environment
    variables (hosts, CA, proxy for the upload hosts) and FAL_KEY; the key is written nowhere."""
    set_scenario(fake_fal, latency_s=0.2)
    out = tmp_path / "out"
    env = {**fake_fal.env(), "FAL_HOME_DIR": str(tmp_path / "fal_home")}
    result = run_cli("run", str(story(tmp_path)), "--out", str(out), "--primary",
                     f"fal:{DEFAULT_PRIMARY}", "--fallback", "local", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}
    assert fake_fal.proxied, "uploads reached fal's storage hosts through HTTPS_PROXY"
    written = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "checkpoints.sqlite" for p in written)
    for path in written:
        assert DUMMY_KEY.encode() not in path.read_bytes(), f"the key leaked into {path}"
    assert DUMMY_KEY not in result.stdout + result.stderr
    again = run_cli("run", str(story(tmp_path)), "--out", str(out), "--primary",
                    f"fal:{DEFAULT_PRIMARY}", "--fallback", "local", env=env)
    assert again.returncode == 0 and fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}


async def test_a_clip_the_gate_rejected_is_asked_for_again_on_rerun(fake_fal, tmp_path) -> None:
    """A paid request whose clip failed the gate is not resumed by a rerun (that would fetch
    the same rejected clip forever): the recorded rejection makes the retry a new request."""
    set_scenario(fake_fal, DEFAULT_PRIMARY, latency_s=0.1, video="truncated")
    set_scenario(fake_fal, DEFAULT_FALLBACK, submit_error=500, submit_error_times=1)
    first = await run_story(load_story(story(tmp_path)), context(tmp_path))
    assert first.failed == ["1"]
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 1}

    set_scenario(fake_fal, DEFAULT_PRIMARY, latency_s=0.1)
    again = await run_story(load_story(story(tmp_path)), context(tmp_path))
    assert again.failed == [] and again.videos["1"].metadata["slot"] == "primary"
    assert fake_fal.fake.submits == {DEFAULT_PRIMARY: 2}
    area = tempdirs.owned_area(tmp_path / "out" / "temp")  # this process's, until it exits
    assert not any(area.path.iterdir()), "work folders are cleaned up"
    assert {p.name for p in area.temp_root.iterdir()} == {area.path.name, area.marker.name}
