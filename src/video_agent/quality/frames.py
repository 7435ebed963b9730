"""Decode a clip once into the small frames every metric works on.

Thread safety: each call opens its own container and its own reformatters (a reformatter keeps a
scaler context across frames, so it must never be shared between threads or clips).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

COLOR_SIZE = (64, 36)
"""Width x height of the colour thumbnails used for colour flicker and drift."""


@dataclass
class AnalysisFrames:
    """Downscaled frames of one clip, decoded once.

    Attributes:
        gray: ``(n, h, w)`` uint8 luma at the analysis width (full range).
        color: ``(n, 36, 64, 3)`` uint8 RGB thumbnails.
        times: ``(n,)`` presentation times in seconds, starting at 0.
        width, height: size of the decoded frames (before downscaling).
        error: why decoding stopped early, or None.
    """

    gray: np.ndarray
    color: np.ndarray
    times: np.ndarray
    width: int
    height: int
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return int(self.gray.shape[0])

    @property
    def scale(self) -> float:
        """Factor from analysis pixels to pixels of a 1024-wide frame."""
        return 1024.0 / self.gray.shape[2] if self.count else 1.0


def analysis_size(width: int, height: int, analysis_width: int) -> tuple[int, int]:
    """Size of the gray analysis frames: ``analysis_width`` wide, aspect kept, even height."""
    w = min(analysis_width, width)
    h = max(2, round(height * w / width / 2) * 2)
    return w, h


class AnalysisCollector:
    """Turns decoded frames, one at a time, into the analysis frames of one clip.

    Used by ``decode_for_analysis`` and by the one-pass transcode, so both feed ``measure`` the
    same frames. One collector per clip and thread (it keeps scaler contexts).
    """

    def __init__(self, analysis_width: int = 256, time_base: float = 1 / 90000) -> None:
        self.analysis_width = analysis_width
        self.time_base = time_base
        self.width = self.height = 0
        self._size: tuple[int, int] | None = None
        self._grays: list[np.ndarray] = []
        self._colors: list[np.ndarray] = []
        self._times: list[float] = []
        # One reformatter per output keeps its scaler context across frames (a fresh one per
        # frame costs more than decoding); one thread each, as slicing a thumbnail's scale
        # over threads costs more CPU than it saves.
        self._to_gray, self._to_color = VideoReformatter(), VideoReformatter()

    @property
    def count(self) -> int:
        return len(self._grays)

    def add(self, frame: av.VideoFrame) -> float:
        """Keep the thumbnails of one decoded frame; returns its time in seconds."""
        if self._size is None:
            self.width, self.height = frame.width, frame.height
            self._size = analysis_size(frame.width, frame.height, self.analysis_width)
        w, h = self._size
        self._grays.append(self._to_gray.reformat(
            frame, width=w, height=h, format="gray", interpolation="AREA",
            threads=1).to_ndarray())
        self._colors.append(self._to_color.reformat(
            frame, width=COLOR_SIZE[0], height=COLOR_SIZE[1], format="rgb24",
            interpolation="AREA", threads=1).to_ndarray())
        pts = frame.pts if frame.pts is not None else len(self._times)
        self._times.append(pts * self.time_base)
        return self._times[-1]

    def finish(self, error: str | None = None) -> AnalysisFrames:
        """The collected frames (times from 0), with ``error`` when decoding stopped early."""
        if not self._grays:
            return AnalysisFrames(
                gray=np.zeros((0, 2, 2), np.uint8), color=np.zeros((0, 36, 64, 3), np.uint8),
                times=np.zeros(0), width=self.width, height=self.height,
                error=error or "no frame could be decoded",
            )
        t = np.asarray(self._times, dtype=np.float64)
        return AnalysisFrames(
            gray=np.stack(self._grays), color=np.stack(self._colors), times=t - t[0],
            width=self.width, height=self.height, error=error,
        )


def decode_for_analysis(path: str | Path, analysis_width: int = 256) -> AnalysisFrames:
    """Decode every frame of the first video stream into gray and colour thumbnails.

    Decoding errors do not raise: the frames decoded so far are kept and ``error`` says why
    decoding stopped.
    """
    error: str | None = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        collector = AnalysisCollector(analysis_width,
                                      float(stream.time_base or 0) or 1 / 90000)
        try:
            for frame in container.decode(stream):
                collector.add(frame)
        except (av.error.FFmpegError, ValueError) as exc:
            error = f"decoding stopped after {collector.count} frames: {exc}"
    return collector.finish(error)
