"""The embedded renderer: a sub-pixel camera move over a still, encoded to H.264 MP4.

The names below load their module on first use, so a module that needs only one part (the
quality gate imports ``encode``) does not pay for the whole renderer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from video_agent.adapters.render.focus import FocusPoint, find_focus_points
    from video_agent.adapters.render.pipeline import (
        PRESETS,
        RenderCancelled,
        RenderError,
        RenderReport,
        load_rgb,
        render_clip,
    )
    from video_agent.adapters.render.trajectory import Camera, Trajectory, plan_trajectory

_HOME = {
    "FocusPoint": "focus", "find_focus_points": "focus",
    "PRESETS": "pipeline", "RenderCancelled": "pipeline", "RenderError": "pipeline",
    "RenderReport": "pipeline", "load_rgb": "pipeline", "render_clip": "pipeline",
    "Camera": "trajectory", "Trajectory": "trajectory", "plan_trajectory": "trajectory",
}

__all__ = [
    "PRESETS",
    "Camera",
    "FocusPoint",
    "RenderCancelled",
    "RenderError",
    "RenderReport",
    "Trajectory",
    "find_focus_points",
    "load_rgb",
    "plan_trajectory",
    "render_clip",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
