"""The conditional edges of the Video Agent: where a scene goes after each step.

A scene whose ``errors`` holds its key has ended (the node that failed wrote why).
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END

from video_agent.state import SceneState
from video_agent.video_agent_node.common import scene_key_of


def _ended(state: SceneState) -> bool:
    return (state.get("errors") or {}).get(scene_key_of(state)) is not None


def after_analyze(state: SceneState) -> Literal["reason_motion", "__end__"]:
    """Bad input (missing field, unusable still) ends the scene; otherwise plan the motion."""
    return END if _ended(state) or "analysis" not in state else "reason_motion"


def after_reason(state: SceneState) -> Literal["generate_primary", "__end__"]:
    return END if _ended(state) or "params" not in state else "generate_primary"


def after_primary(state: SceneState) -> Literal["assess_quality", "generate_fallback", "__end__"]:
    """A clip goes to the quality gate; a non-critical failure to the fallback; critical: end."""
    if _ended(state):
        return END
    return "assess_quality" if state.get("candidate") else "generate_fallback"


def after_assess(state: SceneState) -> Literal["store", "generate_fallback", "__end__"]:
    """A passing clip is stored; a failing primary clip gets one fallback attempt."""
    if _ended(state):
        return END
    quality = state.get("quality")
    if quality is not None and quality.passed:
        return "store"
    return "generate_fallback" if state.get("candidate_slot") == "primary" else END


def after_fallback(state: SceneState) -> Literal["assess_quality", "__end__"]:
    if _ended(state) or not state.get("candidate"):
        return END
    return "assess_quality"
