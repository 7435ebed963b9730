"""The rule planner: analysis + Layer 1 text + narration timing -> the seed's ``video_params``,
with every decision and conflict written into a :class:`ReasoningTrace`."""

from __future__ import annotations

import re

from video_agent.models import (
    SPEC_FPS,
    SPEC_MIN_HEIGHT,
    SPEC_MIN_WIDTH,
    Easing,
    GenerationSettings,
    MotionSpec,
    NarrationTiming,
    QualityThresholds,
    ReasoningTrace,
    SceneAnalysis,
    SceneContext,
    SceneSpec,
    Source,
    VideoParams,
)
from video_agent.reasoning import rules
from video_agent.reasoning import vocabulary as vocab
from video_agent.reasoning.analyze import avoided_moves, split_image_prompt
from video_agent.values import SPEC_MIN_RESOLUTION, Resolution

NARRATION_FLAG = "narration_longer_than_clip"
_ASPECT = re.compile(r"\b(?:9:16|1:1|4:3|3:4|4:5|21:9|2\.39:1|(?:vertical|portrait|square)"
                     r"(?= (?:format|framing|frame|video|orientation|mode|crop|aspect)))",
                     re.IGNORECASE)


def _asked_aspect(text: str) -> str | None:
    """An aspect ratio the text asks for: an explicit ratio first, then a word for one."""
    words = [m.group(0).lower() for m in _ASPECT.finditer(text)]
    ratios = [w for w in words if ":" in w]
    if ratios:
        return ratios[0]
    named = {"vertical": "9:16", "portrait": "9:16", "square": "1:1"}
    return named[words[0]] if words else None


def scene_spec(scene: SceneContext) -> SceneSpec:
    return SceneSpec(content=scene.scene_content, number=scene.scene_number,
                     image_url=scene.image_ref)


def video_negative_prompt(negative: str) -> tuple[str, str]:
    """The terms of a still's negative prompt a video model can act on, and why."""
    terms = [t.strip() for t in re.split(r"[,\n]", negative) if t.strip()]
    kept = [t for t in terms if not vocab.STILL_ONLY_NEGATIVE.fullmatch(t.lower())]
    kept = list(dict.fromkeys(kept))[:vocab.NEGATIVE_MAX_TERMS]
    if not kept:
        return vocab.DEFAULT_NEGATIVE, "no usable negative prompt given; the baseline terms"
    dropped = [t for t in terms if t not in kept]
    reason = "the image prompt's negative prompt"
    if dropped:
        reason += f"; dropped what concerns drawing the still or taste ({', '.join(dropped)})"
    return ", ".join(kept), reason


def apply_narration(duration: float, narration: NarrationTiming | None,
                    trace: ReasoningTrace, field: str = "motion.duration") -> float:
    """Stretch ``duration`` to cover the narration plus a tail, within the spec's 4-10 s."""
    if narration is None:
        return duration
    low, high = rules.DURATION_RANGE
    needed = rules.round_up(narration.duration + rules.NARRATION_TAIL)
    trace.decide("narration.min_duration", min(needed, high),
                 f"narration lasts {narration.duration:g} s; the clip keeps "
                 f"{rules.NARRATION_TAIL:g} s after it", "speech_timing")
    if narration.duration > high:
        if NARRATION_FLAG not in trace.flags:
            trace.flags.append(NARRATION_FLAG)
        trace.conflict(field, needed, high,
                       f"narration of {narration.duration:g} s is longer than the longest clip "
                       f"({high:g} s); the story's assembler must extend or split it",
                       source="speech_timing")
        return high
    if needed > high:
        trace.decide(field, high, f"narration of {narration.duration:g} s leaves room for "
                     f"only {high - narration.duration:.2g} s of tail", "speech_timing")
        return high
    if duration < needed:
        return float(trace.decide(field, max(needed, low),
                                  f"lengthened from {duration:g} s to cover the narration",
                                  "speech_timing"))
    return duration


def clamp_duration(value: float, trace: ReasoningTrace, source: Source,
                   field: str = "motion.duration") -> float:
    low, high = rules.DURATION_RANGE
    if value < low or value > high:
        return float(trace.conflict(field, value, rules.clamp(value, low, high),
                                    f"clips are {low:g}-{high:g} s long", source=source))
    return value


