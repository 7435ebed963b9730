"""The fitted colour matrix: colours kept move nothing; range and matrix mix-ups and channel
swaps move the still's colours by many levels; a grey still shows no channel mixing; the
still's window aligned on a turned frame compares like with like."""

from __future__ import annotations

import cv2
import numpy as np

from video_agent.quality.colour import colour_matrix
from video_agent.quality.windows import aligned_window, following_flicker

BT601 = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5],
                  [0.5, -0.418688, -0.081312]])
BT709 = np.array([[0.2126, 0.7152, 0.0722], [-0.114572, -0.385428, 0.5],
                  [0.5, -0.454153, -0.045847]])


def _still(h: int = 36, w: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([40 + xx * 2.5, 50 + yy * 4, 220 - xx * 2], axis=2).astype(np.float64)
    blobs = cv2.GaussianBlur(np.random.default_rng(1).normal(0, 30, (h, w, 3)), (0, 0), 3)
    return np.clip(base + blobs, 0, 255).astype(np.uint8)


def _mixed(img: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return np.clip(img.astype(np.float64) @ matrix.T, 0, 255).astype(np.uint8)


def test_colours_kept_move_nothing() -> None:
    still = _still()
    assert colour_matrix(still, still)[1] < 0.05


def test_mix_ups_and_swaps_move_the_colours() -> None:
    still = _still()
    matrix_mixup = _mixed(still, np.linalg.inv(BT601) @ BT709)
    stretched = np.clip((still.astype(np.float64) - 16) * 255 / 219, 0, 255).astype(np.uint8)
    swapped = np.ascontiguousarray(still[:, :, ::-1])
    for bad in (matrix_mixup, stretched, swapped):
        assert colour_matrix(bad, still)[1] > 2.5


def test_a_grey_still_shows_no_mixing() -> None:
    grey = np.repeat(cv2.cvtColor(_still(), cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    assert colour_matrix(_mixed(grey, np.linalg.inv(BT601) @ BT709), grey)[1] < 1.0


def test_the_window_is_aligned_on_a_turned_frame() -> None:
    still = cv2.resize(_still(), (512, 288), interpolation=cv2.INTER_CUBIC)
    turn = cv2.getRotationMatrix2D((256, 144), 2.0, 1.08)
    frame = cv2.warpAffine(still, turn, (512, 288), borderMode=cv2.BORDER_REFLECT)
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    aligned = aligned_window(gray, (0.0, 0.0, 1.0, 1.0), still, (0.0, 0.0, 1.0, 1.0))
    inner = (slice(30, -30), slice(50, -50))
    before = np.abs(frame.astype(int) - still)[inner].mean()
    after = np.abs(frame.astype(int) - aligned)[inner].mean()
    assert after < before / 3, (before, after)


def test_colour_that_follows_the_windows_is_not_flicker() -> None:
    t = np.arange(48)
    expected = np.stack([10 * np.abs((t % 8) - 4), 5 * np.abs((t % 6) - 3)], axis=1) - 10.0
    means = 0.9 * expected + 2.0
    keep = np.ones(48, bool)
    assert following_flicker(means, expected, keep) < 0.01
    flickering = means.copy()
    flickering[1::2, 1] += 2.0
    assert following_flicker(flickering, expected, keep) > 0.8
