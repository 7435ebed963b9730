"""The story state's reducers: per-scene merges that parallel branches cannot clobber."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from video_agent.models import (
    GenerationResult,
    GenerationSettings,
    MotionSpec,
    QualityReport,
    SceneContext,
    Take,
    VideoParams,
)
from video_agent.state import (
    SceneState,
    keep_tombstones,
    merge_by_scene,
    scene_update,
    upgrade_previous_shape,
)

SCENE = SceneContext(scene_number=5, scene_content="x", image_path="/tmp/a.png")


def test_merge_by_scene_keeps_other_scenes() -> None:
    left = {"1": "a", "2": "b"}
    assert merge_by_scene(left, {"2": "B", "3": "c"}) == {"1": "a", "2": "B", "3": "c"}
    assert left == {"1": "a", "2": "b"}, "the reducer must not mutate its input"


def test_merge_by_scene_none_removes_and_keys_become_strings() -> None:
    assert merge_by_scene({"5": "err", "6": "x"}, {5: None}) == {"6": "x"}  # type: ignore[dict-item]
    assert merge_by_scene(None, {7: "v"}) == {"7": "v"}  # type: ignore[dict-item]
    assert merge_by_scene({"1": "a"}, None) == {"1": "a"}


def test_keep_tombstones_carries_none_to_the_parent() -> None:
    merged = keep_tombstones({"5": "old"}, {"5": None})
    assert merged == {"5": None}
    assert merge_by_scene({"5": "stale error", "2": "e"}, merged) == {"2": "e"}


def test_scene_update_shape() -> None:
    assert scene_update("5", errors="e", videos="v") == {"errors": {"5": "e"}, "videos": {"5": "v"}}


keys = st.sampled_from([str(i) for i in range(1, 9)])


@given(st.lists(st.dictionaries(keys, st.integers(), max_size=4), max_size=6))
def test_branch_order_does_not_matter_for_distinct_scenes(updates: list[dict[str, int]]) -> None:
    """Parallel scene branches write distinct keys; any order gives the same merged map."""
    seen: set[str] = set()
    branches = []
    for update in updates:
        own = {k: v for k, v in update.items() if k not in seen}
        seen |= own.keys()
        branches.append(own)
    forward: dict[str, int] = {}
    for update in branches:
        forward = merge_by_scene(forward, update)
    backward: dict[str, int] = {}
    for update in reversed(branches):
        backward = merge_by_scene(backward, update)
    assert forward == backward
    assert set(forward) == seen


# --------------------------------------------------------------------------- the attempt record


def _plan() -> VideoParams:
    return VideoParams.model_validate(
        {"scene": {"content": "x", "number": 5, "image_url": "a"}, "motion": MotionSpec()})


CLIP = GenerationResult(path="/tmp/c.mp4", provider="local", model="m")


def test_a_take_with_a_clip_names_its_fitted_plan_and_quality_needs_a_clip() -> None:
    with pytest.raises(ValidationError, match="fitted: a take with a clip needs"):
        Take(slot="primary", asked=_plan(), result=CLIP)
    with pytest.raises(ValidationError, match="quality: a take without a clip"):
        Take(slot="primary", asked=_plan(), fitted=_plan(), quality=QualityReport(verdict="pass"))
    assert Take(slot="fallback", asked=_plan()).result is None


def test_the_previous_shape_becomes_one_take_and_its_keys_are_cleared() -> None:
    asked = _plan()
    fitted = asked.model_copy(update={"generation": GenerationSettings(num_inference_steps=8)})
    assert fitted != asked
    old: SceneState = {"story_id": "s", "scene": SCENE, "params": asked, "plan": asked,
                       "fitted": fitted, "candidate": CLIP, "candidate_slot": "fallback"}
    update = upgrade_previous_shape(old)
    assert update["take"] == Take(slot="fallback", asked=asked, fitted=fitted, result=CLIP)
    assert all(update[key] is None
               for key in ("plan", "fitted", "candidate", "candidate_slot", "quality"))


def test_nothing_to_upgrade_in_the_new_shape_and_no_take_without_a_clip() -> None:
    new: SceneState = {"story_id": "s", "scene": SCENE, "params": _plan(), "take": None}
    assert upgrade_previous_shape(new) == {}
    failed: SceneState = {"story_id": "s", "scene": SCENE, "params": _plan(), "plan": _plan(),
                          "candidate": None, "candidate_slot": "primary"}
    update = upgrade_previous_shape(failed)
    assert "take" not in update and update["plan"] is None and update["candidate_slot"] is None


def test_a_clip_without_its_plan_fails_naming_the_checkpoint() -> None:
    broken: SceneState = {"story_id": "s", "scene": SCENE, "candidate": CLIP,
                          "candidate_slot": "primary"}
    with pytest.raises(ValueError, match="checkpoint: a clip without the plan"):
        upgrade_previous_shape(broken)
