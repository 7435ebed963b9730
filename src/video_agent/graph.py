"""The Video Agent subgraph and the story graph that fans it out over a story's scenes.

``studio.py`` compiles both without a checkpointer for ``langgraph.json`` (the LangGraph server
brings its own); the CLI compiles the story graph with its checkpointer through
``build_story_graph``.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeAlias

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from video_agent.context import VideoAgentContext
from video_agent.models import NarrationTiming, SceneContext, SceneVideo
from video_agent.remote import remote_scene
from video_agent.state import SceneInput, SceneOutput, SceneState, StoryState, scene_order
from video_agent.story import check_story_state
from video_agent.video_agent_node import (
    analyze_context,
    assess_quality,
    generate_fallback,
    generate_primary,
    reason_motion,
    routing,
    store,
)
from video_agent.video_agent_node.common import context_of, storage_of

VideoAgentGraph: TypeAlias = CompiledStateGraph[SceneState, VideoAgentContext, SceneInput,
                                                SceneOutput]
StoryGraph: TypeAlias = ("CompiledStateGraph[StoryRunState, VideoAgentContext, StoryState, "
                          "StoryState]")
AnyGraph: TypeAlias = CompiledStateGraph[Any, Any, Any, Any]


def build_video_agent_graph(checkpointer: Any = None) -> VideoAgentGraph:
    """The Video Agent for one scene: ``SceneInput`` in, ``SceneOutput`` (story keys) out."""
    graph = StateGraph(SceneState, context_schema=VideoAgentContext,
                       input_schema=SceneInput, output_schema=SceneOutput)
    graph.add_node("analyze_context", analyze_context)
    graph.add_node("reason_motion", reason_motion)
    graph.add_node("generate_primary", generate_primary)
    graph.add_node("assess_quality", assess_quality)
    graph.add_node("generate_fallback", generate_fallback)
    graph.add_node("store", store)

    graph.add_edge(START, "analyze_context")
    for node, router in (("analyze_context", routing.after_analyze),
                         ("reason_motion", routing.after_reason),
                         ("generate_primary", routing.after_primary),
                         ("assess_quality", routing.after_assess),
                         ("generate_fallback", routing.after_fallback),
                         ("store", routing.after_store)):
        graph.add_conditional_edges(node, router, routing.PATHS[node])
    return graph.compile(checkpointer=checkpointer, name="video_agent")


# --------------------------------------------------------------------------- story level


class StoryRunState(StoryState, total=False):
    """The story graph's state: the shared story keys plus which scenes this pass generates."""

    pending: Annotated[list[str], lambda _old, new: new]


async def scenes_to_generate(state: StoryState,
                             ctx: VideoAgentContext) -> tuple[list[str], dict[str, SceneVideo]]:
    """Scenes this pass must generate, and the stored videos of the ones it can keep.

    A scene with a good current video on disk is kept unless forced; ``only_scenes`` limits the
    pass. Failed scenes (no video) are always retried.
    """
    storage = storage_of(ctx)
    story_id = state.get("story_id", "")
    only = {str(s) for s in ctx.only_scenes}
    forced = {str(s) for s in ctx.force_scenes}
    pending: list[str] = []
    kept: dict[str, SceneVideo] = {}
    for key in sorted(state.get("scenes") or {}, key=scene_order):
        if only and key not in only:
            continue
        current = await storage.current(story_id, key) if story_id else None
        if current is not None and key not in forced:
            kept[key] = current
        else:
            pending.append(key)
    return pending, kept


