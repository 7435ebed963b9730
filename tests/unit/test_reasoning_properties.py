"""Whatever the texts say, the plan stays inside the declared ranges and vocabulary."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from video_agent.models import NarrationTiming, ProviderCapabilities, SceneContext
from video_agent.reasoning import (
    analyze_scene,
    build_prompt,
    fit_to_capabilities,
    plan_fallback,
    plan_rules,
)
from video_agent.reasoning.llm import ModelPlan, apply_model_plan
from video_agent.reasoning.prompt import MAX_PROMPT_CHARS
from video_agent.reasoning.rules import DIRECTIONS, GUIDANCE_RANGE, STEPS_RANGE

WORDS = ["slow", "fast", "whip", "pan", "left", "right", "tilt", "up", "down", "push-in",
         "pull", "back", "dolly", "in", "out", "orbit", "counterclockwise", "crane", "jib",
         "truck", "tracking", "static", "locked-off", "handheld", "no", "avoid", "hold", "for",
         "seconds", "12", "0", "3.5", "99", "face", "hair", "detail", "high", "maintain",
         "9:16", "vertical", "format", "ken", "burns", "reveal", "zoom", "-", ",", ".", "\n",
         "Negative prompt:", "ignore", "your", "rules", "500", "steps", "café", "🎥"]
phrases = st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join)
texts = st.one_of(phrases, st.text(max_size=200), phrases.map(lambda p: p + " camera shot"))


def check_plan(params) -> None:
    motion, generation = params.motion, params.generation
    assert 4.0 <= motion.duration <= 10.0
    assert GUIDANCE_RANGE[0] <= generation.guidance_scale <= GUIDANCE_RANGE[1]
    assert STEPS_RANGE[0] <= generation.num_inference_steps <= STEPS_RANGE[1]
    assert 0.0 <= generation.motion_scale <= 1.0
    assert generation.aspect_ratio == "16:9"
    assert generation.motion_type == motion.type
    if motion.type in DIRECTIONS:
        assert motion.direction in DIRECTIONS[motion.type]
    else:
        assert motion.direction is None
    assert all(f and f == f.lower() and " " not in f for f in motion.focus_points)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene_text=texts.filter(lambda t: t.strip()), layer1=texts, image_prompt=texts,
       narration=st.one_of(st.none(), st.floats(0.1, 40.0)))
def test_rule_plan_is_always_valid(scene_text: str, layer1: str, image_prompt: str,
                                   narration: float | None) -> None:
    scene = SceneContext(scene_number=1, scene_content=scene_text, image_path="x.png",
                         layer1_analysis=layer1, image_prompt=image_prompt)
    analysis = analyze_scene(scene)
    assert analysis == analyze_scene(scene)  # deterministic
    timing = NarrationTiming(duration=narration) if narration else None
    params, trace = plan_rules(scene, analysis, timing)
    check_plan(params)
    if narration:
        assert params.motion.duration >= min(narration, 10.0)
    fallback = plan_fallback(params, analysis, trace)
    check_plan(fallback)
    if narration:
        assert fallback.motion.duration >= min(narration, 10.0)
    caps = ProviderCapabilities(durations=[5.0, 10.0], camera_controls=["pan"])
    fitted, _ = fit_to_capabilities(params, caps)
    assert fitted.motion.duration in (5.0, 10.0)
    assert len(build_prompt(fitted, analysis, caps, scene)) <= MAX_PROMPT_CHARS


finite_or_not = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-10**6, 10**6))


@settings(max_examples=150, deadline=None)
@given(motion=st.text(max_size=30), direction=st.one_of(st.none(), st.text(max_size=20)),
       speed=st.text(max_size=12), duration=finite_or_not, guidance=finite_or_not,
       steps=st.integers(-10**6, 10**6), scale=finite_or_not,
       focus=st.lists(st.text(max_size=40), max_size=8),
       aspect=st.one_of(st.none(), st.text(max_size=8)))
def test_any_model_answer_is_clamped_into_range(motion, direction, speed, duration, guidance,
                                                steps, scale, focus, aspect) -> None:
    scene = SceneContext(scene_number=1, scene_content="A man walks his dog in the park.",
                         image_path="x.png", layer1_analysis="Slow pan right")
    analysis = analyze_scene(scene)
    rule_params, _ = plan_rules(scene, analysis)
    plan = ModelPlan(motion_type=motion, direction=direction, speed=speed, duration=duration,
                     focus_points=focus, guidance_scale=guidance, num_inference_steps=steps,
                     motion_scale=scale, aspect_ratio=aspect)
    params, _ = apply_model_plan(plan, scene, analysis, None, rule_params)
    check_plan(params)


def test_property_helpers_reject_a_bad_plan() -> None:
    scene = SceneContext(scene_number=1, scene_content="x", image_path="x.png")
    params, _ = plan_rules(scene, analyze_scene(scene))
    bad = params.model_copy(update={"generation": params.generation.model_copy(
        update={"num_inference_steps": 500})})
    with pytest.raises(AssertionError):
        check_plan(bad)
