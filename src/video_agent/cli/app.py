"""The ``video-agent`` typer application; each command lives in its own module of this package."""

import typer

app = typer.Typer(
    name="video-agent",
    help="Turn the scenes of a story into short videos, offline or with fal.ai.",
    no_args_is_help=True,
    add_completion=False,
)
