"""The output folder (``LocalStorage``) behind the async ``SceneStorage`` protocol."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from video_agent.adapters.storage.local import LocalStorage
from video_agent.models import SceneVideo


class FolderStorage:
    """``SceneStorage`` on a local folder; blocking file work runs off the event loop."""

    def __init__(self, root: Path, *, public_base_url: str | None = None) -> None:
        self.local = LocalStorage(root, public_base_url=public_base_url)

    def __repr__(self) -> str:
        return f"FolderStorage({str(self.local.root)!r})"

    async def save_scene(self, story_id: str, scene: str | int, clip: Path,
                         metadata: dict[str, Any], *,
                         render_id: str | None = None) -> SceneVideo:
        extra: dict[str, Any] = {"render_id": render_id} if render_id is not None else {}
        return await asyncio.to_thread(self.local.save_scene, story_id, scene, clip, metadata,
                                       **extra)

    async def current(self, story_id: str, scene: str | int) -> SceneVideo | None:
        return await asyncio.to_thread(self.local.current, story_id, scene)

    async def versions(self, story_id: str, scene: str | int) -> list[int]:
        return await asyncio.to_thread(self.local.versions, story_id, scene)

    async def version(self, story_id: str, scene: str | int, number: int) -> SceneVideo | None:
        return await asyncio.to_thread(self.local.version, story_id, scene, number)

    async def make_current(self, story_id: str, scene: str | int,
                           number: int) -> SceneVideo | None:
        return await asyncio.to_thread(self.local.make_current, story_id, scene, number)

    async def stories(self) -> list[str]:
        return await asyncio.to_thread(self.local.stories)

    async def scenes(self, story_id: str) -> list[str]:
        return await asyncio.to_thread(self.local.scenes, story_id)

    async def record_attempt(self, story_id: str, entry: dict[str, Any]) -> None:
        await asyncio.to_thread(self.local.record_attempt, story_id, entry)

    async def attempts(self, story_id: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.local.attempts, story_id)

    async def write_story_summary(self, story_id: str, summary: dict[str, Any]) -> str:
        return str(await asyncio.to_thread(self.local.write_story_summary, story_id, summary))

    async def temp_dir(self, prefix: str = "") -> Path:
        return await asyncio.to_thread(self.local.temp_dir, prefix)

    async def work_dir(self, current: str | None, prefix: str = "") -> str:
        return await asyncio.to_thread(self.local.work_dir, current, prefix)

    async def sweep_temp(self) -> list[Path]:
        return await asyncio.to_thread(self.local.sweep_temp)

    async def discard_own(self, prefix: str) -> None:
        await asyncio.to_thread(self.local.discard_own, prefix)

    async def discard(self, path: str | Path) -> None:
        await asyncio.to_thread(self.local.discard, path)
