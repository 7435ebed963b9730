"""What the graph, the CLI, ``status`` and the HTTP app need from clip storage, whatever holds it
(the output folder, or an S3 bucket shared by many workers).

Every backend writes a version whole before it names it current, keeps every version, and
stores one render once: ``save_scene`` with a ``render_id`` it already holds returns that
version instead of adding another (and needs no clip), and raises ``ClipMissing`` when neither
the render nor the clip exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from video_agent.models import SceneVideo


class SceneStorage(Protocol):
    async def save_scene(self, story_id: str, scene: str | int, clip: Path,
                         metadata: dict[str, Any], *,
                         render_id: str | None = None) -> SceneVideo:
        """Store ``clip`` as the scene's new current version; earlier versions stay."""
        ...

    async def current(self, story_id: str, scene: str | int) -> SceneVideo | None:
        """The scene's current video, or None when it has none."""
        ...

    async def versions(self, story_id: str, scene: str | int) -> list[int]: ...

    async def version(self, story_id: str, scene: str | int, number: int) -> SceneVideo | None:
        """Stored version ``number`` whole (its own clip and metadata), or None."""
        ...

    async def make_current(self, story_id: str, scene: str | int,
                           number: int) -> SceneVideo | None:
        """Name stored version ``number`` the scene's current clip again; None if it is not a
        whole version of that scene."""
        ...

    async def stories(self) -> list[str]: ...

    async def scenes(self, story_id: str) -> list[str]: ...

    async def record_attempt(self, story_id: str, entry: dict[str, Any]) -> None:
        """Keep one provider attempt in the story's audit journal."""
        ...

    async def attempts(self, story_id: str) -> list[dict[str, Any]]: ...

    async def write_story_summary(self, story_id: str, summary: dict[str, Any]) -> str:
        """Write ``story.json``; return where it went."""
        ...

    async def temp_dir(self, prefix: str = "") -> Path:
        """A fresh local folder for partial files (every backend works on local files), in
        this process's locked area of ``temp/``."""
        ...

    async def work_dir(self, current: str | None, prefix: str = "") -> str:
        """``current`` if it is a live temp folder of this process, else a fresh one."""
        ...

    async def sweep_temp(self) -> list[Path]:
        """Remove the temp folders of dead processes (never those of a live one)."""
        ...

    async def discard_own(self, prefix: str) -> None:
        """Remove this process's temp folders whose names start with ``prefix``."""
        ...

    async def discard(self, path: str | Path) -> None:
        """Remove a folder from ``temp_dir`` once its content is stored or abandoned."""
        ...
