"""The adapters a run's nodes share, built once per run from its context and reached through
``runtime.context.services``: clip storage, the state stores (fal ledger, still cache), the
still fetcher and one provider per spec.

One provider per spec means limits a provider holds (its fal client, requests in flight) are
shared by every scene of the run. Thread safety: scenes resolve providers and stores from worker
threads at once; each is built under one lock (re-entrant: a ``py:`` factory may resolve
another provider), so two scenes never build two of the same.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from video_agent.adapters.images import ImageSource
from video_agent.adapters.providers.base import VideoProvider
from video_agent.adapters.providers.registry import build_provider
from video_agent.adapters.state_stores import StateStores, state_stores
from video_agent.adapters.storage import SceneStorage, open_storage

if TYPE_CHECKING:
    from video_agent.context import VideoAgentContext


class RunServices:
    """Built by ``VideoAgentContext.services`` on first use; storage is opened at once, so a bad
    ``storage`` setting fails when the services are built."""

    def __init__(self, ctx: VideoAgentContext) -> None:
        self._ctx = ctx
        self._lock = threading.RLock()
        self._providers: dict[str, VideoProvider] = {}
        self._stores: StateStores | None = None
        self._images: ImageSource | None = None
        self.storage: SceneStorage = open_storage(ctx.storage, ctx.out,
                                                  public_base_url=ctx.public_base_url)

    def provider(self, spec: str) -> VideoProvider:
        """The run's provider for ``spec``, built on first use (``ValueError`` naming the spec
        when it cannot be)."""
        with self._lock:
            if spec not in self._providers:
                self._providers[spec] = build_provider(spec, self._ctx)
            return self._providers[spec]

    @property
    def stores(self) -> StateStores:
        """The fal request ledger and the still cache (SQLite and folders, or PostgreSQL)."""
        with self._lock:
            if self._stores is None:
                self._stores = state_stores(self._ctx.state_dir, self._ctx.state_db)
            return self._stores

    @property
    def images(self) -> ImageSource:
        """Fetches and verifies the scenes' stills into ``.state/images``."""
        with self._lock:
            if self._images is None:
                ctx = self._ctx
                self._images = ImageSource(
                    ctx.state_dir / "images", max_bytes=ctx.image_max_bytes,
                    timeout_s=ctx.image_timeout_s,
                    base_dir=Path(ctx.story_dir) if ctx.story_dir else None,
                    stills=self.stores.stills, roots=[Path(r) for r in ctx.image_roots],
                    allow_private_urls=ctx.allow_private_urls)
            return self._images
