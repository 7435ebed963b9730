"""``FalProvider``: one fal.ai image-to-video endpoint behind the ``VideoProvider`` protocol.

The call, step by step: read the ledger (a finished request is downloaded again, a submitted one
is resumed by its id), upload the still once per content hash, reserve the estimated cost under
the budget, submit, record the request id durably, follow the queue (position, logs) until the
result, then stream the video into the work folder. fal-client retries 429/ingress errors itself;
this module only retries what it does not (a transient 5xx or garbled answer on the result, the
download). Every call to fal is bounded: a status poll or result fetch that hangs is abandoned
after ``poll_timeout_s`` and tried again, and nothing outlives the provider's deadline.

Thread safety: a fal ``AsyncClient`` (its HTTP connections and locks) and the semaphores that
limit requests in flight belong to one event loop, so they are kept per loop, never shared
between loops. The clients belong to the provider (one provider per run and spec, so one client
per run, loop and key), under the provider's lock; the semaphores and the rate-limit cooldown
are the process's (every run on the machine shares an endpoint's limits), under one module lock,
since loops in other threads (a server, tests, ``asyncio.run`` in a worker) use them at once.
Besides its clients the provider holds settings, the ledger (SQLite: a connection per operation;
PostgreSQL: a pool per event loop) and the uploader.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import ssl
import threading
import time
import urllib.parse
import weakref
from collections import deque
from pathlib import Path
from typing import Any

import aiohttp
import fal_client
from fal_client import AsyncRequestHandle, Completed, InProgress, Queued

from video_agent import faultpoints
from video_agent.adapters.netguard import OPT_IN, GuardedFetcher, UrlRefused
from video_agent.adapters.providers.base import Progress, ProviderError
from video_agent.adapters.providers.fal import ledger as states
from video_agent.adapters.providers.fal.endpoints import FalEndpoint
from video_agent.adapters.providers.fal.errors import classify, redact
from video_agent.adapters.providers.fal.ledger import Entry, request_key
from video_agent.adapters.providers.fal.mapping import (
    clip_seconds,
    fingerprint,
    map_arguments,
    public_args,
)
from video_agent.adapters.providers.fal.uploads import ImageUploader, storage_host
from video_agent.models import GenerationRequest, GenerationResult

_Loop = asyncio.AbstractEventLoop
_SLOTS: weakref.WeakKeyDictionary[_Loop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary())
_COOLDOWN: dict[str, tuple[float, float]] = {}
"""endpoint id -> (monotonic time before which nothing is submitted, current backoff)."""
_TABLES_LOCK = threading.Lock()
"""Guards ``_SLOTS`` and ``_COOLDOWN``."""

MAX_BACKOFF_S = 60.0
_TRANSIENT = ("timeout", "connection", "server_error", "rate_limited", "protocol")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def resolve_key(key_env: str = "FAL_KEY") -> str | None:
    """The fal key from the environment variable named ``key_env``.

    Only the default ``FAL_KEY`` also accepts fal-client's ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``
    pair; a variable named on purpose must itself hold the key. ``ValueError`` for a name that
    cannot be an environment variable.
    """
    if not _ENV_NAME.fullmatch(key_env or ""):
        raise ValueError(f"fal_key_env: {key_env!r} is not an environment variable name")
    if value := os.environ.get(key_env, "").strip():
        return value
    if key_env != "FAL_KEY":
        return None
    key_id, secret = os.environ.get("FAL_KEY_ID"), os.environ.get("FAL_KEY_SECRET")
    return f"{key_id}:{secret}" if key_id and secret else None


def endpoint_slots(endpoint_id: str, limit: int) -> asyncio.Semaphore:
    """The process-wide limit on requests in flight for one endpoint (per event loop)."""
    loop = asyncio.get_running_loop()
    with _TABLES_LOCK:
        slots = _SLOTS.setdefault(loop, {})
        if endpoint_id not in slots:
            slots[endpoint_id] = asyncio.Semaphore(limit)
        return slots[endpoint_id]


def _note_rate_limited(endpoint_id: str) -> None:
    with _TABLES_LOCK:
        _, backoff = _COOLDOWN.get(endpoint_id, (0.0, 0.0))
        backoff = min(MAX_BACKOFF_S, max(1.0, backoff * 2))
        _COOLDOWN[endpoint_id] = (time.monotonic() + backoff, backoff)


def _clear_cooldown(endpoint_id: str) -> None:
    with _TABLES_LOCK:
        _COOLDOWN.pop(endpoint_id, None)


def _cooldown_until(endpoint_id: str) -> float:
    with _TABLES_LOCK:
        return _COOLDOWN.get(endpoint_id, (0.0, 0.0))[0]


def queue_host() -> tuple[str, int]:
    """The host and port fal-client sends queue requests to (its environment included). Clips
    may come from it whatever it resolves to (a development server on this machine, say);
    every other host must be public."""
    parts = urllib.parse.urlsplit(fal_client.client.QUEUE_URL_FORMAT)
    return parts.hostname or "", parts.port or 443


def _ssl_context() -> ssl.SSLContext:
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    return ssl.create_default_context(cafile=cafile, capath=capath)


def _video_url(result: dict[str, Any]) -> str:
    video = result.get("video")
    if video is None and isinstance(result.get("videos"), list) and result["videos"]:
        video = result["videos"][0]
    url = video.get("url") if isinstance(video, dict) else video
    if not isinstance(url, str) or not url:
        raise ProviderError("fal result has no video URL (expected video.url)",
                            kind="protocol")
    return url


POLL_SHARE = 0.1
"""A status poll waits this share of the time the request has taken so far."""
POLL_FIRST_S = 0.1
"""The shortest wait between two status polls."""


def poll_delay(elapsed_s: float, longest_s: float) -> float:
    """Seconds to wait before the next status poll of a request ``elapsed_s`` old.

    A tenth of its age, between ``POLL_FIRST_S`` and ``longest_s``: a request that takes a few
    seconds is seen finished within about a tenth of its time, and one that takes minutes is
    polled no more often than every ``longest_s``.
    """
    return min(longest_s, max(POLL_FIRST_S, POLL_SHARE * elapsed_s))


class FalProvider:
    """A fal.ai endpoint as a ``VideoProvider`` (``name`` "fal", ``model`` the endpoint id)."""

    name = "fal"

    def __init__(self, endpoint: FalEndpoint, *, state_dir: Path, key_env: str = "FAL_KEY",
                 timeout_s: float, budget_usd: float | None, poll_interval_s: float = 0.5,
                 stuck_queue_s: float | None = None, data_uri_max_bytes: int = 0,
                 download_max_bytes: int = 512 * 1024 * 1024, download_timeout_s: float = 120.0,
                 download_attempts: int = 3, result_attempts: int = 3,
                 retry_delay_s: float = 0.5, state_db: str | None = None,
                 poll_timeout_s: float | None = None) -> None:
        self.endpoint = endpoint
        self.model = endpoint.id
        self.capabilities = endpoint.capabilities
        self.state_dir = Path(state_dir)
        self.key_env = key_env
        self.timeout_s = timeout_s
        self.budget_usd = budget_usd
        self.poll_interval_s = poll_interval_s
        self.stuck_queue_s = stuck_queue_s if stuck_queue_s is not None else min(
            300.0, timeout_s)
        self.download_max_bytes = download_max_bytes
        self.download_timeout_s = download_timeout_s
        self.download_attempts = download_attempts
        self.result_attempts = result_attempts
        self.retry_delay_s = retry_delay_s
        self.poll_timeout_s = poll_timeout_s if poll_timeout_s is not None else max(
            2.0, min(30.0, timeout_s / 4))
        from video_agent.adapters.state_stores import state_stores  # it imports this package

        self.ledger = state_stores(self.state_dir, state_db).ledger
        self.uploader = ImageUploader(self.ledger, data_uri_max_bytes=data_uri_max_bytes)
        self._clients: weakref.WeakKeyDictionary[_Loop, dict[str, fal_client.AsyncClient]] = (
            weakref.WeakKeyDictionary())
        self._clients_lock = threading.Lock()

    def client_for(self, key: str) -> fal_client.AsyncClient:
        """This provider's fal ``AsyncClient`` for ``key`` on the running loop (a client cannot
        outlive its loop), made on first use."""
        loop = asyncio.get_running_loop()
        tag = hashlib.sha256(key.encode()).hexdigest()[:16]
        with self._clients_lock:
            clients = self._clients.setdefault(loop, {})
            if tag not in clients:
                clients[tag] = fal_client.AsyncClient(
                    key=key, default_timeout=min(120.0, self.timeout_s))
            return clients[tag]

    def __repr__(self) -> str:
        return f"FalProvider({self.model!r})"

    # ------------------------------------------------------------------ public

    async def generate(self, request: GenerationRequest, progress: Progress) -> GenerationResult:
        started = time.monotonic()
        deadline = started + self.timeout_s - min(5.0, 0.05 * self.timeout_s)
        try:
            key = resolve_key(self.key_env)
        except ValueError as exc:
            raise ProviderError(str(exc), kind="missing_key", critical=True,
                                field="fal_key_env") from None
        if not key:
            raise ProviderError(
                f"fal_key_env: no fal.ai key in the environment variable {self.key_env}",
                kind="missing_key", critical=False, field="fal_key_env")
        ep = self.endpoint
        args_hash = fingerprint(ep, request)
        lkey = request_key(request.story_id, request.scene, request.slot, ep.id, args_hash)
        entry = await self.ledger.get(lkey)
        details: dict[str, Any] = {"endpoint": ep.id, "resumed": False}

        if entry and entry.status == states.DOWNLOADED and entry.video_path \
                and await asyncio.to_thread(Path(entry.video_path).is_file):
            progress(1.0, f"fal {ep.id}: clip already downloaded (request {entry.request_id})")
            details.update(resumed=True, reused_download=True)
            return self._result(entry, entry.video_path, started, details)

        client = self.client_for(key)
        if entry and entry.status in states.LIVE and entry.request_id:
            details["resumed"] = True
            if entry.result is not None:
                result = entry.result
                progress(0.9, f"fal {ep.id}: request {entry.request_id} already finished")
            else:
                progress(0.05, f"fal {ep.id}: resuming request {entry.request_id}")
                handle = await client.get_handle(ep.id, entry.request_id)
                async with endpoint_slots(ep.id, ep.max_concurrency):
                    result = await self._follow(handle, lkey, key, progress, deadline, details)
        else:
            try:
                result = await self._submit_and_follow(client, request, lkey, args_hash, key,
                                                       progress, started, deadline, details)
            except ProviderError as exc:
                if exc.kind != "invalid_image" or details.get("image_upload") != "cached":
                    raise
                # fal could not load the still from an earlier upload (stored files expire):
                # upload it afresh and submit once more.
                await self.ledger.forget_upload(request.image.sha256, storage_host())
                details["reuploaded_after"] = str(exc)
                result = await self._submit_and_follow(client, request, lkey, args_hash, key,
                                                       progress, started, deadline, details)
        entry = await self.ledger.get(lkey)
        assert entry is not None and entry.request_id
        path = await self._download(result, request, entry, key, progress, deadline)
        await self.ledger.downloaded(lkey, str(path))
        faultpoints.hit("fal_downloaded")
        details["seed"] = result.get("seed")
        entry = await self.ledger.get(lkey)
        assert entry is not None
        progress(1.0, f"fal {ep.id}: clip downloaded")
        return self._result(entry, str(path), started, details)

    # ------------------------------------------------------------------ steps

    async def _submit_and_follow(
        self, client: fal_client.AsyncClient, request: GenerationRequest, lkey: str,
        args_hash: str, key: str, progress: Progress, started: float, deadline: float,
        details: dict[str, Any],
    ) -> dict[str, Any]:
        ep = self.endpoint
        progress(0.01, f"fal {ep.id}: preparing the still")
        image_url, how = await self.uploader.url_for(client, request.image, field=ep.image_arg,
                                                     key=key)
        details["image_upload"] = how
        args = map_arguments(ep, request, image_url)
        cost = ep.price.estimate(clip_seconds(ep, request.params.motion.duration))
        async with endpoint_slots(ep.id, ep.max_concurrency):
            await self._wait_cooldown(deadline)
            if deadline - time.monotonic() < 0.25 * self.timeout_s:
                raise ProviderError(
                    f"fal {ep.id}: no free request slot within the timeout; nothing submitted",
                    kind="timeout")
            async with self.ledger.claim(
                    key=lkey, story_id=request.story_id, scene=request.scene,
                    slot=request.slot, endpoint=ep.id, args_hash=args_hash,
                    args=public_args(args, ep.image_arg), cost=cost, budget=self.budget_usd,
                    wait_s=max(0.0, deadline - time.monotonic())) as claim:
                if claim.resume is not None:
                    # Another worker submitted this very request: follow it, pay nothing.
                    rid = claim.resume.request_id
                    assert rid is not None
                    details.update(resumed=True, submitted_elsewhere=True)
                    progress(0.05, f"fal {ep.id}: following request {rid} submitted elsewhere")
                    handle = await client.get_handle(ep.id, rid)
                else:
                    handle = await self._submit(client, args, lkey, claim.charge_id, key,
                                                progress, deadline)
                    details["submitted_after_s"] = round(time.monotonic() - started, 3)
            result = await self._follow(handle, lkey, key, progress, deadline, details)
        return result

    async def _submit(self, client: fal_client.AsyncClient, args: dict[str, Any], lkey: str,
                      charge: int | None, key: str, progress: Progress,
                      deadline: float) -> AsyncRequestHandle:
        """Submit under a held claim and record the request id before anything else."""
        ep = self.endpoint
        assert charge is not None
        progress(0.03, f"fal {ep.id}: submitting")
        faultpoints.hit("fal_claimed")
        try:
            handle = await asyncio.wait_for(client.submit(ep.id, args),
                                            timeout=max(0.1, deadline - time.monotonic()))
        except BaseException as exc:
            err = classify(exc, where="submit", image_arg=ep.image_arg, key=key)
            if isinstance(exc, asyncio.CancelledError):
                # The submit may or may not have reached fal; keep the charge.
                raise
            if err.kind == "timeout":
                # No answer: fal may have the request all the same, so the charge stays.
                await self.ledger.failed(lkey, str(err), status=states.RESERVED)
                raise ProviderError(
                    f"fal {ep.id}: submit gave no answer within the {self.timeout_s:g} s "
                    "timeout", kind="timeout") from exc
            await self.ledger.release(lkey, charge, str(err))
            if err.kind == "rate_limited":
                _note_rate_limited(ep.id)
            raise err from exc
        faultpoints.hit("fal_submitted")  # paid, but its id not yet recorded
        await self.ledger.submitted(lkey, charge, handle.request_id)
        faultpoints.hit("fal_recorded")
        _clear_cooldown(ep.id)
        progress(0.05, f"fal {ep.id}: request {handle.request_id} submitted")
        return handle

    async def _wait_cooldown(self, deadline: float) -> None:
        delay = _cooldown_until(self.endpoint.id) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))

    async def _follow(self, handle: AsyncRequestHandle, lkey: str, key: str,
                      progress: Progress, deadline: float,
                      details: dict[str, Any]) -> dict[str, Any]:
        """Poll the request until it completes; return its result (recorded in the ledger)."""
        ep, rid = self.endpoint, handle.request_id
        logs: deque[str] = deque(maxlen=8)
        seen_logs = 0
        previous: tuple[Any, ...] | None = None
        changed = began = time.monotonic()
        run_started: float | None = None
        failures = 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                await self._cancel(handle, lkey, f"no result within {self.timeout_s:g} s")
                raise ProviderError(
                    f"fal {ep.id}: request {rid} gave no result within {self.timeout_s:g} s "
                    "(cancel sent)", kind="timeout", request_id=rid)
            try:
                status = await asyncio.wait_for(
                    handle.status(with_logs=True),
                    timeout=max(0.1, min(self.poll_timeout_s, deadline - now)))
                failures = 0
            except TimeoutError as exc:
                if time.monotonic() >= deadline:
                    continue  # the deadline branch above cancels and reports
                failures += 1
                if failures >= 3:
                    await self.ledger.failed(lkey, "status polls hung", status=states.SUBMITTED)
                    raise ProviderError(
                        f"fal {ep.id}: request {rid}: {failures} status polls in a row gave no "
                        f"answer within {self.poll_timeout_s:g} s", kind="timeout",
                        request_id=rid) from exc
                continue
            except Exception as exc:
                err = classify(exc, where="status", image_arg=ep.image_arg, request_id=rid,
                               key=key)
                failures += 1
                if err.critical or failures >= 3:
                    # A request fal may still finish stays resumable; an unknown one does not.
                    keep = err.kind in _TRANSIENT and not err.critical
                    await self.ledger.failed(lkey, str(err),
                                            status=states.SUBMITTED if keep else states.FAILED)
                    raise err from exc
                await asyncio.sleep(self.retry_delay_s * failures)
                continue
            if isinstance(status, Queued):
                if previous != ("queued", status.position):
                    previous, changed = ("queued", status.position), now
                progress(0.05, f"fal {ep.id}: queued at position {status.position}")
                if now - changed > self.stuck_queue_s:
                    await self._cancel(handle, lkey, "queue did not move")
                    raise ProviderError(
                        f"fal {ep.id}: request {rid} stayed at queue position "
                        f"{status.position} for {self.stuck_queue_s:g} s (cancel sent)",
                        kind="stuck_queue", request_id=rid)
            elif isinstance(status, InProgress):
                if run_started is None:
                    run_started = now
                    details["queue_wait_s"] = round(now - began, 3)
                previous = ("running",)
                entries = status.logs or []
                for item in entries[seen_logs:]:
                    message = redact(str(item.get("message", "")).strip(), key)
                    if message:
                        logs.append(message)
                seen_logs = len(entries)
                share = min(0.95, (now - run_started) / ep.typical_seconds)
                tail = f": {logs[-1]}" if logs else ""
                progress(0.1 + 0.75 * share, f"fal {ep.id}: generating{tail}")
            elif isinstance(status, Completed):
                details.setdefault("queue_wait_s", round(now - began, 3))
                details["run_s"] = round(now - (run_started or now), 3)
                details["logs_tail"] = list(logs)
                if status.metrics:
                    details["fal_metrics"] = status.metrics
                progress(0.88, f"fal {ep.id}: finished, fetching the result")
                break
            await asyncio.sleep(poll_delay(time.monotonic() - began, self.poll_interval_s))
        result = await self._fetch_result(handle, lkey, key, deadline)
        await self.ledger.completed(lkey, result)
        return result

    async def _fetch_result(self, handle: AsyncRequestHandle, lkey: str, key: str,
                            deadline: float) -> dict[str, Any]:
        ep, rid = self.endpoint, handle.request_id
        for attempt in range(1, self.result_attempts + 1):
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                result = await asyncio.wait_for(handle.get(interval=self.poll_interval_s),
                                                timeout=min(self.poll_timeout_s, left))
                if not isinstance(result, dict):
                    raise ValueError(f"result is {type(result).__name__}, not an object")
                _video_url(result)
                return result
            except Exception as exc:
                err = classify(exc, where="result", image_arg=ep.image_arg, request_id=rid,
                               key=key)
                err.request_id = err.request_id or rid
                # A 5xx, a hang or a garbled body says nothing about the finished request.
                transient = not err.critical and (
                    err.kind in ("timeout", "connection", "server_error")
                    or isinstance(exc, json.JSONDecodeError))
                wait = self.retry_delay_s * 2 ** (attempt - 1)
                if transient and attempt < self.result_attempts \
                        and time.monotonic() + wait < deadline:
                    await asyncio.sleep(wait)
                    continue
                # A transient failure keeps the request resumable; a real error ends it.
                status = states.SUBMITTED if transient else states.FAILED
                await self.ledger.failed(lkey, str(err), status=status)
                raise err from exc
        raise AssertionError("unreachable")

    async def _cancel(self, handle: AsyncRequestHandle, lkey: str, why: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(handle.cancel(), timeout=10)
        await self.ledger.failed(lkey, why, status=states.CANCELLED)

    async def _download(self, result: dict[str, Any], request: GenerationRequest, entry: Entry,
                        key: str, progress: Progress, deadline: float) -> Path:
        url = _video_url(result)
        work = Path(request.work_dir)
        await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
        rid = entry.request_id or "request"
        target = work / f"fal_{request.scene}_{request.slot}_{rid[:16]}.mp4"
        last: Exception | None = None
        tries = 0
        for attempt in range(1, self.download_attempts + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            tries = attempt
            progress(0.9, f"fal {self.endpoint.id}: downloading the clip"
                          + (f" (attempt {attempt})" if attempt > 1 else ""))
            try:
                await self._fetch_to(url, target, min(self.download_timeout_s, left))
                return target
            except UrlRefused as exc:  # asking again gets the same answer
                why = str(exc).replace(f" ({OPT_IN})", "")
                raise ProviderError(
                    f"fal {self.endpoint.id}: the video URL of request {rid} is not fetched: "
                    f"{why} (only fal's own queue host may be private)", kind="protocol",
                    request_id=rid) from None
            except ProviderError as exc:
                last = exc
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                last = exc
            if attempt < self.download_attempts:
                await asyncio.sleep(self.retry_delay_s * 2 ** (attempt - 1))
        text = redact(f"{last.__class__.__name__}: {last}", key) if last else "no time left"
        raise ProviderError(
            f"fal {self.endpoint.id}: downloading the clip of request {rid} failed after "
            f"{tries} attempts within the {self.timeout_s:g} s timeout ({text}); a rerun "
            "downloads it again", kind="download", request_id=rid)

    async def _fetch_to(self, url: str, target: Path, timeout_s: float) -> None:
        part = target.with_name(target.name + ".part")
        if not url.startswith("https://"):
            raise UrlRefused(f"{url.split('?', 1)[0]} is not an https URL")
        fetcher = GuardedFetcher(timeout_s=timeout_s, sock_read_s=30, trust_env=True,
                                 ssl=await asyncio.to_thread(_ssl_context),
                                 trusted_hosts=[queue_host()])
        try:
            async with fetcher.get(url) as response:
                if response.status != 200:
                    raise ProviderError(f"GET video answered HTTP {response.status}",
                                        kind="download")
                expected = response.content_length
                if expected is not None and expected > self.download_max_bytes:
                    raise ProviderError(
                        f"video is {expected} bytes, over the {self.download_max_bytes} limit",
                        kind="download")
                size = 0
                handle = await asyncio.to_thread(open, part, "wb")  # file I/O off the loop
                try:
                    async for chunk in response.content.iter_chunked(1 << 16):
                        size += len(chunk)
                        if size > self.download_max_bytes:
                            raise ProviderError(
                                f"video passed the {self.download_max_bytes}-byte limit",
                                kind="download")
                        await asyncio.to_thread(handle.write, chunk)
                        if size == len(chunk):  # the first chunk is on disk
                            faultpoints.hit("fal_mid_download")
                finally:
                    await asyncio.to_thread(handle.close)
                if expected is not None and size != expected:
                    raise ProviderError(f"video stopped at {size} of {expected} bytes",
                                        kind="download")
                if size == 0:
                    raise ProviderError("video is empty", kind="download")
            await asyncio.to_thread(os.replace, part, target)
        finally:
            await asyncio.to_thread(_remove, part)

    def _result(self, entry: Entry, path: str, started: float,
                details: dict[str, Any]) -> GenerationResult:
        if entry.result:
            details.setdefault("seed", entry.result.get("seed"))
            with contextlib.suppress(ProviderError):
                details["video_url"] = _video_url(entry.result)
        details["submits"] = entry.submits
        return GenerationResult(
            path=path, provider=self.name, model=self.model, request_id=entry.request_id,
            provider_args=entry.args or {}, cost=entry.cost,
            elapsed_s=round(time.monotonic() - started, 3), details=details)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
