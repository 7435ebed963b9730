"""What a node's update says happened, written once, by ``scene_node``, after the node returns:
the attempts journal, the provider, quality and scene metrics, and the temp folder of a scene
that ended. Nodes decide and return records; nothing here decides where a scene goes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from video_agent import telemetry
from video_agent.adapters.storage import SceneStorage
from video_agent.models import Attempt, Take
from video_agent.state import SceneState


async def write_effects(state: SceneState, update: dict[str, Any], scene: str,
                        storage: SceneStorage) -> None:
    """Journal and observe the attempts ``update`` adds, observe a clip the gate has just judged,
    and count a scene that ended (stored, or failed), discarding its temp folder."""
    take: Take | None = update["take"] if "take" in update else state.get("take")
    seen = {attempt_identity(a) for a in state.get("attempts") or []}
    for attempt in update.get("attempts") or []:
        identity = attempt_identity(attempt)
        if identity is not None and identity in seen:
            continue  # the same clip made again (its temp copy was lost): journalled once
        seen.add(identity)
        await _journal(state, attempt, take, scene, storage)
    before = state.get("take")
    if take is not None and take.quality is not None and (
            before is None or before.quality is None):
        for name, value in take.quality.metrics.items():
            telemetry.quality_metric.labels(name).observe(value)
    failed = any(error is not None for error in (update.get("errors") or {}).values())
    stored = any(video is not None for video in (update.get("videos") or {}).values())
    if not (failed or stored):
        return
    if stored and take is not None and take.quality is not None:
        clip = Path(take.quality.path)
        telemetry.bytes_stored.inc(await asyncio.to_thread(
            lambda: clip.stat().st_size if clip.is_file() else 0))
    outcome = "failed" if failed else "fallback" if take and take.slot == "fallback" else "success"
    telemetry.scene_outcomes.labels(outcome).inc()
    # The scene ended: its partial files are abandoned, or its clip is stored.
    if work_dir := update.get("work_dir") or state.get("work_dir"):
        await storage.discard(work_dir)


AttemptIdentity = tuple[str | None, ...]


def attempt_identity(attempt: Attempt) -> AttemptIdentity | None:
    """What makes an attempt the same one when it is made again: its render (story, scene, slot,
    generation, request) and outcome, or a provider request id, slot and outcome; None when
    nothing identifies it (an error before any request), so it is always its own attempt."""
    if attempt.render_id:
        return ("render", attempt.render_id, attempt.outcome)
    if attempt.request_id:
        return ("request", attempt.request_id, attempt.slot, attempt.outcome)
    return None


def unique_attempts(attempts: list[Attempt]) -> list[Attempt]:
    """``attempts`` in order, each identity once (its first record)."""
    seen: set[AttemptIdentity] = set()
    out = []
    for attempt in attempts:
        identity = attempt_identity(attempt)
        if identity is not None:
            if identity in seen:
                continue
            seen.add(identity)
        out.append(attempt)
    return out


async def _journal(state: SceneState, attempt: Attempt, take: Take | None, scene: str,
                   storage: SceneStorage) -> None:
    if attempt.error_kind == "config":
        return  # no provider was reached: the scene's error says why
    entry: dict[str, Any] = {"scene": scene, **attempt.model_dump()}
    if attempt.outcome == "ok" and take is not None and take.result is not None:
        entry["render_id"] = entry.get("render_id") or take.result.render_id
    await storage.record_attempt(state.get("story_id", ""), entry)
    labels = (attempt.provider, attempt.model, attempt.slot)
    telemetry.provider_outcomes.labels(*labels, attempt.outcome).inc()
    if attempt.outcome == "quality_fail":
        return  # the provider call was counted when the clip arrived
    telemetry.provider_seconds.labels(*labels).observe(attempt.elapsed_s)
    if attempt.cost:
        telemetry.cost_usd.labels(attempt.provider, attempt.model).inc(attempt.cost)
    queue_wait = take.result.details.get("queue_wait_s") \
        if attempt.outcome == "ok" and take is not None and take.result is not None else None
    if isinstance(queue_wait, int | float):
        telemetry.provider_queue_seconds.labels(attempt.provider, attempt.model).observe(
            queue_wait)
