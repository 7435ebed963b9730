"""``generate_primary``: the planned clip from the primary provider."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from video_agent.context import VideoAgentContext
from video_agent.state import SceneState
from video_agent.video_agent_node.common import context_of, scene_node
from video_agent.video_agent_node.generation import attempt


@scene_node("generate_primary")
async def generate_primary(state: SceneState,
                           runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    return await attempt(state, runtime, "primary", ctx.primary, state["params"], state["trace"])
