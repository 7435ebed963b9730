"""Motion reasoning: read a scene, plan its clip, fit the plan to a provider, word its prompt.

``analyze_scene`` reads the texts into the seed's ``reasoning_steps``; ``plan_video`` turns them
into the seed's ``video_params`` with a trace of every decision (rules by default, or a chat
model checked by the same rules); ``plan_fallback`` derives the fallback attempt's plan;
``fit_to_capabilities`` and ``build_prompt`` prepare one provider call.
"""

from video_agent.reasoning.analyze import analyze_scene
from video_agent.reasoning.capabilities import fit_to_capabilities
from video_agent.reasoning.plan import plan_video
from video_agent.reasoning.planner import NARRATION_FLAG, plan_fallback, plan_rules, thresholds_for
from video_agent.reasoning.prompt import build_prompt, camera_in_words

__all__ = [
    "NARRATION_FLAG",
    "analyze_scene",
    "build_prompt",
    "camera_in_words",
    "fit_to_capabilities",
    "plan_fallback",
    "plan_rules",
    "plan_video",
    "thresholds_for",
]
