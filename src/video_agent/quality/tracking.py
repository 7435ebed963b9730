"""Global motion between two frames: features tracked with pyramidal Lucas-Kanade and a
similarity transform (rotation, uniform scale, translation) fitted to them with RANSAC.

The one motion estimator of the project. The quality gate uses ``GATE`` (fast, on small analysis
frames); the renderer benchmark's smoothness meter (``video_agent_dev.motion_meter``) uses
``PRECISE`` (more features, tighter RANSAC, refined fit) to resolve hundredths of a pixel.

Thread safety: only stateless OpenCV functions, so it can run in many threads at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Tracking:
    """How features are found, followed and fitted."""

    max_features: int
    min_distance: int
    block_size: int
    window: int
    ransac_px: float
    levels: int = 3
    """Pyramid levels above the frame: the reach of one step, about half the window times
    ``2 ** (levels + 1) - 1`` pixels."""
    min_inliers: int = 0
    """Fewer RANSAC inliers than this: no consistent motion (0: not checked)."""
    precise: bool = False
    """Stricter Lucas-Kanade stop, more RANSAC iterations and a refined fit."""


GATE = Tracking(max_features=200, min_distance=6, block_size=5, window=15, ransac_px=1.0,
                levels=2, min_inliers=6)
"""Two levels reach about 50 analysis pixels a frame (200 of a 1024-wide frame); on 88 clips
of the renderer's fast moves the jitter differs from three levels' by at most 0.005 px."""
PRECISE = Tracking(max_features=600, min_distance=8, block_size=7, window=21, ransac_px=0.5,
                   precise=True)
MIN_TRACKED = 8
"""Fewer features than this (found, then followed): the pair cannot be measured."""


def similarity(prev: np.ndarray, cur: np.ndarray, how: Tracking = GATE) -> np.ndarray | None:
    """The 2x3 similarity transform mapping ``prev`` onto ``cur`` (8-bit grey frames), or None
    when too few features can be followed or no consistent motion fits them."""
    points = cv2.goodFeaturesToTrack(prev, maxCorners=how.max_features, qualityLevel=0.01,
                                     minDistance=how.min_distance, blockSize=how.block_size)
    if points is None or len(points) < MIN_TRACKED:
        return None
    window = (how.window, how.window)
    # OpenCV's stubs do not say that nextPts may be None (an output only, without flags).
    if how.precise:
        stop = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 0.001)
        moved, status, _ = cv2.calcOpticalFlowPyrLK(  # type: ignore[call-overload]
            prev, cur, points, None, winSize=window, maxLevel=how.levels, criteria=stop)
    else:
        moved, status, _ = cv2.calcOpticalFlowPyrLK(  # type: ignore[call-overload]
            prev, cur, points, None, winSize=window, maxLevel=how.levels)
    ok = status.ravel() == 1
    if ok.sum() < MIN_TRACKED:
        return None
    if how.precise:
        matrix, inliers = cv2.estimateAffinePartial2D(
            points[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=how.ransac_px,
            maxIters=4000, confidence=0.999, refineIters=20)
    else:
        matrix, inliers = cv2.estimateAffinePartial2D(
            points[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=how.ransac_px)
    if matrix is None or inliers is None or inliers.sum() < how.min_inliers:
        return None
    return np.asarray(matrix, dtype=np.float64)
