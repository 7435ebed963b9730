"""In-between frames for a declared slow-down: the camera move carried on, not a stutter.

A clip slowed down by repeating frames moves, stops, moves: the gate's own jitter check sees it.
Each in-between frame here is both neighbours moved part of the way along the global motion
between them (a similarity transform tracked on small gray copies) and blended, so a camera move
over a still keeps its smooth path.

Thread safety: only stateless OpenCV functions; one call per frame pair, from any thread.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

_TRACK_WIDTH = 320


def pair_motion(a: np.ndarray, b: np.ndarray) -> npt.NDArray[np.float64] | None:
    """2x3 similarity transform taking ``a``'s pixels to ``b``'s (RGB or single-channel luma
    frames of the same size), or None."""
    if a.ndim == 3:
        a, b = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    k = min(1.0, _TRACK_WIDTH / a.shape[1])
    ga = cv2.resize(a, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    gb = cv2.resize(b, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    points = cv2.goodFeaturesToTrack(ga, maxCorners=200, qualityLevel=0.01, minDistance=6)
    if points is None or len(points) < 8:
        return None
    # The stub wants a nextPts array; OpenCV takes None (no initial guess, the usual call).
    moved, status, _ = cv2.calcOpticalFlowPyrLK(  # type: ignore[call-overload]
        ga, gb, points, None, winSize=(15, 15), maxLevel=3)
    ok = status.ravel() == 1
    if ok.sum() < 8:
        return None
    matrix, inliers = cv2.estimateAffinePartial2D(points[ok], moved[ok], method=cv2.RANSAC,
                                                  ransacReprojThreshold=1.0)
    if matrix is None or inliers is None or inliers.sum() < 6:
        return None
    similarity: npt.NDArray[np.float64] = matrix.astype(np.float64)
    similarity[:, 2] /= k
    return similarity


def _part(matrix: np.ndarray, weight: float) -> np.ndarray:
    """The share ``weight`` of a small similarity transform (scale, rotation and shift)."""
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    angle = float(np.arctan2(matrix[1, 0], matrix[0, 0]))
    s = scale**weight
    c, n = s * np.cos(angle * weight), s * np.sin(angle * weight)
    return np.array([[c, -n, matrix[0, 2] * weight], [n, c, matrix[1, 2] * weight]])


def in_between(a: np.ndarray, b: np.ndarray, weight: float, motion: np.ndarray | None
               ) -> np.ndarray:
    """The frame ``weight`` (0-1) of the way from ``a`` to ``b``.

    Args:
        a, b: neighbouring RGB frames of the same size.
        weight: 0 gives ``a``, 1 gives ``b``.
        motion: ``pair_motion(a, b)``; None blends without moving (an untrackable pair).
    """
    if weight <= 0.0:
        return a
    if weight >= 1.0:
        return b
    h, w = a.shape[:2]
    if motion is None:
        return cv2.addWeighted(a, 1 - weight, b, weight, 0)
    forward = _part(motion, weight)
    backward = _part(cv2.invertAffineTransform(motion), 1 - weight)
    wa = cv2.warpAffine(a, forward, (w, h), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
    wb = cv2.warpAffine(b, backward, (w, h), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
    return cv2.addWeighted(wa, 1 - weight, wb, weight, 0)
