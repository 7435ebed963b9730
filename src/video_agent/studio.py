"""Entry points named in ``langgraph.json``.

The LangGraph server loads this file by path (not as a package module), so it only re-exports
objects built inside the package: the two graphs, compiled without a checkpointer (the server
brings its own), and the HTTP app mounted beside the server's own routes.
"""

from video_agent.graph import build_story_graph, build_video_agent_graph
from video_agent.serve.app import app

video_agent_graph = build_video_agent_graph()
story_graph = build_story_graph()

__all__ = ["app", "story_graph", "video_agent_graph"]
