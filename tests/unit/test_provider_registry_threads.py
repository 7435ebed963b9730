"""Scenes resolving one provider spec from several threads at once share one provider."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from video_agent.adapters.providers.local import LocalRenderer
from video_agent.adapters.providers.registry import resolve_provider
from video_agent.context import VideoAgentContext

BUILT: list[int] = []


def slow_factory(ctx: VideoAgentContext) -> LocalRenderer:
    """A provider whose construction takes a while (opening files, reading settings)."""
    BUILT.append(threading.get_ident())
    time.sleep(0.2)
    return LocalRenderer("draft")


def test_concurrent_resolves_of_one_spec_build_one_provider(tmp_path: Path) -> None:
    BUILT.clear()
    ctx = VideoAgentContext(output_dir=str(tmp_path))
    spec = f"py:{__name__}:slow_factory"
    start = threading.Barrier(6)

    def resolve(_: int) -> object:
        start.wait(timeout=30)
        return resolve_provider(spec, ctx)

    with ThreadPoolExecutor(6) as pool:
        providers = list(pool.map(resolve, range(6)))
    assert len(BUILT) == 1, f"built {len(BUILT)} providers for one spec"
    assert all(p is providers[0] for p in providers)
