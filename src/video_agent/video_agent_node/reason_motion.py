"""``reason_motion``: turn the analysis, the Layer 1 text and the narration timing into the
seed's ``video_params`` with a reasoning trace; the chosen duration goes back to the story
state for the Speech Agent."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from video_agent.context import VideoAgentContext
from video_agent.models import NarrationTiming
from video_agent.reasoning import plan_video
from video_agent.state import SceneState
from video_agent.video_agent_node.common import Reporter, context_of, scene_node, scene_of


@scene_node("reason_motion")
async def reason_motion(state: SceneState, runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    scene = scene_of(state)
    narration = state.get("narration")
    if isinstance(narration, dict):
        narration = NarrationTiming.model_validate(narration)
    report = Reporter(runtime, state.get("story_id", ""), scene.key, "reason_motion")
    params, trace = await plan_video(scene, state["analysis"], narration=narration,
                                     chat_model=ctx.chat_model)
    motion = params.motion
    report(1.0, f"{motion.speed} {motion.type.replace('_', ' ')}, {motion.duration:g} s")
    return {"params": params, "trace": trace,
            "planned_durations": {scene.key: motion.duration}}
