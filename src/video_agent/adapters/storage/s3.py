"""S3-compatible clip storage (``s3://bucket/prefix``) with the folder storage's guarantees.

::

    <prefix>/<story_id>/scene_<n>/versions/v0001/video.mp4       every version, never overwritten
    <prefix>/<story_id>/scene_<n>/versions/v0001/metadata.json
    <prefix>/<story_id>/scene_<n>/metadata.json                  current pointer (names a version)
    <prefix>/<story_id>/attempts/<time>-<id>.json                one object per provider attempt
    <prefix>/<story_id>/story.json
    <prefix>/temp/<id>/video.mp4                                 uploads in flight

A version is claimed by a conditional write of its ``metadata.json`` (two writers never share a
number), its clip is uploaded under a temporary key and copied into place, and only then is the
scene's pointer rewritten: a reader follows the pointer, so it never sees a half version, and a
crash before the pointer leaves the previous version current. The endpoint (``AWS_ENDPOINT_URL``)
and the credentials come from the standard AWS environment and are never stored; ``video_url`` is
a presigned URL (renewed on every read) or, with a public base URL, a plain one.

Thread safety: a storage object is made per node call and used from its event loop; its
botocore session is never shared between loops or threads, and every operation opens its own
client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import ClientError

from video_agent import faultpoints
from video_agent.adapters.storage.local import (
    RESERVED,
    ClipMissing,
    LocalStorage,
    check_story_id,
)
from video_agent.models import SceneVideo

PRESIGN_S = 7 * 24 * 3600
"""Lifetime of a presigned ``video_url`` (the SigV4 maximum)."""

_VERSION = re.compile(r"/versions/v(\d{4,})/(video\.mp4|metadata\.json)$")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix without slashes); ``ValueError`` naming the
    setting otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"storage: {url!r} is not an s3://bucket/prefix URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("storage: an s3:// URL names a bucket and a prefix only "
                         "(credentials come from the AWS environment variables)")
    return parts.netloc, parts.path.strip("/")


class S3Storage:
    """``SceneStorage`` in an S3 bucket; partial files stay in the local ``work_root/temp``."""

    def __init__(self, url: str, *, work_root: Path, public_base_url: str | None = None,
                 presign_s: int = PRESIGN_S) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.work = LocalStorage(work_root)
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.presign_s = presign_s
        self._session: AioSession | None = None

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}')"

    # ------------------------------------------------------------------ keys

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _scene_key(self, story_id: str, scene: str | int) -> str:
        return self._key(check_story_id(story_id), f"scene_{int(scene)}")

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        if self._session is None:  # one session: its loaded service models are reused
            self._session = get_session()
        config = AioConfig(signature_version="s3v4", retries={"max_attempts": 5,
                                                               "mode": "standard"})
        async with self._session.create_client("s3", config=config) as client:
            yield client

    async def _get_json(self, client: Any, key: str) -> Any | None:
        try:
            response = await client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        async with response["Body"] as body:
            return json.loads(await body.read())

    async def _put_json(self, client: Any, key: str, payload: Any, **extra: Any) -> None:
        await client.put_object(Bucket=self.bucket, Key=key, ContentType="application/json",
                                Body=json.dumps(payload, indent=2, default=str).encode(), **extra)

    async def _list(self, client: Any, prefix: str, *, delimiter: str | None = None
                    ) -> AsyncIterator[dict[str, Any]]:
        paginator = client.get_paginator("list_objects_v2")
        args = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            args["Delimiter"] = delimiter
        async for page in paginator.paginate(**args):
            yield page

    async def _url(self, client: Any, key: str) -> str:
        if self.public_base_url:
            relative = key.removeprefix(self.prefix).lstrip("/")
            return f"{self.public_base_url}/{relative}"
        return str(await client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.presign_s))

    # ------------------------------------------------------------------ writes

    async def save_scene(self, story_id: str, scene: str | int, clip: Path,
                         metadata: dict[str, Any], *,
                         render_id: str | None = None) -> SceneVideo:
        base = self._scene_key(story_id, scene)
        async with self._client() as client:
            stored = await self._stored_versions(client, base)
            if render_id is not None:
                existing = await self._version_of_render(client, base, stored, render_id)
                if existing is not None:
                    await self._publish(client, base, existing, only_if_newer=True)
                    return await self._fresh(client, existing)
            temp = self._key("temp", uuid.uuid4().hex, "video.mp4")
            try:
                data = await asyncio.to_thread(Path(clip).read_bytes)
            except FileNotFoundError as exc:
                raise ClipMissing(f"clip {clip} is gone and render {render_id} has no "
                                  "version") from exc
            await client.put_object(Bucket=self.bucket, Key=temp, Body=data,
                                    ContentType="video/mp4")
            try:
                number = max((*stored, *await self._all_numbers(client, base)), default=0)
                while True:
                    number += 1
                    video = await self._version_record(client, base, number, metadata,
                                                       sorted({*stored, number}), render_id)
                    if await self._claim_version(client, base, number, video):
                        break
                await client.copy_object(
                    Bucket=self.bucket, Key=f"{base}/versions/v{number:04d}/video.mp4",
                    CopySource={"Bucket": self.bucket, "Key": temp},
                    ContentType="video/mp4", MetadataDirective="REPLACE")
            finally:
                await client.delete_object(Bucket=self.bucket, Key=temp)
            faultpoints.hit("s3_before_pointer")
            await self._publish(client, base, video)
            return video

    async def _version_record(self, client: Any, base: str, number: int,
                              metadata: dict[str, Any], versions: list[int],
                              render_id: str | None) -> SceneVideo:
        key = f"{base}/versions/v{number:04d}/video.mp4"
        extra = {"render_id": render_id} if render_id is not None else {}
        return SceneVideo(
            video_url=await self._url(client, key), path=f"s3://{self.bucket}/{key}",
            version=number,
            metadata={**metadata, **extra, "version": number, "versions": versions,
                      "version_path": f"s3://{self.bucket}/{key}",
                      "stored_at": datetime.now(UTC).isoformat()})

    async def _claim_version(self, client: Any, base: str, number: int,
                             video: SceneVideo) -> bool:
        """Write the version's metadata only if no writer took ``number`` first."""
        try:
            await self._put_json(client, f"{base}/versions/v{number:04d}/metadata.json",
                                 video.model_dump(), IfNoneMatch="*")
        except ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise
        return True

    async def _publish(self, client: Any, base: str, video: SceneVideo, *,
                       only_if_newer: bool = False) -> None:
        """Name ``video`` the scene's current version (one PUT: atomic for readers)."""
        if only_if_newer:
            pointer = await self._get_json(client, f"{base}/metadata.json")
            if pointer is not None and int(pointer.get("version", 0)) >= video.version:
                return
        await self._put_json(client, f"{base}/metadata.json", video.model_dump())

    async def record_attempt(self, story_id: str, entry: dict[str, Any]) -> None:
        at = datetime.now(UTC)
        key = self._key(check_story_id(story_id), "attempts",
                        f"{at.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:8]}.json")
        async with self._client() as client:
            await self._put_json(client, key, {"at": at.isoformat(), **entry})

    async def write_story_summary(self, story_id: str, summary: dict[str, Any]) -> str:
        key = self._key(check_story_id(story_id), "story.json")
        async with self._client() as client:
            await self._put_json(client, key, summary)
        return f"s3://{self.bucket}/{key}"

    async def temp_dir(self, prefix: str = "") -> Path:
        return await asyncio.to_thread(self.work.temp_dir, prefix)

    async def work_dir(self, current: str | None, prefix: str = "") -> str:
        return await asyncio.to_thread(self.work.work_dir, current, prefix)

    async def sweep_temp(self) -> list[Path]:
        return await asyncio.to_thread(self.work.sweep_temp)

    async def discard_own(self, prefix: str) -> None:
        await asyncio.to_thread(self.work.discard_own, prefix)

    async def discard(self, path: str | Path) -> None:
        await asyncio.to_thread(self.work.discard, path)

    # ------------------------------------------------------------------ reads

    async def current(self, story_id: str, scene: str | int) -> SceneVideo | None:
        base = self._scene_key(story_id, scene)
        async with self._client() as client:
            pointer = await self._get_json(client, f"{base}/metadata.json")
            if pointer is None:
                return None
            try:
                video = SceneVideo.model_validate(pointer)
            except ValueError:
                return None
            return await self._fresh(client, video)

    async def _fresh(self, client: Any, video: SceneVideo) -> SceneVideo:
        """``video`` with a newly signed ``video_url``."""
        key = video.path.removeprefix(f"s3://{self.bucket}/")
        return video.model_copy(update={"video_url": await self._url(client, key)})

    async def versions(self, story_id: str, scene: str | int) -> list[int]:
        async with self._client() as client:
            return await self._stored_versions(client, self._scene_key(story_id, scene))

    async def version(self, story_id: str, scene: str | int, number: int) -> SceneVideo | None:
        base = self._scene_key(story_id, scene)
        async with self._client() as client:
            return await self._whole_version(client, base, number)

    async def _whole_version(self, client: Any, base: str, number: int) -> SceneVideo | None:
        """Version ``number`` if both its metadata and its clip are in the bucket."""
        record = await self._get_json(client, f"{base}/versions/v{number:04d}/metadata.json")
        if record is None:
            return None
        try:
            video = SceneVideo.model_validate(record)
        except ValueError:
            return None
        try:
            await client.head_object(Bucket=self.bucket,
                                     Key=f"{base}/versions/v{number:04d}/video.mp4")
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None  # claimed, but its clip was never copied in (a killed writer)
            raise
        return await self._fresh(client, video)

    async def make_current(self, story_id: str, scene: str | int,
                           number: int) -> SceneVideo | None:
        """Name version ``number`` current again: one PUT of the scene's pointer. Writers on
        other machines are not locked out: the last pointer written wins, as with a new clip."""
        base = self._scene_key(story_id, scene)
        async with self._client() as client:
            video = await self._whole_version(client, base, number)
            if video is None:
                return None
            await self._publish(client, base, video)
            return video

    async def _version_files(self, client: Any, base: str) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        async for page in self._list(client, f"{base}/versions/"):
            for item in page.get("Contents", []):
                if match := _VERSION.search(item["Key"]):
                    found.setdefault(int(match.group(1)), set()).add(match.group(2))
        return found

    async def _stored_versions(self, client: Any, base: str) -> list[int]:
        """Versions whose clip and metadata are both written."""
        files = await self._version_files(client, base)
        return sorted(n for n, names in files.items() if len(names) == 2)

    async def _all_numbers(self, client: Any, base: str) -> list[int]:
        return sorted(await self._version_files(client, base))

    async def _version_of_render(self, client: Any, base: str, stored: list[int],
                                 render_id: str) -> SceneVideo | None:
        for number in sorted(stored, reverse=True):
            record = await self._get_json(client, f"{base}/versions/v{number:04d}/metadata.json")
            if record and (record.get("metadata") or {}).get("render_id") == render_id:
                return SceneVideo.model_validate(record)
        return None

    async def stories(self) -> list[str]:
        async with self._client() as client:
            names = await self._children(client, self._key() + "/" if self.prefix else "")
        return sorted(n for n in names if _SAFE_ID.fullmatch(n) and n not in RESERVED)

    async def scenes(self, story_id: str) -> list[str]:
        async with self._client() as client:
            names = await self._children(client, self._key(check_story_id(story_id)) + "/")
        found = [n.removeprefix("scene_") for n in names if n.startswith("scene_")]
        return sorted((s for s in found if s.isdigit()), key=int)

    async def _children(self, client: Any, prefix: str) -> list[str]:
        names: list[str] = []
        async for page in self._list(client, prefix, delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix):].rstrip("/"))
        return names

    async def attempts(self, story_id: str) -> list[dict[str, Any]]:
        prefix = self._key(check_story_id(story_id), "attempts") + "/"
        async with self._client() as client:
            keys = [item["Key"] async for page in self._list(client, prefix)
                    for item in page.get("Contents", [])]
            return [entry for key in sorted(keys)
                    if (entry := await self._get_json(client, key)) is not None]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
