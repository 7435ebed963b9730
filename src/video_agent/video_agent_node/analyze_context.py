"""``analyze_context``: validate the scene's context, fetch and verify its still, read the scene.

Bad input is a critical error for the scene: it names the field and the reason and ends the
scene before anything is generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from pydantic import ValidationError

from video_agent.adapters.images import ImageError, ImageSource
from video_agent.adapters.state_stores import state_stores
from video_agent.context import VideoAgentContext
from video_agent.models import SceneContext, SceneError
from video_agent.reasoning import analyze_scene
from video_agent.state import SceneState, scene_update
from video_agent.video_agent_node.common import Reporter, context_of, scene_key_of, scene_node


def _validation_message(exc: ValidationError) -> tuple[str | None, str]:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or None
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'scene'}: {e['msg']}"
             for e in exc.errors()]
    return field, "; ".join(parts)


@scene_node("analyze_context")
async def analyze_context(state: SceneState, runtime: Runtime[VideoAgentContext]) -> dict[str, Any]:
    ctx = context_of(runtime)
    key = scene_key_of(state)
    try:
        raw = state.get("scene")
        scene = raw if isinstance(raw, SceneContext) else SceneContext.model_validate(raw or {})
    except ValidationError as exc:
        field, message = _validation_message(exc)
        return scene_update(key, errors=SceneError(
            scene=key, stage="analyze_context", field=field, message=message))

    report = Reporter(runtime, state.get("story_id", ""), key, "analyze_context")
    report(0.0, "fetching the still")
    source = ImageSource(ctx.state_dir / "images", max_bytes=ctx.image_max_bytes,
                         timeout_s=ctx.image_timeout_s,
                         base_dir=Path(ctx.story_dir) if ctx.story_dir else None,
                         stills=state_stores(ctx.state_dir, ctx.state_db).stills,
                         roots=[Path(r) for r in ctx.image_roots],
                         allow_private_urls=ctx.allow_private_urls)
    try:
        image = await source.resolve(scene.image_ref, field=scene.image_field)
    except ImageError as exc:
        return scene_update(key, errors=SceneError(
            scene=key, stage="analyze_context", field=exc.field, message=str(exc)))
    analysis = analyze_scene(scene)
    report(1.0, f"{analysis.motion_analysis.scene_type} scene, still {image.width}x{image.height}")
    # A new run on a scene's thread (a server rerun) starts clean of the last run's error.
    return {"scene": scene, "image": image, "analysis": analysis, "errors": {key: None}}
