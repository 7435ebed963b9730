"""The text prompt sent to a provider: what is in the scene, how the camera moves, the style."""

from __future__ import annotations

import re

from video_agent.models import ProviderCapabilities, SceneAnalysis, SceneContext, VideoParams
from video_agent.reasoning import vocabulary as vocab
from video_agent.reasoning.analyze import sentences, split_image_prompt

MAX_PROMPT_CHARS = 600
_CONTENT_CHARS = 320

_SPEED_WORDS = {"slow": "slow", "medium": "steady", "fast": "fast"}
_MOVES = {
    "push_in": "camera pushes in toward {focus}",
    "pull_out": "camera pulls back to reveal the surroundings",
    "pan": "camera pans {direction}",
    "tilt": "camera tilts {direction}",
    "truck": "camera trucks {direction}, tracking alongside the subject",
    "crane": "camera cranes {direction}",
    "orbit": "camera orbits {direction} around {focus}",
    "ken_burns": "camera drifts gently toward {focus}",
    "static": "locked-off static camera, only the subject moves",
}
_DIRECTION_WORDS = {
    "left_to_right": "from left to right", "right_to_left": "from right to left",
    "up": "up", "down": "down", "left": "left", "right": "right",
    "clockwise": "clockwise", "counterclockwise": "counterclockwise",
}


def camera_in_words(params: VideoParams) -> str:
    """The planned camera move as a phrase, e.g. "slow camera pushes in toward the face"."""
    motion = params.motion
    focus = _readable(motion.focus_points[:2]) or "the subject"
    direction = _DIRECTION_WORDS.get(motion.direction or "", motion.direction or "")
    phrase = _MOVES[motion.type].format(focus=focus, direction=direction).replace("  ", " ")
    if motion.type == "static":
        return phrase
    return f"{_SPEED_WORDS[motion.speed]} {phrase}".strip()


def _readable(names: list[str]) -> str:
    words = [f"the {n.replace('_', ' ')}" for n in names]
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _essentials(scene: SceneContext) -> str:
    """The scene text's first sentences, whitespace-normalised and bounded."""
    out = ""
    for sentence in sentences(" ".join(scene.scene_content.split())):
        candidate = f"{out} {sentence}.".strip()
        if len(candidate) > _CONTENT_CHARS and out:
            break
        out = candidate
    return _bounded(out, _CONTENT_CHARS)


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;: ")


def build_prompt(params: VideoParams, analysis: SceneAnalysis, caps: ProviderCapabilities,
                 scene: SceneContext) -> str:
    """The provider prompt: scene essentials, the camera move in words when the provider has no
    control for it, focus, lighting and style; at most ``MAX_PROMPT_CHARS`` characters."""
    parts = [_essentials(scene)]
    if params.motion.type not in caps.camera_controls or params.motion.type == "static":
        parts.append(camera_in_words(params).capitalize() + ".")
    if params.motion.focus_points:
        parts.append(f"Keep {_readable(params.motion.focus_points)} sharp and in frame.")
    lighting = analysis.technical_requirements.lighting_dynamics
    if lighting and lighting != "static_lighting":
        light = lighting.removesuffix("_interaction").replace("_", " ")
        moving = " playing over the scene" if lighting.endswith("_interaction") else ""
        parts.append(f"{light.capitalize()}{moving}.")
    style = [s for s in analysis.style_preferences if not vocab.IMAGE_ONLY_TAGS.fullmatch(s)]
    if not style:
        positive = split_image_prompt(scene.image_prompt).positive
        style = [m.group(0).lower() for m in vocab.STYLE_TAGS.finditer(positive)]
    if style:
        parts.append(", ".join(list(dict.fromkeys(style))[:5]).capitalize() + ".")
    parts.append("Smooth natural motion, consistent lighting and colours.")
    prompt = " ".join(p for p in parts if p)
    prompt = re.sub(r"\s+", " ", prompt).strip()
    return _bounded(prompt, MAX_PROMPT_CHARS)
