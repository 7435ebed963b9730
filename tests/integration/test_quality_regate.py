"""A repaired clip is judged again in full on the pictures handed to its encoder, and a few
decoded keyframes confirm the written file holds them: a defect the repair brings is refused,
and a file that does not hold what was encoded is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from defect_clips import _image, pan_frames, source_image, write_clip

from video_agent.adapters.render.encode import ClipEncoder
from video_agent.models import MotionSpec, QualityReport, SceneSpec, VideoParams
from video_agent.quality import QualitySettings, assess_clip
from video_agent.quality import transcode as t
from video_agent.quality.assess import read_gray, read_rgb
from video_agent.quality.checks import measure_checks
from video_agent.quality.confirm import confirm_written
from video_agent.quality.frames import decode_for_analysis

SETTINGS = QualitySettings()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 6 s 1280x720 30 fps pan (needs a scale and a rate change) and its still."""
    root = tmp_path_factory.mktemp("regate")
    still = source_image(root)
    clip = write_clip(root / "off.mp4", pan_frames(_image(), 180, size=(1280, 720)), fps=30)
    return clip, still


def _assess(clip: Path, still: Path, work: Path) -> QualityReport:
    params = VideoParams(scene=SceneSpec(content="regate", number=1, image_url=str(still)),
                         motion=MotionSpec(type="pan", duration=6.0))
    return assess_clip(clip, still, params, work_dir=work)


def _rewriting(change: Callable[[int, np.ndarray], np.ndarray | None]
               ) -> Callable[[t._Resampler, av.VideoFrame], None]:
    """A ``_Resampler._write`` that hands ``change(tick, picture)`` (when not None) to the
    encoder instead of the picture it was given."""
    original = t._Resampler._write

    def write(self: t._Resampler, frame: av.VideoFrame) -> None:
        block = change(self.emitted, frame.to_ndarray())
        if block is not None:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(block), format="yuv420p")
        original(self, frame)

    return write


def test_a_repaired_clip_is_judged_on_what_was_encoded_and_the_file_agrees(
        inputs, tmp_path: Path) -> None:
    clip, still = inputs
    report = _assess(clip, still, tmp_path)
    assert report.verdict == "repaired", report.reasons
    assert report.metrics["repair_mismatch"] < SETTINGS.max_repair_mismatch
    assert report.probe is not None and (report.probe.width, report.probe.fps) == (1024, 24.0)
    # Judging the written file after a full decode finds what judging the fed frames found.
    values, checks = measure_checks(decode_for_analysis(report.path), read_gray(still),
                                    SETTINGS, source_rgb=read_rgb(still))
    assert [c.reason for c in checks if c.status == "failed"] == []
    assert values["frames_decoded"] == report.probe.frame_count == 144
    assert abs(values["jitter_px"] - report.metrics["repaired_jitter_px"]) < 0.1
    assert values["frozen_max_s"] == report.metrics["repaired_frozen_max_s"]


def test_a_repair_that_freezes_the_picture_is_refused(inputs, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    clip, still = inputs
    held: list[np.ndarray] = []

    def freeze(tick: int, block: np.ndarray) -> np.ndarray | None:
        if tick == 40:
            held.append(block.copy())
        return held[0] if 40 <= tick < 60 else None  # 20 ticks: 0.83 s at 24 fps

    monkeypatch.setattr(t._Resampler, "_write", _rewriting(freeze))
    report = _assess(clip, still, tmp_path)
    assert report.verdict == "fail"
    frozen = [c for c in report.checks if c.property == "frozen" and c.status == "failed"]
    assert frozen and frozen[0].action == "repair rejected"
    assert "after repair" in frozen[0].reason and "resampled 30 -> 24 fps" in frozen[0].reason
    assert not list(tmp_path.glob("*.repaired-*.mp4"))


def test_a_repair_that_brings_black_frames_is_refused(inputs, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    clip, still = inputs

    def black(tick: int, block: np.ndarray) -> np.ndarray | None:
        if not 70 <= tick < 73:
            return None
        out = np.full_like(block, 128)
        out[:576] = 16
        return out

    monkeypatch.setattr(t._Resampler, "_write", _rewriting(black))
    report = _assess(clip, still, tmp_path)
    assert report.verdict == "fail"
    assert any(r.startswith("black: 3 black frames") and "after repair" in r
               for r in report.reasons), report.reasons


def test_a_file_that_does_not_hold_the_encoded_frames_is_refused(
        inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip, still = inputs
    original = ClipEncoder.write_frame

    def negative(self: ClipEncoder, frame: av.VideoFrame) -> None:
        block = frame.to_ndarray()
        original(self, av.VideoFrame.from_ndarray(255 - block, format="yuv420p"))

    monkeypatch.setattr(ClipEncoder, "write_frame", negative)
    report = _assess(clip, still, tmp_path)
    assert report.verdict == "fail"
    assert any(r.startswith("file: repaired file differs from the frames encoded")
               for r in report.reasons), report.reasons
    assert report.metrics["repair_mismatch"] > SETTINGS.max_repair_mismatch


def test_confirmation_samples_keyframes_and_sees_a_shift(inputs, tmp_path: Path) -> None:
    clip, _ = inputs
    fed = decode_for_analysis(clip, SETTINGS.analysis_width)
    same = confirm_written(clip, fed, SETTINGS.analysis_width)
    assert same.error is None and same.sampled >= 1 and same.diff == 0.0
    fed.gray = np.roll(fed.gray, 20, axis=0)  # every picture 20 ticks late
    fed.color = np.roll(fed.color, 20, axis=0)
    shifted = confirm_written(clip, fed, SETTINGS.analysis_width)
    assert shifted.diff > SETTINGS.max_repair_mismatch
