"""The compiled graphs have exactly the design card's shape (what Studio draws)."""

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
        ("assess_quality", "generate_fallback", True),
        ("assess_quality", "__end__", True),
        ("generate_fallback", "assess_quality", True),
        ("generate_fallback", "__end__", True),
        ("store", "__end__", False),
    }
    mermaid = video_agent_graph.get_graph().draw_mermaid()
    assert "generate_fallback" in mermaid and "-.->" in mermaid  # conditional edges are dashed


def test_story_graph_embeds_the_video_agent() -> None:
    graph = story_graph.get_graph(xray=True)
    names = set(graph.nodes)
    assert {"prepare_story", "summarize_story"} <= names
    assert {f"video_agent:{n}" for n in NODES} <= names
    plain = story_graph.get_graph()
    assert ("prepare_story", "video_agent", True) in edges(plain)
    assert ("video_agent", "summarize_story", False) in edges(plain)
