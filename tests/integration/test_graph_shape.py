"""The compiled graphs have exactly the design card's shape (what Studio draws)."""

import re

from video_agent.graph import build_story_graph, build_video_agent_graph

video_agent_graph = build_video_agent_graph()
story_graph = build_story_graph()

NODES = {"analyze_context", "reason_motion", "generate_primary", "assess_quality",
         "generate_fallback", "store"}


def edges(graph) -> set[tuple[str, str, bool]]:
    return {(e.source, e.target, e.conditional) for e in graph.edges}


def test_video_agent_nodes_and_edges() -> None:
    graph = video_agent_graph.get_graph(xray=True)
    assert set(graph.nodes) - {"__start__", "__end__"} == NODES
    assert edges(graph) == {
        ("__start__", "analyze_context", False),
        ("analyze_context", "reason_motion", True),
        ("analyze_context", "__end__", True),
        ("reason_motion", "generate_primary", True),
        ("reason_motion", "__end__", True),
        ("generate_primary", "assess_quality", True),
        ("generate_primary", "generate_fallback", True),
        ("generate_primary", "__end__", True),
        ("assess_quality", "store", True),
        ("assess_quality", "generate_primary", True),
        ("assess_quality", "generate_fallback", True),
        ("assess_quality", "__end__", True),
        ("generate_fallback", "assess_quality", True),
        ("generate_fallback", "__end__", True),
        ("store", "__end__", True),
        ("store", "generate_primary", True),
        ("store", "generate_fallback", True),
    }


def labelled(mermaid: str) -> set[tuple[str, str, str]]:
    """(source, label, target) of every labelled edge in a ``draw_mermaid`` drawing."""
    found = re.findall(r"^\s*(\w+) -\. &nbsp;(.+?)&nbsp; \.-> (\w+);$", mermaid, re.MULTILINE)
    return {(a, label, b) for a, label, b in found}


def test_every_branch_is_labelled_in_the_drawing() -> None:
    assert labelled(video_agent_graph.get_graph().draw_mermaid()) == {
        ("analyze_context", "context ok", "reason_motion"),
        ("analyze_context", "bad input", "__end__"),
        ("reason_motion", "plan", "generate_primary"),
        ("reason_motion", "planning failed", "__end__"),
        ("generate_primary", "clip", "assess_quality"),
        ("generate_primary", "provider error", "generate_fallback"),
        ("generate_primary", "critical error", "__end__"),
        ("assess_quality", "pass or repaired", "store"),
        ("assess_quality", "primary clip rejected", "generate_fallback"),
        ("assess_quality", "fallback clip rejected", "__end__"),
        ("generate_fallback", "fallback clip", "assess_quality"),
        ("generate_fallback", "every provider failed", "__end__"),
        ("assess_quality", "regenerate primary", "generate_primary"),
        ("store", "stored", "__end__"),
        ("store", "regenerate primary", "generate_primary"),
        ("store", "regenerate fallback", "generate_fallback"),
    }
    assert labelled(story_graph.get_graph().draw_mermaid()) == {
        ("prepare_story", "Send per pending scene", "video_agent"),
        ("prepare_story", "Send per pending scene to a server", "remote_scene"),
        ("prepare_story", "nothing to generate", "summarize_story"),
    }


def test_story_graph_embeds_the_video_agent() -> None:
    graph = story_graph.get_graph(xray=True)
    names = set(graph.nodes)
    assert {"prepare_story", "summarize_story"} <= names
    assert {f"video_agent:{n}" for n in NODES} <= names
    plain = story_graph.get_graph()
    assert ("prepare_story", "video_agent", True) in edges(plain)
    assert ("video_agent", "summarize_story", False) in edges(plain)
