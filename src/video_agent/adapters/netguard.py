"""Guard against server-side request forgery when fetching a URL someone else wrote.

Only http(s) URLs whose host is a public address are fetched. A host is resolved once per fetch;
every address it resolves to is checked with :mod:`ipaddress` (numeric spellings such as
``2130706433``, ``0x7f.1`` or ``127.1`` and IPv6 forms carrying an IPv4 address are unwrapped
first), and aiohttp connects only to those checked addresses, so a second DNS answer cannot
point the connection elsewhere. Redirects are followed by hand, each hop checked the same way,
at most ``max_redirects`` of them. ``allow_private=True`` lifts the address rule (development
against local servers); the scheme rule and the redirect cap stay. ``trusted_hosts`` lifts it for
named ``(host, port)`` pairs only: a provider's own configured host, say, when it points at a
development server on this machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import urllib.request
from collections.abc import AsyncIterator, Collection, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from ssl import SSLContext

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

IPAddress = IPv4Address | IPv6Address

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
OPT_IN = "private addresses are refused; set allow_private_urls to fetch them"

_NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))
_UNIQUE_LOCAL = IPv6Network("fc00::/7")
_SHARED = IPv4Network("100.64.0.0/10")


class UrlRefused(ValueError):
    """A URL the guard will not fetch; ``reason`` says which rule refused it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address if it spells one in any form a resolver accepts, else None.

    Besides dotted quads and IPv6 this covers the legacy IPv4 spellings that ``inet_aton``
    reads: decimal (``2130706433``), hex (``0x7f.1``), octal (``0177.0.0.1``) and short forms
    (``127.1``); a trailing dot is ignored.
    """
    bare = host.strip("[]").split("%", 1)[0]
    bare = bare[:-1] if bare.endswith(".") else bare
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if bare and all(label[:1].isdigit() for label in bare.split(".")):
        try:
            return IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address carried by an IPv4-mapped, 6to4 or NAT64 IPv6 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is ("a loopback address"), or None."""
    if isinstance(address, IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            kind = address_refusal(inner)
            return f"{kind} (IPv4 {inner} inside IPv6)" if kind else None
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, IPv6Address) and address in _UNIQUE_LOCAL,
         "a unique-local address"),
        (address.is_reserved, "a reserved address"),
        (isinstance(address, IPv4Address) and address in _SHARED, "a shared (CGNAT) address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a globally routable address"),
    )
    return next((kind for matched, kind in checks if matched), None)


def check_scheme(url: URL) -> None:
    if url.scheme not in ("http", "https"):
        raise UrlRefused(f"scheme {url.scheme!r} is not fetched (only http and https)")
    if not url.host:
        raise UrlRefused(f"{url} has no host")


Networks = Sequence[IPv4Network | IPv6Network]


def _refusal(address: IPAddress, exempt: Networks) -> str | None:
    if any(address.version == net.version and address in net for net in exempt):
        return None
    return address_refusal(address)


def is_localhost_name(host: str) -> bool:
    """``localhost`` and ``*.localhost`` always mean this machine (RFC 6761)."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


Trusted = Collection[tuple[str, int]]


def _trusted(host: str, port: int, trusted: Trusted) -> bool:
    return (host.lower().rstrip("."), port) in trusted


def check_literal(url: URL, *, allow_private: bool, exempt: Networks = (),
                  trusted: Trusted = ()) -> None:
    """The checks that need no DNS: the scheme, and the host if it is an address or a
    localhost name."""
    check_scheme(url)
    allow_private = allow_private or _trusted(url.host or "", url.port or 0, trusted)
    if not allow_private and is_localhost_name(url.host or ""):
        raise UrlRefused(f"host {url.host} is a loopback name ({OPT_IN})")
    address = literal_address(url.host or "")
    if address is not None and not allow_private:
        kind = _refusal(address, exempt)
        if kind:
            raise UrlRefused(f"host {url.host} is {kind} ({OPT_IN})")


class PinnedResolver(AbstractResolver):
    """Resolves each host once, refuses it if any address is not public, and gives aiohttp only
    the addresses it checked."""

    def __init__(self, *, allow_private: bool = False, inner: AbstractResolver | None = None,
                 exempt: Networks = (), trusted: Trusted = ()) -> None:
        self.allow_private = allow_private
        self.exempt = tuple(exempt)
        self.trusted = set(trusted)
        self._inner = inner
        self._own_inner: AbstractResolver | None = None
        self._checked: dict[tuple[str, int], list[ResolveResult]] = {}

    async def check(self, host: str, port: int) -> list[ResolveResult]:
        """The checked addresses of ``host``; :class:`UrlRefused` if any is not public."""
        key = (host.lower(), port)
        if key in self._checked:
            return self._checked[key]
        literal = literal_address(host)
        if literal is not None:
            family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            results = [ResolveResult(hostname=host, host=str(literal), port=port, family=family,
                                     proto=0, flags=socket.AI_NUMERICHOST)]
        else:
            if self._inner is None:
                self._inner = self._own_inner = ThreadedResolver()
            results = await self._inner.resolve(host, port, family=socket.AF_UNSPEC)
        if not (self.allow_private or _trusted(host, port, self.trusted)):
            for result in results:
                address = ipaddress.ip_address(result["host"].split("%", 1)[0])
                kind = _refusal(address, self.exempt)
                if kind:
                    said = f"host {host}" if literal is not None and str(literal) == host \
                        else f"host {host} resolves to {address}, which"
                    raise UrlRefused(f"{said} is {kind} ({OPT_IN})")
        self._checked[key] = results
        return results

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self.check(host, port)
        if family in (socket.AF_INET, socket.AF_INET6):
            results = [r for r in results if r["family"] == family]
        return results

    async def close(self) -> None:
        """Closes the system resolver it made; a resolver handed in stays its owner's."""
        if self._own_inner is not None:
            await self._own_inner.close()