def thresholds_for(params: VideoParams) -> QualityThresholds:
    """The quality thresholds a clip made from ``params`` must meet."""
    asked = Resolution.parse(params.generation.resolution, "generation.resolution")
    return QualityThresholds(min_resolution=str(asked.at_least(SPEC_MIN_RESOLUTION)),
                             min_fps=max(params.generation.fps, SPEC_FPS),
                             min_duration=params.motion.duration)


def _where(term_pattern: re.Pattern[str], scene: SceneContext) -> Source:
    prompt = split_image_prompt(scene.image_prompt)
    for text, source in ((scene.layer1_analysis, "layer1"), (scene.scene_content, "scene"),
                         (prompt.positive, "image_prompt")):
        if term_pattern.search(text):
            return source  # type: ignore[return-value]
    return "default"


def plan_rules(scene: SceneContext, analysis: SceneAnalysis,
               narration: NarrationTiming | None = None) -> tuple[VideoParams, ReasoningTrace]:
    """The deterministic plan: moves from the seed's baseline by the scene's cues."""
    trace = ReasoningTrace()
    motion_analysis = analysis.motion_analysis
    technical = analysis.technical_requirements
    scene_type = motion_analysis.scene_type
    cues = analysis.cues

    move, direction, move_cue = rules.choose_move(scene_type, cues, avoided_moves(scene))
    motion_type = trace.decide("motion.type", move.value, move.reason, move.source)
    trace.decide("motion.direction", direction.value, direction.reason, direction.source)
    speed, scale = rules.choose_speed(scene_type, move_cue, cues, motion_type)
    speed_value = trace.decide("motion.speed", speed.value, speed.reason, speed.source)
    scale_value = trace.decide("generation.motion_scale", scale.value, scale.reason,
                               scale.source)
    high_detail = technical.quality_needs == "high_detail_preservation"
    if speed_value == "fast" and high_detail and "face" in technical.focus_areas:
        speed_value = trace.conflict(
            "motion.speed", "fast", "medium",
            "fast motion smears the faces the text asks to keep detailed; the move is kept "
            "at medium pace", source="layer1")
        scale_value = min(scale_value, vocab.SPEED_SCALE["medium"])

    duration_choice = rules.choose_duration(scene_type, cues, speed_value)
    duration = clamp_duration(float(duration_choice.value), trace, duration_choice.source)
    trace.decide("motion.duration", duration, duration_choice.reason, duration_choice.source)
    duration = apply_narration(duration, narration, trace)

    focus = list(technical.focus_areas)
    trace.decide("motion.focus_points", focus,
                 "elements the texts single out, kept in view and sharp" if focus
                 else "nothing singled out", "layer1" if scene.layer1_analysis and focus
                 else "scene")
    easing: Easing = "linear" if motion_type in ("truck", "orbit") else "ease_in_out"
    trace.decide("motion.easing", easing, "tracking moves run at constant speed"
                 if easing == "linear" else "starts and stops softly", "default")

    guidance = rules.PRIMARY_GUIDANCE
    if high_detail:
        guidance = trace.decide("generation.guidance_scale", guidance + 1.0,
                                "increased for better detail retention",
                                _where(vocab.HIGH_DETAIL, scene)
                                if _where(vocab.HIGH_DETAIL, scene) != "default"
                                else "image_prompt")
    else:
        trace.decide("generation.guidance_scale", guidance, "baseline", "default")

    steps = rules.PRIMARY_STEPS
    step_reasons = []
    if len(motion_analysis.key_elements) >= 3 or len(focus) >= 3:
        steps += 5
        step_reasons.append("more steps for a complex scene")
    if speed_value == "fast":
        steps += 5
        step_reasons.append("fast motion needs more steps to stay coherent")
    steps = int(rules.clamp(steps, *rules.STEPS_RANGE))
    trace.decide("generation.num_inference_steps", steps,
                 "; ".join(step_reasons) or "baseline", "scene" if step_reasons else "default")

    aspect = rules.ASPECT_RATIO
    wanted = _asked_aspect(scene.layer1_analysis)
    if wanted and wanted != aspect:
        trace.conflict("generation.aspect_ratio", wanted, aspect,
                       f"the spec's smallest frame is {SPEC_MIN_WIDTH}x{SPEC_MIN_HEIGHT}, "
                       "a landscape 16:9 picture", source="layer1")
    else:
        trace.decide("generation.aspect_ratio", aspect,
                     f"the spec's {SPEC_MIN_WIDTH}x{SPEC_MIN_HEIGHT} frame", "default")

    negative, why = video_negative_prompt(analysis.negative_prompt)
    trace.decide("generation.negative_prompt", negative, why,
                 "image_prompt" if analysis.negative_prompt else "default")

    params = VideoParams(
        scene=scene_spec(scene),
        generation=GenerationSettings(
            guidance_scale=guidance, num_inference_steps=steps, aspect_ratio=aspect,
            negative_prompt=negative, motion_scale=round(scale_value, 2),
            motion_type=motion_type),
        motion=MotionSpec(type=motion_type, speed=speed_value, direction=direction.value,
                          duration=duration, focus_points=focus, easing=easing),
    )
    thresholds = thresholds_for(params)
    trace.decide("quality_thresholds", thresholds.model_dump(),
                 "the clip must be at least this large, this fluid and this long", "default")
    return params, trace


