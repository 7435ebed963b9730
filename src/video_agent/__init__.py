"""Video Agent: a LangGraph plugin that turns the scenes of a story into short videos.

Public names are imported lazily, so ``import video_agent.models`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SceneInput": "video_agent.state",
    "SceneOutput": "video_agent.state",
    "StoryState": "video_agent.state",
    "VideoAgentContext": "video_agent.context",
    "build_story_graph": "video_agent.graph",
    "build_video_agent_graph": "video_agent.graph",
    "scene_sends": "video_agent.graph",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'video_agent' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
