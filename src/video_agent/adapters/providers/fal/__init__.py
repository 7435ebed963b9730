"""fal.ai image-to-video endpoints through the official ``fal-client``.

The endpoint registry imports nothing of the network stack: ``FalProvider`` (fal-client, aiohttp)
is loaded on first use, so ``video-agent models`` and preflight start fast."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from video_agent.adapters.providers.fal.endpoints import (
    DEFAULT_FALLBACK,
    DEFAULT_PRIMARY,
    FalEndpoint,
    all_endpoints,
    get_endpoint,
    load_endpoints,
    register_endpoint,
)

if TYPE_CHECKING:
    from video_agent.adapters.providers.base import VideoProvider
    from video_agent.adapters.providers.fal.provider import FalProvider


def __getattr__(name: str) -> Any:
    if name == "FalProvider":
        from video_agent.adapters.providers.fal.provider import FalProvider

        return FalProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_fal_provider(endpoint_id: str, *, state_dir: Path, key_env: str = "FAL_KEY",
                      timeout_s: float, budget_usd: float | None,
                      state_db: str | None = None) -> VideoProvider:
    """A provider for a registered endpoint; ``ValueError`` (listing known ids) otherwise.

    A missing key is reported by ``generate`` (``ProviderError`` kind ``missing_key``), so a run
    without a key still reaches its fallback. ``state_db`` (a PostgreSQL DSN) puts the request
    ledger and the upload cache in that database instead of SQLite under ``state_dir``.
    """
    from video_agent.adapters.providers.fal.provider import FalProvider

    return FalProvider(get_endpoint(endpoint_id), state_dir=Path(state_dir), key_env=key_env,
                       timeout_s=timeout_s, budget_usd=budget_usd, state_db=state_db)


__all__ = [
    "DEFAULT_FALLBACK",
    "DEFAULT_PRIMARY",
    "FalEndpoint",
    "FalProvider",
    "all_endpoints",
    "get_endpoint",
    "load_endpoints",
    "make_fal_provider",
    "register_endpoint",
]
