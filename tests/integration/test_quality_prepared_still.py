"""The still's faces are searched once per scene: ahead of the clip while the provider works
(``prepare_still``), then shared by the renderer and every gate of the scene."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from face_stills import EXAMPLES

import providers_for_tests
from conftest import drain_cpu_pools, write_story
from video_agent.adapters.render import render_clip
from video_agent.context import VideoAgentContext
from video_agent.models import MotionSpec, SceneSpec, VideoParams
from video_agent.quality import assess, assess_clip, composition, forget, prepare_still
from video_agent.runner import run_story
from video_agent.story import load_story
from video_agent.video_agent_node import generation

ended: list[float] = []
"""When each counted search ended."""


@pytest.fixture(autouse=True)
def cold() -> Iterator[None]:
    """No job of an earlier test running (it would be counted), nothing found or read ahead."""
    drain_cpu_pools()
    forget()
    yield
    forget()


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Every face search that really runs."""
    calls: list[tuple[int, ...]] = []
    real = composition._search_faces

    def counted(gray: np.ndarray) -> list[composition.Face]:
        found = real(gray)
        calls.append(gray.shape)
        ended.append(time.perf_counter())
        return found

    monkeypatch.setattr(composition, "_search_faces", counted)
    return calls


def test_a_prepared_still_judges_as_a_cold_one_without_a_second_search(
        tmp_path: Path, searches: list[tuple[int, ...]]) -> None:
    still = EXAMPLES / "portrait.jpg"
    motion = MotionSpec(type="pan", duration=4.0, focus_points=["face"])
    clip = render_clip(still, tmp_path / "pan.mp4", motion).path
    params = VideoParams(scene=SceneSpec(content="a portrait", number=1, image_url=str(still)),
                         motion=motion)
    forget()
    searches.clear()
    cold = assess_clip(clip, still, params, work_dir=tmp_path / "cold")
    assert len(searches) == 1
    forget()
    prepare_still(still, motion.focus_points)
    assert len(searches) == 2
    warm = assess_clip(clip, still, params, work_dir=tmp_path / "warm")
    assert len(searches) == 2, "the gate searched a prepared still again"
    assert warm.verdict == cold.verdict == "pass"
    assert [c.model_dump() for c in warm.checks] == [c.model_dump() for c in cold.checks]
    timing = {"measure_s"}
    assert ({k: v for k, v in warm.metrics.items() if k not in timing}
            == {k: v for k, v in cold.metrics.items() if k not in timing})
    assert warm.metrics["main_face_coverage"] > 0, "the face was judged"


def test_the_gate_takes_the_prepared_still_and_reads_a_rewritten_one_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    still = tmp_path / "still.jpg"
    shutil.copy(EXAMPLES / "portrait.jpg", still)
    motion = MotionSpec(type="pan", duration=4.0)
    clip = render_clip(still, tmp_path / "pan.mp4", motion).path
    params = VideoParams(scene=SceneSpec(content="a still", number=1, image_url=str(still)),
                         motion=motion)
    reads: list[str] = []
    real = assess.read_rgb
    monkeypatch.setattr(assess, "read_rgb", lambda path: reads.append(str(path)) or real(path))
    cold = assess_clip(clip, still, params, work_dir=tmp_path / "w")
    prepare_still(still)
    assert len(reads) == 2
    warm = assess_clip(clip, still, params, work_dir=tmp_path / "w")
    assert len(reads) == 2, "the gate read the still again"
    assert warm.verdict == cold.verdict == "pass" and warm.reasons == cold.reasons

    prepare_still(still)
    forget()  # the gate after it is cold
    assess_clip(clip, still, params, work_dir=tmp_path / "w")
    assert len(reads) == 4, "a forgotten prepared still was taken"

    prepare_still(still)
    shutil.copy(EXAMPLES / "coffee_table.jpg", still)  # rewritten after it was prepared
    changed = assess_clip(clip, still, params, work_dir=tmp_path / "w")
    assert len(reads) == 6, "the rewritten still was not read afresh"
    assert changed.verdict == "fail" and any(r.startswith("fidelity") for r in changed.reasons)


def test_a_changed_still_is_searched_afresh(tmp_path: Path,
                                            searches: list[tuple[int, ...]]) -> None:
    still = tmp_path / "portrait.jpg"
    shutil.copy(EXAMPLES / "portrait.jpg", still)
    prepare_still(still)
    prepare_still(still)
    assert len(searches) == 1
    shutil.copy(EXAMPLES / "coffee_table.jpg", still)  # same path, other pixels
    prepare_still(still)
    assert len(searches) == 2


async def face_scene(tmp_path: Path, primary: str) -> dict[str, object]:
    """The metadata of a one-scene story over a copy of the example portrait."""
    still = tmp_path / "portrait.jpg"
    shutil.copy(EXAMPLES / "portrait.jpg", still)
    story_file = write_story(tmp_path / "story.json", "faces", [{
        "scene_number": 1, "scene_content": "A slow push-in on her face.",
        "image_path": str(still), "layer1_analysis": "Slow push-in, about 4 seconds."}])
    ctx = VideoAgentContext(output_dir=str(tmp_path / "out"), primary=primary)
    run = await run_story(load_story(story_file), ctx)
    return run.videos["1"].metadata


async def test_a_scene_searches_its_still_once_over_attempts_render_and_gates(
        tmp_path: Path, searches: list[tuple[int, ...]]) -> None:
    """Primary clip broken (judged and failed), fallback rendered and judged: one search."""
    meta = await face_scene(tmp_path, "py:providers_for_tests:broken_clip")
    assert [a["outcome"] for a in meta["attempts"]] == ["ok", "quality_fail", "ok"]
    assert meta["slot"] == "fallback"
    assert len(searches) == 1, searches


async def test_the_still_is_searched_while_the_provider_works(
        tmp_path: Path, searches: list[tuple[int, ...]]) -> None:
    providers_for_tests.slow_calls.clear()
    ended.clear()
    meta = await face_scene(tmp_path, "py:providers_for_tests:slow")
    assert meta["slot"] == "primary"
    assert len(searches) == 1
    assert ended[0] < providers_for_tests.slow_calls[0], "searched only after the clip came"


async def test_a_failed_attempt_does_not_leave_its_still_to_be_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both providers fail at once while the pool is busy: their still jobs, not yet started,
    are cancelled instead of reading a still no gate will judge."""
    busy = threading.Event()
    jobs: list[Future[Any]] = []
    with ThreadPoolExecutor(1) as pool:
        pool.submit(busy.wait, 30)  # the pool's one worker stays busy through the run

        def submit(*args: Any) -> Future[Any]:
            jobs.append(pool.submit(*args))
            return jobs[-1]

        monkeypatch.setattr(generation, "cpu_pool",
                            SimpleNamespace(pool=lambda: SimpleNamespace(submit=submit)))
        still = shutil.copy(EXAMPLES / "portrait.jpg", tmp_path / "portrait.jpg")
        story_file = write_story(tmp_path / "story.json", "down", [{
            "scene_number": 1, "scene_content": "A slow pan.",
            "image_path": str(still), "layer1_analysis": "4 seconds."}])
        ctx = VideoAgentContext(output_dir=str(tmp_path / "out"),
                                primary="py:providers_for_tests:unavailable",
                                fallback="py:providers_for_tests:unavailable")
        try:
            run = await run_story(load_story(story_file), ctx)
        finally:
            busy.set()  # a failed run does not keep the pool (and the test) waiting 30 s
    assert run.errors["1"] is not None and "every provider failed" in run.errors["1"].message
    assert len(jobs) == 2 and all(job.cancelled() for job in jobs), jobs
