"""Local folder storage in the seed's layout, with atomic, versioned writes.

::

    <root>/<story_id>/scene_<n>/video.mp4        current clip
    <root>/<story_id>/scene_<n>/metadata.json    current metadata (names its version)
    <root>/<story_id>/scene_<n>/versions/v0001/  every stored version, never overwritten
    <root>/<story_id>/attempts.jsonl             one line per provider attempt (audit, cost)
    <root>/temp/<owner>/                         partial files of one live process (tempdirs)
    <root>/.state/locks/<story_id>.scene_<n>.lock  flock'ed while a version is being stored

Storing is idempotent per render: every version's metadata names the ``render_id`` of the clip it
holds, and storing a render that already has a version publishes that version again instead of
adding one. So a store repeated after a kill at any instant neither duplicates nor loses a clip.

Thread safety: picking a version number and publishing it happen under the scene's ``flock``
(each call opens its own descriptor, so threads exclude each other as processes do); appending
to the audit journal happens under a process-wide lock and an ``flock`` on the journal, so
scenes stored from worker threads at once never take the same version or interleave lines.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from video_agent import faultpoints
from video_agent.adapters.storage import tempdirs
from video_agent.models import SceneVideo

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_VERSION = re.compile(r"v(\d{4,})")
_LOCK = threading.Lock()
RESERVED = frozenset({"temp"})
"""Folder names under the root that are not stories."""


def check_story_id(story_id: object) -> str:
    """Story ids name folders: letters, digits, ``_ . -`` only, no path tricks."""
    if (not isinstance(story_id, str) or not _SAFE_ID.fullmatch(story_id) or ".." in story_id
            or story_id in RESERVED):
        raise ValueError(
            f"story_id: {str(story_id)[:80]!r} must be 1-128 letters, digits, '_', '.' or '-' "
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

    def temp_root(self) -> Path:
        return self.root / "temp"

    def temp_dir(self, prefix: str = "") -> Path:
        """A fresh folder for partial files in this process's locked area; removed by
        ``discard``, or with the area when the process exits or by ``sweep_temp`` after it died.
        """
        return tempdirs.owned_area(self.temp_root()).new_dir(prefix)

    def work_dir(self, current: str | None, prefix: str = "") -> str:
        """``current`` if it is a live folder of this process, else a fresh one (a resumed run
        never writes into a folder left by a dead process: the sweep may be removing it)."""
        if current and tempdirs.owned_area(self.temp_root()).owns(current) \
                and Path(current).is_dir():
            return current
        return str(self.temp_dir(prefix))

    def sweep_temp(self) -> list[Path]:
        """Remove the temp folders of processes that are gone (never those of a live one)."""
        return tempdirs.sweep(self.temp_root())

    def discard_own(self, prefix: str) -> None:
        """Remove this process's temp folders whose names start with ``prefix``."""
        area = tempdirs.owned_area(self.temp_root())
        for path in list(area.path.glob(f"{glob.escape(prefix)}*")):
            self.discard(path)

    def discard(self, path: str | Path) -> None:
        """Remove a temp folder (or file) once its content is stored or abandoned."""
        path = Path(path)
        if self.temp_root() not in path.parents:
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
                   metadata: dict[str, Any], *, render_id: str | None = None) -> SceneVideo:
        """Store ``clip`` as the scene's new current version; earlier versions stay.

        With ``render_id``, storing is idempotent: if a version of that render exists it is made
        current again and returned, and ``clip`` is not needed. Raises ``ClipMissing`` when the
        render has no version and ``clip`` is gone (a temp file lost with a killed run).
        """
        scene_dir = self.scene_dir(story_id, scene)
        versions = scene_dir / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        with _scene_lock(self.root / ".state" / "locks" / f"{story_id}.scene_{int(scene)}.lock"):
            _drop_parts(scene_dir)
            if render_id is not None and (found := self.find_render(versions, render_id)):
                self._publish(found[0], scene_dir)
                return found[1]
            if not Path(clip).is_file():
                raise ClipMissing(f"clip {clip} is gone and render {render_id} has no version")
            staging = self.temp_dir("staging-")
            try:
                number = max(self._version_numbers(versions), default=0) + 1
                version_dir = versions / f"v{number:04d}"
                video = SceneVideo(
                    video_url=self.video_url(story_id, scene),
                    path=str(scene_dir / "video.mp4"),
                    version=number,
                    metadata={**metadata, "version": number,
                              **({"render_id": render_id} if render_id else {}),
                              "versions": sorted({*self._version_numbers(versions), number}),
                              "version_path": str(version_dir / "video.mp4"),
                              "stored_at": datetime.now(UTC).isoformat()},
                )
                shutil.copyfile(clip, staging / "video.mp4")
                _fsync(staging / "video.mp4")
                _write_json(staging / "metadata.json", video.model_dump())
                _fsync_dir(staging)
                faultpoints.hit("store_staged")
                os.replace(staging, version_dir)  # the version appears whole or not at all
                _fsync_dir(versions)
                faultpoints.hit("store_version_renamed")
                self._publish(version_dir, scene_dir)
            finally:
                self.discard(staging)
            return video

    def find_render(self, versions: Path, render_id: str) -> tuple[Path, SceneVideo] | None:
        """The complete version holding render ``render_id``, if one was stored."""
        for number in sorted(self._version_numbers(versions), reverse=True):
            version_dir = versions / f"v{number:04d}"
            video = _whole_version(version_dir)
            if video is not None and video.metadata.get("render_id") == render_id:
                return version_dir, video
        return None

    def _publish(self, version_dir: Path, scene_dir: Path) -> None:
        """Point the scene's current files at ``version_dir`` by atomic renames (video first:
        ``current`` trusts a scene only when metadata.json names the version video.mp4 is)."""
        for name in ("video.mp4", "metadata.json"):
            with contextlib.suppress(OSError):
                if os.path.samefile(version_dir / name, scene_dir / name):
                    continue  # already published (rename onto the same file does nothing)
            tmp = scene_dir / f".{name}.{uuid.uuid4().hex}.part"
            try:
                os.link(version_dir / name, tmp)
            except OSError:
                shutil.copyfile(version_dir / name, tmp)
            os.replace(tmp, scene_dir / name)
            if name == "video.mp4":
                faultpoints.hit("store_video_published")
        _fsync_dir(scene_dir)

    def record_attempt(self, story_id: str, entry: dict[str, Any]) -> None:
        """Append one provider attempt to the story's audit journal (one ``write`` per line; a
        line torn by a crash is ended first so it cannot swallow this one)."""
        path = self.story_dir(story_id) / "attempts.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": datetime.now(UTC).isoformat(), **entry}, default=str)
        with _LOCK:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
                os.write(fd, (("\n" if torn else "") + line + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        faultpoints.hit("journal_appended")

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
        named = video.metadata.get("version_path")
        with contextlib.suppress(OSError):
            if named and not os.path.samefile(scene_dir / "video.mp4", named) and \
                    (scene_dir / "video.mp4").stat().st_size != Path(named).stat().st_size:
                return None  # video.mp4 was published, metadata.json not yet
        return video

    def attempts(self, story_id: str) -> list[dict[str, Any]]:
        path = self.story_dir(story_id) / "attempts.jsonl"
        if not path.is_file():
            return []
        entries = []
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError):  # a line torn by a crash is no entry
                entries.append(json.loads(line))
        return entries

    def stories(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and _SAFE_ID.fullmatch(p.name) and p.name not in RESERVED)

    def scenes(self, story_id: str) -> list[str]:
        story = self.story_dir(story_id)
        if not story.is_dir():
            return []
        found = [p.name.removeprefix("scene_") for p in story.glob("scene_*") if p.is_dir()]
        return sorted((s for s in found if s.isdigit()), key=int)

    def version(self, story_id: str, scene: str | int, number: int) -> SceneVideo | None:
        """Stored version ``number`` whole, its ``path`` the version's own clip; or None."""
        version_dir = self.scene_dir(story_id, scene) / "versions" / f"v{number:04d}"
        video = _whole_version(version_dir)
        if video is None:
            return None
        return video.model_copy(update={"path": str(version_dir / "video.mp4")})

    def make_current(self, story_id: str, scene: str | int, version: int) -> SceneVideo | None:
        """Publish stored ``version`` as the scene's current clip again; None if it is not a
        whole version of that scene."""
        scene_dir = self.scene_dir(story_id, scene)
        version_dir = scene_dir / "versions" / f"v{version:04d}"
        with _scene_lock(self.root / ".state" / "locks" / f"{story_id}.scene_{int(scene)}.lock"):
            if not ((version_dir / "video.mp4").is_file()
                    and (version_dir / "metadata.json").is_file()):
                return None
            self._publish(version_dir, scene_dir)
        return self.current(story_id, scene)

    def versions(self, story_id: str, scene: str | int) -> list[int]:
        return sorted(self._version_numbers(self.scene_dir(story_id, scene) / "versions"))

    @staticmethod
    def _version_numbers(versions: Path) -> list[int]:
        if not versions.is_dir():
            return []
        return [int(m.group(1)) for p in versions.iterdir() if (m := _VERSION.fullmatch(p.name))]


def _whole_version(version_dir: Path) -> SceneVideo | None:
    """The version stored in ``version_dir`` if its metadata reads and its clip is there."""
    try:
        video = SceneVideo.model_validate_json((version_dir / "metadata.json").read_bytes())
    except (OSError, ValueError):
        return None
    return video if (version_dir / "video.mp4").is_file() else None


class ClipMissing(FileNotFoundError):
    """The clip to store is gone and no version of its render exists: generate it again."""


def render_identity(**facts: Any) -> str:
    """A stable id for one render: sha256 of the facts that make it (story, scene, generation,
    slot, provider, model, request id or plan), so a repeated store recognises it."""
    blob = json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@contextlib.contextmanager
def _scene_lock(path: Path) -> Any:
    """One writer per scene across threads and processes (``flock`` on a file under .state/)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _drop_parts(scene_dir: Path) -> None:
    """Remove half-published files a killed store left (called under the scene lock)."""
    for part in scene_dir.glob(".*.part"):
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
