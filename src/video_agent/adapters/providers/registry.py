"""Turn a provider spec (``local``, ``local:draft``, ``fal:<endpoint id>``) into a provider.

``py:<module>:<factory>`` plugs in a provider of your own: ``factory(context)`` returns any
object with the ``VideoProvider`` shape.

Providers are cached per spec and settings, so limits they hold (a fal endpoint's requests in
flight) are shared by every scene of a run.

Thread safety: scenes resolve their providers from worker threads at the same time; the cache is
read and filled under one lock, so two scenes never build two providers for one spec (which would
split the limits they hold).  The built-in providers keep no per-call state in the object; a
``py:`` provider is shared by every scene of a run in the same way and must allow it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from video_agent.adapters.providers.base import VideoProvider

if TYPE_CHECKING:
    from video_agent.context import VideoAgentContext

_CACHE: dict[tuple[object, ...], VideoProvider] = {}
_CACHE_LOCK = threading.RLock()  # re-entrant: a py: factory may resolve another provider


class ProviderSpecError(ValueError):
    pass


def resolve_provider(spec: str, ctx: VideoAgentContext) -> VideoProvider:
    cache_key = (spec, ctx.resolution, str(ctx.state_dir), ctx.provider_timeout_s,
                 ctx.budget_usd, ctx.fal_key_env, ctx.state_db)
    with _CACHE_LOCK:
        if cache_key not in _CACHE:
            _CACHE[cache_key] = _build(spec, ctx)
        return _CACHE[cache_key]


def _build(spec: str, ctx: VideoAgentContext) -> VideoProvider:
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
    return factory
