"""The SSRF guard against real loopback servers: every refusal happens before any connection.

A bare TCP listener counts the connections it accepts; the refused fetches must leave it at
zero, and the same fetch with private addresses allowed must reach it (so the count can fail).
An image server on 127.0.0.2, exempted from the rule, stands in for a public host.
"""

from __future__ import annotations

import asyncio
import io
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from PIL import Image

from loopback_fixtures import counting_listener, own_name
from video_agent.adapters.images import ImageError, ImageSource
from video_agent.adapters.netguard import GuardedFetcher, UrlRefused

PUBLIC_STANDIN = [IPv4Network("127.0.0.2/32")]


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (30, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class Listener:
    """Accepts TCP connections, counts them and hangs up."""

    port: int
    connections: int = 0


async def listen(host: str, port: int = 0) -> tuple[Listener, asyncio.Server]:
    listener = Listener(port=0)

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.connections += 1
        writer.close()

    server = await asyncio.start_server(accepted, host, port)
    listener.port = server.sockets[0].getsockname()[1]
    return listener, server


@pytest.fixture
async def counter() -> AsyncIterator[Listener]:
    listener, server = await listen("127.0.0.1")
    async with server:
        yield listener


@dataclass
class Site:
    base: str
    port: int
    requests: list[str]


async def image_site(host: str, port: int = 0) -> tuple[Site, web.AppRunner]:
    """Serves ``/good.jpg``, ``/to?url=...`` (302 there) and ``/hop/<n>`` (302 to n-1, 0 is the
    image; ``/hop/loop`` redirects to itself forever)."""
    requests: list[str] = []
    good = jpeg()

    async def handle(request: web.Request) -> web.StreamResponse:
        requests.append(request.path_qs)
        name = request.match_info["tail"]
        if name == "good.jpg":
            return web.Response(body=good, content_type="image/jpeg")
        if name == "to":
            raise web.HTTPFound(request.query["url"])
        if name == "hop/loop":
            raise web.HTTPFound("/hop/loop")
        if name.startswith("hop/"):
            left = int(name.split("/")[1])
            raise web.HTTPFound(f"/hop/{left - 1}" if left > 0 else "/good.jpg")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return Site(base=f"http://{host}:{bound}", port=bound, requests=requests), runner


@pytest.fixture
async def public_site() -> AsyncIterator[Site]:
    site, runner = await image_site("127.0.0.2")
    yield site
    await runner.cleanup()


class MappedResolver(AbstractResolver):
    """DNS for tests: each lookup of a name takes the next answer scripted for it."""

    def __init__(self, **answers: list[str]) -> None:
        self.answers = {name.replace("_", "."): list(seq) for name, seq in answers.items()}
        self.lookups = 0

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.lookups += 1
        queue = self.answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ResolveResult(hostname=host, host=address, port=port, family=socket.AF_INET,
                              proto=0, flags=0)]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(("host", "kind"), [
    ("127.0.0.1", "a loopback address"),
    ("localhost", "host localhost is a loopback name"),
    ("2130706433", "a loopback address"),
    ("0x7f000001", "a loopback address"),
    ("0x7f.1", "a loopback address"),
    ("0177.0.0.1", "a loopback address"),
    ("127.1", "a loopback address"),
    ("127.0.0.1.", "a loopback address"),
    ("[::ffff:127.0.0.1]", "a loopback address (IPv4 127.0.0.1 inside IPv6)"),
    ("[::ffff:7f00:1]", "a loopback address (IPv4 127.0.0.1 inside IPv6)"),
    ("0.0.0.0", "the unspecified address"),
    ("0", "the unspecified address"),
])
async def test_every_spelling_of_this_machine_is_refused_before_connecting(
        counter: Listener, tmp_path: Path, host: str, kind: str) -> None:
    url = f"http://{host}:{counter.port}/still.jpg"
    with pytest.raises(ImageError) as info:
        await ImageSource(tmp_path / "cache", timeout_s=2).resolve(url)
    assert info.value.field == "image_url"
    assert kind in str(info.value) and "set allow_private_urls to fetch them" in str(info.value)
    assert counter.connections == 0
    assert not (tmp_path / "cache").exists(), "nothing written for a refused still"

    # opted in, the guard lets it through: aiohttp connects (and may retry the GET the listener
    # hung up on), or itself refuses the spellings that are not canonical IPv4
    with pytest.raises(ImageError, match="unreachable") as opted:
        await ImageSource(tmp_path / "cache", timeout_s=2, allow_private_urls=True).resolve(url)
    assert counter.connections >= 1 or "not a canonical IPv4 address" in str(opted.value)


async def test_a_name_the_system_resolves_to_this_machine_is_refused(tmp_path: Path) -> None:
    name, address = own_name()
    with counting_listener(address) as listener:
        url = f"http://{name}:{listener.port}/still.jpg"
        with pytest.raises(ImageError) as info:
            await ImageSource(tmp_path, timeout_s=2).resolve(url)
        assert f"host {name} resolves to {address}, which is a" in str(info.value)
        assert listener.connections == 0
        with pytest.raises(ImageError, match="unreachable"):
            await ImageSource(tmp_path, timeout_s=2, allow_private_urls=True).resolve(url)
        assert listener.connections >= 1


