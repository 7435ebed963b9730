"""Command-line interface: importing a command module registers it on ``app``."""

# Command modules (one per command), imported for their registration side effect.
from video_agent.cli import run as _run  # noqa: F401
from video_agent.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
