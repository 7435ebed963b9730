"""H.264 encoding with PyAV: High profile, yuv420p, BT.709 limited range, exact 24 fps.

Frames arrive as I420 arrays (a ``(H * 3 // 2, W)`` uint8 block: Y, then U, then V) already in
BT.709 limited range, so the encoder does no colour conversion of its own.

Rate control: an average bitrate with a VBV cap over a 2 s buffer, signalled as a constant-rate
HRD so x264 pads with filler data when the picture is too easy to spend the budget on.  Without
the filler a smooth gradient lands near 2 Mbps and a flat or barely-moving picture far below it
(measured: 0.67 Mbps for a 6 s "static" hold on a gradient); with it every clip lands at the
target whatever the content, while detailed pictures get all of it.

Thread safety: a ``ClipEncoder`` (its PyAV container and codec context) belongs to one clip and
is driven by one thread; nothing is shared between encoders, so clips encode in parallel.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import cv2
import numpy as np

# BT.709 RGB -> Y'CbCr, rows Y, Cb, Cr, applied to 0-1 values.
_BT709 = np.array([[0.2126, 0.7152, 0.0722],
                   [-0.2126 / 1.8556, -0.7152 / 1.8556, 0.5],
                   [0.5, -0.7152 / 1.5748, -0.0722 / 1.5748]])
# Full-range 8-bit RGB to limited-range 8-bit Y'CbCr (Y 16-235, Cb/Cr 16-240), with offsets.
RGB_TO_YUV709 = np.hstack([
    _BT709 * np.array([[219.0], [224.0], [224.0]]) / 255.0,
    np.array([[16.0], [128.0], [128.0]]),
]).astype(np.float32)

AVCOL_PRI_BT709 = AVCOL_TRC_BT709 = AVCOL_SPC_BT709 = 1
AVCOL_RANGE_MPEG = 1


@dataclass(frozen=True)
class EncodeSettings:
    """x264 settings of one clip; defaults sit in the middle of the spec's 2-5 Mbps band."""

    fps: int = 24
    bitrate: int = 3_500_000
    bufsize: int = 7_000_000
    preset: str = "fast"
    gop: int = 48
    """Keyframe every 2 s: seeking in a preview lands within 2 s of any point."""
    threads: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"codec": "libx264", "profile": "high", "pix_fmt": "yuv420p",
                "colour": "bt709/limited", "fps": self.fps, "bitrate": self.bitrate,
                "maxrate": self.bitrate, "bufsize": self.bufsize, "hrd": "cbr",
                "preset": self.preset, "gop": self.gop}


def rgb_to_yuv444(rgb: np.ndarray) -> np.ndarray:
    """Full-range RGB uint8 (H, W, 3) -> BT.709 limited-range Y, Cb, Cr planes (H, W, 3) uint8."""
    return cv2.transform(rgb, RGB_TO_YUV709)


def rgb_to_i420(rgb: np.ndarray) -> np.ndarray:
    """Full-range RGB uint8 -> one I420 block in BT.709 limited range (chroma area-averaged)."""
    h, w = rgb.shape[:2]
    yuv = rgb_to_yuv444(rgb)
    chroma = cv2.resize(yuv[:, :, 1:], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return pack_i420(yuv[:, :, 0], chroma)


def pack_i420(luma: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """Y plane (H, W) and interleaved CbCr (H/2, W/2, 2) -> an I420 block (H * 3 / 2, W)."""
    h, w = luma.shape
    out = np.empty((h * 3 // 2, w), dtype=np.uint8)
    out[:h] = luma
    quarter = (h // 2) * (w // 2)
    flat = out[h:].reshape(-1)
    flat[:quarter] = chroma[:, :, 0].reshape(-1)
    flat[quarter:] = chroma[:, :, 1].reshape(-1)
    return out


class ClipEncoder:
    """Writes I420 frames to an MP4 (moov at the front, no audio), one exact tick per frame."""

    def __init__(self, path: str | Path, size: tuple[int, int],
                 settings: EncodeSettings | None = None) -> None:
        width, height = size
        if width % 2 or height % 2:
            raise ValueError(f"size: {width}x{height} must be even in both dimensions")
        self.settings = s = settings or EncodeSettings()
        self.size = size
        self.frames = 0
        self._container = av.open(str(path), mode="w", format="mp4",
                                  options={"movflags": "+faststart"})
        stream = self._container.add_stream("libx264", rate=s.fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        ctx = stream.codec_context
        ctx.time_base = Fraction(1, s.fps)
        ctx.bit_rate = s.bitrate
        ctx.gop_size = s.gop
        ctx.thread_count = s.threads
        ctx.color_primaries = AVCOL_PRI_BT709
        ctx.color_trc = AVCOL_TRC_BT709
        ctx.colorspace = AVCOL_SPC_BT709
        ctx.color_range = AVCOL_RANGE_MPEG
        ctx.options = {
            "profile": "high", "preset": s.preset, "maxrate": str(s.bitrate),
            "bufsize": str(s.bufsize), "keyint_min": str(s.fps), "sc_threshold": "0",
            "x264-params": "nal-hrd=cbr",
        }
        self._stream = stream

    def write(self, i420: np.ndarray) -> None:
        self.write_frame(av.VideoFrame.from_ndarray(i420, format="yuv420p"))

    def write_frame(self, frame: av.VideoFrame) -> None:
        """Encode a yuv420p frame of the clip's size (BT.709 limited range) as the next tick."""
        frame.pts = self.frames
        frame.time_base = Fraction(1, self.settings.fps)
        frame.color_range = AVCOL_RANGE_MPEG
        frame.colorspace = AVCOL_SPC_BT709
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self._container is None:
            return
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None  # type: ignore[assignment]

    def abort(self) -> None:
        """Close without flushing (after an error); the file is left incomplete."""
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None  # type: ignore[assignment]

    def __enter__(self) -> ClipEncoder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