def plan_fallback(params: VideoParams, analysis: SceneAnalysis,
                  trace: ReasoningTrace) -> VideoParams:
    """The fallback attempt's plan: the seed's fallback baseline and a gentler move.

    Explicit lengths (Layer 1, narration) are kept; the rest starts from 5.0 s / 25 steps.
    Decisions go into ``trace`` under ``fallback.*``.
    """
    strategy = analysis.generation_strategy.fallback_options
    named = next((m for m in rules.FALLBACK_MOVES if strategy.startswith(m)), None)
    motion = named or rules.FALLBACK_MOVES[params.motion.type][0]
    if motion == params.motion.type and motion != "static":
        motion = rules.FALLBACK_MOVES[params.motion.type][0]
    trace.decide("fallback.motion.type", motion,
                 f"strategy {strategy!r}: a simpler move than {params.motion.type}"
                 if named else f"a simpler move than {params.motion.type}", "default")
    direction = rules.default_direction(motion)
    trace.decide("fallback.motion.direction", direction,
                 "the usual direction" if direction else "this move has no direction", "default")
    scale = round(max(rules.MOTION_SCALE_RANGE[0], params.generation.motion_scale - 0.2), 2)
    trace.decide("fallback.generation.motion_scale", scale, "gentler motion is safer", "default")

    asked, narrated = _duration_floor(trace)
    source: Source
    if asked is not None:
        duration, why, source = max(asked, narrated), "the length asked for is kept", "layer1"
    elif narrated > rules.FALLBACK_DURATION:
        duration, why, source = narrated, "long enough for the narration", "speech_timing"
    else:
        duration, why, source = rules.FALLBACK_DURATION, "the fallback baseline", "default"
    duration = rules.clamp(duration, *rules.DURATION_RANGE)
    trace.decide("fallback.motion.duration", duration, why, source)
    guidance = rules.clamp(rules.FALLBACK_GUIDANCE
                           + (params.generation.guidance_scale - rules.PRIMARY_GUIDANCE),
                           *rules.GUIDANCE_RANGE)
    trace.decide("fallback.generation.guidance_scale", guidance,
                 "the fallback baseline, with the primary plan's detail adjustment", "default")
    trace.decide("fallback.generation.num_inference_steps", rules.FALLBACK_STEPS,
                 "the fallback baseline", "default")
    return params.model_copy(update={
        "generation": params.generation.model_copy(update={
            "guidance_scale": guidance, "num_inference_steps": rules.FALLBACK_STEPS,
            "motion_scale": scale, "motion_type": motion}),
        "motion": params.motion.model_copy(update={
            "type": motion, "direction": direction, "speed": "slow", "duration": duration}),
    }, deep=True)


def _duration_floor(trace: ReasoningTrace) -> tuple[float | None, float]:
    """What the primary plan promised: an explicit length asked for, and the narration's need."""
    asked: float | None = None
    narrated = 0.0
    for decision in trace.decisions:
        if decision.field == "narration.min_duration":
            narrated = max(narrated, float(decision.value))
        elif decision.field == "motion.duration" and decision.source == "layer1":
            asked = float(decision.value)
    return asked, min(narrated, rules.DURATION_RANGE[1])

