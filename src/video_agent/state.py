"""Graph state: the story state shared with the Layer 1 manager and the Speech Agent, and the
private state of one scene inside the Video Agent subgraph.

Every per-scene map is keyed by the scene number as a string and merged by ``merge_by_scene``,
so parallel scene branches never overwrite each other.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Required, TypeVar

from typing_extensions import TypedDict

from video_agent.inputs import check_json_value
from video_agent.models import (
    Attempt,
    GenerationResult,
    LocalImage,
    NarrationTiming,
    QualityReport,
    ReasoningTrace,
    SceneAnalysis,
    SceneContext,
    SceneError,
    SceneVideo,
    Slot,
    Take,
    VideoParams,
)

V = TypeVar("V")


def merge_by_scene(left: dict[str, V] | None, right: dict[str, V | None] | None) -> dict[str, V]:
    """Merge per-scene maps: the right side wins per key, and ``None`` removes a key.

    Keys are normalised to strings so ``{5: ...}`` from a hand-written update lands on ``"5"``.
    """
    merged = {str(k): v for k, v in (left or {}).items()}
    for key, value in (right or {}).items():
        if value is None:
            merged.pop(str(key), None)
        else:
            merged[str(key)] = value
    return merged


def merge_input_by_scene(name: str) -> Any:
    """``merge_by_scene`` for a map written from outside (a manager node, a graph's input):
    every value must be storable in a checkpoint (64-bit integers, finite numbers, valid
    Unicode), or the update fails naming the field before it is checkpointed. (A run's raw
    input is checkpointed by LangGraph itself before any reducer sees it.)"""

    def merge(left: dict[str, V] | None, right: dict[str, V | None] | None) -> dict[str, V]:
        if right is not None and not isinstance(right, dict):
            raise ValueError(f"{name}: must be an object keyed by scene number")
        for key, value in (right or {}).items():
            check_json_value(value, f"{name}[{ascii(key)[:60]}]")
        return merge_by_scene(left, right)

    merge.__name__ = f"merge_{name}"
    return merge


merge_scenes = merge_input_by_scene("scenes")
merge_narration = merge_input_by_scene("narration")


def keep_tombstones(
    left: dict[str, V | None] | None, right: dict[str, V | None] | None
) -> dict[str, V | None]:
    """Like ``merge_by_scene`` but keeps ``None`` values, so a scene's "clear this" reaches the
    parent graph, whose ``merge_by_scene`` then removes the key there."""
    return {**{str(k): v for k, v in (left or {}).items()},
            **{str(k): v for k, v in (right or {}).items()}}


class StoryState(TypedDict, total=False):
    """State shared by the story graph's agents (see the README's table of shared keys).

    Attributes:
        story_id: Identifier of the story; names its output folder and checkpoint thread.
        scenes: The seed's combined context per scene (written by the Layer 1 manager).
        narration: Narration timing per scene (written by the Speech Agent, read here).
        videos: The finished video per scene (written by the Video Agent).
        errors: Why a scene has no video (written by the Video Agent; cleared on success).
        planned_durations: Clip length chosen per scene (written here, read by the Speech Agent).
    """

    story_id: str
    scenes: Annotated[dict[str, SceneContext], merge_scenes]
    narration: Annotated[dict[str, NarrationTiming], merge_narration]
    videos: Annotated[dict[str, SceneVideo], merge_by_scene]
    errors: Annotated[dict[str, SceneError], merge_by_scene]
    planned_durations: Annotated[dict[str, float], merge_by_scene]


class SceneInput(TypedDict, total=False):
    """What a story graph sends to the Video Agent for one scene (the ``Send`` payload)."""

    story_id: Required[str]
    scene: Required[SceneContext]
    narration: NarrationTiming | None


class SceneOutput(TypedDict, total=False):
    """What one scene's run writes back into the story state."""

    videos: Annotated[dict[str, SceneVideo], keep_tombstones]
    errors: Annotated[dict[str, SceneError | None], keep_tombstones]
    planned_durations: Annotated[dict[str, float], keep_tombstones]


class PreviousShape(TypedDict, total=False):
    """Keys a checkpoint written before :class:`~video_agent.models.Take` may still hold; read
    only by :func:`upgrade_previous_shape`, which moves them into ``take`` and clears them."""

    plan: VideoParams | None
    fitted: VideoParams | None
    candidate: GenerationResult | None
    candidate_slot: Slot | None
    quality: QualityReport | None


class SceneState(SceneInput, SceneOutput, PreviousShape, total=False):
    """Private state of one scene inside the Video Agent subgraph."""

    image: LocalImage
    analysis: SceneAnalysis
    params: VideoParams  # the primary plan from reason_motion
    trace: ReasoningTrace
    take: Take | None  # the current attempt: replaced whole by each generate node
    attempts: Annotated[list[Attempt], operator.add]
    work_dir: str
    redo: Slot | None  # the slot to generate again: its clip was lost with a killed run's temp
    timings: Annotated[dict[str, float], keep_tombstones]


_PREVIOUS_KEYS = tuple(PreviousShape.__annotations__)


def upgrade_previous_shape(state: SceneState) -> dict[str, Any]:
    """The update that turns a scene checkpointed in the previous shape (``plan``, ``fitted``,
    ``candidate``, ``candidate_slot`` and ``quality`` side by side) into one ``take``; ``{}``
    when there is nothing to upgrade. A resumed run applies it before its first node."""
    if not any(state.get(key) is not None for key in _PREVIOUS_KEYS):
        return {}
    cleared: dict[str, Any] = dict.fromkeys(_PREVIOUS_KEYS)
    candidate, slot = state.get("candidate"), state.get("candidate_slot")
    if "take" in state or candidate is None or slot is None:
        return cleared  # no clip in flight: the next generate node writes a fresh take
    asked = state.get("plan") or state.get("params")
    if asked is None:
        raise ValueError("checkpoint: a clip without the plan it was asked with; "
                         "run the scene again (force it)")
    take = Take(slot=slot, asked=asked, fitted=state.get("fitted") or asked, result=candidate,
                quality=state.get("quality"))
    return {**cleared, "take": take}


def scene_order(key: str) -> tuple[int, str]:
    """Sort key for scene keys: numerically ("2" before "10"), anything else last."""
    return (int(key), key) if key.isdigit() else (1 << 30, key)


def scene_update(scene: str, **maps: Any) -> dict[str, dict[str, Any]]:
    """Build a per-scene update: ``scene_update("5", errors=e)`` -> ``{"errors": {"5": e}}``."""
    return {name: {scene: value} for name, value in maps.items()}