async def test_ipv6_loopback_and_metadata_address_are_refused(tmp_path: Path) -> None:
    listener, server = await listen("::1")
    async with server:
        for url in (f"http://[::1]:{listener.port}/a.jpg",
                    f"http://[0:0:0:0:0:0:0:1]:{listener.port}/a.jpg"):
            with pytest.raises(ImageError, match="is a loopback address"):
                await ImageSource(tmp_path, timeout_s=2).resolve(url)
        assert listener.connections == 0
        with pytest.raises(ImageError, match=re.escape("169.254.169.254 is a link-local address")):
            await ImageSource(tmp_path, timeout_s=2).resolve(
                "http://169.254.169.254/latest/meta-data/iam")


async def test_a_public_looking_name_that_resolves_to_loopback_is_refused(
        counter: Listener, tmp_path: Path) -> None:
    dns = MappedResolver(images_example_com=["127.0.0.1"])
    url = f"http://images.example.com:{counter.port}/a.jpg"
    with pytest.raises(ImageError, match=re.escape(
            "images.example.com resolves to 127.0.0.1, which is a loopback address")):
        await ImageSource(tmp_path, timeout_s=2, resolver=dns).resolve(url)
    assert counter.connections == 0


async def test_the_connection_goes_to_the_address_that_was_checked(
        public_site: Site, tmp_path: Path) -> None:
    # the first answer is the stand-in public host; every later answer rebinds to loopback,
    # where a listener on the same port would see any connection made after a second lookup
    rebound, server = await listen("127.0.0.1", public_site.port)
    async with server:
        dns = MappedResolver(images_example_com=["127.0.0.2", "127.0.0.1"])
        fetcher = GuardedFetcher(resolver=dns, exempt=PUBLIC_STANDIN, timeout_s=5)
        async with fetcher.get(f"http://images.example.com:{public_site.port}/good.jpg") as got:
            assert got.status == 200 and await got.read() == jpeg()
        assert dns.lookups == 1 and rebound.connections == 0
        assert public_site.requests == ["/good.jpg"]


async def test_an_answer_mixing_public_and_private_addresses_is_refused(
        public_site: Site, counter: Listener) -> None:
    class Both(MappedResolver):
        async def resolve(self, host: str, port: int = 0,
                          family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
            return [ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET,
                                  proto=0, flags=0) for a in ("127.0.0.2", "127.0.0.1")]

    fetcher = GuardedFetcher(resolver=Both(), exempt=PUBLIC_STANDIN, timeout_s=5)
    with pytest.raises(UrlRefused, match=re.escape("resolves to 127.0.0.1, which is a loopback")):
        async with fetcher.get(f"http://cdn.example.com:{public_site.port}/good.jpg"):
            pass
    assert public_site.requests == [] and counter.connections == 0


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/x.jpg",
                                    "http://localhost:{port}/x.jpg",
                                    "http://0x7f.1:{port}/x.jpg",
                                    "http://[::ffff:127.0.0.1]:{port}/x.jpg"])
async def test_a_redirect_to_loopback_is_refused_before_connecting(
        public_site: Site, counter: Listener, target: str) -> None:
    target = target.format(port=counter.port)
    fetcher = GuardedFetcher(exempt=PUBLIC_STANDIN, timeout_s=5)
    with pytest.raises(UrlRefused) as info:
        async with fetcher.get(f"{public_site.base}/to?url={target}"):
            pass
    assert info.value.reason.startswith("redirect 1 to http://")
    assert "is a loopback" in info.value.reason
    assert counter.connections == 0 and len(public_site.requests) == 1


async def test_a_redirect_to_another_scheme_is_refused(public_site: Site) -> None:
    fetcher = GuardedFetcher(exempt=PUBLIC_STANDIN, timeout_s=5)
    with pytest.raises(UrlRefused, match="redirect 1 to file:///etc/passwd: scheme 'file' is "
                                         "not fetched"):
        async with fetcher.get(f"{public_site.base}/to?url=file:///etc/passwd"):
            pass


async def test_redirects_are_capped(tmp_path: Path) -> None:
    site, runner = await image_site("127.0.0.1")
    try:
        source = ImageSource(tmp_path / "cache", timeout_s=5, allow_private_urls=True)
        image = await source.resolve(f"{site.base}/hop/4")  # 5 redirects: allowed
        assert image.width == 640 and len(site.requests) == 6
        site.requests.clear()
        with pytest.raises(ImageError, match="redirected more than 5 times") as info:
            await source.resolve(f"{site.base}/hop/loop")
        assert info.value.field == "image_url"
        assert len(site.requests) == 6, "the first request and 5 redirects, then no more"
    finally:
        await runner.cleanup()


async def test_opted_in_fetches_follow_redirects_between_loopback_servers(
        tmp_path: Path) -> None:
    site, runner = await image_site("127.0.0.1")
    try:
        source = ImageSource(tmp_path / "cache", timeout_s=5, allow_private_urls=True)
        image = await source.resolve(f"{site.base}/to?url={site.base}/good.jpg")
        assert image.format == "JPEG" and site.requests[-1] == "/good.jpg"
    finally:
        await runner.cleanup()


async def test_a_still_cached_under_the_opt_in_is_not_reused_without_it(tmp_path: Path) -> None:
    name, address = own_name()
    site, runner = await image_site(address)
    try:
        url = f"http://{name}:{site.port}/good.jpg"
        opted = ImageSource(tmp_path / "cache", timeout_s=5, allow_private_urls=True)
        assert (await opted.resolve(url)).width == 640
        assert (await opted.resolve(url)).width == 640 and len(site.requests) == 1, "cached"
        with pytest.raises(ImageError, match=re.escape(f"{name} resolves to {address}, which")):
            await ImageSource(tmp_path / "cache", timeout_s=5).resolve(url)
        assert len(site.requests) == 1
    finally:
        await runner.cleanup()
