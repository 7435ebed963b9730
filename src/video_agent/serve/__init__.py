"""HTTP serving: status and retrieval API, story runs with live events, the preview page."""

from video_agent.serve.app import create_app

__all__ = ["create_app"]
