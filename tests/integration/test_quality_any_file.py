"""Any file in, never a crash: stills, GIFs, empty, text, truncated, audio-only, odd and huge
sizes, one-frame videos and random bytes all fail with a one-line reason naming the property;
``video-agent assess`` exits 1 without a traceback."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from defect_clips import pan_frames, write_clip
from defect_clips import test_image as drawn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from video_agent.cli import app
from video_agent.models import MotionSpec, SceneSpec, VideoParams
from video_agent.quality import assess_clip

PARAMS = VideoParams(scene=SceneSpec(content="any file", number=1, image_url=""),
                     motion=MotionSpec(type="pan", duration=4.0))


def _encode(path: Path, frames: list[np.ndarray], codec: str = "libx264", fps: int = 24,
            pix_fmt: str = "yuv420p", fmt: str | None = None) -> Path:
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = pix_fmt
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def _audio_only(path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48000)
        tone = (0.1 * np.sin(np.arange(48000) / 48000 * 2 * np.pi * 440)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            frame = av.AudioFrame.from_ndarray(tone[start:start + 1024].reshape(1, -1),
                                               format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def _png(path: Path) -> Path:
    cv2.imwrite(str(path.with_suffix(".png")), drawn(2, (640, 360)))
    path.write_bytes(path.with_suffix(".png").read_bytes())
    return path


def _truncated(path: Path) -> Path:
    full = write_clip(path.with_name("full.mp4"), pan_frames(drawn(3), 48))
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    return path


def _small(w: int, h: int, n: int) -> list[np.ndarray]:
    return [cv2.resize(drawn(4, (640, 400)), (w, h)) for _ in range(n)]


WRONG_MEDIA = {
    "png_named_mp4": (_png, "file: "),
    "jpeg": (lambda p: (cv2.imwrite(str(p.with_suffix(".jpg")), drawn(5, (320, 200))),
                        p.with_suffix(".jpg"))[1], "file: "),
    "zero_bytes": (lambda p: (p.write_bytes(b""), p)[1], "file: empty file"),
    "text": (lambda p: (p.write_text("not a video\n" * 40), p)[1], "file: not a readable video"),
    "truncated": (_truncated, "file: truncated"),
    "audio_only": (_audio_only, "file: no video stream"),
    "one_frame": (lambda p: _encode(p, _small(1024, 576, 1)), "file: 1 frame"),
    "gif_animation": (lambda p: _encode(p.with_suffix(".gif"), _small(320, 180, 30), "gif",
                                        pix_fmt="rgb8", fmt="gif"), "resolution/aspect: "),
    "odd_size_1023x577": (lambda p: _encode(p, _small(1023, 577, 96), pix_fmt="yuv444p"), ""),
    "tiny_16x16": (lambda p: _encode(p, _small(16, 16, 96)), "resolution/aspect: "),
    "huge_9000x5000": (lambda p: _encode(p, _small(9000, 5000, 2)),
                       "resolution/aspect: "),
}


@pytest.mark.parametrize("kind", list(WRONG_MEDIA))
def test_real_but_wrong_media_fails_cleanly(tmp_path: Path, kind: str) -> None:
    make, expected = WRONG_MEDIA[kind]
    path = make(tmp_path / f"{kind}.mp4")
    report = assess_clip(path, None, PARAMS, work_dir=tmp_path / "w")
    if kind == "odd_size_1023x577":  # a real video of an odd size: repaired, judged again
        assert report.verdict in ("repaired", "fail"), report
        assert all(":" in r for r in report.reasons)
        return
    assert report.verdict == "fail"
    assert report.reasons and all("\n" not in r for r in report.reasons)
    assert any(r.startswith(expected) for r in report.reasons), report.reasons
    assert not list((tmp_path / "w").glob("*")) if (tmp_path / "w").exists() else True

    result = CliRunner().invoke(app, ["assess", str(path), "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 1, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit), result.output


@pytest.fixture(scope="module")
def good_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("any") / "good.mp4"
    return write_clip(path, pan_frames(drawn(6), 24)).read_bytes()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_bytes_raise_out_of_the_gate(tmp_path: Path, good_mp4: bytes, data: st.DataObject
                                        ) -> None:
    """Random bytes, and a real MP4 cut short, overwritten or spliced, never raise."""
    mode = data.draw(st.sampled_from(["random", "cut", "overwrite", "splice"]))
    if mode == "random":
        blob = data.draw(st.binary(max_size=4096))
    elif mode == "cut":
        blob = good_mp4[:data.draw(st.integers(0, len(good_mp4)))]
    else:
        at = data.draw(st.integers(0, len(good_mp4) - 1))
        noise = data.draw(st.binary(min_size=1, max_size=512))
        blob = (good_mp4[:at] + noise + good_mp4[at + len(noise):] if mode == "overwrite"
                else good_mp4[:at] + noise + good_mp4[at:])
    path = tmp_path / "fuzz.mp4"
    path.write_bytes(blob)
    report = assess_clip(path, None, PARAMS, work_dir=tmp_path / "w")
    assert report.verdict in ("pass", "repaired", "fail")
    assert all("\n" not in r and ": " in r for r in report.reasons), report.reasons
    if report.verdict == "fail":
        assert report.reasons
