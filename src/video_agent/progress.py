"""Progress events shared by the graph's nodes, the CLI, the HTTP server stream and the page.

One discriminated union on ``event``; the nodes write them as plain dicts to LangGraph's
``custom`` stream (so a LangGraph server forwards them as JSON), and every consumer reads them
back with :func:`parse_event`. :class:`SceneBar` turns a scene's per-stage fractions into one
0-1 figure that only moves forward.

Light on purpose: pydantic only, so the CLI can import it without the graph.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

STAGE_BANDS: dict[str, tuple[float, float]] = {
    "analyze_context": (0.00, 0.05),
    "reason_motion": (0.05, 0.08),
    "generate_primary": (0.08, 0.80),
    "generate_fallback": (0.08, 0.80),
    "assess_quality": (0.80, 0.95),
    "store": (0.95, 1.00),
}
"""Each stage's share of a scene's bar, in graph order (the fallback shares the primary's)."""


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)
    story_id: str = ""


class Planned(_Event):
    """The scenes this run generates (``pending``) and those it keeps as stored (``kept``)."""

    event: Literal["planned"] = "planned"
    pending: list[str] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list)
    resumed: bool = False


class Progress(_Event):
    """A stage of one scene moved: ``progress`` is the stage's own fraction (0-1)."""

    event: Literal["progress"] = "progress"
    scene: str
    stage: str
    progress: float = Field(ge=0.0, le=1.0)
    message: str = ""
    overall: float | None = Field(default=None, description="The scene's whole bar, 0-1, "
                                  "filled in by the consumer's SceneBar.")


class SceneDone(_Event):
    """A scene was stored; ``video`` is its ``SceneVideo`` (dropped when sent as JSON)."""

    event: Literal["done"] = "done"
    scene: str
    video: Any = None
    version: int | None = None


class SceneFailed(_Event):
    """A scene ended without a video; ``error`` is its ``SceneError``."""

    event: Literal["failed"] = "failed"
    scene: str
    error: Any = None


class Started(_Event):
    event: Literal["started"] = "started"
    scenes: list[str] = Field(default_factory=list)


class Finished(_Event):
    event: Literal["finished"] = "finished"
    error: str | None = None
    videos: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)


RunEvent = Annotated[Planned | Progress | SceneDone | SceneFailed | Started | Finished,
                     Field(discriminator="event")]
AnyEvent = Planned | Progress | SceneDone | SceneFailed | Started | Finished
_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(RunEvent)


def parse_event(event: Any) -> AnyEvent:
    """An event model from a model or a dict; ``ValueError`` for anything else."""
    if isinstance(event, _Event):
        return event  # type: ignore[return-value]
    try:
        return _ADAPTER.validate_python(event)
    except ValidationError as exc:
        raise ValueError(f"not a progress event: {exc.errors()[0]['msg']}") from None


class SceneBar:
    """One scene's bar over its weighted stages, never moving backwards.

    A stage entered again (the fallback after the primary, a second quality check) continues
    from where the bar stands and fills the rest of that stage's band.
    """

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self.value = 0.0
        self.stage = "queued"
        self.message = ""
        self.started: float | None = None
        self.finished: float | None = None
        self._band: tuple[str, float, float] | None = None

    def update(self, stage: str, fraction: float, message: str = "") -> float:
        if self.started is None:
            self.started = self._clock()
        lo, hi = STAGE_BANDS.get(stage, (self.value, self.value))
        if self._band is None or self._band[0] != stage:
            # entering a stage: start its band where the bar stands when that is further on
            self._band = (stage, max(lo, self.value), max(hi, self.value))
        _, lo, hi = self._band
        self.value = max(self.value, lo + (hi - lo) * max(0.0, min(1.0, fraction)))
        self.stage, self.message = stage, message
        return self.value

    def done(self, stage: str = "stored") -> None:
        self.value, self.stage, self.message = 1.0, stage, ""
        self.finished = self._clock()

    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or self._clock()) - self.started

    def eta(self) -> float | None:
        """Seconds left at the pace so far; ``None`` until there is a pace to go by."""
        if self.finished is not None:
            return 0.0
        if self.started is None or self.value < 0.1:
            return None
        return self.elapsed() * (1.0 - self.value) / self.value
