"""Local folder storage in the seed's layout, with atomic, versioned writes.

::

    <root>/<story_id>/scene_<n>/video.mp4        current clip
    <root>/<story_id>/scene_<n>/metadata.json    current metadata (names its version)
    <root>/<story_id>/scene_<n>/versions/v0001/  every stored version, never overwritten
    <root>/<story_id>/attempts.jsonl             one line per provider attempt (audit, cost)
    <root>/temp/                                 partial files; never a finished video

Thread safety: picking a version number and publishing it, and appending to the audit journal,
happen under one process-wide lock, so scenes stored from worker threads at once never take the
same version or interleave journal lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from video_agent.models import SceneVideo

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_VERSION = re.compile(r"^v(\d{4,})$")
_LOCK = threading.Lock()
RESERVED = frozenset({"temp"})
"""Folder names under the root that are not stories."""


def check_story_id(story_id: str) -> str:
    """Story ids name folders: letters, digits, ``_ . -`` only, no path tricks."""
    if not _SAFE_ID.match(story_id or "") or ".." in story_id or story_id in RESERVED:
        raise ValueError(
            f"story_id: {story_id!r} must be 1-128 letters, digits, '_', '.' or '-' "
            "and start with a letter or digit ('temp' is reserved)")
    return story_id


class LocalStorage:
    """Stores scene videos and metadata under ``root``."""

    def __init__(self, root: Path, *, public_base_url: str | None = None) -> None:
        self.root = Path(root)
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None

    # ------------------------------------------------------------------ paths

    def story_dir(self, story_id: str) -> Path:
        return self.root / check_story_id(story_id)

    def scene_dir(self, story_id: str, scene: str | int) -> Path:
        return self.story_dir(story_id) / f"scene_{int(scene)}"

    def temp_dir(self) -> Path:
        """A fresh folder for partial files; removed by ``discard``."""
        path = self.root / "temp" / uuid.uuid4().hex
        path.mkdir(parents=True, exist_ok=True)
        return path

    def discard(self, path: str | Path) -> None:
        """Remove a temp folder (or file) once its content is stored or abandoned."""
        path = Path(path)
        if self.root / "temp" not in path.parents:
            return
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def video_url(self, story_id: str, scene: str | int) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{story_id}/scene_{int(scene)}/video.mp4"
        return (self.scene_dir(story_id, scene) / "video.mp4").resolve().as_uri()

    # ------------------------------------------------------------------ writes

    def save_scene(self, story_id: str, scene: str | int, clip: Path,
                   metadata: dict[str, Any]) -> SceneVideo:
        """Store ``clip`` as the scene's new current version; earlier versions stay."""
        scene_dir = self.scene_dir(story_id, scene)
        versions = scene_dir / "versions"
        staging = self.temp_dir()
        try:
            with _LOCK:
                versions.mkdir(parents=True, exist_ok=True)
                number = max(self._version_numbers(versions), default=0) + 1
                version_dir = versions / f"v{number:04d}"
                video = SceneVideo(
                    video_url=self.video_url(story_id, scene),
                    path=str(scene_dir / "video.mp4"),
                    version=number,
                    metadata={**metadata, "version": number,
                              "versions": sorted({*self._version_numbers(versions), number}),
                              "version_path": str(version_dir / "video.mp4"),
                              "stored_at": datetime.now(UTC).isoformat()},
                )
                shutil.copyfile(clip, staging / "video.mp4")
                _fsync(staging / "video.mp4")
                _write_json(staging / "metadata.json", video.model_dump())
                os.replace(staging, version_dir)  # the version appears whole or not at all
                self._publish(version_dir, scene_dir)
            return video
        finally:
            self.discard(staging)

    def _publish(self, version_dir: Path, scene_dir: Path) -> None:
        """Point the scene's current files at ``version_dir`` by atomic renames."""
        for name in ("video.mp4", "metadata.json"):
            tmp = scene_dir / f".{name}.{uuid.uuid4().hex}.part"
            try:
                os.link(version_dir / name, tmp)
            except OSError:
                shutil.copyfile(version_dir / name, tmp)
            os.replace(tmp, scene_dir / name)

    def record_attempt(self, story_id: str, entry: dict[str, Any]) -> None:
        """Append one provider attempt to the story's audit journal."""
        path = self.story_dir(story_id) / "attempts.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": datetime.now(UTC).isoformat(), **entry}, default=str)
        with _LOCK, open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def write_story_summary(self, story_id: str, summary: dict[str, Any]) -> Path:
        path = self.story_dir(story_id) / "story.json"
        _write_json(path, summary)
        return path

    # ------------------------------------------------------------------ reads

    def current(self, story_id: str, scene: str | int) -> SceneVideo | None:
        """The scene's current stored video, or None if there is none (or it is incomplete)."""
        scene_dir = self.scene_dir(story_id, scene)
        try:
            video = SceneVideo.model_validate_json((scene_dir / "metadata.json").read_bytes())
        except (OSError, ValueError):
            return None
        if not (scene_dir / "video.mp4").is_file():
            return None
        return video

    def attempts(self, story_id: str) -> list[dict[str, Any]]:
        path = self.story_dir(story_id) / "attempts.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def stories(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and _SAFE_ID.match(p.name) and p.name not in RESERVED)

    def scenes(self, story_id: str) -> list[str]:
        story = self.story_dir(story_id)
        if not story.is_dir():
            return []
        found = [p.name.removeprefix("scene_") for p in story.glob("scene_*") if p.is_dir()]
        return sorted((s for s in found if s.isdigit()), key=int)

    def versions(self, story_id: str, scene: str | int) -> list[int]:
        return sorted(self._version_numbers(self.scene_dir(story_id, scene) / "versions"))

    @staticmethod
    def _version_numbers(versions: Path) -> list[int]:
        if not versions.is_dir():
            return []
        return [int(m.group(1)) for p in versions.iterdir() if (m := _VERSION.match(p.name))]


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
