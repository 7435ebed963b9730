"""``video_params`` -> one endpoint's own arguments, and the fingerprint of those arguments."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from video_agent.adapters.providers.fal.endpoints import FalEndpoint
from video_agent.models import GenerationRequest
from video_agent.values import SPEC_MIN_HEIGHT, FieldValueError, Resolution

IMAGE_PLACEHOLDER = "<image>"


def _nearest(value: float, choices: list[float]) -> float:
    return min(choices, key=lambda c: (abs(c - value), -c))


def _clamp(value: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, value))


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)


def clip_seconds(endpoint: FalEndpoint, requested: float) -> float:
    """The length the endpoint will actually deliver for a requested duration."""
    d = endpoint.duration
    if d.format == "none":
        return d.fixed or 5.0
    if d.choices:
        return float(_nearest(requested, d.choices))
    seconds = _clamp(requested, d.min, d.max)
    if d.format == "num_frames":
        return round(round(seconds * d.frame_rate) / d.frame_rate, 3)
    return seconds


def _duration_args(endpoint: FalEndpoint, seconds: float) -> dict[str, Any]:
    d = endpoint.duration
    if d.format == "none" or d.arg is None:
        return {}
    if d.format == "string":
        return {d.arg: str(_number(seconds))}
    if d.format == "seconds_s":
        return {d.arg: f"{_number(seconds)}s"}
    if d.format == "num_frames":
        return {d.arg: round(seconds * d.frame_rate)}
    return {d.arg: _number(seconds)}


def _resolution_value(endpoint: FalEndpoint, wanted: str) -> str | None:
    """The smallest enum value whose frame is at least as tall as ``wanted``."""
    if endpoint.resolution is None:
        return None
    try:
        wanted_h = Resolution.parse(wanted).height
    except FieldValueError:
        wanted_h = SPEC_MIN_HEIGHT
    ranked = sorted(endpoint.resolution.choices.items(),
                    key=lambda kv: Resolution.parse(kv[1], "resolution.choices").height)
    for value, size in ranked:
        if Resolution.parse(size, "resolution.choices").height >= wanted_h:
            return value
    return ranked[-1][0]


def stable_seed(request: GenerationRequest) -> int:
    """A seed fixed by story, scene and image, so a rerun asks for the same clip."""
    text = f"{request.story_id}|{request.scene}|{request.image.sha256}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % 2_147_483_647


def map_arguments(endpoint: FalEndpoint, request: GenerationRequest,
                  image_url: str = IMAGE_PLACEHOLDER) -> dict[str, Any]:
    """The endpoint's JSON arguments for ``request`` (the image given as ``image_url``)."""
    gen = request.params.generation
    motion = request.params.motion
    args: dict[str, Any] = {endpoint.prompt_arg: request.prompt, endpoint.image_arg: image_url}
    args.update(_duration_args(endpoint, clip_seconds(endpoint, motion.duration)))
    if endpoint.guidance is not None:
        g = endpoint.guidance
        args[g.arg] = round(_clamp(gen.guidance_scale, g.min, g.max), 3)
    if endpoint.steps is not None:
        s = endpoint.steps
        args[s.arg] = int(_clamp(gen.num_inference_steps, s.min, s.max))
    if endpoint.negative_prompt_arg and gen.negative_prompt.strip():
        args[endpoint.negative_prompt_arg] = gen.negative_prompt
    if endpoint.aspect_ratio_arg:
        ratio = gen.aspect_ratio if gen.aspect_ratio in endpoint.aspect_ratios else (
            endpoint.aspect_ratios[0] if endpoint.aspect_ratios else "16:9")
        args[endpoint.aspect_ratio_arg] = ratio
    resolution = _resolution_value(endpoint, gen.resolution)
    if resolution is not None and endpoint.resolution is not None:
        args[endpoint.resolution.arg] = resolution
    if endpoint.fps_arg:
        args[endpoint.fps_arg] = endpoint.output.fps
    if endpoint.seed_arg:
        args[endpoint.seed_arg] = stable_seed(request)
    if endpoint.static_camera_arg:
        args[endpoint.static_camera_arg] = motion.type == "static"
    for key, value in endpoint.fixed_args.items():
        args.setdefault(key, value)
    return args


def fingerprint(endpoint: FalEndpoint, request: GenerationRequest) -> str:
    """sha256 of the mapped arguments with the image named by its content hash.

    The upload URL may change between runs (cache expiry, data URI); the image content does not.
    """
    args = map_arguments(endpoint, request, image_url=f"sha256:{request.image.sha256}")
    identity: dict[str, Any] = {"endpoint": endpoint.id, "args": args}
    if request.generation:  # a forced regeneration is a new paid request, not a resume
        identity["generation"] = request.generation
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def public_args(args: dict[str, Any], image_arg: str) -> dict[str, Any]:
    """Arguments safe to keep in metadata: a data URI is replaced by a short description."""
    shown = dict(args)
    value = shown.get(image_arg)
    if isinstance(value, str) and value.startswith("data:"):
        shown[image_arg] = f"{value.split(',', 1)[0]},... ({len(value)} chars)"
    return shown
