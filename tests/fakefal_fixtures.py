"""Fixtures around the fake fal server; import them into a test module or a conftest.

``fake_fal_server`` starts one server (HTTPS + CONNECT proxy) for the session in a background
thread. ``fake_fal`` resets it for one test and points the already imported fal-client at it by
patching its module globals (see ``video_agent_dev.fakefal.testing``); a subprocess gets the same
effect from ``server.env()`` alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from video_agent.models import GenerationRequest, LocalImage, MotionSpec, SceneSpec, VideoParams
from video_agent_dev.fakefal import FakeFalServer
from video_agent_dev.fakefal.testing import fal_client_pointed_at


@pytest.fixture(scope="session")
def fake_fal_server() -> Iterator[FakeFalServer]:
    with FakeFalServer() as server:
        yield server


@pytest.fixture
def fake_fal(fake_fal_server: FakeFalServer, tmp_path: Path) -> Iterator[FakeFalServer]:
    fake_fal_server.call(fake_fal_server.fake.reset)
    fake_fal_server.proxied.clear()
    with fal_client_pointed_at(fake_fal_server, fal_home=str(tmp_path / "fal_home")):
        yield fake_fal_server


def make_still(path: Path, *, size: tuple[int, int] = (1024, 576), seed: int = 0) -> LocalImage:
    """A small PNG still with shapes, described as the image source would describe it."""
    image = Image.new("RGB", size, (30 + seed * 40 % 200, 60, 90))
    draw = ImageDraw.Draw(image)
    for i in range(6):
        x = (i * 170 + seed * 37) % size[0]
        draw.ellipse([x, 100 + i * 40, x + 120, 220 + i * 40], fill=(200, 40 * i % 255, 90))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")
    data = path.read_bytes()
    return LocalImage(path=str(path), sha256=hashlib.sha256(data).hexdigest(), width=size[0],
                      height=size[1], format="PNG", source=str(path))


def make_request(image: LocalImage, work_dir: Path, *, story_id: str = "story",
                 scene: str = "1", slot: str = "primary", duration: float = 5.0,
                 prompt: str = "slow pan across the harbour at dawn") -> GenerationRequest:
    params = VideoParams(scene=SceneSpec(content="harbour at dawn", number=int(scene),
                                         image_url=image.path),
                         motion=MotionSpec(type="pan", duration=duration))
    return GenerationRequest(story_id=story_id, scene=scene, slot=slot,  # type: ignore[arg-type]
                             params=params, image=image, prompt=prompt, work_dir=str(work_dir))
