"""One provider attempt, shared by ``generate_primary`` and ``generate_fallback``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langgraph.runtime import Runtime

from video_agent import faultpoints, telemetry
from video_agent.adapters.providers.base import ProviderError, VideoProvider
from video_agent.adapters.providers.registry import ProviderSpecError, resolve_provider
from video_agent.adapters.storage import SceneStorage
from video_agent.adapters.storage.local import render_identity
from video_agent.context import VideoAgentContext
from video_agent.models import (
    Attempt,
    GenerationRequest,
    ReasoningTrace,
    SceneError,
    Slot,
    Take,
    VideoParams,
)
from video_agent.reasoning import build_prompt, fit_to_capabilities
from video_agent.state import SceneState, scene_update
from video_agent.video_agent_node.common import Reporter, context_of, scene_of, storage_of


async def attempt(state: SceneState, runtime: Runtime[VideoAgentContext], slot: Slot,
                  spec: str, params: VideoParams, trace: ReasoningTrace) -> dict[str, Any]:
    """Ask the provider named by ``spec`` for a clip.

    Returns the state update: a candidate clip, or a failed ``Attempt`` (and, when the error is
    critical, the scene's error). The attempt is also appended to the story's audit journal.
    """
    ctx = context_of(runtime)
    scene = scene_of(state)
    story_id = state.get("story_id", "")
    stage = f"generate_{slot}"
    storage = storage_of(ctx)
    report = Reporter(runtime, story_id, scene.key, stage)
    started = time.perf_counter()

    try:  # providers may open files (ledgers, caches): off the event loop
        provider: VideoProvider = await asyncio.to_thread(resolve_provider, spec, ctx)
    except (ProviderSpecError, ValueError) as exc:
        failed = Attempt(slot=slot, provider=spec, outcome="error", error=str(exc),
                         error_kind="config")
        update = _failed(state, slot, failed, critical=True, message=str(exc))  # misconfigured
        update["take"] = Take(slot=slot, asked=params)
        return update

    fitted, conflicts = fit_to_capabilities(params, provider.capabilities)
    trace = trace.model_copy(deep=True)
    trace.conflicts.extend(c for c in conflicts if c not in trace.conflicts)
    prompt = build_prompt(fitted, state["analysis"], provider.capabilities, scene)
    work_dir = await storage.work_dir(state.get("work_dir"), work_prefix(story_id, scene.key))
    stored = await storage.versions(story_id, scene.key)
    rejected = await _rejected(storage, story_id, scene.key, slot)
    request = GenerationRequest(story_id=story_id, scene=scene.key, slot=slot, params=fitted,
                                image=state["image"], prompt=prompt, work_dir=work_dir,
                                generation=len(stored) + rejected)
    report(0.0, f"{provider.name}:{provider.model}")
    try:
        result = await asyncio.wait_for(provider.generate(request, report),
                                        timeout=ctx.provider_timeout_s)
    except (ProviderError, TimeoutError) as exc:
        if isinstance(exc, ProviderError):
            kind, critical, request_id = exc.kind, exc.critical, exc.request_id
            message, field = str(exc), exc.field
        else:
            kind, critical, request_id, field = "timeout", False, None, None
            message = f"no clip within {ctx.provider_timeout_s:g} s"
        failed = Attempt(slot=slot, provider=provider.name, model=provider.model,
                         request_id=request_id, outcome="error", error=message,
                         error_kind=kind, elapsed_s=round(time.perf_counter() - started, 3),
                         conflicts=conflicts)
        await storage.record_attempt(story_id, {"scene": scene.key, **failed.model_dump()})
        _observe(failed)
        update = _failed(state, slot, failed, critical=critical or slot == "fallback",
                         message=message, field=field)
        update.update({"take": Take(slot=slot, asked=params, fitted=fitted),
                       "work_dir": work_dir, "trace": trace, "redo": None})
        return update

    faultpoints.hit("generate_clip_ready")
    result = result.model_copy(update={"render_id": render_identity(
        story=story_id, scene=scene.key, generation=request.generation, slot=slot,
        provider=result.provider, model=result.model,
        made_by=result.request_id or fitted.model_dump(mode="json"))})
    done = Attempt(slot=slot, provider=result.provider, model=result.model,
                   request_id=result.request_id, outcome="ok", cost=result.cost,
                   elapsed_s=round(time.perf_counter() - started, 3), conflicts=conflicts)
    await storage.record_attempt(story_id, {"scene": scene.key, **done.model_dump(),
                                            "render_id": result.render_id})
    _observe(done)
    queue_wait = result.details.get("queue_wait_s")
    if isinstance(queue_wait, int | float):
        telemetry.provider_queue_seconds.labels(done.provider, done.model).observe(queue_wait)
    report(1.0, "clip ready")
    return {"take": Take(slot=slot, asked=params, fitted=fitted, result=result), "trace": trace,
            "attempts": [done], "work_dir": work_dir, "redo": None}


def work_prefix(story_id: str, scene: str | None = None) -> str:
    """Names a scene's temp folders, or (no scene) the story's; ``+`` is never part of a story
    id (see ``check_story_id``)."""
    return f"{story_id}+" if scene is None else f"{story_id}+{scene}+"


async def _rejected(storage: SceneStorage, story_id: str, scene: str, slot: Slot) -> int:
    """Clips of this scene and slot that the gate rejected (journalled in attempts.jsonl)."""
    return sum(1 for entry in await storage.attempts(story_id) if entry.get("scene") == scene
               and entry.get("slot") == slot and entry.get("outcome") == "quality_fail")


def _observe(attempt: Attempt) -> None:
    labels = (attempt.provider, attempt.model, attempt.slot)
    telemetry.provider_seconds.labels(*labels).observe(attempt.elapsed_s)
    telemetry.provider_outcomes.labels(*labels, attempt.outcome).inc()
    if attempt.cost:
        telemetry.cost_usd.labels(attempt.provider, attempt.model).inc(attempt.cost)


def _failed(state: SceneState, slot: Slot, failed: Attempt, *, critical: bool,
            message: str, field: str | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {"attempts": [failed]}
    if critical:
        key = scene_of(state).key
        attempts = [*(state.get("attempts") or []), failed]
        reason = ("every provider failed; last: " if slot == "fallback" else "") + message
        update.update(scene_update(key, errors=SceneError(
            scene=key, stage=f"generate_{slot}", critical=True, field=field,
            message=reason, attempts=attempts)))
    return update
