"""A clip re-encoded by its repair is measured once, on the pictures handed to its encoder: the
content checks run on those alone, and a defect the source carries is still caught there."""

from __future__ import annotations

from pathlib import Path

import pytest
from defect_clips import _black, _image, pan_frames, source_image, write_clip

from conftest import drain_cpu_pools
from video_agent.models import MotionSpec, SceneSpec, VideoParams
from video_agent.quality import assess, assess_clip


def _params(still: Path) -> VideoParams:
    return VideoParams(scene=SceneSpec(content="once", number=1, image_url=str(still)),
                       motion=MotionSpec(type="pan", duration=4.0))


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the frame count of every clip ``measure_checks`` is given (from now on: no gate
    an earlier test left running in the CPU pool is counted)."""
    drain_cpu_pools()
    seen: list[int] = []
    real = assess.measure_checks

    def counted(frames, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(frames.count)
        return real(frames, *args, **kwargs)

    monkeypatch.setattr(assess, "measure_checks", counted)
    return seen


def test_a_re_encoded_clip_is_measured_once_on_what_was_encoded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    still = source_image(tmp_path)
    clip = write_clip(tmp_path / "off.mp4", pan_frames(_image(), 120, size=(1280, 720)), fps=30)
    seen = _counting(monkeypatch)
    report = assess_clip(clip, still, _params(still), work_dir=tmp_path / "w")
    assert report.verdict == "repaired", report.reasons
    assert seen == [96], seen  # the 96 pictures at 24 fps, not the 120 decoded at 30 fps
    assert report.metrics["frames_decoded"] == 120
    assert report.metrics["repaired_jitter_px"] == report.metrics["jitter_px"]
    colour = [c for c in report.checks if c.property == "colour"]
    assert colour and all(c.status == "passed" for c in colour)


def test_a_source_defect_is_caught_on_the_re_encoded_pictures(tmp_path: Path) -> None:
    still = source_image(tmp_path)
    frames = _black(pan_frames(_image(), 120, size=(1280, 720)), 60, 6)  # 0.2 s of black
    clip = write_clip(tmp_path / "black.mp4", frames, fps=30)
    report = assess_clip(clip, still, _params(still), work_dir=tmp_path / "w")
    assert report.verdict == "fail"
    black = [c for c in report.checks if c.property == "black" and c.status == "failed"]
    assert black and black[0].action == "repair rejected"
    assert black[0].reason.startswith("black: ") and "after repair (" in black[0].reason
    assert "resampled 30 -> 24 fps" in black[0].reason
    assert report.path == str(clip) and not list((tmp_path / "w").glob("*.mp4"))
