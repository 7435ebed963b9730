"""``analyze_context``: validate the scene's context, fetch and verify its still, read the scene.

Bad input is a critical error for the scene: it names the field and the reason and ends the
scene before anything is generated.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime
from pydantic import ValidationError

from video_agent.adapters.images import ImageError
from video_agent.adapters.storage.local import check_story_id
from video_agent.context import VideoAgentContext
from video_agent.inputs import InputError, check_keys, first_error
from video_agent.models import NarrationTiming, SceneContext, SceneError
from video_agent.reasoning import analyze_scene
from video_agent.state import SceneState, scene_update
from video_agent.video_agent_node.common import Reporter, context_of, scene_key_of, scene_node


def _validation_message(exc: ValidationError) -> tuple[str | None, str]:
    """The first failing field, and every failure as ``field: reason``."""
    fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
    parts = [f"{field or 'scene'}: {str(e['msg']).removeprefix('Value error, ')}"
             for field, e in zip(fields, exc.errors(), strict=True)]
    return fields[0] or None, "; ".join(parts)


def checked_input(state: SceneState) -> tuple[SceneContext, NarrationTiming | None]:
    """The scene, its narration and the story id as the models allow them, or the first
    :class:`InputError` / ``ValidationError`` naming the field."""
    raw = state.get("scene")
    if not isinstance(raw, SceneContext | dict):
        raise InputError("scene", "must be an object with the scene's fields")
    if isinstance(raw, dict):
        check_keys(raw, SceneContext.model_fields, "")
    scene = raw if isinstance(raw, SceneContext) else SceneContext.model_validate(raw)
    narration = state.get("narration")
    if narration is not None and not isinstance(narration, NarrationTiming):
        if not isinstance(narration, dict):
            raise InputError("narration", "must be an object with duration and text")
        check_keys(narration, NarrationTiming.model_fields, "narration")
        try:
            narration = NarrationTiming.model_validate(narration)
        except ValidationError as exc:
            raise first_error(exc, "narration") from None
    try:
        check_story_id(state.get("story_id"))
    except ValueError as exc:
        raise InputError("story_id", str(exc).removeprefix("story_id: ")) from None
    return scene, narration


@scene_node("analyze_context")
async def analyze_context(state: SceneState, runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    key = scene_key_of(state)
    try:
        scene, narration = checked_input(state)
    except ValidationError as exc:
        field, message = _validation_message(exc)
        return scene_update(key, errors=SceneError(
            scene=key, stage="analyze_context", field=field, message=message))
    except InputError as exc:
        return scene_update(key, errors=SceneError(
            scene=key, stage="analyze_context", field=exc.field, message=str(exc)))

    report = Reporter(runtime, state.get("story_id", ""), key, "analyze_context")
    report(0.0, "fetching the still")
    source = await asyncio.to_thread(lambda: ctx.services.images)  # may open the still cache
    try:
        image = await source.resolve(scene.image_ref, field=scene.image_field)
    except ImageError as exc:
        return scene_update(key, errors=SceneError(
            scene=key, stage="analyze_context", field=exc.field, message=str(exc)))
    analysis = analyze_scene(scene)
    report(1.0, f"{analysis.motion_analysis.scene_type} scene, still {image.width}x{image.height}")
    # A new run on a scene's thread (a server rerun) starts clean of the last run's error.
    return {"scene": scene, "narration": narration, "image": image, "analysis": analysis,
            "errors": {key: None}}
