"""A story-to-video graph that composes the Video Agent with a Layer 1 manager and a Speech Agent.

    manager -> speech_agent -> video_agent (one branch per scene, Send) -> assemble

The manager and the Speech Agent here are small stand-ins for your own agents: the manager reads
a story file into the shared ``scenes``, the Speech Agent times each scene's narration into
``narration`` (which the Video Agent reads to set clip lengths), and ``assemble`` joins the
scenes into a timeline from ``videos``, ``errors`` and ``planned_durations``.

Run it offline::

    python examples/story_graph.py examples/stories/morning_cafe.json --out generated_video
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph

from video_agent import StoryState, VideoAgentContext, build_video_agent_graph, scene_sends
from video_agent.models import NarrationTiming, SceneContext
from video_agent.story import load_story

WORDS_PER_SECOND = 2.5  # an unhurried narrator


class ParentState(StoryState, total=False):
    story_file: str
    timeline: dict[str, Any]


def manager(state: ParentState) -> dict[str, Any]:
    """Layer 1 manager: owns the story and each scene's combined context."""
    story = load_story(state["story_file"])
    return {"story_id": story.story_id, "scenes": story.scenes, "narration": story.narration}


def speech_agent(state: ParentState) -> dict[str, Any]:
    """Speech Agent: times the narration of every scene it has not timed yet."""
    timed: dict[str, NarrationTiming] = {}
    for key, scene in (state.get("scenes") or {}).items():
        if key in (state.get("narration") or {}) or not isinstance(scene, SceneContext):
            continue
        first_sentence = re.split(r"(?<=[.!?])\s", scene.scene_content.strip(), maxsplit=1)[0]
        words = len(first_sentence.split())
        timed[key] = NarrationTiming(duration=round(words / WORDS_PER_SECOND, 2),
                                     text=first_sentence)
    return {"narration": timed}


def assemble(state: ParentState) -> dict[str, Any]:
    """The story's assembler: a timeline of clips, with what is missing and why."""
    videos, errors = state.get("videos") or {}, state.get("errors") or {}
    narration = state.get("narration") or {}
    entries, start = [], 0.0
    for key in sorted(state.get("scenes") or {}, key=int):
        if key in videos:
            duration = float(videos[key].metadata["duration"])
            spoken = narration[key].duration if key in narration else 0.0
            entries.append({"scene": key, "start": round(start, 3), "duration": duration,
                            "video": videos[key].path, "narration_s": spoken,
                            "narration_fits": spoken <= duration})
            start += duration
        else:
            reason = errors[key].message if key in errors else "not generated"
            entries.append({"scene": key, "missing": reason})
    return {"timeline": {"total_s": round(start, 3), "scenes": entries}}


def build_story_to_video_graph():
    graph = StateGraph(ParentState, context_schema=VideoAgentContext)
    graph.add_node("manager", manager)
    graph.add_node("speech_agent", speech_agent)
    graph.add_node("video_agent", build_video_agent_graph())
    graph.add_node("assemble", assemble)
    graph.add_edge(START, "manager")
    graph.add_edge("manager", "speech_agent")
    graph.add_conditional_edges("speech_agent", scene_sends, ["video_agent"])
    graph.add_edge("video_agent", "assemble")
    graph.add_edge("assemble", END)
    return graph.compile()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("story", type=Path)
    parser.add_argument("--out", default="generated_video")
    parser.add_argument("--max-concurrency", type=int, default=2)
    args = parser.parse_args()
    graph = build_story_to_video_graph()
    final = await graph.ainvoke({"story_file": str(args.story)},
                                {"max_concurrency": args.max_concurrency},
                                context=VideoAgentContext(
                                    output_dir=args.out,
                                    story_dir=str(args.story.resolve().parent)))
    print(json.dumps(final["timeline"], indent=2))


if __name__ == "__main__":
    asyncio.run(main())
