"""``video-agent run`` and ``video-agent status``."""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from video_agent.cli.app import app
from video_agent.context import ALLOW_PRIVATE_URLS_ENV
from video_agent.inputs import DEFAULT_MAX_SCENES

if TYPE_CHECKING:
    from video_agent.runner import StoryRun

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
    fal_key_env: Annotated[str, typer.Option(
        help="Environment variable holding the fal.ai key (its name; the key stays there).")
    ] = "FAL_KEY",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
) -> None:
    """Generate the videos of a story (resuming an interrupted run of it)."""
    from video_agent.adapters.storage import open_storage
    from video_agent.context import VideoAgentContext
    from video_agent.preflight import PreflightError, preflight
    from video_agent.runner import run_story
    from video_agent.story import StoryFileError, load_story

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
            allow_private_urls=allow_private_urls, fal_key_env=fal_key_env)
        ctx.size  # noqa: B018 - validates --resolution early
    except ValueError as exc:
        console.print(f"[red]error:[/] --resolution: {getattr(exc, 'reason', exc)}")
        raise typer.Exit(2) from exc
    try:
        open_storage(ctx.storage, ctx.out)
    except ValueError as exc:
        console.print(f"[red]error:[/] --{exc}")
        raise typer.Exit(2) from exc
    try:
        preflight(ctx)
    except PreflightError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc

    # On Ctrl-C, LangGraph drops the retry wrappers of the nodes it cancels unawaited; Python's
    # warning about them says nothing to a user and would interleave with the progress bars.
    warnings.filterwarnings("ignore", message="coroutine 'arun_with_retry' was never awaited",
                            category=RuntimeWarning)
    with SceneBars(console) as bars:
        try:
            result = asyncio.run(run_story(story, ctx, max_concurrency=max_concurrency,
                                           on_event=bars.on_event, checkpoints=checkpoints))
        except ValueError as exc:
            console.print(f"[red]error:[/] --{exc}" if str(exc).startswith("checkpoints")
                          else f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        except KeyboardInterrupt:
            bars.stop()
            console.print(f"interrupted: finished scenes are stored and partial files removed; "
                          f"run the same command again to resume {story.story_id}.",
                          soft_wrap=True)
            raise typer.Exit(130) from None
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
    _out().print(closing_table(result))


def closing_table(result: StoryRun) -> Table:
    """Scene, provider, length, verdict and where the clip is; long ids and paths fold onto
    more lines instead of being cut, so every character can still be copied."""
    from video_agent.preflight import fallback_note

    table = Table(title=f"story {result.story_id}" + (" (resumed)" if result.resumed else ""),
                  show_lines=True)
    table.add_column("scene", no_wrap=True)
    table.add_column("provider", overflow="fold", min_width=20)
    table.add_column("s", no_wrap=True, justify="right")
    table.add_column("verdict", no_wrap=True)
    table.add_column("video / error", overflow="fold", min_width=24)
    for key in result.scenes:
        video, error = result.videos.get(key), result.errors.get(key)
        if video is not None:
            meta = video.metadata
            note = fallback_note(meta)
            table.add_row(key, f"{meta.get('provider')}:{meta.get('model')}",
                          f"{meta.get('duration', 0):.2f}",
                          str((meta.get("quality") or {}).get("verdict", "")),
                          escape(_shown(video.path))
                          + (f"\n[yellow]{escape(note)}[/]" if note else ""))
        else:
            table.add_row(key, "", "", "[red]failed",
                          escape(f"{error.stage}: {error.message}") if error else "not run")
    return table


class SceneBars:
    """One bar per scene over its weighted stages (:class:`video_agent.progress.SceneBar`):
    stage, 0-100 %, elapsed and ETA; kept scenes show as done; a scene made by its fallback
    prints a line saying what was asked for and why it was not used."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
        from rich.table import Column

        self.console = console
        # Only the stage text may shrink (cut with an ellipsis): the clock never wraps.
        self.progress = Progress(
            TextColumn("{task.description}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=20), TaskProgressColumn(), _clock_column(),
            TextColumn("{task.fields[stage]}",
                       table_column=Column(no_wrap=True, overflow="ellipsis")),
            console=console)
        self.tasks: dict[str, Any] = {}
        self.bars: dict[str, Any] = {}
        self.kept: set[str] = set()

    def __enter__(self) -> SceneBars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.progress.stop()

    def _task(self, key: str) -> Any:
        from video_agent.progress import SceneBar

        if key not in self.tasks:
            self.bars[key] = SceneBar()
            self.tasks[key] = self.progress.add_task(f"scene {key}", total=1.0, stage="queued",
                                                     bar=self.bars[key])
        return self.tasks[key]

    def on_event(self, event: Any) -> None:
        from video_agent.preflight import fallback_note
        from video_agent.progress import Planned, Progress, SceneDone, SceneFailed

        if isinstance(event, Planned):
            for key in event.kept:
                self.kept.add(key)
                task = self._task(key)
                self.bars[key].done("kept")
                self.progress.update(task, completed=1.0,
                                     stage="kept (stored before)" if event.resumed else "kept")
            for key in event.pending:
                self._task(key)
        elif isinstance(event, Progress):
            task = self._task(event.scene)
            bar = self.bars[event.scene]
            value = bar.update(event.stage, event.progress, event.message)
            label = event.stage.replace("_", " ")
            self.progress.update(task, completed=value, stage=escape(
                f"{label}: {event.message}"[:60] if event.message else label))
        elif isinstance(event, SceneDone) and event.scene not in self.kept:
            # (a resumed run replays the writes of the scenes it kept: they stay "kept")
            task = self._task(event.scene)
            self.bars[event.scene].done()
            meta = getattr(event.video, "metadata", None) or {}
            note = fallback_note(meta)
            self.progress.update(task, completed=1.0,
                                 stage="[yellow]stored (fallback)" if note else "[green]stored")
            if note:
                self.progress.console.print(f"scene {event.scene}: [yellow]{escape(note)}[/]",
                                            soft_wrap=True)
        elif isinstance(event, SceneFailed):
            task = self._task(event.scene)
            self.bars[event.scene].done("failed")
            self.progress.update(task, stage="[red]failed")


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes}:{secs:02d}"


def _clock_column() -> Any:
    from rich.progress import ProgressColumn
    from rich.table import Column
    from rich.text import Text

    class ClockColumn(ProgressColumn):
        """Elapsed and estimated time left from the scene's own bar (ticks every refresh)."""

        def render(self, task: Any) -> Text:
            bar = task.fields.get("bar")
            if bar is None or bar.started is None:
                return Text("", style="progress.elapsed")
            eta = bar.eta()
            text = _clock(bar.elapsed()) + ("" if bar.finished else f" eta {_clock(eta)}")
            return Text(text, style="progress.elapsed")

    return ClockColumn(table_column=Column(no_wrap=True, min_width=len("0:00 eta 0:00")))


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
