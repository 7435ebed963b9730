"""Turn a provider spec (``local``, ``local:draft``, ``fal:<endpoint id>``) into a provider.

``py:<module>:<factory>`` plugs in a provider of your own: ``factory(context)`` returns any
object with the ``VideoProvider`` shape.

A run builds each spec's provider once (``video_agent.services.RunServices.provider``), so
limits a provider holds (its fal clients) are shared by every scene of the run. The built-in
providers keep no per-call state in the object; a ``py:`` provider is shared by every scene of a
run in the same way and must allow it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from video_agent.adapters.providers.base import VideoProvider

if TYPE_CHECKING:
    from video_agent.context import VideoAgentContext


class ProviderSpecError(ValueError):
    pass


def resolve_provider(spec: str, ctx: VideoAgentContext) -> VideoProvider:
    """The run's provider for ``spec`` (built once per run and spec)."""
    return ctx.services.provider(spec)


def build_provider(spec: str, ctx: VideoAgentContext) -> VideoProvider:
    """A new provider for ``spec``; ``ProviderSpecError`` (a ``ValueError``) names the spec."""
    kind, _, arg = spec.strip().partition(":")
    provider: VideoProvider
    if kind == "local":
        from video_agent.adapters.providers.local import LocalRenderer

        provider = LocalRenderer(arg or "standard", size=ctx.size)
    elif kind == "py":
        provider = _import_factory(arg, spec)(ctx)
    elif kind == "fal":
        if not arg:
            raise ProviderSpecError(f"provider {spec!r}: 'fal:' needs an endpoint id")
        from video_agent.adapters.providers.fal import make_fal_provider

        provider = make_fal_provider(arg, state_dir=ctx.state_dir, key_env=ctx.fal_key_env,
                                     timeout_s=ctx.provider_timeout_s, budget_usd=ctx.budget_usd,
                                     state_db=ctx.state_db)
    else:
        raise ProviderSpecError(
            f"provider {spec!r}: unknown kind {kind!r} (use 'local', 'local:<preset>', "
            "'fal:<endpoint id>' or 'py:<module>:<factory>')")
    return provider


def _import_factory(target: str, spec: str) -> Callable[[VideoAgentContext], VideoProvider]:
    module_name, _, attr = target.rpartition(":")
    if not module_name or not attr:
        raise ProviderSpecError(f"provider {spec!r}: use 'py:<module>:<factory>'")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ProviderSpecError(f"provider {spec!r}: cannot import {target} ({exc})") from exc
    if not callable(factory):
        raise ProviderSpecError(f"provider {spec!r}: {target} is not callable")
    return cast(Callable[["VideoAgentContext"], VideoProvider], factory)
