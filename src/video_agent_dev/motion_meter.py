"""Global motion between consecutive frames of a clip, and how smooth it is.

One meter for every renderer (ours and the peers in the benchmark): the quality gate's motion
estimator (``video_agent.quality.tracking``) with its ``PRECISE`` settings between consecutive
frames, and the per-frame displacement of four reference points.  Jitter is the RMS deviation of
those displacements from a smooth (polynomial) fit over the clip; a perfect camera scores the
meter's own noise floor (about 0.01 px).

Thread safety: each measurement opens its own container and uses only stateless OpenCV functions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from video_agent.quality import tracking


@dataclass(frozen=True)
class MotionTrack:
    """Per-step similarity transforms of a clip (step i maps frame i onto frame i + 1)."""

    transforms: np.ndarray
    """(frames - 1, 2, 3) affine matrices."""
    size: tuple[int, int]

    def displacements(self) -> np.ndarray:
        """(steps, 4, 2): how four points at the quarter positions move in each step, px."""
        w, h = self.size
        pts = np.array([[w * 0.25, h * 0.25, 1], [w * 0.75, h * 0.25, 1],
                        [w * 0.25, h * 0.75, 1], [w * 0.75, h * 0.75, 1]])
        moved = np.einsum("sij,pj->spi", self.transforms, pts)
        return np.asarray(moved - pts[None, :, :2])

    def mean_shift(self) -> np.ndarray:
        """(steps, 2): the frame centre's displacement per step (translation part), px."""
        w, h = self.size
        centre = np.array([w / 2, h / 2, 1.0])
        return np.asarray(np.einsum("sij,j->si", self.transforms, centre) - centre[:2])

    def scales(self) -> np.ndarray:
        """(steps,): scale factor of each step (> 1 when the picture grows: a push-in)."""
        a = self.transforms
        return np.asarray(np.sqrt(a[:, 0, 0] ** 2 + a[:, 1, 0] ** 2))

    def smoothness(self, degree: int = 7) -> tuple[float, float]:
        """(jitter, largest jump): RMS and largest deviation from a smooth fit, in px."""
        disp = self.displacements().reshape(len(self.transforms), -1)
        t = np.linspace(-1.0, 1.0, len(disp))
        basis = np.polynomial.legendre.legvander(t, min(degree, len(disp) - 1))
        coef, *_ = np.linalg.lstsq(basis, disp, rcond=None)
        resid = disp - basis @ coef
        per_step = np.sqrt((resid.reshape(len(disp), 4, 2) ** 2).sum(axis=2))
        return float(np.sqrt((per_step**2).mean())), float(per_step.max())


def luma_frames(path: str | Path) -> list[np.ndarray]:
    """Every frame's luma plane as uint8 arrays (small clips only: it holds them all)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(video=0)]


def track_motion(frames: list[np.ndarray]) -> MotionTrack:
    """Similarity transform between each pair of consecutive frames."""
    h, w = frames[0].shape[:2]
    out = []
    for index, (prev, nxt) in enumerate(itertools.pairwise(frames)):
        matrix = tracking.similarity(prev, nxt, tracking.PRECISE)
        if matrix is None:
            raise ValueError(f"clip: no measurable global motion from frame {index} to "
                             f"{index + 1} (too few trackable features or no consistent fit)")
        out.append(matrix)
    return MotionTrack(transforms=np.array(out), size=(w, h))


def measure(path: str | Path) -> MotionTrack:
    return track_motion(luma_frames(path))
