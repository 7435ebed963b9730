"""Faults and timings the fake fal server injects, per endpoint or for all of them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

VideoVariant = Literal["ok", "broken", "truncated", "off_spec", "small", "short"]

FaultKind = Literal[
    "submit_429", "submit_5xx", "submit_hang",
    "status_5xx", "status_hang", "status_malformed",
    "result_5xx", "result_hang", "result_malformed", "result_no_video",
    "video_truncated", "video_broken", "video_off_spec", "video_small", "video_short",
    "download_5xx", "download_slow", "download_reset",
]
"""Random faults, named ``<stage>_<what>``: the stage is the call they hit."""
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)


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
    video_url: str | None = Field(
        default=None, description="Answer this as the result's video URL (a hostile result).")
    upload_error: bool = Field(default=False, description="Storage uploads answer 500.")
    fault_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of submissions drawn to meet a fault.")
    fault_kinds: list[FaultKind] = Field(
        default_factory=lambda: list(FAULT_KINDS), description="Faults to draw from.")
    fault_seed: int = Field(default=0, description="Seed of the draws.")
    fault_persist: float = Field(
        default=0.5, ge=0, le=1,
        description="Share of drawn faults that hit every call of their stage for that request "
                    "(the others hit its first call only).")
    hang_s: float = Field(default=3600.0, ge=0, description="How long a hang holds its answer.")
    slow_bytes_per_s: int = Field(
        default=256 * 1024, ge=1024, description="Throughput of a slow download.")


@dataclass(frozen=True)
class Fault:
    """The fault one submission drew; ``persistent``: every call of its stage, not the first."""

    kind: FaultKind
    persistent: bool

    @property
    def stage(self) -> str:
        return self.kind.split("_", 1)[0]


def draw_fault(scenario: Scenario, endpoint: str, body: bytes, ordinal: int) -> Fault | None:
    """The fault of the ``ordinal``-th submission of ``body`` to ``endpoint``, if any.

    A pure function of the seed and the submission, so a run meets the same faults whatever order
    its concurrent requests arrive in, and a retried submission draws afresh.
    """
    if not scenario.fault_rate or not scenario.fault_kinds:
        return None
    digest = hashlib.sha256(
        f"{scenario.fault_seed}|{endpoint}|{ordinal}|".encode() + body).digest()
    if int.from_bytes(digest[:8]) / 2**64 >= scenario.fault_rate:
        return None
    kind = scenario.fault_kinds[int.from_bytes(digest[8:12]) % len(scenario.fault_kinds)]
    return Fault(kind, int.from_bytes(digest[12:16]) / 2**32 < scenario.fault_persist)


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
        if name in ("logs", "fault_kinds"):
            values[name] = [part for part in raw.split("|") if part]
        elif raw.lower() in ("true", "false"):
            values[name] = raw.lower() == "true"
        else:
            values[name] = raw
    return values
