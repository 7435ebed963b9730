"""Checks before a story starts: a provider that cannot work at all stops the run, so no scene is
silently made by another provider than the one asked for.

``preflight`` refuses a run whose primary or fallback is unknown, names a fal endpoint without a
key in the environment, or needs fal's queue host when it cannot be reached (directly, or through
the HTTPS proxy the environment names). A provider that merely fails on one scene still goes to
the fallback; :func:`fallback_note` says so for the scene.
"""

from __future__ import annotations

import socket
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from video_agent.context import VideoAgentContext


class PreflightError(ValueError):
    """One line naming the option and why it cannot work."""


def check_settings(ctx: VideoAgentContext) -> None:
    """The run's settings that need neither a provider, a key nor the network: the resolution,
    where clips go, the state database and the name of the key's variable. Raises
    :class:`PreflightError` naming the setting; run before any scene starts (``preflight``, and
    the story graph's first node)."""
    from video_agent.adapters.providers.fal.provider import resolve_key
    from video_agent.adapters.state_stores import check_state_db
    from video_agent.adapters.storage import open_storage

    checks = (lambda: ctx.size, lambda: open_storage(ctx.storage, ctx.out),
              lambda: check_state_db(ctx.state_db), lambda: resolve_key(ctx.fal_key_env))
    for check in checks:
        try:
            check()
        except ValueError as exc:
            raise PreflightError(str(exc)) from None


def preflight(ctx: VideoAgentContext, *, connect_timeout_s: float = 5.0) -> None:
    """Raise :class:`PreflightError` if a setting is malformed (``check_settings``), or if
    ``ctx.primary`` or ``ctx.fallback`` cannot work. The providers it builds are the run's."""
    from video_agent.adapters.providers.fal.provider import resolve_key
    from video_agent.adapters.providers.registry import resolve_provider

    check_settings(ctx)
    fal_options: list[str] = []
    for option, spec in (("--primary", ctx.primary), ("--fallback", ctx.fallback)):
        if not (spec or "").strip():
            continue
        try:
            resolve_provider(spec, ctx)
        except ValueError as exc:
            raise PreflightError(f"{option}: {exc}") from None
        if spec.strip().startswith("fal:"):
            fal_options.append(option)
    if not fal_options:
        return

    option = fal_options[0]
    if resolve_key(ctx.fal_key_env) is None:  # its name was checked by check_settings
        raise PreflightError(
            f"{option}: no fal.ai key in the environment variable {ctx.fal_key_env} "
            "(set it, or use a local provider)")
    host, port = fal_queue_address()
    reason = unreachable(host, port, connect_timeout_s)
    if reason:
        raise PreflightError(f"{option}: fal.ai is unreachable ({reason})")


def fal_queue_address() -> tuple[str, int]:
    """The host and port fal-client sends queue requests to (its environment included)."""
    from video_agent.adapters.providers.fal.provider import queue_host

    return queue_host()


def unreachable(host: str, port: int, timeout_s: float) -> str | None:
    """Why a TCP connection to ``host:port`` (or to the HTTPS proxy for it) fails; None if it
    connects."""
    target = f"{host}:{port}"
    proxy = urllib.request.getproxies().get("https")
    if proxy and not urllib.request.proxy_bypass(host):
        parts = urllib.parse.urlsplit(proxy)
        host, port = parts.hostname or "", parts.port or 80
        target = f"{target} through the proxy {host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except OSError as exc:
        return f"{target}: {exc.strerror or type(exc).__name__}"


def fallback_note(metadata: dict[str, Any]) -> str | None:
    """"asked for X, made by Y: Z" when a stored scene's clip came from the fallback."""
    if metadata.get("slot") != "fallback":
        return None
    attempts = metadata.get("attempts") or []
    primary = [a for a in attempts if a.get("slot") == "primary"]
    asked = (f"{primary[-1].get('provider')}:{primary[-1].get('model')}" if primary
             else "the primary")
    made = f"{metadata.get('provider')}:{metadata.get('model')}"
    why = None
    for attempt in reversed(primary):
        if attempt.get("error"):
            why = attempt["error"]
        elif attempt.get("outcome") == "quality_fail":
            why = "its clip failed the quality check"
        if why:
            break
    return f"asked for {asked}, made by {made}: {why or 'the primary did not run'}"
