"""What every node of the Video Agent shares: the run context, storage, progress events, and
the rule that a scene's failure is written into state instead of escaping the branch."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

from langgraph.runtime import Runtime

from video_agent import telemetry
from video_agent.adapters.storage import SceneStorage
from video_agent.context import ALLOW_PRIVATE_URLS_ENV, VideoAgentContext
from video_agent.inputs import MAX_SCENE_NUMBER
from video_agent.models import SceneContext, SceneError
from video_agent.progress import Progress
from video_agent.state import SceneState, scene_update, upgrade_previous_shape
from video_agent.video_agent_node.effects import write_effects

log = logging.getLogger("video_agent")

class Node(Protocol):
    """A Video Agent node: the scene's state and the run's runtime in, a state update out."""

    def __call__(self, state: SceneState,
                 runtime: Runtime[VideoAgentContext]) -> Awaitable[dict[str, Any]]: ...


def context_of(runtime: Runtime[VideoAgentContext] | None) -> VideoAgentContext:
    """The run's context; defaults when the graph is invoked without one (e.g. in Studio).

    A context given as a plain dict, or none at all, is built once per distinct setting and
    kept, so the nodes of such a run share one set of services (storage, stores, one provider
    per spec with its limits) instead of each node building its own."""
    ctx = getattr(runtime, "context", None)
    if isinstance(ctx, VideoAgentContext):
        return ctx
    return _settled_context(ctx if isinstance(ctx, dict) else {})


_SETTLED: OrderedDict[str, VideoAgentContext] = OrderedDict()
_SETTLED_LOCK = threading.Lock()
_SETTLED_MAX = 16


def _settled_context(settings: dict[str, Any]) -> VideoAgentContext:
    # (a default read from the environment is part of what the context was built from)
    key = json.dumps([settings, os.environ.get(ALLOW_PRIVATE_URLS_ENV)], sort_keys=True,
                     default=lambda v: f"{type(v).__name__}@{id(v)}")
    with _SETTLED_LOCK:
        if key in _SETTLED:
            _SETTLED.move_to_end(key)
            return _SETTLED[key]
    ctx = VideoAgentContext(**settings)  # a bad field raises here, before anything is kept
    with _SETTLED_LOCK:
        ctx = _SETTLED.setdefault(key, ctx)
        while len(_SETTLED) > _SETTLED_MAX:
            _SETTLED.popitem(last=False)
    return ctx


def storage_of(ctx: VideoAgentContext) -> SceneStorage:
    """The run's clip storage: the output folder, or S3 when ``ctx.storage`` names a bucket."""
    return ctx.services.storage


def scene_of(state: SceneState) -> SceneContext:
    scene = state["scene"]
    return scene if isinstance(scene, SceneContext) else SceneContext.model_validate(scene)


def scene_key_of(state: SceneState) -> str:
    """The scene's key, even when its context failed validation ("?" without a usable number)."""
    scene = state.get("scene")
    if isinstance(scene, SceneContext):
        return scene.key
    number = scene.get("scene_number") if isinstance(scene, dict) else None
    if isinstance(number, str) and number.isascii() and number.isdigit() and len(number) < 12:
        number = int(number)
    if isinstance(number, int) and not isinstance(number, bool) and (
            1 <= number <= MAX_SCENE_NUMBER):
        return str(number)
    return "?"


class Reporter:
    """Sends :class:`~video_agent.progress.Progress` events (as dicts) to LangGraph's ``custom``
    stream; safe to call from any thread."""

    def __init__(self, runtime: Runtime[VideoAgentContext] | None, story_id: str, scene: str,
                 stage: str) -> None:
        self._write = getattr(runtime, "stream_writer", None)
        self._loop = asyncio.get_running_loop()
        # LangGraph's writer reads the node's config from a context variable: a call scheduled
        # from a worker thread must run in the node's context, or the event is lost.
        self._context = contextvars.copy_context()
        self.story_id, self.scene, self.stage = story_id, scene, stage

    def __call__(self, fraction: float, message: str = "") -> None:
        event = Progress(story_id=self.story_id, scene=self.scene, stage=self.stage,
                         progress=round(max(0.0, min(1.0, fraction)), 3),
                         message=message).model_dump(exclude_none=True)
        if self._write is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._write(event)
        else:
            self._loop.call_soon_threadsafe(self._write, event, context=self._context)


def scene_node(stage: str) -> Callable[[Node], Node]:
    """Wrap a node so an unexpected exception becomes this scene's recorded error.

    An exception escaping a ``Send`` branch would cancel every sibling scene mid-flight; here it
    ends only its own scene, with the stage and the reason in ``errors``.
    """

    def wrap(node: Node) -> Node:
        @functools.wraps(node)
        async def run(state: SceneState, runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
            started, cpu = time.perf_counter(), time.process_time()
            key = scene_key_of(state)
            try:
                upgrade = upgrade_previous_shape(state)
                if upgrade:  # a scene resumed from a checkpoint of the previous shape
                    state = cast(SceneState, {**state, **upgrade})
                update = {**upgrade, **await node(state, runtime)}
                await write_effects(state, update, key, storage_of(context_of(runtime)))
            except Exception as exc:
                log.exception("scene %s: %s failed", key, stage)
                reason = f"internal error in {stage}: {type(exc).__name__}: {exc}"
                error = SceneError(scene=key, stage=stage, critical=True, message=reason,
                                   attempts=list(state.get("attempts") or []))
                update = scene_update(key, errors=error)
                await write_effects(state, update, key, storage_of(context_of(runtime)))
            elapsed = time.perf_counter() - started
            name = stage if stage not in (state.get("timings") or {}) else f"{stage}#2"
            update.setdefault("timings", {})[name] = round(elapsed, 3)
            telemetry.stage_seconds.labels(stage).observe(elapsed)
            telemetry.stage_cpu_seconds.labels(stage).inc(time.process_time() - cpu)
            return update

        return run

    return wrap
