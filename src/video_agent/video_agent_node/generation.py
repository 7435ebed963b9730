"""One provider attempt, shared by ``generate_primary`` and ``generate_fallback``.

The attempt's decisions (the plan fitted to the provider, the request, what an outcome means for
the scene) are plain functions; ``attempt`` only gathers their inputs and calls the provider.
The journal and the metrics are written from the returned records by ``scene_node``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langgraph.runtime import Runtime

from video_agent import cpu_pool, faultpoints
from video_agent.adapters.providers.base import ProviderError, VideoProvider
from video_agent.adapters.providers.registry import ProviderSpecError
from video_agent.adapters.storage import SceneStorage
from video_agent.adapters.storage.local import render_identity
from video_agent.context import VideoAgentContext
from video_agent.models import (
    Attempt,
    Conflict,
    GenerationRequest,
    GenerationResult,
    ReasoningTrace,
    SceneError,
    Slot,
    Take,
    VideoParams,
)
from video_agent.quality import prepare_still
from video_agent.reasoning import build_prompt, fit_to_capabilities
from video_agent.state import SceneState, scene_update
from video_agent.video_agent_node.common import Reporter, context_of, scene_of, storage_of


async def attempt(state: SceneState, runtime: Runtime[VideoAgentContext], slot: Slot,
                  spec: str, params: VideoParams, trace: ReasoningTrace) -> dict[str, Any]:
    """Ask the provider named by ``spec`` for a clip.

    Returns the state update: a new :class:`Take` (with the clip, or without one after a failed
    ``Attempt``, and then, when the error is critical, the scene's error).
    """
    ctx = context_of(runtime)
    scene = scene_of(state)
    story_id = state.get("story_id", "")
    storage = storage_of(ctx)
    report = Reporter(runtime, story_id, scene.key, f"generate_{slot}")
    started = time.perf_counter()

    try:  # providers may open files (ledgers, caches): off the event loop
        provider: VideoProvider = await asyncio.to_thread(ctx.services.provider, spec)
    except (ProviderSpecError, ValueError) as exc:
        failed = Attempt(slot=slot, provider=spec, outcome="error", error=str(exc),
                         error_kind="config")
        update = _failed(state, slot, failed, critical=True, message=str(exc))  # misconfigured
        update["take"] = Take(slot=slot, asked=params)
        return update

    fitted, trace, conflicts = fitted_plan(params, provider, trace)
    work_dir = await storage.work_dir(state.get("work_dir"), work_prefix(story_id, scene.key))
    request = GenerationRequest(
        story_id=story_id, scene=scene.key, slot=slot, params=fitted, image=state["image"],
        prompt=build_prompt(fitted, state["analysis"], provider.capabilities, scene),
        work_dir=work_dir,
        generation=await _generation(storage, story_id, scene.key, slot, state))
    report(0.0, f"{provider.name}:{provider.model}")
    # What the gate looks for on the still (faces, named subjects) is found while the provider
    # works, so judging the clip costs little more than decoding it (``prepare_still``): a job
    # of the CPU pool like the others, not awaited.
    prepared = cpu_pool.pool().submit(prepare_still, request.image.path,
                                      fitted.motion.focus_points)
    try:
        result = await asyncio.wait_for(provider.generate(request, report),
                                        timeout=ctx.provider_timeout_s)
    except BaseException as exc:
        prepared.cancel()  # no clip to judge: a job not yet started reads nothing
        if not isinstance(exc, ProviderError | TimeoutError):
            raise  # a cancelled run, or a bug in the provider: not a failed attempt
        failed, critical, field = failed_attempt(exc, slot, provider, ctx.provider_timeout_s)
        failed = failed.model_copy(update={"elapsed_s": _since(started),
                                           "conflicts": conflicts})
        update = _failed(state, slot, failed, critical=critical or slot == "fallback",
                         message=failed.error or "", field=field)
        update.update({"take": Take(slot=slot, asked=params, fitted=fitted),
                       "work_dir": work_dir, "trace": trace, "redo": None})
        return update

    faultpoints.hit("generate_clip_ready")
    result = identified(result, request)
    done = Attempt(slot=slot, provider=result.provider, model=result.model,
                   request_id=result.request_id, render_id=result.render_id, outcome="ok",
                   cost=result.cost,
                   elapsed_s=_since(started), conflicts=conflicts)
    report(1.0, "clip ready")
    return {"take": Take(slot=slot, asked=params, fitted=fitted, result=result), "trace": trace,
            "attempts": [done], "work_dir": work_dir, "redo": None}


def fitted_plan(params: VideoParams, provider: VideoProvider, trace: ReasoningTrace
                ) -> tuple[VideoParams, ReasoningTrace, list[Conflict]]:
    """``params`` fitted to the provider's capabilities, the trace with the conflicts that fitting
    found added once, and those conflicts."""
    fitted, conflicts = fit_to_capabilities(params, provider.capabilities)
    trace = trace.model_copy(deep=True)
    trace.conflicts.extend(c for c in conflicts if c not in trace.conflicts)
    return fitted, trace, conflicts


def failed_attempt(exc: ProviderError | TimeoutError, slot: Slot, provider: VideoProvider,
                   timeout_s: float) -> tuple[Attempt, bool, str | None]:
    """The failed attempt a provider error or a timeout stands for, whether the provider called
    it critical, and the input field it names."""
    if isinstance(exc, ProviderError):
        return (Attempt(slot=slot, provider=provider.name, model=provider.model,
                        request_id=exc.request_id, outcome="error", error=str(exc),
                        error_kind=exc.kind), exc.critical, exc.field)
    return (Attempt(slot=slot, provider=provider.name, model=provider.model, outcome="error",
                    error=f"no clip within {timeout_s:g} s", error_kind="timeout"), False, None)


def identified(result: GenerationResult, request: GenerationRequest) -> GenerationResult:
    """The result with its stable render identity (storing it twice keeps one version)."""
    return result.model_copy(update={"render_id": render_identity(
        story=request.story_id, scene=request.scene, generation=request.generation,
        slot=request.slot, provider=result.provider, model=result.model,
        made_by=result.request_id or request.params.model_dump(mode="json"))})


def work_prefix(story_id: str, scene: str | None = None) -> str:
    """Names a scene's temp folders, or (no scene) the story's; ``+`` is never part of a story
    id (see ``check_story_id``)."""
    return f"{story_id}+" if scene is None else f"{story_id}+{scene}+"


async def _generation(storage: SceneStorage, story_id: str, scene: str, slot: Slot,
                      state: SceneState) -> int:
    """Versions stored for the scene plus this slot's clips the gate rejected (journalled in
    attempts.jsonl, each clip once): a new number asks for a new clip, the same one for the same
    paid request. A clip this pass made but has not judged yet does not count: its rejection was
    journalled by a run killed before it was checkpointed, and the clip is made again as it was."""
    mine = [a for a in state.get("attempts") or [] if a.slot == slot and a.render_id]
    unjudged = ({a.render_id for a in mine if a.outcome == "ok"}
                - {a.render_id for a in mine if a.outcome == "quality_fail"})
    rejected: set[str] = set()
    unnamed = 0  # lines journalled before attempts carried their render
    for entry in await storage.attempts(story_id):
        if (entry.get("scene"), entry.get("slot"), entry.get("outcome")) != (
                scene, slot, "quality_fail"):
            continue
        if entry.get("render_id"):
            rejected.add(str(entry["render_id"]))
        else:
            unnamed += 1
    stored = await storage.versions(story_id, scene)
    return len(stored) + len(rejected - unjudged) + unnamed


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


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
