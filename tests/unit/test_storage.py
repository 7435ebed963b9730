"""Local storage: the seed's layout, versions, atomic publication, safe ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from video_agent.adapters.storage import LocalStorage
from video_agent.adapters.storage.local import check_story_id


def clip(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / f"clip{len(content)}.mp4"
    path.write_bytes(content)
    return path


def test_save_keeps_versions_and_points_at_the_newest(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "out")
    first = storage.save_scene("story", "5", clip(tmp_path, b"one"), {"duration": 6.0})
    second = storage.save_scene("story", 5, clip(tmp_path, b"second"), {"duration": 5.0})
    scene_dir = tmp_path / "out" / "story" / "scene_5"
    assert (first.version, second.version) == (1, 2)
    assert (scene_dir / "video.mp4").read_bytes() == b"second"
    meta = json.loads((scene_dir / "metadata.json").read_text())
    assert meta["metadata"]["version"] == 2 and meta["metadata"]["versions"] == [1, 2]
    assert (scene_dir / "versions" / "v0001" / "video.mp4").read_bytes() == b"one"
    assert storage.current("story", "5").version == 2  # type: ignore[union-attr]
    assert storage.versions("story", "5") == [1, 2]
    assert storage.scenes("story") == ["5"] and storage.stories() == ["story"]
    assert not any((tmp_path / "out" / "temp").iterdir()), "staging folders are removed"
    assert second.video_url.startswith("file://")


def test_public_base_url_and_attempt_journal(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, public_base_url="https://cdn.example.org/v/")
    assert storage.video_url("s", "3") == "https://cdn.example.org/v/s/scene_3/video.mp4"
    storage.record_attempt("s", {"scene": "3", "outcome": "ok"})
    storage.record_attempt("s", {"scene": "3", "outcome": "error"})
    assert [a["outcome"] for a in storage.attempts("s")] == ["ok", "error"]


def test_incomplete_scene_is_not_current(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.save_scene("s", "1", clip(tmp_path, b"x"), {})
    (tmp_path / "s" / "scene_1" / "video.mp4").unlink()
    assert storage.current("s", "1") is None
    (tmp_path / "s" / "scene_2").mkdir()
    (tmp_path / "s" / "scene_2" / "metadata.json").write_text("{broken")
    assert storage.current("s", "2") is None


BAD_IDS = ["", "temp", "..", "../etc", "a/b", "/abs", ".hidden", "a\\b", "x" * 200]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_story_ids_cannot_escape(bad: str) -> None:
    with pytest.raises(ValueError, match="story_id"):
        check_story_id(bad)


def test_discard_only_touches_temp(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    keep = tmp_path / "keep.txt"
    keep.write_text("x")
    storage.discard(keep)
    assert keep.exists()
    work = storage.temp_dir()
    (work / "part.mp4").write_bytes(b"1")
    storage.discard(work)
    assert not work.exists()
