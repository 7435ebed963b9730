"""The SSRF guard's address rules: every spelling of a non-public address is refused."""

from __future__ import annotations

import re
import socket
from ipaddress import IPv4Address, IPv4Network, ip_address

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from video_agent.adapters.netguard import (
    PinnedResolver,
    UrlRefused,
    address_refusal,
    check_literal,
    literal_address,
)


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("017700000001", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"),
    ("127.0.0.1.", "127.0.0.1"),
    ("0", "0.0.0.0"),
    ("[::1]", "::1"),
    ("::ffff:127.0.0.1", "::ffff:7f00:1"),
    ("fe80::1%eth0", "fe80::1"),
])
def test_every_numeric_spelling_is_read_as_an_address(host: str, address: str) -> None:
    assert literal_address(host) == ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "cafe", "bad.face", "1.example.com", ""])
def test_names_are_not_addresses(host: str) -> None:
    assert literal_address(host) is None


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "a loopback address"),
    ("127.9.9.9", "a loopback address"),
    ("::1", "a loopback address"),
    ("0.0.0.0", "the unspecified address"),
    ("::", "the unspecified address"),
    ("10.1.2.3", "a private address"),
    ("172.16.0.1", "a private address"),
    ("192.168.1.1", "a private address"),
    ("169.254.169.254", "a link-local address"),
    ("fe80::1", "a link-local address"),
    ("fd00::1", "a unique-local address"),
    ("224.0.0.1", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("100.64.0.1", "a shared (CGNAT) address"),
    ("240.0.0.1", "a reserved address"),
    ("192.0.2.1", "a private address"),  # TEST-NET-1
    ("::ffff:127.0.0.1", "a loopback address (IPv4 127.0.0.1 inside IPv6)"),
    ("::ffff:169.254.169.254", "a link-local address (IPv4 169.254.169.254 inside IPv6)"),
    ("2002:7f00:1::", "a loopback address (IPv4 127.0.0.1 inside IPv6)"),
    ("64:ff9b::7f00:1", "a loopback address (IPv4 127.0.0.1 inside IPv6)"),
    ("64:ff9b::a9fe:a9fe", "a link-local address (IPv4 169.254.169.254 inside IPv6)"),
])
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    assert address_refusal(ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111",
                                     "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ip_address(address)) is None


@pytest.mark.parametrize(("url", "reason"), [
    ("http://2130706433/a.jpg", "host 2130706433 is a loopback address (private addresses "
                                "are refused; set allow_private_urls to fetch them)"),
    ("http://0x7f.1/a.jpg", "host 0x7f.1 is a loopback address"),
    ("https://[::ffff:7f00:1]/", "host ::ffff:7f00:1 is a loopback address (IPv4 127.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "is a link-local address"),
    ("ftp://example.org/a.jpg", "scheme 'ftp' is not fetched (only http and https)"),
])
def test_literal_check_refuses_before_any_lookup(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused) as info:
        check_literal(URL(url), allow_private=False)
    assert reason in info.value.reason
    check_literal(URL(url.replace("ftp", "http")), allow_private=True)


@pytest.mark.parametrize("host", ["localhost", "LocalHost.", "images.localhost"])
def test_localhost_names_are_refused_without_dns(host: str) -> None:
    with pytest.raises(UrlRefused, match=f"host {host.lower()} is a loopback name"):
        check_literal(URL(f"http://{host}:8080/a.jpg"), allow_private=False)
    check_literal(URL(f"http://{host}:8080/a.jpg"), allow_private=True)


def test_exempt_networks_pass_and_nothing_else() -> None:
    exempt = [IPv4Network("127.0.0.2/32")]
    check_literal(URL("http://127.0.0.2/"), allow_private=False, exempt=exempt)
    with pytest.raises(UrlRefused, match="loopback"):
        check_literal(URL("http://127.0.0.1/"), allow_private=False, exempt=exempt)


class Scripted(AbstractResolver):
    """Answers each lookup with the next scripted address list."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.calls += 1
        return [ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET, proto=0,
                              flags=0) for a in self.answers.pop(0)]

    async def close(self) -> None:
        pass


async def test_a_host_is_resolved_once_and_later_answers_cannot_rebind_it() -> None:
    dns = Scripted(["93.184.215.14"], ["127.0.0.1"])
    resolver = PinnedResolver(inner=dns)
    checked = await resolver.check("images.example.com", 80)
    connected = await resolver.resolve("images.example.com", 80, socket.AF_INET)
    assert [r["host"] for r in checked] == [r["host"] for r in connected] == ["93.184.215.14"]
    assert dns.calls == 1


async def test_one_private_answer_refuses_the_host() -> None:
    resolver = PinnedResolver(inner=Scripted(["93.184.215.14", "10.0.0.7"]))
    with pytest.raises(UrlRefused, match=re.escape(
            "images.example.com resolves to 10.0.0.7, which is a private address")):
        await resolver.check("images.example.com", 443)


async def test_numeric_hosts_are_checked_without_dns() -> None:
    dns = Scripted()
    resolver = PinnedResolver(inner=dns)
    with pytest.raises(UrlRefused,
                       match=re.escape("0x7f.1 resolves to 127.0.0.1, which is a loopback")):
        await resolver.resolve("0x7f.1", 80)
    allowed = PinnedResolver(inner=dns, allow_private=True)
    assert [r["host"] for r in await allowed.resolve("0x7f.1", 80)] == ["127.0.0.1"]
    assert dns.calls == 0
    assert literal_address("0x7f.1") == IPv4Address("127.0.0.1")


def test_a_trusted_host_passes_on_its_own_port_only() -> None:
    trusted = [("127.0.0.1", 8443), ("fal.internal", 443)]
    check_literal(URL("https://127.0.0.1:8443/files/a.mp4"), allow_private=False, trusted=trusted)
    with pytest.raises(UrlRefused, match="loopback"):
        check_literal(URL("https://127.0.0.1:8444/files/a.mp4"), allow_private=False,
                      trusted=trusted)
    with pytest.raises(UrlRefused, match="loopback"):
        check_literal(URL("https://127.0.0.2:8443/"), allow_private=False, trusted=trusted)


async def test_a_trusted_name_may_resolve_privately_and_others_may_not() -> None:
    resolver = PinnedResolver(inner=Scripted(["10.0.0.7"], ["10.0.0.8"]),
                              trusted=[("fal.internal", 443)])
    assert [r["host"] for r in await resolver.check("FAL.internal", 443)] == ["10.0.0.7"]
    with pytest.raises(UrlRefused, match=re.escape("10.0.0.8, which is a private address")):
        await resolver.check("fal.internal", 80)


def test_a_proxy_from_the_environment_is_used_only_when_asked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from video_agent.adapters.netguard import GuardedFetcher

    monkeypatch.setenv("https_proxy", "http://10.9.9.9:3128")
    monkeypatch.setenv("no_proxy", "cdn.example.org")
    url = URL("https://v3.fal.media/files/a.mp4")
    assert GuardedFetcher()._proxy_for(url) is None
    assert GuardedFetcher(trust_env=True)._proxy_for(url) == "http://10.9.9.9:3128"
    assert GuardedFetcher(trust_env=True)._proxy_for(URL("https://cdn.example.org/a")) is None
