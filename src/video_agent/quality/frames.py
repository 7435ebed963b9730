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


def decode_for_analysis(path: str | Path, analysis_width: int = 256) -> AnalysisFrames:
    """Decode every frame of the first video stream into gray and colour thumbnails.

    Decoding errors do not raise: the frames decoded so far are kept and ``error`` says why
    decoding stopped.
    """
    grays: list[np.ndarray] = []
    colors: list[np.ndarray] = []
    times: list[float] = []
    error: str | None = None
    width = height = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = float(stream.time_base or 0) or 1 / 90000
        size: tuple[int, int] | None = None
        # One reformatter per output keeps its scaler context across frames (a fresh one per
        # frame costs more than decoding).
        to_gray, to_color = VideoReformatter(), VideoReformatter()
        try:
            for frame in container.decode(stream):
                if size is None:
                    width, height = frame.width, frame.height
                    size = analysis_size(width, height, analysis_width)
                grays.append(
                    to_gray.reformat(frame, width=size[0], height=size[1], format="gray",
                                     interpolation="AREA").to_ndarray()
                )
                colors.append(
                    to_color.reformat(frame, width=COLOR_SIZE[0], height=COLOR_SIZE[1],
                                      format="rgb24", interpolation="AREA").to_ndarray()
                )
                pts = frame.pts if frame.pts is not None else len(times)
                times.append(pts * time_base)
        except (av.error.FFmpegError, ValueError) as exc:
            error = f"decoding stopped after {len(grays)} frames: {exc}"
    if not grays:
        return AnalysisFrames(
            gray=np.zeros((0, 2, 2), np.uint8), color=np.zeros((0, 36, 64, 3), np.uint8),
            times=np.zeros(0), width=width, height=height,
            error=error or "no frame could be decoded",
        )
    t = np.asarray(times, dtype=np.float64)
    return AnalysisFrames(
        gray=np.stack(grays), color=np.stack(colors), times=t - t[0], width=width,
        height=height, error=error,
    )
