"""Every conditional edge of the Video Agent, decision by decision."""

from langgraph.graph import END

from video_agent.models import (
    GenerationResult,
    MotionSpec,
    QualityReport,
    SceneAnalysis,
    SceneError,
    VideoParams,
)
from video_agent.video_agent_node import routing

SCENE = {"scene_number": 5, "scene_content": "x", "image_path": "/tmp/a.png"}
ERROR = {"5": SceneError(scene="5", stage="s", message="m")}
CLIP = GenerationResult(path="/tmp/c.mp4", provider="local", model="m")


def params() -> VideoParams:
    return VideoParams.model_validate(
        {"scene": {"content": "x", "number": 5, "image_url": "a"}, "motion": MotionSpec()})


def test_after_analyze() -> None:
    assert routing.after_analyze({"scene": SCENE, "errors": ERROR}) == END
    assert routing.after_analyze({"scene": SCENE, "analysis": SceneAnalysis()}) == "reason_motion"
    other_scene_error = {"6": SceneError(scene="6", stage="s", message="m")}
    assert routing.after_analyze({"scene": SCENE, "analysis": SceneAnalysis(),
                                  "errors": other_scene_error}) == "reason_motion"


def test_after_reason() -> None:
    assert routing.after_reason({"scene": SCENE, "params": params()}) == "generate_primary"
    assert routing.after_reason({"scene": SCENE, "params": params(), "errors": ERROR}) == END


def test_after_primary() -> None:
    assert routing.after_primary({"scene": SCENE, "candidate": CLIP}) == "assess_quality"
    assert routing.after_primary({"scene": SCENE, "candidate": None}) == "generate_fallback"
    assert routing.after_primary({"scene": SCENE, "candidate": None, "errors": ERROR}) == END


def test_after_assess() -> None:
    passed = QualityReport(verdict="pass")
    repaired = QualityReport(verdict="repaired")
    failed = QualityReport(verdict="fail", reasons=["black frames"])
    base = {"scene": SCENE, "candidate": CLIP}
    assert routing.after_assess({**base, "quality": passed}) == "store"
    assert routing.after_assess({**base, "quality": repaired}) == "store"
    assert routing.after_assess({**base, "quality": failed, "candidate_slot": "primary"}) \
        == "generate_fallback"
    assert routing.after_assess({**base, "quality": failed, "candidate_slot": "fallback"}) == END
    assert routing.after_assess({**base, "quality": failed, "candidate_slot": "fallback",
                                 "errors": ERROR}) == END


def test_after_fallback() -> None:
    assert routing.after_fallback({"scene": SCENE, "candidate": CLIP}) == "assess_quality"
    assert routing.after_fallback({"scene": SCENE, "candidate": None, "errors": ERROR}) == END
    assert routing.after_fallback({"scene": SCENE, "candidate": None}) == END


def test_key_of_an_invalid_scene_still_routes_to_end() -> None:
    bad = {"scene": {"scene_number": 9}, "errors": {"9": SceneError(scene="9", stage="a",
                                                                     message="m")}}
    assert routing.after_analyze(bad) == END
