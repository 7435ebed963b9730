"""Every conditional edge of the Video Agent, decision by decision."""

from typing import get_args

from langgraph.graph import END

from video_agent.models import (
    GenerationResult,
    MotionSpec,
    QualityReport,
    SceneAnalysis,
    SceneError,
    Take,
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
    assert routing.after_analyze({"scene": SCENE, "errors": ERROR}) == "bad input"
    assert routing.after_analyze({"scene": SCENE, "analysis": SceneAnalysis()}) == "context ok"
    other_scene_error = {"6": SceneError(scene="6", stage="s", message="m")}
    assert routing.after_analyze({"scene": SCENE, "analysis": SceneAnalysis(),
                                  "errors": other_scene_error}) == "context ok"


def take(slot: str = "primary", clip: GenerationResult | None = CLIP,
         quality: QualityReport | None = None) -> Take:
    return Take.model_validate({"slot": slot, "asked": params(), "fitted": params(),
                                "result": clip, "quality": quality})


def test_after_reason() -> None:
    assert routing.after_reason({"scene": SCENE, "params": params()}) == "plan"
    assert routing.after_reason({"scene": SCENE, "params": params(), "errors": ERROR}) \
        == "planning failed"


def test_after_primary() -> None:
    assert routing.after_primary({"scene": SCENE, "take": take()}) == "clip"
    assert routing.after_primary({"scene": SCENE, "take": take(clip=None)}) == "provider error"
    assert routing.after_primary({"scene": SCENE, "take": None}) == "provider error"
    assert routing.after_primary({"scene": SCENE, "take": take(clip=None), "errors": ERROR}) \
        == "critical error"


def test_after_assess() -> None:
    passed = QualityReport(verdict="pass")
    repaired = QualityReport(verdict="repaired")
    failed = QualityReport(verdict="fail", reasons=["black frames"])
    base = {"scene": SCENE}
    assert routing.after_assess({**base, "take": take(quality=passed)}) == "pass or repaired"
    assert routing.after_assess({**base, "take": take(quality=repaired)}) == "pass or repaired"
    assert routing.after_assess({**base, "take": take("primary", quality=failed)}) \
        == "primary clip rejected"
    assert routing.after_assess({**base, "take": take("fallback", quality=failed)}) \
        == "fallback clip rejected"
    assert routing.after_assess({**base, "take": take("fallback", quality=failed),
                                 "errors": ERROR}) == "fallback clip rejected"


def test_after_fallback() -> None:
    assert routing.after_fallback({"scene": SCENE, "take": take("fallback")}) == "fallback clip"
    assert routing.after_fallback({"scene": SCENE, "take": take("fallback", clip=None),
                                   "errors": ERROR}) == "every provider failed"
    assert routing.after_fallback({"scene": SCENE, "take": take("fallback", clip=None)}) \
        == "every provider failed"


def test_key_of_an_invalid_scene_still_routes_to_end() -> None:
    bad = {"scene": {"scene_number": 9}, "errors": {"9": SceneError(scene="9", stage="a",
                                                                     message="m")}}
    assert routing.after_analyze(bad) == "bad input"


def test_every_label_has_a_target_and_every_path_map_matches_its_router() -> None:
    routers = {"analyze_context": routing.AfterAnalyze, "reason_motion": routing.AfterReason,
               "generate_primary": routing.AfterPrimary, "assess_quality": routing.AfterAssess,
               "generate_fallback": routing.AfterFallback}
    for node, labels in routers.items():
        assert set(routing.PATHS[node]) == set(get_args(labels)), node
    assert routing.PATHS["analyze_context"]["bad input"] == END
