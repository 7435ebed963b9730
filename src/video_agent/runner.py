"""Run a story through the checkpointed story graph: the engine behind ``video-agent run`` and
the HTTP server.

One checkpoint thread per story (its id). An interrupted run (killed, crashed) is resumed where it
stopped, so finished scenes are never generated again; otherwise a fresh pass keeps every scene
that has a good stored video and retries the others.

Every run first removes the temp folders of dead runs (never those of a live process sharing the
output folder), and at its end, however it ends (Ctrl-C, cancellation, crash), the temp folders it
made itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from langchain_core.runnables import RunnableConfig

from video_agent.adapters.checkpoints import DURABILITY, open_checkpointer
from video_agent.adapters.state_stores import is_postgres
from video_agent.context import VideoAgentContext
from video_agent.graph import build_story_graph
from video_agent.models import SceneError, SceneVideo
from video_agent.progress import Planned, RunEvent, SceneDone, SceneFailed, parse_event
from video_agent.state import StoryState, scene_order
from video_agent.story import Story
from video_agent.video_agent_node.common import storage_of
from video_agent.video_agent_node.generation import work_prefix

log = logging.getLogger("video_agent")

Event = RunEvent
"""What ``on_event`` receives: one of the models of :mod:`video_agent.progress`."""


def _resumed_plan(story_id: str, snapshot: Any) -> Planned:
    """The plan of an interrupted run (``snapshot`` read with ``subgraphs=True``): scenes stored
    before it stopped (in the story's state, or a scene branch whose own checkpoint reached its
    end) are kept, the others still pending."""
    values = snapshot.values or {}
    finished = set(values.get("videos") or {})
    for task in snapshot.tasks or ():
        scene = getattr(task, "state", None)
        if task.name == "video_agent" and scene is not None and hasattr(scene, "next") and (
                not scene.next):
            videos = (scene.values or {}).get("videos") or {}
            finished.update(k for k, v in videos.items() if v is not None)
    pending = [k for k in values.get("pending") or [] if k not in finished]
    return Planned(story_id=story_id, pending=pending,
                   kept=sorted(finished, key=scene_order), resumed=True)


@dataclass
class StoryRun:
    story_id: str
    resumed: bool
    videos: dict[str, SceneVideo] = field(default_factory=dict)
    errors: dict[str, SceneError] = field(default_factory=dict)
    scenes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [key for key in self.scenes if key in self.errors or key not in self.videos]


def thread_config(story_id: str, max_concurrency: int | None = None) -> RunnableConfig:
    config: RunnableConfig = {"configurable": {"thread_id": story_id}}
    if max_concurrency:
        config["max_concurrency"] = max_concurrency
    return config


async def run_story(story: Story, ctx: VideoAgentContext, *, max_concurrency: int = 2,
                    on_event: Callable[[Event], None] | None = None,
                    checkpoints: str | None = None) -> StoryRun:
    """Run (or resume) ``story``; ``on_event`` receives progress and scene-finished events.

    ``checkpoints`` names the checkpoint store: SQLite under the output folder by default, or
    a ``postgresql://`` URL, which then also holds the fal request ledger and the upload and
    still caches (unless ``ctx.state_db`` names another database). A story loaded from a file
    lets its stills live in that file's folder unless ``ctx.story_dir`` says otherwise.
    """
    if ctx.story_dir is None and story.path is not None:
        ctx = dataclasses.replace(ctx, story_dir=str(Path(story.path).resolve().parent))
    if is_postgres(checkpoints) and not ctx.state_db:
        ctx = dataclasses.replace(ctx, state_db=checkpoints)
    async with contextlib.AsyncExitStack() as stack:
        if ctx.state_db:
            from video_agent.adapters.postgres import pools_in_use

            await stack.enter_async_context(pools_in_use())
        storage = storage_of(ctx)
        await storage.sweep_temp()
        try:
            return await _run(story, ctx, max_concurrency, on_event, checkpoints)
        finally:
            # Finished and failed scenes removed their own folders; this catches the rest.
            await asyncio.shield(storage.discard_own(work_prefix(story.story_id)))


async def _run(story: Story, ctx: VideoAgentContext, max_concurrency: int,
               on_event: Callable[[Event], None] | None, checkpoints: str | None) -> StoryRun:
    async with open_checkpointer(checkpoints, ctx.state_dir) as saver:
        graph = build_story_graph(checkpointer=saver)
        config = thread_config(story.story_id, max_concurrency)
        snapshot = await graph.aget_state(config)
        resumed = bool(snapshot.next)
        payload = None if resumed else cast(StoryState, story.as_state())
        if resumed:
            log.info("story %s: resuming an interrupted run", story.story_id)
        if resumed and on_event is not None:
            on_event(_resumed_plan(story.story_id,
                                   await graph.aget_state(config, subgraphs=True)))
        async for namespace, mode, chunk in graph.astream(
                payload, config, context=ctx, stream_mode=["custom", "updates"], subgraphs=True,
                durability=DURABILITY):
            if on_event is None:
                continue
            if mode == "custom" and isinstance(chunk, dict):
                with contextlib.suppress(ValueError):  # custom events of other nodes
                    on_event(parse_event(chunk))
            elif mode == "updates" and not namespace and isinstance(chunk, dict):
                for node, update in chunk.items():
                    if node == "prepare_story" and update:
                        on_event(Planned(story_id=story.story_id,
                                         pending=update.get("pending", []),
                                         kept=sorted(update.get("videos") or {})))
                    elif node == "video_agent" and update:
                        for key, video in (update.get("videos") or {}).items():
                            on_event(SceneDone(story_id=story.story_id, scene=key, video=video,
                                               version=getattr(video, "version", None)))
                        for key, error in (update.get("errors") or {}).items():
                            if error is not None:
                                on_event(SceneFailed(story_id=story.story_id, scene=key,
                                                     error=error))
        final = (await graph.aget_state(config)).values
    scenes = [k for k in (final.get("scenes") or {})
              if not ctx.only_scenes or k in {str(s) for s in ctx.only_scenes}]
    return StoryRun(story_id=story.story_id, resumed=resumed,
                    videos=dict(final.get("videos") or {}),
                    errors=dict(final.get("errors") or {}),
                    scenes=sorted(scenes, key=scene_order))
