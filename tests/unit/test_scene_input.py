"""Scene input as a graph client sends it: a malformed scene or narration is that scene's input
error naming the field, never an internal error of a later node; a bad story stops whole."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from video_agent.context import VideoAgentContext
from video_agent.graph import build_story_graph, build_video_agent_graph, scene_sends
from video_agent.models import NarrationTiming, ReasoningTrace, SceneError
from video_agent.reasoning import rules
from video_agent.reasoning.analyze import _duration_in
from video_agent.reasoning.planner import apply_narration
from video_agent.state import StoryState
from video_agent.story import StoryFileError
from video_agent.video_agent_node.analyze_context import analyze_context

SCENE = {"scene_number": 3, "scene_content": "A slow push-in on the lighthouse.",
         "image_path": "/no/such/still.jpg", "layer1_analysis": "Slow push-in."}


def run_node(state: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    runtime = Runtime(context=VideoAgentContext(output_dir=str(tmp_path)))
    return asyncio.run(analyze_context(state, runtime))  # type: ignore[arg-type]


def only_error(update: dict[str, Any]) -> SceneError:
    errors = [e for e in (update.get("errors") or {}).values() if e is not None]
    assert len(errors) == 1, update
    return errors[0]


@pytest.mark.parametrize(("changes", "narration", "field", "needle"), [
    ({}, {}, "narration.duration", "Field required"),
    ({}, {"duration": "long"}, "narration.duration", "valid number"),
    ({}, {"duration": 1.7e308}, "narration.duration", "3600"),
    ({}, {"duration": math.nan}, "narration.duration", "finite"),
    ({}, {"durration": 5}, "narration.durration", "did you mean duration?"),
    ({}, [5], "narration", "must be an object"),
    ({"scene_numbr": 3}, None, "scene_numbr", "did you mean scene_number?"),
    ({"image_path": "a\x00b.jpg"}, None, "image_path", "NUL byte"),
    ({"image_url": "https://x/\n"}, None, "image_url", "control character"),
    ({"image_path": "A://["}, None, "image_path", "not a valid URL"),
    ({"scene_content": 12}, None, "scene_content", "valid string"),
    ({"scene_number": 10**30}, None, "scene_number", "less than or equal to 1000000000"),
    ({"scene_number": True}, None, "scene_number", "valid integer"),
])
def test_malformed_scene_input_is_that_scenes_input_error(
        tmp_path: Path, changes: dict, narration: Any, field: str, needle: str) -> None:
    update = run_node({"story_id": "s", "scene": {**SCENE, **changes},
                       "narration": narration}, tmp_path)
    error = only_error(update)
    assert (error.stage, error.critical, error.field) == ("analyze_context", True, field)
    assert needle in error.message and not error.message.startswith("internal error")


def test_story_id_is_checked_with_the_scene(tmp_path: Path) -> None:
    for story_id in (None, "", "a\n", "../x", 5):
        error = only_error(run_node({"story_id": story_id, "scene": SCENE}, tmp_path))
        assert error.field == "story_id", error


# --------------------------------------------------------------------------- properties

values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**64), max_value=2**64), st.floats(),
    st.text(max_size=20), st.sampled_from(["", "  ", "\x00", "a\nb", "../../etc/passwd",
                                           "http://[::1", "ftp://x/y", "file:///nope"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.none(),
                                                         max_size=2))
scene_keys = st.sampled_from([*SCENE, "image_url", "image_prompt", "scene_numbr", "x"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(scene_keys, values, max_size=3),
       dropped=st.lists(scene_keys, max_size=2),
       narration=st.one_of(st.none(), values,
                           st.dictionaries(st.sampled_from(["duration", "text", "durtion"]),
                                           values, max_size=2)))
def test_any_scene_fields_end_in_an_analysis_or_a_named_input_error(
        tmp_path: Path, changes: dict, dropped: list, narration: Any) -> None:
    scene = {k: v for k, v in {**SCENE, **changes}.items() if k not in dropped}
    update = run_node({"story_id": "s", "scene": scene, "narration": narration}, tmp_path)
    if "analysis" in update:
        return
    error = only_error(update)
    assert error.stage == "analyze_context" and error.critical and error.field
    assert not error.message.startswith("internal error"), error.message


# --------------------------------------------------------------------------- compiled graphs


async def test_video_agent_graph_reports_a_bad_narration_as_input(tmp_path: Path) -> None:
    graph = build_video_agent_graph(checkpointer=InMemorySaver())
    result = await graph.ainvoke(
        {"story_id": "s", "scene": SCENE, "narration": {}},
        {"configurable": {"thread_id": "t"}},
        context=VideoAgentContext(output_dir=str(tmp_path)))
    error = result["errors"]["3"]
    assert (error.stage, error.field) == ("analyze_context", "narration.duration")


async def test_unstorable_values_are_refused_naming_the_field(tmp_path: Path) -> None:
    """Values no checkpointer can store (integers past 64 bits, infinities): the scene's own
    error in the one-scene graph; in the story graph, a refused update naming where they are,
    also when a manager node writes them under a checkpointer."""
    ctx = VideoAgentContext(output_dir=str(tmp_path))
    one = await build_video_agent_graph().ainvoke(
        {"story_id": "s", "scene": {**SCENE, "image_prompt": 10**30}}, context=ctx)
    assert one["errors"]["3"].field == "image_prompt"
    with pytest.raises(ValueError, match=r"scenes\['3'\]\.scene_number: integer out of range"):
        await build_story_graph().ainvoke(
            {"story_id": "s", "scenes": {"3": {**SCENE, "scene_number": 10**30}}}, context=ctx)
    with pytest.raises(ValueError, match=r"narration\['3'\]\.duration: inf is not a finite"):
        await build_story_graph().ainvoke(
            {"story_id": "s", "scenes": {"3": SCENE}, "narration": {"3": {"duration": math.inf}}},
            context=ctx)

    def manager(state: StoryState) -> dict[str, Any]:
        return {"scenes": {"3": {**SCENE, "layer1_analysis": {"steps": 2**64}}}}

    parent = StateGraph(StoryState, context_schema=VideoAgentContext)
    parent.add_node("manager", manager)
    parent.add_node("video_agent", build_video_agent_graph())
    parent.add_edge(START, "manager")
    parent.add_conditional_edges("manager", scene_sends, ["video_agent"])
    saver = InMemorySaver()
    with pytest.raises(ValueError, match=r"scenes\['3'\]\.layer1_analysis\.steps: integer"):
        await parent.compile(checkpointer=saver).ainvoke(
            {"story_id": "s"}, {"configurable": {"thread_id": "t"}}, context=ctx)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("state", "max_scenes", "needle"), [
    ({"story_id": "s\n", "scenes": {"3": SCENE}}, 500, "story_id: contains a control"),
    ({"scenes": {"3": SCENE}}, 500, "story_id: must be a non-empty string"),
    ({"story_id": "s", "scenes": {"4": SCENE}}, 500, "scenes['4'].scene_number: 3 is not"),
    ({"story_id": "s", "scenes": {"3": [1]}}, 500, "scenes['3']: must be an object"),
    ({"story_id": "s", "scenes": {"x": SCENE}}, 500, "scenes['x']: keys are scene numbers"),
    ({"story_id": "s", "scenes": {"3": {**SCENE, "scene_number": "3"}}}, 500,
     "scenes['3'].scene_number: must be an integer"),
    ({"story_id": "s", "scenes": {"3": SCENE}, "narration": {"03": {"duration": 4}}}, 500,
     "narration['03']: keys are scene numbers"),
    ({"story_id": "s", "scenes": {str(n): {**SCENE, "scene_number": n} for n in range(1, 5)}},
     3, "scenes: 4 scenes, more than the limit of 3"),
])
async def test_story_graph_refuses_a_bad_story_whole(tmp_path: Path, state: dict,
                                                     max_scenes: int, needle: str) -> None:
    graph = build_story_graph()
    ctx = VideoAgentContext(output_dir=str(tmp_path), max_scenes=max_scenes)
    with pytest.raises(StoryFileError) as info:
        await graph.ainvoke(state, context=ctx)
    assert needle in str(info.value)
    assert not any(tmp_path.iterdir()), "nothing written for a refused story"


async def test_story_graph_records_a_malformed_narration_for_its_scene(tmp_path: Path) -> None:
    other = {**SCENE, "scene_number": 4}
    result = await build_story_graph().ainvoke(
        {"story_id": "s", "scenes": {"3": SCENE, "4": other},
         "narration": {"3": {"duration": "x"}, "4": {"duration": 1e308}}},
        context=VideoAgentContext(output_dir=str(tmp_path)))
    assert result["errors"]["3"].field == "narration.duration"
    assert result["errors"]["4"].field == "narration.duration"
    assert "3600" in result["errors"]["4"].message


# --------------------------------------------------------------------------- rules


def test_rules_survive_extreme_numbers() -> None:
    assert rules.round_up(5.62) == 5.7
    assert rules.round_up(1.7e308) == 1.7e308 and rules.round_up(math.inf) == math.inf
    with pytest.raises(ValueError, match="NaN"):
        rules.round_up(math.nan)
    with pytest.raises(ValueError, match="NaN"):
        rules.clamp(math.nan, 4, 10)
    assert _duration_in("hold for " + "9" * 400 + " seconds") is None
    huge = NarrationTiming.model_construct(duration=1.7e308, text="")
    trace = ReasoningTrace()
    assert apply_narration(6.0, huge, trace) == rules.DURATION_RANGE[1]
    assert trace.conflicts, "the impossible narration is recorded as a conflict"
