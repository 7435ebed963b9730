"""The seed's café scene 5 gives exactly the seed's expected analysis and ``video_params``."""

import textwrap

from video_agent.models import NarrationTiming, SceneContext
from video_agent.reasoning import analyze_scene, plan_fallback, plan_video

SCENE = textwrap.dedent("""
    A young barista stands behind the counter of a cozy café. Her most striking feature
    is her long pink hair that catches the morning light streaming through the windows.
    She's wearing a white shirt with a green apron, holding a menu book in her hands.
    The café has a warm, inviting atmosphere with the scent of coffee and pastries in the air.
""")
IMAGE_PROMPT = textwrap.dedent("""
    young anime girl barista, long flowing pink hair, emerald green eyes, wearing white shirt
    and green apron with embroidered logo, standing behind cafe counter, holding menu book,
    morning sunlight streaming through windows, warm cafe atmosphere, pastries on display,
    photorealistic, detailed lighting, cinematic composition, soft morning glow, 8k uhd,
    hyperrealistic, professional photography
    Negative prompt: blurry, distorted, low quality, bad anatomy, extra limbs, poorly drawn
    hands, deformed, amateur, unprofessional
""")
LAYER1 = textwrap.dedent("""
    Scene Analysis:
    - Key focus on the barista's gentle movements and expressions
    - Emphasis on the warm, inviting café atmosphere
    - Important details: pink hair movement, light interactions, menu book

    Video Generation Guidelines:
    - Subtle camera movement: slow push-in shot
    - Emphasize morning light dynamics and reflections
    - Maintain high detail on character features
    - Smooth motion for hair and fabric physics
    - Keep pastries and café elements in frame
""")
IMAGE_URL = "https://storage.example.com/scene5_cafe_barista.jpg"
CAFE = SceneContext(scene_number=5, scene_content=SCENE, image_url=IMAGE_URL,
                    image_prompt=IMAGE_PROMPT, layer1_analysis=LAYER1)


def test_cafe_analysis_matches_the_seed_reasoning_steps() -> None:
    analysis = analyze_scene(CAFE)
    assert analysis.model_dump(include={"motion_analysis", "technical_requirements",
                                        "generation_strategy"}) == {
        "motion_analysis": {
            "scene_type": "character_focused",
            "movement_requirements": ["subtle", "atmospheric"],
            "key_elements": ["character", "environment", "props"],
            "timing_considerations": "slow_paced",
        },
        "technical_requirements": {
            "quality_needs": "high_detail_preservation",
            "focus_areas": ["face", "hair", "menu_book"],
            "lighting_dynamics": "morning_light_interaction",
        },
        "generation_strategy": {
            "primary_approach": "push_in_with_subtle_movement",
            "fallback_options": "pan_with_focus_points",
            "quality_thresholds": {"min_resolution": "1024x576", "min_fps": 24,
                                   "min_duration": 6.0},
        },
    }
    assert analysis.scene_elements["primary_focus"] == "barista"
    assert analysis.scene_elements["atmosphere"] == "warm_morning_light"
    assert "pink_hair" in analysis.scene_elements["key_details"]


async def test_cafe_plan_is_the_seed_video_params() -> None:
    params, trace = await plan_video(CAFE, analyze_scene(CAFE))
    assert params.scene.model_dump() == {"content": SCENE, "number": 5, "image_url": IMAGE_URL}
    assert params.generation.model_dump(include={
        "guidance_scale", "num_inference_steps", "aspect_ratio", "negative_prompt",
        "motion_scale", "motion_type"}) == {
        "guidance_scale": 7.0,
        "num_inference_steps": 35,
        "aspect_ratio": "16:9",
        "negative_prompt": "blurry, distorted, low quality, bad anatomy, deformed",
        "motion_scale": 0.8,
        "motion_type": "push_in",
    }
    assert params.motion.model_dump(include={"type", "speed", "duration", "focus_points",
                                             "direction"}) == {
        "type": "push_in", "speed": "slow", "direction": None, "duration": 6.0,
        "focus_points": ["face", "hair", "menu_book"],
    }
    assert trace.conflicts == [] and trace.flags == []
    by_field = {d.field: d for d in trace.decisions}
    assert by_field["motion.type"].source == "layer1"
    assert "push-in" in by_field["motion.type"].reason
    assert by_field["generation.guidance_scale"].reason == "increased for better detail retention"
    assert "extra limbs" in by_field["generation.negative_prompt"].reason


async def test_cafe_fallback_is_a_gentler_pan_on_the_seed_fallback_baseline() -> None:
    analysis = analyze_scene(CAFE)
    params, trace = await plan_video(CAFE, analysis)
    fallback = plan_fallback(params, analysis, trace)
    assert (fallback.motion.type, fallback.motion.direction) == ("pan", "left_to_right")
    assert fallback.motion.duration == 5.0
    assert fallback.generation.num_inference_steps == 25
    assert fallback.generation.motion_scale < params.generation.motion_scale
    assert fallback.motion.focus_points == params.motion.focus_points
    assert params.motion.type == "push_in"  # the primary plan is left as it was
    assert {d.field for d in trace.decisions} >= {"fallback.motion.type",
                                                  "fallback.motion.duration"}


async def test_cafe_with_long_narration_lengthens_primary_and_fallback() -> None:
    analysis = analyze_scene(CAFE)
    params, trace = await plan_video(CAFE, analysis, narration=NarrationTiming(duration=7.3))
    assert params.motion.duration == 7.8
    fallback = plan_fallback(params, analysis, trace)
    assert fallback.motion.duration == 7.8