class GuardedFetcher:
    """GETs one URL through the guard, following redirects by hand.

    ``resolver`` replaces the system resolver underneath the guard; ``exempt`` lists networks
    treated as public (say, an internal mirror) while every other private address stays refused;
    ``trusted_hosts`` lists ``(host, port)`` pairs fetched whatever they resolve to. ``ssl`` is
    the TLS context (default: the system's). With ``trust_env`` a proxy from the environment
    (``HTTPS_PROXY``, ``NO_PROXY``...) carries the request; the host is still checked here, but
    the proxy resolves it again on its own.
    """

    def __init__(self, *, allow_private: bool = False, timeout_s: float = 30.0,
                 max_redirects: int = MAX_REDIRECTS, resolver: AbstractResolver | None = None,
                 exempt: Networks = (), trusted_hosts: Trusted = (),
                 ssl: SSLContext | bool = True, trust_env: bool = False,
                 sock_read_s: float | None = None) -> None:
        self.allow_private = allow_private
        self.exempt = tuple(exempt)
        self.trusted = frozenset((h.lower().rstrip("."), p) for h, p in trusted_hosts)
        self.timeout_s = timeout_s
        self.sock_read_s = sock_read_s
        self.max_redirects = max_redirects
        self.ssl = ssl
        self.trust_env = trust_env
        self._resolver = resolver

    @contextlib.asynccontextmanager
    async def get(self, url: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """The final (non-redirect) response; :class:`UrlRefused` before connecting to any hop
        the guard refuses, or after ``max_redirects`` redirects."""
        current = URL(url)
        check_literal(current, allow_private=self.allow_private, exempt=self.exempt,
                      trusted=self.trusted)
        resolver = PinnedResolver(allow_private=self.allow_private, inner=self._resolver,
                                  exempt=self.exempt, trusted=self.trusted)
        connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False, ssl=self.ssl)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s, sock_read=self.sock_read_s)
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                for hop in range(self.max_redirects + 1):
                    await self._check_hop(resolver, current, hop)
                    proxy = self._proxy_for(current)
                    if proxy:  # the connection goes to the proxy the environment names
                        via = URL(proxy)
                        resolver.trusted.add(((via.host or "").lower(), via.port or 0))
                    async with session.get(current, allow_redirects=False,
                                           proxy=proxy) as response:
                        location = response.headers.get("Location")
                        if response.status not in REDIRECT_STATUSES or not location:
                            yield response
                            return
                    try:
                        current = current.join(URL(location))
                    except ValueError as exc:
                        raise UrlRefused(
                            f"redirect {hop + 1} to {location!r} is not a URL") from exc
                raise UrlRefused(f"{url} redirected more than {self.max_redirects} times")
        finally:
            await resolver.close()

    def _proxy_for(self, url: URL) -> str | None:
        """The environment's proxy for ``url`` when ``trust_env`` is set and it is not bypassed."""
        if not self.trust_env or urllib.request.proxy_bypass(url.host or ""):
            return None
        return urllib.request.getproxies().get(url.scheme)

    async def _check_hop(self, resolver: PinnedResolver, url: URL, hop: int) -> None:
        try:
            check_literal(url, allow_private=self.allow_private, exempt=self.exempt,
                          trusted=self.trusted)
            await resolver.check(url.host or "", url.port or 0)
        except UrlRefused as exc:
            if hop == 0:
                raise
            raise UrlRefused(f"redirect {hop} to {url}: {exc.reason}") from None
