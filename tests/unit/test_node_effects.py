"""The journal, metrics and temp folders a node's update stands for, written after it returns."""

from __future__ import annotations

from pathlib import Path

from video_agent import telemetry
from video_agent.adapters.storage import open_storage
from video_agent.models import (
    Attempt,
    GenerationResult,
    MotionSpec,
    QualityReport,
    SceneContext,
    SceneError,
    SceneVideo,
    Take,
    VideoParams,
)
from video_agent.state import SceneState
from video_agent.video_agent_node.effects import write_effects

SCENE = SceneContext(scene_number=4, scene_content="x", image_path="/tmp/a.png")
PLAN = VideoParams.model_validate(
    {"scene": {"content": "x", "number": 4, "image_url": "a"}, "motion": MotionSpec()})


def clip(path: Path) -> GenerationResult:
    return GenerationResult(path=str(path), provider="local", model="draft", render_id="r-1",
                            cost=0.25, details={"queue_wait_s": 1.5})


def value(metric: object, *labels: str) -> float:
    return float(metric.labels(*labels)._value.get())  # type: ignore[attr-defined]


async def test_attempts_are_journalled_once_with_their_render_and_config_errors_are_not(
        tmp_path: Path) -> None:
    storage = open_storage(None, tmp_path)
    state: SceneState = {"story_id": "fx", "scene": SCENE, "params": PLAN}
    made = Take(slot="primary", asked=PLAN, fitted=PLAN, result=clip(tmp_path / "c.mp4"))
    ok = Attempt(slot="primary", provider="local", model="draft", outcome="ok", cost=0.25)
    ok_before = value(telemetry.provider_outcomes, "local", "draft", "primary", "ok")
    await write_effects(state, {"take": made, "attempts": [ok]}, "4", storage)
    config = Attempt(slot="fallback", provider="nope:x", outcome="error", error="bad spec",
                     error_kind="config")
    await write_effects(state, {"take": Take(slot="fallback", asked=PLAN),
                                "attempts": [config]}, "4", storage)
    journal = await storage.attempts("fx")
    assert [(e["scene"], e["outcome"], e.get("render_id")) for e in journal] == [
        ("4", "ok", "r-1")]
    assert value(telemetry.provider_outcomes, "local", "draft", "primary", "ok") == ok_before + 1


async def test_a_scene_that_ends_has_its_temp_folder_discarded(tmp_path: Path) -> None:
    storage = open_storage(None, tmp_path)
    work = Path(await storage.work_dir(None, "fx+4+"))
    (work / "c.mp4").write_bytes(b"\0" * 1000)
    judged = Take(slot="fallback", asked=PLAN, fitted=PLAN, result=clip(work / "c.mp4"),
                  quality=QualityReport(verdict="pass", path=str(work / "c.mp4")))
    state: SceneState = {"story_id": "fx", "scene": SCENE, "take": judged,
                         "work_dir": str(work)}
    await write_effects(state, {"errors": {"4": None}}, "4", storage)
    assert work.is_dir(), "a cleared error is not an ending"
    fallback_before = value(telemetry.scene_outcomes, "fallback")
    stored_before = telemetry.bytes_stored._value.get()  # type: ignore[attr-defined]
    video = SceneVideo(video_url="file:///v.mp4", metadata={}, path="/v.mp4")
    await write_effects(state, {"videos": {"4": video}, "errors": {"4": None}}, "4", storage)
    assert not work.exists()
    assert value(telemetry.scene_outcomes, "fallback") == fallback_before + 1
    assert telemetry.bytes_stored._value.get() == stored_before + 1000  # type: ignore[attr-defined]

    failed_work = Path(await storage.work_dir(None, "fx+4+"))
    error = SceneError(scene="4", stage="generate_fallback", message="m")
    await write_effects({**state, "work_dir": str(failed_work)}, {"errors": {"4": error}},
                        "4", storage)
    assert not failed_work.exists()


def test_attempts_are_unique_per_render_or_request_and_paid_once() -> None:
    from video_agent.video_agent_node.effects import unique_attempts
    from video_agent.video_agent_node.store import paid

    made = Attempt(slot="primary", provider="fal", model="m", request_id="req-1",
                   render_id="r-1", outcome="ok", cost=0.5)
    again = made.model_copy(update={"elapsed_s": 3.0})  # the same clip fetched again
    rejected = made.model_copy(update={"outcome": "quality_fail", "cost": 0.0})
    next_gen = Attempt(slot="primary", provider="local", model="draft", render_id="r-2",
                       outcome="ok")
    same_local = Attempt(slot="primary", provider="local", model="draft", render_id="r-3",
                         outcome="ok")
    failed = Attempt(slot="fallback", provider="local", outcome="error", error="boom")
    attempts = [made, again, rejected, next_gen, same_local, failed, failed]
    assert unique_attempts(attempts) == [made, rejected, next_gen, same_local, failed, failed]
    assert paid(unique_attempts(attempts)) == paid(attempts) == 0.5


async def test_an_attempt_made_again_is_not_journalled_again(tmp_path: Path) -> None:
    storage = open_storage(None, tmp_path)
    made = Attempt(slot="primary", provider="local", model="draft", render_id="r-1",
                   outcome="ok")
    take = Take(slot="primary", asked=PLAN, fitted=PLAN, result=clip(tmp_path / "c.mp4"))
    state: SceneState = {"story_id": "fx", "scene": SCENE, "params": PLAN, "attempts": [made]}
    await write_effects(state, {"take": take, "attempts": [made.model_copy()]}, "4", storage)
    assert await storage.attempts("fx") == []
    other = made.model_copy(update={"render_id": "r-2"})
    await write_effects(state, {"take": take, "attempts": [other]}, "4", storage)
    assert [e["render_id"] for e in await storage.attempts("fx")] == ["r-2"]
