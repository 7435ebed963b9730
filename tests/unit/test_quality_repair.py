"""Repair planning and spec checks of the quality gate, from probe data alone."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from video_agent.models import ProbeInfo
from video_agent.quality import QualityError, QualitySettings, plan_repair, spec_reasons
from video_agent.quality.probe import mp4_boxes
from video_agent.quality.repair import plan_geometry

TARGET = (1024, 576)
S = QualitySettings()


def info(**kw: object) -> ProbeInfo:
    base = dict(container="mov,mp4", codec="h264", pix_fmt="yuv420p", width=1024, height=576,
                fps=24.0, real_fps=24.0, frame_count=144, duration=6.0, bitrate=3_500_000,
                audio_streams=0, moov_front=True)
    base.update(kw)
    return ProbeInfo(**base)  # type: ignore[arg-type]


def test_spec_clip_needs_nothing() -> None:
    plan = plan_repair(info(), 6.0, S, TARGET)
    assert not plan.needed and plan.steps == [] and plan.refusals == []
    assert spec_reasons(info(), S, TARGET) == []


@pytest.mark.parametrize(("kw", "step"), [
    ({"width": 1280, "height": 720}, "scaled 1280x720 -> 1024x576"),
    ({"width": 768, "height": 512}, "cropped 768x512 -> 768x432"),
    ({"width": 1024, "height": 1024}, "padded -> 1024x576 (pillarbox"),
    ({"fps": 30.0, "real_fps": 30.0, "frame_count": 180}, "resampled 30 -> 24 fps"),
    ({"bitrate": 1_100_000}, "bitrate 1.1 -> 3.5 Mbps"),
    ({"codec": "hevc"}, "re-encoded hevc/yuv420p -> h264/yuv420p"),
    ({"duration": 5.7}, "retimed 5.70 -> 6.00 s (slower by 5%)"),
    ({"duration": 5.0}, "retimed 5.00 -> 6.00 s (declared slow-down by 20%"),
    ({"duration": 6.9}, "trimmed 6.90 -> 6.00 s"),
])
def test_each_transcode_repair_is_named(kw: dict, step: str) -> None:
    plan = plan_repair(info(**kw), 6.0, S, TARGET)
    assert plan.encode and plan.refusals == []
    assert any(step in s for s in plan.steps), plan.steps


@pytest.mark.parametrize(("kw", "planned", "why"), [
    ({"width": 576, "height": 1024}, 6.0, "bars over 68% of the frame"),
    ({"width": 320, "height": 180}, 6.0, "enlarged 3.2x"),
    ({"duration": 3.0}, 6.0, "gap 3.00 s too large"),
])
def test_a_repair_that_would_bring_a_defect_is_refused(kw: dict, planned: float, why: str
                                                        ) -> None:
    plan = plan_repair(info(**kw), planned, S, TARGET)
    assert any(why in r for r in plan.refusals), plan.refusals


def test_no_hold_is_longer_than_the_frozen_run_limit() -> None:
    held = plan_repair(info(duration=4.0, frame_count=96), 4.45, S, TARGET)
    assert held.steps == ["held last frame 0.45 s to reach 4.45 s"]
    for duration in np.arange(3.0, 6.0, 0.05):
        plan = plan_repair(info(duration=float(duration)), 6.0, S, TARGET)
        for step in plan.steps:
            if step.startswith("held last frame"):
                assert float(step.split()[3]) < S.max_frozen_s, step


def test_a_short_clip_is_slowed_down_and_says_so() -> None:
    plan = plan_repair(info(duration=3.0, frame_count=72), 4.0, S, TARGET)
    assert plan.refusals == [] and plan.step_properties == ["duration"]
    assert plan.steps[0].startswith("retimed 3.00 -> 4.00 s (declared slow-down by 33%")
    assert plan.speed == pytest.approx(4 / 3)


def test_container_only_repairs_remux_without_encoding() -> None:
    plan = plan_repair(info(audio_streams=1, moov_front=False), 6.0, S, TARGET)
    assert plan.remux and not plan.encode
    assert plan.steps == ["dropped 1 audio stream", "moved moov to front"]


def test_large_duration_gap_is_refused_not_stretched() -> None:
    plan = plan_repair(info(duration=5.0), 8.0, S, TARGET)
    assert plan.refusals and "gap 3.00 s too large" in plan.refusals[0]


def test_small_gap_inside_tolerance_keeps_the_clip_length() -> None:
    plan = plan_repair(info(duration=5.9, width=1280, height=720), 6.0, S, TARGET)
    assert plan.out_frames == round(5.9 * 24)
    assert not any("retimed" in s or "held" in s for s in plan.steps)


def test_spec_reasons_name_field_and_value() -> None:
    reasons = spec_reasons(info(fps=30.0, bitrate=6_000_000, audio_streams=1), S, TARGET)
    assert "frame rate: fps 30 != 24" in reasons
    assert any(r.startswith("bitrate: bitrate 6.00 Mbps outside 2-5 Mbps") for r in reasons)
    assert "audio: 1 audio stream(s)" in reasons


@given(w=st.integers(64, 4096), h=st.integers(64, 4096))
def test_geometry_always_lands_on_the_target_size(w: int, h: int) -> None:
    found = plan_geometry(info(width=w, height=h), TARGET, S.max_crop_loss)
    if found is None:
        assert (w, h) == TARGET
        return
    _, geo = found
    if geo.crop is not None:
        x, y, cw, ch = geo.crop
        assert x >= 0 and y >= 0 and x + cw <= w and y + ch <= h
        assert 1 - (cw * ch) / (w * h) <= S.max_crop_loss + 0.01
    sw, sh = geo.scaled
    left, top = geo.pad
    assert sw <= TARGET[0] and sh <= TARGET[1]
    assert left >= 0 and top >= 0 and left + sw <= TARGET[0] and top + sh <= TARGET[1]


def box(kind: bytes, payload: int) -> bytes:
    return struct.pack(">I4s", 8 + payload, kind) + b"\0" * payload


def test_mp4_boxes_find_moov_order_and_truncation(tmp_path: Path) -> None:
    good = tmp_path / "a.mp4"
    good.write_bytes(box(b"ftyp", 8) + box(b"mdat", 100) + box(b"moov", 20))
    assert [k for k, _, _ in mp4_boxes(good)] == [b"ftyp", b"mdat", b"moov"]
    cut = tmp_path / "b.mp4"
    cut.write_bytes((box(b"ftyp", 8) + box(b"moov", 20) + box(b"mdat", 100))[:-30])
    with pytest.raises(QualityError, match="truncated file: box 'mdat'"):
        mp4_boxes(cut)
    text = tmp_path / "c.mp4"
    text.write_text("hello, not a box at all")
    assert mp4_boxes(text) == []


def test_settings_refuse_unknown_fields() -> None:
    with pytest.raises(ValueError, match="nope"):
        QualitySettings(nope=1)  # type: ignore[call-arg]
