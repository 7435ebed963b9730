"""Stills go to fal's storage once per content hash; the URL is remembered across runs.

Thread safety: the lock that keeps two scenes from uploading one still at once is an
``asyncio.Lock`` per event loop and content hash (an asyncio lock belongs to one loop); the table
of those locks is filled under a thread lock, as loops in other threads may use it at once.  The
remembered URLs live in the ledger (SQLite: a connection per operation; PostgreSQL: a pool per
event loop).
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import threading
import weakref
from pathlib import Path

import fal_client
import fal_client.client as fal_http

from video_agent.adapters.providers.base import ProviderError
from video_agent.adapters.providers.fal.errors import classify
from video_agent.adapters.providers.fal.ledger_base import UploadCache
from video_agent.models import LocalImage

DEFAULT_MAX_AGE_S = 6 * 3600.0
"""How long an uploaded still's URL is reused (fal keeps uploads far longer)."""

_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())
_LOCKS_GUARD = threading.Lock()


def storage_host() -> str:
    """Where uploads go now (fal-client's module settings), so caches never cross servers."""
    return f"{fal_http.CDN_URL}|{fal_http.REST_URL}"


def data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _lock(sha256: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    with _LOCKS_GUARD:
        locks = _LOCKS.setdefault(loop, {})
        return locks.setdefault(sha256, asyncio.Lock())


class ImageUploader:
    """Returns a URL an endpoint can read for a local still.

    Stills up to ``data_uri_max_bytes`` go inline as data URIs (no upload at all); larger ones
    are uploaded with ``upload_file`` once per content hash and storage host.
    """

    def __init__(self, ledger: UploadCache, *, data_uri_max_bytes: int = 0,
                 max_age_s: float = DEFAULT_MAX_AGE_S) -> None:
        self.ledger = ledger
        self.data_uri_max_bytes = data_uri_max_bytes
        self.max_age_s = max_age_s

    async def url_for(self, client: fal_client.AsyncClient, image: LocalImage,
                      *, field: str = "image_url", key: str | None = None) -> tuple[str, str]:
        """(url, how) where how is ``data_uri``, ``cached`` or ``uploaded``."""
        path = Path(image.path)
        size = await asyncio.to_thread(lambda: path.stat().st_size if path.is_file() else None)
        if size is None:
            raise ProviderError(f"{field}: the verified still {path} is gone", kind="upload",
                                critical=True, field=field)
        if size <= self.data_uri_max_bytes:
            return await asyncio.to_thread(data_uri, path), "data_uri"
        host = storage_host()
        async with _lock(image.sha256):
            url = await self.ledger.upload_url(image.sha256, host, self.max_age_s)
            if url:
                return url, "cached"
            try:
                url = await client.upload_file(path)
            except Exception as exc:
                err = classify(exc, where="upload", image_arg=field, key=key)
                raise ProviderError(f"{field}: upload of the still failed ({err})",
                                    kind="upload", critical=True, field=field) from exc
            await self.ledger.remember_upload(image.sha256, host, url)
            return url, "uploaded"
