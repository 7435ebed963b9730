"""The planning entry point: the rule plan, or a chat model's plan checked by the same rules.

It sits above both planners so that the rule planner (``planner.py``) and the chat-model planner
(``llm.py``, which builds on the rule plan) import one way only.
"""

from __future__ import annotations

from typing import Any

from video_agent.models import (
    NarrationTiming,
    ReasoningTrace,
    SceneAnalysis,
    SceneContext,
    VideoParams,
)
from video_agent.reasoning.llm import plan_with_model
from video_agent.reasoning.planner import plan_rules


async def plan_video(scene: SceneContext, analysis: SceneAnalysis, *,
                     narration: NarrationTiming | None = None,
                     chat_model: Any = None) -> tuple[VideoParams, ReasoningTrace]:
    """Plan a scene's clip: rules by default, or a chat model checked by the same rules."""
    params, trace = plan_rules(scene, analysis, narration)
    if chat_model is None:
        return params, trace
    return await plan_with_model(chat_model, scene, analysis, narration, params, trace)
