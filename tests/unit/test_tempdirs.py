"""Temp folders: owned by a live, locked process; swept only once their owner is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from video_agent.adapters.storage import LocalStorage, tempdirs

OWNER = """
import os, sys, time
from pathlib import Path
from video_agent.adapters.storage import LocalStorage
storage = LocalStorage(Path(sys.argv[1]))
work = storage.temp_dir("story+1+")
(work / "clip.mp4.part").write_bytes(b"partial")
print(work, flush=True)
if sys.argv[2] == "kill":
    os.kill(os.getpid(), 9)
if sys.argv[2] == "wait":
    sys.stdin.readline()
"""


def owner(root: Path, mode: str) -> tuple[subprocess.Popen[str], Path]:
    child = subprocess.Popen([sys.executable, "-c", OWNER, str(root), mode], text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout is not None
    return child, Path(child.stdout.readline().strip())


def test_folders_of_a_killed_process_are_swept(tmp_path: Path) -> None:
    child, work = owner(tmp_path, "kill")
    assert child.wait(30) == -signal.SIGKILL
    assert work.is_dir(), "a SIGKILL leaves the folder behind"
    legacy = tmp_path / "temp" / "0123abcd"  # a folder of the layout before owner markers
    legacy.mkdir()
    removed = LocalStorage(tmp_path).sweep_temp()
    assert work.parent in removed and legacy in removed
    assert sorted(p.name for p in (tmp_path / "temp").iterdir()) == [], "markers go too"


def test_a_live_owner_in_another_process_is_never_swept(tmp_path: Path) -> None:
    child, work = owner(tmp_path, "wait")
    try:
        assert LocalStorage(tmp_path).sweep_temp() == []
        assert (work / "clip.mp4.part").is_file()
        marker = work.parent.with_name(work.parent.name + tempdirs.LOCK_SUFFIX)
        assert f'"pid": {child.pid}' in marker.read_text()
    finally:
        assert child.stdin is not None
        child.stdin.write("\n")
        child.stdin.close()
        assert child.wait(30) == 0
    assert not list((tmp_path / "temp").iterdir()), "a clean exit removes its own folders"


def test_own_folders_survive_a_sweep_and_are_reused_only_when_live(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    work = storage.temp_dir("s+1+")
    assert storage.sweep_temp() == [] and work.is_dir()
    assert storage.work_dir(str(work)) == str(work)
    dead = tmp_path / "temp" / "other-host-1-deadbeef" / "s+1+abc"
    fresh = storage.work_dir(str(dead), "s+1+")
    assert fresh != str(dead) and tempdirs.owned_area(tmp_path / "temp").owns(fresh)
    storage.discard_own("s+")
    assert not work.exists() and not Path(fresh).exists()


def test_forked_child_makes_its_own_area(tmp_path: Path) -> None:
    area = tempdirs.owned_area(tmp_path / "temp")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: a new area, then exit without running the parent's cleanup
        child_area = tempdirs.owned_area(tmp_path / "temp")
        os.write(write, str(child_area.path != area.path).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"True"
    assert area.path.is_dir(), "the child must not remove the parent's area"
    tempdirs.sweep(tmp_path / "temp")  # the child's area is an orphan now
    assert [p for p in (tmp_path / "temp").iterdir() if p.is_dir()] == [area.path]
