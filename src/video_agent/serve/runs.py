"""Background story runs: one asyncio task per story, events fanned out to subscribers.

The manager keeps each running scene's live state (queued, stage, progress, message) so the API
can answer "where is scene 5 now" between checkpoints, and replays it to a subscriber that joins
mid-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from video_agent.context import VideoAgentContext
from video_agent.models import SceneVideo
from video_agent.preflight import fallback_note
from video_agent.progress import (
    Planned,
    Progress,
    RunEvent,
    SceneBar,
    SceneDone,
    SceneFailed,
    parse_event,
)
from video_agent.runner import StoryRun, run_story
from video_agent.serve.stills import source_fields
from video_agent.story import Story

log = logging.getLogger("video_agent.serve")

Runner = Callable[..., Any]
"""``run_story``-compatible coroutine function (replaceable in tests)."""


class RunBusy(RuntimeError):
    """The story already has a run in progress."""


def event_json(event: Any) -> dict[str, Any]:
    """An engine event as plain JSON: errors dumped, a stored video reduced to its version (its
    server paths stay on the server)."""
    model = parse_event(event)
    out = model.model_dump(mode="json", exclude={"video"}, exclude_none=True)
    if isinstance(model, SceneDone) and isinstance(model.video, SceneVideo):
        out["version"] = model.video.version
        meta = model.video.metadata
        out.update(provider=meta.get("provider"), model=meta.get("model"),
                   fallback=fallback_note(meta))
    elif isinstance(model, SceneFailed) and isinstance(model.error, BaseModel):
        out["error"] = model.error.model_dump(mode="json")
    return out


@dataclass
class LiveRun:
    story_id: str
    scenes: list[str]
    started_at: float = field(default_factory=time.time)
    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each scene of the story as posted (text, still), known before any checkpoint."""
    bars: dict[str, SceneBar] = field(default_factory=dict)
    task: asyncio.Task[Any] | None = None
    finished: bool = False
    error: str | None = None

    def snapshot(self) -> dict[str, Any]:
        return {"story_id": self.story_id, "running": not self.finished,
                "started_at": self.started_at, "scenes": self.scenes,
                "live": self.live, "error": self.error}


class RunManager:
    """Starts story runs in the background and fans their events out to subscribers."""

    def __init__(self, *, max_concurrency: int = 2, runner: Runner = run_story,
                 checkpoints: str | None = None) -> None:
        self.max_concurrency = max_concurrency
        self.checkpoints = checkpoints
        self._runner = runner
        self._runs: dict[str, LiveRun] = {}
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    def running(self, story_id: str) -> LiveRun | None:
        run = self._runs.get(story_id)
        return run if run is not None and not run.finished else None

    def ids(self) -> list[str]:
        return sorted(self._runs)

    def last(self, story_id: str) -> LiveRun | None:
        return self._runs.get(story_id)

    def start(self, story: Story, ctx: VideoAgentContext) -> LiveRun:
        """Start ``story`` in the background; :class:`RunBusy` if it is already running."""
        if self.running(story.story_id):
            raise RunBusy(f"story {story.story_id!r} is already running")
        scenes = [str(s) for s in ctx.only_scenes] or list(story.scenes)
        run = LiveRun(story_id=story.story_id, scenes=scenes,
                      sources={key: source_fields(scene) for key, scene in story.scenes.items()})
        for key in scenes:
            run.live[key] = {"state": "queued", "stage": None, "progress": 0.0, "message": ""}
        self._runs[story.story_id] = run
        run.task = asyncio.create_task(self._run(run, story, ctx),
                                       name=f"story-run-{story.story_id}")
        self._publish(story.story_id, {"event": "started", "scenes": scenes})
        return run

    async def _run(self, run: LiveRun, story: Story, ctx: VideoAgentContext) -> None:
        def on_event(event: Any) -> None:
            try:
                model = parse_event(event)
            except ValueError:
                return
            self._track(run, model)
            self._publish(run.story_id, event_json(model))

        result: StoryRun | None = None
        store = {"checkpoints": self.checkpoints} if self.checkpoints else {}
        try:
            result = await self._runner(story, ctx, max_concurrency=self.max_concurrency,
                                        on_event=on_event, **store)
        except asyncio.CancelledError:
            run.error = "cancelled"
            raise
        except Exception as exc:  # a crash of the engine ends the run, not the server
            log.exception("story %s: run crashed", run.story_id)
            run.error = f"{type(exc).__name__}: {exc}"
        finally:
            run.finished = True
            summary: dict[str, Any] = {"event": "finished", "error": run.error}
            if result is not None:
                summary.update(videos=sorted(result.videos), failed=result.failed)
            self._publish(run.story_id, summary)

    @staticmethod
    def _track(run: LiveRun, event: RunEvent) -> None:
        """Keep each scene's live state; a progress event gets the scene's forward-only
        ``overall`` here, so every subscriber sees the same bar."""
        if isinstance(event, Planned):
            for k in event.kept:
                run.live[k] = {"state": "kept", "stage": None, "progress": 1.0,
                               "overall": 1.0, "message": ""}
        elif isinstance(event, Progress):
            bar = run.bars.setdefault(event.scene, SceneBar())
            event.overall = round(bar.update(event.stage, event.progress, event.message), 3)
            run.live[event.scene] = {"state": "running", "stage": event.stage,
                                     "progress": event.progress, "overall": event.overall,
                                     "message": event.message, "elapsed": bar.elapsed(),
                                     "eta": bar.eta()}
        elif isinstance(event, SceneDone | SceneFailed):
            live = run.live.get(event.scene, {})
            done = isinstance(event, SceneDone)
            run.live[event.scene] = {**live, "state": event.event,
                                     "progress": 1.0 if done else live.get("progress", 0.0),
                                     "overall": 1.0 if done else live.get("overall", 0.0)}

    def _publish(self, story_id: str, event: dict[str, Any]) -> None:
        payload = {"story_id": story_id, **event}
        for queue in list(self._subscribers.get(story_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(payload)

    @contextlib.asynccontextmanager
    async def subscribe(self, story_id: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of the story's events from now on, first the live snapshot if running."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        run = self._runs.get(story_id)
        if run is not None:
            queue.put_nowait({"story_id": story_id, "event": "snapshot", **run.snapshot()})
        self._subscribers.setdefault(story_id, set()).add(queue)
        try:
            yield queue
        finally:
            self._subscribers.get(story_id, set()).discard(queue)

    def cancel(self, story_id: str) -> bool:
        """Stop a running story; finished scenes stay stored and the next run resumes the rest
        from its checkpoint. False if the story is not running."""
        run = self.running(story_id)
        if run is None or run.task is None or run.task.done():
            return False
        run.task.cancel()
        return True

    async def wait(self, story_id: str) -> None:
        run = self._runs.get(story_id)
        if run is not None and run.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(run.task)

    async def close(self) -> None:
        """Cancel runs still going (the checkpoint lets the next run resume them)."""
        tasks = [r.task for r in self._runs.values() if r.task and not r.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
