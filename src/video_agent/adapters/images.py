"""Image source: a scene's still from a local path or an http(s) URL, verified and cached.

Every still is decoded once with Pillow before any provider sees it; the verified bytes are kept in
``<cache>/<sha256>.<ext>`` and a still cache maps URLs to their hash, so a still is fetched once
across runs: ``urls.json`` in the cache folder (``FolderStillCache``), or PostgreSQL shared by
many workers (``video_agent.adapters.postgres.PostgresStillCache``).
URLs pass the SSRF guard (:mod:`video_agent.adapters.netguard`) and local files must resolve
inside the allowed folders.

Thread safety: stills are written atomically under their content hash (two scenes writing the
same still write the same bytes); ``urls.json`` is read, updated and replaced under a
process-wide lock, so scenes fetching different URLs at once never drop each other's entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import aiohttp
from aiohttp.abc import AbstractResolver
from PIL import Image, UnidentifiedImageError
from yarl import URL

from video_agent.adapters.netguard import GuardedFetcher, UrlRefused, check_literal
from video_agent.models import LocalImage

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "TIFF": "tiff", "GIF": "gif"}
MIN_WIDTH, MIN_HEIGHT = 320, 180
_INDEX_LOCK = threading.Lock()
"""Guards the read-modify-write of every folder cache's ``urls.json``."""


class ImageError(Exception):
    """A still that cannot be used; always critical for its scene."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class StillCache(Protocol):
    """Verified stills by source URL, whatever holds them."""

    async def lookup(self, url: str) -> LocalImage | None:
        """The still fetched from ``url`` before, as a local file, or None."""
        ...

    async def remember(self, url: str | None, image: LocalImage, data: bytes) -> None:
        """Keep ``image`` (its verified ``data``), fetched from ``url`` when not None."""
        ...


class FolderStillCache:
    """The embedded still cache: ``urls.json`` beside the content-addressed files."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir

    def _index_path(self) -> Path:
        return self.cache_dir / "urls.json"

    async def lookup(self, url: str) -> LocalImage | None:
        return await asyncio.to_thread(self._cached_url, url)

    async def remember(self, url: str | None, image: LocalImage, data: bytes) -> None:
        if url is not None:
            await asyncio.to_thread(self._remember_url, url, image)

    def _cached_url(self, url: str) -> LocalImage | None:
        try:
            entry = json.loads(self._index_path().read_text())[url]
        except (OSError, ValueError, KeyError):
            return None
        image = LocalImage.model_validate(entry)
        return image if Path(image.path).is_file() else None

    def _remember_url(self, url: str, image: LocalImage) -> None:
        with _INDEX_LOCK:
            try:
                index = json.loads(self._index_path().read_text())
            except (OSError, ValueError):
                index = {}
            index[url] = image.model_dump()
            atomic_write(self._index_path(), json.dumps(index, indent=1).encode())


