"""Progress events: one discriminated union, and a scene bar that only moves forward."""

from __future__ import annotations

import pytest

from video_agent.models import SceneError
from video_agent.progress import (
    STAGE_BANDS,
    Planned,
    Progress,
    SceneBar,
    SceneDone,
    SceneFailed,
    parse_event,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_reported_sequence_never_goes_backwards() -> None:
    """The sequence of the issue: reason_motion at 100 %, rendering 1-98 %, then the quality
    check at 0 %, then a fallback clip and its check: the bar only rises, ending at 100 %."""
    bar = SceneBar()
    stages = [("analyze_context", 0.0), ("analyze_context", 1.0), ("reason_motion", 1.0)]
    stages += [("generate_primary", f / 100) for f in (1, 5, 40, 98, 100)]
    stages += [("assess_quality", 0.0), ("assess_quality", 1.0)]
    stages += [("generate_fallback", f / 10) for f in range(11)]
    stages += [("assess_quality", 0.0), ("assess_quality", 1.0), ("store", 1.0)]
    values = [bar.update(stage, fraction) for stage, fraction in stages]
    assert values == sorted(values)
    assert values[-1] == pytest.approx(1.0)
    assert values[2] == pytest.approx(STAGE_BANDS["reason_motion"][1])
    assert values[3] > values[2], "rendering moves the bar on from where planning left it"


def test_a_stage_entered_again_fills_the_rest_of_its_band() -> None:
    bar = SceneBar()
    bar.update("assess_quality", 0.5)  # 0.875
    start = bar.value
    assert bar.update("generate_fallback", 0.0) == pytest.approx(start)
    # the fallback's band (ends at 0.80) is behind the bar: it holds, never drops
    assert bar.update("generate_fallback", 1.0) == pytest.approx(start)
    assert bar.update("store", 0.5) == pytest.approx(0.975)


def test_elapsed_runs_and_eta_follows_the_pace() -> None:
    clock = Clock()
    bar = SceneBar(clock)
    assert bar.elapsed() == 0.0 and bar.eta() is None
    bar.update("analyze_context", 0.0)
    clock.now += 2.0
    assert bar.elapsed() == pytest.approx(2.0), "elapsed moves without events"
    bar.update("generate_primary", 0.5)  # 0.44 after 2 s
    assert bar.eta() == pytest.approx(2.0 * (1 - 0.44) / 0.44)
    bar.done()
    clock.now += 5.0
    assert bar.elapsed() == pytest.approx(2.0) and bar.eta() == 0.0


def test_events_parse_from_dicts_and_refuse_what_is_not_one() -> None:
    event = parse_event({"event": "progress", "scene": "3", "stage": "store", "progress": 0.5,
                         "extra": "ignored"})
    assert isinstance(event, Progress) and event.scene == "3" and event.overall is None
    assert isinstance(parse_event({"event": "planned", "pending": ["1"], "kept": ["2"]}),
                      Planned)
    error = SceneError(scene="2", stage="store", message="disk full")
    failed = parse_event({"event": "failed", "scene": "2", "error": error})
    assert isinstance(failed, SceneFailed) and failed.error is error
    assert parse_event(SceneDone(scene="1")).scene == "1"
    with pytest.raises(ValueError, match="not a progress event"):
        parse_event({"event": "teleported", "scene": "1"})
    with pytest.raises(ValueError, match="not a progress event"):
        parse_event({"event": "progress", "scene": "1", "stage": "store", "progress": 1.5})
    dumped = Progress(scene="1", stage="store", progress=1.0).model_dump(exclude_none=True)
    assert dumped["event"] == "progress" and "overall" not in dumped


async def test_progress_from_a_worker_thread_reaches_the_custom_stream(
        caplog: pytest.LogCaptureFixture) -> None:
    """LangGraph's writer reads the node's config from a context variable; a report made in a
    worker thread (a render, a repair) must still arrive, with nothing logged as an error."""
    import asyncio
    import logging
    import threading

    from langgraph.graph import END, START, StateGraph
    from langgraph.runtime import Runtime
    from typing_extensions import TypedDict

    from video_agent.video_agent_node.common import Reporter

    class State(TypedDict):
        n: int

    async def node(state: State, runtime: Runtime[None]) -> State:
        report = Reporter(runtime, "s", "1", "generate_primary")  # type: ignore[arg-type]

        def work() -> None:
            assert threading.current_thread() is not threading.main_thread()
            report(0.5, "half way")

        await asyncio.get_running_loop().run_in_executor(None, work)  # no context copied
        await asyncio.sleep(0.05)  # the scheduled write runs on the loop
        return {"n": 1}

    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    graph = builder.compile()
    caplog.set_level(logging.ERROR)
    events = [e async for e in graph.astream({"n": 0}, stream_mode="custom")]
    assert [(e["stage"], e["progress"], e["message"]) for e in events] == [
        ("generate_primary", 0.5, "half way")]
    assert not [r for r in caplog.records if "get_config" in r.getMessage()
                or (r.exc_text and "get_config" in r.exc_text)], caplog.text
