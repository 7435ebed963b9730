"""The embedded renderer: a sub-pixel camera move over a still, encoded to H.264 MP4."""

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
