"""The conditional edges of the Video Agent: where a scene goes after each step.

Each router returns a label, and its path map (``PATHS``) names the node for that label, so the
drawn graph (Studio, ``draw_mermaid``) shows why a branch is taken.
A scene whose ``errors`` holds its key has ended (the node that failed wrote why).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Literal

from langgraph.graph import END

from video_agent.state import SceneState
from video_agent.video_agent_node.common import scene_key_of

AfterAnalyze = Literal["context ok", "bad input"]
AfterReason = Literal["plan", "planning failed"]
AfterPrimary = Literal["clip", "provider error", "critical error"]
AfterAssess = Literal["pass or repaired", "primary clip rejected", "fallback clip rejected",
                      "regenerate primary", "regenerate fallback"]
AfterFallback = Literal["fallback clip", "every provider failed"]
AfterStore = Literal["stored", "regenerate primary", "regenerate fallback"]
"""A clip lost with a killed run's temp folder is generated again in its slot. Studio draws one
label per edge: assess_quality's edge to generate_fallback shows "primary clip rejected"."""
Lost = Literal["regenerate primary", "regenerate fallback"]


def _ended(state: SceneState) -> bool:
    return (state.get("errors") or {}).get(scene_key_of(state)) is not None


def after_analyze(state: SceneState) -> AfterAnalyze:
    """Bad input (missing field, unusable still) ends the scene; otherwise plan the motion."""
    return "bad input" if _ended(state) or "analysis" not in state else "context ok"


def after_reason(state: SceneState) -> AfterReason:
    return "planning failed" if _ended(state) or "params" not in state else "plan"


def after_primary(state: SceneState) -> AfterPrimary:
    """A clip goes to the quality gate; a non-critical failure to the fallback; critical: end."""
    if _ended(state):
        return "critical error"
    return "clip" if _clip(state) else "provider error"


def _clip(state: SceneState) -> bool:
    take = state.get("take")
    return take is not None and take.result is not None


def _lost(state: SceneState) -> Lost:
    return "regenerate fallback" if state.get("redo") == "fallback" else "regenerate primary"


def after_assess(state: SceneState) -> AfterAssess:
    """A passing clip is stored; a failing primary clip gets one fallback attempt; a clip lost
    with a killed run's temp folder is generated again in its own slot."""
    if not _ended(state) and state.get("redo"):
        return _lost(state)
    take = state.get("take")
    quality = take.quality if take is not None else None
    if not _ended(state) and quality is not None and quality.passed:
        return "pass or repaired"
    if not _ended(state) and take is not None and take.slot == "primary":
        return "primary clip rejected"
    return "fallback clip rejected"


def after_fallback(state: SceneState) -> AfterFallback:
    if _ended(state) or not _clip(state):
        return "every provider failed"
    return "fallback clip"


def after_store(state: SceneState) -> AfterStore:
    """Stored: done. A clip lost before its version was whole is generated again."""
    return _lost(state) if state.get("redo") and not _ended(state) else "stored"


PATHS: dict[str, dict[Hashable, str]] = {
    "analyze_context": {"context ok": "reason_motion", "bad input": END},
    "reason_motion": {"plan": "generate_primary", "planning failed": END},
    "generate_primary": {"clip": "assess_quality", "provider error": "generate_fallback",
                         "critical error": END},
    "assess_quality": {"pass or repaired": "store", "primary clip rejected": "generate_fallback",
                       "fallback clip rejected": END, "regenerate primary": "generate_primary",
                       "regenerate fallback": "generate_fallback"},
    "generate_fallback": {"fallback clip": "assess_quality", "every provider failed": END},
    "store": {"stored": END, "regenerate primary": "generate_primary",
              "regenerate fallback": "generate_fallback"},
}
"""Path map of each node's conditional edge: label -> next node."""
