"""The fal.ai endpoint registry: what each image-to-video endpoint accepts and delivers.

Each endpoint is described declaratively (argument names, accepted values, price, native output
shape), so a user can register another endpoint from a JSON or TOML file without touching the
package: point ``VIDEO_AGENT_FAL_ENDPOINTS`` at one or more files (``os.pathsep``-separated), or put
inline JSON in it. A file holds a list of endpoint objects, or ``{"endpoints": [...]}``.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from video_agent.models import MotionType, ProviderCapabilities
from video_agent.values import Resolution

ENV_ENDPOINTS = "VIDEO_AGENT_FAL_ENDPOINTS"

DurationFormat = Literal["string", "seconds_s", "number", "num_frames", "none"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DurationArg(_Spec):
    """How an endpoint is told the clip length."""

    arg: str | None = "duration"
    format: DurationFormat = "string"
    choices: list[float] | None = Field(
        default=None, description="Accepted durations in seconds; None means the range.")
    min: float = 4.0
    max: float = 10.0
    fixed: float | None = Field(default=None, description="Length when it cannot be chosen.")
    frame_rate: int = Field(default=24, description="Frames per second for 'num_frames'.")


class RangeArg(_Spec):
    arg: str
    min: float
    max: float


class ResolutionArg(_Spec):
    """An enum resolution argument: each value and the frame size it yields at 16:9."""

    arg: str = "resolution"
    choices: dict[str, str] = Field(description="Argument value -> WIDTHxHEIGHT.")


class OutputShape(_Spec):
    """What the endpoint delivers natively (used for the capability list and the fake server)."""

    width: int = 1280
    height: int = 720
    fps: int = 24
    audio: bool = False


class Price(_Spec):
    per_second: float = 0.0
    per_video: float = 0.0

    def estimate(self, seconds: float) -> float:
        return round(self.per_video + self.per_second * seconds, 4)


class FalEndpoint(_Spec):
    """One fal.ai image-to-video endpoint and the mapping of ``video_params`` onto it."""

    id: str = Field(description="Endpoint id with all its path segments.")
    title: str = ""
    image_arg: str = "image_url"
    prompt_arg: str = "prompt"
    duration: DurationArg = Field(default_factory=DurationArg)
    guidance: RangeArg | None = None
    steps: RangeArg | None = None
    negative_prompt_arg: str | None = None
    aspect_ratio_arg: str | None = None
    aspect_ratios: list[str] = Field(default_factory=lambda: ["16:9"])
    resolution: ResolutionArg | None = None
    fps_arg: str | None = None
    seed_arg: str | None = None
    static_camera_arg: str | None = Field(
        default=None, description="Boolean argument that holds the camera still.")
    fixed_args: dict[str, object] = Field(default_factory=dict)
    price: Price = Field(default_factory=Price)
    output: OutputShape = Field(default_factory=OutputShape)
    max_concurrency: int = Field(default=2, ge=1)
    typical_seconds: float = Field(default=90.0, gt=0, description="Usual processing time.")

    @property
    def durations(self) -> list[float] | None:
        d = self.duration
        if d.format == "none":
            return [d.fixed or 5.0]
        return list(d.choices) if d.choices is not None else None

    @property
    def capabilities(self) -> ProviderCapabilities:
        d = self.duration
        durations = self.durations
        lo = min(durations) if durations else d.min
        hi = max(durations) if durations else d.max
        if self.resolution is not None:
            sizes = sorted(set(self.resolution.choices.values()), key=_area)
        else:
            sizes = [f"{self.output.width}x{self.output.height}"]
        camera: list[MotionType] = ["static"] if self.static_camera_arg else []
        return ProviderCapabilities(
            durations=durations,
            min_duration=lo,
            max_duration=hi,
            aspect_ratios=list(self.aspect_ratios),
            resolutions=sizes,
            fps=[self.output.fps],
            guidance_scale=(self.guidance.min, self.guidance.max) if self.guidance else None,
            num_inference_steps=(int(self.steps.min), int(self.steps.max)) if self.steps else None,
            negative_prompt=self.negative_prompt_arg is not None,
            camera_controls=camera,
            price_per_second=self.price.per_second,
            max_concurrency=self.max_concurrency,
        )


def _area(size: str) -> int:
    return Resolution.parse(size, "resolution.choices").area


_KLING_NEG = "negative_prompt"
BUILTIN: tuple[FalEndpoint, ...] = (
    FalEndpoint(
        id="fal-ai/kling-video/v2.1/standard/image-to-video",
        title="Kling 2.1 Standard (720p)",
        duration=DurationArg(choices=[5, 10]),
        guidance=RangeArg(arg="cfg_scale", min=0.0, max=1.0),
        negative_prompt_arg=_KLING_NEG,
        price=Price(per_second=0.05),
        output=OutputShape(width=1280, height=720, fps=30, audio=True),
        max_concurrency=4,
        typical_seconds=120,
    ),
    FalEndpoint(
        id="fal-ai/kling-video/v2.1/pro/image-to-video",
        title="Kling 2.1 Pro (1080p)",
        duration=DurationArg(choices=[5, 10]),
        guidance=RangeArg(arg="cfg_scale", min=0.0, max=1.0),
        negative_prompt_arg=_KLING_NEG,
        price=Price(per_second=0.09),
        output=OutputShape(width=1920, height=1080, fps=30, audio=True),
        max_concurrency=4,
        typical_seconds=240,
    ),
    FalEndpoint(
        id="fal-ai/minimax/hailuo-02/standard/image-to-video",
        title="MiniMax Hailuo-02 Standard (768p)",
        duration=DurationArg(choices=[6, 10]),
        resolution=ResolutionArg(choices={"768P": "1366x768"}),
        fixed_args={"prompt_optimizer": False},
        price=Price(per_second=0.045),
        output=OutputShape(width=1366, height=768, fps=25),
        max_concurrency=4,
        typical_seconds=150,
    ),
    FalEndpoint(
        id="fal-ai/ltx-video/image-to-video",
        title="LTX-Video 0.9 (768x512, about 5 s)",
        duration=DurationArg(arg=None, format="none", fixed=5.0),
        guidance=RangeArg(arg="guidance_scale", min=1.0, max=10.0),
        steps=RangeArg(arg="num_inference_steps", min=10, max=50),
        negative_prompt_arg="negative_prompt",
        seed_arg="seed",
        price=Price(per_video=0.02),
        output=OutputShape(width=768, height=512, fps=24),
        max_concurrency=8,
        typical_seconds=20,
    ),
    FalEndpoint(
        id="fal-ai/wan/v2.2-5b/image-to-video",
        title="Wan 2.2 5B (720p, 24 fps, frame count sets the length)",
        duration=DurationArg(arg="num_frames", format="num_frames", min=4.0, max=161 / 24,
                             frame_rate=24),
        guidance=RangeArg(arg="guidance_scale", min=1.0, max=10.0),
        steps=RangeArg(arg="num_inference_steps", min=10, max=50),
        negative_prompt_arg="negative_prompt",
        aspect_ratio_arg="aspect_ratio",
        resolution=ResolutionArg(choices={"720p": "1280x720"}),
        fps_arg="frames_per_second",
        seed_arg="seed",
        fixed_args={"interpolator_model": "none", "num_interpolated_frames": 0,
                    "adjust_fps_for_interpolation": False},
        price=Price(per_video=0.08),
        output=OutputShape(width=1280, height=720, fps=24),
        max_concurrency=8,
        typical_seconds=60,
    ),
    FalEndpoint(
        id="fal-ai/veo3.1/fast/image-to-video",
        title="Veo 3.1 Fast (720p, no audio)",
        duration=DurationArg(format="seconds_s", choices=[4, 6, 8]),
        negative_prompt_arg="negative_prompt",
        aspect_ratio_arg="aspect_ratio",
        resolution=ResolutionArg(choices={"720p": "1280x720", "1080p": "1920x1080"}),
        seed_arg="seed",
        fixed_args={"generate_audio": False},
        price=Price(per_second=0.10),
        output=OutputShape(width=1280, height=720, fps=24),
        max_concurrency=2,
        typical_seconds=90,
    ),
    FalEndpoint(
        id="fal-ai/bytedance/seedance/v1/pro/image-to-video",
        title="Seedance 1.0 Pro (1080p)",
        duration=DurationArg(choices=[4, 5, 6, 7, 8, 9, 10]),
        aspect_ratio_arg="aspect_ratio",
        resolution=ResolutionArg(choices={"720p": "1280x720", "1080p": "1920x1080"}),
        seed_arg="seed",
        static_camera_arg="camera_fixed",
        price=Price(per_second=0.124),
        output=OutputShape(width=1920, height=1080, fps=24),
        max_concurrency=4,
        typical_seconds=120,
    ),
)

DEFAULT_PRIMARY = "fal-ai/kling-video/v2.1/standard/image-to-video"
DEFAULT_FALLBACK = "fal-ai/wan/v2.2-5b/image-to-video"

_REGISTERED: dict[str, FalEndpoint] = {}


class EndpointConfigError(ValueError):
    """A user endpoint file that cannot be read or does not describe endpoints."""


def register_endpoint(endpoint: FalEndpoint) -> FalEndpoint:
    """Register (or replace) an endpoint for this process."""
    _REGISTERED[endpoint.id] = endpoint
    return endpoint


def load_endpoints(source: str | Path) -> list[FalEndpoint]:
    """Read endpoint descriptions from a JSON/TOML file, or from inline JSON text."""
    text = str(source).strip()
    if text.startswith(("[", "{")):
        data: object = _parse_json(text, "inline JSON")
        where = "inline JSON"
    else:
        path = Path(text).expanduser()
        where = str(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise EndpointConfigError(f"{ENV_ENDPOINTS}: cannot read {path}: {exc}") from exc
        if path.suffix.lower() == ".toml":
            try:
                data = tomllib.loads(raw)
            except tomllib.TOMLDecodeError as exc:
                raise EndpointConfigError(f"{path}: invalid TOML ({exc})") from exc
        else:
            data = _parse_json(raw, str(path))
    if isinstance(data, dict):
        data = data.get("endpoints", [data] if "id" in data else [])
    if not isinstance(data, list):
        raise EndpointConfigError(f"{where}: expected a list of endpoints")
    endpoints = []
    for index, item in enumerate(data):
        try:
            endpoints.append(FalEndpoint.model_validate(item))
        except ValidationError as exc:
            raise EndpointConfigError(f"{where}: endpoint #{index + 1}: {exc}") from exc
    return endpoints


def _parse_json(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EndpointConfigError(f"{where}: invalid JSON ({exc})") from exc


def _from_env() -> dict[str, FalEndpoint]:
    value = os.environ.get(ENV_ENDPOINTS, "").strip()
    if not value:
        return {}
    sources = [value] if value.startswith(("[", "{")) else value.split(os.pathsep)
    found: dict[str, FalEndpoint] = {}
    for source in filter(None, (s.strip() for s in sources)):
        for endpoint in load_endpoints(source):
            found[endpoint.id] = endpoint
    return found


def all_endpoints() -> dict[str, FalEndpoint]:
    """Built-in endpoints, then the environment's files, then ``register_endpoint`` calls."""
    endpoints = {e.id: e for e in BUILTIN}
    endpoints.update(_from_env())
    endpoints.update(_REGISTERED)
    return endpoints


def get_endpoint(endpoint_id: str) -> FalEndpoint:
    """The endpoint called ``endpoint_id``; ``ValueError`` naming it and the known ids."""
    endpoints = all_endpoints()
    try:
        return endpoints[endpoint_id]
    except KeyError:
        known = ", ".join(sorted(endpoints))
        raise ValueError(
            f"fal endpoint {endpoint_id!r} is not registered; known endpoints: {known} "
            f"(register more with {ENV_ENDPOINTS}=<file.json|file.toml>)") from None
