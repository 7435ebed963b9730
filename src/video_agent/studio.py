"""Entry points named in ``langgraph.json``.

The LangGraph server loads this file by path (not as a package module), so it only re-exports
objects built inside the package: the two graphs, compiled without a checkpointer (the server
brings its own), and the HTTP app mounted beside the server's own routes.

``langgraph.json`` sets ``LANGGRAPH_STRICT_MSGPACK``: the server then revives from its
checkpoints only the types LangGraph derives from each graph's schemas (the project's state
models) instead of warning about, or reviving, any class a checkpoint names.
"""

from video_agent.graph import served_graph
from video_agent.serve.app import app

video_agent_graph = served_graph("video_agent")
story_graph = served_graph("story")

__all__ = ["app", "story_graph", "video_agent_graph"]
