"""``video-agent run`` and ``video-agent status``."""

from __future__ import annotations

import asyncio
import logging
import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from video_agent.adapters.providers.registry import resolve_provider
from video_agent.adapters.storage import open_storage
from video_agent.cli.app import app
from video_agent.context import ALLOW_PRIVATE_URLS_ENV, VideoAgentContext
from video_agent.inputs import DEFAULT_MAX_SCENES
from video_agent.runner import Event, StoryRun, run_story
from video_agent.story import StoryFileError, load_story

console = Console(stderr=True)


@app.command()
def run(
    story_file: Annotated[Path, typer.Argument(help="Story JSON file (see the README).")],
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("generated_video"),
    scene: Annotated[list[int] | None, typer.Option(
        "--scene", help="Only these scene numbers (repeatable).")] = None,
    force: Annotated[bool, typer.Option(
        help="Generate again even if a good video is stored (the chosen scenes, or all).")] = False,
    primary: Annotated[str, typer.Option(help="Primary provider: local, local:draft, "
                                              "fal:<endpoint>.")] = "local",
    fallback: Annotated[str, typer.Option(help="Fallback provider ('' for none).")] = "local:draft",
    resolution: Annotated[str, typer.Option(help="Stored clip size, 16:9.")] = "1024x576",
    max_concurrency: Annotated[int, typer.Option(min=1, help="Scenes in flight at once.")] = 2,
    budget: Annotated[float | None, typer.Option(help="Cost cap for paid providers, USD.")] = None,
    provider_timeout: Annotated[float, typer.Option(
        min=1, help="Longest wait for one provider call, seconds.")] = 600.0,
    checkpoints: Annotated[str | None, typer.Option(
        envvar="VIDEO_AGENT_CHECKPOINTS",
        help="Checkpoint store: sqlite (under OUT/.state) or a postgresql:// URL.")] = None,
    storage: Annotated[str | None, typer.Option(
        envvar="VIDEO_AGENT_STORAGE",
        help="Clip storage: the output folder (default) or s3://bucket/prefix.")] = None,
    images_root: Annotated[list[Path] | None, typer.Option(
        help="Folder besides the story's own that local stills may be in (repeatable).")
    ] = None,
    allow_private_urls: Annotated[bool, typer.Option(
        "--allow-private-urls", envvar=ALLOW_PRIVATE_URLS_ENV,
        help="Fetch stills from loopback and private addresses (development only).")] = False,
    max_scenes: Annotated[int, typer.Option(
        min=1, help="Refuse a story with more scenes than this.")] = DEFAULT_MAX_SCENES,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
) -> None:
    """Generate the videos of a story (resuming an interrupted run of it)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        story = load_story(story_file, max_scenes=max_scenes)
    except StoryFileError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        console.print(f"[red]error:[/] --budget: {budget} is not an amount of USD (0 or more)")
        raise typer.Exit(2)
    roots = checked_image_roots(images_root, console)
    only = [str(n) for n in scene or []]
    missing = [n for n in only if n not in story.scenes]
    if missing:
        console.print(f"[red]error:[/] --scene: no scene {', '.join(missing)} in {story_file}")
        raise typer.Exit(2)
    try:
        ctx = VideoAgentContext(
            output_dir=str(out), primary=primary, fallback=fallback, resolution=resolution,
            only_scenes=only, force_scenes=(only or list(story.scenes)) if force else [],
            budget_usd=budget, provider_timeout_s=provider_timeout, storage=storage or None,
            max_scenes=max_scenes,
            story_dir=str(story_file.resolve().parent), image_roots=roots,
            allow_private_urls=allow_private_urls)
        ctx.size  # noqa: B018 - validates --resolution early
    except ValueError as exc:
        console.print(f"[red]error:[/] --resolution: {getattr(exc, 'reason', exc)}")
        raise typer.Exit(2) from exc
    try:
        open_storage(ctx.storage, ctx.out)
    except ValueError as exc:
        console.print(f"[red]error:[/] --{exc}")
        raise typer.Exit(2) from exc
    for option, spec in (("--primary", primary), ("--fallback", fallback)):
        try:
            if spec.strip():
                resolve_provider(spec, ctx)
        except ValueError as exc:
            console.print(f"[red]error:[/] {option}: {exc}")
            raise typer.Exit(2) from exc

    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.fields[stage]}"), TimeElapsedColumn(), console=console,
                  transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def on_event(event: Event) -> None:
            kind, key = event.get("event"), str(event.get("scene", ""))
            if kind == "planned":
                for k in event["pending"]:
                    tasks[k] = bars.add_task(f"scene {k}", total=1.0, stage="queued")
                for k in event["kept"]:
                    bars.add_task(f"scene {k}", total=1.0, completed=1.0, stage="kept")
            elif kind == "progress" and key in tasks:
                bars.update(tasks[key], completed=event["progress"],
                            stage=f"{event['stage']} {event.get('message', '')}"[:48])
            elif kind == "done" and key in tasks:
                bars.update(tasks[key], completed=1.0, stage="[green]stored")
            elif kind == "failed" and key in tasks:
                bars.update(tasks[key], stage="[red]failed")

        try:
            result = asyncio.run(run_story(story, ctx, max_concurrency=max_concurrency,
                                           on_event=on_event, checkpoints=checkpoints))
        except ValueError as exc:
            console.print(f"[red]error:[/] --{exc}" if str(exc).startswith("checkpoints")
                          else f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
    _print_table(result)
    if result.failed:
        raise typer.Exit(1)


def checked_image_roots(roots: list[Path] | None, console: Console) -> list[str]:
    """``--images-root`` folders as absolute paths; exits if one is not a folder."""
    for root in roots or []:
        if not root.is_dir():
            console.print(f"[red]error:[/] --images-root: {root} is not a folder")
            raise typer.Exit(2)
    return [str(root.resolve()) for root in roots or []]


def _out() -> Console:
    """Standard output; wide enough for whole paths when it is a file or a pipe."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def _shown(path: str) -> str:
    """A path as short as it can be said: relative to the working folder when inside it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _print_table(result: StoryRun) -> None:
    table = Table(title=f"story {result.story_id}" + (" (resumed)" if result.resumed else ""))
    for column in ("scene", "provider", "duration", "verdict"):
        table.add_column(column, no_wrap=True)
    table.add_column("video / error", overflow="fold")
    for key in result.scenes:
        video, error = result.videos.get(key), result.errors.get(key)
        if video is not None:
            meta = video.metadata
            table.add_row(key, f"{meta.get('provider')}:{meta.get('model')}",
                          f"{meta.get('duration', 0):.2f} s",
                          str((meta.get("quality") or {}).get("verdict", "")),
                          _shown(video.path))
        else:
            table.add_row(key, "", "", "[red]failed",
                          escape(f"{error.stage}: {error.message}") if error else "not run")
    _out().print(table)


@app.command()
def status(
    story_id: Annotated[str | None, typer.Argument(help="Story id (default: all).")] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("generated_video"),
    checkpoints: Annotated[str | None, typer.Option(
        envvar="VIDEO_AGENT_CHECKPOINTS",
        help="Checkpoint store: sqlite (under OUT/.state) or a postgresql:// URL.")] = None,
    storage: Annotated[str | None, typer.Option(
        envvar="VIDEO_AGENT_STORAGE",
        help="Clip storage: the output folder (default) or s3://bucket/prefix.")] = None,
) -> None:
    """Show a story's scenes from storage and checkpoints."""
    from video_agent.status import story_ids, story_status

    try:
        ids = [story_id] if story_id else asyncio.run(story_ids(out, storage))
    except ValueError as exc:
        console.print(f"[red]error:[/] --{exc}")
        raise typer.Exit(2) from exc
    if not ids:
        console.print(f"no stories under {out}")
        raise typer.Exit(0 if not story_id else 1)
    for sid in ids:
        try:
            info = asyncio.run(story_status(out, sid, checkpoints, storage))
        except ValueError as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        if not info["scenes"]:
            console.print(f"[red]error:[/] no story {sid!r} under {out} (stories: "
                          f"{', '.join(asyncio.run(story_ids(out, storage))) or 'none'})")
            raise typer.Exit(1)
        table = Table(title=f"story {sid}: {info['run']}")
        for column in ("scene", "status", "version", "duration", "verdict", "detail"):
            table.add_column(column)
        for key, scene in info["scenes"].items():
            table.add_row(key, scene["status"], str(scene.get("version") or ""),
                          f"{scene['duration']:.2f} s" if scene.get("duration") else "",
                          scene.get("verdict") or "", scene.get("detail") or "")
        _out().print(table)
