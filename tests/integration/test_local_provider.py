"""The embedded renderer behind the provider protocol, as the graph calls it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import get_args

import av
import cv2
import numpy as np
import pytest

from video_agent.adapters.providers.base import ProviderError, VideoProvider
from video_agent.adapters.providers.local import LocalRenderer
from video_agent.models import (
    GenerationRequest,
    GenerationSettings,
    LocalImage,
    MotionSpec,
    MotionType,
    SceneSpec,
    VideoParams,
)


def write_still(path: Path, w: int = 1280, h: int = 720) -> LocalImage:
    rng = np.random.default_rng(5)
    img = cv2.resize(rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    cv2.circle(img, (int(w * 0.7), int(h * 0.35)), 60, (250, 250, 250), -1)
    cv2.imwrite(str(path), img)
    return LocalImage(path=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                      width=w, height=h, format="PNG", source=str(path))


def make_request(image: LocalImage, work_dir: Path, motion: MotionSpec,
                 motion_scale: float = 0.8) -> GenerationRequest:
    params = VideoParams(scene=SceneSpec(content="A café.", number=5, image_url=image.path),
                         generation=GenerationSettings(motion_scale=motion_scale),
                         motion=motion)
    return GenerationRequest(story_id="s", scene="5", slot="primary", params=params,
                             image=image, prompt="slow push-in", work_dir=str(work_dir))


def test_it_is_a_video_provider_with_honest_capabilities() -> None:
    provider = LocalRenderer()
    assert isinstance(provider, VideoProvider)
    assert (provider.name, provider.model) == ("local", "embedded-standard")
    caps = provider.capabilities
    assert caps.durations is None and caps.aspect_ratios == ["16:9"] and caps.fps == [24]
    assert set(caps.camera_controls) == set(get_args(MotionType))
    assert caps.price_per_second == 0.0 and "1024x576" in caps.resolutions
    hd = LocalRenderer("draft", size=(1920, 1080))
    assert hd.model == "embedded-draft" and "1920x1080" in hd.capabilities.resolutions


@pytest.mark.parametrize(("preset", "size", "message"), [
    ("ultra", (1024, 576), "preset: unknown local renderer preset 'ultra'"),
    ("standard", (1024, 768), "size: 1024x768 must be 16:9"),
    ("standard", (960, 540), "size: 960x540"),
])
def test_bad_settings_are_refused_by_name(preset: str, size: tuple[int, int],
                                          message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LocalRenderer(preset, size=size)


async def test_generate_renders_off_the_event_loop_with_progress(tmp_path: Path) -> None:
    image = write_still(tmp_path / "still.png")
    request = make_request(image, tmp_path / "work",
                           MotionSpec(type="ken_burns", speed="medium", duration=4,
                                      focus_points=["lamp"]))
    calls: list[tuple[float, str, str]] = []

    def progress(fraction: float, message: str) -> None:
        calls.append((fraction, message, threading.current_thread().name))

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    result = await LocalRenderer("draft").generate(request, progress)
    elapsed = time.perf_counter() - started
    task.cancel()

    # the loop kept turning while the clip rendered (at least a third of the 10 ms ticks)
    assert ticks > elapsed / 0.01 / 3
    assert Path(result.path).parent == tmp_path / "work" and Path(result.path).exists()
    assert (result.provider, result.model, result.cost) == ("local", "embedded-draft", 0.0)
    fractions = [c[0] for c in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(c[2] != threading.main_thread().name for c in calls)

    details = result.details
    assert details["frames"] == 96 and details["render_s"] > 0 and details["conflicts"] == []
    [focus] = details["focus"]
    assert focus["name"] == "lamp" and focus["method"] == "saliency"
    assert abs(focus["x"] - 0.7) < 0.08 and abs(focus["y"] - 0.35) < 0.1
    assert result.provider_args["motion"]["type"] == "ken_burns"
    assert result.provider_args["trajectory"]["speed"] == "medium"
    json.dumps(result.model_dump())  # everything in it goes through a checkpointer

    with av.open(result.path) as container:
        assert sum(1 for _ in container.decode(video=0)) == 96


async def test_conflicts_come_back_as_plain_data(tmp_path: Path) -> None:
    image = write_still(tmp_path / "still.png")
    request = make_request(image, tmp_path, MotionSpec(type="tilt", direction="sideways",
                                                      duration=4))
    result = await LocalRenderer("draft").generate(request, lambda f, m: None)
    [conflict] = result.details["conflicts"]
    assert conflict["field"] == "motion.direction" and conflict["resolved"] == "up"


async def test_motion_scale_comes_from_the_generation_settings(tmp_path: Path) -> None:
    image = write_still(tmp_path / "still.png")
    motion = MotionSpec(type="push_in", duration=4, speed="fast")
    big = await LocalRenderer("draft").generate(make_request(image, tmp_path, motion, 1.0),
                                                lambda f, m: None)
    small = await LocalRenderer("draft").generate(make_request(image, tmp_path, motion, 0.25),
                                                  lambda f, m: None)
    assert big.provider_args["trajectory"]["zoom"] > small.provider_args["trajectory"]["zoom"]
    assert big.provider_args["motion_scale"] == 1.0


async def test_an_unusable_image_is_a_critical_render_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    image = LocalImage(path=str(bad), sha256="0" * 64, width=1, height=1, format="JPEG",
                       source=str(bad))
    with pytest.raises(ProviderError) as info:
        await LocalRenderer().generate(make_request(image, tmp_path, MotionSpec()),
                                       lambda f, m: None)
    assert info.value.kind == "render_error" and info.value.critical
    assert info.value.field == "image"


async def test_a_timed_out_call_stops_rendering_and_leaves_no_clip(tmp_path: Path) -> None:
    image = write_still(tmp_path / "still.png")
    work = tmp_path / "work"
    request = make_request(image, work, MotionSpec(type="pan", duration=10))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(LocalRenderer().generate(request, lambda f, m: None), 0.5)
    deadline = time.monotonic() + 10
    while any(t.name == "render-warp" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the render kept running after the timeout"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert not list(work.glob("*.mp4"))
