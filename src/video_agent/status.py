"""A story's state as storage and checkpoints tell it (for ``video-agent status`` and the API)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from video_agent.adapters.storage import open_storage
from video_agent.adapters.storage.local import check_story_id
from video_agent.state import scene_order

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig


async def story_ids(out: Path, storage: str | None = None) -> list[str]:
    return await open_storage(storage, out).stories()


async def checkpointed_values(saver: Any, story_id: str) -> tuple[dict[str, Any], bool]:
    """The story's values at its last checkpoint and whether its run stopped before the end.

    A pass that ran to its end says so in its own state (``summarized``), so its values come
    from the saver alone; anything else (an interrupted run, a checkpoint of an older version)
    asks the story graph, which is loaded only then."""
    config = cast("RunnableConfig", {"configurable": {"thread_id": story_id,
                                                      "checkpoint_ns": ""}})
    last = await saver.aget_tuple(config)
    if last is None:
        return {}, False
    values = dict(last.checkpoint.get("channel_values") or {})
    if (values.get("summarized") is True and not last.pending_writes
            and (last.metadata or {}).get("source") == "loop"):
        return values, False
    from video_agent.graph import build_story_graph

    snapshot = await build_story_graph(checkpointer=saver).aget_state(config)
    return dict(snapshot.values or {}), bool(snapshot.next)


async def story_status(out: Path, story_id: str, checkpoints: str | None = None,
                       storage: str | None = None) -> dict[str, Any]:
    """Every scene's status: ``done`` (with version, duration, verdict), ``failed`` (with the
    stage and reason), ``pending`` (in an interrupted run) or ``not_run``; a scene the checkpoint
    knows also has its text, Layer 1 notes and ``source`` (the still it names).

    Files are read in a worker thread and checkpoints through the async saver, so this never
    blocks an event loop."""
    from video_agent.adapters.checkpoints import checkpoint_path, open_checkpointer

    check_story_id(story_id)
    store = open_storage(storage, out)
    values: dict[str, Any] = {}
    run = "no checkpoint"
    state_dir = await asyncio.to_thread(lambda: Path(out).resolve() / ".state")
    has_run = bool(checkpoints) or await asyncio.to_thread(checkpoint_path(state_dir).is_file)
    if has_run:
        async with open_checkpointer(checkpoints, state_dir) as saver:
            values, interrupted = await checkpointed_values(saver, story_id)
        if values:
            run = "interrupted (run the story again to resume)" if interrupted else "finished"
    keys = set(values.get("scenes") or {}) | set(await store.scenes(story_id))
    errors = values.get("errors") or {}
    pending = set(values.get("pending") or []) if run.startswith("interrupted") else set()
    scenes: dict[str, Any] = {}
    for key in sorted(keys, key=scene_order):
        video = await store.current(story_id, key)
        if key in errors:
            error = errors[key]
            scenes[key] = {"status": "failed", "stage": error.stage, "field": error.field,
                           "detail": error.message,
                           "version": video.version if video else None}
        elif video is not None:
            quality = video.metadata.get("quality") or {}
            scenes[key] = {"status": "done", "version": video.version,
                           "duration": video.metadata.get("duration"),
                           "verdict": quality.get("verdict"), "path": video.path,
                           "video_url": video.video_url,
                           "provider": video.metadata.get("provider"),
                           "model": video.metadata.get("model"),
                           "slot": video.metadata.get("slot"),
                           "cost_usd": video.metadata.get("cost_usd")}
        else:
            scenes[key] = {"status": "pending" if key in pending else "not_run"}
        source = (values.get("scenes") or {}).get(key)
        if source is not None:
            source = source.model_dump() if hasattr(source, "model_dump") else dict(source)
            scenes[key]["scene_content"] = source.get("scene_content")
            scenes[key]["layer1_analysis"] = source.get("layer1_analysis")
            scenes[key]["source"] = {name: source.get(name)
                                     for name in ("image_path", "image_url")}
    return {"story_id": story_id, "run": run, "scenes": scenes}