class ImageSource:
    """Resolves image references to verified local files.

    URLs go through the SSRF guard (:mod:`video_agent.adapters.netguard`): public http(s)
    hosts only unless ``allow_private_urls``. Local files (paths and ``file://`` URLs) must
    resolve, symlinks included, inside ``base_dir`` (the story's folder, which relative paths
    are joined to) or one of ``roots``.
    """

    def __init__(self, cache_dir: Path, *, max_bytes: int = 25 * 1024 * 1024,
                 timeout_s: float = 30.0, base_dir: Path | None = None,
                 roots: Sequence[Path] = (), allow_private_urls: bool = False,
                 resolver: AbstractResolver | None = None,
                 stills: StillCache | None = None) -> None:
        self.cache_dir = cache_dir
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.base_dir = base_dir
        self.stills: StillCache = stills or FolderStillCache(cache_dir)
        self.roots = ([base_dir] if base_dir is not None else []) + [Path(r) for r in roots]
        self.allow_private_urls = allow_private_urls
        self._resolver = resolver

    def check(self, ref: str, *, field: str = "image_url") -> None:
        """The checks a fetch makes that need no network (scheme, a host spelled as an address
        or named localhost, path confinement); host names are resolved and checked only when
        the still is fetched."""
        self._classify(ref, field)

    async def resolve(self, ref: str, *, field: str = "image_url") -> LocalImage:
        url, path = await asyncio.to_thread(self._classify, ref, field)  # stats the file system
        if url is not None:
            return await self._fetch(url, field)
        assert path is not None
        data = await asyncio.to_thread(self._read_local, path, ref, field)
        return await self._keep(data, ref, field, None)

    def _classify(self, ref: str, field: str) -> tuple[str | None, Path | None]:
        """``(url, None)`` for a URL the guard lets through its offline checks, or
        ``(None, path)`` for a confined local file."""
        ref = ref.strip()
        if not ref:
            raise ImageError(field, "is empty")
        if "\x00" in ref:
            raise ImageError(field, "contains a NUL byte")
        try:
            parsed = urlparse(ref)
        except ValueError as exc:  # e.g. an unclosed '[' in the host: "Invalid IPv6 URL"
            raise ImageError(field, f"{ref!r} is not a valid URL ({exc})") from None
        scheme = parsed.scheme.lower()
        if scheme in ("http", "https"):
            try:
                check_literal(URL(ref), allow_private=self.allow_private_urls)
            except (UrlRefused, ValueError) as exc:
                raise ImageError(field, str(exc)) from None
            return ref, None
        if scheme == "file":
            if parsed.netloc not in ("", "localhost"):
                raise ImageError(field, f"{ref} names host {parsed.netloc!r}; file:// URLs "
                                        "may only name local files")
            local = unquote(parsed.path)
            if "\x00" in local:
                raise ImageError(field, "contains a NUL byte")
            return None, self._confined(Path(local), ref, field)
        if scheme and len(scheme) > 1:  # one letter is a Windows drive, not a scheme
            raise ImageError(
                field, f"unsupported scheme {scheme!r} (use http(s), file:// or a path)")
        return None, self._confined(Path(ref).expanduser(), ref, field)

    def _confined(self, path: Path, ref: str, field: str) -> Path:
        """``path`` with symlinks and ``..`` resolved, if that stays inside an allowed root."""
        if not path.is_absolute():
            if self.base_dir is None:
                raise ImageError(field, f"{ref} is a relative path and there is no story "
                                        "folder to resolve it against")
            path = self.base_dir / path
        roots = [root.expanduser().resolve() for root in self.roots]
        if not roots:
            raise ImageError(field, f"{ref}: local stills are refused because no image folder "
                                    "is allowed (set image_roots or story_dir)")
        try:
            resolved = path.resolve(strict=True)
            missing = False
        except FileNotFoundError:
            resolved, missing = path.resolve(), True
        except (OSError, RuntimeError) as exc:
            raise ImageError(field, f"{ref} cannot be resolved "
                                    f"({getattr(exc, 'strerror', None) or exc})") from None
        if not any(resolved.is_relative_to(root) for root in roots):
            where = "is" if str(resolved) == ref else f"resolves to {resolved},"
            raise ImageError(field, f"{ref} {where} outside the allowed image roots "
                                    f"({', '.join(map(str, roots))})")
        if missing:
            raise ImageError(field, f"no such file: {path}")
        return resolved

    def _read_local(self, path: Path, ref: str, field: str) -> bytes:
        if not path.is_file():
            raise ImageError(field, f"{ref} is not a regular file")
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise ImageError(field, f"{size} bytes is over the {self.max_bytes}-byte limit")
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError(field, f"{ref} cannot be read ({exc.strerror or exc})") from None
        return data

    def _cache_key(self, url: str) -> str:
        """Stills fetched with private addresses allowed are remembered apart, so a run without
        the opt-in never reuses one."""
        return f"private:{url}" if self.allow_private_urls else url

    async def _keep(self, data: bytes, ref: str, field: str, url: str | None) -> LocalImage:
        image = await asyncio.to_thread(self._verify_and_cache, data, ref, field)
        await self.stills.remember(None if url is None else self._cache_key(url), image, data)
        return image

    async def _fetch(self, url: str, field: str) -> LocalImage:
        cached = await self.stills.lookup(self._cache_key(url))
        if cached is not None:
            return cached
        fetcher = GuardedFetcher(allow_private=self.allow_private_urls, timeout_s=self.timeout_s,
                                 resolver=self._resolver)
        try:
            async with fetcher.get(url) as response:
                if response.status != 200:
                    raise ImageError(field, f"GET {url} answered HTTP {response.status}")
                ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if ctype and not ctype.startswith("image/") and ctype != "application/octet-stream":
                    raise ImageError(field, f"{url} is {ctype!r}, not an image")
                if (response.content_length or 0) > self.max_bytes:
                    raise ImageError(
                        field, f"{url} is {response.content_length} bytes, over the "
                               f"{self.max_bytes}-byte limit")
                data = bytearray()
                async for chunk in response.content.iter_chunked(1 << 16):
                    data.extend(chunk)
                    if len(data) > self.max_bytes:
                        raise ImageError(field, f"{url} is over the {self.max_bytes}-byte limit")
        except ImageError:
            raise
        except UrlRefused as exc:
            raise ImageError(field, exc.reason) from None
        except TimeoutError as exc:
            raise ImageError(field, f"{url} did not answer within {self.timeout_s:g} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ImageError(field, f"{url} is unreachable ({exc.__class__.__name__}: {exc})") \
                from exc
        return await self._keep(bytes(data), url, field, url)

    # ------------------------------------------------------------------ cache

    def _verify_and_cache(self, data: bytes, ref: str, field: str) -> LocalImage:
        width, height, fmt = verify_image_bytes(data, field)
        digest = hashlib.sha256(data).hexdigest()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        target = self.cache_dir / f"{digest}.{FORMATS[fmt]}"
        if not target.exists():
            atomic_write(target, data)
        return LocalImage(path=str(target), sha256=digest, width=width, height=height,
                          format=fmt, source=ref)


def verify_image_bytes(data: bytes, field: str) -> tuple[int, int, str]:
    """Decode ``data`` fully; return (width, height, format) or raise ``ImageError``."""
    import io

    if not data:
        raise ImageError(field, "the image is empty (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height, fmt = image.width, image.height, image.format or ""
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError) as exc:
        raise ImageError(field, f"not a readable image ({exc})") from exc
    if fmt not in FORMATS:
        raise ImageError(field, f"unsupported image format {fmt!r}")
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise ImageError(
            field, f"{width}x{height} is too small (at least {MIN_WIDTH}x{MIN_HEIGHT})")
    return width, height, fmt


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
