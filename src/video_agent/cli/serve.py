"""``video-agent serve``: the status API, live runs and the preview page on one port."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from video_agent.cli.app import app


@app.command()
def serve(
    out: Annotated[Path, typer.Option(help="Output folder the stories live in.")] = Path(
        "generated_video"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    images_root: Annotated[list[Path] | None, typer.Option(
        help="Folder posted stories may name stills in (repeatable; relative paths resolve "
             "against the first). Without it, only http(s) stills are accepted.")] = None,
    allow_private_urls: Annotated[bool, typer.Option(
        "--allow-private-urls",
        help="Let runs fetch stills from loopback and private addresses (development only).")
    ] = False,
    primary: Annotated[str, typer.Option(help="Primary provider for runs started here.")] = "local",
    fallback: Annotated[str, typer.Option(help="Fallback provider ('' for none).")] = "local:draft",
    max_concurrency: Annotated[int, typer.Option(min=1, help="Scenes in flight per run.")] = 2,
    max_body_kb: Annotated[int, typer.Option(min=1, help="Largest accepted story body, KiB.")] = (
        1024),
    storage: Annotated[str | None, typer.Option(
        envvar="VIDEO_AGENT_STORAGE",
        help="Clip storage: the output folder (default) or s3://bucket/prefix.")] = None,
    checkpoints: Annotated[str | None, typer.Option(
        envvar="VIDEO_AGENT_CHECKPOINTS",
        help="Checkpoint store: sqlite (under OUT/.state) or a postgresql:// URL, which several "
             "servers and runs can share.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
) -> None:
    """Serve the API, live runs and the preview page (open http://HOST:PORT/)."""
    import asyncio

    import uvicorn

    from video_agent.adapters.checkpoints import probe_checkpoints
    from video_agent.context import VideoAgentContext
    from video_agent.preflight import PreflightError, preflight
    from video_agent.serve import create_app

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx = VideoAgentContext(output_dir=str(out), allow_private_urls=allow_private_urls,
                            primary=primary, fallback=fallback)
    try:
        preflight(ctx)
    except PreflightError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for root in images_root or []:
        if not root.is_dir():
            typer.echo(f"error: --images-root: {root} is not a folder", err=True)
            raise typer.Exit(2)
    try:
        web = create_app(out, max_body_bytes=max_body_kb * 1024,
                         max_concurrency=max_concurrency, primary=primary, fallback=fallback,
                         images_root=images_root or None, storage=storage,
                         checkpoints=checkpoints, allow_private_urls=allow_private_urls)
        asyncio.run(probe_checkpoints(checkpoints, out / ".state"))
    except ValueError as exc:
        typer.echo(f"error: --{exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"serving {out.resolve()} on http://{host}:{port}/", err=True)
    uvicorn.run(web, host=host, port=port, log_level="info" if verbose else "warning")
