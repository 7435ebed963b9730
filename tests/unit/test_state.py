"""The story state's reducers: per-scene merges that parallel branches cannot clobber."""

from hypothesis import given
from hypothesis import strategies as st

from video_agent.state import keep_tombstones, merge_by_scene, scene_update


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
