"""Temp folders owned by a live process, and the sweep that removes the ones of dead processes.

::

    <root>/temp/<owner>.lock   owner marker (pid, process start time, host); flock'ed by the owner
    <root>/temp/<owner>/       the owner's work folders, one per scene attempt

A process takes an exclusive ``fcntl.flock`` on its marker for as long as it lives and never
releases it while any of its folders is in use; the kernel drops the lock when the process dies,
however it dies. ``sweep`` removes an owner folder only when it can take that lock itself, so a
folder of a live run in another process sharing the output folder is never touched. Folders with
no marker at all (left by an older layout) are orphans too.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

log = logging.getLogger("video_agent")

LOCK_SUFFIX = ".lock"
_areas: dict[Path, OwnedArea] = {}
_areas_lock = threading.Lock()


def _process_started() -> float | None:
    """This process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        return float(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


class OwnedArea:
    """This process's folder under ``temp/``, locked for the life of the process."""

    def __init__(self, temp_root: Path) -> None:
        self.temp_root = temp_root
        temp_root.mkdir(parents=True, exist_ok=True)
        while True:
            name = f"{socket.gethostname()[:32]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            marker = temp_root / f"{name}{LOCK_SUFFIX}"
            fd = os.open(marker, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            # A sweeper may have taken the fresh marker before us and unlinked it: start over.
            if os.path.exists(marker) and os.fstat(fd).st_ino == os.stat(marker).st_ino:
                break
            os.close(fd)
        owner = {"pid": os.getpid(), "started": _process_started(), "boot_id": _boot_id(),
                 "host": socket.gethostname(), "created_at": time.time()}
        os.write(fd, json.dumps(owner).encode())
        self.marker, self.path, self._fd = marker, temp_root / name, fd
        self.path.mkdir()

    def new_dir(self, prefix: str = "") -> Path:
        path = self.path / f"{prefix}{uuid.uuid4().hex}"
        path.mkdir(parents=True)
        return path

    def owns(self, path: str | Path) -> bool:
        return self.path in Path(path).parents

    def close(self) -> None:
        """Remove the folder and the marker, then let the lock go."""
        if self._fd < 0:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self.marker.unlink()
        os.close(self._fd)
        self._fd = -1


def owned_area(temp_root: Path) -> OwnedArea:
    """This process's area under ``temp_root`` (made on first use, removed at exit)."""
    key = temp_root.resolve()
    with _areas_lock:
        area = _areas.get(key)
        if area is None or area._fd < 0:
            area = _areas[key] = OwnedArea(key)
        return area


def sweep(temp_root: Path) -> list[Path]:
    """Remove the temp folders of processes that are gone; return what was removed.

    An owner folder goes only when its marker's lock can be taken (its owner is dead); the
    marker is unlinked while that lock is held, so the owner, had it raced us, starts afresh.
    """
    if not temp_root.is_dir():
        return []
    mine = {a.path.name for a in _areas.values() if a._fd >= 0}
    removed: list[Path] = []
    for entry in sorted(temp_root.iterdir()):
        if entry.name.endswith(LOCK_SUFFIX) or entry.name in mine:
            continue
        marker = temp_root / f"{entry.name}{LOCK_SUFFIX}"
        try:
            fd = os.open(marker, os.O_RDWR)
        except FileNotFoundError:
            fd = -1  # no marker: an older layout, or a sweeper that is removing it right now
        if fd >= 0:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a live owner
        try:
            _remove(entry)
            if fd >= 0:
                with contextlib.suppress(FileNotFoundError):
                    marker.unlink()
            removed.append(entry)
        finally:
            if fd >= 0:
                os.close(fd)
    for marker in temp_root.glob(f"*{LOCK_SUFFIX}"):  # markers whose folder is already gone
        if marker.name.removesuffix(LOCK_SUFFIX) in mine \
                or (temp_root / marker.name.removesuffix(LOCK_SUFFIX)).exists():
            continue
        _drop_dead_marker(marker)
    if removed:
        log.info("removed %d temp folder(s) of dead runs under %s", len(removed), temp_root)
    return removed


def _drop_dead_marker(marker: Path) -> None:
    try:
        fd = os.open(marker, os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()
    except BlockingIOError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _close_all() -> None:
    with _areas_lock:
        for area in _areas.values():
            area.close()
        _areas.clear()


def _forget_in_child() -> None:
    """A forked child shares the parent's lock; it must make its own area, never close this."""
    global _areas_lock
    _areas_lock = threading.Lock()
    for area in _areas.values():
        with contextlib.suppress(OSError):
            os.close(area._fd)
        area._fd = -1
    _areas.clear()


atexit.register(_close_all)
os.register_at_fork(after_in_child=_forget_in_child)
