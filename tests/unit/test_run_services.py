"""A run's adapters are built once from its context and shared by its scenes; another run (another
context) gets its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from conftest import still
from video_agent.adapters.providers.base import Progress, ProviderError
from video_agent.adapters.providers.fal import DEFAULT_PRIMARY
from video_agent.adapters.providers.fal.provider import FalProvider
from video_agent.adapters.providers.registry import ProviderSpecError, resolve_provider
from video_agent.context import VideoAgentContext
from video_agent.graph import build_story_graph
from video_agent.models import GenerationRequest, GenerationResult, ProviderCapabilities


def test_one_context_builds_its_services_once(tmp_path: Path) -> None:
    ctx = VideoAgentContext(output_dir=str(tmp_path), story_dir=str(tmp_path))
    services = ctx.services
    assert ctx.services is services
    assert services.storage is ctx.services.storage
    assert services.images is services.images and services.images.base_dir == tmp_path
    assert resolve_provider("local:draft", ctx) is services.provider("local:draft")
    assert services.provider("local:draft") is not services.provider("local")


def test_another_run_gets_its_own_providers(tmp_path: Path) -> None:
    one = VideoAgentContext(output_dir=str(tmp_path))
    two = VideoAgentContext(output_dir=str(tmp_path))
    assert one.services is not two.services
    assert one.services.provider("local") is not two.services.provider("local")


def test_a_bad_spec_is_refused_naming_it_and_nothing_is_kept(tmp_path: Path) -> None:
    ctx = VideoAgentContext(output_dir=str(tmp_path))
    with pytest.raises(ProviderSpecError, match="provider 'nonsense': unknown kind"):
        ctx.services.provider("nonsense")
    with pytest.raises(ProviderSpecError, match="unknown kind"):
        ctx.services.provider("nonsense")


def test_a_bad_storage_setting_fails_when_the_services_are_built(tmp_path: Path) -> None:
    ctx = VideoAgentContext(output_dir=str(tmp_path), storage="ftp://nowhere")
    with pytest.raises(ValueError, match="storage"):
        _ = ctx.services


def test_a_fal_provider_keeps_one_client_per_loop_and_key(tmp_path: Path) -> None:
    provider = VideoAgentContext(output_dir=str(tmp_path)).services.provider(
        f"fal:{DEFAULT_PRIMARY}")
    assert isinstance(provider, FalProvider)

    async def clients() -> tuple[object, object, object]:
        return provider.client_for("k1"), provider.client_for("k1"), provider.client_for("k2")

    a, b, c = asyncio.run(clients())
    assert a is b and a is not c
    again, _, _ = asyncio.run(clients())  # another loop: a client cannot outlive its own
    assert again is not a
    other = VideoAgentContext(output_dir=str(tmp_path)).services.provider(
        f"fal:{DEFAULT_PRIMARY}")
    assert isinstance(other, FalProvider)

    async def both_runs() -> tuple[object, object]:
        return provider.client_for("k1"), other.client_for("k1")

    mine, theirs = asyncio.run(both_runs())
    assert mine is not theirs, "each run keeps its own client"


BUILT: list[VideoAgentContext] = []


class _Busy:
    name, model = "test", "busy"
    capabilities = ProviderCapabilities(camera_controls=["push_in", "pan", "static"])

    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        raise ProviderError("HTTP 503 from the model server", kind="server_error")


def counted(ctx: VideoAgentContext) -> _Busy:
    BUILT.append(ctx)
    return _Busy()


async def test_every_scene_of_a_run_shares_one_provider_and_the_next_run_builds_its_own(
        tmp_path: Path) -> None:
    BUILT.clear()
    scenes = {str(n): {"scene_number": n, "scene_content": f"Scene {n}: hills.",
                       "image_path": str(still(tmp_path / f"s{n}.jpg", seed=n))}
              for n in (1, 2, 3)}
    context = {"output_dir": str(tmp_path / "out"), "story_dir": str(tmp_path),
               "primary": f"py:{__name__}:counted", "fallback": ""}  # as a server sends it
    graph = build_story_graph()
    first = await graph.ainvoke({"story_id": "shared", "scenes": scenes}, context=context)
    assert sorted(first["errors"]) == ["1", "2", "3"]
    assert all("no fallback provider" in e.message for e in first["errors"].values())
    assert len(BUILT) == 1, f"built {len(BUILT)} providers for one spec in one run"
    await graph.ainvoke({"story_id": "shared", "scenes": scenes}, context=context)
    assert len(BUILT) == 2 and BUILT[0] is not BUILT[1]


def test_nodes_of_a_run_without_a_context_object_share_one_set_of_services(
        tmp_path: Path) -> None:
    """Studio without a context, or a client sending a plain dict: every node resolves the same
    context, so the run's provider limits and stores are not rebuilt at each node."""
    from types import SimpleNamespace

    from video_agent.video_agent_node.common import context_of

    settings = {"output_dir": str(tmp_path), "primary": "local:draft"}
    first = context_of(SimpleNamespace(context=dict(settings)))
    again = context_of(SimpleNamespace(context=dict(settings)))
    assert first is again and first.services is again.services
    assert context_of(None) is context_of(SimpleNamespace(context=None))
    other = context_of(SimpleNamespace(context={**settings, "primary": "local"}))
    assert other is not first and other.primary == "local"
    with pytest.raises(TypeError, match="nonsense"):
        context_of(SimpleNamespace(context={"nonsense": 1}))
