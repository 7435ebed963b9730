"""Providers that misbehave on purpose, plugged in as ``py:providers_for_tests:<name>``."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from video_agent.adapters.providers.base import Progress, ProviderError
from video_agent.adapters.render import render_clip
from video_agent.context import VideoAgentContext
from video_agent.models import GenerationRequest, GenerationResult, ProviderCapabilities


class _Base:
    name = "test"
    capabilities = ProviderCapabilities(camera_controls=["push_in", "pan", "static"])

    def __init__(self, model: str) -> None:
        self.model = model


class _Unavailable(_Base):
    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        progress(0.2, "queued")
        raise ProviderError("HTTP 503 from the model server", kind="server_error")


class _OutOfGpu(_Base):
    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        raise ProviderError("out of GPU resources", kind="resources", critical=True)


class _BrokenClip(_Base):
    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        path = Path(request.work_dir) / "broken.mp4"
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000)
        return GenerationResult(path=str(path), provider=self.name, model=self.model)


class _Slow(_Base):
    """Works for ``SLOW_S`` seconds (the event loop free, as a remote provider leaves it), then
    renders the clip with the embedded renderer; ``slow_calls`` keeps when each wait ended."""

    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        await asyncio.sleep(SLOW_S)
        slow_calls.append(time.perf_counter())
        path = Path(request.work_dir) / "slow.mp4"
        await asyncio.to_thread(render_clip, request.image.path, path, request.params.motion)
        return GenerationResult(path=str(path), provider=self.name, model=self.model)


SLOW_S = 1.5
slow_calls: list[float] = []


class _Crashing(_Base):
    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        raise RuntimeError("bug in a provider")


class _Blocking(_Base):
    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        time.sleep(0.01)  # on purpose: a blocking call on the event loop
        raise ProviderError("a blocking-call detector would have stopped this", kind="bug")


def unavailable(ctx: VideoAgentContext) -> _Unavailable:
    return _Unavailable("unavailable")


def out_of_gpu(ctx: VideoAgentContext) -> _OutOfGpu:
    return _OutOfGpu("out-of-gpu")


def broken_clip(ctx: VideoAgentContext) -> _BrokenClip:
    return _BrokenClip("broken-clip")


def crashing(ctx: VideoAgentContext) -> _Crashing:
    return _Crashing("crashing")


def blocking(ctx: VideoAgentContext) -> _Blocking:
    return _Blocking("blocking")


def slow(ctx: VideoAgentContext) -> _Slow:
    return _Slow("slow")
