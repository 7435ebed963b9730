"""Where each frame of a clip looks on its source still, and what the still shows there.

A few frames spread over the clip are matched on the still (``metrics.fidelity``); the frames
between them follow a camera path, so their windows are interpolated. The brightness a window
of the still has is what a frame following the camera is expected to show: a change of
brightness that follows the window is the still's, not flicker; so is a change of colour.
The colour a frame is compared with is the still's window aligned on the frame (an orbit's
frame is turned: an axis-aligned crop would set each pixel against its neighbour's colour).

Thread safety: a ``WindowTrack`` belongs to one measurement (one thread); the functions are pure.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from video_agent.quality import metrics as m

SAMPLES = 5
"""Frames matched on the still over a clip (first and last included)."""
MAX_ZOOM = m.MATCH_MAX_ZOOM
"""Tightest window searched (as ``metrics.fidelity``'s default)."""
ZOOM_REACH = 0.15
"""How far past the tighter end's zoom a frame between the ends is searched."""

SLACK = 0.03
"""How much lower than the best sample's SSIM a sample may match and still place the path."""

Box = tuple[float, float, float, float]


def sample_indices(count: int, samples: int = SAMPLES) -> list[int]:
    """``samples`` frame indices spread evenly over ``count`` frames, first and last included."""
    if count <= 0:
        return []
    return sorted({int(v) for v in np.linspace(0, count - 1, min(samples, count)).round()})


class WindowTrack:
    """Matched windows of a clip's frames on its still, each matched once, on demand."""

    def __init__(self, gray: np.ndarray, source_gray: np.ndarray,
                 known: dict[int, Callable[[], m.Fidelity]]) -> None:
        """``known``: frames already matched (or matched lazily) elsewhere, by index."""
        self.gray, self.source = gray, source_gray
        self._lazy = dict(known)
        self._done: dict[int, m.Fidelity] = {}

    def at(self, index: int) -> m.Fidelity:
        """The match of frame ``index``; a frame between the ends is searched only up to a
        little past the tighter end's zoom (a camera path does not zoom far beyond its ends)."""
        if index not in self._done:
            lazy = self._lazy.get(index)
            last = len(self.gray) - 1
            if lazy is not None:
                self._done[index] = lazy()
            elif index in (0, last):
                self._done[index] = m.fidelity(self.gray[index], self.source)
            else:
                reach = max(self.at(0).zoom, self.at(last).zoom) + ZOOM_REACH
                self._done[index] = m.fidelity(self.gray[index], self.source,
                                               max_zoom=min(MAX_ZOOM, reach))
        return self._done[index]

    def samples(self) -> dict[int, m.Fidelity]:
        """The matches of the sampled frames, by frame index."""
        return {i: self.at(i) for i in sample_indices(len(self.gray))}

    def path(self) -> np.ndarray:
        """``(n, 4)`` windows ``(x0, y0, x1, y1)`` of every frame, interpolated between samples.

        A sample matched clearly worse than the best (SSIM lower by more than ``SLACK``, as on
        a still with repeating content) is left out of the path.
        """
        found = self.samples()
        best = max(f.ssim for f in found.values())
        ends = (min(found), max(found))
        found = {i: f for i, f in found.items() if i in ends or f.ssim >= best - SLACK}
        idx = np.array(sorted(found), dtype=np.float64)
        boxes = np.array([found[int(i)].window for i in idx])
        frames = np.arange(len(self.gray), dtype=np.float64)
        return np.stack([np.interp(frames, idx, boxes[:, k]) for k in range(4)], axis=1)


def window_means(source_gray: np.ndarray, windows: np.ndarray, side: int = 512) -> np.ndarray:
    """Mean luma of the still inside each window (fractions ``x0, y0, x1, y1``), measured on a
    copy at most ``side`` long with sub-pixel window edges (so a slow move over sharp bands
    gives a smooth series, not one that steps pixel by pixel)."""
    small = source_gray
    k = min(1.0, side / max(small.shape))
    if k < 1.0:
        small = cv2.resize(small, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    h, w = small.shape
    table = cv2.integral(small.astype(np.float64))

    def area(x: np.ndarray, y: np.ndarray) -> npt.NDArray[np.float64]:
        """Sum of the pixels above and left of (x, y) (pixel units), bilinear in the table."""
        x, y = np.clip(x, 0, w), np.clip(y, 0, h)
        x0, y0 = np.minimum(np.floor(x).astype(int), w - 1), np.minimum(np.floor(y).astype(int),
                                                                          h - 1)
        fx, fy = x - x0, y - y0
        summed: npt.NDArray[np.float64] = (
            (1 - fx) * (1 - fy) * table[y0, x0] + fx * (1 - fy) * table[y0, x0 + 1]
            + (1 - fx) * fy * table[y0 + 1, x0] + fx * fy * table[y0 + 1, x0 + 1])
        return summed

    x0, y0 = windows[:, 0] * w, windows[:, 1] * h
    x1 = np.maximum(windows[:, 2] * w, x0 + 1e-3)
    y1 = np.maximum(windows[:, 3] * h, y0 + 1e-3)
    total = area(x1, y1) - area(x0, y1) - area(x1, y0) + area(x0, y0)
    return np.asarray(total / ((x1 - x0) * (y1 - y0)), dtype=np.float64)


def window_colour_means(source_rgb: np.ndarray, windows: np.ndarray,
                        side: int = 512) -> np.ndarray:
    """``(n, 2)`` mean a*, b* of the still inside each window, on the scale of
    ``metrics.lab_means`` (OpenCV 8-bit Lab, centred on 0)."""
    small = source_rgb
    k = min(1.0, side / max(small.shape[:2]))
    if k < 1.0:
        small = cv2.resize(small, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2LAB)
    return np.stack([window_means(np.ascontiguousarray(lab[:, :, c]), windows, side) - 128.0
                     for c in (1, 2)], axis=1)


def following_flicker(means: np.ndarray, expected: np.ndarray, keep: np.ndarray) -> float:
    """Flicker of ``means`` (luma, or one column per colour channel) once what the still's
    windows explain is taken out.

    Each channel of the frames is fitted to the windows' (a gain and an offset: the clip's
    tone curve), and the flicker is measured on what is left.
    """
    use = keep if keep.sum() >= 3 else np.ones(len(means), bool)
    flat = means.ndim == 1
    ys, xs = (means[:, None], expected[:, None]) if flat else (means, expected)
    left = np.empty_like(ys, dtype=np.float64)
    for c in range(ys.shape[1]):
        x, y = xs[use, c], ys[use, c]
        if float(np.std(x)) > 1e-6:
            gain, offset = np.polyfit(x, y, 1)
        else:
            gain, offset = 0.0, float(np.mean(y))
        left[:, c] = ys[:, c] - (gain * xs[:, c] + offset)
    return m.flicker(left[:, 0] if flat else left, keep)


def aligned_window(frame_gray: np.ndarray, content: Box, source_rgb: np.ndarray,
                   window: Box) -> np.ndarray:
    """The still's colour ``window`` as the frame shows it: cropped, brought to the size of the
    frame's picture (``content`` of ``frame_gray``) and aligned on it by a small affine warp.

    Colour compared pixel by pixel on a crop that is turned or shifted against the frame (an
    orbit starts turned by a degree or two) counts every edge as a colour error.
    """
    gray = m.crop_fraction(frame_gray, content)
    h, w = gray.shape
    still = cv2.resize(m.crop_fraction(source_rgb, window), (w, h), interpolation=cv2.INTER_AREA)
    if min(h, w) < 8:
        return still
    warp = m.affine_warp(gray, cv2.cvtColor(still, cv2.COLOR_RGB2GRAY))
    if warp is None:
        return still
    return cv2.warpAffine(still, warp, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
