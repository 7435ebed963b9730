"""The gate's one pass on real clips: analysis frames as a separate decode would give, and the
repair written in the same pass, checked by probing and decoding the file it wrote."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from video_agent.quality import QualitySettings, plan_repair, probe, spec_reasons
from video_agent.quality.frames import decode_for_analysis
from video_agent.quality.transcode import one_pass
from video_agent_dev.fakefal.video import render_clip

SETTINGS = QualitySettings()
TARGET = (1024, 576)


def _still() -> bytes:
    rng = np.random.default_rng(3)
    image = cv2.GaussianBlur(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), (0, 0), 4)
    cv2.circle(image, (640, 360), 150, (240, 60, 30), -1)
    return cv2.imencode(".png", image)[1].tobytes()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    still = _still()
    shapes = {"kling": (1280, 720, 30, True), "ltx": (768, 512, 24, False),
              "on_spec": (1024, 576, 24, True)}
    out = {}
    for name, (w, h, fps, audio) in shapes.items():
        out[name] = root / f"{name}.mp4"
        out[name].write_bytes(render_clip(still, width=w, height=h, fps=fps, seconds=5.0,
                                          audio=audio))
    return out


def _luma(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="yuv420p")[:f.height].astype(np.float32)
                for f in container.decode(container.streams.video[0])]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255 ** 2 / max(1e-9, np.mean((a - b) ** 2))))


def test_analysis_only_pass_gives_the_frames_of_a_separate_decode(clips) -> None:
    alone = decode_for_analysis(clips["kling"], SETTINGS.analysis_width)
    result = one_pass(clips["kling"], None, SETTINGS)
    assert result.written is None and result.frames.error is None
    assert np.array_equal(result.frames.gray, alone.gray)
    assert np.array_equal(result.frames.color, alone.color)
    assert np.array_equal(result.frames.times, alone.times)
    assert result.frames.count == 150


def test_repair_written_in_the_analysis_pass_meets_the_spec(clips, tmp_path: Path) -> None:
    src = clips["kling"]
    plan = plan_repair(probe(src), 5.0, SETTINGS, TARGET)
    assert plan.encode and plan.remux
    out = tmp_path / "fixed.mp4"
    result = one_pass(src, plan, SETTINGS, out)
    # the same analysis frames as an analysis-only pass
    assert np.array_equal(result.frames.gray, decode_for_analysis(src).gray)
    assert result.written == out and result.frames_written == 120
    info = probe(out)
    assert spec_reasons(info, SETTINGS, TARGET) == []
    assert (info.width, info.height, info.fps, info.frame_count) == (1024, 576, 24, 120)
    assert info.profile == "High" and info.audio_streams == 0 and info.moov_front
    with av.open(str(out)) as container:
        frame = next(container.decode(container.streams.video[0]))
        assert frame.colorspace == 1 and frame.color_range == 1  # BT.709, limited range
    # each output tick shows the source frame nearest in time, scaled
    source, fixed = _luma(src), _luma(out)
    for k in (0, 37, 119):
        expected = cv2.resize(source[round(k * 30 / 24)], TARGET, interpolation=cv2.INTER_AREA)
        assert _psnr(fixed[k], expected) > 30, k


def test_crop_repair_keeps_the_picture_centred(clips, tmp_path: Path) -> None:
    src = clips["ltx"]  # 3:2, cropped top and bottom to 16:9 and enlarged
    plan = plan_repair(probe(src), 5.0, SETTINGS, TARGET)
    assert plan.geometry is not None and plan.geometry.crop is not None
    out = tmp_path / "fixed.mp4"
    one_pass(src, plan, SETTINGS, out)
    info = probe(out)
    assert spec_reasons(info, SETTINGS, TARGET) == []
    x, y, w, h = plan.geometry.crop
    first_src, first_out = _luma(src)[0], _luma(out)[0]
    expected = cv2.resize(first_src[y:y + h, x:x + w], TARGET, interpolation=cv2.INTER_CUBIC)
    assert _psnr(first_out, expected) > 30


def test_container_only_repair_copies_the_video_packets(clips, tmp_path: Path) -> None:
    src = clips["on_spec"]
    plan = plan_repair(probe(src), 5.0, SETTINGS, TARGET)
    assert plan.remux and not plan.encode
    out = tmp_path / "fixed.mp4"
    result = one_pass(src, plan, SETTINGS, out)
    assert result.frames.count == 120
    info = probe(out)
    assert info.audio_streams == 0 and info.moov_front and info.frame_count == 120

    def packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]

    assert packets(out) == packets(src)


def test_an_encoder_error_midway_leaves_nothing_on_disk(clips, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from video_agent.adapters.render.encode import ClipEncoder

    real = ClipEncoder.write_frame

    def failing(self: ClipEncoder, frame: av.VideoFrame) -> None:
        if self.frames == 60:
            raise OSError("disk full")
        real(self, frame)

    monkeypatch.setattr(ClipEncoder, "write_frame", failing)
    plan = plan_repair(probe(clips["kling"]), 5.0, SETTINGS, TARGET)
    out = tmp_path / "fixed.mp4.partial"
    with pytest.raises(OSError, match="disk full"):
        one_pass(clips["kling"], plan, SETTINGS, out)
    assert list(tmp_path.iterdir()) == []
