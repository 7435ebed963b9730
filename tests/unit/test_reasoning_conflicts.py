"""Conflicts between creative wishes and technical limits, speech timing, provider fitting and
the provider prompt."""

from __future__ import annotations

import pytest

from video_agent.models import NarrationTiming, ProviderCapabilities, SceneContext
from video_agent.reasoning import (
    NARRATION_FLAG,
    analyze_scene,
    build_prompt,
    camera_in_words,
    fit_to_capabilities,
    plan_fallback,
    plan_rules,
    thresholds_for,
)
from video_agent.reasoning.prompt import MAX_PROMPT_CHARS

PORTRAIT = "A woman sits by the window of a quiet room, holding a cup of tea."
VALLEY = "Mountains rise above a green valley; a river winds through the fields under a wide sky."


def plan(layer1: str = "", scene: str = PORTRAIT, narration: float | None = None,
         image_prompt: str = ""):
    ctx = SceneContext(scene_number=3, scene_content=scene, image_path="/tmp/x.png",
                       layer1_analysis=layer1, image_prompt=image_prompt)
    analysis = analyze_scene(ctx)
    timing = NarrationTiming(duration=narration) if narration is not None else None
    params, trace = plan_rules(ctx, analysis, timing)
    return ctx, analysis, params, trace


def test_overlong_request_is_clamped_with_a_conflict() -> None:
    _, _, params, trace = plan("Slow push-in, hold for 12 seconds")
    assert params.motion.duration == 10.0
    [conflict] = [c for c in trace.conflicts if c.field == "motion.duration"]
    assert (conflict.requested, conflict.resolved, conflict.source) == (12.0, 10.0, "layer1")


def test_too_short_request_is_raised_to_four_seconds() -> None:
    _, _, params, trace = plan("Quick push in, 2 seconds")
    assert params.motion.duration == 4.0
    assert trace.conflicts[0].requested == 2.0


def test_fast_whip_pan_against_detailed_faces_is_slowed_to_medium() -> None:
    _, analysis, params, trace = plan(
        "Fast whip pan to her face\nMaintain high detail on faces")
    assert analysis.technical_requirements.quality_needs == "high_detail_preservation"
    assert params.motion.type == "pan" and params.motion.speed == "medium"
    assert params.generation.motion_scale <= 0.9
    [conflict] = [c for c in trace.conflicts if c.field == "motion.speed"]
    assert (conflict.requested, conflict.resolved) == ("fast", "medium")
    assert "faces" in conflict.reason


def test_fast_pan_without_detail_demand_stays_fast() -> None:
    _, _, params, trace = plan("Fast whip pan to the door")
    assert params.motion.speed == "fast" and not trace.conflicts


def test_vertical_aspect_request_is_a_conflict_resolved_to_16_9() -> None:
    _, _, params, trace = plan("Vertical 9:16 framing, slow push in")
    assert params.generation.aspect_ratio == "16:9"
    assert [c.requested for c in trace.conflicts if c.field == "generation.aspect_ratio"] == [
        "9:16"]


@pytest.mark.parametrize(("narration", "layer1", "expected"), [
    (3.0, "", 6.0),             # short narration: the scene's own length stands
    (5.62, "", 6.2),            # 5.62 + 0.5 tail, rounded up to 0.1 s
    (7.3, "", 7.8),
    (9.7, "", 10.0),            # the tail is cut short, no conflict
    (2.0, "Quick push in, 4 seconds", 4.0),
    (6.0, "Quick push in, 4 seconds", 6.5),   # narration beats a shorter request
])
def test_narration_sets_the_floor(narration: float, layer1: str, expected: float) -> None:
    _, _, params, trace = plan(layer1, narration=narration)
    assert params.motion.duration == pytest.approx(expected)
    assert NARRATION_FLAG not in trace.flags
    assert not [c for c in trace.conflicts if c.source == "speech_timing"]


def test_narration_longer_than_ten_seconds_is_flagged() -> None:
    _, analysis, params, trace = plan(narration=12.4)
    assert params.motion.duration == 10.0
    assert NARRATION_FLAG in trace.flags
    [conflict] = [c for c in trace.conflicts if c.source == "speech_timing"]
    assert conflict.resolved == 10.0 and "12.4" in conflict.reason
    assert plan_fallback(params, analysis, trace).motion.duration == 10.0


def test_fallback_keeps_an_explicit_length_and_changes_the_move() -> None:
    _, analysis, params, trace = plan("Pan left across the hills, hold for 8 seconds", VALLEY)
    fallback = plan_fallback(params, analysis, trace)
    assert fallback.motion.duration == 8.0
    assert fallback.motion.type != "pan"
    assert fallback.generation.num_inference_steps == 25


def test_fallback_of_static_stays_static() -> None:
    _, analysis, params, trace = plan("Locked-off static shot")
    fallback = plan_fallback(params, analysis, trace)
    assert fallback.motion.type == "static" and fallback.motion.direction is None


def test_thresholds_follow_the_plan() -> None:
    _, _, params, _ = plan("hold for 9 seconds")
    thresholds = thresholds_for(params)
    assert (thresholds.min_resolution, thresholds.min_fps, thresholds.min_duration) == (
        "1024x576", 24, 9.0)


