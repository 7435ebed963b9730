"""The planner's rules: baselines, declared ranges and the choices made from a scene's cues.

Every choice comes back as a :class:`Choice` (value, reason, source) so the planner can record
it in the trace as it is, and the analysis can use the same choice for its strategy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from video_agent.models import (
    CameraCue,
    MotionType,
    Source,
    Speed,
)
from video_agent.reasoning.vocabulary import SPEED_SCALE, SPEED_WORDS
from video_agent.values import CLIP_SECONDS

# The seed's processing-steps defaults: what the reasoning moves away from.
PRIMARY_DURATION, PRIMARY_STEPS, PRIMARY_GUIDANCE = 6.0, 30, 6.0
FALLBACK_DURATION, FALLBACK_STEPS, FALLBACK_GUIDANCE = 5.0, 25, 5.0

GUIDANCE_RANGE = (3.0, 10.0)
STEPS_RANGE = (20, 50)
MOTION_SCALE_RANGE = (0.0, 1.0)
DURATION_RANGE = CLIP_SECONDS
ASPECT_RATIO = "16:9"
NARRATION_TAIL = 0.5
"""Seconds of picture kept after the narration ends."""

HANDHELD_SCALE = 0.3
STATIC_SCALE = 0.5
"""A locked camera: the provider animates the subject only, at half strength."""

CUE_PRIORITY: tuple[Source, ...] = ("layer1", "scene", "image_prompt")

DEFAULT_MOVES: dict[str, tuple[tuple[MotionType, str | None], ...]] = {
    "character_focused": (("push_in", None), ("ken_burns", None), ("pan", "left_to_right")),
    "landscape": (("pan", "left_to_right"), ("pull_out", None), ("ken_burns", None)),
    "action": (("truck", "right"), ("push_in", None), ("pan", "left_to_right")),
    "dialogue": (("ken_burns", None), ("push_in", None), ("static", None)),
    "establishing": (("pull_out", None), ("crane", "up"), ("pan", "left_to_right")),
    "object_detail": (("push_in", None), ("ken_burns", None), ("static", None)),
}
DEFAULT_MOVE_REASONS: dict[str, str] = {
    "character_focused": "a character scene draws the viewer toward the subject",
    "landscape": "a landscape is read by sweeping across it",
    "action": "action is followed sideways, like a tracking shot",
    "dialogue": "a dialogue scene wants a barely moving frame that keeps the faces",
    "establishing": "an establishing shot reveals the place by widening",
    "object_detail": "a detail shot moves in on the object",
}

FALLBACK_MOVES: dict[MotionType, tuple[MotionType, str | None]] = {
    "push_in": ("pan", "left_to_right"),
    "pull_out": ("pan", "left_to_right"),
    "pan": ("ken_burns", None),
    "tilt": ("ken_burns", None),
    "truck": ("pan", "left_to_right"),
    "orbit": ("pan", "left_to_right"),
    "crane": ("tilt", "up"),
    "ken_burns": ("push_in", None),
    "static": ("static", None),
}
"""The gentler or simpler move tried when the primary attempt fails."""

DIRECTIONS: dict[MotionType, tuple[str, ...]] = {
    "pan": ("left_to_right", "right_to_left"),
    "tilt": ("up", "down"),
    "truck": ("left", "right"),
    "crane": ("up", "down"),
    "orbit": ("clockwise", "counterclockwise"),
}
"""Directions each move takes (the renderer's vocabulary); other moves take none."""


@dataclass(frozen=True)
class Choice:
    value: Any
    reason: str
    source: Source


def default_direction(motion: MotionType) -> str | None:
    options = DIRECTIONS.get(motion)
    return options[0] if options else None


def ordered_cues(cues: list[CameraCue]) -> list[CameraCue]:
    """Cues by authority: Layer 1 first, then the scene text, then the image prompt."""
    return sorted(cues, key=lambda c: CUE_PRIORITY.index(c.source)
                  if c.source in CUE_PRIORITY else len(CUE_PRIORITY))


def choose_move(scene_type: str, cues: list[CameraCue], avoided: set[str]
                ) -> tuple[Choice, Choice, CameraCue | None]:
    """The camera move, its direction, and the cue that asked for it (if one did)."""
    for cue in ordered_cues(cues):
        if cue.motion is None or cue.motion in avoided:
            continue
        direction = cue.direction if cue.motion in DIRECTIONS else None
        if cue.motion in DIRECTIONS and direction not in DIRECTIONS[cue.motion]:
            direction = default_direction(cue.motion)
        where = {"layer1": "the Layer 1 text", "scene": "the scene text",
                 "image_prompt": "the image prompt"}.get(cue.source, cue.source)
        reason = f'{where} asks for it: "{cue.phrase}"'
        if "hand" in cue.phrase.lower() or "shaky" in cue.phrase.lower():
            reason += ("; handheld is no camera move of its own, so the nearest one is a slow "
                       "drift toward the focus point at low motion scale")
        return (Choice(cue.motion, reason, cue.source),
                Choice(direction, f"direction of \"{cue.phrase}\"" if direction else
                       "this move has no direction", cue.source),
                cue)
    options = DEFAULT_MOVES.get(scene_type, DEFAULT_MOVES["character_focused"])
    for motion, direction in options:
        if motion in avoided:
            continue
        reason = (f"no camera move requested; {DEFAULT_MOVE_REASONS.get(scene_type, '')}"
                  .rstrip("; "))
        if options[0][0] != motion:
            reason = (f"no camera move requested; the usual {options[0][0]} of a "
                      f"{scene_type.replace('_', ' ')} scene is ruled out by the text, so the "
                      f"next fitting move")
        return (Choice(motion, reason, "scene"),
                Choice(direction, "the usual direction for this move" if direction else
                       "this move has no direction", "default"),
                None)
    return (Choice("static", "every fitting move is ruled out by the text; the camera holds",
                   "layer1"), Choice(None, "a static camera has no direction", "default"), None)


def _scale_of(phrase: str) -> float | None:
    for word in SPEED_WORDS:
        if word.pattern.search(phrase):
            return word.motion_scale
    return None


def choose_speed(scene_type: str, move_cue: CameraCue | None, cues: list[CameraCue],
                 motion: MotionType) -> tuple[Choice, Choice]:
    """The speed band and the motion scale that goes with it."""
    speed: Choice | None = None
    scale: float | None = None
    if move_cue is not None and move_cue.speed is not None:
        speed = Choice(move_cue.speed, f'the move is described as "{move_cue.phrase}"',
                       move_cue.source)
        scale = _scale_of(move_cue.phrase)
    else:
        for cue in ordered_cues(cues):
            if cue.speed is not None and cue.motion is None:
                speed = Choice(cue.speed, f'pace set by "{cue.phrase}"', cue.source)
                scale = _scale_of(cue.phrase)
                break
    if speed is None:
        band: Speed = "fast" if scene_type == "action" else "slow"
        speed = Choice(band, f"the usual pace of a {scene_type.replace('_', ' ')} scene", "scene")
    if move_cue is not None and ("hand" in move_cue.phrase.lower()
                                 or "shaky" in move_cue.phrase.lower()):
        return speed, Choice(HANDHELD_SCALE, "handheld: a small drift only", move_cue.source)
    if motion == "static":
        return speed, Choice(STATIC_SCALE, "camera locked: only the subject moves", "default")
    if scale is None:
        scale = SPEED_SCALE[speed.value]
        reason = f"the usual strength for {speed.value} motion"
    else:
        reason = "strength of the speed word"
    if speed.value == "slow" and scale >= SPEED_SCALE["slow"]:
        reason = "subtle motion for a natural feel"
    return speed, Choice(scale, reason, speed.source)


def choose_duration(scene_type: str, cues: list[CameraCue], speed: Speed) -> Choice:
    """The clip length before narration timing and provider limits are applied."""
    for cue in ordered_cues(cues):
        if cue.duration is not None:
            return Choice(cue.duration, f'asked for: "{cue.phrase}"', cue.source)
    if scene_type in ("landscape", "establishing") and speed != "fast":
        return Choice(8.0, "a slow sweep over a wide view needs time to be read", "scene")
    if scene_type == "action" or speed == "fast":
        return Choice(5.0, "fast action holds attention for a short clip", "scene")
    return Choice(PRIMARY_DURATION, "the baseline length suits a slow, atmospheric scene",
                  "default")


def clamp(value: float, low: float, high: float) -> float:
    """``value`` within ``[low, high]``; NaN has no place in a range and is refused."""
    if math.isnan(value):
        raise ValueError("cannot clamp NaN")
    return min(max(value, low), high)


def round_up(value: float, step: float = 0.1) -> float:
    """Round up to ``step`` (narration of 5.62 s asks for at least 5.7 s of picture).

    Values too large for ``step`` to matter (and infinities) come back as they are; NaN is
    refused.
    """
    if math.isnan(value):
        raise ValueError("cannot round NaN")
    steps = round(value / step, 6)
    if not math.isfinite(steps) or abs(steps) >= 2**52:
        return float(value)
    return round(math.ceil(steps) * step, 3)
