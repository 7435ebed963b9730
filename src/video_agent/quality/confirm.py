"""Confirm that a written repair holds the pictures its encoder was given, cheaply.

The gate judges a repaired clip on the analysis frames of the pictures it handed to the encoder
(gathered during the one pass). This checks the file agrees: a few keyframes of the written clip
(the first, one in the middle and the last: each decodes on its own) are decoded and compared,
as analysis frames, with the frames fed in at the same ticks.

Thread safety: each call opens its own container and reformatters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from video_agent.quality.frames import AnalysisCollector, AnalysisFrames


@dataclass
class Confirmation:
    """How closely the sampled frames of the file match the frames fed to its encoder."""

    diff: float
    """Worst mean absolute difference (0-255) of a sampled frame's gray and colour thumbnails
    to the fed frame of the same tick."""
    sampled: int
    """Frames decoded and compared."""
    error: str | None = None
    """Why the file could not be compared (no keyframe, a tick past the fed frames), or None."""


def _keyframe_times(container: av.container.InputContainer, stream: av.video.VideoStream
                    ) -> list[int]:
    """Presentation timestamps of the stream's keyframes (packets only: nothing decoded)."""
    return sorted(packet.pts for packet in container.demux(stream)
                  if packet.is_keyframe and packet.pts is not None)


def _samples(keys: list[int], wanted: int) -> list[int]:
    """Up to ``wanted`` keyframes spread over the clip: the first, the last and between."""
    if len(keys) <= wanted:
        return keys
    picks = np.linspace(0, len(keys) - 1, wanted).round().astype(int)
    return [keys[i] for i in sorted(set(picks.tolist()))]


def confirm_written(path: str | Path, fed: AnalysisFrames, analysis_width: int,
                    samples: int = 3) -> Confirmation:
    """Decode up to ``samples`` keyframes of ``path`` and compare them with ``fed``.

    Args:
        path: the written clip.
        fed: analysis frames of the pictures handed to the encoder (times from 0).
        analysis_width: width of the gray analysis frames (as ``fed`` was made).
        samples: keyframes to decode.
    """
    worst, count = 0.0, 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"  # frame threads would decode frames past each keyframe
        tb = float(stream.time_base or 0) or 1 / 90000
        keys = _keyframe_times(container, stream)
        if not keys:
            return Confirmation(0.0, 0, "no keyframe in the written clip")
        first = keys[0]
        step = float(np.median(np.diff(fed.times))) if fed.count > 1 else 1.0
        for pts in _samples(keys, samples):
            container.seek(pts, stream=stream, backward=True, any_frame=False)
            frame = next((f for f in container.decode(stream)
                          if f.pts is not None and f.pts >= pts), None)
            if frame is None or frame.pts is None:
                return Confirmation(worst, count, f"keyframe at {pts * tb:.2f} s does not decode")
            at = (frame.pts - first) * tb
            tick = int(np.argmin(np.abs(fed.times - at)))
            if abs(fed.times[tick] - at) > 0.5 * step:
                return Confirmation(worst, count, f"frame at {at:.2f} s is not among the "
                                                  f"{fed.count} frames written")
            collector = AnalysisCollector(analysis_width, tb)
            collector.add(frame)
            got = collector.finish()
            gray = np.abs(got.gray[0].astype(np.int16) - fed.gray[tick]).mean()
            color = np.abs(got.color[0].astype(np.int16) - fed.color[tick]).mean()
            worst = max(worst, float(gray), float(color))
            count += 1
    return Confirmation(worst, count)
