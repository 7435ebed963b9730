"""The camera vocabulary's names, in a module light enough for the CLI's help to import."""

from __future__ import annotations

from typing import Literal

MotionType = Literal[
    "static", "push_in", "pull_out", "pan", "tilt", "truck", "ken_burns", "orbit", "crane"
]
"""Camera moves the planner may choose and every provider understands (natively or in prose)."""

Speed = Literal["slow", "medium", "fast"]
Easing = Literal["ease_in_out", "linear", "ease_in", "ease_out"]
