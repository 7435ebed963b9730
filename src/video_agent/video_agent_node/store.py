"""``store``: write the clip and its metadata atomically and hand the seed's final output
structure back to the story state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from video_agent import faultpoints
from video_agent.adapters.storage.local import ClipMissing
from video_agent.context import VideoAgentContext
from video_agent.models import Attempt, NarrationTiming, SceneVideo
from video_agent.reasoning import thresholds_for
from video_agent.state import SceneState
from video_agent.video_agent_node.common import (
    Reporter,
    context_of,
    log,
    scene_node,
    scene_of,
    storage_of,
)
from video_agent.video_agent_node.effects import unique_attempts


def build_metadata(state: SceneState) -> dict[str, Any]:
    """The seed's ``metadata`` plus everything needed to audit how the clip was made."""
    scene = scene_of(state)
    take = state["take"]
    assert take is not None and take.result is not None and take.quality is not None
    params, fitted, quality, candidate = take.asked, take.fitted, take.quality, take.result
    assert fitted is not None  # a take with a clip has its fitted plan
    analysis, trace, image = state["analysis"], state["trace"], state["image"]
    probe = quality.probe
    attempts = unique_attempts(list(state.get("attempts") or []))
    narration = state.get("narration")
    return {
        "duration": round(probe.duration, 3),
        "resolution": probe.resolution,
        "fps": round(probe.fps, 3),
        "scene_content": scene.scene_content,
        "generation_params": {
            "guidance_scale": params.generation.guidance_scale,
            "num_inference_steps": params.generation.num_inference_steps,
            "motion_type": params.motion.type,
            "motion_scale": params.generation.motion_scale,
        },
        "scene_elements": analysis.scene_elements,
        "story_id": state.get("story_id", ""),
        "scene_number": scene.scene_number,
        "provider": candidate.provider,
        "model": candidate.model,
        "slot": take.slot,
        "request_id": candidate.request_id,
        "render_id": candidate.render_id,
        "provider_args": candidate.provider_args,
        "provider_details": candidate.details,
        "cost_usd": round(paid(attempts), 4),
        "image": image.model_dump(),
        "narration": narration.model_dump() if isinstance(narration, NarrationTiming)
        else narration,
        "video_params": params.model_dump(),
        "provider_params": fitted.model_dump(),
        "reasoning": {"reasoning_steps": analysis.model_dump(), **trace.model_dump()},
        "quality": {
            "verdict": quality.verdict,
            "reasons": quality.reasons,
            "checks": [c.model_dump(mode="json") for c in quality.checks],
            "metrics": quality.metrics,
            "repairs": quality.repairs,
            "series": quality.series,
            "thresholds": thresholds_for(params).model_dump(),
            "probe": probe.model_dump(),
            "original_probe": quality.original_probe.model_dump()
            if quality.original_probe else None,
        },
        "attempts": [a.model_dump() for a in attempts],
        "timings": dict(state.get("timings") or {}),
    }


def paid(attempts: list[Attempt]) -> float:
    """What the attempts cost, each paid request once (a clip fetched again after a crash
    repeats its request's attempt, not its price; the gate's rejection of a clip names the
    request without a price, and does not cancel the price)."""
    by_request: dict[str, float] = {}
    for a in attempts:
        if a.request_id:
            by_request[a.request_id] = max(by_request.get(a.request_id, 0.0), a.cost)
    return sum(by_request.values()) + sum(a.cost for a in attempts if not a.request_id)


@scene_node("store")
async def store(state: SceneState, runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    scene = scene_of(state)
    story_id = state.get("story_id", "")
    report = Reporter(runtime, story_id, scene.key, "store")
    storage = storage_of(ctx)
    metadata = build_metadata(state)
    take = state["take"]
    assert take is not None  # routed here only with a judged clip
    candidate, quality = take.result, take.quality
    assert candidate is not None and quality is not None
    try:
        video: SceneVideo = await storage.save_scene(story_id, scene.key, Path(quality.path),
                                                     metadata,
                                                     render_id=candidate.render_id)
    except ClipMissing as exc:
        # Killed before the version was whole, and the clip went with that run's temp folder.
        log.info("scene %s: %s; generating the %s clip again", scene.key, exc, take.slot)
        return {"take": None, "redo": take.slot}
    faultpoints.hit("store_published")  # the temp folder goes once the node has returned
    report(1.0, f"stored version {video.version}")
    return {"videos": {scene.key: video}, "errors": {scene.key: None}}
