"""The run manager: one run per story, events fanned out to every subscriber, live state."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from video_agent.context import VideoAgentContext
from video_agent.models import SceneError, SceneVideo
from video_agent.serve.runs import RunBusy, RunManager
from video_agent.story import Story


def story() -> Story:
    return Story(story_id="s", scenes={"1": {"scene_number": 1}, "2": {"scene_number": 2}})


async def test_events_reach_every_subscriber_and_live_state_follows() -> None:
    gate = asyncio.Event()

    async def runner(story: Story, ctx: Any, *, max_concurrency: int, on_event: Any) -> None:
        on_event({"event": "progress", "scene": "1", "stage": "generate_primary",
                  "progress": 0.25, "message": "frame 24/96"})
        await gate.wait()
        on_event({"event": "done", "scene": "1", "video": SceneVideo(
            video_url="file:///x/video.mp4", path="/x/video.mp4", version=3, metadata={})})
        on_event({"event": "failed", "scene": "2", "error": SceneError(
            scene="2", stage="analyze_context", message="image_path: no such file")})
        raise RuntimeError("engine broke")

    manager = RunManager(runner=runner)
    async with manager.subscribe("s") as first, manager.subscribe("s") as second:
        run = manager.start(story(), VideoAgentContext())
        with pytest.raises(RunBusy):
            manager.start(story(), VideoAgentContext())
        await asyncio.sleep(0.01)
        live = run.live["1"]
        assert {k: live[k] for k in ("state", "stage", "progress", "message")} == {
            "state": "running", "stage": "generate_primary", "progress": 0.25,
            "message": "frame 24/96"}
        # the scene's whole bar: a quarter into the generation band (8-80 %)
        assert live["overall"] == pytest.approx(0.08 + 0.72 * 0.25, abs=1e-3)
        assert run.live["2"]["state"] == "queued"
        async with manager.subscribe("s") as late:
            snapshot = late.get_nowait()
            assert snapshot["event"] == "snapshot" and snapshot["live"]["1"]["progress"] == 0.25
            gate.set()
            await manager.wait("s")
        for queue in (first, second):
            events = [queue.get_nowait() for _ in range(queue.qsize())]
            kinds = [e["event"] for e in events]
            assert kinds == ["started", "progress", "done", "failed", "finished"]
            done = events[2]
            assert done["version"] == 3 and "video" not in done, "no server paths in events"
            assert events[3]["error"]["message"] == "image_path: no such file"
            assert events[4]["error"] == "RuntimeError: engine broke"
    assert run.finished and manager.running("s") is None
    assert run.live["1"]["state"] == "done" and run.live["2"]["state"] == "failed"
    manager.start(story(), VideoAgentContext(only_scenes=["2"]))  # a finished story may run again
    assert manager.running("s").scenes == ["2"]
    await manager.close()
