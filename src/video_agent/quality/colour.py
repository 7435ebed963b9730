"""The colour transform between a frame and the still's window it shows.

A pipeline's colour defects are transforms of RGB: a channel swap permutes the channels, a
full/limited range mix-up scales them about mid-grey, a BT.601/BT.709 matrix mix-up mixes them
and a cast shifts them. Fitting the 3x3 matrix (plus an offset) that takes the still's colours
to the frame's, on aligned pixels, shows the first three even where the mean colour hardly moves
(a matrix mix-up on a picture of saturated reds and blues). The fit is pulled towards the
identity where the still gives no evidence (a grey still shows no channel mixing, and a viewer
would see none).

Thread safety: pure functions over numpy arrays.
"""

from __future__ import annotations

import cv2
import numpy as np

BLUR = 2.0
"""Gaussian sigma (thumbnail pixels) over both pictures: fine detail, which the frame's scaler
and chroma subsampling soften and the still keeps, would read as a squeeze of the colours."""
RIDGE = 2e-3
"""Pull towards the identity, in squared 0-1 RGB units per pixel (a channel spread of 0.045)."""


def colour_matrix(frame_rgb: np.ndarray, still_rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The 3x3 matrix ``A`` with ``frame ~ still @ A + offset`` over pixels neither clipped,
    both 8-bit RGB of one size (the still's window aligned on the frame), both blurred; and
    how much it changes the still's colours: the RMS length, in 8-bit levels, of what ``A``
    adds to each pixel's departure from the mean (0 for colours kept; a dark or grey still
    gives a small change even for a loose fit, as a viewer sees little there)."""
    a = cv2.GaussianBlur(frame_rgb, (0, 0), BLUR).reshape(-1, 3).astype(np.float64) / 255
    b = cv2.GaussianBlur(still_rgb, (0, 0), BLUR).reshape(-1, 3).astype(np.float64) / 255
    inside = ((a > 0.02) & (a < 0.98) & (b > 0.02) & (b < 0.98)).all(axis=1)
    if inside.sum() < 16:
        return np.eye(3), 0.0
    x, y = b[inside], a[inside]
    x, y = x - x.mean(0), y - y.mean(0)
    pull = RIDGE * len(x) * np.eye(3)
    matrix = np.linalg.solve(x.T @ x + pull, x.T @ y + pull)
    change = x @ (matrix - np.eye(3)) * 255
    return matrix, float(np.sqrt(np.mean(np.sum(change**2, axis=1))))
