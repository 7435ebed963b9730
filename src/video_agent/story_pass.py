"""The story graph's bookkeeping around the Video Agent branches: which scenes a pass generates
(``prepare_story``) and the story's summary, ``story.json`` (``summarize_story``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from langgraph.runtime import Runtime

from video_agent.context import VideoAgentContext
from video_agent.models import SceneVideo
from video_agent.preflight import check_settings
from video_agent.state import StoryState, scene_order
from video_agent.story import check_story_state
from video_agent.video_agent_node.common import context_of, storage_of


class StoryRunState(StoryState, total=False):
    """The story graph's state: the shared story keys plus which scenes this pass generates."""

    pending: Annotated[list[str], lambda _old, new: new]
    summarized: bool
    """Set by ``summarize_story``, cleared by ``prepare_story``: the pass ran to its end (read by
    ``status`` from the checkpoint without loading the graph)."""


async def scenes_to_generate(state: StoryState,
                             ctx: VideoAgentContext) -> tuple[list[str], dict[str, SceneVideo]]:
    """Scenes this pass must generate, and the stored videos of the ones it can keep.

    A scene with a good current video on disk is kept unless forced; ``only_scenes`` limits the
    pass. Failed scenes (no video) are always retried.
    """
    storage = storage_of(ctx)
    story_id = state.get("story_id", "")
    only = {str(s) for s in ctx.only_scenes}
    forced = {str(s) for s in ctx.force_scenes}
    pending: list[str] = []
    kept: dict[str, SceneVideo] = {}
    for key in sorted(state.get("scenes") or {}, key=scene_order):
        if only and key not in only:
            continue
        current = await storage.current(story_id, key) if story_id else None
        if current is not None and key not in forced:
            kept[key] = current
        else:
            pending.append(key)
    return pending, kept


async def prepare_story(state: StoryRunState,
                        runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    check_story_state(state, max_scenes=ctx.max_scenes)  # a bad story stops here, whole
    await asyncio.to_thread(check_settings, ctx)  # and so does a malformed setting
    pending, kept = await scenes_to_generate(state, ctx)
    return {"pending": pending, "videos": kept, "errors": dict.fromkeys(kept),
            "summarized": False}


async def summarize_story(state: StoryRunState,
                          runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    """Write ``story.json``: every scene's video or error, for humans and the assembler."""
    ctx = context_of(runtime)
    story_id = state.get("story_id", "")
    if not story_id:
        return {"summarized": True}
    videos, errors = state.get("videos") or {}, state.get("errors") or {}
    summary = {
        "story_id": story_id,
        "updated_at": datetime.now(UTC).isoformat(),
        "scenes": {
            key: ({"status": "done", "video_url": videos[key].video_url,
                   "path": videos[key].path, "version": videos[key].version,
                   "duration": videos[key].metadata.get("duration")}
                  if key in videos else
                  {"status": "failed", **errors[key].model_dump()} if key in errors else
                  {"status": "not_run"})
            for key in sorted(state.get("scenes") or {}, key=scene_order)
        },
        "planned_durations": state.get("planned_durations") or {},
    }
    await storage_of(ctx).write_story_summary(story_id, summary)
    return {"summarized": True}
