"""Pydantic models shared by every part of the Video Agent.

The names follow the original spec: a scene's *combined context* goes in, the seed's
``video_params`` (``scene`` / ``generation`` / ``motion``) are planned, and the seed's final
output structure (``video_url`` + ``metadata``) comes out.  Everything that enters graph state is
one of these models, so it serialises through any LangGraph checkpointer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from video_agent.inputs import (
    MAX_NARRATION_S,
    MAX_REF_CHARS,
    MAX_SCENE_NUMBER,
    MAX_TEXT_CHARS,
    InputError,
    check_plain,
)
from video_agent.motion_names import Easing as Easing  # re-exported
from video_agent.motion_names import MotionType as MotionType  # re-exported
from video_agent.motion_names import Speed as Speed  # re-exported
from video_agent.values import CLIP_SECONDS, Resolution
from video_agent.values import SPEC_MIN_HEIGHT as SPEC_MIN_HEIGHT  # re-exported
from video_agent.values import SPEC_MIN_WIDTH as SPEC_MIN_WIDTH  # re-exported

Source = Literal[
    "layer1", "scene", "image_prompt", "speech_timing", "provider_capability", "default",
    "language_model",
]
Slot = Literal["primary", "fallback"]

SPEC_MIN_DURATION, SPEC_MAX_DURATION = CLIP_SECONDS
SPEC_FPS = 24
SPEC_MIN_BITRATE, SPEC_MAX_BITRATE = 2_000_000, 5_000_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- input


def _plain_ref(value: str | None) -> str | None:
    if value is not None:
        try:
            check_plain(value, "value")
        except InputError as exc:
            raise ValueError(exc.reason) from None
    return value


class SceneContext(_Model):
    """The seed's combined context for one scene, as the Layer 1 manager writes it."""

    scene_number: Annotated[int, Strict()] = Field(
        ge=1, le=MAX_SCENE_NUMBER, description="1-based scene number within the story.")
    scene_content: str = Field(max_length=MAX_TEXT_CHARS,
                               description="The scene in natural language.")
    image_url: str | None = Field(
        default=None, max_length=MAX_REF_CHARS,
        description="http(s) URL, file:// URI or local path of the scene's still.")
    image_path: str | None = Field(default=None, max_length=MAX_REF_CHARS, validate_default=True,
                                   description="Local path of the scene's still.")
    image_prompt: str = Field(default="", max_length=MAX_TEXT_CHARS,
                              description="Prompt (and negative prompt) of the still.")
    layer1_analysis: str = Field(default="", max_length=MAX_TEXT_CHARS,
                                 description="The Layer 1 manager's recommendations.")

    @field_validator("scene_content")
    @classmethod
    def _content_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("image_url", "image_path")
    @classmethod
    def _refs(cls, value: str | None) -> str | None:
        return _plain_ref(value)

    @field_validator("image_path")
    @classmethod
    def _has_image(cls, value: str | None, info: ValidationInfo) -> str | None:
        # image_url is validated first; an invalid one has its own error
        if not value and "image_url" in info.data and not info.data["image_url"]:
            raise ValueError("image_url or image_path is required")
        return value

    @property
    def key(self) -> str:
        """The scene's key in every per-scene map of the story state."""
        return scene_key(self.scene_number)

    @property
    def image_ref(self) -> str:
        """Where the still comes from: the local path wins over the URL."""
        return self.image_path or self.image_url or ""

    @property
    def image_field(self) -> str:
        return "image_path" if self.image_path else "image_url"


def scene_key(number: int | str) -> str:
    """String key of a scene (Studio and the SDK see JSON, whose keys are strings)."""
    return str(int(number))


class NarrationTiming(_Model):
    """What the Speech Agent knows of a scene's narration."""

    duration: Annotated[float, Strict()] = Field(
        gt=0, le=MAX_NARRATION_S, allow_inf_nan=False, description="Narration length in seconds.")
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)


class LocalImage(_Model):
    """A verified still on local disk, ready for a provider."""

    path: str
    sha256: str
    width: int
    height: int
    format: str
    source: str = Field(description="Where it came from (URL or path as given).")


# --------------------------------------------------------------------------- analysis


class MotionAnalysis(_Model):
    scene_type: str = "character_focused"
    movement_requirements: list[str] = Field(default_factory=list)
    key_elements: list[str] = Field(default_factory=list)
    timing_considerations: str = "medium_paced"


class TechnicalRequirements(_Model):
    quality_needs: str = "standard"
    focus_areas: list[str] = Field(default_factory=list)
    lighting_dynamics: str = "static_lighting"


class QualityThresholds(_Model):
    min_resolution: str = f"{SPEC_MIN_WIDTH}x{SPEC_MIN_HEIGHT}"
    min_fps: int = SPEC_FPS
    min_duration: float = SPEC_MIN_DURATION


