"""``assess_quality``: probe, repair and judge the candidate clip against the spec and the
source still (in the CPU pool: decoding and encoding are CPU work)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from video_agent import faultpoints
from video_agent.context import VideoAgentContext
from video_agent.cpu_pool import run_cpu
from video_agent.models import Attempt, SceneError, VideoParams
from video_agent.quality import QualitySettings, assess_clip
from video_agent.reasoning import thresholds_for
from video_agent.state import SceneState, scene_update
from video_agent.values import Resolution
from video_agent.video_agent_node.common import (
    Reporter,
    context_of,
    log,
    scene_node,
    scene_of,
    storage_of,
)
from video_agent.video_agent_node.generation import work_prefix


def gate_for(plan: VideoParams, ctx: VideoAgentContext) -> tuple[QualitySettings, tuple[int, int]]:
    """The run's quality settings tightened by the plan's own thresholds (the seed's
    ``quality_thresholds``: minimum resolution, fps and duration), and the size to store at."""
    thresholds = thresholds_for(plan)
    settings = ctx.quality if isinstance(ctx.quality, QualitySettings) else QualitySettings()
    width, height = Resolution.parse(thresholds.min_resolution, "min_resolution")
    target = max(ctx.size, (width, height), key=lambda size: size[0] * size[1])
    # The minimum duration is the plan's own duration, which assess_clip holds the clip to.
    settings = settings.model_copy(update={"fps": max(settings.fps, thresholds.min_fps),
                                           "target_size": target})
    return settings, target


@scene_node("assess_quality")
async def assess_quality(state: SceneState, runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    scene = scene_of(state)
    take = state["take"]
    assert take is not None and take.result is not None and take.fitted is not None  # routed
    candidate, slot = take.result, take.slot  # here only with a clip
    report = Reporter(runtime, state.get("story_id", ""), scene.key, "assess_quality")
    report(0.0, f"checking the {slot} clip")
    if not await asyncio.to_thread(Path(candidate.path).is_file):
        # The clip went with the temp folder of a run killed before it was stored.
        log.info("scene %s: the %s clip is gone, generating it again", scene.key, slot)
        return {"take": None, "redo": slot}
    work_dir = await storage_of(ctx).work_dir(state.get("work_dir"),
                                              work_prefix(state.get("story_id", ""), scene.key))
    settings, target = gate_for(take.asked, ctx)
    quality = await run_cpu(  # the bounded CPU pool: never more passes at once than cores
        assess_clip, candidate.path, state["image"].path, take.fitted,
        settings=settings, work_dir=Path(work_dir), target_size=target)
    faultpoints.hit("quality_assessed")
    report(1.0, quality.verdict)
    update: dict[str, Any] = {"take": take.model_copy(update={"quality": quality}),
                              "work_dir": work_dir}
    if quality.passed:
        return update
    failed = Attempt(slot=slot, provider=candidate.provider, model=candidate.model,
                     request_id=candidate.request_id, render_id=candidate.render_id,
                     outcome="quality_fail",
                     error="; ".join(quality.reasons), error_kind="quality")
    update["attempts"] = [failed]
    if slot == "fallback":
        attempts = [*(state.get("attempts") or []), failed]
        update.update(scene_update(scene.key, errors=SceneError(
            scene=scene.key, stage="assess_quality", critical=True,
            message="every provider failed the quality check; last: "
                    + "; ".join(quality.reasons),
            attempts=attempts)))
    return update
