"""The Video Agent subgraph and the story graph that fans it out over a story's scenes.

``studio.py`` compiles both without a checkpointer for ``langgraph.json`` (the LangGraph server
brings its own); the CLI compiles the story graph with its checkpointer through
``build_story_graph``.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Literal, TypeAlias

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from video_agent.context import VideoAgentContext
from video_agent.models import NarrationTiming, SceneContext
from video_agent.remote import remote_scene
from video_agent.state import SceneInput, SceneOutput, SceneState, StoryState, scene_order
from video_agent.story_pass import StoryRunState, prepare_story, summarize_story
from video_agent.video_agent_node import (
    analyze_context,
    assess_quality,
    generate_fallback,
    generate_primary,
    reason_motion,
    routing,
    store,
)
from video_agent.video_agent_node.common import context_of

VideoAgentGraph: TypeAlias = CompiledStateGraph[SceneState, VideoAgentContext, SceneInput,
                                                SceneOutput]
StoryGraph: TypeAlias = CompiledStateGraph[StoryRunState, VideoAgentContext, StoryState,
                                           StoryState]
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
