"""The image source against a real HTTP server on loopback and real files."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from loopback import loopback_server
from video_agent.adapters.images import ImageError, ImageSource


def jpeg(size: tuple[int, int] = (640, 360)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, dict[str, int]]]:
    hits: dict[str, int] = {}
    good = jpeg()

    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        hits[name] = hits.get(name, 0) + 1
        if name == "good.jpg":
            return web.Response(body=good, content_type="image/jpeg")
        if name == "page.html":
            return web.Response(text="<html></html>", content_type="text/html")
        if name == "tiny.png":
            buffer = io.BytesIO()
            Image.new("RGB", (64, 64)).save(buffer, "PNG")
            return web.Response(body=buffer.getvalue(), content_type="image/png")
        if name == "junk.jpg":
            return web.Response(body=b"\xff\xd8 not really a jpeg", content_type="image/jpeg")
        if name == "huge.jpg":
            response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            await response.prepare(request)
            for _ in range(64):
                await response.write(b"\0" * 65536)
            return response
        if name == "slow.jpg":
            await asyncio.sleep(5)
            return web.Response(body=good, content_type="image/jpeg")
        return web.Response(status=404)

    async with loopback_server(handle) as base:
        yield base, hits


async def test_fetches_verifies_and_caches_by_content(server, tmp_path: Path) -> None:
    base, hits = server
    source = ImageSource(tmp_path / "cache", allow_private_urls=True)
    image = await source.resolve(f"{base}/good.jpg")
    assert (image.width, image.height, image.format) == (640, 360, "JPEG")
    assert Path(image.path).read_bytes() == jpeg()
    again = await ImageSource(tmp_path / "cache", allow_private_urls=True).resolve(
        f"{base}/good.jpg")
    assert again.sha256 == image.sha256
    assert hits["good.jpg"] == 1, "a second run must use the cache, not the network"


@pytest.mark.parametrize(("name", "reason"), [
    ("page.html", "'text/html', not an image"),
    ("tiny.png", "too small"),
    ("junk.jpg", "not a readable image"),
    ("missing.jpg", "HTTP 404"),
    ("huge.jpg", "byte limit"),
    ("slow.jpg", "did not answer within"),
])
async def test_bad_urls_are_field_errors(server, tmp_path: Path, name: str, reason: str) -> None:
    base, _ = server
    source = ImageSource(tmp_path / "cache", max_bytes=1 << 20, timeout_s=1.0,
                         allow_private_urls=True)
    with pytest.raises(ImageError) as info:
        await source.resolve(f"{base}/{name}", field="image_url")
    assert info.value.field == "image_url"
    assert reason in str(info.value)
    assert not list((tmp_path / "cache").glob("*.part")), "nothing half-written"


async def test_unreachable_host_and_bad_schemes(tmp_path: Path) -> None:
    source = ImageSource(tmp_path, timeout_s=2.0, allow_private_urls=True)
    with pytest.raises(ImageError, match="unreachable"):
        await source.resolve("http://127.0.0.1:9/nothing.jpg")
    with pytest.raises(ImageError, match="unsupported scheme 'ftp'"):
        await source.resolve("ftp://example.org/a.jpg")
    with pytest.raises(ImageError, match="is empty"):
        await source.resolve("   ", field="image_path")


async def test_local_paths_and_file_uris(tmp_path: Path) -> None:
    still = tmp_path / "still.jpg"
    still.write_bytes(jpeg((1280, 720)))
    source = ImageSource(tmp_path / "cache", base_dir=tmp_path)
    by_path = await source.resolve("still.jpg", field="image_path")
    by_uri = await source.resolve(still.as_uri())
    assert by_path.sha256 == by_uri.sha256 and by_path.width == 1280
    with pytest.raises(ImageError, match="no such file") as info:
        await source.resolve("missing.jpg", field="image_path")
    assert info.value.field == "image_path"
