"""Command-line interface: importing a command module registers it on ``app``."""

# Command modules (one per command), imported for their registration side effect.
from video_agent.cli import assess as _assess  # noqa: F401
from video_agent.cli import explain as _explain  # noqa: F401
from video_agent.cli import fake_fal as _fake_fal  # noqa: F401
from video_agent.cli import models as _models  # noqa: F401
from video_agent.cli import render as _render  # noqa: F401
from video_agent.cli import run as _run  # noqa: F401
from video_agent.cli import serve as _serve  # noqa: F401
from video_agent.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
