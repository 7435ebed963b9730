"""The provider protocol: what the graph needs from anything that turns a still into a clip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from video_agent.models import GenerationRequest, GenerationResult, ProviderCapabilities

Progress = Callable[[float, str], None]
"""Called with a fraction in [0, 1] and a short message while a provider works."""


class ProviderError(Exception):
    """A provider call that did not produce a clip.

    ``critical`` errors end the scene (bad image, failed upload, no GPU resources); the others
    (timeout, 429/5xx, a queue that does not move) send the scene to the fallback provider.
    """

    def __init__(self, message: str, *, kind: str = "provider_error", critical: bool = False,
                 field: str | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.critical = critical
        self.field = field
        self.request_id = request_id


@runtime_checkable
class VideoProvider(Protocol):
    """An image-to-video backend (the embedded renderer, a fal.ai endpoint, ...)."""

    name: str
    model: str
    capabilities: ProviderCapabilities

    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        """Make a clip for ``request`` under ``request.work_dir``; raise ``ProviderError``."""
        ...