async def prepare_story(state: StoryRunState,
                        runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    check_story_state(state, max_scenes=ctx.max_scenes)  # a bad story stops here, whole
    pending, kept = await scenes_to_generate(state, ctx)
    return {"pending": pending, "videos": kept, "errors": dict.fromkeys(kept)}


def scene_sends(state: StoryState, keys: list[str] | None = None,
                node: str = "video_agent") -> list[Send]:
    """One ``Send`` per scene for the Video Agent, carrying the scene and its narration timing.

    Use it in a parent graph's conditional edge to fan the Video Agent out over a story.
    """
    scenes = state.get("scenes") or {}
    narration = state.get("narration") or {}
    sends = []
    for key in keys if keys is not None else sorted(scenes, key=scene_order):
        payload: SceneInput = {"story_id": state.get("story_id", ""), "scene": scenes[key],
                               "narration": narration.get(key)}
        sends.append(Send(node, payload))
    return sends


DISPATCH_PATHS: dict[Hashable, str] = {"Send per pending scene": "video_agent",
                                        "Send per pending scene to a server": "remote_scene",
                                        "nothing to generate": "summarize_story"}
"""Path map of ``dispatch_scenes`` (the ``Send`` objects name their node themselves)."""


def dispatch_scenes(state: StoryRunState,
                    runtime: Runtime[VideoAgentContext]) -> list[Send] | str:
    """Pending scenes to the in-process Video Agent, or to ``remote_scene`` when the context names
    a server (``scene_graph_url``)."""
    pending = state.get("pending") or []
    node = "remote_scene" if context_of(runtime).scene_graph_url else "video_agent"
    return scene_sends(state, pending, node) if pending else "nothing to generate"


async def summarize_story(state: StoryRunState,
                          runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    """Write ``story.json``: every scene's video or error, for humans and the assembler."""
    ctx = context_of(runtime)
    story_id = state.get("story_id", "")
    if not story_id:
        return {}
    videos, errors = state.get("videos") or {}, state.get("errors") or {}
    summary = {
        "story_id": story_id,
        "updated_at": datetime.now(UTC).isoformat(),
        "scenes": {
            key: ({"status": "done", "video_url": videos[key].video_url,
                   "path": videos[key].path, "version": videos[key].version,
                   "duration": videos[key].metadata.get("duration")}
                  if key in videos else
                  {"status": "failed", **errors[key].model_dump()} if key in errors else
                  {"status": "not_run"})
            for key in sorted(state.get("scenes") or {}, key=scene_order)
        },
        "planned_durations": state.get("planned_durations") or {},
    }
    await storage_of(ctx).write_story_summary(story_id, summary)
    return {}


def build_story_graph(checkpointer: Any = None,
                      video_agent: AnyGraph | None = None) -> StoryGraph:
    """``prepare_story`` -> one Video Agent branch per scene (``Send``) -> ``summarize_story``."""
    graph = StateGraph(StoryRunState, context_schema=VideoAgentContext,
                       input_schema=StoryState, output_schema=StoryState)
    graph.add_node("prepare_story", prepare_story)
    graph.add_node("video_agent", video_agent or build_video_agent_graph())
    graph.add_node("remote_scene", remote_scene)
    graph.add_node("summarize_story", summarize_story)
    graph.add_edge(START, "prepare_story")
    graph.add_conditional_edges("prepare_story", dispatch_scenes, DISPATCH_PATHS)
    graph.add_edge("video_agent", "summarize_story")
    graph.add_edge("remote_scene", "summarize_story")
    graph.add_edge("summarize_story", END)
    return graph.compile(checkpointer=checkpointer, name="story")


def story_input(story_id: str, scenes: list[SceneContext],
                narration: dict[str, NarrationTiming] | None = None) -> StoryState:
    """The story graph's input for a list of scenes."""
    return {"story_id": story_id, "scenes": {s.key: s for s in scenes},
            "narration": dict(narration or {})}


class _ServedGraph(CompiledStateGraph[Any, Any, Any, Any]):
    """A compiled graph whose copies keep the msgpack allowlist ``compile`` derived from its
    schemas (under ``LANGGRAPH_STRICT_MSGPACK``). The LangGraph server copies a graph to attach
    its checkpointer, and ``Pregel.copy`` starts that allowlist afresh, which would leave the
    server unable to revive the state models."""

    def copy(self, update: dict[str, Any] | None = None) -> _ServedGraph:
        clone = super().copy(update)
        clone._serde_allowlist = self._serde_allowlist
        return clone


def served_graph(name: Literal["video_agent", "story"]) -> AnyGraph:
    """One of the graphs ``langgraph.json`` declares, compiled for the LangGraph server."""
    graph: AnyGraph = build_video_agent_graph() if name == "video_agent" else build_story_graph()
    graph.__class__ = _ServedGraph
    return graph
