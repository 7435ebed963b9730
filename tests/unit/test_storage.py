"""Local storage: the seed's layout, versions, atomic publication, safe ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from video_agent.adapters.storage import LocalStorage, tempdirs
from video_agent.adapters.storage.local import ClipMissing, check_story_id


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
    area = tempdirs.owned_area(tmp_path / "out" / "temp")
    assert not any(area.path.iterdir()), "staging folders are removed"
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


# --------------------------------------------------------------------------- idempotent stores


def test_storing_a_render_again_adds_no_version(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "out")
    first = storage.save_scene("s", "1", clip(tmp_path, b"render-a"), {"d": 1}, render_id="a")
    again = storage.save_scene("s", "1", clip(tmp_path, b"render-a"), {"d": 1}, render_id="a")
    assert again == first and storage.versions("s", "1") == [1]
    assert again.metadata["render_id"] == "a"
    other = storage.save_scene("s", "1", clip(tmp_path, b"render-b"), {"d": 2}, render_id="b")
    assert other.version == 2 and storage.versions("s", "1") == [1, 2]


def test_a_stored_render_needs_no_clip_and_is_made_current_again(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "out")
    storage.save_scene("s", "1", clip(tmp_path, b"aaa"), {}, render_id="a")
    storage.save_scene("s", "1", clip(tmp_path, b"bbbb"), {}, render_id="b")
    gone = tmp_path / "gone.mp4"
    video = storage.save_scene("s", "1", gone, {}, render_id="a")
    scene_dir = tmp_path / "out" / "s" / "scene_1"
    assert video.version == 1 and (scene_dir / "video.mp4").read_bytes() == b"aaa"
    assert storage.current("s", "1").version == 1  # type: ignore[union-attr]
    assert storage.versions("s", "1") == [1, 2]


def test_a_lost_clip_without_a_version_is_reported_not_stored(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "out")
    with pytest.raises(ClipMissing, match="render c has no version"):
        storage.save_scene("s", "1", tmp_path / "gone.mp4", {}, render_id="c")
    assert storage.versions("s", "1") == [] and storage.current("s", "1") is None


def test_a_half_published_scene_is_finished_by_the_repeat(tmp_path: Path) -> None:
    """Killed between publishing video.mp4 and metadata.json, with a .part file left over."""
    storage = LocalStorage(tmp_path / "out")
    storage.save_scene("s", "1", clip(tmp_path, b"old"), {}, render_id="old")
    storage.save_scene("s", "1", clip(tmp_path, b"newer"), {}, render_id="new")
    scene_dir = tmp_path / "out" / "s" / "scene_1"
    # Roll metadata.json back to version 1 while video.mp4 is already version 2.
    (scene_dir / "metadata.json").unlink()
    (scene_dir / "metadata.json").hardlink_to(scene_dir / "versions" / "v0001" / "metadata.json")
    (scene_dir / ".video.mp4.deadbeef.part").write_bytes(b"torn")
    assert storage.current("s", "1") is None, "metadata that does not name video.mp4 is no scene"
    video = storage.save_scene("s", "1", tmp_path / "gone.mp4", {}, render_id="new")
    assert video.version == 2 and storage.current("s", "1") == video
    assert not list(scene_dir.glob(".*.part"))
    assert storage.versions("s", "1") == [1, 2]


def test_torn_journal_line_is_skipped_and_ended(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.record_attempt("s", {"scene": "1", "outcome": "ok"})
    journal = tmp_path / "s" / "attempts.jsonl"
    with open(journal, "a") as handle:
        handle.write('{"scene": "2", "outc')  # a crash mid-line
    assert [a["scene"] for a in storage.attempts("s")] == ["1"]
    storage.record_attempt("s", {"scene": "3", "outcome": "error"})
    assert [a["scene"] for a in storage.attempts("s")] == ["1", "3"]
    assert journal.read_text().endswith("\n")
