"""A scene checkpointed before the attempt record (``take``) existed resumes where it stopped:
its side-by-side plan, fitted plan and clip keys become one take before the next node runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig

from conftest import still
from video_agent.adapters.checkpoints import sqlite_checkpointer
from video_agent.context import VideoAgentContext
from video_agent.graph import build_video_agent_graph
from video_agent.models import Take


def previous_shape(values: dict[str, Any]) -> dict[str, Any]:
    """The channel values as the previous shape wrote them after ``generate_primary``."""
    old = dict(values)
    take: Take = old.pop("take")
    old.update(candidate=take.result, candidate_slot=take.slot, plan=take.asked,
               fitted=take.fitted, quality=None)
    return old


async def test_a_scene_stopped_before_the_gate_in_the_previous_shape_resumes(
        tmp_path: Path) -> None:
    ctx = VideoAgentContext(output_dir=str(tmp_path / "out"), primary="local:draft",
                            fallback="", story_dir=str(tmp_path))
    scene = {"scene_number": 1, "scene_content": "A slow pan across green hills at dawn.",
             "image_path": str(still(tmp_path / "s1.jpg"))}
    config: RunnableConfig = {"configurable": {"thread_id": "old-shape"}}
    async with sqlite_checkpointer(ctx.state_dir) as saver:
        graph = build_video_agent_graph(checkpointer=saver)
        await graph.ainvoke({"story_id": "old", "scene": scene}, config, context=ctx,
                            interrupt_before=["assess_quality"])
        stopped = await saver.aget_tuple(config)
        assert stopped is not None and stopped.parent_config is not None
        rewritten = {**stopped.checkpoint,
                     "channel_values": previous_shape(stopped.checkpoint["channel_values"])}
        await saver.aput(stopped.parent_config, rewritten, stopped.metadata, {})
        before = await graph.aget_state(config)
        assert before.next == ("assess_quality",)
        assert "take" not in before.values and before.values["candidate"] is not None

        out = await graph.ainvoke(None, config, context=ctx)
        after = (await graph.aget_state(config)).values

    assert set(out["videos"]) == {"1"} and not any((out.get("errors") or {}).values())
    assert out["videos"]["1"].metadata["slot"] == "primary"
    take = after["take"]
    assert take.slot == "primary" and take.quality is not None and take.quality.passed
    assert all(after.get(key) is None
               for key in ("plan", "fitted", "candidate", "candidate_slot", "quality"))