class GenerationStrategy(_Model):
    primary_approach: str = "push_in_with_subtle_movement"
    fallback_options: str = "pan_with_focus_points"
    quality_thresholds: QualityThresholds = Field(default_factory=QualityThresholds)


class CameraCue(_Model):
    """One camera instruction found in the text, with where it was found."""

    motion: MotionType | None = None
    direction: str | None = None
    speed: Speed | None = None
    duration: float | None = None
    phrase: str = ""
    source: Source = "layer1"


class SceneAnalysis(_Model):
    """The seed's ``reasoning_steps``, plus what the planner read out of the texts."""

    motion_analysis: MotionAnalysis = Field(default_factory=MotionAnalysis)
    technical_requirements: TechnicalRequirements = Field(default_factory=TechnicalRequirements)
    generation_strategy: GenerationStrategy = Field(default_factory=GenerationStrategy)
    cues: list[CameraCue] = Field(default_factory=list)
    style_preferences: list[str] = Field(default_factory=list)
    negative_prompt: str = ""
    scene_elements: dict[str, Any] = Field(
        default_factory=dict, description="primary_focus, key_details, atmosphere (seed metadata)."
    )


# --------------------------------------------------------------------------- plan


class SceneSpec(_Model):
    content: str
    number: int
    image_url: str


class GenerationSettings(_Model):
    guidance_scale: float = 6.0
    num_inference_steps: int = 30
    aspect_ratio: str = "16:9"
    negative_prompt: str = "blurry, low quality"
    motion_scale: float = Field(default=0.8, ge=0.0, le=1.0)
    motion_type: MotionType = "push_in"
    fps: int = SPEC_FPS
    resolution: str = f"{SPEC_MIN_WIDTH}x{SPEC_MIN_HEIGHT}"


class MotionSpec(_Model):
    type: MotionType = "push_in"
    speed: Speed = "slow"
    direction: str | None = None
    duration: float = Field(default=6.0, ge=SPEC_MIN_DURATION, le=SPEC_MAX_DURATION)
    focus_points: list[str] = Field(default_factory=list)
    easing: Easing = "ease_in_out"


class VideoParams(_Model):
    """The seed's ``video_params``."""

    scene: SceneSpec
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    motion: MotionSpec = Field(default_factory=MotionSpec)


class Decision(_Model):
    field: str
    value: Any = None
    reason: str
    source: Source


class Conflict(_Model):
    """A creative wish that met a technical limit, and how it was resolved."""

    field: str
    requested: Any = None
    resolved: Any = None
    reason: str
    source: Source = "provider_capability"


class ReasoningTrace(_Model):
    decisions: list[Decision] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)

    def decide(self, field: str, value: Any, reason: str, source: Source) -> Any:
        self.decisions.append(Decision(field=field, value=value, reason=reason, source=source))
        return value

    def conflict(
        self, field: str, requested: Any, resolved: Any, reason: str,
        source: Source = "provider_capability",
    ) -> Any:
        self.conflicts.append(
            Conflict(field=field, requested=requested, resolved=resolved, reason=reason,
                     source=source)
        )
        return resolved


# --------------------------------------------------------------------------- providers


class ProviderCapabilities(_Model):
    """What a provider can be asked for; the plan is fitted to this before each call."""

    durations: list[float] | None = Field(
        default=None, description="Discrete durations it accepts; None means any in the range."
    )
    min_duration: float = SPEC_MIN_DURATION
    max_duration: float = SPEC_MAX_DURATION
    aspect_ratios: list[str] = Field(default_factory=lambda: ["16:9"])
    resolutions: list[str] = Field(default_factory=lambda: ["1024x576"])
    fps: list[int] = Field(default_factory=lambda: [SPEC_FPS])
    guidance_scale: tuple[float, float] | None = None
    num_inference_steps: tuple[int, int] | None = None
    negative_prompt: bool = False
    camera_controls: list[MotionType] = Field(default_factory=list)
    price_per_second: float = 0.0
    max_concurrency: int = 2


class GenerationRequest(_Model):
    """One call to a provider: the fitted plan and the verified still."""

    story_id: str
    scene: str
    slot: Slot
    params: VideoParams
    image: LocalImage
    prompt: str
    work_dir: str = Field(description="Folder for partial files (under the output's temp/).")
    generation: int = Field(
        default=0, ge=0,
        description="How many versions of the scene are already stored, plus this slot's clips "
                    "the quality gate rejected: a forced rerun or a retry after a rejection asks "
                    "for a new clip, a resumed one for the same (paid requests are keyed by it).")


