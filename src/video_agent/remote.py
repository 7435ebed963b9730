"""Scenes as runs of a deployed ``video_agent`` graph on a LangGraph server.

When the context names ``scene_graph_url``, the story graph sends each scene to ``remote_scene``
instead of the in-process subgraph: it runs the server's ``video_agent`` assistant on the scene's
own thread (``scene_thread_id``), so a server with several workers spreads a story's scenes over
them, and one scene can be run again alone by a new run on its thread.

Double runs: before creating a run, the node looks for a run on the thread that this very story
task already started (a retried or resumed story task) and joins it, active or finished, instead
of starting another. ``multitask_strategy="reject"`` asks the server to refuse a second run on a
busy thread; servers that ignore it (Aegra 0.11 does) still get one run per story task from the
check above. A paid provider request is guarded once more by the fal ledger.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, LangGraphError
from pydantic import ValidationError

from video_agent.adapters.checkpoints import DURABILITY
from video_agent.context import VideoAgentContext
from video_agent.models import SceneError, SceneVideo
from video_agent.state import SceneInput, scene_update
from video_agent.video_agent_node.common import context_of, scene_key_of

#: Namespace of the scene thread ids; fixed forever, or old threads would be orphaned.
SCENE_THREAD_NAMESPACE = uuid.UUID("4f0a5d2e-8b6c-5c1e-9a73-2d61b0c7e9a4")
#: ``configurable`` key that tags a scene run with the story task that started it.
TASK_KEY = "video_agent_story_task"
ACTIVE = ("pending", "running")

# Context fields that cannot travel in a run's JSON context (objects).
_LOCAL_ONLY = {
    "chat_model": "a chat model object cannot be sent in a run; configure it in the server",
    "quality": "QualitySettings cannot be sent in a run; configure it in the server",
}
# Story-level fields the scene graph has no use for.
_STORY_ONLY = {"scene_graph_url", "scene_assistant_id", "force_scenes", "only_scenes"}


class RemoteSceneError(RuntimeError):
    """A scene run could not be started (``field`` names the setting) or failed on the server."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def scene_thread_id(story_id: str, scene: str | int) -> str:
    """The thread of one scene on the server: a UUID5 of ``<story>:<scene>``."""
    if not story_id:
        raise ValueError("story_id: empty; a scene thread needs the story id")
    return str(uuid.uuid5(SCENE_THREAD_NAMESPACE, f"{story_id}:{scene}"))


def remote_context(ctx: VideoAgentContext) -> dict[str, Any]:
    """The JSON context a scene run gets: the story's settings less story-only ones.

    Raises ``ValueError`` naming the field when a setting cannot be sent (an object, or a
    database URL with its password: the server stores a run's context), rather than leaving it
    out and letting the server run with different settings.
    """
    for name, reason in _LOCAL_ONLY.items():
        if getattr(ctx, name) is not None:
            raise ValueError(f"{name}: {reason} (scene_graph_url is set)")
    if ctx.state_db and urlsplit(ctx.state_db).password:
        raise ValueError("state_db: the URL holds a password, which a run's context must not "
                         "carry; give the server PGPASSWORD (or ~/.pgpass) instead")
    sent = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)
            if f.name not in _LOCAL_ONLY and f.name not in _STORY_ONLY}
    # Paths must mean the same on the server: absolute, as this process resolves them.
    sent["output_dir"] = str(ctx.out)
    if ctx.story_dir:
        sent["story_dir"] = str(Path(ctx.story_dir).expanduser().resolve())
    sent["image_roots"] = [str(Path(root).expanduser().resolve()) for root in ctx.image_roots]
    return sent


def _task_key() -> str:
    """This story task's id: the same when a resumed story re-executes the same step."""
    config = get_config()
    ns = (config.get("configurable") or {}).get("checkpoint_ns") or \
        (config.get("metadata") or {}).get("langgraph_checkpoint_ns", "")
    return str(ns).split("|")[-1]


