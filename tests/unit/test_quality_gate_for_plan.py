"""The quality gate of a scene comes out of its plan (the seed's quality_thresholds)."""

from video_agent.context import VideoAgentContext
from video_agent.models import GenerationSettings, MotionSpec, SceneSpec, VideoParams
from video_agent.quality import QualitySettings
from video_agent.video_agent_node.assess_quality import gate_for


def plan(resolution: str = "1024x576", fps: int = 24) -> VideoParams:
    return VideoParams(scene=SceneSpec(content="c", number=1, image_url="a"),
                       generation=GenerationSettings(resolution=resolution, fps=fps),
                       motion=MotionSpec(duration=6.0))


def test_default_plan_keeps_the_run_settings() -> None:
    settings, target = gate_for(plan(), VideoAgentContext())
    assert target == (1024, 576) and settings.target_size == (1024, 576) and settings.fps == 24


def test_plan_asking_for_more_raises_the_bar() -> None:
    settings, target = gate_for(plan("1920x1080", 30), VideoAgentContext())
    assert target == (1920, 1080) and settings.fps == 30


def test_run_size_wins_when_larger_and_custom_thresholds_are_kept() -> None:
    custom = QualitySettings(max_jitter_px=0.2)
    ctx = VideoAgentContext(resolution="1280x720", quality=custom)
    settings, target = gate_for(plan(), ctx)
    assert target == (1280, 720) and settings.max_jitter_px == 0.2
