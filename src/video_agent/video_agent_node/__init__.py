"""The six nodes of the Video Agent subgraph, one module each, and its conditional edges."""

from video_agent.video_agent_node.analyze_context import analyze_context
from video_agent.video_agent_node.assess_quality import assess_quality
from video_agent.video_agent_node.generate_fallback import generate_fallback
from video_agent.video_agent_node.generate_primary import generate_primary
from video_agent.video_agent_node.reason_motion import reason_motion
from video_agent.video_agent_node.store import store

__all__ = [
    "analyze_context",
    "assess_quality",
    "generate_fallback",
    "generate_primary",
    "reason_motion",
    "store",
]
