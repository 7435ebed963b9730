"""``generate_fallback``: a second, more conservative plan on the fallback provider, reached when
the primary failed non-critically or its clip did not pass the quality gate."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from video_agent.context import VideoAgentContext
from video_agent.models import Attempt, SceneError
from video_agent.reasoning import plan_fallback
from video_agent.state import SceneState, scene_update
from video_agent.video_agent_node.common import context_of, scene_node, scene_of
from video_agent.video_agent_node.generation import attempt


@scene_node("generate_fallback")
async def generate_fallback(state: SceneState,
                            runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    scene = scene_of(state)
    attempts: list[Attempt] = list(state.get("attempts") or [])
    if not ctx.fallback.strip():
        last = attempts[-1].error if attempts else "primary failed"
        return scene_update(scene.key, errors=SceneError(
            scene=scene.key, stage="generate_fallback", critical=True,
            message=f"primary failed and no fallback provider is configured: {last}",
            attempts=attempts))
    trace = state["trace"].model_copy(deep=True)
    params = plan_fallback(state["params"], state["analysis"], trace)
    return await attempt(state, runtime, "fallback", ctx.fallback, params, trace)