class GenerationResult(_Model):
    path: str = Field(description="The clip as the provider delivered it, under temp/.")
    provider: str
    model: str
    request_id: str | None = None
    provider_args: dict[str, Any] = Field(default_factory=dict)
    cost: float = 0.0
    elapsed_s: float = 0.0
    details: dict[str, Any] = Field(default_factory=dict)
    render_id: str | None = Field(
        default=None, description="Stable identity of this render (see ``render_identity``): "
                                  "storing the same render twice keeps one version.")


class Attempt(_Model):
    slot: Slot
    provider: str
    model: str = ""
    request_id: str | None = None
    render_id: str | None = Field(
        default=None, description="The clip's render identity (story, scene, slot, generation, "
                                  "request): set on ``ok`` and ``quality_fail`` attempts.")
    outcome: Literal["ok", "error", "quality_fail"]
    error: str | None = None
    error_kind: str | None = None
    elapsed_s: float = 0.0
    cost: float = 0.0
    conflicts: list[Conflict] = Field(default_factory=list)


# --------------------------------------------------------------------------- quality


class ProbeInfo(_Model):
    container: str = ""
    codec: str = ""
    profile: str | None = None
    pix_fmt: str | None = None
    width: int = 0
    height: int = 0
    sample_aspect: str | None = None
    fps: float = 0.0
    real_fps: float = 0.0
    frame_count: int = 0
    duration: float = 0.0
    bitrate: int = 0
    audio_streams: int = 0
    moov_front: bool | None = None

    @property
    def resolution(self) -> str:
        return str(Resolution(self.width, self.height))


QualityProperty = Literal[
    "file", "resolution/aspect", "duration", "frame rate", "codec", "bitrate", "audio",
    "container", "colour", "fidelity", "black", "frozen", "cut", "flicker", "drift", "jitter",
    "composition",
]
"""What a quality check judges, in plain words."""


class QualityCheck(_Model):
    """One judged property of a clip: what was measured, against what, and what was done."""

    name: str = Field(description="Metric or check name, e.g. 'black_frames'.")
    property: QualityProperty
    value: float | None = Field(default=None, description="The measured value.")
    unit: str = ""
    threshold: float | None = Field(default=None, description="The limit the value is held to.")
    expected: str = Field(default="", description=(
        "The passing condition in words, with its direction and unit: '<= 0.5 s', '>= 14 dB', "
        "'2-5 Mbps', '= 24 fps'."))
    status: Literal["passed", "flagged", "repaired", "failed"] = Field(
        default="passed", description="'flagged': found wrong, recorded, not failing the clip.")
    action: str = Field(default="", description="What was done: the repair, or why it failed.")
    reason: str = Field(default="", description="The finding in words (empty when passed).")


class QualityReport(_Model):
    verdict: Literal["pass", "repaired", "fail"]
    reasons: list[str] = Field(default_factory=list)
    checks: list[QualityCheck] = Field(
        default_factory=list,
        description="Every check with its property, metric, threshold and outcome.")
    metrics: dict[str, float] = Field(default_factory=dict)
    probe: ProbeInfo = Field(default_factory=ProbeInfo)
    original_probe: ProbeInfo | None = None
    repairs: list[str] = Field(default_factory=list)
    series: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Compact per-frame curves for plots (at most 120 points each): 'brightness' "
                    "(mean luma 0-255) and 'motion' (mean absolute change from the previous "
                    "frame, the largest of each downsampled span so a glitch stays visible).")
    path: str = Field(default="", description="The clip to store (the repaired one if repaired).")
    elapsed_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.verdict != "fail"


class Take(_Model):
    """One provider attempt as the scene's state holds it, replaced whole by ``generate_primary``
    and ``generate_fallback`` (``assess_quality`` adds its verdict to a copy).

    ``asked`` is the plan the slot asked for (the primary plan, or the fallback plan derived from
    it); ``fitted`` is that plan fitted to the provider's capabilities, which the clip was made
    from and is judged against. A take without ``result`` is a failed attempt (its reason is in
    the ``attempts`` journal); ``quality`` is unset until the gate has judged the clip."""

    slot: Slot
    asked: VideoParams
    fitted: VideoParams | None = Field(
        default=None, description="Unset only when no provider could be resolved for the slot.")
    result: GenerationResult | None = None
    quality: QualityReport | None = None

    @model_validator(mode="after")
    def _clip_has_a_plan(self) -> Take:
        if self.result is not None and self.fitted is None:
            raise ValueError("fitted: a take with a clip needs the plan the clip was made from")
        if self.quality is not None and self.result is None:
            raise ValueError("quality: a take without a clip has nothing to judge")
        return self


# --------------------------------------------------------------------------- output


class SceneError(_Model):
    scene: str
    stage: str
    critical: bool = True
    field: str | None = None
    message: str
    attempts: list[Attempt] = Field(default_factory=list)


class SceneVideo(_Model):
    """The seed's final output structure for one scene."""

    video_url: str
    metadata: dict[str, Any]
    path: str
    version: int = 1