def _scene_output(key: str, result: dict[str, Any]) -> dict[str, Any]:
    """This scene's entries of a scene run's output, as story-state models."""
    videos = (result.get("videos") or {})
    errors = (result.get("errors") or {})
    durations = (result.get("planned_durations") or {})
    update: dict[str, Any] = {}
    try:
        if videos.get(key) is not None:
            update["videos"] = {key: SceneVideo.model_validate(videos[key])}
        if key in errors:
            update["errors"] = {key: None if errors[key] is None
                                else SceneError.model_validate(errors[key])}
        if key in durations:
            update["planned_durations"] = {key: float(durations[key])}
    except (ValidationError, TypeError, ValueError) as exc:
        raise RemoteSceneError(f"the scene run's output for scene {key} is not a Video Agent "
                               f"output: {exc}") from exc
    if not update:
        raise RemoteSceneError(f"the scene run wrote nothing for scene {key}")
    return update


async def run_scene_remotely(state: SceneInput, ctx: VideoAgentContext,
                             task_key: str) -> dict[str, Any]:
    """Run one scene on the server's ``video_agent`` assistant and return its story update."""
    key = scene_key_of(state)  # type: ignore[arg-type]
    url = ctx.scene_graph_url
    if not url:
        raise ValueError("scene_graph_url: not set")
    thread_id = scene_thread_id(state.get("story_id", ""), key)
    context = remote_context(ctx)  # refuses what cannot be sent, before any call
    client = get_client(url=url)
    try:
        await client.threads.create(thread_id=thread_id, if_exists="do_nothing",
                                    metadata={"story_id": state.get("story_id", ""),
                                              "scene": key})
        run: Any = await _existing_run(client, thread_id, task_key)
        if run is None:
            payload = {"story_id": state.get("story_id", ""),
                       "scene": _jsonable(state.get("scene")),
                       "narration": _jsonable(state.get("narration"))}
            try:
                run = await client.runs.create(
                    thread_id, ctx.scene_assistant_id, input=payload,
                    context=context, config={"configurable": {TASK_KEY: task_key}},
                    multitask_strategy="reject", durability=DURABILITY)
            except ConflictError:  # a run started on the thread meanwhile: join that one
                run = await _existing_run(client, thread_id, task_key)
                if run is None:
                    raise
        result = await client.runs.join(thread_id, run["run_id"])
    except (LangGraphError, httpx.HTTPError) as exc:
        raise RemoteSceneError(f"scene {key} on {url}: {exc}", "scene_graph_url") from exc
    finally:
        await client.aclose()
    if not isinstance(result, dict) or "__error__" in result:
        error = (result or {}).get("__error__") if isinstance(result, dict) else result
        raise RemoteSceneError(f"scene {key}: run {run['run_id']} on thread {thread_id} "
                               f"failed: {error}")
    return _scene_output(key, result)


async def _existing_run(client: Any, thread_id: str, task_key: str) -> dict[str, Any] | None:
    """The run to join instead of creating one: the one this story task already started on the
    thread (finished or not), else any run still active there."""
    runs = await client.runs.list(thread_id, limit=100)
    mine = [r for r in runs
            if ((r.get("config") or {}).get("configurable") or {}).get(TASK_KEY) == task_key]
    if mine:
        return dict(max(mine, key=lambda r: str(r["created_at"])))
    active = [r for r in runs if r["status"] in ACTIVE]
    return dict(active[0]) if active else None


def _jsonable(value: Any) -> Any:
    return value.model_dump(mode="json", exclude_none=True) if hasattr(value, "model_dump") \
        else value


async def remote_scene(state: SceneInput, runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    """Story-graph node: one scene on the server; a failure becomes this scene's error."""
    ctx = context_of(runtime)
    key = scene_key_of(state)  # type: ignore[arg-type]
    try:
        return await run_scene_remotely(state, ctx, _task_key())
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        error = SceneError(scene=key, stage="remote", field=field, message=message or str(exc))
    except RemoteSceneError as exc:
        error = SceneError(scene=key, stage="remote", field=exc.field, message=str(exc))
    return scene_update(key, errors=error)
