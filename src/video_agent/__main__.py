"""``python -m video_agent`` runs the command-line interface."""

from video_agent.cli import main

main()
