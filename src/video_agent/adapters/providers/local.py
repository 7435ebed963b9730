"""The embedded renderer as a video provider: no network, no key, any 4-10 s duration."""

from __future__ import annotations

import asyncio
import threading
import uuid
from pathlib import Path
from typing import get_args

from video_agent.adapters.providers.base import Progress, ProviderError
from video_agent.adapters.render.pipeline import PRESETS, RenderError, check_size, render_clip
from video_agent.cpu_pool import run_cpu
from video_agent.models import (
    GenerationRequest,
    GenerationResult,
    MotionType,
    ProviderCapabilities,
)


class LocalRenderer:
    """Camera motion over the still, rendered in-process (``standard`` or faster ``draft``)."""

    name = "local"

    def __init__(self, preset: str = "standard", *, size: tuple[int, int] = (1024, 576)) -> None:
        if preset not in PRESETS:
            raise ValueError(f"preset: unknown local renderer preset {preset!r} "
                             f"(use {' or '.join(PRESETS)})")
        check_size(size)
        self.preset = preset
        self.size = size
        self.model = f"embedded-{preset}"
        resolutions = ["1024x576"]
        if f"{size[0]}x{size[1]}" not in resolutions:
            resolutions.append(f"{size[0]}x{size[1]}")
        self.capabilities = ProviderCapabilities(
            durations=None,
            aspect_ratios=["16:9"],
            resolutions=resolutions,
            fps=[24],
            negative_prompt=False,
            camera_controls=list(get_args(MotionType)),
            price_per_second=0.0,
            max_concurrency=1,  # one render already keeps every core busy
        )

    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        """Render the request's still with its planned motion under ``request.work_dir``.

        The render runs in the CPU pool (``video_agent.cpu_pool``); ``progress`` is called
        from its thread.
        """
        params = request.params
        name = f"local-{self.preset}-scene{request.scene}-{uuid.uuid4().hex[:8]}.mp4"
        out = Path(request.work_dir) / name
        cancel = threading.Event()
        try:
            report = await run_cpu(
                render_clip, request.image.path, out, params.motion,
                motion_scale=params.generation.motion_scale, size=self.size,
                fps=self.capabilities.fps[0], preset=self.preset, progress=progress,
                cancel=cancel)
        except asyncio.CancelledError:
            cancel.set()  # a timed-out or cancelled call frees the CPU at the next frame
            raise
        except RenderError as exc:
            raise ProviderError(str(exc), kind="render_error", critical=exc.field == "image",
                                field=exc.field) from exc
        except (ValueError, OSError, RuntimeError) as exc:
            raise ProviderError(f"render: {exc}", kind="render_error") from exc
        args = dict(report.settings)
        args.update(motion=params.motion.model_dump(),
                    motion_scale=params.generation.motion_scale)
        return GenerationResult(
            path=str(report.path), provider=self.name, model=self.model,
            provider_args=args, cost=0.0, elapsed_s=round(report.elapsed_s, 3),
            details=report.details())
