"""``video-agent run`` and ``video-agent status``."""

from video_agent.cli.app import app


@app.command()
def status() -> None:
    """Show a story's scenes from storage and checkpoints."""
    raise NotImplementedError
