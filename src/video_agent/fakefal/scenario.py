"""Faults and timings the fake fal server injects, per endpoint or for all of them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

VideoVariant = Literal["ok", "broken", "truncated", "off_spec", "small", "short"]


class Scenario(BaseModel):
    """How the fake server treats requests to one endpoint (``"*"``: every endpoint)."""

    model_config = ConfigDict(extra="forbid")

    queue_s: float = Field(default=0.0, ge=0, description="Time in IN_QUEUE before a slot.")
    latency_s: float = Field(default=0.2, ge=0, description="Time IN_PROGRESS.")
    concurrency: int | None = Field(
        default=None, ge=1, description="Account limit: requests running at once; others queue.")
    stuck: bool = Field(default=False, description="Requests stay IN_QUEUE forever.")
    logs: list[str] = Field(default_factory=lambda: ["loading model", "sampling", "encoding"])
    submit_429: int = Field(default=0, ge=0, description="Answer 429 to this many submits.")
    submit_error: int | None = Field(default=None, description="HTTP status for failing submits.")
    submit_error_times: int = Field(default=0, ge=0)
    submit_delay_s: float = Field(default=0.0, ge=0, description="Hang before answering submit.")
    status_error: int | None = None
    status_error_times: int = 0
    malformed_status: bool = Field(default=False, description="Status answers are not JSON.")
    result_error: int | None = Field(default=None, description="HTTP status of a failing result.")
    result_error_times: int = Field(default=0, ge=0, description="0 with result_error: always.")
    gpu_error: bool = Field(default=False, description="Result: out of GPU resources.")
    invalid_image: bool = Field(default=False, description="Result: 422 on image_url.")
    malformed_result: bool = Field(default=False, description="Result JSON without a video.")
    video: VideoVariant = "ok"
    width: int | None = Field(default=None, description="Override the endpoint's output width.")
    height: int | None = None
    fps: int | None = None
    audio: bool | None = None
    download_error_times: int = Field(default=0, ge=0, description="Video GETs answering 500.")
    upload_error: bool = Field(default=False, description="Storage uploads answer 500.")


def parse_assignments(items: list[str]) -> dict[str, object]:
    """``["latency_s=2", "video=off_spec", "stuck=true"]`` -> a dict for ``Scenario``."""
    values: dict[str, object] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"scenario item {item!r}: expected name=value")
        name = name.strip()
        if name not in Scenario.model_fields:
            known = ", ".join(Scenario.model_fields)
            raise ValueError(f"scenario item {item!r}: unknown field {name!r} (known: {known})")
        raw = raw.strip()
        if name == "logs":
            values[name] = [part for part in raw.split("|") if part]
        elif raw.lower() in ("true", "false"):
            values[name] = raw.lower() == "true"
        else:
            values[name] = raw
    return values