# --------------------------------------------------------------------------- providers

FIVE_OR_TEN = ProviderCapabilities(durations=[5.0, 10.0], aspect_ratios=["16:9", "9:16"],
                                   resolutions=["1280x720"], fps=[24],
                                   guidance_scale=(1.0, 5.0), num_inference_steps=(10, 30),
                                   negative_prompt=True, camera_controls=["pan"])


def test_narration_of_7_3_on_a_five_or_ten_model_snaps_to_ten() -> None:
    _, _, params, _ = plan(narration=7.3)
    fitted, conflicts = fit_to_capabilities(params, FIVE_OR_TEN)
    assert fitted.motion.duration == 10.0
    fields = {c.field: c for c in conflicts}
    assert fields["motion.duration"].requested == 7.8
    assert fields["generation.resolution"].resolved == "1280x720"
    assert fields["generation.guidance_scale"].resolved == 5.0
    assert fields["generation.num_inference_steps"].resolved == 30
    assert all(c.source == "provider_capability" for c in conflicts)
    assert params.motion.duration == 7.8  # the plan itself is untouched


def test_six_seconds_on_a_five_or_ten_model_rounds_up_to_cover_the_plan() -> None:
    _, _, params, _ = plan()
    fitted, _ = fit_to_capabilities(params, FIVE_OR_TEN)
    assert fitted.motion.duration == 10.0


def test_range_model_clamps_and_unsupported_aspect_ratio_is_a_conflict() -> None:
    caps = ProviderCapabilities(min_duration=4.0, max_duration=6.0, aspect_ratios=["1:1"],
                                resolutions=["1024x576"])
    _, _, params, _ = plan("hold for 9 seconds")
    fitted, conflicts = fit_to_capabilities(params, caps)
    assert fitted.motion.duration == 6.0
    assert fitted.generation.aspect_ratio == "1:1"
    assert {c.field for c in conflicts} >= {"motion.duration", "generation.aspect_ratio"}


def test_move_without_camera_control_goes_into_the_prompt() -> None:
    ctx, analysis, params, _ = plan("Slow push-in on her face")
    no_controls = ProviderCapabilities(negative_prompt=True)
    fitted, conflicts = fit_to_capabilities(params, no_controls)
    assert [c.field for c in conflicts] == ["motion.type"]
    prompt = build_prompt(fitted, analysis, no_controls, ctx)
    assert "pushes in" in prompt
    with_control = ProviderCapabilities(negative_prompt=True, camera_controls=["push_in"])
    fitted, conflicts = fit_to_capabilities(params, with_control)
    assert conflicts == []
    assert "pushes in" not in build_prompt(fitted, analysis, with_control, ctx)


def test_negative_prompt_dropped_for_a_provider_without_one() -> None:
    _, _, params, _ = plan()
    fitted, conflicts = fit_to_capabilities(params, ProviderCapabilities(
        camera_controls=["push_in"]))
    assert fitted.generation.negative_prompt == ""
    assert [c.field for c in conflicts] == ["generation.negative_prompt"]


def test_fps_falls_back_to_the_nearest_offered() -> None:
    _, _, params, _ = plan()
    fitted, conflicts = fit_to_capabilities(params, ProviderCapabilities(
        fps=[16, 30], negative_prompt=True, camera_controls=["push_in"]))
    assert fitted.generation.fps == 30 and conflicts[0].field == "generation.fps"


@pytest.mark.parametrize(("layer1", "words"), [
    ("Pan left across the range", "pans from right to left"),
    ("Tilt up to the sky", "tilts up"),
    ("Crane down to the street", "cranes down"),
    ("Orbit around her counterclockwise", "orbits counterclockwise"),
    ("Truck right", "trucks right"),
    ("Locked-off shot", "locked-off static camera"),
    ("Pull back to show the room", "pulls back"),
])
def test_camera_in_words(layer1: str, words: str) -> None:
    _, _, params, _ = plan(layer1)
    assert words in camera_in_words(params)


def test_prompt_is_bounded_and_keeps_the_camera_words() -> None:
    long_scene = " ".join(["A woman walks through an endless market of lanterns."] * 40)
    ctx, analysis, params, _ = plan("Slow push-in", long_scene,
                                    image_prompt="cinematic composition, film grain, bokeh")
    prompt = build_prompt(params, analysis, ProviderCapabilities(), ctx)
    assert len(prompt) <= MAX_PROMPT_CHARS
    assert "pushes in" in prompt and "film grain" in prompt


def test_scene_elements_take_the_layer1_detail_list_when_no_one_is_in_the_scene() -> None:
    _, analysis, params, _ = plan(
        "High-energy action moment\nImportant details: the rocket, the exhaust plume",
        "The rocket roars to life and lifts off into the sky.")
    assert analysis.motion_analysis.scene_type == "action"
    assert analysis.scene_elements["primary_focus"] == "rocket"
    assert analysis.scene_elements["key_details"][:2] == ["rocket", "exhaust_plume"]
    assert params.motion.focus_points == ["rocket", "exhaust_plume"]
