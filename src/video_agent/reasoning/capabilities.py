"""Fit a plan to what one provider accepts; every change is a recorded :class:`Conflict`."""

from __future__ import annotations

from video_agent.models import (
    SPEC_FPS,
    SPEC_MAX_DURATION,
    SPEC_MIN_DURATION,
    SPEC_MIN_HEIGHT,
    SPEC_MIN_WIDTH,
    Conflict,
    ProviderCapabilities,
    VideoParams,
)
from video_agent.values import Resolution


def _fit_duration(wanted: float, caps: ProviderCapabilities) -> tuple[float, str]:
    low = max(caps.min_duration, SPEC_MIN_DURATION)
    high = min(caps.max_duration, SPEC_MAX_DURATION)
    if caps.durations:
        allowed = sorted(d for d in caps.durations if SPEC_MIN_DURATION <= d <= SPEC_MAX_DURATION)
        if allowed:
            longer = [d for d in allowed if d >= wanted - 1e-6]
            if longer:
                return longer[0], f"the provider makes only {_list(allowed)} s clips; the " \
                    "next length that covers the plan"
            return allowed[-1], f"the provider makes only {_list(allowed)} s clips; its longest"
        return min(max(wanted, SPEC_MIN_DURATION), SPEC_MAX_DURATION), \
            "none of the provider's lengths is a spec length; the clip is trimmed afterwards"
    if high < low:
        return wanted, "the provider's range lies outside the spec's; trimmed afterwards"
    return min(max(wanted, low), high), f"the provider makes {low:g}-{high:g} s clips"


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)


def fit_to_capabilities(params: VideoParams, caps: ProviderCapabilities,
                        ) -> tuple[VideoParams, list[Conflict]]:
    """Snap or clamp ``params`` to what ``caps`` accepts.

    Durations snap up to an accepted length (a 7.3 s narration on a 5-or-10 s model becomes
    10 s), ranges clamp, unsupported aspect ratios, sizes and frame rates fall back to the
    nearest the provider has, and a camera move the provider cannot be told is marked as
    expressed in the prompt.
    """
    conflicts: list[Conflict] = []
    generation = params.generation.model_copy()
    motion = params.motion.model_copy()

    def conflict(field: str, requested: object, resolved: object, reason: str) -> None:
        conflicts.append(Conflict(field=field, requested=requested, resolved=resolved,
                                  reason=reason, source="provider_capability"))

    duration, why = _fit_duration(motion.duration, caps)
    if abs(duration - motion.duration) > 1e-6:
        conflict("motion.duration", motion.duration, duration, why)
        motion.duration = duration

    if generation.aspect_ratio not in caps.aspect_ratios and caps.aspect_ratios:
        resolved = "16:9" if "16:9" in caps.aspect_ratios else caps.aspect_ratios[0]
        conflict("generation.aspect_ratio", generation.aspect_ratio, resolved,
                 f"the provider takes {', '.join(caps.aspect_ratios)}; the clip is framed to "
                 "16:9 afterwards" if resolved != "16:9" else
                 f"the provider takes {', '.join(caps.aspect_ratios)}")
        generation.aspect_ratio = resolved

    if caps.resolutions and generation.resolution not in caps.resolutions:
        resolved = _nearest_resolution(generation.resolution, caps.resolutions)
        conflict("generation.resolution", generation.resolution, resolved,
                 f"the provider renders {', '.join(caps.resolutions)}; the nearest that is at "
                 f"least {SPEC_MIN_WIDTH}x{SPEC_MIN_HEIGHT} where possible")
        generation.resolution = resolved

    if caps.fps and generation.fps not in caps.fps:
        resolved_fps = min(caps.fps, key=lambda f: (abs(f - SPEC_FPS), -f))
        conflict("generation.fps", generation.fps, resolved_fps,
                 f"the provider renders at {', '.join(map(str, caps.fps))} fps; the clip is "
                 f"re-timed to {SPEC_FPS} fps afterwards")
        generation.fps = resolved_fps

    if caps.guidance_scale is not None:
        low, high = caps.guidance_scale
        if not low <= generation.guidance_scale <= high:
            resolved_g = min(max(generation.guidance_scale, low), high)
            conflict("generation.guidance_scale", generation.guidance_scale, resolved_g,
                     f"the provider accepts {low:g}-{high:g}")
            generation.guidance_scale = resolved_g

    if caps.num_inference_steps is not None:
        low_s, high_s = caps.num_inference_steps
        if not low_s <= generation.num_inference_steps <= high_s:
            resolved_s = min(max(generation.num_inference_steps, low_s), high_s)
            conflict("generation.num_inference_steps", generation.num_inference_steps,
                     resolved_s, f"the provider accepts {low_s}-{high_s}")
            generation.num_inference_steps = resolved_s

    if not caps.negative_prompt and generation.negative_prompt:
        conflict("generation.negative_prompt", generation.negative_prompt, "",
                 "the provider takes no negative prompt")
        generation.negative_prompt = ""

    if motion.type != "static" and motion.type not in caps.camera_controls:
        conflict("motion.type", motion.type, f"{motion.type} (in the prompt)",
                 "the provider has no control for this move; it is described in the prompt")

    fitted = params.model_copy(update={"generation": generation, "motion": motion})
    return VideoParams.model_validate(fitted.model_dump()), conflicts


def _nearest_resolution(wanted: str, offered: list[str]) -> str:
    target = Resolution.parse(wanted, "generation.resolution")

    def rank(resolution: str) -> tuple[int, float, int]:
        size = Resolution.parse(resolution, "capabilities.resolutions")
        too_small = int(size.width < SPEC_MIN_WIDTH or size.height < SPEC_MIN_HEIGHT)
        return too_small, abs(size.ratio - target.ratio), abs(size.area - target.area)

    return min(offered, key=rank)
